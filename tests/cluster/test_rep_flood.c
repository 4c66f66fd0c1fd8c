/* test_rep_flood.c: clients holding every connection a node allows must not starve the
   cluster (issue 14): with both followers flooded, SIGKILL the leader; a new leader must be
   elected within LEADER_BOUND_S while the flood goes on. Before the fix both followers stayed
   PRE_CANDIDATE for as long as the flood lasted: peers shared the client connection budget
   and were refused. */
#include "rep_fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
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

/* Kills the leader under the flood and waits for a new one among the flooded followers. */
static void kill_and_elect(struct rep *r, int leader, struct flood *f)
{
    rep_kill(r, leader);
    double killed = node_now();
    long before = atomic_load(&f->reopened);
    int elected = -1;
    while (elected < 0) {
        for (int k = 1; k < REP_NODES && elected < 0; k++) {
            int i = (leader + k) % REP_NODES;
            int l = rep_leader_seen_by(r, i);
            if (l >= 0 && l != leader && rep_leader_seen_by(r, l) == l)
                elected = l;
        }
        cr_assert_lt(node_now() - killed, LEADER_BOUND_S,
                     "no leader within %.1f s of the kill under the flood", LEADER_BOUND_S);
        usleep(20000);
    }
    printf("rep_flood: a leader %.0f ms after the kill; the flood reopened %ld sockets meanwhile\n",
           (node_now() - killed) * 1000, atomic_load(&f->reopened) - before);
    cr_assert_gt(atomic_load(&f->reopened), before, "the flood went on during the election");
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
