/* lin.c: Wing-Gong search with memoized (linearized set, state), per key, as Porcupine and
   Knossos do; info ops may be linearized anywhere after their invocation or left out.
 *
 * The memo stores a set as (piece, the piece's bits): at a quiescent point every op before
 * is linearized and none after (lin_internal.h), so the first unlinearized op's piece and the
 * bits inside it name the set exactly. Rows stay as small as a piece however long the
 * history, where a bitset of every op made long histories run out of memo memory. */
#include "lin.h"
#include "lin_internal.h"
#include "lin_memo.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define BUDGET_CHECK_STEPS 4096u

struct frame {
    struct kvt_lin_entry *e;
    int64_t state;             /* before e was linearized */
};

struct search {
    const struct kvt_history *h;
    const struct kvt_lin_limits *lim;
    struct kvt_lin_events ev;
    struct kvt_lin_memo memo;
    uint64_t *bits;
    uint64_t hash;             /* xor of op_hash over the set bits */
    uint64_t *row;             /* the memo row being built */
    struct frame *stack;
    size_t depth;
    size_t required;           /* ok ops not yet linearized */
    int64_t state;
    int64_t started_ns;
    struct kvt_lin_result *out;
};

void kvt_lin_limits_default(struct kvt_lin_limits *lim)
{
    *lim = (struct kvt_lin_limits){.steps_max = KVT_LIN_STEPS_MAX_DEFAULT,
                                   .memo_bytes_max = KVT_LIN_MEMO_BYTES_MAX_DEFAULT};
}

bool kvt_lin_step(int64_t state, const struct kvt_op *op, int64_t *next)
{
    *next = state;
    switch (op->type) {
    case KVT_READ:
        return op->value == state;
    case KVT_WRITE:
        *next = op->value;
        return true;
    case KVT_CAS:
        if (op->expected != state)
            return false;
        *next = op->value;
        return true;
    default:
        return false;
    }
}

