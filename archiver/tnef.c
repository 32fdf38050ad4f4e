/* tnef - a bounded reader of TNEF streams ([MS-OXTNEF]) and compressed RTF ([MS-OXRTFCP]).
 *
 * Why our own reader and not libytnef 2.0 (Debian 12), the library the brief named: it was
 * tried first, on the 16 TNEF samples of ../shared/corpus/mimekit-testdata/tnef, and lost 4
 * whole streams: it refuses any MAPI value over 512 KiB (MAPI_OBJECT: a 628 KB attachment),
 * a named property name over 100 bytes (christmas: it also misreads the name's Kind field as
 * a count), an attribute of size 0 (data-before-name), and, by its source, any attSubject
 * over 100 bytes, attBody over 100,000 and attFrom over 100: each fails the whole parse. On
 * every such error it printf()s to stdout whatever TNEFStruct.Debug says (Debug 0 silences
 * only its debug lines), which no caller of ours can stop in a threaded process. Its
 * DecompressRTF trusts the header's raw size (calloc of up to 2 GB), reads 2 bytes past the
 * input on a truncated stream, leaks on 4 error paths and, for uncompressed ("MELA") RTF,
 * copies raw-size bytes from a buffer of any size and then returns NULL. Containing all that
 * would have meant parsing the stream ourselves first; the format is small, so we read it.
 *
 * The stream: a 4-byte signature, a 2-byte key, then attributes, each: level (1 message,
 * 2 attachment), id (4), size (4), size bytes of data, a 2-byte checksum (the sum of the
 * data bytes). All integers little-endian. attAttachRendData starts each attachment. Every
 * pointer into the input stays within it: all reads go through struct rd. */
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "file_label.h"
#include "tnef.h"

#define TNEF_SIGNATURE 0x223E9F78u
#define TNEF_HEAD_LEN 6	     /* signature and key */
#define ATTR_HEAD_LEN 9	     /* level, id, size */
#define ATTR_CHECKSUM_LEN 2
#define LVL_MESSAGE 1
#define LVL_ATTACHMENT 2

/* Attribute ids ([MS-OXTNEF] 2.1.3.3): the low 16 bits name the attribute. */
#define ATT_ID(a) ((a) & 0xFFFFu)
#define ATT_SUBJECT 0x8004u
#define ATT_BODY 0x800Cu
#define ATT_ATTACH_DATA 0x800Fu
#define ATT_ATTACH_TITLE 0x8010u
#define ATT_ATTACH_REND_DATA 0x9002u
#define ATT_MAPI_PROPS 0x9003u
#define ATT_ATTACHMENT 0x9005u
#define ATT_OEM_CODEPAGE 0x9007u

/* MAPI property types ([MS-OXCDATA] 2.11.1) and the ids we read. */
#define PT_I2 0x0002u
#define PT_LONG 0x0003u
#define PT_R4 0x0004u
#define PT_DOUBLE 0x0005u
#define PT_CURRENCY 0x0006u
#define PT_APPTIME 0x0007u
#define PT_ERROR 0x000Au
#define PT_BOOLEAN 0x000Bu
#define PT_OBJECT 0x000Du
#define PT_I8 0x0014u
#define PT_STRING8 0x001Eu
#define PT_UNICODE 0x001Fu
#define PT_SYSTIME 0x0040u
#define PT_CLSID 0x0048u
#define PT_SVREID 0x00FBu
#define PT_BINARY 0x0102u
#define MV_FLAG 0x1000u
#define PROP_NAMED_MIN 0x8000u /* ids from here carry a property name ([MS-OXTNEF] 2.1.3.4) */
#define GUID_LEN 16
#define MNID_ID 0u

#define PR_SUBJECT 0x0037u
#define PR_BODY 0x1000u
#define PR_RTF_COMPRESSED 0x1009u
#define PR_HTML 0x1013u	       /* PT_BINARY; PR_BODY_HTML is the same id as a string */
#define PR_DISPLAY_NAME 0x3001u
#define PR_INTERNET_CPID 0x3FDEu
#define PR_MESSAGE_CODEPAGE 0x3FFDu
#define PR_ATTACH_DATA 0x3701u /* _BIN as PT_BINARY, _OBJ as PT_OBJECT */
#define PR_ATTACH_FILENAME 0x3704u
#define PR_ATTACH_METHOD 0x3705u
#define PR_ATTACH_LONG_FILENAME 0x3707u
#define PR_ATTACH_MIME_TAG 0x370Eu
#define ATTACH_EMBEDDED_MSG 5u
#define ATTACH_OLE 6u

