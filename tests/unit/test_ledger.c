/*
 * test_ledger - the booking lifecycle's table of transitions.
 *
 * Without a database: every pair of statuses (and a booking not yet
 * written) against the table the design gives. With DATABASE_URL set to a
 * migrated database (the end-to-end suite runs it so, against its own
 * MariaDB: tests/e2e/test_ledger.py): every allowed and every refused
 * transition applied to a real row, the compare-and-swap refusing a row
 * that moved, and the history rows each leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/tz.h"
#include "io/db.h"
#include "school/ledger.h"

static const char *const statuses[] = {"held",      "pending",   "scheduling",
                                       "scheduled", "cancelled", "failed"};
#define NSTATUS 6

/* The design's table, written out pair by pair: from -> to. */
static const char *const expected[][2] = {
        {NULL, "held"},
        {NULL, "pending"},
        {NULL, "scheduling"},
        {NULL, "failed"},
        {"held", "pending"},
        {"held", "scheduling"},
        {"held", "failed"},
        {"held", "cancelled"},
        {"pending", "scheduling"},
        {"pending", "failed"},
        {"pending", "cancelled"},
        {"scheduling", "scheduled"},
        {"scheduling", "failed"},
        {"scheduling", "cancelled"},
        {"scheduled", "scheduling"},
        {"scheduled", "cancelled"},
        {"failed", "scheduling"},
        {"failed", "cancelled"},
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static int is_expected(const char *from, const char *to)
{
	size_t i;

	for (i = 0; i < NEXPECTED; i++)
		if (((from == NULL && expected[i][0] == NULL) ||
		     (from != NULL && expected[i][0] != NULL &&
		      strcmp(from, expected[i][0]) == 0)) &&
		    strcmp(to, expected[i][1]) == 0)
			return 1;
	return 0;
}

TEST(every_pair_follows_the_table)
{
	int f, t, allowed = 0;

	for (f = -1; f < NSTATUS; f++)
		for (t = 0; t < NSTATUS; t++) {
			const char *from = f < 0 ? NULL : statuses[f];
			int want = is_expected(from, statuses[t]);

			if (ledger_transition_allowed(from, statuses[t]) !=
			    want)
				fprintf(stderr, "  %s -> %s\n",
				        from ? from : "(new)", statuses[t]);
			CHECK_INT(ledger_transition_allowed(from, statuses[t]),
			          want);
			allowed += want;
		}
	CHECK_INT(allowed, (int)NEXPECTED);
}

TEST(nothing_leaves_cancelled_and_nothing_moves_to_itself)
{
	int t;

	for (t = 0; t < NSTATUS; t++) {
		CHECK_INT(ledger_transition_allowed("cancelled", statuses[t]),
		          0);
		CHECK_INT(ledger_transition_allowed(statuses[t], statuses[t]),
		          0);
	}
}

TEST(unknown_statuses_are_refused)
{
	CHECK_INT(ledger_transition_allowed("held", "paid"), 0);
	CHECK_INT(ledger_transition_allowed("paid", "scheduled"), 0);
	CHECK_INT(ledger_transition_allowed(NULL, "scheduled"), 0);
	CHECK_INT(ledger_transition_allowed(NULL, "cancelled"), 0);
	CHECK_INT(ledger_transition_allowed("held", NULL), 0);
	CHECK_INT(ledger_transition_allowed("", ""), 0);
}

/* ---- against a database ---- */

static struct db *db;
static int seq;

/* A booking in status, written as the ledger writes a new one would be
 * refused for "scheduled" and "cancelled": those rows are planted, as a
 * row that got there through the table would be. */
/* A booking in status over [start, end) on day (hours, UTC), a hold
 * expiring in hold_min minutes (negative: expired), 0: no hold. The row is
 * planted as it stands, whatever the table says of how it got there. */
static void plant_on(char id[33], const char *status, const char *day,
                     int start, int end, int hold_min)
{
	char s[24], e[24];
	struct db_param p[6];

	snprintf(id, 33, "%08x%024x", 0x7e570000u + (unsigned)seq++, 0u);
	snprintf(s, sizeof(s), "%s %02d:00:00", day, start);
	snprintf(e, sizeof(e), "%s %02d:00:00", day, end);
	p[0] = db_text(id);
	p[1] = db_text(status);
	p[2] = db_text(s);
	p[3] = db_text(e);
	p[4] = db_int(hold_min != 0);
	p[5] = db_int(hold_min);
	CHECK_INT(
	        db_exec(db,
	                "INSERT INTO bookings (id, status, startAt, endAt, "
	                "timeZone, studentEmail, holdExpiresAt) VALUES (?, ?, "
	                "?, ?, 'America/Argentina/Buenos_Aires', "
	                "'ledger@example.com', IF(? = 1, UTC_TIMESTAMP() + "
	                "INTERVAL ? MINUTE, NULL))",
	                p, 6, NULL),
	        DB_OK);
}

/* A booking in status, for the tests of the transitions (a day of its
 * own, apart from the overlap tests' day). */
static void plant(char id[33], const char *status)
{
	plant_on(id, status, "2030-01-07", 12, 13, 0);
}

/* The same on the overlap tests' day, 2031-03-03. */
static void plant_at(char id[33], const char *status, int start, int end,
                     int hold_min)
{
	plant_on(id, status, "2031-03-03", start, end, hold_min);
}

static void status_of(const char *id, char *out, size_t len)
{
	struct db_param p = db_text(id);
	struct db_rows rows;

	out[0] = '\0';
	CHECK_INT(db_query(db, "SELECT status FROM bookings WHERE id = ?", &p,
	                   1, &rows),
	          DB_OK);
	if (rows.nrows == 1)
		snprintf(out, len, "%s", db_cell(&rows, 0, 0));
	db_rows_free(&rows);
}

/* The history of id as "from>to:reason|..." ("-" for NULL). */
static void history_of(const char *id, char *out, size_t len)
{
	struct db_param p = db_text(id);
	struct db_rows rows;
	size_t i, used = 0;

	out[0] = '\0';
	CHECK_INT(db_query(db,
	                   "SELECT COALESCE(fromStatus, '-'), toStatus, "
	                   "reason, at IS NOT NULL FROM booking_history WHERE "
	                   "bookingId = ? ORDER BY id",
	                   &p, 1, &rows),
	          DB_OK);
	for (i = 0; i < rows.nrows && used < len; i++) {
		CHECK_STR(db_cell(&rows, i, 3), "1");
		used += (size_t)snprintf(out + used, len - used, "%s%s>%s:%s",
		                         i ? "|" : "", db_cell(&rows, i, 0),
		                         db_cell(&rows, i, 1),
		                         db_cell(&rows, i, 2));
	}
	db_rows_free(&rows);
}

TEST(every_transition_on_a_real_row)
{
	int f, t;

	for (f = 0; f < NSTATUS; f++)
		for (t = 0; t < NSTATUS; t++) {
			char id[33], now[LEDGER_STATUS_MAX], hist[512],
			        want[512];
			enum ledger_result r;
			int ok = is_expected(statuses[f], statuses[t]);

			if (f == t)
				continue;
			plant(id, statuses[f]);
			r = ledger_transition(db, id, statuses[f], statuses[t],
			                      "a test");
			if (r != (ok ? LEDGER_OK : LEDGER_REFUSED))
				fprintf(stderr, "  %s -> %s gave %d\n",
				        statuses[f], statuses[t], (int)r);
			CHECK_INT(r, ok ? LEDGER_OK : LEDGER_REFUSED);
			status_of(id, now, sizeof(now));
			CHECK_STR(now, ok ? statuses[t] : statuses[f]);
			history_of(id, hist, sizeof(hist));
			if (ok)
				snprintf(want, sizeof(want), "%s>%s:a test",
				         statuses[f], statuses[t]);
			else
				want[0] = '\0';
			CHECK_STR(hist, want);
		}
}

TEST(a_row_that_moved_is_not_changed)
{
	char id[33], now[LEDGER_STATUS_MAX], hist[512];

	plant(id, "scheduled");
	/* The caller saw it scheduling; someone made it scheduled. */
	CHECK_INT(ledger_transition(db, id, "scheduling", "failed", "late"),
	          LEDGER_RACED);
	status_of(id, now, sizeof(now));
	CHECK_STR(now, "scheduled");
	history_of(id, hist, sizeof(hist));
	CHECK_STR(hist, "");
	CHECK_INT(ledger_transition(db, "ffffffffffffffffffffffffffffffff",
	                            "held", "cancelled", "no such booking"),
	          LEDGER_RACED);
}

/* 2031-03-03 at hour h, UTC. */
static int64_t hour(int h)
{
	return 1930262400LL + (int64_t)h * 3600;
}

TEST(the_overlap_check_counts_active_bookings_only)
{
	char a[33], x[33];

	/* A scheduled class 12-13: overlapping is taken, touching is not. */
	plant_at(a, "scheduled", 12, 13, 0);
	CHECK_INT(ledger_slot_taken(db, hour(12), hour(13), NULL), 1);
	CHECK_INT(ledger_slot_taken(db, hour(11), hour(13), NULL), 1);
	CHECK_INT(ledger_slot_taken(db, hour(12) + 1800, hour(12) + 2700, NULL),
	          1);
	CHECK_INT(ledger_slot_taken(db, hour(11), hour(12), NULL), 0);
	CHECK_INT(ledger_slot_taken(db, hour(13), hour(14), NULL), 0);
	/* Moving a booking: it does not take its own slot. */
	CHECK_INT(ledger_slot_taken(db, hour(12), hour(13), a), 0);
	/* Cancelled and failed bookings take nothing. */
	plant_at(x, "cancelled", 14, 15, 0);
	plant_at(x, "failed", 14, 15, 0);
	CHECK_INT(ledger_slot_taken(db, hour(14), hour(15), NULL), 0);
	/* Every other status does. */
	plant_at(x, "pending", 15, 16, 0);
	CHECK_INT(ledger_slot_taken(db, hour(15), hour(16), NULL), 1);
	plant_at(x, "scheduling", 16, 17, 0);
	CHECK_INT(ledger_slot_taken(db, hour(16), hour(17), NULL), 1);
}

TEST(a_hold_takes_its_slot_until_it_expires)
{
	char held[33], gone[33];
	struct slots_busy *busy = NULL;
	size_t n = 0, cap = 0;

	plant_at(held, "held", 18, 19, 15);
	plant_at(gone, "held", 20, 21, -1);
	CHECK_INT(ledger_slot_taken(db, hour(18), hour(19), NULL), 1);
	CHECK_INT(ledger_slot_taken(db, hour(20), hour(21), NULL), 0);
	/* The free slots see the same: the live hold, not the expired one. */
	CHECK_INT(
	        ledger_active_between(db, hour(18), hour(22), &busy, &n, &cap),
	        0);
	CHECK_INT((int)n, 1);
	if (n == 1) {
		CHECK_INT(busy[0].start, hour(18));
		CHECK_INT(busy[0].end, hour(19));
	}
	free(busy);
}

static int cancel_pending_of(const char *id)
{
	struct db_param p = db_text(id);
	struct db_rows rows;
	int v = -1;

	if (db_query(db, "SELECT cancelPending FROM bookings WHERE id = ?", &p,
	             1, &rows) == DB_OK &&
	    rows.nrows == 1)
		v = (int)strtol(db_cell(&rows, 0, 0), NULL, 10);
	db_rows_free(&rows);
	return v;
}

TEST(a_cancellation_marks_the_event_for_deletion_when_one_may_exist)
{
	static const struct {
		const char *status;
		int with_event, pending;
	} cases[] = {
	        {"held", 0, 0},       {"pending", 0, 0},   {"pending", 1, 1},
	        {"scheduling", 0, 1}, {"scheduled", 1, 1}, {"failed", 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct db_param p;
		char id[33];

		plant(id, cases[i].status);
		p = db_text(id);
		if (cases[i].with_event)
			CHECK_INT(db_exec(db,
			                  "UPDATE bookings SET eventId = "
			                  "CONCAT('bk', id) WHERE id = ?",
			                  &p, 1, NULL),
			          DB_OK);
		CHECK_INT(ledger_cancel(db, id, cases[i].status, "a test"),
		          LEDGER_OK);
		if (cancel_pending_of(id) != cases[i].pending)
			fprintf(stderr, "  %s (event %d)\n", cases[i].status,
			        cases[i].with_event);
		CHECK_INT(cancel_pending_of(id), cases[i].pending);
	}
}

TEST(a_new_booking_starts_its_history)
{
	struct bookreq b;
	struct ledger_new row = {"held",
	                         NULL,
	                         NULL,
	                         NULL,
	                         15,
	                         NULL,
	                         "held while the student pays"};
	struct ledger_new bad = {"scheduled", NULL, NULL,   NULL,
	                         0,           NULL, "never"};
	char id[33], id2[33], hist[512], now[LEDGER_STATUS_MAX];

	memset(&b, 0, sizeof(b));
	b.start = 1893916800; /* 2030-01-07T09:00:00Z */
	b.duration_min = 60;
	b.participants = 1;
	snprintf(b.class_type, sizeof(b.class_type), "individual");
	snprintf(b.email, sizeof(b.email), "ledger@example.com");
	snprintf(id, sizeof(id), "%08x%024x", 0x7e580000u + (unsigned)seq++,
	         0u);
	CHECK_INT(ledger_book(db, id, &b, &row), 0);
	history_of(id, hist, sizeof(hist));
	CHECK_STR(hist, "->held:held while the student pays");
	/* The slot is now taken for anyone else. */
	snprintf(id2, sizeof(id2), "%08x%024x", 0x7e580000u + (unsigned)seq++,
	         0u);
	CHECK_INT(ledger_book(db, id2, &b, &row), 1);
	/* A status the table does not start with is refused whole. */
	b.start += 7 * 86400;
	CHECK(ledger_book(db, id2, &b, &bad) < 0);
	status_of(id2, now, sizeof(now));
	CHECK_STR(now, "");
	history_of(id2, hist, sizeof(hist));
	CHECK_STR(hist, "");
	/* And the whole path of a paid class, one row each. */
	CHECK_INT(ledger_take_payment(db, id, "held", "scheduling", "77001",
	                              NULL, "the payment was approved"),
	          LEDGER_OK);
	CHECK_INT(ledger_mark_scheduled(db, id, "scheduling",
	                                "bk7e58000000000000000000000000000",
	                                "https://meet.google.com/abc-defg-hij",
	                                "https://calendar.google.com/x"),
	          LEDGER_OK);
	CHECK_INT(ledger_cancel(db, id, "scheduled", "cancelled by a test"),
	          LEDGER_OK);
	history_of(id, hist, sizeof(hist));
	CHECK_STR(hist, "->held:held while the student pays"
	                "|held>scheduling:the payment was approved"
	                "|scheduling>scheduled:the event is on Google"
	                "|scheduled>cancelled:cancelled by a test");
	/* Cancelled is final: the ledger refuses to go on. */
	CHECK_INT(ledger_transition(db, id, "cancelled", "scheduling", "no"),
	          LEDGER_REFUSED);
}

static char db_url[1024];

/* The database of DATABASE_URL, with the rows earlier runs left gone. */
TEST(the_database_answers)
{
	char err[256];

	CHECK_INT(tz_set("America/Argentina/Buenos_Aires"), 0);
	db = db_new(db_url, err, sizeof(err));
	CHECK(db != NULL);
	CHECK_INT(db_exec(db,
	                  "DELETE FROM booking_history WHERE bookingId LIKE "
	                  "'7e5%'",
	                  NULL, 0, NULL),
	          DB_OK);
	CHECK_INT(db_exec(db, "DELETE FROM bookings WHERE id LIKE '7e5%'", NULL,
	                  0, NULL),
	          DB_OK);
}

int main(void)
{
	const char *url = getenv("DATABASE_URL");

	RUN(every_pair_follows_the_table);
	RUN(nothing_leaves_cancelled_and_nothing_moves_to_itself);
	RUN(unknown_statuses_are_refused);
	if (url != NULL && *url != '\0') {
		snprintf(db_url, sizeof(db_url), "%s", url);
		RUN(the_database_answers);
		if (db != NULL) {
			RUN(every_transition_on_a_real_row);
			RUN(a_row_that_moved_is_not_changed);
			RUN(a_cancellation_marks_the_event_for_deletion_when_one_may_exist);
			RUN(the_overlap_check_counts_active_bookings_only);
			RUN(a_hold_takes_its_slot_until_it_expires);
			RUN(a_new_booking_starts_its_history);
			db_free(db);
		}
	}
	return CHECK_DONE();
}
