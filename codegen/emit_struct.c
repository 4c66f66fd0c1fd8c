/* emit_struct.c: C declarations and the five functions of each struct, union and exception. */
#include <string.h>

#include "emit.h"

static bool has_flag(const field *f) { return f->req != REQ_REQUIRED; }

/* Written only when its has_ flag is set. */
static bool written_if_set(const decl *d, const field *f)
{
    return f->req == REQ_OPTIONAL || d->kind == D_UNION;
}

void emit_struct_decls(emitter *e)
{
    for (int i = 0; i < e->p->norder; i++)
        fprintf(e->h, "typedef struct %s %s;\n", e->p->order[i]->name, e->p->order[i]->name);
    fprintf(e->h, "\n");
}

static void emit_struct_type(emitter *e, const decl *d)
{
    fprintf(e->h, "struct %s {\n", d->name);
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        if (has_flag(f))
            fprintf(e->h, "    bool has_%s;\n", f->name);
        fprintf(e->h, "    %s %s;\n", c_type(f->type), f->name);
    }
    if (d->nfields == 0)
        fprintf(e->h, "    uint8_t unused_; /* C structs need a member */\n");
    fprintf(e->h, "};\n");
    const char *n = d->name;
    fprintf(e->h, "void %s_init(%s *s);\n", n, n);
    fprintf(e->h, "void %s_init_arena(%s *s, tp_arena *a);\n", n, n);
    fprintf(e->h, "void %s_free(%s *s);\n", n, n);
    fprintf(e->h, "int %s_write(const %s *s, tp_buf *b);\n", n, n);
    fprintf(e->h, "int %s_read(%s *s, tp_reader *r);\n", n, n);
    fprintf(e->h, "bool %s_equal(const %s *a, const %s *b);\n\n", n, n, n);
}

/* Scalar defaults: set by init and restored by free, neither of which may fail. */
static void emit_scalar_defaults(emitter *e, const decl *d)
{
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        if (f->def != NULL && !needs_free(f->type))
            fprintf(e->c, "    s->%s = %s;\n", f->name, literal(f->type, f->def));
    }
}

static void emit_init(emitter *e, const decl *d)
{
    fprintf(e->c, "void %s_init(%s *s)\n{\n    memset(s, 0, sizeof *s);\n", d->name, d->name);
    emit_scalar_defaults(e, d);
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        if (is_struct(f->type))
            fprintf(e->c, "    %s_init(&s->%s);\n", c_type(f->type), f->name);
    }
    emit_struct_init(e, d, NULL);
    fprintf(e->c, "}\n\n");
}

/* As init, with string and container defaults from arena a; a NULL leaves them empty. */
static void emit_init_arena(emitter *e, const decl *d)
{
    fprintf(e->c, "void %s_init_arena(%s *s, tp_arena *a)\n{\n    memset(s, 0, sizeof *s);\n",
            d->name, d->name);
    emit_scalar_defaults(e, d);
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        if (is_struct(f->type))
            fprintf(e->c, "    %s_init_arena(&s->%s, a);\n", c_type(f->type), f->name);
    }
    bool allocated = false;
    for (int i = 0; i < d->nfields; i++)
        allocated = allocated || (d->fields[i].def != NULL && needs_free(d->fields[i].type));
    if (!allocated) {
        fprintf(e->c, "    (void)a;\n}\n\n");
        return;
    }
    fprintf(e->c, "    if (a == NULL)\n        return;\n");
    emit_struct_init(e, d, "a");
    fprintf(e->c, "}\n\n");
}

static void emit_free(emitter *e, const decl *d)
{
    fprintf(e->c, "void %s_free(%s *s)\n{\n", d->name, d->name);
    for (int i = 0; i < d->nfields; i++)
        emit_free_value(e->c, 1, d->fields[i].type, fmt("s->%s", d->fields[i].name));
    fprintf(e->c, "    memset(s, 0, sizeof *s);\n");
    emit_scalar_defaults(e, d);
    for (int i = 0; i < d->nfields; i++)
        if (is_struct(d->fields[i].type)) /* sets the nested scalar defaults */
            fprintf(e->c, "    %s_free(&s->%s);\n", c_type(d->fields[i].type), d->fields[i].name);
    fprintf(e->c, "}\n\n");
}

static const char *union_count(const decl *d, const char *s)
{
    const char *sum = "0";
    for (int i = 0; i < d->nfields; i++)
        sum = fmt("%s + %s->has_%s", sum, s, d->fields[i].name);
    return sum;
}

