/* test_sm.c: the KV state machine: commands, atomic commits, conflicts, limits, determinism. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_sm.h"
#include "test_rng.h"
#include "test_seed.h"

static void bytes(tp_bytes *b, const void *data, size_t len)
{
    cr_assert_eq(tp_bytes_set(b, data, (uint32_t)len), 0);
}

static void bstr(tp_bytes *b, const char *s) { bytes(b, s, strlen(s)); }

static KvCommand cmd_set(const char *key, const char *val)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_set_key = true;
    bstr(&c.set_key.key, key);
    bstr(&c.set_key.value, val);
    return c;
}

static KvCommand cmd_delete(const char *key)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_delete_key = true;
    bstr(&c.delete_key.key, key);
    return c;
}

static KvCommand cmd_commit(int64_t read_version, uint32_t nops)
{
    KvCommand c;
    KvCommand_init(&c);
    c.has_atomic_commit = true;
    c.atomic_commit.read_version = read_version;
    c.atomic_commit.operations.items = calloc(nops ? nops : 1, sizeof(Operation));
    c.atomic_commit.operations.count = nops;
    for (uint32_t i = 0; i < nops; i++)
        Operation_init(&c.atomic_commit.operations.items[i]);
    return c;
}

static void op_set(KvCommand *c, uint32_t i, const char *key, const char *val)
{
    Operation *op = &c->atomic_commit.operations.items[i];
    op->type = OperationType_SET;
    bstr(&op->key, key);
    op->has_value = true;
    bstr(&op->value, val);
}

static void op_clear(KvCommand *c, uint32_t i, const char *begin, const char *end)
{
    Operation *op = &c->atomic_commit.operations.items[i];
    op->type = OperationType_CLEAR_RANGE;
    bstr(&op->key, begin);
    op->has_end_key = true;
    bstr(&op->end_key, end);
}

static void conflict_key(KvCommand *c, const char *key)
{
    AtomicCommitRequest *a = &c->atomic_commit;
    a->has_read_conflict_keys = true;
    a->read_conflict_keys.items = realloc(a->read_conflict_keys.items,
                                          (a->read_conflict_keys.count + 1) * sizeof(tp_bytes));
    tp_bytes *b = &a->read_conflict_keys.items[a->read_conflict_keys.count++];
    memset(b, 0, sizeof *b);
    bstr(b, key);
}

static void conflict_range(KvCommand *c, const char *begin, const char *end)
{
    AtomicCommitRequest *a = &c->atomic_commit;
    a->has_read_conflict_ranges = true;
    a->read_conflict_ranges.items = realloc(a->read_conflict_ranges.items,
                                            (a->read_conflict_ranges.count + 1) * sizeof(KeyRange));
    KeyRange *r = &a->read_conflict_ranges.items[a->read_conflict_ranges.count++];
    KeyRange_init(r);
    bstr(&r->begin_key, begin);
    if (end != NULL) {
        r->has_end_key = true;
        bstr(&r->end_key, end);
    }
}

/* Applies and frees c at the next version; returns the result's error. */
static int run(kv_sm *sm, KvCommand c, struct kv_sm_result *res)
{
    struct kv_sm_result local;
    if (res == NULL)
        res = &local;
    uint64_t v = kv_sm_applied_version(sm) + 1;
    int rc = kv_sm_apply(sm, &c, v, (int64_t)v * 1000, res);
    KvCommand_free(&c);
    cr_assert_eq(res->version, v);
    cr_assert_eq(kv_sm_applied_version(sm), v, "every command consumes its version");
    return rc;
}

static const char *get(kv_sm *sm, const char *key, char *buf)
{
    struct kv_read r;
    int rc = kv_store_get(kv_sm_store(sm), (const uint8_t *)key, strlen(key),
                          kv_sm_applied_version(sm), &r);
    if (rc == KV_ERR_NOT_FOUND)
        return NULL;
    cr_assert_eq(rc, 0);
    memcpy(buf, r.value, r.value_len);
    buf[r.value_len] = 0;
    return buf;
}

static kv_sm *new_sm(void)
{
    kv_sm *sm = kv_sm_new(NULL);
    cr_assert_not_null(sm);
    return sm;
}

