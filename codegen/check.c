/* check.c: resolves type names and rejects IDL the emitter cannot turn into valid C. */
#include "check.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "check_internal.h"

static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict",
    "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "volatile", "while", "bool", "true", "false", "NULL", "int8_t", "int16_t",
    "int32_t", "int64_t", "uint8_t", "uint32_t", "double", "void",
};

void check_c_name(const char *name, srcpos pos)
{
    for (size_t i = 0; i < sizeof c_keywords / sizeof c_keywords[0]; i++)
        if (strcmp(name, c_keywords[i]) == 0)
            diag_error(pos, "'%s' is a C keyword and cannot be used as a name", name);
}

decl *check_lookup(program *p, const char *name)
{
    const char *dot = strchr(name, '.');
    if (dot == NULL)
        return program_find(p, name);
    for (int i = 0; i < p->nincludes; i++) {
        const char *base = p->includes[i]->base;
        if (strlen(base) == (size_t)(dot - name) && strncmp(base, name, strlen(base)) == 0)
            return program_find(p->includes[i], dot + 1);
    }
    return NULL;
}

void check_type(program *p, type *t)
{
    switch (t->kind) {
    case TK_LIST:
    case TK_SET:
        check_type(p, t->elem);
        break;
    case TK_MAP:
        check_type(p, t->key);
        check_type(p, t->elem);
        break;
    case TK_NAMED:
        t->decl = check_lookup(p, t->name);
        if (t->decl == NULL)
            diag_error(t->pos, "undefined type '%s'", t->name);
        else if (t->decl->kind == D_CONST || t->decl->kind == D_SERVICE) {
            diag_error(t->pos, "'%s' is a %s, not a type", t->name,
                       decl_kind_name(t->decl->kind));
            t->decl = NULL;
        }
        break;
    default:
        break;
    }
}

/* Fields of a struct, union, exception, argument list or throws list. */
void check_fields(program *p, field *fields, int n, enum decl_kind kind)
{
    for (int i = 0; i < n; i++) {
        field *f = &fields[i];
        if (f->id < 1)
            diag_error(f->pos, "field id %d of '%s' must be positive", f->id, f->name);
        check_c_name(f->name, f->pos);
        if (kind == D_UNION && f->req == REQ_REQUIRED)
            diag_error(f->pos, "union field '%s' cannot be required", f->name);
        for (int j = 0; j < i; j++) {
            if (fields[j].id == f->id)
                diag_error(f->pos, "duplicate field id %d ('%s' and '%s')", f->id,
                           fields[j].name, f->name);
            if (strcmp(fields[j].name, f->name) == 0)
                diag_error(f->pos, "duplicate field name '%s'", f->name);
        }
        check_type(p, f->type);
        if (f->def != NULL)
            check_value(p, f->type, f->def);
    }
}

static void check_enum(decl *d)
{
    for (int i = 0; i < d->nvalues; i++)
        for (int j = 0; j < i; j++) {
            if (strcmp(d->values[i].name, d->values[j].name) == 0)
                diag_error(d->values[i].pos, "duplicate enum value name '%s'", d->values[i].name);
            else if (d->values[i].value == d->values[j].value)
                diag_error(d->values[i].pos, "enum values '%s' and '%s' are both %lld",
                           d->values[j].name, d->values[i].name, (long long)d->values[i].value);
        }
}

static void check_typedef(program *p, decl *d)
{
    check_type(p, d->type);
    const type *t = d->type;
    for (int hops = 0; t->kind == TK_NAMED && t->decl != NULL && t->decl->kind == D_TYPEDEF;
         hops++) {
        if (hops > 64 || t->decl == d) {
            diag_error(d->pos, "typedef '%s' refers to itself", d->name);
            d->type = xcalloc(1, sizeof(type)); /* break the cycle: void */
            return;
        }
        t = t->decl->type;
    }
}

/* Depth-first: a struct comes after every struct it holds by value. */
static void order_struct(program *p, decl *d)
{
    if (d->visit == 2)
        return;
    if (d->visit == 1) {
        diag_error(d->pos, "'%s' contains itself by value", d->name);
        return;
    }
    d->visit = 1;
    for (int i = 0; i < d->nfields; i++) {
        const type *t = type_resolve(d->fields[i].type);
        if (t->kind == TK_NAMED && t->decl != NULL && decl_is_struct_like(t->decl) &&
            t->decl->prog == p)
            order_struct(p, t->decl);
    }
    d->visit = 2;
    *(decl **)xpush(&p->order, &p->norder, sizeof(decl *)) = d;
}

int check_program(program *p)
{
    int before = diag_error_count();
    int ndecls = p->ndecls; /* check_service appends the service structs */
    for (int i = 0; i < ndecls; i++) {
        decl *d = p->decls[i];
        check_c_name(d->name, d->pos);
        for (int j = 0; j < i; j++)
            if (strcmp(p->decls[j]->name, d->name) == 0)
                diag_error(d->pos, "duplicate definition of '%s'", d->name);
    }
    for (int i = 0; i < ndecls; i++)
        if (p->decls[i]->kind == D_TYPEDEF)
            check_typedef(p, p->decls[i]);
    for (int i = 0; i < ndecls; i++) {
        decl *d = p->decls[i];
        if (d->kind == D_ENUM)
            check_enum(d);
        else if (decl_is_struct_like(d))
            check_fields(p, d->fields, d->nfields, d->kind);
        else if (d->kind == D_CONST)
            check_const(p, d);
        else if (d->kind == D_SERVICE)
            check_service(p, d);
    }
    if (diag_error_count() != before)
        return diag_error_count() - before;
    for (int i = 0; i < p->ndecls; i++)
        if (decl_is_struct_like(p->decls[i]))
            order_struct(p, p->decls[i]);
    return diag_error_count() - before;
}
