/* test_pdf_text - archiver/pdf_text.{c,h} against Debian 12's pdftotext (poppler 22.12): PDFs
 * written here with correct xref offsets (pdf_make), the encrypted ones of
 * tests/fixtures/pdf/ (see its README), broken input, the bounds, and small shell scripts that
 * stand in for pdftotext where poppler cannot be made to misbehave (bad bytes, a hang, a CPU
 * loop, a crash, an early exit, a child that lingers after its output). After every run no child may be left unreaped. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "pdf_text.h"
#include "unit.h"
#include "utf8.h"

#define FIXTURES "tests/fixtures/pdf/"
#define BIG_PAGES 600	   /* pages of the PDF larger than a pipe buffer */
#define BIG_LINES 80	   /* lines of text on each of its pages */
#define THREADS 4	   /* indexer threads running pdf_text at once */
#define THREAD_RUNS 5	   /* runs per thread */

/* pdf_make - a PDF into b (reset first): one page per content stream of streams, Helvetica in
 * WinAnsiEncoding as /F1, the xref offsets counted. */
static void
pdf_make(struct buf *b, char *const *streams, size_t n)
{
	size_t nobj = 3 + 2 * n, *off = xcalloc(nobj + 1, sizeof(*off)), xref;

	buf_reset(b);
	buf_append_str(b, "%PDF-1.4\n");
	off[1] = b->len;
	buf_appendf(b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	off[2] = b->len;
	buf_appendf(b, "2 0 obj\n<< /Type /Pages /Count %zu /Kids [", n);
	for (size_t i = 0; i < n; i++)
		buf_appendf(b, " %zu 0 R", 4 + 2 * i);
	buf_appendf(b, " ] >>\nendobj\n");
	off[3] = b->len;
	buf_appendf(b, "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
		       "/Encoding /WinAnsiEncoding >>\nendobj\n");
	for (size_t i = 0; i < n; i++) {
		off[4 + 2 * i] = b->len;
		buf_appendf(b, "%zu 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
			       "/Resources << /Font << /F1 3 0 R >> >> /Contents %zu 0 R >>\n"
			       "endobj\n",
			    4 + 2 * i, 5 + 2 * i);
		off[5 + 2 * i] = b->len;
		buf_appendf(b, "%zu 0 obj\n<< /Length %zu >>\nstream\n%s\nendstream\nendobj\n",
			    5 + 2 * i, strlen(streams[i]), streams[i]);
	}
	xref = b->len;
	buf_appendf(b, "xref\n0 %zu\n0000000000 65535 f \n", nobj + 1);
	for (size_t i = 1; i <= nobj; i++)
		buf_appendf(b, "%010zu 00000 n \n", off[i]);
	buf_appendf(b, "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", nobj + 1,
		    xref);
	free(off);
}

/* page_lines - a content stream showing line (a PDF string body) on nlines lines. */
static char *
page_lines(const char *line, int nlines)
{
	struct buf s = {0};

	buf_append_str(&s, "BT /F1 8 Tf 9 TL 40 760 Td");
	for (int i = 0; i < nlines; i++)
		buf_appendf(&s, " (%s) '", line);
	buf_append_str(&s, " ET");
	return (char *)s.data;
}

/* pdf_pages - pdf_make with one line of text per page. */
static void
pdf_pages(struct buf *b, const char *const *texts, size_t n)
{
	char **streams = xcalloc(n, sizeof(*streams));

	for (size_t i = 0; i < n; i++)
		streams[i] = page_lines(texts[i], 1);
	pdf_make(b, streams, n);
	for (size_t i = 0; i < n; i++)
		free(streams[i]);
	free(streams);
}

/* slurp - the fixture file rel into b (reset first); 0, or -1 when it cannot be read. */
static int
slurp(const char *rel, struct buf *b)
{
	char path[512];

	snprintf(path, sizeof(path), FIXTURES "%s", rel);
	return unit_slurp(path, b);
}

/* text_ok - valid UTF-8, no NUL, no control but \n and \t: what pdf_text promises. */
static int
text_ok(const struct buf *t)
{
	for (size_t i = 0; i < t->len;) {
		uint32_t cp;
		int d = utf8_decode(t->data + i, t->len - i, &cp);

		if (d <= 0 || (cp < 0x20 && cp != '\n' && cp != '\t'))
			return 0;
		i += (size_t)d;
	}
	return 1;
}

/* no_child - no child of ours is left, exited or not (a zombie would be reaped here). */
static int
no_child(void)
{
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* run - pdf_text (lim NULL) or pdf_text_with on b with max into out (reset first), checking what
 * every run must keep; whether it returned want (said on stderr when not). */
static int
run(const struct pdf_limits *lim, const struct buf *b, size_t max, struct buf *out,
    int *truncated, char *err, enum vl_err want, const char *label)
{
	enum vl_err rc;

	buf_reset(out);
	err[0] = '\0';
	rc = lim ? pdf_text_with(lim, b->data, b->len, out, max, truncated, err)
		 : pdf_text(b->data, b->len, out, max, truncated, err);
	if (rc != want)
		fprintf(stderr, "\n%s: %s (%s), want %s\n", label, vl_err_str(rc), err,
			vl_err_str(want));
	CHECK(no_child(), label);
	CHECK(out->len <= max && text_ok(out), label);
	CHECK(rc == VL_OK || (out->len == 0 && err[0] != '\0'), label);
	return rc == want;
}

static void
test_is(void)
{
	static const struct {
		const char *type, *name, *bytes;
		int want, want_bytes;
	} cases[] = {
		{"application/pdf", NULL, "%PDF-1.7\n", 1, 1},
		{"APPLICATION/PDF; name=x", NULL, "%PDF-1.4", 1, 1},
		{"application/x-pdf", "scan", "%PDF-1.4", 1, 1},
		{"application/pdfx", NULL, "%PDF-1.4", 0, 0},
		{"application/octet-stream", "Invoice.PDF", "%PDF-1.3", 1, 1},
		{"application/octet-stream", "invoice.pdf.exe", "%PDF-1.3", 0, 0},
		{"application/octet-stream", NULL, "%PDF-1.3", 0, 0},
		{"text/plain", "notes.pdf", "junk\n%PDF-1.5", 1, 1},
		{"application/pdf", NULL, "<html>not a pdf</html>", 1, 0},
		{"application/pdf", NULL, "%PDF", 1, 0},
		{"image/png", "pdf", "%PDF-1.4", 0, 0},
		{NULL, ".pdf", "%PDF-1.4", 1, 1},
		{NULL, NULL, "%PDF-1.4", 0, 0},
	};
	struct buf late = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *p = (const uint8_t *)cases[i].bytes;
		size_t n = strlen(cases[i].bytes);
		char label[128];

		snprintf(label, sizeof(label), "%s / %s", cases[i].type ? cases[i].type : "-",
			 cases[i].name ? cases[i].name : "-");
		CHECK(pdf_is(cases[i].type, cases[i].name) == cases[i].want, label);
		CHECK(pdf_is_bytes(cases[i].type, cases[i].name, p, n) == cases[i].want_bytes,
		      label);
	}
	/* "%PDF-" may start at byte PDF_MAGIC_SPAN - 1, not at PDF_MAGIC_SPAN. */
	for (size_t at = PDF_MAGIC_SPAN - 1; at <= PDF_MAGIC_SPAN; at++) {
		buf_reset(&late);
		for (size_t k = 0; k < at; k++)
			buf_append(&late, " ", 1);
		buf_append_str(&late, "%PDF-1.4\n");
		CHECK(pdf_is_bytes("application/pdf", NULL, late.data, late.len) ==
			      (at < PDF_MAGIC_SPAN),
		      "magic span");
	}
	CHECK(!pdf_is_bytes("application/pdf", NULL, NULL, 0), "no bytes");
	buf_free(&late);
}

static void
test_plain(void)
{
	static const char *const one[] = {"Quarterly invoice 4711"};
	static const char *const two[] = {"First page alpha", "Second page omega"};
	struct buf pdf = {0}, out = {0};
	char err[VL_ERRLEN];
	int truncated = 1;

	pdf_pages(&pdf, one, 1);
	CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_OK, "plain"), "plain");
	CHECK(strcmp((char *)out.data, "Quarterly invoice 4711\n\n\n") == 0, "plain");
	CHECK(!truncated, "plain");
	/* Page breaks: pdftotext ends each page with \f, which becomes \n. */
	pdf_pages(&pdf, two, 2);
	CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_OK, "pages"), "pages");
	CHECK(strcmp((char *)out.data, "First page alpha\n\n\nSecond page omega\n\n\n") == 0,
	      "pages");
	/* Appends: what out held stays. */
	buf_reset(&out);
	buf_append_str(&out, "head ");
	CHECK(pdf_text(pdf.data, pdf.len, &out, 4096, &truncated, err) == VL_OK, "append");
	CHECK(strncmp((char *)out.data, "head First page alpha\n", 22) == 0, "append");
	/* A wrong xref offset: poppler rebuilds the table and reads the page. */
	pdf_pages(&pdf, one, 1);
	memcpy(strstr((char *)pdf.data, "startxref\n") + 10, "99", 2);
	CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_OK, "bad xref"), "bad xref");
	CHECK(strstr((char *)out.data, "Quarterly invoice 4711") != NULL, "bad xref");
	buf_free(&pdf);
	buf_free(&out);
}

