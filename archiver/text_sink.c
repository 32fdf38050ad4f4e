/* text_sink - a bounded buffer of UTF-8 text (see text_sink.h). */
#include "text_sink.h"
#include "utf8.h"

/* sink_put - append n bytes that are whole UTF-8 characters. */
void
sink_put(struct sink *s, const uint8_t *p, size_t n)
{
	if (s->full || n == 0)
		return;
	if (s->b->len + n > s->cap) {
		size_t k = s->cap - s->b->len;

		while (k > 0 && (p[k] & 0xc0) == 0x80)
			k--;
		n = k;
		s->full = 1;
	}
	buf_reserve(s->b, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0;

		if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue; /* CRLF text is kept as LF: the same words, fewer bytes */
		if (c == '\r')
			c = '\n';
		if (c == 0)
			c = ' ';
		if (s->collapse) {
			if (ws) {
				if (s->space)
					continue;
				c = c == '\n' ? '\n' : ' ';
				s->space = 1;
			} else {
				s->space = 0;
			}
		}
		if (!ws)
			s->ink++;
		s->b->data[s->b->len++] = c;
	}
	s->b->data[s->b->len] = 0;
}

void
sink_cp(struct sink *s, uint32_t cp)
{
	uint8_t o[4];

	sink_put(s, o, utf8_encode(o, cp));
}

/* sink_sep_len - the bytes sink_sep would write now. */
size_t
sink_sep_len(const struct sink *s)
{
	return s->b->len > 0 && !s->full ? 2 : 0;
}

/* sink_sep - a paragraph break between two parts' text (nothing at the start). */
void
sink_sep(struct sink *s)
{
	if (sink_sep_len(s) > 0)
		sink_put(s, (const uint8_t *)"\n\n", 2);
}
