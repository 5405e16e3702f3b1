/*
 * ledger - the booking lifecycle: the one owner of the tables bookings,
 * payments, booking_locks and booking_history. Every SQL statement on them
 * is here, and nowhere else (make lint checks it).
 *
 * A booking's status follows a table of allowed transitions:
 *
 *   (new)      -> held | pending | scheduling | failed
 *   held       -> pending | scheduling | failed | cancelled
 *   pending    -> scheduling | failed | cancelled
 *   scheduling -> scheduled | failed | cancelled
 *   scheduled  -> scheduling (rescheduled: Google must follow) | cancelled
 *   failed     -> scheduling (a payment approved after its pending slot
 *                 was released, the slot free again) | cancelled
 *   cancelled  -> (nothing: final)
 *
 * Every change goes through one function that checks the table and applies
 * it as a compare-and-swap in SQL (UPDATE ... WHERE id = ? AND status =
 * <the status the caller saw>), and writes a booking_history row (from,
 * to, when, why) in the same transaction: the caller's, or one of its own.
 * A row that moved meanwhile is LEDGER_RACED and nothing is written.
 *
 * The payments table keeps MercadoPago's last known state of each payment
 * (and, while it is pending, when its slot is released);
 * booking_locks holds the one row whose lock serializes "is this slot
 * free?" with the write that takes it.
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>

#include "io/db.h"
#include "school/bookreq.h"
#include "school/slots.h"

#define LEDGER_STATUS_MAX 16 /* the longest status and its NUL */

enum ledger_result {
	LEDGER_OK = 0,
	LEDGER_REFUSED, /* the transition table does not allow it */
	LEDGER_RACED,   /* the booking is no longer in the status seen */
	LEDGER_RETRY,   /* a deadlock or a duplicate key: the transaction was
	                   rolled back and may be tried again whole */
	LEDGER_DB_DOWN  /* the database failed (db_error() says why) */
};

/*
 * Whether the table allows a booking in status from (NULL: a booking not
 * yet written) to move to to. A status moving to itself is not a
 * transition: 0.
 */
int ledger_transition_allowed(const char *from, const char *to);

/*
 * Moves booking id from status from to status to, for why (a short
 * sentence kept in the history), when the table allows it and the row is
 * still in from. Returns LEDGER_OK, LEDGER_REFUSED (nothing written),
 * LEDGER_RACED (nothing written), LEDGER_RETRY or LEDGER_DB_DOWN.
 */
enum ledger_result ledger_transition(struct db *db, const char *id,
                                     const char *from, const char *to,
                                     const char *why)
        __attribute__((warn_unused_result));

/* Whether s is a booking id: 32 lowercase hex digits. */
int ledger_id_valid(const char *s);

/* ---- reading ---- */

/* A booking as the lifecycle needs it. */
struct ledger_row {
	char status[LEDGER_STATUS_MAX];
	struct bookreq b; /* start, duration and the class */
	int64_t end;
	int has_event;
	int has_meet;
	int cancel_pending;
};

/* 1 and *r filled, 0 when there is no such booking, -1 on a database
 * error. */
int ledger_load(struct db *db, const char *id, struct ledger_row *r)
        __attribute__((warn_unused_result));

/*
 * The booking id as the contract's BOOKING object (a new object the
 * caller puts) in *out, times in the zone. Returns 0, 1 when there is no
 * such booking, -1 when the database failed.
 */
int ledger_booking_json(struct db *db, const char *id, struct json_object **out)
        __attribute__((warn_unused_result));

/*
 * Appends the active bookings (not cancelled or failed; a hold only until
 * it expires) overlapping [from, to) to *busy (a malloc'd array of *cap,
 * *n used; the caller frees it). 0, or -1 when the database failed or
 * memory ran out.
 */
int ledger_active_between(struct db *db, int64_t from, int64_t to,
                          struct slots_busy **busy, size_t *n, size_t *cap)
        __attribute__((warn_unused_result));

/* ---- new bookings and the slot lock ---- */

/* How a new booking row is written. */
struct ledger_new {
	const char *status;     /* held, pending, scheduling, failed */
	const char *payment_id; /* or NULL */
	const char *idem_key;   /* or NULL */
	const char *idem_hash;  /* with idem_key */
	long hold_min;          /* > 0: a hold expiring after that long */
	const char *last_error; /* or NULL */
	const char *why;        /* for the history */
};

/*
 * Inside a transaction: takes the slot lock (a write to the booking_locks
 * row, which a Galera cluster certifies), so that deciding whether a slot
 * is free and writing it happen as one, whichever node each ran on; the
 * transaction's reads then see all the cluster committed before them.
 */
