<?php
// availability.php [FROM] [TO]: the school's busy times, as the site's
// calendar page shows them (GET /api/calendar, public).
//
//   php availability.php                      # from now, 30 days
//   php availability.php 2026-12-01 2026-12-08
//
// FROM and TO are dates or ISO 8601 times; the API reads them in the
// school's time zone and allows at most 366 days.

declare(strict_types=1);
require __DIR__ . '/booking.php';

run_cli(function (): void {
    global $argv;
    $query = [];
    if (isset($argv[1])) {
        $query['from'] = $argv[1];
    }
    if (isset($argv[2])) {
        $query['to'] = $argv[2];
    }
    $path = '/api/calendar' . ($query ? '?' . http_build_query($query) : '');
    $cal = booking_api('GET', $path);

    echo "Busy from {$cal['from']} to {$cal['to']} ({$cal['timeZone']}):\n";
    if (!$cal['events']) {
        echo "  nothing: every opening hour is free\n";
    }
    foreach ($cal['events'] as $event) {
        // "confirmed" is the usual status; a tentative event blocks time too.
        $note = $event['status'] === 'confirmed' ? '' : "  ({$event['status']})";
        echo "  {$event['start']}  to  {$event['end']}$note\n";
    }
});
