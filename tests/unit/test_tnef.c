/* test_tnef - archiver/tnef.{c,h} on the TNEF samples of ../shared/corpus/mimekit-testdata/tnef
 * (read at run time from the project root) and on streams built here: attachment names and
 * bytes against the files extracted beside each sample, bodies (HTML, RTF, text), UTF-16 and
 * code-page strings, TNEF inside MIME (ukr.eml, rich-text.eml), damage (every prefix, byte
 * flips, garbage at the end) without crash, leak or output, the bounds and the stop. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <fcntl.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "tnef.h"
#include "unit.h"

#define TDIR "../shared/corpus/mimekit-testdata/tnef/"
#define PARTS_MAX 64
#define IID_LEN 16
#define PLACEHOLDER "This attachment is a MAPI 1.0 embedded message"

struct got {
	size_t n;
	struct {
		enum tnef_part_kind kind;
		unsigned flags;
		char *name, *type;
		struct buf data;
	} p[PARTS_MAX];
	size_t stop_after; /* 0: never */
};

static int
collect(void *arg, const struct tnef_part *part)
{
	struct got *g = arg;

	if (g->n < PARTS_MAX) {
		g->p[g->n].kind = part->kind;
		g->p[g->n].flags = part->flags;
		g->p[g->n].name = part->filename ? xstrdup(part->filename) : NULL;
		g->p[g->n].type = part->content_type ? xstrdup(part->content_type) : NULL;
		g->p[g->n].data = (struct buf){0};
		if (part->len)
			buf_append(&g->p[g->n].data, part->data, part->len);
	}
	g->n++;
	return g->stop_after && g->n >= g->stop_after;
}

static void
got_free(struct got *g)
{
	for (size_t i = 0; i < g->n && i < PARTS_MAX; i++) {
		free(g->p[i].name);
		free(g->p[i].type);
		buf_free(&g->p[i].data);
	}
	g->n = 0;
}

/* part_of - the first part of kind (and name, when given), or -1. */
static int
part_of(const struct got *g, enum tnef_part_kind kind, const char *name)
{
	for (size_t i = 0; i < g->n && i < PARTS_MAX; i++)
		if (g->p[i].kind == kind && (!name || (g->p[i].name && !strcmp(g->p[i].name, name))))
			return (int)i;
	return -1;
}

/* same_bytes - a is b, or b with CRLF for LF (the extracted text files lost their CRs in
 * git), or b after an OLE object's 16-byte interface id (the extractor kept it). */
static int
same_bytes(const struct buf *a, const struct buf *b)
{
	size_t i = 0, k = 0;

	if (a->len == 0 || b->len == 0)
		return a->len == b->len;
	if (a->len == b->len && memcmp(a->data, b->data, a->len) == 0)
		return 1;
	if (b->len == a->len + IID_LEN && memcmp(a->data, b->data + IID_LEN, a->len) == 0)
		return 1;
	while (i < a->len && k < b->len) {
		if (a->data[i] == '\r' && i + 1 < a->len && a->data[i + 1] == '\n')
			i++;
		if (a->data[i++] != b->data[k++])
			return 0;
	}
	return i == a->len && k == b->len;
}

/* dir_name - an extracted file's attachment name: "Untitled Attachment.2" was the second
 * "Untitled Attachment" (the extractor numbers repeats). */
static void
dir_name(const char *file, char *name, size_t cap)
{
	const char *dot = strrchr(file, '.');

	snprintf(name, cap, "%s", file);
	if (dot && strncmp(file, "Untitled Attachment.", 20) == 0)
		name[dot - file] = '\0';
}

/* check_dir - every file extracted beside the sample is one of our attachments, by name
 * and bytes, and we hand over no attachment more. */
