/* test_mime_extract - archiver/mime_extract.{c,h} on real mail from ../shared/corpus (read at
 * run time, from the project root where bin/unit-tests runs) and on small messages written
 * here: charsets to UTF-8 (Japanese, Chinese, Cyrillic), attachment names (RFC 2231, 2047),
 * HTML to text, nested messages, headers, the malformed corpora and the work bounds (the CJK
 * bigrams moved with the tokenizer to test_fts). Expected words and sizes were read from the files with
 * independent tools (iconv, Python's email package). */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "mime_extract.h"
#include "unit.h"

#define CORPUS "../shared/corpus/"
#define WORDS_MAX 4

static void
gmime_once(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* slurp - the whole file at CORPUS rel into b (appended); 0, or -1 when it cannot be read. */
static int
slurp(const char *rel, struct buf *b)
{
	char path[1024], chunk[65536];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", rel[0] == '/' ? "" : CORPUS, rel);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
	buf_append(b, "", 0);
	return 0;
}

/* valid_text - UTF-8, no NUL: what PostgreSQL text accepts. */
static int
valid_text(const char *s)
{
	return s == NULL || g_utf8_validate(s, -1, NULL);
}

static int
meta_valid(const struct mime_meta *m)
{
	const struct mime_addrs *as[] = {&m->from, &m->sender, &m->reply_to,
					 &m->to,   &m->cc,	&m->bcc};
	int ok = m->body != NULL && strlen(m->body) == m->body_len &&
		 g_utf8_validate(m->body, (gssize)m->body_len, NULL) &&
		 m->body_len <= MIME_BODY_MAX;

	ok = ok && valid_text(m->subject) && valid_text(m->message_id) &&
	     valid_text(m->in_reply_to) && valid_text(m->references);
	for (size_t i = 0; i < G_N_ELEMENTS(as); i++) {
		ok = ok && valid_text(as[i]->text) && as[i]->n <= MIME_ADDRS_MAX;
		for (size_t k = 0; k < as[i]->n; k++)
			ok = ok && valid_text(as[i]->addrs[k]);
	}
	for (size_t i = 0; i < m->nattachments; i++)
		ok = ok && valid_text(m->attachments[i].filename) &&
		     valid_text(m->attachments[i].content_type) && m->attachments[i].content_type;
	return ok && m->has_attachment == (m->nattachments > 0);
}

/* extract - mime_extract on bytes, checking the invariants every result must keep. */
static void
extract(struct mime_meta *m, const void *raw, size_t len, const char *what)
{
	char err[VL_ERRLEN] = "";

	gmime_once();
	CHECK(mime_extract(m, raw, len, MIME_ATTACH_TEXT, err) == VL_OK, what);
	CHECK(meta_valid(m), what);
}

static int
extract_file(struct mime_meta *m, const char *rel)
{
	struct buf b = {0};

	if (slurp(rel, &b) != 0) {
		CHECK(!"corpus file missing", rel);
		memset(m, 0, sizeof(*m));
		return -1;
	}
	extract(m, b.data, b.len, rel);
	buf_free(&b);
	return 0;
}

static int
has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* text_norm - s with CR removed and trailing white space cut (an owned copy). */
static char *
text_norm(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r')
			o[k++] = s[i];
	while (k > 0 && (o[k - 1] == '\n' || o[k - 1] == ' '))
		k--;
	o[k] = 0;
	return o;
}

/* ---- charsets: the same text in several encodings ---- */

static const struct {
	const char *file, *charset, *cte;
	const char *same_as; /* its UTF-8 original, which the body must equal; NULL: lossy */
	const char *words[WORDS_MAX];
} charset_cases[] = {
	{"gmime-testdata/filters/japanese.iso-2022-jp.txt", "iso-2022-jp", "7bit",
	 "gmime-testdata/filters/japanese.utf-8.txt", {"新田", "暮題原", "海者じあー女石"}},
	{"gmime-testdata/filters/japanese.shift-jis.txt", "Shift_JIS", "8bit",
	 "gmime-testdata/filters/japanese.utf-8.txt", {"新田", "暮題原", "海者じあー女石"}},
	{"gmime-testdata/filters/japanese.utf-8.txt", "utf-8", "8bit",
	 "gmime-testdata/filters/japanese.utf-8.txt", {"新田", "暮題原"}},
	{"gmime-testdata/filters/japanese.shift-jis.txt", "Shift_JIS", "base64",
	 "gmime-testdata/filters/japanese.utf-8.txt", {"新田"}},
	{"gmime-testdata/filters/cyrillic.koi8-r.txt", "koi8-r", "8bit",
	 "gmime-testdata/filters/cyrillic.utf-8.txt", {"Лорем ипсум долор", "виртуте"}},
	{"gmime-testdata/filters/cyrillic.koi8-r.txt", "KOI8-R", "quoted-printable",
	 "gmime-testdata/filters/cyrillic.utf-8.txt", {"Лорем ипсум долор"}},
	{"gmime-testdata/filters/cyrillic.cp1251.txt", "windows-1251", "8bit",
	 "gmime-testdata/filters/cyrillic.utf-8.txt", {"Лорем ипсум"}},
	{"gmime-testdata/filters/cyrillic.iso-8859-5.txt", "iso-8859-5", "8bit",
	 "gmime-testdata/filters/cyrillic.utf-8.txt", {"Лорем ипсум"}},
	/* The Big5 file lacks the characters Big5 cannot hold: compared by words only. */
	{"gmime-testdata/filters/chinese.big5.txt", "big5", "8bit", NULL, {"大田胞中強活", "意愛需免室"}},
	{"gmime-testdata/filters/french-fable.cp1252.txt", "windows-1252", "8bit", NULL,
	 {"Maître Corbeau", "alléché"}},
	/* Unlabelled 8-bit text: UTF-8 where it is, Windows-1252 for the rest. */
	{"gmime-testdata/filters/french-fable.cp1252.txt", NULL, "8bit", NULL, {"Maître Corbeau"}},
	/* Unlabelled ISO-2022-JP is recognised by its escapes. */
	{"gmime-testdata/filters/japanese.iso-2022-jp.txt", NULL, "7bit",
	 "gmime-testdata/filters/japanese.utf-8.txt", {"新田"}},
};

/* wrap - a message whose text/plain body is the file's bytes in the given transfer encoding. */
static void
wrap(struct buf *msg, const struct buf *text, const char *charset, const char *cte)
{
	buf_appendf(msg, "From: Tester <t@example.org>\nTo: you@example.org\nSubject: charset\n"
			 "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <c@example.org>\n"
			 "MIME-Version: 1.0\nContent-Type: text/plain%s%s\n"
			 "Content-Transfer-Encoding: %s\n\n",
		    charset ? "; charset=" : "", charset ? charset : "", cte);
	if (strcmp(cte, "base64") == 0) {
		gchar *b64 = g_base64_encode(text->data, text->len);

		for (size_t i = 0, n = strlen(b64); i < n; i += 76)
			buf_appendf(msg, "%.76s\n", b64 + i);
		g_free(b64);
	} else if (strcmp(cte, "quoted-printable") == 0) {
		size_t col = 0;

		for (size_t i = 0; i < text->len; i++) {
			uint8_t c = text->data[i];

			if (col > 70) {
				buf_append_str(msg, "=\n");
				col = 0;
			}
			if (c == '\n') {
				buf_append(msg, "\n", 1);
				col = 0;
			} else if (c >= 33 && c <= 126 && c != '=') {
				buf_append(msg, &c, 1);
				col++;
			} else {
				buf_appendf(msg, "=%02X", c);
				col += 3;
			}
		}
	} else {
		buf_append(msg, text->data, text->len);
	}
}

static void
test_charsets(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(charset_cases); i++) {
		struct buf text = {0}, msg = {0}, want = {0};
		struct mime_meta m;
		char what[200];

		snprintf(what, sizeof(what), "%s as %s/%s", charset_cases[i].file,
			 charset_cases[i].charset ? charset_cases[i].charset : "(none)",
			 charset_cases[i].cte);
		if (slurp(charset_cases[i].file, &text) != 0) {
			CHECK(!"corpus file missing", what);
			continue;
		}
		wrap(&msg, &text, charset_cases[i].charset, charset_cases[i].cte);
		extract(&m, msg.data, msg.len, what);
		CHECK(!m.parse_error, what);
		for (int w = 0; w < WORDS_MAX && charset_cases[i].words[w]; w++)
			CHECK(has(m.body, charset_cases[i].words[w]), what);
		if (charset_cases[i].same_as && slurp(charset_cases[i].same_as, &want) == 0) {
			char *a = text_norm(m.body, m.body_len);
			char *b = text_norm((const char *)want.data, want.len);

			CHECK(strcmp(a, b) == 0, what);
			free(a);
			free(b);
		}
		mime_meta_free(&m);
		buf_free(&text);
		buf_free(&msg);
		buf_free(&want);
	}
}

