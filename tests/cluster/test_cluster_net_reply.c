/* test_cluster_net_reply.c: a peer link's replies are matched to its calls by seqid. A fake
   peer (a raw socket) passes the handshake, then answers a call with a seqid no call has
   before the right one: the stray reply is refused and counted, the link stays up, and the
   call gets its own reply. */
#include "cluster.h"
#include "cluster_auth.h"
#include "cluster_codec.h"
#include "cluster_net.h"
#include "cluster_wire.h"
#include "metrics.h"

#include "kvstore.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000 /* generous: a loaded 2-core box */

struct peer {
    int fd;
    uint8_t buf[65536];
    size_t len;
};

struct seen {
    int replies;
    uint64_t tag;
    int err;
    int64_t term;
};

static void on_reply(void *ctx, uint32_t peer, int method, uint64_t tag, int err,
                     const void *response)
{
    struct seen *s = ctx;
    cr_assert_eq(peer, 1);
    cr_assert_eq(method, TransactionalKV_METHOD_requestVote);
    s->replies++;
    s->tag = tag;
    s->err = err;
    s->term = response ? ((const RequestVoteResponse *)response)->term : -1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop until the peer holds one whole frame: its seqid, the frame taken off. */
static int32_t peer_next_call(struct event_base *base, struct peer *p, char *method,
                              size_t method_size)
{
    int64_t end = now_ms() + WAIT_MS;
    while (!(p->len >= 4 && p->len >= 4 + (size_t)tp_frame_get_len(p->buf))) {
        cr_assert_lt(now_ms(), end, "no call reached the peer in %d ms", WAIT_MS);
        event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t got = read(p->fd, p->buf + p->len, sizeof p->buf - p->len);
        if (got > 0)
            p->len += (size_t)got;
        else
            cr_assert(got < 0 && errno == EAGAIN, "the link closed");
    }
    size_t n = 4 + tp_frame_get_len(p->buf);
    tp_reader r;
    tp_message m;
    tp_reader_init(&r, p->buf + 4, n - 4, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), 0);
    snprintf(method, method_size, "%.*s", (int)m.name_len, m.name);
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
    return m.seqid;
}

/* Sends a framed REPLY: the header for method and seqid, then the result struct write wrote. */
#define PEER_REPLY(p, method, seqid, write, result)                                         \
    do {                                                                                    \
        tp_buf b_;                                                                          \
        tp_buf_init(&b_);                                                                   \
        size_t at_ = tp_frame_begin(&b_);                                                   \
        tp_write_message_begin(&b_, method, (uint32_t)strlen(method), TP_REPLY, seqid);    \
        cr_assert_eq(write(result, &b_), 0);                                                \
        tp_frame_end(&b_, at_);                                                             \
        cr_assert_eq(send((p)->fd, b_.data, b_.len, MSG_NOSIGNAL), (ssize_t)b_.len);        \
        tp_buf_free(&b_);                                                                   \
    } while (0)

static void vote_reply(struct peer *p, int32_t seqid, int64_t term)
{
    TransactionalKV_requestVote_result res;
    TransactionalKV_requestVote_result_init(&res);
    res.has_success = true;
    cluster_id_set(&res.success.node_id, 1);
    res.success.term = term;
    PEER_REPLY(p, "requestVote", seqid, TransactionalKV_requestVote_result_write, &res);
    TransactionalKV_requestVote_result_free(&res);
}

/* The fake peer's side of the handshake: any nonce, and yes. */
static void pass_handshake(struct event_base *base, struct peer *p)
{
    char method[64];
    int32_t seqid = peer_next_call(base, p, method, sizeof method);
    cr_assert_str_eq(method, "peerChallenge");
    TransactionalKV_peerChallenge_result ch;
    TransactionalKV_peerChallenge_result_init(&ch);
    ch.has_success = true;
    uint8_t nonce[32] = {1, 2, 3};
    tp_bytes_set(&ch.success.nonce, nonce, sizeof nonce);
    PEER_REPLY(p, "peerChallenge", seqid, TransactionalKV_peerChallenge_result_write, &ch);
    TransactionalKV_peerChallenge_result_free(&ch);
    seqid = peer_next_call(base, p, method, sizeof method);
    cr_assert_str_eq(method, "peerAuthenticate");
    TransactionalKV_peerAuthenticate_result au;
    TransactionalKV_peerAuthenticate_result_init(&au);
    au.has_success = true;
    au.success.success = true;
    PEER_REPLY(p, "peerAuthenticate", seqid, TransactionalKV_peerAuthenticate_result_write, &au);
    TransactionalKV_peerAuthenticate_result_free(&au);
}

static void call_vote(struct cluster_transport *t, uint64_t tag)
{
    RequestVoteRequest req;
    RequestVoteRequest_init(&req);
    cluster_id_set(&req.candidate_id, 0);
    req.term = 7;
    cr_assert_eq(cluster_transport_call(t, 1, TransactionalKV_METHOD_requestVote, &req, tag), 0);
    RequestVoteRequest_free(&req);
}

Test(cluster_net_reply, a_reply_to_no_call_is_refused_and_counted, .timeout = 60)
{
    struct event_base *base = event_base_new();
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4) == 0);
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    char ep[64];
    snprintf(ep, sizeof ep, "127.0.0.1:%u", ntohs(a.sin_port));

    struct cluster_secret secret;
    cr_assert_eq(cluster_secret_set(&secret, "test secret, sixteen+", 21), 0);
    struct cluster_net_config cfg;
    cluster_net_config_default(&cfg);
    cfg.self = 0;
    cfg.node_count = 2;
    cfg.endpoints[0] = "127.0.0.1:1";
    cfg.endpoints[1] = ep;
    cfg.secret = &secret;
    cfg.call_timeout_ms = WAIT_MS;
    struct cluster_transport *t = cluster_net_new(base, &cfg);
    cr_assert_not_null(t);
    struct seen seen = {0};
    cluster_transport_bind(t, on_reply, &seen);

    call_vote(t, 42); /* the link connects for it */
    struct peer p = {.fd = accept(lfd, NULL, NULL)};
    cr_assert_geq(p.fd, 0);
    fcntl(p.fd, F_SETFL, O_NONBLOCK);
    pass_handshake(base, &p);
    char method[64];
    int32_t seqid = peer_next_call(base, &p, method, sizeof method);
    cr_assert_str_eq(method, "requestVote");

    uint64_t before = metrics_counter_get(METRIC_PEER_REPLIES_UNMATCHED);
    vote_reply(&p, seqid + 1000, 99); /* no call has this id: never sent */
    vote_reply(&p, seqid, 7);
    int64_t end = now_ms() + WAIT_MS;
    while (seen.replies == 0 && now_ms() < end)
        event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(seen.replies, 1, "the call got %d replies", seen.replies);
    cr_assert_eq(seen.tag, 42);
    cr_assert_eq(seen.err, 0);
    cr_assert_eq(seen.term, 7, "the call took the stray reply (term %lld)",
                 (long long)seen.term);
    cr_assert_eq(metrics_counter_get(METRIC_PEER_REPLIES_UNMATCHED), before + 1);
    cr_assert(t->ops->connected(t, 1), "a stray reply broke the link");

    cluster_transport_free(t);
    close(p.fd);
    close(lfd);
    event_base_free(base);
}
