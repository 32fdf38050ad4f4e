/* pdf_text - pdftotext in a child: fork, rlimits, exec; the parent feeds the PDF and reads the
 * text and the diagnostics on three pipes with poll under a wall-clock deadline, reaps the
 * child, and cleans the text.
 * Why fork+execve and not posix_spawn: the child must set its own rlimits before exec, and
 * posix_spawn has no file action for that; a prlimit(1) wrapper could, but would fold a missing
 * pdftotext into its own exit status. Between fork and exec the child makes only
 * async-signal-safe calls (the indexer has threads): everything it needs is made before fork. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pdf_text.h"
#include "utf8.h"

#define PDF_CHUNK 65536	    /* bytes moved through a pipe per read or write */
#define PDF_PROG_MAX 4096   /* bytes of the program path, NUL included */
#define PDF_REASON_MAX 160  /* bytes of stderr's line quoted in err */
#define PDF_FD_SCAN 65536   /* descriptors closed one by one when close_range is refused */

/* The parent's ends of the child's stdin, stdout and stderr; -1 once closed. */
struct pdf_child {
	pid_t pid;
	int in, out, diag;
};

/* What goes in and what comes out of one run. */
struct pdf_io {
	const uint8_t *p; /* the PDF, borrowed */
	size_t len, off;  /* its length, and how much of it the child has taken */
	struct buf raw;	  /* stdout as it came; the child is killed once it passes raw_max */
	size_t raw_max;
	struct buf diag;  /* the first PDF_STDERR_MAX bytes of stderr */
	int64_t deadline; /* now_ms() at which the wall-clock bound runs out */
	int timed_out;	  /* the wall-clock bound ran out and the child was killed */
	int cut;	  /* stdout passed raw_max and the child was killed */
};

/* pdftotext's arguments and environment, NUL-separated: UTF-8 text with \n line ends from the
 * PDF on stdin to stdout; page breaks stay as form feeds (text_clean makes them newlines). No -q:
 * its stderr says why it failed. */
#define PLAN_ARGS "-enc\0UTF-8\0-eol\0unix\0-\0-"
#define PLAN_ARGC 6
#define PLAN_ENV "PATH=/usr/bin:/bin\0LANG=C.UTF-8"
#define PLAN_ENVC 2

/* Everything the child needs, made before fork: it may not allocate. */
struct pdf_plan {
	int fds[4];		/* become its 0, 1, 2 and 3 (exec status, close-on-exec) */
	struct rlimit rl[4];	/* plan_rlimits, in order */
	char prog[PDF_PROG_MAX];
	char words[sizeof(PLAN_ARGS) + sizeof(PLAN_ENV)]; /* PLAN_ARGS then PLAN_ENV, copied */
	char *argv[PLAN_ARGC + 2];			 /* prog, PLAN_ARGS, NULL */
	char *envp[PLAN_ENVC + 1];
	int fd_max; /* descriptors below this are closed if close_range fails */
};

static const int plan_rlimits[4] = {RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_CORE};

int
pdf_is(const char *content_type, const char *filename)
{
	static const char *const types[] = {"application/pdf", "application/x-pdf"};
	size_t n;

	for (size_t i = 0; content_type && i < sizeof(types) / sizeof(types[0]); i++) {
		n = strlen(types[i]);
		/* The type alone (its NUL is in the set), or followed by parameters. */
		if (strncasecmp(content_type, types[i], n) == 0 &&
		    strchr("; \t", content_type[n]) != NULL)
			return 1;
	}
	n = filename ? strlen(filename) : 0;
	return n >= 4 && strcasecmp(filename + n - 4, ".pdf") == 0;
}

/* pdf_magic - whether "%PDF-" starts within the first PDF_MAGIC_SPAN of the len bytes at p. */
static int
pdf_magic(const uint8_t *p, size_t len)
{
	size_t span = len < PDF_MAGIC_SPAN + 4 ? len : PDF_MAGIC_SPAN + 4; /* last start + 5 */

	return p != NULL && memmem(p, span, "%PDF-", 5) != NULL;
}

