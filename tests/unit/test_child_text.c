/* test_child_text - archiver/child_text.{c,h} on its own, one promise of child_text.h at a
 * time: /bin/sh -c bodies, /usr/bin/env, /bin/echo and files in a scratch folder stand in for
 * the converters. What pdftotext's and catdoc's codes and messages mean is test_pdf_text's and
 * test_legacy_text's. After every run no child is left, exited or not, and no descriptor. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "child_text.h"
#include "unit.h"

#define MIB (1u << 20)
#define WALL_MS 20000	     /* a run's wall-clock bound where none is under test */
#define CPU_S 10	     /* its CPU bound likewise */
#define AS_BYTES (256 * MIB) /* its address space likewise */
#define PACKAGE "stand-in-utils"
#define THREADS 4	    /* threads running child_text_run at once */
#define THREAD_RUNS 4	    /* runs per thread */
#define THREAD_BYTES 200000 /* input of each run, larger than a pipe buffer */

/* A /bin/sh -c stand-in: its arguments and the job around them. */
struct stand_in {
	const char *args[3];
	struct child_job job;
};

/* stand_in - s as /bin/sh -c body, stdin as flags say, with wall_ms and the other bounds at
 * their defaults. */
static void
stand_in(struct stand_in *s, const char *body, unsigned flags, unsigned wall_ms)
{
	s->args[0] = "-c";
	s->args[1] = body;
	s->args[2] = NULL;
	s->job = (struct child_job){.prog = "/bin/sh", .name = "stand-in", .package = PACKAGE,
				    .args = s->args, .flags = flags, .wall_ms = wall_ms,
				    .cpu_s = CPU_S, .as_bytes = AS_BYTES};
}

/* no_child - no child of ours is left, exited or not (a zombie would be reaped here). */
static int
no_child(void)
{
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* fd_count - how many descriptors this process has open. */
static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* elapsed_ms - milliseconds since *t0 (CLOCK_MONOTONIC). */
static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* run - child_text_run of job on the len bytes at p into r (released first), checking what
 * every run must keep: an error text with every error, no child left, no descriptor more
 * than before; whether it returned want (said on stderr when not). */
static int
run(const struct child_job *job, const void *p, size_t len, size_t out_max,
    struct child_result *r, char *err, enum vl_err want, const char *label)
{
	int fds = fd_count();
	enum vl_err rc;

	child_result_free(r);
	err[0] = '\0';
	rc = child_text_run(job, p, len, out_max, r, err);
	if (rc != want)
		fprintf(stderr, "\n%s: %s (%s), want %s\n", label, vl_err_str(rc), err,
			vl_err_str(want));
	CHECK(no_child(), label);
	CHECK(fds >= 0 && fd_count() == fds, label); /* -1: no /proc, nothing to compare */
	CHECK(rc == VL_OK || err[0] != '\0', label);
	return rc == want;
}

/* out_is - whether r's stdout is the n bytes at s, exactly. */
static int
out_is(const struct child_result *r, const void *s, size_t n)
{
	return r->out.len == n && (n == 0 || memcmp(r->out.data, s, n) == 0);
}

/* sig_mask_of - the mask after "NAME:\t" in r's /proc status lines, or ~0 when absent. */
static uint64_t
sig_mask_of(const struct child_result *r, const char *name)
{
	char text[512], *at;
	size_t n = r->out.len < sizeof(text) - 1 ? r->out.len : sizeof(text) - 1;

	memcpy(text, r->out.data ? (const char *)r->out.data : "", n);
	text[n] = '\0';
	if ((at = strstr(text, name)) == NULL)
		return ~(uint64_t)0;
	return strtoull(at + strlen(name), NULL, 16);
}

/* glibc_reserved - the mask bits of the signals glibc keeps for itself (32 up to SIGRTMIN:
 * its threads' cancellation and setxid), which no program can catch, ignore or reset through
 * it: make leaves them ignored in its children, and so they reach ours. */
static uint64_t
glibc_reserved(void)
{
	uint64_t m = 0;

	for (int sig = 32; sig < SIGRTMIN; sig++)
		m |= (uint64_t)1 << (sig - 1);
	return m;
}

/* exited - whether r's child exited with code. */
static int
exited(const struct child_result *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

/* killed_by - whether r's child died of signal sig. */
static int
killed_by(const struct child_result *r, int sig)
{
	return WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig;
}

/* noise - n bytes of every value, NULs and newlines among them, from seed, into b (reset
 * first). */
static void
noise(struct buf *b, size_t n, uint32_t seed)
{
	uint32_t x = seed | 1;

	buf_reset(b);
	buf_reserve(b, n);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b->data[i] = (uint8_t)x;
	}
	b->len = n;
	b->data[n] = 0;
}

/* test_stdout - stdout as it came: raw bytes, a MiB (16 pipe buffers), nothing at all. */
static void
test_stdout(void)
{
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN];
	int whole = 1;

	stand_in(&s, "printf 'a\\000b\\377\\r\\n'", 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "raw"), "raw");
	CHECK(out_is(&r, "a\0b\377\r\n", 6) && exited(&r, 0), "raw");
	CHECK(!r.cut && !r.timed_out && r.diag.len == 0, "raw");
	stand_in(&s, "yes 0123456789abcde | head -c 1048576", 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, MIB, &r, err, VL_OK, "1 MiB"), "1 MiB");
	CHECK(r.out.len == MIB && !r.cut && exited(&r, 0), "1 MiB");
	for (size_t i = 0; i + 16 <= r.out.len; i += 16)
		whole &= memcmp(r.out.data + i, "0123456789abcde\n", 16) == 0;
	CHECK(whole, "1 MiB");
	stand_in(&s, "exit 0", 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "none"), "none");
	CHECK(out_is(&r, "", 0) && exited(&r, 0), "none");
	child_result_free(&r);
}

