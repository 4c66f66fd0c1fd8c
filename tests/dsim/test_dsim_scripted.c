/* test_dsim_scripted.c: named scenarios of the real driver in the simulator, each set up step by
   step (quiet links, no random faults) to reach one path, and checked for what it guards. */
#include <criterion/criterion.h>

#include "crc32c.h"
#include "dsim.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static struct dsim_world w;

/* A quiet world of n nodes: links of 1 - 2 ms, disks that never fail, no chaos. */
static void world(uint32_t n, uint64_t seed, bool background_sync, uint32_t pipeline_max)
{
    log_set_level((enum log_level)(LOG_ERROR + 1));
    struct dsim_config cfg = {.nodes = n, .chaos_ms = 0, .heal_ms_max = 20000,
                              .background_sync = background_sync, .pipeline_max = pipeline_max};
    dsim_world_init(&w, seed, &cfg);
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = 0; b < n; b++)
            w.links[a][b] = (struct dsim_link){.delay_min = 1, .delay_max = 2};
}

static void ok(void)
{
    cr_assert(!w.failed, "seed %llu: %s", (unsigned long long)w.seed, w.failure);
}

/* Runs until a leader is elected (at most 2 s). */
static uint32_t elect(void)
{
    for (uint32_t t = 0; t < 200 && dsim_leader(&w) == CONSENSUS_NONE && !w.failed; t++)
        dsim_world_run(&w, w.now + 10);
    ok();
    cr_assert_neq(dsim_leader(&w), CONSENSUS_NONE, "no leader in 2 s");
    return dsim_leader(&w);
}

static size_t acked(void)
{
    size_t k = 0;
    for (size_t i = 0; i < w.op_count; i++)
        k += w.ops[i]->done && w.ops[i]->err == 0;
    return k;
}

/*
 * A node serves one call per peer connection at a time, so every reply it sends lets the
 * peer's next buffered call in, from inside the send (net_conn_progress -> conn_process_input).
 * Before f385ca6 the core's answers were sent inside the ready batch, and the call they let in
 * reached cluster_node_handle between ready and advance: assert(!n->in_ready) aborted the node
 * (ci-runs seed 662160). Both ways of syncing; every write is acknowledged.
 */
Test(dsim_scripted, a_call_let_in_by_a_reply_never_steps_the_core_inside_a_batch)
{
    for (int bg = 0; bg < 2; bg++) {
        world(3, 7 + (uint64_t)bg, bg, 1);
        uint32_t l = elect();
        for (uint32_t k = 0; k < 200 && !w.failed; k++) {
            for (uint32_t j = 0; j < 3; j++)
                dsim_propose(&w, l, k % DSIM_KEYS);
            dsim_world_run(&w, w.now + 1);
        }
        dsim_world_run(&w, w.now + 500);
        ok();
        cr_assert_gt(w.stats.let_in, 100, "replies let in %llu calls",
                     (unsigned long long)w.stats.let_in);
        cr_assert_eq(acked(), 600, "%zu of 600 writes acknowledged", acked());
        dsim_world_free(&w);
    }
}

/*
 * The same re-entry from the server's side: a leader answers a forwarded write from apply,
 * inside the ready batch, and the answer frees the follower's connection for the call it
 * buffered behind the write (here a read index request). The call is held, with its own copy
 * of the request, and stepped right after the batch's advance (cluster_held.c): without that,
 * assert(!n->in_ready) in cluster_node_handle aborts the leader.
 */
