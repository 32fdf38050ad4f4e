/* rtf_text - RTF to plain text (see rtf_text.h).
 *
 * One pass over the bytes, a token at a time: a brace, a control word or symbol, or text. Each
 * open group's state (is its text document text, its font's code page, \ucN, \htmlrtf) sits in
 * a fixed stack, copied on '{' and dropped on '}', so nesting costs no recursion. Control words
 * are looked up in one sorted table that says what each does; every word not in it (formatting,
 * layout: most of RTF) is passed over.
 *
 * Characters: \'hh bytes (and raw 8-bit bytes, which some writers emit) go through iconv from
 * the code page in force, one character at a time; a double-byte code page's lead byte waits
 * for its trail byte. In code page 65001 the bytes are UTF-8 and wait until their character is
 * whole (\'e5\'a5\'91 is one); utf8_decode, not iconv, judges them. \uN goes straight to
 * UTF-8. RTF 1.9.1 (\ucN): the N characters after a \uN are its fallback for old readers and
 * are skipped; "any RTF control word or symbol is considered a single character for the
 * purposes of counting skippable characters", and a brace ends the skipping.
 *
 * XXX: each call opens its own iconv descriptors, so a document's first non-ASCII byte in a
 * code page loads that gconv module (and the last close may unload it). mime_extract keeps its
 * modules pinned for that reason; RTF bodies are rarer than mail text, so not here yet. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "file_label.h"
#include "rtf_text.h"
#include "utf8.h"

#define RTF_CP_DEFAULT 1252 /* the ANSI code page when the document names none */
#define RTF_UC_DEFAULT 1    /* fallback characters after \uN when no \ucN says (RTF 1.9.1) */
#define RTF_CPNAME_MAX 32   /* bytes of an iconv name made for a code page */
#define RTF_REPLACEMENT 0xfffdu
#define RTF_CP_UTF8 65001 /* Windows' number for UTF-8 */
#define RTF_MB_MAX 4	  /* bytes of one character gathered: UTF-8's longest; a lead and its
			   * trail in the double-byte code pages */

/* What a group's text is. */
enum dest {
	DEST_TEXT,    /* document text */
	DEST_SKIP,    /* nothing in it is text */
	DEST_OBJECT,  /* an \object: nothing but a \result group in it is text */
	DEST_FONTTBL, /* the font table: no text, but its \f \fcharset \cpg are read */
};

/* The state of one open group; a new group starts as a copy of its parent's. */
struct group {
	uint8_t dest;	 /* enum dest */
	uint8_t htmlrtf; /* \htmlrtf in force: RTF-only rendering of an encapsulated HTML body */
	uint8_t sep;	 /* a line break where it closes (a header, a footnote) */
	uint8_t tag;	 /* 2: an \*\htmltag group, 1: a group inside one */
	int32_t font;	 /* \fN in force; -1: \deffN's */
	uint32_t cp;	 /* that font's code page; 0: the document's */
	uint32_t uc;	 /* \ucN */
};

struct font {
	int32_t num;
	uint32_t cp; /* 0: the document's */
};

struct codec {
	uint32_t cp;
	iconv_t cd; /* (iconv_t)-1 when iconv knows no such code page */
};

/* The caller's buffer, and how much of it is ours. */
struct rtf_out {
	struct buf *b;
	size_t start; /* b->len when rtf_text was called */
	size_t max;   /* bytes we may append */
	int full;     /* text past max was there and was dropped */
};

struct rtf_rd {
	const uint8_t *p;
	size_t len, pos;
	struct group st[RTF_DEPTH_MAX];
	size_t depth;  /* open groups followed; st[depth - 1] is the innermost */
	size_t excess; /* open groups past RTF_DEPTH_MAX, skipped whole */
	int deep;      /* RTF_DEPTH_MAX was passed somewhere */
	int ended;     /* the brace closing the document was read */
	uint32_t doc_cp;
	int32_t deff;
	int html;      /* \fromhtml: \htmlrtf is obeyed */
	uint8_t tag_first; /* the first byte of the open \htmltag's text but spaces, else 0 */
	uint8_t tag_ws;	   /* that tag's text has white space (a space, \par, \tab) */
	uint8_t entity;	   /* the last \htmltag was an entity: its \htmlrtf rendering is text */
	struct font fonts[RTF_FONTS_MAX];
	size_t nfonts;
	int32_t hit_num; /* font_cp's last answer: font hit_num has code page hit_cp, while the */
	uint32_t hit_cp; /* table had hit_n fonts (zeroed: font 0 of an empty table, 0: right) */
	size_t hit_n;
	uint32_t skip; /* fallback characters of the last \uN still to pass over */
	uint32_t hi;   /* a high surrogate waiting for its low one, else 0 */
	uint8_t mb[RTF_MB_MAX]; /* the first bytes of a character, waiting for the rest: */
	size_t nmb;		/* a double-byte lead byte, an unfinished UTF-8 sequence */
	uint32_t mb_cp;		/* their code page */
	struct codec codecs[RTF_CODEPAGES_MAX];
	size_t ncodecs;
	struct rtf_out o;
};

