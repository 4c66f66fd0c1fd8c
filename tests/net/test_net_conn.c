/* test_net_conn.c: connection behaviour over bufferevent pairs, without sockets; built a
   second time with NET_TEST_SOCKETPAIR over socketpairs, where net writes the socket itself
   (one sendmsg per loop turn, EV_WRITE only while the socket is full). */
#include "net_fixture.h"
#include "thrift.h"

#include <sys/socket.h>

struct client {
    struct fix *f;
    struct bufferevent *bev;
    bool eof;
};

static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        c->eof = true;
}

static void make_pair(struct fix *f, struct bufferevent *pair[2])
{
#ifdef NET_TEST_SOCKETPAIR
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    for (int i = 0; i < 2; i++) {
        pair[i] = bufferevent_socket_new(f->base, fds[i], BEV_OPT_CLOSE_ON_FREE);
        cr_assert(pair[i]);
    }
#else
    cr_assert_eq(bufferevent_pair_new(f->base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
                                      pair), 0);
#endif
}

static void connect_pair(struct fix *f, struct client *c)
{
    struct bufferevent *pair[2];
    make_pair(f, pair);
    memset(c, 0, sizeof *c);
    c->f = f;
    c->bev = pair[1];
    bufferevent_setcb(c->bev, NULL, NULL, client_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    cr_assert_eq(net_server_adopt(f->srv, pair[0]), NET_OK);
}

static size_t client_input(struct client *c)
{
    return evbuffer_get_length(bufferevent_get_input(c->bev));
}

struct want {
    struct client *c;
    size_t bytes;
};

static bool has_bytes(void *arg)
{
    struct want *w = arg;
    return client_input(w->c) >= w->bytes;
}

/* A pair end sees no EOF when its partner is freed, so ask the server instead. */
static bool has_eof(void *arg)
{
    struct client *c = arg;
    return c->eof || net_server_connection_count(c->f->srv) == 0;
}

static void send_frame(struct client *c, const void *msg, uint32_t len)
{
    uint8_t hdr[4];
    put_be32(hdr, len);
    bufferevent_write(c->bev, hdr, 4);
    bufferevent_write(c->bev, msg, len);
}

/* A small valid strict CALL message whose seqid is n. */
static void make_call(tp_buf *b, int32_t n)
{
    tp_buf_reset(b);
    tp_write_message_begin(b, "ping", 4, TP_CALL, n);
    tp_write_field_begin(b, TP_T_STRING, 1);
    tp_write_binary(b, "hello", 5);
    tp_write_field_stop(b);
}

static void expect_frame(struct client *c, const tp_buf *want)
{
    uint8_t hdr[4];
    struct evbuffer *in = bufferevent_get_input(c->bev);
    cr_assert_geq(evbuffer_get_length(in), 4 + want->len);
    evbuffer_remove(in, hdr, 4);
    cr_assert_eq((uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3], want->len);
    uint8_t *got = malloc(want->len);
    evbuffer_remove(in, got, want->len);
    cr_assert_arr_eq(got, want->data, want->len);
    free(got);
}

Test(net_conn, framed_requests_are_echoed_in_order)
{
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    struct client c;
    connect_pair(&f, &c);
    tp_buf m[3];
    for (int i = 0; i < 3; i++) {
        tp_buf_init(&m[i]);
        make_call(&m[i], i);
        send_frame(&c, m[i].data, (uint32_t)m[i].len);
    }
    struct want w = {&c, 3 * (4 + m[0].len)};
    cr_assert(fix_pump(&f, has_bytes, &w, 5));
    for (int i = 0; i < 3; i++) {
        expect_frame(&c, &m[i]);
        tp_buf_free(&m[i]);
    }
    cr_assert_eq(f.messages, 3);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, unframed_message_arriving_byte_by_byte_is_handed_up_once)
{
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    struct client c;
    connect_pair(&f, &c);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 42);
    for (size_t i = 0; i < m.len; i++) {
        bufferevent_write(c.bev, m.data + i, 1);
        fix_settle(&f, 0.001);
        if (i + 1 < m.len)
            cr_assert_eq(f.messages, 0, "handed up after %zu of %zu bytes", i + 1, m.len);
    }
    struct want w = {&c, m.len};
    cr_assert(fix_pump(&f, has_bytes, &w, 5));
    cr_assert_eq(f.messages, 1);
    cr_assert_eq(client_input(&c), m.len, "unframed request, unframed answer");
    uint8_t *got = malloc(m.len);
    evbuffer_remove(bufferevent_get_input(c.bev), got, m.len);
    cr_assert_arr_eq(got, m.data, m.len);
    free(got);
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, late_answers_still_leave_in_request_order)
{
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    f.hold = true;
    struct client c;
    connect_pair(&f, &c);
    tp_buf m[5];
    for (int i = 0; i < 5; i++) {
        tp_buf_init(&m[i]);
        make_call(&m[i], i);
        send_frame(&c, m[i].data, (uint32_t)m[i].len);
    }
    fix_settle(&f, 0.05);
    cr_assert_eq(f.held_n, 5);
    for (int i = 4; i >= 1; i--)
        fix_answer(&f, (size_t)i);
    fix_settle(&f, 0.05);
    cr_assert_eq(client_input(&c), 0, "nothing may pass the unanswered first request");
    fix_answer(&f, 0);
    struct want w = {&c, 5 * (4 + m[0].len)};
    cr_assert(fix_pump(&f, has_bytes, &w, 5));
    for (int i = 0; i < 5; i++) {
        expect_frame(&c, &m[i]);
        tp_buf_free(&m[i]);
    }
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, a_frame_over_the_limit_closes_and_a_late_answer_is_dropped)
{
    struct fix f;
    fix_init(&f);
    f.limits.frame_bytes_max = 1024;
    fix_start(&f);
    f.hold = true;
    struct client c;
    connect_pair(&f, &c);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 1);
    send_frame(&c, m.data, (uint32_t)m.len);
    uint8_t hdr[4];
    put_be32(hdr, 1025);
    bufferevent_write(c.bev, hdr, 4);
    cr_assert(fix_pump(&f, has_eof, &c, 5));
    cr_assert_eq(net_server_connection_count(f.srv), 0);
    cr_assert_eq(f.held_n, 1);
    fix_answer(&f, 0);   /* the slot outlived its connection; answering frees it */
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, a_two_gib_length_prefix_closes)
{
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    struct client c;
    connect_pair(&f, &c);
    const uint8_t hdr[] = {0x7f, 0xff, 0xff, 0xff, 0x80, 0, 0, 0};
    bufferevent_write(c.bev, hdr, sizeof hdr);
    cr_assert(fix_pump(&f, has_eof, &c, 5));
    cr_assert_eq(f.messages, 0);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, a_malformed_unframed_message_closes)
{
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    struct client c;
    connect_pair(&f, &c);
    const uint8_t bad[] = {0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'm', 0, 0, 0, 1, 99, 0, 1};
    bufferevent_write(c.bev, bad, sizeof bad);
    cr_assert(fix_pump(&f, has_eof, &c, 5));
    cr_assert_eq(f.messages, 0);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, close_after_reply_writes_the_reply_first)
{
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    f.close_after = true;
    struct client c;
    connect_pair(&f, &c);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 9);
    send_frame(&c, m.data, (uint32_t)m.len);
    send_frame(&c, m.data, (uint32_t)m.len);
    cr_assert(fix_pump(&f, has_eof, &c, 5));
    expect_frame(&c, &m);
    cr_assert_eq(client_input(&c), 0, "nothing after the closing reply");
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

