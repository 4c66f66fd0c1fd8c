// kvstore.thrift: every message a node sends or receives, to clients and to peers.
// Keys and values are binary and ordered by memcmp. Field names are snake_case.
// Generated code is produced by codegen/ (thriftc) at build time; never edit it.
//
// The binary protocol, framed (TFramedTransport) or not (TBufferedTransport), with strict
// headers (every stock library's default) or old-style ones (strict write off), on one port.
// A connection may pipeline requests; replies come back in request order, each with its
// request's seqid. Pipelined requests are concurrent: two writes sent without waiting for
// the first reply may commit in either order (each reply names its version). No reply is
// longer than the node's limits.max_reply_bytes (see GetRangeResponse). An enum value this
// file does not name is refused with INVALID_ARGUMENT, the error naming the field.

namespace cpp kvstore
namespace py kvstore

// Stable error codes carried by every response's error_code field.
enum ErrorCode {
  OK = 0,
  NOT_FOUND = 1,
  NOT_LEADER = 2,            // retryable: see leader_hint
  CONFLICT = 3,              // atomicCommit: a read-conflict key changed after read_version
  TRANSACTION_TOO_OLD = 4,   // the read version is below the MVCC window
  FUTURE_VERSION = 5,        // retryable: the read version is still above what this node
                             // applied after waiting consensus.request_timeout_ms for it
  KEY_TOO_LARGE = 6,
  VALUE_TOO_LARGE = 7,
  TRANSACTION_TOO_LARGE = 8,
  INVALID_ARGUMENT = 9,
  UNAVAILABLE = 10,          // retryable: no leader known yet, or no quorum
  TIMEOUT = 11,              // retryable: the outcome is unknown
  BUSY = 12,                 // retryable: too many uncommitted proposals
  UNAUTHORIZED = 13,         // peer method on a connection that did not authenticate
  SHUTTING_DOWN = 14,
  INTERNAL = 15,
  NO_SPACE = 16,             // the node's disk is full: the write was not made; retry once
                             // space is freed (reads are still served)
  SESSION_EXPIRED = 17       // the write's session is gone (expired after its idle timeout,
                             // closed, or pushed out by newer ones) or no longer holds this
                             // write's answer: nothing was applied now, and whether an earlier
                             // try of it was is unknown (it applied at most once). Open a new
                             // session for the next writes
  MEMBER_CHANGE_PENDING = 18, // retryable: a membership change is in flight, or the leader has
                             // not committed an entry of its term yet; retry once it commits
  NOT_MEMBER = 19,           // no member has that id (or, to promote, it is not a learner)
  LAST_VOTER = 20,           // the only voter cannot be removed
  LEARNER_BEHIND = 21,       // retryable: the learner is far behind the leader (or not yet
                             // streaming entries); promote it once it caught up
  MEMBERS_FULL = 22          // 7 voters, or 16 members, already
}

enum Consistency {
  LINEARIZABLE = 0,          // served after a read index round: never stale
  SERIALIZABLE = 1           // local state of the node asked: may be stale
}

enum OperationType {
  SET = 0,
  DELETE = 1,
  CLEAR_RANGE = 2            // removes [key, end_key)
}

enum NodeRole {
  FOLLOWER = 0,
  CANDIDATE = 1,
  LEADER = 2,
  PRE_CANDIDATE = 3,
  STANDALONE = 4
}

struct KeyValue {
  1: required binary key,
  2: required binary value
}

struct KeyRange {
  1: required binary begin_key,
  2: optional binary end_key   // unset: to the end of the key space
}

// ---------------------------------------------------------------- client API

// node_id and leader_id, in every answer: a node's member id, an unsigned integer in decimal.
// Today that is its index in deployment.replica_endpoints (deployment.instance_id); a
// standalone node is "0" unless its deployment.instance_id names another number. Once
// membership changes exist, it is the id the cluster gave the member: still a decimal
// number, never reused. It is never an address: NodeStatus.endpoint is a node's address, and
// leader_hint is the leader's (HOST:PORT), for reconnecting.

