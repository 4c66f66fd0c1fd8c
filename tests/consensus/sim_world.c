/* sim_world.c: N cores on the bus with simulated disks: batches, crashes, restarts, time. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* A data dir's incarnation: non-zero, a function of the seed, the node and its wipes. */
static uint64_t incarnation(const struct sim_world *w, uint32_t i, uint32_t wipes)
{
    struct sim_rng r = {w->seed ^ ((uint64_t)(i + 1) << 40) ^ ((uint64_t)wipes << 20)};
    uint64_t v = sim_rng_next(&r);
    return v != 0 ? v : 1;
}

static void start(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    assert(n->core == NULL);
    assert(sim_disk_pending_records(&n->disk) == 0);
    struct consensus_config cfg = w->cfg;
    cfg.id = i;
    cfg.node_count = w->voters; /* unused: the membership comes from the disk's snapshot */
    cfg.rand_u64 = sim_rng_u64;
    cfg.rand_ctx = &n->rng;
    cfg.incarnation = w->identity ? n->incarnation : 0;
    struct consensus_restore r = {
        .hard_state = n->disk.hs,
        .snapshot_index = n->disk.base_index,
        .snapshot_term = n->disk.base_term,
        .entries = n->disk.ents,
        .entry_count = n->disk.count,
        .applied_index = n->disk.snap_index,
        .applied_term = n->disk.snap_term,
        .membership = &n->disk.snap_sm.conf,
    };
    int err = consensus_new(&cfg, &r, &n->core);
    assert(err == 0);
    (void)err;
    n->sm = n->disk.snap_sm;
    n->commit_checked = consensus_commit_index(n->core);
    n->syncing = false;
    n->bg_syncing = false;
    n->pending_ticks = 0;
    memset(&n->recv_snap, 0, sizeof n->recv_snap);
    sim_snap_reset(n); /* a partial snapshot (a temp file) is removed at start */
}

void sim_world_init(struct sim_world *w, uint64_t seed, uint32_t n,
                    const struct consensus_config *cfg)
{
    sim_world_init_members(w, seed, n, n, cfg);
}

void sim_world_init_members(struct sim_world *w, uint64_t seed, uint32_t n, uint32_t voters,
                            const struct consensus_config *cfg)
{
    assert(n >= 1 && n <= SIM_NODES_MAX);
    assert(voters >= 1 && voters <= n && voters <= CONSENSUS_VOTERS_MAX);
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->rng.state = seed;
    w->node_count = n;
    w->voters = voters;
    w->cfg = *cfg;
    w->tick_units = 10;
    w->sync_delay_max = 2;
    w->torn_ppm = 500000;
    w->bg_delay_max = 4;
    w->snap = (struct sim_snap_config){.chunks_max = 4, .chunk_units = 1, .window = 4,
                                       .resend_units = 20};
    bus_init(&w->bus);
    sim_check_init(&w->check);
    consensus_membership_bootstrap(&w->check.conf, voters);
    for (uint32_t i = 0; i < n; i++) {
        struct sim_node *node = &w->nodes[i];
        node->id = i;
        node->rng.state = seed * 0x2545F4914F6CDD1Dull + i + 1;
        node->incarnation = incarnation(w, i, 0);
        sim_disk_init(&node->disk);
        consensus_membership_bootstrap(&node->disk.snap_sm.conf, voters);
        start(w, i);
    }
}

void sim_world_identity(struct sim_world *w)
{
    assert(w->now == 0);
    w->identity = true;
    for (uint32_t i = 0; i < w->node_count; i++) {
        consensus_free(w->nodes[i].core);
        w->nodes[i].core = NULL;
        start(w, i);
    }
}

void sim_world_free(struct sim_world *w)
{
    for (uint32_t i = 0; i < w->node_count; i++) {
        consensus_free(w->nodes[i].core);
        sim_disk_free(&w->nodes[i].disk);
    }
    bus_free(&w->bus);
    sim_check_free(&w->check);
    free(w->props);
    free(w->reads);
    free(w->fwds);
    memset(w, 0, sizeof *w);
}

void sim_world_fail(struct sim_world *w, const char *fmt, ...)
{
    if (w->failed)
        return;
    w->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->failure, sizeof w->failure, fmt, ap);
    va_end(ap);
    sim_trace_add(&w->trace, w->now, "FAIL %s", w->failure);
}

