/* server_member.c: the cluster's membership on the server: kept with the state machine (every
   snapshot carries it), given back at a start and for a received snapshot, and the members'
   endpoints. */
#include "server_member.h"

#include "kv_snapshot.h"
#include "log.h"
#include "server_identity.h"
#include "server_rep.h"
#include "server_snap.h"
#include "kvstore.h"

#include <stdlib.h>
#include <string.h>

const struct consensus_membership *server_membership(const struct server_node *n)
{
    return n->rep && n->rep->cluster ? cluster_membership(n->rep->cluster) : NULL;
}

const char *server_peer_endpoint(const struct server_node *n, uint32_t member_id)
{
    const struct consensus_membership *m = server_membership(n);
    const struct consensus_member *mb = m ? consensus_membership_find(m, member_id) : NULL;
    if (mb && mb->addr[0])
        return mb->addr;
    /* The bootstrap ids keep replica_endpoints' addresses (never given to anyone else). */
    if (member_id < n->cfg->replica_count)
        return n->cfg->replica_endpoints[member_id];
    return n->cfg->join && member_id == n->cfg->instance_index ? n->cfg->join_endpoint : NULL;
}

const char *server_self_endpoint(const struct server_node *n)
{
    const char *own = n->rep ? server_peer_endpoint(n, n->cfg->instance_index) : NULL;
    return own ? own : n->cfg->listen;
}

/* Sets the state machine's membership bytes; -1 (logged) when it cannot. */
static int keep(struct server_node *n, const struct consensus_membership *m)
{
    uint8_t buf[CONSENSUS_MEMBERSHIP_BYTES_MAX];
    uint32_t len = consensus_membership_encode(m, buf);
    int rc = kv_sm_set_membership(n->sm, buf, len);
    if (rc != 0)
        log_error("cannot keep the membership (%u bytes): %s", len, kv_strerror(rc));
    return rc == 0 ? 0 : -1;
}

/* A committed membership without this node, once its id was given out (below next_id): it
   was removed. A node that joined replays the memberships from before it was added (its id
   not given out yet): those say nothing about it. Said once, loudly. */
static void check_removed(struct server_node *n, const struct consensus_membership *m,
                          uint64_t index)
{
    uint32_t self = n->cfg->instance_index;
    if (n->rep->removed || m->count == 0 || self >= m->next_id ||
        consensus_membership_find(m, self))
        return;
    n->rep->removed = true;
    log_warn("this node (member %u) was removed from the cluster (membership at index %llu): "
             "it no longer campaigns and refuses writes and linearizable reads (NOT_MEMBER). "
             "To bring this machine back, stop it, empty its data dir and add it again as a "
             "new member (kvctl member add-learner), then start it with deployment.join",
             self, (unsigned long long)index);
}

int server_member_cluster_check(const struct server_node *n, uint64_t have)
{
    uint64_t want = n->cfg->join_cluster_id;
    if (want == 0 || have == 0 || have == want)
        return 0;
    log_error("this data dir (%s) belongs to cluster %016llx, but deployment.join.cluster_id "
              "names cluster %016llx: the node will not start, and leaves the data dir as it "
              "is. Start it with its own cluster's id, or, to move the machine to the other "
              "cluster, add it there as a new member and start it with an empty data_dir",
              n->cfg->data_dir, (unsigned long long)have, (unsigned long long)want);
    return -1;
}

/* A committed membership naming the cluster id: data_dir/identity names it too, once. */
static void note_cluster(struct server_node *n, const struct consensus_membership *m)
{
    if (n->incarnation == 0 || m->cluster_id == 0 || n->identity_cluster == m->cluster_id)
        return;
    if (n->identity_cluster != 0) { /* a committed cluster id never changes: the file lies */
        log_error("%s/identity names cluster %016llx, but this data dir's committed membership "
                  "names cluster %016llx: the identity file is not this data dir's (copied?); "
                  "it is left as it is", n->cfg->data_dir,
                  (unsigned long long)n->identity_cluster, (unsigned long long)m->cluster_id);
        n->identity_cluster = m->cluster_id; /* said once */
        return;
    }
    if (server_identity_bind(n->cfg->data_dir, n->incarnation, m->cluster_id) == 0)
        n->identity_cluster = m->cluster_id;
}

void server_member_applied(void *ctx, uint64_t index, const struct consensus_membership *m)
{
    struct server_node *n = ctx;
    if (keep(n, m) != 0)
        abort(); /* out of memory for 1 KiB: snapshots would carry a stale membership */
    check_removed(n, m, index);
    note_cluster(n, m);
}