/* Labels mail uses for a base set while sending the vendor's superset. */
static const struct {
	const char *label, *bytes, *want;
	size_t len; /* of bytes; 0: strlen */
} superset_cases[] = {
	{"Shift_JIS", "\x87\x8a\x87\x40\xee\xe0", "㈱①髙", 0}, /* NEC and IBM rows (CP932) */
	{"EUC-JP", "\xad\xa1\xad\xa2", "①②", 0},		  /* NEC row 13 (EUC-JP-MS) */
	{"iso-2022-jp", "\x1b$B-!-\"\x1b(B", "①②", 0},		  /* the same in JIS */
	{"gb2312", "\xe9\x46", "镕", 0},				  /* GBK only (GB18030) */
	{"ks_c_5601-1987", "\x8c\x63", "똠", 0},			  /* UHC only (CP949) */
	{"euc-kr", "\x8c\x63", "똠", 0},
	/* Unknown to iconv: UTF-8 where valid, else Windows-1252. */
	{"x-no-such-charset", "caf\xc3\xa9 caf\xe9", "café café", 0},
	/* Not UTF-8 though labelled so: overlong, surrogate, stray bytes read as Windows-1252. */
	{"utf-8", "a\xe0\x82\x80" "b\xed\xa0\x80" "c\x93q\x94", "aà‚€" "bí\xc2\xa0€" "c“q”", 0},
	{"us-ascii", "nul\0inside", "nul inside", 10}, /* PostgreSQL text holds no NUL */
};

static void
test_supersets(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(superset_cases); i++) {
		struct buf msg = {0}, text = {0};
		struct mime_meta m;

		buf_append(&text, superset_cases[i].bytes,
			   superset_cases[i].len ? superset_cases[i].len
						 : strlen(superset_cases[i].bytes));
		wrap(&msg, &text, superset_cases[i].label, "8bit");
		extract(&m, msg.data, msg.len, superset_cases[i].label);
		CHECK(m.body && strcmp(m.body, superset_cases[i].want) == 0,
		      superset_cases[i].label);
		mime_meta_free(&m);
		buf_free(&msg);
		buf_free(&text);
	}
}

/* ---- real Japanese mobile mail ---- */

static const struct {
	const char *file;
	const char *subject;	       /* a part of the decoded subject, or NULL */
	const char *words[WORDS_MAX];  /* in the body */
	const char *absent[WORDS_MAX]; /* not in the body */
} jp_cases[] = {
	/* ISO-2022-JP, 7bit; the subject is four encoded words. */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/pc-mail-single.eml",
	 "テストケースとしてのメールに含まれている件名", {"本文です"}, {0}},
	/* Shift_JIS 8bit with carrier emoji (not Shift_JIS): text/plain chosen over the HTML. */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/docomo-gmail-sjis.eml", "テスト",
	 {"テストです"}, {"<HTML>", "<DIV"}},
	/* UTF-8 8bit. */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/softbank-gmail-utf8.eml", "テストです",
	 {"テストです"}, {0}},
	/* cp932 in base64, with the NEC special ㈱. */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/iphone-cp932.eml", "【NKSC】test",
	 {"テストです。㈱"}, {0}},
	/* ISO-2022-JP with a NEC row 13 circled number (glibc's ISO-2022-JP refuses it). */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/iphone-circled-numbers-in-jis.eml",
	 NULL, {"丸数字のテストです②"}, {0}},
	/* ISO-2022-JP with JIS X 0201 katakana (ESC ( I). */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/iphone-jis.eml", NULL, {"(=ﾟωﾟ)ﾉ"},
	 {0}},
	/* ISO-2022-JP text/plain chosen over a UTF-8 HTML alternative. */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/bounce_with_utf8_part.eml", NULL,
	 {"可能性を考慮しては", "ＨＴＭＬの本文で"}, {0}},
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/au-decomail2.eml", "NurseryMail",
	 {"差出人", "2012年7月30日"}, {0}},
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/au-attached.eml", "題名",
	 {"カレンダー"}, {0}},
};

static void
test_japanese(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(jp_cases); i++) {
		struct mime_meta m;

		if (extract_file(&m, jp_cases[i].file) != 0)
			continue;
		if (jp_cases[i].subject)
			CHECK(has(m.subject, jp_cases[i].subject), jp_cases[i].file);
		for (int w = 0; w < WORDS_MAX && jp_cases[i].words[w]; w++)
			CHECK(has(m.body, jp_cases[i].words[w]), jp_cases[i].file);
		for (int w = 0; w < WORDS_MAX && jp_cases[i].absent[w]; w++)
			CHECK(!has(m.body, jp_cases[i].absent[w]), jp_cases[i].file);
		mime_meta_free(&m);
	}
}

