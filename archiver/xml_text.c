/* xml_text - a bounded streaming reader of XML character data (see xml_text.h).
 *
 * One state function a byte (xml_states), for text, an entity, a tag, a comment, CDATA, a PI and
 * a declaration; a UTF-16 document is decoded to UTF-8 first and read the same way. */
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xml_text.h"

#define XML_TAG_MAX 256	    /* bytes of a tag kept: its name and first attributes */
#define XML_ENTITY_MAX 16   /* bytes between '&' and ';' looked at ("#x0010FFFF" fits) */

static const char utf8_replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* ---- the text written ---- */

static size_t
out_written(const struct xml_text_out *o)
{
	return o->b->len - o->start;
}

/* out_put - append n bytes, one whole character or more, or nothing when they do not fit. */
static void
out_put(struct xml_text_out *o, const void *p, size_t n)
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
out_sep(struct xml_text_out *o, char c)
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

/* ---- the reader ---- */

enum xml_state { XS_TEXT, XS_ENTITY, XS_TAG, XS_COMMENT, XS_CDATA, XS_PI, XS_DECL, XS_NSTATES };

/* One document's reading state; text goes to o. */
struct xml_text {
	const struct xml_text_rule *rules;
	struct xml_text_out *o;
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
	unsigned text;	  /* open XML_EL_TEXT elements */
	unsigned skip;	  /* open XML_EL_SKIP elements, and skipped shared cells */
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
emitting(const struct xml_text *x)
{
	return x->text > 0 && x->skip == 0;
}

/* text_cp - write code point cp: NUL, surrogates and values past U+10FFFF become U+FFFD,
 * other control characters a space (XML 1.0 allows none but tab and line ends). */
static void
text_cp(struct xml_text *x, uint32_t cp)
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
text_flush(struct xml_text *x)
{
	if (x->u8len > 0)
		out_put(x->o, utf8_replacement, 3);
	x->u8len = 0;
}

/* text_byte - one byte of character data: ASCII at once, other bytes once their sequence is
 * whole; an invalid sequence becomes U+FFFD and the byte that broke it starts afresh. */
static void
text_byte(struct xml_text *x, uint8_t c)
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
entity_raw(struct xml_text *x, int semicolon)
{
	out_put(x->o, "&", 1);
	for (size_t i = 0; i < x->elen; i++)
		out_put(x->o, &x->ent[i], 1);
	if (semicolon)
		out_put(x->o, ";", 1);
}

static void st_text(struct xml_text *x, uint8_t c);

static void
st_entity(struct xml_text *x, uint8_t c)
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
st_text(struct xml_text *x, uint8_t c)
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
tag_attr_is(const struct xml_text *x, const char *name, const char *val)
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
static const struct xml_text_rule *
tag_rule(const struct xml_text *x, int closing)
{
	const uint8_t *name = x->tag + closing, *end = name, *local;

	while (end < x->tag + x->tlen && !is_space(*end) && *end != '/')
		end++;
	for (local = end; local > name && local[-1] != ':';)
		local--;
	for (const struct xml_text_rule *r = x->rules; r->name; r++)
		if (strlen(r->name) == (size_t)(end - local) &&
		    memcmp(r->name, local, (size_t)(end - local)) == 0)
			return r;
	return NULL;
}

static void
el_start(struct xml_text *x, const struct xml_text_rule *r)
{
	if (x->skip == 0)
		x->skipped = r->name; /* what skips, if this does */
	if (r->flags & XML_EL_TEXT)
		x->text++;
	if (r->flags & XML_EL_SKIP)
		x->skip++;
	if ((r->flags & XML_EL_SKIP_SHARED) && tag_attr_is(x, "t", "s")) {
		x->skip++;
		x->shared++;
	}
}

/* el_end - close an element; the counts never go below 0, whatever the nesting. */
static void
el_end(struct xml_text *x, const struct xml_text_rule *r)
{
	if ((r->flags & XML_EL_TEXT) && x->text > 0)
		x->text--;
	if ((r->flags & XML_EL_SKIP) && x->skip > 0)
		x->skip--;
	if ((r->flags & XML_EL_SKIP_SHARED) && x->shared > 0) {
		x->shared--;
		x->skip -= x->skip > 0;
	}
	if (x->skip > 0)
		return;
	if (r->flags & XML_EL_NL)
		out_sep(x->o, '\n');
	else if (r->flags & XML_EL_TAB)
		out_sep(x->o, '\t');
	else if (r->flags & XML_EL_SPACE)
		out_sep(x->o, ' ');
}

/* tag_end - the '>' of a start, end or empty-element tag. */
static void
tag_end(struct xml_text *x)
{
	int closing = x->tlen > 0 && x->tag[0] == '/';
	const struct xml_text_rule *r = tag_rule(x, closing);

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
tag_special(struct xml_text *x)
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
st_tag(struct xml_text *x, uint8_t c)
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
st_comment(struct xml_text *x, uint8_t c)
{
	if (c == '>' && x->run >= 2)
		x->state = x->back;
	x->run = c == '-' ? x->run + 1 : 0;
}

static void
st_pi(struct xml_text *x, uint8_t c)
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
decl_markup(struct xml_text *x, uint8_t c)
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
st_decl(struct xml_text *x, uint8_t c)
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
st_cdata(struct xml_text *x, uint8_t c)
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

static void (*const xml_states[XS_NSTATES])(struct xml_text *, uint8_t) = {
	[XS_TEXT] = st_text, [XS_ENTITY] = st_entity, [XS_TAG] = st_tag,  [XS_COMMENT] = st_comment,
	[XS_CDATA] = st_cdata, [XS_PI] = st_pi,	      [XS_DECL] = st_decl,
};

/* xml_cp - code point cp, decoded from UTF-16, read as its UTF-8 bytes. */
static void
xml_cp(struct xml_text *x, uint32_t cp)
{
	uint8_t o[4];
	size_t n = utf8_encode(o, cp);

	for (size_t i = 0; i < n; i++)
		xml_states[x->state](x, o[i]);
}

/* utf16_byte - one byte of a UTF-16 entry: code units are joined into code points, a
 * surrogate without its pair is U+FFFD. */
static void
utf16_byte(struct xml_text *x, uint8_t c)
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
bom_byte(struct xml_text *x, uint8_t c)
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

/* ---- the interface ---- */

struct xml_text *
xml_text_new(const struct xml_text_rule *rules, struct xml_text_out *out)
{
	struct xml_text *x = xcalloc(1, sizeof(*x));

	x->rules = rules;
	x->o = out;
	x->state = XS_TEXT;
	return x;
}

/* xml_text_feed - read n more bytes of the entry (a chunk). */
void
xml_text_feed(struct xml_text *x, const uint8_t *p, size_t n)
{
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
xml_ended_inside(const struct xml_text *x)
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

/* xml_text_finish - the end of an entry: what is pending is written, and a line break. */
void
xml_text_finish(struct xml_text *x)
{
	if (x->u16hi)
		xml_cp(x, 0xfffd);
	if (x->state == XS_ENTITY)
		entity_raw(x, 0);
	text_flush(x);
	out_sep(x->o, '\n');
}

/* xml_text_verdict - a part that ends inside markup or a skipped element is not well-formed
 * (Office would not open it) and the reader has hidden what followed: VL_ERR_PARSE, so that is
 * not silent. */
enum vl_err
xml_text_verdict(const struct xml_text *x, const char *part, char *err)
{
	const char *in;

	if ((in = xml_ended_inside(x)) != NULL)
		return vl_err_set(err, VL_ERR_PARSE, "%s ends inside %s: what follows its start is "
				  "not read", part, in);
	if (x->skip > 0)
		return vl_err_set(err, VL_ERR_PARSE, "%s ends inside an unclosed %s element, whose "
				  "text is skipped: what follows its start is not read", part,
				  x->skipped);
	return VL_OK;
}

void
xml_text_free(struct xml_text *x)
{
	free(x);
}
