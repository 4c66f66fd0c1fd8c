/* net_client.c: blocking socket client: connect with a deadline, framed or unframed calls. */
#include "net_client.h"

#include "net_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc > 0 ? NET_OK : rc == 0 ? NET_ERR_TIMEOUT : NET_ERR_IO;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
        goto fail;
    int err = 0;
    socklen_t len = sizeof err;
    if (wait_fd(fd, POLLOUT, timeout_ms) != NET_OK ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        goto fail;
    if (err) {
        errno = err;
        goto fail;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:
    close(fd);
    return -1;
}

int net_client_connect(struct net_client *c, const char *host_port, bool framed, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->framed = framed;
    c->frame_max = NET_FRAME_BYTES_DEFAULT;
    c->timeout_ms = timeout_ms;
    char host[256], port_text[8];
    uint16_t port;
    if (net_split_host_port(host_port, host, sizeof host, &port) != NET_OK)
        return NET_ERR_ADDRESS;
    snprintf(port_text, sizeof port_text, "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    if (getaddrinfo(host, port_text, &hints, &res) != 0)
        return NET_ERR_RESOLVE;
    for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next)
        c->fd = connect_one(ai, timeout_ms);
    freeaddrinfo(res);
    return c->fd < 0 ? NET_ERR_CONNECT : NET_OK;
}

static int write_all(struct net_client *c, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            int rc = wait_fd(c->fd, POLLOUT, c->timeout_ms);
            if (rc != NET_OK)
                return rc;
            continue;
        }
        if (n <= 0)
            return errno == EPIPE || errno == ECONNRESET ? NET_ERR_CLOSED : NET_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return NET_OK;
}

int net_client_send(struct net_client *c, const void *msg, size_t len)
{
    if (len > UINT32_MAX)
        return NET_ERR_FRAME;
    if (c->framed) {
        uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                          (uint8_t)len};
        int rc = write_all(c, hdr, 4);
        if (rc != NET_OK)
            return rc;
    }
    return write_all(c, msg, len);
}

/* Reads more bytes into buf (growing it up to frame_max + 4). */
static int read_some(struct net_client *c)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        if (cap > (size_t)c->frame_max + 4)
            cap = (size_t)c->frame_max + 4;
        if (cap <= c->cap)
            return NET_ERR_FRAME;
        uint8_t *b = realloc(c->buf, cap);
        if (!b)
            return NET_ERR_NOMEM;
        c->buf = b;
        c->cap = cap;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            return NET_OK;
        }
        if (n == 0)
            return NET_ERR_CLOSED;
        if (errno != EAGAIN && errno != EINTR)
            return errno == ECONNRESET ? NET_ERR_CLOSED : NET_ERR_IO;
        int rc = wait_fd(c->fd, POLLIN, c->timeout_ms);
        if (rc != NET_OK)
            return rc;
    }
}

int net_client_recv(struct net_client *c, const uint8_t **msg, size_t *len)
{
    /* Bytes after the last reply belong to the next one (pipelined calls). */
    if (c->used > 0)
        memmove(c->buf, c->buf + c->used, c->len - c->used);
    c->len -= c->used;
    c->used = 0;
    struct net_scan scan;
    net_scan_init(&scan, c->frame_max);
    size_t scanned = 0;
    for (;;) {
        if (c->framed && c->len >= 4) {
            uint32_t n = (uint32_t)c->buf[0] << 24 | (uint32_t)c->buf[1] << 16 |
                         (uint32_t)c->buf[2] << 8 | c->buf[3];
            if (n > c->frame_max)
                return NET_ERR_FRAME;
            if (c->len - 4 >= n) {
                *msg = c->buf + 4;
                *len = n;
                c->used = 4 + (size_t)n;
                return NET_OK;
            }
        } else if (!c->framed && scanned < c->len) {
            size_t used;
            enum net_scan_result r = net_scan_feed(&scan, c->buf + scanned, c->len - scanned, &used);
            scanned += used;
            if (r == NET_SCAN_DONE) {
                *msg = c->buf;
                *len = scanned;
                c->used = scanned;
                return NET_OK;
            }
            if (r != NET_SCAN_MORE)
                return NET_ERR_FRAME;
        }
        int rc = read_some(c);
        if (rc != NET_OK)
            return rc;
    }
}

void net_client_close(struct net_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}
