/* smtp_args - the grammar of SMTP command arguments, free of session state: reverse and
 * forward paths (RFC 5321 §4.1.2), ESMTP parameter lists, decimal numbers, the ORCPT
 * parameter's xtext and utf-8 address forms (RFC 3461, RFC 6533), and the base64 of SASL
 * responses (RFC 4954 §4). smtp_session applies them. */
#ifndef VL_SMTP_ARGS_H
#define VL_SMTP_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* smtp_word_eq - p[0..len) is word, ignoring case. */
int smtp_word_eq(const char *p, size_t len, const char *word);

/* smtp_strndup - p[0..n) as a newly allocated string. */
char *smtp_strndup(const char *p, size_t n);

/* smtp_parse_u64 - all of p[0..len) as a decimal number; 0 on overflow or anything else. */
int smtp_parse_u64(const char *p, size_t len, uint64_t *out);

/* smtp_parse_path - the mailbox of the "<...>" at *pp (after "FROM:" or "TO:"), newly
 * allocated, a source route stripped, with *pp moved past the ">"; "" for "<>" when
 * allow_null. NULL on a syntax error or a path longer than SMTP_PATH_MAX. */
char *smtp_parse_path(const char **pp, int allow_null);

/* smtp_next_param - the next "KEY[=VALUE]" of a parameter list: key, klen and val, vlen
 * (NULL when there is no "="), with *pp moved past it. Returns 0 at the end. */
int smtp_next_param(const char **pp, const char **key, size_t *klen, const char **val,
		    size_t *vlen);

/* smtp_decode_orcpt - ORCPT=addr-type;value to a newly allocated string: "rfc822" values
 * are xtext, "utf-8" values carry "\x{HEX}" escapes, other types are kept as sent. NULL when
 * the value is malformed or would contain a NUL. */
char *smtp_decode_orcpt(const char *v, size_t len);

/* smtp_decode_sasl - a SASL response (RFC 4954 §4: base64, "=" for an empty one) as newly
 * allocated bytes, *len of them, NUL-terminated past *len; NULL when it is not base64. The
 * bytes may be a password: the caller wipes them (sodium_memzero, *len + 1) before free. */
uint8_t *smtp_decode_sasl(const char *b64, size_t *len);

#endif
