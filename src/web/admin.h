/*
 * admin - the admin console under /admin (DESIGN.md "The admin console"):
 * sign-in with Google (OpenID Connect, through the one registered redirect
 * URI: /oauth/google/callback hands a state of flow "signin" to
 * admin_signin_callback()), the session (school/session.h), and the pages
 * and actions. Every reply is a page (web/page.h), in Spanish.
 *
 * Without a session a GET is sent (302) to /admin/login and a POST gets a
 * 403 page. A POST changes something only with the session's CSRF token
 * in its "csrf" field (compared in constant time) and an Origin of the
 * site itself, the origin of AUTH_GOOGLE_REDIRECT_URI (an Origin "null"
 * or none: Sec-Fetch-Site same-origin, or without it a Referer of the
 * site); otherwise 403 and nothing changes.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include "web/app.h"

#define ADMIN_COOKIE        "booking_admin"  /* the session id, Path=/admin */
#define ADMIN_SIGNIN_COOKIE "booking_signin" /* the sign-in's browser tie */
#define ADMIN_PAGE_SIZE     50

/* GET /admin/login: 302 to Google (openid email, select_account). */
int admin_login(struct proc *proc, struct request *req, struct response *res);

/* GET /oauth/google/callback for a sign-in state: a session for
 * ADMIN_EMAIL, then 302 to /admin; a 403 page for anyone else. */
int admin_signin_callback(struct proc *proc, struct request *req,
                          struct response *res);

/* POST /admin/logout: ends every session of the admin. */
int admin_logout(struct proc *proc, struct request *req, struct response *res);

/* GET /admin: the overview. */
int admin_overview(struct proc *proc, struct request *req,
                   struct response *res);

/* GET /admin/bookings?status=&from=&to=&page= */
int admin_bookings(struct proc *proc, struct request *req,
                   struct response *res);

/* GET /admin/bookings/{id} */
int admin_booking(struct proc *proc, struct request *req, struct response *res);

/* POST /admin/bookings/{id}/retry: as reconcile would, now; 303 back. */
int admin_retry(struct proc *proc, struct request *req, struct response *res);

/* POST /admin/bookings/{id}/cancel: as DELETE /api/calendar/{id}; 303
 * back. */
int admin_cancel(struct proc *proc, struct request *req, struct response *res);

/* GET /admin/payments?status= */
int admin_payments(struct proc *proc, struct request *req,
                   struct response *res);

#endif