int
pdf_is_bytes(const char *content_type, const char *filename, const uint8_t *p, size_t len)
{
	return pdf_is(content_type, filename) && pdf_magic(p, len);
}

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
 * pipe already on 0-3 is not overwritten), every other descriptor closed, SIGPIPE default and
 * no signal blocked (exec keeps both, and serve ignores SIGPIPE), the rlimits, execve. Never
 * returns. fcntl, dup2, sigaction, sigprocmask, execve, write and _exit are async-signal-safe;
 * close_range and setrlimit are not on POSIX's list but are bare system calls in glibc. */
static void
child_exec(const struct pdf_plan *pl)
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

/* plan_make - fill pl's program, arguments, environment and rlimits from lim (not its fds);
 * VL_ERR_CONFIG when lim->prog is not an absolute path that fits. */
static enum vl_err
plan_make(struct pdf_plan *pl, const struct pdf_limits *lim, char *err)
{
	size_t n = lim->prog ? strlen(lim->prog) : 0;
	struct rlimit nofile;
	char *w = pl->words;

	if (n == 0 || n >= sizeof(pl->prog) || lim->prog[0] != '/')
		return vl_err_set(err, VL_ERR_CONFIG, "pdftotext path is not absolute: '%s'",
				  lim->prog ? lim->prog : "");
	memcpy(pl->prog, lim->prog, n + 1);
	memcpy(pl->words, PLAN_ARGS, sizeof(PLAN_ARGS));
	memcpy(pl->words + sizeof(PLAN_ARGS), PLAN_ENV, sizeof(PLAN_ENV));
	pl->argv[0] = pl->prog;
	for (int i = 0; i < PLAN_ARGC; i++, w += strlen(w) + 1)
		pl->argv[1 + i] = w;
	pl->argv[PLAN_ARGC + 1] = NULL;
	for (int i = 0; i < PLAN_ENVC; i++, w += strlen(w) + 1)
		pl->envp[i] = w;
	pl->envp[PLAN_ENVC] = NULL;
	/* CPU: SIGXCPU at the soft limit, SIGKILL a second later if it is caught. */
	pl->rl[0] = plan_rlimit(RLIMIT_AS, lim->as_bytes, 0);
	pl->rl[1] = plan_rlimit(RLIMIT_CPU, lim->cpu_s, 1);
	pl->rl[2] = plan_rlimit(RLIMIT_FSIZE, 0, 0);
	pl->rl[3] = plan_rlimit(RLIMIT_CORE, 0, 0);
	pl->fd_max = PDF_FD_SCAN;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < PDF_FD_SCAN)
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
 * a child another thread forks at the same time does not keep them past its exec. */
static enum vl_err
pipes_open(int p[4][2], char *err)
{
	for (int i = 0; i < 4; i++)
		if (pipe2(p[i], O_CLOEXEC) != 0) {
			int e = errno;

			pipes_close(p, i);
			return vl_err_set(err, VL_ERR_IO, "pipe: %s", strerror(e));
		}
	return VL_OK;
}

/* exec_status - read the exec-status pipe: end of file means execve succeeded (the pipe closed
 * on exec); an errno means the child could not start pdftotext. A program that is not there
 * or cannot be run is this installation's lasting state (VL_ERR_CONFIG); anything else
 * (ENOMEM, EAGAIN, EMFILE in the child) is the moment's (VL_ERR_IO). */