static bool messages_at_least(void *arg)
{
    struct fix *f = arg;
    return f->messages >= f->held_n && f->messages >= 4;
}

Test(net_conn, too_many_unanswered_requests_stop_reading_until_answered)
{
    struct fix f;
    fix_init(&f);
    f.limits.pending_replies_max = 4;
    fix_start(&f);
    f.hold = true;
    struct client c;
    connect_pair(&f, &c);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 1);
    for (int i = 0; i < 10; i++)
        send_frame(&c, m.data, (uint32_t)m.len);
    cr_assert(fix_pump(&f, messages_at_least, &f, 5));
    fix_settle(&f, 0.05);
    cr_assert_eq(f.messages, 4, "reading stops at the pending limit");
    fix_answer(&f, 0);
    fix_settle(&f, 0.05);
    cr_assert_eq(f.messages, 5, "one answer lets one more request in");
    f.hold = false;
    for (size_t i = 1; i < f.held_n; i++)
        fix_answer(&f, i);
    struct want w = {&c, 10 * (4 + m.len)};
    cr_assert(fix_pump(&f, has_bytes, &w, 5));
    cr_assert_eq(f.messages, 10);
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, a_client_that_stops_reading_stops_being_read)
{
    struct fix f;
    fix_init(&f);
    f.limits.output_high_water = 64 * 1024;
    fix_start(&f);
    f.reply_pad = 16 * 1024;
    struct client c;
    connect_pair(&f, &c);
    bufferevent_disable(c.bev, EV_READ);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 1);
    for (int i = 0; i < 100; i++)
        send_frame(&c, m.data, (uint32_t)m.len);
    fix_settle(&f, 0.1);
    size_t stalled = f.messages;
    cr_assert_lt(stalled, 100, "reading must stop near the high-water mark");
    cr_assert_geq(stalled, 4);
    bufferevent_enable(c.bev, EV_READ);
    struct want w = {&c, 100 * (4 + m.len + f.reply_pad)};
    cr_assert(fix_pump(&f, has_bytes, &w, 5), "only %zu of 100 answered", f.messages);
    cr_assert_eq(f.messages, 100);
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

static void on_drained(void *arg) { ((struct fix *)arg)->drained = true; }

static bool drained(void *arg) { return ((struct fix *)arg)->drained; }

