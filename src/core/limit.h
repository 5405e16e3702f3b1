/*
 * limit - every size, count and time limit of the programs, in one place.
 */
#ifndef LIMIT_H
#define LIMIT_H

#define LIMIT_BODY_BYTES        (64u * 1024u) /* request bodies (413 above) */
#define LIMIT_JSON_DEPTH        16            /* nesting of a request body */
#define LIMIT_QUERY_BYTES       2048          /* a whole query string */
#define LIMIT_QUERY_PAIRS       16   /* key=value pairs in a query string */
#define LIMIT_QUERY_VALUE       512  /* one decoded query value */
#define LIMIT_PATH_BYTES        1024 /* the request path */
#define LIMIT_HEADER_VALUE      4096 /* a response header value */
#define LIMIT_REQUEST_ID        64   /* an X-Request-Id we accept from nginx */
#define LIMIT_RESPONSE_BYTES    (4u * 1024u * 1024u) /* a reply we build */
#define LIMIT_DB_CONNECT_S      2                    /* connecting to MySQL */
#define LIMIT_DB_IO_S           10  /* one MySQL read or write */
#define LIMIT_ERROR_MESSAGE     256 /* an error message buffer */
#define LIMIT_DB_DEADLOCK_TRIES 8   /* a statement of its own that deadlocked */
#define LIMIT_DB_HOSTS          16  /* nodes named in DATABASE_URL */
/* A transaction that met a deadlock or a Galera certification conflict is
 * tried whole this often, with a growing random pause between tries. */
#define LIMIT_DB_TX_TRIES   10
#define LIMIT_OAUTH_STATES  1000 /* sign-in states in flight (oauth_states) */
#define LIMIT_OAUTH_RETRY_S 60   /* Retry-After when they are all taken */

/* MercadoPago's notifications (web/payguard, school/payment). */
#define LIMIT_PAYMENT_ID_DIGITS 20 /* a payment id: 1 to 20 digits */
/* Reads of MercadoPago an unsigned notification may start, per process: a
 * burst, then one more per refill interval (beyond: 429, no call). */
#define LIMIT_MP_UNSIGNED_BURST     10
#define LIMIT_MP_UNSIGNED_REFILL_MS 1000
/* An id MercadoPago answered 404 for is not read again for an unsigned
 * notification this long; so many ids are remembered, per process. */
#define LIMIT_MP_UNKNOWN_TTL_S 60
#define LIMIT_MP_UNKNOWN_IDS   64
#define LIMIT_MP_JSON_DEPTH    32 /* nesting of a payment MercadoPago sends */
/* A pending payment keeps its slot until MercadoPago's date_of_expiration,
 * this long when it gives none, and never longer than the second bound
 * after it was first heard of; then reconcile releases the slot. */
#define LIMIT_PAYMENT_PENDING_H     48
#define LIMIT_PAYMENT_PENDING_MAX_H 168

/* Google push channels (school/push.c) */
#define LIMIT_PUSH_URL    1024 /* CALENDAR_PUSH_URL, as push_channels.address */
#define LIMIT_PUSH_ID     64   /* a channel id (Google: at most 64) */
#define LIMIT_PUSH_RES_ID 255  /* a resource id Google gives, as stored */
#define LIMIT_PUSH_TOKEN  256  /* X-Goog-Channel-Token (Google: at most 256) */

#endif
