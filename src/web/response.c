#include "web/response.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "core/crypto.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/utf8.h"

static const struct {
	int status;
	const char *reason;
} reasons[] = {
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {302, "Found"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {413, "Content Too Large"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Content"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
};

const char *response_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

void response_init(struct response *res)
{
	res->status = 200;
	res->content_type[0] = '\0';
	buf_init(&res->headers, 16384);
	buf_init(&res->body, LIMIT_RESPONSE_BYTES);
}

void response_free(struct response *res)
{
	buf_free(&res->headers);
	buf_free(&res->body);
}

void response_reset(struct response *res)
{
	res->status = 200;
	res->content_type[0] = '\0';
	buf_reset(&res->headers);
	buf_reset(&res->body);
}

static int header_safe(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (n >= max || (unsigned char)s[n] < 0x20 ||
		    (unsigned char)s[n] == 0x7f)
			return 0;
	return 1;
}

int response_header(struct response *res, const char *name, const char *value)
{
	if (!header_safe(name, 64) || *name == '\0' ||
	    strchr(name, ':') != NULL || strchr(name, ' ') != NULL ||
	    !header_safe(value, LIMIT_HEADER_VALUE))
		return -1;
	return buf_printf(&res->headers, "%s: %s\r\n", name, value);
}

int response_retry_after(struct response *res, long seconds)
{
	char after[24];

	snprintf(after, sizeof(after), "%ld", seconds);
	return response_header(res, "Retry-After", after);
}

static void set_type(struct response *res, const char *type)
{
	snprintf(res->content_type, sizeof(res->content_type), "%s", type);
}

int response_json(struct response *res, int status, struct json_object *obj)
{
	const char *s;
	size_t len;

	s = json_object_to_json_string_length(
	        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	        &len);
	buf_reset(&res->body);
	if (s == NULL || buf_append(&res->body, s, len) != 0 ||
	    buf_append(&res->body, "\n", 1) != 0)
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	res->status = status;
	set_type(res, "application/json; charset=utf-8");
	return status;
}

int response_error(struct response *res, int status, const char *code,
                   const char *fmt, ...)
{
	char message[512];
	struct json_object *root = NULL, *error = NULL;
	const char *s;
	size_t len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(message)) {
		/* Cut off: drop a character left incomplete (UTF-8). */
		size_t end = sizeof(message) - 1, lead = end;

		while (lead > 0 &&
		       ((unsigned char)message[lead - 1] & 0xc0) == 0x80)
			lead--;
		if (lead > 0 && (unsigned char)message[lead - 1] >= 0xc0) {
			unsigned char c = (unsigned char)message[lead - 1];
			size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

			if (lead - 1 + need > end)
				message[lead - 1] = '\0';
		}
	}

	res->status = status;
	set_type(res, "application/json; charset=utf-8");
	buf_reset(&res->body);
	root = json_object_new_object();
	error = json_object_new_object();
	if (root == NULL || error == NULL ||
	    jsonio_add_string(error, "code", code) != 0 ||
	    jsonio_add_string(error, "message", message) != 0) {
		json_object_put(error);
		goto fallback;
	}
	if (jsonio_add(root, "error", error) != 0) /* puts error */
		goto fallback;
	s = json_object_to_json_string_length(
	        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	        &len);
	if (s == NULL || buf_append(&res->body, s, len) != 0 ||
	    buf_append(&res->body, "\n", 1) != 0)
		goto fallback;
	json_object_put(root);
	return status;
fallback:
	json_object_put(root);
	buf_reset(&res->body);
	if (buf_puts(&res->body, "{\"error\":{\"code\":\"internal_error\","
	                         "\"message\":\"out of memory\"}}\n") != 0)
		buf_reset(&res->body);
	return status;
}

int html_escape(struct buf *b, const char *s)
{
	size_t n = strlen(s), i, len;

	for (i = 0; i < n; i += len) {
		const unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		/* One whole character at a time; a byte that starts none (raw
		 * bytes from a query, a sequence cut short) becomes '?', as
		 * utf8_copy() does, so the page stays strict UTF-8. */
		len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (utf8_clip(s + i, n - i, len) != len) {
			rep = "?";
			len = 1;
		}
		switch (c) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			break;
		}
		if (rep ? buf_puts(b, rep) : buf_append(b, s + i, len))
			return -1;
	}
	return 0;
}

/* The one inline style of every page: the pages' CSP allows it by its
 * hash, and nothing else. */
static const char page_style[] =
        "body{font-family:sans-serif;max-width:36em;margin:3em auto;"
        "padding:0 1em;line-height:1.5;color:#222}a.button{display:inline-"
        "block;padding:.5em 1em;background:#1a5fb4;color:#fff;"
        "border-radius:4px;text-decoration:none}";

/* The Content-Security-Policy of a page whose one inline style is style:
 * nothing may load, run, frame it, post from it or change its base; only
 * that style applies (its SHA-256, CSP Level 2 hash source, in standard
 * base64), and data: images (an empty favicon). 0, or -1. */
static int page_csp(const char *style, char *csp, size_t len)
{
	unsigned char sum[32];
	char *b64;

	crypto_sha256(style, strlen(style), sum);
	b64 = crypto_base64_encode(sum, sizeof(sum));
	if (b64 == NULL)
		return -1;
	snprintf(csp, len,
	         "default-src 'none'; style-src 'sha256-%s'; img-src data:; "
	         "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
	         b64);
	free(b64);
	return 0;
}

