/* kb_probe.c: the floors a request cannot beat: a loopback TCP round trip and one fdatasync. */
#include "kvbench.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KB_PROBE_FSYNC_BYTES 128 /* about one WAL record of a 100-byte set */

static void print_hist(const char *what, const struct kb_hist *h, bool json)
{
    if (json)
        printf("{\"probe\": \"%s\", \"count\": %llu, \"p50_us\": %.1f, \"p99_us\": %.1f, "
               "\"min_us\": %.1f, \"max_us\": %.1f}\n", what, (unsigned long long)h->total,
               (double)kb_hist_quantile(h, 0.5) / 1e3, (double)kb_hist_quantile(h, 0.99) / 1e3,
               (double)h->min_ns / 1e3, (double)h->max_ns / 1e3);
    else
        printf("%s: %llu samples, p50 %.1f us, p99 %.1f us, min %.1f us, max %.1f us\n", what,
               (unsigned long long)h->total, (double)kb_hist_quantile(h, 0.5) / 1e3,
               (double)kb_hist_quantile(h, 0.99) / 1e3, (double)h->min_ns / 1e3,
               (double)h->max_ns / 1e3);
}

static void *echo_main(void *arg)
{
    int fd = *(int *)arg;
    char byte;
    while (read(fd, &byte, 1) == 1 && write(fd, &byte, 1) == 1)
        ;
    return NULL;
}

static int loopback_pair(int *client, int *server)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    *server = accept(lfd, NULL, NULL);
    close(lfd);
    int one = 1;
    setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return *server < 0 ? -1 : 0;
}

/* One byte to an echo thread and back over 127.0.0.1, count times. */
int kb_probe_rtt(uint32_t count, bool json)
{
    int client, server;
    if (loopback_pair(&client, &server) != 0) {
        perror("kvbench: probe-rtt");
        return 1;
    }
    pthread_t echo;
    if (pthread_create(&echo, NULL, echo_main, &server) != 0)
        return 1;
    struct kb_hist *h = malloc(sizeof *h);
    kb_hist_reset(h);
    char byte = 'x';
    for (uint32_t i = 0; i < count; i++) {
        uint64_t t = kb_now_ns();
        if (write(client, &byte, 1) != 1 || read(client, &byte, 1) != 1)
            break;
        kb_hist_record(h, kb_now_ns() - t);
    }
    shutdown(client, SHUT_WR);
    pthread_join(echo, NULL);
    close(client);
    close(server);
    print_hist("loopback tcp rtt", h, json);
    int rc = h->total == count ? 0 : 1;
    free(h);
    return rc;
}

/* Appends one small record and fdatasyncs it, as a WAL append with fsync "always" does. */
int kb_probe_fsync(const char *dir, uint32_t count, bool json)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/kvbench-fsync-probe", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    char block[KB_PROBE_FSYNC_BYTES];
    memset(block, 'w', sizeof block);
    struct kb_hist *h = malloc(sizeof *h);
    kb_hist_reset(h);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t t = kb_now_ns();
        if (pwrite(fd, block, sizeof block, (off_t)i * sizeof block) != (ssize_t)sizeof block ||
            fdatasync(fd) != 0)
            break;
        kb_hist_record(h, kb_now_ns() - t);
    }
    close(fd);
    unlink(path);
    print_hist("fdatasync of a 128 B append", h, json);
    int rc = h->total == count ? 0 : 1;
    free(h);
    return rc;
}
