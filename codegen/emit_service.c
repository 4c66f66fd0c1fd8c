/* emit_service.c: per service, the method table, lookup by name and client helpers. */
#include <string.h>

#include "emit.h"

typedef struct svc_method {
    const method *m;
    const decl *owner; /* the service that declares m: this one or an ancestor */
} svc_method;

/* Every method of d, an ancestor's first. */
static void all_methods(const decl *d, svc_method **out, int *n)
{
    if (d->parent != NULL)
        all_methods(d->parent, out, n);
    for (int i = 0; i < d->nmethods; i++)
        *(svc_method *)xpush(out, n, sizeof(svc_method)) = (svc_method){&d->methods[i], d};
}

static bool by_pointer(const type *t) { return needs_free(t); }

static const char *send_params(const method *m)
{
    const char *params = "tp_buf *tp_out, int32_t tp_seqid";
    for (int i = 0; i < m->nargs; i++) {
        const field *a = &m->args[i];
        params = by_pointer(a->type) ? fmt("%s, const %s *%s", params, c_type(a->type), a->name)
                                     : fmt("%s, %s %s", params, c_type(a->type), a->name);
    }
    return params;
}

static void emit_client(emitter *e, const decl *svc, const method *m)
{
    const char *prefix = fmt("%s_%s", svc->name, m->name);
    fprintf(e->h, "int %s_send(%s);\n", prefix, send_params(m));
    fprintf(e->c, "int %s_send(%s)\n{\n", prefix, send_params(m));
    /* The args struct borrows the caller's values (a shallow copy) and is never freed. */
    fprintf(e->c, "    %s_args tp_args;\n    memset(&tp_args, 0, sizeof tp_args);\n", prefix);
    for (int i = 0; i < m->nargs; i++) {
        const field *a = &m->args[i];
        if (a->req != REQ_REQUIRED)
            fprintf(e->c, "    tp_args.has_%s = true;\n", a->name);
        fprintf(e->c, "    tp_args.%s = %s%s;\n", a->name, by_pointer(a->type) ? "*" : "",
                a->name);
    }
    fprintf(e->c, "    tp_write_message_begin(tp_out, \"%s\", %zu, %s, tp_seqid);\n", m->name,
            strlen(m->name), m->oneway ? "TP_ONEWAY" : "TP_CALL");
    fprintf(e->c, "    return %s_args_write(&tp_args, tp_out);\n}\n\n", prefix);
    if (m->oneway)
        return;

    const char *recv_params = fmt("tp_reader *tp_in, int32_t tp_seqid, %s_result *tp_result, "
                                  "tp_app_exception *tp_appex", prefix);
    fprintf(e->h, "int %s_recv(%s);\n", prefix, recv_params);
    fprintf(e->c, "int %s_recv(%s)\n{\n    tp_message m;\n", prefix, recv_params);
    fprintf(e->c, "    int rc = tp_read_message_begin(tp_in, &m);\n");
    fprintf(e->c, "    if (rc != 0)\n        return rc;\n");
    fprintf(e->c, "    if (m.name_len != %zu || memcmp(m.name, \"%s\", %zu) != 0)\n"
                  "        return TP_ERR_WRONG_METHOD;\n", strlen(m->name), m->name,
            strlen(m->name));
    fprintf(e->c, "    if (m.seqid != tp_seqid)\n        return TP_ERR_WRONG_SEQID;\n");
    fprintf(e->c, "    if (m.type == TP_EXCEPTION) {\n"
                  "        rc = tp_app_exception_read(tp_appex, tp_in);\n"
                  "        return rc != 0 ? rc : TP_ERR_APP_EXCEPTION;\n    }\n");
    fprintf(e->c, "    if (m.type != TP_REPLY)\n        return TP_ERR_BAD_MESSAGE_TYPE;\n");
    fprintf(e->c, "    if ((rc = %s_result_read(tp_result, tp_in)) != 0)\n        return rc;\n",
            prefix);
    if (m->ret->kind != TK_VOID) {
        const decl *r = m->result_struct;
        fprintf(e->c, "    if (");
        for (int i = 0; i < r->nfields; i++)
            fprintf(e->c, "%s!tp_result->has_%s", i > 0 ? " && " : "", r->fields[i].name);
        fprintf(e->c, ")\n        return TP_ERR_MISSING_RESULT;\n");
    }
    fprintf(e->c, "    return 0;\n}\n\n");
}