/* ---- attachments ---- */

static const struct {
	const char *file;
	size_t index; /* in m.attachments */
	const char *filename, *type;
	uint64_t size;
} att_cases[] = {
	/* RFC 2231 with a charset: filename*="iso-8859-1''HasenundFr%F6sche.txt". */
	{"stalwart-mail-parser-eml/legacy/045.eml", 0, "HasenundFrösche.txt", "text/plain", 755},
	/* RFC 2231 percent-encoded Latin-1 and UTF-8. */
	{"mime4j-testmsgs/mimetools-testmsgs/attachment-filename-encoding-Latin1.msg", 0,
	 "attachment.äöü", "text/plain", 5},
	{"mime4j-testmsgs/mimetools-testmsgs/attachment-filename-encoding-UTF8.msg", 0,
	 "attachment.äöü", "text/plain", 5},
	/* RFC 2231 continuation (filename*0*=utf-8''...). */
	{"mailparser-fixtures/nodemailer.eml", 1, "nyan cat ✔.gif", "image/gif", 29361},
	{"mailparser-fixtures/nodemailer.eml", 0, "image.png", "image/png", 126},
	{"mailparser-fixtures/nodemailer.eml", 2, "notes.txt", "text/plain", 28},
	/* RFC 2047 in KOI8-R inside a parameter (name="=?koi8-r?B?...?="). */
	{"mime4j-testmsgs/mimetools-testmsgs/russian.msg", 0, "Список.doc", "text/plain", 17},
	/* A plain attachment next to ISO-2022-JP text. */
	{"jpmobile-japanese-mobile/spec-unit-email-fixtures/au-attached.eml", 0,
	 "20098calendar01.jpg", "image/jpeg", 86412},
	{"python-test-email/msg_07.txt", 0, "dingusfish.gif", "image/gif", 3512},
};

/* Parts that are no attachment to a reader: signatures, the PGP/MIME version part. */
static const char *const no_att_cases[] = {
	"stalwart-mail-parser-eml/malformed/015.eml", /* multipart/signed, pgp-signature */
	"python-test-email/msg_10.txt",		      /* five inline text parts */
};

static void
test_attachments(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(no_att_cases); i++) {
		struct mime_meta m;

		if (extract_file(&m, no_att_cases[i]) != 0)
			continue;
		CHECK(m.nattachments == 0 && !m.has_attachment, no_att_cases[i]);
		CHECK(m.body_len > 0, no_att_cases[i]);
		mime_meta_free(&m);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(att_cases); i++) {
		struct mime_meta m;
		const struct mime_attachment *a;

		if (extract_file(&m, att_cases[i].file) != 0)
			continue;
		CHECK(m.has_attachment && m.nattachments > att_cases[i].index, att_cases[i].file);
		if (m.nattachments > att_cases[i].index) {
			a = &m.attachments[att_cases[i].index];
			CHECK(a->filename && strcmp(a->filename, att_cases[i].filename) == 0,
			      att_cases[i].file);
			CHECK(strcmp(a->content_type, att_cases[i].type) == 0, att_cases[i].file);
			CHECK(a->size == att_cases[i].size, att_cases[i].file);
		}
		mime_meta_free(&m);
	}
}

/* ---- HTML and multipart/alternative ---- */

static const struct {
	const char *label, *raw;
	const char *words[WORDS_MAX];
	const char *absent[WORDS_MAX];
} html_cases[] = {
	{"script, style, comment, entities",
	 "From: a@example.org\nMessage-ID: <h1@example.org>\nContent-Type: text/html; "
	 "charset=utf-8\n\n<html><head><title>Quarterly</title><style>p { color: red }</style>"
	 "<script>var leak = 'secret-script';</script></head><body><p>Hello&nbsp;&amp; "
	 "welcome</p><!-- hidden-comment --><div>契約&#26360;&#x306E;</div><b>wo</b>rd "
	 "&lt;tag&gt; &copy; &bogus; a &lt; b</body></html>\n",
	 {"Hello & welcome", "契約書の", "word", "<tag> © &bogus; a < b"},
	 {"secret-script", "color", "hidden-comment", "<p>"}},
	{"upper-case SCRIPT with attributes and a '<' inside",
	 "From: a@example.org\nMessage-ID: <h2@example.org>\nContent-Type: text/html\n\n"
	 "<BODY>before<SCRIPT type=\"text/javascript\">if (a < b) { x = \"</div>\"; }</SCRIPT>"
	 "after<a href=\"x>y\" title='q'>link</a></BODY>\n",
	 {"beforeafterlink"},
	 {"javascript", "x = ", "</div>", "y\""}},
	{"charset from <meta> when the part has none",
	 "From: a@example.org\nMessage-ID: <h3@example.org>\nContent-Type: text/html\n"
	 "Content-Transfer-Encoding: 8bit\n\n<html><head><meta http-equiv=\"Content-Type\" "
	 "content=\"text/html; charset=koi8-r\"></head><body>\xf0\xd2\xc9\xd7\xc5\xd4</body>\n",
	 {"Привет"},
	 {"meta"}},
	{"block elements separate words, inline ones do not",
	 "From: a@example.org\nMessage-ID: <h6@example.org>\nContent-Type: text/html\n\n"
	 "<p>one</p><p>two</p><table><tr><td>three</td><td>four</td></tr></table>fi<i>ve</i>\n",
	 {"one\ntwo", "three\nfour", "five"},
	 {"onetwo", "threefour"}},
	{"alternative: the text/plain is used, not the HTML",
	 "From: a@example.org\nMessage-ID: <h4@example.org>\nContent-Type: multipart/alternative; "
	 "boundary=B\n\n--B\nContent-Type: text/plain\n\nplain-version\n--B\nContent-Type: "
	 "text/html\n\n<p>html-version</p>\n--B--\n",
	 {"plain-version"},
	 {"html-version"}},
	{"alternative: an empty text/plain falls back to the HTML",
	 "From: a@example.org\nMessage-ID: <h5@example.org>\nContent-Type: multipart/alternative; "
	 "boundary=B\n\n--B\nContent-Type: text/plain\n\n \n--B\nContent-Type: multipart/related;"
	 " boundary=C\n\n--C\nContent-Type: text/html\n\n<p>html-version</p>\n--C\n"
	 "Content-Type: image/png\nContent-Disposition: inline\nContent-Transfer-Encoding: base64"
	 "\n\naGVsbG8=\n--C--\n--B--\n",
	 {"html-version"},
	 {"<p>"}},
	{"real HTML-only mail with a <meta> charset (mailparser spam.eml)", "@spam.eml",
	 {"Freundliche Grüße", "„asozialer Penner“", "35 Millionen Euro"},
	 {"<meta", "<div", "&nbsp;"}},
};

