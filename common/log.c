/* log - leveled, key=value logging to stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Set once by log_init before threads start; read-only afterwards (frozen configuration). */
static enum log_level log_level_cur = LOG_LEVEL_INFO;
static const char *log_prog = "vellum";

static const char *const level_names[] = {"err", "warn", "info", "debug"};

void
log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_level_cur = level;
}

enum log_level
log_level_get(void)
{
	return log_level_cur;
}

int
log_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

static void
log_vemit(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char msg[1024];
	char stamp[32];
	int saved = errno;
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s.%03ldZ %s %s: %s: %s\n", stamp, ts.tv_nsec / 1000000, log_prog,
			level_names[level], msg, strerror(saved));
	else
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000, log_prog,
			level_names[level], msg);
	errno = saved;
}

void
log_emit(enum log_level level, int with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, with_errno, fmt, ap);
	va_end(ap);
}

void
vl_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
vl_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
vl_panic(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s: panic: %s:%d: assertion failed: %s\n", log_prog, file, line, what);
	abort();
}
