/* cluster_snap_out.c: streaming a snapshot to a lagging follower: a window of chunks read from
   the server's file, resumed from the last acknowledged byte after any failure. */
#include "cluster_internal.h"

#include "crc32c.h"
#include "log.h"
#include "metrics.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/*
 * One transfer per follower. The core orders a snapshot (index, term); the transfer reads it
 * through the server's open handle (which stays readable even once a newer snapshot replaces
 * the file) and keeps up to `window` bytes in flight beyond what the follower acknowledged,
 * at most SNAP_FLIGHT_MAX calls. Every acknowledgement moves `acked` and tells the core the
 * transfer moves (consensus_snapshot_progress). A failed call sends again from `acked`; a
 * refusal sends from where the follower says it stands. Only a newer snapshot or another term
 * starts over: the same order again (after a stall sent the follower back to probing)
 * resumes. The window grows while the round trip stays near the least seen, and shrinks when
 * our own queue adds more than a quarter of an election timeout to it (a heartbeat waits
 * behind the chunks on the same link, and must not wait long enough to start an election),
 * so a thin link gets a small window and a fat one a large one.
 */

#define SNAP_FLIGHT_MAX 64u
#define SNAP_WINDOW_MIN (64u * 1024)
#define SNAP_WINDOW_START (1024u * 1024)
#define SNAP_WINDOW_MAX ((uint64_t)SNAP_FLIGHT_MAX * CLUSTER_SNAPSHOT_CHUNK_BYTES)
#define SNAP_QUEUE_MS_MIN 20 /* the least queueing delay allowed */
#define SNAP_LOG_EVERY_MS 5000

_Static_assert(SNAP_WINDOW_MIN <= CLUSTER_SNAPSHOT_CHUNK_BYTES, "a chunk fits the window");
_Static_assert(SNAP_WINDOW_START <= SNAP_WINDOW_MAX, "the window starts within its bounds");

/* A call's tag: the end offset of its chunk, the transfer's epoch, and whether it is last. */
#define TAG_END_BITS 40
#define TAG_EPOCH_BITS 23
#define TAG_EPOCH_MASK ((1u << TAG_EPOCH_BITS) - 1)
#define TAG_LAST (1ull << 63)
_Static_assert(CLUSTER_SNAPSHOT_BYTES_MAX <= (1ull << TAG_END_BITS), "offsets fit the tag");

struct flight {
    uint64_t end;
    uint32_t epoch;
    int64_t sent_ms;
};

struct cluster_snap_out {
    uint64_t order_index, order_term; /* the core's newest order, not yet acted on (0: none) */
    uint64_t term;                    /* the leader term the transfer belongs to */
    uint64_t index, log_term;         /* the snapshot */
    void *src;                        /* the server's open snapshot; NULL: not under way */
    uint64_t total;
    uint64_t acked;                   /* the follower holds [0, acked) */
    uint64_t sent;                    /* the next byte to send */
    uint64_t crc_end;                 /* crc is crc32c of [0, crc_end), the furthest sent */
    uint32_t crc;
    uint32_t epoch;                   /* bumped at every start and resend */
    uint32_t first_epoch;             /* the epoch this transfer started with */
    uint64_t window;                  /* bytes in flight allowed beyond acked */
    bool slow_start;                  /* doubling per round trip until the first shrink, */
                                      /* then growing by half of it */
    int64_t rtt_min_ms;
    int64_t srtt_us;                  /* smoothed round trip (1/8 per sample), in us */
    int64_t shrunk_ms;
    struct flight flights[SNAP_FLIGHT_MAX]; /* ring, in send order */
    uint32_t flight_start, flight_count;
    int64_t retry_at_ms;
    int64_t started_ms, logged_ms;
    uint64_t logged_bytes;
};