static void
test_html(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(html_cases); i++) {
		struct mime_meta m;

		if (html_cases[i].raw[0] == '@') {
			if (extract_file(&m, "mailparser-fixtures/spam.eml") != 0)
				continue;
		} else {
			extract(&m, html_cases[i].raw, strlen(html_cases[i].raw),
				html_cases[i].label);
		}
		for (int w = 0; w < WORDS_MAX && html_cases[i].words[w]; w++)
			CHECK(has(m.body, html_cases[i].words[w]), html_cases[i].label);
		for (int w = 0; w < WORDS_MAX && html_cases[i].absent[w]; w++)
			CHECK(!has(m.body, html_cases[i].absent[w]), html_cases[i].label);
		mime_meta_free(&m);
	}
	/* The alternative's inline image is still listed. */
	struct mime_meta m;
	extract(&m, html_cases[5].raw, strlen(html_cases[5].raw), "alternative image");
	CHECK(m.nattachments == 1 && strcmp(m.attachments[0].content_type, "image/png") == 0 &&
		      m.attachments[0].size == 5,
	      "alternative image");
	mime_meta_free(&m);
}

/* ---- nested messages ---- */

static const char nested_raw[] =
	"From: Outer <outer@example.org>\nTo: x@example.org\nSubject: fwd\n"
	"Message-ID: <outer@example.org>\nContent-Type: multipart/mixed; boundary=O\n\n"
	"--O\nContent-Type: text/plain\n\nsee the forwarded mail\n"
	"--O\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename=fwd.eml\n\n"
	"From: Inner Person <Inner@Example.ORG>\nSubject: =?utf-8?q?inner_subj=C3=A9ct?=\n"
	"Message-ID: <inner@example.org>\nContent-Type: multipart/mixed; boundary=I\n\n"
	"--I\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
	"quoted-printable\n\nthe inner body caf=E9\n"
	"--I\nContent-Type: application/pdf; name=\"contract.pdf\"\nContent-Transfer-Encoding: "
	"base64\n\nJVBERi0xLjQK\n--I--\n"
	"--O--\n";

static void
test_nested(void)
{
	struct mime_meta m;

	extract(&m, nested_raw, sizeof(nested_raw) - 1, "nested");
	CHECK(!m.parse_error, "nested");
	CHECK(has(m.body, "see the forwarded mail"), "nested: outer text");
	CHECK(has(m.body, "the inner body café"), "nested: inner text, Latin-1 QP");
	CHECK(has(m.body, "inner subjéct") && has(m.body, "Inner Person"),
	      "nested: inner subject and from");
	CHECK(m.nattachments == 2, "nested: the message and its attachment");
	if (m.nattachments == 2) {
		CHECK(strcmp(m.attachments[0].content_type, "message/rfc822") == 0 &&
			      m.attachments[0].filename &&
			      strcmp(m.attachments[0].filename, "fwd.eml") == 0,
		      "nested: message/rfc822 listed");
		CHECK(m.attachments[1].filename &&
			      strcmp(m.attachments[1].filename, "contract.pdf") == 0 &&
			      strcmp(m.attachments[1].content_type, "application/pdf") == 0 &&
			      m.attachments[1].size == 9,
		      "nested: the inner attachment listed");
	}
	/* The outer headers are the message's, not the inner ones. */
	CHECK(m.from.n == 1 && strcmp(m.from.addrs[0], "outer@example.org") == 0, "nested: from");
	mime_meta_free(&m);

	if (extract_file(&m, "mimekit-testdata/messages/simple-embedded-message.eml") == 0) {
		CHECK(has(m.body, "This is the message body.") &&
			      has(m.body, "This is the embedded message body."),
		      "mimekit embedded message");
		CHECK(m.nattachments == 1 &&
			      strcmp(m.attachments[0].content_type, "message/rfc822") == 0,
		      "mimekit embedded message listed");
		mime_meta_free(&m);
	}
	/* A digest: five message/rfc822 parts by default type, each one's text indexed. */
	if (extract_file(&m, "python-test-email/msg_02.txt") == 0) {
		CHECK(m.nattachments == 5, "python digest");
		CHECK(has(m.body, "testing #1") && has(m.body, "testing #5"), "python digest");
		mime_meta_free(&m);
	}
}

/* ---- headers ---- */

static const char headers_raw[] =
	"From: =?iso-8859-1?q?Andr=E9?= Dupont <Andre.Dupont@Example.COM>\n"
	"Sender: secretary@example.com\nReply-To: replies@example.com\n"
	"To: Alice <alice@example.org>, bob@EXAMPLE.org,\n team: carol@example.org, "
	"dave@example.org;\nCc: =?utf-8?b?5aSq6YOO?= <taro@example.jp>\n"
	"Bcc: hidden@example.net\n"
	"Subject: =?iso-2022-jp?B?GyRCN0BMcz1xGyhC?= review\n"
	"Date: Tue, 15 Mar 2005 13:14:15 +0100\nMessage-ID: <abc.123@example.com>\n"
	"In-Reply-To: <prev@example.com> (comment)\n"
	"References: <first@example.com>\n <prev@example.com>\n\nbody\n";

