/* lexer.h: splits Thrift IDL text into tokens, skipping //, # and block comments. */
#ifndef CODEGEN_LEXER_H
#define CODEGEN_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum token_kind {
    TOK_EOF,
    TOK_IDENT,  /* names, keywords and dotted names such as Consistency.LINEARIZABLE */
    TOK_INT,
    TOK_DOUBLE,
    TOK_STRING, /* text holds the unescaped bytes */
    TOK_PUNCT,  /* one of { } ( ) < > [ ] , ; : = * */
};

typedef struct token {
    enum token_kind kind;
    const char *text; /* NUL-terminated; TOK_PUNCT: the character */
    size_t len;
    int64_t i;
    double d;
    srcpos pos;
} token;

typedef struct lexer {
    const char *src, *p, *end;
    srcpos pos;
} lexer;

void lexer_init(lexer *lx, const char *file, const char *src, size_t len);
/* Returns the next token; a malformed one is a fatal error. */
token lexer_next(lexer *lx);

#endif
