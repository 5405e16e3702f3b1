#include "web/oauth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json_object.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "io/db.h"
#include "upstream/gtoken.h"
#include "school/connect.h"
#include "upstream/goauth.h"
#include "web/admin.h"
#include "web/cookie.h"
#include "web/reply.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "upstream/oidc.h"
#include "core/tz.h"
#include "core/utf8.h"

#define START_PATH "/oauth/google/start"
#define TRY_AGAIN  "Volver a conectar"

static int no_store(struct response *res)
{
	return response_header(res, "Cache-Control", "no-store");
}

/* A page that offers to start again. */
static int retry_page(struct response *res, int status, const char *title,
                      const char *text)
{
	return response_page(res, status, title, text, START_PATH, TRY_AGAIN);
}

/* Whether the site is served over HTTPS: its redirect URI says so. */
static int https_site(const char *uri)
{
	return strncasecmp(uri, "https://", 8) == 0;
}

/* The state cookie's name: see oauth.h. */
static const char *cookie_name(const char *redirect_uri)
{
	return https_site(redirect_uri) ? OAUTH_HOST_COOKIE : OAUTH_COOKIE;
}

static int set_cookie(struct response *res, const char *redirect_uri,
                      const char *value, int max_age)
{
	/* Over HTTPS the __Host- form: Secure, Path=/, no Domain. */
	return https_site(redirect_uri)
	               ? cookie_set(res, redirect_uri, OAUTH_HOST_COOKIE, "/",
	                            value, max_age)
	               : cookie_set(res, redirect_uri, OAUTH_COOKIE,
	                            "/oauth/google/", value, max_age);
}

/* The page of a request that could not even be answered properly. */
static int failed_page(struct response *res)
{
	return retry_page(res, 500, "Algo salió mal",
	                  "No pudimos preparar la respuesta. Volvé a "
	                  "intentarlo.");
}

/* ---- /oauth/google/start ---- */

int oauth_start(struct proc *proc, struct request *req, struct response *res)
{
	struct connect_start start;
	enum connect_state stored;
	struct buf url;
	int status;

	buf_init(&url, 8192);
	stored = connect_begin(proc, req->request_id, CONNECT_FLOW_CONNECT,
	                       &start);
	if (stored == CONNECT_STATE_DB_DOWN) {
		status = retry_page(res, 503, "No pudimos empezar",
		                    "La base de datos no responde. "
		                    "Esperá un minuto y volvé a "
		                    "intentarlo.");
		goto out;
	}
	if (stored == CONNECT_STATE_BUSY) {
		status = response_retry_after(res, LIMIT_OAUTH_RETRY_S) != 0
		                 ? failed_page(res)
		                 : retry_page(res, 503,
		                              "Hay demasiadas conexiones en "
		                              "curso",
		                              "Se empezaron muchas conexiones "
		                              "con Google en los últimos "
		                              "minutos. Esperá un minuto y "
		                              "volvé a intentarlo.");
		goto out;
	}
	if (stored != CONNECT_STATE_OK ||
	    goauth_consent_url(&proc->cfg, OAUTH_SCOPES, "consent", 1,
	                       start.state, start.challenge, &url) != 0 ||
	    response_header(res, "Location", buf_str(&url)) != 0 ||
	    set_cookie(res, proc->cfg.auth_google_redirect_uri, start.cookie,
	               CONNECT_STATE_TTL_S) != 0) {
		status = response_page(res, 500, "Algo salió mal",
		                       "No pudimos preparar la conexión con "
		                       "Google. Volvé a intentarlo.",
		                       START_PATH, TRY_AGAIN);
		goto out;
	}
	status = response_page(res, 302, "Conectando con Google",
	                       "Te estamos llevando a Google para que "
	                       "autorices el calendario de la escuela.",
	                       buf_str(&url), "Continuar en Google");
out:
	OPENSSL_cleanse(&start, sizeof(start));
	buf_free(&url);
	return status;
}

/* ---- /oauth/google/callback ---- */

/* The state checked against the browser's cookie and consumed. 0 and the
 * verifier in *verifier (malloc'd), or the status of the page written. */
static int take_state(struct proc *proc, struct request *req,
                      struct response *res, const char *state, char **verifier)
{
	char cookie[65];

