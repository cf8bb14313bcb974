/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-http.c - the HTTP update server: routes, multipart, raw bodies, auth, hostile input */

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota/ota-auth.h"
#include "ota/ota-http.h"
#include "sim-crypto.h"

#define IMAGE_MAX (128 * 1024)
#define OUT_MAX (64 * 1024)
#define MAX_PEERS 8

/* ---- fakes ---- */

struct peer {
	int id;
	char out[OUT_MAX];
	size_t len;
	bool closed;
};

struct fake {
	int begin_rc;
	int end_rc;
	int write_rc;
	size_t write_fail_at;
	unsigned begins, ends, aborts;
	uint32_t begin_size;
	int begin_cmd;
	char begin_md5[40];
	uint8_t image[IMAGE_MAX];
	size_t image_len;
	size_t max_write;
	unsigned writes;

	struct peer peers[MAX_PEERS];
	unsigned n_peers;
	int send_rc;

	unsigned ends_ev, errors_ev, auth_failed_ev;
	uint32_t last_error;
	int info_rc;
	uint8_t random_byte;
};

static struct fake F;
static struct ota_http_server S;
static struct sim_crypto *auth_crypto;
static struct sim_crypto *image_crypto;
static struct sim_crypto *test_crypto;
static struct ota_sink sink;
static uint32_t now;

static int
sink_begin(void *user, uint32_t size, int command, const char *md5)
{
	struct fake *f = user;
	f->begins++;
	f->begin_size = size;
	f->begin_cmd = command;
	snprintf(f->begin_md5, sizeof(f->begin_md5), "%s", md5 != NULL ? md5 : "(null)");
	if (f->begin_rc != 0)
		return f->begin_rc;
	if (size > IMAGE_MAX)
		return OTA_E_NO_SPACE;
	f->image_len = 0;
	return 0;
}

static int
sink_write(void *user, const uint8_t *data, size_t len)
{
	struct fake *f = user;
	ck_assert_uint_gt(len, 0);
	f->writes++;
	if (len > f->max_write)
		f->max_write = len;
	if (f->write_fail_at != 0 && f->image_len + len > f->write_fail_at)
		return f->write_rc;
	if (f->image_len + len > IMAGE_MAX)
		return OTA_E_NO_SPACE;
	memcpy(f->image + f->image_len, data, len);
	f->image_len += len;
	return 0;
}

static int
sink_end(void *user)
{
	struct fake *f = user;
	f->ends++;
	return f->end_rc;
}

static void
sink_abort(void *user)
{
	struct fake *f = user;
	f->aborts++;
}

static struct peer *
peer(int id)
{
	for (unsigned i = 0; i < F.n_peers; i++) {
		if (F.peers[i].id == id)
			return &F.peers[i];
	}
	ck_abort_msg("unknown connection %d", id);
	return NULL;
}

static int
do_send(void *user, int id, const uint8_t *data, size_t len)
{
	struct peer *p = peer(id);
	(void)user;
	ck_assert(!p->closed);
	if (F.send_rc != 0)
		return F.send_rc;
	ck_assert_uint_lt(p->len + len, OUT_MAX);
	memcpy(p->out + p->len, data, len);
	p->len += len;
	p->out[p->len] = '\0';
	return 0;
}

static void
do_close(void *user, int id)
{
	struct peer *p = peer(id);
	(void)user;
	ck_assert(!p->closed);
	p->closed = true;
}

static int
info_json(void *user, char *buf, size_t size)
{
	static const char json[] = "{\"name\":\"esp32-test\",\"chip\":\"esp32\"}";
	(void)user;
	if (F.info_rc != 0)
		return F.info_rc;
	ck_assert_uint_ge(size, sizeof(json));
	memcpy(buf, json, sizeof(json));
	return (int)sizeof(json) - 1;
}

static int
random_bytes(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	memset(buf, F.random_byte, len);
	return 0;
}

static void
on_event(void *user, enum ota_http_event ev, int id, uint32_t a, uint32_t b)
{
	(void)user;
	(void)id;
	(void)b;
	if (ev == OTA_HTTP_EV_UPDATE_END)
		F.ends_ev++;
	if (ev == OTA_HTTP_EV_UPDATE_ERROR) {
		F.errors_ev++;
		F.last_error = a;
	}
	if (ev == OTA_HTTP_EV_AUTH_FAILED)
		F.auth_failed_ev++;
}

static struct ota_http_config
config(const char *user, const char *pass, enum ota_http_challenge challenge)
{
	struct ota_http_config c;
	memset(&c, 0, sizeof(c));
	c.username = user;
	c.password = pass;
	c.challenge = challenge;
	c.sink = &sink;
	c.auth_hash = sim_crypto_ops(auth_crypto);
	c.image_hash = sim_crypto_ops(image_crypto);
	c.ops.user = &F;
	c.ops.send = do_send;
	c.ops.close = do_close;
	c.ops.info_json = info_json;
	c.ops.random = random_bytes;
	c.ops.event = on_event;
	return c;
}

static void
start(const char *user, const char *pass, enum ota_http_challenge challenge)
{
	struct ota_http_config c = config(user, pass, challenge);
	ck_assert_int_eq(ota_http_init(&S, &c), 0);
}

static void
setup(void)
{
	memset(&F, 0, sizeof(F));
	auth_crypto = sim_crypto_new();
	image_crypto = sim_crypto_new();
	test_crypto = sim_crypto_new();
	ck_assert_ptr_nonnull(auth_crypto);
	ck_assert_ptr_nonnull(image_crypto);
	ck_assert_ptr_nonnull(test_crypto);
	sink.user = &F;
	sink.begin = sink_begin;
	sink.write = sink_write;
	sink.end = sink_end;
	sink.abort = sink_abort;
	sink.error_text = NULL;
	now = 5000;
	start(NULL, NULL, OTA_HTTP_CHALLENGE_BASIC);
}

static void
teardown(void)
{
	sim_crypto_free(auth_crypto);
	sim_crypto_free(image_crypto);
	sim_crypto_free(test_crypto);
}

static int
open_conn(void)
{
	int id = ota_http_accept(&S, now);
	ck_assert_int_ge(id, 0);
	ck_assert_uint_lt(F.n_peers, MAX_PEERS);
	memset(&F.peers[F.n_peers], 0, sizeof(F.peers[0]));
	F.peers[F.n_peers].id = id;
	F.n_peers++;
	return id;
}

static void
feed(int id, const void *data, size_t len, size_t chunk)
{
	const uint8_t *p = data;
	size_t off = 0;
	if (chunk == 0)
		chunk = len;
	while (off < len && !peer(id)->closed) {
		size_t n = len - off < chunk ? len - off : chunk;
		ck_assert_int_eq(ota_http_on_data(&S, id, p + off, n, now), 0);
		off += n;
	}
}

static void
feeds(int id, const char *s)
{
	feed(id, s, strlen(s), 0);
}

static const char *
out(int id)
{
	return peer(id)->out;
}

static bool
closed(int id)
{
	return peer(id)->closed;
}

/* the body after the header block of the first response */
static const char *
body_of(int id)
{
	const char *b = strstr(out(id), "\r\n\r\n");
	ck_assert_ptr_nonnull(b);
	return b + 4;
}