static void
test_encrypted(void)
{
	static const char *const locked[] = {"user-password.pdf", "user-password-rc4.pdf"};
	struct buf pdf = {0}, out = {0};
	char err[VL_ERRLEN];
	int truncated;

	for (size_t i = 0; i < sizeof(locked) / sizeof(locked[0]); i++) {
		CHECK(slurp(locked[i], &pdf) == 0, locked[i]);
		CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_ERR_CRYPTO, locked[i]),
		      locked[i]);
		CHECK(strstr(err, "Incorrect password") != NULL, locked[i]);
	}
	/* An owner password alone (copying "forbidden"): Debian's poppler reads it. */
	CHECK(slurp("owner-password.pdf", &pdf) == 0, "owner password");
	CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_OK, "owner password"),
	      "owner password");
	CHECK(strcmp((char *)out.data, "Sealed invoice 4711\n\n\n") == 0, "owner password");
	buf_free(&pdf);
	buf_free(&out);
}

static void
test_broken(void)
{
	static const char *const one[] = {"Quarterly invoice 4711"};
	static const struct {
		const char *label, *bytes; /* bytes NULL: the plain PDF */
		size_t len;		   /* of bytes, or of the plain PDF's first bytes */
		const char *why;
	} cases[] = {
		/* No "%PDF-": refused before pdftotext runs. */
		{"empty", "", 0, "not a PDF"},
		{"text", "hello world, no PDF here", 24, "not a PDF"},
		{"binary", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe{}", 20, "not a PDF"},
		{"a ZIP (a DOCX)", "PK\3\4\24\0\6\0\10\0", 10, "not a PDF"},
		/* "%PDF-", but not a PDF poppler can read. */
		{"header only", "%PDF-1.4\n%%EOF\n", 15, "Couldn't read xref table"},
		{"truncated at 300", NULL, 300, "Couldn't read xref table"},
		{"truncated before trailer", NULL, 500, "Couldn't read xref table"},
	};
	struct buf pdf = {0}, out = {0}, full = {0};
	char err[VL_ERRLEN];
	int truncated;

	pdf_pages(&full, one, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&pdf);
		buf_append(&pdf, cases[i].bytes ? (const void *)cases[i].bytes : full.data,
			   cases[i].len);
		CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_ERR_PARSE, cases[i].label),
		      cases[i].label);
		if (strstr(err, cases[i].why) == NULL)
			fprintf(stderr, "\n%s: err '%s', want '%s'\n", cases[i].label, err,
				cases[i].why);
		CHECK(strstr(err, cases[i].why) != NULL, cases[i].label);
	}
	buf_free(&pdf);
	buf_free(&out);
	buf_free(&full);
}

