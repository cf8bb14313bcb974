/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-espota.c - the espota receiver state machine, both flavours, with fake sockets */

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota/ota-espota.h"
#include "sim-crypto.h"

#define HOST_IP 0xC0A8010Au /* 192.168.1.10 */
#define OTHER_IP 0xC0A8010Bu
#define HOST_UDP_PORT 50000
#define HOST_TCP_PORT 45000
#define IMAGE_MAX (256 * 1024)
#define MAX_DGRAMS 16
#define MAX_EVENTS 4096

/* ---- fakes ---- */

struct dgram {
	uint32_t ip;
	uint16_t port;
	char data[160];
	size_t len;
};

struct fake {
	/* sink */
	int begin_rc;
	int end_rc;
	int write_rc;
	uint32_t write_fail_at; /* fail the write that would pass this offset; 0: never */
	const char *error_text;
	unsigned begins, ends, aborts;
	uint32_t begin_size;
	int begin_cmd;
	char begin_md5[40];
	uint8_t image[IMAGE_MAX];
	size_t image_len;

	/* network */
	struct dgram udp[MAX_DGRAMS];
	unsigned n_udp;
	unsigned connects;
	uint32_t connect_ip;
	uint16_t connect_port;
	int connect_rc;
	bool connect_now; /* report success from inside tcp_connect */
	char tcp[65536];
	size_t tcp_len;
	unsigned tcp_sends;
	size_t seg_len[4096]; /* length of every tcp_send */
	unsigned closes;
	int tcp_send_rc;

	/* events */
	enum ota_espota_event ev[MAX_EVENTS];
	uint32_t ev_a[MAX_EVENTS];
	uint32_t ev_b[MAX_EVENTS];
	unsigned n_ev;

	/* random */
	bool have_random;
	uint8_t random_byte;
};

static struct fake F;
static struct ota_espota RX;
static struct sim_crypto *crypto;  /* the receiver's */
static struct sim_crypto *tcrypto; /* the test's own: a hash context is not shared */
static uint32_t now;
static struct ota_sink sink;
static struct ota_espota *rx_for_connect;

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
	if (f->write_fail_at != 0 && f->image_len + len > f->write_fail_at)
		return f->write_rc;
	ck_assert_uint_le(f->image_len + len, IMAGE_MAX);
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

static const char *
sink_error_text(void *user)
{
	struct fake *f = user;
	return f->error_text;
}

static void
udp_send(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	struct fake *f = user;
	ck_assert_uint_lt(f->n_udp, MAX_DGRAMS);
	ck_assert_uint_lt(len, sizeof(f->udp[0].data));
	f->udp[f->n_udp].ip = ip;
	f->udp[f->n_udp].port = port;
	memcpy(f->udp[f->n_udp].data, data, len);
	f->udp[f->n_udp].data[len] = '\0';
	f->udp[f->n_udp].len = len;
	f->n_udp++;
}

static int
tcp_connect(void *user, uint32_t ip, uint16_t port)
{
	struct fake *f = user;
	f->connects++;
	f->connect_ip = ip;
	f->connect_port = port;
	if (f->connect_now && f->connect_rc == 0)
		ota_espota_on_tcp_connected(rx_for_connect, now);
	return f->connect_rc;
}

static int
tcp_send(void *user, const uint8_t *data, size_t len)
{
	struct fake *f = user;
	if (f->tcp_send_rc != 0)
		return f->tcp_send_rc;
	ck_assert_uint_lt(f->tcp_len + len, sizeof(f->tcp));
	memcpy(f->tcp + f->tcp_len, data, len);
	f->tcp_len += len;
	f->tcp[f->tcp_len] = '\0';
	if (f->tcp_sends < 4096)
		f->seg_len[f->tcp_sends] = len;
	f->tcp_sends++;
	return 0;
}

static void
tcp_close(void *user)
{
	struct fake *f = user;
	f->closes++;
}

static int
random_bytes(void *user, uint8_t *buf, size_t len)
{
	struct fake *f = user;
	if (!f->have_random)
		return -1;
	memset(buf, f->random_byte, len);
	return 0;
}

static void
on_event(void *user, enum ota_espota_event ev, uint32_t a, uint32_t b)
{
	struct fake *f = user;
	ck_assert_uint_lt(f->n_ev, MAX_EVENTS);
	f->ev[f->n_ev] = ev;
	f->ev_a[f->n_ev] = a;
	f->ev_b[f->n_ev] = b;
	f->n_ev++;
}

/* the last event of a kind, or -1 */
static int
last_event(enum ota_espota_event ev)
{
	for (int i = (int)F.n_ev - 1; i >= 0; i--) {
		if (F.ev[i] == ev)
			return i;
	}
	return -1;
}

static unsigned
count_events(enum ota_espota_event ev)
{
	unsigned n = 0;
	for (unsigned i = 0; i < F.n_ev; i++)
		n += F.ev[i] == ev;
	return n;
}

/* ---- set-up ---- */

static struct ota_espota_config
config(enum ota_flavor flavor, enum ota_auth_scheme scheme, const char *hash)
{
	struct ota_espota_config c;
	memset(&c, 0, sizeof(c));
	c.flavor = flavor;
	c.auth_scheme = scheme;
	c.password_hash = hash;
	c.hash = sim_crypto_ops(crypto);
	c.sink = &sink;
	c.ops.user = &F;
	c.ops.udp_send = udp_send;
	c.ops.tcp_connect = tcp_connect;
	c.ops.tcp_send = tcp_send;
	c.ops.tcp_close = tcp_close;
	c.ops.random = random_bytes;
	c.ops.event = on_event;
	return c;
}

static void
start(enum ota_flavor flavor, enum ota_auth_scheme scheme, const char *hash)
{
	struct ota_espota_config c = config(flavor, scheme, hash);
	ck_assert_int_eq(ota_espota_init(&RX, &c), 0);
	rx_for_connect = &RX;
}

static void
setup(void)
{
	memset(&F, 0, sizeof(F));
	crypto = sim_crypto_new();
	tcrypto = sim_crypto_new();
	ck_assert_ptr_nonnull(crypto);
	ck_assert_ptr_nonnull(tcrypto);
	sink.user = &F;
	sink.begin = sink_begin;
	sink.write = sink_write;
	sink.end = sink_end;
	sink.abort = sink_abort;
	sink.error_text = sink_error_text;
	now = 1000;
}

