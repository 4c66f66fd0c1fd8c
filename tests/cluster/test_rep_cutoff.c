/* test_rep_cutoff.c: a failover as clients with calls in flight see it. The leader is cut off
   silently (its fault file: no connection resets).
   - 16 writers and 2 linearizable readers go through the two followers: no call waits longer
     than the new leader's election plus one round trip, every acknowledged write is there
     afterwards, and no write appears twice in the log (a write refused outright not at all).
   - 4 writers and 2 readers call the cut-off leader itself: each call it holds is answered
     when check-quorum steps it down, not at the request deadline; a write TIMEOUT (it is in
     the old leader's log, and may be in a follower's: the new leader may commit it, and in
     runs of this test did), a read refused (it changed nothing); later calls it refuses at
     once, and kvctl moves on to the others.
   - kvctl through the followers sets by the new leader's election plus one round trip. */
#include "rep_calls.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITERS 16
#define READERS 2
/* A call answered later than this after the event that frees it (the new leader's election,
   or the old leader's step-down, as the test sees it by polling) fails the test. One round
   trip, follower -> leader -> follower with the commit's fsyncs, takes about a millisecond
   on an idle machine; this allows for a loaded 2-core one. A call stranded on the cut-off
   leader used to wait for the whole request timeout (2,000 ms after it began; the election
   takes 400 - 900 ms of it). */
#define ROUND_TRIP_SLACK_S 0.75
/* consensus.request_timeout_ms in rep_fixture.c: a call answered this long after it began
   was answered at its deadline. */
#define REQUEST_TIMEOUT_S 2.0
/* How long the writers go on after the election. */
#define AFTER_S 1.0
/* The cut-off leader's own callers. */
#define LEADER_WRITERS 4
#define LEADER_READERS 2

static double later(double a, double b)
{
    return a > b ? a : b;
}

static int64_t term_of(struct rep *r, int node)
{
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    int64_t term = info.status.term;
    NodeInfo_free(&info);
    return term;
}

/* Starts count callers, the first `writers` of them writers, the rest linearizable readers;
   on the followers in turn, or all on the leader; returns once each has 20 calls done. */
static struct rep_caller *callers_start(struct rep *r, int old, int count, int writers,
                                        bool on_followers, atomic_bool *stop)
{
    struct rep_caller *cs = calloc((size_t)count, sizeof *cs);
    cr_assert(cs);
    for (int i = 0; i < count; i++) {
        int to = on_followers ? (old + 1 + i % 2) % REP_NODES : old;
        rep_caller_start(&cs[i], i, i >= writers, r->nodes[to].addr, r->nodes[old].addr, stop);
    }
    rep_callers_wait_ok(cs, count, 20);
    return cs;
}

/* Healed and converged: every acknowledged write is on every node, none twice in the log. */
static void callers_check_free(struct rep *r, int fresh, struct rep_caller *cs, int count)
{
    for (int n = 0; n < REP_NODES; n++)
        rep_check_acked_present(r, n, cs, count);
    rep_check_log(r, fresh, cs, count);
    for (int i = 0; i < count; i++)
        rep_caller_free(&cs[i]);
    free(cs);
}

/* Polls the followers until one says it leads in a term after old_term; the time it saw. */
static double wait_new_leader(struct rep *r, int old, int64_t old_term, int *leader)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        for (int k = 1; k < REP_NODES; k++) {
            int n = (old + k) % REP_NODES;
            NodeInfo info;
            if (rep_info(r, n, &info) != 0)
                continue;
            bool leads = info.status.role == NodeRole_LEADER && info.status.term > old_term;
            NodeInfo_free(&info);
            if (leads) {
                *leader = n;
                return node_now();
            }
        }
        cr_assert_lt(node_now(), deadline, "no new leader");
        usleep(5000);
    }
}

static bool leads(struct rep *r, int node)
{
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    bool yes = info.status.role == NodeRole_LEADER;
    NodeInfo_free(&info);
    return yes;
}

