/* upkeep - serve's retention thread: every UPKEEP_INTERVAL_S, sweep every active legal hold
 * over mail indexed meanwhile (so hold:NAME and GET /v1/messages/{id} show new arrivals) and
 * compute retain-until for messages that have none, from the site's policy set; at start and
 * then every UPKEEP_DISPOSE_EVERY passes (hourly), run disposal (dispose.h) first.
 * Owns: the thread and its own database connection. */
#ifndef VL_UPKEEP_H
#define VL_UPKEEP_H

#include "config.h"
#include "vl_err.h"

#define UPKEEP_INTERVAL_S 60
#define UPKEEP_DISPOSE_EVERY 60

struct upkeep;

/* upkeep_start - connect and start the thread (cfg borrowed; outlives it). */
enum vl_err upkeep_start(struct upkeep **out, const struct vl_config *cfg, const char *actor,
			 char *err) VL_MUST_CHECK;

/* upkeep_stop - wake, join, close, free. NULL is a no-op. */
void upkeep_stop(struct upkeep *u);

#endif
