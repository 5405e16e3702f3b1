/*
 * test_jsonio - strict parsing of outside JSON (one value, RFC 8259 only,
 * UTF-8, a depth limit) and the typed getters and adders over json-c.
 */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"
#include "core/jsonio.h"
#include "core/limit.h"

/* Parses a C string; 1 when it is accepted, 0 when refused. */
static int accepted(const char *s)
{
	char err[256] = "";
	struct json_object *obj;

	obj = jsonio_parse(s, strlen(s), LIMIT_JSON_DEPTH, err, sizeof(err));
	json_object_put(obj);
	return obj != NULL;
}

/* Refused, with a message that starts as every message does. */
static int refused(const char *s, size_t len)
{
	char err[256] = "";
	struct json_object *obj;

	obj = jsonio_parse(s, len, LIMIT_JSON_DEPTH, err, sizeof(err));
	json_object_put(obj);
	return obj == NULL &&
	       strncmp(err, "the body is not valid JSON", 26) == 0;
}

#define REFUSED(s) refused((s), sizeof(s) - 1)

TEST(valid_object_is_parsed)
{
	static const char doc[] =
	        "{\"start\":\"2026-12-01T15:00:00-03:00\",\"participants\":2,"
	        "\"ok\":true,\"none\":null,\"list\":[1,2.5,-3e2],"
	        "\"name\":\"Mar\\u00eda \xc3\xb1\"}";
	char err[64] = "";
	struct json_object *obj, *list;
	int ok;

	obj = jsonio_parse(doc, strlen(doc), LIMIT_JSON_DEPTH, err,
	                   sizeof(err));
	CHECK(obj != NULL);
	list = jsonio_member(obj, "list", json_type_array);
	ok = json_object_is_type(obj, json_type_object) &&
	     strcmp(jsonio_string(obj, "start"), "2026-12-01T15:00:00-03:00") ==
	             0 &&
	     json_object_get_int(
	             jsonio_member(obj, "participants", json_type_int)) == 2 &&
	     json_object_get_boolean(
	             jsonio_member(obj, "ok", json_type_boolean)) == 1 &&
	     list != NULL && json_object_array_length(list) == 3 &&
	     strcmp(jsonio_string(obj, "name"), "Mar\xc3\xad\x61 \xc3\xb1") ==
	             0;
	json_object_put(obj);
	CHECK(ok);
	CHECK_STR(err, "");
}

TEST(whitespace_around_the_value_is_fine)
{
	CHECK(accepted("{}"));
	CHECK(accepted("  {\"a\":1}"));
	CHECK(accepted("{\"a\":1} \n"));
	CHECK(accepted("\r\n\t{ \"a\" : [ 1 , 2 ] }\t\r\n  "));
	CHECK(accepted("[]"));
	CHECK(accepted("\"a string\""));
}

TEST(trailing_garbage_is_refused)
{
	CHECK(REFUSED("{\"a\":1}x"));
	CHECK(REFUSED("{\"a\":1} ;"));
	CHECK(REFUSED("{\"a\":1}\n}"));
	CHECK(REFUSED("{\"a\":1}\f"));
	CHECK(REFUSED("{\"a\":1}\xc2\xa0")); /* a no-break space */
}

TEST(two_values_are_refused)
{
	CHECK(REFUSED("{}{}"));
	CHECK(REFUSED("{} {}"));
	CHECK(REFUSED("[1] [2]"));
	CHECK(REFUSED("\"a\" \"b\""));
	CHECK(REFUSED("1 2"));
}