Test(kv_sm, set_delete_clear_noop)
{
    kv_sm *sm = new_sm();
    char buf[64];
    struct kv_sm_result res;
    cr_assert_eq(run(sm, cmd_set("a", "1"), NULL), 0);
    cr_assert_eq(run(sm, cmd_set("b", "2"), NULL), 0);
    cr_assert_str_eq(get(sm, "a", buf), "1");
    cr_assert_eq(run(sm, cmd_delete("a"), &res), 0);
    cr_assert(res.found);
    cr_assert_eq(run(sm, cmd_delete("a"), &res), 0);
    cr_assert(!res.found);
    KvCommand clear;
    KvCommand_init(&clear);
    clear.has_clear_range = true;
    bstr(&clear.clear_range.begin_key, "");
    bstr(&clear.clear_range.end_key, "z");
    cr_assert_eq(run(sm, clear, NULL), 0);
    cr_assert_null(get(sm, "b", buf));
    KvCommand noop;
    KvCommand_init(&noop);
    noop.has_noop = true;
    cr_assert_eq(run(sm, noop, NULL), 0);
    KvCommand none;
    KvCommand_init(&none);
    cr_assert_eq(run(sm, none, NULL), KV_ERR_INVALID_ARGUMENT);
    kv_sm_free(sm);
}

Test(kv_sm, commit_applies_all_at_one_version)
{
    kv_sm *sm = new_sm();
    char buf[64];
    cr_assert_eq(run(sm, cmd_set("m", "old"), NULL), 0);
    KvCommand c = cmd_commit(1, 3);
    op_set(&c, 0, "x", "1");
    op_set(&c, 1, "y", "2");
    op_clear(&c, 2, "m", "n");
    conflict_key(&c, "x");
    struct kv_sm_result res;
    cr_assert_eq(run(sm, c, &res), 0);
    cr_assert_eq(res.version, 2);
    struct kv_read r;
    cr_assert_eq(kv_store_get(kv_sm_store(sm), (const uint8_t *)"x", 1, 2, &r), 0);
    cr_assert_eq(r.version, 2);
    cr_assert_str_eq(get(sm, "y", buf), "2");
    cr_assert_null(get(sm, "m", buf));
    kv_sm_free(sm);
}

Test(kv_sm, conflicts_on_keys_deletes_and_ranges)
{
    kv_sm *sm = new_sm();
    char buf[64];
    cr_assert_eq(run(sm, cmd_set("k", "1"), NULL), 0); /* v1 */
    cr_assert_eq(run(sm, cmd_set("r5", "1"), NULL), 0); /* v2 */
    cr_assert_eq(run(sm, cmd_delete("k"), NULL), 0);    /* v3 */
    /* Key deleted after the read version. */
    KvCommand c = cmd_commit(2, 1);
    op_set(&c, 0, "out", "x");
    conflict_key(&c, "k");
    cr_assert_eq(run(sm, c, NULL), KV_ERR_CONFLICT);
    cr_assert_null(get(sm, "out", buf));
    /* Same key read at the delete's version: no conflict. */
    c = cmd_commit(3, 1);
    op_set(&c, 0, "out", "x");
    conflict_key(&c, "k");
    cr_assert_eq(run(sm, c, NULL), 0);
    /* A range containing a key written after the read version. */
    c = cmd_commit(1, 1);
    op_set(&c, 0, "out2", "x");
    conflict_range(&c, "r", "s");
    cr_assert_eq(run(sm, c, NULL), KV_ERR_CONFLICT);
    c = cmd_commit(2, 1);
    op_set(&c, 0, "out2", "x");
    conflict_range(&c, "r", "s");
    conflict_range(&c, "s", NULL);
    cr_assert_eq(run(sm, c, NULL), 0);
    /* Unbounded range sees everything, including the commit just made. */
    c = cmd_commit(4, 0);
    conflict_range(&c, "", NULL);
    cr_assert_eq(run(sm, c, NULL), KV_ERR_CONFLICT);
    kv_sm_free(sm);
}

