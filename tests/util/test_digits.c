/* test_digits.c: fixed-width decimal fields, including hostile ones. */
#include <criterion/criterion.h>

#include "digits.h"

Test(digits, parses_exactly_n_digits)
{
    uint64_t v = 7;
    cr_assert(digits_parse_u64("00000000000000000042.wal", 20, &v));
    cr_assert_eq(v, 42);
    cr_assert(digits_parse_u64("123", 0, &v));
    cr_assert_eq(v, 0);
    cr_assert(digits_parse_u64("18446744073709551615", 20, &v));
    cr_assert_eq(v, UINT64_MAX);
}

Test(digits, rejects_non_digits_and_overflow)
{
    uint64_t v = 7;
    cr_assert(!digits_parse_u64("0000000000000000004x", 20, &v));
    cr_assert(!digits_parse_u64("-1", 2, &v));
    cr_assert(!digits_parse_u64("18446744073709551616", 20, &v));
    cr_assert(!digits_parse_u64("99999999999999999999", 20, &v));
    cr_assert_eq(v, 7, "untouched on failure");
}
