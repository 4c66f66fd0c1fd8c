/* crc32c.h: CRC-32C (Castagnoli), the checksum of WAL records, snapshots and chunks. */
#ifndef UTIL_CRC32C_H
#define UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over data[0..len). crc32c("123456789") == 0xE3069283. */
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t len);

static inline uint32_t crc32c(const void *data, size_t len) { return crc32c_extend(0, data, len); }

#endif
