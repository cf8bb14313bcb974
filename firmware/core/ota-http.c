/* SPDX-License-Identifier: MIT */
/* ota-http.c - connections, routes, responses, the multipart reader and the update */

#include "ota-http-private.h"
#include "ota/ota-auth.h"
#include "ota/ota-util.h"

#define DEFAULT_PATH "/update"
#define INFO_PATH "/info"
#define ID_SLOT_BITS 4
#define ID_SLOT_MASK ((1 << ID_SLOT_BITS) - 1)
#define GEN_MASK 0x7ff

/* the stock pages (esp8266/Arduino ESP8266HTTPUpdateServer-impl.h), byte for byte */
static const char form_page[] =
    "<!DOCTYPE html>\n"
    "     <html lang='en'>\n"
    "     <head>\n"
    "         <meta charset='utf-8'>\n"
    "         <meta name='viewport' content='width=device-width,initial-scale=1'/>\n"
    "     </head>\n"
    "     <body>\n"
    "     <form method='POST' action='' enctype='multipart/form-data'>\n"
    "         Firmware:<br>\n"
    "         <input type='file' accept='.bin,.bin.gz' name='firmware'>\n"
    "         <input type='submit' value='Update Firmware'>\n"
    "     </form>\n"
    "     <form method='POST' action='' enctype='multipart/form-data'>\n"
    "         FileSystem:<br>\n"
    "         <input type='file' accept='.bin,.bin.gz' name='filesystem'>\n"
    "         <input type='submit' value='Update FileSystem'>\n"
    "     </form>\n"
    "     </body>\n"
    "     </html>";
static const char success_page[] =
    "<META http-equiv=\"refresh\" content=\"15;URL=/\">Update Success! Rebooting...";
static const char cors_headers[] = "Access-Control-Allow-Headers: *\r\n"
				   "Access-Control-Allow-Origin: *\r\n";

/* ---- time ---- */

static bool
due(uint32_t now, uint32_t deadline)
{
	return (int32_t)(now - deadline) >= 0;
}

/* ---- connections ---- */

static void
emit(struct ota_http_server *srv, enum ota_http_event ev, int id, uint32_t a, uint32_t b)
{
	if (srv->ops.event != 0)
		srv->ops.event(srv->ops.user, ev, id, a, b);
}

static int
conn_id(const struct ota_http_server *srv, int slot)
{
	return (int)(((unsigned)srv->conns[slot].gen << ID_SLOT_BITS) | (unsigned)slot);
}

static int
lookup(const struct ota_http_server *srv, int id)
{
	int slot;
	if (srv == 0 || id < 0)
		return -1;
	slot = id & ID_SLOT_MASK;
	if (slot >= OTA_HTTP_MAX_CONN || !srv->conns[slot].used ||
	    srv->conns[slot].gen != (uint16_t)((unsigned)id >> ID_SLOT_BITS))
		return -1;
	return slot;
}

/* forget the current request; the connection waits for the next one */
static void
request_reset(struct ota_http_conn *c)
{
	c->state = CS_REQLINE;
	c->started = false;
	c->line_len = 0;
	c->line_over = false;
	c->n_headers = 0;
	c->header_bytes = 0;
	c->method = M_GET;
	c->minor = 0;
	c->path[0] = '\0';
	c->path_over = false;
	c->bad = false;
	c->md5_bad = false;
	c->md5[0] = '\0';
	c->have_md5 = false;
	c->boundary_len = 0;
	c->ctype = CT_NONE;
	c->auth_len = 0;
	c->has_length = false;
	c->content_length = 0;
	c->body_read = 0;
	c->chunked = false;
	c->expect_continue = false;
	c->keep_alive = false;
	c->authenticated = false;
	c->mp_state = MP_PREAMBLE;
	c->mp_match = 0;
	c->mp_empty = 0;
	c->mp_headers = 0;
	c->part_named = false;
	c->part_is_file = false;
	c->part_is_fs = false;
	c->part_writes = false;
	c->file_seen = false;
	c->upd_error = 0;
	c->upd_ok = false;
	c->upd_text[0] = '\0';
	c->uploaded = 0;
}

static void
hash_discard(struct ota_http_server *srv)
{
	if (srv->hashing) {
		uint8_t scratch[OTA_MD5_LEN];
		srv->hashing = false;
		(void)srv->image_hash->finish(srv->image_hash->user, OTA_HASH_MD5, scratch);
	}
}

static void
upd_release(struct ota_http_server *srv, struct ota_http_conn *c)
{
	hash_discard(srv);
	c->owns_update = false;
	c->part_writes = false;
	srv->update_owner = -1;
	srv->upload_len = 0;
}

/* the update of @c is dropped (error, close, timeout) */
static void
upd_abort(struct ota_http_server *srv, struct ota_http_conn *c)
{
	if (!c->owns_update)
		return;
	srv->sink->abort(srv->sink->user);
	upd_release(srv, c);
}

