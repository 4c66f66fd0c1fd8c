/* test_session_model.c: clients retry through leader changes; every write applies once.
 *
 * A model of what reaches the log when clients retry: each write of a session is sent, maybe
 * several times at once (a client, a forwarding follower and a new leader each appending a
 * copy), each copy delayed a random number of entries (so copies of one write arrive out of
 * order with the session's other writes, and after the client acknowledged the answer), some
 * copies lost (a leader change cuts uncommitted entries), some answers lost (the client
 * retries), and at every leader change the clock steps back. Three replicas apply the log:
 * one entry by entry, one restarting from its own snapshot at random points, one in a single
 * pass at the end. Checks: no write applies twice (its key keeps the first copy's version),
 * every answer of a write names one version, the replicas' digests (which cover the session
 * table) agree at every step, and with generous limits every write gets its answer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_sm.h"
#include "session_fixture.h"
#include "test_rng.h"

#define CLIENTS 5
#define WRITES 200
#define PIPELINE 4
#define RETRY_STEPS 30     /* a client sends a write again after this many steps unanswered */
#define DELAY_MAX 25       /* entries a copy may lag behind */
#define COPIES_MAX 4096

struct copy {
    int client;
    int64_t seq;       /* 0: an openSession */
    int64_t acked;     /* the client's acknowledgement when it sent this copy */
    uint64_t session;
    int64_t read_version;
    uint64_t due;      /* step it reaches the log */
};

struct client {
    uint64_t session;       /* 0: waiting for an open */
    uint64_t open_step;     /* when the last open was sent */
    int64_t next_seq, acked;
    uint64_t version[WRITES + 1];  /* first answer's version; 0: no answer yet */
    bool answered[WRITES + 1], unknown[WRITES + 1];
    uint64_t sent_step[WRITES + 1];
    uint64_t session_of[WRITES + 1]; /* a write stays in the session it was first sent in, */
    int64_t read_version[WRITES + 1]; /* and every copy is the same bytes */
    uint64_t executed_at[WRITES + 1]; /* replica A: the entry that ran it (any outcome) */
    uint64_t applied_at[WRITES + 1]; /* replica A: the entry that applied it; 0: none */
};

struct world {
    struct test_rng rng;
    struct client c[CLIENTS];
    struct copy q[COPIES_MAX];
    int nq;
    kv_sm *a, *b;
    KvCommand *log;       /* every entry, for replica C */
    int64_t *ts;
    size_t nlog, cap;
    int64_t clock;
    uint64_t step;
    bool tight;           /* small limits, short sessions: at most once, not liveness */
};

static kv_sm *model_sm(bool tight)
{
    struct kv_config cfg;
    kv_config_default(&cfg);
    if (tight) {
        cfg.sessions_max = CLIENTS + 1;
        cfg.session_results_max = 2;
        cfg.session_results_total_max = 6;
    }
    kv_sm *sm = kv_sm_new(&cfg);
    cr_assert_not_null(sm);
    return sm;
}

static void send_copy(struct world *w, int c, int64_t seq)
{
    struct client *cl = &w->c[c];
    cr_assert_lt(w->nq, COPIES_MAX);
    if (seq > 0 && cl->session_of[seq] == 0) {
        cl->session_of[seq] = cl->session;
        cl->read_version[seq] = (int64_t)kv_sm_applied_version(w->a);
    }
    w->q[w->nq++] = (struct copy){.client = c, .seq = seq, .acked = cl->acked,
                                  .session = seq > 0 ? cl->session_of[seq] : 0,
                                  .read_version = seq > 0 ? cl->read_version[seq] : 0,
                                  .due = w->step + test_rng_below(&w->rng, DELAY_MAX + 1)};
    if (seq > 0)
        cl->sent_step[seq] = w->step;
    else
        cl->open_step = w->step;
}

static KvCommand command_of(const struct copy *cp)
{
    char key[32];
    snprintf(key, sizeof key, "r/%d/%04lld", cp->client, (long long)cp->seq);
    if (cp->seq == 0)
        return sf_open(2000);
    if (cp->seq % 2)
        return sf_set(key, "v", (int64_t)cp->session, cp->seq, cp->acked);
    return sf_incr(key, "v", cp->read_version, (int64_t)cp->session, cp->seq, cp->acked);
}

