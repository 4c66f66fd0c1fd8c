/* server_stats.c: per-method counts and latency; the result code read from the result. */
#include "server_stats.h"

#include "server_request.h"

#include <stdbool.h>
#include <stddef.h>

/* Where a method's result keeps the response's has_error_code and error_code: data, one row
   per method whose response carries the usual success/error/error_code trio. */
struct code_at {
    bool present;
    size_t has_code, code;
};

#define CODE_AT(m)                                                                      \
    [TransactionalKV_METHOD_##m] = {true,                                               \
                                    offsetof(TransactionalKV_##m##_result,              \
                                             success.has_error_code),                   \
                                    offsetof(TransactionalKV_##m##_result, success.error_code)}

static const struct code_at code_at[TransactionalKV_METHOD_COUNT] = {
    CODE_AT(get),          CODE_AT(setKey),         CODE_AT(deleteKey),
    CODE_AT(getRange),     CODE_AT(getReadVersion), CODE_AT(snapshotRead),
    CODE_AT(snapshotGetRange), CODE_AT(atomicCommit), CODE_AT(getCommittedVersion),
    CODE_AT(getClusterHealth), CODE_AT(getNodeInfo), CODE_AT(readIndex),
    CODE_AT(openSession), CODE_AT(closeSession), CODE_AT(watch),
    CODE_AT(transferLeader), CODE_AT(listMembers), CODE_AT(changeMember),
};

int server_stats_result_code(const struct server_request *req)
{
    if (req->app_error)
        return SERVER_STATS_EXCEPTION;
    const struct code_at *at = &code_at[req->method->id];
    if (!at->present)
        return 0;
    const char *result = req->result;
    if (!*(const bool *)(result + at->has_code))
        return 0;
    int code = (int)*(const ErrorCode *)(result + at->code);
    return code >= 0 && code < SERVER_STATS_CODES ? code : ErrorCode_INTERNAL;
}

static bool is_read(int method)
{
    return method == TransactionalKV_METHOD_get || method == TransactionalKV_METHOD_getRange ||
           method == TransactionalKV_METHOD_snapshotRead ||
           method == TransactionalKV_METHOD_snapshotGetRange;
}

static bool is_write(int method)
{
    return method == TransactionalKV_METHOD_setKey || method == TransactionalKV_METHOD_deleteKey ||
           method == TransactionalKV_METHOD_atomicCommit ||
           method == TransactionalKV_METHOD_openSession ||
           method == TransactionalKV_METHOD_closeSession;
}

void server_stats_request(struct server_stats *s, const struct server_request *req,
                          uint64_t elapsed_ns)
{
    int id = req->method->id;
    struct server_method_stats *m = &s->method[id];
    m->by_code[server_stats_result_code(req)]++;
    metrics_hist_observe(&m->latency, elapsed_ns);
    if (req->from_peer || !(is_read(id) || is_write(id)))
        return;
    if (is_read(id))
        s->client_reads++;
    else
        s->client_writes++;
    metrics_hist_observe(&s->client_latency, elapsed_ns);
}

void server_stats_sample(struct server_stats *s)
{
    struct metrics_hist_snap now;
    metrics_hist_read(&s->client_latency, &now);
    s->last.reads = s->client_reads - s->prev_reads;
    s->last.writes = s->client_writes - s->prev_writes;
    s->last.p99_ns = metrics_hist_quantile_ns(&now, &s->prev_latency, 0.99);
    s->prev_reads = s->client_reads;
    s->prev_writes = s->client_writes;
    s->prev_latency = now;
}