Test(net_conn, drain_finishes_requests_in_flight_then_reports)
{
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    f.hold = true;
    struct client c;
    connect_pair(&f, &c);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 3);
    send_frame(&c, m.data, (uint32_t)m.len);
    fix_settle(&f, 0.05);
    cr_assert_eq(f.held_n, 1);
    net_server_drain(f.srv, on_drained, &f);
    send_frame(&c, m.data, (uint32_t)m.len);
    fix_settle(&f, 0.05);
    cr_assert(!f.drained, "an unanswered request keeps the server up");
    cr_assert_eq(f.messages, 1, "no new requests while draining");
    fix_answer(&f, 0);
    cr_assert(fix_pump(&f, drained, &f, 5));
    expect_frame(&c, &m);
    cr_assert_eq(net_server_connection_count(f.srv), 0);
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

Test(net_conn, idle_connections_are_closed)
{
    struct fix f;
    fix_init(&f);
    f.limits.idle_timeout_ms = 100;
    fix_start(&f);
    struct client c;
    connect_pair(&f, &c);
    cr_assert(fix_pump(&f, has_eof, &c, 5));
    cr_assert_eq(net_server_connection_count(f.srv), 0);
    bufferevent_free(c.bev);
    fix_fini(&f);
}

/* A handler that attaches per-connection state on the first message and checks it after. */
struct user_fix {
    struct fix f;
    int *attached;
    int same;                   /* later messages that found the same pointer */
    int frees;
    char peer[NET_PEER_ADDR_MAX];
    struct net_reply *held;     /* hold_next: keep the next slot unanswered */
    bool hold_next;
};

static struct user_fix *freeing_fix;

static void user_free(void *user)
{
    freeing_fix->frees++;
    free(user);
}

static void user_on_message(void *ctx, struct net_reply *r, const uint8_t *msg, size_t len)
{
    struct user_fix *u = ctx;
    int *have = net_reply_conn_user(r);
    if (!have) {
        u->attached = malloc(sizeof *u->attached);
        cr_assert(u->attached);
        cr_assert_eq(net_reply_conn_set_user(r, u->attached, user_free), NET_OK);
    } else if (have == u->attached) {
        u->same++;
    }
    snprintf(u->peer, sizeof u->peer, "%s", net_reply_peer(r));
    if (u->hold_next) {
        u->held = r;
        u->hold_next = false;
    } else {
        net_reply_send(r, msg, len);
    }
}

static bool has_held(void *arg)
{
    return ((struct user_fix *)arg)->held != NULL;
}

static void user_start(struct user_fix *u)
{
    memset(u, 0, sizeof *u);
    fix_init(&u->f);
    freeing_fix = u;
    u->f.srv = net_server_new(u->f.base, &u->f.limits, user_on_message, u);
    cr_assert(u->f.srv);
}

Test(net_conn, per_connection_user_state_lives_as_long_as_the_connection)
{
    struct user_fix u;
    user_start(&u);
    struct client c;
    connect_pair(&u.f, &c);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 1);
    for (int i = 0; i < 3; i++)
        send_frame(&c, m.data, (uint32_t)m.len);
    struct want w = {&c, 3 * (4 + m.len)};
    cr_assert(fix_pump(&u.f, has_bytes, &w, 5));
    cr_assert_eq(u.same, 2, "the second and third calls see what the first attached");
    cr_assert_str_eq(u.peer, "local", "a pair has no socket address");
    cr_assert_eq(u.frees, 0);
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&u.f);
    cr_assert_eq(u.frees, 1, "freed once, with the connection");
}

Test(net_conn, replacing_user_state_frees_the_old_and_a_closed_connection_takes_none)
{
    struct user_fix u;
    user_start(&u);
    u.f.limits.frame_bytes_max = 64;
    net_server_free(u.f.srv);
    u.f.srv = net_server_new(u.f.base, &u.f.limits, user_on_message, &u);
    struct client c;
    connect_pair(&u.f, &c);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 1);
    u.hold_next = true;
    send_frame(&c, m.data, (uint32_t)m.len);
    cr_assert(fix_pump(&u.f, has_held, &u, 5));
    int *second = malloc(sizeof *second);
    cr_assert_eq(net_reply_conn_set_user(u.held, second, user_free), NET_OK);
    cr_assert_eq(u.frees, 1, "the replaced pointer is freed");
    cr_assert_eq(net_reply_conn_user(u.held), second);
    uint8_t hdr[4];
    put_be32(hdr, 1000);   /* over the 64-byte limit: the server closes */
    bufferevent_write(c.bev, hdr, 4);
    cr_assert(fix_pump(&u.f, has_eof, &c, 5));
    cr_assert_eq(u.frees, 2, "the connection's end frees what is attached");
    cr_assert_null(net_reply_conn_user(u.held));
    cr_assert_str_eq(net_reply_peer(u.held), "closed");
    int stay;
    cr_assert_eq(net_reply_conn_set_user(u.held, &stay, user_free), NET_ERR_CLOSED);
    net_reply_send(u.held, m.data, m.len);   /* dropped; frees the slot */
    tp_buf_free(&m);
    bufferevent_free(c.bev);
    fix_fini(&u.f);
    cr_assert_eq(u.frees, 2);
}