/* Polls node until it no longer says it leads; the time it saw. */
static double wait_stepped_down(struct rep *r, int node)
{
    double deadline = node_now() + REP_WAIT_S;
    while (leads(r, node)) {
        cr_assert_lt(node_now(), deadline, "the cut-off leader never stepped down");
        usleep(5000);
    }
    return node_now();
}

/* Every call answered after the cut ends by max(its start, the election) + one round trip. */
static void check_bound(const struct rep_caller *cs, double cut, double elected)
{
    int counts[CALL_OUTCOMES] = {0};
    double worst = -1e9, slowest = 0;
    for (int i = 0; i < WRITERS + READERS; i++)
        for (int k = 0; k < atomic_load(&cs[i].count); k++) {
            const struct rep_call *c = &cs[i].calls[k];
            if (c->end <= cut)
                continue;
            counts[c->outcome]++;
            double late = c->end - later(c->start, elected);
            worst = later(worst, late);
            slowest = later(slowest, c->end - c->start);
            cr_assert_leq(late, ROUND_TRIP_SLACK_S,
                          "caller %d call %d (%s, code %d) started %.0f ms after the cut and "
                          "ended %.0f ms after the election (which came %.0f ms after the cut)",
                          i, k, rep_outcome_names[c->outcome], c->code, (c->start - cut) * 1000,
                          late * 1000, (elected - cut) * 1000);
            cr_assert_neq(c->outcome, CALL_OTHER, "caller %d call %d: code %d", i, k, c->code);
            cr_assert(!c->hint_cut, "caller %d call %d: sent back to the cut-off leader (%s, "
                      "code %d)", i, k, rep_outcome_names[c->outcome], c->code);
            cr_assert(!cs[i].reads || c->outcome == CALL_OK, "reader %d call %d: %s, code %d",
                      i, k, rep_outcome_names[c->outcome], c->code);
        }
    printf("rep_cutoff: new leader seen %.0f ms after the cut; calls answered after the cut: "
           "%d ok, %d timeout, %d refused, %d lost; slowest %.0f ms; latest %.0f ms after "
           "max(start, election) (bound %.0f ms)\n",
           (elected - cut) * 1000, counts[CALL_OK], counts[CALL_TIMEOUT], counts[CALL_REFUSED],
           counts[CALL_LOST], slowest * 1000, worst * 1000, ROUND_TRIP_SLACK_S * 1000);
}

Test(rep_cutoff, a_leader_cut_off_under_16_writers_strands_no_write, .timeout = 170)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 0}");
    int old = rep_wait_leader(&r);
    int64_t old_term = term_of(&r, old);
    atomic_bool stop = false;
    struct rep_caller *cs = callers_start(&r, old, WRITERS + READERS, WRITERS, true, &stop);
    double cut = node_now();
    rep_isolate(&r, old);
    int fresh = -1;
    double elected = wait_new_leader(&r, old, old_term, &fresh);
    while (node_now() < elected + AFTER_S)
        usleep(10000);
    atomic_store(&stop, true);
    for (int i = 0; i < WRITERS + READERS; i++)
        rep_caller_join(&cs[i]);
    check_bound(cs, cut, elected);
    rep_faults(&r, old, "");
    rep_wait_converged(&r);
    callers_check_free(&r, fresh, cs, WRITERS + READERS);
    rep_cleanup(&r);
}

struct kvctl_run {
    char cmd[1024];
    char out[512];
    int rc;
    double end;
    pthread_t thread;
};

