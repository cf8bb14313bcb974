/* SPDX-License-Identifier: MIT */
/*
 * ota-http.h - an HTTP/1.1 update server compatible with ESP8266HTTPUpdateServer
 *
 * Routes (specs/http-ota.md §1a):
 *   GET <path>      the stock upload form (two multipart forms: firmware, filesystem)
 *   OPTIONS <path>  CORS preflight: 200 "y", Access-Control-Allow-Headers/-Origin: *
 *   POST <path>     multipart/form-data: the part named "filesystem" is written as a
 *                   filesystem image (command 100), any other file part as firmware;
 *                   or a raw body (Content-Type: application/octet-stream with
 *                   Content-Length). An MD5 may come as "X-MD5: <hex>" or "?md5=<hex>".
 *                   Answers 200 "Update Success! Rebooting..." (then the connection is
 *                   closed and OTA_HTTP_EV_UPDATE_END tells the port to reboot), 200
 *                   "Update error: ERROR[n]: <text>\n", or 401 with
 *                   WWW-Authenticate: Basic realm="Login Required".
 *   GET /info       200 application/json, the body made by ops.info_json
 *   anything else   404 "Not found: <path>"
 * Methods other than GET/HEAD/POST/PUT/DELETE/OPTIONS/PATCH count as GET, as on the
 * stock server. Responses carry the stock headers byte for byte, including
 * "Connection: keep-alive" + "Keep-Alive: timeout=2000" for HTTP/1.1 clients.
 *
 * Authentication (when both username and password are set): Basic always; Digest
 * (RFC 2617 MD5, qop=auth, or RFC 2069 without qop) once the server has issued a Digest
 * challenge, whose nonce and opaque it must echo. The server challenges with Basic like
 * the stock one, or with Digest when configured so. Uploads without valid credentials
 * are read and thrown away, then answered 401, as the stock server does.
 *
 * The port owns the sockets: ota_http_accept() for a new connection, then
 * ota_http_on_data() / ota_http_on_close(), and ota_http_poll() at least when the delay
 * it returned has passed. Response bytes go to ops.send. Connection ids are only valid
 * until ops.close was called for them or ota_http_on_close() was called.
 *
 * Several connections at once, one update at a time: an upload while another runs gets
 * "Update error: ERROR[15]: Update already running". Hostile input ends with an error
 * response or a close: header lines over OTA_HTTP_LINE_MAX, more than
 * OTA_HTTP_MAX_HEADERS headers or OTA_HTTP_HEADER_BYTES_MAX header bytes give 431
 * (414 for a long request line), a missing or bad boundary 400, a truncated body 400,
 * chunked bodies 411, a client that does not finish its headers within
 * header_timeout_ms or pauses a body longer than body_timeout_ms 408.
 *
 * Functions return 0 or a negative OTA_E_* code. Times are milliseconds of a free-running
 * 32-bit clock; wrap-around is handled.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-crypto.h"
#include "ota/ota-errors.h"
#include "ota/ota-sink.h"

#ifndef OTA_HTTP_MAX_CONN
#define OTA_HTTP_MAX_CONN 4
#endif
#define OTA_HTTP_LINE_MAX 2048 /* one request or header line, CRLF excluded */
#define OTA_HTTP_MAX_HEADERS 32
#define OTA_HTTP_HEADER_BYTES_MAX 8192 /* request line and headers together */
#define OTA_HTTP_PATH_MAX 128
#define OTA_HTTP_AUTH_MAX 512 /* longest Authorization value looked at */
#define OTA_HTTP_BOUNDARY_MAX 100
#define OTA_HTTP_CRED_MAX 64 /* username and password */
/* HTTP_UPLOAD_BUFLEN: multipart data goes to the sink in these */
#define OTA_HTTP_UPLOAD_BUF 2048
#define OTA_HTTP_OUT_MAX 2048  /* the largest response */
#define OTA_HTTP_INFO_MAX 1024 /* the largest /info body */
#define OTA_HTTP_PART_HEADERS_MAX 16

