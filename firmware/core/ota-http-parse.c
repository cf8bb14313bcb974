/* SPDX-License-Identifier: MIT */
/* ota-http-parse.c - HTTP request, header and multipart-part parsing, Basic and Digest checks */

#include "ota-http-private.h"
#include "ota/ota-auth.h"
#include "ota/ota-util.h"

bool
ota_http_match(const char *a, size_t an, const char *b, unsigned how)
{
	size_t bn = ota_strnlen(b, OTA_HTTP_LINE_MAX);
	if ((how & OTA_HTTP_PREFIX) != 0 ? an < bn : an != bn)
		return false;
	return (how & OTA_HTTP_CI) != 0 ? ota_equal_ci(a, b, bn) : ota_compare(a, b, bn) == 0;
}

OTA_NOINLINE bool
ota_http_is_ws(char c)
{
	return c == ' ' || c == '\t';
}

void
ota_http_trim(const char **s, size_t *n)
{
	while (*n > 0 && ota_http_is_ws((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ota_http_is_ws((*s)[*n - 1]))
		(*n)--;
}

long
ota_http_index_of(const char *s, size_t n, char c)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == c)
			return (long)i;
	}
	return -1;
}

bool
ota_base64_encode(const uint8_t *data, size_t len, char *out, size_t out_size)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	uint32_t acc = 0; /* the bits not yet written are its lowest */
	unsigned bits = 0;
	if (out == 0 || (data == 0 && len != 0) || out_size < (len + 2) / 3 * 4 + 1)
		return false;
	/* six bits a digit, the ones of a cut group padded with zeros, then '=' to a group of 4 */
	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | data[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = tab[(acc >> bits) & 63];
		}
	}
	if (bits != 0)
		out[o++] = tab[(acc << (6 - bits)) & 63];
	while (o % 4 != 0)
		out[o++] = '=';
	out[o] = '\0';
	return true;
}

/* the method names in the order of enum method */
static const char method_names[] = "GET\0HEAD\0POST\0PUT\0DELETE\0OPTIONS\0PATCH\0";

static enum method
parse_method(const char *s, size_t n)
{
	for (unsigned m = M_PATCH; m > M_GET; m--) {
		if (ota_http_match(s, n, ota_string_at(method_names, m), OTA_HTTP_SAME))
			return (enum method)m;
	}
	return M_GET; /* GET, and any other word, as on the stock server */
}

/* an MD5 from X-MD5 or ?md5=: 32 hex digits, or the request is refused */
static void
set_md5(struct ota_http_conn *c, const char *v, size_t vn)
{
	if (vn == 32 && ota_auth_is_hex(v, 32)) {
		ota_copy(c->md5, v, 32); /* md5[32] stays 0 from request_reset() */
		c->have_md5 = true;
	} else {
		c->md5_bad = true;
	}
}

static void
parse_query(struct ota_http_conn *c, const char *q, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t end = i;
		while (end < n && q[end] != '&' && q[end] != ';')
			end++;
		if (end - i >= 4 && ota_compare(q + i, "md5=", 4) == 0)
			set_md5(c, q + i + 4, end - i - 4);
		i = end + 1;
	}
}

/* "METHOD SP target SP HTTP/1.x"; returns an error status or 0 */
unsigned
ota_http_parse_request_line(struct ota_http_conn *c)
{
	const char *s = c->line;
	size_t n = c->line_len;
	long sp1 = ota_http_index_of(s, n, ' ');
	long sp2;
	const char *target;
	size_t tn;
	const char *ver;
	size_t vn;
	long q;

	if (sp1 <= 0)
		return 400;
	sp2 = ota_http_index_of(s + sp1 + 1, n - (size_t)sp1 - 1, ' ');
	if (sp2 <= 0)
		return 400;
	target = s + sp1 + 1;
	tn = (size_t)sp2;
	ver = target + tn + 1;
	vn = n - (size_t)sp1 - 1 - tn - 1;
	if (!ota_http_match(ver, vn, "HTTP/", OTA_HTTP_PREFIX))
		return 400;
	if (vn != 8 || ver[5] != '1' || ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
		return 505;
	c->minor = (uint8_t)(ver[7] - '0');
	c->keep_alive = c->minor > 0;
	c->method = (uint8_t)parse_method(s, (size_t)sp1);
	if (target[0] != '/')
		return 400;
	q = ota_http_index_of(target, tn, '?');
	if (q >= 0) {
		parse_query(c, target + q + 1, tn - (size_t)q - 1);
		tn = (size_t)q;
	}
	if (tn >= sizeof(c->path)) {
		c->path_over = true;
		return 0;
	}
	/* once per request, into the path request_reset() zeroed: it ends with a NUL */
	ota_copy(c->path, target, tn);
	return 0;
}

static bool
parse_u32(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint32_t d = (uint32_t)(s[i] - '0');
		/* v * 10 fits; adding d wrapped if the sum is below d */
		if (d > 9 || v > UINT32_MAX / 10u || v * 10u + d < d)
			return false;
		v = v * 10u + d;
	}
	*out = v;
	return true;
}

