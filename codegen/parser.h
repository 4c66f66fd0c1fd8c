/* parser.h: recursive-descent parser from IDL text to a program (names still unresolved). */
#ifndef CODEGEN_PARSER_H
#define CODEGEN_PARSER_H

#include <stddef.h>

#include "ast.h"

/* Parses src (NUL-terminated, len bytes) read from path; syntax errors are fatal. */
program *parse_program(const char *path, const char *src, size_t len);

#endif
