/* test_crc32c.c: CRC-32C against published check values (RFC 3720 B.4). */
#include <criterion/criterion.h>
#include <string.h>

#include "crc32c.h"

Test(crc32c, check_value)
{
    cr_assert_eq(crc32c("123456789", 9), 0xE3069283u);
}

Test(crc32c, rfc3720_vectors)
{
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    cr_assert_eq(crc32c(buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof buf);
    cr_assert_eq(crc32c(buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    cr_assert_eq(crc32c(buf, 32), 0x46DD794Eu);
}

Test(crc32c, extend_equals_whole)
{
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = crc32c(buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 37)
        cr_assert_eq(crc32c_extend(crc32c(buf, cut), buf + cut, sizeof buf - cut), whole);
}
