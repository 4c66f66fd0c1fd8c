/* tp_arena.h: a per-message bump allocator that decodes may take memory from (in thrift.h). */
#ifndef THRIFT_TP_ARENA_H
#define THRIFT_TP_ARENA_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Chunks start 16-byte aligned; arrays inside them are 8-byte aligned (every C type the
 * generated code puts in an array: pointers, int64_t, double, structs of those), strings
 * 1-byte aligned. */
#define TP_ARENA_ALIGN 16u
#define TP_ARENA_ARRAY_ALIGN 8u
/* The smallest chunk, whatever the hint says. */
#define TP_ARENA_CHUNK_MIN 1024u
/* A limit for callers without a better one: twice the default string limit. */
#define TP_ARENA_LIMIT_DEFAULT (32u * 1024 * 1024)

_Static_assert(_Alignof(int64_t) <= TP_ARENA_ARRAY_ALIGN, "arrays of i64 fit the alignment");
_Static_assert(_Alignof(double) <= TP_ARENA_ARRAY_ALIGN, "arrays of double fit the alignment");
_Static_assert(_Alignof(void *) <= TP_ARENA_ARRAY_ALIGN, "arrays of pointers fit the alignment");
_Static_assert(TP_ARENA_ARRAY_ALIGN <= TP_ARENA_ALIGN, "chunks are aligned for any array");

typedef struct tp_arena_chunk tp_arena_chunk;

/* Memory handed out by tp_arena_alloc lives until tp_arena_reset or tp_arena_free. All
 * chunks together never hold more than `limit` bytes: beyond it an allocation fails. */
typedef struct tp_arena {
    uint8_t *pos, *end;     /* free space in the newest chunk */
    tp_arena_chunk *chunks; /* newest first */
    size_t held;            /* bytes of all chunks, headers included */
    size_t hint;            /* size of the first chunk */
    size_t limit;
} tp_arena;

/* Allocates nothing yet: the first allocation takes a chunk of max(hint, what it needs). */
void tp_arena_init(tp_arena *a, size_t hint, size_t limit);
/* Releases every allocation. Keeps its one chunk, or replaces several by one of their total
 * size: a later message no larger than this one then fits one chunk (and never mallocs). */
void tp_arena_reset(tp_arena *a);
/* Releases everything; the arena is as after tp_arena_init (its hint grown by any reset). */
void tp_arena_free(tp_arena *a);
/* Makes the next `size` bytes of allocations fit in one chunk: 0 or TP_ERR_NOMEM. */
int tp_arena_reserve(tp_arena *a, size_t size);
/* Bytes of chunk memory the arena holds (what counts against its limit). */
size_t tp_arena_held(const tp_arena *a);
/* Slow path of tp_arena_alloc: a new chunk; NULL past the limit or when malloc fails. */
void *tp_arena_alloc_slow(tp_arena *a, size_t size, size_t align);

#if defined(__SANITIZE_ADDRESS__)
#define TP_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TP_ARENA_ASAN 1
#endif
#endif
#ifdef TP_ARENA_ASAN
/* Under ASan, free arena memory is poisoned: a use after tp_arena_reset is reported. */
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define TP_ARENA_UNPOISON_(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define TP_ARENA_UNPOISON_(p, n) ((void)(p), (void)(n))
#endif

/* size > 0 bytes aligned to align (a power of two, at most TP_ARENA_ALIGN); NULL on failure. */
static inline __attribute__((always_inline)) void *tp_arena_alloc(tp_arena *a, size_t size,
                                                                  size_t align)
{
    assert(size > 0);
    assert(align > 0 && align <= TP_ARENA_ALIGN && (align & (align - 1)) == 0);
    size_t pad = (size_t)(-(uintptr_t)a->pos & (align - 1));
    if (pad + size <= (size_t)(a->end - a->pos)) {
        uint8_t *p = a->pos + pad;
        a->pos = p + size;
        TP_ARENA_UNPOISON_(p, size);
        return p;
    }
    return tp_arena_alloc_slow(a, size, align);
}

/* n elements of size bytes for a generated container (not zeroed); NULL on failure. */
static inline __attribute__((always_inline)) void *tp_arena_array(tp_arena *a, uint32_t n,
                                                                  size_t size)
{
    if (n == 0 || size > SIZE_MAX / n)
        return NULL;
    return tp_arena_alloc(a, (size_t)n * size, TP_ARENA_ARRAY_ALIGN);
}

#endif