static uint8_t image[IMAGE_MAX];

static void
make_image(size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 7u;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		image[i] = (uint8_t)(x >> 16);
	}
	if (len > 0)
		image[0] = 0xE9;
}

static void
md5_hex(const uint8_t *data, size_t len, char *out_hex)
{
	uint8_t d[16];
	ck_assert_int_eq(ota_hash_buffer(sim_crypto_ops(test_crypto), OTA_HASH_MD5, data, len, d),
			 0);
	for (int i = 0; i < 16; i++)
		sprintf(out_hex + 2 * i, "%02x", d[i]);
}

/* ---- building requests ---- */

static char req[IMAGE_MAX + 8192];

static size_t
append(size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(req + pos, sizeof(req) - pos, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	ck_assert_uint_lt(pos + (size_t)n, sizeof(req));
	return pos + (size_t)n;
}

static size_t
append_bytes(size_t pos, const void *data, size_t len)
{
	ck_assert_uint_lt(pos + len, sizeof(req));
	memcpy(req + pos, data, len);
	return pos + len;
}

static char body_buf[IMAGE_MAX + 4096];

/* a curl-like multipart body with one file part */
static size_t
multipart_body(const char *boundary, const char *field, const uint8_t *data, size_t len)
{
	int n = snprintf(body_buf, sizeof(body_buf),
			 "--%s\r\n"
			 "Content-Disposition: form-data; name=\"%s\"; filename=\"fw.bin\"\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "\r\n",
			 boundary, field);
	size_t pos = (size_t)n;
	memcpy(body_buf + pos, data, len);
	pos += len;
	n = snprintf(body_buf + pos, sizeof(body_buf) - pos, "\r\n--%s--\r\n", boundary);
	return pos + (size_t)n;
}

/* the request line and headers in req, then the body */
static size_t
post_request(const char *extra_headers,
	     const char *content_type,
	     const char *body,
	     size_t body_len,
	     bool with_length)
{
	size_t pos =
	    append(0, "POST /update HTTP/1.1\r\nHost: 192.168.1.50\r\nUser-Agent: check\r\n");
	pos = append(pos, "Content-Type: %s\r\n", content_type);
	if (with_length)
		pos = append(pos, "Content-Length: %zu\r\n", body_len);
	pos = append(pos, "%s\r\n", extra_headers);
	return append_bytes(pos, body, body_len);
}

static size_t
multipart_request(const char *extra, const char *field, size_t len)
{
	size_t blen = multipart_body("------------------------d74496d66958873e", field, image, len);
	return post_request(
	    extra, "multipart/form-data; boundary=------------------------d74496d66958873e",
	    body_buf, blen, true);
}

static void
check_image(size_t len)
{
	ck_assert_uint_eq(F.image_len, len);
	ck_assert_mem_eq(F.image, image, len);
	ck_assert_uint_eq(F.ends, 1);
	ck_assert_uint_eq(F.aborts, 0);
	ck_assert(!ota_http_update_running(&S));
}

static const char success_response[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html\r\n"
    "Access-Control-Allow-Headers: *\r\n"
    "Access-Control-Allow-Origin: *\r\n"
    "Content-Length: 74\r\n"
    "Connection: keep-alive\r\n"
    "Keep-Alive: timeout=2000\r\n"
    "\r\n"
    "<META http-equiv=\"refresh\" content=\"15;URL=/\">Update Success! Rebooting...";

static void
expect_update_error(int id, const char *text)
{
	char expect[512];
	snprintf(expect, sizeof(expect),
		 "HTTP/1.1 200 OK\r\n"
		 "Content-Type: text/html\r\n"
		 "Access-Control-Allow-Headers: *\r\n"
		 "Access-Control-Allow-Origin: *\r\n"
		 "Content-Length: %zu\r\n",
		 strlen("Update error: ") + strlen(text));
	ck_assert_int_eq(strncmp(out(id), expect, strlen(expect)), 0);
	{
		char body[256];
		snprintf(body, sizeof(body), "Update error: %s", text);
		ck_assert_str_eq(body_of(id), body);
	}
}

/* ---- routes ---- */

START_TEST(test_get_form)
{
	int id = open_conn();
	feeds(id, "GET /update HTTP/1.1\r\nHost: esp\r\n\r\n");
	ck_assert_int_eq(strncmp(out(id),
				 "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/html\r\n"
				 "Content-Length: 664\r\n"
				 "Connection: keep-alive\r\n"
				 "Keep-Alive: timeout=2000\r\n"
				 "\r\n"
				 "<!DOCTYPE html>\n",
				 131),
			 0);
	ck_assert_uint_eq(strlen(body_of(id)), 664);
	ck_assert_ptr_nonnull(strstr(body_of(id), "<input type='file' accept='.bin,.bin.gz' "
						  "name='firmware'>"));
	ck_assert_ptr_nonnull(strstr(body_of(id), "name='filesystem'"));
	ck_assert_str_eq(body_of(id) + 664 - 7, "</html>");
	ck_assert(!closed(id));

	/* HTTP/1.0 without keep-alive: the version is echoed and the connection closed */
	id = open_conn();
	feeds(id, "GET /update?x=1 HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(strncmp(out(id),
				 "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"
				 "Content-Length: 664\r\nConnection: close\r\n\r\n",
				 84),
			 0);
	ck_assert(closed(id));

	/* an unknown method counts as GET on the stock server */
	id = open_conn();
	feeds(id, "FETCH /update HTTP/1.1\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 200 OK\r\n", 17), 0);
	ck_assert(closed(id));
}
END_TEST

START_TEST(test_options)
{
	int id = open_conn();
	feeds(id, "OPTIONS /update HTTP/1.1\r\nOrigin: http://x\r\n\r\n");
	ck_assert_str_eq(out(id), "HTTP/1.1 200 OK\r\n"
				  "Content-Type: text/html\r\n"
				  "Access-Control-Allow-Headers: *\r\n"
				  "Access-Control-Allow-Origin: *\r\n"
				  "Content-Length: 1\r\n"
				  "Connection: keep-alive\r\n"
				  "Keep-Alive: timeout=2000\r\n"
				  "\r\n"
				  "y");
}
END_TEST

START_TEST(test_not_found_and_info)
{
	int id = open_conn();
	/* two requests in one read: both are answered, in order */
	feeds(id, "GET /nope?a=b HTTP/1.1\r\n\r\nHEAD /update HTTP/1.1\r\n\r\n");
	ck_assert_str_eq(out(id), "HTTP/1.1 404 Not Found\r\n"
				  "Content-Type: text/html\r\n"
				  "Content-Length: 16\r\n"
				  "Connection: keep-alive\r\n"
				  "Keep-Alive: timeout=2000\r\n"
				  "\r\n"
				  "Not found: /nope"
				  "HTTP/1.1 404 Not Found\r\n"
				  "Content-Type: text/html\r\n"
				  "Content-Length: 18\r\n"
				  "Connection: keep-alive\r\n"
				  "Keep-Alive: timeout=2000\r\n"
				  "\r\n"
				  "Not found: /update");

	id = open_conn();
	feeds(id, "GET /info HTTP/1.1\r\n\r\n");
	ck_assert_str_eq(out(id), "HTTP/1.1 200 OK\r\n"
				  "Content-Type: application/json\r\n"
				  "Content-Length: 36\r\n"
				  "Connection: keep-alive\r\n"
				  "Keep-Alive: timeout=2000\r\n"
				  "\r\n"
				  "{\"name\":\"esp32-test\",\"chip\":\"esp32\"}");
	F.info_rc = -1;
	id = open_conn();
	feeds(id, "GET /info HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 500 ", 13), 0);
	ck_assert(closed(id));

	/* without the callback there is no /info */
	{
		struct ota_http_config c = config(NULL, NULL, OTA_HTTP_CHALLENGE_BASIC);
		c.ops.info_json = NULL;
		ck_assert_int_eq(ota_http_init(&S, &c), 0);
	}
	id = open_conn();
	feeds(id, "GET /info HTTP/1.1\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(out(id), "Not found: /info"));
}
END_TEST

