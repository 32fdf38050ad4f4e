/* pdf_text - pdftotext through child_text: its arguments, the %PDF- check, what its exit
 * codes and messages mean. */
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "child_text.h"
#include "file_label.h"
#include "pdf_text.h"

/* pdftotext's arguments: UTF-8 text with \n line ends from the PDF on stdin to stdout; page
 * breaks stay as form feeds (child_text_clean makes them newlines). No -q: its stderr says why
 * it failed. */
static const char *const pdf_args[] = {"-enc", "UTF-8", "-eol", "unix", "-", "-", NULL};

int
pdf_is(const char *content_type, const char *filename)
{
	static const char *const types[] = {"application/pdf", "application/x-pdf"};
	static const char *const exts[] = {".pdf"};

	return file_label_type_in(content_type, types, 2) || file_label_ext_in(filename, exts, 1);
}

/* pdf_magic - whether "%PDF-" starts within the first PDF_MAGIC_SPAN of the len bytes at p. */
static int
pdf_magic(const uint8_t *p, size_t len)
{
	size_t span = len < PDF_MAGIC_SPAN + 4 ? len : PDF_MAGIC_SPAN + 4; /* last start + 5 */

	return p != NULL && memmem(p, span, "%PDF-", 5) != NULL;
}

int
pdf_is_bytes(const char *content_type, const char *filename, const uint8_t *p, size_t len)
{
	return pdf_is(content_type, filename) && pdf_magic(p, len);
}

/* pdf_verdict - what the end of pdftotext means; err says why on failure. */
static enum vl_err
pdf_verdict(const struct child_job *job, const struct child_result *r, char *err)
{
	struct child_end e;
	enum vl_err rc;

	if (child_text_ended(job, r, &e, &rc, err))
		return rc;
	if (e.sig == SIGABRT && child_text_said(r, "bad_alloc"))
		return vl_err_set(err, VL_ERR_LIMIT, "pdftotext ran out of its %zu MiB of memory",
				  job->as_bytes >> 20);
	if (e.sig != 0)
		return vl_err_set(err, VL_ERR_PARSE, "pdftotext died of signal %d: %s", e.sig,
				  e.why);
	if (e.code == 1 && child_text_said(r, "Incorrect password"))
		return vl_err_set(err, VL_ERR_CRYPTO, "the PDF needs a password: %s", e.why);
	if (e.code == 3)
		return vl_err_set(err, VL_ERR_CRYPTO, "the PDF forbids copying its text: %s", e.why);
	if (e.code != 0)
		return vl_err_set(err, VL_ERR_PARSE, "pdftotext exit %d: %s", e.code, e.why);
	return VL_OK;
}

enum vl_err
pdf_text_with(const struct pdf_limits *lim, const uint8_t *p, size_t len, struct buf *out,
	      size_t max, int *truncated, char *err)
{
	struct child_job job = {.prog = lim->prog, .name = "pdftotext",
				.package = "poppler-utils", .args = pdf_args,
				.wall_ms = lim->wall_ms, .cpu_s = lim->cpu_s,
				.as_bytes = lim->as_bytes};
	size_t raw_max = max < PDF_TEXT_MAX ? max : PDF_TEXT_MAX;
	struct child_result r;
	enum vl_err rc;

	*truncated = 0;
	if (len > PDF_INPUT_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "PDF of %zu bytes is over PDF_INPUT_MAX (%u)",
				  len, PDF_INPUT_MAX);
	/* A label is not a PDF: a process costs milliseconds, and pdftotext's verdict on such
	 * bytes ("Couldn't read xref table") would say less. */
	if (!pdf_magic(p, len))
		return vl_err_set(err, VL_ERR_PARSE, "not a PDF: no %%PDF- in its first %u bytes",
				  PDF_MAGIC_SPAN);
	rc = child_text_run(&job, p, len, raw_max, &r, err);
	if (rc == VL_OK)
		rc = pdf_verdict(&job, &r, err);
	if (rc == VL_OK)
		*truncated = child_text_clean(out, r.out.data, r.out.len, raw_max) || r.cut;
	child_result_free(&r);
	return rc;
}

enum vl_err
pdf_text(const uint8_t *p, size_t len, struct buf *out, size_t max, int *truncated, char *err)
{
	static const struct pdf_limits defaults = {PDF_PROG, PDF_WALL_MS, PDF_CPU_S, PDF_AS_BYTES};

	return pdf_text_with(&defaults, p, len, out, max, truncated, err);
}
