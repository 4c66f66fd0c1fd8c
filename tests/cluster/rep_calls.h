/* rep_calls.h: clients for the failover tests. Each caller is a thread that sends sets of its
   own keys (or linearizable gets) one at a time on its own connection to one node and records
   every call's start, end and outcome; afterwards, the checks that acknowledged writes are
   present and that no write is in the log twice. */
#ifndef REP_CALLS_H
#define REP_CALLS_H

#include "rep_fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* Per caller; its keys are "wNN-KKKKKK" (caller, call), so at most 100 callers. */
#define REP_CALLS_MAX 20000
#define REP_CALLERS_MAX 100

enum rep_outcome { CALL_OK, CALL_TIMEOUT, CALL_REFUSED, CALL_LOST, CALL_OTHER, CALL_OUTCOMES };
extern const char *const rep_outcome_names[CALL_OUTCOMES];

struct rep_call {
    double start, end;
    enum rep_outcome outcome;
    int code;      /* the error code answered, or -1 */
    bool hint_cut; /* the answer named the cut-off leader as the one to retry at */
};

struct rep_caller {
    int id;
    bool reads;           /* linearizable gets of caller 0's first key instead of sets */
    const char *addr;     /* the node it calls */
    const char *cut_addr; /* the leader that will be cut off */
    atomic_bool *stop;
    struct rep_call *calls;
    atomic_int count; /* calls ended */
    atomic_int ok;
    /* The thread's own. */
    struct net_client cl;
    bool connected;
    int32_t seqid;
    pthread_t thread;
};

/* Starts caller c (zeroed by the caller of this) as thread: sets, or gets when reads. */
void rep_caller_start(struct rep_caller *c, int id, bool reads, const char *addr,
                      const char *cut_addr, atomic_bool *stop);
/* Joins the thread; rep_caller_free frees its calls. */
void rep_caller_join(struct rep_caller *c);
void rep_caller_free(struct rep_caller *c);
/* Waits until every caller of cs[0..count) had each calls acknowledged; asserts. */
void rep_callers_wait_ok(struct rep_caller *cs, int count, int each);

/* Every write acknowledged to a caller in cs[0..count) is on node (its local state). */
void rep_check_acked_present(struct rep *r, int node, const struct rep_caller *cs, int count);
/* Stops node and reads its log up to what it applied: acknowledged writes are in it once,
   refused ones never, the others at most once (their outcome was unknown, and nobody sent
   them again). The log must not be compacted: start the cluster with snapshots off. */
void rep_check_log(struct rep *r, int node, const struct rep_caller *cs, int count);

#endif
