/* names.c: the strings for error codes, roles and message types. */
#include "consensus.h"

const char *consensus_strerror(int err)
{
    switch (err) {
#define CONSENSUS_ERR_CASE(name, value, text)                                                  \
    case value:                                                                                \
        return text;
        CONSENSUS_ERRORS(CONSENSUS_ERR_CASE)
#undef CONSENSUS_ERR_CASE
    default:
        return "unknown consensus error";
    }
}

const char *consensus_role_name(enum consensus_role role)
{
    switch (role) {
    case CONSENSUS_FOLLOWER:
        return "follower";
    case CONSENSUS_CANDIDATE:
        return "candidate";
    case CONSENSUS_LEADER:
        return "leader";
    case CONSENSUS_PRE_CANDIDATE:
        return "pre-candidate";
    }
    return "?";
}

const char *consensus_msg_type_name(enum consensus_msg_type type)
{
    static const char *const names[CONSENSUS_MSG_TYPE_COUNT] = {
        [CONSENSUS_MSG_APPEND] = "MsgApp",
        [CONSENSUS_MSG_APPEND_RESP] = "MsgAppResp",
        [CONSENSUS_MSG_COMMIT] = "MsgCommit",
        [CONSENSUS_MSG_COMMIT_RESP] = "MsgCommitResp",
        [CONSENSUS_MSG_VOTE] = "MsgVote",
        [CONSENSUS_MSG_VOTE_RESP] = "MsgVoteResp",
        [CONSENSUS_MSG_SNAPSHOT] = "MsgSnap",
        [CONSENSUS_MSG_SNAPSHOT_RESP] = "MsgSnapResp",
        [CONSENSUS_MSG_READ_INDEX] = "MsgReadIndex",
        [CONSENSUS_MSG_READ_INDEX_RESP] = "MsgReadIndexResp",
        [CONSENSUS_MSG_TIMEOUT_NOW] = "MsgTimeoutNow",
    };
    if ((unsigned)type >= CONSENSUS_MSG_TYPE_COUNT)
        return "MsgUnknown";
    return names[type];
}

const char *consensus_progress_state_name(enum consensus_progress_state state)
{
    switch (state) {
    case CONSENSUS_PROGRESS_PROBE:
        return "probe";
    case CONSENSUS_PROGRESS_REPLICATE:
        return "replicate";
    case CONSENSUS_PROGRESS_SNAPSHOT:
        return "snapshot";
    }
    return "?";
}
