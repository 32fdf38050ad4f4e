/* pdf_text - the text of a PDF, extracted by poppler's pdftotext in a child process with bounded
 * time, memory and output. Why a child (mailpiler's way): a PDF parser that crashes or hangs on
 * a hostile file takes only the child down, never the indexer.
 * Owns: telling a PDF attachment, pdftotext's arguments (the PDF on a pipe, never on disk: it
 * is decrypted evidence), what its exit codes and messages mean. Not: running the child and
 * cleaning its text (child_text), the MIME walk (mime_extract), words (fts). */
#ifndef VL_PDF_TEXT_H
#define VL_PDF_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

/* Where pdftotext is: found once, here, never through PATH or the environment. Debian 12's
 * poppler-utils (22.12) puts it there; a build may define another absolute path. */
#ifndef PDF_PROG
#define PDF_PROG "/usr/bin/pdftotext"
#endif
#define PDF_INPUT_MAX (64u << 20) /* bytes of PDF read; more is VL_ERR_LIMIT without a child */
#define PDF_WALL_MS 30000u	  /* wall-clock ms before the parent kills the child */
#define PDF_CPU_S 20u		  /* RLIMIT_CPU: CPU seconds of the child (SIGXCPU, then kill) */
#define PDF_AS_BYTES (512u << 20) /* RLIMIT_AS: address space of the child */
#define PDF_TEXT_MAX (64u << 20)  /* ceiling on max: raw output held before it is cleaned */
#define PDF_MAGIC_SPAN 1024u	  /* "%PDF-" starts within these bytes (Acrobat's rule) */

/* pdf_limits - what pdf_text_with runs and how far it lets it go (pdf_text: the defaults). */
struct pdf_limits {
	const char *prog;  /* absolute path of pdftotext */
	unsigned wall_ms;  /* PDF_WALL_MS */
	unsigned cpu_s;	   /* PDF_CPU_S */
	size_t as_bytes;   /* PDF_AS_BYTES */
};

/* pdf_is - whether an attachment's labels say PDF: content type application/pdf or
 * application/x-pdf (case-insensitive, parameters ignored), or any type (application/
 * octet-stream included) with a file name ending in ".pdf" (case-insensitive). Either may be
 * NULL. The labels only: a caller holding the bytes wants pdf_is_bytes. */
int pdf_is(const char *content_type, const char *filename);

/* pdf_is_bytes - pdf_is, and the len bytes at p hold "%PDF-" starting within their first
 * PDF_MAGIC_SPAN bytes (a label alone does not make a file a PDF). */
int pdf_is_bytes(const char *content_type, const char *filename, const uint8_t *p, size_t len);

/* pdf_text - append the text of the PDF (len bytes at p) to out, at most max bytes (at most
 * PDF_TEXT_MAX), cut between UTF-8 characters; *truncated is set when more text was there
 * (the child is killed once max is passed), else cleared. The text is valid UTF-8 without NUL
 * bytes: invalid bytes become U+FFFD, form feeds (page breaks) newlines, and other C0 controls
 * but \n and \t spaces. On any error out is left as it was and err (VL_ERRLEN, may be NULL)
 * says why. Errors: VL_ERR_CRYPTO when the PDF needs a password (poppler 22.12 exits 1 with
 * "Incorrect password", AES or RC4 alike; an owner password alone does not stop it: exit 0 and
 * the text), or when pdftotext exits 3 ("copying not permitted", only in builds that enforce
 * permissions, not Debian's); VL_ERR_PARSE when the bytes hold no "%PDF-" within their first
 * PDF_MAGIC_SPAN (nothing run: "not a PDF"), or pdftotext cannot read them or crashes (err holds
 * the last line of its stderr, printable ASCII: the first is often a mere warning such as "May
 * not be a PDF file (continuing anyway)", the last the fatal one); VL_ERR_LIMIT when len
 * is over PDF_INPUT_MAX (nothing run) or a time or memory bound stopped the child; VL_ERR_CONFIG
 * when pdftotext is not installed or cannot be run (err says so: install poppler-utils);
 * VL_ERR_IO when the run failed on this machine's side, not the PDF's: no pipe, process or
 * memory for the child now (EMFILE, ENFILE, EAGAIN, ENOMEM from pipe, fork or execve), or a
 * poll, read, write or wait that failed. VL_ERR_IO is no verdict on the PDF: the same bytes
 * may well be read later, and a caller must not record it as the file's.
 * Safe from several threads at once: it keeps no state, its pipes are close-on-exec and the
 * child closes every other descriptor; SIGPIPE is blocked in the calling thread while it writes
 * and a pending one taken back. The child is always reaped (waitpid on its pid only). */
enum vl_err pdf_text(const uint8_t *p, size_t len, struct buf *out, size_t max, int *truncated,
		     char *err) VL_MUST_CHECK;

/* pdf_text_with - pdf_text under the given limits (tests: a missing program, short bounds). */
enum vl_err pdf_text_with(const struct pdf_limits *lim, const uint8_t *p, size_t len,
			  struct buf *out, size_t max, int *truncated, char *err) VL_MUST_CHECK;

#endif