enum db_result ledger_lock_slots(struct db *db)
        __attribute__((warn_unused_result));

/*
 * Under the slot lock: 1 when an active booking other than own_id (NULL:
 * none) overlaps [start, end), 0 when free, -1 on a database error.
 */
int ledger_slot_taken(struct db *db, int64_t start, int64_t end,
                      const char *own_id) __attribute__((warn_unused_result));

/* Writes booking id for b as r says, and its first history row, in the
 * caller's transaction. */
enum db_result ledger_insert(struct db *db, const char *id,
                             const struct bookreq *b,
                             const struct ledger_new *r)
        __attribute__((warn_unused_result));

/*
 * In one transaction under the slot lock: whether b's slot is free of
 * active bookings and r's idempotency key unused, then the booking
 * written. 0 done, 1 the slot is taken, 2 the key (or id) exists, -1 a
 * database error. Deadlocks are tried again.
 */
int ledger_book(struct db *db, const char *id, const struct bookreq *b,
                const struct ledger_new *r) __attribute__((warn_unused_result));

/*
 * In one transaction under the slot lock: booking id moved to [start,
 * end) when that is free of other active bookings; a scheduled booking
 * goes back to scheduling (its event must follow). 0 done, 1 the slot is
 * taken, 3 the booking is cancelled or failed (or gone), -1 a database
 * error.
 */
int ledger_move(struct db *db, const char *id, int64_t start, int64_t end)
        __attribute__((warn_unused_result));

/* ---- the Google side's bookkeeping ---- */

/* Records a Google failure for booking id and when to try again: 5 s,
 * doubling, at most an hour (reconcile's schedule). Logged. */
void ledger_record_failure(struct db *db, const char *request_id,
                           const char *id, const char *error);

/*
 * Booking id (seen in status from: scheduling or scheduled) has its event:
 * scheduled, with the event id, the Meet link (NULL: still pending, looked
 * at again in 5 s) and the html link. LEDGER_RACED when it moved meanwhile
 * (or nothing changed).
 */
enum ledger_result ledger_mark_scheduled(struct db *db, const char *id,
                                         const char *from, const char *event_id,
                                         const char *meet, const char *html)
        __attribute__((warn_unused_result));

/*
 * Cancels booking id, seen in status from, for why: its Google event is
 * marked for deletion (cancelPending) when one may exist.
 */
enum ledger_result ledger_cancel(struct db *db, const char *id,
                                 const char *from, const char *why)
        __attribute__((warn_unused_result));

/* Marks the event of a cancelled booking for deletion. */
enum db_result ledger_cancel_pending(struct db *db, const char *id)
        __attribute__((warn_unused_result));

/* The event of booking id is deleted: nothing left to do for it. */
enum db_result ledger_cancel_done(struct db *db, const char *id)
        __attribute__((warn_unused_result));

/* ---- Idempotency-Key ---- */

/* The booking that carries a key, and the first reply to it. */
struct ledger_idem {
	char hash[65]; /* of the first request's body */
	int has_reply; /* status and reply below are kept */
	int status;    /* the first reply's status */
	char *reply;   /* malloc'd; ledger_idem_free() */
	size_t len;
	char id[33]; /* the booking */
	char bstatus[LEDGER_STATUS_MAX];
	int stale; /* made over 60 s ago */
};

/* 1 and *out filled, 0 when no booking carries key, -1 on a database
 * error. */
int ledger_idem_find(struct db *db, const char *key, struct ledger_idem *out)
        __attribute__((warn_unused_result));

/* Frees what *i holds. */
void ledger_idem_free(struct ledger_idem *i);

/* Keeps the first reply (status and body) of booking id's key. Logged on
 * failure. */
void ledger_idem_keep(struct db *db, const char *request_id, const char *id,
                      int status, const char *body, size_t len);

/* ---- payments (MercadoPago's last known state) ---- */

/*
 * The last known status of payment pid, locked for this transaction, into
 * status. 1 found, 0 never seen, -1 on a database error.
 */
int ledger_payment_status(struct db *db, const char *pid, char *status,
                          size_t len) __attribute__((warn_unused_result));

/* What MercadoPago says of a payment. Strings may be NULL. */
struct ledger_payment {
	const char *id;
	const char *status;
	const char *detail;
	const char *external_reference;
	const char *amount; /* "12.50", within DECIMAL(12,2) */
	const char *currency;
	int pending;     /* pending, in_process: it gets a releaseAt */
	int64_t expires; /* MercadoPago's date_of_expiration; 0: none */
};

