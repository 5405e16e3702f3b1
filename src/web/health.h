/*
 * health - GET /api/health: whether the database answers, whether the
 * admin's Google calendar is connected, whether availability is being
 * served stale.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include "web/app.h"

/*
 * {"status": "ok"|"degraded", "database": "ok"|"unreachable",
 *  "calendarConnected": bool}; 200, or 503 with the same shape when the
 * database cannot be reached. Never cached.
 */
int health_handle(struct proc *proc, struct request *req, struct response *res);

#endif
