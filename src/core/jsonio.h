/*
 * jsonio - parsing outside JSON safely and reading fields out of it.
 *
 * Over json-c. A document is parsed once, strictly, with a depth limit, and
 * the whole input must be one JSON value. Field getters lend: a string
 * returned by them lives as long as the object it came from.
 */
#ifndef JSONIO_H
#define JSONIO_H

#include <stddef.h>

#include <json-c/json_object.h>

/*
 * Parses len bytes of JSON, nested at most max_depth deep. Returns a new
 * object the caller releases with json_object_put(), or NULL with a message
 * in err (malformed, too deep, trailing bytes, embedded NUL, not strict
 * UTF-8 (RFC 3629), a surrogate escape without its pair).
 */
struct json_object *jsonio_parse(const char *data, size_t len, int max_depth,
                                 char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * The same, but as loose about Unicode as json-c itself: a \uD800 escape
 * without its pair becomes U+FFFD and json-c's own UTF-8 check is the only
 * one. For a large answer from a trusted upstream (a page of Google
 * Calendar events), where one odd string in one event must not cost the
 * whole page; check a string with utf8_valid() before storing it.
 */
struct json_object *jsonio_parse_lenient(const char *data, size_t len,
                                         int max_depth, char *err,
                                         size_t errlen)
        __attribute__((warn_unused_result));

/* The string member key of obj, or NULL when absent or not a string.
 * Borrowed from obj. */
const char *jsonio_string(struct json_object *obj, const char *key);

/* The member key of obj when it has that json type, else NULL. Borrowed. */
struct json_object *jsonio_member(struct json_object *obj, const char *key,
                                  enum json_type type);

/* Adds key: value (a string, or JSON null when value is NULL) to obj.
 * 0, or -1 when out of memory. */
int jsonio_add_string(struct json_object *obj, const char *key,
                      const char *value) __attribute__((warn_unused_result));

/* Adds key: true/false. 0 or -1. */
int jsonio_add_bool(struct json_object *obj, const char *key, int value)
        __attribute__((warn_unused_result));

/* Adds key: n. 0 or -1. */
int jsonio_add_int(struct json_object *obj, const char *key, long long n)
        __attribute__((warn_unused_result));

/* Adds key: value, taking value (even on failure). 0 or -1. */
int jsonio_add(struct json_object *obj, const char *key,
               struct json_object *value) __attribute__((warn_unused_result));

#endif
