/*
 * payguard - what an unsigned MercadoPago notification may cost a process.
 *
 * The older ?topic=payment&id= form is not signed: anyone can send it, and
 * each one is answered by reading the payment from MercadoPago with the
 * access token. Two guards keep that cheap:
 *   - an id MercadoPago answered 404 for is remembered for
 *     LIMIT_MP_UNKNOWN_TTL_S (LIMIT_MP_UNKNOWN_IDS of them, the oldest
 *     replaced first), and not read again for an unsigned notification
 *     meanwhile (the caller asks for it again later rather than answering
 *     "unknown" unread: a real payment is never dropped on the word of a
 *     stale entry);
 *   - a token bucket: LIMIT_MP_UNSIGNED_BURST reads at once, then one more
 *     each LIMIT_MP_UNSIGNED_REFILL_MS; an unsigned notification that finds
 *     it empty is refused before any call.
 * The signed form is authenticated and goes through neither.
 *
 * Per process and in memory (the programs are single-threaded); the caller
 * passes the time (a monotonic clock, in ms), so tests drive it.
 */
#ifndef PAYGUARD_H
#define PAYGUARD_H

#include <stdint.h>

#include "core/limit.h"

struct payguard {
	int started;    /* 0 until the first call: the bucket is full */
	int tokens;     /* reads left in the bucket */
	int64_t refill; /* ms: when tokens was last brought up to date */
	struct {
		char id[LIMIT_PAYMENT_ID_DIGITS + 1]; /* "" when free */
		int64_t until;                        /* ms */
	} unknown[LIMIT_MP_UNKNOWN_IDS];
};

/*
 * Takes a read from the bucket at now_ms: 1 when the read may be made, 0
 * when the bucket is empty, with *retry_after_s (at least 1) saying when
 * the next read will be there.
 */
int payguard_take(struct payguard *g, int64_t now_ms, long *retry_after_s);

/* When MercadoPago answered 404 for payment id less than
 * LIMIT_MP_UNKNOWN_TTL_S before now_ms: 1, with *retry_after_s (at least 1)
 * saying when that ends. Else 0. */
int payguard_unknown(const struct payguard *g, const char *id, int64_t now_ms,
                     long *retry_after_s);

/* MercadoPago answered 404 for payment id at now_ms. An id longer than
 * LIMIT_PAYMENT_ID_DIGITS is not remembered. */
void payguard_remember_unknown(struct payguard *g, const char *id,
                               int64_t now_ms);

/* MercadoPago knows payment id now: it is no longer remembered as unknown. */
void payguard_known(struct payguard *g, const char *id);

#endif
