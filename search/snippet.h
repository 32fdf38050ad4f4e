/* snippet - the text a search hit's snippet is cut from, read from the message itself.
 * Owns: reading a hit's record through the vault (verified against its SHA-256), extracting its
 * body text with mime_extract (the very text the indexer indexed), and the bounds on that work.
 * Not: finding and marking the match (search_snippet_dup), choosing the hits (search), the
 * audit trail: a snippet is read only for a hit of a search, and every search writes its audit
 * row (search.c, search_audit), which covers these reads.
 * Why not keep the text in the index: message_index stored each body for snippets, 1.3 KB a
 * message of TOAST (lz4), more than the whole compressed message (0.9 KB); a page reads its
 * hits again instead, at most SEARCH_LIMIT_MAX small records (0007_index_size.sql). */
#ifndef VL_SNIPPET_H
#define VL_SNIPPET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vault.h"
#include "vl_err.h"

#define SNIPPET_RAW_MAX (1u << 20)	 /* bytes of a message parsed for its snippet (its text
					  * comes before its attachments in nearly all mail) */
#define SNIPPET_PAGE_RAW_MAX (32u << 20) /* bytes of messages read for one page's snippets; a
					  * hit past it (or larger itself) shows none */
#define SNIPPET_TEXT_MAX 65536		 /* bytes of body text a snippet is looked for in */
#define SNIPPET_ATTACH_RAW_MAX (16u << 20) /* bytes of a message parsed for its attachments'
					    * text, when its body did not have the match */
#define SNIPPET_ATTACH_TEXT_MAX (1u << 20) /* bytes of body and attachments' text looked in */

/* Where a hit's bytes are: blobs.segment_id, record_offset, sha256, raw_size. */
struct snippet_src {
	uint64_t segment_id, offset, raw_size;
	uint8_t sha256[32];
};

/* snippet_text - the body text of the message at src into out (reset first, NUL-terminated):
 * at most SNIPPET_TEXT_MAX bytes, ending on a whole character, from its first SNIPPET_RAW_MAX
 * bytes. With attachments, the text of its body and of its text, Office and OpenDocument
 * attachments as the indexer joins them (not of PDFs: a process each), at most
 * SNIPPET_ATTACH_TEXT_MAX bytes from its first SNIPPET_ATTACH_RAW_MAX bytes: for a hit whose
 * match is not in its body. Errors of vault_read (VL_ERR_NOKEY: the vault is stale;
 * VL_ERR_CORRUPT...) or mime_extract (VL_ERR_BUSY...); out is empty then. */
enum vl_err snippet_text(struct vault *v, const struct snippet_src *src, int attachments,
			 struct buf *out, char *err) VL_MUST_CHECK;

#endif