static void
check_dir(const char *sample, const struct got *g)
{
	char path[512], name[256];
	size_t files = 0, atts = 0;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), TDIR "%s", sample);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct buf want = {0};
		int found = 0;

		if (de->d_name[0] == '.' || strncmp(de->d_name, "message.", 8) == 0)
			continue;
		files++;
		dir_name(de->d_name, name, sizeof(name));
		snprintf(path, sizeof(path), TDIR "%s/%s", sample, de->d_name);
		CHECK(unit_slurp(path, &want) == 0, de->d_name);
		if (want.len >= strlen(PLACEHOLDER) && !memcmp(want.data, PLACEHOLDER, strlen(PLACEHOLDER))) {
			files--; /* an embedded message's down-level text: we hand over the message */
			buf_free(&want);
			continue;
		}
		for (size_t i = 0; i < g->n && !found; i++)
			found = g->p[i].kind == TNEF_ATTACHMENT && g->p[i].name &&
				!strcmp(g->p[i].name, name) && same_bytes(&g->p[i].data, &want);
		CHECK(found, de->d_name);
		buf_free(&want);
	}
	closedir(d);
	for (size_t i = 0; i < g->n; i++)
		atts += g->p[i].kind == TNEF_ATTACHMENT;
	CHECK(atts == files, sample);
}

/* check_list - every name of the sample's .list (MimeKit's: names that must be there, checked
 * as MimeKit's TnefTests does, each at least once; body.rtf / body.html stand for the bodies)
 * is handed over. The lists are not complete (long-filename's leaves out its attachment):
 * check_dir is the exact check. */
static void
check_list(const char *sample, const struct got *g)
{
	char path[512];
	struct buf list = {0};

	snprintf(path, sizeof(path), TDIR "%s.list", sample);
	CHECK(unit_slurp(path, &list) == 0, path);
	buf_append(&list, "", 0);
	for (char *save, *line = strtok_r((char *)list.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		int found = 0;

		if (!strcmp(line, "body.rtf") || !strcmp(line, "body.html")) {
			enum tnef_part_kind k = line[5] == 'r' ? TNEF_BODY_RTF : TNEF_BODY_HTML;

			CHECK(part_of(g, k, NULL) >= 0, line);
			continue;
		}
		for (size_t i = 0; i < g->n && i < PARTS_MAX && !found; i++)
			found = g->p[i].name && !strcmp(g->p[i].name, line);
		CHECK(found, line);
	}
	buf_free(&list);
}

static enum vl_err
run_file(const char *rel, struct got *g)
{
	char path[512], err[VL_ERRLEN] = "";
	struct buf b = {0};
	enum vl_err e;

	snprintf(path, sizeof(path), TDIR "%s", rel);
	CHECK(unit_slurp(path, &b) == 0, path);
	e = tnef_parts(b.data, b.len, collect, g, err);
	buf_free(&b);
	return e;
}

/* Which samples read whole, and which stop at damage with their parts kept. */
static const struct {
	const char *name;
	enum vl_err want;
} samples[] = {
	{"MAPI_ATTACH_DATA_OBJ", VL_OK},
	{"MAPI_OBJECT", VL_OK},
	{"attachments", VL_OK},
	{"body", VL_OK},
	{"christmas", VL_OK},
	{"data-before-name", VL_OK},
	{"garbage-at-end", VL_ERR_PARSE},
	{"long-filename", VL_OK},
	{"missing-filenames", VL_OK},
	{"multi-name-property", VL_OK},
	{"multi-value-attribute", VL_OK},
	{"one-file", VL_OK},
	{"panic", VL_ERR_PARSE}, /* 3 images, then an attribute claiming 1.6 GB */
	{"rtf", VL_OK},
	{"triples", VL_OK},
	{"two-files", VL_OK},
	{"unicode-mapi-attr-name", VL_OK},
	{"unicode-mapi-attr", VL_OK},
	{"winmail", VL_OK},
};

static void
test_corpus(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(samples); i++) {
		struct got g = {0};
		char rel[256];

		snprintf(rel, sizeof(rel), "%s.tnef", samples[i].name);
		CHECK(run_file(rel, &g) == samples[i].want, samples[i].name);
		CHECK(g.n <= PARTS_MAX, samples[i].name);
		check_list(samples[i].name, &g);
		check_dir(samples[i].name, &g);
		for (size_t k = 0; k < g.n; k++)
			if (g.p[k].kind != TNEF_ATTACHMENT && g.p[k].kind != TNEF_BODY_RTF)
				CHECK(g_utf8_validate((char *)g.p[k].data.data,
						      (gssize)g.p[k].data.len, NULL) &&
					      !memchr(g.p[k].data.data, 0, g.p[k].data.len),
				      samples[i].name);
		got_free(&g);
	}
}