TEST(only_rfc_8259_is_accepted)
{
	/* Single quotes, anywhere. */
	CHECK(REFUSED("{'a':1}"));
	CHECK(REFUSED("{\"a\":'b'}"));
	CHECK(REFUSED("['b']"));
	/* Trailing commas. */
	CHECK(REFUSED("[1,]"));
	CHECK(REFUSED("{\"a\":1,}"));
	CHECK(REFUSED("[,1]"));
	/* Comments. */
	CHECK(REFUSED("/* c */{}"));
	CHECK(REFUSED("{}// c"));
	CHECK(REFUSED("{\"a\":1 /* c */}"));
	CHECK(REFUSED("# c\n{}"));
	/* NaN, Infinity, in any case. */
	CHECK(REFUSED("[NaN]"));
	CHECK(REFUSED("{\"a\":NaN}"));
	CHECK(REFUSED("[nan]"));
	CHECK(REFUSED("[Infinity]"));
	CHECK(REFUSED("[-Infinity]"));
	CHECK(REFUSED("[infinity]"));
	/* Numbers outside the grammar. */
	CHECK(REFUSED("[01]"));
	CHECK(REFUSED("[00]"));
	CHECK(REFUSED("[1.]"));
	CHECK(REFUSED("[.5]"));
	CHECK(REFUSED("[+1]"));
	CHECK(REFUSED("[1e]"));
	CHECK(REFUSED("[1.e5]"));
	CHECK(REFUSED("[-]"));
	CHECK(REFUSED("[0x10]"));
	CHECK(REFUSED("[- 1]"));
	/* Literals in another case, unquoted names, bad escapes. */
	CHECK(REFUSED("[True]"));
	CHECK(REFUSED("[NULL]"));
	CHECK(REFUSED("{a:1}"));
	CHECK(REFUSED("[\"\\x41\"]"));
	CHECK(REFUSED("[\"\\'\"]"));
	CHECK(REFUSED("[\"\\u12\"]"));
	/* Raw control bytes inside a string must be escaped. */
	CHECK(REFUSED("[\"a\tb\"]"));
	CHECK(REFUSED("[\"a\nb\"]"));
	CHECK(REFUSED("[\"\x01\"]"));
	/* An escaped NUL would end the string early in C. */
	CHECK(REFUSED("{\"e\":\"a@b.test\\u0000evil\"}"));
	CHECK(accepted("[\"\\\\u0000\"]")); /* a backslash, then "u0000" */
	/* What the grammar does allow. */
	CHECK(accepted("[0, -0, 10, -1.5e-3, 1E+2, 2e10, 0.25]"));
	CHECK(accepted("[true, false, null]"));
	CHECK(accepted("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"]"));
	CHECK(accepted("{\"a\\\"b\":\"it's \\\"quoted\\\"\"}"));
	CHECK(accepted("[\"\x7f\"]"));
}

TEST(invalid_utf8_is_refused)
{
	CHECK(REFUSED("[\"\xff\"]"));
	CHECK(REFUSED("[\"\x80\"]"));     /* a lone continuation byte */
	CHECK(REFUSED("[\"\xc3\"]"));     /* a sequence cut short */
	CHECK(REFUSED("[\"\xe2\x82\"]")); /* likewise */
	CHECK(REFUSED("[\"\xf8\x88\x80\x80\x80\"]")); /* five bytes */
	CHECK(REFUSED("{\"\xfe\":1}"));               /* in a name */
	CHECK(REFUSED("\xff{}"));                     /* outside a string */
	CHECK(accepted("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]"));
}

/* RFC 3629 is stricter than json-c's check: overlong forms, code points
 * past U+10FFFF, CESU-8 surrogates raw or as a lone escape. */
TEST(only_strict_utf8_strings_are_accepted)
{
	CHECK(REFUSED("{\"a\":\"\xC0\xAF\"}"));
	CHECK(REFUSED("{\"a\":\"\xC1\xBF\"}"));
	CHECK(REFUSED("{\"a\":\"\xE0\x80\xAF\"}"));
	CHECK(REFUSED("{\"a\":\"\xF4\x90\x80\x80\"}"));
	CHECK(REFUSED("{\"a\":\"\xED\xA0\x80\"}"));
	CHECK(REFUSED("{\"a\":\"\\uD800\"}"));
	CHECK(REFUSED("{\"a\":\"\\uDC00x\"}"));
	CHECK(REFUSED("{\"\\uD800\":1}"));
	CHECK(REFUSED("[[\"ok\",\"\\uDBFF\"]]"));
	CHECK(accepted("{\"a\":\"\\uD83D\\uDE00\"}"));
	CHECK(accepted("{\"a\":\"\xF0\x9F\x98\x80 \xC3\xB1\"}"));
	CHECK(accepted("{\"a\":\"\xF4\x8F\xBF\xBF\"}"));
	CHECK(accepted("{\"a\":\"\\uFFFF\"}"));
}

/* For Google's pages: a lone surrogate escape is U+FFFD, not a failure of
 * the whole page; the rest of the grammar is as strict. */
TEST(lenient_parse_takes_a_lone_surrogate_only)
{
	static const char lone[] = "{\"a\":\"x\\uD800y\"}";
	static const char nul[] = "{\"a\":\"\\uD800\\u0000\"}";
	char err[256] = "";
	struct json_object *obj;

	obj = jsonio_parse_lenient(lone, sizeof(lone) - 1, LIMIT_JSON_DEPTH,
	                           err, sizeof(err));
	CHECK(obj != NULL);
	CHECK_STR(jsonio_string(obj, "a"), "x\xEF\xBF\xBDy");
	json_object_put(obj);
	obj = jsonio_parse_lenient(nul, sizeof(nul) - 1, LIMIT_JSON_DEPTH, err,
	                           sizeof(err));
	CHECK(obj == NULL);
	obj = jsonio_parse_lenient("{'a':1}", 7, LIMIT_JSON_DEPTH, err,
	                           sizeof(err));
	CHECK(obj == NULL);
}

TEST(embedded_nul_is_refused)
{
	static const char in_string[] = "{\"a\":\"x\0y\"}";
	static const char after[] = "{\"a\":1}\0";
	static const char before[] = "\0{\"a\":1}";
	char err[128] = "";
	struct json_object *obj;

	CHECK(refused(in_string, sizeof(in_string) - 1));
	CHECK(refused(after, sizeof(after) - 1));
	CHECK(refused(before, sizeof(before) - 1));
	/* Without the NUL the same bytes are fine. */
	obj = jsonio_parse(after, sizeof(after) - 2, 4, err, sizeof(err));
	CHECK(obj != NULL);
	json_object_put(obj);
}

TEST(empty_and_cut_short_are_refused)
{
	char err[128] = "";
	struct json_object *obj;

	CHECK(REFUSED(""));
	CHECK(REFUSED("   "));
	CHECK(REFUSED("{"));
	CHECK(REFUSED("{\"a\":"));
	CHECK(REFUSED("[1, 2"));
	CHECK(REFUSED("\"open"));
	obj = jsonio_parse("{\"a\":1}", 6, LIMIT_JSON_DEPTH, err, sizeof(err));
	CHECK(obj == NULL);
	CHECK_STR(err, "the body is not valid JSON: it ends early");
}

/*
 * A document of the given depth as json-c counts it: every value is a
 * level, so "[]" is 1 deep and "[1]" 2 deep. With leaf, the innermost
 * container holds a number (which is then the deepest level).
 */
static char *nested(char *out, size_t outsize, int depth, int leaf,
                    const char *open, const char *close)
{
	size_t o = 0;
	int containers = leaf ? depth - 1 : depth, i;

	for (i = 0; i < containers && o + 8 < outsize; i++)
		o += (size_t)snprintf(out + o, outsize - o, "%s", open);
	if (leaf)
		out[o++] = '1';
	for (i = 0; i < containers && o + 4 < outsize; i++)
		o += (size_t)snprintf(out + o, outsize - o, "%s", close);
	out[o] = '\0';
	return out;
}

TEST(depth_at_the_limit_is_fine_one_more_is_not)
{
	char doc[512], err[128];
	struct json_object *obj;
	static const struct {
		const char *open, *close;
		int leaf;
	} kinds[] = {
	        {"[", "]", 0},
	        {"[", "]", 1},
	        {"{\"k\":", "}", 1},
	};
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		nested(doc, sizeof(doc), LIMIT_JSON_DEPTH, kinds[k].leaf,
		       kinds[k].open, kinds[k].close);
		obj = jsonio_parse(doc, strlen(doc), LIMIT_JSON_DEPTH, err,
		                   sizeof(err));
		CHECK(obj != NULL);
		json_object_put(obj);

		nested(doc, sizeof(doc), LIMIT_JSON_DEPTH + 1, kinds[k].leaf,
		       kinds[k].open, kinds[k].close);
		err[0] = '\0';
		obj = jsonio_parse(doc, strlen(doc), LIMIT_JSON_DEPTH, err,
		                   sizeof(err));
		CHECK(obj == NULL);
		CHECK(strstr(err, "nested too deeply") != NULL);
	}
	/* The limit is the caller's. */
	obj = jsonio_parse("[[1]]", 5, 2, err, sizeof(err));
	CHECK(obj == NULL);
	CHECK(strstr(err, "nested too deeply") != NULL);
	obj = jsonio_parse("[[1]]", 5, 3, err, sizeof(err));
	CHECK(obj != NULL);
	json_object_put(obj);
}

