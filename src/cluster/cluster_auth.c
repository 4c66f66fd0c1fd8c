/* cluster_auth.c: HMAC-SHA256 challenge and response between peers (OpenSSL libcrypto). */
#include "cluster_auth.h"

#include "cluster.h"
#include "cluster_wire.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

int cluster_secret_set(struct cluster_secret *s, const void *key, size_t len)
{
    if (len < CLUSTER_SECRET_BYTES_MIN || len > CLUSTER_SECRET_BYTES_MAX)
        return CLUSTER_ERR_INVALID;
    memcpy(s->key, key, len);
    s->len = len;
    return 0;
}

void cluster_peer_conn_init(struct cluster_peer_conn *c)
{
    memset(c, 0, sizeof *c);
}

int cluster_auth_mac(const struct cluster_secret *s, const uint8_t *nonce, size_t nonce_len,
                     uint32_t node_id, uint8_t out[CLUSTER_MAC_BYTES])
{
    char id[CLUSTER_ID_TEXT_MAX];
    if (s->len < CLUSTER_SECRET_BYTES_MIN || nonce_len != CLUSTER_NONCE_BYTES ||
        node_id == CONSENSUS_NONE)
        return CLUSTER_ERR_INVALID;
    cluster_id_format(node_id, id);
    uint8_t msg[CLUSTER_NONCE_BYTES + CLUSTER_ID_TEXT_MAX];
    size_t id_len = strlen(id);
    memcpy(msg, nonce, nonce_len);
    memcpy(msg + nonce_len, id, id_len);
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), s->key, (int)s->len, msg, nonce_len + id_len, out, &mac_len) ||
        mac_len != CLUSTER_MAC_BYTES)
        return CLUSTER_ERR_INVALID;
    return 0;
}

int cluster_auth_challenge(struct cluster_peer_conn *c, PeerChallengeResponse *out)
{
    if (RAND_bytes(c->nonce, (int)sizeof c->nonce) != 1)
        return CLUSTER_ERR_IO;
    c->challenged = true;
    return tp_bytes_set(&out->nonce, c->nonce, sizeof c->nonce) == 0 ? 0 : CLUSTER_ERR_NOMEM;
}

int cluster_auth_verify(struct cluster_peer_conn *c, const struct cluster_secret *s,
                        uint32_t node_count, uint32_t self, const PeerAuthRequest *req)
{
    bool challenged = c->challenged;
    c->challenged = false; /* one try per nonce */
    uint32_t id;
    uint8_t want[CLUSTER_MAC_BYTES];
    if (!challenged || cluster_id_parse(&req->node_id, node_count, &id) != 0 || id == self ||
        req->nonce.len != CLUSTER_NONCE_BYTES || req->mac.len != CLUSTER_MAC_BYTES ||
        CRYPTO_memcmp(req->nonce.data, c->nonce, CLUSTER_NONCE_BYTES) != 0 ||
        cluster_auth_mac(s, c->nonce, CLUSTER_NONCE_BYTES, id, want) != 0 ||
        CRYPTO_memcmp(req->mac.data, want, CLUSTER_MAC_BYTES) != 0)
        return CLUSTER_ERR_UNAUTHORIZED;
    c->authenticated = true;
    c->peer = id;
    return 0;
}
