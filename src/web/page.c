#include "web/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/tz.h"

/* The console's one style sheet, in each page: the CSP allows exactly it
 * (its SHA-256), nothing else. Dark text on white (contrast over 7:1),
 * a visible focus ring, tables that scroll on a phone. */
static const char style[] =
        "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;"
        "background:#fff;line-height:1.5}"
        "header{background:#123d6b;color:#fff;padding:.5em 1em}"
        "header a,header button{color:#fff}"
        "nav ul{list-style:none;margin:0;padding:0;display:flex;"
        "flex-wrap:wrap;gap:.25em 1.25em;align-items:center}"
        "main{max-width:64em;margin:0 auto;padding:1em}"
        "h1{font-size:1.5em;margin:.5em 0;overflow-wrap:anywhere}"
        "h2{font-size:1.2em;"
        "margin:1.5em 0 .5em}"
        "a{color:#0b4f9c}"
        "a:focus-visible,button:focus-visible,input:focus-visible,"
        "select:focus-visible{outline:3px solid #c25e00;outline-offset:2px}"
        "button,.button{font:inherit;padding:.4em 1em;border-radius:4px;"
        "border:1px solid #123d6b;background:#123d6b;color:#fff;"
        "cursor:pointer;text-decoration:none;display:inline-block}"
        "header button{background:transparent;border-color:#fff}"
        "button.danger{background:#a51d2d;border-color:#a51d2d}"
        "form.inline{display:inline}"
        ".scroll{overflow-x:auto}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid "
        "#ccc;vertical-align:top}"
        "dl{display:grid;grid-template-columns:minmax(8em,auto) 1fr;"
        "gap:.25em 1em}dt{font-weight:bold}dd{margin:0;overflow-wrap:"
        "anywhere}"
        ".ok{color:#1d6b2f}.warn{color:#8a5300}.fail{color:#a51d2d}"
        "label{display:block;font-weight:bold}"
        ".filters{display:flex;flex-wrap:wrap;gap:.75em;align-items:end}"
        "input,select{font:inherit;padding:.3em}";

int page_text(struct buf *b, const char *s)
{
	return html_escape(b, s ? s : "");
}

int page_raw(struct buf *b, const char *s)
{
	return buf_puts(b, s);
}

int page_begin(struct buf *b, const char *title, const char *csrf)
{
	if (buf_puts(b, "<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n"
	                "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	                "content=\"width=device-width, initial-scale=1\">\n"
	                "<link rel=\"icon\" href=\"data:,\">\n<title>") ||
	    page_text(b, title) ||
	    buf_puts(b, " · Consola de la escuela</title>\n<style>") ||
	    buf_puts(b, style) || buf_puts(b, "</style>\n</head>\n<body>\n"))
		return -1;
	if (csrf != NULL &&
	    (buf_puts(b, "<header>\n<nav aria-label=\"Consola\"><ul>"
	                 "<li><a href=\"/admin\">Resumen</a></li>"
	                 "<li><a href=\"/admin/bookings\">Reservas</a></li>"
	                 "<li><a href=\"/admin/payments\">Pagos</a></li>"
	                 "<li>") ||
	     page_form(b, "/admin/logout", csrf, "Cerrar sesión") ||
	     buf_puts(b, "</li></ul></nav>\n</header>\n")))
		return -1;
	return buf_puts(b, "<main id=\"main\">\n<h1>") || page_text(b, title) ||
	                       buf_puts(b, "</h1>\n")
	               ? -1
	               : 0;
}

int page_end(struct buf *b)
{
	return buf_puts(b, "</main>\n</body>\n</html>\n");
}

int page_time(struct buf *b, const char *db_time)
{
	char iso[TZ_ISO_MAX];

	if (db_time == NULL || tz_db_to_iso(db_time, iso, sizeof(iso)) != 0 ||
	    strlen(iso) < 25)
		return buf_puts(b, "—");
	/* "2026-12-01T15:00:00-03:00" as "2026-12-01 15:00 (-03:00)" */
	return buf_printf(b, "%.10s %.5s (%.6s)", iso, iso + 11, iso + 19);
}