/* test_bodies - the HTML, RTF and text bodies against the files extracted beside them. */
static void
test_bodies(void)
{
	static const struct {
		const char *sample, *file;
		enum tnef_part_kind kind;
		const char *charset; /* of the extracted file; we hand over UTF-8 */
	} cases[] = {{"body", "body/message.html", TNEF_BODY_HTML, NULL},
		     {"rtf", "rtf/message.rtf", TNEF_BODY_RTF, NULL},
		     {"triples", "triples/message.rtf", TNEF_BODY_RTF, NULL},
		     {"triples", "triples/message.txt", TNEF_BODY_TEXT, NULL},
		     {"christmas", "christmas/message.rtf", TNEF_BODY_RTF, NULL},
		     {"winmail", "winmail/message.rtf", TNEF_BODY_RTF, NULL},
		     {"panic", "panic/message.html", TNEF_BODY_HTML, "CP1252"}};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct got g = {0};
		struct buf want = {0};
		char rel[256];
		int k;

		snprintf(rel, sizeof(rel), "%s.tnef", cases[i].sample);
		(void)run_file(rel, &g);
		snprintf(rel, sizeof(rel), TDIR "%s", cases[i].file);
		CHECK(unit_slurp(rel, &want) == 0, rel);
		if (cases[i].charset) {
			gsize w = 0;
			gchar *u = g_convert((char *)want.data, (gssize)want.len, "UTF-8",
					     cases[i].charset, NULL, &w, NULL);

			buf_reset(&want);
			buf_append(&want, u, w);
			g_free(u);
		}
		k = part_of(&g, cases[i].kind, NULL);
		CHECK(k >= 0 && same_bytes(&g.p[k].data, &want), cases[i].file);
		if (k >= 0 && cases[i].kind == TNEF_BODY_RTF)
			CHECK(g.p[k].data.len > 5 && !memcmp(g.p[k].data.data, "{\\rtf", 5),
			      cases[i].file);
		buf_free(&want);
		got_free(&g);
	}
}

/* mime_tnef - the decoded application/ms-tnef part of the message at TDIR rel into out. */
static void
mime_tnef(const char *rel, struct buf *out)
{
	char path[512];
	GMimeStream *fs, *mem;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimePartIter *it;

	g_mime_init();
	snprintf(path, sizeof(path), TDIR "%s", rel);
	fs = g_mime_stream_fs_open(path, O_RDONLY, 0, NULL);
	CHECK(fs != NULL, path);
	if (!fs)
		return;
	parser = g_mime_parser_new_with_stream(fs);
	msg = g_mime_parser_construct_message(parser, NULL);
	it = g_mime_part_iter_new((GMimeObject *)msg);
	do {
		GMimeObject *o = g_mime_part_iter_get_current(it);
		GMimeContentType *ct = o ? g_mime_object_get_content_type(o) : NULL;
		char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;

		if (GMIME_IS_PART(o) && tnef_is(type, NULL)) {
			GByteArray *ba;

			mem = g_mime_stream_mem_new();
			g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(o)),
							    mem);
			ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
			buf_append(out, ba->data, ba->len);
			g_object_unref(mem);
		}
		g_free(type);
	} while (g_mime_part_iter_next(it));
	g_mime_part_iter_free(it);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(fs);
}

/* test_in_mime - ukr.eml's TNEF: its HTML body in UTF-8 Cyrillic, read as the KOI8-R its
 * <meta> declares ("шостий", Ukrainian "sixth"), not as the stream's code page 1251 (MimeKit's
 * test expects that misreading, "ЫПУФЙК"); rich-text.eml's: christmas.tnef's RTF body. */
static void
test_in_mime(void)
{
	struct buf b = {0};
	struct got g = {0};
	char err[VL_ERRLEN] = "";
	int k;

	mime_tnef("ukr.eml", &b);
	CHECK(tnef_is_bytes(b.data, b.len), "ukr.eml has TNEF");
	CHECK(tnef_parts(b.data, b.len, collect, &g, err) == VL_OK, err);
	k = part_of(&g, TNEF_BODY_HTML, NULL);
	CHECK(k >= 0 && strstr((char *)g.p[k].data.data, "<p>шостий</p>") != NULL, "ukr HTML, Cyrillic");
	k = part_of(&g, TNEF_SUBJECT, NULL);
	CHECK(k >= 0 && !strcmp((char *)g.p[k].data.data, "rr test 7"), "ukr subject");
	got_free(&g);
	buf_reset(&b);

	mime_tnef("rich-text.eml", &b);
	CHECK(tnef_parts(b.data, b.len, collect, &g, err) == VL_OK, err);
	k = part_of(&g, TNEF_BODY_RTF, NULL);
	buf_reset(&b);
	CHECK(unit_slurp(TDIR "christmas/message.rtf", &b) == 0, "christmas RTF");
	CHECK(k >= 0 && same_bytes(&g.p[k].data, &b), "rich-text RTF");
	CHECK(k >= 0 && strstr((char *)g.p[k].data.data, "Springtime feeling") != NULL, "rich-text words");
	got_free(&g);
	buf_free(&b);
}