static void
test_headers(void)
{
	struct mime_meta m;

	extract(&m, headers_raw, sizeof(headers_raw) - 1, "headers");
	CHECK(!m.parse_error, "headers");
	CHECK(has(m.from.text, "André Dupont") && m.from.n == 1 &&
		      strcmp(m.from.addrs[0], "andre.dupont@example.com") == 0,
	      "from: RFC 2047 name, lower-cased address");
	CHECK(m.sender.n == 1 && strcmp(m.sender.addrs[0], "secretary@example.com") == 0, "sender");
	CHECK(m.reply_to.n == 1 && strcmp(m.reply_to.addrs[0], "replies@example.com") == 0,
	      "reply-to");
	CHECK(m.to.n == 4 && strcmp(m.to.addrs[1], "bob@example.org") == 0 &&
		      strcmp(m.to.addrs[2], "carol@example.org") == 0 &&
		      strcmp(m.to.addrs[3], "dave@example.org") == 0,
	      "to: group members flattened");
	CHECK(has(m.to.text, "Alice <alice@example.org>"), "to: text");
	CHECK(has(m.cc.text, "太郎") && m.cc.n == 1, "cc: UTF-8 encoded word");
	CHECK(m.bcc.n == 1 && strcmp(m.bcc.addrs[0], "hidden@example.net") == 0, "bcc");
	CHECK(m.subject && strcmp(m.subject, "契約書 review") == 0, "subject: ISO-2022-JP word");
	/* 2005-03-15T12:14:15Z */
	CHECK(m.date_us == 1110888855LL * 1000000, "date");
	CHECK(m.message_id && strcmp(m.message_id, "abc.123@example.com") == 0, "message-id");
	CHECK(m.in_reply_to && strcmp(m.in_reply_to, "<prev@example.com>") == 0, "in-reply-to");
	CHECK(m.references &&
		      strcmp(m.references, "<first@example.com> <prev@example.com>") == 0,
	      "references");
	CHECK(m.body && strcmp(m.body, "body") == 0, "body");
	mime_meta_free(&m);

	/* CRLF text is kept with LF line ends. */
	static const char crlf[] = "From: a@example.com\r\nMessage-ID: <c@x>\r\n\r\n"
				   "line one\r\nline two\r\n";
	extract(&m, crlf, sizeof(crlf) - 1, "CRLF");
	CHECK(m.body && strcmp(m.body, "line one\nline two") == 0, "CRLF");
	mime_meta_free(&m);

	/* An mbox "From " line before the headers is skipped, not taken for a header. */
	static const char mbox[] = "From someone@example.com Mon Jan  1 00:00:00 2024\n"
				   "From: real@example.com\nMessage-ID: <m@x>\n\ntext\n";
	extract(&m, mbox, sizeof(mbox) - 1, "mbox From line");
	CHECK(!m.parse_error && m.from.n == 1 && strcmp(m.from.addrs[0], "real@example.com") == 0,
	      "mbox From line");
	mime_meta_free(&m);
}

/* ---- malformed mail ---- */

/* stalwart-mail-parser-eml/malformed (from Dovecot's tests): every .eml is broken MIME except
 * 015.eml, a well-formed multipart/signed whose signature bytes are junk (not a MIME error). */
static int
malformed_expected(const char *name)
{
	return strcmp(name, "015.eml") != 0;
}

static void
test_malformed(void)
{
	const char *dir = CORPUS "stalwart-mail-parser-eml/malformed";
	struct dirent *de;
	size_t files = 0, emls = 0, flagged = 0;
	DIR *d = opendir(dir);

	CHECK(d != NULL, dir);
	if (d == NULL)
		return;
	/* Every file, .json and COPYING included: none may crash or break the invariants. */
	while ((de = readdir(d)) != NULL) {
		char rel[512];
		struct mime_meta m;
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "stalwart-mail-parser-eml/malformed/%s", de->d_name);
		if (extract_file(&m, rel) != 0)
			continue;
		files++;
		if (n > 4 && strcmp(de->d_name + n - 4, ".eml") == 0) {
			emls++;
			flagged += m.parse_error != 0;
			CHECK(!m.parse_error == !malformed_expected(de->d_name), rel);
			CHECK(!m.parse_error || m.parse_why != NULL, rel);
		}
		mime_meta_free(&m);
	}
	closedir(d);
	CHECK(files >= 70, "all malformed files read");
	CHECK(emls >= 23 && flagged == emls - 1, "malformed .eml flagged");
}

/* The mailparser stress fixtures: bounded, and they still yield their text. */
static const struct {
	const char *file;
	int parse_error;
	const char *word;
} stress_cases[] = {
	{"mailparser-fixtures/outofmemory.eml", 0, NULL},
	{"mailparser-fixtures/htmllargecallstack.eml", 0, "Alerts"},
	{"mailparser-fixtures/large_text.eml", 0, "MigrationAssistantApply failed"},
	{"mailparser-fixtures/mixed.eml", 1, "Good Morning"},
	{"mailparser-fixtures/decoderended.eml", 0, "forwarded message attached"},
};

static void
test_stress(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(stress_cases); i++) {
		struct mime_meta m;

		if (extract_file(&m, stress_cases[i].file) != 0)
			continue;
		CHECK(!m.parse_error == !stress_cases[i].parse_error, stress_cases[i].file);
		if (stress_cases[i].word)
			CHECK(has(m.body, stress_cases[i].word), stress_cases[i].file);
		CHECK(m.body_len > 0, stress_cases[i].file);
		mime_meta_free(&m);
	}
}

/* ---- the work bounds ---- */

static void
test_bounds(void)
{
	struct buf b = {0};
	struct mime_meta m;

	/* Nesting: 5,000 multiparts. */
	buf_append_str(&b, "From: a@x\nMessage-ID: <d@x>\n"
			   "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (int i = 1; i < 5000; i++)
		buf_appendf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i - 1, i);
	buf_append_str(&b, "--b4999\nContent-Type: text/plain\n\ndeep-text\n");
	extract(&m, b.data, b.len, "deep nesting");
	CHECK(m.parse_error && !has(m.body, "deep-text"), "deep nesting");
	mime_meta_free(&m);

	/* Nested message/rfc822, 200 deep: the walk stops at MIME_DEPTH_MAX. */
	buf_reset(&b);
	buf_append_str(&b, "From: a@x\nMessage-ID: <r@x>\n");
	for (int i = 0; i < 200; i++)
		buf_append_str(&b, "Content-Type: message/rfc822\n\nFrom: b@x\n");
	buf_append_str(&b, "\nrfc822-deep-text\n");
	extract(&m, b.data, b.len, "deep message/rfc822");
	CHECK(m.parse_error && !has(m.body, "rfc822-deep-text") &&
		      m.nattachments <= MIME_DEPTH_MAX + 1,
	      "deep message/rfc822");
	mime_meta_free(&m);

	/* Parts: 3,000 attachments; at most MIME_PARTS_MAX objects are looked at. */
	buf_reset(&b);
	buf_append_str(&b, "From: a@x\nMessage-ID: <p@x>\n"
			   "Content-Type: multipart/mixed; boundary=q\n\n");
	for (int i = 0; i < 3000; i++)
		buf_appendf(&b, "--q\nContent-Type: application/octet-stream; name=f%d.bin\n\nxx\n",
			    i);
	buf_append_str(&b, "--q--\n");
	extract(&m, b.data, b.len, "many parts");
	CHECK(m.parse_error && m.nattachments == MIME_PARTS_MAX - 1 &&
		      strcmp(m.attachments[0].filename, "f0.bin") == 0,
	      "many parts");
	mime_meta_free(&m);

	/* Text: 6 MiB of Japanese (3 bytes a character) is cut to MIME_BODY_MAX on a whole
	 * character (the "x" puts the bound inside one). */
	buf_reset(&b);
	buf_append_str(&b, "From: a@x\nMessage-ID: <t@x>\n"
			   "Content-Type: text/plain; charset=utf-8\n\nx");
	for (int i = 0; i < (6 << 20) / 12; i++)
		buf_append_str(&b, "契約書\n契約\n");
	extract(&m, b.data, b.len, "long text");
	CHECK(m.body_truncated && m.body_len <= MIME_BODY_MAX && m.body_len > MIME_BODY_MAX - 4,
	      "long text");
	mime_meta_free(&m);

	/* HTML: 300,000 nested tags and an unterminated comment. */
	buf_reset(&b);
	buf_append_str(&b, "From: a@x\nMessage-ID: <h@x>\nContent-Type: text/html\n\n");
	for (int i = 0; i < 300000; i++)
		buf_append_str(&b, "<div><span>");
	buf_append_str(&b, "html-deep-text<!-- never closed");
	extract(&m, b.data, b.len, "deep HTML");
	CHECK(has(m.body, "html-deep-text") && !has(m.body, "never closed"), "deep HTML");
	mime_meta_free(&m);

	/* Not mail at all, and nothing at all. */
	extract(&m, "\x00\x01\x02\xff\xfe", 5, "binary");
	CHECK(m.parse_error, "binary");
	mime_meta_free(&m);
	extract(&m, "", 0, "empty");
	CHECK(m.parse_error && m.body_len == 0, "empty");
	mime_meta_free(&m);
	extract(&m, NULL, 0, "NULL");
	CHECK(m.parse_error && m.body_len == 0, "NULL");
	mime_meta_free(&m);
	buf_free(&b);
}

