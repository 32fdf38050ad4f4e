/* ratelimit - failed authentications counted per client address, over a fixed window.
 * Owns: a bounded table of addresses (the oldest entry is reused when full) under a mutex.
 * An address with max failures in the current window is refused until the window ends. */
#ifndef VL_RATELIMIT_H
#define VL_RATELIMIT_H

#include <stdint.h>

#include "vl_err.h"

#define RATELIMIT_SLOTS 1024

struct ratelimit;

/* ratelimit_new - at most max failures per window_s seconds per address. Caller frees. */
struct ratelimit *ratelimit_new(unsigned max, unsigned window_s);
void ratelimit_free(struct ratelimit *rl);
/* ratelimit_blocked - 1 when addr has used up its failures in the window current at now (unix
 * seconds), with *retry_s the seconds until it ends; else 0. */
int ratelimit_blocked(struct ratelimit *rl, const char *addr, int64_t now, unsigned *retry_s);
/* ratelimit_fail - count one failure of addr at now; returns the failures in its window. */
unsigned ratelimit_fail(struct ratelimit *rl, const char *addr, int64_t now);

#endif
