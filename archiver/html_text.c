/* html_text - the text of an HTML document, and the charset its <meta> names (see
 * html_text.h). */
#include <glib.h>
#include <string.h>

#include "html_text.h"
#include "text_conv.h"

static const struct {
	const char *name;
	uint32_t cp;
} html_entities[] = {
	{"amp", '&'},	   {"lt", '<'},		{"gt", '>'},	   {"quot", '"'},
	{"apos", '\''},	   {"nbsp", ' '},	{"ensp", ' '},	   {"emsp", ' '},
	{"thinsp", ' '},   {"shy", 0},		{"zwnj", 0},	   {"zwj", 0},
	{"copy", 0xa9},	   {"reg", 0xae},	{"trade", 0x2122}, {"hellip", 0x2026},
	{"mdash", 0x2014}, {"ndash", 0x2013},	{"lsquo", 0x2018}, {"rsquo", 0x2019},
	{"sbquo", 0x201a}, {"ldquo", 0x201c},	{"rdquo", 0x201d}, {"bdquo", 0x201e},
	{"laquo", 0xab},   {"raquo", 0xbb},	{"bull", 0x2022},  {"middot", 0xb7},
	{"euro", 0x20ac},  {"pound", 0xa3},	{"yen", 0xa5},	   {"cent", 0xa2},
	{"sect", 0xa7},	   {"para", 0xb6},	{"deg", 0xb0},	   {"plusmn", 0xb1},
	{"times", 0xd7},   {"divide", 0xf7},	{"iexcl", 0xa1},   {"iquest", 0xbf},
	{"auml", 0xe4},	   {"ouml", 0xf6},	{"uuml", 0xfc},	   {"Auml", 0xc4},
	{"Ouml", 0xd6},	   {"Uuml", 0xdc},	{"szlig", 0xdf},   {"eacute", 0xe9},
	{"egrave", 0xe8},  {"ecirc", 0xea},	{"aacute", 0xe1},  {"agrave", 0xe0},
	{"acirc", 0xe2},   {"ccedil", 0xe7},	{"ntilde", 0xf1},  {"oacute", 0xf3},
	{"iacute", 0xed},  {"uacute", 0xfa},	{"Eacute", 0xc9},  {"aring", 0xe5},
	{"oslash", 0xf8},  {"aelig", 0xe6},
};

/* Elements whose end or start separates text (a line break); others (b, span, a) do not, so
 * "<b>wo</b>rd" stays one word. */
static const char *const html_block[] = {
	"br", "p", "div", "tr", "td", "th", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3",
	"h4", "h5", "h6", "table", "blockquote", "pre", "hr", "title", "section", "article",
	"header", "footer", "center", "form", "option", "address",
};

/* find_ci - the first case-insensitive occurrence of pat in p[i..n), or n. */
static size_t
find_ci(const uint8_t *p, size_t i, size_t n, const char *pat)
{
	size_t m = strlen(pat);

	for (; i + m <= n; i++)
		if (g_ascii_strncasecmp((const char *)p + i, pat, m) == 0)
			return i;
	return n;
}

/* html_entity_dec - decode the entity at p[i] == '&' into s and return the bytes it used; 1,
 * with nothing written, when there is none. */
static size_t
html_entity_dec(struct sink *s, const uint8_t *p, size_t i, size_t n)
{
	size_t j = i + 1, end = i + 1 + HTML_ENTITY_MAX;
	uint32_t cp = 0;

	if (end > n)
		end = n;
	if (j < end && p[j] == '#') {
		int hex = j + 1 < end && (p[j + 1] == 'x' || p[j + 1] == 'X');
		size_t d = j + 1 + (size_t)hex, k = d;

		while (k < end && k - d < 8 &&
		       (hex ? g_ascii_isxdigit(p[k]) : g_ascii_isdigit(p[k]))) {
			cp = cp * (hex ? 16 : 10) +
			     (uint32_t)(hex ? g_ascii_xdigit_value((char)p[k]) : p[k] - '0');
			k++;
		}
		if (k == d)
			return 1;
		if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		else if (cp >= 0x80 && cp < 0xa0 && text_conv_cp1252((uint8_t)cp))
			cp = text_conv_cp1252((uint8_t)cp); /* &#150;: what Windows-1252 says */
		sink_cp(s, cp);
		return k - i + (k < n && p[k] == ';');
	}
	while (j < end && g_ascii_isalnum(p[j]))
		j++;
	if (j >= n || p[j] != ';')
		return 1;
	for (size_t e = 0; e < G_N_ELEMENTS(html_entities); e++) {
		const char *nm = html_entities[e].name;

		if (strlen(nm) == j - i - 1 && memcmp(nm, p + i + 1, j - i - 1) == 0) {
			if (html_entities[e].cp)
				sink_cp(s, html_entities[e].cp);
			return j - i + 1;
		}
	}
	return 1;
}

