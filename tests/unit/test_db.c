/*
 * test_db - the database handle without a MySQL server: DATABASE_URL
 * parsing (seen from the client's side by a fake server that records the
 * login it receives and refuses it), failing fast when the server is not
 * there, the result helpers and the parameter constructors.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <netinet/in.h>
#include <openssl/evp.h>

#include "check.h"
#include "io/db.h"
#include "core/limit.h"

/*
 * A fake MySQL server for one connection: it sends a protocol 10 greeting
 * (mysql_native_password), records the client's login packet, and answers
 * with "access denied". Enough to see which user, password and database the
 * client used, and where it connected.
 */
struct fake_mysql {
	int listener;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int port;
	pthread_t thread;
	unsigned char scramble[20];
	int logged_in; /* a login packet arrived */
	char user[128];
	unsigned char auth[64];
	size_t authlen;
	char database[128];
};

static void put_le(unsigned char *p, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, unsigned char *p, size_t n)
{
	struct pollfd pfd = {fd, POLLIN, 0};

	while (n > 0) {
		ssize_t r;

		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Copies a NUL-terminated field at p[*off] (within len) into out. */
static int take_string(const unsigned char *p, size_t len, size_t *off,
                       char *out, size_t outsize)
{
	const unsigned char *nul = memchr(p + *off, '\0', len - *off);
	size_t n;

	if (*off >= len || nul == NULL)
		return -1;
	n = (size_t)(nul - (p + *off));
	if (n >= outsize)
		return -1;
	memcpy(out, p + *off, n + 1);
	*off += n + 1;
	return 0;
}

static void fake_session(struct fake_mysql *f, int c)
{
	/* Capabilities: LONG_PASSWORD, CONNECT_WITH_DB, PROTOCOL_41,
	 * TRANSACTIONS, SECURE_CONNECTION, PLUGIN_AUTH. */
	const unsigned long caps =
	        0x1 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000;
	static const char denied[] = "Access denied by the fake server";
	unsigned char pkt[512], *p = pkt + 4;
	unsigned long client_caps;
	size_t n = 0, len, off;

	p[n++] = 10;
	memcpy(p + n, "8.0.0-fake", 11);
	n += 11;
	put_le(p + n, 7, 4);
	n += 4;
	memcpy(p + n, f->scramble, 8);
	n += 8;
	p[n++] = 0;
	put_le(p + n, caps & 0xffff, 2);
	n += 2;
	p[n++] = 45; /* utf8mb4_general_ci */
	put_le(p + n, 2, 2);
	n += 2;
	put_le(p + n, caps >> 16, 2);
	n += 2;
	p[n++] = 21;
	memset(p + n, 0, 10);
	n += 10;
	memcpy(p + n, f->scramble + 8, 12);
	n += 12;
	p[n++] = 0;
	memcpy(p + n, "mysql_native_password", 22);
	n += 22;
	put_le(pkt, n, 3);
	pkt[3] = 0;
	if (write_all(c, pkt, n + 4) != 0)
		return;

	/* The client's HandshakeResponse41. */
	if (read_all(c, pkt, 4) != 0)
		return;
	len = pkt[0] | (size_t)pkt[1] << 8 | (size_t)pkt[2] << 16;
	if (len < 33 || len > sizeof(pkt) || read_all(c, pkt, len) != 0)
		return;
	client_caps = pkt[0] | (unsigned long)pkt[1] << 8 |
	              (unsigned long)pkt[2] << 16 | (unsigned long)pkt[3] << 24;
	off = 32;
	if (take_string(pkt, len, &off, f->user, sizeof(f->user)) != 0 ||
	    off >= len)
		return;
	f->authlen = pkt[off++]; /* 1-byte length: no LENENC_CLIENT_DATA */
	if (f->authlen > sizeof(f->auth) || off + f->authlen > len)
		return;
	memcpy(f->auth, pkt + off, f->authlen);
	off += f->authlen;
	if ((client_caps & 0x8) &&
	    take_string(pkt, len, &off, f->database, sizeof(f->database)) != 0)
		return;
	f->logged_in = 1;

	/* ERR 1045 (28000). */
	p = pkt + 4;
	n = 0;
	p[n++] = 0xff;
	put_le(p + n, 1045, 2);
	n += 2;
	memcpy(p + n, "#28000", 6);
	n += 6;
	memcpy(p + n, denied, sizeof(denied) - 1);
	n += sizeof(denied) - 1;
	put_le(pkt, n, 3);
	pkt[3] = 2;
	(void)write_all(c, pkt, n + 4);
}

static void *fake_serve(void *arg)
{
	struct fake_mysql *f = arg;
	struct pollfd pfd = {f->listener, POLLIN, 0};
	int c;

	if (poll(&pfd, 1, 5000) != 1)
		return NULL;
	c = accept(f->listener, NULL, NULL);
	if (c < 0)
		return NULL;
	fake_session(f, c);
	close(c);
	return NULL;
}

/* Starts the fake server on the unix socket path, or on 127.0.0.1 (port
 * chosen by the system) when path is NULL. */
static int fake_start(struct fake_mysql *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 20; i++)
		f->scramble[i] = (unsigned char)(0x21 + i * 3);
	if (path != NULL) {
		struct sockaddr_un sa;

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		snprintf(f->path, sizeof(f->path), "%s", path);
		f->listener = socket(AF_UNIX, SOCK_STREAM, 0);
		if (f->listener < 0 ||
		    bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			return -1;
	} else {
		struct sockaddr_in sa;
		socklen_t salen = sizeof(sa);

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		f->listener = socket(AF_INET, SOCK_STREAM, 0);
		if (f->listener < 0 ||
		    bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)) !=
		            0 ||
		    getsockname(f->listener, (struct sockaddr *)&sa, &salen) !=
		            0)
			return -1;
		f->port = ntohs(sa.sin_port);
	}
	if (listen(f->listener, 4) != 0 ||
	    pthread_create(&f->thread, NULL, fake_serve, f) != 0)
		return -1;
	return 0;
}

