#include "web/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/log.h"
#include "web/cookie.h"
#include "core/tz.h"
#include "io/db.h"
#include "school/booking.h"
#include "school/connect.h"
#include "school/doctor.h"
#include "school/ledger.h"
#include "school/recon.h"
#include "school/session.h"
#include "upstream/goauth.h"
#include "upstream/gtoken.h"
#include "upstream/oidc.h"
#include "web/page.h"

#define SIGNIN_SCOPES "openid email"
#define LOGIN_PATH    "/admin/login"
#define SIGN_IN_AGAIN "Iniciar sesión de nuevo"
#define PAGE_CAP      (512u * 1024u)
#define UPCOMING      10
#define PAYMENTS_MAX  200
#define PAGE_MAX      100000L

/* ---- cookies and the site's origin ---- */

static int set_cookie(struct proc *proc, struct response *res, const char *name,
                      const char *path, const char *value, long max_age)
{
	return cookie_set(res, proc->cfg.auth_google_redirect_uri, name, path,
	                  value, max_age);
}

/* The site's origin, "scheme://host[:port]", from the redirect URI. */
static int site_origin(const struct proc *proc, char *out, size_t len)
{
	const char *uri = proc->cfg.auth_google_redirect_uri, *host, *slash;
	size_t n;

	if (uri == NULL || (host = strstr(uri, "://")) == NULL)
		return -1;
	slash = strchr(host + 3, '/');
	n = slash ? (size_t)(slash - uri) : strlen(uri);
	if (n + 1 > len)
		return -1;
	memcpy(out, uri, n);
	out[n] = '\0';
	return 0;
}

/*
 * Whether the request came from a page of the site itself: its Origin;
 * a browser that sends "null" instead (our pages are Referrer-Policy:
 * no-referrer, and Chromium then serializes a form's origin as "null")
 * or no Origin at all is believed by its Sec-Fetch-Site, which no page
 * can set; without either, by a Referer of the site.
 */
static int same_origin(const struct proc *proc, const struct request *req)
{
	const char *origin = request_header(req, "Origin");
	const char *fetch_site = request_header(req, "Sec-Fetch-Site");
	const char *referer = request_header(req, "Referer");
	char site[512];
	size_t n;

	if (site_origin(proc, site, sizeof(site)) != 0)
		return 0;
	n = strlen(site);
	if (origin != NULL && strcmp(origin, site) == 0)
		return 1;
	if (origin != NULL && strcmp(origin, "null") != 0)
		return 0; /* another site */
	if (fetch_site != NULL)
		return strcmp(fetch_site, "same-origin") == 0;
	return origin == NULL && referer != NULL &&
	       strncmp(referer, site, n) == 0 && referer[n] == '/';
}

/* ---- the session ---- */

/*
 * The request's session into *s: 0, or the status of the page written
 * (302 to the sign-in for a GET, 403 for anything else, 503 when the
 * database failed).
 */
static int signed_in(struct proc *proc, struct request *req,
                     struct response *res, struct session *s)
{
	char id[65];
	int get = strcmp(req->method, "GET") == 0 ||
	          strcmp(req->method, "HEAD") == 0;

	cookie_read_hex64(req, ADMIN_COOKIE, id);
	switch (session_check(proc, req->request_id, id, s)) {
	case SESSION_OK:
		OPENSSL_cleanse(id, sizeof(id));
		return 0;
	case SESSION_DB_DOWN:
		return page_message(res, 503, "El servicio no está disponible",
		                    "La base de datos no responde. Esperá un "
		                    "minuto y volvé a intentarlo.",
		                    NULL, NULL);
	case SESSION_NOMEM:
		return page_message(res, 500, "Algo salió mal",
		                    "No se pudo leer la sesión. Volvé a "
		                    "intentarlo.",
		                    NULL, NULL);
	case SESSION_NONE:
		break;
	}
	if (get) {
		if (response_header(res, "Location", LOGIN_PATH) != 0)
			return page_message(res, 500, "Algo salió mal",
			                    "No se pudo preparar la respuesta.",
			                    NULL, NULL);
		return page_message(res, 302, "Iniciá sesión",
		                    "Para entrar a la consola, iniciá sesión "
		                    "con la cuenta de Google del "
		                    "administrador.",
		                    LOGIN_PATH, "Iniciar sesión");
	}
	return page_message(res, 403, "La sesión no es válida",
	                    "No hay una sesión abierta (o ya se cerró). "
	                    "Iniciá sesión y volvé a intentarlo; no se "
	                    "cambió nada.",
	                    LOGIN_PATH, "Iniciar sesión");
}

/* The "csrf" field of a form body, when it is 64 hex digits, into out. */
static void form_csrf(const struct buf *body, char out[65])
{
	const char *p = body->data ? body->data : "";
	size_t i;
	int found = 0;

	out[0] = '\0';
	while (*p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 69 && strncmp(p, "csrf=", 5) == 0) {
			if (found++) {
				out[0] = '\0';
				return;
			}
			for (i = 0; i < 64; i++)
				if (!((p[5 + i] >= '0' && p[5 + i] <= '9') ||
				      (p[5 + i] >= 'a' && p[5 + i] <= 'f')))
					break;
			if (i == 64) {
				memcpy(out, p + 5, 64);
				out[64] = '\0';
			}
		}
		p += len;
		if (*p == '&')
			p++;
	}
}

/*
 * A POST's session, CSRF token and origin: 0 with *s filled, or the
 * status of the page written (nothing changed).
 */
