/* cmd_db - `vellum db start|stop|status|psql`: the private PostgreSQL cluster by hand.
 * start pins the cluster (no on-demand release stops it), stop stops and unpins it, status
 * exits 0 when running and 3 when stopped, psql opens a shell on the archive's database.
 * With database_url set the database is external: start and stop do nothing. */
#include <errno.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "db.h"
#include "pg_cluster.h"

#define DB_EXIT_STOPPED 3 /* as pg_ctl status and LSB init scripts */

static int
usage(const struct cli *c, FILE *out, int status)
{
	fprintf(out, "usage: %s db start|stop|status|psql [psql args...]\n", c->progname);
	return status;
}

static int
fail(const struct cli *c, const char *sub, const char *err)
{
	fprintf(stderr, "%s db %s: %s\n", c->progname, sub, err);
	return 1;
}

static int
db_start(struct cli *c)
{
	char err[VL_ERRLEN] = "";

	if (c->cfg.database_url[0]) {
		printf("database_url is set: the database is external, nothing to start\n");
		return 0;
	}
	if (pg_cluster_start(&c->cfg, err) != VL_OK)
		return fail(c, "start", err);
	printf("running (pinned until `%s db stop`)\n", c->progname);
	return 0;
}

static int
db_stop(struct cli *c)
{
	char err[VL_ERRLEN] = "";

	if (c->cfg.database_url[0]) {
		printf("database_url is set: the database is external, nothing to stop\n");
		return 0;
	}
	if (pg_cluster_stop(&c->cfg, err) != VL_OK)
		return fail(c, "stop", err);
	printf("stopped\n");
	return 0;
}

static int
db_status(struct cli *c)
{
	char err[VL_ERRLEN] = "", run[CONFIG_PATH_MAX], pg[CONFIG_PATH_MAX];
	int running = 0;

	if (c->cfg.database_url[0]) {
		if (db_probe(&c->cfg, err) != VL_OK) {
			printf("unreachable (external database_url): %s\n", err);
			return DB_EXIT_STOPPED;
		}
		printf("running (external database_url)\n");
		return 0;
	}
	if (pg_cluster_status(&c->cfg, &running, err) != VL_OK)
		return fail(c, "status", err);
	config_path(run, &c->cfg, "run");
	config_path(pg, &c->cfg, "pg");
	printf("%s\nsocket_dir %s\ndata_dir %s\n", running ? "running" : "stopped", run, pg);
	return running ? 0 : DB_EXIT_STOPPED;
}

/* quote_conninfo - append value to b in libpq conninfo quoting: '...' with ' and \ escaped. */
static void
quote_conninfo(struct buf *b, const char *value)
{
	buf_append_str(b, "'");
	for (const char *s = value; *s; s++) {
		if (*s == '\'' || *s == '\\')
			buf_append_str(b, "\\");
		buf_append(b, s, 1);
	}
	buf_append_str(b, "'");
}

/* external_conninfo - database_url as a conninfo string without its password, which goes into
 * PGPASSWORD instead: argv is world-readable in /proc, the environment is not. */
static int
external_conninfo(const struct cli *c, struct buf *out)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(c->cfg.database_url, &perr);

	if (opts == NULL) {
		PQfreemem(perr); /* it may quote the password */
		fprintf(stderr, "%s db psql: database_url is not a valid PostgreSQL URL\n",
			c->progname);
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "password") == 0) {
			setenv("PGPASSWORD", o->val, 1);
			continue;
		}
		buf_appendf(out, "%s%s=", out->len ? " " : "", o->keyword);
		quote_conninfo(out, o->val);
	}
	PQconninfoFree(opts);
	return 0;
}

static void
psql_path(const struct cli *c, char *out, size_t n)
{
	char dir[CONFIG_PATH_MAX], err[VL_ERRLEN];

	if (pg_cluster_bindir(&c->cfg, dir, sizeof(dir), err) == VL_OK)
		snprintf(out, n, "%s/psql", dir);
	else
		snprintf(out, n, "psql"); /* from PATH */
}

/* run_child - run argv and wait; the terminal's ^C belongs to psql (which cancels the query),
 * so we ignore it meanwhile, as system(3) does. Returns psql's exit status. */
static int
run_child(const struct cli *c, char **argv)
{
	struct sigaction ign, old_int, old_quit;
	int ws, status;
	pid_t pid;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "%s db psql: exec %s: %s\n", c->progname, argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		fprintf(stderr, "%s db psql: fork: %s\n", c->progname, strerror(errno));
		status = 1;
	} else {
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return status;
}

/* db_psql - the embedded cluster: psql runs as our child while we hold a use of the cluster
 * (started on demand if needed), so no other process's release stops it under psql. External:
 * exec psql. No migrations are run: psql is also how one inspects a failed migration. */
static int
db_psql(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN] = "", prog[CONFIG_PATH_MAX + 8], run[CONFIG_PATH_MAX], port[16];
	char h[] = "-h", p[] = "-p", d[] = "-d", dbname[] = PG_CLUSTER_DB;
	char **args = xcalloc((size_t)argc + 8, sizeof(*args));
	struct pg_use *use = NULL;
	struct buf conninfo = {0};
	int n = 0, status = 1;

	/* Started as root from root's home, we may not enter our working directory any more:
	 * psql would complain, and relative paths could not work there anyway. */
	if (access(".", X_OK) != 0 && chdir(c->cfg.data_dir) != 0)
		fprintf(stderr, "%s db psql: chdir %s: %s\n", c->progname, c->cfg.data_dir,
			strerror(errno));
	psql_path(c, prog, sizeof(prog));
	args[n++] = prog;
	if (c->cfg.database_url[0]) {
		if (external_conninfo(c, &conninfo) != 0)
			goto out;
		args[n++] = d;
		args[n++] = (char *)conninfo.data;
	} else {
		config_path(run, &c->cfg, "run");
		snprintf(port, sizeof(port), "%d", PG_CLUSTER_PORT);
		args[n++] = h;
		args[n++] = run;
		args[n++] = p;
		args[n++] = port;
		args[n++] = d;
		args[n++] = dbname;
	}
	for (int i = 2; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	if (c->cfg.database_url[0]) {
		execvp(prog, args);
		fprintf(stderr, "%s db psql: exec %s: %s\n", c->progname, prog, strerror(errno));
		goto out;
	}
	if (pg_cluster_acquire(&c->cfg, &use, err) != VL_OK) {
		fail(c, "psql", err);
		goto out;
	}
	status = run_child(c, args);
	pg_cluster_release(use);
out:
	buf_free(&conninfo);
	free(args);
	return status;
}

/* cmd_db - dispatch `db <sub>` (argv[0] is "db"). Exit status: 0 done (status: running),
 * 1 failure (detail on stderr), 2 usage error, 3 stopped (status only); psql: psql's own. */
int
cmd_db(struct cli *c, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : NULL;

	if (sub == NULL)
		return usage(c, stderr, 2);
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0)
		return usage(c, stdout, 0);
	if (strcmp(sub, "psql") == 0)
		return db_psql(c, argc, argv);
	if (argc != 2)
		return usage(c, stderr, 2);
	if (strcmp(sub, "start") == 0)
		return db_start(c);
	if (strcmp(sub, "stop") == 0)
		return db_stop(c);
	if (strcmp(sub, "status") == 0)
		return db_status(c);
	return usage(c, stderr, 2);
}