/* ---- labels ---- */

int
rtf_is(const char *content_type, const char *filename)
{
	static const char *const types[] = {"application/rtf", "application/x-rtf", "text/rtf"};
	static const char *const exts[] = {".rtf"};

	return file_label_type_in(content_type, types, 3) || file_label_ext_in(filename, exts, 1);
}

int
rtf_is_bytes(const uint8_t *p, size_t len)
{
	return p != NULL && len >= 5 && memcmp(p, "{\\rtf", 5) == 0;
}

/* ---- the text written ---- */

/* out_put - append n bytes, one whole character or more, or nothing (full set) when they do
 * not fit. */
static void
out_put(struct rtf_out *o, const void *p, size_t n)
{
	if (o->full)
		return;
	if (o->b->len - o->start + n > o->max) {
		o->full = 1;
		return;
	}
	buf_append(o->b, p, n);
}

static struct group *
top(struct rtf_rd *rd)
{
	return &rd->st[rd->depth - 1];
}

/* hidden - whether text here is not document text. */
static int
hidden(struct rtf_rd *rd)
{
	return rd->excess > 0 || top(rd)->dest != DEST_TEXT ||
	       (rd->html && top(rd)->htmlrtf && !rd->entity);
}

/* put_cp - write code point c: C0 controls but tab and line feed, and DEL, are no text; a
 * surrogate (a \u out of its pair) becomes U+FFFD. */
static void
put_cp(struct rtf_rd *rd, uint32_t c)
{
	uint8_t u[4];

	if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
		return;
	if (c >= 0xd800 && c <= 0xdfff)
		c = RTF_REPLACEMENT;
	out_put(&rd->o, u, utf8_encode(u, c));
}

/* flush_pending - a character's first bytes or a high surrogate left alone: each becomes
 * U+FFFD (one for the bytes: Unicode's "maximal subpart" of a UTF-8 sequence cut short). */
static void
flush_pending(struct rtf_rd *rd)
{
	if (rd->nmb > 0 && !hidden(rd))
		put_cp(rd, RTF_REPLACEMENT);
	if (rd->hi && !hidden(rd))
		put_cp(rd, RTF_REPLACEMENT);
	rd->nmb = 0;
	rd->hi = 0;
}

/* put_sep - a line break or a tab from a control word. In an encapsulated HTML body it is
 * written even where \htmlrtf hides text: Outlook marks the ends of the HTML's blocks (<div>,
 * <br>, <td>) only there, and without them the words of two blocks would run together. */
static void
put_sep(struct rtf_rd *rd, char c)
{
	flush_pending(rd);
	if (top(rd)->tag)
		rd->tag_ws = 1;
	if (rd->excess > 0 || top(rd)->dest != DEST_TEXT)
		return;
	out_put(&rd->o, &c, 1);
}

/* ---- code pages ---- */

/* charset_cp - the code page of a font's \fcharsetN (the Windows charsets); 0 (the
 * document's) for ANSI, DEFAULT, SYMBOL and unknown ones: writers put ANSI fonts in documents
 * whose \ansicpg is another, and mean that one. */
static uint32_t
charset_cp(int32_t cs)
{
	static const struct {
		int32_t cs;
		uint32_t cp;
	} map[] = {
		{77, 10000}, {128, 932},  {129, 949},  {130, 1361}, {134, 936}, {136, 950},
		{161, 1253}, {162, 1254}, {163, 1258}, {177, 1255}, {178, 1256}, {186, 1257},
		{204, 1251}, {222, 874},  {238, 1250}, {254, 437},  {255, 850},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].cs == cs)
			return map[i].cp;
	return 0;
}

/* cp_name - the iconv (glibc) name of Windows code page cp into name. Not 65001 (UTF-8):
 * utf8_byte reads that one. */
static void
cp_name(char name[RTF_CPNAME_MAX], uint32_t cp)
{
	if (cp == 10000)
		snprintf(name, RTF_CPNAME_MAX, "MACINTOSH");
	else if (cp == 1361)
		snprintf(name, RTF_CPNAME_MAX, "JOHAB");
	else if (cp == 20127)
		snprintf(name, RTF_CPNAME_MAX, "ASCII");
	else if (cp >= 28591 && cp <= 28599)
		snprintf(name, RTF_CPNAME_MAX, "ISO-8859-%u", (unsigned)(cp - 28590));
	else
		snprintf(name, RTF_CPNAME_MAX, "CP%u", (unsigned)cp);
}