// Exactly-once writes (client sessions, as in the Raft dissertation, section 6.3): open a
// session, number the session's writes 1, 2, 3, ... and send every retry of a write with the
// same number. The cluster keeps each write's answer in its replicated session table, so a
// retry that reaches the log again gets the first answer (its version too) and is not applied
// a second time. acked_below tells the cluster which answers the client has: every write
// numbered below it, whose answers may be forgotten; a retry of one of those is refused with
// SESSION_EXPIRED. Writes without a session behave as they always did.
struct SessionRef {
  1: required i64 session_id,        // from openSession
  2: required i64 sequence,          // >= 1; the same for every retry of one write
  3: optional i64 acked_below = 0    // the client has the answer of every write numbered below
}

struct PingRequest {
  1: optional string message
}

struct PingResponse {
  1: required string message,
  2: required i64 timestamp_us,
  3: optional string node_id
}

struct GetRequest {
  1: required binary key,
  2: optional Consistency consistency = Consistency.LINEARIZABLE
}

struct GetResponse {
  1: required bool found,
  2: optional binary value,
  3: required bool success,
  4: optional string error,
  5: optional ErrorCode error_code,
  6: optional string leader_hint,
  7: optional i64 version       // the version the read was served at
}

struct SetRequest {
  1: required binary key,
  2: required binary value,
  3: optional SessionRef session
}

struct SetResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,
  5: optional i64 version       // the version the write committed at
}

struct DeleteRequest {
  1: required binary key,
  2: optional SessionRef session
}

struct DeleteResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,
  5: optional i64 version,
  6: optional bool found        // whether the key existed before the delete
}

struct GetRangeRequest {
  1: required binary begin_key,
  2: optional binary end_key,   // exclusive; unset: to the end of the key space
  3: optional i32 limit = 0,    // 0: the server's default limit
  4: optional bool reverse = false,
  5: optional Consistency consistency = Consistency.LINEARIZABLE
}

// has_more: the reply stopped before the end of the range, by count (the request's limit, or
// the node's limits.max_range_results) or by size: no reply of a node is longer than its
// limits.max_reply_bytes (16,000,000 bytes by default, frame header included: below the
// 16,384,000-byte default frame limit of stock Apache Thrift clients). A reply holds at least
// one pair when the range has one. Read on from just after the last key (its bytes and a 0
// byte; for reverse, up to it), with snapshotGetRange at `version` for one snapshot.
struct GetRangeResponse {
  1: required list<KeyValue> key_values,
  2: required bool has_more,
  3: required bool success,
  4: optional string error,
  5: optional ErrorCode error_code,
  6: optional string leader_hint,
  7: optional i64 version
}

struct GetReadVersionRequest {
  1: optional Consistency consistency = Consistency.LINEARIZABLE
}

struct GetReadVersionResponse {
  1: required i64 version,
  2: required bool success,
  3: optional string error,
  4: optional ErrorCode error_code,
  5: optional string leader_hint
}

// snapshotRead and snapshotGetRange at a read_version this node applied are served at once.
// Above it, the read waits for the apply (bounded by consensus.request_timeout_ms, 2000 ms by
// default) and only then fails FUTURE_VERSION, as FoundationDB's storage servers do: a
// version a client got from any node (a commit's committed_version, another node's read
// version) can be read on every node, even a follower an entry or two behind.
struct SnapshotReadRequest {
  1: required binary key,
  2: required i64 read_version
}

struct SnapshotReadResponse {
  1: required bool found,
  2: optional binary value,
  3: required bool success,
  4: optional string error,
  5: optional ErrorCode error_code,
  6: optional string leader_hint
}

struct SnapshotGetRangeRequest {
  1: required binary begin_key,
  2: optional binary end_key,
  3: required i64 read_version,
  4: optional i32 limit = 0,
  5: optional bool reverse = false
}

struct Operation {
  1: required OperationType type,
  2: required binary key,
  3: optional binary value,     // SET
  4: optional binary end_key    // CLEAR_RANGE: exclusive end
}

struct AtomicCommitRequest {
  1: required i64 read_version,
  2: required list<Operation> operations,
  3: optional list<binary> read_conflict_keys,
  4: optional list<KeyRange> read_conflict_ranges,
  5: optional SessionRef session
}

struct AtomicCommitResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,
  5: optional i64 committed_version
}