TEST(a_deep_bomb_is_refused_quickly)
{
	static char doc[200001];

	memset(doc, '[', 100000);
	memset(doc + 100000, ']', 100000);
	CHECK(refused(doc, 200000));
}

TEST(small_error_buffer_is_still_a_string)
{
	char err[8];
	struct json_object *obj;

	memset(err, 'x', sizeof(err));
	obj = jsonio_parse("{", 1, LIMIT_JSON_DEPTH, err, sizeof(err));
	CHECK(obj == NULL);
	CHECK_STR(err, "the bod");
}

TEST(string_getter_checks_the_type)
{
	static const char doc[] =
	        "{\"s\":\"text\",\"n\":5,\"d\":1.5,\"b\":false,"
	        "\"z\":null,\"o\":{\"s\":\"inner\"},\"a\":[\"x\"],"
	        "\"e\":\"\"}";
	char err[128];
	struct json_object *obj, *arr, *str;
	int ok;

	obj = jsonio_parse(doc, strlen(doc), LIMIT_JSON_DEPTH, err,
	                   sizeof(err));
	CHECK(obj != NULL);
	arr = jsonio_member(obj, "a", json_type_array);
	str = jsonio_member(obj, "s", json_type_string);
	ok = jsonio_string(obj, "s") != NULL &&
	     strcmp(jsonio_string(obj, "s"), "text") == 0 &&
	     jsonio_string(obj, "e") != NULL && *jsonio_string(obj, "e") == 0 &&
	     /* A member of another type, or none, is NULL. */
	     jsonio_string(obj, "n") == NULL &&
	     jsonio_string(obj, "d") == NULL &&
	     jsonio_string(obj, "b") == NULL &&
	     jsonio_string(obj, "z") == NULL &&
	     jsonio_string(obj, "o") == NULL &&
	     jsonio_string(obj, "a") == NULL &&
	     jsonio_string(obj, "absent") == NULL &&
	     jsonio_string(obj, "S") == NULL &&
	     /* Not nested lookups. */
	     jsonio_string(obj, "o.s") == NULL &&
	     /* On something that is not an object, NULL. */
	     arr != NULL && jsonio_string(arr, "0") == NULL && str != NULL &&
	     jsonio_string(str, "s") == NULL &&
	     jsonio_string(NULL, "s") == NULL;
	json_object_put(obj);
	CHECK(ok);
}

