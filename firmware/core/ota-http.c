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
#define OUT_MAX OTA_HTTP_OUT_MAX

/*
 * The stock pages (esp8266/Arduino ESP8266HTTPUpdateServer-impl.h), byte for byte. The
 * upload page's two forms differ only in their names, so they come from one template.
 */
#define PAGE_HEAD                                                                                  \
	"<!DOCTYPE html>\n"                                                                        \
	"     <html lang='en'>\n"                                                                  \
	"     <head>\n"                                                                            \
	"         <meta charset='utf-8'>\n"                                                        \
	"         <meta name='viewport' content='width=device-width,initial-scale=1'/>\n"          \
	"     </head>\n"                                                                           \
	"     <body>\n"
#define PAGE_FORM                                                                                  \
	"     <form method='POST' action='' enctype='multipart/form-data'>\n"                      \
	"         %s:<br>\n"                                                                       \
	"         <input type='file' accept='.bin,.bin.gz' name='%s'>\n"                           \
	"         <input type='submit' value='Update %s'>\n"                                       \
	"     </form>\n"
#define PAGE_TAIL                                                                                  \
	"     </body>\n"                                                                           \
	"     </html>"
/* ---- time ---- */

static bool
due(uint32_t now, uint32_t deadline)
{
	return (int32_t)(now - deadline) >= 0;
}

/* ---- connections ---- */

static int
conn_id(const struct ota_http_conn *c)
{
	return (int)(((unsigned)c->gen << ID_SLOT_BITS) | c->slot);
}

static void
emit(struct ota_http_server *srv, enum ota_http_event ev, struct ota_http_conn *c, uint32_t a)
{
	if (srv->ops.event != 0)
		srv->ops.event(srv->ops.user, ev, conn_id(c), a, 0);
}

static struct ota_http_conn *
lookup(struct ota_http_server *srv, int id)
{
	struct ota_http_conn *c;
	if (srv == 0 || id < 0 || (id & ID_SLOT_MASK) >= OTA_HTTP_MAX_CONN)
		return 0;
	c = &srv->conns[id & ID_SLOT_MASK];
	if (!c->used || c->gen != (uint16_t)((unsigned)id >> ID_SLOT_BITS))
		return 0;
	return c;
}

/* forget the current request; the connection waits for the next one */
static void
request_reset(struct ota_http_conn *c)
{
	ota_fill(&c->state, 0,
		 offsetof(struct ota_http_conn, auth) - offsetof(struct ota_http_conn, state));
}

/* @c no longer runs the update */
static OTA_NOINLINE void
upd_release(struct ota_http_server *srv, struct ota_http_conn *c)
{
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
	ota_sink_run_abort(&srv->run);
	upd_release(srv, c);
}

static void
conn_free(struct ota_http_server *srv, struct ota_http_conn *c)
{
	upd_abort(srv, c);
	c->used = false;
}

/* we close: tell the port, then forget the connection */
static void
conn_close(struct ota_http_server *srv, struct ota_http_conn *c)
{
	conn_free(srv, c);
	srv->ops.close(srv->ops.user, conn_id(c));
}

/* ---- responses ---- */

/*
 * Every response comes from one builder and a two-byte descriptor (enum reply). The texts
 * it uses are one blob: the reason phrases in the order of reply_codes[] first (a plain
 * error's body is its reason phrase), then the other static bodies, then the content types.
 * The challenges of requestAuthentication() have an empty body: srv->body with length 0.
 */
static const uint16_t reply_codes[] = {200, 400, 401, 404, 408, 411, 414, 431, 500, 505};
enum { S_200, S_400, S_401, S_404, S_408, S_411, S_414, S_431, S_500, S_505 };
static const char texts[] =
    "OK\0"
    "Bad Request\0"
    "Unauthorized\0"
    "Not Found\0"
    "Request Timeout\0"
    "Length Required\0"
    "URI Too Long\0"
    "Request Header Fields Too Large\0"
    "Internal Server Error\0"
    "HTTP Version not supported\0"
    "y\0"
    "<META http-equiv=\"refresh\" content=\"15;URL=/\">Update Success! Rebooting...\0"
    "Chunked request bodies are not supported\0"
    "MD5 must be 32 hex digits\0"
    "Missing or bad multipart boundary\0"
    "Truncated multipart body\0"
    "Content-Length required\0"
    "Expected multipart/form-data or application/octet-stream\0"
    "Multipart body does not start with the boundary\0"
    "Multipart part headers too large\0"
    "text/plain\0"
    "text/html\0"
    "application/json\0";
