/* cluster_bus.h: the in-memory transport: N cluster nodes in one process on one event_base. */
#ifndef CLUSTER_BUS_H
#define CLUSTER_BUS_H

#include <stdint.h>

#include "cluster.h"
#include "cluster_transport.h"

/*
 * The seed plan's ConsensusMessageBus. Calls and replies are encoded as whole Thrift
 * messages (the very bytes the network carries), queued, and delivered by a deferred event,
 * so the driver runs exactly as over sockets. A node that is not attached (down) or a link
 * dropped by the fault hook makes calls fail (UNREACHABLE, TIMEOUT) in a later turn.
 */
struct cluster_bus;

struct cluster_bus *cluster_bus_new(struct event_base *base, uint32_t node_count);
/* Frees the queue; the transports it handed out must be freed (or never used) before. */
void cluster_bus_free(struct cluster_bus *bus);
/* Node id's transport (owned by the caller: cluster_transport_free). NULL when out of memory. */
struct cluster_transport *cluster_bus_transport(struct cluster_bus *bus, uint32_t id);
/* Where calls to id are served; NULL: id is down. */
void cluster_bus_attach(struct cluster_bus *bus, uint32_t id, struct cluster_node *node);

#endif
