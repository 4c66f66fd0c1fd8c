/* server_stats.h: requests by method and result code, their latency, and the last second's
   client traffic (for /metrics, kvctl health and the dashboard). */
#ifndef SERVER_STATS_H
#define SERVER_STATS_H

#include "kvstore.h"
#include "metrics.h"

#include <stdint.h>

struct server_request;

/* Result codes counted one by one (ErrorCode values); a larger one counts as INTERNAL. The
   slot after them counts calls answered with an exception instead of a result. */
#define SERVER_STATS_CODES 32
#define SERVER_STATS_EXCEPTION SERVER_STATS_CODES

struct server_method_stats {
    uint64_t by_code[SERVER_STATS_CODES + 1];
    struct metrics_hist latency;
};

/* The last whole second of client traffic (calls forwarded by peers are not counted twice). */
struct server_stats_second {
    uint64_t reads, writes;
    uint64_t p99_ns;            /* upper bound of the bucket; 0: no request */
};

struct server_stats {
    struct server_method_stats method[TransactionalKV_METHOD_COUNT];
    uint64_t client_reads, client_writes; /* totals since start */
    struct metrics_hist client_latency;
    /* The sampler's previous reading and the last second it made of it. */
    uint64_t prev_reads, prev_writes;
    struct metrics_hist_snap prev_latency;
    struct server_stats_second last;
};

/* A finished call (on the loop thread): its method, outcome and time since it arrived. */
void server_stats_request(struct server_stats *s, const struct server_request *req,
                          uint64_t elapsed_ns);
/* Called once a second: turns the totals since the last call into s->last. */
void server_stats_sample(struct server_stats *s);
/* The ErrorCode a finished call answered (0 for success), or SERVER_STATS_EXCEPTION. */
int server_stats_result_code(const struct server_request *req);

#endif