int page_form(struct buf *b, const char *action, const char *csrf,
              const char *label)
{
	return buf_puts(b,
	                "<form class=\"inline\" method=\"post\" action=\"") ||
	                       page_text(b, action) ||
	                       buf_puts(b, "\"><input type=\"hidden\" "
	                                   "name=\"csrf\" value=\"") ||
	                       page_text(b, csrf) ||
	                       buf_puts(b, "\"><button type=\"submit\">") ||
	                       page_text(b, label) ||
	                       buf_puts(b, "</button></form>")
	               ? -1
	               : 0;
}

int page_headers(struct response *res)
{
	/* The runtime's Cache-Control would be no-store too; the shared
	 * page headers, with this frame's style in the CSP. */
	return response_page_headers_for(res, style);
}

/* A page that could not be built: a fixed one, status 500. */
static int fallback(struct response *res)
{
	buf_reset(&res->body);
	buf_reset(&res->headers);
	res->status = 500;
	snprintf(res->content_type, sizeof(res->content_type),
	         "text/html; charset=utf-8");
	if (page_headers(res) != 0 ||
	    buf_puts(&res->body,
	             "<!DOCTYPE html>\n<html lang=\"es\"><head><meta "
	             "charset=\"utf-8\"><title>Algo salió mal</title></head>"
	             "<body><h1>Algo salió mal</h1><p>No se pudo preparar la "
	             "página; volvé a intentarlo.</p></body></html>\n") != 0)
		buf_reset(&res->body);
	return 500;
}

int page_send(struct response *res, int status, struct buf *b)
{
	struct buf old = res->body;

	if (b->data == NULL || page_headers(res) != 0) {
		buf_free(b);
		return fallback(res);
	}
	res->body = *b;
	buf_free(&old);
	buf_init(b, b->cap);
	res->status = status;
	snprintf(res->content_type, sizeof(res->content_type),
	         "text/html; charset=utf-8");
	return status;
}

int page_message(struct response *res, int status, const char *title,
                 const char *text, const char *href, const char *label)
{
	struct buf b;

	buf_init(&b, 65536);
	if (page_begin(&b, title, NULL) || buf_puts(&b, "<p>") ||
	    page_text(&b, text) || buf_puts(&b, "</p>\n") ||
	    (href != NULL && (buf_puts(&b, "<p><a class=\"button\" href=\"") ||
	                      page_text(&b, href) || buf_puts(&b, "\">") ||
	                      page_text(&b, label ? label : href) ||
	                      buf_puts(&b, "</a></p>\n"))) ||
	    page_end(&b)) {
		buf_free(&b);
		return fallback(res);
	}
	return page_send(res, status, &b);
}

int page_from_error(struct response *res)
{
	const char *title = "Algo salió mal",
	           *text = "No se pudo preparar la página; volvé a "
	                   "intentarlo en un minuto.";
	int status = res->status;

	if (strncmp(res->content_type, "text/html", 9) == 0)
		return status;
	switch (status) {
	case 400:
		title = "Solicitud no válida";
		text = "La dirección o lo enviado no se puede leer.";
		break;
	case 401:
	case 403:
		title = "No autorizado";
		text = "No podés hacer esto.";
		break;
	case 404:
		title = "No encontrado";
		text = "No hay nada en esta dirección.";
		break;
	case 405:
		title = "Método no permitido";
		text = "Esta dirección no admite ese método.";
		break;
	case 413:
		title = "Solicitud demasiado grande";
		text = "Lo enviado supera los 64 KiB.";
		break;
	case 503:
		title = "El servicio no está disponible";
		text = "La base de datos no responde. Esperá un minuto y "
		       "volvé a intentarlo.";
		break;
	default:
		break;
	}
	return page_message(res, status, title, text, "/admin",
	                    "Ir al resumen");
}

int page_path(const char *path)
{
	return strncmp(path, "/admin", 6) == 0 &&
	       (path[6] == '\0' || path[6] == '/');
}