/* ---- Streams built here ---- */

#define ATT_MAPI_PROPS 0x00069003u
#define ATT_ATTACHMENT 0x00069005u
#define ATT_REND_DATA 0x00069002u
#define ATT_ATTACH_DATA 0x0006800Fu
#define ATT_ATTACH_TITLE 0x00018010u

/* test_strings - PT_UNICODE with a surrogate pair and a lone surrogate, an 8-bit subject in
 * code page 1251 (PR_INTERNET_CPID), a long name beating the 8.3 title, the MIME tag. */
static void
test_strings(void)
{
	static const uint8_t subj16[] = {0x1F, 0x04, 0x40, 0x04, 0x3D, 0xD8, 0x00, 0xDE,
					 0x00, 0xD8, 0x21, 0x00, 0x00, 0x00};
	static const uint8_t body1251[] = {0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2, 0x00};
	struct buf s = {0}, l = {0}, a = {0};
	struct got g = {0};
	char err[VL_ERRLEN];
	int k;

	unit_tnef_head(&s);
	buf_append_u32le(&l, 3);
	unit_tnef_prop_var(&l, 0x0037001Fu, subj16, sizeof(subj16)); /* PR_SUBJECT, PT_UNICODE */
	unit_tnef_prop_var(&l, 0x1000001Eu, body1251, sizeof(body1251)); /* PR_BODY, PT_STRING8 */
	buf_append_u32le(&l, 0x3FDE0003u); /* PR_INTERNET_CPID */
	buf_append_u32le(&l, 1251);
	unit_tnef_attr(&s, 1, ATT_MAPI_PROPS, l.data, l.len);
	unit_tnef_attr(&s, 2, ATT_REND_DATA,
		       "\x01\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00", 14);
	unit_tnef_attr(&s, 2, ATT_ATTACH_TITLE, "REPORT~1.PDF", 13);
	unit_tnef_attr(&s, 2, ATT_ATTACH_DATA, "%PDF-1.4", 8);
	buf_append_u32le(&a, 2);
	unit_tnef_prop_var(&a, 0x3707001Fu, "r\0\x4d\x04.\0p\0d\0f\0\0\0", 14); /* "rэ.pdf" */
	unit_tnef_prop_var(&a, 0x370E001Eu, "application/pdf", 16);
	unit_tnef_attr(&s, 2, ATT_ATTACHMENT, a.data, a.len);

	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_OK, err);
	k = part_of(&g, TNEF_SUBJECT, NULL);
	CHECK(k >= 0 && !strcmp((char *)g.p[k].data.data, "Пр\xF0\x9F\x98\x80\xEF\xBF\xBD!"),
	      "UTF-16: pair and lone surrogate");
	k = part_of(&g, TNEF_BODY_TEXT, NULL);
	CHECK(k >= 0 && !strcmp((char *)g.p[k].data.data, "Привет"), "CP1251 body");
	k = part_of(&g, TNEF_ATTACHMENT, "rэ.pdf");
	CHECK(k >= 0 && g.p[k].type && !strcmp(g.p[k].type, "application/pdf") &&
		      g.p[k].data.len == 8,
	      "long name, MIME tag, data");
	got_free(&g);

	/* No code page: Windows-1252, its unassigned 0x81 as U+0081. */
	buf_reset(&s);
	unit_tnef_head(&s);
	unit_tnef_attr(&s, 1, 0x00018004u, "caf\xe9 \x80\x81", 7);
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_OK, err);
	CHECK(g.n == 1 && !strcmp((char *)g.p[0].data.data, "café €\xC2\x81"), "CP1252");
	got_free(&g);
	buf_free(&s);
	buf_free(&l);
	buf_free(&a);
}