void sim_world_report(const struct sim_world *w)
{
    fprintf(stderr, "consensus sim: seed %llu FAILED at t=%llu: %s\n",
            (unsigned long long)w->seed, (unsigned long long)w->now, w->failure);
    fprintf(stderr, "  replay: consensus_sim --seed %llu --nodes %u --verbose\n",
            (unsigned long long)w->seed, w->node_count);
    sim_trace_dump(&w->trace, SIM_TRACE_MAX);
    for (uint32_t i = 0; i < w->node_count; i++) {
        const struct consensus_node *c = w->nodes[i].core;
        if (c == NULL)
            continue;
        const struct consensus_membership *m = consensus_membership(c);
        const struct consensus_member *self = consensus_membership_find(m, i);
        fprintf(stderr, "  node %u: %s term %llu commit %llu last %llu, cluster %016llx, "
                "incarnation %016llx (bound %016llx)%s%s\n", i,
                consensus_role_name(consensus_role(c)), (unsigned long long)consensus_term(c),
                (unsigned long long)consensus_commit_index(c),
                (unsigned long long)consensus_last_index(c), (unsigned long long)m->cluster_id,
                (unsigned long long)w->nodes[i].incarnation,
                (unsigned long long)(self ? self->incarnation : 0),
                self ? "" : ", not a member", consensus_self_refused(c, NULL) ? ", REFUSED" : "");
    }
}

void sim_world_crash(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    if (n->core == NULL)
        return;
    size_t records = sim_disk_pending_records(&n->disk);
    size_t keep = 0;
    if (records > 0 && sim_rng_chance(&w->rng, w->torn_ppm))
        keep = (size_t)sim_rng_below(&w->rng, records + 1);
    sim_trace_add(&w->trace, w->now, "node %u CRASH (unsynced records kept %zu of %zu)", i,
                  keep, records);
    sim_disk_crash(&n->disk, keep);
    consensus_free(n->core);
    n->core = NULL;
    n->syncing = false;
    n->bg_syncing = false;
    sim_snap_reset(n);
    sim_client_crash(w, i);
}

void sim_world_wipe(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    sim_world_crash(w, i);
    sim_disk_free(&n->disk);
    sim_disk_init(&n->disk);
    /* Its old config: the bootstrap membership; but a sole bootstrap voter so configured
       starts a cluster of its own (the driver refuses that: its config names the cluster
       to join), so it then waits to be added (no membership). */
    if (w->voters > 1)
        consensus_membership_bootstrap(&n->disk.snap_sm.conf, w->voters);
    n->incarnation = incarnation(w, i, ++n->wipes);
    w->wipes++;
    sim_trace_add(&w->trace, w->now, "node %u WIPE: new incarnation %016llx", i,
                  (unsigned long long)n->incarnation);
    start(w, i);
}

/* The membership a node's synced disk holds: its newest config entry, else its snapshot's. */
static void disk_conf(const struct sim_disk *d, struct consensus_membership *out)
{
    *out = d->snap_sm.conf;
    for (size_t k = d->count; k > 0; k--) {
        const struct consensus_entry *e = &d->ents[k - 1];
        if (consensus_membership_is_config(e->data, e->len) &&
            consensus_membership_decode(e->data, e->len, out) == 0)
            return;
    }
}

/* Every voter in m is bound, and a majority of them other than node were never wiped. */
static bool bound_with_majority(const struct sim_world *w, const struct consensus_membership *m,
                                uint32_t node)
{
    uint32_t voters = 0, sound = 0;
    for (uint32_t k = 0; k < m->count; k++) {
        const struct consensus_member *v = &m->members[k];
        if (v->role != CONSENSUS_MEMBER_VOTER)
            continue;
        if (v->incarnation == 0 || m->cluster_id == 0)
            return false;
        voters++;
        sound += v->id != node && v->id < w->node_count && w->nodes[v->id].wipes == 0;
    }
    return sound >= voters / 2 + 1;
}

bool sim_world_may_wipe(const struct sim_world *w, uint32_t i)
{
    const struct consensus_membership *c = &w->check.conf;
    const struct consensus_member *self = consensus_membership_find(c, i);
    if (!w->identity || self == NULL || self->incarnation == 0 || !bound_with_majority(w, c, i))
        return false;
    /* Every node's newest membership (what it would count votes with) binds every voter,
       i among them, and leaves a majority that can elect without i. */
    for (uint32_t k = 0; k < w->node_count; k++) {
        if (k != i && w->nodes[k].wipes > 0)
            continue; /* i's own counts: what it appended may still be on its way */
        struct consensus_membership held;
        disk_conf(&w->nodes[k].disk, &held);
        const struct consensus_membership *m = &held;
        if (w->nodes[k].core != NULL)
            m = consensus_membership(w->nodes[k].core);
        if (consensus_membership_find(m, k) == NULL &&
            consensus_membership_find(&held, k) == NULL && consensus_membership_find(c, k) == NULL)
            continue; /* never a member: it counts no votes */
        if (!bound_with_majority(w, m, i) || !bound_with_majority(w, &held, i))
            return false;
    }
    return true;
}

