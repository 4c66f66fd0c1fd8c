/* net_addr.h: connections counted per source address (the IP, not the port), for the
   per-address bound of the accept policy. */
#ifndef NET_ADDR_H
#define NET_ADDR_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;

/* An IPv4 address is kept as its IPv4-mapped IPv6 form, so both families share one table. */
struct net_addr {
    uint8_t bytes[16];
    bool local;   /* no socket address (a bufferevent pair): all such share one group */
};

struct net_addr_group {
    struct net_addr addr;
    uint32_t count;               /* connections counted against this address */
    struct net_addr_group *next;  /* in its bucket */
};

/* A seeded hash table of groups (a client cannot choose addresses that share a bucket). */
struct net_addr_table {
    struct net_addr_group **buckets;
    uint32_t bucket_count;        /* a power of two; 0 until the first group */
    uint32_t group_count;
    uint64_t seed;
};

/* From an accepted socket's address; addr NULL or a family other than IPv4/IPv6: local. */
void net_addr_from_sockaddr(struct net_addr *out, const struct sockaddr *addr);

void net_addr_table_init(struct net_addr_table *t, uint64_t seed);
void net_addr_table_free(struct net_addr_table *t);
/* The group of a, created with count 0 when new; NULL when out of memory. */
struct net_addr_group *net_addr_group_get(struct net_addr_table *t, const struct net_addr *a);
/* Frees g once nothing counts against it (count 0). */
void net_addr_group_release(struct net_addr_table *t, struct net_addr_group *g);

#endif
