/* net_write.h: a bufferevent's socket written from its output, and read into its input, by the
   caller itself: no loop turn, no libevent sizing syscall. */
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

/* What one net_read_direct reads at most (a bufferevent's own cap for one read). */
#define NET_READ_BYTES 16384

/*
 * Reads what the socket holds, up to NET_READ_BYTES, into bev's input buffer with one read():
 * libevent's evbuffer_read asks the socket's size first with an ioctl(FIONREAD), a second
 * syscall for every request a connection with one in flight sends. For a socket bufferevent
 * whose EV_READ stays disabled (the caller watches the fd itself). Returns the bytes read,
 * 0 at end of file, -1 when nothing is there yet, -2 on a socket error or out of memory
 * (errno tells).
 */
int net_read_direct(struct bufferevent *bev);

#endif
