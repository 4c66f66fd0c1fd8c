/* cluster_fixture.c: N cluster_nodes in one process (bus or TCP), a hashing state machine, waits. */
#include "cluster_fixture.h"

#include "fx_listener.h"
#include "fx_snap.h"
#include "wal.h"
#include "test_seed.h"

#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t hash_step(uint64_t h, uint64_t index, const uint8_t *data, uint32_t len)
{
    h ^= index * 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    return h * 0xff51afd7ed558ccdull + len;
}

void fx_record(struct fx_node *fn, uint64_t index, uint64_t digest)
{
    if (index >= fn->digests_cap) {
        uint64_t cap = fn->digests_cap ? fn->digests_cap * 2 : 1024;
        while (cap <= index)
            cap *= 2;
        fn->digests = realloc(fn->digests, cap * sizeof *fn->digests);
        cr_assert(fn->digests);
        memset(fn->digests + fn->digests_cap, 0, (cap - fn->digests_cap) * sizeof *fn->digests);
        fn->digests_cap = cap;
    }
    fn->digests[index] = digest;
}

struct propose_count {
    uint32_t done, ok, want;
};

/* One proposal of fx_propose_n: apply hands it what it applied (cluster.h). */
struct fx_proposal {
    struct propose_count *count;
    uint64_t applied_index; /* the index apply gave it; 0: none */
    uint32_t applied_by;    /* the node whose apply did */
};

static int sm_apply(void *ctx, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len,
                    void *proposal)
{
    struct fx_node *fn = ctx;
    uintptr_t at = (uintptr_t)proposal, props = (uintptr_t)fn->fx->props;
    if (at >= props && at < props + fn->fx->prop_count * sizeof *fn->fx->props) {
        struct fx_proposal *p = proposal; /* one of fx_propose_n's (tests make others) */
        cr_assert_eq(p->applied_index, 0, "node %u applies a proposal twice", fn->id);
        p->applied_index = index;
        p->applied_by = fn->id;
    }
    cr_assert_eq(index, fn->applied + 1, "node %u applies %llu after %llu", fn->id,
                 (unsigned long long)index, (unsigned long long)fn->applied);
    uint64_t prev = fn->applied ? fn->digests[fn->applied] : 0;
    fx_record(fn, index, hash_step(prev, index, data, len));
    fn->applied = index;
    fn->applied_term = term;
    return 0;
}

static void sm_membership(void *ctx, uint64_t index, const struct consensus_membership *m)
{
    struct fx_node *fn = ctx;
    cr_assert_gt(index, fn->member_index, "node %u: membership changes out of order", fn->id);
    fn->member_index = index;
    fn->members = *m;
}

void fx_init(struct fixture *fx, enum fx_mode mode, uint32_t n, const char *test_name)
{
    memset(fx, 0, sizeof *fx);
    fx->seed = test_seed_for(test_name);
    fx->mode = mode;
    fx->n = n;
    fx->base = event_base_new();
    cr_assert(fx->base);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fx->root, sizeof fx->root, "%s/cluster-test-XXXXXX", tmp);
    cr_assert(mkdtemp(fx->root));
    cr_assert_eq(cluster_secret_set(&fx->secret, "test secret, sixteen+", 21), 0);
    if (mode == FX_BUS) {
        fx->bus = cluster_bus_new(fx->base, n);
        cr_assert(fx->bus);
    } else {
        fx_listeners_reserve(fx);
    }
    for (uint32_t i = 0; i < n; i++) {
        struct fx_node *fn = &fx->nodes[i];
        fn->fx = fx;
        fn->id = i;
        snprintf(fn->dir, sizeof fn->dir, "%s/node%u", fx->root, i);
    }
}

