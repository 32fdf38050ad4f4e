/* log - leveled, key=value logging to stderr.
 * Owns: the log level (set once at start-up, then read-only) and the line format.
 * Not: what is safe to log: callers never pass keys, tokens, passwords or message bodies. */
#ifndef VL_LOG_H
#define VL_LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* log_init - set the level and program name; call once before any thread starts. */
void log_init(const char *progname, enum log_level level);
enum log_level log_level_get(void);
/* log_level_parse - "err|warn|info|debug" to a level; -1 when unknown. */
int log_level_parse(const char *name);

void log_emit(enum log_level level, int with_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The level is checked before the arguments are formatted (Redis serverLog). The _x variants
 * leave out strerror(errno) (OpenSMTPD log_warnx). */
#define LOG_AT(lvl, e, ...)                                                                        \
	do {                                                                                       \
		if ((lvl) <= log_level_get())                                                      \
			log_emit((lvl), (e), __VA_ARGS__);                                         \
	} while (0)
#define log_err(...) LOG_AT(LOG_LEVEL_ERR, 1, __VA_ARGS__)
#define log_errx(...) LOG_AT(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LEVEL_WARN, 1, __VA_ARGS__)
#define log_warnx(...) LOG_AT(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)

/* vl_fatal/vl_fatalx - log and exit(1); only before the first connection is accepted. */
noreturn void vl_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void vl_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* VL_ASSERT - an internal invariant; aborts with file and line when false. */
#define VL_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			vl_panic(__FILE__, __LINE__, #cond);                                       \
	} while (0)
noreturn void vl_panic(const char *file, int line, const char *what);

#endif
