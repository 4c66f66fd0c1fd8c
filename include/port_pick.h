/* port_pick.h: a loopback TCP port for a test or tool node that must be able to listen on it
   again after a restart. */
#ifndef PORT_PICK_H
#define PORT_PICK_H

#include <stdint.h>

/*
 * A port free on 127.0.0.1 now, chosen below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range): a port the kernel handed out (bind to port 0)
 * is one it may hand out again as the source port of any outgoing connection, so a node
 * restarted on it can find it taken (EADDRINUSE). Ports below the range are only ever taken
 * by someone binding them on purpose. Falls back to a kernel-chosen port when the range
 * leaves no room below it. 0 if no port could be found.
 */
uint16_t port_pick_loopback(void);

#endif