/* Compressed RTF ([MS-OXRTFCP] 2.1.3.1): header, dictionary, and its initial text. */
#define RTF_HEAD_LEN 16
#define RTF_COMPRESSED 0x75465A4Cu   /* "LZFu" */
#define RTF_UNCOMPRESSED 0x414C454Du /* "MELA" */
#define RTF_DICT_LEN 4096u
#define RTF_EXPAND_MAX 9u /* output bytes per input byte at most: 2 bytes give 17 */
static const char rtf_prebuf[] =
	"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
	"\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
	"{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

#define CP_DEFAULT 1252u
#define CP_NAME_MAX 32
#define HTML_META_SPAN 2048 /* bytes of HTML searched for its charset, as browsers look at 1024+ */

/* A bounded reader over one span of the input. */
struct rd {
	const uint8_t *p;
	size_t len, off;
};

/* A string as the stream holds it: 8-bit in the code page, or UTF-16LE; rank says how good
 * its source is (a Unicode MAPI property beats an 8-bit one beats an attribute). */
struct str {
	const uint8_t *p;
	size_t len;
	int wide, rank;
};

struct att {
	struct str name, mime;
	const uint8_t *data;
	size_t len;
	int data_rank;
	unsigned method;
};

struct msg {
	struct str subject, body, html;
	const uint8_t *rtf;
	size_t rtf_len;
	unsigned cp_oem, cp_internet, cp_message;
	struct att *att;
	size_t natt, cap;
};

/* What a MAPI list fills: the message, or its current attachment. */
struct prop_sink {
	struct msg *m;
	struct att *a;
};

static int
rd_take(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->len - r->off < n)
		return -1;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

static int
rd_u32(struct rd *r, uint32_t *v)
{
	const uint8_t *q;

	if (rd_take(r, 4, &q) < 0)
		return -1;
	*v = get_u32le(q);
	return 0;
}

/* rd_padded - take n bytes and the padding after them to a multiple of 4. */
static int
rd_padded(struct rd *r, size_t n, const uint8_t **out)
{
	const uint8_t *pad;

	if (rd_take(r, n, out) < 0)
		return -1;
	return rd_take(r, (4 - n % 4) % 4, &pad);
}

int
tnef_is_bytes(const uint8_t *p, size_t len)
{
	return len >= 4 && get_u32le(p) == TNEF_SIGNATURE;
}

int
tnef_is(const char *content_type, const char *filename)
{
	static const char *const types[] = {"application/ms-tnef", "application/vnd.ms-tnef"};

	if (file_label_type_in(content_type, types, 2))
		return 1;
	if (filename) {
		const char *base = strrchr(filename, '/');
		const char *bs = strrchr(filename, '\\');

		base = bs > base ? bs : base;
		return strcasecmp(base ? base + 1 : filename, "winmail.dat") == 0;
	}
	return 0;
}

/* ---- Strings to UTF-8 ---- */

/* cp_name - the iconv name of Windows code page cp into name. */
static void
cp_name(unsigned cp, char name[CP_NAME_MAX])
{
	static const struct {
		unsigned cp;
		const char *name;
	} known[] = {{65001, "UTF-8"},	    {20866, "KOI8-R"},	  {21866, "KOI8-U"},
		     {50220, "ISO-2022-JP"}, {50221, "ISO-2022-JP"}, {50222, "ISO-2022-JP"},
		     {51932, "EUC-JP"},	    {51949, "EUC-KR"},	  {52936, "HZ"},
		     {54936, "GB18030"},    {20127, "ASCII"},	  {950, "BIG5"}};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].cp == cp) {
			snprintf(name, CP_NAME_MAX, "%s", known[i].name);
			return;
		}
	if (cp >= 28591 && cp <= 28606)
		snprintf(name, CP_NAME_MAX, "ISO-8859-%u", cp - 28590);
	else
		snprintf(name, CP_NAME_MAX, "CP%u", cp);
}