static void fake_stop(struct fake_mysql *f)
{
	pthread_join(f->thread, NULL);
	close(f->listener);
	if (f->path[0] != '\0')
		unlink(f->path);
}

static void sha1(const void *a, size_t alen, const void *b, size_t blen,
                 unsigned char out[20])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1)
		memset(out, 0, 20);
	EVP_MD_CTX_free(ctx);
}

/* 1 when the login carried password (mysql_native_password: SHA1(pw) xor
 * SHA1(scramble + SHA1(SHA1(pw))); nothing at all for an empty one). */
static int login_used_password(const struct fake_mysql *f, const char *password)
{
	unsigned char h1[20], h2[20], h3[20];

	if (*password == '\0')
		return f->authlen == 0;
	sha1(password, strlen(password), NULL, 0, h1);
	sha1(h1, 20, NULL, 0, h2);
	sha1(f->scramble, 20, h2, 20, h3);
	for (int i = 0; i < 20; i++)
		h1[i] ^= h3[i];
	return f->authlen == 20 && memcmp(f->auth, h1, 20) == 0;
}

static char tmpdir[64];
static char err[LIMIT_ERROR_MESSAGE];

/* url_tmpl with "{}" replaced by value. */
static void fill(char *out, size_t outsize, const char *url_tmpl,
                 const char *value)
{
	const char *at = strstr(url_tmpl, "{}");

	if (at == NULL)
		snprintf(out, outsize, "%s", url_tmpl);
	else
		snprintf(out, outsize, "%.*s%s%s", (int)(at - url_tmpl),
		         url_tmpl, value, at + 2);
}

/* Connects with url_tmpl to a fake server: on the socket sock ("{}" in the
 * URL being sock), or on TCP when sock is NULL ("{}" being the port).
 * 0 when the server received a login and the client saw the refusal. */
static int login_through(struct fake_mysql *f, const char *url_tmpl,
                         const char *sock)
{
	char url[512], port[16];
	struct db *db;
	enum db_result r;
	int ok;

	if (fake_start(f, sock) != 0)
		return -1;
	snprintf(port, sizeof(port), "%d", f->port);
	fill(url, sizeof(url), url_tmpl, sock ? sock : port);
	db = db_new(url, err, sizeof(err));
	if (db == NULL) {
		/* Let the server give up waiting. */
		int s = socket(sock ? AF_UNIX : AF_INET, SOCK_STREAM, 0);

		if (sock != NULL) {
			struct sockaddr_un sa = {.sun_family = AF_UNIX};

			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
			(void)connect(s, (struct sockaddr *)&sa, sizeof(sa));
		} else {
			struct sockaddr_in sa = {.sin_family = AF_INET};

			sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sa.sin_port = htons((unsigned short)f->port);
			(void)connect(s, (struct sockaddr *)&sa, sizeof(sa));
		}
		close(s);
		fake_stop(f);
		return -1;
	}
	r = db_connect(db);
	ok = r == DB_UNAVAILABLE &&
	     strstr(db_error(db), "Access denied by the fake server") != NULL;
	db_free(db);
	fake_stop(f);
	return ok && f->logged_in ? 0 : -1;
}