/* html_entity - decode the entity at p[i] == '&' into s; returns the bytes it used (1 when it
 * is no entity: then the '&' is written as text). */
static size_t
html_entity(struct sink *s, const uint8_t *p, size_t i, size_t n)
{
	size_t used = html_entity_dec(s, p, i, n);

	if (used == 1)
		sink_put(s, (const uint8_t *)"&", 1);
	return used;
}

/* html_tag - skip the tag at p[i] == '<' (quotes respected, comments, <!...>, <?...>), and the
 * content of script and style; a block element writes a line break. Returns where text goes
 * on. Every byte is looked at a bounded number of times: the work is linear in n. */
static size_t
html_tag(struct sink *s, const uint8_t *p, size_t i, size_t n)
{
	char name[16];
	size_t j = i + 1, k = 0;
	int closing = 0;

	if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
		j = find_ci(p, i + 4, n, "-->");
		return j < n ? j + 3 : n;
	}
	if (j < n && p[j] == '/') {
		closing = 1;
		j++;
	}
	if (j >= n || !(g_ascii_isalpha(p[j]) || p[j] == '!' || p[j] == '?')) {
		sink_put(s, (const uint8_t *)"<", 1); /* "a < b": not a tag */
		return i + 1;
	}
	while (j < n && g_ascii_isalnum(p[j]) && k < sizeof(name) - 1)
		name[k++] = (char)g_ascii_tolower((char)p[j++]);
	name[k] = 0;
	for (char q = 0; j < n; j++) {
		if (q) {
			if (p[j] == q)
				q = 0;
		} else if (p[j] == '"' || p[j] == '\'') {
			q = (char)p[j];
		} else if (p[j] == '>') {
			break;
		}
	}
	j = j < n ? j + 1 : n;
	if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0)) {
		size_t e = find_ci(p, j, n, name[1] == 'c' ? "</script" : "</style");

		while (e < n && p[e] != '>')
			e++;
		return e < n ? e + 1 : n;
	}
	if (text_conv_label_in(name, html_block, G_N_ELEMENTS(html_block)))
		sink_put(s, (const uint8_t *)"\n", 1);
	return j;
}

/* html_text_write - the text of an HTML document (UTF-8) into s, white space collapsed. */
void
html_text_write(struct sink *s, const uint8_t *p, size_t n)
{
	size_t i = 0, run = 0;

	s->collapse = 1;
	s->space = 1;
	while (i < n && !s->full) {
		if (p[i] != '<' && p[i] != '&') {
			i++;
			continue;
		}
		sink_put(s, p + run, i - run);
		i = p[i] == '<' ? html_tag(s, p, i, n) : i + html_entity(s, p, i, n);
		run = i;
	}
	sink_put(s, p + run, i - run);
	s->collapse = 0;
}

/* html_text_charset - the charset a <meta> names in the first bytes of an HTML part, into out. */
int
html_text_charset(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t i, k = 0;

	if (n > HTML_SNIFF_MAX)
		n = HTML_SNIFF_MAX;
	i = find_ci(p, 0, n, "charset=");
	if (i >= n)
		return 0;
	for (i += 8; i < n && (p[i] == '"' || p[i] == '\'' || p[i] == ' '); i++)
		;
	while (i < n && k + 1 < outlen && (g_ascii_isalnum(p[i]) || (p[i] && strchr("-_.:", p[i]))))
		out[k++] = (char)p[i++];
	out[k] = 0;
	return k > 0;
}
