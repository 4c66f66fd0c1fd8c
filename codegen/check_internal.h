/* check_internal.h: helpers shared by the files of the checker. */
#ifndef CODEGEN_CHECK_INTERNAL_H
#define CODEGEN_CHECK_INTERNAL_H

#include "ast.h"

void check_c_name(const char *name, srcpos pos);
/* Finds "Name" in p or "include.Name" in one of p's includes; NULL if absent. */
decl *check_lookup(program *p, const char *name);
void check_type(program *p, type *t);
void check_fields(program *p, field *fields, int n, enum decl_kind kind);
/* Checks v against t; rewrites references to constants and enum values in place. */
void check_value(program *p, const type *t, value *v);
void check_const(program *p, decl *d);
void check_service(program *p, decl *d);

#endif