/* codec_get - the descriptor converting cp to UTF-8, opened on first use; (iconv_t)-1 when
 * iconv does not know cp, or RTF_CODEPAGES_MAX others are open (then Windows-1252 is used). */
static iconv_t
codec_get(struct rtf_rd *rd, uint32_t cp)
{
	char name[RTF_CPNAME_MAX];
	size_t i;

	for (i = 0; i < rd->ncodecs; i++)
		if (rd->codecs[i].cp == cp)
			return rd->codecs[i].cd;
	if (rd->ncodecs == RTF_CODEPAGES_MAX)
		return cp == RTF_CP_DEFAULT ? (iconv_t)-1 : codec_get(rd, RTF_CP_DEFAULT);
	cp_name(name, cp);
	rd->codecs[i].cp = cp;
	rd->codecs[i].cd = iconv_open("UTF-8", name);
	rd->ncodecs++;
	if (rd->codecs[i].cd == (iconv_t)-1 && cp != RTF_CP_DEFAULT)
		return codec_get(rd, RTF_CP_DEFAULT);
	return rd->codecs[i].cd;
}

/* put_conv - write the character of the n bytes at in (code page cp); -1, nothing written,
 * when they are none in cp. */
static int
put_conv(struct rtf_rd *rd, uint32_t cp, const uint8_t *in, size_t n)
{
	iconv_t cd = codec_get(rd, cp);
	uint8_t u[16];
	char *ip = (char *)(uintptr_t)in; /* iconv's prototype lacks const */
	char *op = (char *)u;
	size_t il = n, ol = sizeof(u);

	if (cd == (iconv_t)-1)
		return -1;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0) {
		iconv(cd, NULL, NULL, NULL, NULL); /* back to the initial state */
		return -1;
	}
	for (size_t k = 0; k < sizeof(u) - ol;) {
		uint32_t c;
		int m = utf8_decode(u + k, sizeof(u) - ol - k, &c);

		if (m <= 0)
			break;
		put_cp(rd, c); /* through put_cp: a code page's control bytes are no text either */
		k += (size_t)m;
	}
	return 0;
}

/* is_lead - whether byte b starts a two-byte character in code page cp. */
static int
is_lead(uint32_t cp, uint8_t b)
{
	if (cp == 932)
		return (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc);
	if (cp == 936 || cp == 949 || cp == 950)
		return b >= 0x81 && b <= 0xfe;
	if (cp == 1361)
		return b >= 0x84 && b <= 0xf9;
	return 0;
}

/* font_cp - the code page of font num in the table, 0 (the document's) when not there. The
 * last answer is kept: text says \fN at every run and asks for the default font at every
 * byte, and a table may hold RTF_FONTS_MAX fonts (a scan each time was 30x slower). */
static uint32_t
font_cp(struct rtf_rd *rd, int32_t num)
{
	uint32_t cp = 0;

	if (num == rd->hit_num && rd->nfonts == rd->hit_n)
		return rd->hit_cp;
	for (size_t i = 0; i < rd->nfonts; i++)
		if (rd->fonts[i].num == num) {
			cp = rd->fonts[i].cp;
			break;
		}
	rd->hit_num = num;
	rd->hit_n = rd->nfonts;
	rd->hit_cp = cp;
	return cp;
}

/* cur_cp - the code page of text here. */
static uint32_t
cur_cp(struct rtf_rd *rd)
{
	struct group *g = top(rd);
	uint32_t cp = g->font < 0 ? font_cp(rd, rd->deff) : g->cp;

	return cp ? cp : rd->doc_cp;
}

/* put_trail - byte b after a waiting lead byte: the two are one character. When they are
 * none, the lead is U+FFFD and an ASCII b is read again as itself, as WHATWG's decoders of
 * these code pages do: a lead byte takes no letter, brace or backslash with it. */
static void
put_trail(struct rtf_rd *rd, uint8_t b)
{
	uint8_t two[2] = {rd->mb[0], b};

	rd->nmb = 0;
	if (put_conv(rd, rd->mb_cp, two, 2) == 0)
		return;
	put_cp(rd, RTF_REPLACEMENT);
	if (b < 0x80)
		put_cp(rd, b);
}

/* put_utf8 - byte b of UTF-8 text (code page 65001): written with the bytes before it once
 * they are a whole character. A byte that cannot start one is U+FFFD; a byte that breaks the
 * sequence waiting makes it one U+FFFD (Unicode's "maximal subpart": the bytes before it were
 * a valid beginning) and then starts afresh, so an ASCII letter after a cut sequence stays.
 * utf8_decode answers "unfinished" for at most 3 bytes, so mb never holds more than 4. */