static enum vl_err
exec_status(int fd, const char *prog, char *err)
{
	ssize_t n;
	int e = 0;

	while ((n = read(fd, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n == 0)
		return VL_OK;
	if (n != (ssize_t)sizeof(e))
		return vl_err_set(err, VL_ERR_IO, "starting pdftotext: no status");
	if (e == ENOENT || e == ENOTDIR)
		return vl_err_set(err, VL_ERR_CONFIG,
				  "pdftotext is not installed (%s: %s): install poppler-utils", prog,
				  strerror(e));
	if (e == EACCES || e == ENOEXEC)
		return vl_err_set(err, VL_ERR_CONFIG,
				  "pdftotext cannot be run (%s: %s): reinstall poppler-utils", prog,
				  strerror(e));
	return vl_err_set(err, VL_ERR_IO, "starting pdftotext: %s", strerror(e));
}

/* child_reap - wait for the child: its pid only, other threads' children are theirs. */
static enum vl_err
child_reap(pid_t pid, int *ws, char *err)
{
	while (waitpid(pid, ws, 0) < 0)
		if (errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "waitpid pdftotext: %s", strerror(errno));
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
child_reap_by(pid_t pid, int64_t deadline, int *ws, int *late, char *err)
{
	int64_t nap = 1, left;
	pid_t r;

	for (;;) {
		if ((r = waitpid(pid, ws, WNOHANG)) == pid)
			return VL_OK;
		if (r < 0 && errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "waitpid pdftotext: %s", strerror(errno));
		if ((left = deadline - now_ms()) <= 0)
			break;
		nap_ms(nap < left ? nap : left);
		nap = nap < 64 ? nap * 2 : 64;
	}
	kill(pid, SIGKILL);
	*late = 1;
	return child_reap(pid, ws, err);
}

/* child_spawn - fork and exec pl's program on fresh pipes; c holds the parent's ends and the
 * pid when it returns VL_OK, and nothing (child reaped, pipes closed) otherwise. */
static enum vl_err
child_spawn(struct pdf_child *c, struct pdf_plan *pl, char *err)
{
	int p[4][2], ws;
	enum vl_err rc;
	pid_t pid;

	if ((rc = pipes_open(p, err)) != VL_OK)
		return rc;
	for (int i = 0; i < 4; i++)
		pl->fds[i] = p[i][i == 0 ? 0 : 1];
	if ((pid = fork()) < 0) {
		rc = vl_err_set(err, VL_ERR_IO, "fork: %s", strerror(errno));
		pipes_close(p, 4);
		return rc;
	}
	if (pid == 0)
		child_exec(pl);
	for (int i = 0; i < 4; i++)
		fd_close(&p[i][i == 0 ? 0 : 1]);
	rc = exec_status(p[3][0], pl->prog, err);
	fd_close(&p[3][0]);
	if (rc == VL_OK && fcntl(p[0][1], F_SETFL, O_NONBLOCK) != 0)
		rc = vl_err_set(err, VL_ERR_IO, "fcntl: %s", strerror(errno));
	if (rc != VL_OK) {
		kill(pid, SIGKILL);
		pipes_close(p, 3);
		/* The start's failure is the one to report; a failed wait has nothing to add. */
		child_reap(pid, &ws, NULL);
		return rc;
	}
	*c = (struct pdf_child){pid, p[0][1], p[1][0], p[2][0]};
	return VL_OK;
}

/* io_feed - write more of the PDF to the child's stdin; close it when all is written or when
 * the child has stopped reading (EPIPE: it exits, and its status says why). */
static enum vl_err
io_feed(struct pdf_child *c, struct pdf_io *io, char *err)
{
	size_t n = io->len - io->off;
	ssize_t w = 0;

	if (n > 0)
		w = write(c->in, io->p + io->off, n < PDF_CHUNK ? n : PDF_CHUNK);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return VL_OK;
	if (w < 0 && errno != EPIPE)
		return vl_err_set(err, VL_ERR_IO, "write to pdftotext: %s", strerror(errno));
	if (w > 0)
		io->off += (size_t)w;
	if (w < 0 || io->off == io->len)
		fd_close(&c->in);
	return VL_OK;
}

/* io_take - read what *fd has into b, keeping at most keep bytes in b (the rest is read and
 * dropped, so the child never blocks on a full pipe); close *fd at end of file. */
static enum vl_err
io_take(int *fd, struct buf *b, size_t keep, char *err)
{
	ssize_t r;

	buf_reserve(b, PDF_CHUNK);
	r = read(*fd, b->data + b->len, PDF_CHUNK);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return VL_OK;
	if (r < 0)
		return vl_err_set(err, VL_ERR_IO, "read from pdftotext: %s", strerror(errno));
	if (r == 0)
		fd_close(fd);
	b->len += (size_t)r < keep - b->len ? (size_t)r : keep - b->len;
	b->data[b->len] = 0;
	return VL_OK;
}

/* io_pump - feed stdin and drain stdout and stderr at once (a PDF or a text larger than a pipe
 * must not deadlock) until both outputs end, stdout passes io->raw_max (io->cut) or
 * io->deadline passes (io->timed_out). The caller kills the child in the last two cases. */
static enum vl_err
io_pump(struct pdf_child *c, struct pdf_io *io, char *err)
{
	enum vl_err rc = VL_OK;

	while (rc == VL_OK && (c->out >= 0 || c->diag >= 0) && !io->cut) {
		struct pollfd pf[3] = {
			{c->in, POLLOUT, 0}, {c->out, POLLIN, 0}, {c->diag, POLLIN, 0}};
		int64_t left = io->deadline - now_ms();
		int r;

		if (left <= 0) {
			io->timed_out = 1;
			break;
		}
		r = poll(pf, 3, left < INT32_MAX ? (int)left : INT32_MAX);
		if (r < 0 && errno != EINTR)
			return vl_err_set(err, VL_ERR_IO, "poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (pf[0].revents)
			rc = io_feed(c, io, err);
		if (rc == VL_OK && pf[1].revents) {
			rc = io_take(&c->out, &io->raw, io->raw_max + 1, err);
			io->cut = io->raw.len > io->raw_max;
		}
		if (rc == VL_OK && pf[2].revents)
			rc = io_take(&c->diag, &io->diag, PDF_STDERR_MAX, err);
	}
	return rc;
}

/* pdf_run - run pl's child on io: spawn, pump, kill it when a bound was hit or the pump
 * failed, close the pipes, reap it (*ws its wait status; one still running when wall_ms is
 * over is killed then, io->timed_out). SIGPIPE is blocked in this thread for the whole run,
 * and one our writes raised is taken back before the mask is restored. */
static enum vl_err
pdf_run(struct pdf_plan *pl, struct pdf_io *io, unsigned wall_ms, int *ws, char *err)
{
	struct pdf_child c = {-1, -1, -1, -1};
	enum vl_err rc, reaped;
	int was_pending;
	sigset_t old;

	if (sigpipe_block(&old, &was_pending) != 0)
		return vl_err_set(err, VL_ERR_INTERNAL, "cannot block SIGPIPE");
	io->deadline = now_ms() + wall_ms;
	rc = child_spawn(&c, pl, err);
	if (rc == VL_OK) {
		int killed;

		rc = io_pump(&c, io, err);
		if ((killed = rc != VL_OK || io->timed_out || io->cut))
			kill(c.pid, SIGKILL);
		fd_close(&c.in);
		fd_close(&c.out);
		fd_close(&c.diag);
		reaped = killed ? child_reap(c.pid, ws, rc == VL_OK ? err : NULL)
				: child_reap_by(c.pid, io->deadline, ws, &io->timed_out, err);
		rc = rc == VL_OK ? reaped : rc;
	}
	sigpipe_restore(&old, was_pending);
	return rc;
}

/* diag_has - whether the kept stderr holds s. */
static int
diag_has(const struct pdf_io *io, const char *s)
{
	return io->diag.len > 0 && memmem(io->diag.data, io->diag.len, s, strlen(s)) != NULL;
}

/* diag_reason - the last non-empty line of the kept stderr (poppler's fatal error comes after
 * its warnings: "May not be a PDF file" first, "Couldn't read xref table" last), printable
 * ASCII, at most cap - 1 bytes, into out. */
static void
diag_reason(const struct buf *d, char *out, size_t cap)
{
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

/* child_verdict - what the end of the child (wait status ws) means; err says why on failure. */
static enum vl_err
child_verdict(int ws, const struct pdf_io *io, const struct pdf_limits *lim, char *err)
{
	int sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0, code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	char why[PDF_REASON_MAX];

	if (io->timed_out)
		return vl_err_set(err, VL_ERR_LIMIT, "pdftotext ran over %u ms", lim->wall_ms);
	if (io->cut)
		return VL_OK; /* killed by us once the text passed max */
	if (sig == SIGXCPU)
		return vl_err_set(err, VL_ERR_LIMIT, "pdftotext used over %u s of CPU", lim->cpu_s);
	if (sig == SIGKILL) /* not ours: RLIMIT_CPU's hard limit, or the kernel's OOM killer */
		return vl_err_set(err, VL_ERR_LIMIT,
				  "pdftotext killed: over %u s of CPU or no memory", lim->cpu_s);
	if (sig == SIGABRT && diag_has(io, "bad_alloc"))
		return vl_err_set(err, VL_ERR_LIMIT, "pdftotext ran out of its %zu MiB of memory",
				  lim->as_bytes >> 20);
	diag_reason(&io->diag, why, sizeof(why));
	if (sig != 0)
		return vl_err_set(err, VL_ERR_PARSE, "pdftotext died of signal %d: %s", sig, why);
	if (code == 1 && diag_has(io, "Incorrect password"))
		return vl_err_set(err, VL_ERR_CRYPTO, "the PDF needs a password: %s", why);
	if (code == 3)
		return vl_err_set(err, VL_ERR_CRYPTO, "the PDF forbids copying its text: %s", why);
	if (code != 0)
		return vl_err_set(err, VL_ERR_PARSE, "pdftotext exit %d: %s", code, why);
	return VL_OK;
}

/* text_char - the code point to write for cp: form feeds (pdftotext's page ends) become
 * newlines, other C0 controls but \n and \t spaces. */
static uint32_t
text_char(uint32_t cp)
{
	if (cp == '\f')
		return '\n';
	return cp < 0x20 && cp != '\n' && cp != '\t' ? ' ' : cp;
}

/* text_clean - append raw (n bytes) to out as valid UTF-8 (each invalid byte U+FFFD) through
 * text_char, at most max bytes, never splitting a character; 1 when it stopped short of n. */
static int
text_clean(struct buf *out, const uint8_t *raw, size_t n, size_t max)
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

enum vl_err
pdf_text_with(const struct pdf_limits *lim, const uint8_t *p, size_t len, struct buf *out,
	      size_t max, int *truncated, char *err)
{
	struct pdf_io io = {.p = p, .len = len, .raw_max = max < PDF_TEXT_MAX ? max : PDF_TEXT_MAX};
	struct pdf_plan pl;
	enum vl_err rc;
	int ws = 0;

	*truncated = 0;
	if (len > PDF_INPUT_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "PDF of %zu bytes is over PDF_INPUT_MAX (%u)",
				  len, PDF_INPUT_MAX);
	/* A label is not a PDF: a process costs milliseconds, and pdftotext's verdict on such
	 * bytes ("Couldn't read xref table") would say less. */
	if (!pdf_magic(p, len))
		return vl_err_set(err, VL_ERR_PARSE, "not a PDF: no %%PDF- in its first %u bytes",
				  PDF_MAGIC_SPAN);
	if ((rc = plan_make(&pl, lim, err)) != VL_OK)
		return rc;
	rc = pdf_run(&pl, &io, lim->wall_ms, &ws, err);
	if (rc == VL_OK)
		rc = child_verdict(ws, &io, lim, err);
	if (rc == VL_OK)
		*truncated = text_clean(out, io.raw.data, io.raw.len, io.raw_max) || io.cut;
	buf_free(&io.raw);
	buf_free(&io.diag);
	return rc;
}

enum vl_err
pdf_text(const uint8_t *p, size_t len, struct buf *out, size_t max, int *truncated, char *err)
{
	static const struct pdf_limits defaults = {PDF_PROG, PDF_WALL_MS, PDF_CPU_S, PDF_AS_BYTES};

	return pdf_text_with(&defaults, p, len, out, max, truncated, err);
}
