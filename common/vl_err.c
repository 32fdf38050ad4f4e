/* vl_err - the one error vocabulary every Vellum module returns. */
#include <stdarg.h>
#include <stdio.h>

#include "vl_err.h"

/* One row per error, so temporary and permanent failures stay distinct (Postfix cleanup_strerror.c). */
static const struct {
	const char *text;
	int smtp;
	const char *enhanced;
	int http;
} err_table[VL_ERR__COUNT] = {
	[VL_OK] = {"success", 250, "2.0.0", 200},
	[VL_ERR_IO] = {"i/o error", 451, "4.3.0", 500},
	[VL_ERR_NOSPACE] = {"no space left on device", 452, "4.3.1", 507},
	[VL_ERR_NOMEM] = {"out of memory", 451, "4.3.0", 503},
	[VL_ERR_PARSE] = {"malformed input", 501, "5.5.4", 400},
	[VL_ERR_DB] = {"database unavailable", 451, "4.3.0", 503},
	[VL_ERR_LIMIT] = {"limit exceeded", 552, "5.3.4", 413},
	[VL_ERR_CRYPTO] = {"authentication of sealed data failed", 451, "4.3.0", 500},
	[VL_ERR_NOKEY] = {"key not available", 451, "4.3.0", 503},
	[VL_ERR_CORRUPT] = {"stored data is corrupt", 451, "4.3.0", 500},
	[VL_ERR_NOTFOUND] = {"not found", 550, "5.1.1", 404},
	[VL_ERR_EXISTS] = {"already exists", 250, "2.0.0", 409},
	[VL_ERR_CONFIG] = {"configuration error", 451, "4.3.5", 500},
	[VL_ERR_BUSY] = {"busy", 451, "4.3.2", 503},
	[VL_ERR_INTERNAL] = {"internal error", 451, "4.3.0", 500},
};

const char *
vl_err_str(enum vl_err err)
{
	if ((unsigned)err >= VL_ERR__COUNT)
		return "unknown error";
	return err_table[err].text;
}

int
vl_err_smtp(enum vl_err err, const char **enhanced)
{
	if ((unsigned)err >= VL_ERR__COUNT)
		err = VL_ERR_INTERNAL;
	if (enhanced)
		*enhanced = err_table[err].enhanced;
	return err_table[err].smtp;
}

int
vl_err_http(enum vl_err err)
{
	if ((unsigned)err >= VL_ERR__COUNT)
		err = VL_ERR_INTERNAL;
	return err_table[err].http;
}

enum vl_err
vl_err_set(char *err_out, enum vl_err code, const char *fmt, ...)
{
	va_list ap;

	if (err_out) {
		va_start(ap, fmt);
		vsnprintf(err_out, VL_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return code;
}