/* test_stdin - the input as the child reads it, exactly, by pipe and by memfd: a MiB and some
 * of every byte value, and nothing at all. */
static void
test_stdin(void)
{
	static const unsigned modes[] = {0, CHILD_IN_MEMFD};
	struct buf in = {0};
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN];

	noise(&in, MIB + 17, 4711);
	for (size_t i = 0; i < 2; i++) {
		const char *label = modes[i] ? "memfd" : "pipe";

		stand_in(&s, "exec cat", modes[i], WALL_MS);
		CHECK(run(&s.job, in.data, in.len, 2 * MIB, &r, err, VL_OK, label), label);
		CHECK(out_is(&r, in.data, in.len) && exited(&r, 0), label);
		stand_in(&s, "wc -c", modes[i], WALL_MS);
		CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, label), label);
		CHECK(out_is(&r, "0\n", 2), label);
	}
	buf_free(&in);
	child_result_free(&r);
}

/* test_memfd - CHILD_IN_MEMFD's stdin is a memfd (not on disk), seekable (read twice through
 * /dev/stdin, where a pipe gives it once) and sealed: it cannot be emptied (RLIMIT_FSIZE 0
 * already kills a write, not a truncation). */
static void
test_memfd(void)
{
	static const char body[] =
		"readlink /proc/$$/fd/0; wc -c </dev/stdin; "
		"if truncate -s 0 /dev/stdin 2>/dev/null; then echo emptied; else echo sealed; fi; "
		"wc -c </dev/stdin";
	static const char want[] = "/memfd:stand-in (deleted)\n12\nsealed\n12\n";
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN];

	stand_in(&s, body, CHILD_IN_MEMFD, WALL_MS);
	CHECK(run(&s.job, "hello memfd\n", 12, 4096, &r, err, VL_OK, "memfd"), "memfd");
	if (!out_is(&r, want, strlen(want)))
		fprintf(stderr, "\nmemfd: '%s'\n", r.out.data ? (char *)r.out.data : "");
	CHECK(out_is(&r, want, strlen(want)), "memfd");
	stand_in(&s, "wc -c </dev/stdin; wc -c </dev/stdin", 0, WALL_MS);
	CHECK(run(&s.job, "hello pipe\n", 11, 4096, &r, err, VL_OK, "pipe"), "pipe");
	CHECK(out_is(&r, "11\n0\n", 5), "pipe");
	child_result_free(&r);
}