/* ---- what the text lacks: index exceptions ---- */

/* exc_str - m's exceptions as "reason@part reason@part ..." (part "" for the message). */
static void
exc_str(const struct mime_meta *m, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < m->exc.n; i++)
		buf_appendf(out, "%s%s@%s", i ? " " : "", index_exc_reason_name(m->exc.v[i].reason),
			    m->exc.v[i].part);
	buf_append(out, "", 0);
}

#define EXC_HDR "From: a@x\nMessage-ID: <e@x>\nMIME-Version: 1.0\n"
#define EXC_MIXED EXC_HDR "Content-Type: multipart/mixed; boundary=b\n\n--b\n" \
	"Content-Type: text/plain\n\nhello\n--b\n"

/* A PDF of one page saying "pdf quokka", without an xref table: poppler rebuilds it. */
#define PDF_MIN "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" \
	"2 0 obj << /Type /Pages /Count 1 /Kids [3 0 R] >> endobj\n" \
	"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << " \
	"/F1 4 0 R >> >> /Contents 5 0 R >> endobj\n" \
	"4 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n" \
	"5 0 obj << /Length 41 >> stream\nBT /F1 12 Tf 40 700 Td (pdf quokka) Tj ET\n" \
	"endstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF"

/* Each case: a corpus file, or a message written here; and the exceptions expected. */
static const struct {
	const char *label, *file, *msg, *want;
} exc_cases[] = {
	{"plain text", NULL, EXC_HDR "\nhello world\n", ""},
	{"PGP/MIME (corpus)", "notmuch-corpora/crypto/basic-encrypted.eml", NULL, "encrypted@"},
	{"S/MIME enveloped-data (corpus)", "notmuch-corpora/protected-headers/smime-enc+legacy-disp.eml",
	 NULL, "encrypted@1"},
	{"S/MIME opaque signed-data (corpus)", "notmuch-corpora/pkcs7/smime-onepart-signed.eml", NULL,
	 "unsupported_type@1"},
	{"image attachment", NULL,
	 EXC_MIXED "Content-Type: image/png; name=a.png\nContent-Transfer-Encoding: base64\n\n"
		   "iVBORw0KGgo=\n--b--\n",
	 "unsupported_type@2"},
	{"PDF that pdftotext cannot read, in a nested multipart", NULL,
	 EXC_MIXED "Content-Type: multipart/mixed; boundary=c\n\n--c\n"
		   "Content-Type: application/pdf; name=r.pdf\n\n%PDF-1.4\n--c--\n--b--\n",
	 "decode_error@2.1"},
	{"PDF in an unknown transfer encoding: not given to pdftotext", NULL,
	 EXC_MIXED "Content-Type: application/pdf; name=r.pdf\nContent-Transfer-Encoding: "
		   "x-gzip64\n\n" PDF_MIN "\n--b--\n",
	 "decode_error@2"},
	{"DOCX that is no ZIP", NULL,
	 EXC_MIXED "Content-Type: application/vnd.openxmlformats-officedocument."
		   "wordprocessingml.document; name=a.docx\n\nnot a zip\n--b--\n",
	 "decode_error@2"},
	{"password-protected ZIP", NULL,
	 EXC_MIXED "Content-Type: application/zip; name=z.zip\nContent-Transfer-Encoding: base64\n\n"
		   "UEsDBBQAAQAIAAAAAAA=\n--b--\n",
	 "encrypted@2"},
	{"plain ZIP", NULL,
	 EXC_MIXED "Content-Type: application/zip; name=z.zip\nContent-Transfer-Encoding: base64\n\n"
		   "UEsDBBQAAAAIAAAAAAA=\n--b--\n",
	 "unsupported_type@2"},
	{"inline PGP", NULL,
	 EXC_HDR "\nhi\n-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n",
	 "encrypted@1"},
	{"unknown charset", NULL, EXC_HDR "Content-Type: text/plain; charset=x-klingon\n\nqapla\n",
	 "decode_error@1"},
	{"bytes invalid in their charset", NULL,
	 EXC_HDR "Content-Type: text/plain; charset=iso-8859-6\n\nab\xa1\xa2 cd\n", "decode_error@1"},
	{"unknown transfer encoding", NULL,
	 EXC_HDR "Content-Transfer-Encoding: x-uuencode-2\n\nhello\n", "decode_error@1"},
	{"forwarded message: its text is indexed", NULL,
	 EXC_MIXED "Content-Type: message/rfc822\n\nFrom: b@x\nSubject: inner\n\ninner text\n"
		   "--b--\n",
	 ""},
	{"text attachment: its text is indexed", NULL,
	 EXC_MIXED "Content-Type: text/csv; name=a.csv\nContent-Disposition: attachment\n\na,b\n"
		   "--b--\n",
	 ""},
	{"image named .docx: not read (the type wins)", NULL,
	 EXC_MIXED "Content-Type: image/png; name=chart.docx\n\nnot a zip at all\n--b--\n",
	 "unsupported_type@2"},
	{"application/pdf named .docx that is no PDF", NULL,
	 EXC_MIXED "Content-Type: application/pdf; name=r.docx\n\nno PDF either\n--b--\n",
	 "decode_error@2"},
	{"RTF attachment: read", NULL,
	 EXC_MIXED "Content-Type: text/rtf; name=a.rtf\n\n{\\rtf1 hi}\n--b--\n", ""},
	{"not RTF, named .rtf, typed RTF", NULL,
	 EXC_MIXED "Content-Type: application/rtf; name=a.rtf\n\nplain words\n--b--\n",
	 "decode_error@2"},
	{"a damaged winmail.dat", NULL,
	 EXC_MIXED "Content-Type: application/ms-tnef; name=winmail.dat\n\nnot tnef\n--b--\n",
	 "decode_error@2"},
	{"an image: not read", NULL,
	 EXC_MIXED "Content-Type: image/png; name=a.png\n\n\x89PNG\n--b--\n",
	 "unsupported_type@2"},
	{"not a message", NULL, "", "unparsed@"},
};

