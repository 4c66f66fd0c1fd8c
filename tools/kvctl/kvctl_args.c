/* kvctl_args.c: kvctl's command line. Flags go anywhere, before or after the command (as git
   and etcdctl take them), as "--flag VALUE" or "--flag=VALUE"; "--" ends them, so a key or
   value may start with '-'. A flag that is not understood is named in the error. */
#include "kvctl_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum option_id { OPT_ENDPOINTS, OPT_HEX, OPT_JSON, OPT_UNFRAMED, OPT_SERIALIZABLE, OPT_LIMIT,
                 OPT_REVERSE, OPT_HELP, OPT_TLS, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_PREFIX,
                 OPT_FROM, OPT_COUNT };

struct option {
    enum option_id id;
    const char *name;
    const char *alias;     /* a short form, or NULL */
    bool takes_value;
    const char *command;   /* the one command it belongs to; NULL: every command */
};

static const struct option options[] = {
    {OPT_ENDPOINTS, "--endpoints", "-e", true, NULL},
    {OPT_HEX, "--hex", NULL, false, NULL},
    {OPT_JSON, "--json", NULL, false, NULL},
    {OPT_UNFRAMED, "--unframed", NULL, false, NULL},
    {OPT_SERIALIZABLE, "--serializable", NULL, false, NULL},
    {OPT_LIMIT, "--limit", NULL, true, "range"},
    {OPT_REVERSE, "--reverse", NULL, false, "range"},
    {OPT_HELP, "--help", "-h", false, NULL},
    {OPT_TLS, "--tls", NULL, false, NULL},
    {OPT_CACERT, "--cacert", NULL, true, NULL},
    {OPT_CERT, "--cert", NULL, true, NULL},
    {OPT_KEY, "--key", NULL, true, NULL},
    {OPT_PREFIX, "--prefix", NULL, false, "watch"},
    {OPT_FROM, "--from", NULL, true, "watch"},
    {OPT_COUNT, "--count", NULL, true, "watch"},
};

#define OPTION_COUNT (sizeof options / sizeof options[0])

__attribute__((format(printf, 3, 4)))
static void fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* The option named by the first len bytes of arg, or NULL. */
static const struct option *find_option(const char *arg, size_t len)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *o = &options[i];
        if ((strlen(o->name) == len && strncmp(arg, o->name, len) == 0) ||
            (o->alias && strlen(o->alias) == len && strncmp(arg, o->alias, len) == 0))
            return o;
    }
    return NULL;
}

/* A whole non-negative decimal number up to max; -1 when value is not one. */
static long long number(const char *value, long long max)
{
    char *end;
    errno = 0;
    long long n = strtoll(value, &end, 10);
    return value[0] == '\0' || *end != '\0' || errno != 0 || n < 0 || n > max ? -1 : n;
}

static int set_option(struct kvctl_args *a, const struct option *o, const char *value,
                      char *err, size_t err_size)
{
    long long n;
    switch (o->id) {
    case OPT_ENDPOINTS: a->endpoints = value; break;
    case OPT_HEX: a->hex = true; break;
    case OPT_JSON: a->json = true; break;
    case OPT_UNFRAMED: a->unframed = true; break;
    case OPT_SERIALIZABLE: a->serializable = true; break;
    case OPT_REVERSE: a->reverse = true; break;
    case OPT_HELP: a->help = true; break;
    case OPT_TLS: a->tls = true; break;
    case OPT_CACERT: a->cacert = value, a->tls = true; break;
    case OPT_CERT: a->cert = value, a->tls = true; break;
    case OPT_KEY: a->key = value, a->tls = true; break;
    case OPT_PREFIX: a->prefix = true; break;
    case OPT_LIMIT:
    case OPT_COUNT:
        if ((n = number(value, INT32_MAX)) < 0) {
            fail(err, err_size, "'%s' wants a count from 0 to 2147483647, not '%s'", o->name,
                 value);
            return -1;
        }
        if (o->id == OPT_COUNT) {
            a->count_max = n;
        } else {
            a->has_limit = true;
            a->limit = (int32_t)n;
        }
        break;
    case OPT_FROM:
        if ((n = number(value, INT64_MAX)) < 0) {
            fail(err, err_size, "'%s' wants a version, not '%s'", o->name, value);
            return -1;
        }
        a->has_from = true;
        a->from = n;
        break;
    }
    return 0;
}

/* Takes argv[*i] (a flag) and, when it wants one, its value; advances *i past them. */
static int take_flag(struct kvctl_args *a, int argc, char **argv, int *i, const struct option **used,
                     char *err, size_t err_size)
{
    const char *arg = argv[*i];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    const struct option *o = find_option(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    if (!o) {
        fail(err, err_size, "unknown option '%s'%s", arg,
             " (put \"--\" before a key or value that starts with '-')");
        return -1;
    }
    const char *value = NULL;
    if (o->takes_value && eq)
        value = eq + 1;
    else if (o->takes_value && *i + 1 < argc)
        value = argv[++*i];
    else if (o->takes_value) {
        fail(err, err_size, "option '%s' wants a value%s", o->name, "");
        return -1;
    } else if (eq) {
        fail(err, err_size, "option '%s' takes no value, got '%s'", o->name, eq + 1);
        return -1;
    }
    (*i)++;
    if (o->command)
        *used = o;
    return set_option(a, o, value, err, err_size);
}

int kvctl_args_parse(struct kvctl_args *a, int argc, char **argv, char *err, size_t err_size)
{
    memset(a, 0, sizeof *a);
    a->positional = calloc((size_t)(argc > 0 ? argc : 1), sizeof *a->positional);
    if (!a->positional) {
        fail(err, err_size, "%s%s", "out of memory", "");
        return -1;
    }
    const struct option *scoped = NULL;   /* the last command-only flag seen */
    bool flags_end = false;
    for (int i = 1; i < argc;) {
        const char *arg = argv[i];
        if (!flags_end && strcmp(arg, "--") == 0) {
            flags_end = true;
            i++;
        } else if (!flags_end && arg[0] == '-' && arg[1] != '\0') {
            if (take_flag(a, argc, argv, &i, &scoped, err, err_size) != 0)
                return -1;
        } else {
            a->positional[a->count++] = argv[i++];
        }
    }
    a->command = a->count > 0 ? a->positional[0] : NULL;
    if (scoped && a->command && strcmp(a->command, scoped->command) != 0) {
        fail(err, err_size, "option '%s' is for '%s' only", scoped->name, scoped->command);
        return -1;
    }
    return 0;
}

void kvctl_args_free(struct kvctl_args *a)
{
    free(a->positional);
    a->positional = NULL;
}