/* test_cut - past out_max the child is killed and r->cut set, and that is no error: the text
 * is good as far as it goes. Exactly out_max is no cut. */
static void
test_cut(void)
{
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN];

	stand_in(&s, "exec yes", 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 1000, &r, err, VL_OK, "endless"), "endless");
	CHECK(r.cut && !r.timed_out && killed_by(&r, SIGKILL), "endless");
	CHECK(r.out.len > 1000 && memcmp(r.out.data, "y\ny\n", 4) == 0, "endless");
	CHECK(child_text_bounds(&s.job, &r, err) == VL_OK, "endless");
	stand_in(&s, "printf 0123456789", 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 10, &r, err, VL_OK, "exactly"), "exactly");
	CHECK(!r.cut && out_is(&r, "0123456789", 10) && exited(&r, 0), "exactly");
	CHECK(run(&s.job, NULL, 0, 9, &r, err, VL_OK, "one over"), "one over");
	CHECK(r.cut && r.out.len > 9 && memcmp(r.out.data, "012345678", 9) == 0, "one over");
	child_result_free(&r);
}

/* test_stderr - the first CHILD_STDERR_MAX bytes of stderr kept (the rest drained: the child
 * never blocks on it), its last line the reason, said or not. */
static void
test_stderr(void)
{
	static const char lines[] = "warning: one\nwarning: two\nfatal: \001three\n\n";
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN], why[CHILD_REASON_MAX], body[128], small[8], tail[16];
	int same = 1, part;

	snprintf(body, sizeof(body), "printf '%s' >&2; exit 4",
		 "warning: one\\nwarning: two\\nfatal: \\001three\\n\\n");
	stand_in(&s, body, 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "lines"), "lines");
	CHECK(r.diag.len == strlen(lines) && memcmp(r.diag.data, lines, r.diag.len) == 0,
	      "lines");
	CHECK(exited(&r, 4) && r.out.len == 0, "lines");
	child_text_reason(&r, why, sizeof(why));
	CHECK(strcmp(why, "fatal: ?three") == 0, "lines reason");
	child_text_reason(&r, small, sizeof(small));
	CHECK(strcmp(small, "fatal: ") == 0, "reason cap");
	CHECK(child_text_said(&r, "warning: two") && !child_text_said(&r, "warning: four"),
	      "said");
	/* 100,000 bytes, CHILD_STDERR_MAX kept; its last line is the kept part's. */
	stand_in(&s, "yes 'line of stderr' | head -c 100000 >&2; echo out", 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "long"), "long");
	CHECK(r.diag.len == CHILD_STDERR_MAX && out_is(&r, "out\n", 4) && exited(&r, 0), "long");
	for (size_t i = 0; i + 15 <= r.diag.len; i += 15)
		same &= memcmp(r.diag.data + i, "line of stderr\n", 15) == 0;
	CHECK(same, "long");
	part = CHILD_STDERR_MAX % 15 ? (int)(CHILD_STDERR_MAX % 15) : 14;
	snprintf(tail, sizeof(tail), "%.*s", part, "line of stderr");
	child_text_reason(&r, why, sizeof(why));
	CHECK(strcmp(why, tail) == 0, "long reason");
	CHECK(!child_text_said(&r, "out"), "long said");
	stand_in(&s, "printf ' \\n\\r\\n' >&2; exit 1", 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "blank"), "blank");
	child_text_reason(&r, why, sizeof(why));
	CHECK(strcmp(why, "no message") == 0 && !child_text_said(&r, "x"), "blank");
	child_result_free(&r);
}

/* test_wall - past wall_ms the child is killed and reaped, timed_out set, whether it still
 * writes or has closed its outputs and lingers; the bounds say VL_ERR_LIMIT. */