static void
conn_free(struct ota_http_server *srv, int slot)
{
	struct ota_http_conn *c = &srv->conns[slot];
	upd_abort(srv, c);
	c->used = false;
}

/* we close: tell the port, then forget the connection */
static void
conn_close(struct ota_http_server *srv, int slot)
{
	int id = conn_id(srv, slot);
	conn_free(srv, slot);
	srv->ops.close(srv->ops.user, id);
}

/* ---- responses ---- */

static const char *
reason(unsigned code)
{
	switch (code) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 505:
		return "HTTP Version not supported";
	default:
		return "";
	}
}

enum conn_header {
	HDR_KEEP,	/* as the request asked, and keep the connection */
	HDR_CLOSE,	/* "Connection: close", then close */
	HDR_KEEP_CLOSE, /* the stock success page: says keep-alive, then closes anyway */
};

static bool
raw_send(struct ota_http_server *srv, int slot, const char *data, size_t len)
{
	if (srv->ops.send(srv->ops.user, conn_id(srv, slot), (const uint8_t *)data, len) < 0) {
		/* the port could not take it: the connection is gone */
		conn_close(srv, slot);
		return false;
	}
	return true;
}

/*
 * One response, in the stock header order: status, Content-Type, the handler's own
 * headers, Content-Length, Connection (and Keep-Alive).
 */
static void
respond(struct ota_http_server *srv,
	int slot,
	unsigned code,
	const char *type,
	const char *extra,
	const char *body,
	size_t body_len,
	enum conn_header conn,
	uint32_t now)
{
	struct ota_http_conn *c = &srv->conns[slot];
	char *o = srv->out;
	size_t n = 0;
	bool keep;
	bool close_after = conn != HDR_KEEP;
	int id = conn_id(srv, slot);

	/* a body we did not read would be taken for the next request */
	if (c->chunked || (c->has_length && c->body_read < c->content_length))
		close_after = true;
	keep = c->keep_alive && (conn == HDR_KEEP_CLOSE || !close_after);

	ota_text_append(o, sizeof(srv->out), &n, "HTTP/1.");
	ota_text_append_u32(o, sizeof(srv->out), &n, c->minor);
	ota_text_append(o, sizeof(srv->out), &n, " ");
	ota_text_append_u32(o, sizeof(srv->out), &n, code);
	ota_text_append(o, sizeof(srv->out), &n, " ");
	ota_text_append(o, sizeof(srv->out), &n, reason(code));
	ota_text_append(o, sizeof(srv->out), &n, "\r\nContent-Type: ");
	ota_text_append(o, sizeof(srv->out), &n, type);
	ota_text_append(o, sizeof(srv->out), &n, "\r\n");
	if (extra != 0)
		ota_text_append(o, sizeof(srv->out), &n, extra);
	ota_text_append(o, sizeof(srv->out), &n, "Content-Length: ");
	ota_text_append_u32(o, sizeof(srv->out), &n, (uint32_t)body_len);
	if (keep) {
		ota_text_append(o, sizeof(srv->out), &n,
				"\r\nConnection: keep-alive\r\nKeep-Alive: timeout=");
		ota_text_append_u32(o, sizeof(srv->out), &n, srv->keepalive_ms);
		ota_text_append(o, sizeof(srv->out), &n, "\r\n\r\n");
	} else {
		ota_text_append(o, sizeof(srv->out), &n, "\r\nConnection: close\r\n\r\n");
	}
	if (n + body_len >= sizeof(srv->out)) {
		/* cannot happen with our bodies; never send a cut response */
		conn_close(srv, slot);
		return;
	}
	ota_copy(o + n, body, body_len);
	n += body_len;
	if (!raw_send(srv, slot, o, n))
		return;
	emit(srv, OTA_HTTP_EV_RESPONSE, id, code, 0);
	if (close_after || !c->keep_alive) {
		conn_close(srv, slot);
		return;
	}
	request_reset(c);
	c->deadline_ms = now + srv->keepalive_ms;
}

static void
respond_text(struct ota_http_server *srv, int slot, unsigned code, const char *text, uint32_t now)
{
	size_t n = ota_strnlen(text, OTA_HTTP_OUT_MAX);
	respond(srv, slot, code, "text/plain", 0, text, n, HDR_CLOSE, now);
}

static void
random_hex(struct ota_http_server *srv, char out[33])
{
	uint8_t r[16];
	if (srv->ops.random == 0 || srv->ops.random(srv->ops.user, r, sizeof(r)) != 0)
		ota_fill(r, 0, sizeof(r)); /* an all-zero nonce still works, it is just guessable */
	ota_hex(r, sizeof(r), out);
}