static int post_allowed(struct proc *proc, struct request *req,
                        struct response *res, struct session *s)
{
	char err[LIMIT_ERROR_MESSAGE], token[65];
	int status = signed_in(proc, req, res, s);

	if (status != 0)
		return status;
	status = request_read_body(req, err, sizeof(err));
	if (status != 0)
		return page_message(res, status, "Solicitud no válida",
		                    "Lo enviado no se puede leer.", "/admin",
		                    "Ir al resumen");
	form_csrf(&req->body, token);
	if (!same_origin(proc, req) || token[0] == '\0' ||
	    !crypto_equal(token, strlen(token), s->csrf, strlen(s->csrf))) {
		log_warn(req->request_id,
		         "a console POST without the session's "
		         "CSRF token or from another site was "
		         "refused");
		return page_message(
		        res, 403, "Pedido rechazado",
		        "Este pedido no vino de un formulario de la "
		        "consola, o el formulario ya no vale. Volvé "
		        "a la página y usá el botón de nuevo; no se "
		        "cambió nada.",
		        "/admin", "Ir al resumen");
	}
	return 0;
}

/* A 303 to path, as a page with the link. */
static int see_other(struct response *res, const char *path)
{
	if (response_header(res, "Location", path) != 0)
		return page_message(res, 500, "Algo salió mal",
		                    "No se pudo preparar la respuesta.", NULL,
		                    NULL);
	return page_message(res, 303, "Listo", "Listo.", path, "Continuar");
}

static int db_down(struct response *res)
{
	return page_message(res, 503, "El servicio no está disponible",
	                    "La base de datos no responde. Esperá un minuto "
	                    "y volvé a intentarlo.",
	                    NULL, NULL);
}

static int page_failed(struct response *res, struct buf *b)
{
	buf_free(b);
	return page_message(res, 500, "Algo salió mal",
	                    "No se pudo preparar la página. Volvé a "
	                    "intentarlo.",
	                    NULL, NULL);
}

/* ---- sign-in ---- */

int admin_login(struct proc *proc, struct request *req, struct response *res)
{
	struct connect_start start;
	enum connect_state stored;
	struct buf url;
	int status;

	buf_init(&url, 8192);
	stored = connect_begin(proc, req->request_id, CONNECT_FLOW_SIGNIN,
	                       &start);
	if (stored == CONNECT_STATE_DB_DOWN) {
		status = db_down(res);
		goto out;
	}
	if (stored == CONNECT_STATE_BUSY) {
		/* Too many sign-ins and connections in flight
		 * (LIMIT_OAUTH_STATES). */
		status = response_retry_after(res, LIMIT_OAUTH_RETRY_S) != 0
		                 ? page_message(
		                           res, 500, "Algo salió mal",
		                           "No pudimos preparar el inicio de "
		                           "sesión. Volvé a intentarlo.",
		                           LOGIN_PATH, SIGN_IN_AGAIN)
		                 : page_message(
		                           res, 503,
		                           "Hay demasiados inicios en curso",
		                           "Se empezaron muchos inicios de "
		                           "sesión en los últimos minutos. "
		                           "Esperá un minuto y volvé a "
		                           "intentarlo.",
		                           LOGIN_PATH, SIGN_IN_AGAIN);
		goto out;
	}
	if (stored != CONNECT_STATE_OK ||
	    goauth_consent_url(&proc->cfg, SIGNIN_SCOPES, "select_account", 0,
	                       start.state, start.challenge, &url) != 0 ||
	    response_header(res, "Location", buf_str(&url)) != 0 ||
	    set_cookie(proc, res, ADMIN_SIGNIN_COOKIE, "/oauth/google/callback",
	               start.cookie, CONNECT_STATE_TTL_S) != 0) {
		status =
		        page_message(res, 500, "Algo salió mal",
		                     "No pudimos preparar el inicio de sesión. "
		                     "Volvé a intentarlo.",
		                     LOGIN_PATH, SIGN_IN_AGAIN);
		goto out;
	}
	status = page_message(res, 302, "Iniciando sesión con Google",
	                      "Te estamos llevando a Google para que elijas "
	                      "la cuenta del administrador.",
	                      buf_str(&url), "Continuar en Google");
out:
	OPENSSL_cleanse(&start, sizeof(start));
	buf_free(&url);
	return status;
}

static int again(struct response *res, int status, const char *title,
                 const char *text)
{
	return page_message(res, status, title, text, LOGIN_PATH,
	                    SIGN_IN_AGAIN);
}

/* The state checked against the browser's cookie and consumed: 0 and the
 * verifier (malloc'd), or the status of the page written. */
static int take_state(struct proc *proc, struct request *req,
                      struct response *res, const char *state, char **verifier)
{
	char cookie[65];

	cookie_read_hex64(req, ADMIN_SIGNIN_COOKIE, cookie);
	switch (connect_state_take(proc, req->request_id, state, cookie,
	                           verifier)) {
	case CONNECT_STATE_OK:
		return 0;
	case CONNECT_STATE_DB_DOWN:
		return db_down(res);
	case CONNECT_STATE_USED:
		return again(res, 400, "Este enlace ya se usó",
		             "Cada inicio de sesión sirve una sola vez. "
		             "Empezá de nuevo.");
	case CONNECT_STATE_EXPIRED:
		return again(res, 400, "El enlace venció",
		             "Pasaron más de diez minutos desde que empezó "
		             "el inicio de sesión. Empezá de nuevo.");
	case CONNECT_STATE_OTHER_BROWSER:
		return again(res, 400,
		             "El inicio de sesión empezó en otro "
		             "navegador",
		             "Para proteger la consola, el inicio de sesión "
		             "tiene que terminar en el mismo navegador donde "
		             "empezó. Empezá de nuevo desde este navegador.");
	case CONNECT_STATE_UNKNOWN:
	case CONNECT_STATE_UNREADABLE:
	case CONNECT_STATE_NOMEM:
	case CONNECT_STATE_BUSY:
		break;
	}
	return again(res, 400, "Este enlace no es válido",
	             "No reconocemos este inicio de sesión. Empezá de "
	             "nuevo.");
}