static void
test_wall(void)
{
	static const struct {
		const char *label, *body, *out;
	} cases[] = {
		{"hang", "exec sleep 30", ""},
		{"linger", "printf said; exec >&- 2>&-; exec sleep 30", "said"},
	};
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *label = cases[i].label;
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		stand_in(&s, cases[i].body, 0, 300);
		CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, label), label);
		CHECK(elapsed_ms(&t0) < 10000, label);
		CHECK(r.timed_out && !r.cut && killed_by(&r, SIGKILL), label);
		CHECK(out_is(&r, cases[i].out, strlen(cases[i].out)), label);
		CHECK(child_text_bounds(&s.job, &r, err) == VL_ERR_LIMIT &&
			      strstr(err, "stand-in ran over 300 ms") != NULL,
		      label);
	}
	child_result_free(&r);
}

/* test_rlimits - cpu_s (SIGXCPU; SIGKILL a second later when that is ignored), as_bytes (an
 * allocation fails), RLIMIT_FSIZE 0 (a write to a file: SIGXFSZ) and RLIMIT_CORE 0. */
static void
test_rlimits(void)
{
	static const char grow[] =
		"exec awk 'BEGIN { s = \"x\"; for (i = 0; i < 25; i++) s = s s; print length(s) }'";
	char dir[UNIT_TMP_MAX], body[UNIT_TMP_MAX + 64], err[VL_ERRLEN];
	struct child_result r = {0};
	struct stand_in s;

	stand_in(&s, "while :; do :; done", 0, 30000);
	s.job.cpu_s = 1;
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "cpu"), "cpu");
	CHECK(killed_by(&r, SIGXCPU) && !r.timed_out, "cpu");
	CHECK(child_text_bounds(&s.job, &r, err) == VL_ERR_LIMIT &&
		      strstr(err, "over 1 s of CPU") != NULL,
	      "cpu");
	stand_in(&s, "trap '' XCPU; while :; do :; done", 0, 30000);
	s.job.cpu_s = 1;
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "cpu, SIGXCPU ignored"), "cpu ignored");
	CHECK(killed_by(&r, SIGKILL) && !r.timed_out, "cpu ignored");
	CHECK(child_text_bounds(&s.job, &r, err) == VL_ERR_LIMIT && strstr(err, "killed") != NULL,
	      "cpu ignored");
	/* 32 MiB of string fits in AS_BYTES, not in 16 MiB. */
	stand_in(&s, grow, 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "memory"), "memory");
	CHECK(out_is(&r, "33554432\n", 9) && exited(&r, 0), "memory");
	s.job.as_bytes = 16 * MIB;
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "memory bound"), "memory bound");
	CHECK(r.out.len == 0 && !exited(&r, 0) && child_text_said(&r, "out of memory"),
	      "memory bound");
	unit_tmpdir_new(dir, "child");
	snprintf(body, sizeof(body), "ulimit -c; echo x >'%s/file'; echo written", dir);
	stand_in(&s, body, 0, WALL_MS);
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "file size"), "file size");
	CHECK(out_is(&r, "0\n", 2) && killed_by(&r, SIGXFSZ), "file size");
	CHECK(unit_tmpdir_free(dir) == 0, "tmpdir");
	child_result_free(&r);
}

/* test_environment - the child's environment is PATH and LANG, whatever the parent's; its
 * descriptors 0-2 only, one the parent leaks without close-on-exec included; no signal
 * ignored and none blocked, though the parent ignores SIGPIPE and SIGQUIT (as a background
 * job's shell does SIGINT and SIGQUIT) and blocks SIGUSR1. */
