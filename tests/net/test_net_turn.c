/* test_net_turn.c: the end of a loop turn (net_turn.h) with fake participants: its steps run
   in the documented order whatever order they joined and wanted in, after the iteration's
   other callbacks; work a step makes for an earlier one waits for the next iteration's I/O;
   endless work yields to the loop; parts may leave mid-turn. */
#include "net_turn.h"
#include "test_seed.h"

#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PARTS_MAX 32
#define LOG_MAX 256

struct fake {
    struct net_turn_part part;
    int id;
    struct world *w;
    int rewant;                   /* runs that want it again */
    struct fake *wants;           /* a part it wants when it runs */
    struct fake *leaves;          /* a part it makes leave when it runs */
    struct event *io;             /* an event it activates when it first runs */
    int sock;                     /* a socket it writes a byte to when it first runs, or -1 */
};

struct world {
    struct event_base *base;
    struct fake parts[PARTS_MAX];
    int log[LOG_MAX];
    int count;
};

static void fake_run(void *arg)
{
    struct fake *f = arg;
    cr_assert_lt(f->w->count, LOG_MAX);
    f->w->log[f->w->count++] = f->id;
    if (f->rewant > 0) {
        f->rewant--;
        net_turn_want(&f->part);
    }
    if (f->wants)
        net_turn_want(&f->wants->part);
    if (f->io)
        event_active(f->io, EV_READ, 0);
    f->io = NULL;
    if (f->sock >= 0)
        cr_assert_eq(write(f->sock, "x", 1), 1);
    f->sock = -1;
    if (f->leaves)
        net_turn_leave(&f->leaves->part);
}

static struct fake *join(struct world *w, int id, enum net_turn_step step)
{
    struct fake *f = &w->parts[id];
    *f = (struct fake){.id = id, .w = w, .sock = -1};
    cr_assert_eq(net_turn_join(&f->part, w->base, step, fake_run, f), 0);
    return f;
}

static void leave_all(struct world *w)
{
    for (int i = 0; i < PARTS_MAX; i++)
        net_turn_leave(&w->parts[i].part);
    event_base_free(w->base);
}

/* Loop iterations (each polls once, without blocking) until n runs are logged, 10 at most. */
static void run_until(struct world *w, int n)
{
    for (int i = 0; i < 10 && w->count < n; i++)
        cr_assert_geq(event_base_loop(w->base, EVLOOP_NONBLOCK), 0);
}

static void expect_log(const struct world *w, const int *ids, int n)
{
    char got[512] = "";
    for (int i = 0; i < w->count; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), " %d", w->log[i]);
    cr_assert_eq(w->count, n, "ran:%s", got);
    for (int i = 0; i < n; i++)
        cr_assert_eq(w->log[i], ids[i], "run %d:%s", i, got);
}

Test(net_turn, steps_run_in_the_documented_order_whatever_order_they_wanted_in)
{
    struct world w = {.base = event_base_new()};
    /* Parts 0..7 join in reverse step order and want in another order still. */
    for (int s = NET_TURN_STEPS - 1; s >= 0; s--)
        join(&w, s, (enum net_turn_step)s);
    static const int wants[NET_TURN_STEPS] = {5, 2, 7, 0, 3, 6, 1, 4};
    for (int i = 0; i < NET_TURN_STEPS; i++)
        net_turn_want(&w.parts[wants[i]].part);
    net_turn_want(&w.parts[3].part);   /* twice: runs once */
    cr_assert_geq(event_base_loop(w.base, EVLOOP_NONBLOCK), 0);
    static const int order[NET_TURN_STEPS] = {0, 1, 2, 3, 4, 5, 6, 7};
    expect_log(&w, order, NET_TURN_STEPS);
    cr_assert_str_eq(net_turn_step_name(NET_TURN_READY), "ready turn");
    leave_all(&w);
}

/* Random joins and wants: always step order, and join order within a step. */
Test(net_turn, any_joins_and_wants_run_by_step_then_join_order)
{
    uint64_t seed = test_seed_for("net_turn any_joins_and_wants");
    for (int round = 0; round < 200; round++) {
        struct world w = {.base = event_base_new()};
        uint64_t x = seed + (uint64_t)round * 0x9e3779b97f4a7c15ull + 1;
        int step_of[PARTS_MAX];
        for (int id = 0; id < PARTS_MAX; id++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            step_of[id] = (int)(x % NET_TURN_STEPS);
            join(&w, id, (enum net_turn_step)step_of[id]);
        }
        bool wanted[PARTS_MAX] = {false};
        for (int k = 0; k < PARTS_MAX; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int id = (int)(x % PARTS_MAX);
            wanted[id] = true;
            net_turn_want(&w.parts[id].part);
        }
        cr_assert_geq(event_base_loop(w.base, EVLOOP_NONBLOCK), 0);
        int expect[PARTS_MAX], n = 0;
        for (int s = 0; s < NET_TURN_STEPS; s++)
            for (int id = 0; id < PARTS_MAX; id++)
                if (wanted[id] && step_of[id] == s)
                    expect[n++] = id;
        expect_log(&w, expect, n);
        leave_all(&w);
    }
}

