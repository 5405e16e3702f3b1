/*
 * test_utf8 - strict UTF-8 (RFC 3629): what is refused, and cutting and
 * cleaning text without splitting a character.
 */
#include <string.h>

#include "check.h"
#include "core/utf8.h"

#define VALID(s) utf8_valid((s), sizeof(s) - 1)

TEST(ascii_and_every_length_are_valid)
{
	CHECK(VALID(""));
	CHECK(VALID("plain ascii"));
	CHECK(VALID("a\0b"));
	CHECK(VALID("\xC3\xB1"));         /* ñ */
	CHECK(VALID("\xE2\x82\xAC"));     /* € */
	CHECK(VALID("\xF0\x9F\x98\x80")); /* 😀 */
	CHECK(VALID("\xED\x9F\xBF"));     /* U+D7FF, before surrogates */
	CHECK(VALID("\xEE\x80\x80"));     /* U+E000, after them */
	CHECK(VALID("\xF4\x8F\xBF\xBF")); /* U+10FFFF */
}

TEST(overlong_forms_are_refused)
{
	CHECK(!VALID("\xC0\xAF"));
	CHECK(!VALID("\xC1\xBF"));
	CHECK(!VALID("\xE0\x80\xAF"));
	CHECK(!VALID("\xE0\x9F\xBF"));
	CHECK(!VALID("\xF0\x80\x80\xAF"));
	CHECK(!VALID("\xF0\x8F\xBF\xBF"));
}

TEST(surrogates_and_past_the_last_code_point_are_refused)
{
	CHECK(!VALID("\xED\xA0\x80"));             /* U+D800 */
	CHECK(!VALID("\xED\xBF\xBF"));             /* U+DFFF */
	CHECK(!VALID("\xED\xA0\xBD\xED\xB8\x80")); /* CESU-8 pair */
	CHECK(!VALID("\xF4\x90\x80\x80"));         /* U+110000 */
	CHECK(!VALID("\xF5\x80\x80\x80"));
	CHECK(!VALID("\xFF"));
	CHECK(!VALID("\xFE\xFF"));
}

TEST(cut_and_stray_bytes_are_refused)
{
	CHECK(!VALID("\xC3"));
	CHECK(!VALID("a\xE2\x82"));
	CHECK(!VALID("\xF0\x9F\x98"));
	CHECK(!VALID("\x80"));
	CHECK(!VALID("\xC3\x41"));
	CHECK(!VALID("\xE2\x28\xA1"));
}

TEST(clip_never_splits_a_character)
{
	const char *s = "a\xC3\xB1\xE2\x82\xAC!"; /* a ñ € ! : 1+2+3+1 */

	CHECK_INT(utf8_clip(s, strlen(s), 0), 0);
	CHECK_INT(utf8_clip(s, strlen(s), 1), 1);
	CHECK_INT(utf8_clip(s, strlen(s), 2), 1);
	CHECK_INT(utf8_clip(s, strlen(s), 3), 3);
	CHECK_INT(utf8_clip(s, strlen(s), 5), 3);
	CHECK_INT(utf8_clip(s, strlen(s), 6), 6);
	CHECK_INT(utf8_clip(s, strlen(s), 100), 7);
	/* It stops at the first invalid byte. */
	CHECK_INT(utf8_clip("ab\xFFz", 4, 10), 2);
}

TEST(copy_cleans_and_cuts_on_a_boundary)
{
	char out[8];

	CHECK_STR(utf8_copy(out, sizeof(out), "\xFF\xFEok"), "??ok");
	CHECK_STR(utf8_copy(out, sizeof(out), "abc\xE2\x82\xAC\xE2\x82\xAC"),
	          "abc\xE2\x82\xAC");
	CHECK_STR(utf8_copy(out, sizeof(out), "\xED\xA0\x80x"), "???x");
	CHECK_STR(utf8_copy(out, 1, "abc"), "");
	CHECK_STR(utf8_copy(out, sizeof(out), "abcdefghij"), "abcdefg");
	CHECK(utf8_valid(out, strlen(out)));
}

int main(void)
{
	RUN(ascii_and_every_length_are_valid);
	RUN(overlong_forms_are_refused);
	RUN(surrogates_and_past_the_last_code_point_are_refused);
	RUN(cut_and_stray_bytes_are_refused);
	RUN(clip_never_splits_a_character);
	RUN(copy_cleans_and_cuts_on_a_boundary);
	return CHECK_DONE();
}
