/*
 * cookie - the browser cookies of the pages: the OAuth state's and the
 * admin console's session. One place sets their attributes (HttpOnly,
 * SameSite=Lax, Secure unless the site is plain http on this machine) and
 * reads them strictly (64 lowercase hex digits, given once).
 */
#ifndef COOKIE_H
#define COOKIE_H

#include "web/request.h"
#include "web/response.h"

/* Whether a cookie for the site of site_uri (AUTH_GOOGLE_REDIRECT_URI) is
 * Secure: always, except plain http on 127.0.0.1, localhost or [::1], where
 * the browser would not send a Secure cookie back. */
int cookie_secure(const char *site_uri);

/* Adds a Set-Cookie for name=value on path, for max_age seconds (0: it
 * ends now), HttpOnly, SameSite=Lax, Secure as cookie_secure() says. 0, or
 * -1 when out of memory. */
int cookie_set(struct response *res, const char *site_uri, const char *name,
               const char *path, const char *value, long max_age)
        __attribute__((warn_unused_result));

/* The value of the cookie called name when it is 64 lowercase hex digits
 * and given once; otherwise "" in out. */
void cookie_read_hex64(const struct request *req, const char *name,
                       char out[65]);

#endif