static void emit_write(emitter *e, const decl *d)
{
    fprintf(e->c, "int %s_write(const %s *s, tp_buf *b)\n{\n", d->name, d->name);
    fprintf(e->c, "    int rc = 0;\n    (void)rc;\n    (void)s;\n");
    if (d->kind == D_UNION)
        fprintf(e->c, "    if (%s != 1)\n        return TP_ERR_UNION;\n", union_count(d, "s"));
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        int indent = 1;
        if (written_if_set(d, f)) {
            fprintf(e->c, "    if (s->has_%s) {\n", f->name);
            indent = 2;
        }
        fprintf(e->c, "%*stp_write_field_begin(b, %s, %d);\n", indent * 4, "", wire_type(f->type),
                f->id);
        emit_write_value(e->c, indent, f->type, fmt("s->%s", f->name));
        if (written_if_set(d, f))
            fprintf(e->c, "    }\n");
    }
    fprintf(e->c, "    tp_write_field_stop(b);\n    return b->failed ? TP_ERR_NOMEM : 0;\n}\n\n");
}

static void emit_read_cases(emitter *e, const decl *d)
{
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        fprintf(e->c, "        case %d:\n", f->id);
        fprintf(e->c, "            if (type != %s)\n                break;\n", wire_type(f->type));
        emit_read_value(e->c, 3, f->type, fmt("s->%s", f->name));
        if (has_flag(f))
            fprintf(e->c, "            s->has_%s = true;\n", f->name);
        else
            fprintf(e->c, "            have_%s = true;\n", f->name);
        fprintf(e->c, "            continue;\n");
    }
}

static void emit_read(emitter *e, const decl *d)
{
    fprintf(e->c, "int %s_read(%s *s, tp_reader *r)\n{\n", d->name, d->name);
    fprintf(e->c, "    int rc = tp_reader_enter(r);\n");
    const char *missing = NULL;
    for (int i = 0; i < d->nfields; i++)
        if (!has_flag(&d->fields[i])) {
            fprintf(e->c, "    bool have_%s = false;\n", d->fields[i].name);
            missing = fmt("%s%s!have_%s", missing ? missing : "", missing ? " || " : "",
                          d->fields[i].name);
        }
    fprintf(e->c, "    while (rc == 0) {\n        uint8_t type;\n        int16_t id;\n");
    fprintf(e->c, "        if ((rc = tp_read_field_begin(r, &type, &id)) != 0 || "
                  "type == TP_T_STOP)\n            break;\n");
    if (d->nfields > 0) {
        fprintf(e->c, "        switch (id) {\n");
        emit_read_cases(e, d);
        fprintf(e->c, "        default:\n            break;\n        }\n");
    } else {
        fprintf(e->c, "        (void)id;\n");
    }
    fprintf(e->c, "        rc = tp_skip(r, type); /* unknown id, or a known id's wrong type */\n");
    fprintf(e->c, "    }\n");
    if (missing != NULL)
        fprintf(e->c, "    if (rc == 0 && (%s))\n        rc = TP_ERR_MISSING_REQUIRED;\n", missing);
    if (d->kind == D_UNION)
        fprintf(e->c, "    if (rc == 0 && %s != 1)\n        rc = TP_ERR_UNION;\n",
                union_count(d, "s"));
    /* With an arena nothing is freed: the struct only forgets what it pointed to. */
    fprintf(e->c, "    if (rc != 0) {\n        if (r->arena == NULL)\n            %s_free(s);\n"
                  "        else\n            %s_init_arena(s, NULL);\n        return rc;\n    }\n",
            d->name, d->name);
    fprintf(e->c, "    tp_reader_leave(r);\n    return 0;\n}\n\n");
}

static void emit_equal(emitter *e, const decl *d)
{
    fprintf(e->c, "bool %s_equal(const %s *a, const %s *b)\n{\n", d->name, d->name, d->name);
    if (d->nfields == 0)
        fprintf(e->c, "    (void)a;\n    (void)b;\n");
    for (int i = 0; i < d->nfields; i++) {
        const field *f = &d->fields[i];
        const char *eq = equal_expr(f->type, fmt("a->%s", f->name), fmt("b->%s", f->name));
        /* As Apache Thrift: has_ matters only where it decides whether a field is sent. */
        if (written_if_set(d, f))
            fprintf(e->c, "    if (a->has_%s != b->has_%s || (a->has_%s && !%s))\n"
                          "        return false;\n", f->name, f->name, f->name, eq);
        else
            fprintf(e->c, "    if (!%s)\n        return false;\n", eq);
    }
    fprintf(e->c, "    return true;\n}\n\n");
}

void emit_struct_functions(emitter *e, const decl *d)
{
    emit_struct_type(e, d);
    emit_init(e, d);
    emit_init_arena(e, d);
    emit_free(e, d);
    emit_write(e, d);
    emit_read(e, d);
    emit_equal(e, d);
}
