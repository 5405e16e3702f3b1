#include "oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json_object.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "gtoken.h"
#include "http.h"
#include "jsonio.h"
#include "limit.h"
#include "log.h"
#include "oidc.h"
#include "tz.h"

#define AAD_VERIFIER "oauth_states.codeVerifier"
#define START_PATH   "/oauth/google/start"
#define TRY_AGAIN    "Volver a conectar"

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

/* Whether the redirect URI is plain http on this machine (then the cookie
 * cannot be Secure: the browser would not send it back). */
static int plain_localhost(const char *uri)
{
	static const char *const hosts[] = {"http://127.0.0.1",
	                                    "http://localhost", "http://[::1]"};
	size_t i, n;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		n = strlen(hosts[i]);
		/* The whole host: "localhost.example.com" is not local. */
		if (strncmp(uri, hosts[i], n) == 0 &&
		    (uri[n] == ':' || uri[n] == '/' || uri[n] == '\0'))
			return 1;
	}
	return 0;
}

static int set_cookie(struct response *res, const char *redirect_uri,
                      const char *value, int max_age)
{
	char line[256];

	snprintf(line, sizeof(line),
	         OAUTH_COOKIE "=%s; Path=/oauth/google/; Max-Age=%d; HttpOnly; "
	                      "SameSite=Lax%s",
	         value, max_age,
	         plain_localhost(redirect_uri) ? "" : "; Secure");
	return response_header(res, "Set-Cookie", line);
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char sum[32];

	crypto_sha256(s, strlen(s), sum);
	crypto_hex(sum, sizeof(sum), out);
}

/* ---- /oauth/google/start ---- */

