/* test_everything_service.c: client helpers and method tables of everything.thrift services. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "everything_fixture.h"

/* Reads a CALL off in and checks it names method; returns its table entry. */
static const tp_method *dispatch(tp_reader *r, const char *method, tp_message *m)
{
    cr_assert_eq(tp_read_message_begin(r, m), 0);
    const tp_method *found = Derived_method_find(m->name, m->name_len);
    cr_assert_not_null(found);
    cr_assert_str_eq(found->name, method);
    return found;
}

Test(codegen_service, derived_table_holds_inherited_methods)
{
    static const char *const names[] = {"version", "poke", "reset", "echo", "add",
                                        "fire", "forest", "mayFail", "ping"};
    cr_assert_eq(Derived_METHOD_COUNT, 9);
    for (int i = 0; i < Derived_METHOD_COUNT; i++) {
        const tp_method *m = Derived_method_find(names[i], strlen(names[i]));
        cr_assert_not_null(m, "%s", names[i]);
        cr_assert_eq(m->id, i);
        cr_assert_eq(m, &Derived_methods[i]);
    }
    cr_assert(Derived_methods[Derived_METHOD_poke].oneway);
    cr_assert(Derived_methods[Derived_METHOD_fire].oneway);
    cr_assert_null(Derived_methods[Derived_METHOD_fire].result_write);
    cr_assert_null(Derived_method_find("pin", 3));
    cr_assert_null(Derived_method_find("pingg", 5));
    cr_assert_null(Everything_method_find("ping", 4));
    cr_assert_not_null(Everything_method_find("version", 7));
    cr_assert_null(Empty_method_find("", 0));
    cr_assert_eq(Empty_METHOD_COUNT, 0);
}

Test(codegen_service, call_with_declared_exception)
{
    fixture_seed();
    Holder h;
    Holder_init(&h);
    fixture_holder(&h);
    tp_buf call, reply;
    tp_buf_init(&call);
    tp_buf_init(&reply);
    cr_assert_eq(Everything_echo_send(&call, 11, &h, 99), 0);

    tp_reader r;
    tp_message m;
    tp_reader_init(&r, call.data, call.len, NULL);
    const tp_method *method = dispatch(&r, "echo", &m);
    void *args = malloc(method->args_size);
    method->args_init(args);
    cr_assert_eq(method->args_read(args, &r), 0);
    Everything_echo_args *ea = args;
    cr_assert(Holder_equal(&ea->h, &h));
    cr_assert_eq(ea->stamp, 99);
    void *result = malloc(method->result_size);
    method->result_init(result);
    Everything_echo_result *er = result;
    er->has_oops = true;
    er->oops.code = 5;
    cr_assert_eq(tp_write_reply(&reply, method, m.seqid, result), 0);
    method->args_free(args);
    method->result_free(result);
    free(args);
    free(result);

    Everything_echo_result got;
    Everything_echo_result_init(&got);
    tp_app_exception appex;
    tp_app_exception_init(&appex);
    tp_reader_init(&r, reply.data, reply.len, NULL);
    cr_assert_eq(Everything_echo_recv(&r, 11, &got, &appex), 0);
    cr_assert_not(got.has_success);
    cr_assert(got.has_oops);
    cr_assert_eq(got.oops.code, 5);
    Everything_echo_result_free(&got);
    Holder_free(&h);
    tp_buf_free(&call);
    tp_buf_free(&reply);
}

Test(codegen_service, missing_result_app_exception_and_void)
{
    tp_buf reply;
    tp_buf_init(&reply);
    Everything_add_result empty;
    Everything_add_result_init(&empty);
    cr_assert_eq(tp_write_reply(&reply, &Derived_methods[Derived_METHOD_add], 3, &empty), 0);
    tp_reader r;
    tp_app_exception appex;
    tp_app_exception_init(&appex);
    Everything_add_result got;
    Everything_add_result_init(&got);
    tp_reader_init(&r, reply.data, reply.len, NULL);
    cr_assert_eq(Everything_add_recv(&r, 3, &got, &appex), TP_ERR_MISSING_RESULT);

    /* A void method: nothing set is success. */
    tp_buf_reset(&reply);
    Everything_reset_result vr;
    Everything_reset_result_init(&vr);
    cr_assert_eq(tp_write_reply(&reply, &Derived_methods[Derived_METHOD_reset], 4, &vr), 0);
    tp_reader_init(&r, reply.data, reply.len, NULL);
    cr_assert_eq(Everything_reset_recv(&r, 4, &vr, &appex), 0);

    tp_buf_reset(&reply);
    cr_assert_eq(tp_write_app_exception(&reply, "add", 3, 5, TP_APPEX_INTERNAL_ERROR, "boom"), 0);
    tp_reader_init(&r, reply.data, reply.len, NULL);
    cr_assert_eq(Everything_add_recv(&r, 5, &got, &appex), TP_ERR_APP_EXCEPTION);
    cr_assert_eq(appex.type, TP_APPEX_INTERNAL_ERROR);
    cr_assert_str_eq((char *)appex.message.data, "boom");
    tp_app_exception_free(&appex);
    tp_buf_free(&reply);
}

Test(codegen_service, oneway_and_container_arguments)
{
    tp_buf call;
    tp_buf_init(&call);
    Choice c;
    Choice_init(&c);
    c.has_number = true;
    c.number = 8;
    tp_bytes note = {0};
    cr_assert_eq(tp_bytes_set_str(&note, "n"), 0);
    cr_assert_eq(Everything_fire_send(&call, 1, &c, &note), 0);
    tp_reader r;
    tp_message m;
    tp_reader_init(&r, call.data, call.len, NULL);
    const tp_method *method = dispatch(&r, "fire", &m);
    cr_assert_eq(m.type, TP_ONEWAY);
    Everything_fire_args fa;
    method->args_init(&fa);
    cr_assert_eq(method->args_read(&fa, &r), 0);
    cr_assert(Choice_equal(&fa.c, &c));
    cr_assert(fa.has_note);
    method->args_free(&fa);

    tp_buf_reset(&call);
    tp_set_string names = {0};
    cr_assert_eq(Everything_forest_send(&call, 2, &names, Mode_ON), 0);
    tp_reader_init(&r, call.data, call.len, NULL);
    method = dispatch(&r, "forest", &m);
    Everything_forest_args fo;
    method->args_init(&fo);
    cr_assert_eq(method->args_read(&fo, &r), 0);
    cr_assert_eq(fo.mode, Mode_ON);
    cr_assert_eq(fo.names.count, 0);
    method->args_free(&fo);
    tp_bytes_free(&note);
    tp_buf_free(&call);
}
