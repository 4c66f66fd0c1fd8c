/* txn_file.c: a list-append history as a text file, one transaction a line, and back. */
#include "txn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TXN_FILE_MAGIC "# kvtorture append history"

static void write_mop(FILE *f, const struct kvt_mop *m)
{
    if (m->kind == KVT_MOP_APPEND) {
        fprintf(f, " a%" PRIu32 "+%" PRId64, m->key, m->element);
        return;
    }
    fprintf(f, " %c%" PRIu32 "=", m->conflict ? 'r' : 's', m->key);
    for (uint32_t i = 0; i < m->len; i++)
        fprintf(f, "%s%" PRId64, i ? "," : "", m->list[i]);
}

int kvt_txns_write(const char *path, const struct kvt_txns *h, const char *header)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, TXN_FILE_MAGIC ": %s\n# process outcome invoke_ns complete_ns node mops "
               "(rKEY=LIST read, sKEY=LIST snapshot read, aKEY+E append)\n",
            header ? header : "");
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_txn *t = &h->txns[i];
        fprintf(f, "%" PRIu32 " %s %" PRId64 " %" PRId64 " %" PRId32, t->process,
                kvt_outcome_name(t->outcome), t->invoke_ns, t->complete_ns, t->node);
        for (uint32_t j = 0; j < t->mop_count; j++)
            write_mop(f, &t->mops[j]);
        fputc('\n', f);
    }
    int rc = ferror(f) ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

bool kvt_txns_is_file(const char *path)
{
    char line[64] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool is = fgets(line, sizeof line, f) && strncmp(line, TXN_FILE_MAGIC, strlen(TXN_FILE_MAGIC)) == 0;
    fclose(f);
    return is;
}

/* "E,E,..." (possibly empty) into a list; 0, 1 (bad), or -1 (memory). */
static int parse_list(const char *text, int64_t **out, uint32_t *len)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    int64_t *list = malloc(cap * sizeof *list);
    if (!list)
        return -1;
    uint32_t n = 0;
    while (*text && n < cap && n < KVT_LIST_MAX) {
        char *end;
        errno = 0;
        list[n++] = strtoll(text, &end, 10);
        if (end == text || errno || (*end && *end != ','))
            break;
        text = *end ? end + 1 : end;
    }
    int rc = *text ? 1 : 0;
    *out = list;
    *len = n;
    return rc;
}

static int parse_mop(struct kvt_txn *t, const char *word)
{
    char kind = word[0], *end;
    unsigned long key = strtoul(word + 1, &end, 10);
    if (end == word + 1 || key > UINT32_MAX)
        return 1;
    if (kind == 'a' && *end == '+') {
        char *e2;
        long long el = strtoll(end + 1, &e2, 10);
        return e2 == end + 1 || *e2 ? 1 : kvt_txn_append(t, (uint32_t)key, el);
    }
    if ((kind != 'r' && kind != 's') || *end != '=')
        return 1;
    int64_t *list = NULL;
    uint32_t len = 0;
    int rc = parse_list(end + 1, &list, &len);
    if (rc == 0)
        rc = kvt_txn_read(t, (uint32_t)key, kind == 'r', list, len);
    free(list);
    return rc;
}

int kvt_txn_parse(char *line, struct kvt_txn *t)
{
    char outcome[16];
    int used = 0;
    memset(t, 0, sizeof *t);
    if (sscanf(line, "%" SCNu32 " %15s %" SCNd64 " %" SCNd64 " %" SCNd32 "%n", &t->process,
               outcome, &t->invoke_ns, &t->complete_ns, &t->node, &used) != 5)
        return 1;
    int o = 0;
    while (o < KVT_OUTCOMES && strcmp(outcome, kvt_outcome_name((enum kvt_outcome)o)) != 0)
        o++;
    if (o == KVT_OUTCOMES)
        return 1;
    t->outcome = (enum kvt_outcome)o;
    int rc = 0;
    for (char *save, *w = strtok_r(line + used, " \t\n", &save); rc == 0 && w;
         w = strtok_r(NULL, " \t\n", &save))
        rc = parse_mop(t, w);
    return rc;
}

long kvt_txns_read(const char *path, struct kvt_txns *h)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, rc = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct kvt_txn t;
        int bad = kvt_txn_parse(line, &t);
        if (bad != 0)
            kvt_txn_free(&t);
        rc = bad > 0 ? lineno : bad < 0 ? -1 : kvt_txns_add(h, &t) != 0 ? -1 : 0;
    }
    free(line);
    fclose(f);
    return rc;
}
