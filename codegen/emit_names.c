/* emit_names.c: how IDL types are named in C and on the wire. */
#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "emit.h"

char *fmt(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    assert(n >= 0);
    char *s = xcalloc((size_t)n + 1, 1);
    va_start(ap, format);
    vsnprintf(s, (size_t)n + 1, format, ap);
    va_end(ap);
    return s;
}

bool is_container(const type *t)
{
    t = type_resolve(t);
    return t->kind == TK_LIST || t->kind == TK_SET || t->kind == TK_MAP;
}

bool is_struct(const type *t)
{
    t = type_resolve(t);
    return t->kind == TK_NAMED && decl_is_struct_like(t->decl);
}

bool is_enum(const type *t)
{
    t = type_resolve(t);
    return t->kind == TK_NAMED && t->decl->kind == D_ENUM;
}

static const char *const base_mangled[] = {
    [TK_BOOL] = "bool", [TK_I8] = "i8",         [TK_I16] = "i16",       [TK_I32] = "i32",
    [TK_I64] = "i64",   [TK_DOUBLE] = "double", [TK_STRING] = "string", [TK_BINARY] = "binary",
};

const char *mangle(const type *t)
{
    t = type_resolve(t);
    switch (t->kind) {
    case TK_LIST:
        return fmt("list_%s", mangle(t->elem));
    case TK_SET:
        return fmt("set_%s", mangle(t->elem));
    case TK_MAP:
        return fmt("map_%s_%s", mangle(t->key), mangle(t->elem));
    case TK_NAMED:
        return t->decl->name;
    case TK_VOID:
        assert(0 && "void has no name");
        return "void";
    default:
        return base_mangled[t->kind];
    }
}

static const char *const base_c[] = {
    [TK_BOOL] = "bool",     [TK_I8] = "int8_t",     [TK_I16] = "int16_t",
    [TK_I32] = "int32_t",   [TK_I64] = "int64_t",   [TK_DOUBLE] = "double",
    [TK_STRING] = "tp_bytes", [TK_BINARY] = "tp_bytes",
};

const char *c_type(const type *t)
{
    t = type_resolve(t);
    switch (t->kind) {
    case TK_LIST:
    case TK_SET:
        /* Containers of base types are named tp_list_i32 and so on; the rest list_Foo. */
        return type_is_base(t->elem) ? fmt("tp_%s", mangle(t)) : mangle(t);
    case TK_MAP:
        return type_is_base(t->key) && type_is_base(t->elem) ? fmt("tp_%s", mangle(t))
                                                             : mangle(t);
    case TK_NAMED:
        return t->decl->name;
    case TK_VOID:
        return "void";
    default:
        return base_c[t->kind];
    }
}

static const char *const base_wire[] = {
    [TK_BOOL] = "TP_T_BOOL", [TK_I8] = "TP_T_BYTE",     [TK_I16] = "TP_T_I16",
    [TK_I32] = "TP_T_I32",   [TK_I64] = "TP_T_I64",     [TK_DOUBLE] = "TP_T_DOUBLE",
    [TK_STRING] = "TP_T_STRING", [TK_BINARY] = "TP_T_STRING", [TK_LIST] = "TP_T_LIST",
    [TK_SET] = "TP_T_SET",   [TK_MAP] = "TP_T_MAP",
};

const char *wire_type(const type *t)
{
    t = type_resolve(t);
    if (t->kind == TK_NAMED)
        return t->decl->kind == D_ENUM ? "TP_T_I32" : "TP_T_STRUCT";
    assert(t->kind != TK_VOID);
    return base_wire[t->kind];
}

static void add_container(emitter *e, const type *t)
{
    t = type_resolve(t);
    if (!is_container(t))
        return;
    if (t->kind == TK_MAP)
        add_container(e, t->key);
    add_container(e, t->elem);
    const char *name = mangle(t);
    for (int i = 0; i < e->ncontainers; i++)
        if (strcmp(mangle(e->containers[i]), name) == 0)
            return;
    *(const type **)xpush(&e->containers, &e->ncontainers, sizeof(type *)) = t;
}

void collect_containers(emitter *e)
{
    for (int i = 0; i < e->p->ndecls; i++) {
        const decl *d = e->p->decls[i];
        for (int j = 0; j < d->nfields; j++)
            add_container(e, d->fields[j].type);
        if (d->kind == D_TYPEDEF)
            add_container(e, d->type);
    }
}