bool server_member_serving(const struct server_node *n, int *code)
{
    const struct consensus_membership *m = server_membership(n);
    if (n->rep->removed)
        *code = ErrorCode_NOT_MEMBER;
    else if (m && m->count == 0)
        *code = ErrorCode_UNAVAILABLE; /* waiting to be added: no leader known yet */
    else
        return true;
    return false;
}

/* The bootstrap membership: voters 0..replica_count-1 at replica_endpoints' addresses. */
static void bootstrap(const struct server_node *n, struct consensus_membership *out)
{
    consensus_membership_bootstrap(out, n->cfg->replica_count);
    for (uint32_t i = 0; i < out->count; i++) {
        size_t len = strlen(n->cfg->replica_endpoints[i]);
        if (len < CONSENSUS_ADDR_MAX)
            memcpy(out->members[i].addr, n->cfg->replica_endpoints[i], len + 1);
    }
}

/* Decodes the state machine's (or a file's) bytes; a membership that is not one is refused. */
static int decode(const uint8_t *data, uint32_t len, struct consensus_membership *out,
                  const char *where)
{
    if (consensus_membership_decode(data, len, out) == 0)
        return 0;
    log_error("%s holds a membership that does not decode (%u bytes)", where, len);
    return -1;
}

int server_member_restored(struct server_node *n, struct consensus_membership *out)
{
    uint32_t len;
    const uint8_t *data = kv_sm_membership(n->sm, &len);
    if (len > 0) {
        if (decode(data, len, out, "the restored snapshot") != 0)
            return -1;
        check_removed(n, out, n->snapshot_index);
        note_cluster(n, out);
        return 0;
    }
    if (n->cfg->join) { /* knows none until the leader reaches it (the log tells it) */
        memset(out, 0, sizeof *out);
        log_info("joining as member %u at %s: waiting for the cluster's leader to reach this "
                 "node", n->cfg->instance_index, n->cfg->join_endpoint);
        return 0;
    }
    bootstrap(n, out);
    /* Every snapshot from now on holds it, even before the first change. */
    return keep(n, out);
}

/* The membership from a received file's last bytes (kv_snapshot_tail_membership). */
static int recv_decode(struct server_node *n, const uint8_t *tail, size_t len,
                       struct consensus_membership *out)
{
    struct server_rep *rep = n->rep;
    const uint8_t *data;
    uint32_t data_len;
    if (kv_snapshot_tail_membership(tail, len, &data, &data_len) != 0) {
        /* A snapshot from a build before snapshots held it: the bootstrap membership. */
        if (n->cfg->replica_count == 0) {
            log_error("a received snapshot holds no membership, and this node has no "
                      "bootstrap one (deployment.join): refused");
            return -1;
        }
        bootstrap(n, out);
        rep->recv_conf_len = 0;
        return 0;
    }
    if (data_len > sizeof rep->recv_conf || decode(data, data_len, out, "a received snapshot"))
        return -1;
    memcpy(rep->recv_conf, data, data_len);
    rep->recv_conf_len = data_len;
    return 0;
}

int server_member_recv(void *ctx, void *recv, struct consensus_membership *out)
{
    struct server_node *n = ctx;
    uint8_t *tail = malloc(KV_MEMBERSHIP_TAIL_BYTES);
    size_t len;
    if (!tail || server_snap_recv_tail(recv, tail, KV_MEMBERSHIP_TAIL_BYTES, &len) != 0) {
        free(tail);
        return -1;
    }
    int rc = recv_decode(n, tail, len, out);
    free(tail);
    return rc;
}

int server_member_installed_check(struct server_node *n)
{
    struct server_rep *rep = n->rep;
    uint32_t len;
    const uint8_t *data = kv_sm_membership(n->sm, &len);
    if (len == rep->recv_conf_len && (len == 0 || memcmp(data, rep->recv_conf, len) == 0)) {
        struct consensus_membership m;
        if (len > 0 && consensus_membership_decode(data, len, &m) == 0)
            note_cluster(n, &m);
        if (len == 0) { /* an older build's: from now on ours carry the bootstrap one */
            struct consensus_membership boot;
            bootstrap(n, &boot);
            return keep(n, &boot);
        }
        return 0;
    }
    log_error("the installed snapshot's membership differs from the one read from its end "
              "(a file from an older build whose data looks like one?): stopping; a restart "
              "takes the snapshot's own");
    return -1;
}
