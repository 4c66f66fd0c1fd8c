/* interop_methods.h: every TransactionalKV method's args and result as data, for tests that
 * walk the whole service (the dispatch table has no args_write, result_read or _equal). */
#ifndef INTEROP_METHODS_H
#define INTEROP_METHODS_H

#include <stdbool.h>
#include <stddef.h>

#include "kvstore.h"

/* The service's methods in IDL order; im_methods[] follows it and a test checks it against
 * TransactionalKV_methods[]. */
#define IM_METHODS(X)                                                                      \
    X(ping) X(get) X(setKey) X(deleteKey) X(getRange) X(getReadVersion) X(snapshotRead)    \
    X(snapshotGetRange) X(atomicCommit) X(getCommittedVersion) X(getClusterHealth)         \
    X(getNodeInfo) X(openSession) X(closeSession) X(watch) X(transferLeader)               \
    X(listMembers) X(changeMember)                                                         \
    X(peerChallenge) X(peerAuthenticate) X(appendEntry) X(commitNotification)              \
    X(requestVote) X(installSnapshot) X(readIndex) X(timeoutNow)

/* One generated struct type behind void pointers. */
typedef struct im_type {
    const char *name;
    size_t size;
    void (*init)(void *);
    void (*free)(void *);
    int (*write)(const void *, tp_buf *);
    int (*read)(void *, tp_reader *);
    bool (*equal)(const void *, const void *);
} im_type;

typedef struct im_method {
    const char *name;
    int id;
    im_type args;
    im_type result;
    /* The generated client calls: send writes a whole CALL from args->request; recv reads a
     * whole reply (0, TP_ERR_APP_EXCEPTION with appex filled, or an error). */
    int (*send)(tp_buf *out, int32_t seqid, const void *args);
    int (*recv)(tp_reader *in, int32_t seqid, void *result, tp_app_exception *appex);
} im_method;

extern const im_method im_methods[TransactionalKV_METHOD_COUNT];
extern const im_type im_kv_command;

/* NULL if no method has that name. */
const im_method *im_method_find(const char *name, size_t name_len);

#endif