int oauth_start(struct app *app, struct request *req, struct response *res)
{
	char state[65], cookie[65], verifier[CRYPTO_PKCE_VERIFIER_LEN + 1];
	char challenge[CRYPTO_PKCE_CHALLENGE_LEN + 1], state_hash[65],
	        cookie_hash[65];
	unsigned char *box = NULL;
	size_t boxlen = 0;
	struct buf url, query;
	int status;

	buf_init(&url, 8192);
	buf_init(&query, 8192);
	if (no_store(res) != 0 ||
	    crypto_random_hex(state, sizeof(state), 32) != 0 ||
	    crypto_random_hex(cookie, sizeof(cookie), 32) != 0 ||
	    crypto_pkce_verifier(verifier, sizeof(verifier)) != 0 ||
	    crypto_pkce_challenge(verifier, challenge, sizeof(challenge)) !=
	            0 ||
	    crypto_seal(app->cfg.token_key, verifier, strlen(verifier),
	                AAD_VERIFIER, strlen(AAD_VERIFIER), &box,
	                &boxlen) != 0) {
		status = response_page(res, 500, "Algo salió mal",
		                       "No pudimos preparar la conexión con "
		                       "Google. Volvé a intentarlo.",
		                       START_PATH, TRY_AGAIN);
		goto out;
	}
	sha256_hex(state, state_hash);
	sha256_hex(cookie, cookie_hash);
	{
		struct db_param p[4] = {
		        db_text(state_hash), db_text(cookie_hash),
		        db_blob(box, boxlen), db_int(OAUTH_STATE_TTL_S)};

		/* Old rows go as new ones come: no cron needed. */
		if (db_exec(app->db,
		            "DELETE FROM oauth_states WHERE expiresAt < "
		            "UTC_TIMESTAMP() - INTERVAL 1 DAY",
		            NULL, 0, NULL) != DB_OK ||
		    db_exec(app->db,
		            "INSERT INTO oauth_states (stateHash, browserHash, "
		            "codeVerifier, expiresAt) VALUES (?, ?, ?, "
		            "UTC_TIMESTAMP() + INTERVAL ? SECOND)",
		            p, 4, NULL) != DB_OK) {
			log_warn(req->request_id, "storing the OAuth state: %s",
			         db_error(app->db));
			status = retry_page(res, 503, "No pudimos empezar",
			                    "La base de datos no responde. "
			                    "Esperá un minuto y volvé a "
			                    "intentarlo.");
			goto out;
		}
	}
	if (http_form_add(&query, "response_type", "code") ||
	    http_form_add(&query, "client_id", app->cfg.auth_google_id) ||
	    http_form_add(&query, "redirect_uri",
	                  app->cfg.auth_google_redirect_uri) ||
	    http_form_add(&query, "scope", OAUTH_SCOPES) ||
	    http_form_add(&query, "access_type", "offline") ||
	    http_form_add(&query, "prompt", "consent") ||
	    http_form_add(&query, "login_hint", app->cfg.admin_email) ||
	    http_form_add(&query, "state", state) ||
	    http_form_add(&query, "code_challenge", challenge) ||
	    http_form_add(&query, "code_challenge_method", "S256") ||
	    buf_printf(&url, "%s%c%s", app->cfg.google_oauth_auth_url,
	               strchr(app->cfg.google_oauth_auth_url, '?') ? '&' : '?',
	               buf_str(&query)) ||
	    response_header(res, "Location", buf_str(&url)) != 0 ||
	    set_cookie(res, app->cfg.auth_google_redirect_uri, cookie,
	               OAUTH_STATE_TTL_S) != 0) {
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
	OPENSSL_cleanse(verifier, sizeof(verifier));
	free(box);
	buf_free(&query);
	buf_free(&url);
	return status;
}

/* ---- /oauth/google/callback ---- */

/* The value of our cookie in the Cookie header, or "" (64 hex only). */
static void read_cookie(const struct request *req, char out[65])
{
	const char *h = request_header(req, "Cookie"), *p;
	size_t n = strlen(OAUTH_COOKIE), i;

	out[0] = '\0';
	for (p = h; p != NULL && *p; p++) {
		if ((p == h || p[-1] == ' ' || p[-1] == ';') &&
		    strncmp(p, OAUTH_COOKIE, n) == 0 && p[n] == '=') {
			p += n + 1;
			for (i = 0; i < 64; i++)
				if (!((p[i] >= '0' && p[i] <= '9') ||
				      (p[i] >= 'a' && p[i] <= 'f')))
					return;
			if (p[64] != '\0' && p[64] != ';' && p[64] != ' ')
				return;
			memcpy(out, p, 64);
			out[64] = '\0';
			return;
		}
	}
}

/* Whether the space-separated scopes include want. */
static int has_scope(const char *scopes, const char *want)
{
	size_t n = strlen(want);
	const char *p = scopes;

	while (p != NULL && (p = strstr(p, want)) != NULL) {
		if ((p == scopes || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* The state row, checked against the cookie and consumed. 0 and the
 * verifier in *verifier (malloc'd), or the status of the page written. */
static int take_state(struct app *app, struct request *req,
                      struct response *res, const char *state, char **verifier)
{
	char state_hash[65], cookie[65], cookie_hash[65];
	struct db_rows rows;
	struct db_param p;
	unsigned long long affected = 0;
	unsigned char *plain = NULL;
	size_t plainlen;
	int status;

	sha256_hex(state, state_hash);
	p = db_text(state_hash);
	if (db_query(app->db,
	             "SELECT browserHash, codeVerifier, "
	             "expiresAt < UTC_TIMESTAMP(), usedAt IS NOT NULL "
	             "FROM oauth_states WHERE stateHash = ?",
	             &p, 1, &rows) != DB_OK) {
		log_warn(req->request_id, "reading the OAuth state: %s",
		         db_error(app->db));
		db_rows_free(&rows);
		return retry_page(res, 503, "No pudimos terminar la conexión",
		                  "La base de datos no responde. Esperá un "
		                  "minuto y volvé a intentarlo.");
	}
	if (rows.nrows != 1) {
		status = retry_page(res, 400, "Este enlace no es válido",
		                    "No reconocemos este enlace de conexión. "
		                    "Empezá de nuevo desde el botón de abajo.");
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 3), "1") == 0) {
		status = retry_page(res, 400, "Este enlace ya se usó",
		                    "Cada enlace de conexión sirve una sola "
		                    "vez. Empezá de nuevo desde el botón de "
		                    "abajo.");
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 2), "1") == 0) {
		status = retry_page(res, 400, "El enlace venció",
		                    "Pasaron más de diez minutos desde que "
		                    "empezó la conexión. Empezá de nuevo.");
		goto out;
	}
	read_cookie(req, cookie);
	if (cookie[0] != '\0')
		sha256_hex(cookie, cookie_hash);
	if (cookie[0] == '\0' ||
	    !crypto_equal(cookie_hash, 64, db_cell(&rows, 0, 0),
	                  db_cell_len(&rows, 0, 0))) {
		status = retry_page(res, 400,
		                    "La conexión empezó en otro navegador",
		                    "Para proteger la cuenta, la conexión "
		                    "tiene que terminar en el mismo navegador "
		                    "donde empezó. Empezá de nuevo desde "
		                    "este navegador.");
		goto out;
	}
	if (crypto_open(app->cfg.token_key,
	                (const unsigned char *)db_cell(&rows, 0, 1),
	                db_cell_len(&rows, 0, 1), AAD_VERIFIER,
	                strlen(AAD_VERIFIER), &plain, &plainlen) != 0) {
		log_warn(req->request_id, "the stored PKCE verifier cannot be "
		                          "opened with TOKEN_ENCRYPTION_KEY");
		status = retry_page(res, 400, "Este enlace no es válido",
		                    "No pudimos leer este enlace de conexión. "
		                    "Empezá de nuevo desde el botón de abajo.");
		goto out;
	}
	/* Single use, also against a concurrent second callback. */
	if (db_exec(app->db,
	            "UPDATE oauth_states SET usedAt = UTC_TIMESTAMP() "
	            "WHERE stateHash = ? AND usedAt IS NULL",
	            &p, 1, &affected) != DB_OK ||
	    affected != 1) {
		status = retry_page(res, 400, "Este enlace ya se usó",
		                    "Cada enlace de conexión sirve una sola "
		                    "vez. Empezá de nuevo desde el botón de "
		                    "abajo.");
		goto out;
	}
	*verifier = (char *)plain;
	plain = NULL;
	status = 0;
out:
	if (plain != NULL)
		crypto_free_secret(plain, plainlen);
	db_rows_free(&rows);
	return status;
}

/* Google's token answer, for an authorization code. */
struct grant {
	struct json_object *body; /* owned */
	const char *access_token, *refresh_token, *id_token, *scope;
	long expires_in;
};

/* POSTs the code to the token endpoint. 0 and *g, or the page's status. */
static int exchange(struct app *app, struct request *req, struct response *res,
                    const char *code, const char *verifier, struct grant *g)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct http_response hres = {0};
	struct http_request hreq;
	struct json_object *v;
	enum http_result hr;
	struct buf form;
	int status;

	memset(g, 0, sizeof(*g));
	buf_init(&form, 16384);
	if (http_form_add(&form, "code", code) ||
	    http_form_add(&form, "client_id", app->cfg.auth_google_id) ||
	    http_form_add(&form, "client_secret",
	                  app->cfg.auth_google_secret) ||
	    http_form_add(&form, "redirect_uri",
	                  app->cfg.auth_google_redirect_uri) ||
	    http_form_add(&form, "grant_type", "authorization_code") ||
	    http_form_add(&form, "code_verifier", verifier)) {
		status = retry_page(res, 500, "Algo salió mal",
		                    "No pudimos preparar el pedido a Google. "
		                    "Volvé a intentarlo.");
		goto out;
	}
	memset(&hreq, 0, sizeof(hreq));
	hreq.method = HTTP_POST;
	hreq.url = app->cfg.google_oauth_token_url;
	hreq.body = buf_str(&form);
	hreq.body_len = form.len;
	hreq.content_type = "application/x-www-form-urlencoded";
	/* A code works once: never repeat a POST that may have arrived. */
	hreq.idempotent = 0;
	hr = app_http_perform(app, &hreq, &hres, err, sizeof(err));
	if (hr != HTTP_OK || hres.status >= 500) {
		log_warn(req->request_id, "exchanging the OAuth code: %s",
		         hr != HTTP_OK ? err
		                       : "Google's token endpoint failed");
		status = retry_page(res, 502, "Google no responde",
		                    "No pudimos hablar con Google para "
		                    "terminar la conexión. Esperá un minuto "
		                    "y volvé a intentarlo.");
		goto out;
	}
	g->body = jsonio_parse(hres.body, hres.body_len, 8, err, sizeof(err));
	if (hres.status != 200) {
		const char *e = jsonio_string(g->body, "error");
		char text[400];

		log_warn(req->request_id,
		         "Google refused the OAuth code: HTTP %ld %s",
		         hres.status, e ? e : "");
		snprintf(text, sizeof(text),
		         "Google rechazó el pedido de conexión (%s). Volvé a "
		         "intentarlo; si se repite, revisá el cliente OAuth en "
		         "Google Cloud Console.",
		         e ? e : "sin detalle");
		status = retry_page(res, 400, "Google rechazó la conexión",
		                    text);
		goto out;
	}
	g->access_token = jsonio_string(g->body, "access_token");
	g->refresh_token = jsonio_string(g->body, "refresh_token");
	g->id_token = jsonio_string(g->body, "id_token");
	g->scope = jsonio_string(g->body, "scope");
	v = jsonio_member(g->body, "expires_in", json_type_int);
	g->expires_in = v ? (long)json_object_get_int64(v) : 3600;
	if (g->access_token == NULL || *g->access_token == '\0') {
		log_warn(req->request_id, "Google's token answer has no "
		                          "access_token");
		status =
		        retry_page(res, 502, "Google respondió algo inesperado",
		                   "La respuesta de Google no trae el "
		                   "permiso esperado. Volvé a intentarlo.");
		goto out;
	}
	status = 0;
out:
	if (status != 0) {
		json_object_put(g->body);
		g->body = NULL;
	}
	if (hres.body != NULL)
		OPENSSL_cleanse(hres.body, hres.body_len);
	http_response_free(&hres);
	if (form.data != NULL)
		OPENSSL_cleanse(form.data, form.len);
	buf_free(&form);
	return status;
}

/* The account from Google's OIDC userinfo endpoint. 0 or -1. */
static int userinfo(struct app *app, struct request *req, const char *access,
                    struct oidc_claims *c)
{
	char header[4200], err[LIMIT_ERROR_MESSAGE];
	const char *headers[2] = {header, NULL};
	struct http_response hres = {0};
	struct http_request hreq;
	struct json_object *body, *v;
	const char *s;
	int rc = -1;

	snprintf(header, sizeof(header), "Authorization: Bearer %s", access);
	memset(&hreq, 0, sizeof(hreq));
	hreq.method = HTTP_GET;
	hreq.url = app->cfg.google_oauth_userinfo_url;
	hreq.headers = headers;
	if (app_http_perform(app, &hreq, &hres, err, sizeof(err)) != HTTP_OK ||
	    hres.status != 200) {
		log_warn(req->request_id, "Google's userinfo failed: %s",
		         hres.status ? "HTTP error" : err);
		goto out;
	}
	body = jsonio_parse(hres.body, hres.body_len, 8, err, sizeof(err));
	s = jsonio_string(body, "email");
	if (s != NULL && strlen(s) < sizeof(c->email))
		memcpy(c->email, s, strlen(s) + 1);
	s = jsonio_string(body, "sub");
	if (s != NULL && c->sub[0] == '\0' && strlen(s) < sizeof(c->sub))
		memcpy(c->sub, s, strlen(s) + 1);
	v = jsonio_member(body, "email_verified", json_type_boolean);
	c->email_verified = v ? json_object_get_boolean(v) : 0;
	json_object_put(body);
	rc = c->email[0] != '\0' && c->sub[0] != '\0' ? 0 : -1;
out:
	OPENSSL_cleanse(header, sizeof(header));
	http_response_free(&hres);
	return rc;
}

int oauth_callback(struct app *app, struct request *req, struct response *res)
{
	const char *code = request_query(req, "code");
	const char *state = request_query(req, "state");
	const char *error = request_query(req, "error");
	struct grant g = {0};
	struct oidc_claims claims;
	char *verifier = NULL, text[600];
	int status;

	if (no_store(res) != 0 ||
	    set_cookie(res, app->cfg.auth_google_redirect_uri, "", 0) != 0)
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	if (error != NULL) {
		if (strcmp(error, "access_denied") == 0)
			return retry_page(res, 400, "No se dio permiso",
			                  "Google no nos dio acceso al "
			                  "calendario porque el permiso no fue "
			                  "concedido. Para que las reservas "
			                  "lleguen al calendario, volvé a "
			                  "intentarlo y aceptá los permisos.");
		snprintf(text, sizeof(text),
		         "Google no pudo completar la conexión y respondió con "
		         "el error «%.100s». Volvé a intentarlo; si se repite, "
		         "revisá el cliente OAuth en Google Cloud Console.",
		         error);
		return retry_page(res, 400, "Google no completó la conexión",
		                  text);
	}
	if (code == NULL || *code == '\0' || state == NULL || *state == '\0')
		return retry_page(res, 400, "Enlace incompleto",
		                  "A este enlace le falta la respuesta de "
		                  "Google. Empezá de nuevo desde el botón de "
		                  "abajo.");
	status = take_state(app, req, res, state, &verifier);
	if (status != 0)
		return status;
	status = exchange(app, req, res, code, verifier, &g);
	if (status != 0)
		goto out;

	memset(&claims, 0, sizeof(claims));
	if (g.id_token != NULL) {
		enum oidc_result r = oidc_id_token_claims(
		        g.id_token, app->cfg.auth_google_id, tz_now(), &claims);

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
	    userinfo(app, req, g.access_token, &claims) != 0) {
		status = retry_page(res, 502, "No pudimos leer la cuenta",
		                    "Google no nos dijo con qué cuenta "
		                    "iniciaste sesión. Volvé a intentarlo.");
		goto out;
	}
	if (!claims.email_verified || app->cfg.admin_email == NULL ||
	    strcasecmp(claims.email, app->cfg.admin_email) != 0) {
		log_warn(req->request_id,
		         "an account other than ADMIN_EMAIL tried to connect "
		         "the calendar");
		snprintf(text, sizeof(text),
		         "Iniciaste sesión como %.254s%s. Solo la cuenta del "
		         "administrador de la escuela puede conectar el "
		         "calendario: volvé a intentarlo eligiendo esa cuenta.",
		         claims.email,
		         claims.email_verified
		                 ? ""
		                 : " (una dirección sin verificar)");
		status = retry_page(res, 403,
		                    "Esta cuenta no puede conectar "
		                    "el calendario",
		                    text);
		goto out;
	}
	if (g.scope == NULL || !has_scope(g.scope, OAUTH_CALENDAR_SCOPE)) {
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
	if (gtoken_connect(app, req->request_id, claims.email, claims.sub,
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
	json_object_put(g.body);
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

int oauth_status(struct app *app, struct request *req, struct response *res)
{
	struct json_object *root = NULL, *scopes = NULL;
	struct db_rows rows;
	int status;

	if (no_store(res) != 0)
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	if (db_query(app->db,
	             "SELECT email, googleConnectedAt, googleScopes, "
	             "googleLastRefreshAt, googleLastRefreshError, "
	             "googleTokenStatus = 'ok' FROM users WHERE role = 'admin' "
	             "AND googleRefreshToken IS NOT NULL "
	             "ORDER BY googleConnectedAt DESC, id DESC LIMIT 1",
	             NULL, 0, &rows) != DB_OK) {
		log_warn(req->request_id, "status: %s", db_error(app->db));
		db_rows_free(&rows);
		return response_error(res, 503, "database_unavailable",
		                      "The database is not answering; try "
		                      "again in a minute.");
	}
	root = json_object_new_object();
	if (root == NULL)
		goto fail;
	if (rows.nrows == 0) {
		if (jsonio_add_bool(root, "connected", 0) ||
		    jsonio_add_string(root, "email", NULL) ||
		    jsonio_add_string(root, "connectedAt", NULL) ||
		    jsonio_add(root, "scopes", NULL) ||
		    jsonio_add_string(root, "lastRefreshAt", NULL) ||
		    jsonio_add_string(root, "lastRefreshError", NULL))
			goto fail;
	} else {
		const char *sc = db_cell(&rows, 0, 2);

		if (sc != NULL) {
			char *copy = strdup(sc), *tok, *save = NULL;

			scopes = json_object_new_array();
			if (copy == NULL || scopes == NULL) {
				free(copy);
				goto fail;
			}
			for (tok = strtok_r(copy, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				struct json_object *s =
				        json_object_new_string(tok);

				if (s == NULL ||
				    json_object_array_add(scopes, s) != 0) {
					json_object_put(s);
					free(copy);
					goto fail;
				}
			}
			free(copy);
		}
		if (jsonio_add_bool(root, "connected",
		                    strcmp(db_cell(&rows, 0, 5), "1") == 0) ||
		    jsonio_add_string(root, "email", db_cell(&rows, 0, 0)) ||
		    add_db_time(root, "connectedAt", db_cell(&rows, 0, 1))) {
			goto fail;
		}
		if (jsonio_add(root, "scopes", scopes) != 0) {
			scopes = NULL;
			goto fail;
		}
		scopes = NULL;
		if (add_db_time(root, "lastRefreshAt", db_cell(&rows, 0, 3)) ||
		    jsonio_add_string(root, "lastRefreshError",
		                      db_cell(&rows, 0, 4)))
			goto fail;
	}
	status = response_json(res, 200, root);
	json_object_put(root);
	db_rows_free(&rows);
	return status;
fail:
	json_object_put(scopes);
	json_object_put(root);
	db_rows_free(&rows);
	return response_error(res, 500, "internal_error",
	                      "The reply could not be built.");
}
