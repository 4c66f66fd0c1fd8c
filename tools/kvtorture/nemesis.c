/* nemesis.c: faults on a schedule (kill, pause, restart with a wiped data dir (in a cluster
   then removed and added again as a new member: nemesis_member.c, as is the membership fault),
   partition,
   nemesis_cluster.c's power cut and leader isolation, nemesis_disk.c's disk errors and full
   disk, nemesis_clock.c's wall clock stepped, nemesis_link.c's slow links),
   each healed before the next and before the run ends, rotating through the chosen kinds in
   a shuffled order per round; each one recorded for the summary. */
#include "kvtorture.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NEMESIS_TICK_NS (50 * 1000 * 1000)
#define NEMESIS_DOWN_NS (1500LL * 1000 * 1000)
/* Room left after the last fault heals, for the cluster to settle before the end. */
#define NEMESIS_SETTLE_NS (3000LL * 1000 * 1000)
/* A clock step, either way: from twice the default MVCC window (5 s) to two minutes, so a
   step forward expires every version a client still reads, and a step back holds the window
   for as long after the heal. */
#define NEMESIS_CLOCK_STEP_MIN_MS 10000
#define NEMESIS_CLOCK_STEP_MAX_MS 120000
/* A slow link: up to most of an election timeout (300 ms in config/) late, 1 - 16 Mbit/s. */
#define NEMESIS_LINK_DELAY_MIN_MS 10
#define NEMESIS_LINK_DELAY_MAX_MS 250
#define NEMESIS_LINK_RATE_MIN_KBPS 1000
#define NEMESIS_LINK_RATE_MAX_KBPS 16000

struct nemesis {
    struct kvt_run *run;
    uint64_t rng;
};

static double since_start(const struct kvt_run *run)
{
    return (double)(kvt_now_ns() - run->start_ns) / 1e9;
}

/* Sleeps ns in ticks, watching the nodes; false when the run is stopping. */
static bool hold(struct kvt_run *run, int64_t ns)
{
    for (int64_t until = kvt_now_ns() + ns; kvt_now_ns() < until;) {
        kvt_watch_poll(run->cluster);
        if (atomic_load(&kvt_stop))
            return false;
        struct timespec ts = {0, NEMESIS_TICK_NS};
        nanosleep(&ts, NULL);
    }
    return true;
}

bool kvt_nemesis_hold(struct kvt_run *run, int64_t ns)
{
    return hold(run, ns);
}

double kvt_since_start(const struct kvt_run *run)
{
    return since_start(run);
}

static unsigned pick_node(struct nemesis *n, const char **why)
{
    const struct kvt_cluster *c = n->run->cluster;
    *why = "random";
    if (c->count > 1 && kvt_rand(&n->rng) % 2 == 0) {
        int leader = kvt_cluster_leader(c, n->run->o->timeout_ms);
        if (leader >= 0) {
            *why = "leader";
            return (unsigned)leader;
        }
    }
    return (unsigned)(kvt_rand(&n->rng) % c->count);
}

static int64_t fault_length_ns(const struct kvt_run *run, enum kvt_fault f)
{
    if (f == KVT_FAULT_PAUSE || f == KVT_FAULT_DISK_ERROR || f == KVT_FAULT_DISK_FULL ||
        f == KVT_FAULT_CLOCK_JUMP)
        /* long enough for the others to elect without it */
        return 2LL * run->cluster->election_timeout_ms * 1000000 + 500000000;
    if (f == KVT_FAULT_PARTITION || f == KVT_FAULT_SLOW_LINK)
        /* an election, then requests outlive their timeouts */
        return 2LL * run->cluster->election_timeout_ms * 1000000 + 2500000000;
    if (f == KVT_FAULT_POWER && run->cluster->count == 1)   /* a restart */
        return NEMESIS_DOWN_NS;
    if (f == KVT_FAULT_POWER || f == KVT_FAULT_ISOLATE_LEADER)   /* restarts, an election */
        return 4LL * run->cluster->election_timeout_ms * 1000000 + 3000000000;
    if (f == KVT_FAULT_MEMBERSHIP)   /* removed, runs on removed, added, caught up, promoted */
        return 2LL * run->cluster->election_timeout_ms * 1000000 + NEMESIS_DOWN_NS;
    if (f == KVT_FAULT_WIPE && run->cluster->replicated)   /* the same after down and refused */
        return 2LL * run->cluster->election_timeout_ms * 1000000 + 2 * NEMESIS_DOWN_NS;
    return NEMESIS_DOWN_NS;
}

