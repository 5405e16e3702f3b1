#include "core/jsonio.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json_tokener.h>

#include "core/utf8.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * json-c's strict mode still takes single-quoted strings, NaN and Infinity,
 * numbers such as "1." and "01", and raw control bytes inside strings. 1
 * when the tokens outside strings are those of RFC 8259 (the grammar is left
 * to json-c), no string holds \u0000 (C strings end there) and every
 * surrogate escape is half of a pair (RFC 7493 §2.1; strict only), else 0.
 */
/* The value of the four hex digits at s (n bytes left), or -1. */
static long hex4(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (is_digit(s[i]))
			v |= s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= s[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * At s[i] == '\\': 0 when the escape is a surrogate that is not half of a
 * \uD8xx\uDCxx pair (json-c would store U+FFFD for it, quietly), else 1.
 * *skip is how many bytes past the backslash the escape takes.
 */
static int escape_ok(const char *s, size_t n, size_t i, size_t *skip)
{
	long c = s[i + 1] == 'u' ? hex4(s + i + 2, n - i - 2) : -1, lo;

	*skip = 1;
	if (c < 0xD800 || c > 0xDFFF)
		return 1;
	if (c >= 0xDC00)
		return 0;
	if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u')
		return 0;
	lo = hex4(s + i + 8, n - i - 8);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return 0;
	*skip = 11;
	return 1;
}

static int rfc8259_tokens(const char *s, size_t n, int strict)
{
	size_t skip;

	size_t i = 0;

	while (i < n) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if ((unsigned char)s[i] < 0x20)
					return 0;
				/* \u0000 would cut the string short in C. */
				if (s[i] == '\\' && n - i >= 6 &&
				    memcmp(s + i + 1, "u0000", 5) == 0)
					return 0;
				if (s[i] == '\\' && i + 1 < n) {
					if (!escape_ok(s, n, i, &skip) &&
					    strict)
						return 0;
					i += skip;
				}
			}
			i++;
		} else if (s[i] == '-' || is_digit(s[i])) {
			/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
			if (s[i] == '-')
				i++;
			if (i < n && s[i] == '0')
				i++;
			else if (i < n && is_digit(s[i]))
				while (i < n && is_digit(s[i]))
					i++;
			else
				return 0;
			if (i < n && s[i] == '.') {
				if (++i >= n || !is_digit(s[i]))
					return 0;
				while (i < n && is_digit(s[i]))
					i++;
			}
			if (i < n && (s[i] == 'e' || s[i] == 'E')) {
				if (++i < n && (s[i] == '+' || s[i] == '-'))
					i++;
				if (i >= n || !is_digit(s[i]))
					return 0;
				while (i < n && is_digit(s[i]))
					i++;
			}
			if (i < n && is_digit(s[i]))
				return 0;
		} else if (s[i] != '\0' &&
		           strchr(" \t\r\n{}[]:,truefalsn", s[i])) {
			i++;
		} else {
			return 0;
		}
	}
	return 1;
}

static struct json_object *parse(const char *data, size_t len, int max_depth,
                                 int strict, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;

	if (len > (size_t)0x7fffffff || memchr(data, '\0', len) != NULL) {
		snprintf(err, errlen, "the body is not valid JSON");
		return NULL;
	}
	if (!rfc8259_tokens(data, len, strict)) {
		snprintf(err, errlen,
		         "the body is not valid JSON: unexpected character");
		return NULL;
	}
	if (strict && !utf8_valid(data, len)) {
		snprintf(err, errlen,
		         "the body is not valid JSON: it is not valid UTF-8");
		return NULL;
	}
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	                                    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		snprintf(err, errlen,
		         "the body is not valid JSON: it ends early");
		goto fail;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "the body is not valid JSON: %s",
		         jerr == json_tokener_error_depth
		                 ? "nested too deeply"
		                 : json_tokener_error_desc(jerr));
		goto fail;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (data[end] != ' ' && data[end] != '\t' &&
		    data[end] != '\r' && data[end] != '\n')
			break;
	if (end != len) {
		snprintf(err, errlen,
		         "the body is not valid JSON: bytes after the value");
		goto fail;
	}
	json_tokener_free(tok);
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}

struct json_object *jsonio_parse(const char *data, size_t len, int max_depth,
                                 char *err, size_t errlen)
{
	return parse(data, len, max_depth, 1, err, errlen);
}

struct json_object *jsonio_parse_lenient(const char *data, size_t len,
                                         int max_depth, char *err,
                                         size_t errlen)
{
	return parse(data, len, max_depth, 0, err, errlen);
}

struct json_object *jsonio_member(struct json_object *obj, const char *key,
                                  enum json_type type)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *jsonio_string(struct json_object *obj, const char *key)
{
	struct json_object *v = jsonio_member(obj, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

int jsonio_add(struct json_object *obj, const char *key,
               struct json_object *value)
{
	if (json_object_object_add(obj, key, value) != 0) {
		json_object_put(value);
		return -1;
	}
	return 0;
}

int jsonio_add_string(struct json_object *obj, const char *key,
                      const char *value)
{
	struct json_object *v = NULL;

	if (value != NULL && (v = json_object_new_string(value)) == NULL)
		return -1;
	return jsonio_add(obj, key, v);
}

int jsonio_add_bool(struct json_object *obj, const char *key, int value)
{
	struct json_object *v = json_object_new_boolean(value ? 1 : 0);

	return v ? jsonio_add(obj, key, v) : -1;
}

int jsonio_add_int(struct json_object *obj, const char *key, long long n)
{
	struct json_object *v = json_object_new_int64(n);

	return v ? jsonio_add(obj, key, v) : -1;
}
