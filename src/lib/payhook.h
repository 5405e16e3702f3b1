/*
 * payhook - MercadoPago's payment notifications
 * (POST /api/payments/mercadopago): an approved payment always becomes
 * exactly one class.
 *
 * The signed form (?data.id=&type=payment, x-signature) is checked before
 * anything is stored or fetched; the older ?topic=payment&id= form is not
 * signed by MercadoPago and is accepted, since only the payment read back
 * from MercadoPago counts, never the notification's body. The payment's
 * state is recorded (payments, bookings) in one transaction under the slot
 * lock before any Google call:
 *   approved            -> the booking "scheduling", then its event
 *   pending, in_process -> "pending" (the slot stays taken)
 *   rejected            -> nothing booked
 *   refunded, cancelled, charged_back -> the class cancelled, event deleted
 * A booking never moves backwards (a late "pending" after "approved" is
 * recorded in payments and changes nothing). Bad metadata or a slot taken
 * meanwhile make the booking "failed" with lastError, logged. The payment
 * id is unique in bookings, so however often and however concurrently a
 * notification arrives, there is one booking and one event.
 */
#ifndef PAYHOOK_H
#define PAYHOOK_H

#include "app.h"

/* POST /api/payments/mercadopago. 200 once the state is durable (also
 * when Google is down), 401 for a bad signature, 502/503 when MercadoPago
 * or the database fail (so MercadoPago tries again). */
int payhook_handle(struct app *app, struct request *req, struct response *res);

#endif