/* Adds a fault to the run's record (its end set at the heal); NULL when memory ran out. */
static struct kvt_fault_event *record(struct kvt_run *run, enum kvt_fault f, unsigned node)
{
    if (run->fault_count == run->fault_cap) {
        size_t cap = run->fault_cap ? run->fault_cap * 2 : 64;
        struct kvt_fault_event *e = realloc(run->faults, cap * sizeof *e);
        if (!e)
            return NULL;
        run->faults = e;
        run->fault_cap = cap;
    }
    struct kvt_fault_event *e = &run->faults[run->fault_count++];
    *e = (struct kvt_fault_event){.kind = f, .node = node, .start_ns = kvt_now_ns()};
    return e;
}

/* One node (random or the leader) cut off in one of the shapes, then every link healed. */
static void partition(struct nemesis *n, unsigned i, const char *why, struct kvt_fault_event *e)
{
    const struct kvt_cluster *c = n->run->cluster;
    enum kvt_partition p = (enum kvt_partition)(kvt_rand(&n->rng) % KVT_PARTITIONS);
    if (e)
        e->shape = (int)p;
    printf("nemesis %7.2f s: partition: node %u (%s) %s\n", since_start(n->run), i, why,
           kvt_partition_name(p));
    fflush(stdout);
    if (kvt_partition_apply(c, p, i) == 0)
        hold(n->run, fault_length_ns(n->run, KVT_FAULT_PARTITION));
    else
        n->run->faults_missed++;
    kvt_partition_heal(c);
}

/* A fault of the whole cluster (nemesis_cluster.c), recorded as one at node 0. */
static void apply_cluster(struct nemesis *n, enum kvt_fault f)
{
    struct kvt_fault_event *e = record(n->run, f, 0);
    if (f == KVT_FAULT_POWER)
        kvt_nemesis_power_cut(n->run);
    else
        kvt_nemesis_isolate_leader(n->run);
    if (e)
        e->end_ns = kvt_now_ns();
    printf("nemesis %7.2f s: healed\n", since_start(n->run));
    fflush(stdout);
}

/* Node i's wall clock stepped 10 s - 2 min either way, then true again. */
static void clock_jump(struct nemesis *n, unsigned i, const char *why, struct kvt_fault_event *e)
{
    struct kvt_run *run = n->run;
    int ms = NEMESIS_CLOCK_STEP_MIN_MS +
             (int)(kvt_rand(&n->rng) %
                   (NEMESIS_CLOCK_STEP_MAX_MS - NEMESIS_CLOCK_STEP_MIN_MS + 1));
    if (kvt_rand(&n->rng) % 2)
        ms = -ms;
    if (e)
        e->shape = ms;
    printf("nemesis %7.2f s: clock-jump node %u (%s): its wall clock %+.1f s\n",
           since_start(run), i, why, ms / 1e3);
    fflush(stdout);
    if (kvt_clock_jump_apply(run->cluster, i, ms, run->o->timeout_ms) == 0)
        hold(run, fault_length_ns(run, KVT_FAULT_CLOCK_JUMP));
    else
        run->faults_missed++;
    if (kvt_clock_jump_heal(run->cluster, i, run->o->timeout_ms) != 0)
        run->faults_missed++;   /* a clock left off would skew every later fault */
}

/* Node i's links to every peer, both ways, slowed and capped, then as they were. */
static void slow_link(struct nemesis *n, unsigned i, const char *why, struct kvt_fault_event *e)
{
    struct kvt_run *run = n->run;
    unsigned delay = NEMESIS_LINK_DELAY_MIN_MS +
                     (unsigned)(kvt_rand(&n->rng) %
                                (NEMESIS_LINK_DELAY_MAX_MS - NEMESIS_LINK_DELAY_MIN_MS + 1));
    unsigned rate = NEMESIS_LINK_RATE_MIN_KBPS +
                    (unsigned)(kvt_rand(&n->rng) %
                               (NEMESIS_LINK_RATE_MAX_KBPS - NEMESIS_LINK_RATE_MIN_KBPS + 1));
    if (e)
        e->shape = (int)delay;
    printf("nemesis %7.2f s: slow-link node %u (%s): its links %u ms late, %u kbit/s\n",
           since_start(run), i, why, delay, rate);
    fflush(stdout);
    if (kvt_slow_link_apply(run->cluster, i, delay, rate) == 0)
        hold(run, fault_length_ns(run, KVT_FAULT_SLOW_LINK));
    else
        run->faults_missed++;
    kvt_slow_link_heal(run->cluster);
}