/* The verified account of a grant into *claims: 0, or the status of the
 * page written. */
static int account_of(struct proc *proc, struct request *req,
                      struct response *res, const struct goauth_grant *g,
                      struct oidc_claims *claims)
{
	memset(claims, 0, sizeof(*claims));
	if (g->id_token != NULL) {
		enum oidc_result r = oidc_id_token_claims(
		        g->id_token, proc->cfg.auth_google_id, tz_now(),
		        claims);

		if (r != OIDC_OK) {
			log_warn(req->request_id,
			         "sign-in: rejected ID token: %s",
			         oidc_result_str(r));
			return again(res, 400, "No pudimos verificar la cuenta",
			             "La identidad que envió Google no es "
			             "válida para esta aplicación. Volvé a "
			             "intentarlo.");
		}
	}
	if (claims->email[0] == '\0' &&
	    goauth_userinfo(proc, req->request_id, g->access_token, claims) !=
	            0)
		return again(res, 502, "No pudimos leer la cuenta",
		             "Google no nos dijo con qué cuenta iniciaste "
		             "sesión. Volvé a intentarlo.");
	return 0;
}

int admin_signin_callback(struct proc *proc, struct request *req,
                          struct response *res)
{
	const char *code = request_query(req, "code");
	const char *state = request_query(req, "state");
	const char *error = request_query(req, "error");
	struct goauth_grant g = {0};
	struct oidc_claims claims;
	enum goauth_result gr;
	char *verifier = NULL, id[SESSION_ID_LEN + 1], text[600];
	int status;

	if (set_cookie(proc, res, ADMIN_SIGNIN_COOKIE, "/oauth/google/callback",
	               "", 0) != 0)
		return page_message(res, 500, "Algo salió mal",
		                    "No se pudo preparar la respuesta.", NULL,
		                    NULL);
	if (error != NULL)
		return again(res,
		             strcmp(error, "access_denied") == 0 ? 403 : 400,
		             "No se inició sesión",
		             "Google no completó el inicio de sesión. Volvé a "
		             "intentarlo con la cuenta del administrador.");
	if (code == NULL || *code == '\0' || state == NULL || *state == '\0')
		return again(res, 400, "Enlace incompleto",
		             "A este enlace le falta la respuesta de Google. "
		             "Empezá de nuevo.");
	status = take_state(proc, req, res, state, &verifier);
	if (status != 0)
		return status;
	gr = goauth_exchange(proc, req->request_id, code, verifier, &g);
	if (gr != GOAUTH_OK) {
		status = again(res, gr == GOAUTH_REFUSED ? 400 : 502,
		               "Google no completó el inicio de sesión",
		               "No pudimos confirmar el inicio de sesión con "
		               "Google. Volvé a intentarlo.");
		goto out;
	}
	status = account_of(proc, req, res, &g, &claims);
	if (status != 0)
		goto out;
	if (!connect_is_admin(&proc->cfg, &claims)) {
		log_warn(req->request_id, "an account other than ADMIN_EMAIL "
		                          "tried to sign in to the console");
		snprintf(text, sizeof(text),
		         "Iniciaste sesión como %.254s%s. Solo la cuenta del "
		         "administrador de la escuela puede entrar a la "
		         "consola: "
		         "volvé a intentarlo eligiendo esa cuenta.",
		         claims.email,
		         claims.email_verified
		                 ? ""
		                 : " (una dirección sin verificar)");
		status = again(res, 403, "Esta cuenta no puede entrar", text);
		goto out;
	}
	/* The id is always ours, made now: one the browser brought is
	 * never taken over. The grant (and any token in it) is dropped. */
	switch (session_new(proc, req->request_id, claims.email, id)) {
	case SESSION_OK:
		break;
	case SESSION_DB_DOWN:
		status = db_down(res);
		goto out;
	case SESSION_NOMEM:
	case SESSION_NONE:
		status = again(res, 500, "Algo salió mal",
		               "No se pudo abrir la sesión. Volvé a "
		               "intentarlo.");
		goto out;
	}
	if (set_cookie(proc, res, ADMIN_COOKIE, "/admin", id, SESSION_MAX_S) !=
	            0 ||
	    response_header(res, "Location", "/admin") != 0) {
		status = again(res, 500, "Algo salió mal",
		               "No se pudo preparar la respuesta.");
		goto out;
	}
	OPENSSL_cleanse(id, sizeof(id));
	log_info(req->request_id, "the admin signed in to the console");
	status = page_message(res, 302, "Sesión iniciada",
	                      "Ya podés usar la consola.", "/admin",
	                      "Ir a la consola");
out:
	goauth_grant_free(&g);
	if (verifier != NULL)
		crypto_free_secret(verifier, strlen(verifier));
	return status;
}

