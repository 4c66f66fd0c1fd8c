/* check_service.c: services: extends, methods, throws, and the args/result structs. */
#include <stdio.h>
#include <string.h>

#include "check_internal.h"

/* Finds a method by name in d or its ancestors; NULL if absent. */
static const method *find_method(const decl *d, const char *name, int hops)
{
    for (; d != NULL && hops < 64; d = d->parent, hops++)
        for (int i = 0; i < d->nmethods; i++)
            if (strcmp(d->methods[i].name, name) == 0)
                return &d->methods[i];
    return NULL;
}

static char *joined(const char *a, const char *b, const char *c)
{
    size_t len = strlen(a) + strlen(b) + strlen(c);
    char *s = xcalloc(len + 1, 1);
    snprintf(s, len + 1, "%s%s%s", a, b, c);
    return s;
}

static decl *service_struct(program *p, decl *svc, const method *m, const char *suffix)
{
    decl *d = xcalloc(1, sizeof *d);
    d->kind = D_STRUCT;
    d->name = joined(svc->name, "_", joined(m->name, suffix, ""));
    d->pos = m->pos;
    d->prog = p;
    d->synthetic = true;
    *(decl **)xpush(&p->decls, &p->ndecls, sizeof(decl *)) = d;
    return d;
}

static void make_service_structs(program *p, decl *svc, method *m)
{
    m->args_struct = service_struct(p, svc, m, "_args");
    m->args_struct->fields = m->args;
    m->args_struct->nfields = m->nargs;
    if (m->oneway)
        return;
    decl *r = service_struct(p, svc, m, "_result");
    m->result_struct = r;
    if (m->ret->kind != TK_VOID) {
        field *f = xpush(&r->fields, &r->nfields, sizeof(field));
        *f = (field){.id = 0, .name = "success", .type = m->ret, .req = REQ_OPTIONAL,
                     .pos = m->ret->pos};
    }
    for (int i = 0; i < m->nthrows; i++) {
        field *f = xpush(&r->fields, &r->nfields, sizeof(field));
        *f = m->throws[i];
        f->req = REQ_OPTIONAL;
        for (int j = 0; j + 1 < r->nfields; j++)
            if (strcmp(r->fields[j].name, f->name) == 0)
                diag_error(f->pos, "duplicate field name '%s'", f->name);
    }
}

static void check_method(program *p, decl *svc, method *m, int index)
{
    for (int j = 0; j < index; j++)
        if (strcmp(svc->methods[j].name, m->name) == 0)
            diag_error(m->pos, "duplicate method '%s'", m->name);
    if (find_method(svc->parent, m->name, 0) != NULL)
        diag_error(m->pos, "method '%s' is already defined by an extended service", m->name);
    if (m->ret->kind != TK_VOID)
        check_type(p, m->ret);
    check_fields(p, m->args, m->nargs, D_STRUCT);
    check_fields(p, m->throws, m->nthrows, D_EXCEPTION);
    for (int i = 0; i < m->nthrows; i++) {
        const type *t = type_resolve(m->throws[i].type);
        if (t->kind != TK_NAMED || (t->decl != NULL && t->decl->kind != D_EXCEPTION))
            diag_error(m->throws[i].pos, "'%s' is not an exception", m->throws[i].name);
    }
    if (m->oneway && m->ret->kind != TK_VOID)
        diag_error(m->pos, "oneway method '%s' must return void", m->name);
    if (m->oneway && m->nthrows > 0)
        diag_error(m->pos, "oneway method '%s' cannot throw", m->name);
    make_service_structs(p, svc, m);
}

void check_service(program *p, decl *d)
{
    if (d->extends != NULL) {
        d->parent = check_lookup(p, d->extends);
        if (d->parent == NULL || d->parent->kind != D_SERVICE) {
            diag_error(d->extends_pos, "'%s' is not a service", d->extends);
            d->parent = NULL;
        }
        int hops = 0;
        for (const decl *a = d->parent; a != NULL && hops <= 64; a = a->parent)
            if (a == d || ++hops > 64) {
                diag_error(d->extends_pos, "service '%s' extends itself", d->name);
                d->parent = NULL;
                break;
            }
    }
    for (int i = 0; i < d->nmethods; i++)
        check_method(p, d, &d->methods[i], i);
}
