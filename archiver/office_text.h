/* office_text - the text of an Office Open XML (.docx .xlsx .pptx) or OpenDocument (.odt .ods
 * .odp) file, read with libzip in bounded work.
 * Owns: which ZIP entries of each kind hold its text, which of their elements are text, the bounds.
 * Not: reading the XML (xml_text), MIME (mime_extract), words and the tsvector (fts), the legacy
 * binary .doc .xls .ppt.
 * Pure: bytes in, UTF-8 text out. */
#ifndef VL_OFFICE_TEXT_H
#define VL_OFFICE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define OFFICE_ENTRIES_MAX 10000	/* entries in the ZIP; more is VL_ERR_LIMIT, nothing read */
#define OFFICE_ENTRY_MAX (64u << 20)	/* decompressed bytes read of one entry; the rest is cut */
#define OFFICE_TOTAL_MAX (256u << 20)	/* decompressed bytes read of one file, all entries */
#define OFFICE_MANIFEST_MAX (1u << 20)	/* bytes of an ODF META-INF/manifest.xml looked at */

enum office_kind { OFFICE_NONE = 0, OFFICE_DOCX, OFFICE_XLSX, OFFICE_PPTX, OFFICE_ODF };

/* office_kind_of - which kind an attachment is, from its lower-case content type
 * ("type/subtype") and its file name (may be NULL): the OOXML/ODF MIME types, or
 * application/octet-stream / application/zip / anything with a .docx/.docm/.xlsx/.xlsm/.pptx/
 * .pptm/.odt/.ods/.odp extension (case-insensitive). OFFICE_NONE otherwise. A specific office
 * type wins over the extension. */
enum office_kind office_kind_of(const char *content_type, const char *filename);

/* office_text - append the text of the file (len bytes at p) to out, at most max bytes (cut
 * between UTF-8 characters; *truncated set when more text was there, only for max: the bounds
 * of the reading itself are told apart by VL_ERR_LIMIT).
 * Read: DOCX word/document.xml, footnotes, endnotes, header<N>, footer<N>, comments (deleted
 * text of tracked changes too: it is in the file that was sent; not field codes); XLSX
 * xl/sharedStrings.xml and xl/worksheets/sheet<N>.xml (inline strings and values, not the
 * indexes of shared strings, not formulas); PPTX ppt/slides/slide<N>.xml then
 * ppt/notesSlides/notesSlide<N>.xml, by N; ODF content.xml. Paragraphs, rows and slides end in
 * a line break, cells and tabs in white space. Never attribute values. A part is UTF-8, or
 * UTF-16 after a BOM (OPC allows both); one in another encoding is read as UTF-8.
 * Returns VL_OK; VL_ERR_CRYPTO when the file is encrypted (an OLE2 container holding
 * EncryptionInfo and EncryptedPackage, a ZIP entry it needs is encrypted, or an ODF manifest
 * lists encryption-data); VL_ERR_PARSE when it is not a readable ZIP of that kind, or is any
 * other OLE2 file (a legacy format); VL_ERR_LIMIT when there are more than OFFICE_ENTRIES_MAX
 * entries; VL_ERR_INTERNAL for OFFICE_NONE. err (may be NULL) says why, naming the entry. On
 * those errors out is as it was. The text is incomplete, yet out keeps what was read (maybe
 * none; the reading goes on to the other entries) and *truncated is set as on VL_OK, with
 * VL_ERR_LIMIT when OFFICE_ENTRY_MAX or OFFICE_TOTAL_MAX cut an entry or left one unread (err
 * names the bound), or VL_ERR_PARSE when an entry ended inside markup or inside an element
 * whose text is skipped (mc:Fallback), which hid what followed. The first such verdict is
 * returned, unless a later error of the kinds above. Text written is valid UTF-8, no
 * NUL bytes. Memory used: the ZIP's central directory (libzip reads it at open), a 64 KiB read
 * buffer, OFFICE_MANIFEST_MAX and max; never an entry whole. No shared state: safe from
 * several threads at once. */
enum vl_err office_text(enum office_kind k, const uint8_t *p, size_t len, struct buf *out,
			size_t max, int *truncated, char *err) VL_MUST_CHECK;

#endif
