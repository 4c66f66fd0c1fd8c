/* test_call.h: the one request helper of the suites that talk to a real kvnode: a call sent,
   its reply received and checked (sequence id, method, message type) within a deadline, and
   a failure that names the method, the node and what went wrong. */
#ifndef TESTS_TEST_CALL_H
#define TESTS_TEST_CALL_H

#include "kvstore.h"
#include "net_client.h"

#include <stdint.h>

/* One method's client half as data; TEST_METHOD(setKey) names it. The generated send, recv,
   result_init and result_free behind it take the method's own types. */
struct test_method {
    const char *name;
    int (*send)(tp_buf *b, int32_t seqid, const void *request);
    int (*recv)(tp_reader *r, int32_t seqid, void *result, tp_app_exception *ax);
    void (*result_init)(void *result);
    void (*result_free)(void *result);
    /* The ErrorCode a decoded answer carries (0: none), or NULL for a method whose answer
       has none (ping, the peer calls). */
    int (*error_code)(const void *result);
};

/* The methods whose answer carries an ErrorCode, and the others. */
#define TEST_METHODS_CODED(X)                                                                \
    X(get) X(setKey) X(deleteKey) X(getRange) X(getReadVersion) X(snapshotRead)             \
    X(snapshotGetRange) X(atomicCommit) X(getCommittedVersion) X(getClusterHealth)           \
    X(getNodeInfo) X(openSession) X(closeSession) X(watch) X(transferLeader) X(listMembers)    \
    X(changeMember)
#define TEST_METHODS_PLAIN(X)                                                                \
    X(ping) X(peerChallenge) X(peerAuthenticate) X(appendEntry) X(commitNotification)        \
    X(requestVote) X(installSnapshot) X(readIndex)
#define TEST_METHOD_DECLARE_(m) extern const struct test_method test_method_##m;
TEST_METHODS_CODED(TEST_METHOD_DECLARE_)
TEST_METHODS_PLAIN(TEST_METHOD_DECLARE_)
#undef TEST_METHOD_DECLARE_
#define TEST_METHOD(m) (&test_method_##m)

/* Why a call failed: "setKey to 127.0.0.1:4001 (seqid 7): reply has seqid 5". */
struct test_call_error {
    char text[256];
};

/* Each returns 0, or -1 with why in err (may be NULL). A call's deadline is the client's
   timeout_ms (set at connect), counted from when it is sent; test_recv waits that long. */
int test_send(struct net_client *c, const struct test_method *m, int32_t seqid,
              const void *request, struct test_call_error *err);
/* Receives the reply to seqid into result, which this initializes (and, on failure, leaves
   freed and initialized again: freeing it is always safe). */
int test_recv(struct net_client *c, const struct test_method *m, int32_t seqid, void *result,
              struct test_call_error *err);
int test_call(struct net_client *c, const struct test_method *m, int32_t seqid,
              const void *request, void *result, struct test_call_error *err);

/* The same, failing the test with err's text on any failure. */
void test_send_ok(struct net_client *c, const struct test_method *m, int32_t seqid,
                  const void *request);
void test_recv_ok(struct net_client *c, const struct test_method *m, int32_t seqid,
                  void *result);
void test_call_ok(struct net_client *c, const struct test_method *m, int32_t seqid,
                  const void *request, void *result);

/* A sequence id no other call of this process used. */
int32_t test_seqid(void);

#endif
