/* server_snap_internal.h: the snapshot state shared by server_snap*.c. */
#ifndef SERVER_SNAP_INTERNAL_H
#define SERVER_SNAP_INTERNAL_H

#include "server_snap.h"

#include <pthread.h>
#include <stdbool.h>

/* Messages from kv_sm's snapshot calls name the file and the offset. */
#define SERVER_SNAP_ERR_MAX 512u
/* After a failed snapshot the next attempt waits this long. */
#define SERVER_SNAP_RETRY_MS 1000u
/* The log's size on disk (a directory listing) is measured at most this often. */
#define SERVER_SNAP_CHECK_MS 100u
/* The standalone log's only term. */
#define SERVER_TERM 1u

struct server_snap_state {
    struct kv_snap_job *job;  /* the snapshot being written; NULL: none */
    struct event *step_ev;    /* the loop's next step of it */
    bool syncing;             /* thread runs kv_snapshot_job_finish */
    pthread_t thread;
    int sync_rc;              /* its outcome, read once it is joined */
    int fd, wfd;              /* the pipe the thread writes a byte to when it is done */
    struct event *ev;         /* fd readable: the sync is done */
    struct event *retry_ev;   /* standalone: the next attempt after a failure */
    uint64_t index, term;     /* what is written: the applied entry at the pin */
    int64_t started_ms;
    int64_t retry_at_ms;      /* no snapshot before this (after a failure) */
    int64_t checked_ms;       /* when the log's size was last measured; -1: never */
    uint64_t snapshot_bytes;  /* size of the newest snapshot file; 0: none */
    uint64_t wal_base_bytes;  /* the log's size on disk after the last compaction */
    char report[SERVER_SNAP_ERR_MAX]; /* why it failed */
    size_t report_len;
};

/* data_dir/snapshot-<index>.kvsnap into out; -1 when it does not fit. */
int server_snap_path(const struct server_node *n, uint64_t index, char *out, size_t size);
/* Deletes snapshots older than remove_below, temp files and (with partial, at start)
   received ones; *newest gets the newest. */
int server_snap_scan(const struct server_node *n, uint64_t remove_below, bool partial,
                     uint64_t *newest);
/* fsync of data_dir (a rename in it made durable); 0 or -1. */
int server_snap_sync_dir(const struct server_node *n);
/* Size of the snapshot file at index; 0 when it cannot be read. */
uint64_t server_snap_file_bytes(const struct server_node *n, uint64_t index);
/* Bytes of log the WAL holds (records and headers, not the zeros written ahead). */
uint64_t server_snap_wal_bytes(const struct server_node *n);

/* server_snap_policy.c: the snapshot's outcome (cancelled: stopped by us, no retry). */
void server_snap_finished(struct server_node *n, bool ok, bool cancelled);

#endif