static void apply(struct nemesis *n, enum kvt_fault f)
{
    if (f == KVT_FAULT_POWER || f == KVT_FAULT_ISOLATE_LEADER) {
        apply_cluster(n, f);
        return;
    }
    struct kvt_cluster *c = n->run->cluster;
    const char *why;
    unsigned i = pick_node(n, &why);
    struct kvt_node *node = &c->nodes[i];
    struct kvt_fault_event *e = record(n->run, f, i);
    if (f != KVT_FAULT_PARTITION && f != KVT_FAULT_CLOCK_JUMP && f != KVT_FAULT_SLOW_LINK)
        printf("nemesis %7.2f s: %s node %u (%s)\n", since_start(n->run), kvt_fault_name(f), i,
               why);
    fflush(stdout);
    if (f == KVT_FAULT_PARTITION) {
        partition(n, i, why, e);
    } else if (f == KVT_FAULT_CLOCK_JUMP) {
        clock_jump(n, i, why, e);
    } else if (f == KVT_FAULT_SLOW_LINK) {
        slow_link(n, i, why, e);
    } else if (f == KVT_FAULT_PAUSE) {
        kvt_node_pause(node, true);
        hold(n->run, fault_length_ns(n->run, f));
        kvt_node_pause(node, false);
    } else if (f == KVT_FAULT_MEMBERSHIP) {
        kvt_nemesis_membership(n->run, i);
    } else if (f == KVT_FAULT_WIPE && c->replicated) {
        kvt_nemesis_wipe(n->run, i);
    } else if (f == KVT_FAULT_DISK_ERROR || f == KVT_FAULT_DISK_FULL) {
        if (kvt_disk_fault_apply(c, i, f) == 0)
            hold(n->run, fault_length_ns(n->run, f));
        else
            n->run->faults_missed++;
        if (kvt_disk_fault_heal(c, i, n->run->o->timeout_ms) != 0)
            n->run->faults_missed++;
    } else {
        kvt_node_kill(node);
        if (f == KVT_FAULT_WIPE && kvt_node_wipe(node) != 0)
            fprintf(stderr, "kvtorture: nemesis: cannot wipe %s\n", node->data_dir);
        hold(n->run, fault_length_ns(n->run, f));
        kvt_nemesis_restart(n->run, i);
    }
    if (e)
        e->end_ns = kvt_now_ns();
    printf("nemesis %7.2f s: healed node %u\n", since_start(n->run), i);
    fflush(stdout);
}

/* The faults this run can inject; gaps are said once. */
static unsigned usable_faults(const struct kvt_run *run, enum kvt_fault *out)
{
    unsigned count = 0;
    for (int f = 0; f < KVT_FAULTS; f++) {
        if (!run->o->faults[f])
            continue;
        if ((f == KVT_FAULT_PARTITION || f == KVT_FAULT_ISOLATE_LEADER ||
             f == KVT_FAULT_SLOW_LINK || f == KVT_FAULT_MEMBERSHIP) &&
            !run->cluster->replicated)
            printf("nemesis: %s skipped: a single node has no links to cut, no members\n",
                   kvt_fault_name((enum kvt_fault)f));
        else if (f == KVT_FAULT_WIPE && run->cluster->count == 1)
            printf("nemesis: restart-wipe skipped: wiping the only node loses data by design\n");
        else
            out[count++] = (enum kvt_fault)f;
    }
    return count;
}

/* A node the nemesis stopped is started again; one that does not come back is a fault the
   run could not heal: it counts as missed, so the run can never say CLEAN. */
void kvt_nemesis_restart(struct kvt_run *run, unsigned i)
{
    if (kvt_node_start(run->cluster, i) == 0)
        return;
    fprintf(stderr, "kvtorture: nemesis: node %u did not come back\n", i);
    run->faults_missed++;
}

void kvt_nemesis_run(struct kvt_run *run)
{
    struct nemesis n = {.run = run, .rng = run->o->seed ^ 0x6e656d65736973ull};
    enum kvt_fault faults[KVT_FAULTS];
    unsigned count = usable_faults(run, faults);
    int64_t interval = (int64_t)(run->o->nemesis_interval_s * 1e9);
    unsigned next = count;
    while (count > 0 && hold(run, interval / 2 + (int64_t)(kvt_rand(&n.rng) % (uint64_t)interval))) {
        if (next == count) {   /* a new round: every kind once, in a fresh order */
            for (unsigned i = count; i > 1; i--) {
                unsigned j = (unsigned)(kvt_rand(&n.rng) % i);
                enum kvt_fault t = faults[i - 1];
                faults[i - 1] = faults[j], faults[j] = t;
            }
            next = 0;
        }
        enum kvt_fault f = faults[next++];
        if (kvt_now_ns() + fault_length_ns(run, f) + NEMESIS_SETTLE_NS > run->end_ns)
            break;
        apply(&n, f);
    }
    hold(run, run->end_ns - kvt_now_ns());
}

void kvt_nemesis_heal(struct kvt_run *run)
{
    struct kvt_cluster *c = run->cluster;
    if (c->replicated)
        kvt_partition_heal(c);
    for (unsigned i = 0; i < c->count; i++) {
        if (c->nodes[i].paused)
            kvt_node_pause(&c->nodes[i], false);
        if (c->nodes[i].pid <= 0)
            kvt_nemesis_restart(run, i);
    }
    if (run->o->faults[KVT_FAULT_MEMBERSHIP] || run->o->faults[KVT_FAULT_WIPE])
        kvt_nemesis_members_check(run);
}
