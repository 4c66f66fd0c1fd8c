/* fx_listener.h: TCP mode of the fixture: each node's NetworkTransport and a small peer listener. */
#ifndef FX_LISTENER_H
#define FX_LISTENER_H

#include <stdint.h>

struct fixture;
struct cluster_transport;

/* Picks a free loopback port per node (fills fx->endpoints). */
void fx_listeners_reserve(struct fixture *fx);
struct cluster_transport *fx_net_transport(struct fixture *fx, uint32_t id);
void fx_listener_start(struct fixture *fx, uint32_t id);
void fx_listener_stop(struct fixture *fx, uint32_t id);
/* Peer calls node id's listener refused as unauthenticated. */
uint32_t fx_listener_refused(uint32_t id);

#endif
