/*
 * oauth - the admin connects the school's Google account once (OAuth 2.0
 * authorization code flow with PKCE, RFC 6749 §4.1 and RFC 7636; Google's
 * web-server flow, protocols.md §6).
 *
 * /oauth/google/start makes a single-use state (only its SHA-256 is
 * stored, with the browser cookie's SHA-256 and the sealed PKCE verifier,
 * for ten minutes) and sends the browser to Google's consent screen. The
 * callback checks the state against the cookie, exchanges the code, reads
 * the account from the ID token (or userinfo), and keeps the refresh token
 * only for ADMIN_EMAIL. Every outcome is a small page in Spanish, and every
 * reply is Cache-Control: no-store.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include "web/app.h"

#define OAUTH_COOKIE "booking_oauth"
#define OAUTH_SCOPES                                                           \
	"openid email profile https://www.googleapis.com/auth/calendar.events"
#define OAUTH_CALENDAR_SCOPE "https://www.googleapis.com/auth/calendar.events"

/* GET /oauth/google/start: 302 to Google's consent screen. */
int oauth_start(struct proc *proc, struct request *req, struct response *res);

/* GET /oauth/google/callback: the end of the consent, as a page. */
int oauth_callback(struct proc *proc, struct request *req,
                   struct response *res);

/* GET /oauth/google/status (internal): the connection, as JSON. */
int oauth_status(struct proc *proc, struct request *req, struct response *res);

#endif