static double mb(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static void out_close(struct cluster_node *n, struct cluster_snap_out *o)
{
    if (o->src)
        n->cb.snap.close(n->cb.ctx, o->src);
    o->src = NULL;
    o->flight_count = 0;
}

static void out_free(struct cluster_node *n, uint32_t peer)
{
    struct cluster_peer *p = cluster_peer_of(n, peer);
    if (p)
        cluster_snap_out_drop(n, p);
}

void cluster_snap_out_drop(struct cluster_node *n, struct cluster_peer *p)
{
    struct cluster_snap_out *o = p->snap_out;
    if (!o)
        return;
    out_close(n, o);
    free(o);
    p->snap_out = NULL;
}

/* Opens the snapshot the core ordered and starts from byte 0. */
static void out_start(struct cluster_node *n, uint32_t peer, struct cluster_snap_out *o)
{
    out_close(n, o);
    uint64_t total = 0;
    o->src = n->cb.snap.open(n->cb.ctx, o->order_index, &total);
    if (!o->src || total == 0 || total > CLUSTER_SNAPSHOT_BYTES_MAX) {
        log_warn("cluster: snapshot %llu for node %u cannot be read; trying again",
                 (unsigned long long)o->order_index, peer);
        out_close(n, o);
        o->retry_at_ms = cluster_clock(n) + n->cfg.election_timeout_ms;
        return; /* order_index stays: the next pump tries again */
    }
    int64_t now = cluster_clock(n);
    o->term = consensus_term(n->core);
    o->index = o->order_index;
    o->log_term = o->order_term;
    o->total = total;
    o->acked = o->sent = o->crc_end = 0;
    o->crc = 0;
    o->first_epoch = ++o->epoch;
    o->window = SNAP_WINDOW_START;
    o->slow_start = true;
    o->rtt_min_ms = INT64_MAX;
    o->srtt_us = -1;
    o->shrunk_ms = 0;
    o->retry_at_ms = 0;
    o->started_ms = o->logged_ms = now;
    o->logged_bytes = 0;
    o->order_index = 0;
    log_info("cluster: sending snapshot %llu (term %llu, %.1f MB) to node %u",
             (unsigned long long)o->index, (unsigned long long)o->log_term, mb(total), peer);
}

/* Ordered by the core (inside a ready turn): acted on by the pump after the turn. */
void cluster_snap_send_start(struct cluster_node *n, const struct consensus_msg *m)
{
    struct cluster_peer *p = cluster_peer_of(n, m->to);
    if (!n->cb.snap.begin || !p)
        return;
    struct cluster_snap_out *o = p->snap_out;
    if (!o && !(o = p->snap_out = calloc(1, sizeof *o)))
        return; /* the core orders it again after the stall */
    o->order_index = m->index;
    o->order_term = m->log_term;
}

/* The core's order: the transfer under way if it is the same snapshot and term, else anew. */
static void take_order(struct cluster_node *n, uint32_t peer, struct cluster_snap_out *o)
{
    if (o->src && o->index == o->order_index && o->term == consensus_term(n->core)) {
        log_info("cluster: snapshot %llu to node %u goes on at %.1f of %.1f MB",
                 (unsigned long long)o->index, peer, mb(o->acked), mb(o->total));
        o->order_index = 0;
        return;
    }
    out_start(n, peer, o);
}

static void flight_push(struct cluster_snap_out *o, uint64_t end, int64_t now_ms)
{
    assert(o->flight_count < SNAP_FLIGHT_MAX);
    uint32_t slot = (o->flight_start + o->flight_count++) % SNAP_FLIGHT_MAX;
    o->flights[slot] = (struct flight){end, o->epoch & TAG_EPOCH_MASK, now_ms};
}

/* Takes the flight a reply answers out of the ring; its send time, or -1 if unknown. */
static int64_t flight_take(struct cluster_snap_out *o, uint64_t end, uint32_t epoch)
{
    for (uint32_t i = 0; i < o->flight_count; i++) {
        uint32_t slot = (o->flight_start + i) % SNAP_FLIGHT_MAX;
        if (o->flights[slot].end != end || o->flights[slot].epoch != epoch)
            continue;
        int64_t sent = o->flights[slot].sent_ms;
        for (uint32_t k = i; k > 0; k--) /* close the gap: older flights move up one */
            o->flights[(o->flight_start + k) % SNAP_FLIGHT_MAX] =
                o->flights[(o->flight_start + k - 1) % SNAP_FLIGHT_MAX];
        o->flight_start = (o->flight_start + 1) % SNAP_FLIGHT_MAX;
        o->flight_count--;
        return sent;
    }
    return -1;
}

/* The running checksum covers the furthest byte sent; a resend covers bytes it has. */
static void crc_extend(struct cluster_snap_out *o, const uint8_t *data, size_t len)
{
    uint64_t end = o->sent + len;
    if (end <= o->crc_end)
        return;
    assert(o->sent <= o->crc_end);
    size_t skip = (size_t)(o->crc_end - o->sent);
    o->crc = crc32c_extend(o->crc, data + skip, len - skip);
    o->crc_end = end;
}

/* Sends the chunk at o->sent; false when it could not (tried again later). */
static bool send_chunk(struct cluster_node *n, uint32_t peer, struct cluster_snap_out *o)
{
    uint64_t left = o->total - o->sent;
    size_t len = CLUSTER_SNAPSHOT_CHUNK_BYTES < o->window ? CLUSTER_SNAPSHOT_CHUNK_BYTES
                                                          : (size_t)o->window;
    len = left < len ? (size_t)left : len;
    if (!n->snap_chunk && !(n->snap_chunk = malloc(CLUSTER_SNAPSHOT_CHUNK_BYTES)))
        return false;
    if (n->cb.snap.read(n->cb.ctx, o->src, o->sent, n->snap_chunk, len) != 0) {
        log_warn("cluster: reading snapshot %llu at %llu failed; starting it again",
                 (unsigned long long)o->index, (unsigned long long)o->sent);
        o->order_index = o->index; /* reopen, from the start */
        o->order_term = o->log_term;
        out_close(n, o);
        o->retry_at_ms = cluster_clock(n) + n->cfg.election_timeout_ms;
        return false;
    }
    crc_extend(o, n->snap_chunk, len);
    bool last = o->sent + len == o->total;
    InstallSnapshotRequest req;
    InstallSnapshotRequest_init(&req);
    int rc = cluster_id_set(&req.leader_id, n->cfg.id);
    req.leader_term = (int64_t)o->term;
    req.last_included_index = (int64_t)o->index;
    req.last_included_term = (int64_t)o->log_term;
    req.offset = (int64_t)o->sent;
    req.data.data = n->snap_chunk; /* borrowed for the encode */
    req.data.len = (uint32_t)len;
    req.done = last;
    req.has_total_size = true;
    req.total_size = (int64_t)o->total;
    req.has_crc32c = last;
    req.crc32c = (int32_t)o->crc;
    uint64_t end = o->sent + len;
    uint64_t tag = end | (uint64_t)(o->epoch & TAG_EPOCH_MASK) << TAG_END_BITS |
                   (last ? TAG_LAST : 0);
    if (rc == 0)
        rc = cluster_transport_call(n->tp, peer, TransactionalKV_METHOD_installSnapshot, &req, tag);
    req.data.data = NULL;
    req.data.len = 0;
    InstallSnapshotRequest_free(&req);
    if (rc != 0) {
        o->retry_at_ms = cluster_clock(n) + n->cfg.heartbeat_interval_ms;
        return false;
    }
    flight_push(o, end, cluster_clock(n));
    o->sent = end;
    metrics_count(METRIC_SNAPSHOT_SENT_BYTES, len);
    return true;
}

static void log_progress(uint32_t peer, struct cluster_snap_out *o, int64_t now)
{
    if (now - o->logged_ms < SNAP_LOG_EVERY_MS)
        return;
    double secs = (double)(now - o->logged_ms) / 1000.0;
    log_info("cluster: snapshot %llu to node %u: %.1f of %.1f MB, %.1f MB/s, window %llu KiB",
             (unsigned long long)o->index, peer, mb(o->acked), mb(o->total),
             mb(o->acked - o->logged_bytes) / secs, (unsigned long long)(o->window / 1024));
    o->logged_ms = now;
    o->logged_bytes = o->acked;
}

/* After each ready turn: start ordered transfers and fill their windows. */
void cluster_snap_pump(struct cluster_node *n)
{
    int64_t now = cluster_clock(n);
    bool leader = consensus_role(n->core) == CONSENSUS_LEADER;
    for (uint32_t k = 0; k < CONSENSUS_MEMBERS_MAX; k++) {
        struct cluster_snap_out *o = n->peers[k].snap_out;
        uint32_t i = n->peers[k].id;
        if (!o)
            continue;
        struct consensus_peer_progress p;
        bool caught_up = leader && consensus_peer_progress(n->core, i, &p) &&
                         p.state == CONSENSUS_PROGRESS_REPLICATE;
        bool stale = o->src && o->term != consensus_term(n->core) && !o->order_index;
        if (!leader || caught_up || stale) {
            if (o->src && caught_up)
                log_info("cluster: node %u caught up from the log: snapshot %llu not needed",
                         i, (unsigned long long)o->index);
            out_free(n, i);
            continue;
        }
        if (o->retry_at_ms > now)
            continue;
        if (o->order_index)
            take_order(n, i, o);
        if (!o->src)
            continue;
        while (o->flight_count < SNAP_FLIGHT_MAX && o->sent < o->total &&
               o->sent - o->acked < o->window && o->src)
            if (!send_chunk(n, i, o))
                break;
        log_progress(i, o, now);
    }
}

/* The round trip of an acknowledged chunk steers the window (see the top): its smoothed
   value, so one late reply (a busy machine's scheduling) does not shrink it. */
static void adapt_window(struct cluster_node *n, struct cluster_snap_out *o, int64_t rtt_ms,
                         uint64_t acked_bytes)
{
    int64_t now = cluster_clock(n);
    if (rtt_ms < o->rtt_min_ms)
        o->rtt_min_ms = rtt_ms;
    o->srtt_us = o->srtt_us < 0 ? rtt_ms * 1000 : o->srtt_us + (rtt_ms * 1000 - o->srtt_us) / 8;
    int64_t allowance = n->cfg.election_timeout_ms / 4 > SNAP_QUEUE_MS_MIN
                            ? (int64_t)n->cfg.election_timeout_ms / 4
                            : SNAP_QUEUE_MS_MIN;
    if (o->srtt_us > (o->rtt_min_ms + allowance) * 1000) {
        if (now - o->shrunk_ms > o->rtt_min_ms + allowance) {
            o->window = o->window * 3 / 4 > SNAP_WINDOW_MIN ? o->window * 3 / 4 : SNAP_WINDOW_MIN;
            o->shrunk_ms = now;
            o->slow_start = false;
        }
        return;
    }
    uint64_t grow = o->slow_start ? acked_bytes : acked_bytes / 2;
    o->window = o->window + grow < SNAP_WINDOW_MAX ? o->window + grow : SNAP_WINDOW_MAX;
}

/* Sends again from `from`: the follower holds that much (at least). */
static void resend_from(struct cluster_node *n, struct cluster_snap_out *o, uint64_t from,
                        bool failed)
{
    o->acked = from < o->total ? from : o->total;
    o->sent = o->acked;
    o->epoch++;
    if (failed) { /* a lost link or a timeout: a pause and a smaller window */
        o->window = o->window / 2 > SNAP_WINDOW_MIN ? o->window / 2 : SNAP_WINDOW_MIN;
        o->slow_start = false;
        o->retry_at_ms = cluster_clock(n) + n->cfg.heartbeat_interval_ms;
    }
}

static void finish(struct cluster_node *n, uint32_t peer, struct cluster_snap_out *o,
                   uint64_t term)
{
    double secs = (double)(cluster_clock(n) - o->started_ms) / 1000.0;
    log_info("cluster: snapshot %llu sent to node %u: %.1f MB in %.1f s (%.1f MB/s, installed "
             "included), window %llu KiB, least round trip %lld ms",
             (unsigned long long)o->index, peer, mb(o->total), secs,
             secs > 0 ? mb(o->total) / secs : 0.0, (unsigned long long)(o->window / 1024),
             (long long)(o->rtt_min_ms == INT64_MAX ? -1 : o->rtt_min_ms));
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = peer, .to = n->cfg.id,
                              .term = term, .success = true, .index = o->index};
    out_free(n, peer);
    consensus_step(n->core, &m);
}