// A session lives in the replicated log: its id is the index of the entry that opened it.
// It expires once no write used it for timeout_ms of log time (the leaders' clocks, which
// every entry carries, so every replica expires it at the same entry). At most 16384 are open
// (a new one pushes out the one closest to expiry); one session keeps at most 256 answers
// not acknowledged (past that its oldest is forgotten).
struct OpenSessionRequest {
  1: optional i32 timeout_ms = 0     // 0: the node's sessions.timeout_ms; clamped to its
                                     // sessions.timeout_ms_min .. _max
}

struct OpenSessionResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,
  5: optional i64 session_id,
  6: optional i32 timeout_ms         // the idle timeout the session got
}

struct CloseSessionRequest {
  1: required i64 session_id
}

struct CloseSessionResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,
  5: optional bool found             // the session was open
}

// Waiting for a change, as etcd's watch and FoundationDB's watches do. Any node serves a watch
// from the state it has applied (a follower answers once it applied the change), so a watch
// never waits for the leader. The answer comes as soon as a version after after_version
// changed the key (or a key of the range): events holds every change in (after_version,
// version], in version order (key order within one version), and the next watch starts at
// after_version = version. Nothing is missed: a change that is not in one answer is in the
// next. After timeout_ms without a change the answer has no events and version says how far
// the node looked (watch on from there). Changes are kept for the MVCC window
// (limits.mvcc_window_ms): an after_version below it is refused with TRANSACTION_TOO_OLD; read
// the key or range again (its version) and watch from there. A node holds at most
// limits.max_watches waiting watches (BUSY past it), each connection at most
// limits.max_pending_requests calls; answers come in request order on a connection, so a
// waiting watch holds back the answers of the calls sent after it: give watches a
// connection of their own.
struct WatchRequest {
  1: optional binary key,            // one key, or
  2: optional KeyRange range,        // every key in [begin_key, end_key) (no end: to the end)
  3: required i64 after_version,     // changes at versions above this one
  4: optional i32 timeout_ms = 0     // 0: limits.watch_timeout_ms; capped at it
}

struct WatchEvent {
  1: required i64 version,
  2: required binary key,
  3: optional binary value           // the value written; unset: the key was deleted
}

struct WatchResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,
  5: required list<WatchEvent> events,
  6: required i64 version,           // every change in (after_version, version] is in events
  7: optional bool truncated         // one version changed more keys of the range than one
                                     // answer holds (limits.max_range_results, max_reply_bytes):
                                     // events has the first of them; read the range at version
}

struct GetCommittedVersionRequest {
}

struct GetCommittedVersionResponse {
  1: required i64 version,
  2: required bool success,
  3: optional string error,
  4: optional ErrorCode error_code
}

struct NodeStatus {
  1: required string node_id,
  2: required string endpoint,
  3: required NodeRole role,
  4: required i64 term,
  5: required i64 commit_index,
  6: required i64 applied_index,
  7: required i64 last_log_index,
  8: optional i64 match_index,          // as the leader sees this node
  9: optional i64 last_contact_ms,      // ms since reported_by last heard from it
  10: optional string state_digest,     // hex digest of the state at applied_index
  11: required bool reachable,          // reported_by heard from it within the election timeout
  12: optional string reported_by,      // the node_id whose view this entry is (see ClusterHealth)
  // How the leader replicates to this node (in the leader's view):
  13: optional string replication,      // "probe", "replicate" or "snapshot"
  14: optional i64 lag_entries,         // the leader's last log index minus match_index
  15: optional i64 snapshot_bytes_sent, // "snapshot": bytes of it the node acknowledged,
  16: optional i64 snapshot_bytes       //   of this many
}

struct GetClusterHealthRequest {
}

