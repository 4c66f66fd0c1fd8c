/* arena.c: chunks of the per-message bump allocator: growth, limit, reset and poisoning. */
#include <assert.h>
#include <stdlib.h>

#include "thrift.h"

/* A chunk's header; its memory follows at TP_ARENA_HEADER_SIZE from the start. */
struct tp_arena_chunk {
    tp_arena_chunk *next;
    size_t size; /* header included */
};

#define TP_ARENA_HEADER_SIZE \
    ((sizeof(tp_arena_chunk) + TP_ARENA_ALIGN - 1) / TP_ARENA_ALIGN * TP_ARENA_ALIGN)

#ifdef TP_ARENA_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
#define TP_ARENA_POISON_(p, n) __asan_poison_memory_region((p), (n))
#else
#define TP_ARENA_POISON_(p, n) ((void)(p), (void)(n))
#endif

static uint8_t *chunk_data(tp_arena_chunk *c) { return (uint8_t *)c + TP_ARENA_HEADER_SIZE; }

void tp_arena_init(tp_arena *a, size_t hint, size_t limit)
{
    a->pos = NULL;
    a->end = NULL;
    a->chunks = NULL;
    a->held = 0;
    a->hint = hint;
    a->limit = limit;
}

/* Makes a chunk with room for size bytes at align the current one; false past the limit. */
static bool add_chunk(tp_arena *a, size_t size, size_t align)
{
    assert(TP_ARENA_HEADER_SIZE % TP_ARENA_ALIGN == 0);
    if (size > a->limit || align > a->limit - size)
        return false;
    size_t need = TP_ARENA_HEADER_SIZE + size + align;
    size_t want = a->chunks == NULL ? a->hint : 2 * a->chunks->size; /* geometric growth */
    want = want < TP_ARENA_CHUNK_MIN ? TP_ARENA_CHUNK_MIN : want;
    want = want < need ? need : want;
    if (a->held > a->limit || want > a->limit - a->held) /* as much as the limit allows */
        want = a->held > a->limit ? 0 : a->limit - a->held;
    if (want < need)
        return false;
    tp_arena_chunk *c = malloc(want);
    if (c == NULL)
        return false;
    c->next = a->chunks;
    c->size = want;
    a->chunks = c;
    a->held += want;
    a->pos = chunk_data(c);
    a->end = (uint8_t *)c + want;
    TP_ARENA_POISON_(a->pos, (size_t)(a->end - a->pos));
    return true;
}

void *tp_arena_alloc_slow(tp_arena *a, size_t size, size_t align)
{
    if (!add_chunk(a, size, align))
        return NULL;
    return tp_arena_alloc(a, size, align);
}

int tp_arena_reserve(tp_arena *a, size_t size)
{
    if (size <= (size_t)(a->end - a->pos))
        return 0;
    return add_chunk(a, size, 1) ? 0 : TP_ERR_NOMEM;
}

/* Frees every chunk; the arena then holds nothing. */
static void free_chunks(tp_arena *a)
{
    tp_arena_chunk *c = a->chunks;
    while (c != NULL) {
        tp_arena_chunk *next = c->next;
        TP_ARENA_UNPOISON_(c, c->size);
        free(c);
        c = next;
    }
    tp_arena_init(a, a->hint, a->limit);
}

void tp_arena_reset(tp_arena *a)
{
    if (a->chunks == NULL)
        return;
    if (a->chunks->next != NULL) {
        /* Several chunks: replace them by one of their total size, so that the next message
         * as large as this one fits in one chunk and allocates nothing. */
        size_t total = a->held;
        free_chunks(a);
        a->hint = total > a->hint ? total : a->hint;
        (void)add_chunk(a, 1, 1); /* out of memory: the next allocation tries again */
        return;
    }
    a->pos = chunk_data(a->chunks);
    TP_ARENA_POISON_(a->pos, (size_t)(a->end - a->pos));
}

void tp_arena_free(tp_arena *a) { free_chunks(a); }

size_t tp_arena_held(const tp_arena *a) { return a->held; }
