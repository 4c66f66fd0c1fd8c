/* net_turn.c: one end-of-turn event per loop, running its steps in order (net_turn.h). */
#include "net_turn.h"

#include <assert.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct net_turn {
    struct event_base *base;
    struct event *ev;
    struct net_turn_part *steps[NET_TURN_STEPS];
    int parts;           /* joined */
    int wanted;          /* parts with work */
    bool active;         /* ev is active */
    bool running;
    bool doomed;         /* the last part left while running: freed when the run ends */
    unsigned pass;       /* counts passes (one per iteration): a part runs once in each */
    struct net_turn *next;
};

/* The turns of this process's loops, by base (tests run several loops). */
static pthread_mutex_t turns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct net_turn *turns;

static const char *const step_names[NET_TURN_STEPS] = {
    [NET_TURN_PEER_FAILURES] = "peer failures", [NET_TURN_READY] = "ready turn",
    [NET_TURN_COMMIT] = "commit",               [NET_TURN_REPLY_ROUTES] = "routes",
    [NET_TURN_REPLY_VWAITS] = "version waits",  [NET_TURN_REPLY_WATCHES] = "watches",
    [NET_TURN_PEER_FLUSH] = "peer flush",       [NET_TURN_CLIENT_FLUSH] = "client flush",
};

const char *net_turn_step_name(enum net_turn_step step)
{
    return step < NET_TURN_STEPS ? step_names[step] : "?";
}

static void activate(struct net_turn *t)
{
    if (t->active || t->running)
        return;
    t->active = true;
    /* The lowest priority the base has now (the owner may set priorities after joining). */
    event_priority_set(t->ev, event_base_get_npriorities(t->base) - 1);
    event_active(t->ev, EV_TIMEOUT, 0);
}

/* The first part of step with work that has not run in this pass, or NULL. */
static struct net_turn_part *first_wanted(struct net_turn *t, int step)
{
    struct net_turn_part *p = t->steps[step];
    while (p && !(p->wanted && p->pass != t->pass))
        p = p->next;
    return p;
}

static void turn_free(struct net_turn *t)
{
    pthread_mutex_lock(&turns_lock);
    struct net_turn **pp = &turns;
    while (*pp != t)
        pp = &(*pp)->next;
    *pp = t->next;
    pthread_mutex_unlock(&turns_lock);
    event_free(t->ev);
    free(t);
}

static void run_turn(evutil_socket_t fd, short what, void *arg)
{
    struct net_turn *t = arg;
    (void)fd, (void)what;
    t->active = false;
    t->running = true;
    t->pass++;
    for (int s = 0; s < NET_TURN_STEPS && !t->doomed; s++) {
        /* From the head each time: a run may make parts leave. */
        struct net_turn_part *p;
        while (!t->doomed && (p = first_wanted(t, s))) {
            p->wanted = false;
            p->pass = t->pass;
            t->wanted--;
            p->run(p->arg);
        }
    }
    t->running = false;
    if (t->doomed) {
        turn_free(t);
    } else if (t->wanted > 0) {
        /* Work for an earlier step: after the next iteration's I/O. Not event_active: libevent
           runs an event activated from a callback of its own priority in the same pass, with
           no poll between, so the group commit would sync what the turn let in (a parked
           write) apart from what the sockets hold. A due timer fires after the next poll. */
        static const struct timeval now = {0, 0};
        t->active = true;
        if (event_add(t->ev, &now) != 0)
            event_active(t->ev, EV_TIMEOUT, 0); /* out of memory: at once, still once a pass */
    }
}

/* base's turn, made if it has none. */
static struct net_turn *turn_of(struct event_base *base)
{
    pthread_mutex_lock(&turns_lock);
    struct net_turn *t = turns;
    while (t && t->base != base)
        t = t->next;
    if (!t && (t = calloc(1, sizeof *t)) != NULL) {
        t->base = base;
        t->ev = event_new(base, -1, 0, run_turn, t);
        if (t->ev) {
            t->next = turns;
            turns = t;
        } else {
            free(t);
            t = NULL;
        }
    }
    pthread_mutex_unlock(&turns_lock);
    return t;
}

int net_turn_join(struct net_turn_part *p, struct event_base *base, enum net_turn_step step,
                  void (*run)(void *arg), void *arg)
{
    assert(step < NET_TURN_STEPS && run);
    struct net_turn *t = turn_of(base);
    if (!t)
        return -1;
    *p = (struct net_turn_part){.turn = t, .step = step, .run = run, .arg = arg};
    struct net_turn_part **pp = &t->steps[step];
    while (*pp)
        pp = &(*pp)->next;
    *pp = p;
    t->parts++;
    return 0;
}

void net_turn_leave(struct net_turn_part *p)
{
    struct net_turn *t = p->turn;
    if (!t)
        return;
    struct net_turn_part **pp = &t->steps[p->step];
    while (*pp != p)
        pp = &(*pp)->next;
    *pp = p->next;
    if (p->wanted)
        t->wanted--;
    p->turn = NULL;
    p->wanted = false;
    if (--t->parts > 0)
        return;
    if (t->running)
        t->doomed = true;
    else
        turn_free(t);
}

void net_turn_want(struct net_turn_part *p)
{
    assert(p->turn);
    if (p->wanted)
        return;
    p->wanted = true;
    p->turn->wanted++;
    activate(p->turn);
}
