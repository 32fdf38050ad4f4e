/* snippet - the text a search hit's snippet is cut from, read from the message itself (see
 * snippet.h). */
#include <string.h>

#include "mime_extract.h"
#include "snippet.h"

/* The first bytes of the record, up to head->max; the rest is decoded (and verified) by the
 * vault but not kept. */
struct head {
	struct buf b;
	size_t max;
};

static enum vl_err
head_fn(void *arg, const uint8_t *p, size_t n)
{
	struct head *h = arg;

	if (h->b.len < h->max)
		buf_append(&h->b, p, n < h->max - h->b.len ? n : h->max - h->b.len);
	return VL_OK;
}

enum vl_err
snippet_text(struct vault *v, const struct snippet_src *src, int attachments, struct buf *out,
	     char *err)
{
	struct head raw = {.max = attachments ? SNIPPET_ATTACH_RAW_MAX : SNIPPET_RAW_MAX};
	size_t text_max = attachments ? SNIPPET_ATTACH_TEXT_MAX : SNIPPET_TEXT_MAX;
	struct record_info info;
	struct mime_meta m;
	enum vl_err rc;
	size_t n;

	buf_reset(out);
	buf_append(out, "", 0);
	memset(&m, 0, sizeof(m));
	buf_reserve(&raw.b, src->raw_size < raw.max ? src->raw_size : raw.max);
	rc = vault_read(v, src->segment_id, src->offset, src->sha256, head_fn, &raw, &info, err);
	if (rc == VL_OK)
		/* Never a PDF's text: it would cost a process for a hit of a page. */
		rc = mime_extract(&m, raw.b.data, raw.b.len,
				  attachments ? MIME_ATTACH_TEXT | MIME_ATTACH_IN_PROCESS : 0, err);
	if (rc == VL_OK && m.body != NULL) {
		n = m.body_len < text_max ? m.body_len : text_max;
		/* Back to the start of a character: the text is valid UTF-8. */
		while (n > 0 && n < m.body_len && ((uint8_t)m.body[n] & 0xc0) == 0x80)
			n--;
		buf_append(out, m.body, n);
	}
	mime_meta_free(&m);
	buf_free(&raw.b);
	return rc;
}
