/*
 * test_payguard - what an unsigned MercadoPago notification may cost a
 * process: the token bucket (a burst, then one read per refill interval,
 * Retry-After rounded up to whole seconds) and the ids MercadoPago
 * answered 404 for (remembered for a while, the oldest replaced first).
 * Time is passed in, so nothing here waits.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "web/payguard.h"

#define BURST  LIMIT_MP_UNSIGNED_BURST
#define REFILL LIMIT_MP_UNSIGNED_REFILL_MS
#define TTL_MS (LIMIT_MP_UNKNOWN_TTL_S * 1000LL)

static struct payguard g;

static void fresh(void)
{
	memset(&g, 0, sizeof(g));
}

TEST(a_full_bucket_gives_its_burst_then_refuses)
{
	long wait = -1;
	int i;

	fresh();
	for (i = 0; i < BURST; i++)
		CHECK_INT(payguard_take(&g, 5000, &wait), 1);
	CHECK_INT(wait, -1); /* untouched while reads are given */
	CHECK_INT(payguard_take(&g, 5000, &wait), 0);
	CHECK_INT(wait, (REFILL + 999) / 1000);
	CHECK(wait >= 1);
}

TEST(one_read_comes_back_per_interval)
{
	long wait = 0;
	int i;

	fresh();
	for (i = 0; i < BURST; i++)
		CHECK_INT(payguard_take(&g, 0, &wait), 1);
	CHECK_INT(payguard_take(&g, REFILL - 1, &wait), 0);
	CHECK_INT(wait, 1); /* 1 ms left, rounded up to a second */
	CHECK_INT(payguard_take(&g, REFILL, &wait), 1);
	CHECK_INT(payguard_take(&g, REFILL, &wait), 0);
	/* Two and a half intervals later: two reads, no more. */
	CHECK_INT(payguard_take(&g, REFILL + 2 * REFILL + REFILL / 2, &wait),
	          1);
	CHECK_INT(payguard_take(&g, REFILL + 2 * REFILL + REFILL / 2, &wait),
	          1);
	CHECK_INT(payguard_take(&g, REFILL + 2 * REFILL + REFILL / 2, &wait),
	          0);
	/* The half interval already waited counts. */
	CHECK_INT(payguard_take(&g, 4 * REFILL, &wait), 1);
}

TEST(a_long_pause_fills_the_bucket_no_further)
{
	long wait = 0;
	int i, given = 0;

	fresh();
	CHECK_INT(payguard_take(&g, 0, &wait), 1);
	for (i = 0; i < 3 * BURST; i++)
		given += payguard_take(&g, 1000000, &wait);
	CHECK_INT(given, BURST);
}

TEST(a_clock_going_back_takes_no_read_away)
{
	long wait = 0;
	int i;

	fresh();
	for (i = 0; i < BURST; i++)
		CHECK_INT(payguard_take(&g, 100000, &wait), 1);
	CHECK_INT(payguard_take(&g, 50000, &wait), 0);
	CHECK_INT(payguard_take(&g, 50000 + REFILL, &wait), 1);
}

TEST(an_unknown_id_is_remembered_for_its_time)
{
	long wait = -1;

	fresh();
	CHECK_INT(payguard_unknown(&g, "1300000001", 1000, &wait), 0);
	CHECK_INT(wait, -1);
	payguard_remember_unknown(&g, "1300000001", 1000);
	CHECK_INT(payguard_unknown(&g, "1300000001", 1000, &wait), 1);
	CHECK_INT(wait, LIMIT_MP_UNKNOWN_TTL_S);
	CHECK_INT(payguard_unknown(&g, "1300000001", 1500, &wait), 1);
	CHECK_INT(wait, LIMIT_MP_UNKNOWN_TTL_S); /* 59.5 s, rounded up */
	CHECK_INT(payguard_unknown(&g, "1300000001", 1000 + TTL_MS - 1, &wait),
	          1);
	CHECK_INT(wait, 1);
	CHECK_INT(payguard_unknown(&g, "1300000001", 1000 + TTL_MS, &wait), 0);
	CHECK_INT(payguard_unknown(&g, "1300000002", 1000, &wait), 0);
	CHECK_INT(payguard_unknown(&g, "130000000", 1000, &wait), 0);
	CHECK_INT(payguard_unknown(&g, "", 1000, &wait), 0);
}

TEST(remembering_again_extends_and_known_forgets)
{
	long wait = 0;
	fresh();
	payguard_remember_unknown(&g, "42", 0);
	payguard_remember_unknown(&g, "42", TTL_MS / 2);
	CHECK_INT(payguard_unknown(&g, "42", TTL_MS + 1, &wait), 1);
	payguard_known(&g, "42");
	CHECK_INT(payguard_unknown(&g, "42", TTL_MS + 1, &wait), 0);
	payguard_known(&g, "43"); /* not there: nothing happens */
}

TEST(the_oldest_id_makes_room)
{
	long wait = 0;
	char id[32];
	int i;

	fresh();
	for (i = 0; i < LIMIT_MP_UNKNOWN_IDS; i++) {
		snprintf(id, sizeof(id), "%d", 1000 + i);
		payguard_remember_unknown(&g, id, 10 + i);
	}
	for (i = 0; i < LIMIT_MP_UNKNOWN_IDS; i++) {
		snprintf(id, sizeof(id), "%d", 1000 + i);
		CHECK_INT(payguard_unknown(&g, id, 100, &wait), 1);
	}
	payguard_remember_unknown(&g, "99", 200);
	CHECK_INT(payguard_unknown(&g, "99", 200, &wait), 1);
	CHECK_INT(payguard_unknown(&g, "1000", 200, &wait), 0); /* the oldest */
	CHECK_INT(payguard_unknown(&g, "1001", 200, &wait), 1);
	snprintf(id, sizeof(id), "%d", 1000 + LIMIT_MP_UNKNOWN_IDS - 1);
	CHECK_INT(payguard_unknown(&g, id, 200, &wait), 1);
}

TEST(an_id_too_long_is_not_remembered)
{
	long wait = 0;
	char id[LIMIT_PAYMENT_ID_DIGITS + 2];

	fresh();
	memset(id, '7', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	payguard_remember_unknown(&g, id, 0);
	CHECK_INT(payguard_unknown(&g, id, 1, &wait), 0);
	id[LIMIT_PAYMENT_ID_DIGITS] = '\0';
	payguard_remember_unknown(&g, id, 0);
	CHECK_INT(payguard_unknown(&g, id, 1, &wait), 1);
}

int main(void)
{
	RUN(a_full_bucket_gives_its_burst_then_refuses);
	RUN(one_read_comes_back_per_interval);
	RUN(a_long_pause_fills_the_bucket_no_further);
	RUN(a_clock_going_back_takes_no_read_away);
	RUN(an_unknown_id_is_remembered_for_its_time);
	RUN(remembering_again_extends_and_known_forgets);
	RUN(the_oldest_id_makes_room);
	RUN(an_id_too_long_is_not_remembered);
	return CHECK_DONE();
}