/* requestAuthentication(): 401 with the challenge, no body */
static void
respond_401(struct ota_http_server *srv, int slot, bool cors, enum conn_header conn, uint32_t now)
{
	char extra[256];
	size_t n = 0;
	extra[0] = '\0';
	if (cors)
		ota_text_append(extra, sizeof(extra), &n, cors_headers);
	if (srv->challenge == OTA_HTTP_CHALLENGE_DIGEST) {
		random_hex(srv, srv->snonce);
		random_hex(srv, srv->sopaque);
		ota_text_append(extra, sizeof(extra), &n,
				"WWW-Authenticate: Digest realm=\"" OTA_HTTP_REALM
				"\", qop=\"auth\", nonce=\"");
		ota_text_append(extra, sizeof(extra), &n, srv->snonce);
		ota_text_append(extra, sizeof(extra), &n, "\", opaque=\"");
		ota_text_append(extra, sizeof(extra), &n, srv->sopaque);
		ota_text_append(extra, sizeof(extra), &n, "\"\r\n");
	} else {
		ota_text_append(extra, sizeof(extra), &n,
				"WWW-Authenticate: Basic realm=\"" OTA_HTTP_REALM "\"\r\n");
	}
	respond(srv, slot, 401, "text/html", extra, "", 0, conn, now);
}

/* ---- authentication ---- */

/* the stock authenticate(): "Basic ..." or "Digest ..." */
static bool
authenticate(struct ota_http_server *srv, int slot)
{
	struct ota_http_conn *c = &srv->conns[slot];
	bool ok = false;
	if (!srv->auth_required)
		return true;
	if (ota_http_starts_with(c->auth, c->auth_len, "Basic"))
		ok = ota_http_check_basic(srv, c);
	else if (ota_http_starts_with(c->auth, c->auth_len, "Digest") && c->auth_len > 7)
		ok = ota_http_check_digest(srv, c);
	if (!ok)
		emit(srv, OTA_HTTP_EV_AUTH_FAILED, conn_id(srv, slot), 0, 0);
	return ok;
}

/* ---- the update ---- */

static void
upd_fail(struct ota_http_server *srv,
	 struct ota_http_conn *c,
	 int id,
	 enum ota_update_error err,
	 const char *text)
{
	size_t pos = 0;
	if (c->upd_error != 0)
		return;
	c->upd_error = (uint8_t)err;
	c->upd_text[0] = '\0';
	if (text != 0)
		ota_text_append(c->upd_text, sizeof(c->upd_text), &pos, text);
	emit(srv, OTA_HTTP_EV_UPDATE_ERROR, id, (uint32_t)err, 0);
}

static const char *
sink_text(struct ota_http_server *srv, int rc)
{
	const char *text = 0;
	if (srv->sink->error_text != 0)
		text = srv->sink->error_text(srv->sink->user);
	return text != 0 ? text : ota_update_error_detail(rc);
}

static bool
upd_begin(struct ota_http_server *srv, int slot, uint32_t size, int cmd)
{
	struct ota_http_conn *c = &srv->conns[slot];
	int id = conn_id(srv, slot);
	int rc;
	if (srv->update_owner >= 0) {
		upd_fail(srv, c, id, OTA_UPDATE_ERR_RUNNING, 0);
		return false;
	}
	rc = srv->sink->begin(srv->sink->user, size, cmd, c->have_md5 ? c->md5 : 0);
	if (rc < 0) {
		upd_fail(srv, c, id, ota_update_error_from_ota(rc), sink_text(srv, rc));
		return false;
	}
	if (c->have_md5) {
		if (srv->image_hash->begin(srv->image_hash->user, OTA_HASH_MD5) != 0) {
			srv->sink->abort(srv->sink->user);
			upd_fail(srv, c, id, OTA_UPDATE_ERR_OOM, 0);
			return false;
		}
		srv->hashing = true;
	}
	srv->update_owner = slot;
	srv->upload_len = 0;
	c->owns_update = true;
	c->uploaded = 0;
	emit(srv, OTA_HTTP_EV_UPDATE_START, id, (uint32_t)cmd, size);
	return true;
}

static void
upd_write(struct ota_http_server *srv, int slot, const uint8_t *data, size_t len)
{
	struct ota_http_conn *c = &srv->conns[slot];
	int id = conn_id(srv, slot);
	int rc;
	if (!c->owns_update || len == 0)
		return;
	rc = srv->sink->write(srv->sink->user, data, len);
	if (rc < 0) {
		upd_fail(srv, c, id, ota_update_error_from_ota(rc), sink_text(srv, rc));
		upd_abort(srv, c);
		return;
	}
	if (srv->hashing &&
	    srv->image_hash->update(srv->image_hash->user, OTA_HASH_MD5, data, len) != 0) {
		upd_fail(srv, c, id, OTA_UPDATE_ERR_MD5, 0);
		upd_abort(srv, c);
		return;
	}
	c->uploaded += (uint32_t)len;
	emit(srv, OTA_HTTP_EV_UPDATE_PROGRESS, id, c->uploaded, 0);
}

static void
upd_flush(struct ota_http_server *srv, int slot)
{
	uint16_t n = srv->upload_len;
	srv->upload_len = 0;
	upd_write(srv, slot, srv->upload_buf, n);
}