static void
put_utf8(struct rtf_rd *rd, uint8_t b)
{
	uint32_t c;
	int k, broke;

	rd->mb[rd->nmb++] = b;
	rd->mb_cp = RTF_CP_UTF8;
	k = utf8_decode(rd->mb, rd->nmb, &c);
	if (k < 0)
		return;
	if (k > 0) {
		rd->nmb = 0;
		put_cp(rd, c);
		return;
	}
	put_cp(rd, RTF_REPLACEMENT);
	broke = rd->nmb > 1; /* b broke a sequence begun before it: b starts afresh */
	rd->nmb = 0;
	if (broke)
		put_utf8(rd, b);
}

/* put_byte - a text byte of 0x80 or more, or any byte while a character's first bytes wait. */
static void
put_byte(struct rtf_rd *rd, uint8_t b)
{
	uint32_t cp;

	if (rd->hi)
		flush_pending(rd);
	if (rd->nmb > 0 && rd->mb_cp == RTF_CP_UTF8) {
		put_utf8(rd, b);
		return;
	}
	if (rd->nmb > 0) {
		put_trail(rd, b);
		return;
	}
	if (b < 0x80) {
		put_cp(rd, b);
		return;
	}
	cp = cur_cp(rd);
	if (cp == RTF_CP_UTF8) {
		put_utf8(rd, b);
	} else if (is_lead(cp, b)) {
		rd->mb[0] = b;
		rd->nmb = 1;
		rd->mb_cp = cp;
	} else if (put_conv(rd, cp, &b, 1) < 0) {
		put_cp(rd, RTF_REPLACEMENT);
	}
}

/* ---- text and \uN ---- */

/* tag_byte - a byte of an \htmltag's text: what is needed to tell an entity (&nbsp;) and
 * white space (a line end of the HTML) from a tag. */
static void
tag_byte(struct rtf_rd *rd, uint8_t c)
{
	if (c == ' ')
		rd->tag_ws = 1;
	else if (rd->tag_first == 0)
		rd->tag_first = c;
}

/* tag_end - an \htmltag group closes. Outlook writes an HTML entity as the tag "&eacute;"
 * followed by its RTF rendering under \htmlrtf ("\'e9"): that rendering is then text, up to
 * \htmlrtf0, so the entity's character is read without an entity table of our own. A tag of
 * white space alone (the HTML's line ends) separates words: a space. */
static void
tag_end(struct rtf_rd *rd)
{
	rd->entity = rd->tag_first == '&';
	if (rd->tag_first == 0 && rd->tag_ws && !hidden(rd))
		out_put(&rd->o, " ", 1);
}

/* text - literal text at rd->pos: line ends in the file are not text (RTF); a run of ASCII
 * is written at once; an 8-bit byte is a code page byte. */
static void
text(struct rtf_rd *rd)
{
	size_t end = rd->pos;
	uint8_t c = rd->p[rd->pos];

	if (c == '\r' || c == '\n') {
		rd->pos++;
		return;
	}
	if (rd->skip > 0 || hidden(rd) || c >= 0x80 || c < 0x20 || rd->nmb > 0 || rd->hi) {
		rd->pos++;
		if (top(rd)->tag)
			tag_byte(rd, c);
		if (rd->skip > 0)
			rd->skip--;
		else if (!hidden(rd))
			put_byte(rd, c);
		return;
	}
	while (end < rd->len && rd->p[end] >= 0x20 && rd->p[end] < 0x80 && rd->p[end] != '\\' &&
	       rd->p[end] != '{' && rd->p[end] != '}')
		end++;
	if (end - rd->pos > rd->o.max - (rd->o.b->len - rd->o.start)) {
		end = rd->pos + (rd->o.max - (rd->o.b->len - rd->o.start)); /* ASCII: cut anywhere */
		out_put(&rd->o, rd->p + rd->pos, end - rd->pos);
		rd->o.full = 1;
	} else {
		out_put(&rd->o, rd->p + rd->pos, end - rd->pos);
	}
	rd->pos = end;
}