/*
 * Writes (or updates) the payment's state, with the time it was heard of;
 * its lastError is cleared (the caller writes a new one). A pending one is
 * released (releaseAt) at expires, or LIMIT_PAYMENT_PENDING_H after it was
 * first heard of when there is none, and never later than
 * LIMIT_PAYMENT_PENDING_MAX_H after that; any other has no releaseAt.
 */
enum db_result ledger_payment_upsert(struct db *db,
                                     const struct ledger_payment *p)
        __attribute__((warn_unused_result));

/* Payment pid could not be read: a new row with status "unknown", or the
 * known one kept; error as its lastError either way. */
enum db_result ledger_payment_unreadable(struct db *db, const char *pid,
                                         const char *error)
        __attribute__((warn_unused_result));

/* Why payment pid could not become a class. */
enum db_result ledger_payment_error(struct db *db, const char *pid,
                                    const char *error)
        __attribute__((warn_unused_result));

/* Ties payment pid to booking id. */
enum db_result ledger_payment_link(struct db *db, const char *pid,
                                   const char *id)
        __attribute__((warn_unused_result));

/* A booking as a payment sees it. */
struct ledger_paid {
	char id[33];
	char status[LEDGER_STATUS_MAX];
	int has_payment;
	int64_t start, end;
	int hold_expired; /* a hold whose holdExpiresAt has passed */
};

/* The booking tied to payment pid. 1 found, 0 none, -1 database error. */
int ledger_booking_by_payment(struct db *db, const char *pid,
                              struct ledger_paid *out)
        __attribute__((warn_unused_result));

/* Booking id, locked for this transaction. 1 found, 0 none, -1. */
int ledger_booking_lock(struct db *db, const char *id, struct ledger_paid *out)
        __attribute__((warn_unused_result));

/*
 * A payment reached booking id (seen in from): status to, the payment id,
 * the hold ended, lastError error (NULL: none), a fresh try count.
 */
enum ledger_result ledger_take_payment(struct db *db, const char *id,
                                       const char *from, const char *to,
                                       const char *pid, const char *error,
                                       const char *why)
        __attribute__((warn_unused_result));

/* Booking id (seen in from) failed, with error kept as lastError. */
enum ledger_result ledger_fail(struct db *db, const char *id, const char *from,
                               const char *error)
        __attribute__((warn_unused_result));

/*
 * What became of payment pid, as GET /api/payments/{id} answers it (a new
 * object the caller puts, in *out): {"id", "status" (MercadoPago's),
 * "bookingId", "bookingStatus", "lastError" (why it could not become a
 * class: the payment's own reason, else its booking's), "updatedAt"}.
 * Returns 0, 1 when the payment was never notified, -1 when the database
 * failed.
 */
int ledger_payment_json(struct db *db, const char *pid,
                        struct json_object **out)
        __attribute__((warn_unused_result));

/* ---- figures for the metrics ---- */

struct ledger_figures {
	long long
	        by_status[6]; /* held ... failed, in ledger_statuses() order */
	long long unfinished_oldest; /* seconds; 0 when nothing is unfinished */
	long long payments_unbooked; /* approved, and no scheduled class */
};

/* The statuses a booking may have, in the table's order; *n gets their
 * number. Static strings. */
const char *const *ledger_statuses(size_t *n);

/*
 * The booking lifecycle's figures: bookings by status, the age of the
 * oldest booking still unfinished (in scheduling, or cancelled with its
 * event not yet deleted) since it entered its status, and the approved
 * payments without a scheduled class. 0, or -1 when the database failed.
 */
int ledger_figures(struct db *db, struct ledger_figures *out)
        __attribute__((warn_unused_result));

/* ---- reconciliation ---- */

/*
 * Bookings in scheduling for more than after_s since their first failed
 * try become failed (logged one by one); their number in *n. 0, or -1.
 */
int ledger_give_up(struct db *db, long after_s, int *n)
        __attribute__((warn_unused_result));

/*
 * Pending bookings whose payment's releaseAt has passed become failed
 * (lastError says why; logged one by one): the slot is free again. Their
 * number in *n. 0, or -1 when the database failed.
 */
int ledger_release_pending(struct db *db, int *n)
        __attribute__((warn_unused_result));

/*
 * Up to batch bookings with work due now (an event to make, a Meet link
 * still missing on a recent class, an event to delete), oldest first:
 * rows of (id, status, cancelPending "1"/"0", meetLink IS NULL "1"/"0").
 * The caller frees *rows, also on failure.
 */
enum db_result ledger_work_due(struct db *db, int batch, struct db_rows *rows)
        __attribute__((warn_unused_result));

/* Takes booking id for claim_s, unless another run holds it. 1 ours, 0
 * not, -1 database error. */
int ledger_claim(struct db *db, const char *id, long claim_s)
        __attribute__((warn_unused_result));

