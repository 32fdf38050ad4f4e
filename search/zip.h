/* zip - a folder as a ZIP archive of stored (uncompressed) entries, written to an fd.
 * Owns: CRC-32, local headers, the central directory, and ZIP64 records when an entry, an
 * offset or the entry count outgrows the classic fields. Mail is mostly compressed already
 * (and exports are evidence: stored bytes are the bytes), so nothing is deflated. Each file is
 * read twice (its CRC, then its bytes) so every header is written once with its final values;
 * memory is one copy buffer plus the central directory (about 100 bytes an entry). */
#ifndef VL_ZIP_H
#define VL_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "vl_err.h"

/* zip_crc32 - continue crc (0 to start) over n bytes. */
uint32_t zip_crc32(uint32_t crc, const void *p, size_t n);

/* zip_dir - every file and folder under dir, named "<top>/<relative path>", sorted, to fd.
 * VL_ERR_IO, VL_ERR_LIMIT (a name over 65535 bytes). */
enum vl_err zip_dir(int fd, const char *dir, const char *top, char *err) VL_MUST_CHECK;

#endif