static void
teardown(void)
{
	sim_crypto_free(crypto);
	sim_crypto_free(tcrypto);
	crypto = NULL;
	tcrypto = NULL;
}

/* a fresh world inside one test */
static void
again(void)
{
	teardown();
	setup();
}

static uint8_t image[IMAGE_MAX];

static void
make_image(size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1u;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		image[i] = (uint8_t)(x >> 16);
	}
	if (len > 0)
		image[0] = 0xE9;
}

static void
md5_hex(const uint8_t *data, size_t len, char *out)
{
	uint8_t d[16];
	ck_assert_int_eq(ota_hash_buffer(sim_crypto_ops(tcrypto), OTA_HASH_MD5, data, len, d), 0);
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static int
udp_text(uint32_t ip, uint16_t port, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return ota_espota_on_udp(&RX, ip, port, (const uint8_t *)buf, (size_t)n, now);
}

/* the stock invitation, '%d %d %d %s\n' */
static int
invite(uint32_t cmd, size_t len)
{
	char md5[33];
	md5_hex(image, len, md5);
	return udp_text(HOST_IP, HOST_UDP_PORT, "%u %u %zu %s\n", cmd, HOST_TCP_PORT, len, md5);
}

static void
advance(uint32_t ms)
{
	now += ms;
}

/* from RUNUPDATE to an open connection, as the port would drive it */
static void
connect_back(enum ota_flavor flavor)
{
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.begins, 1);
	if (flavor == OTA_FLAVOR_ESP8266) {
		ck_assert_uint_eq(F.connects, 0);
		ck_assert_uint_eq(ota_espota_poll(&RX, now), OTA_ESPOTA_ESP8266_CONNECT_DELAY_MS);
		advance(OTA_ESPOTA_ESP8266_CONNECT_DELAY_MS);
		ota_espota_poll(&RX, now);
	}
	ck_assert_uint_eq(F.connects, 1);
	ck_assert_uint_eq(F.connect_ip, HOST_IP);
	ck_assert_uint_eq(F.connect_port, HOST_TCP_PORT);
	ota_espota_on_tcp_connected(&RX, now);
	ota_espota_poll(&RX, now);
}

/*
 * Sends @len image bytes in @chunk pieces. Stop-and-wait waits for an ack after each piece
 * (time passes per round trip); pipelined pushes everything, then polls.
 */
static void
send_image(size_t len, size_t chunk, bool stop_and_wait)
{
	size_t off = 0;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		size_t acks_before = F.tcp_len;
		size_t used = ota_espota_on_tcp_data(&RX, image + off, n, now);
		off += used;
		if (used < n) {
			/* the receiver stalls: wait as the port would */
			uint32_t wait = ota_espota_poll(&RX, now);
			ck_assert_uint_ne(wait, UINT32_MAX);
			advance(wait);
			ota_espota_poll(&RX, now);
			continue;
		}
		if (stop_and_wait && off < len) {
			ck_assert_uint_gt(F.tcp_len, acks_before);
			advance(20);
			ota_espota_poll(&RX, now);
		}
	}
	ota_espota_poll(&RX, now);
}

/* the ack digits, up to the first non-digit, summed as the devices sent them */
static size_t
sum_acks(bool esp32)
{
	size_t sum = 0;
	size_t off = 0;
	for (unsigned i = 0; i < F.tcp_sends && i < 4096; i++) {
		char part[16];
		size_t n = F.seg_len[i];
		if (n >= sizeof(part) || F.tcp[off] < '0' || F.tcp[off] > '9')
			break;
		memcpy(part, F.tcp + off, n);
		part[n] = '\0';
		if (esp32)
			ck_assert_uint_le(strtoul(part, NULL, 10), OTA_ESPOTA_ESP32_CHUNK);
		sum += strtoul(part, NULL, 10);
		off += n;
	}
	return sum;
}

static void
finish_esp8266(void)
{
	/* the final OK comes 1 s after the last count, as its own segment, then 1 s to close */
	size_t before = F.tcp_len;
	ck_assert_uint_eq(F.ends, 1);
	ck_assert_ptr_null(strstr(F.tcp, "OK"));
	ck_assert_uint_eq(ota_espota_poll(&RX, now), OTA_ESPOTA_ESP8266_OK_DELAY_MS);
	advance(999);
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.tcp_len, before);
	advance(1);
	ota_espota_poll(&RX, now);
	ck_assert_str_eq(F.tcp + before, "OK");
	ck_assert_uint_eq(F.seg_len[F.tcp_sends - 1], 2);
	ck_assert_uint_eq(F.closes, 0);
	advance(1000);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), UINT32_MAX);
	ck_assert_uint_eq(F.closes, 1);
}

static void
check_success(size_t len)
{
	ck_assert_uint_eq(F.image_len, len);
	ck_assert_mem_eq(F.image, image, len);
	ck_assert_uint_eq(F.ends, 1);
	ck_assert_uint_eq(F.aborts, 0);
	ck_assert_int_ge(last_event(OTA_ESPOTA_EV_END), 0);
	ck_assert_int_lt(last_event(OTA_ESPOTA_EV_ERROR), 0);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_END)], len);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
}

/* ---- plain updates ---- */

START_TEST(test_esp8266_no_auth)
{
	size_t len = 10000;
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	make_image(len, 1);
	ck_assert_int_eq(invite(0, len), 1);
	/* ESP8266 answers only after Update.begin(), from handle() */
	ck_assert_uint_eq(F.n_udp, 0);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_RUNUPDATE);
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.n_udp, 1);
	ck_assert_str_eq(F.udp[0].data, "OK");
	ck_assert_uint_eq(F.udp[0].ip, HOST_IP);
	ck_assert_uint_eq(F.udp[0].port, HOST_UDP_PORT);
	ck_assert_uint_eq(F.begin_size, len);
	ck_assert_int_eq(F.begin_cmd, OTA_CMD_FLASH);
	{
		char md5[33];
		md5_hex(image, len, md5);
		ck_assert_str_eq(F.begin_md5, md5);
	}
	ck_assert_int_ge(last_event(OTA_ESPOTA_EV_START), 0);
	connect_back(OTA_FLAVOR_ESP8266);
	send_image(len, 1460, true);
	ck_assert_uint_eq(sum_acks(false), len);
	finish_esp8266();
	check_success(len);
}
END_TEST