static void
test_exceptions(void)
{
	struct buf got = {0}, big = {0};
	struct mime_meta m;

	for (size_t i = 0; i < G_N_ELEMENTS(exc_cases); i++) {
		if (exc_cases[i].file) {
			if (extract_file(&m, exc_cases[i].file) != 0) {
				CHECK(0, exc_cases[i].label);
				continue;
			}
		} else {
			extract(&m, exc_cases[i].msg, strlen(exc_cases[i].msg), exc_cases[i].label);
		}
		exc_str(&m, &got);
		if (strcmp((const char *)got.data, exc_cases[i].want) != 0)
			fprintf(stderr, "\n%s: got '%s', want '%s'\n", exc_cases[i].label,
				(const char *)got.data, exc_cases[i].want);
		CHECK(strcmp((const char *)got.data, exc_cases[i].want) == 0, exc_cases[i].label);
		mime_meta_free(&m);
	}
	/* Oversized text: cut at MIME_BODY_MAX, and said so. */
	buf_append_str(&big, EXC_HDR "\n");
	for (size_t k = 0; k < MIME_BODY_MAX / 10 + 10; k++)
		buf_append_str(&big, "word word\n");
	extract(&m, big.data, big.len, "oversized text");
	exc_str(&m, &got);
	CHECK(strcmp((const char *)got.data, "truncated@") == 0, "oversized text");
	CHECK(m.exc.n == 1 && strstr(m.exc.v[0].detail, "MIME_BODY_MAX") != NULL, "oversized text");
	mime_meta_free(&m);
	buf_free(&big);
	buf_free(&got);
}

/* ---- the text of attachments (MIME_ATTACH_TEXT) ---- */

#define ATT_MSG(type, name, cte, content) \
	EXC_MIXED "Content-Type: " type "; name=" name "\nContent-Disposition: attachment; " \
		  "filename=" name "\n" cte "\n" content "\n--b--\n"

static const struct {
	const char *label, *msg, *want, *absent;
} attach_text_cases[] = {
	{"application/pdf", ATT_MSG("application/pdf", "r.pdf", "", PDF_MIN), "pdf quokka",
	 "/Catalog"},
	/* A specific type wins over the name; a generic one, or none, leaves it to the name. */
	{"application/pdf named .docx: a PDF", ATT_MSG("application/pdf", "r.docx", "", PDF_MIN),
	 "pdf quokka", "/Catalog"},
	{"octet-stream named .pdf: a PDF", ATT_MSG("application/octet-stream", "r.pdf", "", PDF_MIN),
	 "pdf quokka", "/Catalog"},
	{"no Content-Type, named .pdf: a PDF",
	 EXC_MIXED "Content-Disposition: attachment; filename=r.pdf\n\n" PDF_MIN "\n--b--\n",
	 "pdf quokka", "/Catalog"},
	{"text/plain", ATT_MSG("text/plain", "notes.txt", "", "minutes of the board"),
	 "minutes of the board", NULL},
	{"text/plain in ISO-8859-1, quoted-printable",
	 ATT_MSG("text/plain; charset=iso-8859-1", "n.txt", "Content-Transfer-Encoding: "
		 "quoted-printable\n", "Gr=FC=DFe aus K=F6ln"),
	 "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", NULL},
	{"text/html: tags gone", ATT_MSG("text/html", "r.html", "", "<p>quarterly <b>forecast</b></p>"),
	 "quarterly forecast", "<b>"},
	{"text/csv, base64", ATT_MSG("text/csv", "t.csv", "Content-Transfer-Encoding: base64\n",
				     "aW52b2ljZSw0NzExCg=="),
	 "invoice,4711", NULL},
	{"octet-stream named .csv", ATT_MSG("application/octet-stream", "ledger.csv", "", "acme,99"),
	 "acme,99", NULL},
	{"octet-stream named .bin: not read", ATT_MSG("application/octet-stream", "x.bin", "", "zzyzx"),
	 NULL, "zzyzx"},
	{"text/rtf", ATT_MSG("text/rtf", "x.rtf", "", "{\\rtf1 qwerty}"), "qwerty", "rtf1"},
};

/* attach_text_bound - one attachment gives at most MIME_ATTACH_TEXT_MAX bytes, says so, and
 * the text after it is still read. */
static void
attach_text_bound(void)
{
	struct buf msg = {0};
	struct mime_meta m;

	buf_append_str(&msg, EXC_MIXED "Content-Type: text/plain; name=big.txt\n\n");
	for (size_t k = 0; k < MIME_ATTACH_TEXT_MAX / 10 + 10; k++)
		buf_append_str(&msg, "many word\n");
	buf_append_str(&msg, "--b\nContent-Type: text/plain\n\nafterwards\n--b--\n");
	extract(&m, msg.data, msg.len, "big text attachment");
	CHECK(m.exc.n == 1 && m.exc.v[0].reason == INDEX_EXC_TRUNCATED &&
		      strstr(m.exc.v[0].detail, "MIME_ATTACH_TEXT_MAX") != NULL,
	      "big text attachment");
	CHECK(m.body_len < MIME_ATTACH_TEXT_MAX + 100, "big text attachment");
	CHECK(strstr(m.body, "afterwards") != NULL, "big text attachment");
	CHECK(!m.body_truncated, "big text attachment");
	mime_meta_free(&m);
	buf_free(&msg);
}

/* attach_text_fits - an attachment of exactly MIME_ATTACH_TEXT_MAX bytes of text after the
 * body's: the "\n\n" written before it is not counted against it, so it is whole, and not
 * called longer than the bound. */
