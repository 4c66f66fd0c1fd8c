/* parser.c: the IDL grammar below definitions: tokens, types, constant values, fields. */
#include "parser.h"

#include <string.h>

#include "parser_internal.h"

void next(parser *ps) { ps->tok = lexer_next(&ps->lx); }

bool is_punct(const parser *ps, char c)
{
    return ps->tok.kind == TOK_PUNCT && ps->tok.text[0] == c;
}

bool is_word(const parser *ps, const char *word)
{
    return ps->tok.kind == TOK_IDENT && strcmp(ps->tok.text, word) == 0;
}

bool accept_punct(parser *ps, char c)
{
    if (!is_punct(ps, c))
        return false;
    next(ps);
    return true;
}

void expect_punct(parser *ps, char c)
{
    if (!accept_punct(ps, c))
        diag_fatal(ps->tok.pos, "expected '%c' but found '%s'", c, ps->tok.text);
}

void skip_separator(parser *ps)
{
    if (!accept_punct(ps, ','))
        accept_punct(ps, ';');
}

static const char *const reserved_words[] = {
    "include", "namespace", "cpp_include", "const", "typedef", "enum", "struct", "union",
    "exception", "service", "extends", "oneway", "throws", "void", "required", "optional",
    "list", "set", "map", "bool", "byte", "i8", "i16", "i32", "i64", "double", "string",
    "binary", "senum", "slist", "async",
};

const char *expect_ident(parser *ps, const char *what)
{
    if (ps->tok.kind != TOK_IDENT)
        diag_fatal(ps->tok.pos, "expected %s but found '%s'", what, ps->tok.text);
    for (size_t i = 0; i < sizeof reserved_words / sizeof reserved_words[0]; i++)
        if (strcmp(ps->tok.text, reserved_words[i]) == 0)
            diag_fatal(ps->tok.pos, "expected %s but found keyword '%s'", what, ps->tok.text);
    const char *name = ps->tok.text;
    next(ps);
    return name;
}

const char *expect_plain_ident(parser *ps, const char *what)
{
    srcpos pos = ps->tok.pos;
    const char *name = expect_ident(ps, what);
    if (strchr(name, '.') != NULL)
        diag_fatal(pos, "%s '%s' must not contain '.'", what, name);
    return name;
}

static type *new_type(enum type_kind kind, srcpos pos)
{
    type *t = xcalloc(1, sizeof *t);
    t->kind = kind;
    t->pos = pos;
    return t;
}

static const struct {
    const char *name;
    enum type_kind kind;
} base_types[] = {
    {"bool", TK_BOOL},     {"byte", TK_I8},     {"i8", TK_I8},         {"i16", TK_I16},
    {"i32", TK_I32},       {"i64", TK_I64},     {"double", TK_DOUBLE}, {"string", TK_STRING},
    {"binary", TK_BINARY},
};

/* Skips Thrift annotations such as ( cpp.type = "x" ), which change nothing here. */
void skip_annotations(parser *ps)
{
    if (!is_punct(ps, '('))
        return;
    while (!accept_punct(ps, ')')) {
        if (ps->tok.kind == TOK_EOF)
            diag_fatal(ps->tok.pos, "unterminated annotation");
        next(ps);
    }
}

static type *parse_container(parser *ps, enum type_kind kind, srcpos pos)
{
    type *t = new_type(kind, pos);
    expect_punct(ps, '<');
    if (kind == TK_MAP) {
        t->key = parse_type(ps);
        expect_punct(ps, ',');
    }
    t->elem = parse_type(ps);
    expect_punct(ps, '>');
    return t;
}

type *parse_type(parser *ps)
{
    srcpos pos = ps->tok.pos;
    type *t = NULL;
    for (size_t i = 0; i < sizeof base_types / sizeof base_types[0]; i++)
        if (is_word(ps, base_types[i].name)) {
            next(ps);
            t = new_type(base_types[i].kind, pos);
        }
    if (t == NULL && is_word(ps, "list")) {
        next(ps);
        t = parse_container(ps, TK_LIST, pos);
    } else if (t == NULL && is_word(ps, "set")) {
        next(ps);
        t = parse_container(ps, TK_SET, pos);
    } else if (t == NULL && is_word(ps, "map")) {
        next(ps);
        t = parse_container(ps, TK_MAP, pos);
    } else if (t == NULL) {
        t = new_type(TK_NAMED, pos);
        t->name = expect_ident(ps, "a type");
    }
    skip_annotations(ps);
    return t;
}

value *parse_value(parser *ps)
{
    value *v = xcalloc(1, sizeof *v);
    v->pos = ps->tok.pos;
    if (ps->tok.kind == TOK_INT) {
        v->kind = VK_INT;
        v->i = ps->tok.i;
    } else if (ps->tok.kind == TOK_DOUBLE) {
        v->kind = VK_DOUBLE;
        v->d = ps->tok.d;
    } else if (ps->tok.kind == TOK_STRING) {
        v->kind = VK_STRING;
        v->s = ps->tok.text;
        v->s_len = ps->tok.len;
    } else if (ps->tok.kind == TOK_IDENT) {
        v->kind = VK_IDENT;
        v->s = ps->tok.text;
    } else if (accept_punct(ps, '[')) {
        v->kind = VK_LIST;
        while (!accept_punct(ps, ']')) {
            *(value **)xpush(&v->items, &v->count, sizeof(value *)) = parse_value(ps);
            skip_separator(ps);
        }
        return v;
    } else if (accept_punct(ps, '{')) {
        v->kind = VK_MAP;
        while (!accept_punct(ps, '}')) {
            *(value **)xpush(&v->items, &v->count, sizeof(value *)) = parse_value(ps);
            expect_punct(ps, ':');
            *(value **)xpush(&v->items, &v->count, sizeof(value *)) = parse_value(ps);
            skip_separator(ps);
        }
        return v;
    } else {
        diag_fatal(ps->tok.pos, "expected a value but found '%s'", ps->tok.text);
    }
    next(ps);
    return v;
}

/* field := id ':' [required|optional] type name ['=' value] [',' | ';'] */
static void parse_field(parser *ps, field *f)
{
    f->pos = ps->tok.pos;
    if (ps->tok.kind != TOK_INT)
        diag_fatal(ps->tok.pos, "missing field id before '%s'", ps->tok.text);
    if (ps->tok.i < INT16_MIN || ps->tok.i > INT16_MAX)
        diag_fatal(ps->tok.pos, "field id %s out of range", ps->tok.text);
    f->id = (int)ps->tok.i;
    next(ps);
    expect_punct(ps, ':');
    if (is_word(ps, "required")) {
        f->req = REQ_REQUIRED;
        next(ps);
    } else if (is_word(ps, "optional")) {
        f->req = REQ_OPTIONAL;
        next(ps);
    }
    f->type = parse_type(ps);
    f->name = expect_plain_ident(ps, "a field name");
    if (accept_punct(ps, '='))
        f->def = parse_value(ps);
    skip_annotations(ps);
    skip_separator(ps);
}

void parse_field_list(parser *ps, char close, field **fields, int *count)
{
    while (!accept_punct(ps, close)) {
        if (ps->tok.kind == TOK_EOF)
            diag_fatal(ps->tok.pos, "expected '%c' but found end of file", close);
        parse_field(ps, xpush(fields, count, sizeof(field)));
    }
}