void cluster_snap_on_reply(struct cluster_node *n, uint32_t peer, uint64_t tag, int err,
                           const InstallSnapshotResponse *resp)
{
    struct cluster_peer *pe = cluster_peer_of(n, peer);
    struct cluster_snap_out *o = pe ? pe->snap_out : NULL;
    if (!o || !o->src)
        return;
    uint64_t end = tag & ((1ull << TAG_END_BITS) - 1);
    uint32_t epoch = (uint32_t)(tag >> TAG_END_BITS) & TAG_EPOCH_MASK;
    uint32_t current = o->epoch & TAG_EPOCH_MASK;
    int64_t sent_ms = flight_take(o, end, epoch);
    if (sent_ms < 0)
        return; /* a reply to a transfer started over since */
    if (err == 0 && resp->term >= 0 && (uint64_t)resp->term > consensus_term(n->core)) {
        struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = peer,
                                  .to = n->cfg.id, .term = (uint64_t)resp->term};
        consensus_step(n->core, &m); /* a newer term: step down */
        return;
    }
    uint64_t next = err == 0 && resp->has_next_offset && resp->next_offset >= 0
                        ? (uint64_t)resp->next_offset
                        : end;
    if (err != 0 || !resp->success) {
        if (epoch == current) /* a refusal says where the follower stands */
            resend_from(n, o, err != 0 ? o->acked : (resp->has_next_offset ? next : 0), err != 0);
        return;
    }
    if (tag & TAG_LAST || next >= o->total) {
        finish(n, peer, o, (uint64_t)resp->term); /* installed, or held already */
        return;
    }
    if (next > o->acked) {
        if (epoch == current)
            adapt_window(n, o, cluster_clock(n) - sent_ms, next - o->acked);
        o->acked = next;
        if (o->sent < o->acked)
            o->sent = o->acked;
        consensus_snapshot_progress(n->core, peer, o->index);
    }
}