int admin_logout(struct proc *proc, struct request *req, struct response *res)
{
	struct session s;
	int status = post_allowed(proc, req, res, &s);

	if (status != 0)
		return status;
	if (session_end_all(proc, req->request_id, s.email) != SESSION_OK)
		return db_down(res);
	if (set_cookie(proc, res, ADMIN_COOKIE, "/admin", "", 0) != 0)
		return page_message(res, 500, "Algo salió mal",
		                    "No se pudo preparar la respuesta.", NULL,
		                    NULL);
	log_info(req->request_id, "the admin logged out of the console");
	return page_message(res, 200, "Sesión cerrada",
	                    "Cerraste la sesión de la consola en todos tus "
	                    "navegadores.",
	                    LOGIN_PATH, "Iniciar sesión");
}

/* ---- pieces of pages ---- */

static const char *status_label(const char *s)
{
	static const struct {
		const char *status, *label;
	} labels[] = {
	        {"held", "Reservada, sin pagar"}, {"pending", "Pago pendiente"},
	        {"scheduling", "Agendándose"},    {"scheduled", "Agendada"},
	        {"cancelled", "Cancelada"},       {"failed", "Falló"},
	};
	size_t i;

	for (i = 0; s != NULL && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].status, s) == 0)
			return labels[i].label;
	return s ? s : "—";
}

/* A table of bookings (rows as ledger_admin_list()). */
static int bookings_table(struct buf *b, const struct db_rows *rows)
{
	size_t i;

	if (rows->nrows == 0)
		return buf_puts(b, "<p>No hay reservas.</p>\n");
	if (buf_puts(b, "<div class=\"scroll\"><table>\n<thead><tr>"
	                "<th scope=\"col\">Clase</th><th scope=\"col\">Estado"
	                "</th><th scope=\"col\">Alumno</th><th scope=\"col\">"
	                "Tipo</th><th scope=\"col\">Reserva</th></tr></thead>"
	                "\n<tbody>\n"))
		return -1;
	for (i = 0; i < rows->nrows; i++) {
		const char *id = db_cell(rows, i, 0);
		const char *name = db_cell(rows, i, 4);

		if (buf_puts(b, "<tr><td>") ||
		    page_time(b, db_cell(rows, i, 2)) ||
		    buf_puts(b, "</td><td>") ||
		    page_text(b, status_label(db_cell(rows, i, 1))) ||
		    buf_puts(b, "</td><td>") ||
		    page_text(b, name ? name : "") || buf_puts(b, " &lt;") ||
		    page_text(b, db_cell(rows, i, 5)) ||
		    buf_puts(b, "&gt;</td><td>") ||
		    page_text(b, db_cell(rows, i, 6)) ||
		    buf_puts(b, "</td><td><a href=\"/admin/bookings/") ||
		    page_text(b, id) || buf_puts(b, "\">") ||
		    page_text(b, id) || buf_puts(b, "</a></td></tr>\n"))
			return -1;
	}
	return buf_puts(b, "</tbody>\n</table></div>\n");
}

/* ---- GET /admin ---- */

static int overview_google(struct proc *proc, struct buf *b)
{
	struct gtoken_status st;

	if (buf_puts(b, "<h2>Google Calendar</h2>\n"))
		return -1;
	if (gtoken_status(proc->db, &st) != 0)
		return buf_puts(b,
		                "<p class=\"fail\">No se pudo leer la conexión "
		                "(la base de datos no responde).</p>\n");
	if (st.stored && st.connected) {
		if (buf_puts(b, "<p class=\"ok\">Conectado") ||
		    (st.email[0] &&
		     (buf_puts(b, " con ") || page_text(b, st.email))) ||
		    buf_puts(b, st.connected_at[0] ? " desde " : "") ||
		    (st.connected_at[0] && page_time(b, st.connected_at)) ||
		    buf_puts(b, ".</p>\n"))
			return -1;
	} else if (buf_puts(b, st.stored
	                               ? "<p class=\"fail\">La conexión se "
	                                 "rompió (el permiso fue revocado o "
	                                 "venció): conectá de nuevo.</p>\n"
	                               : "<p class=\"fail\">No conectado: las "
	                                 "clases no llegan al calendario."
	                                 "</p>\n")) {
		return -1;
	}
	return buf_puts(b,
	                "<p><a class=\"button\" href=\"/oauth/google/start\">"
	                "Conectar Google de nuevo</a></p>\n");
}

static int overview_checks(struct proc *proc, struct buf *b)
{
	struct doctor_report r;
	size_t i;

	doctor_run(proc, NULL, &r);
	if (buf_puts(b, "<h2>Revisión</h2>\n<div class=\"scroll\"><table>\n"
	                "<thead><tr><th scope=\"col\">Revisión</th><th "
	                "scope=\"col\">Estado</th><th scope=\"col\">Detalle"
	                "</th></tr></thead>\n<tbody>\n"))
		return -1;
	for (i = 0; i < r.n; i++) {
		const struct doctor_check *c = &r.checks[i];
		const char *cls = doctor_status_str(c->status);

		if (buf_puts(b, "<tr><td>") || page_text(b, c->name) ||
		    buf_puts(b, "</td><td class=\"") || page_text(b, cls) ||
		    buf_puts(b, "\">") ||
		    page_text(b, c->status == DOCTOR_OK     ? "bien"
		                 : c->status == DOCTOR_WARN ? "atención"
		                                            : "falla") ||
		    buf_puts(b, "</td><td>") || page_text(b, c->message) ||
		    buf_puts(b, "</td></tr>\n"))
			return -1;
	}
	return buf_puts(b, "</tbody>\n</table></div>\n");
}