Test(dsim_scripted, a_call_let_in_by_a_forwarded_writes_answer_waits_for_the_advance)
{
    for (int bg = 0; bg < 2; bg++) {
        world(3, 11 + (uint64_t)bg, bg, 1);
        uint32_t l = elect();
        uint32_t f = (l + 1) % 3;
        dsim_world_run(&w, w.now + 50);
        uint64_t held = w.nodes[l].node->held_total;
        struct dsim_op *fwd = dsim_forward(&w, f, l, 1);
        cr_assert_not_null(fwd);
        dsim_read(&w, f);
        struct dsim_op *read = w.ops[w.op_count - 1];
        dsim_world_run(&w, w.now + 100);
        ok();
        cr_assert(fwd->done && fwd->err == 0, "the forwarded write: %s",
                  fwd->done ? cluster_strerror(fwd->err) : "not answered");
        cr_assert(read->done && read->err == 0, "the read: %s",
                  read->done ? cluster_strerror(read->err) : "not answered");
        cr_assert_geq(read->index, fwd->index, "the read missed the write before it");
        cr_assert_eq(w.nodes[l].node->held_total, held + 1,
                     "the read index call was not let in inside the batch");
        dsim_world_free(&w);
    }
}

static void on_done(void *ctx, int err)
{
    *(int *)ctx = err;
}

/* Hands node `to` a peer call as if a reply its batch sent had let it in (in_ready). */
static void handle_inside_a_batch(struct cluster_node *n, uint32_t from, int method,
                                  const void *request, void *response, int *answered)
{
    uint64_t held = n->held_total;
    n->in_ready = true;
    int rc = cluster_node_handle(n, from, method, request, response, on_done, answered);
    n->in_ready = false;
    cr_assert_eq(rc, 0, "%s", cluster_strerror(rc));
    cr_assert_eq(*answered, -1, "answered inside the batch");
    cr_assert_eq(n->held_total, held + 1, "not held");
}

/* The caller frees its request once cluster_node_handle returns: a held call keeps its own
   copy, the snapshot chunk's bytes (which the install checks) and the entries' payloads. */
Test(dsim_scripted, a_held_call_keeps_its_own_copy_of_the_request)
{
    world(3, 21, false, 0);
    uint32_t l = elect(), f = (l + 1) % 3;
    dsim_node_crash(&w, f);
    for (uint32_t k = 0; k < 80; k++) {
        dsim_propose(&w, l, k % DSIM_KEYS);
        dsim_world_run(&w, w.now + 2);
    }
    dsim_world_run(&w, w.now + 100);
    ok();
    const struct dsim_blob *b = w.nodes[l].snap;
    cr_assert(b && b->index > 0, "the leader took no snapshot");
    dsim_node_start(&w, f);
    struct cluster_node *n = w.nodes[f].node;
    uint64_t term = consensus_term(w.nodes[l].node->core);

    char id[4];
    snprintf(id, sizeof id, "%u", l);
    InstallSnapshotRequest snap;
    InstallSnapshotRequest_init(&snap);
    tp_bytes_set_str(&snap.leader_id, id);
    snap = (InstallSnapshotRequest){.leader_id = snap.leader_id, .leader_term = (int64_t)term,
                                    .last_included_index = (int64_t)b->index,
                                    .last_included_term = (int64_t)b->term, .done = true,
                                    .has_total_size = true, .total_size = (int64_t)b->len,
                                    .has_crc32c = true,
                                    .crc32c = (int32_t)crc32c_extend(0, b->data, b->len)};
    cr_assert_eq(tp_bytes_set(&snap.data, b->data, b->len), 0);
    InstallSnapshotResponse snap_resp;
    InstallSnapshotResponse_init(&snap_resp);
    int answered = -1;
    handle_inside_a_batch(n, l, TransactionalKV_METHOD_installSnapshot, &snap, &snap_resp,
                          &answered);
    memset(snap.data.data, 0xee, snap.data.len);
    InstallSnapshotRequest_free(&snap);
    cluster_io_turn(n);
    ok();
    cr_assert_eq(answered, 0, "%s", cluster_strerror(answered));
    cr_assert(snap_resp.success);
    cr_assert_eq(w.nodes[f].installs, 1);
    cr_assert_eq(w.nodes[f].sm.applied, b->index);
    InstallSnapshotResponse_free(&snap_resp);

    uint8_t want[2][16] = {"held entry one", "held entry two"};
    struct consensus_entry ents[2] = {
        {.index = b->index + 1, .term = term, .len = 16, .data = want[0]},
        {.index = b->index + 2, .term = term, .len = 16, .data = want[1]}};
    struct consensus_msg m = {.type = CONSENSUS_MSG_APPEND, .from = l, .to = f, .term = term,
                              .prev_index = b->index, .prev_term = b->term, .entries = ents,
                              .entry_count = 2, .commit = b->index};
    union cluster_wire_request req;
    int method = -1;
    cr_assert_eq(cluster_wire_request_out(&m, &method, &req), 0);
    AppendEntryResponse resp;
    AppendEntryResponse_init(&resp);
    answered = -1;
    handle_inside_a_batch(n, l, method, &req, &resp, &answered);
    uint8_t sent[2][16];
    memcpy(sent, want, sizeof sent);
    memset(want, 0xee, sizeof want); /* wherever the request's bytes live */
    if (req.append.has_entry)
        memset(req.append.entry.data.data, 0xee, req.append.entry.data.len);
    for (uint32_t i = 0; req.append.has_entries && i < req.append.entries.count; i++)
        memset(req.append.entries.items[i].data.data, 0xee, req.append.entries.items[i].data.len);
    cluster_wire_request_release(method, &req);
    cluster_io_turn(n);
    ok();
    cr_assert_eq(answered, 0, "%s", cluster_strerror(answered));
    cr_assert(resp.success);
    const struct dsim_disk *d = &w.nodes[f].disk;
    cr_assert_eq(d->start_index + d->count, b->index + 2);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(memcmp(d->ents[d->count - 2 + (size_t)i].data, sent[i], 16), 0,
                     "entry %d is not what was sent", i);
    AppendEntryResponse_free(&resp);
    dsim_world_free(&w); /* not run on: those entries are not the leader's */
}