static void
test_environment(void)
{
	static const char *const sh_fds[] = {"-c", "ls /proc/$$/fd; :", NULL};
	static const char *const grep_sigs[] = {"^Sig[BI]", "/proc/self/status", NULL};
	struct child_job job = {.prog = "/usr/bin/env", .name = "env", .package = "coreutils",
				.wall_ms = WALL_MS, .cpu_s = CPU_S, .as_bytes = AS_BYTES};
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe, old_quit;
	struct child_result r = {0};
	sigset_t usr1, old_mask;
	char err[VL_ERRLEN];
	int leak;

	CHECK(setenv("VELLUM_CANARY", "1", 1) == 0, "env");
	CHECK(run(&job, NULL, 0, 4096, &r, err, VL_OK, "env"), "env");
	CHECK(unsetenv("VELLUM_CANARY") == 0, "env");
	CHECK(out_is(&r, "PATH=/usr/bin:/bin\nLANG=C.UTF-8\n", 32), "env");
	job.prog = "/bin/sh";
	job.args = sh_fds;
	leak = fcntl(1, F_DUPFD, 200); /* no close-on-exec */
	CHECK(leak >= 200, "fds");
	CHECK(run(&job, NULL, 0, 4096, &r, err, VL_OK, "fds"), "fds");
	close(leak);
	CHECK(out_is(&r, "0\n1\n2\n", 6), "fds");
	/* grep itself: a shell blocks every signal while it forks. */
	job.prog = "/bin/grep";
	job.args = grep_sigs;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	CHECK(sigaction(SIGPIPE, &ign, &old_pipe) == 0, "signals");
	CHECK(sigaction(SIGQUIT, &ign, &old_quit) == 0, "signals");
	CHECK(pthread_sigmask(SIG_BLOCK, &usr1, &old_mask) == 0, "signals");
	CHECK(run(&job, NULL, 0, 4096, &r, err, VL_OK, "signals"), "signals");
	CHECK(pthread_sigmask(SIG_SETMASK, &old_mask, NULL) == 0, "signals");
	CHECK(sigaction(SIGQUIT, &old_quit, NULL) == 0, "signals");
	CHECK(sigaction(SIGPIPE, &old_pipe, NULL) == 0, "signals");
	CHECK(sig_mask_of(&r, "SigBlk:\t") == 0, "signals: none blocked");
	CHECK((sig_mask_of(&r, "SigIgn:\t") & ~glibc_reserved()) == 0, "signals: none ignored");
	child_result_free(&r);
}

/* file_put - dir/name holding body with mode; its path into path. */
static void
file_put(char *path, size_t cap, const char *dir, const char *name, const char *body,
	 mode_t mode)
{
	FILE *f;

	snprintf(path, cap, "%s/%s", dir, name);
	CHECK((f = fopen(path, "w")) != NULL, name);
	if (f != NULL)
		CHECK(fputs(body, f) >= 0 && fclose(f) == 0 && chmod(path, mode) == 0, name);
}

/* test_prog - a program that is no absolute path, is not there or cannot be run:
 * VL_ERR_CONFIG naming the package, nothing left running, r empty. */
static void
test_prog(void)
{
	char dir[UNIT_TMP_MAX], plain[UNIT_TMP_MAX + 64], junk[UNIT_TMP_MAX + 64];
	struct {
		const char *prog, *why;
	} cases[] = {
		{"sh", "path is not absolute"},
		{"", "path is not absolute"},
		{NULL, "path is not absolute"},
		{"/nonexistent/stand-in", "stand-in is not installed"},
		{"/etc/passwd/stand-in", "stand-in is not installed"},
		{plain, "stand-in cannot be run"},
		{junk, "stand-in cannot be run"},
		{dir, "stand-in cannot be run"},
	};
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN];

	unit_tmpdir_new(dir, "child");
	file_put(plain, sizeof(plain), dir, "plain", "#!/bin/sh\necho hello\n", 0644);
	file_put(junk, sizeof(junk), dir, "junk", "\x7f\x45LF but not one\n", 0755);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *label = cases[i].why;

		stand_in(&s, "echo hello", 0, WALL_MS);
		s.job.prog = cases[i].prog;
		CHECK(run(&s.job, "input", 5, 4096, &r, err, VL_ERR_CONFIG, label), label);
		if (strstr(err, cases[i].why) == NULL || strstr(err, PACKAGE) == NULL)
			fprintf(stderr, "\n%s: err '%s'\n", label, err);
		CHECK(strstr(err, cases[i].why) != NULL && strstr(err, PACKAGE) != NULL, label);
		CHECK(r.out.len == 0 && r.diag.len == 0 && r.status == 0 && !r.cut, label);
	}
	CHECK(chmod(plain, 0755) == 0, "runnable");
	s.job.prog = plain;
	CHECK(run(&s.job, NULL, 0, 4096, &r, err, VL_OK, "runnable"), "runnable");
	CHECK(out_is(&r, "hello\n", 6), "runnable");
	CHECK(unit_tmpdir_free(dir) == 0, "tmpdir");
	child_result_free(&r);
}

