/* server_handlers.c: the dispatch table: one handler per TransactionalKV method. */
#include "server_handlers.h"

#include "server_watch.h"

const server_handler_fn server_handlers[TransactionalKV_METHOD_COUNT] = {
    [TransactionalKV_METHOD_ping] = server_handle_ping,
    [TransactionalKV_METHOD_get] = server_handle_get,
    [TransactionalKV_METHOD_setKey] = server_handle_set_key,
    [TransactionalKV_METHOD_deleteKey] = server_handle_delete_key,
    [TransactionalKV_METHOD_getRange] = server_handle_get_range,
    [TransactionalKV_METHOD_getReadVersion] = server_handle_get_read_version,
    [TransactionalKV_METHOD_snapshotRead] = server_handle_snapshot_read,
    [TransactionalKV_METHOD_snapshotGetRange] = server_handle_snapshot_get_range,
    [TransactionalKV_METHOD_atomicCommit] = server_handle_atomic_commit,
    [TransactionalKV_METHOD_getCommittedVersion] = server_handle_get_committed_version,
    [TransactionalKV_METHOD_getClusterHealth] = server_handle_get_cluster_health,
    [TransactionalKV_METHOD_getNodeInfo] = server_handle_get_node_info,
    [TransactionalKV_METHOD_openSession] = server_handle_open_session,
    [TransactionalKV_METHOD_closeSession] = server_handle_close_session,
    [TransactionalKV_METHOD_watch] = server_handle_watch,
    [TransactionalKV_METHOD_transferLeader] = server_handle_transfer_leader,
    [TransactionalKV_METHOD_listMembers] = server_handle_list_members,
    [TransactionalKV_METHOD_changeMember] = server_handle_change_member,
    /* Standalone: no peers. A challenge is harmless; everything else is refused. */
    [TransactionalKV_METHOD_peerChallenge] = server_handle_peer_challenge,
    [TransactionalKV_METHOD_peerAuthenticate] = server_handle_peer_refused,
    [TransactionalKV_METHOD_appendEntry] = server_handle_peer_refused,
    [TransactionalKV_METHOD_commitNotification] = server_handle_peer_refused,
    [TransactionalKV_METHOD_requestVote] = server_handle_peer_refused,
    [TransactionalKV_METHOD_installSnapshot] = server_handle_peer_refused,
    [TransactionalKV_METHOD_readIndex] = server_handle_peer_refused,
    [TransactionalKV_METHOD_timeoutNow] = server_handle_peer_refused,
};
