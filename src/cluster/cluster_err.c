/* cluster_err.c: names of the cluster errors, and their IDL ErrorCode. */
#include "cluster.h"

#include "kvstore.h"

const char *cluster_strerror(int err)
{
    switch (err) {
#define CLUSTER_ERR_TEXT(name, value, text) \
    case value:                             \
        return text;
        CLUSTER_ERRORS(CLUSTER_ERR_TEXT)
#undef CLUSTER_ERR_TEXT
    default:
        return "unknown cluster error";
    }
}

int cluster_err_to_error_code(int err)
{
    switch (err) {
    case CLUSTER_OK: return ErrorCode_OK;
    case CLUSTER_ERR_INVALID: return ErrorCode_INVALID_ARGUMENT;
    case CLUSTER_ERR_NOT_LEADER: return ErrorCode_NOT_LEADER;
    case CLUSTER_ERR_BUSY: return ErrorCode_BUSY;
    /* A different entry took its index: it never will be applied; retry at the leader. */
    case CLUSTER_ERR_LOST: return ErrorCode_NOT_LEADER;
    case CLUSTER_ERR_TOO_LARGE: return ErrorCode_TRANSACTION_TOO_LARGE;
    case CLUSTER_ERR_UNAUTHORIZED: return ErrorCode_UNAUTHORIZED;
    case CLUSTER_ERR_CLOSED: return ErrorCode_SHUTTING_DOWN;
    case CLUSTER_ERR_NOMEM: return ErrorCode_INTERNAL;
    /* Membership changes the core refused (nothing was logged). */
    case CLUSTER_ERR_CHANGE_PENDING: return ErrorCode_MEMBER_CHANGE_PENDING;
    case CLUSTER_ERR_NOT_MEMBER: return ErrorCode_NOT_MEMBER;
    case CLUSTER_ERR_LAST_VOTER: return ErrorCode_LAST_VOTER;
    case CLUSTER_ERR_LEARNER_BEHIND: return ErrorCode_LEARNER_BEHIND;
    case CLUSTER_ERR_FULL: return ErrorCode_MEMBERS_FULL;
    case CLUSTER_ERR_NO_LEADER:
    case CLUSTER_ERR_UNREACHABLE:
    case CLUSTER_ERR_IGNORED:
    case CLUSTER_ERR_IO: return ErrorCode_UNAVAILABLE;   /* storage failed: refuses everything */
    /* The core held it, or what happened is unknown: it may be applied. */
    case CLUSTER_ERR_TIMEOUT:
    default: return ErrorCode_TIMEOUT;
    }
}
