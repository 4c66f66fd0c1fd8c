/* test_net_socket.c: the listener over real TCP sockets on 127.0.0.1. */
#include "net_sock.h"

#include <arpa/inet.h>

Test(net_socket, framed_and_unframed_clients_get_answers_in_their_own_form)
{
    struct fix f;
    fix_init(&f);
    start_listening(&f);
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 5);
    int framed = connect_to(net_server_port(f.srv));
    int unframed = connect_to(net_server_port(f.srv));
    uint8_t frame[4096];
    put_be32(frame, (uint32_t)m.len);
    memcpy(frame + 4, m.data, m.len);
    cr_assert_eq(write(framed, frame, 4 + m.len), (ssize_t)(4 + m.len));
    cr_assert_eq(write(unframed, m.data, m.len), (ssize_t)m.len);
    struct sock_wait a = {.fd = framed, .want = 4 + m.len};
    struct sock_wait b = {.fd = unframed, .want = m.len};
    cr_assert(fix_pump(&f, sock_ready, &a, 5));
    cr_assert(fix_pump(&f, sock_ready, &b, 5));
    cr_assert_eq(a.len, 4 + m.len);
    cr_assert_arr_eq(a.buf, frame, 4 + m.len);
    cr_assert_eq(b.len, m.len);
    cr_assert_arr_eq(b.buf, m.data, m.len);
    close(framed);
    close(unframed);
    tp_buf_free(&m);
    fix_fini(&f);
}

/* Old-style (non-strict) headers start with the name's length, as a frame starts with its
   length: the byte after tells them apart, unframed or framed. */
Test(net_socket, old_style_messages_are_taken_unframed_and_framed)
{
    struct fix f;
    fix_init(&f);
    start_listening(&f);
    const uint8_t old[] = {0, 0, 0, 4, 'p', 'i', 'n', 'g', 1, 0, 0, 0, 7, 0};
    uint8_t frame[4 + sizeof old];
    put_be32(frame, sizeof old);
    memcpy(frame + 4, old, sizeof old);
    int unframed = connect_to(net_server_port(f.srv));
    int framed = connect_to(net_server_port(f.srv));
    for (size_t i = 0; i < sizeof old; i++)   /* a byte at a time: detection waits for five */
        cr_assert_eq(write(unframed, old + i, 1), 1);
    cr_assert_eq(write(framed, frame, sizeof frame), (ssize_t)sizeof frame);
    struct sock_wait a = {.fd = unframed, .want = sizeof old};
    struct sock_wait b = {.fd = framed, .want = sizeof frame};
    cr_assert(fix_pump(&f, sock_ready, &a, 5));
    cr_assert(fix_pump(&f, sock_ready, &b, 5));
    cr_assert_not(a.eof);
    cr_assert_not(b.eof);
    cr_assert_arr_eq(a.buf, old, sizeof old, "echoed unframed");
    cr_assert_arr_eq(b.buf, frame, sizeof frame, "echoed framed");
    close(unframed);
    close(framed);
    fix_fini(&f);
}

Test(net_socket, a_client_gone_before_its_answer_costs_nothing)
{
    struct fix f;
    fix_init(&f);
    start_listening(&f);
    f.hold = true;
    int a = connect_to(net_server_port(f.srv));
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 1);
    cr_assert_eq(write(a, m.data, m.len), (ssize_t)m.len);
    double deadline = fix_now() + 5;
    while (f.held_n == 0 && fix_now() < deadline)
        fix_settle(&f, 0.01);
    cr_assert_eq(f.held_n, 1);
    close(a);
    fix_settle(&f, 0.05);
    fix_answer(&f, 0);   /* a write to a closed socket: an error closes, nothing leaks */
    deadline = fix_now() + 5;
    while (net_server_connection_count(f.srv) > 0 && fix_now() < deadline)
        fix_settle(&f, 0.01);
    cr_assert_eq(net_server_connection_count(f.srv), 0);
    tp_buf_free(&m);
    fix_fini(&f);
}

Test(net_socket, bad_addresses_are_refused)
{
    char host[64];
    uint16_t port;
    cr_assert_eq(net_split_host_port("127.0.0.1", host, sizeof host, &port), NET_ERR_ADDRESS);
    cr_assert_eq(net_split_host_port("127.0.0.1:99999", host, sizeof host, &port),
                 NET_ERR_ADDRESS);
    cr_assert_eq(net_split_host_port("127.0.0.1:-1", host, sizeof host, &port), NET_ERR_ADDRESS);
    cr_assert_eq(net_split_host_port("127.0.0.1:", host, sizeof host, &port), NET_ERR_ADDRESS);
    cr_assert_eq(net_split_host_port("[::1]:80", host, sizeof host, &port), NET_OK);
    cr_assert_str_eq(host, "::1");
    cr_assert_eq(port, 80);
    struct fix f;
    fix_init(&f);
    fix_start(&f);
    cr_assert_eq(net_server_listen(f.srv, "no.such.host.invalid:1"), NET_ERR_RESOLVE);
    fix_fini(&f);
}

static char seen_peer[NET_PEER_ADDR_MAX];

static void peer_on_message(void *ctx, struct net_reply *r, const uint8_t *msg, size_t len)
{
    (void)ctx;
    snprintf(seen_peer, sizeof seen_peer, "%s", net_reply_peer(r));
    net_reply_send(r, msg, len);
}

Test(net_socket, a_connection_knows_its_peer_address)
{
    struct fix f;
    fix_init(&f);
    f.srv = net_server_new(f.base, &f.limits, peer_on_message, NULL);
    cr_assert(f.srv);
    cr_assert_eq(net_server_listen(f.srv, "127.0.0.1:0"), NET_OK);
    int fd = connect_to(net_server_port(f.srv));
    struct sockaddr_in me;
    socklen_t me_len = sizeof me;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&me, &me_len), 0);
    char want[NET_PEER_ADDR_MAX];
    snprintf(want, sizeof want, "127.0.0.1:%u", ntohs(me.sin_port));
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, 1);
    cr_assert_eq(write(fd, m.data, m.len), (ssize_t)m.len);
    struct sock_wait w = {.fd = fd, .want = m.len};
    cr_assert(fix_pump(&f, sock_ready, &w, 5));
    cr_assert_str_eq(seen_peer, want);
    close(fd);
    tp_buf_free(&m);
    fix_fini(&f);
}
