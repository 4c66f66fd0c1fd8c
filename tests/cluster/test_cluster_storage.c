/* test_cluster_storage.c: a node whose storage fails stops (fail-stop) and answers honestly:
   a proposal its core held may be in some log, so its outcome is unknown (TIMEOUT), while one
   it refused before the core took it is in no log; closing a node answers the same way. */
#include "cluster_fixture.h"
#include "sio.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <string.h>

struct outcomes {
    uint32_t done;
    uint32_t err[4];
};

static void on_done(void *ctx, int err, uint64_t index, uint32_t leader)
{
    struct outcomes *o = ctx;
    (void)index;
    (void)leader;
    cr_assert_lt(o->done, 4);
    o->err[o->done++] = (uint32_t)err;
}

static bool all_done(struct fixture *fx, void *arg)
{
    (void)fx;
    const struct outcomes *o = arg;
    return o->done == 4;
}

static bool failed(struct fixture *fx, void *arg)
{
    struct cluster_status st;
    cluster_status(fx->nodes[*(uint32_t *)arg].node, &st);
    return st.failed;
}

static bool new_leader_not(struct fixture *fx, void *arg)
{
    int l = fx_leader(fx);
    return l >= 0 && (uint32_t)l != *(uint32_t *)arg;
}

/* The leader's syncs fail: what it held comes back TIMEOUT, it refuses the rest (IO), says it
   failed, and the other two elect a leader and go on. */
Test(cluster_storage, a_failed_sync_stops_the_node_and_its_proposals_are_unknown, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "a_failed_sync_stops_the_node_and_its_proposals_are_unknown");
    struct sio_faults *faults[3];
    for (uint32_t i = 0; i < 3; i++) {
        faults[i] = sio_faults_new(sio_default());
        fx.nodes[i].io = sio_faults_io(faults[i]);
    }
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, leader, 10, 5000), 10);
    sio_faults_set(faults[leader], SIO_CALL_SYNC, 1, 0, EIO);
    struct outcomes o = {0};
    for (int i = 0; i < 3; i++)
        cluster_propose(fx.nodes[leader].node, "held", 4, on_done, &o);
    cr_assert(fx_wait(&fx, failed, &leader, 5000), "the node did not fail (seed %llu)",
              (unsigned long long)fx.seed);
    cluster_propose(fx.nodes[leader].node, "after", 5, on_done, &o);
    cr_assert(fx_wait(&fx, all_done, &o, 5000));
    /* Each held one either committed (a majority had it before the failure) or is unknown. */
    for (int i = 0; i < 3; i++)
        cr_assert(o.err[i] == 0 || o.err[i] == CLUSTER_ERR_TIMEOUT, "held proposal %d: %s", i,
                  cluster_strerror((int)o.err[i]));
    cr_assert_eq(o.err[3], CLUSTER_ERR_IO, "after the failure: %s",
                 cluster_strerror((int)o.err[3]));
    struct cluster_status st;
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(st.failure && strstr(st.failure, "log"), "%s", st.failure ? st.failure : "(null)");
    cr_assert(fx_wait(&fx, new_leader_not, &leader, 5000), "the others elected no leader");
    uint32_t next = (uint32_t)fx_leader(&fx);
    cr_assert_eq(fx_propose_n(&fx, next, 10, 5000), 10, "the other two stopped serving");
    fx_close(&fx, leader); /* a failed node closes too */
    fx_fini(&fx);
    for (uint32_t i = 0; i < 3; i++)
        sio_faults_free(faults[i]);
}

/* Closing (shutdown) answers a proposal the core holds with TIMEOUT, never a definite error. */
Test(cluster_storage, closing_answers_the_proposals_it_holds_as_unknown, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_BUS, 3, "closing_answers_the_proposals_it_holds_as_unknown");
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, leader, 5, 5000), 5);
    fx_isolate(&fx, leader, true); /* nothing it holds can commit */
    struct outcomes o = {0};
    for (int i = 0; i < 4; i++)
        cluster_propose(fx.nodes[leader].node, "held", 4, on_done, &o);
    event_base_loop(fx.base, EVLOOP_NONBLOCK);
    cr_assert_eq(o.done, 0);
    fx_close(&fx, leader);
    cr_assert_eq(o.done, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(o.err[i], CLUSTER_ERR_TIMEOUT, "proposal %d: %s", i,
                     cluster_strerror((int)o.err[i]));
    fx_fini(&fx);
}
