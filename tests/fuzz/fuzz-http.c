/* SPDX-License-Identifier: MIT */
/*
 * fuzz-http.c - scripted requests on two connections into the HTTP update server
 *
 * Input (text-friendly so seeds stay readable): the first line configures the server:
 * 'A' = credentials admin/pw with a Basic challenge, 'D' = with a Digest challenge,
 * anything else = no authentication; an 'e' anywhere in the line makes the sink's end()
 * fail. Then records separated by "\n@@\n":
 *   A[0-9]<bytes>  bytes on connection A, in pieces of 2^digit when a digit follows
 *   B[0-9]<bytes>  the same on connection B
 *   P<digits>      advance the clock by that many ms and poll
 *   Q / R          the peer closes connection A / B (a new one is opened in its place)
 * The hash stand-in returns all-zero digests, so "X-MD5: 000...0" and a Digest response
 * of 32 zeros are accepted. Invariants of the sink protocol, of the one-update rule and
 * of the responses are checked with __builtin_trap().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

/* ---- all-zero hashes, one context per instance ---- */

struct zero_hash {
	bool running[2];
};

static int
zh_begin(void *user, enum ota_hash_kind kind)
{
	struct zero_hash *h = user;
	CHECK(!h->running[kind]);
	h->running[kind] = true;
	return 0;
}

static int
zh_update(void *user, enum ota_hash_kind kind, const uint8_t *d, size_t n)
{
	struct zero_hash *h = user;
	(void)d;
	(void)n;
	CHECK(h->running[kind]);
	return 0;
}

static int
zh_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	struct zero_hash *h = user;
	CHECK(h->running[kind]);
	h->running[kind] = false;
	for (size_t i = 0; i < (kind == OTA_HASH_SHA256 ? 32u : 16u); i++)
		out[i] = 0;
	return 0;
}

static struct zero_hash auth_state;
static struct zero_hash image_state;
static const struct ota_hash_ops auth_hash = {&auth_state, zh_begin, zh_update, zh_finish};
static const struct ota_hash_ops image_hash = {&image_state, zh_begin, zh_update, zh_finish};

/* ---- sink and port ---- */

#define SINK_CAP (256u * 1024u)

static struct {
	bool open;
	uint32_t size;
	uint32_t written;
	bool fail_end;
	int ids[2];
	bool alive[2];
	bool at_response_start[2];
	uint32_t now;
} st;

static int
s_begin(void *user, uint32_t size, int cmd, const char *md5)
{
	(void)user;
	(void)md5;
	CHECK(!st.open); /* one update at a time */
	CHECK(cmd == OTA_CMD_FLASH || cmd == OTA_CMD_FS);
	if (size > SINK_CAP)
		return OTA_E_NO_SPACE;
	st.open = true;
	st.size = size == OTA_SINK_SIZE_UNKNOWN ? SINK_CAP : size;
	st.written = 0;
	return 0;
}

static int
s_write(void *user, const uint8_t *d, size_t n)
{
	(void)user;
	(void)d;
	CHECK(st.open);
	CHECK(n > 0 && n <= OTA_HTTP_UPLOAD_BUF * 64u);
	if (n > st.size - st.written)
		return OTA_E_NO_SPACE;
	st.written += (uint32_t)n;
	return 0;
}

static int
s_end(void *user)
{
	(void)user;
	CHECK(st.open);
	st.open = false;
	return st.fail_end ? OTA_E_BAD_MAGIC : 0;
}

static void
s_abort(void *user)
{
	(void)user;
	CHECK(st.open);
	st.open = false;
}

static const struct ota_sink sink = {0, s_begin, s_write, s_end, s_abort, 0};

static int
which(int id)
{
	for (int i = 0; i < 2; i++) {
		if (st.alive[i] && st.ids[i] == id)
			return i;
	}
	__builtin_trap();
}

static int
p_send(void *user, int id, const uint8_t *d, size_t n)
{
	int w = which(id);
	static const char head[] = "HTTP/1.";
	(void)user;
	CHECK(n > 0 && n <= OTA_HTTP_OUT_MAX);
	/* every response starts with a status line */
	if (st.at_response_start[w]) {
		for (size_t i = 0; i < sizeof(head) - 1; i++)
			CHECK(i < n && d[i] == (uint8_t)head[i]);
	}
	return 0;
}

static void
p_close(void *user, int id)
{
	(void)user;
	st.alive[which(id)] = false;
}

static int
p_info(void *user, char *buf, size_t size)
{
	static const char json[] = "{\"name\":\"fuzz\"}";
	(void)user;
	CHECK(size >= sizeof(json));
	for (size_t i = 0; i < sizeof(json); i++)
		buf[i] = json[i];
	return (int)sizeof(json) - 1;
}