/* unicode - \uN: its 16-bit value (negative N counts from 65536), a surrogate pair as two. */
static void
unicode(struct rtf_rd *rd, int64_t n)
{
	uint32_t v = (uint32_t)(n < 0 ? n + 65536 : n) & 0xffffu;

	rd->skip = top(rd)->uc;
	if (hidden(rd))
		return;
	if (rd->nmb > 0)
		flush_pending(rd);
	if (v >= 0xd800 && v <= 0xdbff) {
		if (rd->hi)
			put_cp(rd, RTF_REPLACEMENT);
		rd->hi = v;
		return;
	}
	if (v >= 0xdc00 && v <= 0xdfff && rd->hi) {
		put_cp(rd, 0x10000 + ((rd->hi - 0xd800) << 10) + (v - 0xdc00));
		rd->hi = 0;
		return;
	}
	flush_pending(rd);
	put_cp(rd, v);
}

/* ---- control words ---- */

enum act {
	ACT_SKIP,     /* a destination that is not text */
	ACT_FONTTBL,  /* the font table */
	ACT_OBJECT,   /* an embedded object */
	ACT_RESULT,   /* an object's result: text again */
	ACT_SEPDEST,  /* a destination that is text apart: a header, footer, footnote */
	ACT_NL,	      /* a line break */
	ACT_TAB,      /* a tab */
	ACT_CHAR,     /* the character val */
	ACT_NONE,     /* no text (\zwj, \chftn...) */
	ACT_F,	      /* \fN */
	ACT_FCHARSET, /* \fcharsetN */
	ACT_CPG,      /* \cpgN: a font's code page */
	ACT_DEFF,     /* \deffN */
	ACT_ANSICPG,  /* \ansicpgN */
	ACT_DOCCP,    /* \ansi \mac \pc \pca: the document's code page is val */
	ACT_U,	      /* \uN */
	ACT_UC,	      /* \ucN */
	ACT_BIN,      /* \binN */
	ACT_FROMHTML, /* \fromhtml: an encapsulated HTML body (MS-OXRTFEX) */
	ACT_HTMLRTF,  /* \htmlrtf, \htmlrtf0 */
	ACT_HTMLTAG,  /* \htmltagN: a tag of the encapsulated HTML (its group is skipped by \*) */
	ACT_PLAIN,    /* \plain: character formatting, the font too, back to the defaults */
};

struct word {
	const char *name;
	uint8_t act;
	uint32_t val;
};

/* Sorted by name (strcmp), for bsearch. */
static const struct word words[] = {
	{"aftnsep", ACT_SKIP, 0},
	{"aftnsepc", ACT_SKIP, 0},
	{"annotation", ACT_SEPDEST, 0},
	{"ansi", ACT_DOCCP, 1252},
	{"ansicpg", ACT_ANSICPG, 0},
	{"atnauthor", ACT_SKIP, 0},
	{"atnid", ACT_SKIP, 0},
	{"bin", ACT_BIN, 0},
	{"bullet", ACT_CHAR, 0x2022},
	{"cell", ACT_TAB, 0},
	{"chftn", ACT_NONE, 0},
	{"colorschememapping", ACT_SKIP, 0},
	{"colortbl", ACT_SKIP, 0},
	{"cpg", ACT_CPG, 0},
	{"datastore", ACT_SKIP, 0},
	{"deff", ACT_DEFF, 0},
	{"docvar", ACT_SKIP, 0},
	{"emdash", ACT_CHAR, 0x2014},
	{"emspace", ACT_CHAR, ' '},
	{"endash", ACT_CHAR, 0x2013},
	{"enspace", ACT_CHAR, ' '},
	{"f", ACT_F, 0},
	{"fcharset", ACT_FCHARSET, 0},
	{"filetbl", ACT_SKIP, 0},
	{"fldinst", ACT_SKIP, 0},
	{"fonttbl", ACT_FONTTBL, 0},
	{"footer", ACT_SEPDEST, 0},
	{"footerf", ACT_SEPDEST, 0},
	{"footerl", ACT_SEPDEST, 0},
	{"footerr", ACT_SEPDEST, 0},
	{"footnote", ACT_SEPDEST, 0},
	{"fromhtml", ACT_FROMHTML, 0},
	{"ftnsep", ACT_SKIP, 0},
	{"ftnsepc", ACT_SKIP, 0},
	{"generator", ACT_SKIP, 0},
	{"header", ACT_SEPDEST, 0},
	{"headerf", ACT_SEPDEST, 0},
	{"headerl", ACT_SEPDEST, 0},
	{"headerr", ACT_SEPDEST, 0},
	{"htmlrtf", ACT_HTMLRTF, 0},
	{"htmltag", ACT_HTMLTAG, 0},
	{"info", ACT_SKIP, 0},
	{"latentstyles", ACT_SKIP, 0},
	{"ldblquote", ACT_CHAR, 0x201c},
	{"line", ACT_NL, 0},
	{"listoverridetable", ACT_SKIP, 0},
	{"listtable", ACT_SKIP, 0},
	{"listtext", ACT_SKIP, 0},
	{"lquote", ACT_CHAR, 0x2018},
	{"ltrmark", ACT_NONE, 0},
	{"mac", ACT_DOCCP, 10000},
	{"mmathPr", ACT_SKIP, 0},
	{"nestcell", ACT_TAB, 0},
	{"nestrow", ACT_NL, 0},
	{"nonshppict", ACT_SKIP, 0},
	{"object", ACT_OBJECT, 0},
	{"page", ACT_NL, 0},
	{"par", ACT_NL, 0},
	{"pc", ACT_DOCCP, 437},
	{"pca", ACT_DOCCP, 850},
	{"pgdsctbl", ACT_SKIP, 0},
	{"pict", ACT_SKIP, 0},
	{"plain", ACT_PLAIN, 0},
	{"pn", ACT_SKIP, 0},
	{"pntext", ACT_SKIP, 0},
	{"protusertbl", ACT_SKIP, 0},
	{"qmspace", ACT_CHAR, ' '},
	{"rdblquote", ACT_CHAR, 0x201d},
	{"result", ACT_RESULT, 0},
	{"revtbl", ACT_SKIP, 0},
	{"row", ACT_NL, 0},
	{"rquote", ACT_CHAR, 0x2019},
	{"rsidtbl", ACT_SKIP, 0},
	{"rtlmark", ACT_NONE, 0},
	{"sect", ACT_NL, 0},
	{"stylesheet", ACT_SKIP, 0},
	{"tab", ACT_TAB, 0},
	{"tc", ACT_SKIP, 0},
	{"template", ACT_SKIP, 0},
	{"themedata", ACT_SKIP, 0},
	{"txe", ACT_SKIP, 0},
	{"u", ACT_U, 0},
	{"uc", ACT_UC, 0},
	{"userprops", ACT_SKIP, 0},
	{"xe", ACT_SKIP, 0},
	{"xmlnstbl", ACT_SKIP, 0},
	{"zwj", ACT_NONE, 0},
	{"zwnj", ACT_NONE, 0},
};

