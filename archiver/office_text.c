/* office_text - the text of OOXML and ODF files (see office_text.h).
 *
 * The XML is read by a small streaming reader of our own, not libxml2: libxml2 is not a
 * dependency, and only character data is wanted. A tag skipper with entity decoding is small,
 * reads each byte once in a fixed amount of state (no tree, no DTD, no entity expansion, so no
 * billion laughs), and takes the entry in chunks as zip_fread hands them over.
 *
 * libzip ownership: the source made over the caller's bytes belongs to the archive once
 * zip_open_from_source succeeds (zip_discard frees both), and is freed here when it fails;
 * every zip_file_t is closed by the function that opened it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "office_text.h"
#include "utf8.h"

#define OFFICE_CHUNK 65536  /* bytes asked of zip_fread at a time */
#define XML_TAG_MAX 256	    /* bytes of a tag kept: its name and first attributes */
#define XML_ENTITY_MAX 16   /* bytes between '&' and ';' looked at ("#x0010FFFF" fits) */
#define PART_DIGITS_MAX 9   /* digits of N in a numbered part (slide<N>.xml) */

static const char utf8_replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
static const uint8_t cfb_magic[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};

/* ---- which kind ---- */

static const struct {
	const char *type;
	enum office_kind kind;
} office_types[] = {
	{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", OFFICE_DOCX},
	{"application/vnd.ms-word.document.macroenabled.12", OFFICE_DOCX},
	{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", OFFICE_XLSX},
	{"application/vnd.ms-excel.sheet.macroenabled.12", OFFICE_XLSX},
	{"application/vnd.openxmlformats-officedocument.presentationml.presentation", OFFICE_PPTX},
	{"application/vnd.ms-powerpoint.presentation.macroenabled.12", OFFICE_PPTX},
	{"application/vnd.oasis.opendocument.text", OFFICE_ODF},
	{"application/vnd.oasis.opendocument.spreadsheet", OFFICE_ODF},
	{"application/vnd.oasis.opendocument.presentation", OFFICE_ODF},
};

static const struct {
	const char *ext;
	enum office_kind kind;
} office_exts[] = {
	{".docx", OFFICE_DOCX}, {".docm", OFFICE_DOCX}, {".xlsx", OFFICE_XLSX},
	{".xlsm", OFFICE_XLSX}, {".pptx", OFFICE_PPTX}, {".pptm", OFFICE_PPTX},
	{".odt", OFFICE_ODF},	{".ods", OFFICE_ODF},	{".odp", OFFICE_ODF},
};

/* kind_of_name - the kind filename's extension names (any case); OFFICE_NONE for NULL. */
static enum office_kind
kind_of_name(const char *filename)
{
	size_t n = filename ? strlen(filename) : 0;

	for (size_t i = 0; i < sizeof(office_exts) / sizeof(office_exts[0]); i++) {
		size_t e = strlen(office_exts[i].ext);

		if (n > e && strcasecmp(filename + n - e, office_exts[i].ext) == 0)
			return office_exts[i].kind;
	}
	return OFFICE_NONE;
}

enum office_kind
office_kind_of(const char *content_type, const char *filename)
{
	for (size_t i = 0; content_type && i < sizeof(office_types) / sizeof(office_types[0]); i++)
		if (strcasecmp(content_type, office_types[i].type) == 0)
			return office_types[i].kind;
	return kind_of_name(filename);
}

/* ---- the text written ---- */

/* The caller's buffer, and how much of it is ours. */
struct text_out {
	struct buf *b;
	size_t start; /* b->len when office_text was called */
	size_t max;   /* bytes we may append */
	int full;     /* text past max was there and was dropped */
};

static size_t
out_written(const struct text_out *o)
{
	return o->b->len - o->start;
}

/* out_put - append n bytes, one whole character or more, or nothing when they do not fit. */
static void
out_put(struct text_out *o, const void *p, size_t n)
{
	if (o->full)
		return;
	if (out_written(o) + n > o->max) {
		o->full = 1;
		return;
	}
	buf_append(o->b, p, n);
}

/* out_sep - white space c between two pieces of text: nothing at the start or after white
 * space (a line break replaces a space or tab there). A separator past max is not text, so it
 * does not set full. */
static void
out_sep(struct text_out *o, char c)
{
	uint8_t *last;

	if (out_written(o) == 0 || o->full)
		return;
	last = &o->b->data[o->b->len - 1];
	if (*last == ' ' || *last == '\t' || *last == '\n') {
		if (c == '\n')
			*last = '\n';
		return;
	}
	if (out_written(o) < o->max)
		buf_append(o->b, &c, 1);
}

/* ---- what an element means ---- */

/* What an element means to the text, by local name: the prefix is dropped, since Word writes
 * w:, Excel often none, PowerPoint a:, LibreOffice text: and table:, other writers their own. */
enum {
	EL_TEXT = 1,	    /* its character data is text */
	EL_SKIP = 2,	    /* nothing inside it is text */
	EL_SKIP_SHARED = 4, /* skipped when its t attribute is "s": an Excel cell whose <v> is an
			     * index into sharedStrings (read there), not text */
	EL_NL = 8,	    /* a line break where it ends */
	EL_TAB = 16,	    /* a tab where it ends */
	EL_SPACE = 32,	    /* a space where it ends */
};

struct el_rule {
	const char *name;
	unsigned flags;
};

static const struct el_rule docx_rules[] = {
	{"t", EL_TEXT},	      /* w:t runs, m:t maths, a:t in drawings */
	{"delText", EL_TEXT}, /* deleted text of a tracked change */
	{"p", EL_NL},	      {"br", EL_NL}, {"cr", EL_NL}, {"tab", EL_TAB}, {"tc", EL_TAB},
	{"Fallback", EL_SKIP}, /* mc:Fallback repeats mc:Choice (text boxes) for old readers */
	{NULL, 0},
};

static const struct el_rule xlsx_rules[] = {
	{"t", EL_TEXT},	  /* <si><t> shared, <is><t> inline strings, and their rich runs */
	{"v", EL_TEXT},	  /* a cell's value */
	{"rPh", EL_SKIP}, /* the phonetic reading of Japanese text, a second copy of it */
	{"c", EL_TAB | EL_SKIP_SHARED}, {"si", EL_NL}, {"row", EL_NL}, {NULL, 0},
};

static const struct el_rule pptx_rules[] = {
	{"t", EL_TEXT}, {"p", EL_NL}, {"br", EL_NL}, {"tc", EL_TAB}, {"Fallback", EL_SKIP},
	{NULL, 0},
};

static const struct el_rule odf_rules[] = {
	{"p", EL_TEXT | EL_NL}, {"h", EL_TEXT | EL_NL}, {"s", EL_SPACE},  {"tab", EL_TAB},
	{"line-break", EL_NL},	{"table-cell", EL_TAB}, {NULL, 0},
};

/* ---- the XML reader ---- */

enum xml_state { XS_TEXT, XS_ENTITY, XS_TAG, XS_COMMENT, XS_CDATA, XS_PI, XS_DECL, XS_NSTATES };

/* One entry's reading state; text goes to o. */
struct xml_rd {
	const struct el_rule *rules;
	struct text_out *o;
	enum xml_state state;
	uint8_t tag[XML_TAG_MAX]; /* the tag's first bytes, after '<' */
	size_t tlen;
	uint8_t quote;		  /* the quote an attribute value is open in, else 0 */
	uint8_t last;		  /* the tag's last byte outside quotes and white space */
	char ent[XML_ENTITY_MAX]; /* the entity's bytes after '&' */
	size_t elen;
	uint8_t u8[4]; /* an unfinished UTF-8 sequence of text */
	size_t u8len;
	unsigned run;	  /* '-' before "-->", ']' before "]]>", '?' before "?>" */
	unsigned depth;	  /* '[' open in a declaration: a DOCTYPE's internal subset */
	unsigned lt;	  /* bytes of "<!--" seen in that subset */
	enum xml_state back; /* where a comment or PI ends: XS_TEXT, or XS_DECL in a subset */
	unsigned text;	  /* open EL_TEXT elements */
	unsigned skip;	  /* open EL_SKIP elements, and skipped shared cells */
	const char *skipped; /* the name of the outermost of them */
	unsigned head;	  /* bytes of the entry looked at for a UTF-16 BOM, up to 2 */
	uint8_t bom;	  /* its first byte, held back */
	enum { U16_NO, U16_LE, U16_BE } u16;
	int u16odd;	  /* a UTF-16 code unit's first byte is in u16b */
	uint8_t u16b;
	uint32_t u16hi;	  /* a high surrogate waiting for its low one, else 0 */
	unsigned shared;  /* open skipped shared cells */
};

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
emitting(const struct xml_rd *x)
{
	return x->text > 0 && x->skip == 0;
}

/* text_cp - write code point cp: NUL, surrogates and values past U+10FFFF become U+FFFD,
 * other control characters a space (XML 1.0 allows none but tab and line ends). */
static void
text_cp(struct xml_rd *x, uint32_t cp)
{
	uint8_t o[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	else if (cp < 0x20 && cp != '\t' && cp != '\n')
		cp = ' ';
	out_put(x->o, o, utf8_encode(o, cp));
}

/* text_flush - an unfinished UTF-8 sequence where text ends becomes U+FFFD. */
static void
text_flush(struct xml_rd *x)
{
	if (x->u8len > 0)
		out_put(x->o, utf8_replacement, 3);
	x->u8len = 0;
}

/* text_byte - one byte of character data: ASCII at once, other bytes once their sequence is
 * whole; an invalid sequence becomes U+FFFD and the byte that broke it starts afresh. */
static void
text_byte(struct xml_rd *x, uint8_t c)
{
	uint32_t cp;
	int k;

	if (x->u8len == 0 && c < 0x80) {
		text_cp(x, c);
		return;
	}
	x->u8[x->u8len++] = c;
	k = utf8_decode(x->u8, x->u8len, &cp);
	if (k < 0)
		return;
	if (k > 0) {
		out_put(x->o, x->u8, (size_t)k);
		x->u8len = 0;
		return;
	}
	out_put(x->o, utf8_replacement, 3);
	k = x->u8len > 1; /* c broke a sequence begun before it: c starts afresh */
	x->u8len = 0;
	if (k)
		text_byte(x, c);
}

/* entity_cp - the code point of entity e (n bytes between '&' and ';'); -1 when it is no
 * entity XML defines without a DTD. A numeric one past U+10FFFF gives 0x110000. */
static int
entity_cp(const char *e, size_t n, uint32_t *cp)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	int hex = n > 1 && e[0] == '#' && (e[1] == 'x' || e[1] == 'X');
	size_t d = 1 + (size_t)hex;

	if (n == 0 || e[0] != '#') {
		for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
			if (strlen(named[i].name) == n && memcmp(named[i].name, e, n) == 0) {
				*cp = named[i].cp;
				return 0;
			}
		return -1;
	}
	if (d >= n)
		return -1;
	*cp = 0;
	for (size_t i = d; i < n; i++) {
		int v = hex ? hex_value(e[i]) : (e[i] >= '0' && e[i] <= '9' ? e[i] - '0' : -1);

		if (v < 0)
			return -1;
		if (*cp <= 0x10ffff)
			*cp = *cp * (hex ? 16 : 10) + (uint32_t)v;
	}
	if (*cp > 0x10ffff)
		*cp = 0x110000;
	return 0;
}

/* entity_raw - what looked like an entity and is none is text as written. */
static void
entity_raw(struct xml_rd *x, int semicolon)
{
	out_put(x->o, "&", 1);
	for (size_t i = 0; i < x->elen; i++)
		out_put(x->o, &x->ent[i], 1);
	if (semicolon)
		out_put(x->o, ";", 1);
}

static void st_text(struct xml_rd *x, uint8_t c);

static void
st_entity(struct xml_rd *x, uint8_t c)
{
	uint32_t cp;

	if (c == ';') {
		if (entity_cp(x->ent, x->elen, &cp) == 0)
			text_cp(x, cp);
		else
			entity_raw(x, 1);
		x->state = XS_TEXT;
		return;
	}
	if (x->elen < XML_ENTITY_MAX && (is_alnum(c) || (c == '#' && x->elen == 0))) {
		x->ent[x->elen++] = (char)c;
		return;
	}
	entity_raw(x, 0);
	x->state = XS_TEXT;
	st_text(x, c);
}

static void
st_text(struct xml_rd *x, uint8_t c)
{
	if (c == '<') {
		text_flush(x);
		x->state = XS_TAG;
		x->tlen = 0;
		x->quote = x->last = 0;
		return;
	}
	if (!emitting(x))
		return;
	if (c == '&') {
		text_flush(x);
		x->state = XS_ENTITY;
		x->elen = 0;
		return;
	}
	text_byte(x, c);
}

/* tag_attr_is - whether the tag kept has attribute name (exactly, no prefix) equal to val. */
static int
tag_attr_is(const struct xml_rd *x, const char *name, const char *val)
{
	const uint8_t *p = x->tag, *end = x->tag + x->tlen;

	while (p < end && !is_space(*p))
		p++; /* the element's name */
	for (;;) {
		const uint8_t *an, *ae, *v;
		uint8_t q;

		while (p < end && is_space(*p))
			p++;
		for (an = p; p < end && *p != '=' && !is_space(*p);)
			p++;
		ae = p;
		while (p < end && (is_space(*p) || *p == '='))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return 0;
		q = *p++;
		for (v = p; p < end && *p != q;)
			p++;
		if (p >= end)
			return 0;
		if ((size_t)(ae - an) == strlen(name) && memcmp(an, name, strlen(name)) == 0)
			return (size_t)(p - v) == strlen(val) && memcmp(v, val, strlen(val)) == 0;
		p++;
	}
}

/* tag_rule - the rule for the tag kept (its local name), or NULL. */
static const struct el_rule *
tag_rule(const struct xml_rd *x, int closing)
{
	const uint8_t *name = x->tag + closing, *end = name, *local;

	while (end < x->tag + x->tlen && !is_space(*end) && *end != '/')
		end++;
	for (local = end; local > name && local[-1] != ':';)
		local--;
	for (const struct el_rule *r = x->rules; r->name; r++)
		if (strlen(r->name) == (size_t)(end - local) &&
		    memcmp(r->name, local, (size_t)(end - local)) == 0)
			return r;
	return NULL;
}

static void
el_start(struct xml_rd *x, const struct el_rule *r)
{
	if (x->skip == 0)
		x->skipped = r->name; /* what skips, if this does */
	if (r->flags & EL_TEXT)
		x->text++;
	if (r->flags & EL_SKIP)
		x->skip++;
	if ((r->flags & EL_SKIP_SHARED) && tag_attr_is(x, "t", "s")) {
		x->skip++;
		x->shared++;
	}
}

/* el_end - close an element; the counts never go below 0, whatever the nesting. */
static void
el_end(struct xml_rd *x, const struct el_rule *r)
{
	if ((r->flags & EL_TEXT) && x->text > 0)
		x->text--;
	if ((r->flags & EL_SKIP) && x->skip > 0)
		x->skip--;
	if ((r->flags & EL_SKIP_SHARED) && x->shared > 0) {
		x->shared--;
		x->skip -= x->skip > 0;
	}
	if (x->skip > 0)
		return;
	if (r->flags & EL_NL)
		out_sep(x->o, '\n');
	else if (r->flags & EL_TAB)
		out_sep(x->o, '\t');
	else if (r->flags & EL_SPACE)
		out_sep(x->o, ' ');
}

/* tag_end - the '>' of a start, end or empty-element tag. */
static void
tag_end(struct xml_rd *x)
{
	int closing = x->tlen > 0 && x->tag[0] == '/';
	const struct el_rule *r = tag_rule(x, closing);

	x->state = XS_TEXT;
	if (r == NULL)
		return;
	if (!closing)
		el_start(x, r);
	if (closing || x->last == '/')
		el_end(x, r);
}

/* tag_special - after "<!" or "<?": a comment, CDATA, a processing instruction or a
 * declaration (DOCTYPE), once the bytes kept tell which. */
static void
tag_special(struct xml_rd *x)
{
	static const char comment[] = "!--", cdata[] = "![CDATA[";

	x->run = x->depth = x->lt = 0;
	x->back = XS_TEXT;
	if (x->tag[0] == '?') {
		x->state = XS_PI;
	} else if (x->tlen <= 3 && memcmp(x->tag, comment, x->tlen) == 0) {
		if (x->tlen == 3)
			x->state = XS_COMMENT;
	} else if (x->tlen <= 8 && memcmp(x->tag, cdata, x->tlen) == 0) {
		if (x->tlen == 8)
			x->state = XS_CDATA;
	} else {
		x->state = XS_DECL;
	}
}

static void
st_tag(struct xml_rd *x, uint8_t c)
{
	if (x->quote == 0 && c == '>') {
		tag_end(x);
		return;
	}
	if (x->tlen < XML_TAG_MAX)
		x->tag[x->tlen++] = c;
	if (x->tag[0] == '!' || x->tag[0] == '?') {
		tag_special(x);
	} else if (x->quote) {
		if (c == x->quote)
			x->quote = 0;
	} else if (c == '"' || c == '\'') {
		x->quote = c;
	} else if (!is_space(c)) {
		x->last = c;
	}
}

static void
st_comment(struct xml_rd *x, uint8_t c)
{
	if (c == '>' && x->run >= 2)
		x->state = x->back;
	x->run = c == '-' ? x->run + 1 : 0;
}

static void
st_pi(struct xml_rd *x, uint8_t c)
{
	if (c == '>' && x->run)
		x->state = x->back;
	x->run = c == '?';
}

/* decl_markup - in a DOCTYPE's internal subset, whether c is taken by the start of a comment
 * ("<!--") or a processing instruction ("<?"): their free text may hold quotes, brackets and
 * '>', so st_comment or st_pi reads them whole and comes back. The '<', '!' and '-' taken mean
 * nothing to st_decl; the markup declarations (<!ENTITY ...>) are left to it. */
static int
decl_markup(struct xml_rd *x, uint8_t c)
{
	static const char open[] = "<!--";

	x->run = 0;
	if (x->lt == 1 && c == '?') {
		x->lt = 0;
		x->state = XS_PI;
		x->back = XS_DECL;
		return 1;
	}
	if (c != (uint8_t)open[x->lt])
		x->lt = 0;
	if (c != (uint8_t)open[x->lt])
		return 0;
	if (++x->lt == 4) {
		x->lt = 0;
		x->state = XS_COMMENT;
		x->back = XS_DECL;
	}
	return 1;
}

/* st_decl - a DOCTYPE or other <!...>, up to its '>' outside quoted strings (a system literal
 * may hold '>' or brackets) and outside its internal subset [ ]. Its entities are not used. */
static void
st_decl(struct xml_rd *x, uint8_t c)
{
	if (x->quote) {
		if (c == x->quote)
			x->quote = 0;
		return;
	}
	if (x->depth > 0 && decl_markup(x, c))
		return;
	if (c == '"' || c == '\'')
		x->quote = c;
	else if (c == '[')
		x->depth++;
	else if (c == ']' && x->depth > 0)
		x->depth--;
	else if (c == '>' && x->depth == 0)
		x->state = XS_TEXT;
}

/* st_cdata - CDATA is character data as written; the ']' that may start "]]>" wait. */
static void
st_cdata(struct xml_rd *x, uint8_t c)
{
	if (c == '>' && x->run == 2) {
		text_flush(x);
		x->state = XS_TEXT;
		return;
	}
	if (c == ']') {
		if (x->run < 2)
			x->run++;
		else if (emitting(x))
			text_byte(x, ']'); /* "]]]": the first is text, two still wait */
		return;
	}
	for (unsigned i = 0; i < x->run && emitting(x); i++)
		text_byte(x, ']');
	if (emitting(x))
		text_byte(x, c);
	x->run = 0;
}

static void (*const xml_states[XS_NSTATES])(struct xml_rd *, uint8_t) = {
	[XS_TEXT] = st_text, [XS_ENTITY] = st_entity, [XS_TAG] = st_tag,  [XS_COMMENT] = st_comment,
	[XS_CDATA] = st_cdata, [XS_PI] = st_pi,	      [XS_DECL] = st_decl,
};

/* xml_cp - code point cp, decoded from UTF-16, read as its UTF-8 bytes. */
static void
xml_cp(struct xml_rd *x, uint32_t cp)
{
	uint8_t o[4];
	size_t n = utf8_encode(o, cp);

	for (size_t i = 0; i < n; i++)
		xml_states[x->state](x, o[i]);
}

/* utf16_byte - one byte of a UTF-16 entry: code units are joined into code points, a
 * surrogate without its pair is U+FFFD. */
static void
utf16_byte(struct xml_rd *x, uint8_t c)
{
	uint32_t u;

	if (!x->u16odd) {
		x->u16b = c;
		x->u16odd = 1;
		return;
	}
	x->u16odd = 0;
	u = x->u16 == U16_LE ? (uint32_t)(x->u16b | c << 8) : (uint32_t)(x->u16b << 8 | c);
	if (x->u16hi && (u < 0xdc00 || u > 0xdfff)) {
		xml_cp(x, 0xfffd);
		x->u16hi = 0;
	}
	if (u >= 0xd800 && u <= 0xdbff)
		x->u16hi = u;
	else if (u >= 0xdc00 && u <= 0xdfff && x->u16hi == 0)
		xml_cp(x, 0xfffd);
	else if (u >= 0xdc00 && u <= 0xdfff)
		xml_cp(x, 0x10000 + ((x->u16hi - 0xd800) << 10) + (u - 0xdc00));
	else
		xml_cp(x, u);
	if (u >= 0xdc00 && u <= 0xdfff)
		x->u16hi = 0;
}

/* bom_byte - whether byte c, one of the entry's first two, was taken as part of a UTF-16
 * BOM: OPC lets a part be UTF-16 (ECMA-376-2 §8.1.4), and XML wants a BOM then. Read bytewise,
 * no tag of it would be found. A first byte held back that was no BOM is read now. */
static int
bom_byte(struct xml_rd *x, uint8_t c)
{
	if (x->head++ == 0) {
		x->bom = c;
		return c == 0xff || c == 0xfe;
	}
	if (x->bom == 0xff && c == 0xfe)
		x->u16 = U16_LE;
	else if (x->bom == 0xfe && c == 0xff)
		x->u16 = U16_BE;
	else if (x->bom == 0xff || x->bom == 0xfe)
		xml_states[x->state](x, x->bom);
	return x->u16 != U16_NO;
}

/* xml_feed - read n more bytes of the entry (a chunk). */
static void
xml_feed(void *ctx, const uint8_t *p, size_t n)
{
	struct xml_rd *x = ctx;

	for (size_t i = 0; i < n && !x->o->full; i++) {
		if (x->head < 2 && bom_byte(x, p[i]))
			continue;
		if (x->u16 != U16_NO)
			utf16_byte(x, p[i]);
		else
			xml_states[x->state](x, p[i]);
	}
}

/* xml_ended_inside - what markup the entry ended inside, hiding all that followed its start
 * ('>' never came), or NULL: a well-formed part ends in character data. */
static const char *
xml_ended_inside(const struct xml_rd *x)
{
	static const char *const inside[XS_NSTATES] = {
		[XS_TAG] = "a tag",
		[XS_COMMENT] = "a comment",
		[XS_CDATA] = "a CDATA section",
		[XS_PI] = "a processing instruction",
		[XS_DECL] = "a declaration (DOCTYPE)",
	};

	return inside[x->state];
}

/* xml_finish - the end of an entry: what is pending is written, and a line break. */
static void
xml_finish(struct xml_rd *x)
{
	if (x->u16hi)
		xml_cp(x, 0xfffd);
	if (x->state == XS_ENTITY)
		entity_raw(x, 0);
	text_flush(x);
	out_sep(x->o, '\n');
}

/* ---- which entries ---- */

enum {
	PART_READ = 1,	   /* its text is read */
	PART_REQUIRED = 2, /* without it the file is not of this kind */
	PART_NUMBERED = 4, /* name is a prefix: every name<N>.xml, by N (slide2 before slide10) */
};

struct part_spec {
	const char *name;
	unsigned flags;
};

struct kind_spec {
	const char *label;
	const struct part_spec *parts;
	const struct el_rule *rules;
};

static const struct part_spec docx_parts[] = {
	{"word/document.xml", PART_READ | PART_REQUIRED},
	{"word/footnotes.xml", PART_READ},
	{"word/endnotes.xml", PART_READ},
	{"word/header", PART_READ | PART_NUMBERED},
	{"word/footer", PART_READ | PART_NUMBERED},
	{"word/comments.xml", PART_READ},
	{NULL, 0},
};

static const struct part_spec xlsx_parts[] = {
	{"xl/workbook.xml", PART_REQUIRED},
	{"xl/sharedStrings.xml", PART_READ},
	{"xl/worksheets/sheet", PART_READ | PART_NUMBERED},
	{NULL, 0},
};

static const struct part_spec pptx_parts[] = {
	{"ppt/presentation.xml", PART_REQUIRED},
	{"ppt/slides/slide", PART_READ | PART_NUMBERED},
	{"ppt/notesSlides/notesSlide", PART_READ | PART_NUMBERED},
	{NULL, 0},
};

static const struct part_spec odf_parts[] = {
	{"content.xml", PART_READ | PART_REQUIRED},
	{NULL, 0},
};

static const struct kind_spec kinds[] = {
	[OFFICE_DOCX] = {"DOCX", docx_parts, docx_rules},
	[OFFICE_XLSX] = {"XLSX", xlsx_parts, xlsx_rules},
	[OFFICE_PPTX] = {"PPTX", pptx_parts, pptx_rules},
	[OFFICE_ODF] = {"OpenDocument file", odf_parts, odf_rules},
};

/* ---- reading entries ---- */

/* One call of office_text. */
struct office_job {
	zip_t *za;
	struct text_out out;
	uint8_t *chunk;	  /* OFFICE_CHUNK bytes */
	uint64_t total;	  /* decompressed bytes read, all entries */
	enum vl_err verdict; /* VL_OK, or the first reason the text read is incomplete (its detail
			      * in err): VL_ERR_LIMIT when a bound of ours cut a part,
			      * VL_ERR_PARSE when one ended inside markup (part_verdict) */
	char *err;
};

/* Where one entry's bytes go. */
struct entry_sink {
	void (*feed)(void *ctx, const uint8_t *p, size_t n);
	void *ctx;
	uint64_t limit; /* bytes of the entry read at most (OFFICE_TOTAL_MAX applies too) */
	uint64_t got;	/* bytes of the entry read */
	int cut;	/* the entry had more than limit, or than OFFICE_TOTAL_MAX let be read */
};

/* entry_open - open entry idx for reading; VL_ERR_CRYPTO when it is encrypted. */
static enum vl_err
entry_open(struct office_job *j, zip_uint64_t idx, const char *name, zip_file_t **zf)
{
	zip_stat_t st;
	zip_error_t *ze;
	int code;

	zip_stat_init(&st);
	if (zip_stat_index(j->za, idx, 0, &st) == 0 && (st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	    st.encryption_method != ZIP_EM_NONE)
		return vl_err_set(j->err, VL_ERR_CRYPTO, "%s is encrypted", name);
	if ((*zf = zip_fopen_index(j->za, idx, 0)) != NULL)
		return VL_OK;
	ze = zip_get_error(j->za);
	code = zip_error_code_zip(ze);
	if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP)
		return vl_err_set(j->err, VL_ERR_CRYPTO, "%s is encrypted: %s", name,
				  zip_error_strerror(ze));
	return vl_err_set(j->err, VL_ERR_PARSE, "%s: %s", name, zip_error_strerror(ze));
}

/* entry_room - how many more bytes of this entry may be read, got read so far. */
static uint64_t
entry_room(const struct office_job *j, const struct entry_sink *s)
{
	uint64_t room = s->limit - s->got, total = OFFICE_TOTAL_MAX - j->total;

	room = room < total ? room : total;
	return room < OFFICE_CHUNK ? room : OFFICE_CHUNK;
}

/* entry_read - read entry idx in chunks into s, never more than s->limit bytes of it nor past
 * OFFICE_TOTAL_MAX in all: zip_stat's size is what the ZIP claims, not what inflating gives.
 * s->cut is set when a bound stopped it with bytes left. Stops early once the text is full. */
static enum vl_err
entry_read(struct office_job *j, zip_uint64_t idx, const char *name, struct entry_sink *s)
{
	enum vl_err rc;
	zip_file_t *zf;

	if ((rc = entry_open(j, idx, name, &zf)) != VL_OK)
		return rc;
	while (!j->out.full) {
		uint64_t room = entry_room(j, s);
		zip_int64_t n = zip_fread(zf, j->chunk, room > 0 ? room : 1);

		if (n < 0) {
			rc = vl_err_set(j->err, VL_ERR_PARSE, "%s: %s", name, zip_file_strerror(zf));
			break;
		}
		if (n == 0)
			break;
		if (room == 0) { /* the one byte asked past the bound: there was more */
			s->cut = 1;
			break;
		}
		s->got += (uint64_t)n;
		j->total += (uint64_t)n;
		s->feed(s->ctx, j->chunk, (size_t)n);
	}
	zip_fclose(zf);
	return rc;
}

/* part_verdict - why the text of entry name, read by x from s, is incomplete, if it is and no
 * earlier entry's was: the reading goes on, so the text after it is kept. Which bound cut it is
 * named, since the caller's max being full (out.full) is another thing it reports itself. A
 * part that ends inside markup or a skipped element is not well-formed (Office would not open
 * it) and the reader has hidden what followed: VL_ERR_PARSE, so that is not silent. */
static void
part_verdict(struct office_job *j, const struct xml_rd *x, const struct entry_sink *s,
	     const char *name)
{
	const char *in;

	if (j->verdict != VL_OK)
		return;
	if (s->cut && s->got >= s->limit)
		j->verdict = vl_err_set(j->err, VL_ERR_LIMIT,
					"%s: more than OFFICE_ENTRY_MAX (%u bytes) inflated: the rest "
					"of it is not read", name, OFFICE_ENTRY_MAX);
	else if (s->cut)
		j->verdict = vl_err_set(j->err, VL_ERR_LIMIT,
					"%s: OFFICE_TOTAL_MAX (%u bytes) inflated in all: the rest "
					"of the file is not read", name, OFFICE_TOTAL_MAX);
	else if (j->out.full) /* the reading stopped where max was, anywhere */
		return;
	else if ((in = xml_ended_inside(x)) != NULL)
		j->verdict = vl_err_set(j->err, VL_ERR_PARSE, "%s ends inside %s: what follows its "
					"start is not read", name, in);
	else if (x->skip > 0)
		j->verdict = vl_err_set(j->err, VL_ERR_PARSE, "%s ends inside an unclosed %s "
					"element, whose text is skipped: what follows its start is "
					"not read", name, x->skipped);
}

/* text_read - the text of entry idx into j->out. */
static enum vl_err
text_read(struct office_job *j, zip_uint64_t idx, const struct el_rule *rules)
{
	struct xml_rd x = {.rules = rules, .o = &j->out, .state = XS_TEXT};
	struct entry_sink s = {xml_feed, &x, OFFICE_ENTRY_MAX, 0, 0};
	const char *name = zip_get_name(j->za, idx, 0);
	enum vl_err rc;

	name = name ? name : "?";
	if (j->total >= OFFICE_TOTAL_MAX) {
		if (j->verdict == VL_OK)
			j->verdict = vl_err_set(j->err, VL_ERR_LIMIT,
						"%s not read: OFFICE_TOTAL_MAX (%u bytes) inflated "
						"before it", name, OFFICE_TOTAL_MAX);
		return VL_OK;
	}
	rc = entry_read(j, idx, name, &s);
	xml_finish(&x);
	if (rc == VL_OK)
		part_verdict(j, &x, &s, name);
	return rc;
}

struct numbered {
	unsigned long n;
	zip_uint64_t idx;
};

static int
numbered_cmp(const void *a, const void *b)
{
	const struct numbered *x = a, *y = b;

	return (x->n > y->n) - (x->n < y->n);
}

/* numbered_of - whether name is prefix<N>.xml (N of 1 to PART_DIGITS_MAX digits), and N. */
static int
numbered_of(const char *name, const char *prefix, unsigned long *n)
{
	size_t pl = strlen(prefix), d = 0;

	if (strncmp(name, prefix, pl) != 0)
		return 0;
	while (d < PART_DIGITS_MAX && name[pl + d] >= '0' && name[pl + d] <= '9')
		d++;
	if (d == 0 || strcmp(name + pl + d, ".xml") != 0)
		return 0;
	*n = strtoul(name + pl, NULL, 10);
	return 1;
}

/* numbered_read - the text of every prefix<N>.xml, by N. */
static enum vl_err
numbered_read(struct office_job *j, const char *prefix, const struct el_rule *rules)
{
	zip_int64_t count = zip_get_num_entries(j->za, 0);
	struct numbered *v = xcalloc(count > 0 ? (size_t)count : 1, sizeof(*v));
	enum vl_err rc = VL_OK;
	size_t k = 0;

	for (zip_int64_t i = 0; i < count; i++) {
		const char *name = zip_get_name(j->za, (zip_uint64_t)i, 0);

		if (name && numbered_of(name, prefix, &v[k].n))
			v[k++].idx = (zip_uint64_t)i;
	}
	qsort(v, k, sizeof(*v), numbered_cmp);
	for (size_t i = 0; i < k && rc == VL_OK && !j->out.full; i++)
		rc = text_read(j, v[i].idx, rules);
	free(v);
	return rc;
}

static void
manifest_feed(void *ctx, const uint8_t *p, size_t n)
{
	buf_append(ctx, p, n);
}

/* odf_encrypted - VL_ERR_CRYPTO when META-INF/manifest.xml lists encryption-data: ODF
 * encrypts its entries itself (deflated, then Blowfish or AES), not with ZIP encryption, so
 * content.xml reads as noise. */
static enum vl_err
odf_encrypted(struct office_job *j)
{
	static const char name[] = "META-INF/manifest.xml", mark[] = "encryption-data";
	zip_int64_t i = zip_name_locate(j->za, name, 0);
	struct buf m = {0};
	struct entry_sink s = {manifest_feed, &m, OFFICE_MANIFEST_MAX, 0, 0};
	enum vl_err rc;

	if (i < 0)
		return VL_OK;
	rc = entry_read(j, (zip_uint64_t)i, name, &s);
	if (rc == VL_OK && m.len > 0 && memmem(m.data, m.len, mark, strlen(mark)) != NULL)
		rc = vl_err_set(j->err, VL_ERR_CRYPTO, "%s lists encryption-data: the file is "
				"password-protected", name);
	buf_free(&m);
	return rc;
}

/* kind_read - the text of every part of kind ks, in the order of its table. */
static enum vl_err
kind_read(struct office_job *j, enum office_kind k)
{
	const struct kind_spec *ks = &kinds[k];
	enum vl_err rc = VL_OK;

	for (const struct part_spec *p = ks->parts; p->name; p++)
		if ((p->flags & PART_REQUIRED) && zip_name_locate(j->za, p->name, 0) < 0)
			return vl_err_set(j->err, VL_ERR_PARSE, "not a %s: no %s", ks->label,
					  p->name);
	if (k == OFFICE_ODF && (rc = odf_encrypted(j)) != VL_OK)
		return rc;
	for (const struct part_spec *p = ks->parts; p->name && rc == VL_OK && !j->out.full; p++) {
		zip_int64_t i;

		if (!(p->flags & PART_READ))
			continue;
		if (p->flags & PART_NUMBERED)
			rc = numbered_read(j, p->name, ks->rules);
		else if ((i = zip_name_locate(j->za, p->name, 0)) >= 0)
			rc = text_read(j, (zip_uint64_t)i, ks->rules);
	}
	return rc;
}

/* ---- the file ---- */

/* utf16_has - whether p holds s (ASCII, at most 32 bytes) in UTF-16LE. */
static int
utf16_has(const uint8_t *p, size_t len, const char *s)
{
	uint8_t w[64];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		w[2 * i] = (uint8_t)s[i];
		w[2 * i + 1] = 0;
	}
	return memmem(p, len, w, 2 * n) != NULL;
}

/* cfb_verdict - an OLE2 compound file is a legacy .doc/.xls/.ppt, or an OOXML file Office
 * encrypted: its directory names the streams EncryptionInfo and EncryptedPackage
 * (MS-OFFCRYPTO 2.3.4.4). XXX: the names are searched for, not the directory walked: a legacy
 * file whose text holds both names in UTF-16 would be called encrypted. */
static enum vl_err
cfb_verdict(const uint8_t *p, size_t len, char *err)
{
	if (utf16_has(p, len, "EncryptionInfo") && utf16_has(p, len, "EncryptedPackage"))
		return vl_err_set(err, VL_ERR_CRYPTO,
				  "an OLE2 file with EncryptedPackage: a password-protected Office file");
	return vl_err_set(err, VL_ERR_PARSE,
			  "an OLE2 compound file: a legacy Office format, not OOXML or ODF");
}

/* archive_open - open len bytes at p (borrowed, len > 0) as a read-only archive in *za. */
static enum vl_err
archive_open(zip_t **za, const uint8_t *p, size_t len, char *err)
{
	enum vl_err rc = VL_OK;
	zip_source_t *src;
	zip_error_t ze;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(p, len, 0, &ze)) == NULL) {
		rc = vl_err_set(err, VL_ERR_NOMEM, "zip_source_buffer_create: %s",
				zip_error_strerror(&ze));
	} else if ((*za = zip_open_from_source(src, ZIP_RDONLY, &ze)) == NULL) {
		rc = vl_err_set(err, VL_ERR_PARSE, "not a readable ZIP: %s", zip_error_strerror(&ze));
		zip_source_free(src);
	}
	zip_error_fini(&ze);
	return rc;
}

