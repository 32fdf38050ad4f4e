/* tnef - the subject, body and attachments of an Outlook/Exchange TNEF stream (application/
 * ms-tnef, winmail.dat), read from memory in bounded work and handed to a callback, for the
 * indexer. Owns: the TNEF attribute walk ([MS-OXTNEF]), MAPI property lists, compressed RTF
 * ([MS-OXRTFCP]) and 8-bit and UTF-16 strings to UTF-8. Not: RTF to text (rtf_text), MIME
 * (mime_extract), words (fts). Pure: bytes in, parts out; no state, safe from several threads.
 * Why not libytnef (the library the brief named): see the comment at the top of tnef.c. */
#ifndef VL_TNEF_H
#define VL_TNEF_H

#include <stddef.h>
#include <stdint.h>

#include "vl_err.h"

#define TNEF_BYTES_MAX (64u << 20) /* bytes of TNEF read, and bytes handed over in all (the
				    * decompressed RTF counted at its declared size); as
				    * MIME_ATTACH_READ_MAX, the most one attachment is read */
#define TNEF_ATTACH_MAX 1000	   /* attachments in one stream (MIME_PARTS_MAX's order) */
#define TNEF_PROPS_MAX 10000	   /* MAPI properties in one list; Outlook writes ~100 */

enum tnef_part_kind {
	TNEF_SUBJECT,	  /* UTF-8 text */
	TNEF_BODY_TEXT,	  /* UTF-8 text: PR_BODY, else attBody */
	TNEF_BODY_HTML,	  /* UTF-8 HTML: PR_HTML / PR_BODY_HTML */
	TNEF_BODY_RTF,	  /* RTF bytes as written (\ansicpg says their code page) */
	TNEF_ATTACHMENT,  /* the attachment's bytes, as sent */
};

/* tnef_part flags. */
#define TNEF_PART_EMBEDDED 1u /* data is an embedded message: itself a TNEF stream (MAPI
			       * ATTACH_EMBEDDED_MSG); the caller may read it with tnef_parts,
			       * under its own depth bound */
#define TNEF_PART_OLE 2u      /* data is an OLE object (ATTACH_OLE): a compound file */

/* One part. Every pointer is borrowed: valid only during the callback. */
struct tnef_part {
	enum tnef_part_kind kind;
	unsigned flags;		  /* TNEF_PART_*, attachments only */
	const char *filename;	  /* UTF-8, NUL-free, or NULL: attachments only */
	const char *content_type; /* PR_ATTACH_MIME_TAG, UTF-8, or NULL: attachments only */
	const uint8_t *data;	  /* len bytes; text kinds are valid UTF-8 with no NUL */
	size_t len;
};

/* tnef_part_fn - gets each part in turn; a non-zero return stops the walk (tnef_parts then
 * returns VL_OK). */
typedef int (*tnef_part_fn)(void *arg, const struct tnef_part *part);

/* tnef_is - whether an attachment's labels say TNEF: content type application/ms-tnef or
 * application/vnd.ms-tnef (case-insensitive, parameters ignored), or the file name
 * winmail.dat (case-insensitive, any folder). Either may be NULL. */
int tnef_is(const char *content_type, const char *filename);

/* tnef_is_bytes - whether the len bytes at p start with the TNEF signature 0x223E9F78
 * (little-endian). */
int tnef_is_bytes(const uint8_t *p, size_t len);

/* tnef_parts - read the TNEF stream (len bytes at p) and hand fn, in this order, the subject,
 * the plain body, the HTML body, the RTF body (each when present and non-empty) and every
 * attachment in stream order (with no name, no type or no data when the stream has none).
 * Strings become UTF-8: PT_UNICODE from UTF-16LE (a lone surrogate becomes U+FFFD), 8-bit
 * strings from the message code page (PR_INTERNET_CPID, else PR_MESSAGE_CODEPAGE, else
 * attOemCodepage), else, or when iconv does not know it or the bytes do not fit it, as
 * Windows-1252 (its five unassigned bytes as ISO-8859-1). Strings end at their first NUL.
 * Compressed RTF is decompressed (its CRC is not checked: a wrong one only garbles text).
 * Returns VL_OK; VL_ERR_PARSE when p is not TNEF, or a damaged attribute or property list
 * stops the walk: the parts read before the damage are still handed over (the stream is
 * evidence: what is readable is indexed) and err (VL_ERRLEN, may be NULL) says what and at
 * which offset; VL_ERR_LIMIT when len is over TNEF_BYTES_MAX, or the stream has more than
 * TNEF_ATTACH_MAX attachments or TNEF_PROPS_MAX properties in a list, or its parts would
 * be over TNEF_BYTES_MAX: then nothing is handed over. Memory: the input is never copied
 * whole; held at once are the converted strings, one decompressed RTF and an array of
 * attachment records; all freed before it returns. */
enum vl_err tnef_parts(const uint8_t *p, size_t len, tnef_part_fn fn, void *arg,
		       char *err) VL_MUST_CHECK;

#endif
