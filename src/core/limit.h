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
#define LIMIT_DB_DEADLOCK_TRIES 4   /* a statement of its own that deadlocked */
#define LIMIT_OAUTH_STATES      1000 /* sign-in states in flight (oauth_states) */
#define LIMIT_OAUTH_RETRY_S     60   /* Retry-After when they are all taken */

#endif
