/* journal_report - recognise a journal report and give back the true envelope and the original.
 * Owns: detection (REQUIREMENTS 1a order), the report text grammar (Sender/Subject/Message-ID,
 * To/Cc/Bcc/Recipient with Expanded/Forwarded, Exchange 2003 Recipients), exact byte ranges of
 * the attached message/rfc822 parts (the original and an IRM decrypted copy), and the recipient
 * hints of bcc-style journaling (1b, 1c).
 * Not: storing anything (archiver), SMTP (smtp_session), full MIME metadata (the indexer). */
#ifndef VL_JOURNAL_REPORT_H
#define VL_JOURNAL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define JOURNAL_HEADER_MAX (256 * 1024)	    /* bytes of any header block looked at */
#define JOURNAL_RCPT_MAX 10000		    /* recipients kept from one report or one hint list */
#define JOURNAL_TEXT_MAX (4 * 1024 * 1024) /* encoded size of the report text part */
#define JOURNAL_PARTS_MAX 256		    /* top-level MIME parts of a report */

/* Role strings. "Recipient:" (Exchange 2007+) and "Recipients:" (Exchange 2003) name an envelope
 * recipient whose addressing Exchange could not verify: REQUIREMENTS 1a says that yields
 * role=unknown and must never be taken for To, so both give JOURNAL_ROLE_UNKNOWN. */
#define JOURNAL_ROLE_TO "to"
#define JOURNAL_ROLE_CC "cc"
#define JOURNAL_ROLE_BCC "bcc"
#define JOURNAL_ROLE_UNKNOWN "unknown"

enum journal_kind { JOURNAL_PLAIN = 0, JOURNAL_EXCHANGE = 1, JOURNAL_EXCHANGE_2003 = 2 };

struct journal_rcpt {
	char *address;	      /* as the report wrote it, without <>; owned */
	char *role;	      /* one of the JOURNAL_ROLE_* strings; owned copy */
	char *expanded_from;  /* the distribution list it was expanded from, or NULL */
	char *forwarded_from; /* the address that forwarded (redirected) to it, or NULL */
};

struct journal_report {
	enum journal_kind kind;
	char *sender;	    /* "Sender:" of the report: the true MAIL FROM ("" for <>) */
	char *subject;	    /* as the report states it, in UTF-8 when its charset is known */
	char *message_id;   /* as the report states it, <> kept */
	char *on_behalf_of; /* Exchange 2007+ extended field "On-Behalf-Of:", or NULL */
	struct journal_rcpt *rcpts;
	size_t nrcpts;
	int rcpts_truncated; /* more than JOURNAL_RCPT_MAX recipient lines; the rest are dropped */
	/* The original's byte range inside raw when the part is stored unencoded (7bit, 8bit,
	 * binary, or no Content-Transfer-Encoding): from just after the part's header/body
	 * separator to just before the line break that starts the next boundary delimiter
	 * (RFC 2046 §5.1.1: that CRLF belongs to the delimiter). */
	size_t orig_off, orig_len;
	/* The original decoded, when its part was base64 or quoted-printable; else empty. */
	struct buf orig_decoded;
	/* The decrypted copy: Exchange Online with JournalReportDecryptionEnabled attaches the
	 * IRM-protected original and, as the second message/rfc822 part, a decrypted copy of it.
	 * Read like the original (copy_off/copy_len into raw, or copy_decoded); all empty when
	 * there is no second part or it could not be read. Only the first two message/rfc822
	 * parts count: Exchange attaches no more, and a third would be nobody's original. */
	size_t copy_off, copy_len;
	struct buf copy_decoded;
	/* Why a second message/rfc822 part was not given back (it is empty, decodes to nothing or
	 * has an unknown Content-Transfer-Encoding), for logs; NULL when there was none or it was
	 * read. A bad copy never costs the report or the original. */
	char *copy_problem;
	/* Looked like a report but could not be fully read: callers archive the wrapper as a
	 * plain message, flagged journal_parse_error (REQUIREMENTS 1a, step 4). */
	int parse_error;
	char *detail; /* what went wrong or was cut, for logs; NULL when nothing did */
};

/* journal_report_parse - classify the len bytes at raw and fill r (zeroed first; free it with
 * journal_report_free whatever is returned). Never fails on bad input: a message that is not a
 * report is JOURNAL_PLAIN with nothing else set; a report that cannot be fully read keeps its
 * kind and sets parse_error and detail, and then no original is given. Bounded work: each header
 * block is read up to JOURNAL_HEADER_MAX bytes, at most JOURNAL_PARTS_MAX top-level parts and
 * JOURNAL_RCPT_MAX recipients are kept, and a report text part over JOURNAL_TEXT_MAX is refused.
 * raw must outlive every use of orig_off/orig_len. Requires g_mime_init() to have been called
 * (Content-Type parameters are parsed by GMime; nothing of GMime's is kept in r).
 * Returns VL_OK, or VL_ERR_INTERNAL (with err) when r is NULL or raw is NULL with len > 0. */
enum vl_err journal_report_parse(struct journal_report *r, const uint8_t *raw, size_t len,
				 char *err) VL_MUST_CHECK;

/* journal_report_free - release everything r owns and zero it; NULL is a no-op. */
void journal_report_free(struct journal_report *r);

/* journal_original - the original's exact bytes: a pointer into raw (the same bytes given to
 * journal_report_parse) or into r->orig_decoded, both borrowed, and their length in *len_p.
 * NULL with *len_p = 0 for a plain message or a report with parse_error. */
const uint8_t *journal_original(const struct journal_report *r, const uint8_t *raw,
				size_t *len_p);

/* journal_decrypted_copy - the decrypted copy's exact bytes, like journal_original: a pointer
 * into raw or into r->copy_decoded (both borrowed) and their length in *len_p. NULL with
 * *len_p = 0 when the report has no readable second message/rfc822 part (see copy_problem),
 * for a plain message, and for a report with parse_error. */
const uint8_t *journal_decrypted_copy(const struct journal_report *r, const uint8_t *raw,
				      size_t *len_p);

/* journal_hints - the original recipients that bcc-style journaling leaves in the top header
 * block (read up to JOURNAL_HEADER_MAX bytes): every X-Original-To, Delivered-To (all
 * occurrences) and X-Gm-Original-To, in header order, <> and display names removed, exact
 * duplicates (ignoring ASCII case) dropped, at most JOURNAL_RCPT_MAX. *out is a newly allocated
 * array the caller frees with journal_hints_free(*out, *n); it is NULL when *n is 0.
 * Never fails on bad input; returns VL_OK, or VL_ERR_INTERNAL when an argument is NULL. */
enum vl_err journal_hints(char ***out, size_t *n, const uint8_t *raw, size_t len) VL_MUST_CHECK;

/* journal_hints_free - free an array returned by journal_hints; NULL is a no-op. */
void journal_hints_free(char **v, size_t n);

#endif
