/* office_text - the text of OOXML and ODF files (see office_text.h).
 *
 * The XML of each part is read by xml_text, under this file's element rules for the kind.
 *
 * libzip ownership: the source made over the caller's bytes belongs to the archive once
 * zip_open_from_source succeeds (zip_discard frees both), and is freed here when it fails;
 * every zip_file_t is closed by the function that opened it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "office_text.h"
#include "ole2.h"
#include "xml_text.h"

#define OFFICE_CHUNK 65536 /* bytes asked of zip_fread at a time */
#define PART_DIGITS_MAX 9  /* digits of N in a numbered part (slide<N>.xml) */


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

/* ---- what an element means ---- */

/* The rules of each kind, by local name (xml_text.h). */

static const struct xml_text_rule docx_rules[] = {
	{"t", XML_EL_TEXT},	   /* w:t runs, m:t maths, a:t in drawings */
	{"delText", XML_EL_TEXT},  /* deleted text of a tracked change */
	{"p", XML_EL_NL},	   {"br", XML_EL_NL}, {"cr", XML_EL_NL}, {"tab", XML_EL_TAB},
	{"tc", XML_EL_TAB},
	{"Fallback", XML_EL_SKIP}, /* mc:Fallback repeats mc:Choice (text boxes) for old readers */
	{NULL, 0},
};

static const struct xml_text_rule xlsx_rules[] = {
	{"t", XML_EL_TEXT},   /* <si><t> shared, <is><t> inline strings, and their rich runs */
	{"v", XML_EL_TEXT},   /* a cell's value */
	{"rPh", XML_EL_SKIP}, /* the phonetic reading of Japanese text, a second copy of it */
	{"c", XML_EL_TAB | XML_EL_SKIP_SHARED}, {"si", XML_EL_NL}, {"row", XML_EL_NL}, {NULL, 0},
};

static const struct xml_text_rule pptx_rules[] = {
	{"t", XML_EL_TEXT}, {"p", XML_EL_NL}, {"br", XML_EL_NL}, {"tc", XML_EL_TAB},
	{"Fallback", XML_EL_SKIP}, {NULL, 0},
};

static const struct xml_text_rule odf_rules[] = {
	{"p", XML_EL_TEXT | XML_EL_NL}, {"h", XML_EL_TEXT | XML_EL_NL}, {"s", XML_EL_SPACE},
	{"tab", XML_EL_TAB}, {"line-break", XML_EL_NL}, {"table-cell", XML_EL_TAB}, {NULL, 0},
};

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
	const struct xml_text_rule *rules;
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
	struct xml_text_out out;
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
 * part that ends inside markup or a skipped element is xml_text_verdict's VL_ERR_PARSE. */
static void
part_verdict(struct office_job *j, const struct xml_text *x, const struct entry_sink *s,
	     const char *name)
{
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
	else if (!j->out.full) /* when it is, the reading stopped where max was, anywhere */
		j->verdict = xml_text_verdict(x, name, j->err);
}

/* text_feed - an entry_sink's feed: the chunk goes to the reader ctx. */
static void
text_feed(void *ctx, const uint8_t *p, size_t n)
{
	xml_text_feed(ctx, p, n);
}

/* text_read - the text of entry idx into j->out. */
static enum vl_err
text_read(struct office_job *j, zip_uint64_t idx, const struct xml_text_rule *rules)
{
	struct entry_sink s = {text_feed, NULL, OFFICE_ENTRY_MAX, 0, 0};
	const char *name = zip_get_name(j->za, idx, 0);
	struct xml_text *x;
	enum vl_err rc;

	name = name ? name : "?";
	if (j->total >= OFFICE_TOTAL_MAX) {
		if (j->verdict == VL_OK)
			j->verdict = vl_err_set(j->err, VL_ERR_LIMIT,
						"%s not read: OFFICE_TOTAL_MAX (%u bytes) inflated "
						"before it", name, OFFICE_TOTAL_MAX);
		return VL_OK;
	}
	s.ctx = x = xml_text_new(rules, &j->out);
	rc = entry_read(j, idx, name, &s);
	xml_text_finish(x);
	if (rc == VL_OK)
		part_verdict(j, x, &s, name);
	xml_text_free(x);
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
numbered_read(struct office_job *j, const char *prefix, const struct xml_text_rule *rules)
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

/* cfb_verdict - an OLE2 compound file is a legacy .doc/.xls/.ppt, or an OOXML file Office
 * encrypted (ole2_encrypted_package). */
static enum vl_err
cfb_verdict(const uint8_t *p, size_t len, char *err)
{
	if (ole2_encrypted_package(p, len))
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
	if (ole2_is(p, len))
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
