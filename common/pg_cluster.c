/* pg_cluster - the private PostgreSQL cluster under the data folder.
 *
 * Layout: DATA/pg is the cluster (initdb'd into DATA/pg.new, then renamed, so a half-made
 * cluster never sits at the real name). DATA/run (0700) holds the only socket, the server log
 * postgresql.log (pg_ctl's and initdb's own output goes there too), and four small files:
 *   cluster.lock     exclusive flock around initdb, start and stop;
 *   cluster.users    a shared flock per process using the cluster (pg_cluster_acquire);
 *   cluster.pinned   the cluster was started by `vellum db start`: release never stops it;
 *   cluster.ondemand the cluster was started by pg_cluster_acquire: the last user stops it.
 * Lock order: cluster.lock, then cluster.users. Acquirers take their shared users lock while
 * holding cluster.lock, and a releaser tests for other users only while holding it, so a
 * cluster is never stopped between another process's "it is running" and its shared lock. */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <glob.h>
#include <libpq-fe.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "pg_cluster.h"

#define PG_WAIT_SECONDS "300" /* pg_ctl -t: crash recovery of a big archive can be slow */
#define PG_LOG_TAIL 2048      /* bytes of new log output searched for the error's detail */
#define PG_SOCKET_NAME "/run/.s.PGSQL.5432"

/* Tuning for an archive on a small (2-core) box, appended to postgresql.conf at initdb so an
 * administrator can still change it. Durability settings are spelled out on purpose: a 250
 * means committed, so fsync and synchronous_commit must stay on. */
static const char pg_tuning[] =
    "\n# Added by vellum at initdb: an archive on a small (2-core) box. Edit freely, except\n"
    "# that fsync and synchronous_commit must stay on (a 250 reply means committed).\n"
    "# listen_addresses, unix_socket_directories and port are set by vellum at start.\n"
    "shared_buffers = 256MB\n"
    "max_connections = 50\n"
    "fsync = on\n"
    "synchronous_commit = on\n"
    "full_page_writes = on\n"
    "wal_compression = on\n"
    "checkpoint_timeout = 15min\n"
    "max_wal_size = 2GB\n";

/* Where PostgreSQL's binaries live: Debian's layout, then the PGDG RPM one. */
static const char *const pg_bin_globs[] = {"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", NULL};

struct pg_paths {
	char data[CONFIG_PATH_MAX];
	char pg[CONFIG_PATH_MAX];
	char pg_new[CONFIG_PATH_MAX];
	char run[CONFIG_PATH_MAX];
	char log[CONFIG_PATH_MAX];
	char lock[CONFIG_PATH_MAX];
	char users[CONFIG_PATH_MAX];
	char pinned[CONFIG_PATH_MAX];
	char ondemand[CONFIG_PATH_MAX];
	char bindir[CONFIG_PATH_MAX]; /* resolved on first need */
};

struct pg_use {
	struct pg_paths p;
	int users_fd; /* holds the shared flock on cluster.users */
	int started;  /* this process started the cluster on demand (for the log) */
};

/* ---- paths and checks ---- */

/* The data folder's path reaches a shell (pg_ctl runs the server through "sh -c", with -D and
 * -l in double quotes and -o as given) and a GUC list (unix_socket_directories): allow nothing
 * either could interpret. */
static int
path_is_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || strchr("\"'`$\\,", *s))
			return 0;
	return 1;
}

