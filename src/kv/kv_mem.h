/* kv_mem.h: allocation that stops the process on failure, and the byte accounting of it. */
#ifndef KV_MEM_H
#define KV_MEM_H

#include <stddef.h>

/* Applying a committed entry must not fail half way: a replica that cannot allocate stops
 * rather than diverge from the others. Paths fed by outsiders (snapshot restore) use malloc
 * and return KV_ERR_NOMEM instead. */
void *kv_xmalloc(size_t size);
void *kv_xrealloc(void *ptr, size_t size);
_Noreturn void kv_die_oom(size_t size);

/* What an allocation of `size` bytes costs in a glibc-style heap: an 8-byte header, 16-byte
 * granules, 32 bytes at least. Our accounting uses it so it tracks RSS, not just payload. */
static inline size_t kv_mem_charge(size_t size)
{
    size_t chunk = (size + 8 + 15) & ~(size_t)15;
    return chunk < 32 ? 32 : chunk;
}

#endif