static int
word_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct word *)elem)->name);
}

/* A control word as read. */
struct ctl {
	char name[RTF_WORD_MAX + 1];
	int known_len; /* the name fit in RTF_WORD_MAX letters */
	int has_param;
	int64_t param;
};

/* bin - \binN: N bytes of binary data after the word, passed over (no more than there are). */
static void
bin(struct rtf_rd *rd, const struct ctl *w)
{
	size_t n = w->has_param && w->param > 0 ? (size_t)w->param : 0;

	if (n > rd->len - rd->pos)
		n = rd->len - rd->pos;
	rd->pos += n;
}

/* font_add - the font table's \fN: a new font, with the document's code page until its
 * \fcharset says. Fonts past RTF_FONTS_MAX get the document's code page. */
static void
font_add(struct rtf_rd *rd, int32_t num)
{
	if (rd->nfonts == RTF_FONTS_MAX)
		return;
	rd->fonts[rd->nfonts].num = num;
	rd->fonts[rd->nfonts++].cp = 0;
}

/* font_set_cp - the code page of the font table's last font; cp 0 leaves it the document's. */
static void
font_set_cp(struct rtf_rd *rd, uint32_t cp)
{
	if (rd->nfonts > 0 && top(rd)->dest == DEST_FONTTBL) {
		rd->fonts[rd->nfonts - 1].cp = cp;
		rd->hit_n = (size_t)-1; /* font_cp's last answer may be this font's old one */
	}
}

/* do_font - \fN: in the font table a new font, elsewhere the font of the text that follows. */
static void
do_font(struct rtf_rd *rd, int32_t num)
{
	struct group *g = top(rd);

	if (g->dest == DEST_FONTTBL) {
		font_add(rd, num);
		return;
	}
	g->font = num;
	g->cp = font_cp(rd, num);
}

/* dest_set - the group becomes a destination of kind d (a skipped one stays skipped). */
static void
dest_set(struct rtf_rd *rd, enum dest d)
{
	struct group *g = top(rd);

	if (d == DEST_TEXT && g->dest == DEST_OBJECT)
		g->dest = DEST_TEXT; /* \result */
	else if (g->dest == DEST_TEXT || d == DEST_SKIP)
		g->dest = (uint8_t)d;
}

