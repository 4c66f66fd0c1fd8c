/* emit_types.c: enums, constants, typedefs, container types and their static helpers. */
#include <string.h>

#include "emit.h"

void emit_enums(emitter *e)
{
    for (int i = 0; i < e->p->ndecls; i++) {
        const decl *d = e->p->decls[i];
        if (d->kind != D_ENUM)
            continue;
        fprintf(e->h, "typedef enum %s {\n", d->name);
        for (int j = 0; j < d->nvalues; j++)
            fprintf(e->h, "    %s_%s = %lld,\n", d->name, d->values[j].name,
                    (long long)d->values[j].value);
        fprintf(e->h, "} %s;\n", d->name);
        fprintf(e->h, "/* The value's name, or NULL for a value the IDL does not define. */\n");
        fprintf(e->h, "const char *%s_name(int value);\n\n", d->name);

        fprintf(e->c, "_Static_assert(sizeof(%s) == sizeof(int32_t), \"enums are i32\");\n\n",
                d->name);
        fprintf(e->c, "const char *%s_name(int value)\n{\n    switch (value) {\n", d->name);
        for (int j = 0; j < d->nvalues; j++)
            fprintf(e->c, "    case %s_%s:\n        return \"%s\";\n", d->name,
                    d->values[j].name, d->values[j].name);
        fprintf(e->c, "    default:\n        return NULL;\n    }\n}\n\n");
    }
}

void emit_consts(emitter *e)
{
    for (int i = 0; i < e->p->ndecls; i++) {
        const decl *d = e->p->decls[i];
        if (d->kind == D_CONST)
            fprintf(e->h, "#define %s (%s)\n", d->name, literal(d->type, d->value));
    }
    fprintf(e->h, "\n");
}

/* C typedefs for IDL typedefs, after every type they may name. */
void emit_typedefs(emitter *e)
{
    for (int i = 0; i < e->p->ndecls; i++) {
        const decl *d = e->p->decls[i];
        if (d->kind == D_TYPEDEF)
            fprintf(e->h, "typedef %s %s;\n", c_type(d->type), d->name);
    }
    fprintf(e->h, "\n");
}

static void emit_container_type(emitter *e, const type *t)
{
    const char *name = c_type(t);
    /* Guarded: two IDL files that include each other may both use list<i32>. */
    fprintf(e->h, "#ifndef TP_HAVE_%s\n#define TP_HAVE_%s\n", name, name);
    const char *elem = is_struct(t->elem) ? fmt("struct %s", c_type(t->elem)) : c_type(t->elem);
    if (t->kind == TK_MAP) {
        const char *key = is_struct(t->key) ? fmt("struct %s", c_type(t->key)) : c_type(t->key);
        fprintf(e->h, "typedef struct %s {\n    %s *keys;\n    %s *values;\n", name, key, elem);
    } else {
        fprintf(e->h, "typedef struct %s {\n    %s *items;\n", name, elem);
    }
    fprintf(e->h, "    uint32_t count;\n} %s;\n#endif\n\n", name);
}

static void emit_container_free(emitter *e, const type *t)
{
    const char *name = c_type(t), *m = mangle(t);
    fprintf(e->c, "TPC_HELPER void tpc_free_%s(%s *v)\n{\n", m, name);
    bool map = t->kind == TK_MAP;
    if (needs_free(t->elem) || (map && needs_free(t->key))) {
        fprintf(e->c, "    for (uint32_t i = 0; i < v->count; i++) {\n");
        if (map)
            emit_free_value(e->c, 2, t->key, "v->keys[i]");
        emit_free_value(e->c, 2, t->elem, map ? "v->values[i]" : "v->items[i]");
        fprintf(e->c, "    }\n");
    }
    if (map)
        fprintf(e->c, "    free(v->keys);\n    free(v->values);\n"
                      "    v->keys = NULL;\n    v->values = NULL;\n");
    else
        fprintf(e->c, "    free(v->items);\n    v->items = NULL;\n");
    fprintf(e->c, "    v->count = 0;\n}\n\n");
}

static void emit_container_write(emitter *e, const type *t)
{
    const char *m = mangle(t);
    bool map = t->kind == TK_MAP;
    fprintf(e->c, "TPC_HELPER int tpc_write_%s(const %s *v, tp_buf *b)\n{\n", m, c_type(t));
    fprintf(e->c, "    int rc = 0;\n    (void)rc;\n");
    if (map)
        fprintf(e->c, "    tp_write_map_begin(b, %s, %s, v->count);\n", wire_type(t->key),
                wire_type(t->elem));
    else
        fprintf(e->c, "    tp_write_list_begin(b, %s, v->count);\n", wire_type(t->elem));
    fprintf(e->c, "    for (uint32_t i = 0; i < v->count; i++) {\n");
    if (map)
        emit_write_value(e->c, 2, t->key, "v->keys[i]");
    emit_write_value(e->c, 2, t->elem, map ? "v->values[i]" : "v->items[i]");
    fprintf(e->c, "    }\n    return 0;\n}\n\n");
}

/* Reads one element; on failure frees what the element holds and returns. */
static void emit_element_read(emitter *e, const type *t, const char *expr)
{
    if (is_struct(t))
        emit_init_for_read(e->c, 2, t, expr);
    emit_read_value(e->c, 2, t, expr);
    fprintf(e->c, "        if (rc != 0) {\n");
    emit_free_value_unless_arena(e->c, 3, t, expr);
    fprintf(e->c, "            return rc;\n        }\n");
}

