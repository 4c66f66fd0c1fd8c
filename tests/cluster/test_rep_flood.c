/* test_rep_flood.c: clients holding every connection a node allows must not starve the
   cluster (issue 14): with both followers flooded (idle sockets re-opened every 10 ms, or
   sockets each keeping a request in flight), SIGKILL the leader; a new leader must be
   elected within LEADER_BOUND_S while the flood goes on. Before the fix both followers stayed
   PRE_CANDIDATE for as long as the flood lasted: peers shared the client connection budget
   and were refused. The test watches the followers over connections that authenticated as a
   peer: a plain client would be starved by the flood like any other. */
#include "cluster_auth.h"
#include "rep_fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOD_MAX_CONNECTIONS 128   /* the nodes' limits.max_connections here */
#define FLOOD_SOCKETS 192           /* per flooded node: more than it takes */
#define FLOOD_ROUND_MS 10           /* freed slots are taken again this often */
/* The usual window: 10 election timeouts (400 ms here). An election takes one or two timeouts
   plus a pre-vote and a vote round; the rest is room for a loaded 2-core machine. */
#define LEADER_BOUND_S 4.0

struct flood {
    uint16_t ports[2];
    int fds[2][FLOOD_SOCKETS];
    bool busy;                     /* each socket keeps one request waiting */
    uint8_t request[256];          /* busy: the framed request each socket keeps sending */
    size_t request_len;
    atomic_bool stop;
    atomic_long reopened;          /* sockets the nodes closed and the flood opened again */
    pthread_t thread;
};

