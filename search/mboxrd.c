/* mboxrd - streaming mboxrd escaping; see mboxrd.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mboxrd.h"

static const char from_[] = "From ";

void
mboxrd_begin(struct mboxrd *m, int64_t sent_s, struct buf *out)
{
	time_t t = (time_t)sent_s;
	struct tm tm;
	char when[64];

	memset(m, 0, sizeof(*m));
	m->bol = 1;
	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y",
						  &tm) == 0)
		snprintf(when, sizeof(when), "Thu Jan  1 00:00:00 1970");
	buf_appendf(out, "From MAILER-DAEMON %s\n", when);
}

/* flush_pending - the '>'s and the part of "From " held back at the start of a line. */
static void
flush_pending(struct mboxrd *m, struct buf *out)
{
	for (unsigned i = 0; i < m->gt; i++)
		buf_append(out, ">", 1);
	buf_append(out, from_, m->matched);
	if (m->gt || m->matched)
		m->last_nl = 0;
	m->gt = m->matched = 0;
	m->bol = 0;
}

void
mboxrd_feed(struct mboxrd *m, const uint8_t *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (m->bol) {
			if (m->matched == 0 && ch == '>') {
				m->gt++;
				continue;
			}
			if (ch == (uint8_t)from_[m->matched]) {
				if (++m->matched < sizeof(from_) - 1)
					continue;
				buf_append(out, ">", 1); /* the escape */
				flush_pending(m, out);
				continue;
			}
			flush_pending(m, out);
		}
		/* The rest of the line in one piece. */
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t run = nl ? (size_t)(nl - (p + i)) + 1 : n - i;

		buf_append(out, p + i, run);
		i += run - 1;
		m->last_nl = p[i] == '\n';
		m->bol = m->last_nl;
	}
}

void
mboxrd_end(struct mboxrd *m, struct buf *out)
{
	if (m->gt || m->matched)
		flush_pending(m, out);
	if (!m->last_nl)
		buf_append(out, "\n", 1);
	buf_append(out, "\n", 1);
	m->bol = 1;
	m->last_nl = 1;
}