Test(kv_sm, read_version_window)
{
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_versions = 3;
    kv_sm *sm = kv_sm_new(&cfg);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(run(sm, cmd_set("k", "v"), NULL), 0);
    uint64_t floor = kv_store_floor_version(kv_sm_store(sm));
    cr_assert_eq(floor, 7);
    KvCommand c = cmd_commit((int64_t)floor - 1, 0);
    cr_assert_eq(run(sm, c, NULL), KV_ERR_TRANSACTION_TOO_OLD);
    c = cmd_commit((int64_t)kv_sm_applied_version(sm) + 1, 0);
    cr_assert_eq(run(sm, c, NULL), KV_ERR_FUTURE_VERSION);
    c = cmd_commit((int64_t)kv_store_floor_version(kv_sm_store(sm)), 0);
    cr_assert_eq(run(sm, c, NULL), 0);
    c = cmd_commit(-1, 0);
    cr_assert_eq(run(sm, c, NULL), KV_ERR_INVALID_ARGUMENT);
    kv_sm_free(sm);
}

Test(kv_sm, limits_apply_nothing)
{
    kv_sm *sm = new_sm();
    char buf[64];
    static uint8_t big[KV_VALUE_MAX_DEFAULT + 1];
    KvCommand c = cmd_commit(0, 2);
    op_set(&c, 0, "first", "x");
    Operation *op = &c.atomic_commit.operations.items[1];
    op->type = OperationType_SET;
    bytes(&op->key, big, KV_KEY_MAX_DEFAULT + 1);
    op->has_value = true;
    bstr(&op->value, "v");
    cr_assert_eq(run(sm, c, NULL), KV_ERR_KEY_TOO_LARGE);
    cr_assert_null(get(sm, "first", buf));
    c = cmd_commit(0, 2);
    op_set(&c, 0, "first", "x");
    op = &c.atomic_commit.operations.items[1];
    op->type = OperationType_SET;
    bstr(&op->key, "k");
    op->has_value = true;
    bytes(&op->value, big, KV_VALUE_MAX_DEFAULT + 1);
    cr_assert_eq(run(sm, c, NULL), KV_ERR_VALUE_TOO_LARGE);
    /* 101 values of 100,000 bytes: over 10 MB in total. */
    c = cmd_commit(0, 101);
    for (uint32_t i = 0; i < 101; i++) {
        op = &c.atomic_commit.operations.items[i];
        op->type = OperationType_SET;
        bytes(&op->key, &i, sizeof i);
        op->has_value = true;
        bytes(&op->value, big, KV_VALUE_MAX_DEFAULT);
    }
    cr_assert_eq(run(sm, c, NULL), KV_ERR_TRANSACTION_TOO_LARGE);
    struct kv_stats st;
    kv_store_stats(kv_sm_store(sm), &st);
    cr_assert_eq(st.versions, 0);
    c = cmd_commit(0, 1);
    c.atomic_commit.operations.items[0].type = OperationType_SET;
    cr_assert_eq(run(sm, c, NULL), KV_ERR_INVALID_ARGUMENT); /* SET without a value */
    c = cmd_commit(0, 1);
    op_clear(&c, 0, "b", "a");
    cr_assert_eq(run(sm, c, NULL), KV_ERR_INVALID_ARGUMENT);
    c = cmd_set("k", "");
    bytes(&c.set_key.key, big, KV_KEY_MAX_DEFAULT + 1);
    cr_assert_eq(run(sm, c, NULL), KV_ERR_KEY_TOO_LARGE);
    kv_sm_free(sm);
}

static void encode(const KvCommand *c, tp_buf *out)
{
    tp_buf_reset(out);
    cr_assert_eq(KvCommand_write(c, out), 0);
}

