/* vl_err - the one error vocabulary every Vellum module returns.
 * Owns: the enum, its text, and how each error maps to an SMTP reply and an HTTP status.
 * Not: logging (log), or the human detail of one failure (callers pass a char err[VL_ERRLEN]). */
#ifndef VL_ERR_H
#define VL_ERR_H

#define VL_MUST_CHECK __attribute__((warn_unused_result))
#define VL_ERRLEN 256

enum vl_err {
	VL_OK = 0,
	VL_ERR_IO,	 /* a read, write or sync failed */
	VL_ERR_NOSPACE,	 /* the disk is full */
	VL_ERR_NOMEM,	 /* an allocation failed */
	VL_ERR_PARSE,	 /* input could not be understood */
	VL_ERR_DB,	 /* the database failed or is unreachable */
	VL_ERR_LIMIT,	 /* input exceeds a named bound */
	VL_ERR_CRYPTO,	 /* authentication of sealed data failed */
	VL_ERR_NOKEY,	 /* the key a record names is not in the keyring */
	VL_ERR_CORRUPT,	 /* stored data is damaged or does not match its index */
	VL_ERR_NOTFOUND, /* no such message, record or file */
	VL_ERR_EXISTS,	 /* already there */
	VL_ERR_CONFIG,	 /* bad configuration or usage */
	VL_ERR_BUSY,	 /* a lock is held elsewhere, or something is short just now: again later */
	VL_ERR_INTERNAL, /* a bug */
	VL_ERR__COUNT
};

/* vl_err_str - a short, fixed English text for err; never NULL. */
const char *vl_err_str(enum vl_err err);

/* vl_err_smtp - the SMTP reply code and enhanced status for err ("451", "4.3.0"): every
 * failure of ours is temporary so the sending MTA retries, except LIMIT (552 5.3.4). */
int vl_err_smtp(enum vl_err err, const char **enhanced);

/* vl_err_http - the HTTP status that err maps to. */
int vl_err_http(enum vl_err err);

/* vl_err_set - format a detail into err_out (VL_ERRLEN bytes, may be NULL) and return code. */
enum vl_err vl_err_set(char *err_out, enum vl_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