void sim_world_restart(struct sim_world *w, uint32_t i)
{
    if (w->nodes[i].core != NULL)
        return;
    start(w, i);
    sim_trace_add(&w->trace, w->now, "node %u RESTART term %llu log %llu..%llu", i,
                  (unsigned long long)consensus_term(w->nodes[i].core),
                  (unsigned long long)consensus_first_index(w->nodes[i].core),
                  (unsigned long long)consensus_last_index(w->nodes[i].core));
}

static void trace_msg(struct sim_world *w, const char *what, const struct consensus_msg *m)
{
    if (!w->trace.messages)
        return;
    char buf[140];
    consensus_describe_msg(m, buf, sizeof buf);
    sim_trace_add(&w->trace, w->now, "%s %s", what, buf);
}

static void deliver(struct sim_world *w, struct bus_msg *bm)
{
    struct sim_node *n = &w->nodes[bm->m.to];
    if (n->core == NULL) {
        bus_msg_free(bm);
        return;
    }
    if (n->syncing) {
        bus_push_back(&w->bus, bm, n->sync_done_at);
        return;
    }
    if (bm->kind != BUS_MSG) {
        sim_snap_deliver(w, bm);
        bus_msg_free(bm);
        return;
    }
    if (bm->m.type == CONSENSUS_MSG_SNAPSHOT_RESP)
        sim_snap_resp(w, &bm->m);
    trace_msg(w, "recv", &bm->m);
    w->delivered[bm->m.type]++;
    if (bm->m.type == CONSENSUS_MSG_APPEND_RESP && !bm->m.success)
        w->rejects[bm->m.from]++;
    int err = consensus_step(n->core, &bm->m);
    w->core_inputs++;
    if (err != 0)
        sim_world_fail(w, "node %u refused a peer message: %s", n->id, consensus_strerror(err));
    bus_msg_free(bm);
}

void sim_batch_begin(struct sim_world *w, uint32_t i);
void sim_batch_finish(struct sim_world *w, uint32_t i);
void sim_batch_bg_sync_done(struct sim_world *w, uint32_t i);

static void tick(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    if (n->core == NULL)
        return;
    if (n->syncing) {
        n->pending_ticks++;
        return;
    }
    consensus_tick(n->core);
    w->core_inputs++;
}

void sim_world_step(struct sim_world *w)
{
    w->now++;
    for (uint32_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        if (n->core != NULL && n->syncing && n->sync_done_at <= w->now)
            sim_batch_finish(w, i);
        if (n->core != NULL && n->bg_syncing && n->bg_done_at <= w->now && !w->bg_hold[i])
            sim_batch_bg_sync_done(w, i);
    }
    struct bus_msg bm;
    while (bus_pop_due(&w->bus, w->now, &bm))
        deliver(w, &bm);
    for (uint32_t i = 0; i < w->node_count; i++)
        sim_snap_pump(w, i);
    /* Nodes tick at staggered offsets within each tick period. */
    for (uint32_t i = 0; i < w->node_count; i++)
        if ((w->now + i * 3) % w->tick_units == 0 && !w->no_tick[i])
            tick(w, i);
    for (uint32_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        while (n->core != NULL && !n->syncing && consensus_has_ready(n->core))
            sim_batch_begin(w, i);
    }
    sim_check_step(w);
}

void sim_world_run_ticks(struct sim_world *w, uint32_t ticks)
{
    for (uint64_t end = w->now + (uint64_t)ticks * w->tick_units; w->now < end && !w->failed;)
        sim_world_step(w);
}

int sim_world_propose(struct sim_world *w, uint32_t i, uint64_t *index_out)
{
    struct sim_node *n = &w->nodes[i];
    if (n->core == NULL || n->syncing)
        return CONSENSUS_ERR_NOT_LEADER;
    uint8_t payload[24];
    uint64_t id = ++w->payload_next;
    for (size_t k = 0; k < sizeof payload; k++)
        payload[k] = (uint8_t)(k < 8 ? id >> (8 * k) : sim_rng_next(&w->rng));
    uint64_t index = 0;
    int err = consensus_propose(n->core, payload, sizeof payload, &index);
    w->core_inputs++;
    if (err != 0)
        return err;
    if (w->prop_count == w->prop_cap) {
        w->prop_cap = w->prop_cap ? w->prop_cap * 2 : 256;
        w->props = realloc(w->props, w->prop_cap * sizeof *w->props);
        assert(w->props != NULL);
    }
    w->props[w->prop_count++] = (struct sim_proposal){
        .index = index, .payload_hash = sim_payload_hash(payload, sizeof payload),
        .node = i, .pending = true, .forward = SIM_NO_FORWARD,
        .wait = sim_client_wait_on(w, i, consensus_term(n->core))};
    if (index_out != NULL)
        *index_out = index;
    return 0;
}

