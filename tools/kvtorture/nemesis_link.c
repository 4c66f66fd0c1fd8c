/* nemesis_link.c: a slow link through the fault files (delay_ms=ID:MS and rate_kbps=ID:KBPS,
   see src/server/server_faults.c): every call node i sends a peer, and every call a peer
   sends it, leaves delay_ms late and no faster than rate_kbps, as across a long, thin WAN
   link. Appends, heartbeats, votes and forwarded writes all wait; nothing is lost, so what it
   tests is what slowness does (elections by a leader heard late, reads that wait on a slow
   quorum, writes that time out and later commit). Each node's log confirms it applied the
   shaping ("fault injection: ...; delay_ms [...]"), so a run never claims a slow link the
   nodes did not have; the heal empties the files. */
#include "kvtorture.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The node reads its fault file every half heartbeat; this is for a loaded box. */
#define LINK_CONFIRM_NS (10000LL * 1000 * 1000)
/* What the node logs once it shapes a link (server_faults.c's apply_drops). */
#define LINK_SHAPED "; delay_ms ["

/* True when node n's log, from byte `from` on, has a line saying it shapes some link. */
static bool log_says_shaped(const struct kvt_node *n, long long from)
{
    int fd = open(n->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[8192];
    bool found = false;
    ssize_t got;
    /* Windows overlap by the marker's length, so a line split between reads is still seen. */
    while (!found && (got = pread(fd, buf, sizeof buf - 1, from)) > 0) {
        buf[got] = '\0';
        for (char *p = buf; !found && (p = strstr(p, LINK_SHAPED)) != NULL; p++)
            found = p[sizeof LINK_SHAPED - 1] != ']';
        if (got <= (ssize_t)sizeof LINK_SHAPED)
            break;
        from += got - (ssize_t)sizeof LINK_SHAPED;
    }
    close(fd);
    return found;
}

/* "ID:v" for every node but i (node i's own file), or "ID(i):v" (a peer's file). */
static void pairs(const struct kvt_cluster *c, unsigned i, unsigned self, unsigned v, char *out,
                  size_t size)
{
    out[0] = '\0';
    for (unsigned j = 0; j < c->count; j++)
        if (j != self && (self == i || j == i))
            snprintf(out + strlen(out), size - strlen(out), "%s%u:%u", out[0] ? "," : "",
                     kvt_fault_id(c, j), v);
}

int kvt_slow_link_apply(struct kvt_cluster *c, unsigned i, unsigned delay_ms, unsigned rate_kbps)
{
    long long from[KVT_NODES_MAX];
    for (unsigned j = 0; j < c->count; j++) {
        char delay[KVT_NODES_MAX * 16], rate[KVT_NODES_MAX * 16], text[KVT_NODES_MAX * 32 + 64];
        pairs(c, i, j, delay_ms, delay, sizeof delay);
        pairs(c, i, j, rate_kbps, rate, sizeof rate);
        snprintf(text, sizeof text, "delay_ms=%s\nrate_kbps=%s\n", delay, rate);
        from[j] = kvt_log_size(&c->nodes[j]);
        if (kvt_fault_file_write(&c->nodes[j], text) != 0)
            return -1;
    }
    for (unsigned j = 0; j < c->count; j++) {
        bool seen = false;
        for (int64_t until = kvt_now_ns() + LINK_CONFIRM_NS; !seen && kvt_now_ns() < until;) {
            seen = log_says_shaped(&c->nodes[j], from[j]);
            struct timespec ts = {0, 50 * 1000 * 1000};
            if (!seen)
                nanosleep(&ts, NULL);
        }
        if (!seen) {
            printf("nemesis: node %u's log never said it shapes its links: the slow link is"
                   " unconfirmed\n", j);
            return -1;
        }
    }
    return 0;
}

void kvt_slow_link_heal(const struct kvt_cluster *c)
{
    for (unsigned j = 0; j < c->count; j++)
        kvt_fault_file_write(&c->nodes[j], "");   /* an empty file shapes nothing */
}