	cookie_read_hex64(req, cookie_name(proc->cfg.auth_google_redirect_uri),
	                  cookie);
	switch (connect_state_take(proc, req->request_id, state, cookie,
	                           verifier)) {
	case CONNECT_STATE_OK:
		return 0;
	case CONNECT_STATE_DB_DOWN:
		return retry_page(res, 503, "No pudimos terminar la conexión",
		                  "La base de datos no responde. Esperá un "
		                  "minuto y volvé a intentarlo.");
	case CONNECT_STATE_USED:
		return retry_page(res, 400, "Este enlace ya se usó",
		                  "Cada enlace de conexión sirve una sola "
		                  "vez. Empezá de nuevo desde el botón de "
		                  "abajo.");
	case CONNECT_STATE_EXPIRED:
		return retry_page(res, 400, "El enlace venció",
		                  "Pasaron más de diez minutos desde que "
		                  "empezó la conexión. Empezá de nuevo.");
	case CONNECT_STATE_OTHER_BROWSER:
		return retry_page(res, 400,
		                  "La conexión empezó en otro navegador",
		                  "Para proteger la cuenta, la conexión "
		                  "tiene que terminar en el mismo navegador "
		                  "donde empezó. Empezá de nuevo desde "
		                  "este navegador.");
	case CONNECT_STATE_UNREADABLE:
		return retry_page(res, 400, "Este enlace no es válido",
		                  "No pudimos leer este enlace de conexión. "
		                  "Empezá de nuevo desde el botón de abajo.");
	case CONNECT_STATE_UNKNOWN:
	case CONNECT_STATE_NOMEM:
	case CONNECT_STATE_BUSY:
		break;
	}
	return retry_page(res, 400, "Este enlace no es válido",
	                  "No reconocemos este enlace de conexión. "
	                  "Empezá de nuevo desde el botón de abajo.");
}

/* The page for a code Google's token endpoint did not exchange. */
static int exchange_page(struct response *res, enum goauth_result r,
                         const char *error)
{
	char text[400], shown[101];

	switch (r) {
	case GOAUTH_NOMEM:
		return retry_page(res, 500, "Algo salió mal",
		                  "No pudimos preparar el pedido a Google. "
		                  "Volvé a intentarlo.");
	case GOAUTH_REFUSED:
		snprintf(text, sizeof(text),
		         "Google rechazó el pedido de conexión (%s). Volvé a "
		         "intentarlo; si se repite, revisá el cliente OAuth en "
		         "Google Cloud Console.",
		         error ? utf8_copy(shown, sizeof(shown), error)
		               : "sin detalle");
		return retry_page(res, 400, "Google rechazó la conexión", text);
	case GOAUTH_BAD_ANSWER:
		return retry_page(res, 502, "Google respondió algo inesperado",
		                  "La respuesta de Google no trae el "
		                  "permiso esperado. Volvé a intentarlo.");
	case GOAUTH_UNAVAILABLE:
	case GOAUTH_OK:
		break;
	}
	return retry_page(res, 502, "Google no responde",
	                  "No pudimos hablar con Google para "
	                  "terminar la conexión. Esperá un minuto "
	                  "y volvé a intentarlo.");
}

/*
 * Google sent the browser back with error=. That ends the round trip: when
 * the state is this browser's (the cookie matches), it is spent and the
 * cookie cleared; a request that is not (another browser, a made-up state)
 * leaves both alone. The error is named on the page as text: cut on a
 * character, and what is not UTF-8 dropped.
 */
