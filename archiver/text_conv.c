/* text_conv - text in any charset iconv knows to UTF-8, streaming, into a sink (see
 * text_conv.h). */
#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text_conv.h"
#include "utf8.h"

static const char utf8_replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Windows-1252 0x80-0x9F (0 where undefined); 0xA0-0xFF are Latin-1. Used for bytes that are
 * not UTF-8 in text that declares no charset, US-ASCII, ISO-8859-1 or UTF-8 (WHATWG's rule
 * for ISO-8859-1, and what mislabelled 8-bit mail nearly always is). */
static const uint16_t cp1252_hi[32] = {
	0x20ac, 0,	0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
	0x2039, 0x0152, 0,	0x017d, 0,	0,	0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,	0x017e, 0x0178,
};

/* text_conv_cp1252 - see text_conv.h. */
uint32_t
text_conv_cp1252(uint8_t b)
{
	return b >= 0x80 && b < 0xa0 ? cp1252_hi[b - 0x80] : b;
}

/* Labels mapped to the superset iconv should use: mail labels the base set and sends the
 * vendor's (NEC and IBM rows in Shift_JIS and EUC-JP, GBK/GB18030 for GB2312, UHC for EUC-KR). */
static const struct {
	const char *label, *use;
} charset_map[] = {
	{"shift_jis", "CP932"},	     {"shift-jis", "CP932"},	   {"sjis", "CP932"},
	{"x-sjis", "CP932"},	     {"ms_kanji", "CP932"},	   {"csshiftjis", "CP932"},
	{"windows-31j", "CP932"},    {"x-ms-cp932", "CP932"},	   {"cp932", "CP932"},
	{"euc-jp", "EUC-JP-MS"},     {"x-euc-jp", "EUC-JP-MS"},
	{"cseucpkdfmtjapanese", "EUC-JP-MS"},
	{"gb2312", "GB18030"},	     {"gbk", "GB18030"},	   {"x-gbk", "GB18030"},
	{"cp936", "GB18030"},	     {"euc-cn", "GB18030"},	   {"x-euc-cn", "GB18030"},
	{"gb_2312-80", "GB18030"},   {"csgb2312", "GB18030"},	   {"chinese", "GB18030"},
	{"big5", "BIG5-HKSCS"},	     {"x-big5", "BIG5-HKSCS"},	   {"cn-big5", "BIG5-HKSCS"},
	{"csbig5", "BIG5-HKSCS"},    {"ks_c_5601-1987", "CP949"},  {"ks_c_5601", "CP949"},
	{"euc-kr", "CP949"},	     {"korean", "CP949"},	   {"csksc56011987", "CP949"},
	{"iso-8859-11", "CP874"},    {"tis-620", "CP874"},	   {"iso-8859-9", "CP1254"},
};

/* Labels read as "UTF-8 where valid, else Windows-1252" (TEXT_CONV_AUTO). */
static const char *const charset_auto[] = {
	"us-ascii", "ascii", "ansi_x3.4-1968", "iso-8859-1", "iso_8859-1", "latin1", "l1",
	"iso8859-1", "utf-8", "utf8", "x-unknown", "unknown", "unknown-8bit", "x-user-defined",
	"default", "windows-1252", "cp1252", "8bit",
};

/* ISO-2022-JP labels: decoded through our own switch to EUC-JP-MS, which knows the NEC row 13
 * (circled numbers) and the JIS X 0201 katakana (ESC ( I) that glibc's ISO-2022-JP refuses. */
static const char *const charset_jis[] = {
	"iso-2022-jp", "csiso2022jp", "iso-2022-jp-1", "iso-2022-jp-ms", "cp50220", "cp50221",
	"cp50222", "jis", "x-jis",
};


/* text_conv_label_in - see text_conv.h. */
int
text_conv_label_in(const char *label, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(label, list[i]) == 0)
			return 1;
	return 0;
}

static int
has_jis_escape(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (p[i] == 0x1b && p[i + 1] == '$' && (p[i + 2] == 'B' || p[i + 2] == '@'))
			return 1;
	return 0;
}

/* The gconv module of a charset is loaded by iconv_open and unloaded by the last iconv_close
 * (dlclose: an unmap and a TLB flush on every core). Per message that was most of the cost of
 * reading non-UTF-8 text (ISO-2022-JP: ~300 us a message, for the indexer and for each snippet
 * of a search), so one descriptor per charset is kept open for the life of the process and the
 * module stays loaded: at most TEXT_CONV_ICONV_PINNED charsets, never closed, guarded by pin_mu
 * (the only state text_conv shares between threads). */
