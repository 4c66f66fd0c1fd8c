/* test_log_client.c: the limiter behind client-caused log lines, on a driven clock. */
#include "log_client.h"

#include <criterion/criterion.h>
#include <string.h>

Test(log_client, a_burst_per_interval_then_one_summary_by_kind)
{
    struct log_limiter l;
    log_limiter_init(&l, 3, 10000);
    int written = 0;
    for (int i = 0; i < 1000; i++)
        written += log_limiter_admit(&l, 5 + i, i % 2 ? LOG_CLIENT_CLOSED : LOG_CLIENT_REFUSED,
                                     i % 2 ? LOG_INFO : LOG_WARN);
    cr_assert_eq(written, 3, "the burst only");
    char line[256];
    enum log_level level;
    cr_assert_not(log_limiter_summary(&l, 9000, line, sizeof line, &level),
                  "no summary before the interval ends");
    cr_assert(log_limiter_summary(&l, 10005, line, sizeof line, &level));
    cr_assert_str_eq(line, "997 more lines about client connections held back in the last 10 s: "
                           "499 closed, 498 refused");
    cr_assert_eq(level, LOG_WARN, "a held-back warning makes the summary one");
    cr_assert_not(log_limiter_summary(&l, 30000, line, sizeof line, &level),
                  "one summary per interval; nothing held back since");
    cr_assert(log_limiter_admit(&l, 30001, LOG_CLIENT_CLOSED, LOG_INFO), "a new window");
}

Test(log_client, a_quiet_interval_writes_no_summary)
{
    struct log_limiter l;
    log_limiter_init(&l, 3, 10000);
    char line[256];
    enum log_level level;
    cr_assert_not(log_limiter_summary(&l, 50000, line, sizeof line, &level));
    for (int i = 0; i < 3; i++)
        cr_assert(log_limiter_admit(&l, 100, LOG_CLIENT_BAD_INPUT, LOG_INFO));
    cr_assert_not(log_limiter_summary(&l, 20000, line, sizeof line, &level),
                  "nothing was held back");
}
