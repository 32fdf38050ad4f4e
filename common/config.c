/* config - Vellum's configuration: one declared table of keys, defaults, bounds and docs. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "fsutil.h"

#define CONFIG_FILE_MAX (1 << 20)

enum config_type { CT_STR, CT_INT };

/* One row per key, as Postfix's CONFIG_INT_TABLE: the table is the documentation. */
static const struct config_key {
	const char *name;
	enum config_type type;
	size_t off;
	size_t size; /* for strings: capacity of the field */
	const char *def;
	int64_t min, max;
	const char *doc;
} config_keys[] = {
#define STR(f, def, doc)                                                                           \
	{#f, CT_STR, offsetof(struct vl_config, f), sizeof(((struct vl_config *)0)->f), def, 0, 0, doc}
#define INT(f, def, lo, hi, doc) {#f, CT_INT, offsetof(struct vl_config, f), 0, def, lo, hi, doc}
	STR(database_url, "",
	    "PostgreSQL connection URL (postgresql://user@host/db). Empty: Vellum runs a private\n"
	    "cluster under DATA/pg on a Unix socket in DATA/run, started and stopped by itself."),
	STR(run_user, "vellum",
	    "When started as root, Vellum creates this system user if needed, gives it the data\n"
	    "folder, and runs as it (PostgreSQL refuses to run as root)."),
	STR(log_level, "info", "err, warn, info or debug."),
	INT(segment_max_mb, "256", 1, 4096,
	    "A store segment is sealed (hashed into the ledger, made immutable) at this size."),
	INT(zstd_level, "7", 1, 19,
	    "zstd level for sealed messages. 7 with the trained dictionary keeps the Enron corpus\n"
	    "under 35% of its raw size; lower is faster, higher is smaller."),
	INT(dict_train_messages, "1000", 0, 100000,
	    "Train a zstd dictionary on the archive's first N messages (0: never). Measured here:\n"
	    "it makes messages under 8 KB about 37% smaller."),
	INT(dict_max_kb, "256", 16, 1024,
	    "Size of the trained zstd dictionary. Measured on the Enron corpus: 256 KB makes the\n"
	    "messages 12% smaller than 110 KB; it is stored once."),
	INT(batch_max_messages, "256", 1, 100000,
	    "Group commit: at most this many messages share one fdatasync and one transaction."),
	INT(batch_max_ms, "5", 0, 1000,
	    "Group commit: a batch waits at most this long for more messages before it commits."),
	INT(message_max_mb, "150", 1, 2048,
	    "Largest message accepted (SMTP SIZE); larger ones get 552 5.3.4."),
	STR(smtp_listen, "127.0.0.1:2525",
	    "SMTP listeners: comma-separated host:port ([::1]:25 for IPv6); empty: none."),
	STR(lmtp_listen, "127.0.0.1:2424",
	    "LMTP listeners: comma-separated host:port or unix:/path/to/socket; empty: none."),
	STR(smtp_hostname, "localhost", "Name in the SMTP/LMTP greeting and EHLO reply."),
	STR(client_networks, "127.0.0.0/8, ::1/128",
	    "Who may send to the SMTP/LMTP listeners without AUTH: comma-separated CIDR networks\n"
	    "(empty: none). Others get 554 5.7.1 and are disconnected, unless smtp_auth is 1.\n"
	    "Unix-socket clients are always allowed."),
	INT(smtp_auth, "0", 0, 1,
	    "1: offer AUTH PLAIN and LOGIN after STARTTLS to the users of `vellum smtp-user`\n"
	    "(DATA/smtp-users, read again when it changes); clients outside client_networks may\n"
	    "then connect but get 530 5.7.0 until they authenticate. 0: no AUTH."),
	INT(smtp_auth_fail_max, "5", 1, 100000,
	    "Failed SMTP AUTHs allowed per client address per window; then 421 4.7.0 and close."),
	INT(smtp_auth_fail_window_s, "300", 1, 86400, "The window of smtp_auth_fail_max."),
	INT(smtp_xforward, "1", 0, 1,
	    "1: accept Postfix's XFORWARD from admitted clients and keep what it says about the\n"
	    "upstream client in each receipt, beside what Vellum saw itself. 0: refuse it (550)."),
	INT(max_connections, "2000", 1, 100000,
	    "SMTP/LMTP connections at once; one more gets 421 4.7.0 and is closed."),
	INT(command_timeout_s, "300", 1, 3600,
	    "Idle time allowed between commands (RFC 5321 4.5.3.2: at least 5 minutes)."),
	INT(data_timeout_s, "600", 1, 3600,
	    "Idle time allowed inside DATA/BDAT (RFC 5321 4.5.3.2: 3 minutes per block, 10 for\n"
	    "the final dot)."),
	STR(tls_cert, "",
	    "PEM certificate chain for STARTTLS (and HTTPS). Empty: DATA/tls/cert.pem, a\n"
	    "self-signed certificate that `vellum init` makes."),
	STR(tls_key, "", "PEM private key of tls_cert. Empty: DATA/tls/key.pem."),
	STR(http_listen, "127.0.0.1:8080",
	    "HTTP/JSON API listener (host:port, [v6]:port); empty: no API."),
	INT(http_tls, "0", 0, 1,
	    "1: the API speaks HTTPS only, with tls_cert/tls_key. 0: plain HTTP (keep the API on\n"
	    "loopback then, or behind a TLS proxy: bearer tokens cross the wire)."),
	INT(http_threads, "4", 1, 256,
	    "API worker threads; each holds one database connection while it answers."),
	INT(http_max_connections, "256", 1, 100000, "API connections at once."),
	INT(http_timeout_s, "30", 1, 3600, "An idle API connection is closed after this long."),
	INT(http_body_max_kb, "64", 1, 65536, "Largest API request body; larger ones get 413."),
	INT(http_auth_fail_max, "10", 1, 100000,
	    "Failed API authentications allowed per client address per window; then 429."),
	INT(http_auth_fail_window_s, "60", 1, 86400, "The window of http_auth_fail_max."),
#undef STR
#undef INT
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static enum vl_err
config_set(struct vl_config *cfg, const struct config_key *k, const char *val, char *err)
{
	char *field = (char *)cfg + k->off;

	if (k->type == CT_STR) {
		if (strlen(val) >= k->size)
			return vl_err_set(err, VL_ERR_CONFIG, "%s: value longer than %zu bytes",
					  k->name, k->size - 1);
		memcpy(field, val, strlen(val) + 1);
		return VL_OK;
	}
	char *end;
	errno = 0;
	long long v = strtoll(val, &end, 10);
	if (errno || end == val || *end || v < k->min || v > k->max)
		return vl_err_set(err, VL_ERR_CONFIG, "%s: '%s' is not a whole number from %lld to %lld",
				  k->name, val, (long long)k->min, (long long)k->max);
	memcpy(field, &(int64_t){v}, sizeof(int64_t));
	return VL_OK;
}

void
config_defaults(struct vl_config *cfg, const char *data_dir)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", data_dir);
	for (size_t i = 0; i < NKEYS; i++)
		if (config_set(cfg, &config_keys[i], config_keys[i].def, NULL) != VL_OK)
			abort(); /* a default outside its own bounds is a bug in the table */
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

enum vl_err
config_load(struct vl_config *cfg, const char *path, char *err)
{
	struct buf text = {0};
	enum vl_err rc;
	int lineno = 0;

	rc = fs_read_all(&text, path, CONFIG_FILE_MAX, err);
	if (rc == VL_ERR_NOTFOUND)
		return VL_OK;
	if (rc != VL_OK)
		goto out;
	for (char *line = (char *)text.data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		char *s = trim(line);
		if (*s == 0 || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			rc = vl_err_set(err, VL_ERR_CONFIG, "%s:%d: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		size_t i;
		for (i = 0; i < NKEYS; i++)
			if (strcmp(config_keys[i].name, key) == 0)
				break;
		if (i == NKEYS) {
			rc = vl_err_set(err, VL_ERR_CONFIG, "%s:%d: unknown key '%s'", path, lineno, key);
			goto out;
		}
		char detail[VL_ERRLEN];
		if ((rc = config_set(cfg, &config_keys[i], val, detail)) != VL_OK) {
			vl_err_set(err, rc, "%s:%d: %s", path, lineno, detail);
			goto out;
		}
	}
out:
	buf_free(&text);
	return rc;
}

enum vl_err
config_write_default(const char *path, char *err)
{
	struct buf b = {0};
	enum vl_err rc;

	buf_append_str(&b, "# Vellum configuration. Every key is listed with its default.\n"
			   "# Format: key = value; lines starting with # are comments.\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];

		buf_append_str(&b, "\n# ");
		for (const char *p = k->doc; *p; p++) {
			buf_append(&b, p, 1);
			if (*p == '\n')
				buf_append_str(&b, "# ");
		}
		if (k->type == CT_INT)
			buf_appendf(&b, " (%lld..%lld)", (long long)k->min, (long long)k->max);
		buf_appendf(&b, "\n%s = %s\n", k->name, k->def);
	}
	rc = fs_write_atomic(path, b.data, b.len, 0640, err);
	buf_free(&b);
	return rc;
}

void
config_path(char *out, const struct vl_config *cfg, const char *rel)
{
	snprintf(out, CONFIG_PATH_MAX, "%s/%s", cfg->data_dir, rel);
}
