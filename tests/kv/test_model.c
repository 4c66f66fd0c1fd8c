/* test_model.c: random operation sequences against the store and a naive reference model. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kv_store.h"
#include "test_rng.h"
#include "test_seed.h"

#define MODEL_KEYS_MAX 128
#define MODEL_VERSIONS_MAX 256
#define MODEL_KEY_TAIL_MAX 3
/* Every other sequence puts this head before each key (range bounds too, so the order among
 * the keys stays the same): keys that agree on their first 12 bytes, as kvbench's do. */
#define MODEL_KEY_HEAD "k00000000000"
#define MODEL_KEY_HEAD_LEN (sizeof MODEL_KEY_HEAD - 1)
#define MODEL_KEY_LEN_MAX (MODEL_KEY_HEAD_LEN + MODEL_KEY_TAIL_MAX)
#define MODEL_STEPS_MAX 120
#define MODEL_SEQUENCES 4000

/* The model: a sorted array of keys, each with its whole history (never reclaimed). */
struct model_ver {
    uint64_t version;
    bool tombstone;
    uint8_t value[4];
    size_t vlen;
};

struct model_key {
    uint8_t key[MODEL_KEY_LEN_MAX];
    size_t klen;
    struct model_ver vers[MODEL_VERSIONS_MAX]; /* oldest first */
    size_t nvers;
};

struct model {
    struct model_key keys[MODEL_KEYS_MAX];
    size_t nkeys;
    uint64_t applied, floor;
    int64_t ts;
    uint64_t window_versions;
    int64_t window_us;
    uint64_t clock_version[MODEL_STEPS_MAX + 1]; /* applied versions, clamped timestamps */
    int64_t clock_ts[MODEL_STEPS_MAX + 1];
    size_t nclock;
};

static struct model m;
static uint64_t seed_now; /* printed by every failing assertion */
static bool key_head;     /* this sequence's keys start with MODEL_KEY_HEAD */