/* state_word - control words that set reading state, not text. */
static void
state_word(struct rtf_rd *rd, const struct word *k, const struct ctl *w)
{
	int32_t n = (int32_t)w->param;
	struct group *g = top(rd);

	switch (k->act) {
	case ACT_F:
		do_font(rd, n);
		break;
	case ACT_FCHARSET:
		font_set_cp(rd, charset_cp(n));
		break;
	case ACT_CPG:
		font_set_cp(rd, n > 0 ? (uint32_t)n : 0);
		break;
	case ACT_DEFF:
		rd->deff = n;
		break;
	case ACT_ANSICPG:
		if (n > 0)
			rd->doc_cp = (uint32_t)n;
		break;
	case ACT_DOCCP:
		rd->doc_cp = k->val;
		break;
	case ACT_UC:
		g->uc = n > 0 ? (uint32_t)n : 0;
		break;
	case ACT_FROMHTML:
		rd->html = !w->has_param || n != 0;
		break;
	case ACT_HTMLRTF:
		g->htmlrtf = !w->has_param || n != 0;
		if (!g->htmlrtf)
			rd->entity = 0;
		break;
	case ACT_HTMLTAG:
		g->tag = 2;
		rd->tag_first = 0;
		rd->tag_ws = 0;
		rd->entity = 0;
		break;
	case ACT_PLAIN:
		g->font = -1;
		g->cp = 0;
		break;
	}
}

/* act_word - do what control word k (read as w) does. */
static void
act_word(struct rtf_rd *rd, const struct word *k, const struct ctl *w)
{
	switch (k->act) {
	case ACT_SKIP:
		dest_set(rd, DEST_SKIP);
		break;
	case ACT_FONTTBL:
		dest_set(rd, DEST_FONTTBL);
		break;
	case ACT_OBJECT:
		dest_set(rd, DEST_OBJECT);
		break;
	case ACT_RESULT:
		dest_set(rd, DEST_TEXT);
		break;
	case ACT_SEPDEST:
		put_sep(rd, '\n');
		top(rd)->sep = 1;
		break;
	case ACT_NL:
		put_sep(rd, '\n');
		break;
	case ACT_TAB:
		put_sep(rd, '\t');
		break;
	case ACT_CHAR:
		flush_pending(rd);
		if (!hidden(rd))
			put_cp(rd, k->val);
		break;
	case ACT_U:
		unicode(rd, w->has_param ? w->param : 0);
		break;
	case ACT_NONE:
		break;
	default:
		state_word(rd, k, w);
	}
}

/* read_word - the control word at rd->pos (after the backslash, at its first letter): its
 * letters (more than RTF_WORD_MAX make it unknown), an optional signed parameter (digits past
 * RTF_DIGITS_MAX are passed over) and the space that may end it. */
static void
read_word(struct rtf_rd *rd, struct ctl *w)
{
	size_t n = 0, digits = 0;
	int neg = 0;

	memset(w, 0, sizeof(*w));
	for (; rd->pos < rd->len && ((rd->p[rd->pos] | 0x20) >= 'a' && (rd->p[rd->pos] | 0x20) <= 'z');
	     rd->pos++, n++)
		if (n < RTF_WORD_MAX)
			w->name[n] = (char)rd->p[rd->pos];
	w->known_len = n <= RTF_WORD_MAX;
	if (rd->pos + 1 < rd->len && rd->p[rd->pos] == '-' && rd->p[rd->pos + 1] >= '0' &&
	    rd->p[rd->pos + 1] <= '9') {
		neg = 1;
		rd->pos++;
	}
	for (; rd->pos < rd->len && rd->p[rd->pos] >= '0' && rd->p[rd->pos] <= '9'; rd->pos++)
		if (digits++ < RTF_DIGITS_MAX)
			w->param = w->param * 10 + (rd->p[rd->pos] - '0');
	w->has_param = digits > 0;
	if (neg)
		w->param = -w->param;
	if (rd->pos < rd->len && rd->p[rd->pos] == ' ')
		rd->pos++;
}

/* control_word - a control word: read it, then do it unless it is a skipped fallback
 * character. \bin's data is passed over either way. */
static void
control_word(struct rtf_rd *rd)
{
	const struct word *k;
	struct ctl w;

	read_word(rd, &w);
	k = w.known_len ? bsearch(w.name, words, sizeof(words) / sizeof(words[0]),
				  sizeof(words[0]), word_cmp)
			: NULL;
	if (k && k->act == ACT_BIN)
		bin(rd, &w);
	if (rd->skip > 0) {
		rd->skip--;
		return;
	}
	if (rd->nmb > 0)
		flush_pending(rd); /* a character's next byte comes next or not at all */
	if (k)
		act_word(rd, k, &w);
}

/* hex_byte - \'hh at rd->pos (after the quote): a byte of text in the code page in force. */
static void
hex_byte(struct rtf_rd *rd)
{
	int h = rd->pos < rd->len ? hex_value(rd->p[rd->pos]) : -1;
	int l = rd->pos + 1 < rd->len ? hex_value(rd->p[rd->pos + 1]) : -1;

	if (h < 0 || l < 0)
		return; /* not a byte: the quote alone is dropped */
	rd->pos += 2;
	if (rd->skip > 0)
		rd->skip--;
	else if (!hidden(rd))
		put_byte(rd, (uint8_t)(h << 4 | l));
}

