/*
 * check.h - the smallest test harness that does the job.
 *
 * A test is a function declared with TEST(name); main() runs each with
 * RUN(name) and ends with CHECK_DONE(), which prints "N passed, N failed"
 * and returns the exit status. A failed CHECK stops the current test (the
 * remaining checks of a broken test say nothing useful) and prints where.
 * Each test prints "ok NAME" or "not ok NAME"; the top runner adds the
 * closing lines of every suite together.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed_;
static int check_failed_;
static int check_current_failed_;

#define TEST(name) static void name(void)

#define CHECK_FAIL_(...)                                                       \
	do {                                                                   \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);              \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		check_current_failed_ = 1;                                     \
		return;                                                        \
	} while (0)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			CHECK_FAIL_("check failed: %s", #cond);                \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long check_a_ = (long long)(a);                           \
		long long check_b_ = (long long)(b);                           \
		if (check_a_ != check_b_)                                      \
			CHECK_FAIL_("%s == %lld, expected %s == %lld", #a,     \
			            check_a_, #b, check_b_);                   \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *check_a_ = (a);                                    \
		const char *check_b_ = (b);                                    \
		if (check_a_ == NULL || check_b_ == NULL ||                    \
		    strcmp(check_a_, check_b_) != 0)                           \
			CHECK_FAIL_("%s == \"%s\", expected \"%s\"", #a,       \
			            check_a_ ? check_a_ : "(null)",            \
			            check_b_ ? check_b_ : "(null)");           \
	} while (0)

#define RUN(name)                                                              \
	do {                                                                   \
		check_current_failed_ = 0;                                     \
		name();                                                        \
		if (check_current_failed_) {                                   \
			check_failed_++;                                       \
			printf("not ok %s\n", #name);                          \
		} else {                                                       \
			check_passed_++;                                       \
			printf("ok %s\n", #name);                              \
		}                                                              \
		fflush(stdout);                                                \
	} while (0)

/* The closing count; no test run at all is a failure too. */
#define CHECK_DONE()                                                           \
	(check_passed_ + check_failed_ == 0                                    \
	         ? (printf("no test ran\n0 passed, 1 failed\n"), 1)            \
	         : (printf("%d passed, %d failed\n", check_passed_,            \
	                   check_failed_),                                     \
	            check_failed_ ? 1 : 0))

#endif
