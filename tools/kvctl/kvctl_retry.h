/* kvctl_retry.h: kvctl's endpoint list and retry policy (pure: no sockets, no clock). */
#ifndef KVCTL_RETRY_H
#define KVCTL_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVCTL_ENDPOINTS_MAX 16u
#define KVCTL_ENDPOINT_BYTES_MAX 272u      /* "[host]:port" with a 255-byte host, and NUL */
/* Retrying stops once the time spent (waits and the failed calls themselves) would pass this
   budget: a call the server holds for its own request timeout counts too. */
#define KVCTL_RETRY_BUDGET_MS 5000u
#define KVCTL_BACKOFF_FIRST_MS 50u
#define KVCTL_BACKOFF_MAX_MS 1000u
/* Retries sent at once (to a hinted leader, or after TIMEOUT to the node that holds the call
   until it knows one); more hops than this wait like any retry (no ping-pong). */
#define KVCTL_HOPS_FREE_MAX 4u

_Static_assert(KVCTL_BACKOFF_FIRST_MS <= KVCTL_BACKOFF_MAX_MS, "backoff grows");
_Static_assert(KVCTL_BACKOFF_MAX_MS <= KVCTL_RETRY_BUDGET_MS, "at least one full wait fits");

struct kvctl_endpoints {
    char items[KVCTL_ENDPOINTS_MAX][KVCTL_ENDPOINT_BYTES_MAX];
    uint32_t count;
    uint32_t current;   /* the one to talk to first */
};

/* Parses "HOST:PORT[,HOST:PORT...]" (each checked); 0, or -1 with a message in err. */
int kvctl_endpoints_parse(const char *list, struct kvctl_endpoints *out, char *err,
                          size_t err_size);
/* Makes the endpoint hint (len bytes, not NUL-terminated) current, adding it when it is new
   (over the last one when the list is full). -1 when hint is not HOST:PORT. */
int kvctl_endpoints_follow(struct kvctl_endpoints *e, const char *hint, size_t len);
/* Moves current to the next endpoint in the list. */
void kvctl_endpoints_next(struct kvctl_endpoints *e);

enum kvctl_action {
    KVCTL_ACT_DONE,        /* the answer stands (success or an error not worth retrying) */
    KVCTL_ACT_FOLLOW,      /* call the leader the hint names, after wait_ms */
    KVCTL_ACT_NEXT,        /* call the next endpoint, after wait_ms */
    KVCTL_ACT_SAME,        /* call the same endpoint again, after wait_ms */
    KVCTL_ACT_GIVE_UP,     /* retryable, but the budget is spent */
};

struct kvctl_retry {
    bool idempotent;       /* false: an unknown outcome (TIMEOUT, a lost reply) is not retried */
    uint32_t waited_ms;    /* time spent so far: backoff waits plus failed attempts */
    uint32_t backoff_ms;   /* the next wait */
    uint32_t hops;         /* retries sent at once, and leader hints followed */
};

void kvctl_retry_init(struct kvctl_retry *r, bool idempotent);
/* Counts ms spent in an attempt that is about to be judged (saturating). */
void kvctl_retry_spent(struct kvctl_retry *r, uint64_t ms);
/* After an answer with ErrorCode code (0: success) and whether it carried a leader hint. */
enum kvctl_action kvctl_retry_answer(struct kvctl_retry *r, int code, bool has_hint,
                                     uint32_t *wait_ms);
/* After the connection failed mid-call; sent: the request may have reached the server. */
enum kvctl_action kvctl_retry_lost(struct kvctl_retry *r, bool sent, uint32_t *wait_ms);

#endif