// getClusterHealth reports what a node knows, and whose knowledge each entry is. A follower
// hears only from the leader, so it asks the leader over the peer link (within
// consensus.peer_call_timeout_ms) and answers the leader's view: reported_by is the leader's
// node_id, except in the follower's own entry (its own, current state). When the leader cannot
// be asked, the follower answers its own view (reported_by its node_id): then another
// follower shows reachable false without last_contact_ms, meaning "never heard from here",
// not "down". last_contact_ms says how fresh the reporter's knowledge of each node is.
struct ClusterHealth {
  1: required bool healthy,             // a leader exists and a majority is reachable
  2: optional string leader_id,
  3: required i64 term,
  4: required list<NodeStatus> nodes,
  5: required bool success,
  6: optional string error,
  7: optional ErrorCode error_code,
  8: optional string reported_by        // whose view healthy and the entries are
}

struct GetNodeInfoRequest {
}

struct NodeInfo {
  1: required string node_id,
  2: required string version,
  3: required string mode,              // "standalone" or "replicated"
  4: required NodeStatus status,
  5: optional string leader_id,
  6: required string data_dir,
  7: required i64 uptime_ms,
  8: required i64 keys,
  9: required i64 memory_bytes,
  10: required i64 snapshot_index,
  11: required bool success,
  12: optional string error,
  13: optional ErrorCode error_code,
  // What the node's HTTP /health and /ready say (src/server/server_health.c), and its client
  // traffic over the last whole second (for kvctl health and the dashboard).
  14: optional bool healthy,
  15: optional string health_reason,     // why not healthy; empty when healthy
  16: optional bool ready,
  17: optional string ready_reason,
  18: optional i64 reads_per_second,
  19: optional i64 writes_per_second,
  20: optional i64 latency_p99_us,       // of client requests, bucket upper bound
  21: optional bool failed,              // storage failed: the node refuses everything
  22: optional string storage_failure,  // set once the node's storage failed (an I/O error, a
                                        // corrupt log): it refuses writes until restarted
  23: optional bool no_space            // its disk is full or below storage.min_free_bytes:
                                        // writes are refused with NO_SPACE, reads served
}

// ------------------------------------------------------ the replicated command

struct ClearRangeCommand {
  1: required binary begin_key,
  2: required binary end_key
}

struct NoopCommand {
}

// What a log entry's data holds: one command the KV state machine applies.
union KvCommand {
  1: SetRequest set_key,
  2: DeleteRequest delete_key,
  3: ClearRangeCommand clear_range,
  4: AtomicCommitRequest atomic_commit,
  5: NoopCommand noop,              // a new leader's first entry
  6: OpenSessionRequest open_session, // timeout_ms as the leader clamped it
  7: CloseSessionRequest close_session
}

// Leadership transfer (kvctl leader transfer): asked of the leader, which brings the target up
// to date and tells it to start an election at once; writes wait meanwhile (at most an
// election timeout: then the transfer is aborted and the old leader goes on).
struct TransferLeaderRequest {
  1: optional string target_id      // a member id; unset: the most up-to-date follower
}

struct TransferLeaderResponse {
  1: required bool success,         // another node leads now: leader_id
  2: optional string error,
  3: optional ErrorCode error_code, // NOT_LEADER (ask leader_hint), INVALID_ARGUMENT (the
                                    // leader itself, an unknown id, no follower, a standalone
                                    // node), BUSY (a transfer is under way), TIMEOUT (the
                                    // target did not win in time: aborted), SHUTTING_DOWN
  4: optional string leader_hint,   // NOT_LEADER: the leader's endpoint
  5: optional string leader_id      // success: the new leader's member id
}

// Membership (kvctl member): the voters and learners, each with the member id the cluster gave
// it (bootstrap members 0..n-1 in the order of deployment.replica_endpoints, added ones the
// next id, never reused). A change is asked of the leader, like a leader transfer: a follower
// answers NOT_LEADER with leader_hint. One change at a time: each waits until the last one
// committed.
struct Member {
  1: required string member_id,
  2: required string endpoint,      // HOST:PORT: its clients' and its peers' address
  3: required bool learner,         // replicated to, never counted in a quorum; promote it once
                                    // it caught up
  4: required bool leader,          // it leads, as the answering node knows
  5: optional i64 match_index,      // how far its log matches the leader's, and
  6: optional i64 lag_entries       //   the leader's last index minus that: set when the node
                                    //   answering leads (and not for itself)
}

struct ListMembersRequest {
}

