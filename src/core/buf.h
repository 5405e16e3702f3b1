/*
 * buf - a growing byte buffer with a hard cap.
 *
 * Every buffer that grows with outside input (a response from Google, a
 * request body, a JSON reply) is a struct buf with a cap; appending past the
 * cap fails and leaves the buffer as it was. The data is always
 * NUL-terminated so it can be used as a string. The buffer owns its data:
 * buf_free() releases it, buf_take() hands it over to the caller.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;  /* NUL-terminated; NULL until the first append */
	size_t len;  /* bytes used, not counting the NUL */
	size_t size; /* bytes allocated */
	size_t cap;  /* most bytes it may hold (0: BUF_DEFAULT_CAP) */
};

#define BUF_DEFAULT_CAP (1024u * 1024u)

/* An empty buffer that may grow to cap bytes (0: BUF_DEFAULT_CAP). */
void buf_init(struct buf *b, size_t cap);

/* Appends len bytes. 0, or -1 (over the cap or out of memory: unchanged). */
int buf_append(struct buf *b, const void *data, size_t len)
        __attribute__((warn_unused_result));

/* Appends a NUL-terminated string. 0 or -1 as buf_append(). */
int buf_puts(struct buf *b, const char *s) __attribute__((warn_unused_result));

/* Appends formatted text. 0 or -1 as buf_append(). */
int buf_printf(struct buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3), warn_unused_result));

/* The same, with a va_list. */
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0), warn_unused_result));

/* The contents as a string: "" for an empty buffer. Borrowed. */
const char *buf_str(const struct buf *b);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Hands the data to the caller (who frees it; "" is malloc'd for an empty
 * buffer, NULL when out of memory) and leaves the buffer empty. */
char *buf_take(struct buf *b);

/* Releases the data. The buffer can be used again after buf_init(). */
void buf_free(struct buf *b);

#endif
