/* versions.c: reads checked against the version order the writes' answers name (versions.h). */
#include "versions.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static bool versioned_write(const struct kvt_op *op)
{
    return (op->type == KVT_WRITE || op->type == KVT_CAS) && op->outcome == KVT_OK &&
           op->version > 0;
}

static int by_version(const void *a, const void *b)
{
    const struct kvt_op *const *x = a, *const *y = b;
    return ((*x)->version > (*y)->version) - ((*x)->version < (*y)->version);
}

static int by_value(const void *a, const void *b)
{
    const struct kvt_op *const *x = a, *const *y = b;
    return ((*x)->value > (*y)->value) - ((*x)->value < (*y)->value);
}

/* The newest of writes (sorted by version) at or below version; NULL when none. */
static const struct kvt_op *newest_at(const struct kvt_op *const *w, size_t n, int64_t version)
{
    size_t lo = 0, hi = n;   /* the first write above version */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid]->version <= version)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? w[lo - 1] : NULL;
}

static void show(FILE *out, int64_t t0_ns, const struct kvt_op *rd, const char *what,
                 const struct kvt_op *writer, const struct kvt_op *newest)
{
    fprintf(out, "version order: key %" PRIu32 ": %s: p%" PRIu32 " read at version %" PRId64
                 " on node %" PRId32 " [%.3f, %.3f] ms saw ", rd->key, what, rd->process,
            rd->version, rd->node, (double)(rd->invoke_ns - t0_ns) / 1e6,
            (double)(rd->complete_ns - t0_ns) / 1e6);
    if (rd->value == KVT_NIL)
        fprintf(out, "nil");
    else
        fprintf(out, "%" PRId64 " (written at version %" PRId64 ")", rd->value, writer->version);
    if (newest)
        fprintf(out, ", but %" PRId64 " was written at version %" PRId64, newest->value,
                newest->version);
    fputc('\n', out);
}

/* What is wrong with read rd, or NULL; *newest the write it missed. */
static const char *judge(const struct kvt_op *rd, const struct kvt_op *writer,
                         const struct kvt_op *const *w, size_t n, const struct kvt_op **newest)
{
    *newest = newest_at(w, n, rd->version);
    if (writer && writer->version > rd->version) {
        *newest = NULL;
        return "a future read";
    }
    if (*newest && (!writer || (*newest)->version > writer->version))
        return writer ? "a stale read" : "nothing seen";
    return NULL;
}

int kvt_versions_check_key(const struct kvt_op *ops, size_t n, FILE *out, int64_t t0_ns,
                           struct kvt_versions_result *r)
{
    memset(r, 0, sizeof *r);
    const struct kvt_op **w = malloc((n ? n : 1) * sizeof *w), **v = malloc((n ? n : 1) * sizeof *v);
    size_t nw = 0;
    for (size_t i = 0; w && v && i < n; i++)
        if (versioned_write(&ops[i]))
            w[nw] = v[nw] = &ops[i], nw++;
    if (!w || !v) {
        free(w), free(v);
        return -1;
    }
    qsort(w, nw, sizeof *w, by_version);
    qsort(v, nw, sizeof *v, by_value);
    for (size_t i = 0; i < n; i++) {
        const struct kvt_op *rd = &ops[i], *newest, **hit = NULL;
        if (rd->type != KVT_READ || rd->outcome != KVT_OK || rd->version <= 0)
            continue;
        r->reads++;
        if (rd->value != KVT_NIL) {
            struct kvt_op probe = {.value = rd->value};
            const struct kvt_op *p = &probe;
            hit = bsearch(&p, v, nw, sizeof *v, by_value);
            if (!hit)
                continue;   /* an info write's value: its version is unknown */
        }
        r->judged++;
        const char *what = judge(rd, hit ? *hit : NULL, w, nw, &newest);
        if (what && r->violations++ < KVT_VERSIONS_SHOWN_MAX)
            show(out, t0_ns, rd, what, hit ? *hit : NULL, newest);
    }
    free(w);
    free(v);
    return 0;
}

void kvt_version_set_free(struct kvt_version_set *s)
{
    free(s->bits);
    memset(s, 0, sizeof *s);
}

int kvt_version_set_add(struct kvt_version_set *s, const struct kvt_op *op, FILE *out)
{
    if (!versioned_write(op))
        return 0;
    if ((uint64_t)op->version > KVT_VERSION_MAX) {
        fprintf(out, "version order: a write of %" PRId64 " to key %" PRIu32 " was acknowledged"
                     " at version %" PRId64 ", beyond any log\n", op->value, op->key, op->version);
        return 1;
    }
    size_t word = (size_t)((uint64_t)op->version / 64);
    if (word >= s->words) {
        size_t words = s->words ? s->words : 1024;
        while (words <= word)
            words *= 2;
        uint64_t *bits = realloc(s->bits, words * sizeof *bits);
        if (!bits)
            return -1;
        memset(bits + s->words, 0, (words - s->words) * sizeof *bits);
        s->bits = bits;
        s->words = words;
    }
    uint64_t bit = 1ull << ((uint64_t)op->version % 64);
    if (s->bits[word] & bit) {
        if (s->shared++ < KVT_VERSIONS_SHOWN_MAX)
            fprintf(out, "version order: a write of %" PRId64 " to key %" PRIu32 " was acknowledged"
                         " at version %" PRId64 ", which another acknowledged write named: one of"
                         " them was lost\n", op->value, op->key, op->version);
    }
    s->bits[word] |= bit;
    return 0;
}
