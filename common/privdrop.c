/* privdrop - run as the unprivileged run_user when started as root. */
#include <errno.h>
#include <fts.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "privdrop.h"

#define PRIVDROP_NAME_MAX 32 /* useradd's own limit */

/* The user name goes on useradd's command line: accept only what useradd itself accepts, and
 * never a leading '-' that it would read as an option. */
static enum vl_err
check_user_name(const char *name, char *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > PRIVDROP_NAME_MAX || name[0] == '-')
		return vl_err_set(err, VL_ERR_CONFIG, "run_user '%s' is not a valid user name",
				  name);
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return vl_err_set(err, VL_ERR_CONFIG,
					  "run_user '%s' is not a valid user name", name);
	}
	if (strcmp(name, "root") == 0)
		return vl_err_set(err, VL_ERR_CONFIG, "run_user must not be root");
	return VL_OK;
}

/* Run argv (argv[0] a path or a name looked up in PATH) and wait for it; stdout and stderr stay
 * ours so the administrator sees what useradd says. */
static enum vl_err
run_wait(char *const argv[], char *err)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return vl_err_set(err, VL_ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "waitpid %s: %s", argv[0],
					  strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return vl_err_set(err, VL_ERR_IO, "%s failed (status %d)", argv[0],
				  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return VL_OK;
}

static const char *
first_executable(const char *const *candidates, const char *fallback)
{
	for (; *candidates; candidates++)
		if (access(*candidates, X_OK) == 0)
			return *candidates;
	return fallback;
}

/* Create the system user: no home directory of its own (its home is the data folder, which we
 * create), no login shell, and its own group unless a group of that name already exists. */
static enum vl_err
create_user(const struct vl_config *cfg, char *err)
{
	static const char *const useradd[] = {"/usr/sbin/useradd", "/sbin/useradd", NULL};
	static const char *const nologin[] = {"/usr/sbin/nologin", "/sbin/nologin", NULL};
	char prog[64], shell[64], home[CONFIG_PATH_MAX], name[sizeof(cfg->run_user)];
	char opt_system[] = "--system", opt_nohome[] = "--no-create-home";
	char opt_home[] = "--home-dir", opt_shell[] = "--shell";
	char opt_group[] = "--gid", opt_usergroup[] = "--user-group";
	char *argv[12];
	int i = 0;

	snprintf(prog, sizeof(prog), "%s", first_executable(useradd, "useradd"));
	snprintf(shell, sizeof(shell), "%s", first_executable(nologin, "/bin/false"));
	snprintf(home, sizeof(home), "%s", cfg->data_dir);
	snprintf(name, sizeof(name), "%s", cfg->run_user);
	argv[i++] = prog;
	argv[i++] = opt_system;
	argv[i++] = opt_nohome;
	argv[i++] = opt_home;
	argv[i++] = home;
	argv[i++] = opt_shell;
	argv[i++] = shell;
	if (getgrnam(name) != NULL) {
		argv[i++] = opt_group;
		argv[i++] = name;
	} else {
		argv[i++] = opt_usergroup;
	}
	argv[i++] = name;
	argv[i] = NULL;
	log_info("creating system user %s", name);
	return run_wait(argv, err);
}

/* Create data_dir (0750) when missing. Its parents get 0755 so the run user can reach it. */
static enum vl_err
ensure_data_dir(const char *dir, char *err)
{
	char parent[CONFIG_PATH_MAX];
	struct stat st;
	enum vl_err rc;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return vl_err_set(err, VL_ERR_CONFIG, "%s is not a directory", dir);
		return VL_OK;
	}
	if (errno != ENOENT)
		return vl_err_set(err, VL_ERR_IO, "stat %s: %s", dir, strerror(errno));
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((rc = fs_mkdir_p(dirname(parent), 0755, err)) != VL_OK)
		return rc;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return vl_err_set(err, VL_ERR_IO, "mkdir %s: %s", dir, strerror(errno));
	return VL_OK;
}

/* chown_tree - give top and everything below it to uid:gid without following symbolic links.
 * fts rather than nftw: nftw's callback has no context pointer, so it would need a global. */
