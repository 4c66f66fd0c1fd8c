/* kvctl_retry.c: which endpoint kvctl calls next, and whether and when it retries. */
#include "kvctl_retry.h"

#include "kvstore.h"
#include "net.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static bool endpoint_valid(const char *text)
{
    char host[KVCTL_ENDPOINT_BYTES_MAX];
    uint16_t port;
    return net_split_host_port(text, host, sizeof host, &port) == NET_OK && host[0] != '\0' &&
           port != 0;
}

int kvctl_endpoints_parse(const char *list, struct kvctl_endpoints *out, char *err,
                          size_t err_size)
{
    memset(out, 0, sizeof *out);
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (out->count == KVCTL_ENDPOINTS_MAX) {
            snprintf(err, err_size, "more than %u endpoints", KVCTL_ENDPOINTS_MAX);
            return -1;
        }
        char *slot = out->items[out->count];
        bool fits = len < KVCTL_ENDPOINT_BYTES_MAX;
        if (fits) {
            memcpy(slot, p, len);
            slot[len] = '\0';
        }
        if (!fits || !endpoint_valid(slot)) {
            snprintf(err, err_size, "endpoint %u ('%.*s') is not HOST:PORT", out->count + 1,
                     (int)(len < 64 ? len : 64), p);
            return -1;
        }
        out->count++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int kvctl_endpoints_follow(struct kvctl_endpoints *e, const char *hint, size_t len)
{
    assert(e->count > 0);
    char text[KVCTL_ENDPOINT_BYTES_MAX];
    if (len >= sizeof text)
        return -1;
    memcpy(text, hint, len);
    text[len] = '\0';
    if (strlen(text) != len || !endpoint_valid(text))
        return -1;
    for (uint32_t i = 0; i < e->count; i++)
        if (strcmp(e->items[i], text) == 0) {
            e->current = i;
            return 0;
        }
    uint32_t slot = e->count < KVCTL_ENDPOINTS_MAX ? e->count++ : e->count - 1;
    memcpy(e->items[slot], text, len + 1);
    e->current = slot;
    return 0;
}

void kvctl_endpoints_next(struct kvctl_endpoints *e)
{
    assert(e->count > 0);
    e->current = (e->current + 1) % e->count;
}

void kvctl_retry_init(struct kvctl_retry *r, bool idempotent)
{
    *r = (struct kvctl_retry){.idempotent = idempotent, .backoff_ms = KVCTL_BACKOFF_FIRST_MS};
}

void kvctl_retry_spent(struct kvctl_retry *r, uint64_t ms)
{
    r->waited_ms = ms >= KVCTL_RETRY_BUDGET_MS - r->waited_ms ? KVCTL_RETRY_BUDGET_MS
                                                                : r->waited_ms + (uint32_t)ms;
}

/* The next wait, or false when it would pass the budget. */
static bool backoff(struct kvctl_retry *r, uint32_t *wait_ms)
{
    if (r->waited_ms + r->backoff_ms > KVCTL_RETRY_BUDGET_MS)
        return false;
    *wait_ms = r->backoff_ms;
    r->waited_ms += r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 < KVCTL_BACKOFF_MAX_MS ? r->backoff_ms * 2
                                                             : KVCTL_BACKOFF_MAX_MS;
    return true;
}

/* A retry sent at once, while hops are left (no two nodes can make kvctl spin). */
static bool hop(struct kvctl_retry *r)
{
    if (r->hops >= KVCTL_HOPS_FREE_MAX)
        return false;
    r->hops++;
    return true;
}

/* Retries with the wait and the budget: to the hinted leader, or else as told. */
static enum kvctl_action after_backoff(struct kvctl_retry *r, bool has_hint, uint32_t *wait_ms,
                                       enum kvctl_action otherwise)
{
    if (!backoff(r, wait_ms))
        return KVCTL_ACT_GIVE_UP;
    r->hops += has_hint;
    return has_hint ? KVCTL_ACT_FOLLOW : otherwise;
}

enum kvctl_action kvctl_retry_answer(struct kvctl_retry *r, int code, bool has_hint,
                                     uint32_t *wait_ms)
{
    *wait_ms = 0;
    switch (code) {
    case ErrorCode_NOT_LEADER:
        if (has_hint && hop(r))
            return KVCTL_ACT_FOLLOW;
        return after_backoff(r, has_hint, wait_ms, KVCTL_ACT_NEXT);
    case ErrorCode_TIMEOUT:
        if (!r->idempotent)
            return KVCTL_ACT_DONE;   /* the write may have happened: say so, do not redo it */
        /* A node answers TIMEOUT as soon as the leader it waited on is gone: at once to the
           new leader it names, or to the same node, which holds the call until it knows one. */
        if (hop(r))
            return has_hint ? KVCTL_ACT_FOLLOW : KVCTL_ACT_SAME;
        return after_backoff(r, has_hint, wait_ms, KVCTL_ACT_SAME);
    case ErrorCode_UNAVAILABLE:
        /* Without a hint the node knows no leader (it waited a request timeout for one, or
           it is a leader cut off that stepped down) or its storage failed: ask another. */
        if (has_hint && hop(r))
            return KVCTL_ACT_FOLLOW;
        return after_backoff(r, has_hint, wait_ms, KVCTL_ACT_NEXT);
    case ErrorCode_BUSY:
        return backoff(r, wait_ms) ? KVCTL_ACT_SAME : KVCTL_ACT_GIVE_UP;
    default:
        return KVCTL_ACT_DONE;
    }
}

enum kvctl_action kvctl_retry_lost(struct kvctl_retry *r, bool sent, uint32_t *wait_ms)
{
    *wait_ms = 0;
    if (sent && !r->idempotent)
        return KVCTL_ACT_DONE;
    return backoff(r, wait_ms) ? KVCTL_ACT_NEXT : KVCTL_ACT_GIVE_UP;
}