/* test_args - CHILD_ARGS_MAX arguments and CHILD_WORDS_MAX bytes of them reach the program;
 * one more of either is VL_ERR_LIMIT, before any child. */
static void
test_args(void)
{
	const char *args[CHILD_ARGS_MAX + 2];
	char a[CHILD_WORDS_MAX], b[CHILD_WORDS_MAX], want[2 * CHILD_WORDS_MAX];
	struct child_job job = {.prog = "/bin/echo", .name = "echo", .package = "coreutils",
				.args = args, .wall_ms = WALL_MS, .cpu_s = CPU_S,
				.as_bytes = AS_BYTES};
	struct child_result r = {0};
	char err[VL_ERRLEN];

	want[0] = '\0';
	for (int i = 0; i < CHILD_ARGS_MAX; i++) {
		args[i] = i % 2 ? "odd" : "even";
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%c", args[i],
			 i + 1 < CHILD_ARGS_MAX ? ' ' : '\n');
	}
	args[CHILD_ARGS_MAX] = NULL;
	CHECK(run(&job, NULL, 0, 4096, &r, err, VL_OK, "args max"), "args max");
	CHECK(out_is(&r, want, strlen(want)) && exited(&r, 0), "args max");
	args[CHILD_ARGS_MAX] = "c";
	args[CHILD_ARGS_MAX + 1] = NULL;
	CHECK(run(&job, NULL, 0, 4096, &r, err, VL_ERR_LIMIT, "args over"), "args over");
	CHECK(strstr(err, "CHILD_ARGS_MAX") != NULL && r.out.len == 0, "args over");
	/* Two words of CHILD_WORDS_MAX bytes with their NULs, then one byte more. */
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	a[100] = '\0';
	b[CHILD_WORDS_MAX - 101 - 1] = '\0';
	args[0] = a;
	args[1] = b;
	args[2] = NULL;
	snprintf(want, sizeof(want), "%s %s\n", a, b);
	CHECK(run(&job, NULL, 0, 4096, &r, err, VL_OK, "words max"), "words max");
	CHECK(out_is(&r, want, strlen(want)), "words max");
	b[CHILD_WORDS_MAX - 101 - 1] = 'b';
	b[CHILD_WORDS_MAX - 101] = '\0';
	CHECK(run(&job, NULL, 0, 4096, &r, err, VL_ERR_LIMIT, "words over"), "words over");
	CHECK(strstr(err, "CHILD_WORDS_MAX") != NULL, "words over");
	child_result_free(&r);
}

/* sigpipe_state - whether SIGPIPE is pending for this thread, and blocked in it. */
static void
sigpipe_state(int *pending, int *blocked)
{
	sigset_t set, mask;

	CHECK(sigpending(&set) == 0 && pthread_sigmask(SIG_SETMASK, NULL, &mask) == 0, "mask");
	*pending = sigismember(&set, SIGPIPE);
	*blocked = sigismember(&mask, SIGPIPE);
}

/* test_early_exit - a child that exits without reading its input (larger than a pipe) leaves
 * the parent alive though SIGPIPE is at its default, with no SIGPIPE pending and its mask as it
 * was; a SIGPIPE the caller had pending before stays so. */