/* A claimed booking with nothing left to do drops the claim's time. */
void ledger_release(struct db *db, const char *id);

/* 1 when booking id has its Meet link, 0 when not, -1 database error. */
int ledger_has_meet(struct db *db, const char *id)
        __attribute__((warn_unused_result));

/* How many bookings have work left (due now or later) into *n. 0, or
 * -1. */
int ledger_work_left(struct db *db, int *n) __attribute__((warn_unused_result));

/* ---- what the doctor asks ---- */

/* Recent classes without their Meet link (ledger_meet_missing()). */
struct ledger_meet_gap {
	long long count; /* scheduled, with an event, no Meet link */
	char id[33];     /* the newest of them; "" when count is 0 */
	char event_id[65];
	long long age_s; /* since it was made */
};

/*
 * The bookings made in the last window_s seconds that are scheduled, have
 * their Google event, and still no Meet link, older than grace_s (a
 * conference Google is still preparing is not a gap). Reads only. 0 with
 * *out filled, or -1 when the database failed.
 */
int ledger_meet_missing(struct db *db, long window_s, long grace_s,
                        struct ledger_meet_gap *out)
        __attribute__((warn_unused_result));

/*
 * The longest that work due for reconcile has waited (since it fell due:
 * its nextAttemptAt, or, without one, since the booking entered its
 * status) into *seconds (0 when nothing is due), and that booking's id
 * into id ("" when none). Reads only. 0, or -1 when the database failed.
 */
int ledger_overdue(struct db *db, long long *seconds, char id[33])
        __attribute__((warn_unused_result));

/* ---- what the admin console shows ---- */

/* The console's filter of the bookings list. */
struct ledger_list_filter {
	const char *status; /* one status, or NULL: all */
	int64_t from, to;   /* class start in [from, to); 0: no bound */
	long offset, limit;
};

/*
 * The bookings the filter lets through, newest class first (start
 * descending, then id): rows of (id, status, startAt, endAt, studentName,
 * studentEmail, classType, paymentId, lastError), times as UTC DATETIME.
 * Their count without the paging in *total. The caller frees *rows, also
 * on failure.
 */
enum db_result ledger_admin_list(struct db *db,
                                 const struct ledger_list_filter *f,
                                 struct db_rows *rows, long long *total)
        __attribute__((warn_unused_result));

/*
 * Booking id, everything about it: one row of (id, status, startAt,
 * endAt, timeZone, classType, participants, studentEmail, studentName,
 * notes, eventId, meetLink, htmlLink, paymentId, attempts, nextAttemptAt,
 * lastError, createdAt, updatedAt, cancelPending, holdExpiresAt, the
 * payment's status, the payment's lastError), or none. The caller frees
 * *rows, also on failure.
 */
enum db_result ledger_admin_booking(struct db *db, const char *id,
                                    struct db_rows *rows)
        __attribute__((warn_unused_result));

/* Booking id's history, oldest first: rows of (fromStatus, toStatus,
 * reason, at). The caller frees *rows, also on failure. */
enum db_result ledger_admin_history(struct db *db, const char *id,
                                    struct db_rows *rows)
        __attribute__((warn_unused_result));

/*
 * Up to limit payments (of MercadoPago status status, NULL: all), first
 * those that did not become a class (approved without a scheduled or
 * scheduling booking, or with a reason in lastError), then newest first:
 * rows of (id, status, statusDetail, bookingId, the booking's status,
 * reason: the payment's lastError else its booking's, amount, currency,
 * updatedAt, "1" when it did not become a class else "0"). The caller
 * frees *rows, also on failure.
 */
enum db_result ledger_admin_payments(struct db *db, const char *status,
                                     long limit, struct db_rows *rows)
        __attribute__((warn_unused_result));

/*
 * What needs the admin: bookings still in scheduling, failed ones whose
 * class is still ahead, and cancellations Google has not seen yet, into
 * *bookings; payments that did not become a class (as above) into
 * *payments. 0, or -1 when the database failed.
 */
int ledger_attention(struct db *db, long long *bookings, long long *payments)
        __attribute__((warn_unused_result));

/* The next limit classes (scheduled or scheduling, not yet over), soonest
 * first: rows as ledger_admin_list(). The caller frees *rows. */
enum db_result ledger_upcoming(struct db *db, long limit, struct db_rows *rows)
        __attribute__((warn_unused_result));

/*
 * A history row for booking id that is not a change of status (from and
 * to both its status now): something done to it, e.g. an admin's retry.
 * 1 written, 0 no such booking, -1 when the database failed.
 */
int ledger_note(struct db *db, const char *id, const char *why)
        __attribute__((warn_unused_result));

#endif