int admin_overview(struct proc *proc, struct request *req, struct response *res)
{
	struct session s;
	struct db_rows rows;
	struct buf b;
	long long nb = 0, np = 0;
	int status = signed_in(proc, req, res, &s);

	if (status != 0)
		return status;
	memset(&rows, 0, sizeof(rows));
	if (ledger_attention(proc->db, &nb, &np) != 0 ||
	    ledger_upcoming(proc->db, UPCOMING, &rows) != DB_OK) {
		log_warn(req->request_id, "overview: %s", db_error(proc->db));
		db_rows_free(&rows);
		return db_down(res);
	}
	buf_init(&b, PAGE_CAP);
	if (page_begin(&b, "Resumen", s.csrf) || overview_google(proc, &b) ||
	    buf_puts(&b, "<h2>Para revisar</h2>\n<ul>\n<li><a href=\"/admin/"
	                 "bookings?status=scheduling\">") ||
	    buf_printf(&b, "%lld", nb) ||
	    buf_puts(&b, " reservas necesitan atención</a> (agendándose, "
	                 "fallidas con la clase por delante, o cancelaciones "
	                 "que Google todavía no vio)</li>\n<li><a href=\""
	                 "/admin/payments\">") ||
	    buf_printf(&b, "%lld", np) ||
	    buf_puts(&b, " pagos no se convirtieron en clase</a></li>\n</ul>\n"
	                 "<h2>Próximas clases</h2>\n") ||
	    bookings_table(&b, &rows) || overview_checks(proc, &b) ||
	    page_end(&b)) {
		db_rows_free(&rows);
		return page_failed(res, &b);
	}
	db_rows_free(&rows);
	return page_send(res, 200, &b);
}

/* ---- GET /admin/bookings ---- */

/* A local date "YYYY-MM-DD" as the instant its day starts (next: the day
 * after). 0, or -1 when it is not a date. */
static int local_day(const char *s, int next, int64_t *out)
{
	int y, m, d;

	if (tz_parse_date(s, &y, &m, &d) != TZ_OK)
		return -1;
	if (next) {
		int64_t t;
		struct tz_local l;

		if (tz_from_local(y, m, d, 12, 0, 0, &t) != TZ_OK ||
		    tz_to_local(t + 86400, &l) != 0)
			return -1;
		y = l.year;
		m = l.month;
		d = l.day;
	}
	return tz_day_start(y, m, d, out) == TZ_OK ? 0 : -1;
}

static int valid_status(const char *s)
{
	const char *const *all;
	size_t n, i;

	all = ledger_statuses(&n);
	for (i = 0; i < n; i++)
		if (strcmp(all[i], s) == 0)
			return 1;
	return 0;
}

static int bad_filter(struct response *res, const char *what)
{
	return page_message(res, 400, "Filtro no válido", what,
	                    "/admin/bookings", "Ver todas las reservas");
}

/* The filter's form, with the values given. */
static int filter_form(struct buf *b, const char *status, const char *from,
                       const char *to)
{
	const char *const *all;
	size_t n, i;

	all = ledger_statuses(&n);
	if (buf_puts(b, "<form method=\"get\" action=\"/admin/bookings\" "
	                "class=\"filters\">\n<div><label for=\"status\">"
	                "Estado</label><select id=\"status\" name=\"status\">"
	                "<option value=\"\">Todos</option>"))
		return -1;
	for (i = 0; i < n; i++)
		if (buf_puts(b, "<option value=\"") || page_text(b, all[i]) ||
		    buf_puts(b, strcmp(all[i], status) == 0 ? "\" selected>"
		                                            : "\">") ||
		    page_text(b, status_label(all[i])) ||
		    buf_puts(b, "</option>"))
			return -1;
	return buf_puts(b, "</select></div>\n<div><label for=\"from\">Desde"
	                   "</label><input type=\"date\" id=\"from\" "
	                   "name=\"from\" value=\"") ||
	                       page_text(b, from) ||
	                       buf_puts(b, "\"></div>\n<div><label for=\"to\">"
	                                   "Hasta</label><input type=\"date\" "
	                                   "id=\"to\" name=\"to\" value=\"") ||
	                       page_text(b, to) ||
	                       buf_puts(b, "\"></div>\n<div><button type=\""
	                                   "submit\">Filtrar</button></div>\n"
	                                   "</form>\n")
	               ? -1
	               : 0;
}

/* A link to page p of the same filter. */
static int page_link(struct buf *b, const char *status, const char *from,
                     const char *to, long p, const char *label)
{
	/* The values were checked: a status word and dates, nothing to
	 * encode. */
	return buf_puts(b, "<a href=\"/admin/bookings?status=") ||
	                       page_text(b, status) ||
	                       buf_puts(b, "&amp;from=") ||
	                       page_text(b, from) || buf_puts(b, "&amp;to=") ||
	                       page_text(b, to) ||
	                       buf_printf(b, "&amp;page=%ld\">", p) ||
	                       page_text(b, label) || buf_puts(b, "</a> ")
	               ? -1
	               : 0;
}

