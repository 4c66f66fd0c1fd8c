/* final_reads.c: once every node has applied the same index, a serializable read of every
   key on every node. */
#include "kvtorture.h"
#include "final.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CONVERGE_NS (30LL * 1000 * 1000 * 1000)
#define CONVERGE_POLL_NS (50 * 1000 * 1000)
/* Equal applied indexes this many polls in a row count as settled. */
#define CONVERGE_POLLS 3

/* Polls every node's applied index until all agree; true when they did in time. */
static bool converge(struct kvt_conn *conns, unsigned count)
{
    int settled = 0;
    int64_t last = -1;
    for (int64_t deadline = kvt_now_ns() + CONVERGE_NS; kvt_now_ns() < deadline;) {
        int64_t first = kvt_applied_index(&conns[0]);
        bool equal = first >= 0;
        for (unsigned i = 1; equal && i < count; i++)
            equal = kvt_applied_index(&conns[i]) == first;
        settled = equal && first == last ? settled + 1 : 0;
        last = equal ? first : -1;
        if (settled >= CONVERGE_POLLS) {
            printf("final: every node applied index %" PRId64 "\n", first);
            return true;
        }
        struct timespec ts = {0, CONVERGE_POLL_NS};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "kvtorture: nodes did not reach one applied index in %lld s\n",
            CONVERGE_NS / 1000000000);
    return false;
}

int kvt_final_reads(struct kvt_run *run, struct kvt_final *f)
{
    const struct kvt_cluster *c = run->cluster;
    f->nodes = c->count;
    f->keys = run->o->keys;
    f->values = calloc((size_t)f->nodes * f->keys, sizeof *f->values);
    f->read_ok = calloc((size_t)f->nodes * f->keys, sizeof *f->read_ok);
    struct kvt_conn conns[KVT_NODES_MAX];
    for (unsigned i = 0; i < c->count; i++)
        kvt_conn_init(&conns[i], c, (int)i, run->o->timeout_ms);
    bool settled = f->values && f->read_ok && converge(conns, c->count);
    for (unsigned n = 0; f->values && f->read_ok && n < c->count; n++)
        for (uint32_t k = 0; k < f->keys; k++) {
            size_t at = (size_t)n * f->keys + k;
            f->read_ok[at] = kvt_read_local(&conns[n], k, &f->values[at]) == 0;
        }
    for (unsigned i = 0; i < c->count; i++)
        kvt_conn_free(&conns[i]);
    if (!f->values || !f->read_ok)
        return -1;
    return settled ? 0 : 1;
}

void kvt_final_free(struct kvt_final *f)
{
    free(f->values);
    free(f->read_ok);
}