/* the bodies after the reason phrases, in the order of texts[] */
enum {
	B_Y = S_505 + 1,
	B_SUCCESS,
	B_CHUNKED,
	B_MD5,
	B_BOUNDARY,
	B_TRUNCATED,
	B_LENGTH,
	B_CTYPE,
	B_NO_START,
	B_PART_HEADERS,
	T_TYPES,    /* text/plain, text/html, application/json */
	B_BUF = 31, /* the body is srv->body */
};
static const char cors_headers[] = "Access-Control-Allow-Headers: *\r\n"
				   "Access-Control-Allow-Origin: *\r\n";

/* descriptor byte 0: status (bits 0-3), content type (4-5), connection (6-7) */
#define TYPE_PLAIN (0 << 4)
#define TYPE_HTML (1 << 4)
#define TYPE_JSON (2 << 4)
#define KEEP (0 << 6)	    /* as the request asked, and keep the connection */
#define CLOSE (1 << 6)	    /* "Connection: close", then close */
#define KEEP_CLOSE (2 << 6) /* the stock success page: says keep-alive, then closes anyway */
/* descriptor byte 1: the body (bits 0-4), the CORS headers, the authentication challenge */
#define CORS (1 << 5)
#define AUTH (1 << 6)
#define ERROR_REPLY(s, body)                                                                       \
	{                                                                                          \
		(s) | TYPE_PLAIN | CLOSE, (body)                                                   \
	}

/*
 * R_414, R_431 and R_NO_START, R_PART_HEADERS are pairs in the order of the states that
 * answer a line too long with them (CS_REQLINE, CS_HEADERS; MP_PREAMBLE, MP_PART_HEADERS)
 */
enum reply {
	R_NONE, /* nothing to send (yet) */
	R_400,
	R_408,
	R_414,
	R_431,
	R_500,
	R_505,
	R_CHUNKED,
	R_MD5,
	R_BOUNDARY,
	R_TRUNCATED,
	R_LENGTH,
	R_CTYPE,
	R_NO_START,
	R_PART_HEADERS,
	R_FORM,
	R_OPTIONS,
	R_INFO,
	R_NOT_FOUND,
	R_UPDATE_ERROR,
	R_SUCCESS,
	R_401,		 /* requestAuthentication() of GET */
	R_401_CORS,	 /* of POST, after the body */
	R_401_CORS_CLOSE /* of POST, before the body */
};

/* the pairs above, checked by the compiler (an array of -1 elements does not compile) */
typedef char reply_pairs_follow_states[R_414 + CS_HEADERS == R_431 && CS_REQLINE == 0 &&
					       R_NO_START + MP_PART_HEADERS == R_PART_HEADERS &&
					       MP_PREAMBLE == 0
					   ? 1
					   : -1];

static const uint8_t replies[][2] = {
    {0, 0},
    ERROR_REPLY(S_400, S_400),
    ERROR_REPLY(S_408, S_408),
    ERROR_REPLY(S_414, S_414),
    ERROR_REPLY(S_431, S_431),
    ERROR_REPLY(S_500, S_500),
    ERROR_REPLY(S_505, S_505),
    ERROR_REPLY(S_411, B_CHUNKED),
    ERROR_REPLY(S_400, B_MD5),
    ERROR_REPLY(S_400, B_BOUNDARY),
    ERROR_REPLY(S_400, B_TRUNCATED),
    ERROR_REPLY(S_411, B_LENGTH),
    ERROR_REPLY(S_400, B_CTYPE),
    ERROR_REPLY(S_400, B_NO_START),
    ERROR_REPLY(S_400, B_PART_HEADERS),
    {S_200 | TYPE_HTML | KEEP, B_BUF},
    {S_200 | TYPE_HTML | KEEP, B_Y | CORS},
    {S_200 | TYPE_JSON | KEEP, B_BUF},
    {S_404 | TYPE_HTML | KEEP, B_BUF},
    {S_200 | TYPE_HTML | KEEP, B_BUF | CORS},
    {S_200 | TYPE_HTML | KEEP_CLOSE, B_SUCCESS | CORS},
    {S_401 | TYPE_HTML | KEEP, B_BUF | AUTH},
    {S_401 | TYPE_HTML | KEEP, B_BUF | CORS | AUTH},
    {S_401 | TYPE_HTML | CLOSE, B_BUF | CORS | AUTH},
};