/* A restart: the replica comes back from its own snapshot. */
static void restart(kv_sm **sm, bool tight)
{
    uint8_t *data;
    size_t len;
    char err[256] = "";
    cr_assert_eq(kv_sm_save_mem(*sm, &data, &len), 0);
    kv_sm *fresh = model_sm(tight);
    cr_assert_eq(kv_sm_restore_mem(fresh, data, len, err, sizeof err), 0, "%s", err);
    free(data);
    kv_sm_free(*sm);
    *sm = fresh;
}

static void answer(struct world *w, const struct copy *cp, const struct kv_sm_result *r)
{
    struct client *c = &w->c[cp->client];
    if (cp->seq == 0) {   /* an open is answered at once: its id is the new session */
        cr_assert_eq(r->error, 0);
        if (c->session == 0)   /* else a retried open's: that session just expires */
            c->session = r->committed_version;
        return;
    }
    if (!r->duplicate && r->error != KV_ERR_SESSION_EXPIRED) {
        cr_assert_eq(c->executed_at[cp->seq], 0, "client %d write %lld ran twice", cp->client,
                     (long long)cp->seq);
        c->executed_at[cp->seq] = r->version;
        if (r->error == 0)
            c->applied_at[cp->seq] = r->version;
    }
    if (r->error == 0 && c->version[cp->seq] != 0)
        cr_assert_eq(r->committed_version, c->version[cp->seq], "two versions for one write");
    if (test_rng_below(&w->rng, 5) == 0 || c->answered[cp->seq] || c->unknown[cp->seq])
        return;   /* the answer was lost, or the client has one already */
    if (r->error == KV_ERR_SESSION_EXPIRED) {
        cr_assert(w->tight, "an unanswered write lost its answer with generous limits");
        c->unknown[cp->seq] = true;
        if (cp->session == c->session) {
            c->session = 0;   /* open another one for the next writes */
            send_copy(w, cp->client, 0);
        }
    } else {
        c->answered[cp->seq] = true;
        c->version[cp->seq] = r->committed_version;
    }
    while (c->acked < c->next_seq && (c->answered[c->acked] || c->unknown[c->acked]))
        c->acked++;
}

static void append(struct world *w, const struct copy *cp)
{
    if (w->nlog == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->log = realloc(w->log, w->cap * sizeof *w->log);
        w->ts = realloc(w->ts, w->cap * sizeof *w->ts);
    }
    w->clock += 1000;
    w->log[w->nlog] = command_of(cp);
    w->ts[w->nlog] = w->clock;
    struct kv_sm_result ra, rb;
    uint64_t v = kv_sm_applied_version(w->a) + 1;
    kv_sm_apply(w->a, &w->log[w->nlog], v, w->clock, &ra);
    kv_sm_apply(w->b, &w->log[w->nlog], v, w->clock, &rb);
    w->nlog++;
    cr_assert_eq(ra.error, rb.error);
    cr_assert_eq(ra.duplicate, rb.duplicate);
    cr_assert_eq(ra.committed_version, rb.committed_version);
    answer(w, cp, &ra);
}

/* One step: leader changes, new writes, retries, and the copies due reach the log. */
static void step(struct world *w)
{
    w->step++;
    if (test_rng_below(&w->rng, 40) == 0) {   /* a leader change */
        w->clock -= (int64_t)test_rng_below(&w->rng, w->tight ? 3000000 : 500000);
        for (int i = 0; i < w->nq; i++)
            if (test_rng_below(&w->rng, 3) == 0)
                w->q[i--] = w->q[--w->nq];
    }
    if (w->tight && test_rng_below(&w->rng, 200) == 0)
        w->clock += 2500000;   /* a pause longer than the sessions' timeout */
    for (int c = 0; c < CLIENTS; c++) {
        struct client *cl = &w->c[c];
        if (cl->session == 0 && w->step - cl->open_step > RETRY_STEPS)
            send_copy(w, c, 0);
        if (cl->session == 0)
            continue;
        if (cl->next_seq <= WRITES && cl->next_seq - cl->acked < PIPELINE) {
            int copies = 1 + (test_rng_below(&w->rng, 4) == 0) * (int)test_rng_below(&w->rng, 3);
            for (int k = 0; k < copies; k++)
                send_copy(w, c, cl->next_seq);
            cl->next_seq++;
        }
        for (int64_t s = cl->acked; s < cl->next_seq; s++)
            if (!cl->answered[s] && !cl->unknown[s] && w->step - cl->sent_step[s] > RETRY_STEPS)
                send_copy(w, c, s);
    }
    for (int i = 0; i < w->nq; i++) {
        if (w->q[i].due > w->step)
            continue;
        struct copy cp = w->q[i];
        w->q[i--] = w->q[--w->nq];
        append(w, &cp);
    }
    if (test_rng_below(&w->rng, 150) == 0)
        restart(&w->b, w->tight);
}

