/* test_net_pipe.c: the one client (net_pipe, net_sync) against a raw socket that answers as
   the test says: replies matched by seqid out of order, one no call waits for, deadlines, a
   server that goes away, unframed replies, the blocking mode. */
#include "net_pipe.h"
#include "net_sync.h"

#include <criterion/criterion.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 10000 /* generous: a loaded 2-core box */

struct seen {
    int replies, failures, unmatched, ups, downs;
    uint32_t tags[16];
    int32_t seqids[16];
    int errs[16];
};

static void on_reply(void *ctx, const struct net_pipe_call *call, int err, const uint8_t *msg,
                     size_t len)
{
    struct seen *s = ctx;
    (void)msg, (void)len;
    if (!call) {
        s->unmatched++;
        return;
    }
    int i = s->replies + s->failures;
    cr_assert_lt(i, 16);
    s->tags[i] = call->tag;
    s->seqids[i] = call->seqid;
    s->errs[i] = err;
    if (err)
        s->failures++;
    else
        s->replies++;
}

static void on_state(void *ctx, int err)
{
    struct seen *s = ctx;
    if (err)
        s->downs++;
    else
        s->ups++;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* Runs base until *count reaches want, or fails the test after WAIT_MS. */
static void run_until(struct event_base *base, const int *count, int want)
{
    struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(t, &tv);
    int64_t end = net_pipe_now_ms() + WAIT_MS;
    while (*count < want && net_pipe_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    cr_assert_geq(*count, want, "waited %d ms for %d events, saw %d", WAIT_MS, want, *count);
}

static int listen_any(char *endpoint, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 4) == 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    snprintf(endpoint, size, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

/* A whole REPLY message for seqid: ping's result with an empty success struct. */
static void reply_msg(tp_buf *b, int32_t seqid)
{
    tp_write_message_begin(b, "ping", 4, TP_REPLY, seqid);
    tp_write_field_begin(b, TP_T_STRUCT, 0);
    tp_write_field_stop(b);
    tp_write_field_stop(b);
}

static void write_reply(int fd, int32_t seqid, bool framed)
{
    tp_buf b;
    tp_buf_init(&b);
    size_t at = framed ? tp_frame_begin(&b) : 0;
    reply_msg(&b, seqid);
    if (framed)
        tp_frame_end(&b, at);
    cr_assert_eq(write(fd, b.data, b.len), (ssize_t)b.len);
    tp_buf_free(&b);
}

static void read_exactly(int fd, size_t n)
{
    uint8_t buf[4096];
    while (n > 0) {
        ssize_t r = read(fd, buf, n < sizeof buf ? n : sizeof buf);
        cr_assert_gt(r, 0);
        n -= (size_t)r;
    }
}

static void send_call(struct net_pipe *p, uint32_t tag, int64_t deadline_ms, int32_t *seqid)
{
    tp_buf *b = net_pipe_begin(p, seqid);
    tp_write_message_begin(b, "ping", 4, TP_CALL, *seqid);
    tp_write_field_stop(b);
    cr_assert_eq(net_pipe_end(p, tag, NULL, deadline_ms), NET_OK);
}

static struct net_pipe pipe_;
static struct seen seen;

static int connect_pipe(struct event_base *base, bool framed, int *server)
{
    char ep[64];
    int lfd = listen_any(ep, sizeof ep);
    struct net_pipe_config cfg = {.base = base, .framed = framed, .on_reply = on_reply,
                                  .on_state = on_state, .ctx = &seen};
    memset(&seen, 0, sizeof seen);
    net_pipe_init(&pipe_, &cfg);
    cr_assert_eq(net_pipe_connect(&pipe_, ep), NET_OK);
    *server = accept(lfd, NULL, NULL);
    cr_assert_geq(*server, 0);
    close(lfd);
    run_until(base, &seen.ups, 1);
    return 0;
}

Test(net_pipe, replies_match_their_calls_by_seqid_not_order)
{
    struct event_base *base = event_base_new();
    int srv;
    connect_pipe(base, true, &srv);
    int32_t seq[3];
    size_t call_bytes = 0;
    for (uint32_t i = 0; i < 3; i++)
        send_call(&pipe_, 10 + i, 0, &seq[i]);
    call_bytes = pipe_.bytes_sent;
    cr_assert_eq(net_pipe_waiting(&pipe_), 3);
    event_base_loop(base, EVLOOP_NONBLOCK); /* writes them */
    read_exactly(srv, call_bytes);
    write_reply(srv, seq[2], true);
    write_reply(srv, seq[2] + 1000, true); /* no call has it */
    write_reply(srv, seq[0], true);
    write_reply(srv, seq[1], true);
    run_until(base, &seen.replies, 3);
    cr_assert_eq(seen.tags[0], 12);
    cr_assert_eq(seen.tags[1], 10);
    cr_assert_eq(seen.tags[2], 11);
    cr_assert_eq(seen.unmatched, 1);
    cr_assert_eq(pipe_.unmatched, 1);
    cr_assert_eq(net_pipe_waiting(&pipe_), 0);
    cr_assert_eq(pipe_.state, NET_PIPE_UP, "an unknown reply is refused, the connection kept");
    close(srv);
    net_pipe_free(&pipe_);
    event_base_free(base);
}

Test(net_pipe, deadlines_and_a_server_gone_fail_the_calls)
{
    struct event_base *base = event_base_new();
    int srv;
    connect_pipe(base, false, &srv);
    int32_t a, b, c;
    int64_t now = net_pipe_now_ms();
    send_call(&pipe_, 1, now + 100, &a);
    send_call(&pipe_, 2, 0, &b);
    send_call(&pipe_, 3, now + 50, &c);
    net_pipe_expire(&pipe_, now + 100);
    cr_assert_eq(seen.failures, 2);
    cr_assert_eq(seen.errs[0], NET_ERR_TIMEOUT);
    cr_assert_eq(net_pipe_waiting(&pipe_), 1);
    event_base_loop(base, EVLOOP_NONBLOCK);
    write_reply(srv, a, false); /* too late: its call failed already */
    write_reply(srv, b, false); /* unframed, like TBufferedTransport */
    run_until(base, &seen.replies, 1);
    cr_assert_eq(seen.tags[2], 2);
    cr_assert_eq(seen.unmatched, 1);
    send_call(&pipe_, 4, 0, &a);
    close(srv);
    run_until(base, &seen.downs, 1);
    cr_assert_eq(seen.failures, 3);
    cr_assert_eq(seen.tags[3], 4);
    cr_assert_eq(seen.errs[3], NET_ERR_CLOSED);
    cr_assert_eq(pipe_.state, NET_PIPE_DOWN);
    cr_assert_eq(net_pipe_end(&pipe_, 5, NULL, 0), NET_ERR_STATE);
    net_pipe_free(&pipe_);
    event_base_free(base);
}

Test(net_pipe, a_bad_frame_breaks_the_connection)
{
    struct event_base *base = event_base_new();
    int srv;
    connect_pipe(base, true, &srv);
    int32_t a;
    send_call(&pipe_, 1, 0, &a);
    uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff};
    cr_assert_eq(write(srv, huge, 4), 4);
    run_until(base, &seen.downs, 1);
    cr_assert_eq(pipe_.err, NET_ERR_FRAME);
    cr_assert_eq(seen.errs[0], NET_ERR_FRAME);
    close(srv);
    net_pipe_free(&pipe_);
    event_base_free(base);
}

Test(net_sync, one_blocking_call_gets_its_own_reply)
{
    char ep[64];
    int lfd = listen_any(ep, sizeof ep);
    struct net_sync s;
    cr_assert_eq(net_sync_connect(&s, ep, true, NULL, WAIT_MS), NET_OK);
    int srv = accept(lfd, NULL, NULL);
    tp_buf call;
    tp_buf_init(&call);
    tp_write_message_begin(&call, "ping", 4, TP_CALL, 7);
    tp_write_field_stop(&call);
    write_reply(srv, 7, true); /* ready before the call: the pipe waits for seqid 7 */
    const uint8_t *msg;
    size_t len;
    cr_assert_eq(net_sync_call(&s, call.data, call.len, 7, WAIT_MS, &msg, &len), NET_OK);
    tp_reader r;
    tp_message m;
    tp_reader_init(&r, msg, len, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), 0);
    cr_assert_eq(m.seqid, 7);
    write_reply(srv, 99, true); /* an answer to a call never made */
    cr_assert_eq(net_sync_call(&s, call.data, call.len, 8, WAIT_MS, &msg, &len), NET_ERR_FRAME);
    cr_assert(s.sent);
    cr_assert_not(net_sync_connected(&s), "closed: a late reply is never taken for another");
    net_sync_close(&s);
    tp_buf_free(&call);
    close(srv);
    close(lfd);
}

Test(net_sync, a_silent_server_times_out)
{
    char ep[64];
    int lfd = listen_any(ep, sizeof ep);
    struct net_sync s;
    cr_assert_eq(net_sync_connect(&s, ep, true, NULL, WAIT_MS), NET_OK);
    uint8_t call[] = {0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'p', 0, 0, 0, 1, 0};
    const uint8_t *msg;
    size_t len;
    cr_assert_eq(net_sync_call(&s, call, sizeof call, 1, 100, &msg, &len), NET_ERR_TIMEOUT);
    net_sync_close(&s);
    cr_assert_neq(net_sync_connect(&s, "127.0.0.1:notaport", true, NULL, WAIT_MS), NET_OK);
    net_sync_close(&s);
    close(lfd);
}

Test(net_pipe, calls_tracked_while_down_fail_with_the_connection_that_does_not_come)
{
    struct event_base *base = event_base_new();
    char ep[64];
    close(listen_any(ep, sizeof ep)); /* nobody listens there any more */
    struct net_pipe_config cfg = {.base = base, .framed = true, .on_reply = on_reply,
                                  .on_state = on_state, .ctx = &seen};
    memset(&seen, 0, sizeof seen);
    net_pipe_init(&pipe_, &cfg);
    struct net_pipe_call c = {.seqid = 5, .tag = 1};
    cr_assert_eq(net_pipe_track(&pipe_, &c), NET_OK);
    c = (struct net_pipe_call){.seqid = 6, .tag = 2};
    cr_assert_eq(net_pipe_track(&pipe_, &c), NET_OK);
    cr_assert_eq(net_pipe_waiting(&pipe_), 2);
    cr_assert_eq(net_pipe_connect(&pipe_, ep), NET_OK);
    run_until(base, &seen.downs, 1);
    cr_assert_eq(seen.failures, 2);
    cr_assert_eq(seen.tags[0], 1);
    cr_assert_eq(seen.errs[1], NET_ERR_CONNECT);
    c = (struct net_pipe_call){.seqid = 7, .tag = 3};
    cr_assert_eq(net_pipe_track(&pipe_, &c), NET_OK);
    net_pipe_close(&pipe_, NET_ERR_CLOSED); /* down already: its waiting call fails too */
    cr_assert_eq(seen.failures, 3);
    cr_assert_eq(seen.errs[2], NET_ERR_CLOSED);
    net_pipe_close(&pipe_, NET_ERR_CLOSED); /* nothing left: no callback */
    cr_assert_eq(seen.downs, 2);
    net_pipe_free(&pipe_);
    event_base_free(base);
}
