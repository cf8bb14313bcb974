/* SPDX-License-Identifier: MIT */
/*
 * ota-http-private.h - what ota-http.c and ota-http-parse.c share; not a public API
 *
 * The parsers work on one struct ota_http_conn and never send or touch the update:
 * ota-http.c owns connections, responses and the sink.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-http.h"

#define OTA_HTTP_REALM "Login Required"

enum conn_state {
	CS_REQLINE,
	CS_HEADERS,
	CS_MULTIPART,
	CS_RAW,
};

enum method {
	M_GET,
	M_HEAD,
	M_POST,
	M_PUT,
	M_DELETE,
	M_OPTIONS,
	M_PATCH,
};

enum ctype {
	CT_NONE,
	CT_MULTIPART,
	CT_OCTET,
	CT_OTHER,
};

enum mp_state {
	MP_PREAMBLE,
	MP_PART_HEADERS,
	MP_TEXT,
	MP_FILE,
	MP_AFTER_DELIM,
	MP_EPILOGUE,
};

/* ---- text helpers (no libc) ---- */

/* how ota_http_match() compares */
#define OTA_HTTP_SAME 0u   /* @a is @b, byte for byte */
#define OTA_HTTP_PREFIX 1u /* @a starts with @b */
#define OTA_HTTP_CI 2u	   /* ASCII case does not count */
/* @a (@an bytes) against the NUL-terminated @b (shorter than OTA_HTTP_LINE_MAX) */
bool ota_http_match(const char *a, size_t an, const char *b, unsigned how);
bool ota_http_is_ws(char c);
/* strips spaces and tabs at both ends */
void ota_http_trim(const char **s, size_t *n);
/* the first @c in @s, or -1 */
long ota_http_index_of(const char *s, size_t n, char c);

/* ---- parsers over c->line ---- */

/* "METHOD SP target SP HTTP/1.x": fills method, minor, keep_alive, path, md5; 0 or a status */
unsigned ota_http_parse_request_line(struct ota_http_conn *c);
/* one header line: Content-Length, Content-Type (boundary), Authorization, Connection ... */
void ota_http_parse_header(struct ota_http_conn *c);
/* a part's Content-Disposition line, read positionally as the stock server does */
void ota_http_parse_disposition(struct ota_http_conn *c);

/* ---- credentials in c->auth ---- */

bool ota_http_check_basic(const struct ota_http_server *srv, const struct ota_http_conn *c);
/* RFC 2617 / 2069 MD5 Digest against the server's last challenge */
bool ota_http_check_digest(const struct ota_http_server *srv, const struct ota_http_conn *c);