static void cut_off(uint32_t node, bool cut)
{
    for (uint32_t b = 0; b < w.cfg.nodes; b++)
        if (b != node)
            w.links[node][b].cut = w.links[b][node].cut = cut;
}

/*
 * §10.2.1: a leader writes its log in parallel with replicating it, but counts itself toward a
 * majority only for what is durable here: with background syncs, what the sync's end reports
 * (cluster_io_synced). One follower cut off, the other's durable acknowledgement and the
 * leader's unsynced write are no majority; the held sync's end commits and applies it.
 */
Test(dsim_scripted, a_follower_ack_and_the_leaders_unsynced_write_are_no_majority)
{
    world(3, 31, true, 0);
    uint32_t l = elect(), f = (l + 1) % 3;
    dsim_world_run(&w, w.now + 50);
    cut_off((l + 2) % 3, true);
    dsim_hold_syncs(&w, l, true);
    struct dsim_op *op = dsim_propose(&w, l, 3);
    const struct consensus_node *core = w.nodes[l].node->core;
    uint64_t index = consensus_last_index(core);
    dsim_world_run(&w, w.now + 100);
    ok();
    cr_assert_eq(consensus_role(core), CONSENSUS_LEADER);
    cr_assert_eq(consensus_match_index(core, f), index, "the follower acknowledged it");
    cr_assert_lt(consensus_match_index(core, l), index, "counted its own unsynced write");
    cr_assert_lt(consensus_commit_index(core), index, "committed on one durable copy");
    cr_assert(!op->done, "answered before a majority had it durably");
    cr_assert(w.nodes[l].sync_parked, "no background sync waits");
    dsim_hold_syncs(&w, l, false);
    dsim_world_run(&w, w.now + 5);
    ok();
    cr_assert_eq(consensus_commit_index(core), index);
    cr_assert(op->done && op->err == 0 && op->index == index);
    cr_assert_eq(w.nodes[l].sm.applied, index);
    cut_off((l + 2) % 3, false);
    dsim_world_free(&w);
}

/* A leader cut off keeps its uncommitted proposals until check-quorum deposes it (within two
   election timeouts), then answers them all at once (cluster_proposals_stranded): their
   outcome is unknown, so never OK. */
