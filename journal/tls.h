/* tls - the server side of TLS for the listeners: one OpenSSL context from the configured
 * certificate, and the self-signed certificate `vellum init` makes when none is configured.
 * Owns: context set-up (TLS 1.2+, server cipher preference) and a short description of a
 * finished handshake ("TLSv1.3 TLS_AES_256_GCM_SHA384") for the chain of custody. */
#ifndef VL_TLS_H
#define VL_TLS_H

#include <openssl/ssl.h>

#include "config.h"
#include "vl_err.h"

/* tls_paths - the certificate and key files cfg names (or the DATA/tls defaults). */
void tls_paths(const struct vl_config *cfg, char cert[CONFIG_PATH_MAX], char key[CONFIG_PATH_MAX]);

/* tls_make_self_signed - write a P-256 key (0600) and a 10-year self-signed certificate for
 * hostname at the default paths, unless they exist. */
enum vl_err tls_make_self_signed(const struct vl_config *cfg, char *err) VL_MUST_CHECK;

/* tls_server_ctx - a server context (caller SSL_CTX_free). VL_ERR_CONFIG if the files are
 * missing or do not match. */
enum vl_err tls_server_ctx(SSL_CTX **out, const struct vl_config *cfg, char *err) VL_MUST_CHECK;

/* tls_describe - "VERSION CIPHER" of an established connection into out. */
void tls_describe(SSL *ssl, char *out, size_t n);

#endif