START_TEST(test_esp32_no_auth)
{
	size_t len = 5000;
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	make_image(len, 2);
	ck_assert_int_eq(invite(0, len), 1);
	/* ESP32 answers at once, to the packet's source */
	ck_assert_uint_eq(F.n_udp, 1);
	ck_assert_str_eq(F.udp[0].data, "OK");
	ck_assert_uint_eq(F.udp[0].port, HOST_UDP_PORT);
	ck_assert_uint_eq(F.begins, 0);
	connect_back(OTA_FLAVOR_ESP32);
	/* one read of everything: 1460-byte pieces, each acknowledged, OK right after */
	ck_assert_uint_eq(ota_espota_on_tcp_data(&RX, image, len, now), len);
	ck_assert_str_eq(F.tcp, "146014601460620OK");
	ck_assert_uint_eq(F.tcp_sends, 5);
	ck_assert_uint_eq(F.closes, 1);
	check_success(len);
}
END_TEST

START_TEST(test_filesystem_command)
{
	size_t len = 3000;
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	make_image(len, 3);
	ck_assert_int_eq(invite(100, len), 1);
	connect_back(OTA_FLAVOR_ESP32);
	ck_assert_int_eq(F.begin_cmd, OTA_CMD_FS);
	send_image(len, 1024, false);
	check_success(len);
}
END_TEST

/* every chunk size, both senders, both flavours */
static const size_t chunk_sizes[] = {1, 536, 1024, 1460, 0 /* whole file */};

START_TEST(test_chunk_sizes)
{
	int flavor_i = _i / 10;
	size_t chunk = chunk_sizes[(_i / 2) % 5];
	bool stop_and_wait = _i % 2;
	enum ota_flavor flavor = flavor_i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	size_t len = chunk == 1 ? 3001 : 20011;

	start(flavor, OTA_AUTH_MD5, NULL);
	make_image(len, (unsigned)_i + 10);
	ck_assert_int_eq(invite(0, len), 1);
	connect_back(flavor);
	send_image(len, chunk == 0 ? len : chunk, stop_and_wait);
	ck_assert_uint_eq(sum_acks(flavor == OTA_FLAVOR_ESP32), len);
	if (flavor == OTA_FLAVOR_ESP8266) {
		finish_esp8266();
	} else {
		ck_assert_uint_eq(F.tcp_len >= 2, 1);
		ck_assert_str_eq(F.tcp + F.tcp_len - 2, "OK");
	}
	check_success(len);
	/* the ESP32 receive timeout never fired: no repeated count */
	ck_assert_uint_eq(count_events(OTA_ESPOTA_EV_PROGRESS) > 0, 1);
}
END_TEST

START_TEST(test_bytes_past_the_image)
{
	size_t len = 2000;
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	make_image(len + 100, 4);
	ck_assert_int_eq(invite(0, len), 1);
	connect_back(OTA_FLAVOR_ESP8266);
	ck_assert_uint_eq(ota_espota_on_tcp_data(&RX, image, len + 100, now), len + 100);
	ck_assert_str_eq(F.tcp, "2000");
	finish_esp8266();
	check_success(len);
}
END_TEST

/* ---- authentication ---- */

static const char cnonce_input[] =
    "sketch.ino.bin3000000123456789abcdef0123456789abcdef192.168.1.50";

static void
auth_reply(enum ota_auth_scheme scheme,
	   const char *password,
	   bool as_md5_ph,
	   uint16_t port,
	   const char *tail)
{
	char key[65];
	char cnonce[65];
	char response[65];
	const char *nonce;
	struct ota_auth_part p = {cnonce_input, strlen(cnonce_input)};
	const struct ota_hash_ops *ops = sim_crypto_ops(tcrypto);
	size_t hl = ota_auth_hex_len(scheme);

	ck_assert_uint_ge(F.n_udp, 1);
	ck_assert_int_eq(strncmp(F.udp[F.n_udp - 1].data, "AUTH ", 5), 0);
	nonce = F.udp[F.n_udp - 1].data + 5;
	ck_assert_uint_eq(strlen(nonce), hl);
	ck_assert(ota_auth_is_hex(nonce, hl));
	ota_auth_digest_hex(ops, scheme == OTA_AUTH_PBKDF2 ? OTA_HASH_SHA256 : OTA_HASH_MD5, &p, 1,
			    cnonce);
	ota_auth_password_hash(ops, as_md5_ph ? OTA_AUTH_MD5 : scheme, password, strlen(password),
			       key);
	ck_assert_int_eq(
	    ota_auth_response(ops, scheme, key, strlen(key), nonce, hl, cnonce, hl, response), 0);
	udp_text(HOST_IP, port, "200 %s %s%s", cnonce, response, tail);
}

static char stored[65];

static const char *
stored_hash(enum ota_auth_scheme scheme, const char *password)
{
	ota_auth_password_hash(sim_crypto_ops(tcrypto), scheme, password, strlen(password), stored);
	return stored;
}

START_TEST(test_auth_both_schemes)
{
	/* _i: bit 0 flavour, bit 1 scheme */
	enum ota_flavor flavor = (_i & 1) ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	enum ota_auth_scheme scheme = (_i & 2) ? OTA_AUTH_PBKDF2 : OTA_AUTH_MD5;
	size_t len = 4096;

	start(flavor, scheme, stored_hash(scheme, "admin"));
	make_image(len, 20);
	ck_assert_int_eq(invite(0, len), 1);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_WAITAUTH);
	ck_assert_uint_eq(F.n_udp, 1);
	ck_assert_uint_eq(F.udp[0].len, 5 + ota_auth_hex_len(scheme));
	auth_reply(scheme, "admin", false, HOST_UDP_PORT, "\n");
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_RUNUPDATE);
	if (flavor == OTA_FLAVOR_ESP32) {
		ck_assert_uint_eq(F.n_udp, 2);
		ck_assert_str_eq(F.udp[1].data, "OK");
	} else {
		ck_assert_uint_eq(F.n_udp, 1);
	}
	connect_back(flavor);
	ck_assert_str_eq(F.udp[1].data, "OK");
	send_image(len, 1024, true);
	if (flavor == OTA_FLAVOR_ESP8266)
		finish_esp8266();
	check_success(len);
}
END_TEST

