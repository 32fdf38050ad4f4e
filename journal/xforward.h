/* xforward - Postfix's XFORWARD command (www.postfix.org/XFORWARD_README.html): what an
 * upstream relay says about the client it took the message from, kept as provenance beside
 * what Vellum itself saw (the relay's address, HELO and TLS).
 * Owns: checking one XFORWARD argument list, the attributes it sets for the next transaction
 * and their canonical text; xtext's "+HH" (RFC 3461 §4, also ORCPT's). Not: who may send it
 * or when (smtp_session). */
#ifndef VL_XFORWARD_H
#define VL_XFORWARD_H

#include <stddef.h>

#define XFORWARD_VALUE_MAX 255 /* one decoded attribute value, bytes (Postfix: a host name) */
#define XFORWARD_TEXT_MAX 2048 /* the canonical text (a receipt field: STORE_FIELD_MAX) */

/* The attributes, in the order of the EHLO keyword and the canonical text. */
enum xforward_attr { XF_NAME, XF_ADDR, XF_PORT, XF_PROTO, XF_HELO, XF_IDENT, XF_SOURCE, XF_N };

struct xforward {
	char *value[XF_N]; /* decoded; NULL when not sent or "[UNAVAILABLE]" */
};

/* The EHLO keyword line announcing the command. */
#define XFORWARD_EHLO "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE"

/* xforward_apply - apply "ATTR=value ..." (values xtext encoded, RFC 3461 §4) to xf, all or
 * nothing. Returns NULL, or the reply that refuses it ("501 5.5.4 ..."). Attribute names are
 * case-insensitive; "[UNAVAILABLE]" and "[TEMPUNAVAIL]" forget an attribute. ADDR must be an
 * IPv4 address or "IPv6:" and an IPv6 address, PORT 0-65535, SOURCE LOCAL or REMOTE, PROTO
 * letters; every value printable ASCII of at most XFORWARD_VALUE_MAX bytes, and the canonical
 * text of the result at most XFORWARD_TEXT_MAX. */
const char *xforward_apply(struct xforward *xf, const char *args);

/* xforward_text - "NAME=v ADDR=v ..." of the attributes set, in enum order, values xtext
 * encoded; NULL when none is set. The caller frees it. */
char *xforward_text(const struct xforward *xf);

/* xforward_clear - forget every attribute. */
void xforward_clear(struct xforward *xf);

/* xtext_hex_byte - the byte that xtext's "+HH" at v[i] stands for (v[0..len), v[i] == '+'), or
 * -1 when it is not '+' and two hex digits. */
int xtext_hex_byte(const char *v, size_t len, size_t i);

#endif