void cluster_snap_out_free_all(struct cluster_node *n)
{
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++)
        cluster_snap_out_drop(n, &n->peers[i]);
}

bool cluster_snap_out_status(const struct cluster_node *n, uint32_t peer, uint64_t *sent,
                             uint64_t *total)
{
    const struct cluster_peer *p = cluster_peer_of(n, peer);
    const struct cluster_snap_out *o = p ? p->snap_out : NULL;
    if (!o || !o->src)
        return false;
    *sent = o->acked;
    *total = o->total;
    return true;
}

const char *cluster_snap_out_check(const struct cluster_node *n)
{
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++) {
        const struct cluster_snap_out *o = n->peers[i].snap_out;
        if (!o)
            continue;
        if (n->peers[i].id == CONSENSUS_NONE || n->peers[i].id == n->cfg.id)
            return "a snapshot transfer to no peer";
        if (!o->src)
            continue;
        if (o->acked > o->sent || o->sent > o->total || o->sent > o->crc_end)
            return "a snapshot transfer's acked <= sent <= total (and <= its crc) broken";
        if (o->flight_count > SNAP_FLIGHT_MAX || o->flight_start >= SNAP_FLIGHT_MAX)
            return "a snapshot transfer's flights out of their ring";
        if (o->window < SNAP_WINDOW_MIN || o->window > SNAP_WINDOW_MAX)
            return "a snapshot transfer's window out of its bounds";
        uint64_t prev = 0; /* the current epoch's flights: in send order, within what was sent */
        for (uint32_t k = 0; k < o->flight_count; k++) {
            const struct flight *f = &o->flights[(o->flight_start + k) % SNAP_FLIGHT_MAX];
            if (f->epoch != (o->epoch & TAG_EPOCH_MASK))
                continue;
            if (f->end > o->sent || f->end <= prev)
                return "a snapshot transfer's flights not in send order within what was sent";
            prev = f->end;
        }
    }
    return NULL;
}
