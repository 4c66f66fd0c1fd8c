/* test_snapshot_job.c: snapshots written in steps while the store changes (kv_snapshot_job_*):
   the file holds exactly the state at the pin, the pin keeps only the history of what was
   written meanwhile, and a failed write or sync leaves no temp file and releases the pin. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_session.h"
#include "kv_snapshot.h"
#include "sio.h"
#include "test_rng.h"

struct job_world {
    kv_store *s;
    struct test_rng r;
    uint64_t seed, version, keys;
    char dir[32], path[64], tmp[72];
};

static void key_of(uint64_t i, uint8_t key[8])
{
    snprintf((char *)key, 8, "k%06llu", (unsigned long long)(i % 1000000));
}

/* Sets, deletes (of present and absent keys), new keys and a small clear, at one new version;
   the window (1 ms, 1 ms per version) moves the floor on at every version. */
static void random_writes(struct job_world *w, int ops)
{
    uint64_t v = ++w->version;
    for (int i = 0; i < ops; i++) {
        uint8_t key[8], val[120];
        uint64_t what = test_rng_below(&w->r, 10);
        key_of(what == 9 ? w->keys++ : test_rng_below(&w->r, w->keys), key);
        size_t vlen = test_rng_below(&w->r, sizeof val);
        memset(val, (int)test_rng_next(&w->r), vlen);
        if (what < 2)
            cr_assert_eq(kv_store_delete(w->s, key, 7, v, NULL), 0);
        else if (what == 2)
            cr_assert_eq(kv_store_clear_range(w->s, key, 7, key, 5, v, NULL),
                         KV_ERR_INVALID_ARGUMENT); /* begin > end: refused, nothing written */
        else
            cr_assert_eq(kv_store_set(w->s, key, 7, val, vlen, v), 0);
    }
    kv_store_advance(w->s, v, (int64_t)(v * 1000));
}

static void world_init(struct job_world *w, uint64_t keys, uint64_t versions)
{
    memset(w, 0, sizeof *w);
    w->seed = test_seed();
    w->r.state = w->seed;
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_versions = 0;
    cfg.window_us = 1000;
    w->s = kv_store_new(&cfg);
    cr_assert_not_null(w->s);
    w->keys = keys;
    uint8_t key[8], val[100] = {0};
    w->version = 1;
    for (uint64_t i = 0; i < keys; i++) {
        key_of(i, key);
        cr_assert_eq(kv_store_set(w->s, key, 7, val, sizeof val, 1), 0);
    }
    kv_store_advance(w->s, 1, 1000);
    for (uint64_t i = 0; i < versions; i++)
        random_writes(w, (int)(keys / versions) + 1);
    snprintf(w->dir, sizeof w->dir, "/tmp/kvjobXXXXXX");
    cr_assert_not_null(mkdtemp(w->dir));
    snprintf(w->path, sizeof w->path, "%s/state.snap", w->dir);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", w->path);
}

static void world_free(struct job_world *w)
{
    unlink(w->path);
    cr_assert_eq(rmdir(w->dir), 0, "%s holds more than its snapshot", w->dir);
    kv_store_free(w->s);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *data = malloc(*len ? *len : 1);
    cr_assert_eq(fread(data, 1, *len, f), *len);
    fclose(f);
    return data;
}

/* The sections after the keys change too: sessions opened and closed, a new membership. */
static void change_sections(struct job_world *w)
{
    bool evicted;
    uint8_t members[12];
    memset(members, (int)test_rng_next(&w->r), sizeof members);
    cr_assert_eq(kv_store_set_membership(w->s, members, 1 + test_rng_below(&w->r, 12)), 0);
    kv_sessions_open(kv_store_sessions(w->s), 1000000 + w->version, 10000000,
                     (int64_t)(w->version * 1000), &evicted);
    kv_sessions_close(kv_store_sessions(w->s), 1000000 + test_rng_below(&w->r, w->version));
}

/* Writes of every kind between steps of a few keys and bytes each, sessions and membership
   changed too: the file is byte for byte the snapshot taken at the pin, and afterwards the pin
   is gone and reclaim goes on. */
Test(kv_snapshot_job, the_file_holds_exactly_the_state_at_the_pin)
{
    struct job_world w;
    world_init(&w, 3000, 400);
    change_sections(&w);
    uint8_t *expect;
    size_t expect_len;
    cr_assert_eq(kv_snapshot_save_mem(w.s, &expect, &expect_len), 0);
    struct kv_snap_job *j = NULL;
    char err[KV_SNAPSHOT_JOB_ERR_MAX] = "";
    cr_assert_eq(kv_snapshot_job_begin(w.s, w.path, NULL, &j, err, sizeof err), 0, "%s", err);
    int rc, steps = 0;
    while ((rc = kv_snapshot_job_step(j, 1 + test_rng_below(&w.r, 8),
                                      1 + test_rng_below(&w.r, 400))) == 1) {
        random_writes(&w, 1 + (int)test_rng_below(&w.r, 6));
        if (test_rng_below(&w.r, 50) == 0)
            change_sections(&w);
        steps++;
    }
    cr_assert_eq(rc, 0, "seed %llu: %s", (unsigned long long)w.seed, kv_snapshot_job_error(j));
    cr_assert_gt(steps, 1000, "the writes came between many steps (%d)", steps);
    cr_assert_not(kv_store_reclaim_held(w.s), "the last step releases the pin");
    cr_assert_eq(kv_snapshot_job_finish(j), 0, "%s", kv_snapshot_job_error(j));
    kv_snapshot_job_free(j);
    cr_assert_eq(access(w.tmp, F_OK), -1);
    size_t len;
    uint8_t *got = read_all(w.path, &len);
    cr_assert_eq(len, expect_len, "seed %llu", (unsigned long long)w.seed);
    cr_assert(memcmp(got, expect, len) == 0, "seed %llu: not the pinned state",
              (unsigned long long)w.seed);
    kv_store *t = NULL;
    struct kv_config cfg = *kv_store_config(w.s);
    cr_assert_eq(kv_snapshot_load_file(w.path, &cfg, &t, err, sizeof err), 0, "%s", err);
    kv_store_free(t);
    free(got);
    free(expect);
    world_free(&w);
}

