/* port_pick.c: loopback ports outside the ephemeral range, for nodes restarted in place. */
#include "port_pick.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PORT_PICK_LOW 10000u
#define PORT_PICK_TRIES 200u

static unsigned ephemeral_low(void)
{
    unsigned lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2)
            lo = 32768;
        fclose(f);
    }
    return lo;
}

/* Binds 127.0.0.1:port (0: the kernel picks); returns the port bound, or 0. */
static uint16_t try_bind(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    uint16_t got = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        got = ntohs(sa.sin_port);
    close(fd);
    return got;
}

uint16_t port_pick_loopback(void)
{
    unsigned top = ephemeral_low();
    if (top > 65536)
        top = 65536;
    if (top <= PORT_PICK_LOW + PORT_PICK_TRIES)
        return try_bind(0);
    /* Not the test's seeded randomness: only where to listen, so different processes that
       pick at the same time should disagree. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_nsec;
    static uint64_t calls;
    x += ++calls * 0xBF58476D1CE4E5B9ull;
    for (unsigned i = 0; i < PORT_PICK_TRIES; i++) {
        x ^= x >> 31;
        x *= 0x94D049BB133111EBull;
        x ^= x >> 29;
        uint16_t port = (uint16_t)(PORT_PICK_LOW + x % (top - PORT_PICK_LOW));
        if (try_bind(port) == port)
            return port;
    }
    return try_bind(0);
}