/* test_embedded - an ATTACH_EMBEDDED_MSG attachment: its TNEF handed over, flagged, and
 * readable with tnef_parts. */
static void
test_embedded(void)
{
	struct buf in = {0}, s = {0}, a = {0}, obj = {0};
	struct got g = {0}, g2 = {0};
	char err[VL_ERRLEN];
	int k;

	unit_tnef_head(&in);
	unit_tnef_attr(&in, 1, 0x00018004u, "inner", 6);
	buf_append(&obj, "0123456789abcdef", IID_LEN);
	buf_append(&obj, in.data, in.len);
	unit_tnef_head(&s);
	unit_tnef_attr(&s, 2, ATT_REND_DATA, "\0\0", 2);
	buf_append_u32le(&a, 2);
	buf_append_u32le(&a, 0x37050003u); /* PR_ATTACH_METHOD 5 */
	buf_append_u32le(&a, 5);
	unit_tnef_prop_var(&a, 0x3701000Du, obj.data, obj.len); /* PR_ATTACH_DATA_OBJ */
	unit_tnef_attr(&s, 2, ATT_ATTACHMENT, a.data, a.len);
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_OK, err);
	k = part_of(&g, TNEF_ATTACHMENT, NULL);
	CHECK(k >= 0 && (g.p[k].flags & TNEF_PART_EMBEDDED) && g.p[k].data.len == in.len,
	      "embedded flagged, IID stripped");
	CHECK(k >= 0 && tnef_parts(g.p[k].data.data, g.p[k].data.len, collect, &g2, err) ==
				VL_OK && g2.n == 1 && !strcmp((char *)g2.p[0].data.data, "inner"),
	      "embedded readable");
	got_free(&g);
	got_free(&g2);
	buf_free(&in);
	buf_free(&s);
	buf_free(&a);
	buf_free(&obj);
}

/* put_rtf - a PR_RTF_COMPRESSED value: header (COMPSIZE, RAWSIZE, type, CRC) and data. */
static void
put_rtf(struct buf *l, uint32_t raw, uint32_t type, const void *data, size_t n)
{
	struct buf v = {0};

	buf_append_u32le(&v, (uint32_t)(n + 12));
	buf_append_u32le(&v, raw);
	buf_append_u32le(&v, type);
	buf_append_u32le(&v, 0);
	buf_append(&v, data, n);
	unit_tnef_prop_var(l, 0x10090102u, v.data, v.len);
	buf_free(&v);
}

/* test_bounds - VL_ERR_LIMIT, nothing handed over: attachments past TNEF_ATTACH_MAX, a MAPI
 * list past TNEF_PROPS_MAX, an RTF declaring more than TNEF_BYTES_MAX, input past it. */
