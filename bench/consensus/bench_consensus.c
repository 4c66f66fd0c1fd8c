/* bench_consensus.c: the core's own cost: a fault-free 3-node cluster committing entries. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consensus.h"

/*
 * Three cores wired by a FIFO queue with instant "disks": what remains is the core's work
 * per entry (append, replicate, count, apply), the upper bound the server can reach.
 */

#define NODES 3u
#define QUEUE_MAX (1u << 16)

struct queued {
    struct consensus_msg m;
    struct consensus_entry *ents;
};

static struct queued queue[QUEUE_MAX];
static size_t q_head, q_count;
static uint64_t applied[NODES];

static uint64_t rng_next(void *ctx)
{
    uint64_t *s = ctx;
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void enqueue(const struct consensus_msg *m)
{
    assert(q_count < QUEUE_MAX);
    struct queued *q = &queue[(q_head + q_count++) % QUEUE_MAX];
    q->m = *m;
    q->ents = NULL;
    if (m->entry_count > 0) {
        q->ents = malloc(m->entry_count * sizeof *q->ents);
        assert(q->ents != NULL);
        for (uint32_t i = 0; i < m->entry_count; i++) {
            q->ents[i] = m->entries[i];
            q->ents[i].data = NULL;
            if (m->entries[i].len == 0)
                continue; /* a leader's no-op */
            q->ents[i].data = malloc(m->entries[i].len);
            assert(q->ents[i].data != NULL);
            memcpy(q->ents[i].data, m->entries[i].data, m->entries[i].len);
        }
    }
    q->m.entries = q->ents;
}

static void handle_ready(struct consensus_node *node, uint32_t id)
{
    while (consensus_has_ready(node)) {
        struct consensus_ready rd;
        consensus_ready(node, &rd);
        for (size_t i = 0; i < rd.msg_count; i++)
            enqueue(&rd.msgs[i]);
        applied[id] += rd.committed_count;
        consensus_advance(node, &rd);
    }
}

static void deliver_all(struct consensus_node **nodes)
{
    for (uint32_t i = 0; i < NODES; i++)
        handle_ready(nodes[i], i);
    while (q_count > 0) {
        struct queued q = queue[q_head];
        q_head = (q_head + 1) % QUEUE_MAX;
        q_count--;
        int err = consensus_step(nodes[q.m.to], &q.m);
        assert(err == 0);
        (void)err;
        for (uint32_t i = 0; i < q.m.entry_count; i++)
            free(q.ents[i].data);
        free(q.ents);
        handle_ready(nodes[q.m.to], q.m.to);
    }
}

int main(int argc, char **argv)
{
    uint64_t entries = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    uint32_t payload = argc > 2 ? (uint32_t)atoi(argv[2]) : 128;
    struct consensus_node *nodes[NODES];
    uint64_t seeds[NODES];
    for (uint32_t i = 0; i < NODES; i++) {
        struct consensus_config cfg;
        consensus_config_default(&cfg);
        cfg.id = i;
        cfg.node_count = NODES;
        seeds[i] = 0x9E3779B97F4A7C15ull * (i + 1);
        cfg.rand_u64 = rng_next;
        cfg.rand_ctx = &seeds[i];
        struct consensus_restore r = {.hard_state = {0, CONSENSUS_NONE}};
        int err = consensus_new(&cfg, &r, &nodes[i]);
        assert(err == 0);
        (void)err;
    }
    while (consensus_role(nodes[0]) != CONSENSUS_LEADER) {
        consensus_tick(nodes[0]); /* only node 0's clock runs: it wins */
        deliver_all(nodes);
    }
    uint8_t *data = calloc(1, payload);
    assert(data != NULL);
    uint64_t proposed = 0;
    clock_t c0 = clock();
    while (applied[2] < entries) {
        uint64_t index;
        /* Propose until the uncommitted bound pushes back, then let the cluster drain. */
        while (proposed < entries && consensus_propose(nodes[0], data, payload, &index) == 0)
            proposed++;
        deliver_all(nodes);
    }
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    printf("3 nodes, %llu entries of %u bytes committed and applied on every node: %.2f s cpu, "
           "%.0f entries/s\n",
           (unsigned long long)entries, payload, cpu, cpu > 0 ? (double)entries / cpu : 0.0);
    for (uint32_t i = 0; i < NODES; i++)
        consensus_free(nodes[i]);
    free(data);
    return 0;
}
