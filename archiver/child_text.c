/* child_text - a text converter in a bounded child: fork, rlimits, exec; the parent feeds the
 * input and reads the text and the diagnostics on three pipes with poll under a wall-clock
 * deadline, and reaps the child.
 * Why fork+execve and not posix_spawn: the child must set its own rlimits before exec, and
 * posix_spawn has no file action for that; a prlimit(1) wrapper could, but would fold a missing
 * program into its own exit status. Between fork and exec the child makes only
 * async-signal-safe calls (the indexer has threads): everything it needs is made before fork. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_text.h"
#include "utf8.h"

#define CHILD_CHUNK 65536   /* bytes moved through a pipe per read or write */
#define CHILD_PROG_MAX 4096 /* bytes of the program path, NUL included */
#define CHILD_FD_SCAN 65536 /* descriptors closed one by one when close_range is refused */

/* The parent's ends of the child's stdin, stdout and stderr; -1 once closed (stdin -1 from
 * the start with CHILD_IN_MEMFD). */
struct child {
	pid_t pid;
	int in, out, diag;
};

/* What goes in and what comes out of one run. */
struct io {
	const uint8_t *p;	 /* the input, borrowed */
	size_t len, off;	 /* its length, and how much of it the child has taken */
	size_t raw_max;		 /* the child is killed once stdout passes this */
	int64_t deadline;	 /* now_ms() at which the wall-clock bound runs out */
	struct child_result *r; /* stdout, stderr and how the run ended */
};

/* The child's environment, NUL-separated: no HOME (no per-user configuration is read), no
 * locale but UTF-8. */
#define PLAN_ENV "PATH=/usr/bin:/bin\0LANG=C.UTF-8"
#define PLAN_ENVC 2

/* Everything the child needs, made before fork: it may not allocate. */
struct plan {
	int fds[4];	     /* become its 0, 1, 2 and 3 (exec status, close-on-exec) */
	struct rlimit rl[4]; /* plan_rlimits, in order */
	char prog[CHILD_PROG_MAX];
	char words[CHILD_WORDS_MAX]; /* the job's arguments, copied */
	char env[sizeof(PLAN_ENV)];
	char *argv[CHILD_ARGS_MAX + 2]; /* prog, the arguments, NULL */
	char *envp[PLAN_ENVC + 1];
	int fd_max;		       /* descriptors below this are closed if close_range fails */
	const char *name, *package;    /* for messages, in the parent only */
};

static const int plan_rlimits[4] = {RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_CORE};

/* now_ms - the monotonic clock in milliseconds. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fd_close - close *fd if open and mark it closed. */
static void
fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* sigpipe_block - block SIGPIPE in this thread (a write to a child that has gone then fails
 * with EPIPE instead of killing the process) and say whether one was pending already. */
static int
sigpipe_block(sigset_t *old, int *was_pending)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &set, old) != 0)
		return -1;
	if (sigpending(&pending) != 0) {
		pthread_sigmask(SIG_SETMASK, old, NULL);
		return -1;
	}
	*was_pending = sigismember(&pending, SIGPIPE);
	return 0;
}