TEST(member_getter_checks_the_type)
{
	static const char doc[] = "{\"n\":5,\"d\":1.5,\"o\":{\"s\":\"inner\"},"
	                          "\"a\":[1],\"b\":true}";
	char err[128];
	struct json_object *obj, *o;
	int ok;

	obj = jsonio_parse(doc, strlen(doc), LIMIT_JSON_DEPTH, err,
	                   sizeof(err));
	CHECK(obj != NULL);
	o = jsonio_member(obj, "o", json_type_object);
	ok = o != NULL && strcmp(jsonio_string(o, "s"), "inner") == 0 &&
	     jsonio_member(obj, "n", json_type_int) != NULL &&
	     jsonio_member(obj, "n", json_type_double) == NULL &&
	     jsonio_member(obj, "n", json_type_string) == NULL &&
	     jsonio_member(obj, "d", json_type_double) != NULL &&
	     jsonio_member(obj, "d", json_type_int) == NULL &&
	     jsonio_member(obj, "a", json_type_array) != NULL &&
	     jsonio_member(obj, "a", json_type_object) == NULL &&
	     jsonio_member(obj, "o", json_type_array) == NULL &&
	     jsonio_member(obj, "b", json_type_boolean) != NULL &&
	     jsonio_member(obj, "absent", json_type_int) == NULL &&
	     jsonio_member(jsonio_member(obj, "a", json_type_array), "0",
	                   json_type_int) == NULL &&
	     jsonio_member(NULL, "n", json_type_int) == NULL;
	json_object_put(obj);
	CHECK(ok);
}

