/* kvctl_cmds.c: kvctl's one-shot commands: ping, get, set, del, version. */
#include "kvctl_cmds.h"

#include <stdlib.h>
#include <string.h>

int kvctl_cmd_ping(struct kvctl *k, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    PingRequest q;
    PingRequest_init(&q);
    TransactionalKV_ping_result res;
    TransactionalKV_ping_result_init(&res);
    int rc;
    KVCTL_CALL(rc, k, ping, &q, &res);
    if (rc == KVCTL_OK) {
        const PingResponse *p = &res.success;
        const char *node = p->has_node_id && p->node_id.data ? (const char *)p->node_id.data : "?";
        if (k->json)
            printf("{\"message\": \"%s\", \"node_id\": \"%s\", \"timestamp_us\": %lld}\n",
                   p->message.data ? (const char *)p->message.data : "", node,
                   (long long)p->timestamp_us);
        else
            printf("%s from %s\n", p->message.data ? (const char *)p->message.data : "", node);
    }
    TransactionalKV_ping_result_free(&res);
    return rc;
}

int kvctl_cmd_get(struct kvctl *k, int argc, char **argv)
{
    GetRequest q;
    GetRequest_init(&q);
    int rc = argc == 1 ? kvctl_parse_bytes(k, argv[0], &q.key) : KVCTL_USAGE;
    q.has_consistency = true;
    q.consistency = k->serializable ? Consistency_SERIALIZABLE : Consistency_LINEARIZABLE;
    TransactionalKV_get_result res;
    TransactionalKV_get_result_init(&res);
    if (rc == KVCTL_OK)
        KVCTL_CALL_RETRY(rc, k, get, &q, &res, true);
    const GetResponse *g = &res.success;
    if (rc == KVCTL_OK && !g->success)
        rc = kvctl_server_error("get", g->has_error, &g->error, g->has_error_code, g->error_code);
    else if (rc == KVCTL_OK && !g->found) {
        if (k->json)
            printf("{\"found\": false, \"version\": %lld}\n", (long long)g->version);
        else
            fprintf(stderr, "kvctl: key not found\n");
        rc = KVCTL_NOT_FOUND;
    } else if (rc == KVCTL_OK) {
        if (k->json) {
            printf("{\"found\": true, \"value\": ");
            kvctl_print_bytes(k, stdout, &g->value);
            printf(", \"version\": %lld}\n", (long long)g->version);
        } else {
            kvctl_print_bytes(k, stdout, &g->value);
            putchar('\n');
        }
    }
    TransactionalKV_get_result_free(&res);
    GetRequest_free(&q);
    return rc;
}

static void print_written(const struct kvctl *k, int64_t version, int found)
{
    if (k->json)
        printf("{\"version\": %lld%s}\n", (long long)version,
               found < 0 ? "" : found ? ", \"found\": true" : ", \"found\": false");
    else
        printf("OK version %lld\n", (long long)version);
}

int kvctl_cmd_set(struct kvctl *k, int argc, char **argv)
{
    SetRequest q;
    SetRequest_init(&q);
    int rc = argc == 2 ? kvctl_parse_bytes(k, argv[0], &q.key) : KVCTL_USAGE;
    if (rc == KVCTL_OK)
        rc = kvctl_parse_bytes(k, argv[1], &q.value);
    TransactionalKV_setKey_result res;
    TransactionalKV_setKey_result_init(&res);
    if (rc == KVCTL_OK && (rc = kvctl_session_open(k, &q.session)) == KVCTL_OK) {
        q.has_session = true;
        KVCTL_CALL_RETRY(rc, k, setKey, &q, &res, true);
        if (rc == KVCTL_OK)
            kvctl_session_close(k, &q.session);
    }
    const SetResponse *s = &res.success;
    if (rc == KVCTL_OK && !s->success)
        rc = kvctl_server_error("set", s->has_error, &s->error, s->has_error_code, s->error_code);
    else if (rc == KVCTL_OK)
        print_written(k, s->version, -1);
    TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&q);
    return rc;
}

int kvctl_cmd_del(struct kvctl *k, int argc, char **argv)
{
    DeleteRequest q;
    DeleteRequest_init(&q);
    int rc = argc == 1 ? kvctl_parse_bytes(k, argv[0], &q.key) : KVCTL_USAGE;
    TransactionalKV_deleteKey_result res;
    TransactionalKV_deleteKey_result_init(&res);
    if (rc == KVCTL_OK && (rc = kvctl_session_open(k, &q.session)) == KVCTL_OK) {
        q.has_session = true;
        KVCTL_CALL_RETRY(rc, k, deleteKey, &q, &res, true);
        if (rc == KVCTL_OK)
            kvctl_session_close(k, &q.session);
    }
    const DeleteResponse *d = &res.success;
    if (rc == KVCTL_OK && !d->success)
        rc = kvctl_server_error("del", d->has_error, &d->error, d->has_error_code, d->error_code);
    else if (rc == KVCTL_OK) {
        print_written(k, d->version, d->found);
        if (!d->found) {
            if (!k->json)
                fprintf(stderr, "kvctl: key not found\n");
            rc = KVCTL_NOT_FOUND;
        }
    }
    TransactionalKV_deleteKey_result_free(&res);
    DeleteRequest_free(&q);
    return rc;
}

int kvctl_cmd_version(struct kvctl *k, int argc, char **argv)
{
    (void)argv;
    GetReadVersionRequest q;
    GetReadVersionRequest_init(&q);
    TransactionalKV_getReadVersion_result res;
    TransactionalKV_getReadVersion_result_init(&res);
    int rc = argc == 0 ? KVCTL_OK : KVCTL_USAGE;
    if (rc == KVCTL_OK)
        KVCTL_CALL_RETRY(rc, k, getReadVersion, &q, &res, true);
    const GetReadVersionResponse *g = &res.success;
    if (rc == KVCTL_OK && !g->success)
        rc = kvctl_server_error("version", g->has_error, &g->error, g->has_error_code,
                                g->error_code);
    else if (rc == KVCTL_OK)
        printf(k->json ? "{\"version\": %lld}\n" : "%lld\n", (long long)g->version);
    TransactionalKV_getReadVersion_result_free(&res);
    return rc;
}
