/* main.c: thriftc [-o OUTDIR] [-I INCDIR]... FILE.thrift: parse, check, emit C. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "emit.h"
#include "parser.h"

#define INCLUDE_DIRS_MAX 32
#define INCLUDE_DEPTH_MAX 32
#define IDL_FILE_BYTES_MAX (64u * 1024 * 1024)

typedef struct options {
    const char *outdir;
    const char *include_dirs[INCLUDE_DIRS_MAX];
    int ninclude_dirs;
    const char *input;
} options;

/* Every program loaded, so that a file included twice is parsed once. */
static program **loaded;
static int nloaded;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = xcalloc(IDL_FILE_BYTES_MAX + 1, 1);
    *len = fread(buf, 1, IDL_FILE_BYTES_MAX, f);
    bool too_big = *len == IDL_FILE_BYTES_MAX && fgetc(f) != EOF;
    fclose(f);
    if (too_big) {
        fprintf(stderr, "thriftc: %s is larger than %u bytes\n", path, IDL_FILE_BYTES_MAX);
        exit(1);
    }
    return buf;
}

static const char *find_include(const options *o, const char *from, const char *name)
{
    const char *slash = strrchr(from, '/');
    const char *dir = slash != NULL ? xstrndup(from, (size_t)(slash - from)) : ".";
    const char *path = name[0] == '/' ? name : fmt("%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    for (int i = 0; f == NULL && i < o->ninclude_dirs; i++) {
        path = fmt("%s/%s", o->include_dirs[i], name);
        f = fopen(path, "rb");
    }
    if (f == NULL)
        return NULL;
    fclose(f);
    return path;
}

static program *load(const options *o, const char *path, srcpos from, int depth)
{
    for (int i = 0; i < nloaded; i++)
        if (strcmp(loaded[i]->path, path) == 0)
            return loaded[i];
    if (depth > INCLUDE_DEPTH_MAX)
        diag_fatal(from, "includes nested deeper than %d (a cycle?)", INCLUDE_DEPTH_MAX);
    size_t len;
    char *src = read_file(path, &len);
    if (src == NULL)
        diag_fatal(from, "cannot read %s: %s", path, strerror(errno));
    program *p = parse_program(path, src, len);
    for (int i = 0; i < p->ninclude_refs; i++) {
        const struct include_ref *ref = &p->include_refs[i];
        const char *found = find_include(o, path, ref->path);
        if (found == NULL)
            diag_fatal(ref->pos, "cannot find included file '%s'", ref->path);
        program *inc = load(o, found, ref->pos, depth + 1);
        *(program **)xpush(&p->includes, &p->nincludes, sizeof(program *)) = inc;
    }
    /* Included programs are checked first: their types must be resolved before ours. */
    if (check_program(p) != 0) {
        arena_free_all();
        exit(1);
    }
    *(program **)xpush(&loaded, &nloaded, sizeof(program *)) = p;
    return p;
}

static void usage(void)
{
    fprintf(stderr, "usage: thriftc [-o OUTDIR] [-I INCDIR]... FILE.thrift\n");
    exit(2);
}

static void parse_args(int argc, char **argv, options *o)
{
    o->outdir = ".";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            o->outdir = argv[++i];
        else if (strcmp(argv[i], "-I") == 0 && i + 1 < argc && o->ninclude_dirs < INCLUDE_DIRS_MAX)
            o->include_dirs[o->ninclude_dirs++] = argv[++i];
        else if (argv[i][0] != '-' && o->input == NULL)
            o->input = argv[i];
        else
            usage();
    }
    if (o->input == NULL)
        usage();
}

/* "idl/kvstore.thrift" for ../idl/kvstore.thrift: the last directory and the file name. */
static const char *source_name(const char *path)
{
    const char *last = strrchr(path, '/');
    if (last == NULL)
        return path;
    const char *prev = last;
    while (prev > path && prev[-1] != '/')
        prev--;
    return prev;
}

int main(int argc, char **argv)
{
    options o = {0};
    parse_args(argc, argv, &o);
    program *p = load(&o, o.input, (srcpos){.file = "thriftc"}, 0);
    int rc = emit_program(p, o.outdir, source_name(o.input)) == 0 ? 0 : 1;
    arena_free_all();
    return rc;
}
