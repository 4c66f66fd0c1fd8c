/* criterion.h stand-in for ThreadSanitizer builds (tests/tsan/meson.build: Criterion cannot
   start under TSan). The subset the TSan suites use: Test() with .init, .fini, .timeout;
   cr_assert and its comparisons. Each test runs in a child process of its own, as in Criterion. */
#ifndef CR_SHIM_CRITERION_H
#define CR_SHIM_CRITERION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cr_shim_test {
    const char *suite, *name;
    void (*fn)(void);
    void (*init)(void);
    void (*fini)(void);
    double timeout;   /* seconds; 0: none (meson's timeout still holds) */
    struct cr_shim_test *next;
};

void cr_shim_register(struct cr_shim_test *t);
_Noreturn void cr_shim_fail(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define Test(S, N, ...)                                                                          \
    static void S##_##N##_fn(void);                                                             \
    static struct cr_shim_test S##_##N##_test = {                                               \
        .suite = #S, .name = #N, .fn = S##_##N##_fn, __VA_ARGS__};                              \
    __attribute__((constructor)) static void S##_##N##_reg(void)                                \
    {                                                                                           \
        cr_shim_register(&S##_##N##_test);                                                      \
    }                                                                                           \
    static void S##_##N##_fn(void)

/* The message, when given, starts with a string literal, as in Criterion; the leading space
   keeps the format from being empty when it is not given. */
#define cr_assert(cond, ...) \
    ((cond) ? (void)0 : cr_shim_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__))
#define cr_assert_op_(op, a, b, ...) cr_assert((a) op (b), __VA_ARGS__)
#define cr_assert_eq(a, b, ...) cr_assert_op_(==, a, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert_op_(!=, a, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) cr_assert_op_(<, a, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) cr_assert_op_(<=, a, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) cr_assert_op_(>, a, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) cr_assert_op_(>=, a, b, __VA_ARGS__)
#define cr_assert_null(p, ...) cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...) cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)

#endif