/* Update.end(true): everything is in */
static void
upd_end(struct ota_http_server *srv, int slot)
{
	struct ota_http_conn *c = &srv->conns[slot];
	int id = conn_id(srv, slot);
	int rc;
	if (!c->owns_update)
		return;
	upd_flush(srv, slot);
	if (!c->owns_update)
		return;
	if (c->uploaded == 0) {
		upd_fail(srv, c, id, OTA_UPDATE_ERR_NO_DATA, 0);
		upd_abort(srv, c);
		return;
	}
	if (srv->hashing) {
		uint8_t d[OTA_MD5_LEN];
		char calc[33];
		bool match = true;
		srv->hashing = false;
		if (srv->image_hash->finish(srv->image_hash->user, OTA_HASH_MD5, d) != 0)
			ota_fill(d, 0, sizeof(d));
		ota_hex(d, sizeof(d), calc);
		for (size_t i = 0; i < 32; i++)
			match = match && ota_http_lower(c->md5[i]) == calc[i];
		if (!match) {
			char text[128];
			size_t pos = 0;
			ota_text_append(text, sizeof(text), &pos,
					"MD5 verification failed: expected: ");
			ota_text_append(text, sizeof(text), &pos, c->md5);
			ota_text_append(text, sizeof(text), &pos, ", calculated: ");
			ota_text_append(text, sizeof(text), &pos, calc);
			upd_fail(srv, c, id, OTA_UPDATE_ERR_MD5, text);
			upd_abort(srv, c);
			return;
		}
	}
	rc = srv->sink->end(srv->sink->user);
	upd_release(srv, c);
	if (rc < 0) {
		upd_fail(srv, c, id, ota_update_error_from_ota(rc), sink_text(srv, rc));
		return;
	}
	c->upd_ok = true;
}

/* the POST handler's completion, after the whole body */
static void
respond_upload(struct ota_http_server *srv, int slot, uint32_t now)
{
	struct ota_http_conn *c = &srv->conns[slot];
	int id = conn_id(srv, slot);
	if (!c->authenticated) {
		respond_401(srv, slot, true, HDR_KEEP, now);
		return;
	}
	if (!c->upd_ok && c->upd_error == 0)
		upd_fail(srv, c, id, OTA_UPDATE_ERR_NO_DATA, 0); /* no file part at all */
	if (c->upd_error != 0) {
		size_t n = 0;
		ota_text_append(srv->body, sizeof(srv->body), &n, "Update error: ");
		n += ota_update_error_format(
		    OTA_FLAVOR_ESP8266, (enum ota_update_error)c->upd_error,
		    c->upd_text[0] != '\0' ? c->upd_text : 0, srv->body + n, sizeof(srv->body) - n);
		respond(srv, slot, 200, "text/html", cors_headers, srv->body, n, HDR_KEEP, now);
		return;
	}
	{
		uint32_t bytes = c->uploaded;
		respond(srv, slot, 200, "text/html", cors_headers, success_page,
			sizeof(success_page) - 1, HDR_KEEP_CLOSE, now);
		emit(srv, OTA_HTTP_EV_UPDATE_END, id, bytes, 0);
	}
}

/* ---- request line and headers ---- */

static bool
send_continue(struct ota_http_server *srv, int slot)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct ota_http_conn *c = &srv->conns[slot];
	if (!c->expect_continue || c->minor == 0)
		return true;
	return raw_send(srv, slot, cont, sizeof(cont) - 1);
}

static void
start_post(struct ota_http_server *srv, int slot, uint32_t now)
{
	struct ota_http_conn *c = &srv->conns[slot];
	if (c->chunked) {
		respond_text(srv, slot, 411, "Chunked request bodies are not supported", now);
		return;
	}
	if (c->md5_bad) {
		respond_text(srv, slot, 400, "MD5 must be 32 hex digits", now);
		return;
	}
	c->authenticated = authenticate(srv, slot);
	if (c->ctype == CT_MULTIPART) {
		if (c->boundary_len == 0) {
			respond_text(srv, slot, 400, "Missing or bad multipart boundary", now);
			return;
		}
		if (c->expect_continue && !c->authenticated) {
			respond_401(srv, slot, true, HDR_CLOSE, now);
			return;
		}
		if (!send_continue(srv, slot))
			return;
		c->state = CS_MULTIPART;
		c->mp_state = MP_PREAMBLE;
		c->line_len = 0;
		c->line_over = false;
		c->deadline_ms = now + srv->body_timeout_ms;
		if (c->has_length && c->content_length == 0)
			respond_text(srv, slot, 400, "Truncated multipart body", now);
		return;
	}
	if (c->ctype == CT_OCTET) {
		if (!c->has_length) {
			respond_text(srv, slot, 411, "Content-Length required", now);
			return;
		}
		if (!c->authenticated) {
			respond_401(srv, slot, true, HDR_CLOSE, now);
			return;
		}
		if (c->content_length == 0) {
			upd_fail(srv, c, conn_id(srv, slot), OTA_UPDATE_ERR_SIZE, 0);
			respond_upload(srv, slot, now);
			return;
		}
		if (!upd_begin(srv, slot, c->content_length, OTA_CMD_FLASH)) {
			respond_upload(srv, slot, now);
			return;
		}
		if (!send_continue(srv, slot))
			return;
		c->state = CS_RAW;
		c->deadline_ms = now + srv->body_timeout_ms;
		return;
	}
	respond_text(srv, slot, 400, "Expected multipart/form-data or application/octet-stream",
		     now);
}