/* What the pin costs: the versions written while it holds (each a new version the window
   would have let go), nothing per key of the store. 20,000 keys of 100 B, 16 overwrites between
   steps of 64 keys: the store's bytes grow by at most 160 B per overwrite during the job, and
   once it is done the backlog goes (one version per key again). */
Test(kv_snapshot_job, the_pin_keeps_only_what_was_written_meanwhile)
{
    struct job_world w;
    world_init(&w, 20000, 20);
    struct kv_stats st;
    for (int i = 0; i < 50; i++) /* settle the window */
        random_writes(&w, 0);
    kv_store_stats(w.s, &st);
    uint64_t before = st.bytes, peak = st.bytes, overwrites = 0;
    struct kv_snap_job *j = NULL;
    char err[KV_SNAPSHOT_JOB_ERR_MAX] = "";
    cr_assert_eq(kv_snapshot_job_begin(w.s, w.path, NULL, &j, err, sizeof err), 0, "%s", err);
    int rc;
    while ((rc = kv_snapshot_job_step(j, 64, SIZE_MAX)) == 1) {
        uint64_t v = ++w.version;
        uint8_t key[8], val[100] = {0};
        for (int i = 0; i < 16; i++, overwrites++) {
            key_of(test_rng_below(&w.r, 20000), key);
            cr_assert_eq(kv_store_set(w.s, key, 7, val, sizeof val, v), 0);
        }
        kv_store_advance(w.s, v, (int64_t)(v * 1000));
        kv_store_stats(w.s, &st);
        peak = st.bytes > peak ? st.bytes : peak;
    }
    cr_assert_eq(rc, 0, "%s", kv_snapshot_job_error(j));
    cr_assert_eq(kv_snapshot_job_finish(j), 0, "%s", kv_snapshot_job_error(j));
    kv_snapshot_job_free(j);
    cr_assert_gt(overwrites, 5000);
    cr_assert_leq(peak - before, overwrites * 160, "seed %llu: %llu B for %llu overwrites",
                  (unsigned long long)w.seed, (unsigned long long)(peak - before),
                  (unsigned long long)overwrites);
    for (int i = 0; i < 50; i++)
        random_writes(&w, 0);
    kv_store_stats(w.s, &st);
    cr_assert_eq(st.versions, st.live_keys, "the backlog went: %llu versions for %llu keys",
                 (unsigned long long)st.versions, (unsigned long long)st.live_keys);
    world_free(&w);
}

/* A write that fails mid-job (EIO, ENOSPC) and a sync that fails at finish: an I/O error
   naming the temp file, no temp file left, the pin released, the old file whole. */
Test(kv_snapshot_job, a_failed_write_or_sync_leaves_the_old_file_and_no_pin)
{
    static const enum sio_call calls[] = {SIO_CALL_WRITE, SIO_CALL_SYNC};
    struct job_world w;
    world_init(&w, 5000, 50);
    char err[KV_SNAPSHOT_JOB_ERR_MAX] = "";
    cr_assert_eq(kv_snapshot_save_file(w.s, w.path, err, sizeof err), 0, "%s", err);
    size_t old_len;
    uint8_t *old = read_all(w.path, &old_len);
    struct sio_faults *faults = sio_faults_new(sio_default());
    cr_assert(faults);
    for (size_t c = 0; c < 2; c++) {
        random_writes(&w, 10);
        sio_faults_set(faults, calls[c], c == 0 ? 3 : 1, 1, c == 0 ? ENOSPC : EIO);
        struct kv_snap_job *j = NULL;
        cr_assert_eq(kv_snapshot_job_begin(w.s, w.path, sio_faults_io(faults), &j, err,
                                           sizeof err), 0, "%s", err);
        int rc;
        while ((rc = kv_snapshot_job_step(j, 100, 4096)) == 1)
            random_writes(&w, 3);
        if (c == 1) {
            cr_assert_eq(rc, 0);
            rc = kv_snapshot_job_finish(j);
        }
        cr_assert_eq(rc, KV_ERR_IO, "%s", sio_call_name(calls[c]));
        cr_assert(strstr(kv_snapshot_job_error(j), w.tmp), "%s", kv_snapshot_job_error(j));
        cr_assert_not(kv_store_reclaim_held(w.s));
        kv_snapshot_job_free(j);
        cr_assert_eq(access(w.tmp, F_OK), -1, "%s left behind", w.tmp);
        size_t len;
        uint8_t *now = read_all(w.path, &len);
        cr_assert(len == old_len && memcmp(now, old, len) == 0, "the old file is whole");
        free(now);
        sio_faults_clear_all(faults);
    }
    /* A job freed before its last step (a restore, the node's close) releases the pin too. */
    struct kv_snap_job *j = NULL;
    cr_assert_eq(kv_snapshot_job_begin(w.s, w.path, NULL, &j, err, sizeof err), 0, "%s", err);
    cr_assert_eq(kv_snapshot_job_step(j, 10, SIZE_MAX), 1);
    cr_assert(kv_store_reclaim_held(w.s));
    kv_snapshot_job_free(j);
    cr_assert_not(kv_store_reclaim_held(w.s));
    cr_assert_eq(access(w.tmp, F_OK), -1);
    sio_faults_free(faults);
    free(old);
    world_free(&w);
}