static void *kvctl_thread(void *arg)
{
    struct kvctl_run *k = arg;
    FILE *f = popen(k->cmd, "r");
    k->rc = -1;
    if (f) {
        size_t n = fread(k->out, 1, sizeof k->out - 1, f);
        k->out[n] = '\0';
        int status = pclose(f);
        k->rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    k->end = node_now();
    return NULL;
}

/* Each caller's last call is the one the cut-off leader held: answered by the step-down
   (as seen) plus one round trip, and well before its deadline; a write TIMEOUT, a read
   refused, neither naming the cut-off node as the leader to retry at. */
static void check_held(const struct rep_caller *cs, int count, double held, double stepped)
{
    double worst = -1e9;
    for (int i = 0; i < count; i++) {
        int n = atomic_load(&cs[i].count);
        cr_assert_gt(n, 0);
        const struct rep_call *c = &cs[i].calls[n - 1];
        cr_assert(c->start < held && c->end > held, "caller %d had no call held at the cut", i);
        worst = later(worst, c->end - stepped);
        cr_assert_leq(c->end - stepped, ROUND_TRIP_SLACK_S,
                      "caller %d (%s, code %d) was answered %.0f ms after the step-down", i,
                      rep_outcome_names[c->outcome], c->code, (c->end - stepped) * 1000);
        cr_assert_lt(c->end - c->start, REQUEST_TIMEOUT_S,
                     "caller %d was answered at its deadline, not at the step-down", i);
        if (cs[i].reads)
            cr_assert(c->outcome == CALL_REFUSED, "reader %d: %s, code %d", i,
                      rep_outcome_names[c->outcome], c->code);
        else
            cr_assert(c->outcome == CALL_TIMEOUT, "writer %d: %s, code %d", i,
                      rep_outcome_names[c->outcome], c->code);
        cr_assert(!c->hint_cut, "caller %d was sent back to the node that failed it", i);
    }
    printf("rep_cutoff: the cut-off leader stepped down %.0f ms after the cut took hold (as "
           "seen); its %d held calls answered at most %.0f ms after that (bound %.0f ms)\n",
           (stepped - held) * 1000, count, worst * 1000, ROUND_TRIP_SLACK_S * 1000);
}

/* The deposed leader, still cut off, refuses new calls at once (it would wait for a leader
   until their deadline), and kvctl with it as the first endpoint moves on to the others. */
static void check_refused_at_once(struct rep *r, int old)
{
    double t0 = node_now();
    SetResponse s;
    cr_assert_eq(rep_set(r, old, "after-cut", "1", &s), 0);
    cr_assert(!s.success && s.has_error_code && s.error_code == ErrorCode_UNAVAILABLE);
    SetResponse_free(&s);
    GetResponse g;
    cr_assert_eq(rep_get(r, old, "after-cut", true, &g), 0);
    cr_assert(!g.success && g.has_error_code && g.error_code == ErrorCode_UNAVAILABLE);
    GetResponse_free(&g);
    double direct = node_now() - t0;
    cr_assert(node_log_contains(&r->nodes[old], "stepped down as leader in term"),
              "the deposed leader's log (%s) does not say why it refuses", r->nodes[old].log);
    cr_assert_leq(direct, ROUND_TRIP_SLACK_S, "a set and a get on the deposed leader took "
                  "%.0f ms", direct * 1000);
    const char *bin = getenv("KVCTL");
    cr_assert(bin, "KVCTL must name the built kvctl");
    struct kvctl_run k = {0};
    snprintf(k.cmd, sizeof k.cmd, "%s -e %s,%s,%s set after-cut 2 2>&1", bin, r->nodes[old].addr,
             r->nodes[(old + 1) % REP_NODES].addr, r->nodes[(old + 2) % REP_NODES].addr);
    double t1 = node_now();
    kvctl_thread(&k);
    cr_assert_eq(k.rc, 0, "kvctl: %s", k.out);
    cr_assert_leq(k.end - t1, ROUND_TRIP_SLACK_S, "kvctl -e CUT,F1,F2 took %.0f ms",
                  (k.end - t1) * 1000);
    printf("rep_cutoff: the deposed leader refused a set and a get in %.0f ms; kvctl with it "
           "first set in %.0f ms (bound %.0f ms)\n", direct * 1000, (k.end - t1) * 1000,
           ROUND_TRIP_SLACK_S * 1000);
}

Test(rep_cutoff, a_leader_cut_off_answers_the_calls_it_held_when_it_steps_down, .timeout = 120)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 0}");
    int old = rep_wait_leader(&r);
    int64_t old_term = term_of(&r, old);
    atomic_bool stop = false;
    enum { CALLERS = LEADER_WRITERS + LEADER_READERS };
    struct rep_caller *cs = callers_start(&r, old, CALLERS, LEADER_WRITERS, false, &stop);
    double cut = node_now();
    rep_isolate(&r, old);
    rep_wait_cut(&r, old); /* from here no call to it can complete until it steps down */
    double held = node_now();
    atomic_store(&stop, true); /* each caller ends with the call it is held in */
    /* Check-quorum steps it down 400 - 800 ms after the cut; the cut held after 200 ms. */
    cr_assert(leads(&r, old), "the cut-off leader stepped down before the test saw the cut "
              "hold (%.0f ms after the cut): it cannot tell held calls from later ones",
              (held - cut) * 1000);
    double stepped = wait_stepped_down(&r, old);
    for (int i = 0; i < CALLERS; i++)
        rep_caller_join(&cs[i]);
    check_held(cs, CALLERS, held, stepped);
    int fresh = -1;
    wait_new_leader(&r, old, old_term, &fresh);
    check_refused_at_once(&r, old);
    rep_faults(&r, old, "");
    rep_wait_converged(&r);
    GetResponse g; /* healed, it hears of the leader and serves again */
    cr_assert_eq(rep_get(&r, old, "after-cut", true, &g), 0);
    cr_assert(g.success && g.found && g.value.len == 1 && g.value.data[0] == '2',
              "code %d", g.has_error_code ? (int)g.error_code : -1);
    GetResponse_free(&g);
    callers_check_free(&r, fresh, cs, CALLERS);
    rep_cleanup(&r);
}