/* all headers are in: route the request */
static void
dispatch(struct ota_http_server *srv, int slot, uint32_t now)
{
	struct ota_http_conn *c = &srv->conns[slot];
	size_t pn;
	if (c->bad) {
		respond_text(srv, slot, 400, "Bad Request", now);
		return;
	}
	if (c->path_over) {
		respond_text(srv, slot, 414, "URI Too Long", now);
		return;
	}
	pn = ota_strnlen(c->path, sizeof(c->path));
	if (ota_http_same(c->path, pn, srv->path)) {
		switch (c->method) {
		case M_GET:
			if (!authenticate(srv, slot)) {
				respond_401(srv, slot, false, HDR_KEEP, now);
				return;
			}
			respond(srv, slot, 200, "text/html", 0, form_page, sizeof(form_page) - 1,
				HDR_KEEP, now);
			return;
		case M_OPTIONS:
			respond(srv, slot, 200, "text/html", cors_headers, "y", 1, HDR_KEEP, now);
			return;
		case M_POST:
			start_post(srv, slot, now);
			return;
		default:
			break;
		}
	} else if (c->method == M_GET && ota_http_same(c->path, pn, INFO_PATH) &&
		   srv->ops.info_json != 0) {
		int n = srv->ops.info_json(srv->ops.user, srv->body, sizeof(srv->body));
		if (n < 0 || (size_t)n >= sizeof(srv->body)) {
			respond_text(srv, slot, 500, "Internal Server Error", now);
			return;
		}
		respond(srv, slot, 200, "application/json", 0, srv->body, (size_t)n, HDR_KEEP, now);
		return;
	}
	{
		size_t n = 0;
		ota_text_append(srv->body, sizeof(srv->body), &n, "Not found: ");
		ota_text_append(srv->body, sizeof(srv->body), &n, c->path);
		respond(srv, slot, 404, "text/html", 0, srv->body, n, HDR_KEEP, now);
	}
}

/*
 * Feeds one byte to the line reader. Returns true when a line is complete in c->line
 * (NUL-terminated, without CR LF); c->line_over tells that it was cut at
 * OTA_HTTP_LINE_MAX.
 */
static bool
line_byte(struct ota_http_conn *c, uint8_t b)
{
	if (b == '\n') {
		if (c->line_len > 0 && c->line[c->line_len - 1] == '\r' && !c->line_over)
			c->line_len--;
		c->line[c->line_len] = '\0';
		return true;
	}
	if (c->line_len < OTA_HTTP_LINE_MAX - 1)
		c->line[c->line_len++] = (char)b;
	else
		c->line_over = true;
	return false;
}

static void
line_clear(struct ota_http_conn *c)
{
	c->line_len = 0;
	c->line_over = false;
}

/* one byte of the request line or the headers */
static void
header_byte(struct ota_http_server *srv, int slot, uint8_t b, uint32_t now)
{
	struct ota_http_conn *c = &srv->conns[slot];
	if (!c->started) {
		c->started = true;
		c->deadline_ms = now + srv->header_timeout_ms;
	}
	if (++c->header_bytes > OTA_HTTP_HEADER_BYTES_MAX) {
		respond_text(srv, slot, 431, "Request Header Fields Too Large", now);
		return;
	}
	if (!line_byte(c, b)) {
		if (c->line_over) {
			/* do not wait for the end of a line that is too long already */
			if (c->state == CS_REQLINE)
				respond_text(srv, slot, 414, "URI Too Long", now);
			else
				respond_text(srv, slot, 431, "Request Header Fields Too Large",
					     now);
		}
		return;
	}
	if (c->state == CS_REQLINE) {
		unsigned status;
		if (c->line_len == 0) {
			/* empty lines before a request are ignored (RFC 7230 §3.5) */
			c->header_bytes = 0;
			c->started = false;
			return;
		}
		status = ota_http_parse_request_line(c);
		line_clear(c);
		if (status != 0) {
			respond_text(srv, slot, status, reason(status), now);
			return;
		}
		c->state = CS_HEADERS;
		return;
	}
	if (c->line_len == 0) {
		line_clear(c);
		dispatch(srv, slot, now);
		return;
	}
	if (++c->n_headers > OTA_HTTP_MAX_HEADERS) {
		respond_text(srv, slot, 431, "Request Header Fields Too Large", now);
		return;
	}
	ota_http_parse_header(c);
	line_clear(c);
}

