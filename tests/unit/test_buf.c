/*
 * test_buf - the capped byte buffer: appending, the cap, handing the data
 * over, and that the data is always a NUL-terminated string.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "check.h"

/* buf_vprintf through a variadic wrapper, as callers use it. */
static int __attribute__((format(printf, 2, 3)))
wrapped_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

TEST(fresh_buffer_is_empty_string)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, BUF_DEFAULT_CAP);
	CHECK_STR(buf_str(&b), "");
	buf_free(&b);
	buf_free(&b); /* twice is harmless */
}

TEST(append_puts_and_printf_concatenate)
{
	struct buf b;
	int ok;

	buf_init(&b, 0);
	ok = buf_append(&b, "ab", 2) == 0 && buf_puts(&b, "cd") == 0 &&
	     buf_printf(&b, "%d-%s", 42, "x") == 0 &&
	     wrapped_printf(&b, "[%05.1f]", 2.5) == 0 &&
	     buf_append(&b, "ignored", 0) == 0 && buf_puts(&b, "") == 0 &&
	     buf_printf(&b, "%s", "") == 0;
	if (!ok)
		buf_free(&b);
	CHECK(ok);
	ok = strcmp(buf_str(&b), "abcd42-x[002.5]") == 0 &&
	     b.len == strlen("abcd42-x[002.5]") && b.data[b.len] == '\0';
	buf_free(&b);
	CHECK(ok);
}

TEST(printf_of_nothing_gives_an_empty_string)
{
	struct buf b;
	int ok;

	buf_init(&b, 4);
	ok = buf_printf(&b, "%s", "") == 0 && b.len == 0 && b.data != NULL &&
	     b.data[0] == '\0';
	buf_free(&b);
	CHECK(ok);
}

TEST(exactly_at_the_cap_is_accepted)
{
	struct buf b;
	int ok;

	buf_init(&b, 8);
	ok = buf_append(&b, "12345678", 8) == 0 && b.len == 8 &&
	     strcmp(buf_str(&b), "12345678") == 0;
	buf_free(&b);
	CHECK(ok);

	buf_init(&b, 8);
	ok = buf_puts(&b, "1234") == 0 && buf_printf(&b, "%d", 5678) == 0 &&
	     strcmp(buf_str(&b), "12345678") == 0;
	buf_free(&b);
	CHECK(ok);
}

TEST(one_byte_over_the_cap_is_refused_and_changes_nothing)
{
	struct buf b;
	char *before_data;
	size_t before_size;
	int ok;

	buf_init(&b, 8);
	/* In one go on an empty buffer: nothing is allocated. */
	CHECK_INT(buf_append(&b, "123456789", 9), -1);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_str(&b), "");
	CHECK_INT(buf_puts(&b, "123456789"), -1);
	CHECK_INT(buf_printf(&b, "%s", "123456789"), -1);
	CHECK_INT(b.len, 0);

	/* After some data, by each way of appending. */
	ok = buf_append(&b, "12345", 5) == 0;
	if (!ok)
		buf_free(&b);
	CHECK(ok);
	before_data = b.data;
	before_size = b.size;
	ok = buf_append(&b, "abcd", 4) == -1 && buf_puts(&b, "abcd") == -1 &&
	     buf_printf(&b, "%d", 1234) == -1 &&
	     wrapped_printf(&b, "%s", "abcd") == -1 && b.len == 5 &&
	     b.data == before_data && b.size == before_size &&
	     strcmp(buf_str(&b), "12345") == 0;
	if (!ok)
		buf_free(&b);
	CHECK(ok);
	/* Filling up to the cap still works, then a single byte is too much. */
	ok = buf_append(&b, "678", 3) == 0 && buf_append(&b, "9", 1) == -1 &&
	     strcmp(buf_str(&b), "12345678") == 0 && b.len == 8;
	buf_free(&b);
	CHECK(ok);
}

TEST(absurd_lengths_are_refused)
{
	struct buf b;

	buf_init(&b, 16);
	CHECK_INT(buf_append(&b, "x", SIZE_MAX), -1);
	CHECK_INT(buf_append(&b, "x", SIZE_MAX - 1), -1);
	CHECK(b.data == NULL);
	CHECK_INT(buf_append(&b, "x", 1), 0);
	CHECK_INT(buf_append(&b, "x", SIZE_MAX), -1);
	CHECK_INT(b.len, 1);
	buf_free(&b);
}

TEST(memory_stays_within_the_cap)
{
	struct buf b;
	size_t i;
	int ok = 1;

	buf_init(&b, 1000);
	for (i = 0; i < 1000 && ok; i++)
		ok = buf_append(&b, i % 2 ? "b" : "a", 1) == 0 &&
		     b.data[b.len] == '\0' && b.size <= 1001;
	ok = ok && b.len == 1000 && buf_append(&b, "c", 1) == -1;
	for (i = 0; i < 1000 && ok; i++)
		ok = b.data[i] == (i % 2 ? 'b' : 'a');
	buf_free(&b);
	CHECK(ok);
}

