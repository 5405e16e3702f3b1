<?php
// return.php: the page MercadoPago sends the student back to after paying
// (the preference's back_urls, SITE_BASE_URL/reserva/vuelta.php), with
// ?payment_id=... among its parameters. It tells the student, in Spanish,
// what became of the payment: the class's time and Meet link, or that the
// payment is pending or was rejected, or why no class could be made, or
// that the notification has not arrived yet.
//
// The query's parameters can be forged by anyone, so the page believes only
// the booking side (GET /api/payments/{id}, then GET /api/bookings/{id}),
// which read the payment back from MercadoPago when it was notified.
//
//   php return.php 1300000001          # as a command: the id as argument
//   .../reserva/vuelta.php?payment_id=1300000001   # as a web page
//
// Exit status (command): 0 when the student was told what became of the
// payment, 1 when the booking API could not be asked, 2 for a bad id.

declare(strict_types=1);
require __DIR__ . '/booking.php';

const WEB = PHP_SAPI !== 'cli';

/**
 * What to tell the student about payment $id: a list of paragraphs, each a
 * string or ['text' => ..., 'link' => URL].
 */
function what_became_of(string $id): array
{
    try {
        $payment = booking_api('GET', "/api/payments/$id")['payment'];
    } catch (ApiError $e) {
        if ($e->errorCode === 'payment_not_found') {
            // MercadoPago's notification is usually a few seconds behind
            // the student.
            return ['Todavía no recibimos la confirmación de MercadoPago de este pago.',
                'Probá de nuevo en unos segundos (volvé a cargar esta página).'];
        }
        throw $e;
    }

    $status = $payment['status'];
    $lastError = $payment['lastError'];
    if ($status === 'rejected') {
        return ['MercadoPago rechazó el pago, así que la clase no quedó reservada.',
            'Podés intentarlo de nuevo con otro medio de pago.'];
    }
    if (in_array($status, ['refunded', 'cancelled', 'charged_back'], true)) {
        return ['Este pago fue cancelado o devuelto, así que la clase no está reservada.'];
    }
    if ($payment['bookingStatus'] === 'failed' || ($payment['bookingId'] === null && $lastError !== null)) {
        return ['No pudimos reservar la clase con este pago: ' . ($lastError ?? 'error desconocido') . '.',
            'Escribinos y lo resolvemos: te ofrecemos otro horario o te devolvemos el dinero.'];
    }
    if (in_array($status, ['pending', 'in_process', 'authorized'], true)) {
        return ['Tu pago está pendiente de aprobación en MercadoPago.',
            'Guardamos el horario mientras tanto; cuando el pago se apruebe, te llega la invitación por mail.'];
    }
    if ($status !== 'approved') {
        return ["Estado del pago en MercadoPago: $status."];
    }
    if ($payment['bookingId'] === null) {
        return ['Tu pago fue aprobado y estamos reservando la clase.',
            'Volvé a cargar esta página en unos segundos.'];
    }

    $booking = booking_api('GET', '/api/bookings/' . rawurlencode($payment['bookingId']))['booking'];
    $when = class_time_es($booking['start'], $booking['end'], $booking['timeZone']);
    if ($booking['status'] === 'cancelled') {
        return ["La clase del $when fue cancelada."];
    }
    if ($booking['status'] !== 'scheduled') {
        // "scheduling": Google is still being asked; reconcile finishes it.
        return ["Tu pago fue aprobado y estamos agendando tu clase del $when.",
            'Volvé a cargar esta página en unos segundos para ver el link de Google Meet.'];
    }
    $told = ["¡Listo! Tu clase de inglés quedó reservada para el $when."];
    if ($booking['meetLink'] !== null) {
        $told[] = ['text' => 'Link de Google Meet: ', 'link' => $booking['meetLink']];
    } else {
        $told[] = 'El link de Google Meet va a estar en la invitación de Google Calendar que te llega por mail.';
    }
    return $told;
}

/** The paragraphs as plain text (command) or as an HTML page (web). */
function show(array $paragraphs, int $httpStatus = 200): void
{
    if (!WEB) {
        foreach ($paragraphs as $p) {
            echo is_array($p) ? $p['text'] . $p['link'] : $p, "\n";
        }
        return;
    }
    $h = fn (string $s): string => htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
    http_response_code($httpStatus);
    header('Content-Type: text/html; charset=utf-8');
    header('Cache-Control: no-store');
    echo "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">",
        "<title>Tu reserva</title></head><body>\n<h1>Tu reserva</h1>\n";
    foreach ($paragraphs as $p) {
        if (is_array($p)) {
            // Only an https link becomes a link.
            $link = str_starts_with($p['link'], 'https://')
                ? '<a href="' . $h($p['link']) . '">' . $h($p['link']) . '</a>'
                : $h($p['link']);
            echo '<p>', $h($p['text']), $link, "</p>\n";
        } else {
            echo '<p>', $h($p), "</p>\n";
        }
    }
    echo "</body></html>\n";
}

// MercadoPago sends both payment_id and collection_id (the same number);
// without a payment (the student left the checkout) it may send "null".
$id = WEB ? (string) ($_GET['payment_id'] ?? $_GET['collection_id'] ?? '') : ($argv[1] ?? '');
if (!WEB && $id === '') {
    fail('usage: php return.php PAYMENT_ID', 2);
}
if (!preg_match('/^[0-9]{1,20}$/', $id)) {
    show(['No encontramos el número de pago en el enlace.',
        'Si pagaste, revisá el mail de MercadoPago o escribinos.'], 400);
    exit(2);
}
try {
    show(what_became_of($id));
} catch (Throwable $e) {
    // The student gets a sentence to act on; the details go to the log.
    error_log("return.php: payment $id: " . $e->getMessage());
    show(['No pudimos consultar tu pago en este momento.',
        'Si ya pagaste, no se pierde: probá de nuevo en unos minutos.'], 503);
    exit(1);
}
