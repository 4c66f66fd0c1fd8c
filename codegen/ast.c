/* ast.c: small queries over the parsed IDL. */
#include "ast.h"

#include <assert.h>
#include <string.h>

bool decl_is_struct_like(const decl *d)
{
    return d->kind == D_STRUCT || d->kind == D_UNION || d->kind == D_EXCEPTION;
}

const type *type_resolve(const type *t)
{
    /* check.c rejects typedef cycles, so this ends. */
    while (t->kind == TK_NAMED && t->decl != NULL && t->decl->kind == D_TYPEDEF)
        t = t->decl->type;
    return t;
}

bool type_is_base(const type *t)
{
    t = type_resolve(t);
    return t->kind >= TK_BOOL && t->kind <= TK_BINARY;
}

decl *program_find(const program *p, const char *name)
{
    for (int i = 0; i < p->ndecls; i++)
        if (strcmp(p->decls[i]->name, name) == 0)
            return p->decls[i];
    return NULL;
}

const char *decl_kind_name(enum decl_kind kind)
{
    switch (kind) {
    case D_TYPEDEF:
        return "typedef";
    case D_CONST:
        return "const";
    case D_ENUM:
        return "enum";
    case D_STRUCT:
        return "struct";
    case D_UNION:
        return "union";
    case D_EXCEPTION:
        return "exception";
    case D_SERVICE:
        return "service";
    }
    assert(0 && "unknown decl kind");
    return "?";
}