static enum vl_err
chown_tree(const char *top, uid_t uid, gid_t gid, char *err)
{
	char path[CONFIG_PATH_MAX];
	char *roots[] = {path, NULL};
	enum vl_err rc = VL_OK;
	long count = 0;
	FTSENT *e;
	FTS *fts;

	snprintf(path, sizeof(path), "%s", top);
	fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (fts == NULL)
		return vl_err_set(err, VL_ERR_IO, "walk %s: %s", top, strerror(errno));
	errno = 0;
	while ((e = fts_read(fts)) != NULL) {
		switch (e->fts_info) {
		case FTS_DP: /* a directory's second (post-order) visit: done on the first */
			continue;
		case FTS_DNR:
		case FTS_ERR:
		case FTS_NS:
			rc = vl_err_set(err, VL_ERR_IO, "walk %s: %s", e->fts_path,
					strerror(e->fts_errno));
			goto out;
		default:
			break;
		}
		if (lchown(e->fts_accpath, uid, gid) != 0) {
			rc = vl_err_set(err, VL_ERR_IO, "chown %s: %s", e->fts_path,
					strerror(errno));
			goto out;
		}
		count++;
		errno = 0;
	}
	if (errno != 0)
		rc = vl_err_set(err, VL_ERR_IO, "walk %s: %s", top, strerror(errno));
	else
		log_info("gave %s (%ld entries) to uid %d", top, count, (int)uid);
out:
	fts_close(fts);
	return rc;
}

enum vl_err
privdrop_prepare(const struct vl_config *cfg, char *err)
{
	struct passwd *pw;
	struct stat st;
	uid_t uid;
	gid_t gid;
	enum vl_err rc;

	if (geteuid() != 0)
		return VL_OK;
	if ((rc = check_user_name(cfg->run_user, err)) != VL_OK)
		return rc;
	if (getpwnam(cfg->run_user) == NULL && (rc = create_user(cfg, err)) != VL_OK)
		return rc;
	pw = getpwnam(cfg->run_user);
	if (pw == NULL)
		return vl_err_set(err, VL_ERR_CONFIG, "user %s does not exist after useradd",
				  cfg->run_user);
	if (pw->pw_uid == 0)
		return vl_err_set(err, VL_ERR_CONFIG, "run_user %s has uid 0", cfg->run_user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if ((rc = ensure_data_dir(cfg->data_dir, err)) != VL_OK)
		return rc;
	if (lstat(cfg->data_dir, &st) != 0)
		return vl_err_set(err, VL_ERR_IO, "stat %s: %s", cfg->data_dir, strerror(errno));
	/* Only a folder whose top is not yet theirs is walked: after the first run this is free,
	 * and a folder handed over on purpose is never re-owned behind the administrator's back. */
	if (st.st_uid == uid && st.st_gid == gid)
		return VL_OK;
	return chown_tree(cfg->data_dir, uid, gid, err);
}

enum vl_err
privdrop_drop(const struct vl_config *cfg, char *err)
{
	char name[PRIVDROP_NAME_MAX + 1], home[CONFIG_PATH_MAX];
	struct passwd *pw;
	enum vl_err rc;
	uid_t uid;
	gid_t gid;

	/* Group-readable at most: the archive's files are nobody else's business. */
	umask(027);
	if (geteuid() != 0)
		return VL_OK;
	if ((rc = check_user_name(cfg->run_user, err)) != VL_OK)
		return rc;
	pw = getpwnam(cfg->run_user);
	if (pw == NULL)
		return vl_err_set(err, VL_ERR_CONFIG, "run_user %s does not exist", cfg->run_user);
	if (pw->pw_uid == 0)
		return vl_err_set(err, VL_ERR_CONFIG, "run_user %s has uid 0", cfg->run_user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	snprintf(name, sizeof(name), "%s", pw->pw_name);
	snprintf(home, sizeof(home), "%s", pw->pw_dir);

	/* Groups first: once the uid is gone we may no longer change them. */
	if (initgroups(name, gid) != 0)
		return vl_err_set(err, VL_ERR_INTERNAL, "initgroups %s: %s", name, strerror(errno));
	if (setresgid(gid, gid, gid) != 0)
		return vl_err_set(err, VL_ERR_INTERNAL, "setresgid %d: %s", (int)gid,
				  strerror(errno));
	if (setresuid(uid, uid, uid) != 0)
		return vl_err_set(err, VL_ERR_INTERNAL, "setresuid %d: %s", (int)uid,
				  strerror(errno));
	/* Prove the switch is one-way: real, effective and saved ids all changed. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setegid(0) == 0)
		return vl_err_set(err, VL_ERR_INTERNAL,
				  "privileges could be regained after the drop");
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		return vl_err_set(err, VL_ERR_INTERNAL, "ids did not change to %s", name);

	/* Tools we run (psql, pg_ctl) look at HOME, and root's is not ours. The user's own home,
	 * unless it is gone (useradd set it to the first data folder): then this data folder. */
	setenv("HOME", access(home, X_OK) == 0 ? home : cfg->data_dir, 1);
	setenv("USER", name, 1);
	setenv("LOGNAME", name, 1);
	if (access(cfg->data_dir, R_OK | W_OK | X_OK) != 0)
		return vl_err_set(err, VL_ERR_CONFIG,
				  "user %s cannot use %s: %s (check its parent directories)", name,
				  cfg->data_dir, strerror(errno));
	log_debug("running as %s uid=%d gid=%d", name, (int)uid, (int)gid);
	return VL_OK;
}