START_TEST(test_auth_pbkdf2_md5_ph)
{
	/* a >= 3.3.1 device given setPasswordHash(<md5>): the espota MD5 fallback */
	size_t len = 100;
	start(OTA_FLAVOR_ESP32, OTA_AUTH_PBKDF2, stored_hash(OTA_AUTH_MD5, "admin"));
	make_image(len, 21);
	invite(0, len);
	/* the first try, with PH = SHA256hex(password), fails and costs the session */
	auth_reply(OTA_AUTH_PBKDF2, "admin", false, HOST_UDP_PORT, "\n");
	ck_assert_str_eq(F.udp[1].data, "Authentication Failed");
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	/* a new invitation, a new nonce, PH = MD5hex(password) */
	invite(0, len);
	ck_assert_str_ne(F.udp[0].data, F.udp[2].data);
	F.n_ev = 0;
	auth_reply(OTA_AUTH_PBKDF2, "admin", true, HOST_UDP_PORT, "\n");
	ck_assert_str_eq(F.udp[3].data, "OK");
	connect_back(OTA_FLAVOR_ESP32);
	send_image(len, 1460, false);
	check_success(len);
}
END_TEST

START_TEST(test_wrong_password)
{
	/* _i: bit 0 flavour, bit 1 scheme */
	enum ota_flavor flavor = (_i & 1) ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	enum ota_auth_scheme scheme = (_i & 2) ? OTA_AUTH_PBKDF2 : OTA_AUTH_MD5;
	start(flavor, scheme, stored_hash(scheme, "admin"));
	make_image(64, 22);
	invite(0, 64);
	/* the answer comes from another port: ESP8266 still replies to the invitation's */
	auth_reply(scheme, "Admin", false, HOST_UDP_PORT + 1, "\n");
	ck_assert_uint_eq(F.n_udp, 2);
	ck_assert_uint_eq(F.udp[1].len, 21);
	ck_assert_str_eq(F.udp[1].data, "Authentication Failed");
	ck_assert_uint_eq(F.udp[1].port,
			  flavor == OTA_FLAVOR_ESP8266 ? HOST_UDP_PORT : HOST_UDP_PORT + 1);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_int_ge(last_event(OTA_ESPOTA_EV_ERROR), 0);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_AUTH);
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.begins, 0);
	ck_assert_uint_eq(F.connects, 0);
}
END_TEST

START_TEST(test_auth_cr_rejected)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	start(flavor, OTA_AUTH_MD5, stored_hash(OTA_AUTH_MD5, "admin"));
	make_image(64, 23);
	invite(0, 64);
	/* the response is read up to LF untrimmed: the CR makes it 33 long */
	auth_reply(OTA_AUTH_MD5, "admin", false, HOST_UDP_PORT, "\r\n");
	ck_assert_uint_eq(F.n_udp, 1);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_int_lt(last_event(OTA_ESPOTA_EV_ERROR), 0);
}
END_TEST

START_TEST(test_auth_malformed)
{
	static const char *const bad[] = {
	    "201 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
	    "200 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
	    "200 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
	    "200  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
	    "200aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
	    "",
	    "0 45000 100 0123456789abcdef0123456789abcdef\n",
	};
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, stored_hash(OTA_AUTH_MD5, "admin"));
	make_image(100, 24);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		F.n_udp = 0;
		invite(0, 100);
		ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_WAITAUTH);
		ota_espota_on_udp(&RX, HOST_IP, HOST_UDP_PORT, (const uint8_t *)bad[i],
				  strlen(bad[i]), now);
		/* silently back to IDLE: a second invitation is dropped too */
		ck_assert_uint_eq(F.n_udp, 1);
		ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	}
	/* a well-formed message with a wrong response is answered */
	F.n_udp = 0;
	invite(0, 100);
	udp_text(HOST_IP, HOST_UDP_PORT, "200 %032d %032d\n", 1, 2);
	ck_assert_uint_eq(F.n_udp, 2);
	ck_assert_str_eq(F.udp[1].data, "Authentication Failed");
}
END_TEST

START_TEST(test_nonces)
{
	char first[33];
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, stored_hash(OTA_AUTH_MD5, "admin"));
	make_image(10, 25);
	/* without a random source: MD5hex(decimal micros), different every time */
	invite(0, 10);
	memcpy(first, F.udp[0].data + 5, 33);
	udp_text(HOST_IP, HOST_UDP_PORT, "x");
	invite(0, 10);
	ck_assert_str_ne(first, F.udp[1].data + 5);
	/* with one: the hash of its bytes */
	F.have_random = true;
	F.random_byte = 0x5a;
	udp_text(HOST_IP, HOST_UDP_PORT, "x");
	invite(0, 10);
	{
		uint8_t r[32];
		char expect[33];
		memset(r, 0x5a, sizeof(r));
		md5_hex(r, sizeof(r), expect);
		ck_assert_str_eq(F.udp[2].data + 5, expect);
	}
	/* PBKDF2 nonces are 64 hex */
	ck_assert_int_eq(
	    ota_espota_set_auth(&RX, OTA_AUTH_PBKDF2, stored_hash(OTA_AUTH_PBKDF2, "x")), 0);
	invite(0, 10);
	ck_assert_uint_eq(strlen(F.udp[3].data + 5), 64);
}
END_TEST

/* ---- invitation parsing ---- */

