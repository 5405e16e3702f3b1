/*
 * utf8 - strict UTF-8 (RFC 3629): checking outside text, and cutting or
 * cleaning text so that what we send stays valid UTF-8.
 *
 * Strict means what RFC 8259 §8 and RFC 7493 ask of JSON strings: no
 * overlong forms, no surrogates (U+D800..U+DFFF, which CESU-8 writes as
 * ED A0..BF xx), nothing above U+10FFFF, no truncated sequence.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/* 1 when the n bytes at s are strict UTF-8 (NUL bytes included), else 0. */
int utf8_valid(const char *s, size_t n);

/*
 * The length of the longest prefix of the n bytes at s that is at most max
 * bytes long, is strict UTF-8 and ends on a character boundary: the place to
 * cut s so that no character is split. Stops at the first invalid byte.
 */
size_t utf8_clip(const char *s, size_t n, size_t max);

/*
 * Copies at most dstlen - 1 bytes of the NUL-terminated src into dst
 * (dstlen > 0), cut on a character boundary, every byte that is not part of
 * a strict UTF-8 character replaced by '?', and NUL-terminates it. Returns
 * dst.
 */
char *utf8_copy(char *dst, size_t dstlen, const char *src);

#endif
