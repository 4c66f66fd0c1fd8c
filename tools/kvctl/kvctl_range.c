/* kvctl_range.c: kvctl range: every pair in [BEGIN, END) (up to --limit), read in pages. A
   node caps each reply by bytes (limits.max_reply_bytes) and count (max_range_results) and
   says has_more; the pages after the first are snapshotGetRange calls at the first page's
   version, so the whole listing is one consistent snapshot. */
#include "kvctl_cmds.h"

#include <stdlib.h>
#include <string.h>

struct range_out {
    uint64_t printed;
    int64_t version;
};

static void print_pairs(const struct kvctl *k, struct range_out *o, const GetRangeResponse *g)
{
    for (uint32_t i = 0; i < g->key_values.count; i++, o->printed++) {
        const KeyValue *kv = &g->key_values.items[i];
        if (k->json)
            printf("%s{\"key\": ", o->printed ? ", " : "");
        kvctl_print_bytes(k, stdout, &kv->key);
        printf(k->json ? ", \"value\": " : "\t");
        kvctl_print_bytes(k, stdout, &kv->value);
        printf(k->json ? "}" : "\n");
    }
}

/* The next page's request after the page g: past its last key, at the first page's version,
   asking for what the limit leaves. 0, or -1 when out of memory. */
static int next_page(const struct kvctl *k, const GetRangeRequest *first, const GetRangeResponse *g,
                     const struct range_out *o, SnapshotGetRangeRequest *q)
{
    const tp_bytes *last = &g->key_values.items[g->key_values.count - 1].key;
    SnapshotGetRangeRequest_free(q);
    q->read_version = o->version;
    q->has_reverse = q->reverse = k->reverse;
    q->has_limit = k->has_limit;
    q->limit = k->has_limit ? k->limit - (int32_t)o->printed : 0;
    if (k->reverse) {   /* the end is exclusive: the last key printed is the next end */
        q->has_end_key = true;
        return tp_bytes_set(&q->begin_key, first->begin_key.data, first->begin_key.len) != 0 ||
                       tp_bytes_set(&q->end_key, last->data, last->len) != 0
                   ? -1
                   : 0;
    }
    q->has_end_key = first->has_end_key;
    if (first->has_end_key &&
        tp_bytes_set(&q->end_key, first->end_key.data, first->end_key.len) != 0)
        return -1;
    /* The smallest key after last: last and a zero byte (tp_bytes end in one). */
    static const uint8_t zero = 0;
    return tp_bytes_set(&q->begin_key, last->len ? (const void *)last->data : &zero,
                        (size_t)last->len + 1);
}

/* Prints one page's pairs, or the server's error; KVCTL_OK, or the exit code. */
static int page_done(const struct kvctl *k, struct range_out *o, int rc, const GetRangeResponse *g)
{
    if (rc == KVCTL_OK && !g->success)
        return kvctl_server_error("range", g->has_error, &g->error, g->has_error_code,
                                  g->error_code);
    if (rc == KVCTL_OK) {
        if (k->json && o->printed == 0 && o->version < 0)
            printf("{\"version\": %lld, \"key_values\": [", (long long)g->version);
        if (o->version < 0)
            o->version = g->version;
        print_pairs(k, o, g);
    }
    return rc;
}

static bool wants_more(const struct kvctl *k, const struct range_out *o, const GetRangeResponse *g)
{
    return g->has_more && g->key_values.count > 0 &&
           (!k->has_limit || k->limit == 0 || o->printed < (uint64_t)k->limit);
}

/* The pages after the first, while the node says there are more. */
static int later_pages(struct kvctl *k, const GetRangeRequest *first, struct range_out *o,
                       TransactionalKV_getRange_result *res, bool *more)
{
    SnapshotGetRangeRequest q;
    SnapshotGetRangeRequest_init(&q);
    int rc = KVCTL_OK;
    while (rc == KVCTL_OK && wants_more(k, o, &res->success)) {
        if (next_page(k, first, &res->success, o, &q) != 0) {
            rc = kvctl_call_failed("snapshotGetRange", TP_ERR_NOMEM, NULL);
            break;
        }
        TransactionalKV_snapshotGetRange_result next;
        TransactionalKV_snapshotGetRange_result_init(&next);
        KVCTL_CALL_RETRY(rc, k, snapshotGetRange, &q, &next, true);
        rc = page_done(k, o, rc, &next.success);
        GetRangeResponse_free(&res->success);
        res->success = next.success;   /* moved: both methods answer a GetRangeResponse */
    }
    *more = res->success.has_more;
    SnapshotGetRangeRequest_free(&q);
    return rc;
}

int kvctl_cmd_range(struct kvctl *k, int argc, char **argv)
{
    GetRangeRequest q;
    GetRangeRequest_init(&q);
    int rc = argc == 2 ? kvctl_parse_bytes(k, argv[0], &q.begin_key) : KVCTL_USAGE;
    q.has_end_key = argc == 2 && argv[1][0] != '\0';   /* "" reads to the end of the key space */
    if (rc == KVCTL_OK && q.has_end_key)
        rc = kvctl_parse_bytes(k, argv[1], &q.end_key);
    q.has_limit = k->has_limit;
    q.limit = k->limit;
    q.has_reverse = q.reverse = k->reverse;
    q.has_consistency = true;
    q.consistency = k->serializable ? Consistency_SERIALIZABLE : Consistency_LINEARIZABLE;
    TransactionalKV_getRange_result res;
    TransactionalKV_getRange_result_init(&res);
    struct range_out o = {.version = -1};
    bool more = false;
    if (rc == KVCTL_OK) {
        KVCTL_CALL_RETRY(rc, k, getRange, &q, &res, true);
        rc = page_done(k, &o, rc, &res.success);
    }
    if (rc == KVCTL_OK)
        rc = later_pages(k, &q, &o, &res, &more);
    if (k->json && o.version >= 0)
        printf("], \"has_more\": %s}\n", more ? "true" : "false");
    TransactionalKV_getRange_result_free(&res);
    GetRangeRequest_free(&q);
    return rc;
}
