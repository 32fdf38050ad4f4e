/* buf - growable, binary-safe byte buffers and allocation that never returns NULL.
 * Owns: struct buf (always NUL-terminated past len), and xmalloc-style wrappers that end the
 * process on exhaustion (Postfix mymalloc: "either succeeds or does not return at all"). */
#ifndef VL_BUF_H
#define VL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "vl_err.h"

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* xasprintf - a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* buf_reserve - make room for extra more bytes (plus the NUL). Never moves data the caller
 * holds except through b->data, which the caller must re-read after any append. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_append_str(struct buf *b, const char *s);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_append_u32le(struct buf *b, uint32_t v);
void buf_append_u64le(struct buf *b, uint64_t v);
void buf_reset(struct buf *b);
/* buf_free - release the storage; the struct itself stays usable (empty). */
void buf_free(struct buf *b);

/* Little-endian fixed-width codecs for on-disk formats. */
void put_u32le(uint8_t *p, uint32_t v);
void put_u64le(uint8_t *p, uint64_t v);
uint32_t get_u32le(const uint8_t *p);
uint64_t get_u64le(const uint8_t *p);
void put_u64be(uint8_t *p, uint64_t v);

/* hex_encode - write 2*n lowercase hex digits and a NUL into out (2*n+1 bytes). */
void hex_encode(char *out, const uint8_t *in, size_t n);
/* hex_value - the value of hex digit c (either case), or -1. */
int hex_value(int c);
/* hex_decode - parse exactly 2*n hex digits of in into out; -1 on any other input. */
int hex_decode(uint8_t *out, size_t n, const char *in);

#endif
