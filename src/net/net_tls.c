/* net_tls.c: OpenSSL contexts and error texts for TLS on the node's port and its clients. */
#include "net_tls.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* The first queued OpenSSL error as text (and clears the queue). */
static void ssl_error(char *err, size_t size, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char text[160] = "unknown error";
    if (e)
        ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    snprintf(err, size, "%s %s: %s", what, file ? file : "", text);
}

static int load_identity(SSL_CTX *ctx, const char *cert, const char *key, char *err,
                         size_t size)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_error(err, size, "cannot load certificate", cert);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_error(err, size, "cannot load private key", key);
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error(err, size, "the key does not match the certificate", cert);
        return -1;
    }
    return 0;
}

static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (ctx) {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    return ctx;
}

SSL_CTX *net_tls_server_ctx(const char *cert, const char *key, const char *ca,
                            const char *extra_ca, enum net_tls_client_auth client_auth,
                            char *err, size_t err_size)
{
    SSL_CTX *ctx = ctx_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, err_size, "cannot create a TLS context: out of memory");
        return NULL;
    }
    if (load_identity(ctx, cert, key, err, err_size) != 0)
        goto fail;
    /* Both bundles verify client certificates; their subjects are the CAs a client is
       told it may present a certificate from. */
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    if (!names) {
        snprintf(err, err_size, "cannot create a TLS context: out of memory");
        goto fail;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    for (int i = 0; i < 2; i++) {
        const char *file = i == 0 ? ca : extra_ca;
        if (file && (SSL_CTX_load_verify_locations(ctx, file, NULL) != 1 ||
                     SSL_add_file_cert_subjects_to_stack(names, file) != 1)) {
            ssl_error(err, err_size, "cannot load CA bundle", file);
            goto fail;
        }
    }
    int mode = SSL_VERIFY_NONE;
    if (client_auth != NET_TLS_AUTH_NONE || extra_ca)
        mode = SSL_VERIFY_PEER;
    if (client_auth == NET_TLS_AUTH_REQUIRE)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    /* Sessions are not resumed: each connection proves itself again (no cache to bound). */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *net_tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
                            size_t err_size)
{
    SSL_CTX *ctx = ctx_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, err_size, "cannot create a TLS context: out of memory");
        return NULL;
    }
    int ok = ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        ssl_error(err, err_size, "cannot load CA bundle", ca ? ca : "(system default)");
        goto fail;
    }
    if ((cert || key) && (!cert || !key)) {
        snprintf(err, err_size, "a client certificate needs both --cert and --key");
        goto fail;
    }
    if (cert && load_identity(ctx, cert, key, err, err_size) != 0)
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL *net_tls_client_ssl(SSL_CTX *ctx, const char *host)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
                   : SSL_set1_host(ssl, host) && SSL_set_tlsext_host_name(ssl, host);
    if (ok != 1) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void net_tls_ctx_free(SSL_CTX *ctx) { SSL_CTX_free(ctx); }

struct bufferevent *net_tls_client_bev(struct event_base *base, SSL_CTX *ctx, const char *host)
{
    SSL *ssl = net_tls_client_ssl(ctx, host);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* A server that closes without close_notify has still said all it meant to. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

void net_tls_error_text(struct bufferevent *bev, char *out, size_t size)
{
    out[0] = '\0';
    size_t used = 0;
    for (unsigned long e; (e = bufferevent_get_openssl_error(bev)) != 0 && used + 2 < size;) {
        if (ERR_GET_LIB(e) == 0)
            continue; /* libevent's own marker, not OpenSSL's reason */
        char text[160];
        ERR_error_string_n(e, text, sizeof text);
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "; " : "", text);
    }
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK && used + 2 < size)
        snprintf(out + used, size - used, "%scertificate: %s", used ? "; " : "",
                 X509_verify_cert_error_string(v));
}

void net_tls_peer_subject(const SSL *ssl, char *out, size_t size)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (!cert) {
        snprintf(out, size, "no certificate");
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(cert), out, (int)size);
}

bool net_tls_peer_issued_by(const SSL *ssl, const char *ca_file)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
        return false;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    bool ok = store && vctx && X509_STORE_load_file(store, ca_file) == 1 &&
              X509_STORE_CTX_init(vctx, store, cert, SSL_get_peer_cert_chain(ssl)) == 1 &&
              X509_verify_cert(vctx) == 1;
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return ok;
}