static int google_error_page(struct proc *proc, struct request *req,
                             struct response *res, const char *error,
                             const char *state)
{
	char text[600], shown[101], cookie[65], *verifier = NULL;

	if (state != NULL && *state != '\0') {
		cookie_read_hex64(
		        req, cookie_name(proc->cfg.auth_google_redirect_uri),
		        cookie);
		if (connect_state_take(proc, req->request_id, state, cookie,
		                       &verifier) == CONNECT_STATE_OK) {
			crypto_free_secret(verifier, strlen(verifier));
			if (set_cookie(res, proc->cfg.auth_google_redirect_uri,
			               "", 0) != 0)
				return failed_page(res);
		}
	}
	if (strcmp(error, "access_denied") == 0)
		return retry_page(
		        res, 400, "No se dio permiso",
		        "Google no nos dio acceso al calendario "
		        "porque el permiso no fue concedido. Para que "
		        "las reservas lleguen al calendario, volvé a "
		        "intentarlo y aceptá los permisos.");
	snprintf(text, sizeof(text),
	         "Google no pudo completar la conexión y respondió con el "
	         "error «%s». Volvé a intentarlo; si se repite, revisá el "
	         "cliente OAuth en Google Cloud Console.",
	         utf8_copy(shown, sizeof(shown), error));
	return retry_page(res, 400, "Google no completó la conexión", text);
}

int oauth_callback(struct proc *proc, struct request *req, struct response *res)
{
	const char *code = request_query(req, "code");
	const char *state = request_query(req, "state");
	const char *error = request_query(req, "error");
	struct goauth_grant g = {0};
	enum goauth_result gr;
	struct oidc_claims claims;
	char *verifier = NULL, text[600], email[sizeof(claims.email)];
	int status;

	/* A sign-in to the admin console is the console's (web/admin.c). */
	if (state != NULL &&
	    connect_state_flow(proc, state) == CONNECT_FLOW_SIGNIN)
		return admin_signin_callback(proc, req, res);
	/* Only a callback that spends the state clears the cookie: one that
	 * fails its checks (anyone can send a browser here) must not end a
	 * connection in progress. */
	if (error != NULL)
		return google_error_page(proc, req, res, error, state);
	if (code == NULL || *code == '\0' || state == NULL || *state == '\0')
		return retry_page(res, 400, "Enlace incompleto",
		                  "A este enlace le falta la respuesta de "
		                  "Google. Empezá de nuevo desde el botón de "
		                  "abajo.");
	status = take_state(proc, req, res, state, &verifier);
	if (status != 0)
		return status;
	/* The state is spent: this round trip is over, whatever comes. */
	if (set_cookie(res, proc->cfg.auth_google_redirect_uri, "", 0) != 0) {
		status = failed_page(res);
		goto out;
	}
	gr = goauth_exchange(proc, req->request_id, code, verifier, &g);
	if (gr != GOAUTH_OK) {
		status = exchange_page(res, gr, g.error);
		goto out;
	}

	memset(&claims, 0, sizeof(claims));
	if (g.id_token != NULL) {
		enum oidc_result r = oidc_id_token_claims(
		        g.id_token, proc->cfg.auth_google_id, tz_now(),
		        &claims);

		if (r != OIDC_OK) {
			log_warn(req->request_id, "rejected ID token: %s",
			         oidc_result_str(r));
			status = retry_page(
			        res, 400, "No pudimos verificar la cuenta",
			        "La identidad que envió Google no es "
			        "válida para esta aplicación. Volvé "
			        "a intentarlo.");
			goto out;
		}
	}
	if (claims.email[0] == '\0' &&
	    goauth_userinfo(proc, req->request_id, g.access_token, &claims) !=
	            0) {
		status = retry_page(res, 502, "No pudimos leer la cuenta",
		                    "Google no nos dijo con qué cuenta "
		                    "iniciaste sesión. Volvé a intentarlo.");
		goto out;
	}
	if (!connect_is_admin(&proc->cfg, &claims)) {
		log_warn(req->request_id,
		         "an account other than ADMIN_EMAIL tried to connect "
		         "the calendar");
		snprintf(text, sizeof(text),
		         "Iniciaste sesión como %s%s. Solo la cuenta del "
		         "administrador de la escuela puede conectar el "
		         "calendario: volvé a intentarlo eligiendo esa cuenta.",
		         utf8_copy(email, sizeof(email), claims.email),
		         claims.email_verified
		                 ? ""
		                 : " (una dirección sin verificar)");
		status = retry_page(res, 403,
		                    "Esta cuenta no puede conectar "
		                    "el calendario",
		                    text);
		goto out;
	}
	if (g.scope == NULL ||
	    !goauth_has_scope(g.scope, OAUTH_CALENDAR_SCOPE)) {
		status = retry_page(res, 400, "Falta el permiso del calendario",
		                    "Google no concedió el permiso para ver y "
		                    "editar los eventos del calendario. "
		                    "Volvé a intentarlo y marcá la casilla "
		                    "del calendario.");
		goto out;
	}
	if (g.refresh_token == NULL || *g.refresh_token == '\0') {
		status = response_page(
		        res, 400, "Google no entregó un permiso permanente",
		        "Google recuerda un permiso anterior de esta "
		        "aplicación "
		        "y esta vez no entregó el permiso sin conexión que "
		        "necesitamos. Quitá el acceso de la aplicación en "
		        "https://myaccount.google.com/permissions (Seguridad, "
		        "aplicaciones de terceros con acceso a tu cuenta) y "
		        "después volvé a conectar.",
		        START_PATH, TRY_AGAIN);
		goto out;
	}
	if (gtoken_connect(proc, req->request_id, claims.email, claims.sub,
	                   g.refresh_token, g.access_token, g.expires_in,
	                   g.scope) != 0) {
		status = retry_page(res, 503, "No pudimos guardar la conexión",
		                    "La base de datos no responde. Esperá un "
		                    "minuto y volvé a intentarlo.");
		goto out;
	}
	log_info(req->request_id, "Google Calendar connected");
	status =
	        response_page(res, 200, "¡Listo! El calendario quedó conectado",
	                      "Las clases que se reserven se van a agendar "
	                      "en el calendario de la escuela, cada una con "
	                      "su enlace de Google Meet. Ya podés cerrar esta "
	                      "ventana.",
	                      NULL, NULL);
out:
	goauth_grant_free(&g);
	if (verifier != NULL)
		crypto_free_secret(verifier, strlen(verifier));
	return status;
}