static pthread_mutex_t pin_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[64];
	iconv_t cd; /* held, never used: it keeps the module loaded */
} pinned[TEXT_CONV_ICONV_PINNED];
static size_t npinned;

/* iconv_pin - keep the module of charset name (one iconv_open just accepted) loaded. */
static void
iconv_pin(const char *name)
{
	size_t i;

	pthread_mutex_lock(&pin_mu);
	for (i = 0; i < npinned; i++)
		if (strcmp(pinned[i].name, name) == 0)
			break;
	if (i == npinned && npinned < TEXT_CONV_ICONV_PINNED &&
	    strlen(name) < sizeof(pinned[0].name)) {
		pinned[npinned].cd = iconv_open("UTF-8", name);
		if (pinned[npinned].cd != (iconv_t)-1)
			snprintf(pinned[npinned++].name, sizeof(pinned[0].name), "%s", name);
	}
	pthread_mutex_unlock(&pin_mu);
}

/* text_conv_open - choose how to read text labelled charset (NULL: unlabelled); sample is the
 * first bytes, used only to recognise unlabelled ISO-2022-JP. */
void
text_conv_open(struct text_conv *c, const char *charset, const uint8_t *sample, size_t n)
{
	char label[64];
	const char *use = NULL, *name;

	memset(c, 0, sizeof(*c));
	c->cd = (iconv_t)-1;
	c->lead = -1;
	c->mode = TEXT_CONV_AUTO;
	snprintf(label, sizeof(label), "%s", charset ? charset : "");
	for (char *q = label; *q; q++)
		if (*q == '"' || *q == '\'' || *q == ' ')
			*q = 0;
	if (label[0] == 0 || text_conv_label_in(label, charset_auto, G_N_ELEMENTS(charset_auto))) {
		if (!has_jis_escape(sample, n))
			return;
		snprintf(label, sizeof(label), "iso-2022-jp");
	}
	if (text_conv_label_in(label, charset_jis, G_N_ELEMENTS(charset_jis))) {
		c->jis = 1;
		use = "EUC-JP-MS";
	} else {
		for (size_t i = 0; i < G_N_ELEMENTS(charset_map) && !use; i++)
			if (strcasecmp(label, charset_map[i].label) == 0)
				use = charset_map[i].use;
	}
	name = use ? use : label;
	c->cd = iconv_open("UTF-8", name);
	if (c->cd == (iconv_t)-1 && !use) {
		name = g_mime_charset_iconv_name(label);
		c->cd = iconv_open("UTF-8", name);
	}
	if (c->cd == (iconv_t)-1) {
		c->jis = 0; /* unknown to iconv: read it as UTF-8 or Windows-1252 */
		c->unknown = 1;
		return;
	}
	iconv_pin(name);
	/* GMime decodes the message's encoded words (=?iso-2022-jp?...) under its own name for
	 * the charset: that module too. */
	iconv_pin(g_mime_charset_iconv_name(label));
	c->mode = TEXT_CONV_ICONV;
}

/* jis_feed - ISO-2022-JP to EUC-JP(-MS), appended to c->eucbuf: JIS X 0208 pairs get their
 * high bits, JIS X 0201 katakana becomes SS2 + byte, JIS X 0212 SS3 + pair. */
