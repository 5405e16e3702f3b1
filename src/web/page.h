/*
 * page - the admin console's HTML: a page's frame (head, style, the
 * console's navigation), text always escaped, and the headers every page
 * of the console sends (DESIGN.md "The admin console"):
 *   Cache-Control: no-store, X-Frame-Options: DENY,
 *   X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, and a
 *   Content-Security-Policy allowing nothing but the page's own style
 *   (by its SHA-256) and forms posted to the site itself.
 * Pages are Spanish, need no JavaScript and no asset from anywhere.
 *
 * Builders append to a struct buf and return 0 or -1 (out of memory);
 * page_send() turns a finished body into the reply.
 */
#ifndef PAGE_H
#define PAGE_H

#include "core/buf.h"
#include "web/response.h"

/*
 * Starts a page titled title into b. With csrf (the session's form token)
 * the console's navigation is shown, with its "Cerrar sesión" button.
 */
int page_begin(struct buf *b, const char *title, const char *csrf)
        __attribute__((warn_unused_result));

/* Ends the page begun by page_begin(). */
int page_end(struct buf *b) __attribute__((warn_unused_result));

/* Appends s escaped for HTML text and attribute values ("" for NULL). */
int page_text(struct buf *b, const char *s) __attribute__((warn_unused_result));

/* Appends markup the caller wrote (never anything from outside). */
int page_raw(struct buf *b, const char *s) __attribute__((warn_unused_result));

/* Appends a UTC DATETIME from the database as local time, "2026-12-01
 * 15:00 (-03:00)"; "—" for NULL or something unreadable. */
int page_time(struct buf *b, const char *db_time)
        __attribute__((warn_unused_result));

/* Appends a POST form to action with the CSRF token and one button
 * labelled label. */
int page_form(struct buf *b, const char *action, const char *csrf,
              const char *label) __attribute__((warn_unused_result));

/* Adds the console's headers (above) to res. 0 or -1. */
int page_headers(struct response *res) __attribute__((warn_unused_result));

/*
 * Replaces res's body with b's contents as text/html, with the console's
 * headers, and returns status (500 with a plain page when the reply
 * cannot be built). b is left empty.
 */
int page_send(struct response *res, int status, struct buf *b);

/*
 * A whole page of one message: title, text and an optional link (href,
 * label) as a button. Returns status.
 */
int page_message(struct response *res, int status, const char *title,
                 const char *text, const char *href, const char *label);

/*
 * Turns a reply that is not HTML (the runtime's JSON errors: 400, 404,
 * 405, 413, 500, ...) into a page for the same status, keeping its
 * headers (Allow): every reply under /admin is a page. Returns the status.
 */
int page_from_error(struct response *res);

/* Whether path is the console's: "/admin" or under "/admin/". */
int page_path(const char *path);

#endif