START_TEST(test_malformed_invitations)
{
	static const char *const bad[] = {
	    "",
	    "1 45000 100 0123456789abcdef0123456789abcdef\n",
	    "50 45000 100 0123456789abcdef0123456789abcdef\n",
	    "200 45000 100 0123456789abcdef0123456789abcdef\n",
	    "0 45000 100 0123456789abcdef0123456789abcde\n",
	    "0 45000 100 0123456789abcdef0123456789abcdef0\n",
	    "0 45000 100 0123456789abcdef\0"
	    "0123456789abcdef\n",
	    "0 45000 1000123456789abcdef0123456789abcdef\n",
	    "-1 45000 100 0123456789abcdef0123456789abcdef\n",
	    "hello",
	    "0\n",
	    "0 45000 100 0123456789abcdef 0123456789abcd\n",
	};
	static const size_t bad_len[] = {0, 0, 0, 0, 0, 0, 46, 0, 0, 0, 0, 0};
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = bad_len[i] != 0 ? bad_len[i] : strlen(bad[i]);
		ck_assert_msg(ota_espota_on_udp(&RX, HOST_IP, HOST_UDP_PORT,
						(const uint8_t *)bad[i], n, now) == 0,
			      "packet %zu accepted", i);
		ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	}
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.n_udp, 0);
	ck_assert_uint_eq(F.begins, 0);
}
END_TEST

static void
accept_one(const char *pkt, size_t n, uint32_t size, uint16_t port, int cmd)
{
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	F.begins = 0;
	F.n_udp = 0;
	F.begin_rc = OTA_E_NO_SPACE; /* stop at begin() so only the parse shows */
	ck_assert_msg(
	    ota_espota_on_udp(&RX, HOST_IP, HOST_UDP_PORT, (const uint8_t *)pkt, n, now) == 1,
	    "rejected: %s", pkt);
	ck_assert_uint_eq(RX.host_port, port);
	ck_assert_int_eq(RX.cmd, cmd);
	ota_espota_poll(&RX, now);
	if (size == 0) {
		ck_assert_uint_eq(F.begins, 0);
	} else {
		ck_assert_uint_eq(F.begins, 1);
		ck_assert_uint_eq(F.begin_size, size);
		ck_assert_str_eq(F.begin_md5, "0123456789abcdef0123456789abcdef");
	}
}

START_TEST(test_invitation_quirks)
{
	/* spaces between the numbers, CR before LF, no LF, extra leading spaces */
	accept_one("0  45000   100 0123456789abcdef0123456789abcdef\r\n", 49, 100, 45000, 0);
	accept_one("  100 45000 100 0123456789abcdef0123456789abcdef", 48, 100, 45000, 100);
	/* one byte after SIZE is skipped whatever it is, then the MD5 is trimmed */
	accept_one("0 45000 100x0123456789abcdef0123456789abcdef\n", 45, 100, 45000, 0);
	accept_one("0 45000 100 \t 0123456789abcdef0123456789abcdef \t\n", 50, 100, 45000, 0);
	/* a leading zero, and a port too big for 16 bits kept modulo 65536 */
	accept_one("0100 70000 100 0123456789abcdef0123456789abcdef\n", 47, 100, 70000 - 65536,
		   100);
	/* 15 digits saturate like atoi(); 16 digits give 0 */
	accept_one("0 45000 999999999999999 0123456789abcdef0123456789abcdef\n", 57, 2147483647u,
		   45000, 0);
	accept_one("0000000000000000 45000 100 0123456789abcdef0123456789abcdef\n", 60, 100, 45000,
		   0);
	/* anything after LF is never read */
	accept_one("0 45000 100 0123456789abcdef0123456789abcdef\ngarbage", 52, 100, 45000, 0);
	/* missing numbers parse as 0: a zero size is refused by begin (below) */
	accept_one("0 45000 x0123456789abcdef0123456789abcdef\n", 42, 0, 45000, 0);
}
END_TEST

START_TEST(test_size_zero)
{
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	udp_text(HOST_IP, HOST_UDP_PORT, "0 45000 0 0123456789abcdef0123456789abcdef\n");
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.begins, 0);
	ck_assert_str_eq(F.udp[0].data, "ERR: ERROR[5]: Bad Size Given\n");
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
}
END_TEST

START_TEST(test_waitauth_drops_invitation)
{
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, stored_hash(OTA_AUTH_MD5, "admin"));
	make_image(100, 26);
	invite(0, 100);
	ck_assert_uint_eq(F.n_udp, 1);
	/* the host retries its invitation: dropped without a word, back to IDLE */
	invite(0, 100);
	ck_assert_uint_eq(F.n_udp, 1);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	/* the next one is answered with a fresh nonce */
	invite(0, 100);
	ck_assert_uint_eq(F.n_udp, 2);
	ck_assert_str_ne(F.udp[0].data, F.udp[1].data);
	auth_reply(OTA_AUTH_MD5, "admin", false, HOST_UDP_PORT, "\n");
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_RUNUPDATE);
}
END_TEST

START_TEST(test_udp_ignored_while_updating)
{
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	make_image(3000, 27);
	invite(0, 3000);
	connect_back(OTA_FLAVOR_ESP32);
	ck_assert_int_eq(invite(0, 3000), 0);
	ck_assert_uint_eq(F.n_udp, 1);
	send_image(3000, 1000, false);
	check_success(3000);
}
END_TEST

/* ---- errors from the sink, the network and the host ---- */

START_TEST(test_begin_errors)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	start(flavor, OTA_AUTH_MD5, NULL);
	make_image(100, 28);
	F.begin_rc = OTA_E_BUSY;
	invite(0, 100);
	ota_espota_poll(&RX, now);
	if (flavor == OTA_FLAVOR_ESP8266) {
		ck_assert_uint_eq(F.n_udp, 1);
		ck_assert_str_eq(F.udp[0].data, "ERR: ERROR[15]: Update already running\n");
	} else {
		/* ESP32 said OK already and now never connects */
		ck_assert_uint_eq(F.n_udp, 1);
		ck_assert_str_eq(F.udp[0].data, "OK");
	}
	ck_assert_uint_eq(F.connects, 0);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_BEGIN);
	ck_assert_uint_eq(F.ev_b[last_event(OTA_ESPOTA_EV_ERROR)], OTA_UPDATE_ERR_RUNNING);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_uint_eq(F.aborts, 0);
}
END_TEST