static void emit_thunks(emitter *e, const decl *svc, const svc_method *sm)
{
    const char *t = fmt("tpt_%s_%s", svc->name, sm->m->name);
    const char *o = fmt("%s_%s", sm->owner->name, sm->m->name);
    fprintf(e->c, "static void %s_args_init(void *p) { %s_args_init(p); }\n", t, o);
    fprintf(e->c, "static int %s_args_read(void *p, tp_reader *r) { return %s_args_read(p, r); }\n",
            t, o);
    fprintf(e->c, "static void %s_args_free(void *p) { %s_args_free(p); }\n", t, o);
    fprintf(e->c, "static void %s_args_init_arena(void *p, tp_arena *a)\n"
                  "{\n    %s_args_init_arena(p, a);\n}\n", t, o);
    if (sm->m->oneway)
        return;
    fprintf(e->c, "static void %s_result_init(void *p) { %s_result_init(p); }\n", t, o);
    fprintf(e->c, "static int %s_result_write(const void *p, tp_buf *b)\n"
                  "{\n    return %s_result_write(p, b);\n}\n", t, o);
    fprintf(e->c, "static void %s_result_free(void *p) { %s_result_free(p); }\n", t, o);
}

static void emit_table_entry(emitter *e, const decl *svc, const svc_method *sm)
{
    const char *t = fmt("tpt_%s_%s", svc->name, sm->m->name);
    const char *o = fmt("%s_%s", sm->owner->name, sm->m->name);
    fprintf(e->c, "    [%s_METHOD_%s] = {\n", svc->name, sm->m->name);
    fprintf(e->c, "        .name = \"%s\",\n        .id = %s_METHOD_%s,\n", sm->m->name, svc->name,
            sm->m->name);
    fprintf(e->c, "        .oneway = %s,\n", sm->m->oneway ? "true" : "false");
    fprintf(e->c, "        .args_size = sizeof(%s_args),\n", o);
    fprintf(e->c, "        .args_init = %s_args_init,\n        .args_read = %s_args_read,\n"
                  "        .args_free = %s_args_free,\n"
                  "        .args_init_arena = %s_args_init_arena,\n", t, t, t, t);
    if (!sm->m->oneway) {
        fprintf(e->c, "        .result_size = sizeof(%s_result),\n", o);
        fprintf(e->c, "        .result_init = %s_result_init,\n"
                      "        .result_write = %s_result_write,\n"
                      "        .result_free = %s_result_free,\n", t, t, t);
    }
    fprintf(e->c, "    },\n");
}

static void emit_find(emitter *e, const decl *svc, const svc_method *ms, int n)
{
    fprintf(e->c, "const tp_method *%s_method_find(const char *name, size_t name_len)\n{\n",
            svc->name);
    fprintf(e->c, "    switch (name_len) {\n");
    for (int i = 0; i < n; i++) {
        size_t len = strlen(ms[i].m->name);
        bool first = true;
        for (int j = 0; j < i; j++)
            first = first && strlen(ms[j].m->name) != len;
        if (!first)
            continue;
        fprintf(e->c, "    case %zu:\n", len);
        for (int j = i; j < n; j++)
            if (strlen(ms[j].m->name) == len)
                fprintf(e->c, "        if (memcmp(name, \"%s\", %zu) == 0)\n"
                              "            return &%s_methods[%s_METHOD_%s];\n",
                        ms[j].m->name, len, svc->name, svc->name, ms[j].m->name);
        fprintf(e->c, "        break;\n");
    }
    fprintf(e->c, "    default:\n        (void)name;\n        break;\n    }\n    return NULL;\n}\n\n");
}

static void emit_service(emitter *e, const decl *svc)
{
    svc_method *ms = NULL;
    int n = 0;
    all_methods(svc, &ms, &n);
    fprintf(e->h, "/* service %s */\nenum {\n", svc->name);
    for (int i = 0; i < n; i++)
        fprintf(e->h, "    %s_METHOD_%s,\n", svc->name, ms[i].m->name);
    fprintf(e->h, "    %s_METHOD_COUNT\n};\n", svc->name);
    /* C has no empty arrays: a service without methods gets one empty entry. */
    const char *size = n > 0 ? fmt("%s_METHOD_COUNT", svc->name) : "1";
    fprintf(e->h, "extern const tp_method %s_methods[%s];\n", svc->name, size);
    fprintf(e->h, "const tp_method *%s_method_find(const char *name, size_t name_len);\n",
            svc->name);
    for (int i = 0; i < svc->nmethods; i++)
        emit_client(e, svc, &svc->methods[i]);
    fprintf(e->h, "\n");
    for (int i = 0; i < n; i++)
        emit_thunks(e, svc, &ms[i]);
    fprintf(e->c, "\nconst tp_method %s_methods[%s] = {\n", svc->name, size);
    for (int i = 0; i < n; i++)
        emit_table_entry(e, svc, &ms[i]);
    if (n == 0)
        fprintf(e->c, "    {.name = \"\"},\n");
    fprintf(e->c, "};\n\n");
    emit_find(e, svc, ms, n);
}

void emit_services(emitter *e)
{
    for (int i = 0; i < e->p->ndecls; i++)
        if (e->p->decls[i]->kind == D_SERVICE)
            emit_service(e, e->p->decls[i]);
}