/* sigpipe_restore - take back a SIGPIPE our writes raised, then restore the thread's mask. */
static void
sigpipe_restore(const sigset_t *old, int was_pending)
{
	static const struct timespec zero = {0, 0};
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* child_fail - in the child: report errno on the exec-status pipe and exit. */
static void
child_fail(int status_fd)
{
	int e = errno;
	ssize_t n = write(status_fd, &e, sizeof(e));

	(void)n;
	_exit(127);
}

/* child_exec - in the forked child: the plan's pipes onto 0-3 (moved above 9 first, so that a
 * pipe already on 0-3 is not overwritten), every other descriptor closed, every signal at its
 * default and none blocked (exec keeps both), the rlimits, execve. Never
 * returns. fcntl, dup2, sigaction, sigprocmask, execve, write and _exit are async-signal-safe;
 * close_range and setrlimit are not on POSIX's list but are bare system calls in glibc. */
static void
child_exec(const struct plan *pl)
{
	struct sigaction dfl;
	sigset_t empty;
	int hi[4];

	for (int i = 0; i < 4; i++)
		if ((hi[i] = fcntl(pl->fds[i], F_DUPFD, 10)) < 0)
			child_fail(pl->fds[3]);
	for (int i = 0; i < 4; i++)
		if (dup2(hi[i], i) < 0)
			child_fail(hi[3]);
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		child_fail(3);
	if (close_range(4, ~0u, 0) != 0)
		for (int fd = 4; fd < pl->fd_max; fd++)
			close(fd);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&empty);
	/* An ignored signal stays ignored across exec: serve's SIGPIPE, and SIGINT or SIGQUIT
	 * when a shell started Vellum in the background. SIGKILL and SIGSTOP refuse (EINVAL). */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);
	if (sigaction(SIGPIPE, &dfl, NULL) != 0 || sigprocmask(SIG_SETMASK, &empty, NULL) != 0)
		child_fail(3);
	for (int i = 0; i < 4; i++)
		if (setrlimit(plan_rlimits[i], &pl->rl[i]) != 0)
			child_fail(3);
	execve(pl->argv[0], pl->argv, pl->envp);
	child_fail(3);
}

/* plan_rlimit - the rlimit of resource res capped at want (never above the current hard limit:
 * the child could not raise it). The soft limit is want; the hard one want + extra. */
static struct rlimit
plan_rlimit(int res, rlim_t want, rlim_t extra)
{
	struct rlimit cur, rl = {want, want + extra};

	if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
		rl.rlim_max = rl.rlim_max < cur.rlim_max ? rl.rlim_max : cur.rlim_max;
		rl.rlim_cur = rl.rlim_cur < rl.rlim_max ? rl.rlim_cur : rl.rlim_max;
	}
	return rl;
}

/* plan_make - fill pl's program, arguments, environment and rlimits from job (not its fds);
 * VL_ERR_CONFIG when job->prog is not an absolute path that fits, VL_ERR_LIMIT when its
 * arguments do not fit. */
static enum vl_err
plan_make(struct plan *pl, const struct child_job *job, char *err)
{
	size_t n = job->prog ? strlen(job->prog) : 0, used = 0;
	struct rlimit nofile;
	int argc = 0;

	if (n == 0 || n >= sizeof(pl->prog) || job->prog[0] != '/')
		return vl_err_set(err, VL_ERR_CONFIG,
				  "%s path is not absolute: '%s': install %s, give its full path",
				  job->name, job->prog ? job->prog : "", job->package);
	memcpy(pl->prog, job->prog, n + 1);
	pl->name = job->name;
	pl->package = job->package;
	pl->argv[0] = pl->prog;
	for (; job->args && job->args[argc]; argc++) {
		size_t k = strlen(job->args[argc]) + 1;

		if (argc >= CHILD_ARGS_MAX || k > sizeof(pl->words) - used)
			return vl_err_set(err, VL_ERR_LIMIT,
					  "%s: arguments over CHILD_ARGS_MAX or CHILD_WORDS_MAX",
					  job->name);
		memcpy(pl->words + used, job->args[argc], k);
		pl->argv[1 + argc] = pl->words + used;
		used += k;
	}
	pl->argv[1 + argc] = NULL;
	memcpy(pl->env, PLAN_ENV, sizeof(PLAN_ENV));
	pl->envp[0] = pl->env;
	pl->envp[1] = pl->env + strlen(pl->env) + 1;
	pl->envp[PLAN_ENVC] = NULL;
	/* CPU: SIGXCPU at the soft limit, SIGKILL a second later if it is caught. */
	pl->rl[0] = plan_rlimit(RLIMIT_AS, job->as_bytes, 0);
	pl->rl[1] = plan_rlimit(RLIMIT_CPU, job->cpu_s, 1);
	pl->rl[2] = plan_rlimit(RLIMIT_FSIZE, 0, 0);
	pl->rl[3] = plan_rlimit(RLIMIT_CORE, 0, 0);
	pl->fd_max = CHILD_FD_SCAN;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < CHILD_FD_SCAN)
		pl->fd_max = (int)nofile.rlim_cur;
	return VL_OK;
}

