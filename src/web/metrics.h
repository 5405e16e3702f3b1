/*
 * metrics - GET /api/metrics (internal): the school's figures in
 * Prometheus' text exposition format 0.0.4, computed from the database so
 * that every process and host answers the same.
 */
#ifndef METRICS_H
#define METRICS_H

#include "io/proc.h"
#include "web/request.h"
#include "web/response.h"

/* GET /api/metrics: 200 text/plain; version=0.0.4, 503 when the database
 * does not answer. */
int metrics_handle(struct proc *proc, struct request *req,
                   struct response *res);

#endif
