/* tar - a folder as a POSIX ustar archive, written to an fd a file at a time.
 * Owns: ustar headers (name split over prefix/name, octal fields, checksum), the 512-byte
 * padding and the two zero blocks at the end. Regular files and folders only; memory is one
 * copy buffer whatever the folder's size. Not: compression, reading archives. */
#ifndef VL_TAR_H
#define VL_TAR_H

#include "vl_err.h"

/* tar_dir - write every file and folder under dir, named "<top>/<relative path>", in sorted
 * order, to fd. VL_ERR_LIMIT for a name ustar cannot hold (over 255 bytes, or no '/' to split
 * it at), VL_ERR_IO. */
enum vl_err tar_dir(int fd, const char *dir, const char *top, char *err) VL_MUST_CHECK;

#endif
