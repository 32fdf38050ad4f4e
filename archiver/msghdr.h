/* msghdr - the few header fields the store records with every message, read with bounded work.
 * Owns: finding the header block (at most MSGHDR_SCAN_MAX bytes), unfolding, and decoding
 * From/To/Cc/Subject/Date/Message-ID (RFC 2047 via GMime). Not: the full MIME walk (the
 * indexer does that later); a message it cannot read is still archived, with parse_error set. */
#ifndef VL_MSGHDR_H
#define VL_MSGHDR_H

#include <stddef.h>
#include <stdint.h>

#define MSGHDR_SCAN_MAX (256 * 1024) /* bytes of header block looked at */
#define MSGHDR_FIELD_MAX 4096	     /* longest value kept per field */

struct msghdr {
	char *from, *to, *cc, *subject, *message_id; /* UTF-8, owned; NULL when absent */
	int64_t date_us;			     /* 0 when absent or unparsable */
	int parse_error;			     /* header block malformed or missing */
};

/* msghdr_parse - fill h from the first len bytes of a message (callers pass at most
 * MSGHDR_SCAN_MAX). Never fails: what cannot be read is left NULL and flagged. */
void msghdr_parse(struct msghdr *h, const uint8_t *p, size_t len);
void msghdr_free(struct msghdr *h);

#endif
