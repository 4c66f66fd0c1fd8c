/* fuzz_peer.c: libFuzzer target for what a node does with a peer's call or reply: the
 * generated decoder, the checks that make it a consensus message (src/cluster/
 * cluster_wire_in.c), and the consensus core stepping that message.
 *
 * Input: a selector byte (which peer method, call or reply), node count, sender, receiver,
 * then the Request or Response struct's bytes. Whatever passes the checks must be a message
 * from that sender to that receiver whose entries follow prev_index with terms that never
 * fall and stay within the message's term; and stepping it into a core (a follower with a
 * short log) must not trip any of the core's invariant asserts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_wire.h"
#include "consensus.h"

#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            __builtin_trap();                                                                \
    } while (0)

enum { fuzz_entry_bytes_max = 4096 };

static const int peer_methods[] = {
    TransactionalKV_METHOD_appendEntry, TransactionalKV_METHOD_commitNotification,
    TransactionalKV_METHOD_requestVote, TransactionalKV_METHOD_readIndex,
    TransactionalKV_METHOD_timeoutNow,
};
#define PEER_METHODS (sizeof peer_methods / sizeof peer_methods[0])

static uint64_t fuzz_rand(void *ctx)
{
    uint64_t *s = ctx;
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* A follower with entries 1..3 (terms 1, 1, 2) in term 2; steps m and drains its batches. */
static void step_into_core(uint32_t self, uint32_t node_count, const struct consensus_msg *m)
{
    struct consensus_config cfg;
    consensus_config_default(&cfg);
    uint64_t rng = 42;
    cfg.id = self;
    cfg.node_count = node_count;
    cfg.rand_u64 = fuzz_rand;
    cfg.rand_ctx = &rng;
    cfg.entry_bytes_max = fuzz_entry_bytes_max;
    static uint8_t payload[] = "fuzz";
    struct consensus_entry log[3] = {
        {1, 1, 4, payload}, {2, 1, 4, payload}, {3, 2, 0, NULL}};
    struct consensus_restore rs = {.hard_state = {.term = 2, .vote = CONSENSUS_NONE},
                                   .entries = log, .entry_count = 3};
    struct consensus_node *core;
    FUZZ_CHECK(consensus_new(&cfg, &rs, &core) == 0);
    (void)consensus_step(core, m); /* may refuse: it must only not break */
    for (int i = 0; i < 4 && consensus_has_ready(core); i++) {
        struct consensus_ready rd;
        consensus_ready(core, &rd);
        consensus_advance(core, &rd);
    }
    consensus_free(core);
}

static void check_request(const struct cluster_wire_in *in, uint32_t from, uint32_t self)
{
    const struct consensus_msg *m = &in->msg;
    FUZZ_CHECK(m->from == from && m->to == self);
    FUZZ_CHECK(m->entry_count <= CLUSTER_WIRE_ENTRIES_MAX);
    uint64_t term = m->prev_term;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        const struct consensus_entry *e = &m->entries[i];
        FUZZ_CHECK(e->index == m->prev_index + 1 + i);
        FUZZ_CHECK(e->term >= term && e->term <= m->term);
        FUZZ_CHECK(e->len <= fuzz_entry_bytes_max && (e->len == 0 || e->data != NULL));
        term = e->term;
    }
}

/* Decodes one method's Request (call) or Response (reply) from r; the struct is returned in
   a buffer big enough for any of them, with the free function to call. */
union peer_struct {
    AppendEntryRequest append_req;
    AppendEntryResponse append_resp;
    CommitNotificationRequest commit_req;
    CommitNotificationResponse commit_resp;
    RequestVoteRequest vote_req;
    RequestVoteResponse vote_resp;
    ReadIndexRequest read_req;
    ReadIndexResponse read_resp;
    TimeoutNowRequest timeout_req;
    TimeoutNowResponse timeout_resp;
};

#define DECODE(type, field)                                                                  \
    do {                                                                                     \
        type##_init(&u->field);                                                              \
        rc = type##_read(&u->field, r);                                                      \
        *free_fn = (void (*)(void *))type##_free;                                             \
    } while (0)

static int decode(int method, bool reply, tp_reader *r, union peer_struct *u,
                  void (**free_fn)(void *))
{
    int rc = -1;
    if (method == TransactionalKV_METHOD_appendEntry && !reply)
        DECODE(AppendEntryRequest, append_req);
    else if (method == TransactionalKV_METHOD_appendEntry)
        DECODE(AppendEntryResponse, append_resp);
    else if (method == TransactionalKV_METHOD_commitNotification && !reply)
        DECODE(CommitNotificationRequest, commit_req);
    else if (method == TransactionalKV_METHOD_commitNotification)
        DECODE(CommitNotificationResponse, commit_resp);
    else if (method == TransactionalKV_METHOD_requestVote && !reply)
        DECODE(RequestVoteRequest, vote_req);
    else if (method == TransactionalKV_METHOD_requestVote)
        DECODE(RequestVoteResponse, vote_resp);
    else if (method == TransactionalKV_METHOD_timeoutNow && !reply)
        DECODE(TimeoutNowRequest, timeout_req);
    else if (method == TransactionalKV_METHOD_timeoutNow)
        DECODE(TimeoutNowResponse, timeout_resp);
    else if (!reply)
        DECODE(ReadIndexRequest, read_req);
    else
        DECODE(ReadIndexResponse, read_resp);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    int method = peer_methods[data[0] % PEER_METHODS];
    bool reply = (data[0] / PEER_METHODS) % 2;
    uint32_t node_count = 1 + 2 * (data[1] % 4); /* 1, 3, 5, 7 */
    uint32_t from = data[2] % 8, self = data[3] % node_count;
    tp_reader r;
    tp_reader_init(&r, data + 4, size - 4, NULL);
    union peer_struct u;
    void (*free_fn)(void *) = NULL;
    int rc = decode(method, reply, &r, &u, &free_fn);
    if (rc == 0 && !reply) {
        struct cluster_wire_in in;
        if (cluster_wire_request_in(method, &u, from, self, node_count, fuzz_entry_bytes_max,
                                    &in) == 0) {
            check_request(&in, from, self);
            step_into_core(self, node_count, &in.msg);
        }
        cluster_wire_in_release(&in);
    } else if (rc == 0) {
        struct consensus_msg m;
        if (cluster_wire_response_in(method, &u, from, self, node_count, 7, &m) == 0) {
            FUZZ_CHECK(m.from == from && m.to == self && m.entry_count == 0);
            step_into_core(self, node_count, &m);
        }
    }
    free_fn(&u); /* after an error the contract says free is still safe */
    return 0;
}