static int model_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    for (size_t i = 0; i < alen && i < blen; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static struct model_key *model_find(const uint8_t *key, size_t klen, bool create)
{
    size_t i = 0;
    while (i < m.nkeys && model_cmp(m.keys[i].key, m.keys[i].klen, key, klen) < 0)
        i++;
    if (i < m.nkeys && model_cmp(m.keys[i].key, m.keys[i].klen, key, klen) == 0)
        return &m.keys[i];
    if (!create)
        return NULL;
    cr_assert_lt(m.nkeys, MODEL_KEYS_MAX, "seed %llu", (unsigned long long)seed_now);
    memmove(&m.keys[i + 1], &m.keys[i], (m.nkeys - i) * sizeof m.keys[0]);
    m.nkeys++;
    memset(&m.keys[i], 0, sizeof m.keys[i]);
    memcpy(m.keys[i].key, key, klen);
    m.keys[i].klen = klen;
    return &m.keys[i];
}

/* The version of k visible at v, or NULL. */
static const struct model_ver *model_at(const struct model_key *k, uint64_t v)
{
    for (size_t i = k->nvers; i > 0; i--)
        if (k->vers[i - 1].version <= v)
            return &k->vers[i - 1];
    return NULL;
}

static bool model_live(const struct model_key *k, uint64_t v)
{
    const struct model_ver *mv = model_at(k, v);
    return mv != NULL && !mv->tombstone;
}

static void model_write(struct model_key *k, const uint8_t *val, size_t vlen, bool tomb,
                        uint64_t version)
{
    struct model_ver *last = k->nvers ? &k->vers[k->nvers - 1] : NULL;
    if (last == NULL || last->version != version) {
        cr_assert_lt(k->nvers, MODEL_VERSIONS_MAX);
        last = &k->vers[k->nvers++];
    }
    last->version = version;
    last->tombstone = tomb;
    last->vlen = vlen;
    if (vlen > 0)
        memcpy(last->value, val, vlen);
}

static void model_advance(uint64_t version, int64_t ts)
{
    m.applied = version;
    if (ts > m.ts)
        m.ts = ts;
    m.clock_version[m.nclock] = version;
    m.clock_ts[m.nclock++] = m.ts;
    uint64_t floor = m.floor;
    if (m.window_versions && version > m.window_versions &&
        version - m.window_versions > floor)
        floor = version - m.window_versions;
    if (m.window_us) {
        /* Version clock_version[i] is readable until window_us after clock_ts[i + 1], the
         * time the version that replaced it was applied; index 0 is the empty store. */
        size_t i = 0;
        while (i + 1 < m.nclock && m.clock_ts[i + 1] < m.ts - m.window_us)
            i++;
        if (m.clock_version[i] > floor)
            floor = m.clock_version[i];
    }
    if (getenv("KV_MODEL_TRACE")) fprintf(stderr, "wv %llu wus %lld v %llu ts %lld floor %llu\n", (unsigned long long)m.window_versions, (long long)m.window_us, (unsigned long long)version, (long long)m.ts, (unsigned long long)floor);
    m.floor = floor;
}

static const uint8_t key_bytes[4] = {0x00, 0x01, 0x7F, 0xFF};

static size_t random_key(struct test_rng *r, uint8_t *key)
{
    size_t len = test_rng_below(r, MODEL_KEY_TAIL_MAX + 1);
    size_t head = key_head ? MODEL_KEY_HEAD_LEN : 0;
    memcpy(key, MODEL_KEY_HEAD, head);
    for (size_t i = 0; i < len; i++)
        key[head + i] = key_bytes[test_rng_below(r, 4)];
    return head + len;
}

static void random_write(struct test_rng *r, kv_store *s, uint64_t version)
{
    uint8_t key[MODEL_KEY_LEN_MAX], end[MODEL_KEY_LEN_MAX];
    size_t klen = random_key(r, key);
    uint64_t op = test_rng_below(r, 20);
    if (op < 12) {
        uint8_t val[4];
        size_t vlen = test_rng_below(r, 5);
        for (size_t i = 0; i < vlen; i++)
            val[i] = (uint8_t)test_rng_next(r);
        cr_assert_eq(kv_store_set(s, key, klen, val, vlen, version), 0);
        model_write(model_find(key, klen, true), val, vlen, false, version);
    } else if (op < 17) {
        bool found;
        cr_assert_eq(kv_store_delete(s, key, klen, version, &found), 0);
        struct model_key *k = model_find(key, klen, false);
        bool live = k != NULL && model_live(k, version);
        cr_assert_eq(found, live, "seed %llu: delete found", (unsigned long long)seed_now);
        if (live)
            model_write(k, NULL, 0, true, version);
    } else {
        size_t elen = random_key(r, end);
        if (model_cmp(key, klen, end, elen) > 0) {
            cr_assert_eq(kv_store_clear_range(s, key, klen, end, elen, version, NULL),
                         KV_ERR_INVALID_ARGUMENT);
            return;
        }
        cr_assert_eq(kv_store_clear_range(s, key, klen, end, elen, version, NULL), 0);
        for (size_t i = 0; i < m.nkeys; i++) {
            struct model_key *k = &m.keys[i];
            if (model_cmp(k->key, k->klen, key, klen) >= 0 &&
                model_cmp(k->key, k->klen, end, elen) < 0 && model_live(k, version))
                model_write(k, NULL, 0, true, version);
        }
    }
}

static uint64_t random_read_version(struct test_rng *r)
{
    uint64_t lo = m.floor > 0 ? m.floor - 1 : 0;
    return lo + test_rng_below(r, m.applied + 2 - lo);
}

static int expected_version_error(uint64_t v)
{
    if (v > m.applied)
        return KV_ERR_FUTURE_VERSION;
    return v < m.floor ? KV_ERR_TRANSACTION_TOO_OLD : 0;
}

static void check_get(struct test_rng *r, const kv_store *s)
{
    uint8_t key[MODEL_KEY_LEN_MAX];
    size_t klen = random_key(r, key);
    uint64_t v = random_read_version(r);
    struct kv_read got;
    int rc = kv_store_get(s, key, klen, v, &got);
    int want = expected_version_error(v);
    const struct model_key *k = model_find(key, klen, false);
    const struct model_ver *mv = k ? model_at(k, v) : NULL;
    if (want == 0 && (mv == NULL || mv->tombstone))
        want = KV_ERR_NOT_FOUND;
    cr_assert_eq(rc, want, "seed %llu: get at %llu: %d, want %d", (unsigned long long)seed_now,
                 (unsigned long long)v, rc, want);
    if (rc == 0) {
        cr_assert_eq(got.value_len, mv->vlen, "seed %llu", (unsigned long long)seed_now);
        cr_assert(memcmp(got.value, mv->value, mv->vlen) == 0, "seed %llu",
                  (unsigned long long)seed_now);
        cr_assert_eq(got.version, mv->version, "seed %llu", (unsigned long long)seed_now);
    }
}

struct range_out {
    const struct model_key *want[MODEL_KEYS_MAX];
    uint32_t nwant, ngot;
    uint64_t version;
};

static int check_one(void *ctx, const uint8_t *key, size_t klen, const struct kv_read *r)
{
    struct range_out *o = ctx;
    cr_assert_lt(o->ngot, o->nwant, "seed %llu: range returned too many",
                 (unsigned long long)seed_now);
    const struct model_key *k = o->want[o->ngot++];
    const struct model_ver *mv = model_at(k, o->version);
    cr_assert(model_cmp(key, klen, k->key, k->klen) == 0, "seed %llu: range key %u",
              (unsigned long long)seed_now, o->ngot - 1);
    cr_assert(r->value_len == mv->vlen && memcmp(r->value, mv->value, mv->vlen) == 0,
              "seed %llu: range value", (unsigned long long)seed_now);
    return 0;
}

static void check_range(struct test_rng *r, const kv_store *s)
{
    uint8_t b[MODEL_KEY_LEN_MAX], e[MODEL_KEY_LEN_MAX];
    struct kv_range q = {.begin = b, .begin_len = random_key(r, b), .end = e,
                         .end_len = random_key(r, e), .end_unbounded = test_rng_below(r, 4) == 0,
                         .version = random_read_version(r),
                         .limit = (uint32_t)test_rng_below(r, 6), .reverse = test_rng_below(r, 2)};
    struct range_out o = {.nwant = 0, .ngot = 0, .version = q.version};
    bool model_more = false;
    for (size_t j = 0; j < m.nkeys; j++) {
        size_t i = q.reverse ? m.nkeys - 1 - j : j;
        const struct model_key *k = &m.keys[i];
        bool in = model_cmp(k->key, k->klen, b, q.begin_len) >= 0 &&
                  (q.end_unbounded || model_cmp(k->key, k->klen, e, q.end_len) < 0);
        if (!in || !model_live(k, q.version))
            continue;
        if (q.limit != 0 && o.nwant == q.limit) {
            model_more = true;
            break;
        }
        o.want[o.nwant++] = k;
    }
    uint32_t count;
    bool more;
    int rc = kv_store_range(s, &q, check_one, &o, &count, &more);
    int want = expected_version_error(q.version);
    cr_assert_eq(rc, want, "seed %llu: range rc %d want %d", (unsigned long long)seed_now, rc,
                 want);
    if (rc != 0)
        return;
    cr_assert_eq(o.ngot, o.nwant, "seed %llu: range count", (unsigned long long)seed_now);
    cr_assert_eq(count, o.nwant, "seed %llu", (unsigned long long)seed_now);
    cr_assert_eq(more, model_more, "seed %llu: has_more", (unsigned long long)seed_now);
}

static void check_conflict(struct test_rng *r, const kv_store *s)
{
    uint8_t key[MODEL_KEY_LEN_MAX];
    size_t klen = random_key(r, key);
    uint64_t v = m.floor + test_rng_below(r, m.applied - m.floor + 1);
    const struct model_key *k = model_find(key, klen, false);
    bool want = k != NULL && k->nvers > 0 && k->vers[k->nvers - 1].version > v;
    cr_assert_eq(kv_store_key_written_after(s, key, klen, v), want,
                 "seed %llu: key written after %llu", (unsigned long long)seed_now,
                 (unsigned long long)v);
    uint8_t e[MODEL_KEY_LEN_MAX];
    size_t elen = random_key(r, e);
    bool unbounded = test_rng_below(r, 4) == 0;
    bool want_range = false;
    for (size_t i = 0; i < m.nkeys; i++) {
        const struct model_key *mk = &m.keys[i];
        if (model_cmp(mk->key, mk->klen, key, klen) >= 0 &&
            (unbounded || model_cmp(mk->key, mk->klen, e, elen) < 0) &&
            mk->vers[mk->nvers - 1].version > v)
            want_range = true;
    }
    cr_assert_eq(kv_store_range_written_after(s, key, klen, e, elen, unbounded, v), want_range,
                 "seed %llu: range written after %llu", (unsigned long long)seed_now,
                 (unsigned long long)v);
}

static void check_totals(const kv_store *s)
{
    struct kv_digest want = {{0, 0}};
    uint64_t live = 0;
    for (size_t i = 0; i < m.nkeys; i++) {
        const struct model_key *k = &m.keys[i];
        const struct model_ver *mv = model_at(k, m.applied);
        if (mv == NULL || mv->tombstone)
            continue;
        live++;
        kv_digest_add(&want, k->key, k->klen, mv->value, mv->vlen, mv->version);
    }
    struct kv_stats st;
    kv_store_stats(s, &st);
    struct kv_digest got = kv_store_digest(s);
    cr_assert_eq(st.live_keys, live, "seed %llu: live keys", (unsigned long long)seed_now);
    cr_assert(got.lane[0] == want.lane[0] && got.lane[1] == want.lane[1],
              "seed %llu: digest", (unsigned long long)seed_now);
    cr_assert_eq(kv_store_floor_version(s), m.floor, "seed %llu: floor %llu want %llu",
                 (unsigned long long)seed_now, (unsigned long long)kv_store_floor_version(s),
                 (unsigned long long)m.floor);
}

/* Once the window has passed every write, reclaim must leave exactly one version per live
 * key and nothing else: no leaked history, no lost values. */
static void drain_history(kv_store *s)
{
    if (m.window_versions == 0 && m.window_us == 0)
        return;
    uint64_t v = kv_store_applied_version(s);
    int64_t ts = kv_store_applied_timestamp_us(s);
    for (int i = 0; i < 2 * MODEL_KEYS_MAX + 20; i++)
        kv_store_advance(s, ++v, ts += m.window_us + 1);
    struct kv_stats st;
    kv_store_stats(s, &st);
    cr_assert_eq(st.versions, st.live_keys, "seed %llu: versions %llu live %llu",
                 (unsigned long long)seed_now, (unsigned long long)st.versions,
                 (unsigned long long)st.live_keys);
    cr_assert_eq(st.indexed_keys, st.live_keys, "seed %llu", (unsigned long long)seed_now);
}

static void run_sequence(uint64_t seed)
{
    static const uint64_t windows_v[] = {0, 1, 3, 10};
    static const int64_t windows_us[] = {0, 200, 1000};
    struct test_rng r = {seed};
    seed_now = seed;
    key_head = seed % 2 == 1;
    memset(&m, 0, sizeof m);
    m.nclock = 1; /* version 0, the empty store, at time 0 */
    m.window_versions = windows_v[test_rng_below(&r, 4)];
    m.window_us = windows_us[test_rng_below(&r, 3)];
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_versions = m.window_versions;
    cfg.window_us = m.window_us;
    kv_store *s = kv_store_new(&cfg);
    cr_assert_not_null(s);
    uint64_t steps = 10 + test_rng_below(&r, MODEL_STEPS_MAX - 10);
    for (uint64_t step = 0; step < steps; step++) {
        uint64_t version = m.applied + 1 + test_rng_below(&r, 3);
        for (uint64_t w = test_rng_below(&r, 4); w > 0; w--)
            random_write(&r, s, version);
        int64_t ts = m.ts + (int64_t)test_rng_below(&r, 300) - 50;
        kv_store_advance(s, version, ts);
        model_advance(version, ts);
        check_totals(s);
        for (int i = 0; i < 4; i++)
            check_get(&r, s);
        check_range(&r, s);
        check_conflict(&r, s);
    }
    drain_history(s);
    kv_store_free(s);
}

Test(kv_model, random_sequences_match_reference_model, .timeout = 60)
{
    uint64_t base = test_seed_for("kv_model: base");
    for (uint64_t i = 0; i < MODEL_SEQUENCES; i++)
        run_sequence(base * 1000003u + i);
}
