/* listen - listening sockets from configuration, and who may connect.
 * Owns: parsing "host:port, [v6]:port, unix:/path" lists into bound, non-blocking sockets,
 * and matching a client address against the client_networks CIDR list. */
#ifndef VL_LISTEN_H
#define VL_LISTEN_H

#include <sys/socket.h>

#include "vl_err.h"

#define LISTEN_MAX 16
#define LISTEN_NETS_MAX 64

struct listener {
	int fd;
	int lmtp;
	int unix_socket;
	char name[128]; /* "smtp:127.0.0.1:2525" */
};

struct netmask {
	int family;
	unsigned char addr[16];
	int bits;
};

/* listen_open - bind every address in spec (may be empty) and append to ls (at most
 * LISTEN_MAX in all). */
enum vl_err listen_open(struct listener *ls, size_t *n, const char *spec, int lmtp, char *err)
	VL_MUST_CHECK;

/* listen_parse_networks - "127.0.0.0/8, ::1/128" into nets. */
enum vl_err listen_parse_networks(struct netmask *nets, size_t *n, const char *spec, char *err)
	VL_MUST_CHECK;

/* listen_allowed - whether sa falls in one of the nets (IPv4-mapped IPv6 counts as IPv4). */
int listen_allowed(const struct netmask *nets, size_t n, const struct sockaddr *sa);

/* listen_format - "addr" of sa into out. */
void listen_format(const struct sockaddr *sa, char *out, size_t len);

#endif