int admin_bookings(struct proc *proc, struct request *req, struct response *res)
{
	const char *status_q = request_query(req, "status");
	const char *from_q = request_query(req, "from");
	const char *to_q = request_query(req, "to");
	const char *page_q = request_query(req, "page");
	struct ledger_list_filter f = {0};
	struct session s;
	struct db_rows rows;
	struct buf b;
	long long total = 0;
	long page = 1, pages;
	char *end;
	int status = signed_in(proc, req, res, &s);

	if (status != 0)
		return status;
	status_q = status_q ? status_q : "";
	from_q = from_q ? from_q : "";
	to_q = to_q ? to_q : "";
	if (*status_q && !valid_status(status_q))
		return bad_filter(res, "El estado no es uno de los de una "
		                       "reserva.");
	if (*from_q && local_day(from_q, 0, &f.from) != 0)
		return bad_filter(res, "«Desde» no es una fecha (AAAA-MM-DD).");
	if (*to_q && local_day(to_q, 1, &f.to) != 0)
		return bad_filter(res, "«Hasta» no es una fecha (AAAA-MM-DD).");
	if (page_q != NULL && *page_q) {
		page = strtol(page_q, &end, 10);
		if (*end != '\0' || page < 1 || page > PAGE_MAX ||
		    page_q[0] == '+' || page_q[0] == ' ')
			return bad_filter(res, "La página no es un número "
			                       "válido.");
	}
	f.status = *status_q ? status_q : NULL;
	f.limit = ADMIN_PAGE_SIZE;
	f.offset = (page - 1) * ADMIN_PAGE_SIZE;
	if (ledger_admin_list(proc->db, &f, &rows, &total) != DB_OK) {
		log_warn(req->request_id, "bookings list: %s",
		         db_error(proc->db));
		db_rows_free(&rows);
		return db_down(res);
	}
	pages = (long)((total + ADMIN_PAGE_SIZE - 1) / ADMIN_PAGE_SIZE);
	buf_init(&b, PAGE_CAP);
	if (page_begin(&b, "Reservas", s.csrf) ||
	    filter_form(&b, status_q, from_q, to_q) ||
	    buf_printf(&b,
	               "<p>%lld reservas; página %ld de %ld. La clase "
	               "más nueva primero.</p>\n",
	               total, page, pages ? pages : 1) ||
	    bookings_table(&b, &rows) ||
	    buf_puts(&b, "<nav aria-label=\"Páginas\"><p>") ||
	    (page > 1 &&
	     page_link(&b, status_q, from_q, to_q, page - 1, "Anterior")) ||
	    (page < pages &&
	     page_link(&b, status_q, from_q, to_q, page + 1, "Siguiente")) ||
	    buf_puts(&b, "</p></nav>\n") || page_end(&b)) {
		db_rows_free(&rows);
		return page_failed(res, &b);
	}
	db_rows_free(&rows);
	return page_send(res, 200, &b);
}

/* ---- GET /admin/bookings/{id} ---- */

static int item(struct buf *b, const char *term, const char *value)
{
	return buf_puts(b, "<dt>") || page_text(b, term) ||
	                       buf_puts(b, "</dt><dd>") ||
	                       page_text(b, value ? value : "—") ||
	                       buf_puts(b, "</dd>\n")
	               ? -1
	               : 0;
}

static int item_time(struct buf *b, const char *term, const char *value)
{
	return buf_puts(b, "<dt>") || page_text(b, term) ||
	                       buf_puts(b, "</dt><dd>") ||
	                       page_time(b, value) || buf_puts(b, "</dd>\n")
	               ? -1
	               : 0;
}

static int history_table(struct buf *b, const struct db_rows *h)
{
	size_t i;

	if (buf_puts(b, "<h2>Historia</h2>\n"))
		return -1;
	if (h->nrows == 0)
		return buf_puts(b, "<p>Sin cambios registrados.</p>\n");
	if (buf_puts(b, "<div class=\"scroll\"><table>\n<thead><tr><th "
	                "scope=\"col\">Cuándo</th><th scope=\"col\">De</th>"
	                "<th scope=\"col\">A</th><th scope=\"col\">Por qué"
	                "</th></tr></thead>\n<tbody>\n"))
		return -1;
	for (i = 0; i < h->nrows; i++)
		if (buf_puts(b, "<tr><td>") || page_time(b, db_cell(h, i, 3)) ||
		    buf_puts(b, "</td><td>") ||
		    page_text(b, db_cell(h, i, 0)
		                         ? status_label(db_cell(h, i, 0))
		                         : "(nueva)") ||
		    buf_puts(b, "</td><td>") ||
		    page_text(b, status_label(db_cell(h, i, 1))) ||
		    buf_puts(b, "</td><td>") ||
		    page_text(b, db_cell(h, i, 2)) ||
		    buf_puts(b, "</td></tr>\n"))
			return -1;
	return buf_puts(b, "</tbody>\n</table></div>\n");
}

static int booking_actions(struct buf *b, const struct db_rows *r,
                           const char *csrf)
{
	const char *id = db_cell(r, 0, 0), *st = db_cell(r, 0, 1);
	int work = strcmp(st, "scheduling") == 0 ||
	           strcmp(db_cell(r, 0, 19), "1") == 0 ||
	           (strcmp(st, "scheduled") == 0 && db_cell(r, 0, 11) == NULL);
	char action[96];

	if (buf_puts(b, "<h2>Acciones</h2>\n<p>"))
		return -1;
	if (work) {
		snprintf(action, sizeof(action), "/admin/bookings/%s/retry",
		         id);
		if (page_form(b, action, csrf, "Reintentar ahora") ||
		    buf_puts(b, " "))
			return -1;
	}
	if (strcmp(st, "cancelled") != 0) {
		snprintf(action, sizeof(action), "/admin/bookings/%s/cancel",
		         id);
		if (buf_puts(b, "<form class=\"inline\" method=\"post\" "
		                "action=\"") ||
		    page_text(b, action) ||
		    buf_puts(b, "\"><input type=\"hidden\" name=\"csrf\" "
		                "value=\"") ||
		    page_text(b, csrf) ||
		    buf_puts(b, "\"><button type=\"submit\" class=\"danger\">"
		                "Cancelar la clase</button></form>"))
			return -1;
	}
	if (!work && strcmp(st, "cancelled") == 0 &&
	    buf_puts(b, "Nada que hacer: la clase está cancelada."))
		return -1;
	return buf_puts(b, "</p>\n");
}