START_TEST(test_write_and_end_errors)
{
	size_t len = 8000;
	/* a write fails: the error goes out at once and the session ends */
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	make_image(len, 29);
	F.write_fail_at = 5000;
	F.write_rc = OTA_E_FLASH;
	invite(0, len);
	connect_back(OTA_FLAVOR_ESP8266);
	send_image(len, 1460, false);
	ck_assert_ptr_nonnull(strstr(F.tcp, "ERROR[1]: Flash Write Failed\n"));
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ends, 0);
	ck_assert_uint_eq(F.closes, 1);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);

	/* end() refuses the image: a code the Updater has no word for keeps its detail */
	again();
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	F.end_rc = OTA_E_WRONG_CHIP;
	invite(0, len);
	connect_back(OTA_FLAVOR_ESP8266);
	send_image(len, 1460, false);
	ck_assert_ptr_nonnull(strstr(F.tcp, "ERROR[17]: image is built for another chip\n"));
	ck_assert_uint_eq(F.ends, 1);
	ck_assert_uint_eq(F.aborts, 0);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_END);

	/* ESP32 words, and the sink's own text wins */
	again();
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	F.end_rc = OTA_E_BAD_MAGIC;
	invite(0, len);
	connect_back(OTA_FLAVOR_ESP32);
	send_image(len, 1460, false);
	ck_assert_str_eq(F.tcp + F.tcp_len - 18, "Wrong Magic Byte\r\n");
	again();
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	F.end_rc = OTA_E_SIGNATURE;
	F.error_text = "no signature block";
	invite(0, len);
	connect_back(OTA_FLAVOR_ESP32);
	send_image(len, 1460, false);
	ck_assert_str_eq(F.tcp + F.tcp_len - 20, "no signature block\r\n");
}
END_TEST

START_TEST(test_md5_mismatch_announced)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	char md5[33];
	char expect[200];
	size_t len = 3000;
	start(flavor, OTA_AUTH_MD5, NULL);
	make_image(len, 30);
	md5_hex(image, len, md5);
	udp_text(HOST_IP, HOST_UDP_PORT, "0 %u %zu 00000000000000000000000000000000\n",
		 HOST_TCP_PORT, len);
	connect_back(flavor);
	send_image(len, 1460, false);
	if (flavor == OTA_FLAVOR_ESP8266)
		snprintf(expect, sizeof(expect),
			 "ERROR[7]: MD5 verification failed: expected: "
			 "00000000000000000000000000000000, calculated: %s\n",
			 md5);
	else
		snprintf(expect, sizeof(expect), "MD5 Check Failed\r\n");
	ck_assert_str_eq(F.tcp + F.tcp_len - strlen(expect), expect);
	ck_assert_uint_eq(F.ends, 0);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ev_b[last_event(OTA_ESPOTA_EV_ERROR)], OTA_UPDATE_ERR_MD5);
}
END_TEST

START_TEST(test_md5_case)
{
	/* ESP8266 compares with strcasecmp, the ESP32 copy case-sensitively */
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	char md5[33];
	size_t len = 500;
	start(flavor, OTA_AUTH_MD5, NULL);
	make_image(len, 31);
	md5_hex(image, len, md5);
	for (char *c = md5; *c; c++) {
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	}
	udp_text(HOST_IP, HOST_UDP_PORT, "0 %u %zu %s\n", HOST_TCP_PORT, len, md5);
	connect_back(flavor);
	send_image(len, 1460, false);
	if (flavor == OTA_FLAVOR_ESP8266) {
		finish_esp8266();
		check_success(len);
	} else {
		ck_assert_ptr_nonnull(strstr(F.tcp, "MD5 Check Failed"));
		ck_assert_uint_eq(F.ends, 0);
	}
}
END_TEST

START_TEST(test_peer_closes_early)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	start(flavor, OTA_AUTH_MD5, NULL);
	make_image(5000, 32);
	invite(0, 5000);
	connect_back(flavor);
	send_image(2000, 1000, false);
	ota_espota_on_tcp_closed(&RX, now);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ends, 0);
	ck_assert_uint_eq(F.closes, 0); /* the peer closed it */
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_END);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	/* the next invitation works */
	ck_assert_int_eq(invite(0, 5000), 1);
}
END_TEST

START_TEST(test_connect_failures)
{
	/* refused at once */
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	make_image(100, 33);
	F.connect_rc = -1;
	invite(0, 100);
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.connects, 1);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_CONNECT);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);

	/* reported failed later */
	again();
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	invite(0, 100);
	ota_espota_poll(&RX, now);
	advance(100);
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.connects, 1);
	ota_espota_on_tcp_closed(&RX, now);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_CONNECT);

	/* never reported: the receiver gives up */
	again();
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	invite(0, 100);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), OTA_ESPOTA_CONNECT_TIMEOUT_MS);
	advance(OTA_ESPOTA_CONNECT_TIMEOUT_MS);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), UINT32_MAX);
	ck_assert_uint_eq(F.closes, 1);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_CONNECT);

	/* connected from inside tcp_connect */
	again();
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	F.connect_now = true;
	make_image(3000, 34);
	invite(0, 3000);
	ota_espota_poll(&RX, now);
	send_image(3000, 3000, false);
	check_success(3000);
}
END_TEST

START_TEST(test_esp32_receive_timeout)
{
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	make_image(5000, 35);
	invite(0, 5000);
	connect_back(OTA_FLAVOR_ESP32);
	ota_espota_on_tcp_data(&RX, image, 1000, now);
	ck_assert_str_eq(F.tcp, "1000");
	/* 1 s without data: the last count again, three times */
	for (int t = 1; t <= 3; t++) {
		ck_assert_uint_eq(ota_espota_poll(&RX, now), 1000);
		advance(999);
		ota_espota_poll(&RX, now);
		ck_assert_uint_eq(F.tcp_sends, (unsigned)t);
		advance(1);
		ota_espota_poll(&RX, now);
		ck_assert_uint_eq(F.tcp_sends, (unsigned)t + 1);
	}
	ck_assert_str_eq(F.tcp, "1000100010001000");
	/* data resets the count of tries */
	ota_espota_on_tcp_data(&RX, image + 1000, 500, now);
	for (int t = 0; t < 3; t++) {
		advance(1000);
		ota_espota_poll(&RX, now);
	}
	ck_assert_str_eq(F.tcp, "1000100010001000"
				"500500500500");
	advance(999);
	ota_espota_poll(&RX, now);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_RUNUPDATE);
	advance(1);
	ota_espota_poll(&RX, now);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_RECEIVE);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.closes, 1);

	/* before the first byte there is nothing to repeat: one timeout ends it */
	again();
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	invite(0, 5000);
	connect_back(OTA_FLAVOR_ESP32);
	advance(1000);
	ota_espota_poll(&RX, now);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_uint_eq(F.tcp_len, 0);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_RECEIVE);
}
END_TEST

