/* test_snapshot.c: snapshot round trips, byte-identical output, and hostile snapshot bytes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "kv_snapshot.h"
#include "sio.h"
#include "test_rng.h"

#define K(s) (const uint8_t *)(s), (sizeof(s) - 1)

static struct kv_config window_cfg(void)
{
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_versions = 0;
    cfg.window_us = 1000;
    return cfg;
}

/* A store with live keys, deleted keys, history inside the window and some below it. */
static kv_store *sample_store(uint64_t seed, uint64_t versions)
{
    struct kv_config cfg = window_cfg();
    kv_store *s = kv_store_new(&cfg);
    cr_assert_not_null(s);
    struct test_rng r = {seed};
    for (uint64_t v = 1; v <= versions; v++) {
        uint8_t key[2] = {(uint8_t)test_rng_below(&r, 256), (uint8_t)test_rng_below(&r, 4)};
        uint8_t val[16];
        size_t vlen = test_rng_below(&r, sizeof val);
        for (size_t i = 0; i < vlen; i++)
            val[i] = (uint8_t)test_rng_next(&r);
        if (test_rng_below(&r, 5) == 0)
            cr_assert_eq(kv_store_delete(s, key, 1 + test_rng_below(&r, 2), v, NULL), 0);
        else
            cr_assert_eq(kv_store_set(s, key, 1 + test_rng_below(&r, 2), val, vlen, v), 0);
        kv_store_advance(s, v, (int64_t)(v * 10));
    }
    return s;
}

static void assert_same_digest(const kv_store *a, const kv_store *b)
{
    char ha[KV_DIGEST_HEX_LEN + 1], hb[KV_DIGEST_HEX_LEN + 1];
    struct kv_digest da = kv_store_digest(a), db = kv_store_digest(b);
    kv_digest_hex(&da, ha);
    kv_digest_hex(&db, hb);
    cr_assert_str_eq(ha, hb);
}

Test(kv_snapshot, memory_round_trip_is_identical)
{
    kv_store *s = sample_store(1, 3000);
    uint8_t *a, *b;
    size_t alen, blen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    struct kv_config cfg = window_cfg();
    kv_store *t = NULL;
    char err[256];
    cr_assert_eq(kv_snapshot_load_mem(a, alen, "mem", &cfg, &t, err, sizeof err), 0, "%s", err);
    assert_same_digest(s, t);
    cr_assert_eq(kv_store_applied_version(t), 3000);
    cr_assert_eq(kv_store_floor_version(t), kv_store_floor_version(s));
    cr_assert_eq(kv_snapshot_save_mem(t, &b, &blen), 0);
    cr_assert_eq(alen, blen);
    cr_assert(memcmp(a, b, alen) == 0);
    /* Reads inside the window see the same history in both. */
    for (uint64_t v = kv_store_floor_version(s); v <= 3000; v++) {
        struct kv_read ra, rb;
        uint8_t key[1] = {(uint8_t)v};
        int ea = kv_store_get(s, key, 1, v, &ra), eb = kv_store_get(t, key, 1, v, &rb);
        cr_assert_eq(ea, eb);
        if (ea == 0)
            cr_assert(ra.value_len == rb.value_len && ra.version == rb.version);
    }
    free(a);
    free(b);
    kv_store_free(s);
    kv_store_free(t);
}