/* Windows-1252's 0x80-0x9F; 0 where it assigns nothing (read as ISO-8859-1's C1 control). */
static const uint16_t cp1252_c1[32] = {
	0x20AC, 0,	0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0,	0x017D, 0,	0,	0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,	0x017E, 0x0178};

/* latin1_append - the bytes as Windows-1252, or ISO-8859-1 where 1252 assigns nothing. */
static void
latin1_append(struct buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gunichar c = p[i];
		char u[6];

		if (c >= 0x80 && c < 0xA0 && cp1252_c1[c - 0x80])
			c = cp1252_c1[c - 0x80];
		buf_append(out, u, (size_t)g_unichar_to_utf8(c, u));
	}
}

static void
utf16_append(struct buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		gunichar c = (gunichar)p[i] | (gunichar)p[i + 1] << 8;
		char u[6];

		if (c >= 0xD800 && c < 0xDC00 && i + 3 < n) {
			gunichar lo = (gunichar)p[i + 2] | (gunichar)p[i + 3] << 8;

			if (lo >= 0xDC00 && lo < 0xE000) {
				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				i += 2;
			}
		}
		if (c >= 0xD800 && c < 0xE000)
			c = 0xFFFD;
		buf_append(out, u, (size_t)g_unichar_to_utf8(c, u));
	}
}

/* html_charset - the charset an HTML body's <meta> declares, into name; 0 when none. It
 * beats the message code page: Outlook writes the HTML's own bytes (ukr.eml: KOI8-R HTML in
 * a stream whose code page says 1251). */
static int
html_charset(const uint8_t *p, size_t n, char name[CP_NAME_MAX])
{
	size_t span = n < HTML_META_SPAN ? n : HTML_META_SPAN, k = 0;
	const char *at = g_strstr_len((const char *)p, (gssize)span, "charset=");

	if (!at) /* the spelling Outlook uses; CHARSET= and others are left to the code page */
		return 0;
	at += 8;
	while ((size_t)(at - (const char *)p) < span && k + 1 < CP_NAME_MAX &&
	       (g_ascii_isalnum(*at) || *at == '-' || *at == '_'))
		name[k++] = *at++;
	name[k] = '\0';
	return k > 0;
}

/* str_utf8 - s as UTF-8 into out (reset first), cut at its first NUL; NUL-free and valid. */
static void
str_utf8(const struct str *s, unsigned cp, int html, struct buf *out)
{
	size_t n = s->len;
	char name[CP_NAME_MAX];

	buf_reset(out);
	if (s->wide) {
		for (n = 0; n + 1 < s->len && (s->p[n] || s->p[n + 1]); n += 2)
			;
		utf16_append(out, s->p, n);
		return;
	}
	n = strnlen((const char *)s->p, s->len);
	if (!html || !html_charset(s->p, n, name))
		cp_name(cp, name);
	gsize w = 0;
	gchar *u = g_convert((const gchar *)s->p, (gssize)n, "UTF-8", name, NULL, &w, NULL);

	if (u && memchr(u, '\0', w) == NULL && g_utf8_validate(u, (gssize)w, NULL))
		buf_append(out, u, w);
	else
		latin1_append(out, s->p, n);
	g_free(u);
}

/* ---- Compressed RTF ---- */

/* lzfu_decode - [MS-OXRTFCP] 2.2.3: decode in into out, at most raw bytes. A reference to
 * the write position ends the stream; running out of input ends it too (damaged, kept). */
