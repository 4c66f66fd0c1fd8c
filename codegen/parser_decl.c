/* parser_decl.c: the IDL grammar of headers and definitions, and parse_program. */
#include <string.h>

#include "parser.h"
#include "parser_internal.h"

static decl *new_decl(parser *ps, enum decl_kind kind, srcpos pos)
{
    decl *d = xcalloc(1, sizeof *d);
    d->kind = kind;
    d->pos = pos;
    d->prog = ps->prog;
    *(decl **)xpush(&ps->prog->decls, &ps->prog->ndecls, sizeof(decl *)) = d;
    return d;
}

static void parse_enum(parser *ps, decl *d)
{
    int64_t next_value = 0;
    expect_punct(ps, '{');
    while (!accept_punct(ps, '}')) {
        enum_value *ev = xpush(&d->values, &d->nvalues, sizeof(enum_value));
        ev->pos = ps->tok.pos;
        ev->name = expect_plain_ident(ps, "an enum value name");
        if (accept_punct(ps, '=')) {
            if (ps->tok.kind != TOK_INT)
                diag_fatal(ps->tok.pos, "expected an integer but found '%s'", ps->tok.text);
            next_value = ps->tok.i;
            next(ps);
        }
        if (next_value < INT32_MIN || next_value > INT32_MAX)
            diag_fatal(ev->pos, "enum value %s out of the i32 range", ev->name);
        ev->value = next_value++;
        skip_annotations(ps);
        skip_separator(ps);
    }
}

/* function := [oneway] (type | void) name '(' fields ')' [throws '(' fields ')'] */
static void parse_method(parser *ps, method *m)
{
    m->pos = ps->tok.pos;
    if (is_word(ps, "oneway") || is_word(ps, "async")) {
        m->oneway = true;
        next(ps);
    }
    if (is_word(ps, "void")) {
        m->ret = xcalloc(1, sizeof *m->ret);
        m->ret->kind = TK_VOID;
        m->ret->pos = ps->tok.pos;
        next(ps);
    } else {
        m->ret = parse_type(ps);
    }
    m->name = expect_plain_ident(ps, "a method name");
    expect_punct(ps, '(');
    parse_field_list(ps, ')', &m->args, &m->nargs);
    if (is_word(ps, "throws")) {
        next(ps);
        expect_punct(ps, '(');
        parse_field_list(ps, ')', &m->throws, &m->nthrows);
    }
    skip_annotations(ps);
    skip_separator(ps);
}

static void parse_service(parser *ps, decl *d)
{
    if (is_word(ps, "extends")) {
        next(ps);
        d->extends_pos = ps->tok.pos;
        d->extends = expect_ident(ps, "a service name");
    }
    expect_punct(ps, '{');
    while (!accept_punct(ps, '}')) {
        if (ps->tok.kind == TOK_EOF)
            diag_fatal(ps->tok.pos, "expected '}' but found end of file");
        parse_method(ps, xpush(&d->methods, &d->nmethods, sizeof(method)));
    }
}

static const struct {
    const char *word;
    enum decl_kind kind;
} decl_words[] = {
    {"const", D_CONST},   {"typedef", D_TYPEDEF},     {"enum", D_ENUM},
    {"struct", D_STRUCT}, {"union", D_UNION},         {"exception", D_EXCEPTION},
    {"service", D_SERVICE},
};

static void parse_definition(parser *ps)
{
    srcpos pos = ps->tok.pos;
    for (size_t i = 0; i < sizeof decl_words / sizeof decl_words[0]; i++) {
        if (!is_word(ps, decl_words[i].word))
            continue;
        next(ps);
        decl *d = new_decl(ps, decl_words[i].kind, pos);
        if (d->kind == D_CONST || d->kind == D_TYPEDEF)
            d->type = parse_type(ps);
        d->name = expect_plain_ident(ps, "a name");
        if (d->kind == D_CONST) {
            expect_punct(ps, '=');
            d->value = parse_value(ps);
        } else if (d->kind == D_ENUM) {
            parse_enum(ps, d);
        } else if (d->kind == D_SERVICE) {
            parse_service(ps, d);
        } else if (d->kind != D_TYPEDEF) {
            expect_punct(ps, '{');
            parse_field_list(ps, '}', &d->fields, &d->nfields);
        }
        skip_annotations(ps);
        skip_separator(ps);
        return;
    }
    diag_fatal(pos, "expected a definition but found '%s'", ps->tok.text);
}

/* header := include STRING | cpp_include STRING | namespace SCOPE NAME */
static bool parse_header(parser *ps)
{
    srcpos pos = ps->tok.pos;
    if (is_word(ps, "include") || is_word(ps, "cpp_include")) {
        bool ours = is_word(ps, "include");
        next(ps);
        if (ps->tok.kind != TOK_STRING)
            diag_fatal(ps->tok.pos, "expected a file name string but found '%s'", ps->tok.text);
        if (ours) {
            struct include_ref *ref = xpush(&ps->prog->include_refs, &ps->prog->ninclude_refs,
                                            sizeof(struct include_ref));
            ref->path = ps->tok.text;
            ref->pos = pos;
        }
        next(ps);
    } else if (is_word(ps, "namespace")) {
        next(ps);
        if (!accept_punct(ps, '*') && ps->tok.kind == TOK_IDENT)
            next(ps);
        else if (ps->tok.kind != TOK_IDENT)
            diag_fatal(ps->tok.pos, "expected a namespace scope but found '%s'", ps->tok.text);
        if (ps->tok.kind != TOK_IDENT)
            diag_fatal(ps->tok.pos, "expected a namespace but found '%s'", ps->tok.text);
        next(ps);
    } else {
        return false;
    }
    skip_annotations(ps);
    skip_separator(ps);
    return true;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    size_t len = strlen(name);
    if (len > 7 && strcmp(name + len - 7, ".thrift") == 0)
        len -= 7;
    return xstrndup(name, len);
}

program *parse_program(const char *path, const char *src, size_t len)
{
    parser ps = {.prog = xcalloc(1, sizeof(program))};
    ps.prog->path = path;
    ps.prog->base = base_name(path);
    lexer_init(&ps.lx, path, src, len);
    next(&ps);
    while (parse_header(&ps))
        ;
    while (ps.tok.kind != TOK_EOF)
        parse_definition(&ps);
    return ps.prog;
}
