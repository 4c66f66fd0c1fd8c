/* emit_value.c: statements that write, read, free and compare one value of any type. */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "emit.h"

static void line(FILE *f, int indent, const char *text)
{
    fprintf(f, "%*s%s\n", indent * 4, "", text);
}

static const char *scalar_writer(const type *t)
{
    switch (t->kind) {
    case TK_BOOL:
        return "tp_write_bool";
    case TK_I8:
        return "tp_write_byte";
    case TK_I16:
        return "tp_write_i16";
    case TK_I32:
        return "tp_write_i32";
    case TK_I64:
        return "tp_write_i64";
    case TK_DOUBLE:
        return "tp_write_double";
    default:
        return NULL;
    }
}

void emit_write_value(FILE *f, int indent, const type *t, const char *expr)
{
    t = type_resolve(t);
    if (scalar_writer(t) != NULL)
        line(f, indent, fmt("%s(b, %s);", scalar_writer(t), expr));
    else if (t->kind == TK_STRING || t->kind == TK_BINARY)
        line(f, indent, fmt("tp_write_bytes(b, &%s);", expr));
    else if (is_enum(t))
        line(f, indent, fmt("tp_write_i32(b, (int32_t)%s);", expr));
    else if (is_struct(t))
        line(f, indent, fmt("if ((rc = %s_write(&%s, b)) != 0)\n%*sreturn rc;", c_type(t), expr,
                            indent * 4 + 4, ""));
    else
        line(f, indent, fmt("if ((rc = tpc_write_%s(&%s, b)) != 0)\n%*sreturn rc;", mangle(t),
                            expr, indent * 4 + 4, ""));
}

static const char *const scalar_readers[] = {
    [TK_BOOL] = "tp_read_bool", [TK_I8] = "tp_read_byte",  [TK_I16] = "tp_read_i16",
    [TK_I32] = "tp_read_i32",   [TK_I64] = "tp_read_i64",  [TK_DOUBLE] = "tp_read_double",
    [TK_STRING] = "tp_read_bytes", [TK_BINARY] = "tp_read_bytes",
};

void emit_read_value(FILE *f, int indent, const type *t, const char *expr)
{
    t = type_resolve(t);
    if (t->kind >= TK_BOOL && t->kind <= TK_BINARY) {
        line(f, indent, fmt("rc = %s(r, &%s);", scalar_readers[t->kind], expr));
    } else if (is_enum(t)) {
        line(f, indent, fmt("rc = tp_read_enum(r, &%s, sizeof %s);", expr, expr));
    } else if (is_struct(t)) {
        /* A repeated field id keeps the last value: drop the earlier one first (with an
         * arena, by forgetting it: Foo_init_arena(s, NULL) leaves what Foo_free leaves). */
        line(f, indent, "if (r->arena != NULL)");
        line(f, indent + 1, fmt("%s_init_arena(&%s, NULL);", c_type(t), expr));
        line(f, indent, "else");
        line(f, indent + 1, fmt("%s_free(&%s);", c_type(t), expr));
        line(f, indent, fmt("rc = %s_read(&%s, r);", c_type(t), expr));
    } else {
        line(f, indent, fmt("rc = tpc_read_%s(&%s, r);", mangle(t), expr));
    }
}

bool needs_free(const type *t)
{
    t = type_resolve(t);
    return t->kind == TK_STRING || t->kind == TK_BINARY || is_struct(t) || is_container(t);
}

void emit_free_value(FILE *f, int indent, const type *t, const char *expr)
{
    t = type_resolve(t);
    if (t->kind == TK_STRING || t->kind == TK_BINARY)
        line(f, indent, fmt("tp_bytes_free(&%s);", expr));
    else if (is_struct(t))
        line(f, indent, fmt("%s_free(&%s);", c_type(t), expr));
    else if (is_container(t))
        line(f, indent, fmt("tpc_free_%s(&%s);", mangle(t), expr));
}

void emit_free_value_unless_arena(FILE *f, int indent, const type *t, const char *expr)
{
    if (!needs_free(t))
        return;
    line(f, indent, "if (r->arena == NULL)");
    emit_free_value(f, indent + 1, t, expr);
}

void emit_init_for_read(FILE *f, int indent, const type *t, const char *expr)
{
    assert(is_struct(t));
    line(f, indent, "if (r->arena != NULL)");
    line(f, indent + 1, fmt("%s_init_arena(&%s, r->arena);", c_type(t), expr));
    line(f, indent, "else");
    line(f, indent + 1, fmt("%s_init(&%s);", c_type(t), expr));
}

const char *equal_expr(const type *t, const char *a, const char *b)
{
    t = type_resolve(t);
    if (t->kind == TK_DOUBLE)
        return fmt("tp_double_equal(%s, %s)", a, b);
    if (t->kind == TK_STRING || t->kind == TK_BINARY)
        return fmt("tp_bytes_equal(&%s, &%s)", a, b);
    if (is_struct(t))
        return fmt("%s_equal(&%s, &%s)", c_type(t), a, b);
    if (is_container(t))
        return fmt("tpc_equal_%s(&%s, &%s)", mangle(t), a, b);
    return fmt("(%s == %s)", a, b);
}

static const char *string_literal(const char *s, size_t len)
{
    char *out = xcalloc(len * 4 + 3, 1), *o = out;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            o += sprintf(o, "\\%03o", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '"';
    return out;
}

const char *literal(const type *t, const value *v)
{
    t = type_resolve(t);
    switch (t->kind) {
    case TK_BOOL:
        return v->i ? "true" : "false";
    case TK_I64:
        return v->i == INT64_MIN ? "INT64_MIN" : fmt("INT64_C(%" PRId64 ")", v->i);
    case TK_I8:
    case TK_I16:
    case TK_I32:
        return v->i == INT32_MIN ? "INT32_MIN" : fmt("%" PRId64, v->i);
    case TK_DOUBLE: {
        /* Keep it a double literal in C: 2 would otherwise be an int. */
        const char *text = fmt("%.17g", v->d);
        return strpbrk(text, ".eEni") != NULL ? text : fmt("%s.0", text);
    }
    case TK_STRING:
    case TK_BINARY:
        return string_literal(v->s, v->s_len);
    case TK_NAMED:
        assert(is_enum(t));
        for (int i = 0; i < t->decl->nvalues; i++)
            if (t->decl->values[i].value == v->i)
                return fmt("%s_%s", t->decl->name, t->decl->values[i].name);
        return fmt("(%s)%" PRId64, t->decl->name, v->i);
    default:
        assert(0 && "no literal for this type");
        return "0";
    }
}