/* archive_text - the text of the open archive j->za, of kind k, into j->out; an error here is
 * one that leaves no text (j->verdict is one that keeps it). */
static enum vl_err
archive_text(struct office_job *j, enum office_kind k)
{
	zip_int64_t n = zip_get_num_entries(j->za, 0);
	enum vl_err rc;

	if (n > OFFICE_ENTRIES_MAX)
		return vl_err_set(j->err, VL_ERR_LIMIT, "%lld entries, more than OFFICE_ENTRIES_MAX",
				  (long long)n);
	j->chunk = xmalloc(OFFICE_CHUNK);
	rc = kind_read(j, k);
	free(j->chunk);
	return rc;
}

enum vl_err
office_text(enum office_kind k, const uint8_t *p, size_t len, struct buf *out, size_t max,
	    int *truncated, char *err)
{
	struct office_job j = {.out = {out, out->len, max, 0}, .err = err};
	enum vl_err rc;

	*truncated = 0;
	if (k <= OFFICE_NONE || k > OFFICE_ODF)
		return vl_err_set(err, VL_ERR_INTERNAL, "office_text: no office kind (%d)", (int)k);
	if (len == 0)
		return vl_err_set(err, VL_ERR_PARSE, "an empty file");
	if (len >= sizeof(cfb_magic) && memcmp(p, cfb_magic, sizeof(cfb_magic)) == 0)
		return cfb_verdict(p, len, err);
	if ((rc = archive_open(&j.za, p, len, err)) != VL_OK)
		return rc;
	rc = archive_text(&j, k);
	zip_discard(j.za);
	if (rc != VL_OK) {
		if (out->len > j.out.start) {
			out->len = j.out.start; /* a failure leaves nothing behind */
			out->data[out->len] = 0;
		}
		return rc;
	}
	*truncated = j.out.full;
	return j.verdict; /* the text read is kept: it is what there is of the file's */
}