void fx_open(struct fixture *fx, uint32_t id)
{
    struct fx_node *fn = &fx->nodes[id];
    cr_assert_null(fn->node);
    struct wal_config wc;
    wal_config_default(&wc, fn->dir);
    if (fx->fsync_interval_ms > 0) {
        wc.fsync = WAL_FSYNC_INTERVAL;
        wc.fsync_interval_ms = fx->fsync_interval_ms;
    }
    wc.io = fn->io;
    struct wal_errmsg err;
    cr_assert_eq(wal_open(&wc, &fn->wal, &err), 0, "wal_open %s", fn->dir);
    /* The state machine restarts from its newest snapshot (the digests stay in memory) and
       replays the log after it. */
    fn->applied = fn->snap_data ? fn->snap_index : 0;
    fn->applied_term = fn->snap_data ? fn->snap_term : 0;
    fn->member_index = 0; /* replayed from the log, as the state machine is */
    fn->tp = fx->mode == FX_BUS ? cluster_bus_transport(fx->bus, id) : fx_net_transport(fx, id);
    cr_assert(fn->tp);
    struct cluster_config cfg;
    cluster_config_default(&cfg);
    cfg.id = id;
    cfg.node_count = fx->n;
    cfg.voters = fx->voters;
    struct consensus_membership none = {0}, boot;
    if (fx->voters && fx->mode == FX_TCP && !fx->joining[id]) {
        /* As the server does: the bootstrap members at their addresses, which a node that
           joins learns from the log (this holds with no snapshots: theirs hold none). */
        consensus_membership_bootstrap(&boot, fx->voters);
        for (uint32_t i = 0; i < boot.count; i++)
            snprintf(boot.members[i].addr, sizeof boot.members[i].addr, "%s", fx->endpoints[i]);
        cfg.membership = &boot;
    }
    if (fx->joining[id]) { /* no bootstrap: the log it gets tells it the membership */
        cfg.node_count = 0;
        cfg.voters = 0;
        cfg.membership = &none;
    }
    cfg.election_timeout_ms = 300;
    cfg.heartbeat_interval_ms = 50;
    cfg.seed = fx->seed * 31 + id;
    cfg.snapshot_every = fx->snapshot_every;
    cfg.snapshot_catchup_entries = fx->snapshot_catchup_entries;
    cfg.applied_index = fn->applied;
    cfg.applied_term = fn->applied_term;
    cfg.sync_background = !fx->sync_in_batch && fx->fsync_interval_ms == 0;
    struct cluster_callbacks cb = {.apply = sm_apply, .membership = sm_membership, .ctx = fn};
    fx_snap_ops(&cb.snap);
    cr_assert_eq(cluster_node_open(&cfg, fx->base, fn->wal, fn->tp, &cb, &fn->node), 0);
    if (fx->mode == FX_BUS)
        cluster_bus_attach(fx->bus, id, fn->node);
    else
        fx_listener_start(fx, id);
}

void fx_open_all(struct fixture *fx)
{
    for (uint32_t i = 0; i < fx->n; i++)
        fx_open(fx, i);
}

void fx_close(struct fixture *fx, uint32_t id)
{
    struct fx_node *fn = &fx->nodes[id];
    if (!fn->node)
        return;
    if (fx->mode == FX_BUS)
        cluster_bus_attach(fx->bus, id, NULL);
    cluster_node_close(fn->node); /* answers the calls it holds */
    fn->node = NULL;
    if (fx->mode == FX_TCP)
        fx_listener_stop(fx, id);
    cluster_transport_free(fn->tp);
    fn->tp = NULL;
    wal_close(fn->wal);
    fn->wal = NULL;
}

void fx_fini(struct fixture *fx)
{
    for (uint32_t i = 0; i < fx->n; i++)
        fx_close(fx, i);
    /* Let queued replies and closes run out before freeing the loop. */
    event_base_loop(fx->base, EVLOOP_NONBLOCK);
    cluster_bus_free(fx->bus);
    for (uint32_t i = 0; i < fx->n; i++) {
        free(fx->nodes[i].digests);
        free(fx->nodes[i].snap_data);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->root);
    cr_assert_eq(system(cmd), 0);
    event_base_free(fx->base);
}

bool fx_wait(struct fixture *fx, bool (*cond)(struct fixture *fx, void *arg), void *arg,
             int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
    while (!cond(fx, arg)) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= deadline)
            return false;
        event_base_loop(fx->base, EVLOOP_ONCE); /* the tick timers bound each turn */
    }
    return true;
}

int fx_leader(struct fixture *fx)
{
    int best = -1;
    uint64_t best_term = 0;
    for (uint32_t i = 0; i < fx->n; i++) {
        if (!fx->nodes[i].node)
            continue;
        struct cluster_status st;
        cluster_status(fx->nodes[i].node, &st);
        if (st.role == CONSENSUS_LEADER && st.term >= best_term) {
            cr_assert(best < 0 || st.term > best_term, "two leaders in term %llu",
                      (unsigned long long)st.term);
            best = (int)i;
            best_term = st.term;
        }
    }
    return best;
}

