/* kvctl_io.c: kvctl's connection, calls, and how keys and values are read and printed. */
#include "kvctl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int kvctl_connect(struct kvctl *k)
{
    if (k->connected)
        return KVCTL_OK;
    char list[1024];
    snprintf(list, sizeof list, "%s", k->endpoints);
    int rc = NET_ERR_ADDRESS;
    for (char *save, *ep = strtok_r(list, ",", &save); ep; ep = strtok_r(NULL, ",", &save)) {
        rc = net_client_connect(&k->client, ep, k->framed, KVCTL_TIMEOUT_MS);
        if (rc == NET_OK) {
            k->connected = true;
            return KVCTL_OK;
        }
        net_client_close(&k->client);
    }
    fprintf(stderr, "kvctl: cannot connect to %s: %s\n", k->endpoints, net_strerror(rc));
    return KVCTL_SERVER;
}

int kvctl_roundtrip(struct kvctl *k, tp_reader *r)
{
    int rc = kvctl_connect(k);
    if (rc != KVCTL_OK)
        return rc;
    const uint8_t *msg;
    size_t len;
    int e = net_client_send(&k->client, k->out.data, k->out.len);
    if (e == NET_OK)
        e = net_client_recv(&k->client, &msg, &len);
    if (e != NET_OK) {
        fprintf(stderr, "kvctl: %s: %s\n", k->endpoints, net_strerror(e));
        return KVCTL_SERVER;
    }
    tp_reader_init(r, msg, len, NULL);
    return KVCTL_OK;
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