/* ---- multipart ---- */

static char
delim_char(const struct ota_http_conn *c, uint16_t i)
{
	static const char head[] = "\r\n--";
	return i < 4 ? head[i] : c->boundary[i - 4];
}

static uint16_t
delim_len(const struct ota_http_conn *c)
{
	return (uint16_t)(4 + c->boundary_len);
}

/* "--boundary" at the start of the line; *rest gets what follows */
static bool
boundary_line(const struct ota_http_conn *c, const char **rest, size_t *rest_n)
{
	if (c->line_len < 2u + c->boundary_len || c->line[0] != '-' || c->line[1] != '-' ||
	    ota_compare(c->line + 2, c->boundary, c->boundary_len) != 0)
		return false;
	*rest = c->line + 2 + c->boundary_len;
	*rest_n = c->line_len - 2u - c->boundary_len;
	return true;
}

static void
file_byte(struct ota_http_server *srv, int slot, uint8_t b)
{
	struct ota_http_conn *c = &srv->conns[slot];
	if (!c->part_writes || !c->owns_update)
		return;
	srv->upload_buf[srv->upload_len++] = b;
	if (srv->upload_len == OTA_HTTP_UPLOAD_BUF)
		upd_flush(srv, slot);
}

static void
part_reset(struct ota_http_conn *c)
{
	c->mp_headers = 0;
	c->part_named = false;
	c->part_is_file = false;
	c->part_is_fs = false;
	c->part_writes = false;
}

static void
part_body_start(struct ota_http_server *srv, int slot)
{
	struct ota_http_conn *c = &srv->conns[slot];
	if (!(c->part_named && c->part_is_file)) {
		c->mp_state = MP_TEXT;
		return;
	}
	c->mp_state = MP_FILE;
	c->mp_match = 0;
	/* the first file part is the image; later ones are read and dropped */
	if (!c->file_seen) {
		c->file_seen = true;
		if (c->authenticated && upd_begin(srv, slot, OTA_SINK_SIZE_UNKNOWN,
						  c->part_is_fs ? OTA_CMD_FS : OTA_CMD_FLASH))
			c->part_writes = true;
	}
}

static void
mp_fail(struct ota_http_server *srv, int slot, const char *why, uint32_t now)
{
	upd_abort(srv, &srv->conns[slot]);
	respond_text(srv, slot, 400, why, now);
}

static void
mp_byte(struct ota_http_server *srv, int slot, uint8_t b, uint32_t now)
{
	struct ota_http_conn *c = &srv->conns[slot];
	const char *rest;
	size_t rest_n;

	switch (c->mp_state) {
	case MP_PREAMBLE:
		if (!line_byte(c, b)) {
			if (c->line_over)
				mp_fail(srv, slot,
					"Multipart body does not start with the boundary", now);
			return;
		}
		if (c->line_len == 0 && !c->line_over) {
			/* the stock reader skips up to two empty lines */
			if (++c->mp_empty > 2)
				mp_fail(srv, slot,
					"Multipart body does not start with the boundary", now);
			line_clear(c);
			return;
		}
		if (!c->line_over && boundary_line(c, &rest, &rest_n)) {
			ota_http_trim(&rest, &rest_n);
			if (rest_n == 0) {
				c->mp_state = MP_PART_HEADERS;
				part_reset(c);
				line_clear(c);
				return;
			}
		}
		mp_fail(srv, slot, "Multipart body does not start with the boundary", now);
		return;
	case MP_PART_HEADERS:
		if (!line_byte(c, b)) {
			if (c->line_over)
				mp_fail(srv, slot, "Multipart part headers too large", now);
			return;
		}
		if (c->line_over || ++c->mp_headers > OTA_HTTP_PART_HEADERS_MAX) {
			mp_fail(srv, slot, "Multipart part headers too large", now);
			return;
		}
		if (c->line_len == 0) {
			line_clear(c);
			part_body_start(srv, slot);
			return;
		}
		if (c->line_len > 19 &&
		    ota_http_starts_ci(c->line, c->line_len, "Content-Disposition"))
			ota_http_parse_disposition(c);
		line_clear(c);
		return;
	case MP_TEXT:
		if (!line_byte(c, b))
			return;
		if (boundary_line(c, &rest, &rest_n)) {
			ota_http_trim(&rest, &rest_n);
			if (rest_n >= 2 && rest[0] == '-' && rest[1] == '-') {
				c->mp_state = MP_EPILOGUE;
			} else {
				c->mp_state = MP_PART_HEADERS;
				part_reset(c);
			}
		}
		line_clear(c);
		return;
	case MP_FILE:
		if (b == (uint8_t)delim_char(c, c->mp_match)) {
			if (++c->mp_match == delim_len(c)) {
				c->mp_match = 0;
				if (c->part_writes) {
					upd_end(srv, slot);
					c->part_writes = false;
				}
				c->mp_state = MP_AFTER_DELIM;
				line_clear(c);
			}
			return;
		}
		/* what matched so far was data after all; CR may start the delimiter again */
		for (uint16_t i = 0; i < c->mp_match; i++)
			file_byte(srv, slot, (uint8_t)delim_char(c, i));
		if (b == '\r') {
			c->mp_match = 1;
		} else {
			c->mp_match = 0;
			file_byte(srv, slot, b);
		}
		return;
	case MP_AFTER_DELIM:
		if (!line_byte(c, b))
			return;
		if (c->line_len >= 2 && c->line[0] == '-' && c->line[1] == '-') {
			c->mp_state = MP_EPILOGUE;
		} else {
			c->mp_state = MP_PART_HEADERS;
			part_reset(c);
		}
		line_clear(c);
		return;
	case MP_EPILOGUE:
	default:
		return;
	}
}

