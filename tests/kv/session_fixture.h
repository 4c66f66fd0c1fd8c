/* session_fixture.h: commands with client sessions for the state machine's tests. */
#ifndef SESSION_FIXTURE_H
#define SESSION_FIXTURE_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kv_sm.h"

static inline void sf_bytes(tp_bytes *b, const char *s)
{
    cr_assert_eq(tp_bytes_set(b, s, (uint32_t)strlen(s)), 0);
}

/* Session id 0 means "no session". */
static inline void sf_ref(bool *has, SessionRef *ref, uint64_t id, int64_t seq, int64_t acked)
{
    if (id == 0 && seq == 0)
        return;
    *has = true;
    ref->session_id = (int64_t)id;
    ref->sequence = seq;
    ref->has_acked_below = acked != 0;
    ref->acked_below = acked;
}

static inline KvCommand sf_set(const char *key, const char *val, int64_t id, int64_t seq,
                               int64_t acked)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_set_key = true;
    sf_bytes(&c.set_key.key, key);
    sf_bytes(&c.set_key.value, val);
    sf_ref(&c.set_key.has_session, &c.set_key.session, (uint64_t)id, seq, acked);
    return c;
}

static inline KvCommand sf_delete(const char *key, int64_t id, int64_t seq, int64_t acked)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_delete_key = true;
    sf_bytes(&c.delete_key.key, key);
    sf_ref(&c.delete_key.has_session, &c.delete_key.session, (uint64_t)id, seq, acked);
    return c;
}

/* An atomic commit that read key at read_version and sets it to val. */
static inline KvCommand sf_incr(const char *key, const char *val, int64_t read_version,
                                int64_t id, int64_t seq, int64_t acked)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_atomic_commit = true;
    AtomicCommitRequest *a = &c.atomic_commit;
    a->read_version = read_version;
    a->operations.items = calloc(1, sizeof(Operation));
    a->operations.count = 1;
    Operation_init(&a->operations.items[0]);
    a->operations.items[0].type = OperationType_SET;
    sf_bytes(&a->operations.items[0].key, key);
    a->operations.items[0].has_value = true;
    sf_bytes(&a->operations.items[0].value, val);
    a->has_read_conflict_keys = true;
    a->read_conflict_keys.items = calloc(1, sizeof(tp_bytes));
    a->read_conflict_keys.count = 1;
    sf_bytes(&a->read_conflict_keys.items[0], key);
    sf_ref(&a->has_session, &a->session, (uint64_t)id, seq, acked);
    return c;
}

static inline KvCommand sf_open(int32_t timeout_ms)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_open_session = true;
    c.open_session.has_timeout_ms = true;
    c.open_session.timeout_ms = timeout_ms;
    return c;
}

static inline KvCommand sf_close(uint64_t id)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_close_session = true;
    c.close_session.session_id = (int64_t)id;
    return c;
}

static inline KvCommand sf_noop(void)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_noop = true;
    return c;
}

/* Applies and frees c at the next version with leader clock ts_us (0: the last clock, as a
   new leader's no-op does); returns the result's error. */
static inline int sf_apply(kv_sm *sm, KvCommand c, int64_t ts_us, struct kv_sm_result *res)
{
    struct kv_sm_result local;
    res = res ? res : &local;
    uint64_t v = kv_sm_applied_version(sm) + 1;
    if (ts_us == 0)
        ts_us = kv_store_applied_timestamp_us(kv_sm_store(sm));
    int rc = kv_sm_apply(sm, &c, v, ts_us, res);
    KvCommand_free(&c);
    cr_assert_eq(res->version, v);
    return rc;
}

#endif
