/* kvctl_txn.c: `kvctl txn`: lines of get/set/del/clear-range committed atomically at one read
   version; the gets become read-conflict keys. */
#include "kvctl_cmds.h"

#include <stdlib.h>
#include <string.h>

#define TXN_LINES_MAX 100000

static void *grow(void *items, uint32_t count, size_t size)
{
    return realloc(items, (count + 1) * size);
}

static int txn_get(struct kvctl *k, int64_t rv, const char *key, AtomicCommitRequest *c)
{
    SnapshotReadRequest q;
    SnapshotReadRequest_init(&q);
    q.read_version = rv;
    int rc = kvctl_parse_bytes(k, key, &q.key);
    TransactionalKV_snapshotRead_result res;
    TransactionalKV_snapshotRead_result_init(&res);
    if (rc == KVCTL_OK)
        KVCTL_CALL_RETRY(rc, k, snapshotRead, &q, &res, true);
    const SnapshotReadResponse *s = &res.success;
    if (rc == KVCTL_OK && !s->success)
        rc = kvctl_server_error("txn get", s->has_error, &s->error, s->has_error_code,
                                s->error_code);
    if (rc == KVCTL_OK) {
        kvctl_print_bytes(k, stdout, &q.key);
        fputc('\t', stdout);
        if (s->found)
            kvctl_print_bytes(k, stdout, &s->value);
        else
            fputs(k->json ? "null" : "(not found)", stdout);
        fputc('\n', stdout);
        tp_bytes *keys = grow(c->read_conflict_keys.items, c->read_conflict_keys.count,
                              sizeof *keys);
        if (!keys)
            rc = KVCTL_SERVER;
        else {
            c->read_conflict_keys.items = keys;
            keys[c->read_conflict_keys.count++] = q.key;   /* moved */
            q.key = (tp_bytes){NULL, 0};
            c->has_read_conflict_keys = true;
        }
    }
    TransactionalKV_snapshotRead_result_free(&res);
    SnapshotReadRequest_free(&q);
    return rc;
}

/* Parses one write line's words into a new operation. */
static int txn_op(struct kvctl *k, char **w, int n, AtomicCommitRequest *c)
{
    int type = strcmp(w[0], "set") == 0      ? OperationType_SET
               : strcmp(w[0], "del") == 0    ? OperationType_DELETE
               : strcmp(w[0], "clear-range") == 0 ? OperationType_CLEAR_RANGE
                                                  : -1;
    int want = type == OperationType_DELETE ? 2 : 3;
    if (type < 0 || n != want) {
        fprintf(stderr, "kvctl: txn: bad line '%s ...': want get KEY | set KEY VALUE | del KEY | "
                        "clear-range BEGIN END\n", w[0]);
        return KVCTL_USAGE;
    }
    Operation *ops = grow(c->operations.items, c->operations.count, sizeof *ops);
    if (!ops)
        return KVCTL_SERVER;
    c->operations.items = ops;
    Operation *op = &ops[c->operations.count++];
    Operation_init(op);
    op->type = (OperationType)type;
    int rc = kvctl_parse_bytes(k, w[1], &op->key);
    if (rc == KVCTL_OK && type == OperationType_SET) {
        op->has_value = true;
        rc = kvctl_parse_bytes(k, w[2], &op->value);
    } else if (rc == KVCTL_OK && type == OperationType_CLEAR_RANGE) {
        op->has_end_key = true;
        rc = kvctl_parse_bytes(k, w[2], &op->end_key);
    }
    return rc;
}

static int txn_line(struct kvctl *k, int64_t rv, char *line, AtomicCommitRequest *c)
{
    char *w[4];
    int n = 0;
    for (char *save, *t = strtok_r(line, " \t\r\n", &save); t && n < 4;
         t = strtok_r(NULL, " \t\r\n", &save))
        w[n++] = t;
    if (n == 0 || w[0][0] == '#')
        return KVCTL_OK;
    if (strcmp(w[0], "get") == 0) {
        if (n != 2) {
            fprintf(stderr, "kvctl: txn: get takes one key\n");
            return KVCTL_USAGE;
        }
        return txn_get(k, rv, w[1], c);
    }
    return txn_op(k, w, n, c);
}

static int txn_commit(struct kvctl *k, AtomicCommitRequest *c)
{
    TransactionalKV_atomicCommit_result res;
    TransactionalKV_atomicCommit_result_init(&res);
    int rc = kvctl_session_open(k, &c->session);
    if (rc == KVCTL_OK) {
        c->has_session = true;
        KVCTL_CALL_RETRY(rc, k, atomicCommit, c, &res, true);
        if (rc == KVCTL_OK)
            kvctl_session_close(k, &c->session);
    }
    const AtomicCommitResponse *a = &res.success;
    if (rc == KVCTL_OK && !a->success)
        rc = kvctl_server_error("txn commit", a->has_error, &a->error, a->has_error_code,
                                a->error_code);
    else if (rc == KVCTL_OK)
        printf(k->json ? "{\"committed_version\": %lld}\n" : "COMMITTED version %lld\n",
               (long long)a->committed_version);
    TransactionalKV_atomicCommit_result_free(&res);
    return rc;
}

int kvctl_txn(struct kvctl *k, FILE *in)
{
    GetReadVersionRequest vq;
    GetReadVersionRequest_init(&vq);
    TransactionalKV_getReadVersion_result vr;
    TransactionalKV_getReadVersion_result_init(&vr);
    int rc;
    KVCTL_CALL_RETRY(rc, k, getReadVersion, &vq, &vr, true);
    if (rc != KVCTL_OK)
        return rc;
    AtomicCommitRequest c;
    AtomicCommitRequest_init(&c);
    c.read_version = vr.success.version;
    char *line = malloc(KVCTL_LINE_MAX);
    int lines = 0;
    while (rc == KVCTL_OK && line && fgets(line, KVCTL_LINE_MAX, in)) {
        if (++lines > TXN_LINES_MAX || (!strchr(line, '\n') && !feof(in))) {
            fprintf(stderr, "kvctl: txn: line %d too long or too many lines\n", lines);
            rc = KVCTL_USAGE;
        } else
            rc = txn_line(k, c.read_version, line, &c);
    }
    free(line);
    if (rc == KVCTL_OK && c.operations.count > 0)
        rc = txn_commit(k, &c);
    AtomicCommitRequest_free(&c);
    return rc;
}

int kvctl_cmd_txn(struct kvctl *k, int argc, char **argv)
{
    if (argc > 1)
        return KVCTL_USAGE;
    FILE *in = argc == 1 && strcmp(argv[0], "-") != 0 ? fopen(argv[0], "r") : stdin;
    if (!in) {
        fprintf(stderr, "kvctl: cannot open %s\n", argv[0]);
        return KVCTL_USAGE;
    }
    int rc = kvctl_txn(k, in);
    if (in != stdin)
        fclose(in);
    return rc;
}