/* file data up to the next CR, straight into the upload buffer */
static size_t
mp_fast(struct ota_http_server *srv, int slot, const uint8_t *data, size_t len)
{
	struct ota_http_conn *c = &srv->conns[slot];
	size_t n = 0;
	while (n < len && data[n] != '\r')
		n++;
	if (c->part_writes && c->owns_update) {
		size_t done = 0;
		while (done < n) {
			size_t room = OTA_HTTP_UPLOAD_BUF - srv->upload_len;
			size_t take = n - done < room ? n - done : room;
			ota_copy(srv->upload_buf + srv->upload_len, data + done, take);
			srv->upload_len = (uint16_t)(srv->upload_len + take);
			done += take;
			if (srv->upload_len == OTA_HTTP_UPLOAD_BUF) {
				upd_flush(srv, slot);
				if (!c->owns_update)
					break;
			}
		}
	}
	return n;
}

/* the body is complete (or the form ended without a length) */
static void
mp_done(struct ota_http_server *srv, int slot, uint32_t now)
{
	struct ota_http_conn *c = &srv->conns[slot];
	if (c->mp_state != MP_EPILOGUE) {
		mp_fail(srv, slot, "Truncated multipart body", now);
		return;
	}
	respond_upload(srv, slot, now);
}

/* ---- entry points ---- */

int
ota_http_init(struct ota_http_server *srv, const struct ota_http_config *cfg)
{
	size_t pl;
	size_t ul;
	size_t wl;
	if (srv == 0 || cfg == 0)
		return OTA_E_BAD_ARGS;
	ota_fill(srv, 0, sizeof(*srv));
	srv->update_owner = -1;
	if (cfg->sink == 0 || cfg->sink->begin == 0 || cfg->sink->write == 0 ||
	    cfg->sink->end == 0 || cfg->sink->abort == 0)
		return OTA_E_BAD_ARGS;
	if (cfg->ops.send == 0 || cfg->ops.close == 0)
		return OTA_E_BAD_ARGS;
	if (cfg->image_hash == 0 || cfg->image_hash->begin == 0 || cfg->image_hash->update == 0 ||
	    cfg->image_hash->finish == 0)
		return OTA_E_BAD_ARGS;
	pl = cfg->path != 0 ? ota_strnlen(cfg->path, sizeof(srv->path)) : 0;
	if (cfg->path != 0 && (pl == 0 || pl >= sizeof(srv->path) || cfg->path[0] != '/'))
		return OTA_E_BAD_ARGS;
	ota_copy(srv->path, cfg->path != 0 ? cfg->path : DEFAULT_PATH,
		 cfg->path != 0 ? pl : sizeof(DEFAULT_PATH) - 1);
	ul = cfg->username != 0 ? ota_strnlen(cfg->username, OTA_HTTP_CRED_MAX + 1) : 0;
	wl = cfg->password != 0 ? ota_strnlen(cfg->password, OTA_HTTP_CRED_MAX + 1) : 0;
	if (ul > OTA_HTTP_CRED_MAX || wl > OTA_HTTP_CRED_MAX)
		return OTA_E_BAD_ARGS;
	ota_copy(srv->username, cfg->username != 0 ? cfg->username : "", ul);
	ota_copy(srv->password, cfg->password != 0 ? cfg->password : "", wl);
	srv->auth_required = ul > 0 && wl > 0;
	if (cfg->challenge != OTA_HTTP_CHALLENGE_BASIC &&
	    cfg->challenge != OTA_HTTP_CHALLENGE_DIGEST)
		return OTA_E_BAD_ARGS;
	srv->challenge = cfg->challenge;
	if (srv->auth_required && srv->challenge == OTA_HTTP_CHALLENGE_DIGEST &&
	    (cfg->auth_hash == 0 || cfg->ops.random == 0))
		return OTA_E_BAD_ARGS;
	srv->sink = cfg->sink;
	srv->auth_hash = cfg->auth_hash;
	srv->image_hash = cfg->image_hash;
	srv->ops = cfg->ops;
	srv->header_timeout_ms =
	    cfg->header_timeout_ms != 0 ? cfg->header_timeout_ms : OTA_HTTP_HEADER_TIMEOUT_MS;
	srv->body_timeout_ms =
	    cfg->body_timeout_ms != 0 ? cfg->body_timeout_ms : OTA_HTTP_BODY_TIMEOUT_MS;
	srv->keepalive_ms = cfg->keepalive_ms != 0 ? cfg->keepalive_ms : OTA_HTTP_KEEPALIVE_MS;
	return 0;
}