static void
test_early_exit(void)
{
	static const struct timespec zero = {0, 0};
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
	struct buf in = {0};
	struct child_result r = {0};
	struct stand_in s;
	sigset_t pipe_set, old_mask;
	char err[VL_ERRLEN];
	int pending, blocked;

	noise(&in, 4 * MIB, 99);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	CHECK(sigaction(SIGPIPE, &dfl, &old) == 0, "early exit");
	stand_in(&s, "exit 3", 0, WALL_MS);
	CHECK(run(&s.job, in.data, in.len, 4096, &r, err, VL_OK, "early exit"), "early exit");
	CHECK(exited(&r, 3), "early exit");
	sigpipe_state(&pending, &blocked);
	CHECK(!pending && !blocked, "early exit");
	stand_in(&s, "head -c 10 >/dev/null; echo read", 0, WALL_MS);
	CHECK(run(&s.job, in.data, in.len, 4096, &r, err, VL_OK, "read a little"),
	      "read a little");
	CHECK(out_is(&r, "read\n", 5) && exited(&r, 0), "read a little");
	sigpipe_state(&pending, &blocked);
	CHECK(!pending && !blocked, "read a little");
	/* The caller's own SIGPIPE, blocked and pending: still both after. */
	CHECK(pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask) == 0 && raise(SIGPIPE) == 0,
	      "pending before");
	stand_in(&s, "exit 3", 0, WALL_MS);
	CHECK(run(&s.job, in.data, in.len, 4096, &r, err, VL_OK, "pending before"),
	      "pending before");
	sigpipe_state(&pending, &blocked);
	CHECK(pending && blocked, "pending before");
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	CHECK(pthread_sigmask(SIG_SETMASK, &old_mask, NULL) == 0, "pending before");
	CHECK(sigaction(SIGPIPE, &old, NULL) == 0, "early exit");
	buf_free(&in);
	child_result_free(&r);
}

/* thread_runs - THREAD_RUNS runs of cat on input of its own, by pipe and by memfd in turn, each
 * child lingering a moment after its output (a wait for any child would take another's);
 * the number that went wrong. */
static void *
thread_runs(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg;
	struct buf in = {0};
	size_t bad = 0;

	for (int i = 0; i < THREAD_RUNS; i++) {
		struct child_result r;
		struct stand_in s;
		char err[VL_ERRLEN];

		noise(&in, THREAD_BYTES + seed, seed * 31 + (uint32_t)i);
		stand_in(&s, "cat; exec >&- 2>&-; exec sleep 0.05", i % 2 ? CHILD_IN_MEMFD : 0,
			 WALL_MS);
		if (child_text_run(&s.job, in.data, in.len, MIB, &r, err) != VL_OK ||
		    !out_is(&r, in.data, in.len) || !exited(&r, 0))
			bad++;
		child_result_free(&r);
	}
	buf_free(&in);
	return (void *)bad;
}

static void
test_threads(void)
{
	pthread_t t[THREADS];
	int fds = fd_count();
	size_t bad = 0;

	for (uintptr_t i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, thread_runs, (void *)(i + 1)) == 0, "threads");
	for (int i = 0; i < THREADS; i++) {
		void *b;

		CHECK(pthread_join(t[i], &b) == 0, "threads");
		bad += (size_t)b;
	}
	CHECK(bad == 0, "threads");
	CHECK(no_child() && fds >= 0 && fd_count() == fds, "threads");
}

/* test_ended - child_text_ended: the bounds settle a run that ran over wall_ms, died of
 * SIGXCPU or a SIGKILL not ours (VL_ERR_LIMIT) or was cut (VL_OK); any other end is left to the
 * converter. e holds the signal, exit status and stderr's last line either way. */