START_TEST(test_esp8266_waits)
{
	/* stock ESP8266: no receive timeout at all */
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	make_image(5000, 36);
	invite(0, 5000);
	connect_back(OTA_FLAVOR_ESP8266);
	ota_espota_on_tcp_data(&RX, image, 1000, now);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), UINT32_MAX);
	advance(600000);
	ota_espota_poll(&RX, now);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_RUNUPDATE);
	ck_assert_uint_eq(ota_espota_on_tcp_data(&RX, image + 1000, 4000, now), 4000);
	finish_esp8266();
	check_success(5000);

	/* with an idle timeout set */
	again();
	{
		struct ota_espota_config c = config(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
		c.idle_timeout_ms = 30000;
		ck_assert_int_eq(ota_espota_init(&RX, &c), 0);
	}
	invite(0, 5000);
	connect_back(OTA_FLAVOR_ESP8266);
	ota_espota_on_tcp_data(&RX, image, 1000, now);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), 30000);
	advance(30000);
	ota_espota_poll(&RX, now);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_RECEIVE);
}
END_TEST

START_TEST(test_esp8266_close_during_final_wait)
{
	start(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	make_image(700, 37);
	invite(0, 700);
	connect_back(OTA_FLAVOR_ESP8266);
	send_image(700, 700, false);
	ck_assert_uint_eq(F.ends, 1);
	/* the host gives up waiting for OK: the image is in anyway */
	ota_espota_on_tcp_closed(&RX, now);
	check_success(700);
	ck_assert_uint_eq(F.closes, 0);
}
END_TEST

/* ---- fault hooks ---- */

START_TEST(test_fault_drop)
{
	enum ota_flavor flavor = _i & 1 ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	uint32_t at = (_i & 2) ? 0 : 4321;
	struct ota_espota_faults f = {0};
	start(flavor, OTA_AUTH_MD5, NULL);
	f.drop = true;
	f.drop_at = at;
	ota_espota_set_faults(&RX, &f);
	make_image(10000, 38);
	invite(0, 10000);
	connect_back(flavor);
	send_image(10000, 1460, false);
	ck_assert_uint_eq(ota_espota_get_received(&RX), at);
	ck_assert_uint_eq(F.image_len, at);
	ck_assert_uint_eq(F.closes, 1);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ends, 0);
	ck_assert_ptr_null(strstr(F.tcp, "OK"));
	ck_assert_ptr_null(strstr(F.tcp, "ERROR"));
	ck_assert_uint_eq(sum_acks(flavor == OTA_FLAVOR_ESP32), at);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_RECEIVE);
}
END_TEST

START_TEST(test_fault_stall)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	struct ota_espota_faults f = {0};
	size_t used;
	start(flavor, OTA_AUTH_MD5, NULL);
	f.stall = true;
	f.stall_at = 3000;
	f.stall_ms = 5000;
	ota_espota_set_faults(&RX, &f);
	make_image(6000, 39);
	invite(0, 6000);
	connect_back(flavor);
	used = ota_espota_on_tcp_data(&RX, image, 6000, now);
	ck_assert_uint_eq(used, 3000);
	/* nothing is read during the stall, and no timeout fires (longer than ESP32's 4 s) */
	ck_assert_uint_eq(ota_espota_on_tcp_data(&RX, image + used, 6000 - used, now), 0);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), 5000);
	advance(4999);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), 1);
	ck_assert_uint_eq(ota_espota_on_tcp_data(&RX, image + used, 6000 - used, now), 0);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_RUNUPDATE);
	advance(1);
	ck_assert_uint_eq(ota_espota_poll(&RX, now), 0);
	/* then it goes on */
	ck_assert_uint_eq(ota_espota_on_tcp_data(&RX, image + used, 6000 - used, now), 3000);
	if (flavor == OTA_FLAVOR_ESP8266) {
		ck_assert_str_eq(F.tcp, "30003000");
		finish_esp8266();
	}
	check_success(6000);
}
END_TEST

START_TEST(test_fault_md5)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	struct ota_espota_faults f = {0};
	char md5[33];
	start(flavor, OTA_AUTH_MD5, NULL);
	f.md5_mismatch = true;
	ota_espota_set_faults(&RX, &f);
	make_image(2000, 40);
	md5_hex(image, 2000, md5);
	invite(0, 2000);
	connect_back(flavor);
	send_image(2000, 1460, false);
	if (flavor == OTA_FLAVOR_ESP8266) {
		char expect[160];
		snprintf(expect, sizeof(expect),
			 "ERROR[7]: MD5 verification failed: expected: %s, calculated: ", md5);
		ck_assert_ptr_nonnull(strstr(F.tcp, expect));
		/* what it calculated is not the real MD5 */
		ck_assert_int_ne(strncmp(strstr(F.tcp, expect) + strlen(expect), md5, 32), 0);
	} else {
		ck_assert_str_eq(F.tcp + F.tcp_len - 18, "MD5 Check Failed\r\n");
	}
	ck_assert_uint_eq(F.ends, 0);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.closes, 1);
}
END_TEST

START_TEST(test_fault_reject_auth)
{
	struct ota_espota_faults f = {0};
	start(OTA_FLAVOR_ESP32, OTA_AUTH_PBKDF2, stored_hash(OTA_AUTH_PBKDF2, "admin"));
	f.reject_auth = true;
	ota_espota_set_faults(&RX, &f);
	make_image(100, 41);
	invite(0, 100);
	auth_reply(OTA_AUTH_PBKDF2, "admin", false, HOST_UDP_PORT, "\n");
	ck_assert_str_eq(F.udp[1].data, "Authentication Failed");
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
}
END_TEST

