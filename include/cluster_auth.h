/* cluster_auth.h: peers prove they hold the cluster secret: challenge, HMAC-SHA256, verify. */
#ifndef CLUSTER_AUTH_H
#define CLUSTER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvstore.h"

/*
 * The connecting side calls peerChallenge(node_id) and gets a fresh random nonce, then
 * peerAuthenticate(node_id, nonce, HMAC-SHA256(secret, nonce || node_id)). The server side
 * keeps a struct cluster_peer_conn per connection: the nonce it issued (single use) and, once
 * the MAC checks out (constant-time compare), the peer id every later peer call is from.
 * The secret never travels.
 */
#define CLUSTER_NONCE_BYTES 32u
#define CLUSTER_MAC_BYTES 32u
#define CLUSTER_SECRET_BYTES_MIN 16u
#define CLUSTER_SECRET_BYTES_MAX 256u

struct cluster_secret {
    uint8_t key[CLUSTER_SECRET_BYTES_MAX];
    size_t len;
};

/* 0, or CLUSTER_ERR_INVALID when the secret is shorter than the minimum or too long. */
int cluster_secret_set(struct cluster_secret *s, const void *key, size_t len);

struct cluster_peer_conn {
    uint8_t nonce[CLUSTER_NONCE_BYTES];
    bool challenged;     /* a nonce was issued and not used yet */
    bool authenticated;
    uint32_t peer;       /* valid once authenticated */
};

void cluster_peer_conn_init(struct cluster_peer_conn *c);

/* HMAC-SHA256(secret, nonce || decimal node id). 0 or CLUSTER_ERR_INVALID. */
int cluster_auth_mac(const struct cluster_secret *s, const uint8_t *nonce, size_t nonce_len,
                     uint32_t node_id, uint8_t out[CLUSTER_MAC_BYTES]);
/* Server side: a new nonce for this connection into out->nonce. 0, or IO (no randomness). */
int cluster_auth_challenge(struct cluster_peer_conn *c, PeerChallengeResponse *out);
/* Server side: checks req against the nonce issued on this connection (which is used up
 * either way). 0 and c->authenticated, or CLUSTER_ERR_UNAUTHORIZED. */
int cluster_auth_verify(struct cluster_peer_conn *c, const struct cluster_secret *s,
                        uint32_t node_count, uint32_t self, const PeerAuthRequest *req);

#endif