Test(kv_sm, encoded_commands_and_garbage)
{
    kv_sm *sm = new_sm();
    char buf[64];
    tp_buf out;
    tp_buf_init(&out);
    KvCommand c = cmd_set("k", "v");
    encode(&c, &out);
    KvCommand_free(&c);
    struct kv_sm_result res;
    cr_assert_eq(kv_sm_apply_bytes(sm, out.data, out.len, 1, 1, &res), 0);
    cr_assert_str_eq(get(sm, "k", buf), "v");
    /* Every truncation of a valid command, and trailing garbage, is INVALID_ARGUMENT. */
    uint64_t v = 2;
    for (size_t cut = 0; cut < out.len; cut++, v++)
        cr_assert_eq(kv_sm_apply_bytes(sm, out.data, cut, v, 1, &res), KV_ERR_INVALID_ARGUMENT);
    uint8_t extra[64];
    memcpy(extra, out.data, out.len);
    extra[out.len] = 0;
    cr_assert_eq(kv_sm_apply_bytes(sm, extra, out.len + 1, v++, 1, &res), KV_ERR_INVALID_ARGUMENT);
    cr_assert_eq(kv_sm_applied_version(sm), v - 1);
    /* A list claiming two billion operations is refused without allocating them. */
    uint8_t lie[] = {0x0C, 0x00, 0x04, 0x0A, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
                     0x0F, 0x00, 0x02, 0x0C, 0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x00};
    cr_assert_eq(kv_sm_apply_bytes(sm, lie, sizeof lie, v, 1, &res), KV_ERR_INVALID_ARGUMENT);
    tp_buf_free(&out);
    kv_sm_free(sm);
}

/* ------------------------------------------------------------ determinism */

static void random_key(struct test_rng *r, tp_bytes *b)
{
    uint8_t key[3];
    size_t len = test_rng_below(r, 4);
    for (size_t i = 0; i < len; i++)
        key[i] = (uint8_t)"\x00\x01\x7f\xff"[test_rng_below(r, 4)];
    bytes(b, key, len);
}

static void random_operation(struct test_rng *r, Operation *op)
{
    Operation_init(op);
    op->type = (OperationType)test_rng_below(r, 3);
    random_key(r, &op->key);
    if (op->type == OperationType_SET) {
        uint8_t val[8];
        size_t len = test_rng_below(r, sizeof val);
        for (size_t i = 0; i < len; i++)
            val[i] = (uint8_t)test_rng_next(r);
        op->has_value = true;
        bytes(&op->value, val, len);
    } else if (op->type == OperationType_CLEAR_RANGE) {
        op->has_end_key = true;
        random_key(r, &op->end_key); /* sometimes inverted: INVALID_ARGUMENT, alike everywhere */
    }
}

static KvCommand random_command(struct test_rng *r, uint64_t applied)
{
    KvCommand c;
    KvCommand_init(&c);
    uint64_t kind = test_rng_below(r, 10);
    if (kind < 3) {
        c.has_set_key = true;
        random_key(r, &c.set_key.key);
        bstr(&c.set_key.value, "v");
    } else if (kind < 4) {
        c.has_delete_key = true;
        random_key(r, &c.delete_key.key);
    } else if (kind < 5) {
        c.has_noop = true;
    } else {
        /* Mostly recent read versions; a quarter reach past the window's edge. */
        uint64_t back = test_rng_below(r, 4) ? test_rng_below(r, 12) : 20 + test_rng_below(r, 30);
        c = cmd_commit((int64_t)(applied > back ? applied - back : 0), 0);
        uint32_t n = (uint32_t)test_rng_below(r, 4);
        c.atomic_commit.operations.items = realloc(c.atomic_commit.operations.items,
                                                   (n ? n : 1) * sizeof(Operation));
        c.atomic_commit.operations.count = n;
        for (uint32_t i = 0; i < n; i++)
            random_operation(r, &c.atomic_commit.operations.items[i]);
        for (uint64_t i = test_rng_below(r, 3); i > 0; i--) {
            tp_bytes k = {0};
            random_key(r, &k);
            conflict_key(&c, k.data ? (const char *)k.data : "");
            tp_bytes_free(&k);
        }
        if (test_rng_below(r, 2))
            conflict_range(&c, "\x01", test_rng_below(r, 2) ? "\x7f" : NULL);
    }
    return c;
}

