<?php
// hold.php START EMAIL [NAME]: holds a slot while the student pays
// (POST /api/calendar/holds, internal). The hold lasts BOOKING_HOLD_MIN
// minutes (15 by default, set on the booking side); an unpaid hold frees
// the slot when it expires.
//
//   php hold.php 2026-12-01T10:00:00-03:00 ana@example.com "Ana Pérez"
//
// START is a slot's start as slots.php prints it. The class lasts
// CLASS_DURATION minutes (default 60). Next: php checkout.php BOOKING_ID.

declare(strict_types=1);
require __DIR__ . '/booking.php';

run_cli(function (): void {
    global $argv;
    if (count($argv) < 3) {
        fail('usage: php hold.php START EMAIL [NAME]', 2);
    }
    $duration = env('CLASS_DURATION', '60');
    if (!ctype_digit($duration)) {
        fail("CLASS_DURATION must be a number of minutes, not \"$duration\"");
    }
    $class = [
        'start' => $argv[1],
        'durationMinutes' => (int) $duration,
        'studentEmail' => $argv[2],
    ];
    if (isset($argv[3]) && $argv[3] !== '') {
        $class['studentName'] = $argv[3];
    }
    try {
        $booking = booking_api('POST', '/api/calendar/holds', $class)['booking'];
    } catch (ApiError $e) {
        // The two answers a student can act on.
        if ($e->errorCode === 'slot_unavailable') {
            fail('that slot was just taken: pick another one (php slots.php DATE)');
        }
        if ($e->errorCode === 'outside_opening_hours') {
            fail('that time is not a free slot: pick one that slots.php prints');
        }
        throw $e;
    }

    echo "Booking id: {$booking['id']}\n";
    echo "Status: {$booking['status']}\n";
    echo "Class: {$booking['start']} to {$booking['end']}\n";
    echo "Held until: {$booking['holdExpiresAt']}\n";
    echo "Next: php checkout.php {$booking['id']}\n";
});
