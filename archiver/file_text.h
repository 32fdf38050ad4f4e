/* file_text - the text of one attached file, from its decoded bytes: which reader the file's
 * labels name (file_kind_of), and that reader run on its bytes (file_text): Office Open XML and
 * OpenDocument (office_text), PDF (pdf_text, a process), legacy binary Office .doc .xls .ppt
 * (legacy_text, a process), RTF (rtf_text), Outlook's TNEF
 * winmail.dat (tnef: its subject, bodies and the files inside it, each read again here, down
 * to FILE_TNEF_DEPTH embedded messages), and plain text and HTML of no known charset (the
 * files inside a TNEF stream: text_conv, html_text).
 * Owns: the choice of reader, the bounds on what one file's readers do.
 * Not: MIME (mime_extract hands over decoded bytes, reads text parts with their charset itself
 * and turns a verdict into an index exception), words (fts). */
#ifndef VL_FILE_TEXT_H
#define VL_FILE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define FILE_TNEF_DEPTH 3	 /* messages embedded in a TNEF stream read into (Outlook
				  * nests a forwarded message in the one forwarding it) */
#define FILE_TNEF_READERS_MAX 16 /* Office, PDF, legacy and RTF files inside one TNEF stream read
				  * (a PDF is a process of up to 30 s): as MIME_ATTACH_READERS_MAX */

/* What reads a file's text, if anything does. */
enum file_kind {
	FILE_NONE,   /* no reader: images, archives, binaries */
	FILE_PLAIN,  /* text of the type's charset (a MIME part), else UTF-8 or Windows-1252 */
	FILE_HTML,   /* HTML, as plain */
	FILE_OFFICE, /* office_text */
	FILE_PDF,    /* pdf_text: a process */
	FILE_LEGACY, /* legacy_text (.doc .xls .ppt): a process */
	FILE_RTF,    /* rtf_text */
	FILE_TNEF,   /* tnef, then this module again for what it holds */
};

/* file_text flags. */
#define FILE_NO_PROCESS 1u /* no reader that is a process: a PDF or a legacy Office file gives
			    * no text and no verdict */

/* file_kind_runs_process - whether kind k's reader is a process (pdftotext, catdoc): what
 * FILE_NO_PROCESS leaves out, and snippets never read. */
int file_kind_runs_process(enum file_kind k);

/* file_kind_of - which reader a file takes, by its content type (lower-case, no parameters;
 * may be NULL) and file name (may be NULL). A specific type wins over the name (an
 * application/pdf named .docx is a PDF to its sender's mailer, an image named .pdf an image):
 * PDF, Office, OpenDocument, legacy Office, RTF and TNEF by type; the name only for a generic type
 * (application/octet-stream and its kin, a ZIP type for Office names) or when untyped (no
 * Content-Type: GMime reads it as text/plain); then text/... by type (not rich or enriched
 * text). */
enum file_kind file_kind_of(const char *content_type, const char *filename, int untyped);

/* One file: its kind (file_kind_of) and labels, and its decoded bytes (borrowed). */
struct file_ref {
	enum file_kind kind;
	const char *content_type, *filename; /* may be NULL */
	const uint8_t *p;
	size_t len;
};

/* One file inside a TNEF stream whose text file_text did not read (all borrowed: valid only
 * during the call). */
struct file_unread {
	const char *place;	  /* which file of the stream, from 1 in stream order: "2"; "2.1"
				   * is the first file of the message embedded as the second */
	const char *filename;	  /* UTF-8, or NULL when it has none */
	const char *content_type; /* its MIME tag, lower-case, no parameters; NULL when none */
	enum vl_err rc;		  /* its reader's verdict, as file_text's below; VL_OK: it has no
				   * reader (an image, an archive, an OLE object) */
	const char *why;	  /* what the reader said; "" for VL_OK */
};

/* file_unread_fn - gets each file inside a TNEF stream that was not read, in stream order. */
typedef void (*file_unread_fn)(void *arg, const struct file_unread *u);

/* file_text - append to out the text of file f (FILE_PLAIN and FILE_HTML read as UTF-8 where
 * valid, else Windows-1252), at most max bytes of it, ending on a whole character; *truncated
 * set when more was there. A TNEF stream gives its subject, its first body (plain text, else
 * HTML, else RTF), and then the name and text of each file inside it, each read by its kind
 * here; *readers (NULL: FILE_TNEF_READERS_MAX) is how many Office, PDF, legacy and RTF files
 * inside it may still be read, and is lowered by those read, so that a message's bound on
 * readers (MIME_ATTACH_READERS_MAX) holds inside its TNEF attachments too. Returns VL_OK; the
 * reader's verdict otherwise, with err (VL_ERRLEN) saying why and the text read before it kept
 * in out: VL_ERR_CRYPTO (password-protected), VL_ERR_PARSE (damaged; not of its kind),
 * VL_ERR_LIMIT (a reader's bound), VL_ERR_CONFIG (the reader is not installed), VL_ERR_IO or
 * VL_ERR_NOMEM (no process, pipe or memory just now: read it again later). A TNEF stream's
 * verdict is its own (damaged, its RTF body unreadable, embedded past FILE_TNEF_DEPTH): each
 * file inside it that has no reader (its name only is in the text), or whose reader gave a
 * verdict, or that no reader was left for (VL_ERR_LIMIT), is handed to unread with arg
 * instead (unread may be NULL: not told), and the others are read on. VL_ERR_IO and
 * VL_ERR_NOMEM inside it are no verdict on a file: they stop the walk at once and are
 * returned, winning over the stream's own verdict, and the caller drops what unread was told
 * (it reads the file again later). With FILE_NO_PROCESS a PDF or legacy file inside it is
 * passed over untold. */
enum vl_err file_text(const struct file_ref *f, unsigned flags, int *readers,
		      file_unread_fn unread, void *arg, struct buf *out, size_t max,
		      int *truncated, char *err) VL_MUST_CHECK;

#endif
