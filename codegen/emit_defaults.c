/* emit_defaults.c: default values that need memory: strings and containers of scalars. */
#include "emit.h"

/* Assigns the literal v to the lvalue expr of base or enum type t (at indent); a string is
 * malloc'ed, or taken from the arena named `arena` when that is not NULL. */
static void emit_assign(emitter *e, int indent, const type *t, const char *expr, const value *v,
                        const char *arena)
{
    if (needs_free(t) && arena != NULL)
        fprintf(e->c, "%*s(void)tp_bytes_set_arena(&%s, %s, %s, %zu);\n", indent * 4, "", expr,
                arena, literal(t, v), v->s_len);
    else if (needs_free(t))
        fprintf(e->c, "%*s(void)tp_bytes_set(&%s, %s, %zu);\n", indent * 4, "", expr,
                literal(t, v), v->s_len);
    else
        fprintf(e->c, "%*s%s = %s;\n", indent * 4, "", expr, literal(t, v));
}

static bool simple_element(const type *t)
{
    return !is_container(t) && !is_struct(t);
}

/* `s->name.member = ` n elements, zeroed, from malloc or the arena. */
static void emit_default_array(emitter *e, const field *f, const char *member, int n,
                               const char *arena)
{
    if (arena == NULL) {
        fprintf(e->c, "    s->%s.%s = calloc(%d, sizeof *s->%s.%s);\n", f->name, member, n,
                f->name, member);
        return;
    }
    fprintf(e->c, "    s->%s.%s = tp_arena_array(%s, %d, sizeof *s->%s.%s);\n", f->name, member,
            arena, n, f->name, member);
    fprintf(e->c, "    if (s->%s.%s != NULL)\n        memset(s->%s.%s, 0, %d * sizeof *s->%s.%s);\n",
            f->name, member, f->name, member, n, f->name, member);
}

static void emit_container_default(emitter *e, const field *f, const char *arena)
{
    const type *t = type_resolve(f->type);
    bool map = t->kind == TK_MAP;
    if (!simple_element(t->elem) || (map && !simple_element(t->key))) {
        if (arena == NULL) /* reported once, for the malloc'ed defaults */
            diag_error(f->def->pos, "default values of nested containers are not supported");
        return;
    }
    int n = map ? f->def->count / 2 : f->def->count;
    if (n == 0)
        return;
    const char *first = map ? "keys" : "items";
    emit_default_array(e, f, first, n, arena);
    if (map)
        emit_default_array(e, f, "values", n, arena);
    fprintf(e->c, "    if (s->%s.%s != NULL%s) {\n", f->name, first,
            map ? fmt(" && s->%s.values != NULL", f->name) : "");
    fprintf(e->c, "        s->%s.count = %d;\n", f->name, n);
    for (int i = 0; i < n; i++) {
        if (map) {
            emit_assign(e, 2, t->key, fmt("s->%s.keys[%d]", f->name, i), f->def->items[2 * i],
                        arena);
            emit_assign(e, 2, t->elem, fmt("s->%s.values[%d]", f->name, i),
                        f->def->items[2 * i + 1], arena);
        } else {
            emit_assign(e, 2, t->elem, fmt("s->%s.items[%d]", f->name, i), f->def->items[i],
                        arena);
        }
    }
    fprintf(e->c, "    }\n");
}

void emit_struct_init(emitter *e, const decl *d, const char *arena)
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
            emit_container_default(e, f, arena);
        else
            emit_assign(e, 1, f->type, fmt("s->%s", f->name), f->def, arena);
    }
}
