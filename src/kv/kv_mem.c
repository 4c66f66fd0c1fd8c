/* kv_mem.c: allocation that stops the process instead of returning NULL. */
#include "kv_mem.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void kv_die_oom(size_t size)
{
    fprintf(stderr, "kv: out of memory allocating %zu bytes while applying\n", size);
    abort();
}

void *kv_xmalloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL)
        kv_die_oom(size);
    return p;
}

void *kv_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size);
    if (p == NULL)
        kv_die_oom(size);
    return p;
}
