/* emit_defaults.c: default values that need memory: strings and containers of scalars. */
#include "emit.h"

/* Assigns the literal v to the lvalue expr of base or enum type t (at indent). */
static void emit_assign(emitter *e, int indent, const type *t, const char *expr, const value *v)
{
    if (needs_free(t))
        fprintf(e->c, "%*s(void)tp_bytes_set(&%s, %s, %zu);\n", indent * 4, "", expr,
                literal(t, v), v->s_len);
    else
        fprintf(e->c, "%*s%s = %s;\n", indent * 4, "", expr, literal(t, v));
}

static bool simple_element(const type *t)
{
    return !is_container(t) && !is_struct(t);
}

static void emit_container_default(emitter *e, const field *f)
{
    const type *t = type_resolve(f->type);
    bool map = t->kind == TK_MAP;
    if (!simple_element(t->elem) || (map && !simple_element(t->key))) {
        diag_error(f->def->pos, "default values of nested containers are not supported");
        return;
    }
    int n = map ? f->def->count / 2 : f->def->count;
    if (n == 0)
        return;
    const char *first = map ? "keys" : "items";
    fprintf(e->c, "    s->%s.%s = calloc(%d, sizeof *s->%s.%s);\n", f->name, first, n, f->name,
            first);
    if (map)
        fprintf(e->c, "    s->%s.values = calloc(%d, sizeof *s->%s.values);\n", f->name, n,
                f->name);
    fprintf(e->c, "    if (s->%s.%s != NULL%s) {\n", f->name, first,
            map ? fmt(" && s->%s.values != NULL", f->name) : "");
    fprintf(e->c, "        s->%s.count = %d;\n", f->name, n);
    for (int i = 0; i < n; i++) {
        if (map) {
            emit_assign(e, 2, t->key, fmt("s->%s.keys[%d]", f->name, i), f->def->items[2 * i]);
            emit_assign(e, 2, t->elem, fmt("s->%s.values[%d]", f->name, i),
                        f->def->items[2 * i + 1]);
        } else {
            emit_assign(e, 2, t->elem, fmt("s->%s.items[%d]", f->name, i), f->def->items[i]);
        }
    }
    fprintf(e->c, "    }\n");
}

void emit_struct_init(emitter *e, const decl *d)
{
    bool any = false;
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        if (f->def == NULL || !needs_free(f->type))
            continue;
        if (!any)
            fprintf(e->c, "    /* Out of memory leaves these defaults empty. */\n");
        any = true;
        if (is_container(f->type))
            emit_container_default(e, f);
        else
            emit_assign(e, 1, f->type, fmt("s->%s", f->name), f->def);
    }
}
