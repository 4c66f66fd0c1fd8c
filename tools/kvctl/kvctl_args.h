/* kvctl_args.h: kvctl's command line, parsed (flags anywhere; "--" ends them). */
#ifndef KVCTL_ARGS_H
#define KVCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvctl_args {
    const char *endpoints;    /* -e/--endpoints; NULL when not given */
    bool hex, json, unframed, serializable, help;
    bool has_limit, reverse;  /* range only */
    int32_t limit;
    bool prefix, has_from;    /* watch only: --prefix, --from VERSION, --count N */
    int64_t from, count_max;
    bool tls;                 /* --tls, or implied by --cacert, --cert or --key */
    const char *cacert, *cert, *key;
    const char *command;      /* the first positional argument; NULL when none */
    char **positional;        /* the command, then its arguments, in order */
    int count;
};

/* Parses argv[1..argc). On error returns -1 with a message in err naming the flag that was
   not understood (call kvctl_args_free either way). */
int kvctl_args_parse(struct kvctl_args *a, int argc, char **argv, char *err, size_t err_size);
void kvctl_args_free(struct kvctl_args *a);

#endif
