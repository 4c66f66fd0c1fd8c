/* kv_snapshot.h: the whole store at its applied version, to and from a file or a buffer. */
#ifndef KV_SNAPSHOT_H
#define KV_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "kv_store.h"

/* Format (all integers little-endian), version 2:
 *   header  104 bytes: magic "KVSNAP\r\n", u32 format, u64 applied_version, i64 applied_ts_us,
 *           u64 floor_version, u64 window_versions, i64 window_us, u64 keys, u64 versions,
 *           u64 clock_entries, u64 digest[2], u64 log_term, u32 crc32c of the bytes before it
 *           (log_term: the consensus term of the entry at applied_version, 0 when unknown;
 *           version 1 is the same without it, 96 bytes, and still reads, as term 0)
 *   clock   clock_entries x (u64 version, i64 ts_us): the window's time edge
 *   keys    in key order: u32 klen, u32 nversions, key, then newest first
 *           nversions x (u64 version, u32 meta: length | 1<<31 for a tombstone, value)
 *   sections (optional, additive): u32 tag, u32 section format, u64 body length, body; today
 *           only the client session table (tag "SESS", kv_session_snap.c), written when a
 *           session is open, so a snapshot without sessions is what it was before them
 *   trailer u32 crc32c of everything before it, "KVSNAPND"
 * Only history a read or conflict check can still see is written, so two replicas at the same
 * applied version write byte-identical snapshots whatever their reclaim progress. */
#define KV_SNAPSHOT_FORMAT 2u
#define KV_SNAPSHOT_HEADER_BYTES 104u
#define KV_SNAPSHOT_HEADER_V1_BYTES 96u
#define KV_SNAPSHOT_TRAILER_BYTES 12u

/* Errors are KV_ERR_IO, KV_ERR_CORRUPT, KV_ERR_NOMEM or KV_ERR_CONFIG_MISMATCH; err (may be
 * NULL) gets a sentence naming the file (or name) and the byte offset. */

/* Writes path.tmp, fsyncs it, renames it over path, fsyncs the directory. */
int kv_snapshot_save_file(const kv_store *s, const char *path, char *err, size_t err_len);
/* The same through a storage seam (util/sio.h; NULL: the real calls), so tests and the fault
   file can fail its writes, syncs and rename. */
struct sio;
int kv_snapshot_save_file_io(const kv_store *s, const char *path, const struct sio *io,
                             char *err, size_t err_len);
/* The same file written a bounded step at a time while the store goes on changing, so a server
 * can write it from its loop without a fork (no page of the store is copied). Begin pins the
 * applied version: it copies the header's fields, the window's clock and the sections, and
 * holds reclaim (kv_store_hold_reclaim) so every version visible at the pin stays while later
 * writes come. Each step visits up to `keys` keys and stops once `bytes` more were written:
 * 1 while more remains, 0 when every byte is in path.tmp (the pin is released), or an error
 * (then only free). Finish syncs the temp file, renames it over path and syncs the directory;
 * it touches no store, so it may run on another thread. The bytes are those
 * kv_snapshot_save_file would have written at begin. The store must outlive the steps and not
 * be replaced; one job per store at a time. Free removes the temp file unless it was renamed,
 * and releases the pin. Errors as above; kv_snapshot_job_error names the file. */
#define KV_SNAPSHOT_JOB_ERR_MAX 512u
struct kv_snap_job;
int kv_snapshot_job_begin(kv_store *s, const char *path, const struct sio *io,
                          struct kv_snap_job **out, char *err, size_t err_len);
int kv_snapshot_job_step(struct kv_snap_job *j, size_t keys, size_t bytes);
int kv_snapshot_job_finish(struct kv_snap_job *j);
const char *kv_snapshot_job_error(const struct kv_snap_job *j);
void kv_snapshot_job_free(struct kv_snap_job *j);

/* A new store holding the snapshot, configured by cfg (NULL: defaults); the snapshot's window
 * must equal cfg's, or replicas would reclaim differently. On error *out is untouched. */
int kv_snapshot_load_file(const char *path, const struct kv_config *cfg, kv_store **out,
                          char *err, size_t err_len);

/* The membership section (kv_store_set_membership's bytes), always the last before the
 * trailer, so a whole received file gives it from its last bytes before it is loaded:
 * tail is the file's last tail_len bytes (KV_MEMBERSHIP_TAIL_BYTES hold any). 0 with *data
 * pointing into tail, or KV_ERR_NOT_FOUND (no section: a file from an older build). Only a
 * hint until the file loads: the loaded store's bytes are the ones to trust. */
#define KV_MEMBERSHIP_SECTION_TAG 0x424d454du /* the bytes "MEMB" on disk (little-endian) */
#define KV_MEMBERSHIP_SECTION_FORMAT 1u
#define KV_MEMBERSHIP_TAIL_BYTES (KV_MEMBERSHIP_BYTES_MAX + 16u + 4u + KV_SNAPSHOT_TRAILER_BYTES)
int kv_snapshot_tail_membership(const uint8_t *tail, size_t tail_len, const uint8_t **data,
                                uint32_t *len);

/* The same bytes in memory (malloc'd *data, free() it), for shipping in chunks. */
int kv_snapshot_save_mem(const kv_store *s, uint8_t **data, size_t *len);
int kv_snapshot_load_mem(const uint8_t *data, size_t len, const char *name,
                         const struct kv_config *cfg, kv_store **out, char *err, size_t err_len);

#endif