// Any node answers with the membership in its log (the newest, committed or not); the lags
// come only from the leader (reported_by says who answered: ask the leader for them).
struct ListMembersResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,   // INVALID_ARGUMENT: a standalone node has no members
  4: optional string leader_hint,     // the leader's endpoint, when known
  5: optional list<Member> members,
  6: optional i64 config_index,       // the log index of the membership's entry (0: bootstrap)
  7: optional string reported_by,     // the member id of the node that answered
  8: optional string leader_id,       // the leader's member id, when known
  9: optional string cluster_id       // 16 hex digits (deployment.join.cluster_id), once bound
}

enum MemberChange {
  ADD_VOTER = 0,                      // endpoint: a new member that votes at once (prefer
                                      // ADD_LEARNER, then PROMOTE: no window with a voter that
                                      // has nothing)
  ADD_LEARNER = 1,                    // endpoint: a new member that only receives the log
  PROMOTE = 2,                        // member_id: a learner that caught up becomes a voter
  REMOVE = 3                          // member_id: a voter or a learner, the leader too (it
                                      // steps down once the change commits)
}

struct ChangeMemberRequest {
  1: required MemberChange change,
  2: optional string endpoint,        // ADD_*: HOST:PORT, shorter than 64 bytes, no member's yet
  3: optional string member_id        // PROMOTE, REMOVE
}

// Answered once the change is applied on the leader (committed), or refused before anything
// was logged: NOT_LEADER (ask leader_hint), MEMBER_CHANGE_PENDING, NOT_MEMBER, LAST_VOTER,
// LEARNER_BEHIND, MEMBERS_FULL, INVALID_ARGUMENT (a malformed or taken endpoint, a missing
// field, a standalone node), BUSY, SHUTTING_DOWN; TIMEOUT: the outcome is unknown (list the
// members to see).
struct ChangeMemberResponse {
  1: required bool success,
  2: optional string error,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,     // NOT_LEADER, TIMEOUT: the leader's endpoint, when known
  5: optional string member_id,       // ADD_*: the id the new member got
  6: optional list<Member> members,   // success: the membership after the change
  7: optional i64 config_index,       // success: the log index of its entry
  8: optional string cluster_id       // success: the cluster's id (16 hex digits), once bound:
                                      // the new member's deployment.join.cluster_id
}

// ------------------------------------------------------------------ peer API

struct ConsensusLogEntry {
  1: required i64 index,
  2: required i64 term,
  3: required binary data,          // an encoded KvCommand
  4: required i64 timestamp         // the leader's wall clock, microseconds
}

struct AppendEntryRequest {
  1: required string leader_id,
  2: optional ConsensusLogEntry entry,          // the seed plan's single entry
  3: required i64 prev_log_index,
  4: required i64 prev_log_term,
  5: required i64 leader_term,
  6: optional list<ConsensusLogEntry> entries,  // a batch, after entry if both are set
  7: optional i64 leader_commit,
  8: optional i64 heartbeat_seq,                // the leader's heartbeat round (read index)
  20: optional i64 incarnation,      // member identity (consensus.h): the sender's data dir,
  21: optional i64 cluster_id,       // the cluster id it knows, and the incarnation it holds
  22: optional i64 to_incarnation    // for the receiver; unset when 0 (identity off)
}

