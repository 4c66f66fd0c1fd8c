/* net_sock.h: real TCP clients of a fixture's listener on 127.0.0.1. */
#ifndef TESTS_NET_SOCK_H
#define TESTS_NET_SOCK_H

#include "net_fixture.h"
#include "thrift.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "%s", strerror(errno));
    return fd;
}

struct sock_wait {
    int fd;
    uint8_t buf[4096];
    size_t len;
    size_t want;
    bool eof;
};

/* Reads whatever is there without blocking; true once want bytes or EOF arrived. */
static inline bool sock_ready(void *arg)
{
    struct sock_wait *w = arg;
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    while (poll(&p, 1, 0) == 1) {
        ssize_t n = read(w->fd, w->buf + w->len, sizeof w->buf - w->len);
        if (n <= 0) {
            w->eof = true;
            break;
        }
        w->len += (size_t)n;
    }
    return w->eof || (w->want > 0 && w->len >= w->want);
}

static inline void make_call(tp_buf *b, int32_t n)
{
    tp_buf_reset(b);
    tp_write_message_begin(b, "ping", 4, TP_CALL, n);
    tp_write_field_stop(b);
}

static inline void start_listening(struct fix *f)
{
    fix_start(f);
    cr_assert_eq(net_server_listen(f->srv, "127.0.0.1:0"), NET_OK);
    cr_assert_gt(net_server_port(f->srv), 0);
}

#endif
