/*
 * doctor - checks the configuration, Google, MercadoPago and the database
 * and says what to fix: one line a check ("ok|warn|fail  <check>
 * <message>"), or JSON with --json. Reads only. Exit 0 when every check is
 * ok, 1 with warnings only, 2 with a failure (or when it could not run).
 *
 *   doctor [--json] [--sql DIR]
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "io/proc.h"
#include "school/doctor.h"

static int usage(void)
{
	fprintf(stderr, "usage: doctor [--json] [--sql DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct doctor_options opt = {NULL};
	struct doctor_report report;
	struct proc proc;
	struct buf out;
	int json = 0, i, rc = 2;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--sql") == 0 && i + 1 < argc)
			opt.sql_dir = argv[++i];
		else
			return usage();
	}
	/* Nothing is required: what is missing is one of the checks. */
	if (proc_open(&proc, "doctor", 0) != 0) {
		proc_close(&proc);
		return 2;
	}
	doctor_run(&proc, &opt, &report);
	buf_init(&out, 1024u * 1024u);
	if ((json ? doctor_json(&report, &out) : doctor_text(&report, &out)) !=
	            0 ||
	    fwrite(buf_str(&out), 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0)
		fprintf(stderr, "doctor: cannot write the report\n");
	else
		rc = doctor_exit_status(&report);
	buf_free(&out);
	proc_close(&proc);
	return rc;
}