static bool done(const struct world *w)
{
    for (int c = 0; c < CLIENTS; c++)
        if (w->c[c].session == 0 || w->c[c].acked <= WRITES)
            return false;
    return true;
}

static void check_keys(struct world *w)
{
    for (int c = 0; c < CLIENTS; c++)
        for (int64_t s = 1; s <= WRITES; s++) {
            char key[32];
            snprintf(key, sizeof key, "r/%d/%04lld", c, (long long)s);
            struct kv_read r;
            int rc = kv_store_get(kv_sm_store(w->a), (const uint8_t *)key, strlen(key),
                                  kv_sm_applied_version(w->a), &r);
            uint64_t applied = w->c[c].applied_at[s];
            cr_assert_eq(rc == 0, applied != 0, "%s present iff applied", key);
            if (applied)
                cr_assert_eq(r.version, applied, "%s was written again after its first apply", key);
            if (!w->tight)
                cr_assert(w->c[c].answered[s], "%s never answered", key);
        }
}

static void run_model(uint64_t seed, bool tight)
{
    struct world *w = calloc(1, sizeof *w);
    w->rng.state = seed;
    w->tight = tight;
    w->a = model_sm(tight);
    w->b = model_sm(tight);
    w->clock = 1000000;
    for (int c = 0; c < CLIENTS; c++) {
        w->c[c].next_seq = w->c[c].acked = 1;
        append(w, &(struct copy){.client = c, .seq = 0});
    }
    for (int i = 0; !done(w); i++) {
        cr_assert_lt(i, 200000, "seed %llu: the clients never finished", (unsigned long long)seed);
        step(w);
    }
    check_keys(w);
    /* The model must have reached what it is about: retries answered from the table, and
       (tight) sessions that expired or were pushed out. */
    struct kv_sm_session_stats st;
    kv_sm_session_stats(w->a, &st);
    cr_assert_gt(st.duplicates, 0, "seed %llu", (unsigned long long)seed);
    if (tight)
        cr_assert_gt(st.expired + st.evicted, 0, "seed %llu", (unsigned long long)seed);
    kv_sm *c = model_sm(tight);
    for (size_t i = 0; i < w->nlog; i++) {
        struct kv_sm_result r;
        kv_sm_apply(c, &w->log[i], i + 1, w->ts[i], &r);
        KvCommand_free(&w->log[i]);
    }
    char da[KV_DIGEST_HEX_LEN + 1], db[KV_DIGEST_HEX_LEN + 1], dc[KV_DIGEST_HEX_LEN + 1];
    kv_sm_digest_hex(w->a, da);
    kv_sm_digest_hex(w->b, db);
    kv_sm_digest_hex(c, dc);
    cr_assert_str_eq(da, db, "seed %llu", (unsigned long long)seed);
    cr_assert_str_eq(da, dc, "seed %llu", (unsigned long long)seed);
    kv_sm_free(c);
    kv_sm_free(w->a);
    kv_sm_free(w->b);
    free(w->log);
    free(w->ts);
    free(w);
}

static void run_seeds(bool tight)
{
    uint64_t base = test_seed();
    cr_log_info("seeds %llu..%llu (a failure names its seed; TEST_SEED=S starts at S)",
                (unsigned long long)base, (unsigned long long)base + 19);
    for (uint64_t i = 0; i < 20; i++)
        run_model(base + i, tight);
}

Test(kv_session_model, retries_apply_once_and_replicas_agree, .timeout = 120)
{
    run_seeds(false);
}

Test(kv_session_model, tight_limits_and_expiry_still_at_most_once, .timeout = 120)
{
    run_seeds(true);
}