static bool
raw_send(struct ota_http_server *srv, struct ota_http_conn *c, const char *data, size_t len)
{
	if (srv->ops.send(srv->ops.user, conn_id(c), (const uint8_t *)data, len) < 0) {
		/* the port could not take it: the connection is gone */
		conn_close(srv, c);
		return false;
	}
	return true;
}

/*
 * One response, in the stock header order: status, Content-Type, the handler's own
 * headers (CORS, the challenge of requestAuthentication()), Content-Length, Connection
 * (and Keep-Alive). @body_len counts for the bodies in srv->body.
 */
static void
reply(struct ota_http_server *srv, struct ota_http_conn *c, enum reply what, size_t body_len)
{
	unsigned d0 = replies[what][0];
	unsigned d1 = replies[what][1];
	unsigned code = reply_codes[d0 & 15];
	const char *body = srv->body;
	const char *auth = "";
	char *o = srv->out;
	size_t n;
	/*
	 * A body we did not read would be taken for the next request. content_length is 0
	 * without a Content-Length, and the success page (KEEP_CLOSE) comes after the body.
	 */
	bool keep =
	    c->keep_alive && (d0 & CLOSE) == 0 && !c->chunked && c->body_read >= c->content_length;
	bool close = !keep || (d0 & KEEP_CLOSE) != 0;

	if (what == R_NONE)
		return;
	if ((d1 & 31) != B_BUF) {
		body = ota_string_at(texts, d1 & 31);
		body_len = ota_strnlen(body, OUT_MAX);
	}
	/* an update this request ran ends before the answer goes out */
	if (close)
		upd_abort(srv, c);
	if ((d1 & AUTH) != 0) {
		/* a new nonce and opaque with every Digest challenge; its line waits in the unused body */
		auth = "WWW-Authenticate: Basic realm=\"" OTA_HTTP_REALM "\"\r\n";
		if (srv->challenge == OTA_HTTP_CHALLENGE_DIGEST) {
			for (unsigned k = 0; k < 2; k++) {
				uint8_t r[16];
				if (srv->ops.random == 0 ||
				    srv->ops.random(srv->ops.user, r, sizeof(r)) != 0)
					ota_fill(r, 0,
						 sizeof(r)); /* all-zero still works, just guessable */
				ota_hex(r, sizeof(r), srv->challenge_hex[k]);
			}
			auth = srv->body;
			ota_format(srv->body, sizeof(srv->body),
				   "WWW-Authenticate: Digest realm=\"" OTA_HTTP_REALM
				   "\", qop=\"auth\", nonce=\"%s\", opaque=\"%s\"\r\n",
				   srv->challenge_hex[OTA_HTTP_NONCE], srv->challenge_hex[OTA_HTTP_OPAQUE]);
		}
	}
	/* "%.*lu" of 0 with precision 0 prints nothing: the timeout only with keep-alive */
	n = ota_format(o, OUT_MAX,
		       "HTTP/1.%u %u %s\r\nContent-Type: %s\r\n%s%sContent-Length: %lu\r\n"
		       "Connection: %s%.*lu\r\n\r\n",
		       (unsigned)c->minor, code, ota_string_at(texts, d0 & 15),
		       ota_string_at(texts, T_TYPES + ((d0 >> 4) & 3)),
		       (d1 & CORS) != 0 ? cors_headers : "", auth, (unsigned long)body_len,
		       keep ? "keep-alive\r\nKeep-Alive: timeout=" : "close", keep ? 1 : 0,
		       keep ? (unsigned long)srv->keepalive_ms : 0ul);
	if (n + body_len + 1 >= OUT_MAX) {
		/* cannot happen with our bodies; never send a cut response */
		conn_close(srv, c);
		return;
	}
	ota_copy(o + n, body, body_len);
	if (!raw_send(srv, c, o, n + body_len))
		return;
	emit(srv, OTA_HTTP_EV_RESPONSE, c, code);
	if (close) {
		conn_close(srv, c);
		return;
	}
	request_reset(c);
	c->deadline_ms = srv->now_ms + srv->keepalive_ms;
}

/* a response with a static body (or none), or nothing at all for R_NONE */
static void
reply_static(struct ota_http_server *srv, struct ota_http_conn *c, enum reply what)
{
	reply(srv, c, what, 0);
}

/* ---- authentication ---- */

