/* kv_session_snap.c: the session table as a snapshot section, trusting no byte when read. */
#include <stdlib.h>
#include <string.h>

#include "kv_err.h"
#include "kv_mem.h"
#include "kv_session_impl.h"

/* Section body (little-endian): u64 sessions, u64 answers, then per session in id order
 * u64 id, i64 timeout_us, i64 expiry_us, u64 acked, u32 answers, and per answer in seq order
 * u64 seq, u64 version, u32 code, u32 found; then the table's digest, u64 lane[2]. */
#define COUNTS_BYTES 16u
#define SESSION_BYTES 36u
#define RESULT_BYTES 24u
#define DIGEST_BYTES 16u
/* Answer codes are the wire's ErrorCodes (local codes, 100 and up, are never stored). */
#define RESULT_CODE_MAX 100

static int by_id(const void *a, const void *b)
{
    const struct kv_session *x = *(struct kv_session *const *)a;
    const struct kv_session *y = *(struct kv_session *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

void kv_sessions_encode(const struct kv_sessions *t, struct kv_snap_out *o)
{
    struct kv_session **order = kv_xmalloc((t->count ? t->count : 1) * sizeof *order);
    memcpy(order, t->heap, t->count * sizeof *order);
    qsort(order, t->count, sizeof *order, by_id);
    kv_snap_out_u64(o, t->count);
    kv_snap_out_u64(o, t->results);
    for (uint64_t i = 0; i < t->count; i++) {
        const struct kv_session *s = order[i];
        kv_snap_out_u64(o, s->id);
        kv_snap_out_u64(o, (uint64_t)s->timeout_us);
        kv_snap_out_u64(o, (uint64_t)s->expiry_us);
        kv_snap_out_u64(o, s->acked);
        kv_snap_out_u32(o, s->n);
        for (uint32_t j = 0; j < s->n; j++) {
            const struct kv_session_result *r = &s->results[j];
            kv_snap_out_u64(o, r->seq);
            kv_snap_out_u64(o, r->version);
            kv_snap_out_u32(o, (uint32_t)r->code);
            kv_snap_out_u32(o, r->found);
        }
    }
    kv_snap_out_u64(o, t->digest.lane[0]);
    kv_snap_out_u64(o, t->digest.lane[1]);
    free(order);
}

uint64_t kv_sessions_encoded_bytes(const struct kv_sessions *t)
{
    return COUNTS_BYTES + t->count * SESSION_BYTES + t->results * RESULT_BYTES + DIGEST_BYTES;
}

struct section {
    struct kv_sessions *t;
    struct kv_snap_in *in;
    uint64_t end;              /* in->offset where the section ends */
    uint64_t sessions, results, results_read;
};

static int fail(struct section *d, const char *what)
{
    return kv_snap_in_fail(d->in, KV_ERR_CORRUPT, what);
}

static uint64_t left(const struct section *d) { return d->end - d->in->offset; }

static int read_result(struct section *d, struct kv_session *s, uint64_t *prev)
{
    struct kv_session_result r;
    uint64_t version;
    uint32_t code, found;
    int err = kv_snap_in_u64(d->in, &r.seq);
    if (err == 0)
        err = kv_snap_in_u64(d->in, &version);
    if (err == 0)
        err = kv_snap_in_u32(d->in, &code);
    if (err == 0)
        err = kv_snap_in_u32(d->in, &found);
    if (err != 0)
        return err;
    if (r.seq < s->acked || r.seq == 0 || (*prev != 0 && r.seq <= *prev))
        return fail(d, "session answers out of order");
    if (code >= RESULT_CODE_MAX || found > 1 || version == 0)
        return fail(d, "session answer out of range");
    *prev = r.seq;
    r.version = version;
    r.code = (int32_t)code;
    r.found = found;
    s->results[s->n++] = r;
    d->t->results++;
    kv_sessions_digest_result(d->t, s->id, &r);
    return 0;
}

static int read_session(struct section *d, uint64_t *prev_id)
{
    uint64_t id, timeout, expiry, acked;
    uint32_t n;
    int err = kv_snap_in_u64(d->in, &id);
    if (err == 0)
        err = kv_snap_in_u64(d->in, &timeout);
    if (err == 0)
        err = kv_snap_in_u64(d->in, &expiry);
    if (err == 0)
        err = kv_snap_in_u64(d->in, &acked);
    if (err == 0)
        err = kv_snap_in_u32(d->in, &n);
    if (err != 0)
        return err;
    if (id == 0 || id <= *prev_id)
        return fail(d, "sessions out of order");
    if ((int64_t)timeout < KV_SESSION_TIMEOUT_US_MIN || (int64_t)timeout > KV_SESSION_TIMEOUT_US_MAX ||
        (int64_t)expiry < (int64_t)timeout || expiry > (uint64_t)INT64_MAX / 2)
        return fail(d, "session timeout or expiry out of range");
    if (n > d->t->results_max || n > d->results - d->results_read ||
        n > left(d) / RESULT_BYTES)
        return fail(d, "session answer count out of range");
    *prev_id = id;
    struct kv_session *s = kv_sessions_insert(d->t, id, (int64_t)timeout, (int64_t)expiry, acked);
    if (n > 0) {
        s->results = kv_xmalloc((size_t)n * sizeof s->results[0]);
        s->cap = n;
        d->t->bytes += kv_mem_charge((size_t)n * sizeof s->results[0]);
    }
    d->results_read += n;
    uint64_t prev = 0;
    for (uint32_t j = 0; err == 0 && j < n; j++)
        err = read_result(d, s, &prev);
    return err;
}

static int check_digest(struct section *d)
{
    struct kv_digest want;
    int err = kv_snap_in_u64(d->in, &want.lane[0]);
    if (err == 0)
        err = kv_snap_in_u64(d->in, &want.lane[1]);
    if (err != 0)
        return err;
    if (memcmp(&want, &d->t->digest, sizeof want) != 0)
        return fail(d, "session digest differs from the section's");
    return 0;
}

int kv_sessions_decode(struct kv_sessions *t, struct kv_snap_in *in, uint64_t body_left)
{
    if (t->count != 0)
        return kv_snap_in_fail(in, KV_ERR_CORRUPT, "a second session section");
    struct section d = {.t = t, .in = in, .end = in->offset + body_left};
    if (body_left < COUNTS_BYTES + DIGEST_BYTES)
        return fail(&d, "session section too short");
    int err = kv_snap_in_u64(in, &d.sessions);
    if (err == 0)
        err = kv_snap_in_u64(in, &d.results);
    if (err != 0)
        return err;
    if (d.sessions > t->sessions_max || d.results > t->results_total_max)
        return fail(&d, "more sessions or answers than our limits");
    if (d.sessions > left(&d) / SESSION_BYTES || d.results > left(&d) / RESULT_BYTES)
        return fail(&d, "session counts exceed the section");
    uint64_t prev_id = 0;
    for (uint64_t i = 0; err == 0 && i < d.sessions; i++)
        err = read_session(&d, &prev_id);
    if (err == 0 && d.results_read != d.results)
        err = fail(&d, "fewer session answers than the section says");
    if (err == 0)
        err = check_digest(&d);
    if (err == 0 && in->offset != d.end)
        err = fail(&d, "session section length differs from its contents");
    return err;
}
