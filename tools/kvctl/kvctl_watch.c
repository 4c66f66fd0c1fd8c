/* kvctl_watch.c: `kvctl watch KEY | --prefix P`: every change as it is committed, one line
   (or JSON document) each, from the current version or --from V, until --count N changes or
   for ever. Any node serves watches; when one goes away kvctl goes on at another from the
   last version it printed, so nothing is missed and nothing printed twice. */
#include "kvctl_cmds.h"

#include <string.h>
#include <unistd.h>

/* What one call waits for at most: well under the call's own timeout (KVCTL_TIMEOUT_MS). */
#define KVCTL_WATCH_WAIT_MS 5000
_Static_assert(KVCTL_WATCH_WAIT_MS * 2 <= KVCTL_TIMEOUT_MS, "the node answers first");

/* [prefix, the first key after every key that starts with it); unbounded for "" or 0xff...ff. */
static int prefix_range(const tp_bytes *p, KeyRange *r)
{
    if (tp_bytes_set(&r->begin_key, p->data, p->len) != 0)
        return KVCTL_SERVER;
    uint32_t len = p->len;
    while (len > 0 && p->data[len - 1] == 0xff)
        len--;
    if (len == 0)
        return KVCTL_OK;
    if (tp_bytes_set(&r->end_key, p->data, len) != 0)
        return KVCTL_SERVER;
    r->end_key.data[len - 1]++;
    r->has_end_key = true;
    return KVCTL_OK;
}

static void print_event(const struct kvctl *k, const WatchEvent *e)
{
    if (k->json) {
        printf("{\"version\": %lld, \"key\": ", (long long)e->version);
        kvctl_print_bytes(k, stdout, &e->key);
        if (e->has_value) {
            printf(", \"value\": ");
            kvctl_print_bytes(k, stdout, &e->value);
            printf("}\n");
        } else {
            printf(", \"deleted\": true}\n");
        }
        return;
    }
    printf("%lld\t%s\t", (long long)e->version, e->has_value ? "set" : "del");
    kvctl_print_bytes(k, stdout, &e->key);
    if (e->has_value) {
        putchar('\t');
        kvctl_print_bytes(k, stdout, &e->value);
    }
    putchar('\n');
}

static int start_version(struct kvctl *k, int64_t *after)
{
    if (k->has_from) {
        *after = k->from;
        return KVCTL_OK;
    }
    GetReadVersionRequest q;
    GetReadVersionRequest_init(&q);
    TransactionalKV_getReadVersion_result res;
    TransactionalKV_getReadVersion_result_init(&res);
    int rc;
    KVCTL_CALL_RETRY(rc, k, getReadVersion, &q, &res, true);
    if (rc == KVCTL_OK && !res.success.success)
        rc = kvctl_server_error("watch", res.success.has_error, &res.success.error,
                                res.success.has_error_code, res.success.error_code);
    *after = res.success.version;
    TransactionalKV_getReadVersion_result_free(&res);
    return rc;
}

/* One answer: its events printed; KVCTL_OK to go on (*after moved), else the exit code. */
static int take_answer(struct kvctl *k, const WatchResponse *w, int64_t *after, int64_t *seen)
{
    if (!w->success && w->has_error_code && w->error_code == ErrorCode_SHUTTING_DOWN) {
        kvctl_move_on(k);   /* that node is stopping: go on at another */
        return KVCTL_OK;
    }
    if (!w->success)
        return kvctl_server_error("watch", w->has_error, &w->error, w->has_error_code,
                                  w->error_code);
    for (uint32_t i = 0; i < w->events.count && (!k->count_max || *seen < k->count_max); i++) {
        print_event(k, &w->events.items[i]);
        ++*seen;
    }
    if (w->has_truncated && w->truncated)
        fprintf(stderr, "kvctl: watch: version %lld changed more keys than one answer holds; "
                        "read the range at %lld for the rest\n",
                (long long)w->version, (long long)w->version);
    fflush(stdout);
    *after = w->version > *after ? w->version : *after;
    return KVCTL_OK;
}

int kvctl_cmd_watch(struct kvctl *k, int argc, char **argv)
{
    if (argc != 1)
        return KVCTL_USAGE;
    WatchRequest q;
    WatchRequest_init(&q);
    tp_bytes key = {0};
    int rc = kvctl_parse_bytes(k, argv[0], &key);
    if (rc == KVCTL_OK && k->prefix) {
        q.has_range = true;
        rc = prefix_range(&key, &q.range);
    } else if (rc == KVCTL_OK) {
        q.has_key = true;
        rc = tp_bytes_set(&q.key, key.data, key.len) == 0 ? KVCTL_OK : KVCTL_SERVER;
    }
    int64_t after = 0, seen = 0;
    if (rc == KVCTL_OK)
        rc = start_version(k, &after);
    q.has_timeout_ms = true;
    q.timeout_ms = KVCTL_WATCH_WAIT_MS;
    while (rc == KVCTL_OK && (!k->count_max || seen < k->count_max)) {
        TransactionalKV_watch_result res;
        TransactionalKV_watch_result_init(&res);
        q.after_version = after;
        KVCTL_CALL_RETRY(rc, k, watch, &q, &res, true);
        if (rc == KVCTL_OK)
            rc = take_answer(k, &res.success, &after, &seen);
        TransactionalKV_watch_result_free(&res);
    }
    tp_bytes_free(&key);
    WatchRequest_free(&q);
    return rc;
}