static void
test_bounds(void)
{
	struct buf s = {0}, l = {0};
	struct got g = {0};
	char err[VL_ERRLEN];

	unit_tnef_head(&s);
	unit_tnef_attr(&s, 1, 0x00018004u, "x", 2);
	for (int i = 0; i <= TNEF_ATTACH_MAX; i++)
		unit_tnef_attr(&s, 2, ATT_REND_DATA, "\0\0", 2);
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_ERR_LIMIT && g.n == 0,
	      "TNEF_ATTACH_MAX");
	buf_reset(&s);
	unit_tnef_head(&s);
	buf_append_u32le(&l, TNEF_PROPS_MAX + 1);
	unit_tnef_attr(&s, 1, ATT_MAPI_PROPS, l.data, l.len);
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_ERR_LIMIT, "TNEF_PROPS_MAX");
	buf_reset(&s);
	buf_reset(&l);
	unit_tnef_head(&s);
	buf_append_u32le(&l, 1);
	put_rtf(&l, TNEF_BYTES_MAX + 1u, 0x75465A4Cu, "\0{\\rtf1 x}", 10);
	unit_tnef_attr(&s, 1, ATT_MAPI_PROPS, l.data, l.len);
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_ERR_LIMIT && g.n == 0,
	      "RTF raw size past TNEF_BYTES_MAX");
	/* The same at a small raw size: the RTF (8 literals) and no more than raw. */
	buf_reset(&s);
	buf_reset(&l);
	unit_tnef_head(&s);
	buf_append_u32le(&l, 1);
	put_rtf(&l, 6, 0x75465A4Cu, "\0{\\rtf1 x}", 10);
	unit_tnef_attr(&s, 1, ATT_MAPI_PROPS, l.data, l.len);
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_OK && g.n == 1 &&
		      g.p[0].data.len == 6 && !memcmp(g.p[0].data.data, "{\\rtf1", 6),
	      "RTF cut at raw size");
	got_free(&g);
	/* Uncompressed ("MELA") RTF declaring more than it holds: only what it holds. */
	buf_reset(&s);
	buf_reset(&l);
	unit_tnef_head(&s);
	buf_append_u32le(&l, 1);
	put_rtf(&l, 1000, 0x414C454Du, "{\\rtf1}", 7);
	unit_tnef_attr(&s, 1, ATT_MAPI_PROPS, l.data, l.len);
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_OK && g.n == 1 &&
		      g.p[0].data.len == 7,
	      "MELA bounded by its bytes");
	got_free(&g);
	/* A damaged stream is held to the bound too: its RTF would be decompressed all the same. */
	buf_reset(&s);
	buf_reset(&l);
	unit_tnef_head(&s);
	buf_append_u32le(&l, 1);
	put_rtf(&l, 0xFFFFFFF0u, 0x75465A4Cu, "\0{\\rtf1 x}", 10);
	unit_tnef_attr(&s, 1, ATT_MAPI_PROPS, l.data, l.len);
	buf_append(&s, "\x01", 1); /* a truncated attribute after it */
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_ERR_LIMIT && g.n == 0,
	      "a damaged stream's RTF raw size past TNEF_BYTES_MAX");
	got_free(&g);
	buf_free(&s);
	buf_free(&l);
}

/* dirty_stack - leave a marker in the stack below the caller, where tnef_parts' locals go. */
static void __attribute__((noinline))
dirty_stack(void)
{
	volatile uint8_t junk[16384];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0xAA;
}

/* test_rtf_dict - a back-reference into the part of the RTF dictionary nothing was written to
 * reads zeros, never what the stack held before (another message's text, in an indexer). */
static void
test_rtf_dict(void)
{
	/* Seven literals "{\rtf1 ", then a reference to offset 1000, 17 bytes (0x3E8F). */
	static const uint8_t data[] = {0x80, '{', '\\', 'r', 't', 'f', '1', ' ', 0x3E, 0x8F};
	struct buf s = {0}, l = {0};
	struct got g = {0};
	char err[VL_ERRLEN];
	int clean = 1;

	unit_tnef_head(&s);
	buf_append_u32le(&l, 1);
	put_rtf(&l, 24, 0x75465A4Cu, data, sizeof(data));
	unit_tnef_attr(&s, 1, ATT_MAPI_PROPS, l.data, l.len);
	dirty_stack();
	CHECK(tnef_parts(s.data, s.len, collect, &g, err) == VL_OK && g.n == 1 &&
		      g.p[0].data.len == 24 && !memcmp(g.p[0].data.data, "{\\rtf1 ", 7),
	      "the RTF decoded");
	for (size_t i = 7; g.n == 1 && i < g.p[0].data.len; i++)
		clean &= g.p[0].data.data[i] == 0;
	CHECK(clean, "nothing of the stack in it");
	got_free(&g);
	buf_free(&s);
	buf_free(&l);
}

/* test_not_tnef - no signature, too short, empty, a MIME message. */
static void
test_not_tnef(void)
{
	static const char *inputs[] = {"", "\x78\x9f", "\x78\x9f\x3e", "From: a@b\r\n\r\nhi",
				       "\x78\x9f\x3e\x22\x01\x00"};
	struct got g = {0};
	char err[VL_ERRLEN];

	for (size_t i = 0; i < 4; i++)
		CHECK(tnef_parts((const uint8_t *)inputs[i], strlen(inputs[i]), collect, &g, err) ==
				      VL_ERR_PARSE &&
			      g.n == 0,
		      inputs[i]);
	CHECK(!tnef_is_bytes((const uint8_t *)inputs[3], strlen(inputs[3])), "not signature");
	/* Signature and key only: an empty stream, nothing to hand over. */
	CHECK(tnef_parts((const uint8_t *)inputs[4], 6, collect, &g, err) == VL_OK && g.n == 0,
	      "empty stream");
	CHECK(tnef_is("Application/MS-TNEF; name=winmail.dat", NULL), "type");
	CHECK(tnef_is("application/vnd.ms-tnef", NULL), "vnd type");
	CHECK(tnef_is("application/octet-stream", "C:\\tmp\\WINMAIL.DAT"), "name");
	CHECK(!tnef_is("application/octet-stream", "winmail.dat.txt"), "other name");
	CHECK(!tnef_is(NULL, NULL), "nothing");
}