TEST(socket_url_with_encoded_credentials)
{
	struct fake_mysql f;
	char sock[128];

	snprintf(sock, sizeof(sock), "%s/mysqld.sock", tmpdir);
	CHECK_INT(login_through(&f,
	                        "mysql://app%2Dx:p%40ss%3Aw@ignored.example"
	                        "/booking%5Fdb?socket={}",
	                        sock),
	          0);
	CHECK_STR(f.user, "app-x");
	CHECK(login_used_password(&f, "p@ss:w"));
	CHECK(!login_used_password(&f, "p%40ss%3Aw"));
	CHECK_STR(f.database, "booking_db");
}

TEST(tcp_url_with_port)
{
	struct fake_mysql f;

	CHECK_INT(login_through(&f, "mysql://booking:pw@127.0.0.1:{}/booking",
	                        NULL),
	          0);
	CHECK_STR(f.user, "booking");
	CHECK(login_used_password(&f, "pw"));
	CHECK_STR(f.database, "booking");
}

TEST(password_may_hold_reserved_characters)
{
	struct fake_mysql f;
	char sock[128];

	snprintf(sock, sizeof(sock), "%s/s2", tmpdir);
	/* An '@' and a '/' encoded, a ':' raw (only the first separates). */
	CHECK_INT(login_through(&f, "mysql://u:a%40b%2Fc:d%25@/db?socket={}",
	                        sock),
	          0);
	CHECK_STR(f.user, "u");
	CHECK(login_used_password(&f, "a@b/c:d%"));
	/* A raw '@': the last one before the path ends the credentials. */
	CHECK_INT(login_through(&f, "mysql://u:a@b@/db?socket={}", sock), 0);
	CHECK(login_used_password(&f, "a@b"));
	/* No password at all, or an empty one. */
	CHECK_INT(login_through(&f, "mysql://u@/db?socket={}", sock), 0);
	CHECK_STR(f.user, "u");
	CHECK(login_used_password(&f, ""));
	CHECK_INT(login_through(&f, "mysql://u:@/db?socket={}", sock), 0);
	CHECK(login_used_password(&f, ""));
}

TEST(well_formed_urls_are_accepted)
{
	static const char *const good[] = {
	        "mysql://u:p@h/db",
	        "mysql://u:p@h:3306/db",
	        "mysql://u:p@h:1/db",
	        "mysql://u:p@h:65535/db",
	        "mysql://u@h/db",
	        "mysql://u:p@h/db?socket=/run/mysqld/mysqld.sock",
	        "mysql://u:p@/db?socket=%2Frun%2Fmysqld.sock",
	        "mysql://u:p@db1:3306,db2:3306,db3:3306/booking",
	        "mysql://u:p@db1,db2:3307/booking",
	        "mysql://u:p@,db2:3306,db3:3306/booking?socket=/run/m.sock",
	        "mysql://u:p@db1:3306,,db3:3306/booking?socket=/run/m.sock",
	};
	struct db *db;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		db = db_new(good[i], err, sizeof(err));
		if (db == NULL)
			fprintf(stderr, "  %s: %s\n", good[i], err);
		CHECK(db != NULL);
		db_free(db);
	}
	db_free(NULL);
}

