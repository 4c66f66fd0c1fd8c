/* kv_session.c: the session table: a hash by id, a heap by expiry, answers by sequence. */
#include "kv_session.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_mem.h"
#include "kv_session_impl.h"

#define TABLE_SLOTS_MIN 16u

static uint64_t mix_id(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    return x;
}

struct kv_sessions *kv_sessions_new(uint32_t sessions_max, uint32_t results_max,
                                    uint64_t results_total_max)
{
    assert(sessions_max > 0 && results_max > 0 && results_total_max > 0);
    struct kv_sessions *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->sessions_max = sessions_max;
    t->results_max = results_max;
    t->results_total_max = results_total_max;
    return t;
}

static void session_free(struct kv_sessions *t, struct kv_session *s)
{
    t->bytes -= kv_mem_charge(sizeof *s);
    if (s->cap > 0)
        t->bytes -= kv_mem_charge(s->cap * sizeof s->results[0]);
    free(s->results);
    free(s);
}

void kv_sessions_free(struct kv_sessions *t)
{
    if (t == NULL)
        return;
    for (uint64_t i = 0; i < t->count; i++)
        session_free(t, t->heap[i]);
    free(t->slot);
    free(t->heap);
    free(t);
}

uint64_t kv_sessions_count(const struct kv_sessions *t) { return t->count; }
uint64_t kv_sessions_results(const struct kv_sessions *t) { return t->results; }
struct kv_digest kv_sessions_digest(const struct kv_sessions *t) { return t->digest; }

uint64_t kv_sessions_bytes(const struct kv_sessions *t)
{
    return t->bytes + kv_mem_charge(sizeof *t) +
           (t->mask ? kv_mem_charge((t->mask + 1) * sizeof t->slot[0]) : 0) +
           (t->heap_cap ? kv_mem_charge(t->heap_cap * sizeof t->heap[0]) : 0);
}

/* ------------------------------------------------------------------ digest */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Each session and each stored answer is one item of the order-free sum. */
static void digest_session(struct kv_sessions *t, const struct kv_session *s, bool add)
{
    uint8_t b[33];
    b[0] = 'S';
    put_u64(b + 1, (uint64_t)s->timeout_us);
    put_u64(b + 9, (uint64_t)s->expiry_us);
    put_u64(b + 17, s->acked);
    put_u64(b + 25, s->id);
    (add ? kv_digest_add : kv_digest_sub)(&t->digest, b, sizeof b, NULL, 0, s->id);
}

static void digest_result(struct kv_sessions *t, uint64_t id, const struct kv_session_result *r,
                          bool add);

void kv_sessions_digest_result(struct kv_sessions *t, uint64_t id,
                               const struct kv_session_result *r)
{
    digest_result(t, id, r, true);
}

static void digest_result(struct kv_sessions *t, uint64_t id, const struct kv_session_result *r,
                          bool add)
{
    uint8_t b[30];
    b[0] = 'R';
    put_u64(b + 1, r->seq);
    put_u64(b + 9, r->version);
    put_u64(b + 17, (uint64_t)(uint32_t)r->code);
    b[25] = r->found;
    memset(b + 26, 0, 4);
    (add ? kv_digest_add : kv_digest_sub)(&t->digest, b, sizeof b, NULL, 0, id);
}

/* -------------------------------------------------------------- hash by id */

static uint64_t home(const struct kv_sessions *t, uint64_t id) { return mix_id(id) & t->mask; }

struct kv_session *kv_sessions_find(const struct kv_sessions *t, uint64_t id)
{
    if (t->mask == 0)
        return NULL;
    for (uint64_t i = home(t, id);; i = (i + 1) & t->mask) {
        struct kv_session *s = t->slot[i];
        if (s == NULL || s->id == id)
            return s;
    }
}

static void slot_put(struct kv_sessions *t, struct kv_session *s)
{
    uint64_t i = home(t, s->id);
    while (t->slot[i] != NULL)
        i = (i + 1) & t->mask;
    t->slot[i] = s;
}

/* Keeps the table at most half full. */
static void slots_grow(struct kv_sessions *t)
{
    uint64_t slots = t->mask + 1;
    if (t->mask != 0 && (t->count + 1) * 2 <= slots)
        return;
    uint64_t want = t->mask ? slots * 2 : TABLE_SLOTS_MIN;
    struct kv_session **old = t->slot;
    uint64_t old_slots = t->mask ? slots : 0;
    t->slot = kv_xmalloc(want * sizeof t->slot[0]);
    memset(t->slot, 0, want * sizeof t->slot[0]);
    t->mask = want - 1;
    for (uint64_t i = 0; i < old_slots; i++)
        if (old[i] != NULL)
            slot_put(t, old[i]);
    free(old);
}

