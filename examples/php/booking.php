<?php
// booking.php: what every example includes. Two functions that call out,
// booking_api() (the school's booking endpoints) and mercadopago_api()
// (MercadoPago's REST API), and a few helpers. Both calls have timeouts,
// check curl's errors and the HTTP status, and throw ApiError with a
// message that says what failed; they never put a token in a message.
//
// Settings come from the environment:
//   BOOKING_API_BASE    where the booking endpoints are, e.g. https://escuela.example
//   INTERNAL_API_TOKEN  bearer token of the internal paths (everything but
//                       GET /api/calendar, /api/calendar/slots, /api/health)
//   MP_API_BASE         default https://api.mercadopago.com
//   MP_ACCESS_TOKEN     the MercadoPago application's access token

declare(strict_types=1);

/** A call that failed: no answer, or an HTTP error. */
final class ApiError extends RuntimeException
{
    /** @param int $status 0 when there was no HTTP answer */
    public function __construct(
        string $message,
        public readonly int $status = 0,
        public readonly string $errorCode = '',
    ) {
        parent::__construct($message);
    }
}

const CONNECT_TIMEOUT_S = 5;
const BOOKING_TIMEOUT_S = 30; // a hold may wait for Google's busy times
const MP_TIMEOUT_S = 15;

/** An environment variable, or $default; ApiError when required and missing. */
function env(string $name, ?string $default = null): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        if ($default === null) {
            throw new ApiError("$name is not set");
        }
        return $default;
    }
    return $value;
}

/** A base URL from the environment, checked, without a trailing slash. */
function base_url(string $name, ?string $default = null): string
{
    $url = rtrim(env($name, $default), '/');
    $scheme = parse_url($url, PHP_URL_SCHEME);
    if (!in_array($scheme, ['http', 'https'], true) || !parse_url($url, PHP_URL_HOST)) {
        throw new ApiError("$name must be an http(s) URL, not \"$url\"");
    }
    return $url;
}

/**
 * One HTTP request with a JSON body (or none) and a JSON answer.
 * Returns [status, decoded body or null, raw body]; throws ApiError when
 * there is no answer.
 */
function http_json(string $method, string $url, array $headers, ?array $body, int $timeout): array
{
    $ch = curl_init($url);
    $headers[] = 'Accept: application/json';
    $options = [
        CURLOPT_CUSTOMREQUEST => $method,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => CONNECT_TIMEOUT_S,
        CURLOPT_TIMEOUT => $timeout,
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
    ];
    if ($body !== null) {
        $options[CURLOPT_POSTFIELDS] = json_encode(
            $body,
            JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES
        );
        $headers[] = 'Content-Type: application/json';
    }
    $options[CURLOPT_HTTPHEADER] = $headers;
    curl_setopt_array($ch, $options);
    $raw = curl_exec($ch);
    if ($raw === false) {
        $error = curl_error($ch);
        curl_close($ch);
        throw new ApiError("$method $url: no answer ($error)");
    }
    $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    curl_close($ch);
    $decoded = json_decode($raw, true);
    return [$status, is_array($decoded) ? $decoded : null, $raw];
}

/** Paths of the booking API that need no token. */
function booking_is_public(string $method, string $path): bool
{
    $bare = explode('?', $path, 2)[0];
    return $method === 'GET'
        && in_array($bare, ['/api/calendar', '/api/calendar/slots', '/api/health'], true);
}

/**
 * Calls the booking API: booking_api('GET', '/api/calendar/slots?date=...').
 * Internal paths get Authorization: Bearer $INTERNAL_API_TOKEN. Returns the
 * decoded JSON of a 2xx answer; throws ApiError otherwise, with the API's
 * error code ({"error": {"code", "message"}}) in $e->errorCode.
 */
function booking_api(string $method, string $path, ?array $body = null): array
{
    $url = base_url('BOOKING_API_BASE') . $path;
    $headers = [];
    if (!booking_is_public($method, $path)) {
        $headers[] = 'Authorization: Bearer ' . env('INTERNAL_API_TOKEN');
    }
    [$status, $json, $raw] = http_json($method, $url, $headers, $body, BOOKING_TIMEOUT_S);
    if ($status >= 200 && $status < 300 && $json !== null) {
        return $json;
    }
    $code = $json['error']['code'] ?? '';
    $message = $json['error']['message'] ?? trim(substr($raw, 0, 200));
    throw new ApiError("booking API: $method $path answered $status"
        . ($code !== '' ? " $code" : '') . ": $message", $status, (string) $code);
}

/**
 * Calls MercadoPago: mercadopago_api('POST', '/checkout/preferences', $pref).
 * Returns the decoded JSON of a 2xx answer; throws ApiError otherwise, with
 * MercadoPago's error ({"message", "error", "status", "cause"}).
 */
function mercadopago_api(string $method, string $path, ?array $body = null): array
{
    $url = base_url('MP_API_BASE', 'https://api.mercadopago.com') . $path;
    $headers = ['Authorization: Bearer ' . env('MP_ACCESS_TOKEN')];
    [$status, $json, $raw] = http_json($method, $url, $headers, $body, MP_TIMEOUT_S);
    if ($status >= 200 && $status < 300 && $json !== null) {
        return $json;
    }
    $code = $json['error'] ?? '';
    $message = $json['message'] ?? trim(substr($raw, 0, 200));
    throw new ApiError("MercadoPago: $method $path answered $status"
        . ($code !== '' ? " $code" : '') . ": $message", $status, (string) $code);
}

/**
 * A class's time in Spanish, in the school's zone:
 * "martes 1 de diciembre de 2026, de 10:00 a 11:00 (hora de Buenos Aires)".
 * PHP's own date() has English names only, hence the lists.
 */
function class_time_es(string $start, string $end, string $timeZone): string
{
    $days = ['domingo', 'lunes', 'martes', 'miércoles', 'jueves', 'viernes', 'sábado'];
    $months = ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio',
        'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre'];
    $zone = new DateTimeZone($timeZone);
    $from = (new DateTimeImmutable($start))->setTimezone($zone);
    $to = (new DateTimeImmutable($end))->setTimezone($zone);
    $slash = strrpos($timeZone, '/'); // America/Argentina/Buenos_Aires -> Buenos Aires
    $place = str_replace('_', ' ', $slash === false ? $timeZone : substr($timeZone, $slash + 1));
    return sprintf(
        '%s %d de %s de %d, de %s a %s (hora de %s)',
        $days[(int) $from->format('w')],
        (int) $from->format('j'),
        $months[(int) $from->format('n') - 1],
        (int) $from->format('Y'),
        $from->format('H:i'),
        $to->format('H:i'),
        $place
    );
}

/** For the command-line scripts: an error on stderr and exit status 1. */
function fail(string $message, int $status = 1): never
{
    fwrite(STDERR, "error: $message\n");
    exit($status);
}

/** Runs a command-line script's main function, turning errors into fail(). */
function run_cli(callable $main): void
{
    try {
        $main();
    } catch (ApiError | JsonException $e) {
        fail($e->getMessage());
    }
}
