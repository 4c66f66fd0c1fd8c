/* check.h: name resolution and the semantic checks that run before emitting. */
#ifndef CODEGEN_CHECK_H
#define CODEGEN_CHECK_H

#include "ast.h"

/* Resolves p (its includes already checked), adds each method's args and result structs
 * and fills p->order. Reports every error found; returns how many. */
int check_program(program *p);

#endif
