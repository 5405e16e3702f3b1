#include "web/payguard.h"

#include <string.h>

/* Whole seconds from now_ms to until_ms, rounded up, at least 1. */
static long seconds_until(int64_t until_ms, int64_t now_ms)
{
	int64_t s = (until_ms - now_ms + 999) / 1000;

	return s < 1 ? 1 : (long)s;
}

int payguard_take(struct payguard *g, int64_t now_ms, long *retry_after_s)
{
	int64_t due;

	if (!g->started) {
		g->started = 1;
		g->tokens = LIMIT_MP_UNSIGNED_BURST;
		g->refill = now_ms;
	}
	if (now_ms < g->refill) /* the clock is monotonic; be safe anyway */
		g->refill = now_ms;
	due = (now_ms - g->refill) / LIMIT_MP_UNSIGNED_REFILL_MS;
	if (due >= LIMIT_MP_UNSIGNED_BURST - g->tokens) {
		g->tokens = LIMIT_MP_UNSIGNED_BURST;
		g->refill = now_ms;
	} else {
		g->tokens += (int)due;
		g->refill += due * LIMIT_MP_UNSIGNED_REFILL_MS;
	}
	if (g->tokens > 0) {
		g->tokens--;
		return 1;
	}
	*retry_after_s =
	        seconds_until(g->refill + LIMIT_MP_UNSIGNED_REFILL_MS, now_ms);
	return 0;
}

int payguard_unknown(const struct payguard *g, const char *id, int64_t now_ms,
                     long *retry_after_s)
{
	size_t i;

	for (i = 0; i < LIMIT_MP_UNKNOWN_IDS; i++)
		if (g->unknown[i].until > now_ms &&
		    strcmp(g->unknown[i].id, id) == 0) {
			*retry_after_s =
			        seconds_until(g->unknown[i].until, now_ms);
			return 1;
		}
	return 0;
}

void payguard_remember_unknown(struct payguard *g, const char *id,
                               int64_t now_ms)
{
	size_t i, slot = 0;

	if (strlen(id) > LIMIT_PAYMENT_ID_DIGITS)
		return;
	/* The id's own entry, else the one that ends first (a free or
	 * expired one before any live one). */
	for (i = 0; i < LIMIT_MP_UNKNOWN_IDS; i++) {
		if (strcmp(g->unknown[i].id, id) == 0) {
			slot = i;
			break;
		}
		if (g->unknown[i].until < g->unknown[slot].until)
			slot = i;
	}
	memcpy(g->unknown[slot].id, id, strlen(id) + 1);
	g->unknown[slot].until = now_ms + LIMIT_MP_UNKNOWN_TTL_S * 1000LL;
}

void payguard_known(struct payguard *g, const char *id)
{
	size_t i;

	for (i = 0; i < LIMIT_MP_UNKNOWN_IDS; i++)
		if (strcmp(g->unknown[i].id, id) == 0) {
			g->unknown[i].id[0] = '\0';
			g->unknown[i].until = 0;
		}
}