Test(kv_snapshot, restored_store_keeps_deciding_the_same)
{
    kv_store *s = sample_store(2, 500);
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    struct kv_config cfg = window_cfg();
    kv_store *t = NULL;
    cr_assert_eq(kv_snapshot_load_mem(a, alen, NULL, &cfg, &t, NULL, 0), 0);
    free(a);
    for (uint64_t v = 501; v <= 800; v++) {
        kv_store *both[2] = {s, t};
        for (int i = 0; i < 2; i++) {
            uint8_t key[1] = {(uint8_t)(v * 7)};
            if (v % 3 == 0)
                cr_assert_eq(kv_store_delete(both[i], key, 1, v, NULL), 0);
            else
                cr_assert_eq(kv_store_set(both[i], key, 1, K("x"), v), 0);
            kv_store_advance(both[i], v, (int64_t)(v * 10));
        }
        cr_assert_eq(kv_store_floor_version(s), kv_store_floor_version(t));
        uint8_t probe[1] = {(uint8_t)v};
        uint64_t at = kv_store_floor_version(s);
        cr_assert_eq(kv_store_key_written_after(s, probe, 1, at),
                     kv_store_key_written_after(t, probe, 1, at));
    }
    assert_same_digest(s, t);
    uint8_t *x, *y;
    size_t xlen, ylen;
    cr_assert_eq(kv_snapshot_save_mem(s, &x, &xlen), 0);
    cr_assert_eq(kv_snapshot_save_mem(t, &y, &ylen), 0);
    cr_assert(xlen == ylen && memcmp(x, y, xlen) == 0);
    free(x);
    free(y);
    kv_store_free(s);
    kv_store_free(t);
}

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/kvsnapXXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