struct AppendEntryResponse {
  1: required string node_id,
  2: required bool success,
  3: required i64 index,              // success: last index matched; else the follower's last index
  4: optional string error,
  5: optional i64 term,               // the follower's current term
  6: optional i64 reject_hint_index,  // largest index <= prev_log_index whose term <= prev_log_term
  7: optional i64 reject_hint_term,   // the term at reject_hint_index
  8: optional i64 heartbeat_seq,      // echoes the request's
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

struct CommitNotificationRequest {
  1: required string leader_id,
  2: required i64 commit_index,
  3: required i64 leader_term,
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

struct CommitNotificationResponse {
  1: required bool success,
  2: optional i64 term,
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

struct RequestVoteRequest {
  1: required string candidate_id,
  2: required i64 term,
  3: required i64 last_log_index,
  4: required i64 last_log_term,
  5: optional bool pre_vote = false,
  6: optional bool leadership_transfer = false, // the leader asked for this election
                                                // (timeoutNow): granted inside a leader lease
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

struct RequestVoteResponse {
  1: required string node_id,
  2: required i64 term,
  3: required bool vote_granted,
  4: optional bool pre_vote = false,
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

struct InstallSnapshotRequest {
  1: required string leader_id,
  2: required i64 leader_term,
  3: required i64 last_included_index,
  4: required i64 last_included_term,
  5: required i64 offset,             // byte offset of this chunk
  6: required binary data,
  7: required bool done,              // last chunk
  8: optional i64 total_size,
  9: optional i32 crc32c              // of the whole snapshot, on the last chunk
}

struct InstallSnapshotResponse {
  1: required string node_id,
  2: required i64 term,
  3: required bool success,
  4: optional i64 next_offset
}

struct ReadIndexRequest {
  1: required string node_id,
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

struct ReadIndexResponse {
  1: required bool success,
  2: required i64 read_index,
  3: optional ErrorCode error_code,
  4: optional string leader_hint,
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

// The leader hands over: the receiver starts an election at once (Raft's TimeoutNow). Sent
// once the receiver holds the leader's whole log, all of it committed.
struct TimeoutNowRequest {
  1: required string leader_id,
  2: required i64 leader_term,
  20: optional i64 incarnation,      // member identity, as in AppendEntryRequest
  21: optional i64 cluster_id,
  22: optional i64 to_incarnation
}

struct TimeoutNowResponse {
  1: required bool success          // taken; the election it starts is the real answer
}

struct PeerChallengeRequest {
  1: required string node_id
}

struct PeerChallengeResponse {
  1: required binary nonce
}

struct PeerAuthRequest {
  1: required string node_id,
  2: required binary nonce,
  3: required binary mac              // HMAC-SHA256(cluster secret, nonce || node_id)
}

struct PeerAuthResponse {
  1: required bool success
}

// Thrown by peer methods called on a connection that has not authenticated.
exception PeerError {
  1: required ErrorCode code,
  2: required string message
}

service TransactionalKV {
  // Client methods.
  PingResponse ping(1: PingRequest request),
  GetResponse get(1: GetRequest request),
  SetResponse setKey(1: SetRequest request),
  DeleteResponse deleteKey(1: DeleteRequest request),
  GetRangeResponse getRange(1: GetRangeRequest request),
  GetReadVersionResponse getReadVersion(1: GetReadVersionRequest request),
  SnapshotReadResponse snapshotRead(1: SnapshotReadRequest request),
  GetRangeResponse snapshotGetRange(1: SnapshotGetRangeRequest request),
  AtomicCommitResponse atomicCommit(1: AtomicCommitRequest request),
  GetCommittedVersionResponse getCommittedVersion(1: GetCommittedVersionRequest request),
  ClusterHealth getClusterHealth(1: GetClusterHealthRequest request),
  NodeInfo getNodeInfo(1: GetNodeInfoRequest request),
  OpenSessionResponse openSession(1: OpenSessionRequest request),
  CloseSessionResponse closeSession(1: CloseSessionRequest request),
  WatchResponse watch(1: WatchRequest request),
  TransferLeaderResponse transferLeader(1: TransferLeaderRequest request),
  ListMembersResponse listMembers(1: ListMembersRequest request),
  ChangeMemberResponse changeMember(1: ChangeMemberRequest request),

  // Peer methods: accepted only on an authenticated connection.
  PeerChallengeResponse peerChallenge(1: PeerChallengeRequest request),
  PeerAuthResponse peerAuthenticate(1: PeerAuthRequest request) throws (1: PeerError error),
  AppendEntryResponse appendEntry(1: AppendEntryRequest request) throws (1: PeerError error),
  CommitNotificationResponse commitNotification(1: CommitNotificationRequest request) throws (1: PeerError error),
  RequestVoteResponse requestVote(1: RequestVoteRequest request) throws (1: PeerError error),
  InstallSnapshotResponse installSnapshot(1: InstallSnapshotRequest request) throws (1: PeerError error),
  ReadIndexResponse readIndex(1: ReadIndexRequest request) throws (1: PeerError error),
  TimeoutNowResponse timeoutNow(1: TimeoutNowRequest request) throws (1: PeerError error)
}
