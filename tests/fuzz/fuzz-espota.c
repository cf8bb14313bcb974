/* SPDX-License-Identifier: MIT */
/*
 * fuzz-espota.c - scripted datagrams, TCP bytes and clock steps into the espota receiver
 *
 * Input (text-friendly so seeds stay readable): the first line configures the receiver,
 * e.g. "8mY" = ESP8266 flavour (or '3' for ESP32), MD5 scheme (or 'p' for PBKDF2), with a
 * password (or 'N'), optional fault letters after that (d drop, s stall, m MD5 mismatch,
 * r reject auth, c no connect-back, b begin error). Then records separated by "\n@@\n":
 *   U<datagram>   a UDP packet from the host
 *   T[0-9]<bytes> TCP data, in pieces of 2^digit bytes when a digit follows
 *   P<digits>     advance the clock by that many ms and poll
 *   C / X         the connect-back succeeded / the connection closed
 * The port's hash is a stand-in whose digest is always zero, so "000...0" is a valid MD5,
 * nonce-based response and image digest: every state is reachable. Invariants of the sink
 * protocol and of the output are checked with __builtin_trap().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-espota.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

/* ---- a stand-in hash: every digest is zero ---- */

static bool hash_running[2];

static int
zh_begin(void *user, enum ota_hash_kind kind)
{
	(void)user;
	CHECK(!hash_running[kind]); /* one hash per kind at a time */
	hash_running[kind] = true;
	return 0;
}

static int
zh_update(void *user, enum ota_hash_kind kind, const uint8_t *d, size_t n)
{
	(void)user;
	(void)d;
	(void)n;
	CHECK(hash_running[kind]);
	return 0;
}

static int
zh_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	(void)user;
	CHECK(hash_running[kind]);
	hash_running[kind] = false;
	for (size_t i = 0; i < (kind == OTA_HASH_SHA256 ? 32u : 16u); i++)
		out[i] = 0;
	return 0;
}

static const struct ota_hash_ops zero_hash = {0, zh_begin, zh_update, zh_finish};

/* ---- sink and port ---- */

static struct {
	bool open;
	uint32_t size;
	uint32_t written;
	bool tcp;
	bool connecting;
	uint32_t now;
	bool fail_end;
} st;

static int
s_begin(void *user, uint32_t size, int cmd, const char *md5)
{
	(void)user;
	CHECK(!st.open);
	CHECK(size > 0);
	CHECK(cmd == OTA_CMD_FLASH || cmd == OTA_CMD_FS);
	CHECK(md5 != 0);
	if (size > 1u << 20)
		return OTA_E_NO_SPACE;
	st.open = true;
	st.size = size;
	st.written = 0;
	return 0;
}

static int
s_write(void *user, const uint8_t *d, size_t n)
{
	(void)user;
	(void)d;
	CHECK(st.open);
	CHECK(n > 0 && n <= st.size - st.written);
	st.written += (uint32_t)n;
	return 0;
}

static int
s_end(void *user)
{
	(void)user;
	CHECK(st.open);
	CHECK(st.written == st.size);
	st.open = false;
	return st.fail_end ? OTA_E_SIGNATURE : 0;
}

static void
s_abort(void *user)
{
	(void)user;
	CHECK(st.open);
	st.open = false;
}

static const struct ota_sink sink = {0, s_begin, s_write, s_end, s_abort, 0};

static void
p_udp(void *user, uint32_t ip, uint16_t port, const uint8_t *d, size_t n)
{
	(void)user;
	(void)ip;
	(void)port;
	(void)d;
	CHECK(n > 0 && n < 200);
}

static int
p_connect(void *user, uint32_t ip, uint16_t port)
{
	(void)user;
	(void)ip;
	(void)port;
	CHECK(!st.tcp && !st.connecting);
	st.connecting = true;
	return 0;
}

static int
p_send(void *user, const uint8_t *d, size_t n)
{
	(void)user;
	(void)d;
	CHECK(st.tcp);
	CHECK(n > 0 && n < 200);
	return 0;
}

static void
p_close(void *user)
{
	(void)user;
	CHECK(st.tcp || st.connecting);
	st.tcp = false;
	st.connecting = false;
}