/*
 * The parameter @name of the list @s, "name=value" or name="value", where @name first
 * starts an item. Items end at @sep. A Digest header (@sep ',') has a name at the start,
 * after ',' or after a space or tab; a Content-Type (@sep ';') only after ';' and any
 * spaces. A quoted value runs to the next '"' (without one the parameter is missing); a
 * plain one to @sep, without its trailing spaces, and in a Digest header without its
 * leading ones either.
 */
static bool
list_param(const char *s, size_t n, const char *name, char sep, const char **val, size_t *vlen)
{
	size_t nl = ota_strnlen(name, 32);
	bool item = true; /* an item may start at i */
	for (size_t i = 0; i + nl < n; i++) {
		size_t j;
		char end = sep;
		const char *v;
		size_t vn;
		long e;
		if (i > 0)
			item =
			    s[i - 1] == sep || (ota_http_is_ws(s[i - 1]) && (sep == ',' || item));
		if (!item || !ota_equal_ci(s + i, name, nl) || s[i + nl] != '=')
			continue;
		j = i + nl + 1;
		if (j < n && s[j] == '"')
			end = s[j++];
		v = s + j;
		e = ota_http_index_of(v, n - j, end);
		if (e < 0 && end == '"')
			return false;
		vn = e < 0 ? n - j : (size_t)e;
		if (end == sep) {
			const char *from = v;
			ota_http_trim(&v, &vn);
			if (sep == ';' && vn != 0) {
				vn += (size_t)(v - from);
				v = from;
			}
		}
		*val = v;
		*vlen = vn;
		return true;
	}
	return false;
}

/* the boundary parameter of a multipart Content-Type, quoted or not */
static void
parse_boundary(struct ota_http_conn *c, const char *v, size_t n)
{
	const char *b;
	size_t bn;
	c->boundary_len = 0;
	if (!list_param(v, n, "boundary", ';', &b, &bn) || bn == 0 || bn > OTA_HTTP_BOUNDARY_MAX)
		return;
	for (size_t k = 0; k < bn; k++) {
		if (b[k] == '\r' || b[k] == '\n' || b[k] == '\0')
			return;
	}
	ota_copy(c->delim, "\r\n--", 4);
	ota_copy(c->delim + 4, b, bn);
	c->boundary_len = (uint8_t)bn;
}

/* the headers looked at, in the order of enum header */
static const char header_names[] = "Content-Length\0Content-Type\0Authorization\0Connection\0"
				   "Transfer-Encoding\0Expect\0X-MD5\0";

/* the Content-Type prefixes known, in the order of enum ctype from CT_MULTIPART */
static const char ctype_names[] = "multipart/\0application/octet-stream\0";

enum header {
	H_CONTENT_LENGTH,
	H_CONTENT_TYPE,
	H_AUTHORIZATION,
	H_CONNECTION,
	H_TRANSFER_ENCODING,
	H_EXPECT,
	H_X_MD5,
};

