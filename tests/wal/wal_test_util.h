/* wal_test_util.h: temp directories, deterministic payloads and file surgery for WAL tests. */
#ifndef WAL_TEST_UTIL_H
#define WAL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "wal.h"
#include "wal_format.h"

enum { wt_payload_len_max = 300 };

/* A fresh directory under $TMPDIR (or /tmp); free with wt_rmdir(). */
char *wt_tmpdir(void);
/* Removes the directory's files, the directory, and frees the path. */
void wt_rmdir(char *dir);

/* The payload every test expects at index under seed: length 0..wt_payload_len_max. */
uint32_t wt_payload(uint64_t seed, uint64_t index, uint8_t out[wt_payload_len_max]);
/* Terms rise every 10 indexes, so they are non-decreasing as the WAL requires. */
static inline uint64_t wt_term(uint64_t index) { return 1 + index / 10; }

/* Opens dir with the given policy and segment size; the test fails if it cannot. */
struct wal *wt_open(const char *dir, enum wal_fsync_policy fsync, uint64_t segment_size_max);
/* The same config wt_open uses, for tests that expect the open to fail. */
int wt_try_open(const char *dir, uint64_t segment_size_max, struct wal **out, struct wal_errmsg *err);
void wt_append_range(struct wal *w, uint64_t from, uint64_t to, uint64_t seed);
/* Asserts entries from..to read back with the payloads of seed. */
void wt_check_range(struct wal *w, uint64_t from, uint64_t to, uint64_t seed);

/* Segment file names in dir, sorted; returns how many (at most max). */
size_t wt_segments(const char *dir, char names[][64], size_t max);
/* Reads a whole file into a malloc'd buffer; *len gets its size. */
uint8_t *wt_read_file(const char *dir, const char *name, size_t *len);
void wt_write_file(const char *dir, const char *name, const uint8_t *data, size_t len);
/* The records of a segment file's bytes (format 2: wal_format.h): their stream offsets
   (wal_stream_to_file() gives a byte's place in the file) and where they end in the stream.
   Stops at the first block or record that does not check out. */
size_t wt_seg_records(const uint8_t *data, size_t len, uint64_t offs[], size_t max,
                      uint64_t *stream_end);
/* Flips one bit of a file in place. */
void wt_flip_bit(const char *dir, const char *name, uint64_t file_off, unsigned bit);
/* Splitmix64: the tests' seeded generator. */
uint64_t wt_rand(uint64_t *state);

#endif