static void
lzfu_decode(const uint8_t *in, size_t n, size_t raw, struct buf *out)
{
	uint8_t dict[RTF_DICT_LEN] = {0}; /* a reference past what was written reads zeros, never
					   * this stack's earlier bytes (another message's text) */
	size_t wpos = sizeof(rtf_prebuf) - 1, i = 0;

	memcpy(dict, rtf_prebuf, wpos);
	while (i < n && out->len < raw) {
		unsigned ctl = in[i++];

		for (int bit = 0; bit < 8 && i < n && out->len < raw; bit++, ctl >>= 1) {
			if (!(ctl & 1)) {
				dict[wpos] = in[i];
				wpos = (wpos + 1) % RTF_DICT_LEN;
				buf_append(out, &in[i++], 1);
				continue;
			}
			if (n - i < 2)
				return;
			size_t ref = (size_t)in[i] << 4 | in[i + 1] >> 4;
			size_t cnt = (size_t)(in[i + 1] & 0xF) + 2;

			i += 2;
			if (ref == wpos)
				return;
			for (size_t k = 0; k < cnt && out->len < raw; k++) {
				uint8_t b = dict[(ref + k) % RTF_DICT_LEN];

				dict[wpos] = b;
				wpos = (wpos + 1) % RTF_DICT_LEN;
				buf_append(out, &b, 1);
			}
		}
	}
}

/* rtf_raw_size - the raw size a PR_RTF_COMPRESSED value declares, or -1 when its header is
 * not one ([MS-OXRTFCP] 2.1.3.1.1: COMPSIZE counts the bytes after itself). */
static long long
rtf_raw_size(const uint8_t *p, size_t len)
{
	uint32_t type;

	if (len < RTF_HEAD_LEN || get_u32le(p) != len - 4)
		return -1;
	type = get_u32le(p + 8);
	if (type != RTF_COMPRESSED && type != RTF_UNCOMPRESSED)
		return -1;
	return get_u32le(p + 4);
}

static void
rtf_decompress(const uint8_t *p, size_t len, struct buf *out)
{
	size_t raw = (size_t)rtf_raw_size(p, len), n = len - RTF_HEAD_LEN;

	if (raw > TNEF_BYTES_MAX) /* callers check msg_bytes first; this holds whatever they do */
		raw = TNEF_BYTES_MAX;
	buf_reset(out);
	if (get_u32le(p + 8) == RTF_UNCOMPRESSED) {
		buf_append(out, p + RTF_HEAD_LEN, raw < n ? raw : n);
		return;
	}
	buf_reserve(out, raw < n * RTF_EXPAND_MAX ? raw : n * RTF_EXPAND_MAX);
	lzfu_decode(p + RTF_HEAD_LEN, n, raw, out);
}

/* ---- MAPI property lists ([MS-OXTNEF] 2.1.3.4) ---- */

/* prop_fixed_len - bytes of one value of a fixed-size type in TNEF, 0 if variable, -1 if
 * unknown (the list cannot be read past it). */
static int
prop_fixed_len(uint32_t type)
{
	switch (type) {
	case PT_I2:
	case PT_BOOLEAN:
	case PT_LONG:
	case PT_R4:
	case PT_ERROR:
		return 4; /* 2-byte ones are padded to 4 */
	case PT_DOUBLE:
	case PT_CURRENCY:
	case PT_APPTIME:
	case PT_I8:
	case PT_SYSTIME:
		return 8;
	case PT_CLSID:
		return GUID_LEN;
	case PT_STRING8:
	case PT_UNICODE:
	case PT_BINARY:
	case PT_OBJECT:
	case PT_SVREID:
		return 0;
	default:
		return -1;
	}
}

static void
str_offer(struct str *s, const uint8_t *p, size_t n, uint32_t type, int rank)
{
	if (type != PT_STRING8 && type != PT_UNICODE && type != PT_BINARY)
		return;
	rank += type == PT_UNICODE;
	if (s->p && s->rank >= rank)
		return;
	*s = (struct str){p, n, type == PT_UNICODE, rank};
}

static void
prop_message(struct msg *m, uint32_t id, uint32_t type, const uint8_t *p, size_t n)
{
	unsigned v = n >= 4 ? get_u32le(p) : 0;

	switch (id) {
	case PR_SUBJECT:
		str_offer(&m->subject, p, n, type, 1);
		break;
	case PR_BODY:
		str_offer(&m->body, p, n, type, 1);
		break;
	case PR_HTML:
		str_offer(&m->html, p, n, type, 1);
		break;
	case PR_RTF_COMPRESSED:
		if (type == PT_BINARY)
			m->rtf = p, m->rtf_len = n;
		break;
	case PR_INTERNET_CPID:
		if (type == PT_LONG)
			m->cp_internet = v;
		break;
	case PR_MESSAGE_CODEPAGE:
		if (type == PT_LONG)
			m->cp_message = v;
		break;
	}
}