void
ota_http_parse_header(struct ota_http_conn *c)
{
	const char *s = c->line;
	size_t n = c->line_len;
	long colon = ota_http_index_of(s, n, ':');
	const char *v;
	size_t vn;
	const char *name;
	unsigned h = 0;
	uint32_t len = 0;

	if (colon <= 0 || ota_http_is_ws(s[0])) {
		c->bad = true; /* no name, or an obsolete folded line */
		return;
	}
	v = s + colon + 1;
	vn = n - (size_t)colon - 1;
	ota_http_trim(&v, &vn);
	while ((name = ota_string_at(header_names, h)) != 0 &&
	       !ota_http_match(s, (size_t)colon, name, OTA_HTTP_CI))
		h++;

	switch (h) {
	case H_CONTENT_LENGTH:
		if (!parse_u32(v, vn, &len) || (c->has_length && len != c->content_length))
			c->bad = true;
		c->has_length = true;
		c->content_length = len;
		break;
	case H_CONTENT_TYPE: {
		/* the types known by their prefix, in the order of enum ctype; others CT_OTHER */
		unsigned t = CT_MULTIPART;
		while ((name = ota_string_at(ctype_names, t - CT_MULTIPART)) != 0 &&
		       !ota_http_match(v, vn, name, OTA_HTTP_PREFIX | OTA_HTTP_CI))
			t++;
		c->ctype = (uint8_t)t;
		if (t == CT_MULTIPART)
			parse_boundary(c, v, vn);
		break;
	}
	case H_AUTHORIZATION:
		c->auth_len = 0;
		if (vn <= OTA_HTTP_AUTH_MAX) {
			ota_copy(c->auth, v, vn);
			c->auth[vn] = '\0';
			c->auth_len = (uint16_t)vn;
		}
		break;
	case H_TRANSFER_ENCODING:
		c->chunked = true;
		break;
	case H_CONNECTION:
	case H_EXPECT: {
		bool is = ota_http_match(v, vn, h == H_EXPECT ? "100-continue" : "keep-alive",
					 OTA_HTTP_CI);
		if (h == H_EXPECT)
			c->expect_continue = is;
		else
			c->keep_alive = is;
		break;
	}
	case H_X_MD5:
		set_md5(c, v, vn);
		break;
	default:
		break;
	}
}

/* the stock positional reading of 'Content-Disposition: form-data; name="x"; filename="y"' */
void
ota_http_parse_disposition(struct ota_http_conn *c)
{
	const char *s = c->line;
	size_t n = c->line_len;
	long e1 = ota_http_index_of(s, n, '=');
	const char *arg;
	size_t an;
	long e2;
	size_t name_n;
	size_t skip;

	if (e1 < 0)
		return;
	c->part_named = true;
	skip = (size_t)e1 + 2 > n ? n : (size_t)e1 + 2; /* skip '=' and the quote */
	arg = s + skip;
	an = n - skip;
	e2 = ota_http_index_of(arg, an, '=');
	if (e2 < 0) {
		name_n = an > 0 ? an - 1 : 0; /* drop the closing quote */
		c->part_is_file = false;
	} else {
		long q = ota_http_index_of(arg, an, '"');
		name_n = q < 0 ? an : (size_t)q;
		c->part_is_file = true;
	}
	c->part_is_fs = ota_http_match(arg, name_n, "filesystem", OTA_HTTP_SAME);
}

/* the Digest parameters looked at, in the order of enum digest_param */
static const char digest_names[] =
    "username\0realm\0nonce\0uri\0response\0opaque\0qop\0nc\0cnonce\0";

enum digest_param {
	DP_USER,
	DP_REALM,
	DP_NONCE,
	DP_URI,
	DP_RESPONSE,
	DP_OPAQUE,
	DP_REQUIRED = DP_OPAQUE, /* the ones up to here must be there */
	DP_QOP,
	DP_NC,
	DP_CNONCE,
	DP_COUNT,
};

/*
 * The parts the three hashes are taken over, each hash's in a row: HA1 = MD5(user:realm:
 * password), HA2 = MD5(method:uri), the response MD5(HA1:nonce:nc:cnonce:auth:HA2) with
 * qop=auth, else MD5(HA1:nonce:HA2)
 */
enum digest_part {
	P_USER,
	P_REALM,
	P_PASSWORD,
	P_METHOD,
	P_URI,
	P_HA1,
	P_NONCE,
	P_NC,
	P_CNONCE,
	P_AUTH,
	P_HA2,
	P_RESPONSE,
	P_OPAQUE,
	P_QOP,
	P_COUNT,
};

/* where each parameter goes, by enum digest_param */
static const uint8_t digest_part_of[DP_COUNT] = {
    P_USER, P_REALM, P_NONCE, P_URI, P_RESPONSE, P_OPAQUE, P_QOP, P_NC, P_CNONCE,
};