static void
attach_text_fits(void)
{
	static const char tail[] = "xxxxxx finalword";
	struct buf msg = {0};
	struct mime_meta m;
	size_t start;

	buf_append_str(&msg, EXC_MIXED "Content-Type: text/plain; name=exact.txt\n\n");
	start = msg.len;
	while (msg.len - start + 10 <= MIME_ATTACH_TEXT_MAX - (sizeof(tail) - 1))
		buf_append_str(&msg, "many word\n");
	while (msg.len - start < MIME_ATTACH_TEXT_MAX - (sizeof(tail) - 1))
		buf_append_str(&msg, "y");
	buf_append_str(&msg, tail);
	CHECK(msg.len - start == MIME_ATTACH_TEXT_MAX, "exact text attachment");
	buf_append_str(&msg, "\n--b--\n");
	extract(&m, msg.data, msg.len, "exact text attachment");
	CHECK(m.exc.n == 0, "exact text attachment");
	CHECK(m.body_len > 9 && strcmp(m.body + m.body_len - 9, "finalword") == 0,
	      "exact text attachment");
	mime_meta_free(&m);
	buf_free(&msg);
}

/* attach_busy - no descriptor for pdftotext's pipes (EMFILE: a leak, or too many at once) is
 * no verdict on the PDF: VL_ERR_BUSY naming the attachment, not a decode_error; the same
 * message reads whole once descriptors are back. */
static void
attach_busy(void)
{
	const char *msg = ATT_MSG("application/pdf", "r.pdf", "", PDF_MIN);
	char err[VL_ERRLEN] = "";
	struct rlimit old, low;
	struct mime_meta m;
	enum vl_err rc;
	int fd = dup(0); /* the lowest free descriptor: every one below is taken */

	CHECK(fd >= 0 && close(fd) == 0 && getrlimit(RLIMIT_NOFILE, &old) == 0, "busy");
	low = old;
	low.rlim_cur = (rlim_t)fd;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0, "busy");
	rc = mime_extract(&m, (const uint8_t *)msg, strlen(msg), MIME_ATTACH_TEXT, err);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0, "busy");
	CHECK(rc == VL_ERR_BUSY, "busy");
	CHECK(strstr(err, "attachment 2 (application/pdf): pipe: Too many open files") != NULL, "busy");
	for (size_t i = 0; i < m.exc.n; i++)
		CHECK(m.exc.v[i].reason != INDEX_EXC_DECODE_ERROR, "busy");
	mime_meta_free(&m);
	extract(&m, msg, strlen(msg), "descriptors back");
	CHECK(m.exc.n == 0 && strstr(m.body, "pdf quokka") != NULL, "descriptors back");
	mime_meta_free(&m);
}

/* attach_readers_bound - past MIME_ATTACH_READERS_MAX Office or PDF attachments, the others
 * are not read (a PDF is a process of up to 30 s) and each says why. */
static void
attach_readers_bound(void)
{
	struct buf msg = {0};
	struct mime_meta m;
	size_t decode = 0, cut = 0;

	buf_append_str(&msg, EXC_MIXED);
	for (int i = 0; i < MIME_ATTACH_READERS_MAX + 2; i++)
		buf_appendf(&msg, "--b\nContent-Type: application/octet-stream; name=d%d.docx\n\n"
				  "not a zip\n", i);
	buf_append_str(&msg, "--b--\n");
	extract(&m, msg.data, msg.len, "many Office attachments");
	for (size_t i = 0; i < m.exc.n; i++) {
		decode += m.exc.v[i].reason == INDEX_EXC_DECODE_ERROR;
		cut += m.exc.v[i].reason == INDEX_EXC_TRUNCATED &&
		       strstr(m.exc.v[i].detail, "MIME_ATTACH_READERS_MAX") != NULL;
	}
	CHECK(decode == MIME_ATTACH_READERS_MAX && cut == 2, "many Office attachments");
	mime_meta_free(&m);
	buf_free(&msg);
}

/* attach_in_process - with MIME_ATTACH_IN_PROCESS (snippets) every reader but pdftotext's
 * runs: a PDF gives neither its text nor an exception, the others their text as before. */
static void
attach_in_process(const char *msg, const char *label, const char *want)
{
	char err[VL_ERRLEN] = "";
	struct mime_meta m;
	int pdf = want && strcmp(want, "pdf quokka") == 0;

	CHECK(mime_extract(&m, (const uint8_t *)msg, strlen(msg),
			   MIME_ATTACH_TEXT | MIME_ATTACH_IN_PROCESS, err) == VL_OK,
	      label);
	if (pdf)
		CHECK(strstr(m.body, want) == NULL && m.exc.n == 0, label);
	else if (want)
		CHECK(strstr(m.body, want) != NULL, label);
	mime_meta_free(&m);
}

static void
test_attachment_text(void)
{
	char err[VL_ERRLEN] = "";
	struct mime_meta m;

	for (size_t i = 0; i < G_N_ELEMENTS(attach_text_cases); i++) {
		const char *msg = attach_text_cases[i].msg, *label = attach_text_cases[i].label;

		extract(&m, msg, strlen(msg), label);
		CHECK(strstr(m.body, "hello") != NULL, label);
		if (attach_text_cases[i].want)
			CHECK(strstr(m.body, attach_text_cases[i].want) != NULL, label);
		if (attach_text_cases[i].absent)
			CHECK(strstr(m.body, attach_text_cases[i].absent) == NULL, label);
		CHECK(m.nattachments == 1, label); /* still listed as an attachment */
		mime_meta_free(&m);
		/* Without the flag the attachment is listed and its text is not read. */
		CHECK(mime_extract(&m, (const uint8_t *)msg, strlen(msg), 0, err) == VL_OK, label);
		CHECK(m.nattachments == 1 && m.exc.n == 1 &&
			      m.exc.v[0].reason == INDEX_EXC_UNSUPPORTED_TYPE,
		      label);
		if (attach_text_cases[i].want)
			CHECK(strstr(m.body, attach_text_cases[i].want) == NULL, label);
		mime_meta_free(&m);
		attach_in_process(msg, label, attach_text_cases[i].want);
	}
	attach_text_bound();
	attach_text_fits();
	attach_busy();
	attach_readers_bound();
}

UNIT_SUITE(mime_extract, {"charsets to UTF-8 (Japanese, Chinese, Cyrillic)", test_charsets},
	   {"charset labels read as the vendor supersets", test_supersets},
	   {"Japanese mobile mail (ISO-2022-JP, Shift_JIS, cp932, UTF-8)", test_japanese},
	   {"attachment names (RFC 2231, RFC 2047), types, decoded sizes", test_attachments},
	   {"HTML to text, multipart/alternative", test_html},
	   {"nested message/rfc822", test_nested}, {"headers", test_headers},
	   {"malformed corpus: no crash, parse_error set", test_malformed},
	   {"stress fixtures", test_stress}, {"work bounds", test_bounds},
	   {"index exceptions: encrypted, attachments, truncated, decode errors", test_exceptions},
	   {"the text of attachments", test_attachment_text})
