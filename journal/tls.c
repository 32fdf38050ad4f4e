/* tls - the server side of TLS for the listeners. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "tls.h"

void
tls_paths(const struct vl_config *cfg, char cert[CONFIG_PATH_MAX], char key[CONFIG_PATH_MAX])
{
	if (cfg->tls_cert[0])
		snprintf(cert, CONFIG_PATH_MAX, "%s", cfg->tls_cert);
	else
		config_path(cert, cfg, "tls/cert.pem");
	if (cfg->tls_key[0])
		snprintf(key, CONFIG_PATH_MAX, "%s", cfg->tls_key);
	else
		config_path(key, cfg, "tls/key.pem");
}

static enum vl_err
ssl_err(char *err, const char *what)
{
	char e[160];

	ERR_error_string_n(ERR_get_error(), e, sizeof(e));
	return vl_err_set(err, VL_ERR_CONFIG, "%s: %s", what, e);
}

enum vl_err
tls_make_self_signed(const struct vl_config *cfg, char *err)
{
	char cert[CONFIG_PATH_MAX], key[CONFIG_PATH_MAX], dir[CONFIG_PATH_MAX];
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	FILE *f = NULL;
	enum vl_err rc = VL_OK;

	tls_paths(cfg, cert, key);
	if (cfg->tls_cert[0] || access(cert, F_OK) == 0)
		return VL_OK;
	config_path(dir, cfg, "tls");
	if ((rc = fs_mkdir_p(dir, 0750, err)) != VL_OK)
		return rc;
	if ((pk = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL) {
		rc = ssl_err(err, "generate TLS key");
		goto out;
	}
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cfg->smtp_hostname, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_sign(x, pk, EVP_sha256())) {
		rc = ssl_err(err, "sign TLS certificate");
		goto out;
	}
	/* The key first, created 0600 so it is never readable by others, even briefly. */
	mode_t old = umask(077);
	f = fopen(key, "wx");
	umask(old);
	if (f == NULL || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0) {
		f = NULL;
		rc = vl_err_set(err, VL_ERR_IO, "write %s", key);
		goto out;
	}
	f = fopen(cert, "wx");
	if (f == NULL || !PEM_write_X509(f, x) || fclose(f) != 0) {
		f = NULL;
		rc = vl_err_set(err, VL_ERR_IO, "write %s", cert);
		goto out;
	}
	f = NULL;
out:
	if (f)
		fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}

enum vl_err
tls_server_ctx(SSL_CTX **out, const struct vl_config *cfg, char *err)
{
	char cert[CONFIG_PATH_MAX], key[CONFIG_PATH_MAX];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	*out = NULL;
	tls_paths(cfg, cert, key);
	if (ctx == NULL)
		return ssl_err(err, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		enum vl_err rc = ssl_err(err, cert);

		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return VL_OK;
}

void
tls_describe(SSL *ssl, char *out, size_t n)
{
	snprintf(out, n, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}
