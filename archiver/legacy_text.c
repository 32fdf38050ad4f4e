/* legacy_text - catdoc, xls2csv and catppt through child_text: their arguments, the OLE2
 * check, what their exit codes and messages mean. */
#include <string.h>
#include <strings.h>

#include "child_text.h"
#include "legacy_text.h"
#include "ole2.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* MS-CFB 2.2: every compound file starts with these 8 bytes. */

/* Each kind's program, its name in messages, its arguments: UTF-8 out (-d utf-8), the input
 * on stdin (a memfd: see legacy_text.h). catdoc -w: a paragraph on one line, not wrapped at
 * 72 columns (a word cut by a wrap is not, but a line per paragraph is what the others give). */
static const char *const doc_args[] = {"-d", "utf-8", "-w", "-", NULL};
static const char *const xls_args[] = {"-d", "utf-8", "/dev/stdin", NULL};
static const char *const ppt_args[] = {"-d", "utf-8", "/dev/stdin", NULL};

static const struct {
	const char *name, *prog;
	const char *const *args;
} programs[] = {
	[LEGACY_DOC] = {"catdoc", LEGACY_DOC_PROG, doc_args},
	[LEGACY_XLS] = {"xls2csv", LEGACY_XLS_PROG, xls_args},
	[LEGACY_PPT] = {"catppt", LEGACY_PPT_PROG, ppt_args},
};

/* The labels of each kind: types (exact, lower-case), then file name suffixes. */
static const struct {
	enum legacy_kind kind;
	const char *label;
} types[] = {
	{LEGACY_DOC, "application/msword"},
	{LEGACY_XLS, "application/vnd.ms-excel"},
	{LEGACY_XLS, "application/x-msexcel"},
	{LEGACY_XLS, "application/x-excel"},
	{LEGACY_PPT, "application/vnd.ms-powerpoint"},
	{LEGACY_PPT, "application/mspowerpoint"},
}, suffixes[] = {
	{LEGACY_DOC, ".doc"}, {LEGACY_DOC, ".dot"}, {LEGACY_XLS, ".xls"}, {LEGACY_XLS, ".xlt"},
	{LEGACY_PPT, ".ppt"}, {LEGACY_PPT, ".pps"}, {LEGACY_PPT, ".pot"},
};

enum legacy_kind
legacy_kind_of(const char *content_type, const char *filename)
{
	size_t n = filename ? strlen(filename) : 0;

	for (size_t i = 0; content_type && i < NELEM(types); i++)
		if (strcmp(content_type, types[i].label) == 0)
			return types[i].kind;
	for (size_t i = 0; i < NELEM(suffixes); i++) {
		size_t k = strlen(suffixes[i].label);

		if (n > k && strcasecmp(filename + n - k, suffixes[i].label) == 0)
			return suffixes[i].kind;
	}
	return LEGACY_NONE;
}

/* legacy_check - refuse, before any child, what no program need see: too large, not OLE2, an
 * encrypted OOXML package in an OLE2 wrapper (ole2_encrypted_package; office_text tells the
 * same for .docx names), a password-protected PowerPoint file of kind k (ole2_ppt_encrypted:
 * catppt says nothing of it, and prints what it makes of the encrypted records). */
static enum vl_err
legacy_check(enum legacy_kind k, const uint8_t *p, size_t len, char *err)
{
	if (len > LEGACY_INPUT_MAX)
		return vl_err_set(err, VL_ERR_LIMIT,
				  "legacy Office file of %zu bytes is over LEGACY_INPUT_MAX (%u)", len,
				  LEGACY_INPUT_MAX);
	if (!ole2_is(p, len))
		return vl_err_set(err, VL_ERR_PARSE,
				  "not an OLE2 file: no D0 CF 11 E0 A1 B1 1A E1 at its start");
	if (ole2_encrypted_package(p, len))
		return vl_err_set(err, VL_ERR_CRYPTO,
				  "an OLE2 file with EncryptedPackage: a password-protected Office file");
	if (k == LEGACY_PPT && ole2_ppt_encrypted(p, len))
		return vl_err_set(err, VL_ERR_CRYPTO, "a PowerPoint file with an "
				  "EncryptedSummary stream: password-protected");
	return VL_OK;
}

/* legacy_verdict - what the end of the program means; err says why on failure. */
static enum vl_err
legacy_verdict(const struct child_job *job, const struct child_result *r, char *err)
{
	struct child_end e;
	enum vl_err rc;

	if (child_text_ended(job, r, &e, &rc, err))
		return rc;
	if (e.sig != 0)
		return vl_err_set(err, VL_ERR_PARSE, "%s died of signal %d: %s", job->name, e.sig,
				  e.why);
	/* catdoc 0.95: "[File is encrypted. Encryption key = ...]", and exit 0 (its 69 is lost);
	 * xls2csv: "File is encrypted", exit 69. On stderr: a document's text cannot forge it. */
	if (child_text_said(r, "File is encrypted"))
		return vl_err_set(err, VL_ERR_CRYPTO, "the file needs a password: %s", e.why);
	/* All three exit 0 on an OLE2 file they cannot open, saying only this. */
	if (child_text_said(r, "is not OLE file") || child_text_said(r, "Broken OLE"))
		return vl_err_set(err, VL_ERR_PARSE, "%s cannot read it: %s", job->name, e.why);
	if (e.code != 0)
		return vl_err_set(err, VL_ERR_PARSE, "%s exit %d: %s", job->name, e.code, e.why);
	return VL_OK;
}

enum vl_err
legacy_text_with(const struct legacy_limits *lim, enum legacy_kind k, const uint8_t *p,
		 size_t len, struct buf *out, size_t max, int *truncated, char *err)
{
	size_t raw_max = max < LEGACY_TEXT_MAX ? max : LEGACY_TEXT_MAX;
	struct child_job job;
	struct child_result r;
	enum vl_err rc;

	*truncated = 0;
	if (k != LEGACY_DOC && k != LEGACY_XLS && k != LEGACY_PPT)
		return vl_err_set(err, VL_ERR_INTERNAL, "legacy_text: no kind");
	if ((rc = legacy_check(k, p, len, err)) != VL_OK)
		return rc;
	job = (struct child_job){.prog = lim->prog, .name = programs[k].name, .package = "catdoc",
				 .args = programs[k].args, .flags = CHILD_IN_MEMFD,
				 .wall_ms = lim->wall_ms, .cpu_s = lim->cpu_s,
				 .as_bytes = lim->as_bytes};
	rc = child_text_run(&job, p, len, raw_max, &r, err);
	if (rc == VL_OK)
		rc = legacy_verdict(&job, &r, err);
	if (rc == VL_OK)
		*truncated = child_text_clean(out, r.out.data, r.out.len, raw_max) || r.cut;
	child_result_free(&r);
	return rc;
}

enum vl_err
legacy_text(enum legacy_kind k, const uint8_t *p, size_t len, struct buf *out, size_t max,
	    int *truncated, char *err)
{
	struct legacy_limits lim = {NULL, LEGACY_WALL_MS, LEGACY_CPU_S, LEGACY_AS_BYTES};

	if (k == LEGACY_DOC || k == LEGACY_XLS || k == LEGACY_PPT)
		lim.prog = programs[k].prog;
	return legacy_text_with(&lim, k, p, len, out, max, truncated, err);
}