static int open_one(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    cr_assert(rc == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
    return fd;
}

/* A socket the node answered: closed (to be opened again), or (busy) its reply read and the
   next request sent. */
static void serve_one(struct flood *f, int *fd)
{
    uint8_t buf[4096];
    ssize_t n = recv(*fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 && f->busy && send(*fd, f->request, f->request_len, MSG_NOSIGNAL) > 0)
        return;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    close(*fd);
    *fd = -1;
}

static void *flood_run(void *arg)
{
    struct flood *f = arg;
    struct pollfd p[2 * FLOOD_SOCKETS];
    while (!atomic_load(&f->stop)) {
        for (int node = 0; node < 2; node++)
            for (int i = 0; i < FLOOD_SOCKETS; i++) {
                int *fd = &f->fds[node][i];
                if (*fd < 0) {
                    *fd = open_one(f->ports[node]);
                    atomic_fetch_add(&f->reopened, 1);
                    if (f->busy) /* queued until the connect completes */
                        (void)send(*fd, f->request, f->request_len, MSG_NOSIGNAL);
                }
                p[node * FLOOD_SOCKETS + i] = (struct pollfd){.fd = *fd, .events = POLLIN};
            }
        int ready = poll(p, 2 * FLOOD_SOCKETS, FLOOD_ROUND_MS);
        for (int k = 0; ready > 0 && k < 2 * FLOOD_SOCKETS; k++)
            if (p[k].revents)
                serve_one(f, &f->fds[k / FLOOD_SOCKETS][k % FLOOD_SOCKETS]);
    }
    for (int node = 0; node < 2; node++)
        for (int i = 0; i < FLOOD_SOCKETS; i++)
            if (f->fds[node][i] >= 0)
                close(f->fds[node][i]);
    return NULL;
}

/* Floods the two followers of leader; returns once the nodes turned sockets away (full). */
static void flood_start(struct flood *f, struct rep *r, int leader)
{
    for (int k = 0; k < 2; k++) {
        f->ports[k] = r->nodes[(leader + 1 + k) % REP_NODES].port;
        for (int i = 0; i < FLOOD_SOCKETS; i++)
            f->fds[k][i] = -1;
    }
    atomic_store(&f->stop, false);
    atomic_store(&f->reopened, 0);
    cr_assert_eq(pthread_create(&f->thread, NULL, flood_run, f), 0);
    double deadline = node_now() + REP_WAIT_S;
    while (atomic_load(&f->reopened) < 2 * FLOOD_SOCKETS + 4 * (FLOOD_SOCKETS - FLOOD_MAX_CONNECTIONS)) {
        cr_assert_lt(node_now(), deadline, "the flood never filled the nodes");
        usleep(10000);
    }
}

static void flood_stop(struct flood *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
}

/* A connection to node that authenticated as peer `as` (with the test cluster's secret), so
   the flood cannot push it out: the test's eyes on a node whose every client slot is taken.
   Retried until the handshake gets through the flood. */
static void observer_connect(struct rep *r, int node, int as, struct net_client *c)
{
    static const char secret_text[] = "test-cluster-secret-0123";   /* rep_fixture's */
    struct cluster_secret secret;
    cr_assert_eq(cluster_secret_set(&secret, secret_text, strlen(secret_text)), 0);
    char id[8];
    snprintf(id, sizeof id, "%d", as);
    double deadline = node_now() + LEADER_BOUND_S;
    for (int rc = -1; rc != 0;) {
        cr_assert_lt(node_now(), deadline, "no peer handshake with node %d through the flood",
                     node);
        PeerChallengeRequest q;
        PeerChallengeRequest_init(&q);
        tp_bytes_set_str(&q.node_id, id);
        TransactionalKV_peerChallenge_result ch;
        TransactionalKV_peerChallenge_result_init(&ch);
        PeerAuthRequest a;
        PeerAuthRequest_init(&a);
        TransactionalKV_peerAuthenticate_result au;
        TransactionalKV_peerAuthenticate_result_init(&au);
        uint8_t mac[CLUSTER_MAC_BYTES];
        rc = net_client_connect(c, r->nodes[node].addr, true, 2000) == NET_OK ? 0 : -1;
        if (rc == 0)
            rc = test_send(c, TEST_METHOD(peerChallenge), 1, &q, NULL);
        if (rc == 0)
            rc = test_recv(c, TEST_METHOD(peerChallenge), 1, &ch, NULL);
        if (rc == 0 && ch.has_success)
            rc = cluster_auth_mac(&secret, ch.success.nonce.data, ch.success.nonce.len,
                                  (uint32_t)as, mac) == 0 ? 0 : -1;
        tp_bytes_set_str(&a.node_id, id);
        tp_bytes_set(&a.nonce, ch.success.nonce.data, ch.success.nonce.len);
        tp_bytes_set(&a.mac, mac, sizeof mac);
        if (rc == 0)
            rc = test_send(c, TEST_METHOD(peerAuthenticate), 2, &a, NULL);
        if (rc == 0)
            rc = test_recv(c, TEST_METHOD(peerAuthenticate), 2, &au, NULL);
        if (rc == 0 && !(au.has_success && au.success.success))
            rc = -1;
        if (rc != 0)
            net_client_close(c);
        PeerChallengeRequest_free(&q);
        TransactionalKV_peerChallenge_result_free(&ch);
        PeerAuthRequest_free(&a);
        TransactionalKV_peerAuthenticate_result_free(&au);
    }
}

/* The leader node names over an observer connection (-1: none). */
static int leader_seen(struct net_client *c, int self)
{
    GetNodeInfoRequest q;
    GetNodeInfoRequest_init(&q);
    TransactionalKV_getNodeInfo_result res;
    struct test_call_error err;
    int rc = test_call(c, TEST_METHOD(getNodeInfo), 3, &q, &res, &err);
    cr_assert_eq(rc, 0, "the observer's connection held: %s", err.text);
    const NodeInfo *n = &res.success;
    int leader = n->has_leader_id && n->leader_id.data ? atoi((char *)n->leader_id.data) : -1;
    if (leader == self && n->status.role != NodeRole_LEADER)
        leader = -1;
    TransactionalKV_getNodeInfo_result_free(&res);
    return leader;
}

/* Kills the leader under the flood and waits for a new one among the flooded followers,
   watching them over connections that authenticated as the leader about to die. */
static void kill_and_elect(struct rep *r, int leader, struct flood *f)
{
    struct net_client eyes[2];
    for (int k = 0; k < 2; k++)
        observer_connect(r, (leader + 1 + k) % REP_NODES, leader, &eyes[k]);
    rep_kill(r, leader);
    double killed = node_now();
    long before = atomic_load(&f->reopened);
    int elected = -1;
    while (elected < 0) {
        int seen[2];
        for (int k = 0; k < 2; k++)
            seen[k] = leader_seen(&eyes[k], (leader + 1 + k) % REP_NODES);
        if (seen[0] >= 0 && seen[0] != leader && seen[0] == seen[1])
            elected = seen[0];
        cr_assert_lt(node_now() - killed, LEADER_BOUND_S,
                     "no leader within %.1f s of the kill under the flood", LEADER_BOUND_S);
        usleep(20000);
    }
    printf("rep_flood: a leader %.0f ms after the kill; the flood reopened %ld sockets meanwhile\n",
           (node_now() - killed) * 1000, atomic_load(&f->reopened) - before);
    cr_assert_gt(atomic_load(&f->reopened), before, "the flood went on during the election");
    for (int k = 0; k < 2; k++)
        net_client_close(&eyes[k]);
}

#define FLOOD_CONFIG                                                                   \
    "\"limits\": {\"max_connections\": 128, \"max_connections_per_address\": 0}"
_Static_assert(FLOOD_MAX_CONNECTIONS < FLOOD_SOCKETS, "the flood wants more than a node takes");

static struct flood flood;   /* big: not on the stack */

Test(rep_flood, idle_connections_on_both_followers_do_not_stop_an_election, .timeout = 120)
{
    struct rep r;
    rep_start(&r, FLOOD_CONFIG);
    int leader = rep_wait_leader(&r);
    flood.busy = false;
    flood_start(&flood, &r, leader);
    kill_and_elect(&r, leader, &flood);
    flood_stop(&flood);
    rep_cleanup(&r);
}

/* The flood's request: a snapshot read at a version far ahead, which waits on the node for
   the request timeout; the flood sends the next as soon as one is answered. */
static void busy_request(struct flood *f)
{
    SnapshotReadRequest q;
    SnapshotReadRequest_init(&q);
    tp_bytes_set_str(&q.key, "x");
    q.read_version = (int64_t)1 << 40;
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(TransactionalKV_snapshotRead_send(&b, 1, &q), 0);
    cr_assert_leq(4 + b.len, sizeof f->request);
    tp_frame_put_len(f->request, (uint32_t)b.len);
    memcpy(f->request + 4, b.data, b.len);
    f->request_len = 4 + b.len;
    tp_buf_free(&b);
    SnapshotReadRequest_free(&q);
}

/* Every connection busy with a request in flight: none is idle, so none makes room; a peer
   gets in through a reserved slot, which a client cannot keep. */
Test(rep_flood, busy_connections_on_both_followers_do_not_stop_an_election, .timeout = 120)
{
    struct rep r;
    rep_start(&r, FLOOD_CONFIG);
    int leader = rep_wait_leader(&r);
    flood.busy = true;
    busy_request(&flood);
    flood_start(&flood, &r, leader);
    kill_and_elect(&r, leader, &flood);
    flood_stop(&flood);
    rep_cleanup(&r);
}