static int
p_random(void *user, uint8_t *buf, size_t n)
{
	(void)user;
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)i;
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
run_record(struct ota_espota *rx, const uint8_t *r, size_t n)
{
	if (n == 0)
		return;
	switch (r[0]) {
	case 'U':
		(void)ota_espota_on_udp(rx, 0x7f000001u, 40000, r + 1, n - 1, st.now);
		break;
	case 'T': {
		size_t piece = n - 1;
		size_t off = 1;
		if (n > 1 && r[1] >= '0' && r[1] <= '9') {
			piece = (size_t)1 << (r[1] - '0');
			off = 2;
		}
		while (off < n && st.tcp) {
			size_t take = n - off < piece ? n - off : piece;
			size_t used = ota_espota_on_tcp_data(rx, r + off, take, st.now);
			CHECK(used <= take);
			if (used == 0) {
				/* a stall: wait it out as the port would */
				uint32_t wait = ota_espota_poll(rx, st.now);
				CHECK(wait != UINT32_MAX || !st.tcp);
				st.now += wait == UINT32_MAX ? 1 : wait;
			}
			off += used;
			(void)ota_espota_poll(rx, st.now);
		}
		break;
	}
	case 'P': {
		uint32_t ms = 0;
		for (size_t i = 1; i < n && i < 8 && r[i] >= '0' && r[i] <= '9'; i++)
			ms = ms * 10u + (uint32_t)(r[i] - '0');
		st.now += ms;
		break;
	}
	case 'C':
		if (st.connecting) {
			st.connecting = false;
			st.tcp = true;
			ota_espota_on_tcp_connected(rx, st.now);
		}
		break;
	case 'X':
		if (st.tcp || st.connecting) {
			st.tcp = false;
			st.connecting = false;
			ota_espota_on_tcp_closed(rx, st.now);
		}
		break;
	default:
		break;
	}
	(void)ota_espota_poll(rx, st.now);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ota_espota rx;
	struct ota_espota_config cfg = {0};
	size_t pos = 0;
	size_t line = 0;

	st.open = false;
	st.tcp = false;
	st.connecting = false;
	st.now = 1000;
	hash_running[0] = hash_running[1] = false;

	while (line < size && data[line] != '\n')
		line++;
	cfg.flavor = line > 0 && data[0] == '3' ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	cfg.auth_scheme = line > 1 && data[1] == 'p' ? OTA_AUTH_PBKDF2 : OTA_AUTH_MD5;
	if (line > 2 && data[2] == 'Y')
		cfg.password_hash =
		    cfg.auth_scheme == OTA_AUTH_PBKDF2
			? "0000000000000000000000000000000000000000000000000000000000000000"
			: "00000000000000000000000000000000";
	for (size_t i = 3; i < line; i++) {
		switch (data[i]) {
		case 'd':
			cfg.faults.drop = true;
			cfg.faults.drop_at = 100;
			break;
		case 's':
			cfg.faults.stall = true;
			cfg.faults.stall_at = 50;
			cfg.faults.stall_ms = 3000;
			break;
		case 'm':
			cfg.faults.md5_mismatch = true;
			break;
		case 'r':
			cfg.faults.reject_auth = true;
			break;
		case 'c':
			cfg.faults.no_connect_back = true;
			break;
		case 'b':
			cfg.faults.begin_no_space = true;
			break;
		case 'e':
			st.fail_end = true;
			break;
		default:
			break;
		}
	}
	cfg.idle_timeout_ms = line > 3 && data[3] == 'i' ? 20000 : 0;
	cfg.hash = &zero_hash;
	cfg.sink = &sink;
	cfg.ops.udp_send = p_udp;
	cfg.ops.tcp_connect = p_connect;
	cfg.ops.tcp_send = p_send;
	cfg.ops.tcp_close = p_close;
	cfg.ops.random = p_random;
	CHECK(ota_espota_init(&rx, &cfg) == 0);

	pos = line < size ? line + 1 : size;
	while (pos < size) {
		size_t end = record_end(data, size, pos);
		run_record(&rx, data + pos, end - pos);
		pos = end + sizeof(sep);
	}
	/* the session can always be dropped cleanly, and then nothing is left open */
	ota_espota_abort(&rx);
	CHECK(!st.open);
	CHECK(!st.tcp && !st.connecting);
	CHECK(!hash_running[0] && !hash_running[1]);
	CHECK(ota_espota_get_state(&rx) == OTA_ESPOTA_IDLE);
	st.fail_end = false;
	return 0;
}
