/* ratelimit - failed authentications counted per client address, over a fixed window. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ratelimit.h"

struct rl_slot {
	char addr[64];
	int64_t window_start;
	unsigned fails;
};

struct ratelimit {
	pthread_mutex_t mu;
	unsigned max, window_s;
	struct rl_slot slots[RATELIMIT_SLOTS];
};

struct ratelimit *
ratelimit_new(unsigned max, unsigned window_s)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	pthread_mutex_init(&rl->mu, NULL);
	rl->max = max;
	rl->window_s = window_s;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

/* rl_find - addr's slot, or NULL; with create, a free, expired or else the oldest slot. */
static struct rl_slot *
rl_find(struct ratelimit *rl, const char *addr, int64_t now, int create)
{
	struct rl_slot *victim = &rl->slots[0];

	for (size_t i = 0; i < RATELIMIT_SLOTS; i++) {
		struct rl_slot *s = &rl->slots[i];

		if (s->addr[0] && strcmp(s->addr, addr) == 0)
			return s;
		if (s->window_start < victim->window_start)
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	victim->window_start = now;
	return victim;
}

int
ratelimit_blocked(struct ratelimit *rl, const char *addr, int64_t now, unsigned *retry_s)
{
	int blocked = 0;

	pthread_mutex_lock(&rl->mu);
	struct rl_slot *s = rl_find(rl, addr, now, 0);
	if (s && now < s->window_start + rl->window_s && s->fails >= rl->max) {
		blocked = 1;
		*retry_s = (unsigned)(s->window_start + rl->window_s - now);
	}
	pthread_mutex_unlock(&rl->mu);
	return blocked;
}

unsigned
ratelimit_fail(struct ratelimit *rl, const char *addr, int64_t now)
{
	unsigned n;

	pthread_mutex_lock(&rl->mu);
	struct rl_slot *s = rl_find(rl, addr, now, 1);
	if (now >= s->window_start + rl->window_s) {
		s->window_start = now;
		s->fails = 0;
	}
	n = ++s->fails;
	pthread_mutex_unlock(&rl->mu);
	return n;
}