TEST(malformed_urls_are_refused_without_the_password)
{
	static const char *const bad[] = {
	        "",
	        "mysql://",
	        "mysql:/u:Secret-Pw@h/db",
	        "postgres://u:Secret-Pw@h/db",
	        "MYSQL://u:Secret-Pw@h/db",
	        " mysql://u:Secret-Pw@h/db",
	        /* No database. */
	        "mysql://u:Secret-Pw@h/",
	        "mysql://u:Secret-Pw@h",
	        "mysql://u:Secret-Pw@h/?socket=/x",
	        /* No user. */
	        "mysql://:Secret-Pw@h/db",
	        "mysql://h/db",
	        "mysql://Secret-Pw/db",
	        /* No host and no socket. */
	        "mysql://u:Secret-Pw@/db",
	        "mysql://u:Secret-Pw@:3306/db",
	        /* Bad ports. */
	        "mysql://u:Secret-Pw@h:0/db",
	        "mysql://u:Secret-Pw@h:65536/db",
	        "mysql://u:Secret-Pw@h:99999999999999999999999/db",
	        "mysql://u:Secret-Pw@h:x/db",
	        "mysql://u:Secret-Pw@h:/db",
	        "mysql://u:Secret-Pw@h:-1/db",
	        "mysql://u:Secret-Pw@h:+3306/db",
	        "mysql://u:Secret-Pw@h: 3306/db",
	        "mysql://u:Secret-Pw@h:3306x/db",
	        "mysql://u:Secret-Pw@h:0x10/db",
	        /* Bad escapes, or one that decodes to NUL. */
	        "mysql://u:Secret%00Pw@h/db",
	        "mysql://u:Secret-Pw%zz@h/db",
	        "mysql://u:Secret-Pw%4@h/db",
	        "mysql://u:Secret-Pw%@h/db",
	        "mysql://u%00:Secret-Pw@h/db",
	        "mysql://u:Secret-Pw@h/d%00b",
	        /* Queries other than one socket=, sockets not absolute. */
	        "mysql://u:Secret-Pw@h/db?sock=/x",
	        "mysql://u:Secret-Pw@h/db?socket=/x&ssl=1",
	        "mysql://u:Secret-Pw@h/db?ssl=1&socket=/x",
	        "mysql://u:Secret-Pw@h/db?socket=relative.sock",
	        "mysql://u:Secret-Pw@h/db?socket=",
	        "mysql://u:Secret-Pw@h/db?",
	        "mysql://u:Secret-Pw@h/db?socket=%00/x",
	        /* Several hosts: each well formed, the socket the one empty
	         * entry, none empty without a socket. */
	        "mysql://u:Secret-Pw@h1,/db",
	        "mysql://u:Secret-Pw@,h2/db",
	        "mysql://u:Secret-Pw@h1,,h3/db",
	        "mysql://u:Secret-Pw@h1:3306,h2:0/db",
	        "mysql://u:Secret-Pw@h1:3306,h2:/db",
	        "mysql://u:Secret-Pw@h1:3306,h2:x/db",
	        "mysql://u:Secret-Pw@h1,h2/db?socket=/x",
	        "mysql://u:Secret-Pw@,,h3/db?socket=/x",
	        "mysql://u:Secret-Pw@:3306,h2/db?socket=/x",
	        "mysql://u:Secret-Pw@h1,h2,h3,h4,h5,h6,h7,h8,h9,h10,h11,h12,"
	        "h13,h14,h15,h16,h17/db",
	};
	struct db *db;
	int ok;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		db = db_new(bad[i], err, sizeof(err));
		ok = db == NULL && err[0] != '\0' &&
		     strstr(err, "Secret") == NULL && strstr(err, "Pw") == NULL;
		if (!ok)
			fprintf(stderr, "  %s: %s\n", bad[i],
			        db ? "accepted" : err);
		db_free(db);
		CHECK(ok);
	}
	CHECK(strstr(err, "DATABASE_URL") != NULL);
}

/* The nodes of a URL, as db_node_name() names them, joined by '|'. */
static void node_names(const char *url, char *out, size_t len)
{
	struct db *db = db_new(url, err, sizeof(err));
	char one[128];
	size_t i, used = 0;

	out[0] = '\0';
	if (db == NULL) {
		snprintf(out, len, "refused");
		return;
	}
	for (i = 0; db_node_name(db, i, one, sizeof(one)) == 0; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		                         i ? "|" : "", one);
	CHECK(db_nodes(db) == i);
	db_free(db);
}

TEST(several_hosts_are_parsed_in_order)
{
	char names[512];

	node_names("mysql://u:p@db1:3306,db2:3307,db3/booking", names,
	           sizeof(names));
	CHECK_STR(names, "db1:3306|db2:3307|db3");
	node_names("mysql://u:p@db1:3306,,db3:3306/booking?socket=/run/m.sock",
	           names, sizeof(names));
	CHECK_STR(names, "db1:3306|/run/m.sock|db3:3306");
	/* One host and a socket: the socket alone, as ever. */
	node_names("mysql://u:p@ignored:3306/booking?socket=/run/m.sock", names,
	           sizeof(names));
	CHECK_STR(names, "/run/m.sock");
	node_names("mysql://u:p@d%62%31,db2/booking", names, sizeof(names));
	CHECK_STR(names, "db1|db2");
}