/* the stock authenticate(): "Basic ..." or "Digest ..." */
static bool
authenticate(struct ota_http_server *srv, struct ota_http_conn *c)
{
	bool ok = false;
	if (!srv->auth_required)
		return true;
	if (ota_http_match(c->auth, c->auth_len, "Basic", OTA_HTTP_PREFIX))
		ok = ota_http_check_basic(srv, c);
	else if (ota_http_match(c->auth, c->auth_len, "Digest", OTA_HTTP_PREFIX) && c->auth_len > 7)
		ok = ota_http_check_digest(srv, c);
	if (!ok)
		emit(srv, OTA_HTTP_EV_AUTH_FAILED, c, 0);
	return ok;
}

/* ---- the update ---- */

/*
 * The first error of a request counts. The ota_sink_run_* functions write their detail
 * text straight into c->upd_text (empty on success); they only run while no error is
 * recorded, and the errors found here have none.
 */
static void
upd_fail(struct ota_http_server *srv, struct ota_http_conn *c, enum ota_update_error err)
{
	if (c->upd_error != 0)
		return;
	c->upd_error = (uint8_t)err;
	emit(srv, OTA_HTTP_EV_UPDATE_ERROR, c, (uint32_t)err);
}

static bool
upd_begin(struct ota_http_server *srv, struct ota_http_conn *c, uint32_t size, int cmd)
{
	enum ota_update_error err = OTA_UPDATE_ERR_RUNNING;
	if (srv->update_owner < 0)
		err =
		    ota_sink_run_begin(&srv->run, size, cmd, c->have_md5 ? c->md5 : 0, c->upd_text);
	if (err != OTA_UPDATE_OK) {
		upd_fail(srv, c, err);
		return false;
	}
	/* upload_len is 0 while no update runs, uploaded since request_reset(): one per request */
	srv->update_owner = c->slot;
	c->owns_update = true;
	if (srv->ops.event != 0)
		srv->ops.event(srv->ops.user, OTA_HTTP_EV_UPDATE_START, conn_id(c), (uint32_t)cmd,
			       size);
	return true;
}

static void
upd_write(struct ota_http_server *srv, struct ota_http_conn *c, const uint8_t *data, size_t len)
{
	enum ota_update_error err;
	if (!c->owns_update || len == 0)
		return;
	err = ota_sink_run_write(&srv->run, data, len, c->upd_text);
	if (err != OTA_UPDATE_OK) {
		upd_release(srv, c);
		upd_fail(srv, c, err);
		return;
	}
	c->uploaded += (uint32_t)len;
	emit(srv, OTA_HTTP_EV_UPDATE_PROGRESS, c, c->uploaded);
}

static OTA_NOINLINE void
upd_flush(struct ota_http_server *srv, struct ota_http_conn *c)
{
	uint16_t n = srv->upload_len;
	srv->upload_len = 0;
	upd_write(srv, c, srv->upload_buf, n);
}

/* Update.end(true): everything is in */
static void
upd_end(struct ota_http_server *srv, struct ota_http_conn *c)
{
	enum ota_update_error err;
	if (!c->owns_update)
		return;
	upd_flush(srv, c);
	if (!c->owns_update)
		return;
	if (c->uploaded == 0) {
		upd_fail(srv, c, OTA_UPDATE_ERR_NO_DATA);
		upd_abort(srv, c);
		return;
	}
	/* the stock server's Updater compares the MD5 as ESP8266 does */
	err = ota_sink_run_end(&srv->run, c->md5, OTA_FLAVOR_ESP8266, false, c->upd_text);
	upd_release(srv, c);
	if (err != OTA_UPDATE_OK) {
		upd_fail(srv, c, err);
		return;
	}
	c->upd_ok = true;
}

/* the POST handler's completion, after the whole body */
static void
reply_upload(struct ota_http_server *srv, struct ota_http_conn *c)
{
	if (!c->authenticated) {
		reply_static(srv, c, R_401_CORS);
		return;
	}
	if (!c->upd_ok && c->upd_error == 0)
		upd_fail(srv, c, OTA_UPDATE_ERR_NO_DATA); /* no file part at all */
	if (c->upd_error != 0) {
		size_t n = ota_format(srv->body, sizeof(srv->body), "Update error: ");
		n += ota_update_error_format(
		    OTA_FLAVOR_ESP8266, (enum ota_update_error)c->upd_error,
		    c->upd_text[0] != '\0' ? c->upd_text : 0, srv->body + n, sizeof(srv->body) - n);
		reply(srv, c, R_UPDATE_ERROR, n);
		return;
	}
	{
		/* the success page closes the connection: what the event needs, taken first */
		int id = conn_id(c);
		uint32_t bytes = c->uploaded;
		reply_static(srv, c, R_SUCCESS);
		if (srv->ops.event != 0)
			srv->ops.event(srv->ops.user, OTA_HTTP_EV_UPDATE_END, id, bytes, 0);
	}
}