static void
test_bounds(void)
{
	static const char *const accents[] = {"\\351t\\351 caf\\351"}; /* été café, WinAnsi */
	static const struct pdf_limits missing = {"/nonexistent/pdftotext", PDF_WALL_MS, PDF_CPU_S,
						  PDF_AS_BYTES};
	static const struct pdf_limits relative = {"pdftotext", PDF_WALL_MS, PDF_CPU_S,
						   PDF_AS_BYTES};
	struct buf pdf = {0}, out = {0}, full = {0}, junk = {0};
	char err[VL_ERRLEN];
	int truncated;

	/* Over PDF_INPUT_MAX: refused before any child (a missing program would say CONFIG). */
	pdf.data = xcalloc(PDF_INPUT_MAX + 2, 1);
	pdf.len = PDF_INPUT_MAX + 1;
	CHECK(run(&missing, &pdf, 4096, &out, &truncated, err, VL_ERR_LIMIT, "too big"),
	      "too big");
	buf_free(&pdf);
	pdf_pages(&pdf, accents, 1);
	CHECK(run(&missing, &pdf, 4096, &out, &truncated, err, VL_ERR_CONFIG, "missing"),
	      "missing");
	CHECK(strstr(err, "pdftotext is not installed") != NULL &&
		      strstr(err, "install poppler-utils") != NULL,
	      "missing");
	CHECK(run(&relative, &pdf, 4096, &out, &truncated, err, VL_ERR_CONFIG, "relative"),
	      "relative");
	/* Bytes that are no PDF: refused before any child (a missing program would say CONFIG). */
	buf_append_str(&junk, "PK\3\4 a DOCX named .pdf");
	CHECK(run(&missing, &junk, 4096, &out, &truncated, err, VL_ERR_PARSE, "not a PDF"),
	      "not a PDF");
	CHECK(strstr(err, "not a PDF") != NULL, "not a PDF");
	buf_free(&junk);
	/* Every max from 0 to the whole: a prefix cut between characters, truncated when short. */
	CHECK(run(NULL, &pdf, 4096, &full, &truncated, err, VL_OK, "accents"), "accents");
	CHECK(strcmp((char *)full.data, "\xc3\xa9t\xc3\xa9 caf\xc3\xa9\n\n\n") == 0, "accents");
	for (size_t max = 0; max <= full.len + 1; max++) {
		CHECK(run(NULL, &pdf, max, &out, &truncated, err, VL_OK, "max"), "max");
		CHECK(memcmp(out.data ? out.data : full.data, full.data, out.len) == 0, "max");
		CHECK(out.len + 1 >= (max < full.len ? max : full.len), "max");
		CHECK(truncated == (max < full.len), "max");
	}
	buf_free(&pdf);
	buf_free(&out);
	buf_free(&full);
}

