/* test_cluster_tcp.c: three cluster_nodes over loopback TCP (NetworkTransport, auth, faults). */
#include "cluster_fixture.h"
#include "fx_listener.h"

#include "cluster_codec.h"
#include "cluster_wire.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

Test(cluster_tcp, elects_replicates_and_survives_the_leader_stopping, .timeout = 40)
{
    struct fixture fx;
    fx_init(&fx, FX_TCP, 3, "elects_replicates_and_survives_the_leader_stopping");
    fx_open_all(&fx);
    uint32_t old = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, old, 100, 10000), 100);
    struct cluster_status st;
    cluster_status(fx.nodes[old].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    fx_check_same(&fx);
    fx_close(&fx, old);
    uint32_t leader = fx_wait_leader(&fx, 3000);
    cr_assert_neq(leader, old);
    cr_assert_eq(fx_propose_n(&fx, leader, 20, 5000), 20);
    fx_open(&fx, old); /* comes back, catches up over a fresh authenticated link */
    cluster_status(fx.nodes[leader].node, &st);
    cr_assert(fx_wait_applied(&fx, st.last_index, 5000));
    fx_check_same(&fx);
    fx_fini(&fx);
}

static bool other_leader(struct fixture *fx, void *arg)
{
    int l = fx_leader(fx);
    return l >= 0 && (uint32_t)l != *(uint32_t *)arg;
}

Test(cluster_tcp, a_partitioned_leader_commits_nothing_then_converges, .timeout = 40)
{
    struct fixture fx;
    fx_init(&fx, FX_TCP, 3, "a_partitioned_leader_commits_nothing_then_converges");
    fx_open_all(&fx);
    uint32_t old = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, old, 10, 5000), 10);
    struct cluster_status before, after;
    cluster_status(fx.nodes[old].node, &before);
    fx_isolate(&fx, old, true);
    cr_assert(fx_wait(&fx, other_leader, &old, 3000), "majority elected no leader");
    uint32_t leader = (uint32_t)fx_leader(&fx);
    cr_assert_eq(fx_propose_n(&fx, leader, 10, 5000), 10);
    cluster_status(fx.nodes[old].node, &after);
    cr_assert_eq(after.commit_index, before.commit_index);
    fx_isolate(&fx, old, false);
    cluster_status(fx.nodes[leader].node, &after);
    cr_assert(fx_wait_applied(&fx, after.last_index, 5000));
    fx_check_same(&fx);
    fx_fini(&fx);
}

/* ------------------------------------------------ a raw client that speaks for itself */

struct raw {
    int fd;
    uint8_t buf[65536];
    size_t len;
};