/* ---- request line and headers ---- */

static bool
send_continue(struct ota_http_server *srv, struct ota_http_conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (!c->expect_continue || c->minor == 0)
		return true;
	return raw_send(srv, c, cont, sizeof(cont) - 1);
}

/* the POST handler once the headers are in: the response to send, or R_NONE */
static enum reply
start_post(struct ota_http_server *srv, struct ota_http_conn *c)
{
	uint8_t state = CS_MULTIPART;
	if (c->chunked)
		return R_CHUNKED;
	if (c->md5_bad)
		return R_MD5;
	c->authenticated = authenticate(srv, c);
	if (c->ctype == CT_MULTIPART) {
		if (c->boundary_len == 0)
			return R_BOUNDARY;
		if (c->expect_continue && !c->authenticated)
			return R_401_CORS_CLOSE;
	} else if (c->ctype == CT_OCTET) {
		if (!c->has_length)
			return R_LENGTH;
		if (!c->authenticated)
			return R_401_CORS_CLOSE;
		if (c->content_length == 0)
			upd_fail(srv, c, OTA_UPDATE_ERR_SIZE);
		if (c->content_length == 0 ||
		    !upd_begin(srv, c, c->content_length, OTA_CMD_FLASH)) {
			reply_upload(srv, c);
			return R_NONE;
		}
		state = CS_RAW;
	} else {
		return R_CTYPE;
	}
	if (!send_continue(srv, c))
		return R_NONE;
	/* mp_state is MP_PREAMBLE already: request_reset() zeroed it */
	c->state = state;
	c->deadline_ms = srv->now_ms + srv->body_timeout_ms;
	/* an empty multipart body (a raw one of 0 bytes was answered above) */
	return c->has_length && c->content_length == 0 ? R_TRUNCATED : R_NONE;
}

/* the upload page into @out (OTA_HTTP_INFO_MAX bytes); returns its length */
static size_t
form_page(char *out)
{
	static const char labels[2][11] = {"Firmware", "FileSystem"};
	static const char names[2][11] = {"firmware", "filesystem"};
	size_t n = 0;
	/* the page's head comes before the first form, its tail after the second */
	for (int i = 0; i < 2; i++)
		n += ota_format(out + n, OTA_HTTP_INFO_MAX - n, "%s" PAGE_FORM "%s",
				i == 0 ? PAGE_HEAD : "", labels[i], names[i], labels[i],
				i == 0 ? "" : PAGE_TAIL);
	return n;
}

/* all headers are in: route the request; returns the response still to send, or R_NONE */
static enum reply
dispatch(struct ota_http_server *srv, struct ota_http_conn *c)
{
	size_t pn;
	if (c->bad)
		return R_400;
	if (c->path_over)
		return R_414;
	pn = ota_strnlen(c->path, sizeof(c->path));
	if (ota_http_match(c->path, pn, srv->path, OTA_HTTP_SAME)) {
		switch (c->method) {
		case M_GET:
			if (!authenticate(srv, c))
				return R_401;
			reply(srv, c, R_FORM, form_page(srv->body));
			return R_NONE;
		case M_OPTIONS:
			return R_OPTIONS;
		case M_POST:
			return start_post(srv, c);
		default:
			break;
		}
	} else if (c->method == M_GET && ota_http_match(c->path, pn, INFO_PATH, OTA_HTTP_SAME) &&
		   srv->ops.info_json != 0) {
		int n = srv->ops.info_json(srv->ops.user, srv->body, sizeof(srv->body));
		if (n < 0 || (size_t)n >= sizeof(srv->body))
			return R_500;
		reply(srv, c, R_INFO, (size_t)n);
		return R_NONE;
	}
	reply(srv, c, R_NOT_FOUND,
	      ota_format(srv->body, sizeof(srv->body), "Not found: %s", c->path));
	return R_NONE;
}

/*
 * Feeds one byte to the line reader. Returns true when a line is complete in c->line
 * (NUL-terminated, without CR LF); c->line_over tells that it was cut at
 * OTA_HTTP_LINE_MAX. The line stays there until the next byte starts a new one.
 */