static enum vl_err
paths_init(struct pg_paths *p, const struct vl_config *cfg, char *err)
{
	const char *d = cfg->data_dir;

	memset(p, 0, sizeof(*p));
	if (geteuid() == 0)
		return vl_err_set(
		    err, VL_ERR_CONFIG,
		    "refusing to run PostgreSQL as root (privileges were not dropped)");
	if (d[0] != '/')
		return vl_err_set(err, VL_ERR_CONFIG, "data_dir must be absolute: %s", d);
	if (!path_is_safe(d))
		return vl_err_set(
		    err, VL_ERR_CONFIG,
		    "data_dir %s: the embedded cluster cannot use a path with quotes, "
		    "'$', '\\', ',' or control characters",
		    d);
	/* The kernel bounds a socket's path (sun_path, 108 bytes with the NUL). */
	if (strlen(d) + strlen(PG_SOCKET_NAME) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return vl_err_set(
		    err, VL_ERR_CONFIG,
		    "data_dir is too long for the cluster's Unix socket (at most %zu "
		    "bytes): %s",
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1 - strlen(PG_SOCKET_NAME), d);
	/* Short enough for the socket, so none of these can be truncated. */
	snprintf(p->data, sizeof(p->data), "%s", d);
	config_path(p->pg, cfg, "pg");
	config_path(p->pg_new, cfg, "pg.new");
	config_path(p->run, cfg, "run");
	config_path(p->log, cfg, "run/postgresql.log");
	config_path(p->lock, cfg, "run/cluster.lock");
	config_path(p->users, cfg, "run/cluster.users");
	config_path(p->pinned, cfg, "run/cluster.pinned");
	config_path(p->ondemand, cfg, "run/cluster.ondemand");
	return VL_OK;
}

/* parse_version - "15" or "9.6" (the first digits in s) as major*100 + minor; -1 when none. */
static int
parse_version(const char *s)
{
	char *end;
	long major, minor = 0;

	while (*s && (*s < '0' || *s > '9'))
		s++;
	if (*s == 0)
		return -1;
	major = strtol(s, &end, 10);
	if (*end == '.')
		minor = strtol(end + 1, NULL, 10);
	if (major < 0 || major > 1000 || minor < 0 || minor > 99)
		return -1;
	return (int)(major * 100 + minor);
}

/* The major version that created pgdir (its PG_VERSION file), or -1 when there is none. */
static int
cluster_version(const char *pgdir)
{
	char path[CONFIG_PATH_MAX + 16], line[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/PG_VERSION", pgdir);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = 0;
	fclose(f);
	return parse_version(line);
}

/* find_bindir - a cluster can only be run by the major version that created it; a new cluster
 * gets the newest installed. Found at run time, so an upgrade of the packages needs no rebuild. */
static enum vl_err
find_bindir(const char *pgdir, char *out, size_t n, char *err)
{
	int want = cluster_version(pgdir), best = -1, newest = -1;

	for (const char *const *pat = pg_bin_globs; *pat; pat++) {
		glob_t g;

		if (glob(*pat, 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char ctl[CONFIG_PATH_MAX];
			int v = parse_version(g.gl_pathv[i]);

			snprintf(ctl, sizeof(ctl), "%s/pg_ctl", g.gl_pathv[i]);
			if (v < 0 || access(ctl, X_OK) != 0)
				continue;
			newest = v > newest ? v : newest;
			if ((want < 0 && v > best) || v == want) {
				best = v;
				snprintf(out, n, "%s", g.gl_pathv[i]);
			}
		}
		globfree(&g);
	}
	if (best >= 0 && (want < 0 || best == want))
		return VL_OK;
	if (want >= 0 && newest >= 0)
		return vl_err_set(
		    err, VL_ERR_NOTFOUND,
		    "%s was made by PostgreSQL %d, which is not installed (newest: %d); "
		    "install it, or upgrade the cluster with pg_upgrade",
		    pgdir, want / 100, newest / 100);
	return vl_err_set(
	    err, VL_ERR_NOTFOUND,
	    "no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin "
	    "and /usr/pgsql-*/bin)");
}

static enum vl_err
need_bindir(struct pg_paths *p, char *err)
{
	if (p->bindir[0])
		return VL_OK;
	return find_bindir(p->pg, p->bindir, sizeof(p->bindir), err);
}

/* DATA/run: ours alone (0700), a real directory, never a symbolic link someone planted. */
static enum vl_err
ensure_run_dir(const struct pg_paths *p, char *err)
{
	struct stat st;
	enum vl_err rc;

	if ((rc = fs_mkdir_p(p->data, 0750, err)) != VL_OK)
		return rc;
	if (mkdir(p->run, 0700) != 0 && errno != EEXIST)
		return vl_err_set(err, VL_ERR_IO, "mkdir %s: %s", p->run, strerror(errno));
	if (lstat(p->run, &st) != 0)
		return vl_err_set(err, VL_ERR_IO, "stat %s: %s", p->run, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return vl_err_set(err, VL_ERR_CONFIG, "%s is not a directory owned by uid %d",
				  p->run, (int)geteuid());
	if ((st.st_mode & 07777) != 0700 && chmod(p->run, 0700) != 0)
		return vl_err_set(err, VL_ERR_IO, "chmod %s: %s", p->run, strerror(errno));
	return VL_OK;
}

static int
file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static enum vl_err
marker_set(const char *path, char *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return vl_err_set(err, VL_ERR_IO, "create %s: %s", path, strerror(errno));
	close(fd);
	return VL_OK;
}

static void
marker_clear(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("unlink %s", path);
}

/* ---- running PostgreSQL's programs ---- */

/* pg_ctl's own chatter around the server's lines: it says nothing the error does not. */
static const char *const pg_ctl_noise[] = {"waiting for server to",
					   "stopped waiting",
					   "pg_ctl: could not start server",
					   "Examine the log output",
					   "server started",
					   "server stopped",
					   NULL};

/* tail_line - append one log line to b, shortened: no timestamp-and-pid prefix
 * ("2024-01-01 00:00:00.000 UTC [123] "), no pg_ctl chatter, single spaces. */
static void
tail_line(struct buf *b, const char *line, size_t len)
{
	const char *close;
	size_t start = b->len;

	/* "waiting for server to start....2024-..." carries a server line after its dots. */
	if (len > 20 && memcmp(line, "waiting for server", 18) == 0) {
		while (len > 0 && (*line < '0' || *line > '9')) {
			line++;
			len--;
		}
	}
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	for (const char *const *noise = pg_ctl_noise; *noise; noise++) {
		size_t nl = strlen(*noise);

		if (len >= nl && memcmp(line, *noise, nl) == 0)
			return;
	}
	if (len == 0)
		return;
	if (*line >= '0' && *line <= '9' && (close = memchr(line, ']', len < 64 ? len : 64)) &&
	    (size_t)(close - line) + 2 <= len) {
		len -= (size_t)(close - line) + 2;
		line = close + 2;
	}
	if (b->len > 0)
		buf_append_str(b, " | ");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		if (ch == ' ' && b->len > start && b->data[b->len - 1] == ' ')
			continue;
		buf_append(b, &ch, 1);
	}
}

/* log_tail - what was appended to path since offset from, on one line, into out (n bytes):
 * lines joined by " | ", and only their end when they do not fit (the error comes last). */
static void
log_tail(const char *path, off_t from, char *out, size_t n)
{
	char chunk[PG_LOG_TAIL + 1];
	struct buf b = {0};
	off_t end, start;
	ssize_t r;
	int fd;

	out[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	start = end - PG_LOG_TAIL > from ? end - PG_LOG_TAIL : from;
	r = end > start ? pread(fd, chunk, (size_t)(end - start), start) : 0;
	close(fd);
	if (r <= 0)
		return;
	for (ssize_t i = 0, j; i < r; i = j + 1) {
		for (j = i; j < r && chunk[j] != '\n'; j++)
			;
		tail_line(&b, chunk + i, (size_t)(j - i));
	}
	buf_reserve(&b, 0);
	if (b.len < n)
		snprintf(out, n, "%.*s", (int)b.len, (const char *)b.data);
	else if (n > 4)
		snprintf(out, n, "...%s", (const char *)b.data + b.len - (n - 4));
	buf_free(&b);
}

/* run_prog - run BINDIR/prog with args (NULL-ended) and wait; stdin is /dev/null, stdout and
 * stderr go to out_fd. *status is the exit status, or -1 when it died of a signal. */
static enum vl_err
run_prog(struct pg_paths *p, const char *prog, char *const *args, int out_fd, int *status,
	 char *err)
{
	char path[CONFIG_PATH_MAX + 32];
	char *argv[24];
	struct sigaction dfl;
	sigset_t none;
	enum vl_err rc;
	size_t i = 0;
	pid_t pid;
	int ws;

	if ((rc = need_bindir(p, err)) != VL_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", p->bindir, prog);
	argv[i++] = path;
	for (char *const *a = args; *a && i < sizeof(argv) / sizeof(argv[0]) - 1; a++)
		argv[i++] = *a;
	argv[i] = NULL;
	/* Made before fork: the child only makes async-signal-safe calls (serve has threads). */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigemptyset(&none);
	pid = fork();
	if (pid < 0)
		return vl_err_set(err, VL_ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul < 0 || dup2(nul, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
			_exit(126);
		/* The caller's directory may be one the run user cannot enter (root's). */
		if (chdir("/") != 0)
			_exit(126);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGQUIT, &dfl, NULL);
		sigaction(SIGPIPE, &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(path, argv);
		_exit(127);
	}
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "waitpid %s: %s", prog, strerror(errno));
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	return VL_OK;
}

/* run_logged - run_prog with its output appended to the server log under a header line; on a
 * non-zero exit, VL_ERR_IO with the new log lines as detail. */
static enum vl_err
run_logged(struct pg_paths *p, const char *prog, char *const *args, char *err)
{
	char tail[VL_ERRLEN - 64], stamp[32];
	struct buf head = {0};
	enum vl_err rc;
	time_t now = time(NULL);
	struct tm tm;
	off_t from;
	int status = 0;
	int fd;

	fd = open(p->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vl_err_set(err, VL_ERR_IO, "open %s: %s", p->log, strerror(errno));
	from = lseek(fd, 0, SEEK_END);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_appendf(&head, "%s vellum[%d]: %s", stamp, (int)getpid(), prog);
	for (char *const *a = args; *a; a++)
		buf_appendf(&head, " %s", *a);
	buf_append_str(&head, "\n");
	if (fs_write_full(fd, head.data, head.len) != VL_OK)
		log_warn("write %s", p->log);
	from += (off_t)head.len;
	rc = run_prog(p, prog, args, fd, &status, err);
	close(fd);
	if (rc == VL_OK && status != 0) {
		log_tail(p->log, from, tail, sizeof(tail));
		log_warnx("%s %s failed; the server log is %s", prog, args[0], p->log);
		rc = vl_err_set(err, VL_ERR_IO, "%s %s failed (status %d): %s", prog, args[0],
				status, tail[0] ? tail : "no output");
	}
	buf_free(&head);
	return rc;
}

/* ---- the cluster's life cycle ---- */

static enum vl_err
cluster_running(struct pg_paths *p, int *running, char *err)
{
	char ver[CONFIG_PATH_MAX + 16], status_arg[] = "status", d_arg[] = "-D";
	char *args[] = {status_arg, d_arg, p->pg, NULL};
	enum vl_err rc;
	int status = 0, fd;

	*running = 0;
	snprintf(ver, sizeof(ver), "%s/PG_VERSION", p->pg);
	if (!file_exists(ver))
		return VL_OK; /* never created */
	/* Fast path: a server answering on our socket is running; pg_ctl (a fork, an exec and
	 * its own checks) is asked only when it does not answer. */
	const char *const keys[] = {"host", "port", "dbname", "connect_timeout", NULL};
	char port[16];
	snprintf(port, sizeof(port), "%d", PG_CLUSTER_PORT);
	const char *const vals[] = {p->run, port, "postgres", "2", NULL};
	if (PQpingParams(keys, vals, 0) == PQPING_OK) {
		*running = 1;
		return VL_OK;
	}
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vl_err_set(err, VL_ERR_IO, "open /dev/null: %s", strerror(errno));
	rc = run_prog(p, "pg_ctl", args, fd, &status, err);
	close(fd);
	if (rc != VL_OK)
		return rc;
	/* pg_ctl status: 0 running, 3 not running, 4 no accessible data directory. */
	if (status == 0)
		*running = 1;
	else if (status != 3)
		return vl_err_set(err, VL_ERR_IO, "pg_ctl status -D %s failed (status %d)", p->pg,
				  status);
	return VL_OK;
}

/* rm_tree - remove a directory tree without following symbolic links (a dead pg.new). */
static enum vl_err
rm_tree(const char *top, char *err)
{
	char path[CONFIG_PATH_MAX];
	char *roots[] = {path, NULL};
	enum vl_err rc = VL_OK;
	FTSENT *e;
	FTS *fts;

	snprintf(path, sizeof(path), "%s", top);
	fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (fts == NULL)
		return vl_err_set(err, VL_ERR_IO, "walk %s: %s", top, strerror(errno));
	while ((e = fts_read(fts)) != NULL) {
		int r = 0;

		switch (e->fts_info) {
		case FTS_D:
			continue;
		case FTS_DP:
			r = rmdir(e->fts_accpath);
			break;
		case FTS_DNR:
		case FTS_ERR:
		case FTS_NS:
			rc = vl_err_set(err, VL_ERR_IO, "walk %s: %s", e->fts_path,
					strerror(e->fts_errno));
			goto out;
		default:
			r = unlink(e->fts_accpath);
			break;
		}
		if (r != 0) {
			rc = vl_err_set(err, VL_ERR_IO, "remove %s: %s", e->fts_path,
					strerror(errno));
			goto out;
		}
	}
out:
	fts_close(fts);
	return rc;
}

static int
locale_available(const char *name)
{
	locale_t l = newlocale(LC_ALL_MASK, name, (locale_t)0);

	if (l == (locale_t)0)
		return 0;
	freelocale(l);
	return 1;
}

/* cluster_initdb - make DATA/pg: initdb into DATA/pg.new (the superuser is the run user, who
 * alone may connect, over the socket, by peer authentication; TCP is rejected), append the
 * tuning, then rename it into place. Called with cluster.lock held. */
static enum vl_err
cluster_initdb(struct pg_paths *p, char *err)
{
	char user[128], conf[CONFIG_PATH_MAX + 32], locale_opt[32];
	char d_arg[] = "-D", u_arg[] = "-U", e_arg[] = "-E", utf8[] = "UTF8";
	char peer[] = "--auth-local=peer", reject[] = "--auth-host=reject";
	char *args[] = {d_arg, p->pg_new, u_arg, user, peer, reject, e_arg, utf8, locale_opt, NULL};
	struct passwd *pw;
	struct stat st;
	enum vl_err rc;
	int fd;

	pw = getpwuid(geteuid());
	if (pw == NULL)
		return vl_err_set(err, VL_ERR_CONFIG, "uid %d has no user name", (int)geteuid());
	snprintf(user, sizeof(user), "%s", pw->pw_name);
	/* C.UTF-8: byte-order collation (stable across glibc upgrades) that still knows UTF-8. */
	snprintf(locale_opt, sizeof(locale_opt), "--locale=%s",
		 locale_available("C.UTF-8") ? "C.UTF-8" : "C");
	if (lstat(p->pg_new, &st) == 0) {
		log_warnx("removing %s, left by an interrupted initdb", p->pg_new);
		if ((rc = rm_tree(p->pg_new, err)) != VL_OK)
			return rc;
	}
	log_info("creating the database cluster in %s", p->pg);
	if ((rc = run_logged(p, "initdb", args, err)) != VL_OK)
		return rc;
	snprintf(conf, sizeof(conf), "%s/postgresql.conf", p->pg_new);
	fd = open(conf, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return vl_err_set(err, VL_ERR_IO, "open %s: %s", conf, strerror(errno));
	rc = fs_write_full(fd, pg_tuning, sizeof(pg_tuning) - 1);
	if (rc == VL_OK && fsync(fd) != 0)
		rc = VL_ERR_IO;
	if (close(fd) != 0 && rc == VL_OK)
		rc = VL_ERR_IO;
	if (rc != VL_OK)
		return vl_err_set(err, rc, "write %s: %s", conf, strerror(errno));
	if (rename(p->pg_new, p->pg) != 0)
		return vl_err_set(err, VL_ERR_IO, "rename %s: %s", p->pg_new, strerror(errno));
	if (fs_fsync_dir(p->data) != VL_OK)
		return vl_err_set(err, VL_ERR_IO, "fsync %s: %s", p->data, strerror(errno));
	return VL_OK;
}

static enum vl_err
server_start(struct pg_paths *p, char *err)
{
	char opts[CONFIG_PATH_MAX + 256], port[16];
	char start[] = "start", w[] = "-w", t[] = "-t", secs[] = PG_WAIT_SECONDS, d[] = "-D";
	char l[] = "-l", o[] = "-o";
	char *args[] = {start, w, t, secs, d, p->pg, l, p->log, o, opts, NULL};

	/* On the command line, so no edit of postgresql.conf can open a TCP port or move the
	 * socket: listen_addresses='' means no TCP at all. The path is safe in single quotes
	 * (path_is_safe). */
	snprintf(port, sizeof(port), "%d", PG_CLUSTER_PORT);
	snprintf(opts, sizeof(opts),
		 "-c listen_addresses='' -c unix_socket_directories='%s' "
		 "-c unix_socket_permissions=0700 -c port=%s",
		 p->run, port);
	log_info("starting the database cluster in %s", p->pg);
	return run_logged(p, "pg_ctl", args, err);
}

static enum vl_err
server_stop(struct pg_paths *p, char *err)
{
	char stop[] = "stop", m[] = "-m", fast[] = "fast", w[] = "-w", t[] = "-t";
	char secs[] = PG_WAIT_SECONDS, d[] = "-D";
	char *args[] = {stop, m, fast, w, t, secs, d, p->pg, NULL};

	log_info("stopping the database cluster in %s", p->pg);
	return run_logged(p, "pg_ctl", args, err);
}

/* msg_len - libpq's message without its trailing newline, as a length for "%.*s". */
static int
msg_len(const char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return (int)n;
}

/* connect_params - a connection to database db of the cluster, by keyword so no quoting. */
static PGconn *
connect_params(const struct pg_paths *p, const char *db)
{
	char port[16];
	const char *const keys[] = {"host", "port", "dbname", "fallback_application_name", NULL};
	const char *const vals[] = {p->run, port, db, "vellum", NULL};

	snprintf(port, sizeof(port), "%d", PG_CLUSTER_PORT);
	return PQconnectdbParams(keys, vals, 0);
}

/* ensure_database - create the vellum database when missing (first start, or a start that was
 * interrupted after initdb). Called with cluster.lock held, so no other vellum races us. */
static enum vl_err
ensure_database(const struct pg_paths *p, char *err)
{
	const char *const vals[] = {PG_CLUSTER_DB};
	PGresult *res = NULL;
	enum vl_err rc = VL_OK;
	PGconn *c = connect_params(p, "postgres");

	if (PQstatus(c) != CONNECTION_OK) {
		rc = vl_err_set(err, VL_ERR_DB, "connect to the cluster: %.*s",
				msg_len(PQerrorMessage(c)), PQerrorMessage(c));
		goto out;
	}
	res = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, vals, NULL,
			   NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = vl_err_set(err, VL_ERR_DB, "look up database: %.*s",
				msg_len(PQresultErrorMessage(res)), PQresultErrorMessage(res));
		goto out;
	}
	if (PQntuples(res) > 0)
		goto out;
	PQclear(res);
	log_info("creating database %s", PG_CLUSTER_DB);
	/* An identifier, not a value: CREATE DATABASE takes no parameters; this is a constant. */
	res = PQexec(c, "CREATE DATABASE " PG_CLUSTER_DB);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = vl_err_set(err, VL_ERR_DB, "create database: %.*s",
				msg_len(PQresultErrorMessage(res)), PQresultErrorMessage(res));
out:
	PQclear(res);
	PQfinish(c);
	return rc;
}

/* start_locked - initdb when needed and start when not running; with cluster.lock held. pin:
 * an explicit start (`vellum db start`), never stopped by a release. Otherwise a start made here
 * is marked on demand before pg_ctl runs, so even a process killed mid-start leaves a cluster
 * that the last user stops. *started = 1 when this call started the server. */
static enum vl_err
start_locked(struct pg_paths *p, int pin, int *started, char *err)
{
	char ver[CONFIG_PATH_MAX + 16];
	enum vl_err rc;
	int running = 0;

	*started = 0;
	snprintf(ver, sizeof(ver), "%s/PG_VERSION", p->pg);
	if (!file_exists(ver) && (rc = cluster_initdb(p, err)) != VL_OK)
		return rc;
	if ((rc = cluster_running(p, &running, err)) != VL_OK)
		return rc;
	if (!running) {
		if (!pin && (rc = marker_set(p->ondemand, err)) != VL_OK)
			return rc;
		if ((rc = server_start(p, err)) != VL_OK) {
			if (!pin)
				marker_clear(p->ondemand);
			return rc;
		}
		*started = 1;
	}
	if ((*started || pin) && (rc = ensure_database(p, err)) != VL_OK)
		return rc;
	if (pin) {
		if ((rc = marker_set(p->pinned, err)) != VL_OK)
			return rc;
		marker_clear(p->ondemand);
	}
	return VL_OK;
}

static int
lock_cluster(const struct pg_paths *p, char *err)
{
	int fd = fs_lock_open(p->lock, 1);

	if (fd < 0)
		vl_err_set(err, VL_ERR_IO, "lock %s: %s", p->lock, strerror(errno));
	return fd;
}

/* ---- the API ---- */

enum vl_err
pg_cluster_start(const struct vl_config *cfg, char *err)
{
	struct pg_paths *p = xmalloc(sizeof(*p));
	enum vl_err rc;
	int lock = -1, started;

	if ((rc = paths_init(p, cfg, err)) != VL_OK || (rc = ensure_run_dir(p, err)) != VL_OK)
		goto out;
	if ((lock = lock_cluster(p, err)) < 0) {
		rc = VL_ERR_IO;
		goto out;
	}
	rc = start_locked(p, 1, &started, err);
out:
	if (lock >= 0)
		close(lock);
	free(p);
	return rc;
}

enum vl_err
pg_cluster_stop(const struct vl_config *cfg, char *err)
{
	struct pg_paths *p = xmalloc(sizeof(*p));
	enum vl_err rc;
	int lock = -1, users = -1, running = 0;

	if ((rc = paths_init(p, cfg, err)) != VL_OK)
		goto out;
	if (!file_exists(p->pg))
		goto out; /* never created: nothing runs */
	if ((rc = ensure_run_dir(p, err)) != VL_OK)
		goto out;
	if ((lock = lock_cluster(p, err)) < 0) {
		rc = VL_ERR_IO;
		goto out;
	}
	if ((rc = cluster_running(p, &running, err)) != VL_OK)
		goto out;
	if (running) {
		users = open(p->users, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (users >= 0 && flock(users, LOCK_EX | LOCK_NB) != 0)
			log_warnx("other vellum processes are using the cluster; they lose their "
				  "connections now");
		if ((rc = server_stop(p, err)) != VL_OK)
			goto out;
	}
	marker_clear(p->pinned);
	marker_clear(p->ondemand);
out:
	if (users >= 0)
		close(users);
	if (lock >= 0)
		close(lock);
	free(p);
	return rc;
}

enum vl_err
pg_cluster_status(const struct vl_config *cfg, int *running, char *err)
{
	struct pg_paths *p = xmalloc(sizeof(*p));
	enum vl_err rc;

	*running = 0;
	if ((rc = paths_init(p, cfg, err)) == VL_OK)
		rc = cluster_running(p, running, err);
	free(p);
	return rc;
}

enum vl_err
pg_cluster_conninfo(const struct vl_config *cfg, char *out, size_t n)
{
	char run[CONFIG_PATH_MAX], quoted[2 * CONFIG_PATH_MAX + 3];
	size_t q = 0;
	int w;

	config_path(run, cfg, "run");
	/* libpq conninfo: a value with a space, quote or backslash goes in single quotes with
	 * those two characters escaped by a backslash. */
	if (strpbrk(run, " '\\") || run[0] == 0) {
		quoted[q++] = '\'';
		for (const char *s = run; *s; s++) {
			if (*s == '\'' || *s == '\\')
				quoted[q++] = '\\';
			quoted[q++] = *s;
		}
		quoted[q++] = '\'';
		quoted[q] = 0;
	} else {
		snprintf(quoted, sizeof(quoted), "%s", run);
	}
	w = snprintf(out, n, "host=%s port=%d dbname=%s", quoted, PG_CLUSTER_PORT, PG_CLUSTER_DB);
	return w < 0 || (size_t)w >= n ? VL_ERR_LIMIT : VL_OK;
}

enum vl_err
pg_cluster_acquire(const struct vl_config *cfg, struct pg_use **out, char *err)
{
	struct pg_use *u = xcalloc(1, sizeof(*u));
	enum vl_err rc;
	int lock = -1;

	*out = NULL;
	u->users_fd = -1;
	if ((rc = paths_init(&u->p, cfg, err)) != VL_OK ||
	    (rc = ensure_run_dir(&u->p, err)) != VL_OK)
		goto out;
	if ((lock = lock_cluster(&u->p, err)) < 0) {
		rc = VL_ERR_IO;
		goto out;
	}
	if ((rc = start_locked(&u->p, 0, &u->started, err)) != VL_OK)
		goto out;
	/* Taken while cluster.lock is held: a releaser cannot stop the cluster in between. */
	u->users_fd = open(u->p.users, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (u->users_fd < 0) {
		rc = vl_err_set(err, VL_ERR_IO, "open %s: %s", u->p.users, strerror(errno));
		goto out;
	}
	while (flock(u->users_fd, LOCK_SH) != 0) {
		if (errno != EINTR) {
			rc = vl_err_set(err, VL_ERR_IO, "lock %s: %s", u->p.users, strerror(errno));
			goto out;
		}
	}
	*out = u;
	u = NULL;
out:
	if (lock >= 0)
		close(lock);
	if (u != NULL) {
		if (u->users_fd >= 0)
			close(u->users_fd);
		free(u);
	}
	return rc;
}

void
pg_cluster_release(struct pg_use *u)
{
	char err[VL_ERRLEN];
	int lock = -1, users = -1, running = 0;

	if (u == NULL)
		return;
	/* Only an on-demand cluster is ever stopped here: a started-by-hand (pinned) or externally
	 * managed one is left alone. The markers change only under cluster.lock, and a marker
	 * that appears after this test belongs to a start whose process will release it later. */
	if (!file_exists(u->p.ondemand) || file_exists(u->p.pinned))
		goto out;
	if ((lock = lock_cluster(&u->p, err)) < 0) {
		log_warnx("release: %s", err);
		goto out;
	}
	/* Drop our own shared lock first: flock counts it even against our own new descriptor. */
	close(u->users_fd);
	u->users_fd = -1;
	users = open(u->p.users, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (users < 0 || flock(users, LOCK_EX | LOCK_NB) != 0)
		goto out; /* another process still uses it: the last one out stops it */
	if (!file_exists(u->p.ondemand) || file_exists(u->p.pinned))
		goto out;
	if (cluster_running(&u->p, &running, err) != VL_OK) {
		log_warnx("release: %s", err);
		goto out;
	}
	if (running && server_stop(&u->p, err) != VL_OK) {
		log_warnx("release: could not stop the on-demand cluster: %s", err);
		goto out;
	}
	marker_clear(u->p.ondemand);
	log_debug("stopped the on-demand cluster (started by %s)",
		  u->started ? "this process" : "another process");
out:
	if (users >= 0)
		close(users);
	if (u->users_fd >= 0)
		close(u->users_fd);
	if (lock >= 0)
		close(lock);
	free(u);
}

enum vl_err
pg_cluster_bindir(const struct vl_config *cfg, char *out, size_t n, char *err)
{
	char pg[CONFIG_PATH_MAX];

	config_path(pg, cfg, "pg");
	return find_bindir(pg, out, n, err);
}