TEST(adders_build_the_expected_document)
{
	struct json_object *obj, *back;
	char err[128];
	const char *s;
	int ok;

	obj = json_object_new_object();
	CHECK(obj != NULL);
	ok = jsonio_add_string(obj, "s", "a \"quoted\" \xc3\xa9") == 0 &&
	     jsonio_add_string(obj, "null", NULL) == 0 &&
	     jsonio_add_bool(obj, "t", 7) == 0 &&
	     jsonio_add_bool(obj, "f", 0) == 0 &&
	     jsonio_add_int(obj, "max", INT64_MAX) == 0 &&
	     jsonio_add_int(obj, "min", INT64_MIN) == 0 &&
	     jsonio_add(obj, "arr", json_object_new_array()) == 0 &&
	     jsonio_add(obj, "nothing", NULL) == 0;
	if (!ok)
		json_object_put(obj);
	CHECK(ok);
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	ok = s != NULL &&
	     strcmp(s, "{\"s\":\"a \\\"quoted\\\" \xc3\xa9\",\"null\":null,"
	               "\"t\":true,\"f\":false,\"max\":9223372036854775807,"
	               "\"min\":-9223372036854775808,\"arr\":[],"
	               "\"nothing\":null}") == 0;
	/* And it reads back through the strict parser. */
	back = ok ? jsonio_parse(s, strlen(s), LIMIT_JSON_DEPTH, err,
	                         sizeof(err))
	          : NULL;
	ok = back != NULL &&
	     json_object_get_int64(jsonio_member(back, "min", json_type_int)) ==
	             INT64_MIN &&
	     json_object_get_boolean(
	             jsonio_member(back, "t", json_type_boolean)) == 1;
	json_object_put(back);
	json_object_put(obj);
	CHECK(ok);
}

TEST(add_takes_ownership_of_the_value)
{
	struct json_object *obj, *inner, *arr;
	int ok;

	/* The value added belongs to obj: putting obj releases it (ASan and
	 * valgrind see a leak or a double free otherwise). */
	obj = json_object_new_object();
	inner = json_object_new_object();
	arr = json_object_new_array();
	ok = obj != NULL && inner != NULL && arr != NULL &&
	     json_object_array_add(arr, json_object_new_string("x")) == 0 &&
	     jsonio_add(inner, "arr", arr) == 0 &&
	     jsonio_add_string(inner, "k", "v") == 0 &&
	     jsonio_add(obj, "inner", inner) == 0;
	CHECK(ok);
	/* The same key again replaces the value and releases the old one. */
	ok = jsonio_add_string(obj, "inner", "replaced") == 0 &&
	     jsonio_add_int(obj, "n", 1) == 0 &&
	     jsonio_add_int(obj, "n", 2) == 0;
	ok = ok && strcmp(jsonio_string(obj, "inner"), "replaced") == 0 &&
	     json_object_get_int(jsonio_member(obj, "n", json_type_int)) == 2 &&
	     json_object_object_length(obj) == 2;
	json_object_put(obj);
	CHECK(ok);
}

int main(void)
{
	RUN(valid_object_is_parsed);
	RUN(whitespace_around_the_value_is_fine);
	RUN(trailing_garbage_is_refused);
	RUN(two_values_are_refused);
	RUN(only_rfc_8259_is_accepted);
	RUN(invalid_utf8_is_refused);
	RUN(only_strict_utf8_strings_are_accepted);
	RUN(lenient_parse_takes_a_lone_surrogate_only);
	RUN(embedded_nul_is_refused);
	RUN(empty_and_cut_short_are_refused);
	RUN(depth_at_the_limit_is_fine_one_more_is_not);
	RUN(a_deep_bomb_is_refused_quickly);
	RUN(small_error_buffer_is_still_a_string);
	RUN(string_getter_checks_the_type);
	RUN(member_getter_checks_the_type);
	RUN(adders_build_the_expected_document);
	RUN(add_takes_ownership_of_the_value);
	return CHECK_DONE();
}