static bool
line_byte(struct ota_http_conn *c, uint8_t b)
{
	if (c->line_done) {
		c->line_len = 0;
		c->line_over = false;
		c->line_done = false;
	}
	if (b == '\n') {
		if (c->line_len > 0 && c->line[c->line_len - 1] == '\r' && !c->line_over)
			c->line_len--;
		c->line[c->line_len] = '\0';
		c->line_done = true;
		return true;
	}
	if (c->line_len < OTA_HTTP_LINE_MAX - 1)
		c->line[c->line_len++] = (char)b;
	else
		c->line_over = true;
	return false;
}

/* one byte of the request line or the headers; returns the response to send, or R_NONE */
static enum reply
header_byte(struct ota_http_server *srv, struct ota_http_conn *c, uint8_t b)
{
	if (!c->started) {
		c->started = true;
		c->deadline_ms = srv->now_ms + srv->header_timeout_ms;
	}
	if (++c->header_bytes > OTA_HTTP_HEADER_BYTES_MAX)
		return R_431;
	if (!line_byte(c, b)) {
		/* do not wait for the end of a line that is too long already */
		if (c->line_over)
			return (enum reply)(R_414 + c->state); /* R_431 in the headers */
		return R_NONE;
	}
	if (c->state == CS_REQLINE) {
		unsigned status;
		if (c->line_len == 0) {
			/* empty lines before a request are ignored (RFC 7230 §3.5) */
			c->header_bytes = 0;
			c->started = false;
			return R_NONE;
		}
		status = ota_http_parse_request_line(c);
		if (status != 0)
			return status == 505 ? R_505 : R_400;
		c->state = CS_HEADERS;
		return R_NONE;
	}
	if (c->line_len == 0)
		return dispatch(srv, c);
	if (++c->n_headers > OTA_HTTP_MAX_HEADERS)
		return R_431;
	ota_http_parse_header(c);
	return R_NONE;
}

/* ---- multipart ---- */

/* "--boundary" at the start of the line; *rest gets what follows, without spaces around */
static bool
boundary_line(const struct ota_http_conn *c, const char **rest, size_t *rest_n)
{
	size_t n = 2u + c->boundary_len;
	if (c->line_len < n || ota_compare(c->line, c->delim + 2, n) != 0)
		return false;
	*rest = c->line + n;
	*rest_n = c->line_len - n;
	ota_http_trim(rest, rest_n);
	return true;
}

/* file data of the image part into the upload buffer, which goes to the sink when full */
static void
file_data(struct ota_http_server *srv, struct ota_http_conn *c, const uint8_t *data, size_t n)
{
	size_t done = 0;
	while (done < n && c->part_writes && c->owns_update) {
		size_t room = OTA_HTTP_UPLOAD_BUF - srv->upload_len;
		size_t take = n - done < room ? n - done : room;
		ota_copy(srv->upload_buf + srv->upload_len, data + done, take);
		srv->upload_len = (uint16_t)(srv->upload_len + take);
		done += take;
		if (srv->upload_len == OTA_HTTP_UPLOAD_BUF)
			upd_flush(srv, c);
	}
}

/* the next part's headers follow, or (after "--") the epilogue */
static void
part_next(struct ota_http_conn *c, bool last)
{
	c->mp_state = last ? MP_EPILOGUE : MP_PART_HEADERS;
	c->mp_headers = 0;
	c->part_named = false;
	c->part_is_file = false;
	c->part_is_fs = false;
	c->part_writes = false;
}

static void
part_body_start(struct ota_http_server *srv, struct ota_http_conn *c)
{
	if (!(c->part_named && c->part_is_file)) {
		c->mp_state = MP_TEXT;
		return;
	}
	c->mp_state = MP_FILE;
	c->mp_match = 0;
	/* the first file part is the image; later ones are read and dropped */
	if (!c->file_seen) {
		c->file_seen = true;
		if (c->authenticated && upd_begin(srv, c, OTA_SINK_SIZE_UNKNOWN,
						  c->part_is_fs ? OTA_CMD_FS : OTA_CMD_FLASH))
			c->part_writes = true;
	}
}