static uint64_t op_hash(size_t op)
{
    uint64_t z = (uint64_t)op + 0x9e3779b97f4a7c15ull;   /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void flip(struct search *s, size_t op)
{
    s->bits[op / 64] ^= 1ull << (op % 64);
    s->hash ^= op_hash(op);
}

static const struct kvt_op *op_of(const struct search *s, const struct kvt_lin_entry *e)
{
    return &s->h->ops[s->ev.hist[e->op]];
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static void window_add(struct kvt_lin_result *r, size_t hist, bool linearized)
{
    for (size_t i = 0; i < r->window_count; i++)
        if (r->window[i] == hist)
            return;
    if (r->window_count < KVT_LIN_WINDOW_MAX) {
        r->window_linearized[r->window_count] = linearized;
        r->window[r->window_count++] = hist;
    }
}

/* The search could not pass `ret` (a completion): remember the deepest such point. */
static void note_stuck(struct search *s, const struct kvt_lin_entry *ret)
{
    struct kvt_lin_result *r = s->out;
    if (r->window_count > 0 && s->depth <= r->linearized)
        return;
    r->window_count = 0;
    r->linearized = s->depth;
    r->state = s->state;
    r->stuck = s->ev.hist[ret->op];
    size_t from = s->depth > KVT_LIN_WINDOW_BEFORE ? s->depth - KVT_LIN_WINDOW_BEFORE : 0;
    for (size_t i = from; i < s->depth; i++)
        window_add(r, s->ev.hist[s->stack[i].e->op], true);
    window_add(r, r->stuck, false);
    size_t open = 0;
    for (const struct kvt_lin_entry *e = s->ev.head.next; e && e != ret; e = e->next)
        if (e->call && open++ < KVT_LIN_WINDOW_OPEN_MAX)
            window_add(r, s->ev.hist[e->op], false);
    /* Order by history index (= invocation order), keeping each op's flag. */
    size_t keyed[KVT_LIN_WINDOW_MAX][2];
    for (size_t i = 0; i < r->window_count; i++)
        keyed[i][0] = r->window[i], keyed[i][1] = r->window_linearized[i];
    qsort(keyed, r->window_count, sizeof keyed[0], cmp_size);
    for (size_t i = 0; i < r->window_count; i++)
        r->window[i] = keyed[i][0], r->window_linearized[i] = keyed[i][1] != 0;
}

static bool over_budget(struct search *s)
{
    struct kvt_lin_result *r = s->out;
    if (r->steps >= s->lim->steps_max) {
        r->why = "step bound";
        return true;
    }
    if (s->lim->now_ns && r->steps % BUDGET_CHECK_STEPS == 0 &&
        s->lim->now_ns() - s->started_ns > s->lim->time_budget_ns) {
        r->why = "time bound";
        return true;
    }
    return false;
}

/* Bits [from, from + count) of src into dst, from bit 0. */
static void copy_bits(uint64_t *dst, const uint64_t *src, size_t from, size_t count)
{
    size_t shift = from % 64;
    const uint64_t *w = src + from / 64;
    for (size_t i = 0; i * 64 < count; i++) {
        uint64_t v = w[i] >> shift;
        if (shift)
            v |= w[i + 1] << (64 - shift);   /* bits has a spare word at the end */
        size_t left = count - i * 64;
        dst[i] = left >= 64 ? v : v & ((1ull << left) - 1);
    }
}

/* The memo row of the current set (after a lift); its length in words. */
static size_t make_row(struct search *s)
{
    const struct kvt_lin_entry *first = s->ev.head.next;
    assert(!first || first->call);
    size_t piece = first ? s->ev.piece_of[first->op] : s->ev.pieces;
    s->row[0] = piece;
    if (!first)
        return 1;
    size_t from = s->ev.piece_start[piece], count = s->ev.piece_start[piece + 1] - from;
    copy_bits(s->row + 1, s->bits, from, count);
    return 1 + (count + 63) / 64;
}

/* Tries to linearize call e next; true when it did. -1 in *err when the memo is full. */
static bool try_call(struct search *s, struct kvt_lin_entry *e, int *err)
{
    int64_t next;
    if (!kvt_lin_step(s->state, op_of(s, e), &next))
        return false;
    flip(s, e->op);
    kvt_lin_lift(e);
    size_t words = make_row(s);
    int added = kvt_lin_memo_add(&s->memo, s->row, words,
                                 s->hash ^ op_hash((size_t)next * 31 + 7), next);
    if (added != 1) {
        kvt_lin_unlift(e);
        flip(s, e->op);
        *err = added < 0 ? -1 : 0;
        return false;
    }
    s->stack[s->depth++] = (struct frame){e, s->state};
    s->state = next;
    if (e->match)
        s->required--;
    return true;
}

/* Undoes the last linearized call; returns where the scan resumes, or NULL if none. */
static struct kvt_lin_entry *backtrack(struct search *s)
{
    if (s->depth == 0)
        return NULL;
    struct frame f = s->stack[--s->depth];
    kvt_lin_unlift(f.e);
    flip(s, f.e->op);
    s->state = f.state;
    if (f.e->match)
        s->required++;
    return f.e->next;
}

static enum kvt_lin_verdict search_run(struct search *s)
{
    struct kvt_lin_entry *e = s->ev.head.next;
    while (s->required > 0) {
        s->out->steps++;
        if (over_budget(s))
            return KVT_LIN_UNKNOWN;
        /* While an ok op is open, a completion lies ahead: the scan never runs off the end. */
        assert(e);
        int err = 0;
        if (e->call) {
            if (try_call(s, e, &err))
                e = s->ev.head.next;
            else if (err) {
                s->out->why = "memo memory bound";
                return KVT_LIN_UNKNOWN;
            } else
                e = e->next;
            continue;
        }
        note_stuck(s, e);
        e = backtrack(s);
        if (!e)
            return KVT_LIN_VIOLATION;
    }
    return KVT_LIN_OK;
}

static int search_init(struct search *s, const struct kvt_history *h, uint32_t key)
{
    if (kvt_lin_events_build(&s->ev, h, key) != 0)
        return -1;
    size_t widest = 0;
    for (size_t p = 0; p < s->ev.pieces; p++) {
        size_t size = s->ev.piece_start[p + 1] - s->ev.piece_start[p];
        widest = size > widest ? size : widest;
    }
    s->bits = calloc(s->ev.n / 64 + 3, sizeof *s->bits);   /* spare words: copy_bits */
    s->row = malloc((widest / 64 + 2) * sizeof *s->row);
    s->stack = malloc((s->ev.n + 1) * sizeof *s->stack);
    if (!s->bits || !s->row || !s->stack || kvt_lin_memo_init(&s->memo, s->lim->memo_bytes_max) != 0)
        return -1;
    for (const struct kvt_lin_entry *e = s->ev.head.next; e; e = e->next)
        s->required += e->call && e->match;   /* ok ops, and info ops proved to have happened */
    s->state = KVT_NIL;
    return 0;
}

static void search_free(struct search *s)
{
    kvt_lin_events_free(&s->ev);
    kvt_lin_memo_free(&s->memo);
    free(s->bits);
    free(s->row);
    free(s->stack);
}

int kvt_lin_check_key(const struct kvt_history *h, uint32_t key, const struct kvt_lin_limits *lim,
                      struct kvt_lin_result *out)
{
    memset(out, 0, sizeof *out);
    out->key = key;
    struct search s = {.h = h, .lim = lim, .out = out};
    if (search_init(&s, h, key) != 0) {
        search_free(&s);
        return -1;
    }
    out->ops = s.ev.n;
    out->pruned = s.ev.pruned;
    s.started_ns = lim->now_ns ? lim->now_ns() : 0;
    out->verdict = search_run(&s);
    search_free(&s);
    return 0;
}