/* MD5 hex of the parts joined by ':' */
static bool
md5_joined(const struct ota_http_server *srv,
	   const struct ota_auth_part *parts,
	   size_t n,
	   char out[OTA_AUTH_SHA256_HEX_LEN + 1])
{
	return ota_auth_digest_joined(srv->auth_hash, OTA_HASH_MD5, parts, n, out) == 0;
}

static bool
param_is(const struct ota_auth_part *p, const char *s)
{
	return ota_http_match(p->data, p->len, s, OTA_HTTP_SAME);
}

bool
ota_http_check_digest(const struct ota_http_server *srv, const struct ota_http_conn *c)
{
	const char *s = c->auth + 6;
	size_t n = c->auth_len - 6;
	struct ota_auth_part v[P_COUNT];
	char h1[OTA_AUTH_SHA256_HEX_LEN + 1];
	char h2[OTA_AUTH_SHA256_HEX_LEN + 1];
	char expect[OTA_AUTH_SHA256_HEX_LEN + 1];
	/* the stock server names HEAD, OPTIONS and PATCH "GET" in the hash */
	const char *method = ota_string_at(
	    method_names,
	    c->method == M_POST || c->method == M_PUT || c->method == M_DELETE ? c->method : M_GET);
	bool with_qop;

	if (srv->challenge_hex[OTA_HTTP_NONCE][0] == '\0' || srv->auth_hash == 0)
		return false; /* no Digest challenge was issued: nothing to answer */
	for (unsigned i = 0; i < DP_COUNT; i++) {
		struct ota_auth_part *p = &v[digest_part_of[i]];
		/* list_param() leaves these alone when the parameter is missing */
		const char *val = "";
		size_t vlen = 0;
		if (!list_param(s, n, ota_string_at(digest_names, i), ',', &val, &vlen) &&
		    i <= DP_REQUIRED)
			return false;
		p->data = val;
		p->len = vlen;
	}
	if (!param_is(&v[P_USER], srv->username) || v[P_URI].len == 0 ||
	    !param_is(&v[P_OPAQUE], srv->challenge_hex[OTA_HTTP_OPAQUE]) || !param_is(&v[P_NONCE], srv->challenge_hex[OTA_HTTP_NONCE]) ||
	    !param_is(&v[P_REALM], OTA_HTTP_REALM))
		return false;
	with_qop = param_is(&v[P_QOP], "auth");
	v[P_PASSWORD].data = srv->password;
	v[P_PASSWORD].len = ota_strnlen(srv->password, OTA_HTTP_CRED_MAX);
	v[P_METHOD].data = method;
	v[P_METHOD].len = ota_strnlen(method, 8);
	if (!md5_joined(srv, &v[P_USER], 3, h1) || !md5_joined(srv, &v[P_METHOD], 2, h2))
		return false;
	v[P_HA1].data = h1;
	v[P_HA1].len = 32;
	v[P_AUTH].data = "auth";
	v[P_AUTH].len = 4;
	v[P_HA2].data = h2;
	v[P_HA2].len = 32;
	if (!with_qop)
		v[P_NC] = v[P_HA2]; /* HA1:nonce:HA2 */
	if (!md5_joined(srv, &v[P_HA1], with_qop ? 6 : 3, expect))
		return false;
	return v[P_RESPONSE].len == 32 && ota_compare_ct(expect, v[P_RESPONSE].data, 32) == 0;
}

bool
ota_http_check_basic(const struct ota_http_server *srv, const struct ota_http_conn *c)
{
	/* "user:password" with its NUL, then its base64: one buffer, wiped once */
	enum { RAW = 2 * OTA_HTTP_CRED_MAX + 2, B64 = (RAW + 2) / 3 * 4 + 1 };
	char buf[RAW + B64];
	char *expect = buf + RAW;
	const char *given = c->auth_len > 6 ? c->auth + 6 : "";
	size_t given_n = c->auth_len > 6 ? c->auth_len - 6 : 0;
	size_t en;
	bool ok;

	/* cannot fail: B64 holds the base64 of any RAW bytes */
	(void)ota_base64_encode((const uint8_t *)buf,
				ota_format(buf, RAW, "%s:%s", srv->username, srv->password), expect,
				B64);
	ota_http_trim(&given, &given_n);
	en = ota_strnlen(expect, B64);
	ok = given_n == en && ota_compare_ct(given, expect, en) == 0;
	ota_fill(buf, 0, sizeof(buf));
	return ok;
}