/* Linear probing's backward-shift delete: no tombstones. */
static void slot_remove(struct kv_sessions *t, const struct kv_session *s)
{
    uint64_t i = home(t, s->id);
    while (t->slot[i] != s)
        i = (i + 1) & t->mask;
    for (uint64_t j = (i + 1) & t->mask; t->slot[j] != NULL; j = (j + 1) & t->mask) {
        uint64_t h = home(t, t->slot[j]->id);
        /* Slot j's entry may move to the hole at i when its home is not in (i, j]. */
        bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) {
            t->slot[i] = t->slot[j];
            i = j;
        }
    }
    t->slot[i] = NULL;
}

/* ---------------------------------------------------------- heap by expiry */

static bool expires_first(const struct kv_session *a, const struct kv_session *b)
{
    return a->expiry_us < b->expiry_us || (a->expiry_us == b->expiry_us && a->id < b->id);
}

static void heap_set(struct kv_sessions *t, uint64_t i, struct kv_session *s)
{
    t->heap[i] = s;
    s->heap_pos = i;
}

static void heap_up(struct kv_sessions *t, uint64_t i)
{
    struct kv_session *s = t->heap[i];
    while (i > 0 && expires_first(s, t->heap[(i - 1) / 2])) {
        heap_set(t, i, t->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(t, i, s);
}

static void heap_down(struct kv_sessions *t, uint64_t i)
{
    struct kv_session *s = t->heap[i];
    for (;;) {
        uint64_t c = 2 * i + 1;
        if (c >= t->count)
            break;
        if (c + 1 < t->count && expires_first(t->heap[c + 1], t->heap[c]))
            c++;
        if (!expires_first(t->heap[c], s))
            break;
        heap_set(t, i, t->heap[c]);
        i = c;
    }
    heap_set(t, i, s);
}

/* Inserts s (count not yet counting it). */
static void heap_push(struct kv_sessions *t, struct kv_session *s)
{
    if (t->count == t->heap_cap) {
        uint64_t cap = t->heap_cap ? t->heap_cap * 2 : TABLE_SLOTS_MIN;
        t->heap = kv_xrealloc(t->heap, cap * sizeof t->heap[0]);
        t->heap_cap = cap;
    }
    t->count++;
    heap_set(t, t->count - 1, s);
    heap_up(t, t->count - 1);
}

static void heap_remove(struct kv_sessions *t, const struct kv_session *s)
{
    uint64_t i = s->heap_pos;
    assert(i < t->count && t->heap[i] == s);
    t->count--;
    if (i == t->count)
        return;
    heap_set(t, i, t->heap[t->count]);
    heap_up(t, i);
    heap_down(t, t->heap[i]->heap_pos);
}

/* ------------------------------------------------------------ the sessions */

struct kv_session *kv_sessions_insert(struct kv_sessions *t, uint64_t id, int64_t timeout_us,
                                      int64_t expiry_us, uint64_t acked)
{
    assert(kv_sessions_find(t, id) == NULL && t->count < t->sessions_max);
    slots_grow(t);
    struct kv_session *s = kv_xmalloc(sizeof *s);
    *s = (struct kv_session){.id = id, .timeout_us = timeout_us, .expiry_us = expiry_us,
                             .acked = acked};
    t->bytes += kv_mem_charge(sizeof *s);
    slot_put(t, s);
    heap_push(t, s);
    digest_session(t, s, true);
    return s;
}

static void drop_session(struct kv_sessions *t, struct kv_session *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        digest_result(t, s->id, &s->results[i], false);
    t->results -= s->n;
    digest_session(t, s, false);
    slot_remove(t, s);
    heap_remove(t, s);
    session_free(t, s);
}

uint32_t kv_sessions_expire(struct kv_sessions *t, int64_t now_us)
{
    uint32_t dropped = 0;
    while (t->count > 0 && t->heap[0]->expiry_us < now_us) {
        drop_session(t, t->heap[0]);
        dropped++;
    }
    return dropped;
}

void kv_sessions_open(struct kv_sessions *t, uint64_t id, int64_t timeout_us, int64_t now_us,
                      bool *evicted)
{
    assert(timeout_us >= KV_SESSION_TIMEOUT_US_MIN && timeout_us <= KV_SESSION_TIMEOUT_US_MAX);
    assert(now_us >= 0);
    *evicted = t->count >= t->sessions_max;
    if (*evicted)
        drop_session(t, t->heap[0]);
    kv_sessions_insert(t, id, timeout_us, now_us + timeout_us, 0);
}

bool kv_sessions_close(struct kv_sessions *t, uint64_t id)
{
    struct kv_session *s = kv_sessions_find(t, id);
    if (s != NULL)
        drop_session(t, s);
    return s != NULL;
}

static void results_resize(struct kv_sessions *t, struct kv_session *s, uint32_t cap)
{
    assert(cap >= s->n);
    if (s->cap > 0)
        t->bytes -= kv_mem_charge(s->cap * sizeof s->results[0]);
    s->results = kv_xrealloc(s->results, cap * sizeof s->results[0]);
    t->bytes += kv_mem_charge(cap * sizeof s->results[0]);
    s->cap = cap;
}

/* Drops the first k answers (the lowest numbers). */
static void drop_results(struct kv_sessions *t, struct kv_session *s, uint32_t k)
{
    assert(k <= s->n);
    for (uint32_t i = 0; i < k; i++)
        digest_result(t, s->id, &s->results[i], false);
    if (k > 0)   /* results is NULL before the first answer */
        memmove(s->results, s->results + k, (s->n - k) * sizeof s->results[0]);
    s->n -= k;
    t->results -= k;
    /* A session that once held many answers does not keep their room for ever. */
    if (s->cap > 4 && s->n < s->cap / 4)
        results_resize(t, s, s->cap / 2);
}

/* Changes a session's expiry and acknowledgement, keeping digest and heap in step. */
static void session_update(struct kv_sessions *t, struct kv_session *s, int64_t expiry_us,
                           uint64_t acked)
{
    digest_session(t, s, false);
    s->expiry_us = expiry_us;
    s->acked = acked;
    digest_session(t, s, true);
    heap_up(t, s->heap_pos);
    heap_down(t, s->heap_pos);
}

/* The index of seq among the answers (sorted), or where it would go. */
static uint32_t result_at(const struct kv_session *s, uint64_t seq)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->results[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

enum kv_session_verdict kv_sessions_begin(struct kv_sessions *t, uint64_t id, uint64_t seq,
                                          uint64_t acked_below, int64_t now_us,
                                          struct kv_session **out,
                                          struct kv_session_result *stored)
{
    assert(seq >= 1);
    *out = NULL;
    struct kv_session *s = kv_sessions_find(t, id);
    if (s == NULL)
        return KV_SESSION_GONE;
    uint64_t acked = acked_below > s->acked ? acked_below : s->acked;
    drop_results(t, s, result_at(s, acked));
    int64_t expiry = now_us + s->timeout_us;
    session_update(t, s, expiry > s->expiry_us ? expiry : s->expiry_us, acked);
    if (seq < s->acked)
        return KV_SESSION_GONE;
    uint32_t i = result_at(s, seq);
    if (i < s->n && s->results[i].seq == seq) {
        *stored = s->results[i];
        return KV_SESSION_DUPLICATE;
    }
    *out = s;
    return KV_SESSION_NEW;
}

/* Inserts r at its place among s's answers (growing them as needed). */
static void result_insert(struct kv_sessions *t, struct kv_session *s,
                          const struct kv_session_result *r)
{
    if (s->n == s->cap)
        results_resize(t, s, s->cap ? s->cap * 2 : 4);
    uint32_t i = result_at(s, r->seq);
    assert(i == s->n || s->results[i].seq != r->seq);
    memmove(s->results + i + 1, s->results + i, (s->n - i) * sizeof s->results[0]);
    s->results[i] = *r;
    s->n++;
    t->results++;
    digest_result(t, s->id, r, true);
}

void kv_sessions_record(struct kv_sessions *t, struct kv_session *s,
                        const struct kv_session_result *r)
{
    assert(r->seq >= s->acked);
    result_insert(t, s, r);
    /* Over a limit the session forgets its own oldest answer: a retry of that one is then
       refused (GONE), never applied again. */
    if (s->n > t->results_max || t->results > t->results_total_max) {
        uint64_t acked = s->results[0].seq + 1;
        drop_results(t, s, 1);
        session_update(t, s, s->expiry_us, acked);
    }
}