/* test_stop - a non-zero return stops the walk; tnef_parts says VL_OK. */
static void
test_stop(void)
{
	struct got g = {.stop_after = 2};

	CHECK(run_file("christmas.tnef", &g) == VL_OK && g.n == 2, "stop after 2");
	got_free(&g);
}

static int
count_only(void *arg, const struct tnef_part *part)
{
	size_t *n = arg;

	/* Touch every byte: a part pointing outside the input shows under ASan. */
	for (size_t i = 0; i < part->len; i++)
		*n += part->data[i] == 0xA5;
	*n += 1;
	return 0;
}

/* damage_run - tnef_parts on len bytes at p: VL_OK or VL_ERR_PARSE, nothing else. */
static int
damage_run(const uint8_t *p, size_t len)
{
	size_t n = 0;
	char err[VL_ERRLEN];
	enum vl_err e = tnef_parts(p, len, count_only, &n, err);

	return e == VL_OK || e == VL_ERR_PARSE;
}

/* test_damage - every prefix of a sample, random byte flips in others: no crash, no leak
 * (LeakSanitizer), no output on stdout or stderr, only VL_OK or VL_ERR_PARSE. */
static void
test_damage(void)
{
	static const char *flip_files[] = {"two-files.tnef", "christmas.tnef",
					   "unicode-mapi-attr-name.tnef", "rtf.tnef"};
	struct buf b = {0};
	char path[512];
	int out = dup(1), errfd = dup(2), ok = 1;
	FILE *sink = tmpfile();

	fflush(stdout);
	fflush(stderr);
	dup2(fileno(sink), 1);
	dup2(fileno(sink), 2);
	CHECK(unit_slurp(TDIR "two-files.tnef", &b) == 0, "two-files");
	for (size_t n = 0; n <= b.len; n++) {
		uint8_t *cut = xmalloc(n ? n : 1); /* exact size: over-reads show under ASan */

		memcpy(cut, b.data, n);
		ok &= damage_run(cut, n);
		free(cut);
	}
	srand(2024);
	for (size_t f = 0; f < G_N_ELEMENTS(flip_files); f++) {
		buf_reset(&b);
		snprintf(path, sizeof(path), TDIR "%s", flip_files[f]);
		CHECK(unit_slurp(path, &b) == 0, path);
		for (int round = 0; round < 300; round++) {
			uint8_t *m = xmalloc(b.len);

			memcpy(m, b.data, b.len);
			for (int k = 0; k < 1 + round % 8; k++)
				m[(size_t)rand() % b.len] ^= (uint8_t)(1 + rand() % 255);
			ok &= damage_run(m, b.len);
			free(m);
		}
	}
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(errfd, 2);
	close(out);
	close(errfd);
	CHECK(ok, "only VL_OK or VL_ERR_PARSE");
	CHECK(ftell(sink) == 0 && lseek(fileno(sink), 0, SEEK_END) == 0, "no output");
	fclose(sink);
	buf_free(&b);
}

UNIT_SUITE(tnef, {"compressed RTF: an unwritten dictionary reads zeros", test_rtf_dict},
	   {"corpus: .list names, extracted files by name and bytes", test_corpus},
	   {"bodies: HTML, RTF, text against the extracted files", test_bodies},
	   {"TNEF in MIME: ukr.eml (Cyrillic), rich-text.eml (RTF)", test_in_mime},
	   {"strings: UTF-16 surrogates, CP1251, CP1252, long name, MIME tag", test_strings},
	   {"embedded message: flagged, readable", test_embedded},
	   {"bounds: VL_ERR_LIMIT; RTF raw size", test_bounds},
	   {"not TNEF; tnef_is", test_not_tnef}, {"the callback's stop", test_stop},
	   {"damage: prefixes, flips; no crash, leak or output", test_damage})