static void raw_connect(struct raw *r, const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    r->len = 0;
    cr_assert_geq(r->fd, 0);
    cr_assert_eq(connect(r->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    fcntl(r->fd, F_SETFL, O_NONBLOCK);
}

static void raw_send(struct raw *r, const tp_buf *b)
{
    cr_assert_eq(write(r->fd, b->data, b->len), (ssize_t)b->len);
}

static bool raw_frame_in(struct fixture *fx, void *arg)
{
    (void)fx;
    struct raw *r = arg;
    ssize_t got = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
    if (got > 0)
        r->len += (size_t)got;
    return r->len >= 4 && r->len >= 4 + (size_t)tp_frame_get_len(r->buf);
}

/* Sends one framed call and waits for its framed reply (left in r->buf after the header). */
static void raw_call(struct fixture *fx, struct raw *r, int method, int32_t seqid,
                     const void *request)
{
    tp_buf b;
    tp_buf_init(&b);
    size_t at = tp_frame_begin(&b);
    cr_assert_eq(cluster_codec_call(&b, method, seqid, request), 0);
    tp_frame_end(&b, at);
    r->len = 0;
    raw_send(r, &b);
    tp_buf_free(&b);
    cr_assert(fx_wait(fx, raw_frame_in, r, 3000), "no reply");
}

static void append_from_node(AppendEntryRequest *req, uint32_t leader, uint64_t term)
{
    AppendEntryRequest_init(req);
    cluster_id_set(&req->leader_id, leader);
    req->leader_term = (int64_t)term;
    req->prev_log_index = 0;
    req->prev_log_term = 0;
    req->has_entries = true;
    req->entries.count = 1;
    req->entries.items = calloc(1, sizeof *req->entries.items);
    ConsensusLogEntry_init(&req->entries.items[0]);
    req->entries.items[0].index = 1;
    req->entries.items[0].term = (int64_t)term;
    tp_bytes_set_str(&req->entries.items[0].data, "forged");
}

static void expect_unauthorized_append(struct fixture *fx, struct raw *r, uint32_t target)
{
    struct cluster_status before, after;
    cluster_status(fx->nodes[target].node, &before);
    AppendEntryRequest req;
    append_from_node(&req, (target + 1) % 3, before.term + 5);
    raw_call(fx, r, TransactionalKV_METHOD_appendEntry, 7, &req);
    AppendEntryRequest_free(&req);
    struct cluster_codec_reply rep = {0};
    cr_assert_eq(cluster_codec_reply_read(TransactionalKV_METHOD_appendEntry, 7, r->buf + 4,
                                          r->len - 4, NULL, &rep), 0);
    cr_assert_eq(rep.err, CLUSTER_ERR_UNAUTHORIZED);
    cluster_codec_reply_free(&rep);
    cluster_status(fx->nodes[target].node, &after);
    cr_assert_eq(after.term, before.term, "an unauthenticated append changed the term");
    cr_assert_eq(after.last_index, before.last_index);
}

Test(cluster_tcp, an_unauthenticated_connection_cannot_append, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_TCP, 3, "an_unauthenticated_connection_cannot_append");
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    cr_assert_eq(fx_propose_n(&fx, leader, 5, 5000), 5);
    uint32_t target = (leader + 1) % 3;
    struct raw r;
    raw_connect(&r, fx.endpoints[target]);
    uint32_t refused = fx_listener_refused(target);
    expect_unauthorized_append(&fx, &r, target);
    cr_assert_eq(fx_listener_refused(target), refused + 1);
    close(r.fd);
    fx_fini(&fx);
}

static void challenge(struct fixture *fx, struct raw *r, uint32_t as, uint8_t nonce[32])
{
    PeerChallengeRequest req;
    PeerChallengeRequest_init(&req);
    cluster_id_set(&req.node_id, as);
    raw_call(fx, r, TransactionalKV_METHOD_peerChallenge, 1, &req);
    PeerChallengeRequest_free(&req);
    struct cluster_codec_reply rep = {0};
    cr_assert_eq(cluster_codec_reply_read(TransactionalKV_METHOD_peerChallenge, 1, r->buf + 4,
                                          r->len - 4, NULL, &rep), 0);
    cr_assert_eq(rep.err, 0);
    const PeerChallengeResponse *resp = rep.response;
    cr_assert_eq(resp->nonce.len, CLUSTER_NONCE_BYTES);
    memcpy(nonce, resp->nonce.data, CLUSTER_NONCE_BYTES);
    cluster_codec_reply_free(&rep);
}

/* Returns the reply's err (0 with success=true, or UNAUTHORIZED). */
static int authenticate(struct fixture *fx, struct raw *r, uint32_t as, const uint8_t nonce[32],
                        const uint8_t mac[32])
{
    PeerAuthRequest req;
    PeerAuthRequest_init(&req);
    cluster_id_set(&req.node_id, as);
    tp_bytes_set(&req.nonce, nonce, 32);
    tp_bytes_set(&req.mac, mac, 32);
    raw_call(fx, r, TransactionalKV_METHOD_peerAuthenticate, 2, &req);
    PeerAuthRequest_free(&req);
    struct cluster_codec_reply rep = {0};
    cr_assert_eq(cluster_codec_reply_read(TransactionalKV_METHOD_peerAuthenticate, 2, r->buf + 4,
                                          r->len - 4, NULL, &rep), 0);
    int err = rep.err;
    if (err == 0)
        cr_assert(((const PeerAuthResponse *)rep.response)->success);
    cluster_codec_reply_free(&rep);
    return err;
}

Test(cluster_tcp, a_bad_mac_is_refused_and_a_good_one_accepted, .timeout = 30)
{
    struct fixture fx;
    fx_init(&fx, FX_TCP, 3, "a_bad_mac_is_refused_and_a_good_one_accepted");
    fx_open_all(&fx);
    uint32_t leader = fx_wait_leader(&fx, 5000);
    uint32_t target = (leader + 1) % 3, as = (leader + 2) % 3;
    struct raw r;
    raw_connect(&r, fx.endpoints[target]);
    uint8_t nonce[32], mac[32];
    challenge(&fx, &r, as, nonce);
    struct cluster_secret wrong;
    cluster_secret_set(&wrong, "not the cluster secret", 22);
    cr_assert_eq(cluster_auth_mac(&wrong, nonce, 32, as, mac), 0);
    cr_assert_eq(authenticate(&fx, &r, as, nonce, mac), CLUSTER_ERR_UNAUTHORIZED);
    expect_unauthorized_append(&fx, &r, target);
    /* The nonce was used up: even the right MAC for it is refused now. */
    cr_assert_eq(cluster_auth_mac(&fx.secret, nonce, 32, as, mac), 0);
    cr_assert_eq(authenticate(&fx, &r, as, nonce, mac), CLUSTER_ERR_UNAUTHORIZED);
    /* A MAC for another node id is refused. */
    challenge(&fx, &r, as, nonce);
    cr_assert_eq(cluster_auth_mac(&fx.secret, nonce, 32, leader, mac), 0);
    cr_assert_eq(authenticate(&fx, &r, as, nonce, mac), CLUSTER_ERR_UNAUTHORIZED);
    /* A fresh nonce with the right secret is accepted. */
    challenge(&fx, &r, as, nonce);
    cr_assert_eq(cluster_auth_mac(&fx.secret, nonce, 32, as, mac), 0);
    cr_assert_eq(authenticate(&fx, &r, as, nonce, mac), 0);
    close(r.fd);
    fx_fini(&fx);
}
