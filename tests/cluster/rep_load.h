/* rep_load.h: a background writer for the process tests: one write at a time through a live
   node (moving on when one goes away or refuses), each acknowledged key kept, so a test can
   show none is lost after what it did to the cluster. */
#ifndef REP_LOAD_H
#define REP_LOAD_H

#include "rep_fixture.h"

#include <pthread.h>
#include <stdatomic.h>

struct rep_load {
    char addr[REP_NODES_MAX][64];
    atomic_uint alive;   /* the slots the writer may call (a bit each) */
    atomic_bool stop;
    char prefix;         /* keys are "<prefix>%06d" */
    int keys_max;        /* the writer stops by itself after this many */
    char (*keys)[16];    /* the acknowledged keys, in order */
    atomic_int count;    /* acknowledged */
    int unknown;         /* TIMEOUT or a lost reply: may or may not be applied */
    double last_ack, window; /* the longest time between two acknowledgements, s */
    pthread_t thread;
};

/* Starts the writer on r's bootstrap nodes (slots 0 .. REP_NODES-1). */
struct rep_load *rep_load_start(struct rep *r, char prefix, int keys_max);
/* Lets the writer call slot node at addr (yes), or keeps it off that slot (addr unused). */
void rep_load_allow(struct rep_load *w, int node, const char *addr, bool yes);
/* Waits until n more writes were acknowledged (writes go on); asserts within REP_WAIT_S. */
void rep_load_wait_more(struct rep_load *w, int n, const char *when);
/* Stops the writer and prints what it did (name: the test's); the number acknowledged. */
int rep_load_stop(struct rep_load *w, const char *name);
/* After rep_load_stop: every acknowledged key is on every running node of r (local reads
   once the nodes converged); asserts. */
void rep_load_check(struct rep *r, const struct rep_load *w);
void rep_load_free(struct rep_load *w);

#endif
