/* nemesis_cluster.c: faults that hit the cluster as a whole: a power cut of every node (what
   was not synced is lost), and a leader isolated while another one leads. */
#include "kvtorture.h"
#include "powercut.h"

#include <signal.h>
#include <stdio.h>

/* How long the others get to elect a leader without the one cut off. */
#define ELECT_WAIT_NS (10LL * 1000 * 1000 * 1000)
/* Room for the new leader to commit writes before the old one comes back. */
#define NEW_LEADER_HOLD_NS (1000LL * 1000 * 1000)
/* Before a power cut the followers' syncs take up to this much longer, for this long. */
#define SLOW_SYNC_US 20000
#define SLOW_HOLD_NS (500LL * 1000 * 1000)

/* Waits until a node other than `old` (-1: any node) leads; its index, or -1 after
   ELECT_WAIT_NS. */
static int wait_new_leader(struct kvt_run *run, int old)
{
    const struct kvt_cluster *c = run->cluster;
    for (int64_t deadline = kvt_now_ns() + ELECT_WAIT_NS; kvt_now_ns() < deadline;) {
        int leader = kvt_cluster_leader(c, run->o->timeout_ms);
        if (leader >= 0 && leader != old)
            return leader;
        if (!kvt_nemesis_hold(run, 50 * 1000 * 1000))
            return -1;
    }
    return -1;
}

/* Register workload: reads every key once through node via (linearizable) into the
   nemesis's log while the workers wait: a write the cut lost shows as a stale read before a
   new write can hide it. */
static void sweep(struct kvt_run *run, int via)
{
    if (run->o->workload != KVT_WORKLOAD_REGISTER || !run->nemesis_log.f)
        return;
    struct kvt_conn k;
    kvt_conn_init(&k, run->cluster, via, run->o->timeout_ms);
    uint32_t process = run->o->workers * (1 + KVT_ROTXN_READS_MAX), read = 0;
    for (uint32_t key = 0; key < run->o->keys; key++) {
        struct kvt_op op = {.process = process, .type = KVT_READ, .key = key};
        op.invoke_ns = kvt_now_ns();
        kvt_op_read(&k, &op);
        op.complete_ns = kvt_now_ns();
        op.version = op.outcome == KVT_OK && k.version > 0 ? k.version : 0;
        kvt_hlog_add(&run->nemesis_log, &op);
        read += op.outcome == KVT_OK;
    }
    kvt_conn_free(&k);
    printf("nemesis %7.2f s: power cut: read %u of %u keys through node %d\n", kvt_since_start(run),
           read, run->o->keys, via);
}

/* The followers' disks turn slow (the leader's stays fast) for a moment, so a node that
   acknowledges before its sync holds acknowledged writes only the leader made durable. */
static void slow_followers(struct kvt_run *run, int leader)
{
    const struct kvt_cluster *c = run->cluster;
    for (unsigned i = 0; i < c->count; i++)
        if (kvt_powercut_slow_disk(c->nodes[i].undo_dir, (int)i == leader ? 0 : SLOW_SYNC_US))
            fprintf(stderr, "kvtorture: nemesis: cannot slow node %u's disk\n", i);
    kvt_nemesis_hold(run, SLOW_HOLD_NS);
}

/* Every node loses power at once: killed, and what it wrote since its last fsync undone. The
   others restart first and elect; every key is read before the load resumes; the old leader
   comes back last, so an entry that only it held durably is lost for good. */
void kvt_nemesis_power_cut(struct kvt_run *run)
{
    struct kvt_cluster *c = run->cluster;
    int old = c->count > 1 ? kvt_cluster_leader(c, run->o->timeout_ms) : -1;
    if (old >= 0)
        slow_followers(run, old);
    atomic_store(&run->workers_hold, true);
    printf("nemesis %7.2f s: power cut: every node", kvt_since_start(run));
    printf(old >= 0 ? " (node %d led)\n" : "\n", old);
    for (unsigned i = 0; i < c->count; i++)
        if (c->nodes[i].pid > 0)
            kill(c->nodes[i].pid, SIGKILL);   /* all at once, then reaped */
    struct kvt_powercut_stats lost = {0};
    for (unsigned i = 0; i < c->count; i++) {
        kvt_node_kill(&c->nodes[i]);
        if (kvt_powercut_undo(c->nodes[i].data_dir, c->nodes[i].undo_dir, &lost, stderr) != 0)
        {
            fprintf(stderr, "kvtorture: nemesis: node %u: the power cut is not exact\n", i);
            run->faults_missed++;
        }
    }
    printf("nemesis %7.2f s: power cut: %llu bytes of unsynced writes lost in %u files\n",
           kvt_since_start(run), (unsigned long long)lost.bytes, lost.files);
    for (unsigned i = 0; i < c->count; i++)
        if ((int)i != old)
            kvt_nemesis_restart(run, i);
    int now = c->count == 1 ? 0 : wait_new_leader(run, old);
    if (now >= 0)
        sweep(run, now);
    atomic_store(&run->workers_hold, false);
    if (old < 0)
        return;
    printf("nemesis %7.2f s: power cut: node %d leads; node %d restarts\n", kvt_since_start(run), now,
           old);
    kvt_nemesis_hold(run, NEW_LEADER_HOLD_NS);
    kvt_nemesis_restart(run, (unsigned)old);
}

/* The leader is paused and cut off; once another node leads and has had time to commit, the
   old one resumes, still cut off, and takes itself for the leader until check-quorum tells it
   otherwise: reads sent to it then must not be answered from its stale state. */
void kvt_nemesis_isolate_leader(struct kvt_run *run)
{
    struct kvt_cluster *c = run->cluster;
    int old = kvt_cluster_leader(c, run->o->timeout_ms);
    if (old < 0) {
        printf("nemesis %7.2f s: isolate-leader: no leader known, skipped\n", kvt_since_start(run));
        return;
    }
    printf("nemesis %7.2f s: isolate-leader: node %d paused and cut off\n", kvt_since_start(run), old);
    kvt_node_pause(&c->nodes[old], true);
    if (kvt_partition_apply(c, KVT_PARTITION_ISOLATE, (unsigned)old) == 0) {
        int now = wait_new_leader(run, old);
        kvt_nemesis_hold(run, NEW_LEADER_HOLD_NS);
        printf("nemesis %7.2f s: isolate-leader: node %d leads; node %d resumes, still cut off\n",
               kvt_since_start(run), now, old);
        kvt_node_pause(&c->nodes[old], false);
        kvt_nemesis_hold(run, 2LL * c->election_timeout_ms * 1000000);
    }
    kvt_node_pause(&c->nodes[old], false);
    kvt_partition_heal(c);
}