int sim_world_read(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    if (n->core == NULL || n->syncing)
        return CONSENSUS_ERR_NO_LEADER;
    uint64_t floor = w->check.len;
    for (uint32_t k = 0; k < w->node_count; k++)
        if (w->nodes[k].core != NULL && consensus_commit_index(w->nodes[k].core) > floor)
            floor = consensus_commit_index(w->nodes[k].core);
    uint64_t ctx = ++w->read_ctx_next;
    int err = consensus_read_index(n->core, ctx);
    w->core_inputs++;
    if (err != 0)
        return err;
    if (w->read_count == w->read_cap) {
        w->read_cap = w->read_cap ? w->read_cap * 2 : 64;
        w->reads = realloc(w->reads, w->read_cap * sizeof *w->reads);
        assert(w->reads != NULL);
    }
    uint32_t leader = consensus_role(n->core) == CONSENSUS_LEADER ? i : consensus_leader(n->core);
    w->reads[w->read_count++] = (struct sim_read){
        .ctx = ctx, .floor = floor, .node = i,
        .wait = sim_client_wait_on(w, leader, consensus_term(n->core))};
    return 0;
}

void sim_world_compact(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    if (n->core == NULL || n->syncing || n->sm.applied <= n->disk.snap_index)
        return;
    uint64_t index = n->sm.applied;
    uint64_t term = consensus_term_at(n->core, index);
    assert(term != 0);
    sim_disk_compact(&n->disk, index, term, &n->sm, w->cfg.snapshot_catchup_entries);
    int err = consensus_compact(n->core, index, term);
    if (err != 0)
        sim_world_fail(w, "node %u compact at %llu: %s", i, (unsigned long long)index,
                       consensus_strerror(err));
    sim_trace_add(&w->trace, w->now, "node %u COMPACT at %llu/%llu", i,
                  (unsigned long long)index, (unsigned long long)term);
}

uint32_t sim_world_leader(const struct sim_world *w)
{
    uint32_t leader = CONSENSUS_NONE;
    uint64_t term = 0;
    for (uint32_t i = 0; i < w->node_count; i++) {
        const struct consensus_node *c = w->nodes[i].core;
        if (c != NULL && consensus_role(c) == CONSENSUS_LEADER && consensus_term(c) >= term) {
            leader = i;
            term = consensus_term(c);
        }
    }
    return leader;
}

bool sim_world_is_member(const struct sim_world *w, uint32_t node)
{
    uint32_t l = sim_world_leader(w);
    if (l == CONSENSUS_NONE)
        return true;
    return consensus_membership_find(consensus_membership(w->nodes[l].core), node) != NULL;
}

int sim_world_change(struct sim_world *w, uint32_t i, enum consensus_change_type type,
                     uint32_t id, uint64_t *index_out)
{
    struct sim_node *n = &w->nodes[i];
    if (n->core == NULL || n->syncing)
        return CONSENSUS_ERR_NOT_LEADER;
    char addr[32];
    snprintf(addr, sizeof addr, "sim:%u", consensus_membership(n->core)->next_id);
    struct consensus_change ch = {.type = type, .id = id, .addr = addr};
    bool add = type == CONSENSUS_CHANGE_ADD_VOTER || type == CONSENSUS_CHANGE_ADD_LEARNER;
    /* Ids are slots here: an add needs a spare node to host the id it allocates. */
    if (add && consensus_membership(n->core)->next_id >= w->node_count)
        return CONSENSUS_ERR_FULL;
    uint64_t index = 0;
    int err = consensus_propose_change(n->core, &ch, &index);
    w->core_inputs++;
    if (err != 0)
        return err;
    static const char *names[] = {"add voter", "add learner", "promote", "remove"};
    sim_trace_add(&w->trace, w->now, "node %u CHANGE %s %u at %llu", i, names[type], ch.id,
                  (unsigned long long)index);
    if (index_out != NULL)
        *index_out = index;
    return 0;
}

bool sim_world_converged(const struct sim_world *w)
{
    uint32_t l = sim_world_leader(w);
    if (l == CONSENSUS_NONE)
        return false;
    const struct consensus_node *lc = w->nodes[l].core;
    uint64_t last = consensus_last_index(lc);
    if (consensus_commit_index(lc) != last || consensus_term_at(lc, last) != consensus_term(lc))
        return false;
    for (uint32_t i = 0; i < w->node_count; i++) {
        const struct sim_node *n = &w->nodes[i];
        if (!sim_world_is_member(w, i))
            continue; /* removed, or never added: nothing is sent to it */
        if (n->core == NULL || n->syncing || n->sm.applied != last ||
            consensus_last_index(n->core) != last || consensus_term(n->core) != consensus_term(lc))
            return false;
    }
    return true;
}
