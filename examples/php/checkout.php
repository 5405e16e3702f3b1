<?php
// checkout.php BOOKING_ID: creates the MercadoPago checkout preference for
// a held booking and prints the URL to send the student to (init_point).
//
//   php checkout.php 0123456789abcdef0123456789abcdef
//
// The booking id travels in the preference (external_reference and
// metadata.booking_id): MercadoPago copies both into the payment, and the
// booking side's notification hook books exactly the held slot. The
// preference expires with the hold. Settings (environment):
//   MP_ACCESS_TOKEN, MP_API_BASE (see booking.php)
//   BOOKING_NOTIFICATION_URL  https URL of /api/payments/mercadopago on the site
//   SITE_BASE_URL             https URL of the site; the student comes back
//                             to SITE_BASE_URL/reserva/vuelta.php (return.php)
//   CLASS_PRICE               price in ARS, default 15000

declare(strict_types=1);
require __DIR__ . '/booking.php';

const CLASS_TITLE = 'Clase de Inglés';

/** An https URL from the environment (MercadoPago must reach it). */
function https_url(string $name): string
{
    $url = rtrim(env($name), '/');
    if (parse_url($url, PHP_URL_SCHEME) !== 'https' || !parse_url($url, PHP_URL_HOST)) {
        throw new ApiError("$name must be an https:// URL, not \"$url\"");
    }
    return $url;
}

/** CLASS_PRICE as a number above 0 with at most two decimals. */
function class_price(): int|float
{
    $price = env('CLASS_PRICE', '15000');
    if (!preg_match('/^\d+(\.\d{1,2})?$/', $price) || (float) $price <= 0) {
        throw new ApiError("CLASS_PRICE must be a positive amount like 15000 or 15000.50, not \"$price\"");
    }
    return str_contains($price, '.') ? (float) $price : (int) $price;
}

run_cli(function (): void {
    global $argv;
    $id = $argv[1] ?? '';
    if (!preg_match('/^[0-9a-f]{32}$/', $id)) {
        fail('usage: php checkout.php BOOKING_ID (32 hex digits, as hold.php prints it)', 2);
    }
    $notificationUrl = https_url('BOOKING_NOTIFICATION_URL');
    $returnUrl = https_url('SITE_BASE_URL') . '/reserva/vuelta.php';
    $price = class_price();

    // Only a live hold can be paid for.
    $booking = booking_api('GET', "/api/bookings/$id")['booking'];
    if ($booking['status'] !== 'held') {
        fail("booking $id is {$booking['status']}, not held: there is nothing to pay");
    }
    $expires = new DateTimeImmutable($booking['holdExpiresAt']);
    if ($expires <= new DateTimeImmutable()) {
        fail("the hold of booking $id expired at {$booking['holdExpiresAt']}: hold the slot again");
    }

    $preference = [
        'items' => [[
            'id' => 'clase',
            'title' => CLASS_TITLE,
            'description' => class_time_es($booking['start'], $booking['end'], $booking['timeZone']),
            'quantity' => 1,
            'currency_id' => 'ARS',
            'unit_price' => $price,
        ]],
        'payer' => array_filter([
            'email' => $booking['studentEmail'],
            'name' => $booking['studentName'],
        ]),
        'external_reference' => $id,
        'metadata' => ['booking_id' => $id], // snake_case: MercadoPago keeps it so
        'notification_url' => $notificationUrl,
        'back_urls' => [
            'success' => $returnUrl,
            'pending' => $returnUrl,
            'failure' => $returnUrl,
        ],
        'auto_return' => 'approved',
        // Payable only while the slot is held.
        'expires' => true,
        'expiration_date_to' => $expires->format('Y-m-d\TH:i:s.vP'),
    ];
    $created = mercadopago_api('POST', '/checkout/preferences', $preference);

    echo "Preference id: {$created['id']}\n";
    echo "Pay until: {$preference['expiration_date_to']}\n";
    echo "Send the student to: {$created['init_point']}\n";
});