static void
test_ended(void)
{
	static const struct {
		const char *body;
		unsigned wall_ms;
		size_t out_max;
		int settled;
		enum vl_err rc;
		int sig, code;
		const char *why, *err; /* e.why; in err when VL_ERR_LIMIT */
	} cases[] = {
		{"printf 'warning\\nfatal: x\\n' >&2; exit 3", WALL_MS, 4096, 0, VL_OK, 0, 3,
		 "fatal: x", NULL},
		{"exit 0", WALL_MS, 4096, 0, VL_OK, 0, 0, "no message", NULL},
		{"echo crash >&2; kill -SEGV $$", WALL_MS, 4096, 0, VL_OK, SIGSEGV, -1, "crash", NULL},
		{"exec yes", WALL_MS, 100, 1, VL_OK, SIGKILL, -1, "no message", NULL},
		{"exec sleep 30", 200, 4096, 1, VL_ERR_LIMIT, SIGKILL, -1, "no message",
		 "ran over 200 ms"},
		{"kill -XCPU $$", WALL_MS, 4096, 1, VL_ERR_LIMIT, SIGXCPU, -1, "no message", "of CPU"},
		{"kill -KILL $$", WALL_MS, 4096, 1, VL_ERR_LIMIT, SIGKILL, -1, "no message",
		 "or no memory"},
	};
	struct child_result r = {0};
	struct stand_in s;
	char err[VL_ERRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *label = cases[i].body;
		enum vl_err rc = VL_ERR_INTERNAL;
		struct child_end e;

		stand_in(&s, cases[i].body, 0, cases[i].wall_ms);
		CHECK(run(&s.job, NULL, 0, cases[i].out_max, &r, err, VL_OK, label), label);
		err[0] = '\0';
		CHECK(child_text_ended(&s.job, &r, &e, &rc, err) == cases[i].settled, label);
		CHECK(rc == cases[i].rc && e.sig == cases[i].sig && e.code == cases[i].code, label);
		CHECK(strcmp(e.why, cases[i].why) == 0, label);
		CHECK(cases[i].err ? strstr(err, cases[i].err) != NULL : err[0] == '\0', label);
	}
	child_result_free(&r);
}

/* test_clean - child_text_clean: valid UTF-8 kept, each invalid byte U+FFFD, form feeds
 * newlines, other controls but \n and \t spaces, appended, at most max bytes without splitting
 * a character, 1 when short. */
static void
test_clean(void)
{
	static const struct {
		const char *raw;
		size_t n, max;
		const char *want;
		int short_;
	} cases[] = {
		{"caf\xc3\xa9\n\tok", 9, 64, "caf\xc3\xa9\n\tok", 0},
		{"a\fb\rc\0d\x1b", 8, 64, "a\nb c d ", 0},
		{"\xff\xc3(", 3, 64, "\xef\xbf\xbd\xef\xbf\xbd(", 0},
		{"\xe2\x82\xac\xe2\x82\xac", 6, 5, "\xe2\x82\xac", 1},
		{"\xe2\x82\xac", 3, 3, "\xe2\x82\xac", 0},
		{"\xff", 1, 2, "", 1},
		{"abc", 3, 0, "", 1},
		{"", 0, 0, "", 0},
	};
	struct buf out = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char label[32];
		int short_;

		snprintf(label, sizeof(label), "clean %zu", i);
		buf_reset(&out);
		buf_append_str(&out, "head ");
		short_ = child_text_clean(&out, (const uint8_t *)cases[i].raw, cases[i].n,
					  cases[i].max);
		CHECK(short_ == cases[i].short_, label);
		CHECK(out.len == 5 + strlen(cases[i].want) &&
			      memcmp(out.data, "head ", 5) == 0 &&
			      strcmp((char *)out.data + 5, cases[i].want) == 0,
		      label);
	}
	buf_free(&out);
}

UNIT_SUITE(child_text, {"stdout exactly: raw bytes, a MiB, nothing", test_stdout},
	   {"stdin exactly, by pipe and by memfd", test_stdin},
	   {"the memfd: not on disk, seekable, sealed", test_memfd},
	   {"out_max: cut, killed, no error; exactly out_max is no cut", test_cut},
	   {"stderr: CHILD_STDERR_MAX kept, its last line, said", test_stderr},
	   {"wall_ms: killed, reaped, timed_out, VL_ERR_LIMIT", test_wall},
	   {"rlimits: CPU, address space, file size, core", test_rlimits},
	   {"the environment, descriptors and signals the child gets", test_environment},
	   {"a program not absolute, not there, not runnable: VL_ERR_CONFIG", test_prog},
	   {"CHILD_ARGS_MAX and CHILD_WORDS_MAX", test_args},
	   {"a child that exits without reading: no SIGPIPE", test_early_exit},
	   {"threads at once", test_threads},
	   {"child_text_ended: the bounds first, then how it ended", test_ended},
	   {"child_text_clean: UTF-8, controls, max", test_clean})