Test(dsim_scripted, a_cut_off_leader_answers_its_proposals_when_it_steps_down)
{
    world(3, 41, false, 0);
    uint32_t l = elect();
    dsim_world_run(&w, w.now + 50);
    cut_off(l, true);
    struct dsim_op *ops[3];
    for (int i = 0; i < 3; i++)
        ops[i] = dsim_propose(&w, l, (uint32_t)i);
    const struct consensus_node *core = w.nodes[l].node->core;
    uint64_t from = w.now;
    while (consensus_role(core) == CONSENSUS_LEADER && w.now - from <= 2 * 200 + 20) {
        for (int i = 0; i < 3; i++)
            cr_assert(!ops[i]->done, "answered while still leading (%s)",
                      cluster_strerror(ops[i]->err));
        dsim_world_run(&w, w.now + 1);
        ok();
    }
    cr_assert_neq(consensus_role(core), CONSENSUS_LEADER, "not deposed in two election timeouts");
    for (int i = 0; i < 3; i++) {
        cr_assert(ops[i]->done, "stepped down and still holds proposal %d", i);
        cr_assert_neq(ops[i]->err, 0, "answered OK without a majority");
    }
    cut_off(l, false);
    dsim_world_free(&w);
}

/* The leader compacts past follower f while it is down (each snapshot `chunks` chunks), then f
   comes back: it must be sent the snapshot. Returns f. */
static uint32_t leave_behind(uint64_t seed, uint32_t chunks, uint32_t *leader)
{
    world(3, seed, false, 0);
    w.snap_pad = (chunks - 1) * CLUSTER_SNAPSHOT_CHUNK_BYTES;
    uint32_t l = elect(), f = (l + 1) % 3;
    dsim_node_crash(&w, f);
    uint64_t behind = w.nodes[f].disk.start_index + w.nodes[f].disk.count;
    for (uint32_t k = 0; k < 200 && consensus_first_index(w.nodes[l].node->core) <= behind + 1;
         k++) {
        dsim_propose(&w, l, k % DSIM_KEYS);
        dsim_world_run(&w, w.now + 2);
    }
    dsim_world_run(&w, w.now + 50);
    ok();
    cr_assert_gt(consensus_first_index(w.nodes[l].node->core), behind + 1, "no compaction");
    *leader = l;
    return f;
}

static void run_until_installed(uint32_t f, uint64_t installs, uint32_t max_ms)
{
    for (uint32_t t = 0; t < max_ms / 10 && w.nodes[f].installs == installs && !w.failed; t++)
        dsim_world_run(&w, w.now + 10);
    ok();
    cr_assert_eq(w.nodes[f].installs, installs + 1, "no snapshot installed in %u ms", max_ms);
}

/*
 * A chunk lost on the way: the follower refuses the chunks after the gap, saying how far it
 * holds, and the leader sends again from there (cluster_snap_out.c resend_from), not from the
 * start: 4 chunks, then the 3 after the first, 7 calls in all.
 */
Test(dsim_scripted, a_lost_chunk_is_sent_again_from_what_the_follower_holds)
{
    uint32_t l, f = leave_behind(51, 4, &l);
    w.links[l][f].delay_max = w.links[f][l].delay_max = 1; /* in order, as on one connection */
    uint64_t term = consensus_term(w.nodes[l].node->core);
    uint64_t calls = w.stats.calls_of[TransactionalKV_METHOD_installSnapshot];
    uint32_t r = dsim_rule_add(&w, l, f, TransactionalKV_METHOD_installSnapshot, false, DSIM_DROP,
                               1, 1);
    dsim_node_start(&w, f);
    run_until_installed(f, 0, 5000);
    cr_assert_eq(w.rules[r].caught, 1, "the second chunk was not dropped");
    cr_assert_eq(w.stats.calls_of[TransactionalKV_METHOD_installSnapshot] - calls, 7,
                 "%llu chunks sent for 4 and a gap after the first",
                 (unsigned long long)(w.stats.calls_of[TransactionalKV_METHOD_installSnapshot] -
                                      calls));
    cr_assert_eq(consensus_term(w.nodes[l].node->core), term, "an election meanwhile");
    dsim_world_run(&w, w.now + 100);
    ok();
    dsim_world_free(&w);
}