int admin_booking(struct proc *proc, struct request *req, struct response *res)
{
	const char *id = req->param;
	struct session s;
	struct db_rows r, h;
	struct buf b;
	char title[96];
	int status = signed_in(proc, req, res, &s);

	if (status != 0)
		return status;
	if (!ledger_id_valid(id))
		return page_message(res, 404, "No existe esa reserva",
		                    "No hay ninguna reserva con ese número.",
		                    "/admin/bookings", "Ver las reservas");
	memset(&h, 0, sizeof(h));
	if (ledger_admin_booking(proc->db, id, &r) != DB_OK ||
	    ledger_admin_history(proc->db, id, &h) != DB_OK) {
		log_warn(req->request_id, "booking page: %s",
		         db_error(proc->db));
		db_rows_free(&r);
		db_rows_free(&h);
		return db_down(res);
	}
	if (r.nrows != 1) {
		db_rows_free(&r);
		db_rows_free(&h);
		return page_message(res, 404, "No existe esa reserva",
		                    "No hay ninguna reserva con ese número.",
		                    "/admin/bookings", "Ver las reservas");
	}
	snprintf(title, sizeof(title), "Reserva %s", id);
	buf_init(&b, PAGE_CAP);
	if (page_begin(&b, title, s.csrf) ||
	    buf_puts(&b, "<h2>La clase</h2>\n<dl>\n") ||
	    item(&b, "Estado", status_label(db_cell(&r, 0, 1))) ||
	    item_time(&b, "Empieza", db_cell(&r, 0, 2)) ||
	    item_time(&b, "Termina", db_cell(&r, 0, 3)) ||
	    item(&b, "Tipo", db_cell(&r, 0, 5)) ||
	    item(&b, "Participantes", db_cell(&r, 0, 6)) ||
	    item(&b, "Alumno", db_cell(&r, 0, 8)) ||
	    item(&b, "Correo del alumno", db_cell(&r, 0, 7)) ||
	    item(&b, "Notas", db_cell(&r, 0, 9)) ||
	    buf_puts(&b, "</dl>\n<h2>Google</h2>\n<dl>\n") ||
	    item(&b, "Evento de Google", db_cell(&r, 0, 10)) ||
	    buf_puts(&b, "<dt>Enlace de Meet</dt><dd>") ||
	    (db_cell(&r, 0, 11)
	             ? buf_puts(&b, "<a href=\"") ||
	                       page_text(&b, db_cell(&r, 0, 11)) ||
	                       buf_puts(&b, "\" rel=\"noreferrer\">") ||
	                       page_text(&b, db_cell(&r, 0, 11)) ||
	                       buf_puts(&b, "</a>")
	             : buf_puts(&b, "todavía no")) ||
	    buf_puts(&b, "</dd>\n") ||
	    item(&b, "Intentos", db_cell(&r, 0, 14)) ||
	    item_time(&b, "Próximo intento", db_cell(&r, 0, 15)) ||
	    item(&b, "Último error", db_cell(&r, 0, 16)) ||
	    item(&b, "Falta borrar el evento",
	         strcmp(db_cell(&r, 0, 19), "1") == 0 ? "sí" : "no") ||
	    buf_puts(&b, "</dl>\n<h2>Pago</h2>\n<dl>\n") ||
	    item(&b, "Pago de MercadoPago", db_cell(&r, 0, 13)) ||
	    item(&b, "Estado del pago", db_cell(&r, 0, 21)) ||
	    item(&b, "Motivo del pago", db_cell(&r, 0, 22)) ||
	    item_time(&b, "La reserva vence", db_cell(&r, 0, 20)) ||
	    item_time(&b, "Creada", db_cell(&r, 0, 17)) ||
	    item_time(&b, "Actualizada", db_cell(&r, 0, 18)) ||
	    buf_puts(&b, "</dl>\n") || booking_actions(&b, &r, s.csrf) ||
	    history_table(&b, &h) || page_end(&b)) {
		db_rows_free(&r);
		db_rows_free(&h);
		return page_failed(res, &b);
	}
	db_rows_free(&r);
	db_rows_free(&h);
	return page_send(res, 200, &b);
}

/* ---- POST /admin/bookings/{id}/retry and /cancel ---- */

static int back_to(struct response *res, const char *id)
{
	char path[96];

	snprintf(path, sizeof(path), "/admin/bookings/%s", id);
	return see_other(res, path);
}

static int no_booking(struct response *res)
{
	return page_message(res, 404, "No existe esa reserva",
	                    "No hay ninguna reserva con ese número; no se "
	                    "cambió nada.",
	                    "/admin/bookings", "Ver las reservas");
}