int
ota_http_accept(struct ota_http_server *srv, uint32_t now_ms)
{
	if (srv == 0)
		return OTA_E_BAD_ARGS;
	for (int slot = 0; slot < OTA_HTTP_MAX_CONN; slot++) {
		struct ota_http_conn *c = &srv->conns[slot];
		if (c->used)
			continue;
		c->gen = (uint16_t)((c->gen + 1u) & GEN_MASK);
		c->used = true;
		c->owns_update = false;
		request_reset(c);
		c->deadline_ms = now_ms + srv->header_timeout_ms;
		return conn_id(srv, slot);
	}
	return OTA_E_BUSY;
}

int
ota_http_on_data(
    struct ota_http_server *srv, int conn, const uint8_t *data, size_t len, uint32_t now_ms)
{
	int slot = lookup(srv, conn);
	struct ota_http_conn *c;
	uint16_t gen;
	size_t i = 0;

	if (slot < 0 || (data == 0 && len != 0))
		return OTA_E_BAD_ARGS;
	c = &srv->conns[slot];
	gen = c->gen;
	while (i < len && c->used && c->gen == gen) {
		switch (c->state) {
		case CS_REQLINE:
		case CS_HEADERS:
			header_byte(srv, slot, data[i++], now_ms);
			break;
		case CS_MULTIPART: {
			size_t left = len - i;
			size_t n;
			if (c->has_length && left > c->content_length - c->body_read)
				left = c->content_length - c->body_read;
			c->deadline_ms = now_ms + srv->body_timeout_ms;
			if (c->mp_state == MP_FILE && c->mp_match == 0 && data[i] != '\r') {
				n = mp_fast(srv, slot, data + i, left);
				c->body_read += (uint32_t)n;
			} else if (c->mp_state == MP_EPILOGUE) {
				n = left;
				c->body_read += (uint32_t)n;
			} else {
				/* counted before it is handled: a response may follow from it */
				n = 1;
				c->body_read++;
				mp_byte(srv, slot, data[i], now_ms);
			}
			i += n;
			if (!c->used || c->gen != gen || c->state != CS_MULTIPART)
				break;
			if (c->has_length ? c->body_read == c->content_length
					  : c->mp_state == MP_EPILOGUE)
				mp_done(srv, slot, now_ms);
			break;
		}
		case CS_RAW: {
			size_t n = len - i;
			if (n > c->content_length - c->body_read)
				n = c->content_length - c->body_read;
			c->deadline_ms = now_ms + srv->body_timeout_ms;
			upd_write(srv, slot, data + i, n);
			i += n;
			c->body_read += (uint32_t)n;
			if (c->upd_error != 0) {
				/* our own extension: say so at once rather than read it all */
				respond_upload(srv, slot, now_ms);
			} else if (c->body_read == c->content_length) {
				upd_end(srv, slot);
				respond_upload(srv, slot, now_ms);
			}
			break;
		}
		default:
			i = len;
			break;
		}
	}
	return 0;
}

void
ota_http_on_close(struct ota_http_server *srv, int conn)
{
	int slot = lookup(srv, conn);
	if (slot >= 0)
		conn_free(srv, slot);
}

uint32_t
ota_http_poll(struct ota_http_server *srv, uint32_t now_ms)
{
	uint32_t next = UINT32_MAX;
	if (srv == 0)
		return UINT32_MAX;
	for (int slot = 0; slot < OTA_HTTP_MAX_CONN; slot++) {
		struct ota_http_conn *c = &srv->conns[slot];
		if (!c->used)
			continue;
		if (!due(now_ms, c->deadline_ms)) {
			uint32_t left = c->deadline_ms - now_ms;
			next = left < next ? left : next;
			continue;
		}
		if ((c->state == CS_REQLINE || c->state == CS_HEADERS) && !c->started) {
			conn_close(srv, slot); /* idle: nothing to answer */
			continue;
		}
		upd_abort(srv, c);
		respond_text(srv, slot, 408, "Request Timeout", now_ms);
	}
	return next;
}

unsigned
ota_http_connections(const struct ota_http_server *srv)
{
	unsigned n = 0;
	if (srv == 0)
		return 0;
	for (int slot = 0; slot < OTA_HTTP_MAX_CONN; slot++)
		n += srv->conns[slot].used;
	return n;
}

bool
ota_http_update_running(const struct ota_http_server *srv)
{
	return srv != 0 && srv->update_owner >= 0;
}