/* Drops what v held; with an arena by forgetting it, as arena memory is never freed alone. */
static void emit_container_drop(emitter *e, const type *t)
{
    const char *m = mangle(t);
    fprintf(e->c, "    if (r->arena == NULL)\n        tpc_free_%s(v);\n"
                  "    else\n        memset(v, 0, sizeof *v);\n", m);
}

static void emit_container_read(emitter *e, const type *t)
{
    const char *m = mangle(t);
    bool map = t->kind == TK_MAP;
    fprintf(e->c, "TPC_HELPER int tpc_read_%s(%s *v, tp_reader *r)\n{\n", m, c_type(t));
    fprintf(e->c, "    uint32_t n;\n    int rc;\n");
    emit_container_drop(e, t);
    fprintf(e->c, "    if ((rc = tp_reader_enter(r)) != 0)\n        return rc;\n");
    if (map)
        fprintf(e->c, "    if ((rc = tp_read_map_begin(r, %s, %s, &n)) != 0)\n        return rc;\n",
                wire_type(t->key), wire_type(t->elem));
    else
        fprintf(e->c, "    if ((rc = tp_read_list_begin(r, %s, &n)) != 0)\n        return rc;\n",
                wire_type(t->elem));
    fprintf(e->c, "    if (n > 0) {\n");
    if (map)
        fprintf(e->c, "        v->keys = tp_reader_array(r, n, sizeof *v->keys);\n"
                      "        v->values = tp_reader_array(r, n, sizeof *v->values);\n"
                      "        if (v->keys == NULL || v->values == NULL)\n"
                      "            return TP_ERR_NOMEM;\n");
    else
        fprintf(e->c, "        v->items = tp_reader_array(r, n, sizeof *v->items);\n"
                      "        if (v->items == NULL)\n            return TP_ERR_NOMEM;\n");
    fprintf(e->c, "    }\n    for (uint32_t i = 0; i < n; i++) {\n");
    if (map) {
        emit_element_read(e, t->key, "v->keys[i]");
        if (is_struct(t->elem))
            emit_init_for_read(e->c, 2, t->elem, "v->values[i]");
        emit_read_value(e->c, 2, t->elem, "v->values[i]");
        fprintf(e->c, "        if (rc != 0) {\n");
        emit_free_value_unless_arena(e->c, 3, t->elem, "v->values[i]");
        emit_free_value_unless_arena(e->c, 3, t->key, "v->keys[i]");
        fprintf(e->c, "            return rc;\n        }\n");
    } else {
        emit_element_read(e, t->elem, "v->items[i]");
    }
    fprintf(e->c, "        v->count = i + 1;\n    }\n    tp_reader_leave(r);\n    return 0;\n}\n\n");
}

static void emit_container_equal(emitter *e, const type *t)
{
    const char *m = mangle(t);
    bool map = t->kind == TK_MAP;
    fprintf(e->c, "TPC_HELPER bool tpc_equal_%s(const %s *a, const %s *b)\n{\n", m, c_type(t),
            c_type(t));
    fprintf(e->c, "    if (a->count != b->count)\n        return false;\n");
    fprintf(e->c, "    for (uint32_t i = 0; i < a->count; i++) {\n");
    if (map)
        fprintf(e->c, "        if (!%s)\n            return false;\n",
                equal_expr(t->key, "a->keys[i]", "b->keys[i]"));
    fprintf(e->c, "        if (!%s)\n            return false;\n",
            equal_expr(t->elem, map ? "a->values[i]" : "a->items[i]",
                       map ? "b->values[i]" : "b->items[i]"));
    fprintf(e->c, "    }\n    return true;\n}\n\n");
}

void emit_containers(emitter *e)
{
    fprintf(e->c, "/* Helpers for container types; not every file uses every one. */\n"
                  "#define TPC_HELPER static __attribute__((unused))\n\n");
    for (int i = 0; i < e->ncontainers; i++) {
        emit_container_type(e, e->containers[i]);
        fprintf(e->c, "TPC_HELPER void tpc_free_%s(%s *v);\n", mangle(e->containers[i]),
                c_type(e->containers[i]));
        fprintf(e->c, "TPC_HELPER int tpc_write_%s(const %s *v, tp_buf *b);\n",
                mangle(e->containers[i]), c_type(e->containers[i]));
        fprintf(e->c, "TPC_HELPER int tpc_read_%s(%s *v, tp_reader *r);\n",
                mangle(e->containers[i]), c_type(e->containers[i]));
        fprintf(e->c, "TPC_HELPER bool tpc_equal_%s(const %s *a, const %s *b);\n",
                mangle(e->containers[i]), c_type(e->containers[i]), c_type(e->containers[i]));
    }
    fprintf(e->c, "\n");
}

void emit_container_functions(emitter *e)
{
    for (int i = 0; i < e->ncontainers; i++) {
        emit_container_free(e, e->containers[i]);
        emit_container_write(e, e->containers[i]);
        emit_container_read(e, e->containers[i]);
        emit_container_equal(e, e->containers[i]);
    }
}