/* control_symbol - a backslash and a character that is not a letter. */
static void
control_symbol(struct rtf_rd *rd)
{
	uint8_t c = rd->p[rd->pos++];

	if (c == '\'') {
		hex_byte(rd);
		return;
	}
	if (rd->skip > 0) {
		rd->skip--;
		return;
	}
	if (c == '*') {
		dest_set(rd, DEST_SKIP); /* an ignorable destination: none is document text */
		return;
	}
	if (c == '\r' || c == '\n') {
		put_sep(rd, '\n'); /* RTF 1.9.1: a backslash before a line end is \par */
		return;
	}
	if (c == '\\' || c == '{' || c == '}') {
		if (!hidden(rd))
			put_byte(rd, c); /* through put_byte: 0x5c is a Shift_JIS trail byte */
		return;
	}
	flush_pending(rd);
	if (hidden(rd))
		return;
	if (c == '~')
		put_cp(rd, 0xa0); /* non-breaking space */
	else if (c == '_')
		put_cp(rd, '-'); /* non-breaking hyphen: '-', so the words around it read as
				  * a hyphenated word does */
	/* \- (optional hyphen), \: (index subentry), \| (formula) and others: no text */
}

/* ---- groups ---- */

static void
group_open(struct rtf_rd *rd)
{
	flush_pending(rd);
	rd->skip = 0;
	if (rd->excess > 0 || rd->depth == RTF_DEPTH_MAX) {
		rd->excess++;
		rd->deep = 1;
		return;
	}
	if (rd->depth == 0) {
		rd->st[0] = (struct group){.dest = DEST_TEXT, .font = -1, .uc = RTF_UC_DEFAULT};
	} else {
		rd->st[rd->depth] = rd->st[rd->depth - 1];
		rd->st[rd->depth].sep = 0;
		rd->st[rd->depth].tag = rd->st[rd->depth].tag ? 1 : 0;
	}
	rd->depth++;
}

static void
group_close(struct rtf_rd *rd)
{
	int sep, tag;

	flush_pending(rd);
	rd->skip = 0;
	if (rd->excess > 0) {
		rd->excess--;
		return;
	}
	sep = top(rd)->sep && top(rd)->dest == DEST_TEXT;
	tag = top(rd)->tag == 2;
	if (--rd->depth == 0) {
		rd->ended = 1;
		return;
	}
	if (sep)
		put_sep(rd, '\n');
	if (tag)
		tag_end(rd);
}

/* run - read tokens until the document ends, the input ends, or max is reached. */
static void
run(struct rtf_rd *rd)
{
	while (rd->pos < rd->len && !rd->ended && !rd->o.full) {
		uint8_t c = rd->p[rd->pos];

		if (c == '{') {
			rd->pos++;
			group_open(rd);
		} else if (c == '}') {
			rd->pos++;
			group_close(rd);
		} else if (c == '\\') {
			rd->pos++;
			if (rd->pos == rd->len)
				break;
			if ((rd->p[rd->pos] | 0x20) >= 'a' && (rd->p[rd->pos] | 0x20) <= 'z')
				control_word(rd);
			else
				control_symbol(rd);
		} else {
			text(rd);
		}
	}
	if (rd->depth > 0)
		flush_pending(rd);
}

enum vl_err
rtf_text(const uint8_t *p, size_t len, struct buf *out, size_t max, int *truncated, char *err)
{
	struct rtf_rd *rd;
	enum vl_err rc = VL_OK;

	*truncated = 0;
	if (!rtf_is_bytes(p, len))
		return vl_err_set(err, VL_ERR_PARSE, "not RTF: it does not start with {\\rtf");
	rd = xcalloc(1, sizeof(*rd)); /* ~9 KiB: off the stack of an indexer thread */
	rd->p = p;
	rd->len = len;
	rd->doc_cp = RTF_CP_DEFAULT;
	rd->o = (struct rtf_out){out, out->len, max, 0};
	run(rd);
	for (size_t i = 0; i < rd->ncodecs; i++)
		if (rd->codecs[i].cd != (iconv_t)-1)
			iconv_close(rd->codecs[i].cd);
	*truncated = rd->o.full;
	if (rd->deep)
		rc = vl_err_set(err, VL_ERR_LIMIT, "groups nest deeper than RTF_DEPTH_MAX (%d)",
				RTF_DEPTH_MAX);
	free(rd);
	return rc;
}