/* nofile_exhaust - lower RLIMIT_NOFILE (the old one into old) so that no descriptor can be
 * made: EMFILE, as when the indexer leaks them or many PDFs run at once. 0, or -1. */
static int
nofile_exhaust(struct rlimit *old)
{
	struct rlimit low;
	int fd = dup(0); /* the lowest free descriptor: every one below is taken */

	if (fd < 0 || close(fd) != 0 || getrlimit(RLIMIT_NOFILE, old) != 0)
		return -1;
	low = *old;
	low.rlim_cur = (rlim_t)fd;
	return setrlimit(RLIMIT_NOFILE, &low);
}

/* test_no_fds - no descriptor for the pipes: VL_ERR_IO (the moment's, no verdict on the PDF),
 * nothing run; the same PDF reads once descriptors are back. */
static void
test_no_fds(void)
{
	static const char *const one[] = {"Quarterly invoice 4711"};
	struct buf pdf = {0}, out = {0};
	char err[VL_ERRLEN];
	struct rlimit old;
	int truncated;

	pdf_pages(&pdf, one, 1);
	CHECK(nofile_exhaust(&old) == 0, "no fds");
	CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_ERR_IO, "no fds"), "no fds");
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0, "no fds");
	CHECK(strstr(err, "pipe: Too many open files") != NULL, "no fds");
	CHECK(run(NULL, &pdf, 4096, &out, &truncated, err, VL_OK, "fds back"), "fds back");
	CHECK(strstr((char *)out.data, "Quarterly invoice 4711") != NULL, "fds back");
	buf_free(&pdf);
	buf_free(&out);
}

/* big_pdf - a PDF of BIG_PAGES pages of BIG_LINES lines each, over 2 MB, into b. */
static void
big_pdf(struct buf *b)
{
	char **streams = xcalloc(BIG_PAGES, sizeof(*streams));

	for (size_t i = 0; i < BIG_PAGES; i++) {
		char line[96];

		snprintf(line, sizeof(line), "page %zu of the long report, lorem ipsum dolor", i);
		streams[i] = page_lines(line, BIG_LINES);
	}
	pdf_make(b, streams, BIG_PAGES);
	for (size_t i = 0; i < BIG_PAGES; i++)
		free(streams[i]);
	free(streams);
}

static void
test_large(void)
{
	char last[64];
	struct buf pdf = {0}, out = {0};
	char err[VL_ERRLEN];
	int truncated;

	big_pdf(&pdf);
	CHECK(pdf.len > (2u << 20), "large");
	CHECK(run(NULL, &pdf, PDF_TEXT_MAX, &out, &truncated, err, VL_OK, "large"), "large");
	snprintf(last, sizeof(last), "page %d of the long report", BIG_PAGES - 1);
	CHECK(!truncated && out.len > (2u << 20) && strstr((char *)out.data, last) != NULL,
	      "large");
	/* Cut at 1000 bytes: the child is killed mid-output, and that is not an error. */
	CHECK(run(NULL, &pdf, 1000, &out, &truncated, err, VL_OK, "large cut"), "large cut");
	CHECK(truncated && out.len == 1000, "large cut");
	buf_free(&pdf);
	buf_free(&out);
}

