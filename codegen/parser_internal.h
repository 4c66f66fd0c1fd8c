/* parser_internal.h: the parser state and helpers shared by parser.c and parser_decl.c. */
#ifndef CODEGEN_PARSER_INTERNAL_H
#define CODEGEN_PARSER_INTERNAL_H

#include <stdbool.h>

#include "ast.h"
#include "lexer.h"

typedef struct parser {
    lexer lx;
    token tok; /* the current, not yet consumed token */
    program *prog;
} parser;

void next(parser *ps);
bool is_punct(const parser *ps, char c);
bool is_word(const parser *ps, const char *word);
bool accept_punct(parser *ps, char c);
void expect_punct(parser *ps, char c);
/* Skips an optional ',' or ';' list separator. */
void skip_separator(parser *ps);
/* A name that is not a keyword; dotted names allowed. */
const char *expect_ident(parser *ps, const char *what);
/* A name that is not a keyword and has no '.'. */
const char *expect_plain_ident(parser *ps, const char *what);
void skip_annotations(parser *ps);
type *parse_type(parser *ps);
value *parse_value(parser *ps);
/* Fields up to and including the closing character. */
void parse_field_list(parser *ps, char close, field **fields, int *count);

#endif
