/* child_text - run a text converter in a bounded child: input on stdin, text on stdout,
 * stderr's last line kept. Why a child: a parser that crashes or hangs on a hostile file takes
 * only the child down, never the indexer (pdf_text, legacy_text).
 * Owns: fork and exec with a fixed argv and environment, the rlimits, the pipes, the wall-clock
 * bound, the reap, the bounds' verdicts and how a run ended, cleaning the text to valid UTF-8.
 * Not: what a converter's exit codes and messages mean (its caller's), MIME, words. */
#ifndef VL_CHILD_TEXT_H
#define VL_CHILD_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define CHILD_STDERR_MAX 4096u /* bytes of the child's stderr kept for the error text */
#define CHILD_ARGS_MAX 8       /* arguments after the program: converters need a few */
#define CHILD_WORDS_MAX 256    /* bytes of those arguments, NULs included */
#define CHILD_REASON_MAX 160   /* bytes of stderr's last line quoted in an error */

/* child_job flags. */
#define CHILD_IN_MEMFD 1u /* stdin is a sealed memfd holding the input (seekable, in memory,
			   * never on disk) instead of a pipe: for converters that copy a pipe
			   * to a temporary file so that they can seek (catdoc's) */

/* child_job - what to run and how far to let it go. */
struct child_job {
	const char *prog;	 /* absolute path: never PATH or the environment */
	const char *name;	 /* the converter, in messages ("pdftotext") */
	const char *package;	 /* its Debian package, in messages ("poppler-utils") */
	const char *const *args; /* argv[1...], NULL-terminated; the input is stdin */
	unsigned flags;		 /* CHILD_IN_MEMFD */
	unsigned wall_ms;	 /* wall-clock ms before the parent kills the child */
	unsigned cpu_s;		 /* RLIMIT_CPU: SIGXCPU, then SIGKILL a second later */
	size_t as_bytes;	 /* RLIMIT_AS; RLIMIT_FSIZE and RLIMIT_CORE are 0 */
};

/* child_result - what one run gave: owned by the caller, released by child_result_free. */
struct child_result {
	struct buf out;	 /* stdout as it came, raw; more than out_max bytes when cut */
	struct buf diag; /* the first CHILD_STDERR_MAX bytes of stderr */
	int status;	 /* the wait status (WIFEXITED, WTERMSIG...) */
	int timed_out;	 /* wall_ms ran out and the child was killed */
	int cut;	 /* stdout passed out_max and the child was killed (not an error) */
};

/* child_text_run - run job's program on the len bytes at p (borrowed) as its stdin, keeping
 * its stdout up to out_max bytes (the child is killed once it passes them: r->cut) and the
 * start of its stderr, and reap it. r is filled (and must be freed) whatever is returned.
 * The child gets PATH=/usr/bin:/bin and LANG=C.UTF-8 only, descriptors 0-2 only, every
 * signal at its default (none ignored, SIGPIPE included) and none blocked, and the rlimits of
 * job. Returns VL_OK when it ran and was
 * reaped (r->status then says how it ended: child_text_bounds, then the converter's own
 * codes); VL_ERR_CONFIG when prog is not an absolute path, or is not there or cannot be run
 * (err names the package to install); VL_ERR_IO when the run failed on this machine's side:
 * no pipe, memfd, process or memory now (EMFILE, ENFILE, EAGAIN, ENOMEM), or a poll, read,
 * write or wait that failed. VL_ERR_IO is no verdict on the input: a caller must not record it
 * as the file's. VL_ERR_LIMIT when job's arguments do not fit CHILD_ARGS_MAX or
 * CHILD_WORDS_MAX. Safe from several threads at once: its pipes are close-on-exec, the child
 * closes every other descriptor, SIGPIPE is blocked in the calling thread while it writes and
 * a pending one taken back; it waits for its own child's pid only. */
enum vl_err child_text_run(const struct child_job *job, const uint8_t *p, size_t len,
			   size_t out_max, struct child_result *r, char *err) VL_MUST_CHECK;

/* child_result_free - release r's buffers (r may be zeroed or used). */
void child_result_free(struct child_result *r);

/* child_text_bounds - the verdict of the bounds on a finished run: VL_ERR_LIMIT when it ran
 * over wall_ms, was killed by SIGXCPU, or by a SIGKILL not ours (RLIMIT_CPU's hard limit, the
 * OOM killer); VL_OK otherwise, a cut run included (the converter's own verdict is its
 * caller's). */
enum vl_err child_text_bounds(const struct child_job *job, const struct child_result *r,
			      char *err) VL_MUST_CHECK;

/* child_end - how a finished run ended, for its converter's own verdict. */
struct child_end {
	int sig;		    /* the signal that ended it; 0 when it exited */
	int code;		    /* its exit status; -1 when a signal ended it */
	char why[CHILD_REASON_MAX]; /* child_text_reason */
};

/* child_text_ended - the start of a converter's verdict on a finished run: the bounds' first,
 * then how it ended into e (filled whatever it returns). 1 when the bounds settle it: *rc is
 * then child_text_bounds's VL_ERR_LIMIT (err says why), or VL_OK for a cut run (its text is
 * good as far as it goes, and its status is our kill). 0 when the converter's codes and
 * messages must say: *rc VL_OK. */
int child_text_ended(const struct child_job *job, const struct child_result *r,
		     struct child_end *e, enum vl_err *rc, char *err) VL_MUST_CHECK;

/* child_text_said - whether the kept stderr holds s. */
int child_text_said(const struct child_result *r, const char *s);

/* child_text_reason - the last non-empty line of the kept stderr (a converter's fatal error
 * comes after its warnings), printable ASCII (others become '?'), at most cap - 1 bytes, into
 * out; "no message" when there is none. */
void child_text_reason(const struct child_result *r, char *out, size_t cap);

/* child_text_clean - append n raw bytes at raw to out as valid UTF-8 (each invalid byte
 * U+FFFD), form feeds (page and sheet breaks) as newlines and other C0 controls but \n and \t
 * as spaces, at most max bytes, never splitting a character; 1 when it stopped short of n. */
int child_text_clean(struct buf *out, const uint8_t *raw, size_t n, size_t max);

#endif
