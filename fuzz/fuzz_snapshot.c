/* fuzz_snapshot.c: libFuzzer target for the snapshot reader (src/kv/kv_snap_read.c), which
 * reads files from data_dir at start and snapshots a leader sends.
 *
 * Input: a snapshot's bytes, read with the default limits and MVCC window. What it accepts
 * must write back out (kv_snapshot_save_mem) into bytes it accepts again, with the same
 * digest, and those bytes must be a fixed point. A refusal carries a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv_err.h"
#include "kv_snapshot.h"
#include "kv_store.h"

#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            __builtin_trap();                                                                \
    } while (0)

static void check_round_trip(const kv_store *s)
{
    uint8_t *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    FUZZ_CHECK(kv_snapshot_save_mem(s, &a, &a_len) == 0);
    kv_store *again = NULL;
    char err[256] = "";
    FUZZ_CHECK(kv_snapshot_load_mem(a, a_len, "again", NULL, &again, err, sizeof err) == 0);
    struct kv_digest d1 = kv_store_digest(s), d2 = kv_store_digest(again);
    FUZZ_CHECK(memcmp(&d1, &d2, sizeof d1) == 0);
    FUZZ_CHECK(kv_snapshot_save_mem(again, &b, &b_len) == 0);
    FUZZ_CHECK(a_len == b_len && memcmp(a, b, a_len) == 0);
    kv_store_free(again);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kv_store *s = NULL;
    char err[256] = "";
    int rc = kv_snapshot_load_mem(data, size, "fuzz", NULL, &s, err, sizeof err);
    if (rc == 0) {
        FUZZ_CHECK(s != NULL);
        check_round_trip(s);
        kv_store_free(s);
    } else {
        FUZZ_CHECK(s == NULL);
        FUZZ_CHECK(rc == KV_ERR_CORRUPT || rc == KV_ERR_NOMEM || rc == KV_ERR_CONFIG_MISMATCH ||
                   rc == KV_ERR_IO);
        FUZZ_CHECK(err[0] != '\0');
    }
    return 0;
}
