/* emit.h: the C emitter: shared naming rules and the entry points of each emitter file. */
#ifndef CODEGEN_EMIT_H
#define CODEGEN_EMIT_H

#include <stdio.h>

#include "ast.h"

typedef struct emitter {
    FILE *h, *c;
    program *p;
    const char *source_name; /* e.g. "idl/kvstore.thrift", for the generated-by line */
    const type **containers; /* every container type the program uses, inner ones first */
    int ncontainers;
} emitter;

/* Writes base.h and base.c for p into outdir; 0 or -1 (with a message) on I/O failure. */
int emit_program(program *p, const char *outdir, const char *source_name);

/* Naming (emit_names.c). Returned strings live in the arena. */
char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
const char *c_type(const type *t);      /* int32_t, tp_bytes, KeyValue, list_KeyValue... */
const char *wire_type(const type *t);   /* TP_T_I32... */
const char *mangle(const type *t);      /* i32, KeyValue, list_KeyValue, map_string_i64 */
bool is_container(const type *t);
bool is_struct(const type *t);
bool is_enum(const type *t);
void collect_containers(emitter *e);

/* Value-level code (emit_value.c): statements at indent that act on the lvalue expr. The
 * surrounding function has `int rc`, `tp_buf *b` (write) or `tp_reader *r` (read). */
void emit_write_value(FILE *f, int indent, const type *t, const char *expr);
/* Sets rc. */
void emit_read_value(FILE *f, int indent, const type *t, const char *expr);
void emit_free_value(FILE *f, int indent, const type *t, const char *expr);
/* Frees expr only when the reader `r` has no arena (arena memory is never freed piecemeal). */
void emit_free_value_unless_arena(FILE *f, int indent, const type *t, const char *expr);
/* Initializes struct lvalue expr of type t before reading into it: Foo_init, or with the
 * reader's arena Foo_init_arena. */
void emit_init_for_read(FILE *f, int indent, const type *t, const char *expr);
bool needs_free(const type *t);
const char *equal_expr(const type *t, const char *a, const char *b);
/* A C literal for a checked constant value of a base or enum type. */
const char *literal(const type *t, const value *v);

void emit_enums(emitter *e);
void emit_consts(emitter *e);
void emit_typedefs(emitter *e);
/* Types in the header and helper prototypes in the source; then the helpers. */
void emit_containers(emitter *e);
void emit_container_functions(emitter *e);
void emit_struct_decls(emitter *e);
void emit_struct_functions(emitter *e, const decl *d);
/* String and container defaults: malloc'ed when arena is NULL, else from the arena named. */
void emit_struct_init(emitter *e, const decl *d, const char *arena);
void emit_services(emitter *e);

#endif