static bool has_leader(struct fixture *fx, void *arg)
{
    (void)arg;
    return fx_leader(fx) >= 0;
}

uint32_t fx_wait_leader(struct fixture *fx, int timeout_ms)
{
    cr_assert(fx_wait(fx, has_leader, NULL, timeout_ms), "no leader within %d ms (seed %llu)",
              timeout_ms, (unsigned long long)fx->seed);
    return (uint32_t)fx_leader(fx);
}

static void on_proposed(void *ctx, int err, uint64_t index, uint32_t leader)
{
    struct fx_proposal *p = ctx;
    (void)leader;
    /* Applied here exactly when it succeeded, at the index it succeeded at. */
    cr_assert_eq(p->applied_index, err == 0 ? index : 0, "proposal: err %d at %llu, applied %llu",
                 err, (unsigned long long)index, (unsigned long long)p->applied_index);
    p->count->done++;
    if (err == 0)
        p->count->ok++;
}

static bool all_proposed(struct fixture *fx, void *arg)
{
    (void)fx;
    struct propose_count *pc = arg;
    return pc->done == pc->want;
}

uint32_t fx_propose_n(struct fixture *fx, uint32_t id, uint32_t count, int timeout_ms)
{
    struct propose_count pc = {0, 0, count};
    struct fx_proposal *props = calloc(count ? count : 1, sizeof *props);
    cr_assert(props);
    fx->props = props;
    fx->prop_count = count;
    for (uint32_t i = 0; i < count; i++) {
        char data[64];
        int len = snprintf(data, sizeof data, "entry %u from %u seed %llu", i, id,
                           (unsigned long long)fx->seed);
        props[i].count = &pc;
        cluster_propose(fx->nodes[id].node, data, (uint32_t)len, on_proposed, &props[i]);
    }
    cr_assert(fx_wait(fx, all_proposed, &pc, timeout_ms), "%u of %u proposals done (seed %llu)",
              pc.done, count, (unsigned long long)fx->seed);
    for (uint32_t i = 0; i < count; i++)
        cr_assert(props[i].applied_index == 0 || props[i].applied_by == id,
                  "proposal %u of node %u handed to node %u's apply", i, id, props[i].applied_by);
    fx->props = NULL;
    fx->prop_count = 0;
    free(props);
    return pc.ok;
}

static bool applied_at_least(struct fixture *fx, void *arg)
{
    uint64_t index = *(uint64_t *)arg;
    for (uint32_t i = 0; i < fx->n; i++)
        if (fx->nodes[i].node && fx->nodes[i].applied < index)
            return false;
    return true;
}

bool fx_wait_applied(struct fixture *fx, uint64_t index, int timeout_ms)
{
    return fx_wait(fx, applied_at_least, &index, timeout_ms);
}

void fx_check_same(struct fixture *fx)
{
    uint64_t low = UINT64_MAX;
    for (uint32_t i = 0; i < fx->n; i++)
        if (fx->nodes[i].node && fx->nodes[i].applied < low)
            low = fx->nodes[i].applied;
    cr_assert(low != UINT64_MAX && low > 0);
    int ref = -1;
    for (uint32_t i = 0; i < fx->n; i++) {
        if (!fx->nodes[i].node)
            continue;
        if (ref < 0)
            ref = (int)i;
        cr_assert_eq(fx->nodes[i].digests[low], fx->nodes[ref].digests[low],
                     "node %u differs from node %d at %llu (seed %llu)", i, ref,
                     (unsigned long long)low, (unsigned long long)fx->seed);
    }
}

void fx_isolate(struct fixture *fx, uint32_t id, bool cut)
{
    for (uint32_t i = 0; i < fx->n; i++) {
        if (i == id)
            continue;
        if (fx->nodes[i].tp)
            cluster_transport_drop(fx->nodes[i].tp, id, cut, cut);
        if (fx->nodes[id].tp)
            cluster_transport_drop(fx->nodes[id].tp, i, cut, cut);
    }
}