START_TEST(test_fault_no_connect_back)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	struct ota_espota_faults f = {0};
	start(flavor, OTA_AUTH_MD5, NULL);
	f.no_connect_back = true;
	ota_espota_set_faults(&RX, &f);
	make_image(100, 42);
	invite(0, 100);
	ota_espota_poll(&RX, now);
	advance(200);
	ota_espota_poll(&RX, now);
	/* the host heard OK and waits in vain */
	ck_assert_str_eq(F.udp[0].data, "OK");
	ck_assert_uint_eq(F.connects, 0);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.ev_a[last_event(OTA_ESPOTA_EV_ERROR)], OTA_ESPOTA_ERR_CONNECT);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
}
END_TEST

START_TEST(test_fault_begin_no_space)
{
	enum ota_flavor flavor = _i ? OTA_FLAVOR_ESP32 : OTA_FLAVOR_ESP8266;
	struct ota_espota_faults f = {0};
	start(flavor, OTA_AUTH_MD5, NULL);
	f.begin_no_space = true;
	ota_espota_set_faults(&RX, &f);
	make_image(100, 43);
	invite(0, 100);
	ota_espota_poll(&RX, now);
	ck_assert_uint_eq(F.begins, 0);
	ck_assert_uint_eq(F.n_udp, 1);
	ck_assert_str_eq(F.udp[0].data,
			 flavor == OTA_FLAVOR_ESP8266 ? "ERR: ERROR[4]: Not Enough Space\n" : "OK");
	ck_assert_uint_eq(F.connects, 0);
	ck_assert_uint_eq(F.ev_b[last_event(OTA_ESPOTA_EV_ERROR)], OTA_UPDATE_ERR_SPACE);
}
END_TEST

START_TEST(test_ack_send_failure)
{
	start(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	make_image(3000, 44);
	invite(0, 3000);
	connect_back(OTA_FLAVOR_ESP32);
	F.tcp_send_rc = -1;
	ota_espota_on_tcp_data(&RX, image, 1000, now);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_uint_eq(F.aborts, 1);
	ck_assert_uint_eq(F.closes, 1);
}
END_TEST

START_TEST(test_config_checks)
{
	struct ota_espota_config c = config(OTA_FLAVOR_ESP8266, OTA_AUTH_MD5, NULL);
	ck_assert_int_eq(ota_espota_init(&RX, &c), 0);
	c.password_hash = "0123"; /* too short */
	ck_assert_int_eq(ota_espota_init(&RX, &c), OTA_E_BAD_ARGS);
	c.password_hash = "0123456789abcdef0123456789abcdeg"; /* not hex */
	ck_assert_int_eq(ota_espota_init(&RX, &c), OTA_E_BAD_ARGS);
	c.password_hash = stored_hash(OTA_AUTH_PBKDF2, "x"); /* 64 hex for the MD5 scheme */
	ck_assert_int_eq(ota_espota_init(&RX, &c), OTA_E_BAD_ARGS);
	c.auth_scheme = OTA_AUTH_PBKDF2;
	ck_assert_int_eq(ota_espota_init(&RX, &c), 0);
	c.sink = NULL;
	ck_assert_int_eq(ota_espota_init(&RX, &c), OTA_E_BAD_ARGS);
	c = config(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	c.hash = NULL;
	ck_assert_int_eq(ota_espota_init(&RX, &c), OTA_E_BAD_ARGS);
	c = config((enum ota_flavor)7, OTA_AUTH_MD5, NULL);
	ck_assert_int_eq(ota_espota_init(&RX, &c), OTA_E_BAD_ARGS);
	/* no password change mid-update */
	c = config(OTA_FLAVOR_ESP32, OTA_AUTH_MD5, NULL);
	ck_assert_int_eq(ota_espota_init(&RX, &c), 0);
	make_image(100, 45);
	invite(0, 100);
	ck_assert_int_eq(ota_espota_set_auth(&RX, OTA_AUTH_MD5, NULL), OTA_E_BAD_STATE);
	ota_espota_abort(&RX);
	ck_assert_int_eq(ota_espota_get_state(&RX), OTA_ESPOTA_IDLE);
	ck_assert_int_eq(ota_espota_set_auth(&RX, OTA_AUTH_MD5, NULL), 0);
}
END_TEST

static Suite *
espota_suite(void)
{
	Suite *s = suite_create("espota");
	TCase *tc = tcase_create("update");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_esp8266_no_auth);
	tcase_add_test(tc, test_esp32_no_auth);
	tcase_add_test(tc, test_filesystem_command);
	tcase_add_loop_test(tc, test_chunk_sizes, 0, 20);
	tcase_add_test(tc, test_bytes_past_the_image);
	tcase_add_test(tc, test_udp_ignored_while_updating);
	suite_add_tcase(s, tc);

	tc = tcase_create("auth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_auth_both_schemes, 0, 4);
	tcase_add_test(tc, test_auth_pbkdf2_md5_ph);
	tcase_add_loop_test(tc, test_wrong_password, 0, 4);
	tcase_add_loop_test(tc, test_auth_cr_rejected, 0, 2);
	tcase_add_test(tc, test_auth_malformed);
	tcase_add_test(tc, test_nonces);
	tcase_add_test(tc, test_waitauth_drops_invitation);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_malformed_invitations);
	tcase_add_test(tc, test_invitation_quirks);
	tcase_add_test(tc, test_size_zero);
	tcase_add_test(tc, test_config_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_begin_errors, 0, 2);
	tcase_add_test(tc, test_write_and_end_errors);
	tcase_add_loop_test(tc, test_md5_mismatch_announced, 0, 2);
	tcase_add_loop_test(tc, test_md5_case, 0, 2);
	tcase_add_loop_test(tc, test_peer_closes_early, 0, 2);
	tcase_add_test(tc, test_connect_failures);
	tcase_add_test(tc, test_esp32_receive_timeout);
	tcase_add_test(tc, test_esp8266_waits);
	tcase_add_test(tc, test_esp8266_close_during_final_wait);
	tcase_add_test(tc, test_ack_send_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_fault_drop, 0, 4);
	tcase_add_loop_test(tc, test_fault_stall, 0, 2);
	tcase_add_loop_test(tc, test_fault_md5, 0, 2);
	tcase_add_test(tc, test_fault_reject_auth);
	tcase_add_loop_test(tc, test_fault_no_connect_back, 0, 2);
	tcase_add_loop_test(tc, test_fault_begin_no_space, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(espota_suite());
}