static void note_io(evutil_socket_t fd, short what, void *arg)
{
    struct world *w = arg;
    (void)fd, (void)what;
    w->log[w->count++] = 100;
}

/* The turn has the lowest priority: an event of the default one activated after the want
   still runs first. */
Test(net_turn, it_runs_after_the_iterations_other_callbacks)
{
    struct world w = {.base = event_base_new()};
    cr_assert_eq(event_base_priority_init(w.base, 3), 0);
    join(&w, 0, NET_TURN_CLIENT_FLUSH);
    struct event *io = event_new(w.base, -1, 0, note_io, &w);
    net_turn_want(&w.parts[0].part);
    event_active(io, EV_READ, 0);
    cr_assert_geq(event_base_loop(w.base, EVLOOP_NONBLOCK), 0);
    static const int order[] = {100, 0};
    expect_log(&w, order, 2);
    event_free(io);
    leave_all(&w);
}

/* Work for a later step runs in this pass; for an earlier step or the same, at the end of the
   next iteration, after what became active meanwhile (at the server's priorities: I/O above
   the turn), as a group commit takes in the writes read meanwhile. */
Test(net_turn, work_for_an_earlier_step_waits_for_the_next_iterations_io)
{
    struct world w = {.base = event_base_new()};
    cr_assert_eq(event_base_priority_init(w.base, 3), 0);
    struct fake *ready = join(&w, 0, NET_TURN_READY);
    struct fake *replies = join(&w, 1, NET_TURN_REPLY_ROUTES);
    struct fake *client = join(&w, 2, NET_TURN_CLIENT_FLUSH);
    ready->wants = replies;    /* an apply answers a route: this pass */
    client->wants = ready;     /* a flush lets in a write: the next iteration */
    struct event *io = event_new(w.base, -1, 0, note_io, &w);
    client->io = io;           /* a read that arrived meanwhile */
    net_turn_want(&client->part);
    run_until(&w, 4);
    static const int order[] = {2, 100, 0, 1};
    expect_log(&w, order, 4);
    event_free(io);
    leave_all(&w);
}

static void note_read(evutil_socket_t fd, short what, void *arg)
{
    char c;
    cr_assert_eq(read(fd, &c, 1), 1);
    note_io(fd, what, arg);
}

/* The same with real I/O: a byte that reaches a socket while the turn runs is read (a poll)
   before the turn runs again. libevent would run an event re-activated from its own callback
   in the same pass, with no poll between: the group commit would then sync what the turn let
   in apart from the writes the sockets already hold (bench/RESULTS.md, issue 15 item 2). */
Test(net_turn, work_for_an_earlier_step_waits_for_a_poll)
{
    struct world w = {.base = event_base_new()};
    cr_assert_eq(event_base_priority_init(w.base, 3), 0);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct event *io = event_new(w.base, sv[0], EV_READ | EV_PERSIST, note_read, &w);
    cr_assert_eq(event_priority_set(io, 1), 0);
    cr_assert_eq(event_add(io, NULL), 0);
    struct fake *f = join(&w, 0, NET_TURN_COMMIT);
    f->rewant = 1;
    f->sock = sv[1];
    net_turn_want(&f->part);
    run_until(&w, 3);
    static const int order[] = {0, 100, 0};
    expect_log(&w, order, 3);
    event_free(io);
    close(sv[0]);
    close(sv[1]);
    leave_all(&w);
}

/* A part that always has more work runs once per iteration: the loop's own events run in
   between. */
Test(net_turn, endless_work_yields_to_the_loop)
{
    struct world w = {.base = event_base_new()};
    cr_assert_eq(event_base_priority_init(w.base, 3), 0);
    struct fake *f = join(&w, 0, NET_TURN_COMMIT);
    f->rewant = 3;
    f->io = event_new(w.base, -1, 0, note_io, &w);
    struct event *io = f->io;
    net_turn_want(&f->part);
    run_until(&w, 5);
    static const int order[] = {0, 100, 0, 0, 0};
    expect_log(&w, order, 5);
    event_free(io);
    leave_all(&w);
}

/* Parts may leave while the turn runs: one that would run later does not; the last part
   leaving frees the turn only when the run ends (ASan checks both). */
Test(net_turn, parts_may_leave_mid_turn)
{
    struct world w = {.base = event_base_new()};
    struct fake *a = join(&w, 0, NET_TURN_READY);
    struct fake *b = join(&w, 1, NET_TURN_PEER_FLUSH);
    a->leaves = b;
    net_turn_want(&a->part);
    net_turn_want(&b->part);
    cr_assert_geq(event_base_loop(w.base, EVLOOP_NONBLOCK), 0);
    static const int order[] = {0};
    expect_log(&w, order, 1);
    a->leaves = a;             /* the last part leaves inside its own run */
    net_turn_want(&a->part);
    cr_assert_geq(event_base_loop(w.base, EVLOOP_NONBLOCK), 0);
    cr_assert_eq(w.count, 2);
    leave_all(&w);
}