/*
 * Every chunk held for a second (five election timeouts: a stalled stream), then the stream
 * breaks and they are lost (first run) or arrive late (second run): the leader's calls time
 * out and it sends again from what was acknowledged, so the follower installs the snapshot,
 * once, with no election meanwhile (the leader's heartbeats still reach it).
 */
Test(dsim_scripted, a_stalled_transfer_resumes_and_installs_once)
{
    for (int late = 0; late < 2; late++) {
        uint32_t l, f = leave_behind(52 + (uint64_t)late, 4, &l);
        uint64_t term = consensus_term(w.nodes[l].node->core);
        uint32_t r = dsim_rule_add(&w, l, f, TransactionalKV_METHOD_installSnapshot, false,
                                   DSIM_HOLD, 0, UINT32_MAX);
        dsim_node_start(&w, f);
        dsim_world_run(&w, w.now + 1000);
        ok();
        cr_assert_eq(w.nodes[f].installs, 0);
        cr_assert_geq(w.rules[r].caught, 4, "%u chunks held", w.rules[r].caught);
        dsim_rule_end(&w, r);
        cr_assert_eq(dsim_rule_release(&w, r, late), w.rules[r].caught);
        run_until_installed(f, 0, 5000);
        dsim_world_run(&w, w.now + 1000);
        ok();
        cr_assert_eq(w.nodes[f].installs, 1, "installed again");
        cr_assert_eq(consensus_term(w.nodes[l].node->core), term, "an election meanwhile");
        cr_assert_eq(w.nodes[f].sm.digest, w.nodes[l].sm.digest);
        dsim_world_free(&w);
    }
}

/* The leader dies mid-transfer: the next leader (its own term, its own snapshot or its log's
   tail) catches the follower up, which drops the partial snapshot for it; one install at most,
   and the states agree. */
Test(dsim_scripted, a_new_leader_mid_transfer_catches_the_follower_up)
{
    uint32_t l, f = leave_behind(62, 8, &l);
    w.links[l][f] = (struct dsim_link){.delay_min = 1, .delay_max = 1, .rate_kbps = 20000};
    uint64_t calls = w.stats.calls_of[TransactionalKV_METHOD_installSnapshot];
    dsim_node_start(&w, f);
    while (w.stats.calls_of[TransactionalKV_METHOD_installSnapshot] - calls < 3 && !w.failed)
        dsim_world_run(&w, w.now + 1);
    dsim_world_run(&w, w.now + 150); /* a chunk or two in */
    ok();
    cr_assert_eq(w.nodes[f].installs, 0, "the transfer was not under way");
    dsim_node_crash(&w, l);
    uint32_t nl = CONSENSUS_NONE;
    for (uint32_t t = 0; t < 300 && (nl = dsim_leader(&w)) == CONSENSUS_NONE && !w.failed; t++)
        dsim_world_run(&w, w.now + 10);
    ok();
    cr_assert_eq(nl, (l + 2) % 3, "node %d leads, not the one holding the whole log", (int)nl);
    const struct cluster_node *ln = w.nodes[nl].node;
    for (uint32_t t = 0; t < 500 && w.nodes[f].sm.applied < consensus_commit_index(ln->core) &&
                         !w.failed; t++)
        dsim_world_run(&w, w.now + 10);
    ok();
    cr_assert_eq(w.nodes[f].sm.applied, consensus_commit_index(ln->core), "not caught up in 5 s");
    cr_assert_leq(w.nodes[f].installs, 1, "%llu installs", (unsigned long long)w.nodes[f].installs);
    cr_assert_eq(w.nodes[f].sm.digest, w.nodes[nl].sm.digest);
    dsim_node_start(&w, l);
    dsim_world_run(&w, w.now + 1000);
    ok();
    cr_assert_eq(w.nodes[l].sm.digest, w.nodes[nl].sm.digest);
    dsim_world_free(&w);
}
