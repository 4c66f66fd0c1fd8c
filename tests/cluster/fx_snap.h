/* fx_snap.h: the fixture's in-memory snapshots behind the cluster's snapshot ops. */
#ifndef FX_SNAP_H
#define FX_SNAP_H

#include "cluster.h"

/* The ops; their ctx is the struct fx_node. */
void fx_snap_ops(struct cluster_snapshot_ops *ops);

#endif