Test(kv_snapshot, file_round_trip_and_atomic_replace)
{
    char *dir = temp_dir();
    char path[256], tmp[270];
    snprintf(path, sizeof path, "%s/state.snap", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    kv_store *s = sample_store(3, 2000);
    char err[256] = "";
    cr_assert_eq(kv_snapshot_save_file(s, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(access(tmp, F_OK), -1);
    struct kv_config cfg = window_cfg();
    kv_store *t = NULL;
    cr_assert_eq(kv_snapshot_load_file(path, &cfg, &t, err, sizeof err), 0, "%s", err);
    assert_same_digest(s, t);
    uint8_t *mem;
    size_t len;
    cr_assert_eq(kv_snapshot_save_mem(s, &mem, &len), 0);
    FILE *f = fopen(path, "rb");
    uint8_t *file = malloc(len + 1);
    cr_assert_eq(fread(file, 1, len + 1, f), len);
    fclose(f);
    cr_assert(memcmp(mem, file, len) == 0);
    free(mem);
    free(file);
    unlink(path);
    rmdir(dir);
    free(dir);
    kv_store_free(s);
    kv_store_free(t);
}

Test(kv_snapshot, io_errors_name_the_file)
{
    kv_store *s = sample_store(4, 10);
    char err[256] = "";
    cr_assert_eq(kv_snapshot_save_file(s, "/nonexistent-dir/x.snap", err, sizeof err), KV_ERR_IO);
    cr_assert_not_null(strstr(err, "/nonexistent-dir/x.snap"), "%s", err);
    kv_store *t = NULL;
    cr_assert_eq(kv_snapshot_load_file("/nonexistent-dir/x.snap", NULL, &t, err, sizeof err),
                 KV_ERR_IO);
    cr_assert_null(t);
    kv_store_free(s);
}

/* The storage seam fails the snapshot writer's open, write, sync or rename (EIO, ENOSPC): the
   save reports an I/O error naming the file, leaves no temporary file, and the snapshot that
   was there before is still whole; without the fault the same save goes through. */
Test(kv_snapshot, a_failed_open_write_sync_or_rename_keeps_the_old_snapshot)
{
    static const enum sio_call calls[] = {SIO_CALL_OPEN, SIO_CALL_WRITE, SIO_CALL_SYNC,
                                          SIO_CALL_RENAME};
    static const int errs[] = {EIO, ENOSPC};
    char *dir = temp_dir();
    char path[256], tmp[270];
    snprintf(path, sizeof path, "%s/state.snap", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    kv_store *old = sample_store(5, 500), *next = sample_store(6, 700);
    struct kv_config cfg = window_cfg();
    struct sio_faults *faults = sio_faults_new(sio_default());
    cr_assert(faults);
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        for (size_t e = 0; e < sizeof errs / sizeof errs[0]; e++) {
            char err[256] = "";
            cr_assert_eq(kv_snapshot_save_file(old, path, err, sizeof err), 0, "%s", err);
            sio_faults_set(faults, calls[c], 1, 1, errs[e]);
            int rc = kv_snapshot_save_file_io(next, path, sio_faults_io(faults), err, sizeof err);
            cr_assert_eq(rc, KV_ERR_IO, "%s %s: rc %d", sio_call_name(calls[c]),
                         strerror(errs[e]), rc);
            cr_assert_eq(sio_faults_failed(faults, calls[c]), 1, "%s", sio_call_name(calls[c]));
            cr_assert(strstr(err, path) && strstr(err, strerror(errs[e])), "%s", err);
            cr_assert_eq(access(tmp, F_OK), -1, "%s left behind", tmp);
            kv_store *t = NULL;
            cr_assert_eq(kv_snapshot_load_file(path, &cfg, &t, err, sizeof err), 0, "%s", err);
            assert_same_digest(old, t);
            kv_store_free(t);
            sio_faults_clear_all(faults);
        }
    }
    char err[256] = "";
    cr_assert_eq(kv_snapshot_save_file_io(next, path, sio_faults_io(faults), err, sizeof err), 0,
                 "%s", err);
    kv_store *t = NULL;
    cr_assert_eq(kv_snapshot_load_file(path, &cfg, &t, err, sizeof err), 0, "%s", err);
    assert_same_digest(next, t);
    kv_store_free(t);
    sio_faults_free(faults);
    unlink(path);
    rmdir(dir);
    free(dir);
    kv_store_free(old);
    kv_store_free(next);
}

Test(kv_snapshot, window_mismatch_is_refused)
{
    kv_store *s = sample_store(5, 10);
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    kv_store *t = NULL;
    cr_assert_eq(kv_snapshot_load_mem(a, alen, NULL, NULL, &t, NULL, 0), KV_ERR_CONFIG_MISMATCH);
    cr_assert_null(t);
    free(a);
    kv_store_free(s);
}

/* Every single-byte change and every truncation is refused, and nothing leaks. */
Test(kv_snapshot, every_flip_and_cut_is_detected)
{
    kv_store *s = sample_store(6, 40);
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    struct kv_config cfg = window_cfg();
    char err[256];
    for (size_t i = 0; i < alen; i++) {
        a[i] ^= 0x5A;
        kv_store *t = NULL;
        int rc = kv_snapshot_load_mem(a, alen, "flip", &cfg, &t, err, sizeof err);
        cr_assert_neq(rc, 0, "flip at %zu accepted", i);
        cr_assert_null(t);
        cr_assert_not_null(strstr(err, "snapshot flip: "), "%s", err);
        cr_assert_not_null(strstr(err, "at offset "), "%s", err);
        a[i] ^= 0x5A;
    }
    for (size_t cut = 0; cut < alen; cut++) {
        kv_store *t = NULL;
        cr_assert_eq(kv_snapshot_load_mem(a, cut, "cut", &cfg, &t, err, sizeof err),
                     KV_ERR_CORRUPT, "cut at %zu: %s", cut, err);
    }
    free(a);
    kv_store_free(s);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void reseal_header(uint8_t *a)
{
    uint32_t crc = crc32c(a, KV_SNAPSHOT_HEADER_BYTES - 4);
    for (int i = 0; i < 4; i++)
        a[KV_SNAPSHOT_HEADER_BYTES - 4 + i] = (uint8_t)(crc >> (8 * i));
}

/* A header with a valid checksum but absurd counts is refused before anything is allocated. */
Test(kv_snapshot, huge_counts_with_valid_header_crc)
{
    kv_store *s = sample_store(7, 10);
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    struct kv_config cfg = window_cfg();
    char err[256];
    size_t count_offsets[] = {12 + 5 * 8, 12 + 6 * 8, 12 + 7 * 8}; /* keys, versions, clock */
    for (size_t i = 0; i < 3; i++) {
        uint8_t *b = malloc(alen);
        memcpy(b, a, alen);
        put_u64(b + count_offsets[i], UINT64_MAX / 3);
        reseal_header(b);
        kv_store *t = NULL;
        cr_assert_eq(kv_snapshot_load_mem(b, alen, "huge", &cfg, &t, err, sizeof err),
                     KV_ERR_CORRUPT);
        cr_assert_not_null(strstr(err, "exceed"), "%s", err);
        free(b);
    }
    free(a);
    kv_store_free(s);
}

Test(kv_snapshot, empty_store_round_trips)
{
    kv_store *s = kv_store_new(NULL);
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    /* No keys; the clock holds one entry (version 0 at time 0, 16 bytes): the time window
       counts version 0 from the first write that replaces it. */
    cr_assert_eq(alen, KV_SNAPSHOT_HEADER_BYTES + 16 + KV_SNAPSHOT_TRAILER_BYTES);
    kv_store *t = NULL;
    cr_assert_eq(kv_snapshot_load_mem(a, alen, NULL, NULL, &t, NULL, 0), 0);
    assert_same_digest(s, t);
    free(a);
    kv_store_free(s);
    kv_store_free(t);
}

/* The header records the log term of the applied entry, so a node that restarts from a
   snapshot file knows where its log stands (an install cut short is recoverable). */
Test(kv_snapshot, the_log_term_round_trips)
{
    kv_store *s = sample_store(9, 50);
    kv_store_set_log_term(s, 7);
    char path[] = "/tmp/kvsnap-term-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char err[256] = "";
    cr_assert_eq(kv_snapshot_save_file(s, path, err, sizeof err), 0, "%s", err);
    struct kv_config cfg = window_cfg();
    kv_store *t = NULL;
    cr_assert_eq(kv_snapshot_load_file(path, &cfg, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(kv_store_log_term(t), 7);
    cr_assert_eq(kv_store_applied_version(t), 50);
    unlink(path);
    kv_store_free(t);
    kv_store_free(s);
}

/* A format 1 snapshot (no log term in its 96-byte header) still loads, with term 0. */
Test(kv_snapshot, format_1_still_loads_with_term_0)
{
    kv_store *s = sample_store(10, 40);
    kv_store_set_log_term(s, 3);
    uint8_t *a;
    size_t alen;
    cr_assert_eq(kv_snapshot_save_mem(s, &a, &alen), 0);
    /* Drop the log term, mark it format 1, and seal the header and the trailer again. */
    size_t v1len = alen - 8, body = v1len - KV_SNAPSHOT_TRAILER_BYTES;
    uint8_t *b = malloc(v1len);
    memcpy(b, a, KV_SNAPSHOT_HEADER_V1_BYTES - 4);
    memcpy(b + KV_SNAPSHOT_HEADER_V1_BYTES, a + KV_SNAPSHOT_HEADER_BYTES,
           alen - KV_SNAPSHOT_HEADER_BYTES);
    b[8] = 1;
    uint32_t crc = crc32c(b, KV_SNAPSHOT_HEADER_V1_BYTES - 4);
    for (int i = 0; i < 4; i++)
        b[KV_SNAPSHOT_HEADER_V1_BYTES - 4 + i] = (uint8_t)(crc >> (8 * i));
    crc = crc32c(b, body);
    for (int i = 0; i < 4; i++)
        b[body + i] = (uint8_t)(crc >> (8 * i));
    struct kv_config cfg = window_cfg();
    kv_store *t = NULL;
    char err[256] = "";
    cr_assert_eq(kv_snapshot_load_mem(b, v1len, "v1", &cfg, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(kv_store_log_term(t), 0);
    assert_same_digest(s, t);
    free(a);
    free(b);
    kv_store_free(t);
    kv_store_free(s);
}