int admin_retry(struct proc *proc, struct request *req, struct response *res)
{
	const char *id = req->param;
	struct session s;
	int status = post_allowed(proc, req, res, &s);

	if (status != 0)
		return status;
	if (!ledger_id_valid(id))
		return no_booking(res);
	switch (ledger_note(proc->db, id,
	                    "the admin asked to retry it now (console)")) {
	case 1:
		break;
	case 0:
		return no_booking(res);
	default:
		return db_down(res);
	}
	log_info(req->request_id, "the admin retried booking %s", id);
	switch (recon_one(proc, req->request_id, id)) {
	case RECON_DONE:
	case RECON_PENDING: /* the page shows the error and the next try */
	case RECON_NOTHING:
		break;
	case RECON_DB_DOWN:
		return db_down(res);
	}
	return back_to(res, id);
}

int admin_cancel(struct proc *proc, struct request *req, struct response *res)
{
	const char *id = req->param;
	struct session s;
	int status = post_allowed(proc, req, res, &s);

	if (status != 0)
		return status;
	if (!ledger_id_valid(id))
		return no_booking(res);
	log_info(req->request_id, "the admin cancels booking %s", id);
	switch (booking_cancel(proc, req->request_id, id,
	                       "cancelled by the admin (console)")) {
	case BOOKING_OK:
	case BOOKING_PENDING:
		break;
	case BOOKING_GONE:
		return no_booking(res);
	case BOOKING_DB_DOWN:
		return db_down(res);
	}
	return back_to(res, id);
}

/* ---- GET /admin/payments ---- */

static int valid_payment_status(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= 32 || !((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return i > 0;
}

int admin_payments(struct proc *proc, struct request *req, struct response *res)
{
	const char *status_q = request_query(req, "status");
	struct session s;
	struct db_rows rows;
	struct buf b;
	size_t i;
	int status = signed_in(proc, req, res, &s);

	if (status != 0)
		return status;
	if (status_q != NULL && *status_q && !valid_payment_status(status_q))
		return page_message(
		        res, 400, "Filtro no válido",
		        "El estado no es uno de los de MercadoPago.",
		        "/admin/payments", "Ver todos los pagos");
	if (ledger_admin_payments(proc->db,
	                          status_q && *status_q ? status_q : NULL,
	                          PAYMENTS_MAX, &rows) != DB_OK) {
		log_warn(req->request_id, "payments list: %s",
		         db_error(proc->db));
		db_rows_free(&rows);
		return db_down(res);
	}
	buf_init(&b, PAGE_CAP);
	if (page_begin(&b, "Pagos", s.csrf) ||
	    buf_puts(&b, "<p>Los pagos de MercadoPago como los leímos la "
	                 "última vez; primero los que no se convirtieron en "
	                 "clase, con el motivo.</p>\n"))
		goto fail;
	if (rows.nrows == 0 && buf_puts(&b, "<p>No hay pagos.</p>\n"))
		goto fail;
	if (rows.nrows > 0 &&
	    buf_puts(&b, "<div class=\"scroll\"><table>\n<thead><tr><th "
	                 "scope=\"col\">Pago</th><th scope=\"col\">Estado</th>"
	                 "<th scope=\"col\">Clase</th><th scope=\"col\">Motivo"
	                 "</th><th scope=\"col\">Monto</th><th scope=\"col\">"
	                 "Actualizado</th></tr></thead>\n<tbody>\n"))
		goto fail;
	for (i = 0; i < rows.nrows; i++) {
		const char *bid = db_cell(&rows, i, 3);
		int unbooked = strcmp(db_cell(&rows, i, 9), "1") == 0;

		if (buf_puts(&b, "<tr><td>") ||
		    page_text(&b, db_cell(&rows, i, 0)) ||
		    buf_puts(&b, "</td><td>") ||
		    page_text(&b, db_cell(&rows, i, 1)) ||
		    (db_cell(&rows, i, 2) &&
		     (buf_puts(&b, " (") ||
		      page_text(&b, db_cell(&rows, i, 2)) ||
		      buf_puts(&b, ")"))) ||
		    buf_puts(&b, unbooked ? "</td><td class=\"fail\">No se "
		                            "convirtió en clase"
		                          : "</td><td>") ||
		    (bid &&
		     (buf_puts(&b, unbooked ? ": " : "") ||
		      buf_puts(&b, "<a href=\"/admin/bookings/") ||
		      page_text(&b, bid) || buf_puts(&b, "\">") ||
		      page_text(&b, status_label(db_cell(&rows, i, 4))) ||
		      buf_puts(&b, "</a>"))) ||
		    buf_puts(&b, "</td><td>") ||
		    page_text(&b, db_cell(&rows, i, 5) ? db_cell(&rows, i, 5)
		                                       : "") ||
		    buf_puts(&b, "</td><td>") ||
		    page_text(&b, db_cell(&rows, i, 6) ? db_cell(&rows, i, 6)
		                                       : "—") ||
		    buf_puts(&b, " ") || page_text(&b, db_cell(&rows, i, 7)) ||
		    buf_puts(&b, "</td><td>") ||
		    page_time(&b, db_cell(&rows, i, 8)) ||
		    buf_puts(&b, "</td></tr>\n"))
			goto fail;
	}
	if (rows.nrows > 0 && buf_puts(&b, "</tbody>\n</table></div>\n"))
		goto fail;
	if (page_end(&b))
		goto fail;
	db_rows_free(&rows);
	return page_send(res, 200, &b);
fail:
	db_rows_free(&rows);
	return page_failed(res, &b);
}