/* A TCP port on the loopback nobody listens on. */
static int dead_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

TEST(a_node_down_is_skipped_for_the_next)
{
	struct fake_mysql f;
	char tmpl[256], sock[128];
	int dead = dead_port();

	CHECK(dead > 0);
	/* Down first node on TCP, then the socket entry. */
	snprintf(sock, sizeof(sock), "%s/node2.sock", tmpdir);
	snprintf(tmpl, sizeof(tmpl),
	         "mysql://node:pw@127.0.0.1:%d,/second?socket={}", dead);
	CHECK_INT(login_through(&f, tmpl, sock), 0);
	CHECK_STR(f.user, "node");
	CHECK_STR(f.database, "second");
	/* Two down TCP nodes, then a third that answers. */
	snprintf(
	        tmpl, sizeof(tmpl),
	        "mysql://node3:pw@127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:{}/third",
	        dead, dead);
	CHECK_INT(login_through(&f, tmpl, NULL), 0);
	CHECK_STR(f.user, "node3");
	CHECK_STR(f.database, "third");
}

TEST(server_not_there_is_unavailable_fast)
{
	char url[256];
	struct db_rows rows = {7, 3, NULL, NULL};
	unsigned long long affected = 42;
	struct db_param p[2];
	struct db *db;

	snprintf(url, sizeof(url),
	         "mysql://u:Secret-Pw@h/db?socket=%s/nothing/here.sock",
	         tmpdir);
	db = db_new(url, err, sizeof(err));
	CHECK(db != NULL);
	if (db_connect(db) != DB_UNAVAILABLE ||
	    strstr(db_error(db), "cannot connect") == NULL ||
	    strstr(db_error(db), "Secret") != NULL) {
		fprintf(stderr, "  %s\n", db_error(db));
		db_free(db);
		CHECK(!"connect did not fail as it should");
	}
	p[0] = db_text("x");
	p[1] = db_int(1);
	if (db_query(db, "SELECT ?, ?", p, 2, &rows) != DB_UNAVAILABLE ||
	    rows.nrows != 0 || rows.ncols != 0 || rows.cells != NULL ||
	    db_exec(db, "DELETE FROM t WHERE a = ?", p, 1, &affected) !=
	            DB_UNAVAILABLE ||
	    affected != 42 || db_begin(db) != DB_UNAVAILABLE ||
	    db_commit(db) != DB_UNAVAILABLE) {
		db_free(db);
		CHECK(!"statements did not fail as they should");
	}
	db_rollback(db);
	db_rows_free(&rows);
	db_rows_free(&rows);
	db_rows_free(NULL);
	CHECK(strstr(db_error(db), "cannot connect") != NULL);
	CHECK(strstr(db_error(db), "Secret") == NULL);
	db_free(db);
	CHECK_INT(rows.nrows, 0);
}

TEST(next_call_tries_again)
{
	struct fake_mysql f;
	char url[256], sock[128];
	struct db *db;
	enum db_result r;

	snprintf(sock, sizeof(sock), "%s/later.sock", tmpdir);
	snprintf(url, sizeof(url), "mysql://u:p@h/db?socket=%s", sock);
	db = db_new(url, err, sizeof(err));
	CHECK(db != NULL);
	r = db_connect(db);
	if (r != DB_UNAVAILABLE || fake_start(&f, sock) != 0) {
		db_free(db);
		CHECK(!"first connect or fake server");
	}
	/* The server is there now: the next call reaches it. */
	r = db_connect(db);
	fake_stop(&f);
	db_free(db);
	CHECK_INT(r, DB_UNAVAILABLE);
	CHECK(f.logged_in);
	CHECK_STR(f.user, "u");
}