/* Whether res already has a header line called name. */
static int has_header(const struct response *res, const char *name)
{
	const char *h = buf_str(&res->headers), *p;
	size_t n = strlen(name);

	for (p = h; (p = strstr(p, name)) != NULL; p += n)
		if ((p == h || p[-1] == '\n') && p[n] == ':')
			return 1;
	return 0;
}

int response_page_headers_for(struct response *res, const char *style)
{
	static const char *const fixed[][2] = {
	        {"X-Frame-Options", "DENY"},
	        {"X-Content-Type-Options", "nosniff"},
	        {"Referrer-Policy", "no-referrer"},
	        {"Cache-Control", "no-store"},
	};
	char csp[256];
	size_t i;

	if (!has_header(res, "Content-Security-Policy") &&
	    (page_csp(style, csp, sizeof(csp)) != 0 ||
	     response_header(res, "Content-Security-Policy", csp) != 0))
		return -1;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!has_header(res, fixed[i][0]) &&
		    response_header(res, fixed[i][0], fixed[i][1]) != 0)
			return -1;
	return 0;
}

int response_page_headers(struct response *res)
{
	return response_page_headers_for(res, page_style);
}

/* A page that cannot be built (out of memory): a fixed one, without a
 * byte from the request. */
static int page_failed(struct response *res)
{
	static const char page[] =
	        "<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n"
	        "<meta charset=\"utf-8\">\n<title>Algo sali\xc3\xb3 "
	        "mal</title>\n"
	        "</head>\n<body>\n<h1>Algo sali\xc3\xb3 mal</h1>\n"
	        "<p>Volv\xc3\xa9 a intentarlo en un minuto.</p>\n</body>\n"
	        "</html>\n";

	buf_reset(&res->body);
	if (buf_append(&res->body, page, sizeof(page) - 1) != 0)
		buf_reset(&res->body);
	if (response_page_headers(res) != 0) /* memory is short */
		buf_reset(&res->body);       /* so no page without them */
	res->status = 500;
	set_type(res, "text/html; charset=utf-8");
	return 500;
}

int response_page(struct response *res, int status, const char *title,
                  const char *paragraph, const char *link_href,
                  const char *link_label)
{
	struct buf *b = &res->body;

	buf_reset(b);
	if (response_page_headers(res) != 0 ||
	    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n"
	                "<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" "
	                "content=\"width=device-width, initial-scale=1\">\n"
	                "<title>") ||
	    html_escape(b, title) || buf_puts(b, "</title>\n<style>") ||
	    buf_puts(b, page_style) ||
	    buf_puts(b, "</style>\n</head>\n<body>\n<h1>") ||
	    html_escape(b, title) || buf_puts(b, "</h1>\n<p>") ||
	    html_escape(b, paragraph ? paragraph : "") || buf_puts(b, "</p>\n"))
		goto fail;
	if (link_href != NULL &&
	    (buf_puts(b, "<p><a class=\"button\" href=\"") ||
	     html_escape(b, link_href) || buf_puts(b, "\">") ||
	     html_escape(b, link_label ? link_label : link_href) ||
	     buf_puts(b, "</a></p>\n")))
		goto fail;
	if (buf_puts(b, "</body>\n</html>\n"))
		goto fail;
	res->status = status;
	set_type(res, "text/html; charset=utf-8");
	return status;
fail:
	return page_failed(res);
}

int response_status_page(struct response *res, int status)
{
	static const struct {
		int status;
		const char *title, *text;
	} pages[] = {
	        {400, "Este enlace no es válido",
	         "La dirección trae datos que no esperábamos. Volvé a "
	         "empezar desde el principio."},
	        {401, "Acceso restringido",
	         "Esta dirección necesita una credencial que el pedido no "
	         "trae."},
	        {404, "No encontramos esta página",
	         "Revisá la dirección o volvé a empezar desde el principio."},
	        {405, "Esta dirección no acepta este pedido",
	         "Esta página se abre desde el navegador, como un enlace. "
	         "Volvé a empezar desde el principio."},
	        {413, "El pedido es demasiado grande",
	         "Esta página no recibe datos. Volvé a empezar desde el "
	         "principio."},
	        {503, "El servicio no está disponible",
	         "Esperá un minuto y volvé a intentarlo."},
	};
	size_t i;

	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (pages[i].status == status)
			return response_page(res, status, pages[i].title,
			                     pages[i].text, NULL, NULL);
	return response_page(res, status, "Algo salió mal",
	                     "No pudimos preparar la respuesta. Volvé a "
	                     "intentarlo en un minuto.",
	                     NULL, NULL);
}

int response_serialize(const struct response *res, const char *request_id,
                       int head_only, struct buf *out)
{
	int bodyless = res->status == 204 || res->status == 304;
	size_t len = bodyless ? 0 : res->body.len;

	if (buf_printf(out, "Status: %d %s\r\n", res->status,
	               response_reason(res->status)))
		return -1;
	if (!bodyless && res->content_type[0] &&
	    buf_printf(out, "Content-Type: %s\r\n", res->content_type))
		return -1;
	if (!bodyless && buf_printf(out, "Content-Length: %zu\r\n", len))
		return -1;
	if (buf_printf(out, "X-Request-Id: %s\r\n", request_id) ||
	    buf_append(out, res->headers.data ? res->headers.data : "",
	               res->headers.len) ||
	    buf_puts(out, "\r\n"))
		return -1;
	if (!head_only && len && buf_append(out, res->body.data, len))
		return -1;
	return 0;
}
