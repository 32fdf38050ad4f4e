/* listen - listening sockets from configuration, and who may connect. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

#define LISTEN_BACKLOG 512

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return s;
}

static enum vl_err
listen_unix(struct listener *l, const char *path, char *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sun.sun_path))
		return vl_err_set(err, VL_ERR_CONFIG, "unix socket path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(path); /* a stale socket from a previous run */
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0660) != 0 || listen(l->fd, LISTEN_BACKLOG) != 0)
		return vl_err_set(err, VL_ERR_CONFIG, "listen on unix:%s: %s", path, strerror(errno));
	l->unix_socket = 1;
	return VL_OK;
}

static enum vl_err
listen_inet(struct listener *l, char *hostport, char *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	char *host = hostport, *port = strrchr(hostport, ':');
	int one = 1, rc;

	if (port == NULL)
		return vl_err_set(err, VL_ERR_CONFIG, "listener '%s': expected host:port", hostport);
	*port++ = 0;
	if (*host == '[') {
		host++;
		host[strcspn(host, "]")] = 0;
	}
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0)
		return vl_err_set(err, VL_ERR_CONFIG, "listener %s:%s: %s", host, port,
				  gai_strerror(rc));
	l->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd >= 0)
		setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->fd < 0 || bind(l->fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(l->fd, LISTEN_BACKLOG) != 0) {
		freeaddrinfo(res);
		return vl_err_set(err, VL_ERR_CONFIG, "listen on %s:%s: %s", host, port,
				  strerror(errno));
	}
	freeaddrinfo(res);
	return VL_OK;
}

enum vl_err
listen_open(struct listener *ls, size_t *n, const char *spec, int lmtp, char *err)
{
	char copy[1024], *save = NULL;
	enum vl_err rc;

	snprintf(copy, sizeof(copy), "%s", spec);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *a = trim(tok);
		struct listener *l = &ls[*n];

		if (*a == 0)
			continue;
		if (*n == LISTEN_MAX)
			return vl_err_set(err, VL_ERR_LIMIT, "more than %d listeners", LISTEN_MAX);
		memset(l, 0, sizeof(*l));
		l->lmtp = lmtp;
		snprintf(l->name, sizeof(l->name), "%s:%s", lmtp ? "lmtp" : "smtp", a);
		rc = strncmp(a, "unix:", 5) == 0 ? listen_unix(l, a + 5, err) : listen_inet(l, a, err);
		if (rc != VL_OK)
			return rc;
		(*n)++;
	}
	return VL_OK;
}

enum vl_err
listen_parse_networks(struct netmask *nets, size_t *n, const char *spec, char *err)
{
	char copy[1024], *save = NULL;

	*n = 0;
	snprintf(copy, sizeof(copy), "%s", spec);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *a = trim(tok), *slash = strchr(a, '/');
		struct netmask *m = &nets[*n];

		if (*a == 0)
			continue;
		if (*n == LISTEN_NETS_MAX)
			return vl_err_set(err, VL_ERR_LIMIT, "more than %d client networks",
					  LISTEN_NETS_MAX);
		if (slash)
			*slash++ = 0;
		memset(m, 0, sizeof(*m));
		if (inet_pton(AF_INET, a, m->addr) == 1)
			m->family = AF_INET;
		else if (inet_pton(AF_INET6, a, m->addr) == 1)
			m->family = AF_INET6;
		else
			return vl_err_set(err, VL_ERR_CONFIG, "client_networks: bad address '%s'", a);
		int max = m->family == AF_INET ? 32 : 128;
		m->bits = slash ? atoi(slash) : max;
		if (m->bits < 0 || m->bits > max)
			return vl_err_set(err, VL_ERR_CONFIG, "client_networks: bad prefix /%s", slash);
		(*n)++;
	}
	return VL_OK;
}

static int
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int
listen_allowed(const struct netmask *nets, size_t n, const struct sockaddr *sa)
{
	const unsigned char *a;
	int fam = sa->sa_family;
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (fam == AF_UNIX)
		return 1;
	if (fam == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (fam == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (memcmp(a, v4mapped, 12) == 0) {
			a += 12;
			fam = AF_INET;
		}
	} else {
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (nets[i].family == fam && prefix_match(a, nets[i].addr, nets[i].bits))
			return 1;
	return 0;
}

void
listen_format(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
			  (socklen_t)len);
	else
		snprintf(out, len, "unix");
}