/* The issue's own case: `kvctl -e FOLLOWER1,FOLLOWER2 set` at once after the leader was cut
   off took 2,117 - 2,124 ms (the forwarded write held for the request timeout, then kvctl's
   retry), although a new leader existed after about 400 ms. Now it is done by the election
   plus one round trip. */
Test(rep_cutoff, kvctl_through_the_followers_sets_by_the_new_leaders_election, .timeout = 60)
{
    struct rep r;
    rep_start(&r, "");
    int old = rep_wait_leader(&r);
    int64_t old_term = term_of(&r, old);
    const char *bin = getenv("KVCTL");
    cr_assert(bin, "KVCTL must name the built kvctl");
    struct kvctl_run k = {0};
    snprintf(k.cmd, sizeof k.cmd, "%s -e %s,%s set cut-key x 2>&1", bin,
             r.nodes[(old + 1) % REP_NODES].addr, r.nodes[(old + 2) % REP_NODES].addr);
    rep_isolate(&r, old);
    rep_wait_cut(&r, old); /* a write forwarded to it now is lost on the way */
    double start = node_now();
    cr_assert_eq(pthread_create(&k.thread, NULL, kvctl_thread, &k), 0);
    int fresh = -1;
    double elected = wait_new_leader(&r, old, old_term, &fresh);
    pthread_join(k.thread, NULL);
    cr_assert_eq(k.rc, 0, "kvctl: %s", k.out);
    printf("rep_cutoff: kvctl set through the followers took %.0f ms, %.0f ms after the new "
           "leader was seen (bound %.0f ms)\n", (k.end - start) * 1000,
           (k.end - later(start, elected)) * 1000, ROUND_TRIP_SLACK_S * 1000);
    cr_assert_leq(k.end - later(start, elected), ROUND_TRIP_SLACK_S,
                  "kvctl took %.0f ms; the new leader was seen %.0f ms after it began",
                  (k.end - start) * 1000, (elected - start) * 1000);
    GetResponse g;
    cr_assert_eq(rep_get(&r, fresh, "cut-key", true, &g), 0);
    cr_assert(g.success && g.found && g.value.len == 1 && g.value.data[0] == 'x');
    GetResponse_free(&g);
    rep_cleanup(&r);
}
