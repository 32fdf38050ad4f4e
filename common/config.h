/* config - Vellum's configuration: one declared table of keys, defaults, bounds and docs.
 * Owns: reading DATA/vellum.conf ("key = value" lines, # comments), writing the documented
 * default file for `vellum init`, and the derived paths inside the data folder.
 * The struct is filled once at start-up and then treated as frozen (read-only). */
#ifndef VL_CONFIG_H
#define VL_CONFIG_H

#include <stdint.h>

#include "vl_err.h"

#define CONFIG_PATH_MAX 4096

struct vl_config {
	char data_dir[CONFIG_PATH_MAX]; /* absolute */
	char database_url[1024];	/* empty: the private cluster under data_dir/pg */
	char run_user[64];		/* unprivileged user when started as root */
	char log_level[16];
	int64_t segment_max_mb;
	int64_t zstd_level;
	int64_t dict_train_messages;
	int64_t dict_max_kb;
	int64_t batch_max_messages;
	int64_t batch_max_ms;
	int64_t message_max_mb;
	char smtp_listen[256];
	char lmtp_listen[256];
	char http_listen[256];
	char smtp_hostname[256];
	char client_networks[1024];
	int64_t smtp_auth;
	int64_t smtp_auth_fail_max;
	int64_t smtp_auth_fail_window_s;
	int64_t smtp_xforward;
	int64_t max_connections;
	int64_t command_timeout_s;
	int64_t data_timeout_s;
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	int64_t http_tls;
	int64_t http_threads;
	int64_t http_max_connections;
	int64_t http_timeout_s;
	int64_t http_body_max_kb;
	int64_t http_auth_fail_max;
	int64_t http_auth_fail_window_s;
};

/* config_defaults - fill cfg with every default and data_dir. */
void config_defaults(struct vl_config *cfg, const char *data_dir);

/* config_load - read path over the defaults already in cfg. A missing file is fine (defaults);
 * an unknown key, a malformed line or a value out of bounds is VL_ERR_CONFIG with detail. */
enum vl_err config_load(struct vl_config *cfg, const char *path, char *err) VL_MUST_CHECK;

/* config_write_default - write the documented default file to path (mode 0640), atomically. */
enum vl_err config_write_default(const char *path, char *err) VL_MUST_CHECK;

/* config_path - DATA_DIR/rel into out (CONFIG_PATH_MAX bytes). */
void config_path(char *out, const struct vl_config *cfg, const char *rel);

#endif
