/* snippet - the text a search hit's snippet is cut from, read from the message itself (see
 * snippet.h). */
#include <string.h>

#include "mime_extract.h"
#include "snippet.h"

/* The first SNIPPET_RAW_MAX bytes of the record; the rest is decoded (and verified) by the
 * vault but not kept. */
static enum vl_err
head_fn(void *arg, const uint8_t *p, size_t n)
{
	struct buf *b = arg;

	if (b->len < SNIPPET_RAW_MAX)
		buf_append(b, p, n < SNIPPET_RAW_MAX - b->len ? n : SNIPPET_RAW_MAX - b->len);
	return VL_OK;
}

enum vl_err
snippet_text(struct vault *v, const struct snippet_src *src, struct buf *out, char *err)
{
	struct buf raw = {0};
	struct record_info info;
	struct mime_meta m;
	enum vl_err rc;
	size_t n;

	buf_reset(out);
	buf_append(out, "", 0);
	memset(&m, 0, sizeof(m));
	buf_reserve(&raw, src->raw_size < SNIPPET_RAW_MAX ? src->raw_size : SNIPPET_RAW_MAX);
	rc = vault_read(v, src->segment_id, src->offset, src->sha256, head_fn, &raw, &info, err);
	if (rc == VL_OK)
		/* Without attachments' text: a PDF would cost a process for every hit of a page. */
		rc = mime_extract(&m, raw.data, raw.len, 0, err);
	if (rc == VL_OK && m.body != NULL) {
		n = m.body_len < SNIPPET_TEXT_MAX ? m.body_len : SNIPPET_TEXT_MAX;
		/* Back to the start of a character: the text is valid UTF-8. */
		while (n > 0 && n < m.body_len && ((uint8_t)m.body[n] & 0xc0) == 0x80)
			n--;
		buf_append(out, m.body, n);
	}
	mime_meta_free(&m);
	buf_free(&raw);
	return rc;
}