/* one body byte outside the fast path; returns the response to send, or R_NONE */
static enum reply
mp_byte(struct ota_http_server *srv, struct ota_http_conn *c, uint8_t b)
{
	const char *rest;
	size_t rest_n;

	if (c->mp_state == MP_FILE) {
		if (b != (uint8_t)c->delim[c->mp_match]) {
			/* what matched so far was data after all; CR may start it again */
			file_data(srv, c, (const uint8_t *)c->delim, c->mp_match);
			c->mp_match = 0;
			if (b != '\r') {
				file_data(srv, c, &b, 1);
				return R_NONE;
			}
		}
		if (++c->mp_match == 4u + c->boundary_len) {
			c->mp_match = 0;
			if (c->part_writes) {
				upd_end(srv, c);
				c->part_writes = false;
			}
			c->mp_state = MP_AFTER_DELIM;
		}
		return R_NONE;
	}
	if (c->mp_state == MP_EPILOGUE)
		return R_NONE;
	/* the other states read lines */
	if (!line_byte(c, b)) {
		if (c->line_over && c->mp_state <= MP_PART_HEADERS)
			return (enum reply)(R_NO_START + c->mp_state); /* R_PART_HEADERS */
		return R_NONE;
	}
	/* a line too long was answered above when it began to overflow in these two states */
	switch (c->mp_state) {
	case MP_PREAMBLE:
	case MP_TEXT: {
		bool first = c->mp_state == MP_PREAMBLE;
		/* the stock reader skips up to two empty lines before the first delimiter */
		if (first && c->line_len == 0)
			return ++c->mp_empty > 2 ? R_NO_START : R_NONE;
		/* a text part's lines are dropped; the first delimiter must be the boundary alone */
		if (!boundary_line(c, &rest, &rest_n) || (first && rest_n != 0))
			return first ? R_NO_START : R_NONE;
		break; /* the first part's headers follow, or the next part's, or the epilogue */
	}
	case MP_PART_HEADERS:
		if (++c->mp_headers > OTA_HTTP_PART_HEADERS_MAX)
			return R_PART_HEADERS;
		if (c->line_len == 0)
			part_body_start(srv, c);
		else if (ota_http_match(c->line, c->line_len, "Content-Disposition",
					OTA_HTTP_PREFIX | OTA_HTTP_CI))
			ota_http_parse_disposition(c);
		return R_NONE;
	default: /* MP_AFTER_DELIM: the rest of the delimiter's line */
		rest = c->line;
		rest_n = c->line_len;
		break;
	}
	/* "--" after the boundary closes the body */
	part_next(c, rest_n >= 2 && rest[0] == '-' && rest[1] == '-');
	return R_NONE;
}

/* file data up to the next CR, straight into the upload buffer */
static size_t
mp_fast(struct ota_http_server *srv, struct ota_http_conn *c, const uint8_t *data, size_t len)
{
	size_t n = 0;
	while (n < len && data[n] != '\r')
		n++;
	file_data(srv, c, data, n);
	return n;
}

/* ---- entry points ---- */

int
ota_http_init(struct ota_http_server *srv, const struct ota_http_config *cfg)
{
	if (srv == 0 || cfg == 0)
		return OTA_E_BAD_ARGS;
	ota_fill(srv, 0, sizeof(*srv));
	srv->update_owner = -1;
	for (int slot = 0; slot < OTA_HTTP_MAX_CONN; slot++)
		srv->conns[slot].slot = (uint8_t)slot;
	if (!ota_sink_valid(cfg->sink) || cfg->ops.send == 0 || cfg->ops.close == 0 ||
	    !ota_hash_ops_valid(cfg->image_hash))
		return OTA_E_BAD_ARGS;
	for (unsigned k = 0; k < 3; k++) {
		/* path (which must start with '/'), username, password */
		static const uint16_t at[3] = {offsetof(struct ota_http_server, path),
					       offsetof(struct ota_http_server, username),
					       offsetof(struct ota_http_server, password)};
		const char *given[3] = {cfg->path != 0 ? cfg->path : DEFAULT_PATH, cfg->username,
					cfg->password};
		char *dst = (char *)srv + at[k];
		size_t size = k == 0 ? sizeof(srv->path) : sizeof(srv->username);
		const char *v = given[k] != 0 ? given[k] : ""; /* NULL: no credentials */
		size_t n = ota_strnlen(v, size);
		/* each must fit with its NUL (srv is zeroed) */
		if (n >= size)
			return OTA_E_BAD_ARGS;
		ota_copy(dst, v, n);
		if (k == 0 && dst[0] != '/')
			return OTA_E_BAD_ARGS;
	}
	srv->auth_required = srv->username[0] != '\0' && srv->password[0] != '\0';
	if (cfg->challenge != OTA_HTTP_CHALLENGE_BASIC &&
	    cfg->challenge != OTA_HTTP_CHALLENGE_DIGEST)
		return OTA_E_BAD_ARGS;
	srv->challenge = cfg->challenge;
	if (srv->auth_required && srv->challenge == OTA_HTTP_CHALLENGE_DIGEST &&
	    (cfg->auth_hash == 0 || cfg->ops.random == 0))
		return OTA_E_BAD_ARGS;
	srv->run.sink = cfg->sink;
	srv->run.md5 = cfg->image_hash;
	srv->auth_hash = cfg->auth_hash;
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
		c->used = true; /* owns_update is false: conn_free() ended any update */
		request_reset(c);
		c->deadline_ms = now_ms + srv->header_timeout_ms;
		return conn_id(c);
	}
	return OTA_E_BUSY;
}