/* the stock server's timeouts (HTTP_MAX_DATA_WAIT, HTTP_MAX_POST_WAIT, HTTP_MAX_CLOSE_WAIT) */
#define OTA_HTTP_HEADER_TIMEOUT_MS 5000u
#define OTA_HTTP_BODY_TIMEOUT_MS 5000u
#define OTA_HTTP_KEEPALIVE_MS 2000u

enum ota_http_challenge {
	OTA_HTTP_CHALLENGE_BASIC, /* the stock server's requestAuthentication() */
	OTA_HTTP_CHALLENGE_DIGEST,
};

enum ota_http_event {
	OTA_HTTP_EV_RESPONSE,	     /* a = status code sent */
	OTA_HTTP_EV_UPDATE_START,    /* a = command, b = size (0: unknown) */
	OTA_HTTP_EV_UPDATE_PROGRESS, /* a = bytes written so far */
	OTA_HTTP_EV_UPDATE_END,	     /* a = bytes: success page sent, connection closed; reboot */
	OTA_HTTP_EV_UPDATE_ERROR,    /* a = enum ota_update_error */
	OTA_HTTP_EV_AUTH_FAILED,     /* a request needing credentials came without valid ones */
};

struct ota_http_ops {
	void *user;
	/* queue @len bytes on connection @conn; negative: the core drops the connection */
	int (*send)(void *user, int conn, const uint8_t *data, size_t len);
	/* close @conn once its queued bytes went out; the id is dead afterwards */
	void (*close)(void *user, int conn);
	/* optional: write the /info JSON into @buf; its length, or negative (500) */
	int (*info_json)(void *user, char *buf, size_t size);
	/* random bytes for Digest nonces; required with OTA_HTTP_CHALLENGE_DIGEST */
	int (*random)(void *user, uint8_t *buf, size_t len);
	/* optional */
	void (*event)(void *user, enum ota_http_event ev, int conn, uint32_t a, uint32_t b);
};

struct ota_http_config {
	const char *path;     /* NULL: "/update" */
	const char *username; /* authentication only when both are non-empty */
	const char *password;
	enum ota_http_challenge challenge;
	const struct ota_sink *sink;
	/* MD5 for Digest; needed when credentials are set */
	const struct ota_hash_ops *auth_hash;
	/* MD5 of uploads that announce one; its own instance (it runs during uploads) */
	const struct ota_hash_ops *image_hash;
	struct ota_http_ops ops;
	uint32_t header_timeout_ms; /* 0: OTA_HTTP_HEADER_TIMEOUT_MS */
	uint32_t body_timeout_ms;   /* 0: OTA_HTTP_BODY_TIMEOUT_MS */
	uint32_t keepalive_ms;	    /* 0: OTA_HTTP_KEEPALIVE_MS */
};

/* one connection; the fields are private to ota-http.c */
struct ota_http_conn {
	bool used;
	uint8_t slot; /* its index in conns[] */
	uint16_t gen;
	uint32_t deadline_ms;
	bool owns_update; /* this connection runs the update */

	/* the current request: request_reset() zeroes everything from here up to auth[] */
	uint8_t state;
	bool started; /* a byte of the current request arrived */
	/* line reader */
	bool line_over;
	bool line_done; /* the line in line[] was handled: the next byte starts a new one */
	uint16_t line_len;
	uint16_t n_headers;
	uint16_t header_bytes;
	/* the request */
	uint8_t method;
	uint8_t minor;
	bool path_over;
	bool bad; /* a malformed header was seen: 400 */
	bool have_md5;
	bool md5_bad; /* an X-MD5 or ?md5= that is not 32 hex digits */
	uint8_t boundary_len;
	uint8_t ctype;
	uint16_t auth_len;
	bool has_length;
	bool chunked;
	bool expect_continue;
	bool keep_alive;
	bool authenticated;
	uint32_t content_length;
	uint32_t body_read;
	/* multipart */
	uint8_t mp_state;
	uint8_t mp_empty;   /* empty lines before the first boundary */
	uint8_t mp_headers; /* header lines of the current part */
	bool part_named;    /* the current part had a Content-Disposition */
	bool part_is_file;
	bool part_is_fs;
	bool part_writes; /* this part feeds the sink */
	bool file_seen;
	uint16_t mp_match; /* bytes of CRLF "--" boundary matched */
	/* the update of this request */
	bool upd_ok;	   /* the image was written and committed */
	uint8_t upd_error; /* enum ota_update_error of this request, 0 while fine */
	uint32_t uploaded;
	char md5[33];
	char path[OTA_HTTP_PATH_MAX];
	char delim[4 + OTA_HTTP_BOUNDARY_MAX]; /* CR LF "--" boundary, boundary_len + 4 bytes */
	char upd_text[128];

