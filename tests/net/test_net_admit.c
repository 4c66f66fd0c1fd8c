/* test_net_admit.c: the accept policy over real sockets (net_admit.c): who makes room when a
   limit is reached, who is refused, and the reserved slots only a trusted connection keeps. */
#include "net_sock.h"

/* Connects, sends one call and pumps until it is handed up (held or answered). */
static int connect_and_call(struct fix *f, int32_t n)
{
    int fd = connect_to(net_server_port(f->srv));
    tp_buf m;
    tp_buf_init(&m);
    make_call(&m, n);
    size_t before = f->messages;
    cr_assert_eq(write(fd, m.data, m.len), (ssize_t)m.len);
    double deadline = fix_now() + 5;
    while (f->messages == before && fix_now() < deadline)
        fix_settle(f, 0.005);
    cr_assert_gt(f->messages, before, "the call arrived");
    tp_buf_free(&m);
    return fd;
}

/* Whether the server closed fd (pumping the loop up to seconds). */
static bool closed_within(struct fix *f, int fd, double seconds)
{
    struct sock_wait w = {.fd = fd};
    return fix_pump(f, sock_ready, &w, seconds) && w.eof;
}

static void read_answer(struct fix *f, int fd)
{
    struct sock_wait w = {.fd = fd, .want = 1};
    cr_assert(fix_pump(f, sock_ready, &w, 5));
    cr_assert_not(w.eof, "answered, not closed");
}

Test(net_admit, over_the_limit_the_least_recently_active_idle_connection_makes_room)
{
    struct fix f;
    fix_init(&f);
    f.limits.connections_max = 2;
    start_listening(&f);
    int a = connect_and_call(&f, 1);
    int b = connect_and_call(&f, 2);
    read_answer(&f, a);
    read_answer(&f, b);
    a = (close(a), connect_and_call(&f, 3));   /* a again: now b is the least recent */
    read_answer(&f, a);
    int c = connect_and_call(&f, 4);
    read_answer(&f, c);
    cr_assert(closed_within(&f, b, 5), "b, idle the longest, made room");
    cr_assert_not(closed_within(&f, a, 0.05));
    cr_assert_eq(net_server_connection_count(f.srv), 2);
    close(a);
    close(b);
    close(c);
    fix_fini(&f);
}

Test(net_admit, when_every_connection_is_busy_a_newcomer_is_refused)
{
    struct fix f;
    fix_init(&f);
    f.limits.connections_max = 2;
    start_listening(&f);
    f.hold = true;   /* both keep a request unanswered: neither is idle */
    int a = connect_and_call(&f, 1);
    int b = connect_and_call(&f, 2);
    int c = connect_to(net_server_port(f.srv));
    cr_assert(closed_within(&f, c, 5), "the newcomer is refused");
    fix_answer(&f, 0);
    fix_answer(&f, 1);
    read_answer(&f, a);
    read_answer(&f, b);
    close(a);
    close(b);
    close(c);
    fix_fini(&f);
}

Test(net_admit, one_address_holds_at_most_its_share_and_makes_room_from_its_own)
{
    struct fix f;
    fix_init(&f);
    f.limits.connections_per_address_max = 2;
    start_listening(&f);
    int a = connect_and_call(&f, 1);
    int b = connect_and_call(&f, 2);
    read_answer(&f, a);
    read_answer(&f, b);
    int c = connect_and_call(&f, 3);
    cr_assert(closed_within(&f, a, 5), "the address's own least recent connection went");
    read_answer(&f, c);
    f.hold = true;
    int d = connect_and_call(&f, 4);   /* takes b's place (b is idle); then both are busy */
    cr_assert(closed_within(&f, b, 5));
    int e = connect_and_call(&f, 5);   /* c is idle: it goes */
    cr_assert(closed_within(&f, c, 5));
    int g = connect_to(net_server_port(f.srv));
    cr_assert(closed_within(&f, g, 5), "d and e are busy: the address is at its limit");
    close(a), close(b), close(c), close(d), close(e), close(g);
    fix_fini(&f);
}

Test(net_admit, a_reserved_slot_is_kept_only_by_a_connection_the_layer_above_trusts)
{
    struct fix f;
    fix_init(&f);
    f.limits.connections_max = 1;
    f.limits.reserved_connections = 1;
    f.limits.reserved_probation_ms = 300;
    start_listening(&f);
    f.hold = true;
    int busy = connect_and_call(&f, 1);
    cr_assert_eq(f.reserved_seen, 0);
    double t0 = fix_now();
    int stranger = connect_and_call(&f, 2);
    cr_assert_eq(f.reserved_seen, 1, "the newcomer sits in the reserved slot");
    cr_assert(closed_within(&f, stranger, 5), "not trusted: closed after its probation");
    cr_assert_geq(fix_now() - t0, 0.25, "not before the probation ended");
    f.hold = false;
    f.trust = true;
    int peer = connect_and_call(&f, 3);
    cr_assert_eq(f.reserved_seen, 2);
    read_answer(&f, peer);
    cr_assert_not(closed_within(&f, peer, 0.5), "trusted: kept past the probation");
    /* The reserved slot is free again: a newcomer gets it (on probation), not a refusal at
       once. Timed from before connect, so a stalled test process only makes it look later. */
    double t1 = fix_now();
    int late = connect_to(net_server_port(f.srv));
    cr_assert(closed_within(&f, late, 5), "not trusted: closed after its probation");
    cr_assert_geq(fix_now() - t1, 0.25, "admitted to the reserved slot, not refused at once");
    close(busy), close(stranger), close(peer), close(late);
    fix_fini(&f);
}

Test(net_admit, a_trusted_connection_never_makes_room)
{
    struct fix f;
    fix_init(&f);
    f.limits.connections_max = 1;
    start_listening(&f);
    f.trust = true;
    int peer = connect_and_call(&f, 1);
    read_answer(&f, peer);
    int c = connect_to(net_server_port(f.srv));
    cr_assert(closed_within(&f, c, 5), "the newcomer is refused, the idle peer stays");
    cr_assert_not(closed_within(&f, peer, 0.05));
    close(peer);
    close(c);
    fix_fini(&f);
}
