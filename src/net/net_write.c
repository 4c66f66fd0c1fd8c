/* net_write.c: a bufferevent's output written with sendmsg, and its input read with read(),
   from the caller's own turn. */
#include "net_write.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define NET_WRITE_IOVECS 64

int net_write_direct(struct bufferevent *bev)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    while (evbuffer_get_length(out) > 0) {
        struct evbuffer_iovec vec[NET_WRITE_IOVECS];
        struct iovec iov[NET_WRITE_IOVECS];
        int n = evbuffer_peek(out, -1, NULL, vec, NET_WRITE_IOVECS);
        n = n < NET_WRITE_IOVECS ? n : NET_WRITE_IOVECS;
        size_t want = 0;
        for (int i = 0; i < n; i++) {
            iov[i] = (struct iovec){vec[i].iov_base, vec[i].iov_len};
            want += vec[i].iov_len;
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        w = w < 0 ? 0 : w;
        /* A bufferevent keeps its output's start frozen but for its own writes. */
        evbuffer_unfreeze(out, 1);
        int rc = evbuffer_drain(out, (size_t)w);
        evbuffer_freeze(out, 1);
        assert(rc == 0);
        (void)rc;
        if ((size_t)w < want)
            return 1;
    }
    return 0;
}

int net_read_direct(struct bufferevent *bev)
{
    /* Read on the stack, then copied: the input's chunk then fits what came (a request is
       ~100 bytes), where room reserved ahead would be a page-sized allocation per read. */
    uint8_t buf[NET_READ_BYTES];
    ssize_t n;
    do {
        n = read(bufferevent_getfd(bev), buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
    if (n == 0)
        return 0;
    struct evbuffer *in = bufferevent_get_input(bev);
    /* A bufferevent keeps its input's end frozen but for its own reads. */
    evbuffer_unfreeze(in, 0);
    int rc = evbuffer_add(in, buf, (size_t)n);
    evbuffer_freeze(in, 0);
    if (rc != 0) {
        errno = ENOMEM;
        return -2;
    }
    return (int)n;
}