static void
prop_attach(struct att *a, uint32_t id, uint32_t type, const uint8_t *p, size_t n)
{
	switch (id) {
	case PR_ATTACH_LONG_FILENAME:
		str_offer(&a->name, p, n, type, 3);
		break;
	case PR_ATTACH_FILENAME:
		str_offer(&a->name, p, n, type, 1);
		break;
	case PR_DISPLAY_NAME:
		str_offer(&a->name, p, n, type, 0);
		break;
	case PR_ATTACH_MIME_TAG:
		str_offer(&a->mime, p, n, type, 1);
		break;
	case PR_ATTACH_METHOD:
		if (type == PT_LONG && n >= 4)
			a->method = get_u32le(p);
		break;
	case PR_ATTACH_DATA:
		/* A PT_OBJECT value starts with the interface id of the object. */
		if (type == PT_OBJECT && n >= GUID_LEN)
			p += GUID_LEN, n -= GUID_LEN;
		else if (type != PT_BINARY)
			break;
		/* An object beats attAttachData, which then holds only the text down-level
		 * readers show ("This attachment is a MAPI 1.0 embedded message..."). */
		if (a->data_rank < (type == PT_OBJECT ? 3 : 1) && n > 0)
			a->data = p, a->len = n, a->data_rank = type == PT_OBJECT ? 3 : 1;
		break;
	}
}

/* prop_name_skip - skip a named property's name: GUID, kind, then an id or a UTF-16 name. */
static int
prop_name_skip(struct rd *r)
{
	const uint8_t *q;
	uint32_t kind, n;

	if (rd_take(r, GUID_LEN, &q) < 0 || rd_u32(r, &kind) < 0 || rd_u32(r, &n) < 0)
		return -1;
	return kind == MNID_ID ? 0 : rd_padded(r, n, &q);
}

/* prop_value - read one value of type; *p and *n span its bytes. */
static int
prop_value(struct rd *r, uint32_t type, int first_count, const uint8_t **p, size_t *n)
{
	int fixed = prop_fixed_len(type);
	uint32_t count, size;

	if (fixed < 0)
		return -1;
	if (fixed > 0) {
		*n = (size_t)fixed;
		return rd_take(r, *n, p);
	}
	/* A single variable-size value has its own count of values (1) first. */
	if (first_count && rd_u32(r, &count) < 0)
		return -1;
	if (rd_u32(r, &size) < 0)
		return -1;
	*n = size;
	return rd_padded(r, size, p);
}

/* prop_one - read one property, handing its value to s when single-valued. */
static int
prop_one(struct rd *r, struct prop_sink *s)
{
	uint32_t tag, type, count = 1;
	const uint8_t *p;
	size_t n;

	if (rd_u32(r, &tag) < 0)
		return -1;
	if ((tag >> 16) >= PROP_NAMED_MIN && prop_name_skip(r) < 0)
		return -1;
	type = tag & 0xFFFFu;
	if ((type & MV_FLAG) && rd_u32(r, &count) < 0)
		return -1;
	/* Each value takes at least 4 bytes: count cannot spin past the input. */
	for (uint32_t i = 0; i < count; i++) {
		if (prop_value(r, type & ~MV_FLAG, !(type & MV_FLAG), &p, &n) < 0)
			return -1;
		if (type & MV_FLAG || (tag >> 16) >= PROP_NAMED_MIN)
			continue;
		if (s->a)
			prop_attach(s->a, tag >> 16, type, p, n);
		else
			prop_message(s->m, tag >> 16, type, p, n);
	}
	return 0;
}

static enum vl_err
props_read(const uint8_t *p, size_t len, struct prop_sink *s, size_t at, char *err)
{
	struct rd r = {p, len, 0};
	uint32_t count;

	if (rd_u32(&r, &count) < 0)
		return vl_err_set(err, VL_ERR_PARSE, "tnef: MAPI list at %zu: no count", at);
	if (count > TNEF_PROPS_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "tnef: MAPI list at %zu: %u properties, over %u",
				  at, count, TNEF_PROPS_MAX);
	for (uint32_t i = 0; i < count; i++)
		if (prop_one(&r, s) < 0)
			return vl_err_set(err, VL_ERR_PARSE,
					  "tnef: MAPI list at %zu: property %u damaged", at, i);
	return VL_OK;
}