/* body bytes of a multipart request, @left > 0 of them; returns how many were used */
static size_t
multipart_data(struct ota_http_server *srv,
	       struct ota_http_conn *c,
	       const uint8_t *data,
	       size_t left)
{
	enum reply r = R_NONE;
	size_t n;
	if (c->mp_state == MP_FILE && c->mp_match == 0 && data[0] != '\r') {
		n = mp_fast(srv, c, data, left);
		c->body_read += (uint32_t)n;
	} else if (c->mp_state == MP_EPILOGUE) {
		n = left;
		c->body_read += (uint32_t)n;
	} else {
		/* counted before it is handled: a response may follow from it */
		n = 1;
		c->body_read++;
		r = mp_byte(srv, c, data[0]);
	}
	/* the body is complete (or the form ended without a length), unless answered already */
	if (r == R_NONE &&
	    (c->has_length ? c->body_read == c->content_length : c->mp_state == MP_EPILOGUE)) {
		if (c->mp_state == MP_EPILOGUE) {
			reply_upload(srv, c);
			return n;
		}
		r = R_TRUNCATED;
	}
	reply_static(srv, c, r);
	return n;
}

/* body bytes of a raw (application/octet-stream) upload, all of them used */
static void
raw_data(struct ota_http_server *srv, struct ota_http_conn *c, const uint8_t *data, size_t n)
{
	upd_write(srv, c, data, n);
	c->body_read += (uint32_t)n;
	/* an error is answered at once (our own extension) rather than after the whole body */
	if (c->upd_error == 0) {
		if (c->body_read != c->content_length)
			return;
		upd_end(srv, c);
	}
	reply_upload(srv, c);
}

int
ota_http_on_data(
    struct ota_http_server *srv, int conn, const uint8_t *data, size_t len, uint32_t now_ms)
{
	struct ota_http_conn *c = lookup(srv, conn);
	uint16_t gen;
	size_t i = 0;

	if (c == 0 || (data == 0 && len != 0))
		return OTA_E_BAD_ARGS;
	srv->now_ms = now_ms;
	gen = c->gen;
	/* a response may close the connection, and a new one may take the slot */
	while (i < len && c->used && c->gen == gen) {
		switch (c->state) {
		case CS_REQLINE:
		case CS_HEADERS:
			reply_static(srv, c, header_byte(srv, c, data[i++]));
			break;
		default: { /* CS_MULTIPART, CS_RAW: the body, no further than its length */
			size_t left = len - i;
			if (c->has_length && left > c->content_length - c->body_read)
				left = c->content_length - c->body_read;
			c->deadline_ms = srv->now_ms + srv->body_timeout_ms;
			if (c->state == CS_RAW)
				raw_data(srv, c, data + i, left);
			else
				left = multipart_data(srv, c, data + i, left);
			i += left;
			break;
		}
		}
	}
	return 0;
}

void
ota_http_on_close(struct ota_http_server *srv, int conn)
{
	struct ota_http_conn *c = lookup(srv, conn);
	if (c != 0)
		conn_free(srv, c);
}

uint32_t
ota_http_poll(struct ota_http_server *srv, uint32_t now_ms)
{
	uint32_t next = UINT32_MAX;
	if (srv == 0)
		return UINT32_MAX;
	srv->now_ms = now_ms;
	for (int slot = 0; slot < OTA_HTTP_MAX_CONN; slot++) {
		struct ota_http_conn *c = &srv->conns[slot];
		if (!c->used)
			continue;
		if (!due(now_ms, c->deadline_ms)) {
			uint32_t left = c->deadline_ms - now_ms;
			next = left < next ? left : next;
			continue;
		}
		if (!c->started) {
			/* idle: no byte of a request yet (a body comes after some) */
			conn_close(srv, c);
			continue;
		}
		reply_static(srv, c, R_408);
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
