/* CRC-32C (Castagnoli), as iSCSI, ext4 and PostgreSQL's WAL use it:
 * detects torn and damaged journal records. */
#ifndef CRC32C_H
#define CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc: 0 to start, or a previous result to continue. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