/* script - write an executable /bin/sh script body into dir/name; its path into path. */
static void
script(char *path, size_t cap, const char *dir, const char *name, const char *body)
{
	FILE *f;

	snprintf(path, cap, "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL, name);
	if (f == NULL)
		return;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	CHECK(fclose(f) == 0 && chmod(path, 0755) == 0, name);
}

/* Stand-ins for pdftotext: what poppler will not do on demand. */
static const struct {
	const char *name, *body;
	unsigned wall_ms, cpu_s;
	enum vl_err want;
	const char *want_text, *want_err;
} fakes[] = {
	{"dirty", "cat >/dev/null; printf 'a\\000b\\fc\\303(d\\001e\\tf\\n\\377'", 5000, 5, VL_OK,
	 "a b\nc\xef\xbf\xbd(d e\tf\n\xef\xbf\xbd", NULL},
	{"hang", "exec sleep 30", 300, 5, VL_ERR_LIMIT, NULL, "300 ms"},
	/* Both outputs closed, still running: the reap has the rest of the wall time, no more. */
	{"linger", "cat >/dev/null; printf 'all said'; exec >&- 2>&-; exec sleep 10", 300, 5,
	 VL_ERR_LIMIT, NULL, "300 ms"},
	{"spin", "cat >/dev/null; while :; do :; done", 20000, 1, VL_ERR_LIMIT, NULL, "CPU"},
	{"oom",
	 "cat >/dev/null; echo \"terminate called after throwing an instance of "
	 "'std::bad_alloc'\" >&2; kill -ABRT $$",
	 5000, 5, VL_ERR_LIMIT, NULL, "512 MiB of memory"},
	{"crash", "cat >/dev/null; echo 'Syntax Error: boom' >&2; kill -SEGV $$", 5000, 5,
	 VL_ERR_PARSE, NULL, "signal 11: Syntax Error: boom"},
	{"early exit", "printf 'I/O Error: \\001bad\\n\\n' >&2; exit 99", 5000, 5, VL_ERR_PARSE,
	 NULL, "exit 99: I/O Error: ?bad"},
	{"no exec", "", 5000, 5, VL_ERR_CONFIG, NULL, "pdftotext cannot be run"},
};

static void
test_fakes(void)
{
	char dir[UNIT_TMP_MAX], path[UNIT_TMP_MAX + 64], err[VL_ERRLEN];
	struct buf pdf = {0}, out = {0};
	int truncated;

	unit_tmpdir_new(dir, "pdf");
	big_pdf(&pdf); /* larger than a pipe: "early exit" meets EPIPE, not SIGPIPE */
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		struct pdf_limits lim = {path, fakes[i].wall_ms, fakes[i].cpu_s, PDF_AS_BYTES};

		script(path, sizeof(path), dir, fakes[i].name, fakes[i].body);
		if (fakes[i].want == VL_ERR_CONFIG)
			CHECK(chmod(path, 0644) == 0, fakes[i].name);
		CHECK(run(&lim, &pdf, 4096, &out, &truncated, err, fakes[i].want, fakes[i].name),
		      fakes[i].name);
		if (fakes[i].want_text)
			CHECK(out.len == strlen(fakes[i].want_text) &&
				      memcmp(out.data, fakes[i].want_text, out.len) == 0,
			      fakes[i].name);
		if (fakes[i].want_err && strstr(err, fakes[i].want_err) == NULL)
			fprintf(stderr, "\n%s: err '%s'\n", fakes[i].name, err);
		CHECK(!fakes[i].want_err || strstr(err, fakes[i].want_err) != NULL, fakes[i].name);
	}
	/* One that writes while it reads: stdin and stdout must be pumped at once. */
	script(path, sizeof(path), dir, "echo", "exec cat");
	struct pdf_limits echo = {path, 10000, 5, PDF_AS_BYTES};
	CHECK(run(&echo, &pdf, PDF_TEXT_MAX, &out, &truncated, err, VL_OK, "echo"), "echo");
	CHECK(!truncated && out.len == pdf.len && memcmp(out.data, pdf.data, pdf.len) == 0, "echo");
	buf_free(&pdf);
	buf_free(&out);
	CHECK(unit_tmpdir_free(dir) == 0, "tmpdir");
}

