/* final.c: the final-state checks: nodes agree per key; acknowledged writes survive. */
#include "final.h"

#include <stddef.h>

struct issues {
    struct kvt_final_issue *items;
    size_t max, count;
};

static void add(struct issues *is, struct kvt_final_issue issue)
{
    if (is->count < is->max)
        is->items[is->count] = issue;
    is->count++;
}

static bool writes(const struct kvt_op *op)
{
    return op->type == KVT_WRITE || op->type == KVT_CAS;
}

/* The op that wrote value to key (values are unique), ok or info; SIZE_MAX when none. */
static size_t writer_of(const struct kvt_history *h, uint32_t key, int64_t value)
{
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        if (op->key == key && writes(op) && op->value == value && op->outcome != KVT_FAIL)
            return i;
    }
    return SIZE_MAX;
}

/* An acknowledged write that began after the final value's writer was acknowledged must be
   ordered after it, so the final value hides it: lost. Nothing at all hides every ok write. */
static void check_lost(const struct kvt_history *h, uint32_t key, int64_t final,
                       struct issues *is)
{
    size_t w = final == KVT_NIL ? SIZE_MAX : writer_of(h, key, final);
    if (final != KVT_NIL && w == SIZE_MAX) {
        add(is, (struct kvt_final_issue){.kind = KVT_FINAL_UNWRITTEN, .key = key, .value = final});
        return;
    }
    if (w != SIZE_MAX && h->ops[w].outcome != KVT_OK)
        return;   /* an info write may have landed last of all */
    for (size_t i = 0; i < h->count; i++) {
        const struct kvt_op *op = &h->ops[i];
        if (op->key != key || !writes(op) || op->outcome != KVT_OK || i == w)
            continue;
        if (w == SIZE_MAX || op->invoke_ns > h->ops[w].complete_ns)
            add(is, (struct kvt_final_issue){.kind = KVT_FINAL_LOST, .key = key, .value = final,
                                             .op = i});
    }
}

/* Every node's final read of key agrees, and no acknowledged write of it is lost. */
static void check_key(const struct kvt_history *h, const struct kvt_final *f, uint32_t k,
                      struct issues *is)
{
    uint32_t first = UINT32_MAX;
    for (uint32_t n = 0; n < f->nodes; n++) {
        size_t at = (size_t)n * f->keys + k;
        if (!f->read_ok[at])
            continue;
        if (first == UINT32_MAX)
            first = n;
        else if (f->values[at] != f->values[(size_t)first * f->keys + k])
            add(is, (struct kvt_final_issue){.kind = KVT_FINAL_DIVERGED, .key = k, .node = n,
                                              .value = f->values[at]});
    }
    if (first == UINT32_MAX)
        add(is, (struct kvt_final_issue){.kind = KVT_FINAL_UNREAD, .key = k});
    else
        check_lost(h, k, f->values[(size_t)first * f->keys + k], is);
}

size_t kvt_final_check(const struct kvt_history *h, const struct kvt_final *f,
                       struct kvt_final_issue *issues, size_t issues_max)
{
    struct issues is = {issues, issues_max, 0};
    for (uint32_t k = 0; k < f->keys; k++)
        check_key(h, f, k, &is);
    return is.count;
}

size_t kvt_final_check_key(const struct kvt_history *h, const struct kvt_final *f, uint32_t key,
                           struct kvt_final_issue *issues, size_t issues_max)
{
    struct issues is = {issues, issues_max, 0};
    if (key < f->keys)
        check_key(h, f, key, &is);
    return is.count;
}

const char *kvt_final_kind_name(enum kvt_final_kind k)
{
    switch (k) {
    case KVT_FINAL_UNREAD: return "no node answered the final read";
    case KVT_FINAL_DIVERGED: return "nodes disagree";
    case KVT_FINAL_UNWRITTEN: return "final value was never written";
    case KVT_FINAL_LOST: return "acknowledged write lost";
    }
    return "?";
}

uint32_t kvt_final_nodes_read(const struct kvt_final *f)
{
    uint32_t read = 0;
    for (uint32_t n = 0; n < f->nodes; n++) {
        bool any = false;
        for (uint32_t k = 0; k < f->keys && !any; k++)
            any = f->read_ok[(size_t)n * f->keys + k];
        read += any;
    }
    return read;
}
