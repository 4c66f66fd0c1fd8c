/* check_value.c: constant values against their types (consts and field defaults). */
#include <stdio.h>
#include <string.h>

#include "check_internal.h"

/* Replaces an enum value name (Enum.NAME, NAME) with its number, keeping the name in s. */
static void check_enum_value(const decl *e, value *v)
{
    if (v->kind == VK_INT) {
        for (int i = 0; i < e->nvalues; i++)
            if (e->values[i].value == v->i)
                return;
        diag_error(v->pos, "%lld is not a value of enum '%s'", (long long)v->i, e->name);
        return;
    }
    if (v->kind != VK_IDENT) {
        diag_error(v->pos, "expected a value of enum '%s'", e->name);
        return;
    }
    const char *dot = strrchr(v->s, '.');
    const char *name = dot != NULL ? dot + 1 : v->s;
    for (int i = 0; i < e->nvalues; i++)
        if (strcmp(e->values[i].name, name) == 0) {
            v->kind = VK_INT;
            v->i = e->values[i].value;
            return;
        }
    diag_error(v->pos, "'%s' is not a value of enum '%s'", v->s, e->name);
}

static void check_int_range(value *v, int64_t min, int64_t max, const char *type_name)
{
    if (v->kind == VK_IDENT && (strcmp(v->s, "true") == 0 || strcmp(v->s, "false") == 0)) {
        v->kind = VK_INT;
        v->i = strcmp(v->s, "true") == 0;
    }
    if (v->kind != VK_INT)
        diag_error(v->pos, "expected an integer for %s", type_name);
    else if (v->i < min || v->i > max)
        diag_error(v->pos, "%lld does not fit %s", (long long)v->i, type_name);
}

/* A name that refers to another constant stands for that constant's value. */
static void substitute_const(program *p, value *v)
{
    if (v->kind != VK_IDENT || strcmp(v->s, "true") == 0 || strcmp(v->s, "false") == 0)
        return;
    decl *d = check_lookup(p, v->s);
    if (d != NULL && d->kind == D_CONST && d->value->kind != VK_IDENT) {
        srcpos pos = v->pos;
        *v = *d->value;
        v->pos = pos;
    }
}

static void check_container_value(program *p, const type *t, value *v)
{
    if (t->kind == TK_MAP) {
        if (v->kind != VK_MAP) {
            diag_error(v->pos, "expected a map value");
            return;
        }
        for (int i = 0; i + 1 < v->count; i += 2) {
            check_value(p, t->key, v->items[i]);
            check_value(p, t->elem, v->items[i + 1]);
        }
        return;
    }
    if (v->kind != VK_LIST) {
        diag_error(v->pos, "expected a list value");
        return;
    }
    for (int i = 0; i < v->count; i++)
        check_value(p, t->elem, v->items[i]);
}

void check_value(program *p, const type *t, value *v)
{
    t = type_resolve(t);
    substitute_const(p, v);
    switch (t->kind) {
    case TK_BOOL:
        check_int_range(v, 0, 1, "bool");
        break;
    case TK_I8:
        check_int_range(v, INT8_MIN, INT8_MAX, "i8");
        break;
    case TK_I16:
        check_int_range(v, INT16_MIN, INT16_MAX, "i16");
        break;
    case TK_I32:
        check_int_range(v, INT32_MIN, INT32_MAX, "i32");
        break;
    case TK_I64:
        check_int_range(v, INT64_MIN, INT64_MAX, "i64");
        break;
    case TK_DOUBLE:
        if (v->kind == VK_INT) {
            v->kind = VK_DOUBLE;
            v->d = (double)v->i;
        } else if (v->kind != VK_DOUBLE) {
            diag_error(v->pos, "expected a number for double");
        }
        break;
    case TK_STRING:
    case TK_BINARY:
        if (v->kind != VK_STRING)
            diag_error(v->pos, "expected a string");
        break;
    case TK_LIST:
    case TK_SET:
    case TK_MAP:
        check_container_value(p, t, v);
        break;
    case TK_NAMED:
        if (t->decl == NULL)
            break; /* already reported as undefined */
        if (t->decl->kind == D_ENUM)
            check_enum_value(t->decl, v);
        else
            diag_error(v->pos, "constant values of type '%s' are not supported", t->name);
        break;
    case TK_VOID:
        diag_error(v->pos, "a value cannot have type void");
        break;
    }
}

void check_const(program *p, decl *d)
{
    check_type(p, d->type);
    const type *t = type_resolve(d->type);
    if (t->kind == TK_LIST || t->kind == TK_SET || t->kind == TK_MAP)
        diag_error(d->pos, "container constants are not supported ('%s')", d->name);
    else
        check_value(p, d->type, d->value);
}
