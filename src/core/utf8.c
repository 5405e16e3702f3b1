#include "core/utf8.h"

#include <string.h>

/*
 * The length of the strict UTF-8 character at s (n > 0 bytes left), or 0
 * when s does not start one. Table 3-7 of the Unicode standard: the second
 * byte's range depends on the first, which is how overlong forms,
 * surrogates and code points past U+10FFFF are refused.
 */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		if (s[0] == 0xE0)
			lo = 0xA0; /* overlong */
		else if (s[0] == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		if (s[0] == 0xF0)
			lo = 0x90; /* overlong */
		else if (s[0] == 0xF4)
			hi = 0x8F; /* past U+10FFFF */
	} else {
		return 0; /* 80..C1 and F5..FF never start a character */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		len = utf8_char(p + i, n - i);
		if (len == 0)
			return 0;
		i += len;
	}
	return 1;
}

size_t utf8_clip(const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		len = utf8_char(p + i, n - i);
		if (len == 0 || i + len > max)
			break;
		i += len;
	}
	return i;
}

char *utf8_copy(char *dst, size_t dstlen, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0, len;

	while (i < n) {
		len = utf8_char(p + i, n - i);
		if (len == 0) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + len >= dstlen)
			break;
		memcpy(dst + o, p + i, len);
		o += len;
		i += len;
	}
	dst[o] = '\0';
	return dst;
}