START_TEST(test_custom_path)
{
	struct ota_http_config c = config(NULL, NULL, OTA_HTTP_CHALLENGE_BASIC);
	int id;
	c.path = "/firmware";
	ck_assert_int_eq(ota_http_init(&S, &c), 0);
	id = open_conn();
	feeds(id, "GET /update HTTP/1.1\r\n\r\nGET /firmware HTTP/1.1\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(out(id), "Not found: /update"));
	ck_assert_ptr_nonnull(strstr(out(id), "<!DOCTYPE html>"));
}
END_TEST

/* ---- multipart uploads ---- */

START_TEST(test_multipart_upload)
{
	size_t len = 10000;
	size_t n;
	int id = open_conn();
	make_image(len, 1);
	n = multipart_request("", "firmware", len);
	feed(id, req, n, 1460);
	ck_assert_str_eq(out(id), success_response);
	ck_assert(closed(id));
	check_image(len);
	ck_assert_int_eq(F.begin_cmd, OTA_CMD_FLASH);
	ck_assert_uint_eq(F.begin_size, OTA_SINK_SIZE_UNKNOWN);
	ck_assert_str_eq(F.begin_md5, "(null)");
	ck_assert_uint_eq(F.ends_ev, 1);
	/* the sink sees the stock 2048-byte upload chunks */
	ck_assert_uint_eq(F.max_write, OTA_HTTP_UPLOAD_BUF);
}
END_TEST

START_TEST(test_multipart_fields)
{
	static const char *const fields[] = {"filesystem", "firmware", "update", "image",
					     "Filesystem"};
	static const int cmds[] = {OTA_CMD_FS, OTA_CMD_FLASH, OTA_CMD_FLASH, OTA_CMD_FLASH,
				   OTA_CMD_FLASH};
	size_t len = 3000;
	int id = open_conn();
	make_image(len, 2);
	feed(id, req, multipart_request("", fields[_i], len), 0);
	ck_assert_int_eq(F.begin_cmd, cmds[_i]);
	check_image(len);
}
END_TEST

START_TEST(test_multipart_boundary_forms)
{
	static const char *const types[] = {
	    "multipart/form-data; boundary=XyZ",
	    "multipart/form-data; boundary=\"XyZ\"",
	    "multipart/form-data; charset=utf-8; boundary=XyZ",
	    "Multipart/Form-Data;boundary=XyZ ;foo=bar",
	    "multipart/form-data; BOUNDARY=\"XyZ\"; foo=bar",
	};
	size_t len = 777;
	size_t blen;
	int id = open_conn();
	make_image(len, 3);
	blen = multipart_body("XyZ", "firmware", image, len);
	feed(id, req, post_request("", types[_i], body_buf, blen, true), 0);
	ck_assert_str_eq(out(id), success_response);
	check_image(len);
}
END_TEST

/* data that looks like the delimiter in every way but one */
static size_t
tricky_image(const char *boundary)
{
	size_t pos = 0;
	char near[160];
	make_image(4000, 4);
	snprintf(near, sizeof(near), "\r\n--%s", boundary);
	/* every proper prefix of the delimiter, then a wrong byte; CR runs; a final CR */
	for (size_t k = 1; k < strlen(near); k++) {
		memcpy(image + pos, near, k);
		pos += k;
		image[pos++] = (uint8_t)(k % 2 ? 'x' : '\r');
	}
	memcpy(image + pos, "\r\r\r\n\r\n-\r\n--", 11);
	pos += 11;
	memcpy(image + pos, near, strlen(near) - 1);
	pos += strlen(near) - 1;
	image[pos++] = 'Q';
	pos += 300; /* random bytes follow */
	image[pos++] = '\r';
	return pos;
}

START_TEST(test_multipart_split_everywhere)
{
	const char *boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
	size_t len = tricky_image(boundary);
	size_t blen = multipart_body(boundary, "firmware", image, len);
	char type[128];
	size_t n;
	snprintf(type, sizeof(type), "multipart/form-data; boundary=%s", boundary);
	n = post_request("", type, body_buf, blen, true);

	/* every split point of the whole request into two reads */
	for (size_t k = 1; k < n; k++) {
		int id;
		F.image_len = 0;
		F.ends = 0;
		id = ota_http_accept(&S, now);
		ck_assert_int_ge(id, 0);
		F.n_peers = 0;
		memset(&F.peers[0], 0, sizeof(F.peers[0]));
		F.peers[0].id = id;
		F.n_peers = 1;
		ota_http_on_data(&S, id, (const uint8_t *)req, k, now);
		ota_http_on_data(&S, id, (const uint8_t *)req + k, n - k, now);
		ck_assert_msg(strcmp(out(id), success_response) == 0, "split at %zu", k);
		ck_assert_msg(F.image_len == len && memcmp(F.image, image, len) == 0,
			      "split at %zu: image differs", k);
		ck_assert_uint_eq(F.ends, 1);
	}
	/* and byte by byte */
	F.ends = 0;
	{
		int id = open_conn();
		feed(id, req, n, 1);
		ck_assert_str_eq(out(id), success_response);
		check_image(len);
	}
}
END_TEST

START_TEST(test_multipart_more_parts)
{
	size_t len = 2500;
	size_t pos = 0;
	int n;
	int id = open_conn();
	make_image(len, 5);
	/* empty lines before the first boundary, text fields around the file, a second file */
	n = snprintf(body_buf, sizeof(body_buf),
		     "\r\n--B\r\n"
		     "Content-Disposition: form-data; name=\"note\"\r\n"
		     "\r\n"
		     "first line\r\nsecond --B line\r\n"
		     "--B\r\n"
		     "Content-Disposition: form-data; name=\"firmware\"; filename=\"a.bin\"\r\n"
		     "Content-Type: application/macbinary\r\n"
		     "X-Other: 1\r\n"
		     "\r\n");
	pos = (size_t)n;
	memcpy(body_buf + pos, image, len);
	pos += len;
	n = snprintf(body_buf + pos, sizeof(body_buf) - pos,
		     "\r\n--B\r\n"
		     "Content-Disposition: form-data; name=\"filesystem\"; filename=\"b.bin\"\r\n"
		     "\r\n"
		     "not flashed\r\n"
		     "--B\r\n"
		     "Content-Disposition: form-data; name=\"md5\"\r\n"
		     "\r\n"
		     "whatever\r\n"
		     "--B--\r\n"
		     "epilogue ignored\r\n");
	pos += (size_t)n;
	feed(id, req, post_request("", "multipart/form-data; boundary=B", body_buf, pos, true), 7);
	ck_assert_str_eq(out(id), success_response);
	ck_assert_int_eq(F.begin_cmd, OTA_CMD_FLASH);
	check_image(len);
}
END_TEST

START_TEST(test_multipart_no_length)
{
	/* the stock parser needs no Content-Length: the closing boundary ends the body */
	size_t len = 1234;
	size_t blen;
	size_t n;
	int id = open_conn();
	make_image(len, 6);
	blen = multipart_body("bnd", "firmware", image, len);
	n = post_request("", "multipart/form-data; boundary=bnd", body_buf, blen, false);
	feed(id, req, n, 100);
	ck_assert_str_eq(out(id), success_response);
	check_image(len);
}
END_TEST

START_TEST(test_multipart_empty_and_missing_file)
{
	int id = open_conn();
	/* an empty file part */
	feed(id, req, multipart_request("", "firmware", 0), 0);
	expect_update_error(id, "ERROR[13]: No data supplied\n");
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert(!closed(id));
	ck_assert(!ota_http_update_running(&S));

	/* no file part at all */
	id = open_conn();
	{
		static const char b[] =
		    "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--B--\r\n";
		feed(id, req,
		     post_request("", "multipart/form-data; boundary=B", b, sizeof(b) - 1, true),
		     0);
	}
	expect_update_error(id, "ERROR[13]: No data supplied\n");
	ck_assert_uint_eq(F.begins, 1);
}
END_TEST

START_TEST(test_multipart_bad)
{
	static const char *const types[] = {
	    "multipart/form-data",
	    "multipart/form-data; boundary=",
	    "multipart/form-data; boundary=\"unterminated",
	    "text/plain",
	    "application/x-www-form-urlencoded",
	};
	size_t len = 100;
	size_t blen;
	int id;
	make_image(len, 7);
	blen = multipart_body("XyZ", "firmware", image, len);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		id = open_conn();
		feed(id, req, post_request("", types[i], body_buf, blen, true), 0);
		ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 400 Bad Request\r\n", 26), 0);
		ck_assert_ptr_nonnull(strstr(out(id), "Connection: close\r\n"));
		ck_assert(closed(id));
		F.n_peers = 0;
	}
	/* a body that does not start with the boundary */
	id = open_conn();
	feed(id, req, post_request("", "multipart/form-data; boundary=Other", body_buf, blen, true),
	     0);
	ck_assert_ptr_nonnull(strstr(out(id), "does not start with the boundary"));
	ck_assert(closed(id));
	ck_assert_uint_eq(F.begins, 0);
	/* a part header line that never ends */
	F.n_peers = 0;
	id = open_conn();
	{
		size_t pos =
		    append(0, "POST /update HTTP/1.1\r\nContent-Type: multipart/form-data; "
			      "boundary=B\r\n\r\n--B\r\nContent-Disposition: ");
		memset(req + pos, 'a', 5000);
		feed(id, req, pos + 5000, 0);
	}
	ck_assert_ptr_nonnull(strstr(out(id), "400 Bad Request"));
	ck_assert(closed(id));
}
END_TEST

