#include "upstream/goauth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "io/http.h"

int goauth_consent_url(const struct config *cfg, const char *scopes,
                       const char *prompt, int offline, const char *state,
                       const char *challenge, struct buf *url)
{
	struct buf query;
	int rc = -1;

	buf_init(&query, 8192);
	if (http_form_add(&query, "response_type", "code") ||
	    http_form_add(&query, "client_id", cfg->auth_google_id) ||
	    http_form_add(&query, "redirect_uri",
	                  cfg->auth_google_redirect_uri) ||
	    http_form_add(&query, "scope", scopes) ||
	    (offline && http_form_add(&query, "access_type", "offline")) ||
	    http_form_add(&query, "prompt", prompt) ||
	    http_form_add(&query, "login_hint", cfg->admin_email) ||
	    http_form_add(&query, "state", state) ||
	    http_form_add(&query, "code_challenge", challenge) ||
	    http_form_add(&query, "code_challenge_method", "S256") ||
	    buf_printf(url, "%s%c%s", cfg->google_oauth_auth_url,
	               strchr(cfg->google_oauth_auth_url, '?') ? '&' : '?',
	               buf_str(&query)))
		goto out;
	rc = 0;
out:
	buf_free(&query);
	return rc;
}

void goauth_grant_free(struct goauth_grant *g)
{
	json_object_put(g->body);
	memset(g, 0, sizeof(*g));
}

enum goauth_result goauth_exchange(struct proc *proc, const char *request_id,
                                   const char *code, const char *verifier,
                                   struct goauth_grant *g)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct http_response hres = {0};
	struct http_request hreq;
	struct json_object *v;
	enum goauth_result result = GOAUTH_NOMEM;
	enum http_result hr;
	struct buf form;

	memset(g, 0, sizeof(*g));
	buf_init(&form, 16384);
	if (http_form_add(&form, "code", code) ||
	    http_form_add(&form, "client_id", proc->cfg.auth_google_id) ||
	    http_form_add(&form, "client_secret",
	                  proc->cfg.auth_google_secret) ||
	    http_form_add(&form, "redirect_uri",
	                  proc->cfg.auth_google_redirect_uri) ||
	    http_form_add(&form, "grant_type", "authorization_code") ||
	    http_form_add(&form, "code_verifier", verifier))
		goto out;
	memset(&hreq, 0, sizeof(hreq));
	hreq.method = HTTP_POST;
	hreq.url = proc->cfg.google_oauth_token_url;
	hreq.body = buf_str(&form);
	hreq.body_len = form.len;
	hreq.content_type = "application/x-www-form-urlencoded";
	/* A code works once: never repeat a POST that may have arrived. */
	hreq.idempotent = 0;
	hr = http_perform(proc->http, &hreq, &hres, err, sizeof(err));
	if (hr != HTTP_OK || hres.status >= 500) {
		log_warn(request_id, "exchanging the OAuth code: %s",
		         hr != HTTP_OK ? err
		                       : "Google's token endpoint failed");
		result = GOAUTH_UNAVAILABLE;
		goto out;
	}
	g->body = jsonio_parse(hres.body, hres.body_len, 8, err, sizeof(err));
	if (hres.status != 200) {
		g->error = jsonio_string(g->body, "error");
		log_warn(request_id,
		         "Google refused the OAuth code: HTTP %ld %s",
		         hres.status, g->error ? g->error : "");
		result = GOAUTH_REFUSED;
		goto out;
	}
	g->access_token = jsonio_string(g->body, "access_token");
	g->refresh_token = jsonio_string(g->body, "refresh_token");
	g->id_token = jsonio_string(g->body, "id_token");
	g->scope = jsonio_string(g->body, "scope");
	v = jsonio_member(g->body, "expires_in", json_type_int);
	g->expires_in = v ? (long)json_object_get_int64(v) : 3600;
	if (g->access_token == NULL || *g->access_token == '\0') {
		log_warn(request_id, "Google's token answer has no "
		                     "access_token");
		result = GOAUTH_BAD_ANSWER;
		goto out;
	}
	result = GOAUTH_OK;
out:
	if (result != GOAUTH_OK && result != GOAUTH_REFUSED)
		goauth_grant_free(g);
	if (hres.body != NULL)
		OPENSSL_cleanse(hres.body, hres.body_len);
	http_response_free(&hres);
	if (form.data != NULL)
		OPENSSL_cleanse(form.data, form.len);
	buf_free(&form);
	return result;
}

int goauth_userinfo(struct proc *proc, const char *request_id,
                    const char *access, struct oidc_claims *c)
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
	hreq.url = proc->cfg.google_oauth_userinfo_url;
	hreq.headers = headers;
	if (http_perform(proc->http, &hreq, &hres, err, sizeof(err)) !=
	            HTTP_OK ||
	    hres.status != 200) {
		log_warn(request_id, "Google's userinfo failed: %s",
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

int goauth_has_scope(const char *scopes, const char *want)
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
