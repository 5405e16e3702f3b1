<?php
// slots.php YYYY-MM-DD [DURATION]: the free class slots on a date, as the
// site's booking form offers them (GET /api/calendar/slots, public).
//
//   php slots.php 2026-12-01        # 60-minute classes
//   php slots.php 2026-12-01 90
//
// Pass a slot's start to hold.php to hold it while the student pays.

declare(strict_types=1);
require __DIR__ . '/booking.php';

run_cli(function (): void {
    global $argv;
    $date = $argv[1] ?? '';
    $duration = $argv[2] ?? '60';
    if (!preg_match('/^\d{4}-\d{2}-\d{2}$/', $date) || !ctype_digit($duration)) {
        fail("usage: php slots.php YYYY-MM-DD [DURATION_MINUTES]", 2);
    }
    $path = '/api/calendar/slots?' . http_build_query(['date' => $date, 'duration' => $duration]);
    $day = booking_api('GET', $path);

    echo "Free {$day['duration']}-minute slots on {$day['date']} ({$day['timeZone']}):\n";
    if (!$day['slots']) {
        echo "  none\n";
    }
    foreach ($day['slots'] as $slot) {
        // HH:MM for people, the full start for hold.php.
        $from = substr($slot['start'], 11, 5);
        $to = substr($slot['end'], 11, 5);
        echo "  $from-$to  {$slot['start']}\n";
    }
});