START_TEST(test_multipart_truncated)
{
	size_t len = 5000;
	size_t blen;
	size_t n;
	int id = open_conn();
	make_image(len, 8);
	blen = multipart_body("XyZ", "firmware", image, len);
	/* Content-Length says the body ends 10 bytes before the closing boundary */
	n = post_request("", "multipart/form-data; boundary=XyZ", body_buf, blen - 10, true);
	feed(id, req, n, 512);
	ck_assert_ptr_nonnull(strstr(out(id), "400 Bad Request"));
	ck_assert_ptr_nonnull(strstr(out(id), "Truncated multipart body"));
	ck_assert(closed(id));
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ends, 0);
	ck_assert(!ota_http_update_running(&S));

	/* the peer goes away mid-body */
	id = open_conn();
	n = multipart_request("", "firmware", len);
	feed(id, req, n / 2, 0);
	ck_assert(ota_http_update_running(&S));
	ota_http_on_close(&S, id);
	ck_assert_uint_eq(F.aborts, 2);
	ck_assert(!ota_http_update_running(&S));
	ck_assert_int_eq(ota_http_on_data(&S, id, (const uint8_t *)"x", 1, now), OTA_E_BAD_ARGS);
	ck_assert_uint_eq(ota_http_connections(&S), 0);
}
END_TEST

START_TEST(test_multipart_sink_errors)
{
	size_t len = 9000;
	int id = open_conn();
	make_image(len, 9);
	F.begin_rc = OTA_E_NO_SPACE;
	feed(id, req, multipart_request("", "firmware", len), 1000);
	expect_update_error(id, "ERROR[4]: Not Enough Space\n");
	ck_assert(!closed(id)); /* the body was read: keep-alive goes on */
	ck_assert_uint_eq(F.last_error, OTA_UPDATE_ERR_SPACE);

	F.begin_rc = 0;
	F.write_fail_at = 4096;
	F.write_rc = OTA_E_FLASH;
	id = open_conn();
	feed(id, req, multipart_request("", "firmware", len), 1000);
	expect_update_error(id, "ERROR[1]: Flash Write Failed\n");
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert(!ota_http_update_running(&S));

	F.write_fail_at = 0;
	F.end_rc = OTA_E_BAD_MAGIC;
	id = open_conn();
	feed(id, req, multipart_request("", "firmware", len), 1000);
	expect_update_error(id, "ERROR[10]: Magic byte is not 0xE9\n");
	ck_assert_uint_eq(F.aborts, 1);

	F.end_rc = OTA_E_WRONG_CHIP;
	id = open_conn();
	feed(id, req, multipart_request("", "firmware", len), 1000);
	expect_update_error(id, "ERROR[17]: image is built for another chip\n");
	ck_assert_uint_eq(F.ends_ev, 0);
}
END_TEST

START_TEST(test_multipart_md5)
{
	size_t len = 4000;
	char md5[33];
	char hdr[64];
	int id;
	make_image(len, 10);
	md5_hex(image, len, md5);
	/* a right MD5 in a header, in uppercase */
	for (char *c = md5; *c; c++) {
		if (*c >= 'a')
			*c = (char)(*c - 32);
	}
	snprintf(hdr, sizeof(hdr), "X-MD5: %s\r\n", md5);
	id = open_conn();
	feed(id, req, multipart_request(hdr, "firmware", len), 0);
	ck_assert_str_eq(out(id), success_response);
	ck_assert_str_eq(F.begin_md5, md5);
	check_image(len);

	/* a wrong one */
	F.ends = 0;
	id = open_conn();
	feed(id, req,
	     multipart_request("X-MD5: 0123456789abcdef0123456789abcdef\r\n", "firmware", len), 0);
	md5_hex(image, len, md5);
	{
		char text[160];
		snprintf(text, sizeof(text),
			 "ERROR[7]: MD5 verification failed: expected: "
			 "0123456789abcdef0123456789abcdef, calculated: %s\n",
			 md5);
		expect_update_error(id, text);
	}
	ck_assert_uint_eq(F.ends, 0);
	ck_assert_uint_eq(F.aborts, 1);
}
END_TEST