/* pipes_close - close the first n pipes of p. */
static void
pipes_close(int p[][2], int n)
{
	for (int i = 0; i < n; i++) {
		fd_close(&p[i][0]);
		fd_close(&p[i][1]);
	}
}

/* pipes_open - the child's stdin, stdout, stderr and exec-status pipes, close-on-exec so that
 * a child another thread forks at the same time does not keep them past its exec. With in_fd
 * (>= 0, taken over: closed on failure too) stdin is that descriptor, not a pipe. */
static enum vl_err
pipes_open(int p[4][2], int in_fd, char *err)
{
	p[0][0] = in_fd;
	p[0][1] = -1;
	for (int i = in_fd >= 0 ? 1 : 0; i < 4; i++)
		if (pipe2(p[i], O_CLOEXEC) != 0) {
			int e = errno;

			pipes_close(p, i);
			fd_close(&p[0][0]); /* in_fd, when i was 1 */
			return vl_err_set(err, VL_ERR_IO, "pipe: %s", strerror(e));
		}
	return VL_OK;
}

/* exec_status - read the exec-status pipe: end of file means execve succeeded (the pipe closed
 * on exec); an errno means the child could not start pl's program. A program that is not there
 * or cannot be run is this installation's lasting state (VL_ERR_CONFIG); anything else
 * (ENOMEM, EAGAIN, EMFILE in the child) is the moment's (VL_ERR_IO). */