TEST(always_nul_terminated_while_growing)
{
	struct buf b;
	char chunk[100];
	size_t i;
	int ok = 1;

	memset(chunk, 'z', sizeof(chunk));
	buf_init(&b, 0);
	for (i = 0; i < 50 && ok; i++)
		ok = buf_append(&b, chunk, sizeof(chunk)) == 0 &&
		     b.len == (i + 1) * sizeof(chunk) &&
		     b.data[b.len] == '\0' && strlen(b.data) == b.len;
	for (i = 0; i < 50 && ok; i++)
		ok = buf_printf(&b, "%zu,", i) == 0 && b.data[b.len] == '\0' &&
		     strlen(b.data) == b.len;
	buf_free(&b);
	CHECK(ok);
}

TEST(binary_data_with_embedded_nuls)
{
	static const char bin[] = {'a', '\0', 'b', '\0', '\0', 'c', '\xff'};
	struct buf b;
	int ok;

	buf_init(&b, 0);
	ok = buf_append(&b, bin, sizeof(bin)) == 0 &&
	     buf_append(&b, bin, sizeof(bin)) == 0 &&
	     b.len == 2 * sizeof(bin) &&
	     memcmp(b.data, bin, sizeof(bin)) == 0 &&
	     memcmp(b.data + sizeof(bin), bin, sizeof(bin)) == 0 &&
	     b.data[b.len] == '\0';
	buf_free(&b);
	CHECK(ok);
}

TEST(take_of_an_empty_buffer_is_an_empty_string)
{
	struct buf b;
	char *s;

	buf_init(&b, 0);
	s = buf_take(&b);
	CHECK(s != NULL);
	CHECK_INT(s[0], '\0');
	free(s);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_str(&b), "");
	buf_free(&b);
}

TEST(take_hands_over_the_data_and_empties_the_buffer)
{
	struct buf b;
	char *s;
	int ok;

	buf_init(&b, 32);
	CHECK_INT(buf_puts(&b, "hello"), 0);
	s = buf_take(&b);
	ok = s != NULL && strcmp(s, "hello") == 0 && b.data == NULL &&
	     b.len == 0 && b.size == 0 && b.cap == 32;
	free(s);
	CHECK(ok);
	/* The buffer can be used again, with the same cap. */
	CHECK_INT(buf_puts(&b, "again"), 0);
	ok = strcmp(buf_str(&b), "again") == 0 &&
	     buf_append(&b, "123456789012345678901234567890", 30) == -1;
	buf_free(&b);
	CHECK(ok);
}

TEST(reset_empties_and_keeps_the_memory)
{
	struct buf b;
	char *data;
	size_t size;
	int ok;

	buf_init(&b, 0);
	buf_reset(&b); /* on a buffer that holds nothing */
	CHECK(b.data == NULL);
	CHECK_STR(buf_str(&b), "");
	CHECK_INT(buf_puts(&b, "some text"), 0);
	data = b.data;
	size = b.size;
	buf_reset(&b);
	ok = b.len == 0 && b.data == data && b.size == size &&
	     strcmp(buf_str(&b), "") == 0;
	ok = ok && buf_puts(&b, "new") == 0 &&
	     strcmp(buf_str(&b), "new") == 0 && b.data == data;
	buf_free(&b);
	CHECK(ok);
}

TEST(reset_does_not_reset_the_cap)
{
	struct buf b;
	int ok;

	buf_init(&b, 4);
	CHECK_INT(buf_puts(&b, "abcd"), 0);
	buf_reset(&b);
	ok = buf_puts(&b, "abcde") == -1 && buf_puts(&b, "wxyz") == 0 &&
	     strcmp(buf_str(&b), "wxyz") == 0;
	buf_free(&b);
	CHECK(ok);
}

int main(void)
{
	RUN(fresh_buffer_is_empty_string);
	RUN(append_puts_and_printf_concatenate);
	RUN(printf_of_nothing_gives_an_empty_string);
	RUN(exactly_at_the_cap_is_accepted);
	RUN(one_byte_over_the_cap_is_refused_and_changes_nothing);
	RUN(absurd_lengths_are_refused);
	RUN(memory_stays_within_the_cap);
	RUN(always_nul_terminated_while_growing);
	RUN(binary_data_with_embedded_nuls);
	RUN(take_of_an_empty_buffer_is_an_empty_string);
	RUN(take_hands_over_the_data_and_empties_the_buffer);
	RUN(reset_empties_and_keeps_the_memory);
	RUN(reset_does_not_reset_the_cap);
	return CHECK_DONE();
}