/* ---- raw bodies ---- */

START_TEST(test_raw_upload)
{
	size_t len = 20000;
	char md5[33];
	char hdr[64];
	size_t n;
	int id;
	make_image(len, 11);
	md5_hex(image, len, md5);
	snprintf(hdr, sizeof(hdr), "X-MD5: %s\r\n", md5);
	id = open_conn();
	n = post_request(hdr, "application/octet-stream", (const char *)image, len, true);
	feed(id, req, n, 1460);
	ck_assert_str_eq(out(id), success_response);
	ck_assert_uint_eq(F.begin_size, len);
	ck_assert_str_eq(F.begin_md5, md5);
	check_image(len);

	/* ?md5= in the query */
	F.ends = 0;
	id = open_conn();
	n = append(0,
		   "POST /update?md5=%s HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
		   "Content-Length: %zu\r\n\r\n",
		   md5, len);
	n = append_bytes(n, image, len);
	feed(id, req, n, 4096);
	ck_assert_str_eq(out(id), success_response);
	check_image(len);

	/* a wrong MD5 */
	F.ends = 0;
	id = open_conn();
	n = append(0,
		   "POST /update?x=1&md5=%032d HTTP/1.1\r\nContent-Type: "
		   "application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
		   0, len);
	n = append_bytes(n, image, len);
	feed(id, req, n, 4096);
	ck_assert_ptr_nonnull(strstr(out(id), "Update error: ERROR[7]: MD5 verification failed"));
	ck_assert_uint_eq(F.ends, 0);
}
END_TEST

START_TEST(test_raw_refusals)
{
	static const struct {
		const char *headers;
		const char *status;
	} cases[] = {
	    {"Content-Type: application/octet-stream\r\n", "411 Length Required"},
	    {"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n",
	     "411 Length Required"},
	    {"Content-Type: application/octet-stream\r\nContent-Length: 10\r\nX-MD5: abc\r\n",
	     "400 Bad Request"},
	    {"Content-Type: application/octet-stream\r\nContent-Length: 1x\r\n", "400 Bad Request"},
	    {"Content-Type: application/octet-stream\r\nContent-Length: 10\r\n"
	     "Content-Length: 11\r\n",
	     "400 Bad Request"},
	    {"Content-Type: application/octet-stream\r\nContent-Length: 99999999999\r\n",
	     "400 Bad Request"},
	    {"Content-Length: 10\r\n", "400 Bad Request"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int id = open_conn();
		size_t n = append(0, "POST /update HTTP/1.1\r\n%s\r\n0123456789", cases[i].headers);
		feed(id, req, n, 0);
		ck_assert_msg(strstr(out(id), cases[i].status) != NULL, "case %zu: %s", i, out(id));
		ck_assert(closed(id));
		F.n_peers = 0;
	}
	ck_assert_uint_eq(F.begins, 0);

	/* zero length, no space, an early write error: answered at once, then closed */
	{
		int id = open_conn();
		feeds(id, "POST /update HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
			  "Content-Length: 0\r\n\r\n");
		ck_assert_ptr_nonnull(strstr(out(id), "Update error: ERROR[5]: Bad Size Given\n"));
	}
	{
		int id = open_conn();
		size_t n = append(0,
				  "POST /update HTTP/1.1\r\nContent-Type: "
				  "application/octet-stream\r\nContent-Length: %u\r\n\r\n",
				  IMAGE_MAX + 1);
		feed(id, req, n, 0);
		ck_assert_ptr_nonnull(
		    strstr(out(id), "Update error: ERROR[4]: Not Enough Space\n"));
		ck_assert_ptr_nonnull(strstr(out(id), "Connection: close\r\n"));
		ck_assert(closed(id));
	}
	{
		int id;
		size_t n;
		F.n_peers = 0;
		make_image(30000, 12);
		F.write_fail_at = 1;
		F.write_rc = OTA_E_BAD_MAGIC;
		id = open_conn();
		n = post_request("", "application/octet-stream", (const char *)image, 30000, true);
		feed(id, req, n, 1460);
		ck_assert_ptr_nonnull(
		    strstr(out(id), "Update error: ERROR[10]: Magic byte is not 0xE9\n"));
		ck_assert(closed(id));
		ck_assert_uint_eq(F.aborts, 1);
		ck_assert(!ota_http_update_running(&S));
	}
}
END_TEST

START_TEST(test_expect_continue)
{
	size_t len = 3000;
	size_t n;
	int id = open_conn();
	make_image(len, 13);
	n = post_request("Expect: 100-continue\r\n", "application/octet-stream",
			 (const char *)image, len, true);
	feed(id, req, n - len, 0);
	ck_assert_str_eq(out(id), "HTTP/1.1 100 Continue\r\n\r\n");
	feed(id, req + n - len, len, 0);
	ck_assert_str_eq(out(id) + 25, success_response);
	check_image(len);
}
END_TEST

/* ---- concurrency ---- */

START_TEST(test_one_update_at_a_time)
{
	size_t len = 12000;
	size_t n;
	int a, b, c;
	make_image(len, 14);
	n = multipart_request("", "firmware", len);
	a = open_conn();
	b = open_conn();
	c = open_conn();
	feed(a, req, n / 2, 1000);
	ck_assert(ota_http_update_running(&S));

	/* a raw upload on another connection is refused at once */
	{
		static const char raw[] =
		    "POST /update HTTP/1.1\r\nContent-Type: "
		    "application/octet-stream\r\nContent-Length: 5\r\n\r\nabcde";
		feeds(b, raw);
		ck_assert_ptr_nonnull(
		    strstr(out(b), "Update error: ERROR[15]: Update already running\n"));
	}
	/* a multipart one after its body; the form still works meanwhile */
	{
		static char other[8192];
		size_t blen = multipart_body("zz", "firmware", image, 100);
		size_t m =
		    post_request("", "multipart/form-data; boundary=zz", body_buf, blen, true);
		memcpy(other, req, m);
		feeds(c, "GET /update HTTP/1.1\r\n\r\n");
		ck_assert_ptr_nonnull(strstr(out(c), "<!DOCTYPE html>"));
		feed(c, other, m, 0);
		ck_assert_ptr_nonnull(
		    strstr(out(c), "Update error: ERROR[15]: Update already running\n"));
		ck_assert(!closed(c));
	}
	/* the first one finishes undisturbed */
	n = multipart_request("", "firmware", len);
	feed(a, req + n / 2, n - n / 2, 1000);
	ck_assert_str_eq(out(a), success_response);
	check_image(len);
	ck_assert_uint_eq(F.begins, 1);
}
END_TEST

START_TEST(test_connection_slots)
{
	int ids[OTA_HTTP_MAX_CONN];
	int again;
	for (int i = 0; i < OTA_HTTP_MAX_CONN; i++)
		ids[i] = open_conn();
	ck_assert_int_eq(ota_http_accept(&S, now), OTA_E_BUSY);
	ck_assert_uint_eq(ota_http_connections(&S), OTA_HTTP_MAX_CONN);
	ota_http_on_close(&S, ids[1]);
	again = open_conn();
	/* the slot is reused under a new id; the old one is dead */
	ck_assert_int_ne(again, ids[1]);
	ck_assert_int_eq(ota_http_on_data(&S, ids[1], (const uint8_t *)"G", 1, now),
			 OTA_E_BAD_ARGS);
	ota_http_on_close(&S, ids[1]); /* harmless */
	ck_assert_uint_eq(ota_http_connections(&S), OTA_HTTP_MAX_CONN);
	ck_assert_int_eq(ota_http_on_data(&S, -5, (const uint8_t *)"G", 1, now), OTA_E_BAD_ARGS);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_header_limits)
{
	int id;
	size_t pos;

	/* a header line over 2 KiB: answered before its end */
	id = open_conn();
	pos = append(0, "GET /update HTTP/1.1\r\nX-Long: ");
	memset(req + pos, 'a', 3000);
	feed(id, req, pos + 3000, 100);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46),
			 0);
	ck_assert(closed(id));

	/* a request line over 2 KiB */
	F.n_peers = 0;
	id = open_conn();
	pos = append(0, "GET /");
	memset(req + pos, 'a', 3000);
	feed(id, req, pos + 3000, 0);
	ck_assert_ptr_nonnull(strstr(out(id), "414 URI Too Long"));
	ck_assert(closed(id));

	/* 33 headers */
	F.n_peers = 0;
	id = open_conn();
	pos = append(0, "GET /update HTTP/1.1\r\n");
	for (int i = 0; i < 33; i++)
		pos = append(pos, "X-H%d: v\r\n", i);
	pos = append(pos, "\r\n");
	feed(id, req, pos, 0);
	ck_assert_ptr_nonnull(strstr(out(id), "431 Request Header Fields Too Large"));

	/* 32 are fine */
	F.n_peers = 0;
	id = open_conn();
	pos = append(0, "GET /update HTTP/1.1\r\n");
	for (int i = 0; i < 32; i++)
		pos = append(pos, "X-H%d: v\r\n", i);
	pos = append(pos, "\r\n");
	feed(id, req, pos, 0);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 200 OK", 15), 0);

	/* more than 8 KiB of headers in lines that are each fine */
	F.n_peers = 0;
	id = open_conn();
	pos = append(0, "GET /update HTTP/1.1\r\n");
	for (int i = 0; i < 5; i++) {
		pos = append(pos, "X-H%d: ", i);
		memset(req + pos, 'b', 1900);
		pos = append(pos + 1900, "\r\n");
	}
	pos = append(pos, "\r\n");
	feed(id, req, pos, 0);
	ck_assert_ptr_nonnull(strstr(out(id), "431 Request Header Fields Too Large"));

	/* a long path that fits the line but not the router */
	F.n_peers = 0;
	id = open_conn();
	pos = append(0, "GET /");
	memset(req + pos, 'p', 300);
	pos = append(pos + 300, " HTTP/1.1\r\n\r\n");
	feed(id, req, pos, 0);
	ck_assert_ptr_nonnull(strstr(out(id), "414 URI Too Long"));
}
END_TEST

