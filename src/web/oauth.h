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
 * only for ADMIN_EMAIL. Every outcome is a small page in Spanish with the
 * page headers (response_page_headers(): CSP, no framing, no-store, ...);
 * the routes are APP_HTML, so the runtime's own refusals are pages too.
 * Only a callback that spends the state clears the cookie.
 *
 * The cookie: on an HTTPS site (AUTH_GOOGLE_REDIRECT_URI is https://) it
 * is OAUTH_HOST_COOKIE, Secure, Path=/ and no Domain, so no other host (a
 * sibling subdomain) and no plain-http page can set or shadow it (the
 * __Host- prefix, RFC 6265bis); otherwise OAUTH_COOKIE on /oauth/google/,
 * Secure unless the site is plain http on this machine.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include "web/app.h"

#define OAUTH_COOKIE      "booking_oauth"
#define OAUTH_HOST_COOKIE "__Host-booking_oauth"
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