static enum vl_err
exec_status(int fd, const struct plan *pl, char *err)
{
	ssize_t n;
	int e = 0;

	while ((n = read(fd, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n == 0)
		return VL_OK;
	if (n != (ssize_t)sizeof(e))
		return vl_err_set(err, VL_ERR_IO, "starting %s: no status", pl->name);
	if (e == ENOENT || e == ENOTDIR)
		return vl_err_set(err, VL_ERR_CONFIG,
				  "%s is not installed (%s: %s): install %s", pl->name,
				  pl->prog, strerror(e), pl->package);
	if (e == EACCES || e == ENOEXEC)
		return vl_err_set(err, VL_ERR_CONFIG,
				  "%s cannot be run (%s: %s): reinstall %s", pl->name,
				  pl->prog, strerror(e), pl->package);
	return vl_err_set(err, VL_ERR_IO, "starting %s: %s", pl->name, strerror(e));
}

/* child_reap - wait for the child: its pid only, other threads' children are theirs. */
static enum vl_err
child_reap(pid_t pid, const char *name, int *ws, char *err)
{
	while (waitpid(pid, ws, 0) < 0)
		if (errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "waitpid %s: %s", name, strerror(errno));
	return VL_OK;
}

/* nap_ms - sleep ms milliseconds (an interrupted sleep is merely shorter). */
static void
nap_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* child_reap_by - child_reap, but only until deadline (now_ms()): a child that has closed its
 * stdout and stderr may still run, and must not hold the indexer past the wall-clock bound.
 * Past it the child is killed, reaped, and *late set. Why naps and not a wait that times out:
 * waitpid has none, a SIGCHLD handler is the process's and not a library's (serve has
 * threads), and a pidfd needs Linux 5.3. A child that exits at once costs one nap of 1 ms. */
static enum vl_err
child_reap_by(pid_t pid, const char *name, int64_t deadline, int *ws, int *late, char *err)
{
	int64_t nap = 1, left;
	pid_t r;

	for (;;) {
		if ((r = waitpid(pid, ws, WNOHANG)) == pid)
			return VL_OK;
		if (r < 0 && errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "waitpid %s: %s", name, strerror(errno));
		if ((left = deadline - now_ms()) <= 0)
			break;
		nap_ms(nap < left ? nap : left);
		nap = nap < 64 ? nap * 2 : 64;
	}
	kill(pid, SIGKILL);
	*late = 1;
	return child_reap(pid, name, ws, err);
}

/* child_spawn - fork and exec pl's program on fresh pipes (stdin in_fd when >= 0, taken
 * over); c holds the parent's ends and the
 * pid when it returns VL_OK, and nothing (child reaped, pipes closed) otherwise. */
static enum vl_err
child_spawn(struct child *c, struct plan *pl, int in_fd, char *err)
{
	int p[4][2], ws, e;
	sigset_t all, old;
	enum vl_err rc;
	pid_t pid;

	if ((rc = pipes_open(p, in_fd, err)) != VL_OK)
		return rc;
	for (int i = 0; i < 4; i++)
		pl->fds[i] = p[i][i == 0 ? 0 : 1];
	/* Every signal blocked across fork, as posix_spawn does: a handler of the parent's must
	 * not run in the child before child_exec has set every signal to its default. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	e = errno;
	if (pid == 0)
		child_exec(pl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		rc = vl_err_set(err, VL_ERR_IO, "fork: %s", strerror(e));
		pipes_close(p, 4);
		return rc;
	}
	for (int i = 0; i < 4; i++)
		fd_close(&p[i][i == 0 ? 0 : 1]);
	rc = exec_status(p[3][0], pl, err);
	fd_close(&p[3][0]);
	if (rc == VL_OK && p[0][1] >= 0 && fcntl(p[0][1], F_SETFL, O_NONBLOCK) != 0)
		rc = vl_err_set(err, VL_ERR_IO, "fcntl: %s", strerror(errno));
	if (rc != VL_OK) {
		kill(pid, SIGKILL);
		pipes_close(p, 3);
		/* The start's failure is the one to report; a failed wait has nothing to add. */
		child_reap(pid, pl->name, &ws, NULL);
		return rc;
	}
	*c = (struct child){pid, p[0][1], p[1][0], p[2][0]};
	return VL_OK;
}

/* io_feed - write more of the input to the child's stdin; close it when all is written or when
 * the child has stopped reading (EPIPE: it exits, and its status says why). */
static enum vl_err
io_feed(struct child *c, struct io *io, const char *name, char *err)
{
	size_t n = io->len - io->off;
	ssize_t w = 0;

	if (n > 0)
		w = write(c->in, io->p + io->off, n < CHILD_CHUNK ? n : CHILD_CHUNK);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return VL_OK;
	if (w < 0 && errno != EPIPE)
		return vl_err_set(err, VL_ERR_IO, "write to %s: %s", name, strerror(errno));
	if (w > 0)
		io->off += (size_t)w;
	if (w < 0 || io->off == io->len)
		fd_close(&c->in);
	return VL_OK;
}

/* io_take - read what *fd has into b, keeping at most keep bytes in b (the rest is read and
 * dropped, so the child never blocks on a full pipe); close *fd at end of file. */
static enum vl_err
io_take(int *fd, struct buf *b, size_t keep, const char *name, char *err)
{
	ssize_t r;

	buf_reserve(b, CHILD_CHUNK);
	r = read(*fd, b->data + b->len, CHILD_CHUNK);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return VL_OK;
	if (r < 0)
		return vl_err_set(err, VL_ERR_IO, "read from %s: %s", name, strerror(errno));
	if (r == 0)
		fd_close(fd);
	b->len += (size_t)r < keep - b->len ? (size_t)r : keep - b->len;
	b->data[b->len] = 0;
	return VL_OK;
}

/* io_pump - feed stdin and drain stdout and stderr at once (an input or a text larger than a pipe
 * must not deadlock) until both outputs end, stdout passes io->raw_max (io->r->cut) or
 * io->deadline passes (io->r->timed_out). The caller kills the child in the last two cases. */
static enum vl_err
io_pump(struct child *c, struct io *io, const char *name, char *err)
{
	enum vl_err rc = VL_OK;

	while (rc == VL_OK && (c->out >= 0 || c->diag >= 0) && !io->r->cut) {
		struct pollfd pf[3] = {
			{c->in, POLLOUT, 0}, {c->out, POLLIN, 0}, {c->diag, POLLIN, 0}};
		int64_t left = io->deadline - now_ms();
		int r;

		if (left <= 0) {
			io->r->timed_out = 1;
			break;
		}
		r = poll(pf, 3, left < INT32_MAX ? (int)left : INT32_MAX);
		if (r < 0 && errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (pf[0].revents)
			rc = io_feed(c, io, name, err);
		if (rc == VL_OK && pf[1].revents) {
			rc = io_take(&c->out, &io->r->out, io->raw_max + 1, name, err);
			io->r->cut = io->r->out.len > io->raw_max;
		}
		if (rc == VL_OK && pf[2].revents)
			rc = io_take(&c->diag, &io->r->diag, CHILD_STDERR_MAX, name, err);
	}
	return rc;
}

/* run - run pl's child on io: spawn, pump, kill it when a bound was hit or the pump failed,
 * close the pipes, reap it (*ws its wait status; one still running when wall_ms is over is
 * killed then, timed_out). SIGPIPE is blocked in this thread for the whole run, and one our
 * writes raised is taken back before the mask is restored. */
static enum vl_err
run(struct plan *pl, struct io *io, int in_fd, unsigned wall_ms, int *ws, char *err)
{
	struct child c = {-1, -1, -1, -1};
	enum vl_err rc, reaped;
	int was_pending;
	sigset_t old;

	if (sigpipe_block(&old, &was_pending) != 0) {
		fd_close(&in_fd);
		return vl_err_set(err, VL_ERR_INTERNAL, "cannot block SIGPIPE");
	}
	io->deadline = now_ms() + wall_ms;
	rc = child_spawn(&c, pl, in_fd, err);
	if (rc == VL_OK) {
		int killed;

		rc = io_pump(&c, io, pl->name, err);
		if ((killed = rc != VL_OK || io->r->timed_out || io->r->cut))
			kill(c.pid, SIGKILL);
		fd_close(&c.in);
		fd_close(&c.out);
		fd_close(&c.diag);
		reaped = killed ? child_reap(c.pid, pl->name, ws, rc == VL_OK ? err : NULL)
				: child_reap_by(c.pid, pl->name, io->deadline, ws,
						&io->r->timed_out, err);
		rc = rc == VL_OK ? reaped : rc;
	}
	sigpipe_restore(&old, was_pending);
	return rc;
}

/* memfd_input - a sealed memfd holding the len bytes at p, at offset 0, into *fd: the child's
 * stdin when it must seek. Sealed so that the child cannot change or grow it. Why not a file:
 * the input is decrypted evidence, and a memfd is never on disk (it may be swapped, as any of
 * the indexer's memory). */
static enum vl_err
memfd_input(int *fd, const struct plan *pl, const uint8_t *p, size_t len, char *err)
{
	static const int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	size_t off = 0;

	if ((*fd = memfd_create(pl->name, MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		return vl_err_set(err, VL_ERR_IO, "memfd_create: %s", strerror(errno));
	while (off < len) {
		size_t n = len - off < CHILD_CHUNK ? len - off : CHILD_CHUNK;
		ssize_t w = write(*fd, p + off, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			fd_close(fd);
			return vl_err_set(err, VL_ERR_IO, "write to memfd: %s", strerror(e));
		}
		off += (size_t)w;
	}
	if (lseek(*fd, 0, SEEK_SET) != 0 || fcntl(*fd, F_ADD_SEALS, seals) != 0) {
		int e = errno;

		fd_close(fd);
		return vl_err_set(err, VL_ERR_IO, "memfd: %s", strerror(e));
	}
	return VL_OK;
}

enum vl_err
child_text_run(const struct child_job *job, const uint8_t *p, size_t len, size_t out_max,
	       struct child_result *r, char *err)
{
	struct io io = {.p = p, .len = len, .raw_max = out_max, .r = r};
	struct plan pl;
	enum vl_err rc;
	int in_fd = -1;

	*r = (struct child_result){0};
	if ((rc = plan_make(&pl, job, err)) != VL_OK)
		return rc;
	if ((job->flags & CHILD_IN_MEMFD) && (rc = memfd_input(&in_fd, &pl, p, len, err)) != VL_OK)
		return rc;
	if (in_fd >= 0)
		io.off = io.len; /* nothing to feed: stdin holds it all */
	return run(&pl, &io, in_fd, job->wall_ms, &r->status, err);
}

void
child_result_free(struct child_result *r)
{
	buf_free(&r->out);
	buf_free(&r->diag);
}

enum vl_err
child_text_bounds(const struct child_job *job, const struct child_result *r, char *err)
{
	int sig = WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;

	if (r->timed_out)
		return vl_err_set(err, VL_ERR_LIMIT, "%s ran over %u ms", job->name, job->wall_ms);
	if (r->cut)
		return VL_OK; /* killed by us once the text passed its bound */
	if (sig == SIGXCPU)
		return vl_err_set(err, VL_ERR_LIMIT, "%s used over %u s of CPU", job->name,
				  job->cpu_s);
	if (sig == SIGKILL) /* not ours: RLIMIT_CPU's hard limit, or the kernel's OOM killer */
		return vl_err_set(err, VL_ERR_LIMIT, "%s killed: over %u s of CPU or no memory",
				  job->name, job->cpu_s);
	return VL_OK;
}

int
child_text_ended(const struct child_job *job, const struct child_result *r, struct child_end *e,
		 enum vl_err *rc, char *err)
{
	e->sig = WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;
	e->code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
	child_text_reason(r, e->why, sizeof(e->why));
	*rc = child_text_bounds(job, r, err);
	return *rc != VL_OK || r->cut;
}

int
child_text_said(const struct child_result *r, const char *s)
{
	return r->diag.len > 0 && memmem(r->diag.data, r->diag.len, s, strlen(s)) != NULL;
}

void
child_text_reason(const struct child_result *r, char *out, size_t cap)
{
	const struct buf *d = &r->diag;
	size_t end = d->len, start, n = 0;

	while (end > 0 && strchr("\n\r\t ", d->data[end - 1]) != NULL)
		end--;
	for (start = end; start > 0 && d->data[start - 1] != '\n'; start--)
		;
	for (size_t i = start; i < end && n + 1 < cap; i++)
		out[n++] = d->data[i] >= 0x20 && d->data[i] < 0x7f ? (char)d->data[i] : '?';
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "no message");
}

/* text_char - the code point to write for cp: form feeds (page and sheet ends) become
 * newlines, other C0 controls but \n and \t spaces. */
static uint32_t
text_char(uint32_t cp)
{
	if (cp == '\f')
		return '\n';
	return cp < 0x20 && cp != '\n' && cp != '\t' ? ' ' : cp;
}

int
child_text_clean(struct buf *out, const uint8_t *raw, size_t n, size_t max)
{
	size_t i = 0, used = 0;
	uint8_t *o;

	buf_reserve(out, n * 3 < max ? n * 3 : max); /* U+FFFD: 3 bytes for 1 */
	o = out->data + out->len;
	while (i < n) {
		uint32_t cp;
		int d = utf8_decode(raw + i, n - i, &cp);
		uint8_t enc[4];
		size_t k = utf8_encode(enc, d > 0 ? text_char(cp) : 0xfffd);

		if (used + k > max)
			break;
		memcpy(o + used, enc, k);
		used += k;
		i += d > 0 ? (size_t)d : 1;
	}
	out->len += used;
	out->data[out->len] = '\0';
	return i < n;
}