/* ---- /oauth/google/status ---- */

static int add_db_time(struct json_object *o, const char *key, const char *cell)
{
	char s[TZ_ISO_MAX];

	return jsonio_add_string(
	        o, key, tz_db_to_iso(cell, s, sizeof(s)) == 0 ? s : NULL);
}

int oauth_status(struct proc *proc, struct request *req, struct response *res)
{
	struct json_object *root = NULL, *scopes = NULL;
	struct gtoken_status st;
	int status;

	if (no_store(res) != 0)
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	if (gtoken_status(proc->db, &st) != 0) {
		log_warn(req->request_id, "status: %s", db_error(proc->db));
		return reply_db_unavailable(res);
	}
	root = json_object_new_object();
	if (root == NULL)
		goto fail;
	if (!st.stored) {
		if (jsonio_add_bool(root, "connected", 0) ||
		    jsonio_add_string(root, "email", NULL) ||
		    jsonio_add_string(root, "connectedAt", NULL) ||
		    jsonio_add(root, "scopes", NULL) ||
		    jsonio_add_string(root, "lastRefreshAt", NULL) ||
		    jsonio_add_string(root, "lastRefreshError", NULL))
			goto fail;
	} else {
		if (st.has_scopes) {
			char *tok, *save = NULL;

			scopes = json_object_new_array();
			if (scopes == NULL)
				goto fail;
			for (tok = strtok_r(st.scopes, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				struct json_object *s =
				        json_object_new_string(tok);

				if (s == NULL ||
				    json_object_array_add(scopes, s) != 0) {
					json_object_put(s);
					goto fail;
				}
			}
		}
		if (jsonio_add_bool(root, "connected", st.connected) ||
		    jsonio_add_string(root, "email", st.email) ||
		    add_db_time(root, "connectedAt",
		                st.connected_at[0] ? st.connected_at : NULL)) {
			goto fail;
		}
		if (jsonio_add(root, "scopes", scopes) != 0) {
			scopes = NULL;
			goto fail;
		}
		scopes = NULL;
		if (add_db_time(root, "lastRefreshAt",
		                st.refreshed_at[0] ? st.refreshed_at : NULL) ||
		    jsonio_add_string(root, "lastRefreshError",
		                      st.has_refresh_error ? st.refresh_error
		                                           : NULL))
			goto fail;
	}
	status = response_json(res, 200, root);
	json_object_put(root);
	return status;
fail:
	json_object_put(scopes);
	json_object_put(root);
	return response_error(res, 500, "internal_error",
	                      "The reply could not be built.");
}
