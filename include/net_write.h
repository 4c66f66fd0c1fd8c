/* net_write.h: writing a bufferevent's output straight to its socket, without a loop turn. */
#ifndef NET_WRITE_H
#define NET_WRITE_H

struct bufferevent;

/*
 * Sends as much of bev's output buffer as the socket takes now (sendmsg over up to 64 of its
 * chunks at a time, no EV_WRITE round trip) and drains what went out. Returns 0 when the
 * output is empty, 1 when the socket is full and bytes remain (arm EV_WRITE for them), -1 on
 * a socket error (errno tells).
 */
int net_write_direct(struct bufferevent *bev);

#endif