START_TEST(test_bad_requests)
{
	static const struct {
		const char *req;
		const char *status;
	} cases[] = {
	    {"GET\r\n\r\n", "400 Bad Request"},
	    {"GET /update\r\n\r\n", "400 Bad Request"},
	    {"GET /update HTTP/2.0\r\n\r\n", "505 HTTP Version not supported"},
	    {"GET /update HTTP/1.10\r\n\r\n", "505 HTTP Version not supported"},
	    {"GET update HTTP/1.1\r\n\r\n", "400 Bad Request"},
	    {"GET  /update HTTP/1.1\r\n\r\n", "400 Bad Request"},
	    {"GET /update HTTP/1.1\r\nNoColon\r\n\r\n", "400 Bad Request"},
	    {"GET /update HTTP/1.1\r\n: empty\r\n\r\n", "400 Bad Request"},
	    {"GET /update HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "400 Bad Request"},
	    {"\r\n\r\nGET /nothing HTTP/1.1\n\n", "404 Not Found"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int id = open_conn();
		feeds(id, cases[i].req);
		ck_assert_msg(strstr(out(id), cases[i].status) != NULL, "case %zu: %s", i, out(id));
		if (!closed(id))
			ota_http_on_close(&S, id);
		F.n_peers = 0;
	}
}
END_TEST

START_TEST(test_slowloris)
{
	int id = open_conn();
	int idle = open_conn();
	uint32_t wait;
	/* a byte a second never finishes the headers in time */
	for (int i = 0; i < 4; i++) {
		feeds(id, "G");
		now += 1000;
		ck_assert_uint_le(ota_http_poll(&S, now), 5000);
	}
	ck_assert(!closed(id));
	now += 1000;
	ota_http_poll(&S, now);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.0 408 Request Timeout\r\n", 30), 0);
	ck_assert(closed(id));
	/* a connection that never says anything is just closed */
	ck_assert(closed(idle));
	ck_assert_str_eq(out(idle), "");
	ck_assert_uint_eq(ota_http_poll(&S, now), UINT32_MAX);

	/* keep-alive: an idle kept connection closes after 2 s */
	id = open_conn();
	feeds(id, "GET /nope HTTP/1.1\r\n\r\n");
	wait = ota_http_poll(&S, now);
	ck_assert_uint_eq(wait, OTA_HTTP_KEEPALIVE_MS);
	now += wait;
	ota_http_poll(&S, now);
	ck_assert(closed(id));
}
END_TEST

START_TEST(test_body_stall)
{
	size_t len = 10000;
	size_t n;
	int id = open_conn();
	make_image(len, 15);
	n = multipart_request("", "firmware", len);
	feed(id, req, n / 2, 0);
	now += 4999;
	ota_http_poll(&S, now);
	ck_assert(!closed(id));
	feed(id, req + n / 2, 10, 0); /* a trickle resets the idle timer */
	now += 4999;
	ota_http_poll(&S, now);
	ck_assert(!closed(id));
	now += 1;
	ota_http_poll(&S, now);
	ck_assert_ptr_nonnull(strstr(out(id), "408 Request Timeout"));
	ck_assert(closed(id));
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert(!ota_http_update_running(&S));
}
END_TEST

START_TEST(test_send_failure)
{
	int id = open_conn();
	F.send_rc = -1;
	feeds(id, "GET /update HTTP/1.1\r\n\r\n");
	ck_assert(closed(id));
	ck_assert_uint_eq(ota_http_connections(&S), 0);
}
END_TEST

/* ---- authentication ---- */

static const char expect_401_get[] = "HTTP/1.1 401 Unauthorized\r\n"
				     "Content-Type: text/html\r\n"
				     "WWW-Authenticate: Basic realm=\"Login Required\"\r\n"
				     "Content-Length: 0\r\n"
				     "Connection: keep-alive\r\n"
				     "Keep-Alive: timeout=2000\r\n"
				     "\r\n";

START_TEST(test_basic_auth)
{
	int id;
	start("admin", "s3cret pw", OTA_HTTP_CHALLENGE_BASIC);
	id = open_conn();
	feeds(id, "GET /update HTTP/1.1\r\n\r\n");
	ck_assert_str_eq(out(id), expect_401_get);
	ck_assert(!closed(id));
	/* base64("admin:s3cret pw") */
	feeds(id, "GET /update HTTP/1.1\r\nAuthorization: Basic YWRtaW46czNjcmV0IHB3\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(out(id), "HTTP/1.1 200 OK\r\n"));
	F.n_peers = 0;
	id = open_conn();
	feeds(id, "GET /update HTTP/1.1\r\nAuthorization: Basic YWRtaW46czNjcmV0IHB4\r\n\r\n");
	ck_assert_str_eq(out(id), expect_401_get);
	ck_assert_uint_eq(F.auth_failed_ev, 2);
	/* OPTIONS and 404 need no credentials */
	F.n_peers = 0;
	id = open_conn();
	feeds(id, "OPTIONS /update HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(out(id), "\r\n\r\ny"));
	ck_assert_ptr_nonnull(strstr(out(id), "Not found: /x"));
}
END_TEST

START_TEST(test_basic_auth_upload)
{
	size_t len = 6000;
	size_t n;
	int id;
	start("admin", "pw", OTA_HTTP_CHALLENGE_BASIC);
	make_image(len, 16);
	id = open_conn();
	/* without credentials: the body is read and dropped, then 401 (as stock) */
	n = multipart_request("", "firmware", len);
	feed(id, req, n, 1000);
	ck_assert_str_eq(out(id), "HTTP/1.1 401 Unauthorized\r\n"
				  "Content-Type: text/html\r\n"
				  "Access-Control-Allow-Headers: *\r\n"
				  "Access-Control-Allow-Origin: *\r\n"
				  "WWW-Authenticate: Basic realm=\"Login Required\"\r\n"
				  "Content-Length: 0\r\n"
				  "Connection: keep-alive\r\n"
				  "Keep-Alive: timeout=2000\r\n"
				  "\r\n");
	ck_assert_uint_eq(F.begins, 0);
	ck_assert(!closed(id));
	/* the retry on the same connection, with base64("admin:pw") */
	peer(id)->len = 0;
	n = multipart_request("Authorization: Basic YWRtaW46cHc=\r\n", "firmware", len);
	feed(id, req, n, 1000);
	ck_assert_str_eq(out(id), success_response);
	check_image(len);

	/* a raw body without credentials is refused before it is read */
	F.n_peers = 0;
	id = open_conn();
	n = post_request("", "application/octet-stream", (const char *)image, len, true);
	feed(id, req, n - len, 0);
	ck_assert_ptr_nonnull(strstr(out(id), "401 Unauthorized"));
	ck_assert_ptr_nonnull(strstr(out(id), "Connection: close"));
	ck_assert(closed(id));

	/* Expect: 100-continue without credentials gets 401 instead of 100 */
	F.n_peers = 0;
	id = open_conn();
	n = multipart_request("Expect: 100-continue\r\n", "firmware", len);
	feed(id, req, n, 0);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 401 Unauthorized", 25), 0);
	ck_assert(closed(id));
}
END_TEST

/* RFC 2617 Digest response, computed independently of the server */
static void
digest_response(const char *user,
		const char *realm,
		const char *pass,
		const char *method,
		const char *uri,
		const char *nonce,
		const char *nc,
		const char *cnonce,
		const char *qop,
		char out_hex[33])
{
	char a1[256], a2[256], h1[33], h2[33], all[512];
	snprintf(a1, sizeof(a1), "%s:%s:%s", user, realm, pass);
	snprintf(a2, sizeof(a2), "%s:%s", method, uri);
	md5_hex((const uint8_t *)a1, strlen(a1), h1);
	md5_hex((const uint8_t *)a2, strlen(a2), h2);
	if (qop != NULL)
		snprintf(all, sizeof(all), "%s:%s:%s:%s:%s:%s", h1, nonce, nc, cnonce, qop, h2);
	else
		snprintf(all, sizeof(all), "%s:%s:%s", h1, nonce, h2);
	md5_hex((const uint8_t *)all, strlen(all), out_hex);
}

START_TEST(test_digest_helper_rfc2617)
{
	char r[33];
	/* RFC 2617 §3.5 */
	digest_response("Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
			"dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth", r);
	ck_assert_str_eq(r, "6629fae49393a05397450978507c4ef1");
}
END_TEST

START_TEST(test_digest_auth)
{
	static const char nonce[] = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
	char resp[33];
	char auth[512];
	int id;

	start("admin", "pw", OTA_HTTP_CHALLENGE_DIGEST);
	F.random_byte = 0x5a; /* a fixed nonce and opaque */
	id = open_conn();
	feeds(id, "GET /update HTTP/1.1\r\n\r\n");
	ck_assert_str_eq(out(id),
			 "HTTP/1.1 401 Unauthorized\r\n"
			 "Content-Type: text/html\r\n"
			 "WWW-Authenticate: Digest realm=\"Login Required\", qop=\"auth\", "
			 "nonce=\"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\", "
			 "opaque=\"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\"\r\n"
			 "Content-Length: 0\r\n"
			 "Connection: keep-alive\r\n"
			 "Keep-Alive: timeout=2000\r\n"
			 "\r\n");

	/* RFC 2617 with qop=auth, as curl --digest sends it */
	digest_response("admin", "Login Required", "pw", "GET", "/update", nonce, "00000001",
			"MTIzNDU2", "auth", resp);
	snprintf(auth, sizeof(auth),
		 "GET /update HTTP/1.1\r\nAuthorization: Digest username=\"admin\", "
		 "realm=\"Login Required\", nonce=\"%s\", uri=\"/update\", cnonce=\"MTIzNDU2\", "
		 "nc=00000001, qop=auth, response=\"%s\", opaque=\"%s\"\r\n\r\n",
		 nonce, resp, nonce);
	peer(id)->len = 0;
	feeds(id, auth);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 200 OK\r\n", 17), 0);

	/* RFC 2069, no qop */
	digest_response("admin", "Login Required", "pw", "GET", "/update", nonce, NULL, NULL, NULL,
			resp);
	snprintf(auth, sizeof(auth),
		 "GET /update HTTP/1.1\r\nAuthorization: Digest username=\"admin\", "
		 "realm=\"Login Required\", nonce=\"%s\", uri=\"/update\", response=\"%s\", "
		 "opaque=\"%s\"\r\n\r\n",
		 nonce, resp, nonce);
	peer(id)->len = 0;
	feeds(id, auth);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 200 OK\r\n", 17), 0);

	/* POST hashes "POST:uri"; an upload with Digest */
	{
		size_t len = 3000;
		char hdr[512];
		make_image(len, 17);
		digest_response("admin", "Login Required", "pw", "POST", "/update", nonce,
				"00000002", "abc", "auth", resp);
		snprintf(
		    hdr, sizeof(hdr),
		    "Authorization: Digest username=\"admin\", realm=\"Login Required\", "
		    "nonce=\"%s\", uri=\"/update\", cnonce=\"abc\", nc=00000002, qop=\"auth\", "
		    "response=\"%s\", opaque=\"%s\"\r\n",
		    nonce, resp, nonce);
		peer(id)->len = 0;
		feed(id, req, multipart_request(hdr, "firmware", len), 0);
		ck_assert_str_eq(out(id), success_response);
		check_image(len);
	}

	/* a wrong password, a stale nonce, another opaque */
	F.n_peers = 0;
	id = open_conn();
	digest_response("admin", "Login Required", "px", "GET", "/update", nonce, "00000001", "c",
			"auth", resp);
	snprintf(auth, sizeof(auth),
		 "GET /update HTTP/1.1\r\nAuthorization: Digest username=\"admin\", "
		 "realm=\"Login Required\", nonce=\"%s\", uri=\"/update\", cnonce=\"c\", "
		 "nc=00000001, qop=auth, response=\"%s\", opaque=\"%s\"\r\n\r\n",
		 nonce, resp, nonce);
	feeds(id, auth);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 401", 12), 0);
	/* the 401 issued a new nonce: the old one is stale now */
	F.random_byte = 0x11;
	digest_response("admin", "Login Required", "pw", "GET", "/update", nonce, "00000001", "c",
			"auth", resp);
	snprintf(auth, sizeof(auth),
		 "GET /update HTTP/1.1\r\nAuthorization: Digest username=\"admin\", "
		 "realm=\"Login Required\", nonce=\"%s\", uri=\"/update\", cnonce=\"c\", "
		 "nc=00000001, qop=auth, response=\"%s\", opaque=\"%s\"\r\n\r\n",
		 nonce, resp, nonce);
	peer(id)->len = 0;
	feeds(id, auth); /* nonce 5a.. was replaced by the last challenge (also 5a..) */
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 200", 12), 0);
	peer(id)->len = 0;
	feeds(id, "GET /update HTTP/1.1\r\n\r\n"); /* a challenge with nonce 11.. */
	peer(id)->len = 0;
	feeds(id, auth);
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 401", 12), 0);

	/* Basic works as well on a Digest server */
	peer(id)->len = 0;
	feeds(id, "GET /update HTTP/1.1\r\nAuthorization: Basic YWRtaW46cHc=\r\n\r\n");
	ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 200", 12), 0);
}
END_TEST

START_TEST(test_digest_needs_challenge)
{
	/* the stock server challenges with Basic and so never accepts Digest */
	static const char nonce[] = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
	char resp[33];
	char auth[512];
	int id;
	start("admin", "pw", OTA_HTTP_CHALLENGE_BASIC);
	F.random_byte = 0x5a;
	id = open_conn();
	feeds(id, "GET /update HTTP/1.1\r\n\r\n");
	digest_response("admin", "Login Required", "pw", "GET", "/update", nonce, "00000001", "c",
			"auth", resp);
	snprintf(auth, sizeof(auth),
		 "GET /update HTTP/1.1\r\nAuthorization: Digest username=\"admin\", "
		 "realm=\"Login Required\", nonce=\"%s\", uri=\"/update\", cnonce=\"c\", "
		 "nc=00000001, qop=auth, response=\"%s\", opaque=\"%s\"\r\n\r\n",
		 nonce, resp, nonce);
	peer(id)->len = 0;
	feeds(id, auth);
	ck_assert_str_eq(out(id), expect_401_get);
}
END_TEST

START_TEST(test_config_checks)
{
	struct ota_http_config c = config("u", "p", OTA_HTTP_CHALLENGE_DIGEST);
	c.ops.random = NULL;
	ck_assert_int_eq(ota_http_init(&S, &c), OTA_E_BAD_ARGS);
	c = config(NULL, NULL, OTA_HTTP_CHALLENGE_BASIC);
	c.image_hash = NULL;
	ck_assert_int_eq(ota_http_init(&S, &c), OTA_E_BAD_ARGS);
	c = config(NULL, NULL, OTA_HTTP_CHALLENGE_BASIC);
	c.path = "update";
	ck_assert_int_eq(ota_http_init(&S, &c), OTA_E_BAD_ARGS);
	c = config("a-user-name-that-is-much-longer-than-sixty-four-characters-in-total-x", "p",
		   OTA_HTTP_CHALLENGE_BASIC);
	ck_assert_int_eq(ota_http_init(&S, &c), OTA_E_BAD_ARGS);
	c = config(NULL, NULL, OTA_HTTP_CHALLENGE_BASIC);
	c.sink = NULL;
	ck_assert_int_eq(ota_http_init(&S, &c), OTA_E_BAD_ARGS);
	/* only a user name: no authentication, as stock */
	c = config("admin", "", OTA_HTTP_CHALLENGE_BASIC);
	ck_assert_int_eq(ota_http_init(&S, &c), 0);
	{
		int id = open_conn();
		feeds(id, "GET /update HTTP/1.1\r\n\r\n");
		ck_assert_int_eq(strncmp(out(id), "HTTP/1.1 200", 12), 0);
	}
}
END_TEST

START_TEST(test_base64)
{
	char out_b[16];
	ck_assert(ota_base64_encode((const uint8_t *)"", 0, out_b, sizeof(out_b)));
	ck_assert_str_eq(out_b, "");
	ck_assert(ota_base64_encode((const uint8_t *)"f", 1, out_b, sizeof(out_b)));
	ck_assert_str_eq(out_b, "Zg==");
	ck_assert(ota_base64_encode((const uint8_t *)"fo", 2, out_b, sizeof(out_b)));
	ck_assert_str_eq(out_b, "Zm8=");
	ck_assert(ota_base64_encode((const uint8_t *)"foobar", 6, out_b, sizeof(out_b)));
	ck_assert_str_eq(out_b, "Zm9vYmFy");
	ck_assert(!ota_base64_encode((const uint8_t *)"foobar", 6, out_b, 8));
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("routes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_get_form);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_not_found_and_info);
	tcase_add_test(tc, test_custom_path);
	tcase_add_test(tc, test_config_checks);
	tcase_add_test(tc, test_base64);
	suite_add_tcase(s, tc);

	tc = tcase_create("multipart");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_multipart_upload);
	tcase_add_loop_test(tc, test_multipart_fields, 0, 5);
	tcase_add_loop_test(tc, test_multipart_boundary_forms, 0, 5);
	tcase_add_test(tc, test_multipart_split_everywhere);
	tcase_add_test(tc, test_multipart_more_parts);
	tcase_add_test(tc, test_multipart_no_length);
	tcase_add_test(tc, test_multipart_empty_and_missing_file);
	tcase_add_test(tc, test_multipart_bad);
	tcase_add_test(tc, test_multipart_truncated);
	tcase_add_test(tc, test_multipart_sink_errors);
	tcase_add_test(tc, test_multipart_md5);
	suite_add_tcase(s, tc);

	tc = tcase_create("raw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_raw_upload);
	tcase_add_test(tc, test_raw_refusals);
	tcase_add_test(tc, test_expect_continue);
	suite_add_tcase(s, tc);

	tc = tcase_create("connections");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_one_update_at_a_time);
	tcase_add_test(tc, test_connection_slots);
	tcase_add_test(tc, test_header_limits);
	tcase_add_test(tc, test_bad_requests);
	tcase_add_test(tc, test_slowloris);
	tcase_add_test(tc, test_body_stall);
	tcase_add_test(tc, test_send_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("auth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_basic_auth);
	tcase_add_test(tc, test_basic_auth_upload);
	tcase_add_test(tc, test_digest_helper_rfc2617);
	tcase_add_test(tc, test_digest_auth);
	tcase_add_test(tc, test_digest_needs_challenge);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(http_suite());
}
