/*
 * session - the admin console's sessions (the admin_sessions table).
 *
 * A session is made only at sign-in (session_new()), for an account that
 * connect_is_admin() accepted: its id is 32 random bytes from OpenSSL,
 * written as 64 hex digits into the admin's cookie, and only the id's
 * SHA-256 is stored. A session lasts SESSION_IDLE_S after it was last
 * used, and never more than SESSION_MAX_S after sign-in. An id the
 * database does not hold (planted by someone, expired, logged out) is
 * never accepted, and is never stored: ids are ours alone.
 *
 * Each session has a CSRF token for the console's forms: HMAC-SHA256 of a
 * fixed label under the session id, so it differs between sessions, is
 * stored nowhere, and cannot be worked out from what the table holds.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>

#include "io/proc.h"

#define SESSION_ID_LEN 64 /* hex digits of a session id (256 bits) */
#define SESSION_IDLE_S (8L * 3600L)
#define SESSION_MAX_S  (24L * 3600L)

enum session_result {
	SESSION_OK = 0,
	SESSION_NONE,   /* no such live session */
	SESSION_NOMEM,  /* the generator or memory failed */
	SESSION_DB_DOWN /* logged */
};

/* A live session, as session_check() found it. */
struct session {
	char email[256];
	char csrf[SESSION_ID_LEN + 1]; /* the form token, 64 hex digits */
};

/*
 * Makes a session for email (the caller checked it is ADMIN_EMAIL) and
 * writes its id (SESSION_ID_LEN hex digits and a NUL) into id; removes
 * sessions long expired. SESSION_OK, SESSION_NOMEM or SESSION_DB_DOWN.
 */
enum session_result session_new(struct proc *proc, const char *request_id,
                                const char *email, char id[SESSION_ID_LEN + 1])
        __attribute__((warn_unused_result));

/*
 * Looks up the session whose id is id (from the cookie; anything that is
 * not SESSION_ID_LEN lowercase hex digits is SESSION_NONE without a
 * query). A live one is renewed (SESSION_IDLE_S from now, within
 * SESSION_MAX_S of sign-in) and *out filled: SESSION_OK. SESSION_NONE when
 * there is no such live session, or it belongs to an account that is no
 * longer ADMIN_EMAIL; SESSION_DB_DOWN.
 */
enum session_result session_check(struct proc *proc, const char *request_id,
                                  const char *id, struct session *out)
        __attribute__((warn_unused_result));

/*
 * Ends every session of email: logging out ends the admin's session in
 * every browser and tab. SESSION_OK or SESSION_DB_DOWN.
 */
enum session_result session_end_all(struct proc *proc, const char *request_id,
                                    const char *email)
        __attribute__((warn_unused_result));

/* Whether s is a well-formed session id (SESSION_ID_LEN lowercase hex). */
int session_id_valid(const char *s);

#endif