/* ---- The attribute walk ---- */

static enum vl_err
att_new(struct msg *m, char *err)
{
	if (m->natt == TNEF_ATTACH_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "tnef: over %u attachments", TNEF_ATTACH_MAX);
	if (m->natt == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->att = xrealloc(m->att, m->cap * sizeof(*m->att));
	}
	m->att[m->natt++] = (struct att){0};
	return VL_OK;
}

/* attr_attach - one attachment-level attribute; before any attAttachRendData one is made. */
static enum vl_err
attr_attach(struct msg *m, uint32_t id, const uint8_t *d, size_t n, size_t at, char *err)
{
	enum vl_err e;
	struct att *a;

	if ((id == ATT_ATTACH_REND_DATA || m->natt == 0) && (e = att_new(m, err)) != VL_OK)
		return e;
	a = &m->att[m->natt - 1];
	if (id == ATT_ATTACH_TITLE)
		str_offer(&a->name, d, n, PT_STRING8, 2);
	else if (id == ATT_ATTACH_DATA && n > 0)
		a->data = d, a->len = n, a->data_rank = 2;
	else if (id == ATT_ATTACHMENT)
		return props_read(d, n, &(struct prop_sink){m, a}, at, err);
	return VL_OK;
}

static enum vl_err
attr_message(struct msg *m, uint32_t id, const uint8_t *d, size_t n, size_t at, char *err)
{
	if (id == ATT_SUBJECT)
		str_offer(&m->subject, d, n, PT_STRING8, 0);
	else if (id == ATT_BODY)
		str_offer(&m->body, d, n, PT_STRING8, 0);
	else if (id == ATT_OEM_CODEPAGE && n >= 4)
		m->cp_oem = get_u32le(d);
	else if (id == ATT_MAPI_PROPS)
		return props_read(d, n, &(struct prop_sink){m, NULL}, at, err);
	return VL_OK;
}

/* attr_next - read the attribute at r's offset; VL_OK with *done at the clean end. */
static enum vl_err
attr_next(struct rd *r, struct msg *m, int *done, char *err)
{
	size_t at = r->off;
	const uint8_t *h, *d, *ck;
	uint16_t sum = 0;
	uint32_t id, size;

	if ((*done = r->off == r->len))
		return VL_OK;
	if (rd_take(r, ATTR_HEAD_LEN, &h) < 0)
		return vl_err_set(err, VL_ERR_PARSE, "tnef: truncated attribute at %zu", at);
	id = get_u32le(h + 1);
	size = get_u32le(h + 5);
	if (h[0] != LVL_MESSAGE && h[0] != LVL_ATTACHMENT)
		return vl_err_set(err, VL_ERR_PARSE, "tnef: bad level %u at %zu", h[0], at);
	if (rd_take(r, size, &d) < 0 || rd_take(r, ATTR_CHECKSUM_LEN, &ck) < 0)
		return vl_err_set(err, VL_ERR_PARSE, "tnef: attribute at %zu: %u bytes past the end",
				  at, size);
	for (uint32_t i = 0; i < size; i++)
		sum = (uint16_t)(sum + d[i]);
	if (sum != (uint16_t)(ck[0] | ck[1] << 8))
		return vl_err_set(err, VL_ERR_PARSE, "tnef: attribute at %zu: bad checksum", at);
	if (h[0] == LVL_ATTACHMENT)
		return attr_attach(m, ATT_ID(id), d, size, at, err);
	return attr_message(m, ATT_ID(id), d, size, at, err);
}

/* ---- Handing over ---- */

/* msg_bytes - what the parts will hold at most; the RTF at its declared size. */
static size_t
msg_bytes(const struct msg *m)
{
	/* An 8-bit code page can take 3 UTF-8 bytes a byte, UTF-16 1.5. */
	size_t n = (m->subject.len + m->body.len + m->html.len) * 3;

	if (m->rtf && rtf_raw_size(m->rtf, m->rtf_len) > 0)
		n += (size_t)rtf_raw_size(m->rtf, m->rtf_len);
	for (size_t i = 0; i < m->natt; i++)
		n += m->att[i].len;
	return n;
}

