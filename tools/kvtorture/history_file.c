/* history_file.c: a history as a text file, one op a line, and back. */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define HISTORY_LINE_MAX 512

int kvt_history_write_header(FILE *f, const char *header)
{
    return fprintf(f, "# %s\n# process type outcome key value expected invoke_ns complete_ns"
                      " node\n", header ? header : "kvtorture history") < 0 ? -1 : 0;
}

int kvt_history_write_lines(FILE *f, const struct kvt_history *h)
{
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        fprintf(f, "%" PRIu32 " %s %s %" PRIu32 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
                   " %" PRId32 "\n",
                op->process, kvt_op_type_name(op->type), kvt_outcome_name(op->outcome), op->key,
                op->value, op->expected, op->invoke_ns, op->complete_ns, op->node);
    }
    return ferror(f) ? -1 : 0;
}

int kvt_history_write(const char *path, const struct kvt_history *h, const char *header)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = kvt_history_write_header(f, header) == 0 ? kvt_history_write_lines(f, h) : -1;
    return fclose(f) != 0 ? -1 : rc;
}

static int name_index(const char *name, const char *(*name_of)(int), int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(name, name_of(i)) == 0)
            return i;
    return -1;
}

static const char *type_name(int t) { return kvt_op_type_name((enum kvt_op_type)t); }
static const char *outcome_name(int o) { return kvt_outcome_name((enum kvt_outcome)o); }

static bool parse_line(const char *line, struct kvt_op *op)
{
    char type[16], outcome[16];
    int n = sscanf(line, "%" SCNu32 " %15s %15s %" SCNu32 " %" SCNd64 " %" SCNd64 " %" SCNd64
                         " %" SCNd64 " %" SCNd32,
                   &op->process, type, outcome, &op->key, &op->value, &op->expected,
                   &op->invoke_ns, &op->complete_ns, &op->node);
    int t = name_index(type, type_name, KVT_OP_TYPES);
    int o = name_index(outcome, outcome_name, KVT_OUTCOMES);
    if (n != 9 || t < 0 || o < 0)
        return false;
    op->type = (enum kvt_op_type)t;
    op->outcome = (enum kvt_outcome)o;
    op->version = 0;   /* the text form keeps no versions: a saved history is not judged by them */
    return true;
}

long kvt_history_read(const char *path, struct kvt_history *h)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[HISTORY_LINE_MAX];
    long lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct kvt_op op;
        if (!parse_line(line, &op))
            rc = lineno;
        else if (kvt_history_add(h, &op) != 0)
            rc = -1;
    }
    fclose(f);
    return rc;
}
