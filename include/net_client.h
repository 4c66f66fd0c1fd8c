/* net_client.h: a raw blocking socket for tests: bytes of their own out (hostile ones too),
   whole messages in, in order. Tools and benchmarks use the one client, net_pipe.h /
   net_sync.h, which matches replies to calls by seqid. */
#ifndef NET_CLIENT_H
#define NET_CLIENT_H

#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_client {
    int fd;
    bool framed;            /* send 4-byte length prefixes (else TBufferedTransport style) */
    uint32_t frame_max;     /* a longer reply is refused */
    int timeout_ms;         /* per send or receive */
    uint8_t *buf;           /* the last reply */
    size_t len, cap;
    size_t used;            /* bytes of buf the last reply took */
};

/* Connects to HOST:PORT. 0 or a NET_ERR_* code; errno says more for NET_ERR_CONNECT. */
int net_client_connect(struct net_client *c, const char *host_port, bool framed, int timeout_ms);
/* Sends one whole message (no frame header: added when framed). */
int net_client_send(struct net_client *c, const void *msg, size_t len);
/* Receives one whole message; *msg points into the client until the next call. */
int net_client_recv(struct net_client *c, const uint8_t **msg, size_t *len);
void net_client_close(struct net_client *c);

#endif