static void assert_equal_state(kv_sm *a, kv_sm *b, uint64_t seed)
{
    char da[KV_DIGEST_HEX_LEN + 1], db[KV_DIGEST_HEX_LEN + 1];
    kv_sm_digest_hex(a, da);
    kv_sm_digest_hex(b, db);
    cr_assert_str_eq(da, db, "seed %llu", (unsigned long long)seed);
    uint8_t *x, *y;
    size_t xlen, ylen;
    cr_assert_eq(kv_sm_save_mem(a, &x, &xlen), 0);
    cr_assert_eq(kv_sm_save_mem(b, &y, &ylen), 0);
    cr_assert(xlen == ylen && memcmp(x, y, xlen) == 0, "seed %llu: snapshots differ",
              (unsigned long long)seed);
    free(x);
    free(y);
}

static uint64_t outcomes[16]; /* results by error code: the mix must include conflicts */

/* Feeds the same encoded commands to a and b (b through a snapshot restore half way). */
static void run_replicas(uint64_t seed, kv_sm *a, kv_sm *b, uint64_t from, uint64_t to)
{
    struct test_rng r = {seed ^ from};
    tp_buf out;
    tp_buf_init(&out);
    for (uint64_t v = from; v <= to; v++) {
        KvCommand c = random_command(&r, v - 1);
        encode(&c, &out);
        KvCommand_free(&c);
        int64_t ts = (int64_t)(v * 700 + test_rng_below(&r, 1000));
        struct kv_sm_result ra, rb;
        kv_sm_apply_bytes(a, out.data, out.len, v, ts, &ra);
        kv_sm_apply_bytes(b, out.data, out.len, v, ts, &rb);
        cr_assert(ra.error == rb.error && ra.found == rb.found, "seed %llu at %llu",
                  (unsigned long long)seed, (unsigned long long)v);
        outcomes[ra.error < 16 ? ra.error : 15]++;
    }
    tp_buf_free(&out);
}

Test(kv_sm, replicas_decide_identically, .timeout = 60)
{
    uint64_t seed = test_seed_for("kv_sm");
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_us = 20000; /* about 30 versions at 700 us each */
    kv_sm *a = kv_sm_new(&cfg), *b = kv_sm_new(&cfg), *c = kv_sm_new(&cfg);
    run_replicas(seed, a, b, 1, 3000);
    assert_equal_state(a, b, seed);
    cr_assert_gt(outcomes[0], 1000, "seed %llu", (unsigned long long)seed);
    cr_assert_gt(outcomes[KV_ERR_CONFLICT], 20, "seed %llu", (unsigned long long)seed);
    cr_assert_gt(outcomes[KV_ERR_TRANSACTION_TOO_OLD], 20, "seed %llu", (unsigned long long)seed);

    char dir[] = "/tmp/kvsmXXXXXX", pa[64], pb[64], err[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(pa, sizeof pa, "%s/a.snap", dir);
    snprintf(pb, sizeof pb, "%s/b.snap", dir);
    cr_assert_eq(kv_sm_save_file(a, pa, err, sizeof err), 0, "%s", err);
    cr_assert_eq(kv_sm_save_file(b, pb, err, sizeof err), 0, "%s", err);
    cr_assert_eq(kv_sm_restore_file(c, pa, err, sizeof err), 0, "%s", err);
    assert_equal_state(a, c, seed);
    /* The restored replica keeps deciding like the others: conflicts, windows, reclaim. */
    run_replicas(seed, a, c, 3001, 4500);
    assert_equal_state(a, c, seed);
    /* A corrupt snapshot leaves the machine as it was. */
    FILE *f = fopen(pb, "r+b");
    fseek(f, 200, SEEK_SET);
    fputc(0xEE ^ fgetc(f), f);
    fclose(f);
    char before[KV_DIGEST_HEX_LEN + 1], after[KV_DIGEST_HEX_LEN + 1];
    kv_sm_digest_hex(c, before);
    cr_assert_eq(kv_sm_restore_file(c, pb, err, sizeof err), KV_ERR_CORRUPT);
    kv_sm_digest_hex(c, after);
    cr_assert_str_eq(before, after);
    cr_assert_eq(kv_sm_applied_version(c), 4500);
    unlink(pa);
    unlink(pb);
    rmdir(dir);
    kv_sm_free(a);
    kv_sm_free(b);
    kv_sm_free(c);
}
