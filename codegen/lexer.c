/* lexer.c: the Thrift IDL tokenizer. */
#include "lexer.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void lexer_init(lexer *lx, const char *file, const char *src, size_t len)
{
    lx->src = src;
    lx->p = src;
    lx->end = src + len;
    lx->pos = (srcpos){.file = file, .line = 1, .col = 1};
}

static int peek(const lexer *lx, size_t ahead)
{
    return lx->p + ahead < lx->end ? (unsigned char)lx->p[ahead] : -1;
}

static void advance(lexer *lx)
{
    if (*lx->p == '\n') {
        lx->pos.line++;
        lx->pos.col = 1;
    } else {
        lx->pos.col++;
    }
    lx->p++;
}

static void skip_space_and_comments(lexer *lx)
{
    for (;;) {
        int c = peek(lx, 0);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            advance(lx);
        } else if (c == '#' || (c == '/' && peek(lx, 1) == '/')) {
            while (peek(lx, 0) != -1 && peek(lx, 0) != '\n')
                advance(lx);
        } else if (c == '/' && peek(lx, 1) == '*') {
            srcpos start = lx->pos;
            advance(lx);
            advance(lx);
            while (!(peek(lx, 0) == '*' && peek(lx, 1) == '/')) {
                if (peek(lx, 0) == -1)
                    diag_fatal(start, "unterminated comment");
                advance(lx);
            }
            advance(lx);
            advance(lx);
        } else {
            return;
        }
    }
}

static token lex_string(lexer *lx, token t)
{
    int quote = peek(lx, 0);
    advance(lx);
    char *buf = xcalloc((size_t)(lx->end - lx->p) + 1, 1);
    size_t n = 0;
    for (;;) {
        int c = peek(lx, 0);
        if (c == -1 || c == '\n')
            diag_fatal(t.pos, "unterminated string");
        advance(lx);
        if (c == quote)
            break;
        if (c == '\\') {
            int e = peek(lx, 0);
            if (e == -1)
                diag_fatal(t.pos, "unterminated string");
            advance(lx);
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == '0' ? '\0' : e;
        }
        buf[n++] = (char)c;
    }
    t.kind = TOK_STRING;
    t.text = buf;
    t.len = n;
    return t;
}

static token lex_number(lexer *lx, token t)
{
    const char *start = lx->p;
    char *stop;
    errno = 0;
    bool hex = (peek(lx, 0) == '0' && (peek(lx, 1) == 'x' || peek(lx, 1) == 'X')) ||
               ((peek(lx, 0) == '-' || peek(lx, 0) == '+') && peek(lx, 1) == '0' &&
                (peek(lx, 2) == 'x' || peek(lx, 2) == 'X'));
    long long i = strtoll(start, &stop, hex ? 16 : 10);
    bool is_double = !hex && stop < lx->end && (*stop == '.' || *stop == 'e' || *stop == 'E');
    if (is_double) {
        errno = 0;
        t.d = strtod(start, &stop);
        t.kind = TOK_DOUBLE;
    } else {
        t.i = i;
        t.kind = TOK_INT;
    }
    if (stop == start || errno == ERANGE)
        diag_fatal(t.pos, "bad number");
    t.text = xstrndup(start, (size_t)(stop - start));
    t.len = (size_t)(stop - start);
    while (lx->p < stop)
        advance(lx);
    if (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
        diag_fatal(lx->pos, "unexpected character '%c' after number", *lx->p);
    return t;
}

token lexer_next(lexer *lx)
{
    skip_space_and_comments(lx);
    token t = {.kind = TOK_EOF, .text = "end of file", .pos = lx->pos};
    int c = peek(lx, 0);
    if (c == -1)
        return t;
    if (c == '"' || c == '\'')
        return lex_string(lx, t);
    if (isdigit(c) || ((c == '-' || c == '+') && peek(lx, 1) != -1 && isdigit(peek(lx, 1))))
        return lex_number(lx, t);
    if (isalpha(c) || c == '_') {
        const char *start = lx->p;
        while (peek(lx, 0) != -1 &&
               (isalnum(peek(lx, 0)) || peek(lx, 0) == '_' || peek(lx, 0) == '.'))
            advance(lx);
        t.kind = TOK_IDENT;
        t.len = (size_t)(lx->p - start);
        t.text = xstrndup(start, t.len);
        return t;
    }
    if (strchr("{}()<>[],;:=*", c) != NULL && c != 0) {
        t.kind = TOK_PUNCT;
        t.text = xstrndup(lx->p, 1);
        t.len = 1;
        advance(lx);
        return t;
    }
    diag_fatal(t.pos, "unexpected character '%c'", c);
}
