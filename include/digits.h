/* digits.h: fixed-width decimal fields in file names (WAL segments, snapshots). */
#ifndef UTIL_DIGITS_H
#define UTIL_DIGITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses exactly n decimal digits at s into *out; false on a non-digit or a value past
   UINT64_MAX (names on disk are hostile: never trusted to fit). */
bool digits_parse_u64(const char *s, size_t n, uint64_t *out);

#endif
