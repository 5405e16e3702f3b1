#include "io/proc.h"

#include <signal.h>
#include <string.h>

#include "core/limit.h"
#include "core/log.h"
#include "io/db.h"
#include "io/http.h"

int proc_open(struct proc *p, const char *program, unsigned needs)
{
	char err[LIMIT_ERROR_MESSAGE];

	memset(p, 0, sizeof(*p));
	p->program = program;
	log_init(program);
	signal(SIGPIPE, SIG_IGN);
	if (config_load(&p->cfg, needs, err, sizeof(err)) != 0) {
		log_fatal("configuration: %s", err);
		return -1;
	}
	if (p->cfg.database_url != NULL) {
		p->db = db_new(p->cfg.database_url, err, sizeof(err));
		if (p->db == NULL) {
			log_fatal("configuration: %s", err);
			return -1;
		}
	}
	p->http = http_client_new(NULL);
	if (p->http == NULL) {
		log_fatal("out of memory");
		return -1;
	}
	return 0;
}

void proc_close(struct proc *p)
{
	http_client_free(p->http);
	db_free(p->db);
	p->http = NULL;
	p->db = NULL;
}