TEST(cells_and_lengths)
{
	struct db_rows rows;

	memset(&rows, 0, sizeof(rows));
	CHECK(db_cell(&rows, 0, 0) == NULL);
	CHECK_INT(db_cell_len(&rows, 0, 0), 0);
	rows.nrows = 2;
	rows.ncols = 2;
	rows.cells = calloc(4, sizeof(*rows.cells));
	rows.lens = calloc(4, sizeof(*rows.lens));
	CHECK(rows.cells != NULL && rows.lens != NULL);
	rows.cells[0] = strdup("a");
	rows.lens[0] = 1;
	rows.cells[1] = NULL; /* SQL NULL */
	rows.cells[2] = malloc(4);
	CHECK(rows.cells[0] != NULL && rows.cells[2] != NULL);
	memcpy(rows.cells[2], "b\0c", 4);
	rows.lens[2] = 3;
	rows.cells[3] = strdup("");
	CHECK(rows.cells[3] != NULL);

	CHECK_STR(db_cell(&rows, 0, 0), "a");
	CHECK_INT(db_cell_len(&rows, 0, 0), 1);
	CHECK(db_cell(&rows, 0, 1) == NULL);
	CHECK_INT(db_cell_len(&rows, 0, 1), 0);
	CHECK(memcmp(db_cell(&rows, 1, 0), "b\0c", 4) == 0);
	CHECK_INT(db_cell_len(&rows, 1, 0), 3);
	CHECK_STR(db_cell(&rows, 1, 1), "");
	/* Out of range. */
	CHECK(db_cell(&rows, 2, 0) == NULL);
	CHECK(db_cell(&rows, 0, 2) == NULL);
	CHECK(db_cell(&rows, (size_t)-1, 0) == NULL);
	CHECK(db_cell(&rows, 0, (size_t)-1) == NULL);
	CHECK_INT(db_cell_len(&rows, 2, 0), 0);
	CHECK_INT(db_cell_len(&rows, 0, 2), 0);
	CHECK_INT(db_cell_len(&rows, (size_t)-1, (size_t)-1), 0);
	/* Freed cells, lengths and all (valgrind and ASan check), then
	 * empty and reusable. */
	db_rows_free(&rows);
	CHECK_INT(rows.nrows, 0);
	CHECK_INT(rows.ncols, 0);
	CHECK(rows.cells == NULL && rows.lens == NULL);
	CHECK(db_cell(&rows, 0, 0) == NULL);
	db_rows_free(&rows);
}

TEST(parameter_constructors)
{
	static const char bin[] = {'a', '\0', 'b'};
	struct db_param p;

	p = db_text(NULL);
	CHECK_INT(p.type, DB_PARAM_NULL);
	p = db_text("caf\xc3\xa9");
	CHECK_INT(p.type, DB_PARAM_TEXT);
	CHECK_INT(p.len, 5);
	CHECK(memcmp(p.s, "caf\xc3\xa9", 5) == 0);
	p = db_text("");
	CHECK_INT(p.type, DB_PARAM_TEXT);
	CHECK_INT(p.len, 0);
	p = db_blob(bin, sizeof(bin));
	CHECK_INT(p.type, DB_PARAM_TEXT);
	CHECK_INT(p.len, 3);
	CHECK(p.s == bin);
	p = db_blob(NULL, 3);
	CHECK_INT(p.type, DB_PARAM_NULL);
	p = db_int(-9223372036854775807LL - 1);
	CHECK_INT(p.type, DB_PARAM_INT);
	CHECK(p.i == -9223372036854775807LL - 1);
	p = db_null();
	CHECK_INT(p.type, DB_PARAM_NULL);
}

TEST(result_names)
{
	CHECK_STR(db_result_str(DB_OK), "ok");
	CHECK_STR(db_result_str(DB_UNAVAILABLE), "database unavailable");
	CHECK_STR(db_result_str(DB_DUPLICATE), "duplicate key");
	CHECK_STR(db_result_str(DB_RETRY), "deadlock or lock wait timeout");
	CHECK_STR(db_result_str(DB_ERROR), "database error");
	CHECK_STR(db_result_str((enum db_result)99), "database error");
}

int main(void)
{
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_db.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(socket_url_with_encoded_credentials);
	RUN(tcp_url_with_port);
	RUN(password_may_hold_reserved_characters);
	RUN(well_formed_urls_are_accepted);
	RUN(malformed_urls_are_refused_without_the_password);
	RUN(several_hosts_are_parsed_in_order);
	RUN(a_node_down_is_skipped_for_the_next);
	RUN(server_not_there_is_unavailable_fast);
	RUN(next_call_tries_again);
	RUN(cells_and_lengths);
	RUN(parameter_constructors);
	RUN(result_names);
	rc = CHECK_DONE();
	rmdir(tmpdir);
	return rc;
}
