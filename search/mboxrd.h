/* mboxrd - writing a message into an mbox file the mboxrd way, a chunk at a time.
 * Owns: the "From " separator line and the escaping: every line that matches ^>*From  gets
 * one more '>' (a reader removes one), so any message, even one with ">From " lines, comes
 * back byte for byte. State is a few counters: memory does not grow with the message. */
#ifndef VL_MBOXRD_H
#define VL_MBOXRD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct mboxrd {
	int bol;	  /* at the start of a line */
	unsigned gt;	  /* '>'s seen at the start of this line, not yet written */
	unsigned matched; /* bytes of "From " matched after them, not yet written */
	int last_nl;	  /* the last byte written was a newline */
};

/* mboxrd_begin - the separator line "From MAILER-DAEMON <asctime of sent_s, UTC>\n" into
 * out, and m reset for a new message. */
void mboxrd_begin(struct mboxrd *m, int64_t sent_s, struct buf *out);

/* mboxrd_feed - n bytes of the message, escaped, appended to out. */
void mboxrd_feed(struct mboxrd *m, const uint8_t *p, size_t n, struct buf *out);

/* mboxrd_end - whatever is pending, a newline if the message did not end with one, and the
 * blank line that ends a message in an mbox. */
void mboxrd_end(struct mboxrd *m, struct buf *out);

#endif
