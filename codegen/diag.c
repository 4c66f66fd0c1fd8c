/* diag.c: error reporting and the compiler's allocation arena. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int error_count;

/* Every allocation is a block in this list, so arena_free_all can release them. */
struct block {
    struct block *next;
    size_t size;
    _Alignas(max_align_t) unsigned char data[];
};
static struct block *blocks;

__attribute__((format(printf, 2, 0)))
static void vreport(srcpos pos, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s:%d:%d: ", pos.file ? pos.file : "thriftc", pos.line, pos.col);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    error_count++;
}

void diag_error(srcpos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(pos, fmt, ap);
    va_end(ap);
}

void diag_fatal(srcpos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(pos, fmt, ap);
    va_end(ap);
    arena_free_all();
    exit(1);
}

int diag_error_count(void) { return error_count; }

static struct block *block_new(size_t size)
{
    struct block *b = calloc(1, sizeof *b + size);
    if (b == NULL) {
        fprintf(stderr, "thriftc: out of memory\n");
        exit(1);
    }
    b->size = size;
    b->next = blocks;
    blocks = b;
    return b;
}

void *xcalloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size / 2) {
        fprintf(stderr, "thriftc: allocation too large\n");
        exit(1);
    }
    return block_new(n * size)->data;
}

char *xstrndup(const char *s, size_t len)
{
    char *copy = xcalloc(len + 1, 1);
    memcpy(copy, s, len);
    return copy;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

void *xpush(void *items_ptr, int *count, size_t size)
{
    /* Arrays grow by copying into a new block of double size; old blocks stay in the arena
     * until exit, which is fine for inputs of a few thousand lines. */
    void **items = items_ptr;
    int n = *count;
    if ((n & (n - 1)) == 0) { /* n is 0 or a power of two: the array is full */
        void *bigger = xcalloc(n == 0 ? 4 : (size_t)n * 2, size);
        if (n > 0)
            memcpy(bigger, *items, (size_t)n * size);
        *items = bigger;
    }
    *count = n + 1;
    return (char *)*items + (size_t)n * size;
}

void arena_free_all(void)
{
    while (blocks != NULL) {
        struct block *next = blocks->next;
        free(blocks);
        blocks = next;
    }
}
