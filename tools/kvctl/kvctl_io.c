/* kvctl_io.c: kvctl's connection, calls, and how keys and values are read and printed. */
#include "kvctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int kvctl_connect(struct kvctl *k)
{
    if (k->connected)
        return KVCTL_OK;
    int rc = NET_ERR_ADDRESS;
    for (uint32_t i = 0; i < k->eps.count; i++) {
        const char *ep = k->eps.items[k->eps.current];
        rc = net_sync_connect(&k->client, ep, k->framed, k->tls, KVCTL_TIMEOUT_MS);
        if (rc == NET_OK) {
            k->connected = true;
            return KVCTL_OK;
        }
        if (rc == NET_ERR_TLS)
            fprintf(stderr, "kvctl: %s: TLS failed: %s\n", ep, net_sync_tls_error(&k->client));
        net_sync_close(&k->client);
        kvctl_endpoints_next(&k->eps);
    }
    fprintf(stderr, "kvctl: cannot connect to %s: %s\n", k->endpoints, net_strerror(rc));
    return KVCTL_SERVER;
}

void kvctl_disconnect(struct kvctl *k)
{
    if (k->connected)
        net_sync_close(&k->client);
    k->connected = false;
}

void kvctl_move_on(struct kvctl *k)
{
    kvctl_disconnect(k);
    kvctl_endpoints_next(&k->eps);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int kvctl_roundtrip(struct kvctl *k, tp_reader *r)
{
    k->attempt_start_ms = now_ms();
    k->sent = k->lost = false;
    int rc = kvctl_connect(k);
    if (rc != KVCTL_OK)
        return rc;
    const uint8_t *msg;
    size_t len;
    int e = net_sync_call(&k->client, k->out.data, k->out.len, k->seqid, KVCTL_TIMEOUT_MS, &msg,
                          &len);
    k->sent = k->client.sent;
    if (e == NET_ERR_TLS) { /* refused (a certificate, most often): trying again cannot help */
        fprintf(stderr, "kvctl: %s: TLS failed: %s\n", k->eps.items[k->eps.current],
                net_sync_tls_error(&k->client));
        kvctl_disconnect(k);
        return KVCTL_SERVER;
    }
    if (e != NET_OK) {
        fprintf(stderr, "kvctl: %s: %s\n", k->eps.items[k->eps.current], net_strerror(e));
        k->lost = true;
        kvctl_disconnect(k);
        return KVCTL_SERVER;
    }
    tp_reader_init(r, msg, len, NULL);
    return KVCTL_OK;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

bool kvctl_again(struct kvctl *k, struct kvctl_retry *r, int rc, int code, const tp_bytes *hint)
{
    uint32_t wait_ms;
    enum kvctl_action a;
    if (rc != KVCTL_OK && !k->lost)
        return false;   /* no endpoint answers, or a reply that does not decode */
    kvctl_retry_spent(r, now_ms() - k->attempt_start_ms);
    a = rc != KVCTL_OK ? kvctl_retry_lost(r, k->sent, &wait_ms)
                       : kvctl_retry_answer(r, code, hint != NULL, &wait_ms);
    if (a == KVCTL_ACT_DONE)
        return false;
    if (a == KVCTL_ACT_GIVE_UP) {
        fprintf(stderr, "kvctl: still failing after %u ms of retries\n", r->waited_ms);
        return false;
    }
    if (a == KVCTL_ACT_FOLLOW &&
        kvctl_endpoints_follow(&k->eps, (const char *)hint->data, hint->len) != 0)
        a = KVCTL_ACT_NEXT;   /* a hint that is not HOST:PORT: try the others */
    if (a == KVCTL_ACT_NEXT)
        kvctl_endpoints_next(&k->eps);
    if (a != KVCTL_ACT_SAME)
        kvctl_disconnect(k);
    sleep_ms(wait_ms);
    return true;
}

int kvctl_call_failed(const char *method, int rc, const tp_app_exception *ax)
{
    if (rc == TP_ERR_APP_EXCEPTION && ax)
        fprintf(stderr, "kvctl: %s: server exception %d: %.*s\n", method, ax->type,
                (int)ax->message.len, ax->message.data ? (const char *)ax->message.data : "");
    else
        fprintf(stderr, "kvctl: %s: bad reply: %s\n", method, tp_strerror(rc));
    return KVCTL_SERVER;
}

int kvctl_server_error(const char *what, bool has_error, const tp_bytes *error, bool has_code,
                       int code)
{
    const char *name = has_code ? ErrorCode_name(code) : NULL;
    fprintf(stderr, "kvctl: %s failed: %s%s%.*s\n", what, name ? name : "error",
            has_error ? ": " : "", has_error ? (int)error->len : 0,
            has_error && error->data ? (const char *)error->data : "");
    return KVCTL_SERVER;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int kvctl_parse_bytes(const struct kvctl *k, const char *text, tp_bytes *out)
{
    size_t n = strlen(text);
    if (!k->hex)
        return tp_bytes_set(out, text, n) == 0 ? KVCTL_OK : KVCTL_SERVER;
    if (n % 2) {
        fprintf(stderr, "kvctl: '%s' is not hex: odd length\n", text);
        return KVCTL_USAGE;
    }
    uint8_t *b = malloc(n / 2 + 1);
    if (!b)
        return KVCTL_SERVER;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            fprintf(stderr, "kvctl: '%s' is not hex\n", text);
            return KVCTL_USAGE;
        }
        b[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    int rc = tp_bytes_set(out, b, n / 2) == 0 ? KVCTL_OK : KVCTL_SERVER;
    free(b);
    return rc;
}

void kvctl_print_bytes(const struct kvctl *k, FILE *f, const tp_bytes *b)
{
    if (k->json)
        fputc('"', f);
    for (uint32_t i = 0; i < b->len; i++) {
        uint8_t c = b->data[i];
        if (k->hex)
            fprintf(f, "%02x", c);
        else if (k->json && (c == '"' || c == '\\'))
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, k->json ? "\\u%04x" : "\\x%02x", c);
    }
    if (k->json)
        fputc('"', f);
}