static void
jis_feed(struct text_conv *c, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];

		if (c->nesc > 0 || b == 0x1b) {
			c->esc[c->nesc++] = b;
			if (c->nesc < 3 || (c->nesc == 3 && c->esc[1] == '$' && c->esc[2] == '('))
				continue; /* ESC ( F, ESC $ F, ESC $ ( F */
			const uint8_t *e = c->esc + 1;
			if (c->nesc == 3 && e[0] == '(' && (e[1] == 'B' || e[1] == 'J'))
				c->set = TEXT_CONV_JIS_ASCII;
			else if (c->nesc == 3 && e[0] == '(' && e[1] == 'I')
				c->set = TEXT_CONV_JIS_KANA;
			else if (c->nesc == 3 && e[0] == '$' && (e[1] == 'B' || e[1] == '@'))
				c->set = TEXT_CONV_JIS_0208;
			else if (c->nesc == 4 && e[1] == '(' && e[2] == 'D')
				c->set = TEXT_CONV_JIS_0212;
			else if (c->nesc == 4 && e[1] == '(' && (e[2] == 'Q' || e[2] == 'O'))
				c->set = TEXT_CONV_JIS_0208; /* JIS X 0213 plane 1: 0208 and more */
			else
				c->set = TEXT_CONV_JIS_OTHER;
			c->nesc = 0;
			c->lead = -1;
			continue;
		}
		if (b == '\n' || b == '\r') {
			/* RFC 1468: every line ends in ASCII; tolerate senders that forget. */
			c->set = TEXT_CONV_JIS_ASCII;
			c->lead = -1;
		}
		if (c->set == TEXT_CONV_JIS_ASCII || b < 0x21 || b > 0x7e) {
			buf_append(&c->eucbuf, &b, 1);
			continue;
		}
		if (c->set == TEXT_CONV_JIS_KANA) {
			uint8_t o[2] = {0x8e, (uint8_t)(b | 0x80)};
			buf_append(&c->eucbuf, o, 2);
		} else if (c->set == TEXT_CONV_JIS_OTHER) {
			buf_append(&c->eucbuf, "?", 1);
		} else if (c->lead < 0) {
			c->lead = b;
		} else {
			uint8_t o[3] = {0x8f, (uint8_t)(c->lead | 0x80), (uint8_t)(b | 0x80)};
			if (c->set == TEXT_CONV_JIS_0212)
				buf_append(&c->eucbuf, o, 3);
			else
				buf_append(&c->eucbuf, o + 1, 2);
			c->lead = -1;
		}
	}
}

/* conv_auto - UTF-8 where the bytes are UTF-8, Windows-1252 for every other byte. Returns the
 * bytes consumed: an unfinished UTF-8 prefix at the end is left unless final. */
static size_t
conv_auto(struct sink *s, const uint8_t *p, size_t n, int final)
{
	size_t i = 0, run = 0;

	while (i < n && !s->full) {
		uint32_t cp;
		int k = p[i] < 0x80 ? 1 : utf8_decode(p + i, n - i, &cp);

		if (k > 0) {
			i += (size_t)k;
			continue;
		}
		sink_put(s, p + run, i - run);
		if (k < 0 && !final)
			return i;
		cp = p[i] >= 0xa0 ? p[i] : cp1252_hi[p[i] - 0x80];
		sink_cp(s, cp ? cp : 0xfffd);
		run = ++i;
	}
	sink_put(s, p + run, i - run);
	return n;
}

/* conv_iconv - convert through c->cd; an unfinished sequence at the end is left unless final,
 * an invalid one becomes U+FFFD and conversion goes on after its first byte. */
static size_t
conv_iconv(struct text_conv *c, struct sink *s, const uint8_t *p, size_t n, int final)
{
	char out[16384];
	char *in = (char *)(uintptr_t)p; /* iconv's prototype lacks const */
	size_t left = n;

	while (left > 0 && !s->full) {
		char *o = out;
		size_t oleft = sizeof(out);
		size_t r = iconv(c->cd, &in, &left, &o, &oleft);
		int e = errno;

		sink_put(s, (const uint8_t *)out, (size_t)(o - out));
		if (r != (size_t)-1 || e == E2BIG)
			continue;
		if (e == EINVAL && !final)
			break;
		sink_put(s, (const uint8_t *)utf8_replacement, 3);
		c->bad++;
		in++;
		left--;
	}
	return n - left;
}

/* text_conv_feed - convert n more bytes into s (final: nothing follows). */
void
text_conv_feed(struct text_conv *c, struct sink *s, const uint8_t *p, size_t n, int final)
{
	size_t used;

	if (c->jis) {
		buf_reset(&c->eucbuf);
		jis_feed(c, p, n);
		p = c->eucbuf.data;
		n = c->eucbuf.len;
	}
	if (n > 0)
		buf_append(&c->stage, p, n);
	if (c->stage.len == 0)
		return;
	if (c->mode == TEXT_CONV_AUTO)
		used = conv_auto(s, c->stage.data, c->stage.len, final);
	else
		used = conv_iconv(c, s, c->stage.data, c->stage.len, final);
	if (used > 0) {
		memmove(c->stage.data, c->stage.data + used, c->stage.len - used);
		c->stage.len -= used;
	}
}

/* text_conv_close - see text_conv.h. */
void
text_conv_close(struct text_conv *c)
{
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	buf_free(&c->stage);
	buf_free(&c->eucbuf);
}