static int
p_random(void *user, uint8_t *buf, size_t n)
{
	(void)user;
	for (size_t i = 0; i < n; i++)
		buf[i] = 0;
	return 0;
}

/* ---- the script ---- */

static const uint8_t sep[] = {'\n', '@', '@', '\n'};

static size_t
record_end(const uint8_t *d, size_t n, size_t from)
{
	for (size_t i = from; i + sizeof(sep) <= n; i++) {
		if (d[i] == sep[0] && d[i + 1] == sep[1] && d[i + 2] == sep[2] &&
		    d[i + 3] == sep[3])
			return i;
	}
	return n;
}

static void
reopen(struct ota_http_server *srv, int w)
{
	if (st.alive[w])
		return;
	st.ids[w] = ota_http_accept(srv, st.now);
	CHECK(st.ids[w] >= 0);
	st.alive[w] = true;
	st.at_response_start[w] = true;
}

static void
run_record(struct ota_http_server *srv, const uint8_t *r, size_t n)
{
	int w;
	if (n == 0)
		return;
	switch (r[0]) {
	case 'A':
	case 'B': {
		size_t piece = n - 1;
		size_t off = 1;
		w = r[0] == 'A' ? 0 : 1;
		reopen(srv, w);
		if (n > 1 && r[1] >= '0' && r[1] <= '9') {
			piece = (size_t)1 << (r[1] - '0');
			off = 2;
		}
		while (off < n && st.alive[w]) {
			size_t take = n - off < piece ? n - off : piece;
			CHECK(ota_http_on_data(srv, st.ids[w], r + off, take, st.now) == 0);
			off += take;
		}
		break;
	}
	case 'P': {
		uint32_t ms = 0;
		for (size_t i = 1; i < n && i < 8 && r[i] >= '0' && r[i] <= '9'; i++)
			ms = ms * 10u + (uint32_t)(r[i] - '0');
		st.now += ms;
		(void)ota_http_poll(srv, st.now);
		break;
	}
	case 'Q':
	case 'R':
		w = r[0] == 'Q' ? 0 : 1;
		if (st.alive[w]) {
			ota_http_on_close(srv, st.ids[w]);
			st.alive[w] = false;
		}
		reopen(srv, w);
		break;
	default:
		break;
	}
	/* the update lock and the sink agree */
	CHECK(ota_http_update_running(srv) == st.open);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ota_http_server srv;
	struct ota_http_config cfg = {0};
	size_t line = 0;
	size_t pos;

	st.open = false;
	st.fail_end = false;
	st.alive[0] = st.alive[1] = false;
	st.now = 100;
	auth_state.running[0] = auth_state.running[1] = false;
	image_state.running[0] = image_state.running[1] = false;

	while (line < size && data[line] != '\n')
		line++;
	if (line > 0 && (data[0] == 'A' || data[0] == 'D')) {
		cfg.username = "admin";
		cfg.password = "pw";
		cfg.challenge =
		    data[0] == 'D' ? OTA_HTTP_CHALLENGE_DIGEST : OTA_HTTP_CHALLENGE_BASIC;
	}
	for (size_t i = 0; i < line; i++)
		st.fail_end = st.fail_end || data[i] == 'e';
	cfg.sink = &sink;
	cfg.auth_hash = &auth_hash;
	cfg.image_hash = &image_hash;
	cfg.ops.send = p_send;
	cfg.ops.close = p_close;
	cfg.ops.info_json = p_info;
	cfg.ops.random = p_random;
	CHECK(ota_http_init(&srv, &cfg) == 0);
	reopen(&srv, 0);
	reopen(&srv, 1);

	pos = line < size ? line + 1 : size;
	while (pos < size) {
		size_t end = record_end(data, size, pos);
		run_record(&srv, data + pos, end - pos);
		pos = end + sizeof(sep);
	}
	/* every connection can be closed, and then nothing is left open */
	for (int w = 0; w < 2; w++) {
		if (st.alive[w])
			ota_http_on_close(&srv, st.ids[w]);
		st.alive[w] = false;
	}
	CHECK(!st.open);
	CHECK(!ota_http_update_running(&srv));
	CHECK(ota_http_connections(&srv) == 0);
	CHECK(!image_state.running[0] && !image_state.running[1]);
	CHECK(!auth_state.running[0] && !auth_state.running[1]);
	CHECK(ota_http_poll(&srv, st.now) == UINT32_MAX);
	return 0;
}
