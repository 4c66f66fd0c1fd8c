/* ast.h: the parsed IDL: programs, declarations, fields, types and constant values. */
#ifndef CODEGEN_AST_H
#define CODEGEN_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

enum type_kind {
    TK_VOID,
    TK_BOOL,
    TK_I8,
    TK_I16,
    TK_I32,
    TK_I64,
    TK_DOUBLE,
    TK_STRING,
    TK_BINARY,
    TK_LIST,
    TK_SET,
    TK_MAP,
    TK_NAMED, /* a typedef, enum, struct, union or exception, resolved by check.c */
};

typedef struct decl decl;

typedef struct type {
    enum type_kind kind;
    struct type *elem; /* list and set element; map value */
    struct type *key;  /* map key */
    const char *name;  /* TK_NAMED: as written, maybe "include.Name" */
    decl *decl;        /* TK_NAMED: set by check.c */
    srcpos pos;
} type;

enum value_kind { VK_INT, VK_DOUBLE, VK_STRING, VK_IDENT, VK_LIST, VK_MAP };

typedef struct value {
    enum value_kind kind;
    int64_t i;
    double d;
    const char *s;       /* VK_STRING (unescaped bytes), VK_IDENT */
    size_t s_len;
    struct value **items; /* VK_LIST; VK_MAP: key, value, key, value... */
    int count;
    srcpos pos;
} value;

enum requiredness { REQ_DEFAULT, REQ_REQUIRED, REQ_OPTIONAL };

typedef struct field {
    int id;
    const char *name;
    type *type;
    enum requiredness req;
    value *def;
    srcpos pos;
} field;

typedef struct enum_value {
    const char *name;
    int64_t value;
    srcpos pos;
} enum_value;

typedef struct method {
    const char *name;
    type *ret; /* TK_VOID for void */
    bool oneway;
    field *args;
    int nargs;
    field *throws;
    int nthrows;
    decl *args_struct, *result_struct; /* made by check.c */
    srcpos pos;
} method;

enum decl_kind { D_TYPEDEF, D_CONST, D_ENUM, D_STRUCT, D_UNION, D_EXCEPTION, D_SERVICE };

typedef struct program program;

struct decl {
    enum decl_kind kind;
    const char *name;
    srcpos pos;
    program *prog;
    type *type;   /* D_TYPEDEF target, D_CONST type */
    value *value; /* D_CONST */
    enum_value *values;
    int nvalues;
    field *fields;
    int nfields;
    method *methods;
    int nmethods;
    const char *extends; /* D_SERVICE: as written */
    srcpos extends_pos;
    decl *parent;      /* D_SERVICE: resolved */
    bool synthetic;    /* args/result structs made for a service */
    int visit;         /* check.c's cycle and order marks */
};

struct program {
    const char *path; /* as opened */
    const char *base; /* file name without directory and ".thrift" */
    decl **decls;
    int ndecls;
    program **includes; /* in the order of include_refs */
    int nincludes;
    struct include_ref {
        const char *path; /* as written */
        srcpos pos;
    } *include_refs;
    int ninclude_refs;
    decl **order; /* structs, unions, exceptions and service structs, dependencies first */
    int norder;
};

bool decl_is_struct_like(const decl *d);
/* Follows typedefs to the type that decides the C and wire representation. */
const type *type_resolve(const type *t);
bool type_is_base(const type *t);
decl *program_find(const program *p, const char *name);
const char *decl_kind_name(enum decl_kind kind);

#endif
