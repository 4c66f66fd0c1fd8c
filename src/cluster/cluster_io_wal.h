/* cluster_io_wal.h: the production cluster_io: the WAL, its sync thread, the clock, libevent. */
#ifndef CLUSTER_IO_WAL_H
#define CLUSTER_IO_WAL_H

#include <stdbool.h>

#include "cluster_io.h"

struct event_base;
struct wal;

/* An io over wal (which it uses but does not own) on base. background: a thread of its own
   syncs the log when the driver asks (sync_start, which it must not call otherwise). 0 or
   CLUSTER_ERR_NOMEM. */
int cluster_io_wal_new(struct event_base *base, struct wal *wal, bool background,
                       struct cluster_io **out);
/* Waits for a background sync in flight (logging a failure), stops the thread and the
   events. Free it before the owner closes the WAL. */
void cluster_io_wal_free(struct cluster_io *io);

/* cluster_io_sync.c: the WAL's fdatasync on a thread, one job at a time (wal.h). */
struct cluster_io_sync;
/* done(ctx, 0 or CLUSTER_ERR_IO) runs on the loop once a job started by _start ended. */
typedef void (*cluster_io_sync_done_fn)(void *ctx, int rc);
int cluster_io_sync_open(struct event_base *base, struct wal *wal, cluster_io_sync_done_fn done,
                         void *ctx, struct cluster_io_sync **out);
bool cluster_io_sync_in_flight(const struct cluster_io_sync *s);
int cluster_io_sync_start(struct cluster_io_sync *s); /* 0 or CLUSTER_ERR_IO */
/* Ends the job in flight now (done is not called for it): 0 or CLUSTER_ERR_IO. */
int cluster_io_sync_wait(struct cluster_io_sync *s);
void cluster_io_sync_close(struct cluster_io_sync *s); /* waits for a job in flight, joins */

#endif