	/* not zeroed between requests: only their first auth_len / line_len bytes count */
	char auth[OTA_HTTP_AUTH_MAX + 1];
	char line[OTA_HTTP_LINE_MAX];
};

/* struct ota_http_server.challenge_hex[] */
enum { OTA_HTTP_NONCE, OTA_HTTP_OPAQUE };

/* the small fields first: on Xtensa short offsets make shorter code */
struct ota_http_server {
	/* configuration */
	bool auth_required;
	enum ota_http_challenge challenge;
	const struct ota_hash_ops *auth_hash;
	struct ota_http_ops ops;
	uint32_t header_timeout_ms;
	uint32_t body_timeout_ms;
	uint32_t keepalive_ms;

	uint32_t now_ms; /* the time of the entry point running */

	/* the one update: the sink and the image MD5 */
	struct ota_sink_run run;
	int update_owner; /* connection slot, -1 when none */
	uint16_t upload_len;

	char path[OTA_HTTP_PATH_MAX];
	char username[OTA_HTTP_CRED_MAX + 1];
	char password[OTA_HTTP_CRED_MAX + 1];

	/* the last Digest challenge (the stock server keeps one per server): the nonce
	 * [OTA_HTTP_NONCE] and the opaque [OTA_HTTP_OPAQUE], hex */
	char challenge_hex[2][33];

	struct ota_http_conn conns[OTA_HTTP_MAX_CONN];
	uint8_t upload_buf[OTA_HTTP_UPLOAD_BUF];
	char out[OTA_HTTP_OUT_MAX];
	char body[OTA_HTTP_INFO_MAX];
};

int ota_http_init(struct ota_http_server *srv, const struct ota_http_config *cfg);

/**
 * ota_http_accept:
 *
 * A new connection. The header deadline starts now.
 *
 * Returns: the connection id (>= 0), or OTA_E_BUSY when all OTA_HTTP_MAX_CONN slots are
 * in use (close the socket).
 */
int ota_http_accept(struct ota_http_server *srv, uint32_t now_ms);

/**
 * ota_http_on_data:
 *
 * Bytes received on @conn, any amount, split anywhere. Responses go out through
 * ops.send, possibly before this returns; so may ops.close.
 *
 * Returns: 0, or OTA_E_BAD_ARGS for an unknown or dead connection id.
 */
int ota_http_on_data(
    struct ota_http_server *srv, int conn, const uint8_t *data, size_t len, uint32_t now_ms);

/* the peer closed @conn (or the socket failed): an update it ran is aborted */
void ota_http_on_close(struct ota_http_server *srv, int conn);

/**
 * ota_http_poll:
 *
 * Enforces the deadlines.
 *
 * Returns: milliseconds until the next call is needed, UINT32_MAX when no connection is
 * open.
 */
uint32_t ota_http_poll(struct ota_http_server *srv, uint32_t now_ms);

/* open connections, and whether an update runs */
unsigned ota_http_connections(const struct ota_http_server *srv);
bool ota_http_update_running(const struct ota_http_server *srv);

/* base64 (RFC 4648, with padding) of @len bytes into @out; false if it does not fit */
bool ota_base64_encode(const uint8_t *data, size_t len, char *out, size_t out_size);