/* The child sees: fds 0-2 (and the script dash itself opens), not one of ours left open across
 * exec; RLIMIT_AS in KiB, RLIMIT_CPU, FSIZE and CORE 0; PATH and LANG only. ls writes to
 * stdout itself: in a pipeline it could see the pipe dash holds while it starts the next
 * command (fd 3, now and then). */
#define CHILD_PROBE                                                                                \
	"cat >/dev/null; ls -m -w 0 /proc/$$/fd; "                                                \
	"ulimit -v; ulimit -t; ulimit -f; ulimit -c; echo \"$PATH|$LANG|${HOME:-nohome}\""
#define CHILD_WANT "524288\n7\n0\n0\n/usr/bin:/bin|C.UTF-8|nohome\n"
#define CHILD_LEAK 200 /* a descriptor of ours without close-on-exec */

static void
test_child(void)
{
	static const char *const one[] = {"Quarterly invoice 4711"};
	char dir[UNIT_TMP_MAX], path[UNIT_TMP_MAX + 64], err[VL_ERRLEN], fds[256], *nl;
	struct pdf_limits lim = {path, 5000, 7, PDF_AS_BYTES};
	struct buf pdf = {0}, out = {0};
	int truncated;

	unit_tmpdir_new(dir, "pdf");
	script(path, sizeof(path), dir, "probe", CHILD_PROBE);
	CHECK(fcntl(1, F_DUPFD, CHILD_LEAK) == CHILD_LEAK, "leak");
	pdf_pages(&pdf, one, 1);
	CHECK(run(&lim, &pdf, 4096, &out, &truncated, err, VL_OK, "probe"), "probe");
	nl = strchr((char *)out.data, '\n');
	CHECK(nl != NULL && strcmp(nl + 1, CHILD_WANT) == 0, "probe");
	if (nl != NULL)
		*nl = '\0';
	snprintf(fds, sizeof(fds), "%s, ", (char *)out.data); /* "0, 1, 10, 2, " */
	CHECK(strncmp(fds, "0, 1, ", 6) == 0 && !strstr(fds, " 3, ") && !strstr(fds, " 200, "),
	      "probe fds");
	close(CHILD_LEAK);
	buf_free(&pdf);
	buf_free(&out);
	CHECK(unit_tmpdir_free(dir) == 0, "tmpdir");
}

/* thread_runs - THREAD_RUNS extractions of the PDF at arg; the number that went wrong. */
static void *
thread_runs(void *arg)
{
	const struct buf *pdf = arg;
	size_t bad = 0;

	for (int i = 0; i < THREAD_RUNS; i++) {
		struct buf out = {0};
		char err[VL_ERRLEN];
		int truncated;

		if (pdf_text(pdf->data, pdf->len, &out, 4096, &truncated, err) != VL_OK ||
		    strcmp((char *)out.data, "Quarterly invoice 4711\n\n\n") != 0)
			bad++;
		buf_free(&out);
	}
	return (void *)bad;
}

static void
test_threads(void)
{
	static const char *const one[] = {"Quarterly invoice 4711"};
	pthread_t t[THREADS];
	struct buf pdf = {0};
	size_t bad = 0;

	pdf_pages(&pdf, one, 1);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, thread_runs, &pdf) == 0, "threads");
	for (int i = 0; i < THREADS; i++) {
		void *r;

		CHECK(pthread_join(t[i], &r) == 0, "threads");
		bad += (size_t)r;
	}
	CHECK(bad == 0, "threads");
	CHECK(no_child(), "threads");
	buf_free(&pdf);
}

UNIT_SUITE(pdf_text, {"pdf_is: types, names, magic", test_is},
	   {"plain PDFs: words, pages, appending, a broken xref", test_plain},
	   {"password-protected PDFs: VL_ERR_CRYPTO", test_encrypted},
	   {"broken input: VL_ERR_PARSE, not a PDF or poppler's reason", test_broken},
	   {"bounds: input size, missing program, not a PDF, max cut", test_bounds},
	   {"a PDF and a text larger than a pipe", test_large},
	   {"no descriptor for the pipes: VL_ERR_IO, no verdict", test_no_fds},
	   {"stand-ins: bad bytes, hang, linger, CPU, memory, crash, early exit, echo",
	    test_fakes},
	   {"the child's rlimits, environment and descriptors", test_child},
	   {"threads at once", test_threads})
