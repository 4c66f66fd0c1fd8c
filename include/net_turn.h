/* net_turn.h: the end of a loop turn, after redis' beforeSleep: one event at the loop's lowest
   priority (it runs once this iteration's reads, timers and peer replies are done) runs, in
   one fixed order, every step that said it has work. A module never activates an event of its
   own for that work: it joins the turn for its step and calls net_turn_want.

   The order (one place; HACKING.md repeats it):
     1. peer failures   peer calls that failed, handed to the cluster as replies (inputs first)
     2. ready turn      the cluster's consensus batch: persist, send, commit, apply the
                        committed entries to the store, hand results to waiting proposals
                        (cluster_io_wal.c's "schedule a turn")
     3. commit          standalone's group commit: sync the log, apply, answer the writes
     4. replies         writes routed to the leader (answered or tried again), reads waiting
                        for a version to be applied, watches that saw a change
     5. peer flush      each peer link's batch, one write per link
     6. client flush    each client connection's batch, one write per connection
   One pass per loop iteration, as beforeSleep: work a step makes for a later step runs in this
   pass; for an earlier step or itself (a client flush lets in a request that proposes a
   write), at the end of the next iteration, after that iteration's reads, so that a group
   commit takes in what came meanwhile instead of syncing a few writes at once. Within a step,
   participants run in the order they joined.

   One turn per event_base: every module on a loop finds the same one by its base.
   Single-threaded: only the loop's thread calls these. */
#ifndef NET_TURN_H
#define NET_TURN_H

#include <stdbool.h>

struct event_base;

enum net_turn_step {
    NET_TURN_PEER_FAILURES,
    NET_TURN_READY,
    NET_TURN_COMMIT,
    NET_TURN_REPLY_ROUTES,
    NET_TURN_REPLY_VWAITS,
    NET_TURN_REPLY_WATCHES,
    NET_TURN_PEER_FLUSH,
    NET_TURN_CLIENT_FLUSH,
    NET_TURN_STEPS
};

struct net_turn;

/* One participant, kept in its module's state. */
struct net_turn_part {
    struct net_turn *turn;
    enum net_turn_step step;
    void (*run)(void *arg);
    void *arg;
    bool wanted;
    unsigned pass;                /* the pass it last ran in */
    struct net_turn_part *next;   /* the next of its step, in join order */
};

/* Joins base's turn (made on first use) for step. 0, or -1 out of memory. */
int net_turn_join(struct net_turn_part *p, struct event_base *base, enum net_turn_step step,
                  void (*run)(void *arg), void *arg);
/* Leaves it (a part that never joined, or left, is ignored); the last to leave frees it. */
void net_turn_leave(struct net_turn_part *p);
/* p has work: it runs at the end of this loop iteration; when the turn is running already,
   in this pass if it has not reached p's step yet, else at the end of the next iteration. */
void net_turn_want(struct net_turn_part *p);

/* The name of a step, for logs and tests. */
const char *net_turn_step_name(enum net_turn_step step);

#endif
