/*
 * payapi - MercadoPago's payment notifications
 * (POST /api/payments/mercadopago), turned into school/payment.h.
 *
 * The signed form (?data.id=&type=payment, x-signature) is checked before
 * anything is stored or fetched; the older ?topic=payment&id= form is not
 * signed by MercadoPago and is accepted, since only the payment read back
 * from MercadoPago counts, never the notification's body.
 */
#ifndef PAYAPI_H
#define PAYAPI_H

#include "io/proc.h"
#include "web/request.h"
#include "web/response.h"

/* POST /api/payments/mercadopago. 200 once the state is durable (also
 * when Google is down), 401 for a bad signature, 502/503 when MercadoPago
 * or the database fail (so MercadoPago tries again). */
int payapi_notification(struct proc *proc, struct request *req,
                        struct response *res);

/* GET /api/payments/{id} (internal): {"payment": {...}} (what became of a
 * MercadoPago payment, school/ledger.h ledger_payment_json()), 404
 * payment_not_found for a payment never notified. */
int payapi_get(struct proc *proc, struct request *req, struct response *res);

#endif
