/* rep_fixture.h: a real 3-node replicated cluster of kvnode processes on 127.0.0.1 for tests. */
#ifndef REP_FIXTURE_H
#define REP_FIXTURE_H

#include "node_proc.h"

#include <stdbool.h>
#include <stdint.h>

#define REP_NODES 3
/* Slots for nodes added at run time (rep_join): slot i holds member id i. */
#define REP_NODES_MAX 8
/* Every wait in these tests polls a condition against a deadline this long at most. */
#define REP_WAIT_S 20.0

struct rep {
    struct node_proc nodes[REP_NODES_MAX]; /* pid 0: not running (or never started) */
    struct net_client cl[REP_NODES_MAX];
    bool connected[REP_NODES_MAX];
    int32_t seqid;
    uint16_t ports[REP_NODES];             /* the bootstrap members' */
    char extra[512], consensus[256];       /* rep_start_consensus's, for nodes that join */
};

/* Picks three free ports, writes each node's config (extra: more JSON members, may be ""),
   starts all three. Fault injection is on: rep_faults writes a node's fault file. */
void rep_start(struct rep *r, const char *extra);
/* The same with more members of "consensus" (consensus: JSON members, may be ""). */
void rep_start_consensus(struct rep *r, const char *extra, const char *consensus);
void rep_cleanup(struct rep *r);
/* Starts a new node in slot id at port as member id of the running cluster (deployment.join;
   rep_start_consensus's extras too): add it first (changeMember ADD_LEARNER or ADD_VOTER with
   127.0.0.1:port). */
void rep_join(struct rep *r, int id, uint16_t port);
/* The same with deployment.join.cluster_id (16 hex digits; NULL: none). */
void rep_join_in(struct rep *r, int id, uint16_t port, const char *cluster_id);
void rep_kill(struct rep *r, int node);      /* SIGKILL, waited for */
void rep_restart(struct rep *r, int node);
/* Removes a stopped node's data dir: it restarts with an empty log and store. */
void rep_wipe(struct rep *r, int node);

/* The leader node names (-1 when none known, or the node is down). */
int rep_leader_seen_by(struct rep *r, int node);
/* The node that says it leads and that every other live node names as leader (of every
   slot: stop the nodes a test removed); asserts. */
int rep_wait_leader(struct rep *r);
/* Waits until every live node applied the same index with the same digest; asserts. */
void rep_wait_converged(struct rep *r);
/* data_dir/faults of node, written atomically ("" heals). */
void rep_faults(struct rep *r, int node, const char *text);
/* Cuts node off from both others, silently (its fault file: no connection is reset). */
void rep_isolate(struct rep *r, int node);
/* Waits until node heard from neither peer for longer than a few heartbeats: the cut holds. */
void rep_wait_cut(struct rep *r, int node);

/* Calls; 0 with the response filled (free it), or -1 when the connection failed (the
   outcome of a write is then unknown). */
int rep_set(struct rep *r, int node, const char *key, const char *value, SetResponse *out);
int rep_get(struct rep *r, int node, const char *key, bool linearizable, GetResponse *out);
int rep_info(struct rep *r, int node, NodeInfo *out);
/* Every key and value (serializable, local state), up to 100000 pairs. */
int rep_range(struct rep *r, int node, GetRangeResponse *out);
/* For the transaction test: raw access to a node's connection. */
struct net_client *rep_client(struct rep *r, int node);
void rep_disconnect(struct rep *r, int node);

/* Runs $KVCTL with args (stdout and stderr into out, NUL-terminated); its exit code. */
int rep_kvctl(const char *args, char *out, size_t size);

/* A write's answer is a definite refusal (nothing was applied): retry is safe. */
bool rep_refused(bool success, bool has_code, int code);

/* A call to node (reconnecting when its connection failed) made again until the answer is
   not a retryable refusal (UNAVAILABLE, NOT_LEADER, BUSY, TIMEOUT, SHUTTING_DOWN), for up to
   REP_WAIT_S; for session writes, whose retries apply at most once. m is a method whose answer
   carries an ErrorCode; result is the answer (free it). */
bool rep_retryable(int code);
void rep_call_answered(struct rep *r, int node, const struct test_method *m, const void *req,
                       void *result);

/* openSession through node (answered, asserted); the session id. */
int64_t rep_open_session(struct rep *r, int node);
/* setKey through node in session id as write seq (id 0: no session), retried until answered;
   the answer's ErrorCode (0: OK), its version in *version. */
int rep_session_set(struct rep *r, int node, const char *key, const char *value, int64_t id,
                    int64_t seq, int64_t *version);

#endif