static unsigned
msg_cp(const struct msg *m)
{
	if (m->cp_internet)
		return m->cp_internet;
	if (m->cp_message)
		return m->cp_message;
	return m->cp_oem ? m->cp_oem : CP_DEFAULT;
}

/* emit_text - hand over s as UTF-8 under kind, if it holds any text; 1 when fn stopped. */
static int
emit_text(const struct msg *m, enum tnef_part_kind kind, const struct str *s, struct buf *b,
	  tnef_part_fn fn, void *arg)
{
	if (!s->p)
		return 0;
	str_utf8(s, msg_cp(m), kind == TNEF_BODY_HTML, b);
	if (b->len == 0)
		return 0;
	return fn(arg, &(struct tnef_part){.kind = kind, .data = b->data, .len = b->len}) != 0;
}

static int
emit_attach(const struct msg *m, const struct att *a, struct buf *b, tnef_part_fn fn,
	    void *arg)
{
	struct tnef_part part = {.kind = TNEF_ATTACHMENT, .data = a->data, .len = a->len};
	struct buf name = {0};
	int stop;

	if (a->method == ATTACH_EMBEDDED_MSG)
		part.flags |= TNEF_PART_EMBEDDED;
	if (a->method == ATTACH_OLE)
		part.flags |= TNEF_PART_OLE;
	if (a->name.p) {
		str_utf8(&a->name, msg_cp(m), 0, &name);
		part.filename = name.len ? (const char *)name.data : NULL;
	}
	if (a->mime.p) {
		str_utf8(&a->mime, msg_cp(m), 0, b);
		part.content_type = b->len ? (const char *)b->data : NULL;
	}
	stop = fn(arg, &part) != 0;
	buf_free(&name);
	return stop;
}

static void
msg_emit(const struct msg *m, tnef_part_fn fn, void *arg)
{
	struct buf b = {0};
	int stop = emit_text(m, TNEF_SUBJECT, &m->subject, &b, fn, arg) ||
		   emit_text(m, TNEF_BODY_TEXT, &m->body, &b, fn, arg) ||
		   emit_text(m, TNEF_BODY_HTML, &m->html, &b, fn, arg);

	if (!stop && m->rtf && rtf_raw_size(m->rtf, m->rtf_len) > 0) {
		rtf_decompress(m->rtf, m->rtf_len, &b);
		if (b.len)
			stop = fn(arg, &(struct tnef_part){.kind = TNEF_BODY_RTF, .data = b.data,
							   .len = b.len}) != 0;
	}
	for (size_t i = 0; !stop && i < m->natt; i++)
		stop = emit_attach(m, &m->att[i], &b, fn, arg);
	buf_free(&b);
}

enum vl_err
tnef_parts(const uint8_t *p, size_t len, tnef_part_fn fn, void *arg, char *err)
{
	struct rd r = {p, len, TNEF_HEAD_LEN};
	struct msg m = {0};
	enum vl_err e = VL_OK;
	char damage[VL_ERRLEN] = "";
	int done = 0;

	if (len > TNEF_BYTES_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "tnef: %zu bytes, over %u", len, TNEF_BYTES_MAX);
	if (len < TNEF_HEAD_LEN || !tnef_is_bytes(p, len))
		return vl_err_set(err, VL_ERR_PARSE, "tnef: no TNEF signature");
	while (!done && e == VL_OK)
		e = attr_next(&r, &m, &done, damage);
	/* The bound holds for a damaged stream too: its RTF part is decompressed all the same. */
	if ((e == VL_OK || e == VL_ERR_PARSE) && msg_bytes(&m) > TNEF_BYTES_MAX)
		e = vl_err_set(damage, VL_ERR_LIMIT, "tnef: parts over %u bytes", TNEF_BYTES_MAX);
	if (e == VL_OK || e == VL_ERR_PARSE)
		msg_emit(&m, fn, arg);
	free(m.att);
	if (e != VL_OK && err)
		snprintf(err, VL_ERRLEN, "%s", damage);
	return e;
}
