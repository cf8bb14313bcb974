/* SPDX-License-Identifier: MIT */
/* ota-espota.c - the espota / ArduinoOTA device state machine (ESP8266 and ESP32 flavours) */

#include "ota/ota-espota.h"

#include "ota/ota-util.h"

#define CMD_AUTH 200
/* newlib's atoi() on a 32-bit device saturates at LONG_MAX */
#define ATOI_MAX 2147483647u
/* "ERROR[nn]: " + the longest detail text a sink may give (OTA_SINK_TEXT_MAX) + "\r\n",
 * with room to spare: nothing is ever cut */
#define MSG_MAX 192

static const char auth_failed[] = "Authentication Failed";

/* ---- time ---- */

static bool
due(uint32_t now, uint32_t deadline)
{
	return (int32_t)(now - deadline) >= 0;
}

static uint32_t
until(uint32_t now, uint32_t deadline)
{
	return due(now, deadline) ? 0 : deadline - now;
}

static uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- a datagram read the way ArduinoOTA reads it (peek/read on a Stream) ---- */

struct pkt {
	const uint8_t *d;
	size_t len;
	size_t off;
};

static int
pkt_peek(const struct pkt *p)
{
	return p->off < p->len ? p->d[p->off] : -1;
}

/*
 * ArduinoOTA parseInt(): skip spaces, copy digits into a 16-byte buffer and atoi() it at
 * the first non-digit; sixteen digits in a row fill the buffer and give 0.
 */
static uint32_t
parse_int(struct pkt *p)
{
	uint32_t v = 0;
	/* a byte peek() saw is there: read() would only step over it */
	while (pkt_peek(p) == ' ')
		p->off++;
	for (int i = 0; i < 16; i++) {
		uint32_t d = (uint32_t)(pkt_peek(p) - '0');
		if (d > 9)
			return v;
		/* capped at ATOI_MAX; v * 10 + d still fits 32 bits for any v below 2^28 */
		v = v < (1u << 28) ? v * 10u + d : ATOI_MAX;
		if (v > ATOI_MAX)
			v = ATOI_MAX;
		p->off++;
	}
	return 0;
}

/*
 * ArduinoOTA readStringUntil(): up to @end, a NUL or the end of the datagram; after a
 * read() of the separator before the text, whatever it is, when @skip
 */
static void
read_until(struct pkt *p, bool skip, char end, const char **s, size_t *n)
{
	if (skip && p->off < p->len)
		p->off++;
	*s = (const char *)p->d + p->off;
	*n = 0;
	while (p->off < p->len) {
		uint8_t c = p->d[p->off++];
		/* as &&, GCC branches on each test instead of computing both into a flag */
		if (c != 0 && c != (unsigned char)end)
			(*n)++;
		else
			return;
	}
}

static bool
is_space(char c)
{
	/* ' ' and '\t' '\n' '\v' '\f' '\r', which are 9 to 13 */
	if (c == ' ')
		return true;
	return (unsigned char)(c - '\t') < 5u;
}

/* Arduino String::trim(); on copies, so its one caller inlines it cheaply */
static void
trim(const char **s, size_t *n)
{
	const char *t = *s;
	size_t len = *n;

	while (len > 0 && is_space(t[0])) {
		t++;
		len--;
	}
	while (len > 0 && is_space(t[len - 1]))
		len--;
	*s = t;
	*n = len;
}

static size_t
format_u32(uint32_t v, char out[11])
{
	return ota_format(out, 11, "%lu", (unsigned long)v);
}

/* ---- callbacks ---- */

static void
emit(struct ota_espota *rx, enum ota_espota_event ev, uint32_t a, uint32_t b)
{
	if (rx->ops.event != 0)
		rx->ops.event(rx->ops.user, ev, a, b);
}

static void
udp_send(struct ota_espota *rx, uint32_t ip, uint16_t port, const char *s, size_t n)
{
	rx->ops.udp_send(rx->ops.user, ip, port, (const uint8_t *)s, n);
}

static int
tcp_send(struct ota_espota *rx, const char *s, size_t n)
{
	if (!rx->tcp_open)
		return -1;
	return rx->ops.tcp_send(rx->ops.user, (const uint8_t *)s, n);
}

/* closes the connection, or cancels the connect-back still under way */
static void
tcp_close(struct ota_espota *rx)
{
	if (rx->tcp_open || rx->phase == OTA_ESPOTA_PH_CONNECTING) {
		rx->tcp_open = false;
		rx->ops.tcp_close(rx->ops.user);
	}
}

/* drops the session; the sink is aborted unless it already ended */
static OTA_NOINLINE void
session_drop(struct ota_espota *rx)
{
	ota_sink_run_abort(&rx->run);
	tcp_close(rx);
	rx->stalling = false;
	rx->state = OTA_ESPOTA_IDLE;
	rx->phase = OTA_ESPOTA_PH_NONE;
}

static void
session_fail(struct ota_espota *rx, enum ota_espota_error err, enum ota_update_error uerr)
{
	session_drop(rx);
	emit(rx, OTA_ESPOTA_EV_ERROR, (uint32_t)err, (uint32_t)uerr);
}

/*
 * the Updater's error as the device prints it, then the session ends: a failed begin() is
 * told on UDP after "ERR: " by ESP8266 (ESP32 says nothing: the host times out waiting for
 * the connect-back), a failed write or end() on TCP
 */
static void
fail_update(struct ota_espota *rx,
	    enum ota_espota_error what,
	    enum ota_update_error err,
	    const char *text)
{
	char msg[5 + MSG_MAX];
	size_t n;

	ota_copy(msg, "ERR: ", 5);
	n = ota_update_error_format(rx->flavor, err, text[0] != '\0' ? text : 0, msg + 5, MSG_MAX);
	if (what != OTA_ESPOTA_ERR_BEGIN)
		(void)tcp_send(rx, msg + 5, n);
	else if (rx->flavor == OTA_FLAVOR_ESP8266)
		udp_send(rx, rx->ota_ip, rx->reply_port, msg, 5 + n);
	session_fail(rx, what, err);
}

/* ---- configuration ---- */

static int
set_key(struct ota_espota *rx, enum ota_auth_scheme scheme, const char *hash)
{
	size_t n;
	if (hash == 0)
		hash = ""; /* no password; ota_copy() below gets a real pointer either way */
	n = ota_strnlen(hash, OTA_AUTH_SHA256_HEX_LEN + 1);
	if (scheme != OTA_AUTH_MD5 && scheme != OTA_AUTH_PBKDF2)
		return OTA_E_BAD_ARGS;
	/* none, 32 hex digits, or 64 with PBKDF2 */
	switch (n) {
	case OTA_AUTH_SHA256_HEX_LEN:
		if (scheme != OTA_AUTH_PBKDF2)
			return OTA_E_BAD_ARGS;
		/* fall through */
	case 0:
	case OTA_AUTH_MD5_HEX_LEN:
		if (!ota_auth_is_hex(hash, n))
			return OTA_E_BAD_ARGS;
		break;
	default:
		return OTA_E_BAD_ARGS;
	}
	rx->scheme = scheme;
	ota_fill(rx->key, 0, sizeof(rx->key));
	ota_copy(rx->key, hash, n);
	rx->key_len = n;
	return 0;
}

int
ota_espota_init(struct ota_espota *rx, const struct ota_espota_config *cfg)
{
	int rc;
	if (rx == 0 || cfg == 0)
		return OTA_E_BAD_ARGS;
	ota_fill(rx, 0, sizeof(*rx));
	if (cfg->flavor != OTA_FLAVOR_ESP8266 && cfg->flavor != OTA_FLAVOR_ESP32)
		return OTA_E_BAD_ARGS;
	if (!ota_hash_ops_valid(cfg->hash) || !ota_sink_valid(cfg->sink))
		return OTA_E_BAD_ARGS;
	if (cfg->ops.udp_send == 0 || cfg->ops.tcp_connect == 0 || cfg->ops.tcp_send == 0 ||
	    cfg->ops.tcp_close == 0)
		return OTA_E_BAD_ARGS;
	rc = set_key(rx, cfg->auth_scheme, cfg->password_hash);
	if (rc != 0)
		return rc;
	rx->flavor = cfg->flavor;
	rx->timeout_ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : OTA_ESPOTA_ESP32_TIMEOUT_MS;
	rx->idle_timeout_ms = cfg->idle_timeout_ms;
	rx->hash = cfg->hash;
	rx->run.sink = cfg->sink;
	rx->run.md5 = cfg->hash;
	rx->ops = cfg->ops;
	rx->faults = cfg->faults;
	/* state IDLE and phase NONE are the zeroes filled in above */
	return 0;
}

void
ota_espota_set_faults(struct ota_espota *rx, const struct ota_espota_faults *faults)
{
	if (rx != 0 && faults != 0)
		rx->faults = *faults;
}

int
ota_espota_set_auth(struct ota_espota *rx, enum ota_auth_scheme scheme, const char *password_hash)
{
	if (rx == 0)
		return OTA_E_BAD_ARGS;
	if (rx->state == OTA_ESPOTA_RUNUPDATE)
		return OTA_E_BAD_STATE;
	rx->state = OTA_ESPOTA_IDLE;
	return set_key(rx, scheme, password_hash);
}

/* ---- UDP: invitation and auth ---- */

/* MD5hex or SHA256hex of random bytes, or of a microsecond count as the stock devices do */
static int
make_nonce(struct ota_espota *rx, uint32_t now_ms)
{
	uint8_t rnd[32];
	char dec[24];
	struct ota_auth_part part;
	enum ota_hash_kind kind = rx->scheme == OTA_AUTH_PBKDF2 ? OTA_HASH_SHA256 : OTA_HASH_MD5;
	if (rx->ops.random != 0 && rx->ops.random(rx->ops.user, rnd, sizeof(rnd)) == 0) {
		part.data = rnd;
		part.len = sizeof(rnd);
	} else {
		uint32_t micros = now_ms * 1000u + (rx->nonce_counter++ % 1000u);
		part.data = dec;
		part.len = format_u32(micros, dec);
	}
	if (ota_auth_digest_hex(rx->hash, kind, &part, 1, rx->nonce) != 0)
		return -1;
	rx->nonce_len = ota_auth_hex_len(rx->scheme);
	return 0;
}

/* RUNUPDATE; the reply OK of ESP32 goes out now, the ESP8266 one after begin() */
static void
enter_runupdate(struct ota_espota *rx, uint32_t src_ip, uint16_t src_port)
{
	rx->state = OTA_ESPOTA_RUNUPDATE;
	rx->phase = OTA_ESPOTA_PH_BEGIN;
	if (rx->flavor == OTA_FLAVOR_ESP32) {
		/* ESP32 connects back to the source of the packet that got this far */
		rx->ota_ip = src_ip;
		udp_send(rx, src_ip, src_port, "OK", 2);
	}
}

static int
on_invitation(
    struct ota_espota *rx, uint32_t src_ip, uint16_t src_port, struct pkt *p, uint32_t now)
{
	uint32_t cmd = parse_int(p);
	uint32_t port;
	uint32_t size;
	const char *md5;
	size_t md5_len;

	switch (cmd) {
	case OTA_CMD_FLASH:
	case OTA_CMD_FS:
		break;
	default:
		return 0;
	}
	port = parse_int(p);
	size = parse_int(p);
	read_until(p, true, '\n', &md5, &md5_len);
	trim(&md5, &md5_len);
	if (md5_len != OTA_AUTH_MD5_HEX_LEN)
		return 0;

	rx->cmd = (int)cmd;
	rx->host_port = (uint16_t)port; /* stored in a uint16_t, as on the devices */
	rx->size = size;
	ota_copy_field(rx->md5, md5, md5_len); /* read_until() stopped at any NUL */
	rx->ota_ip = src_ip;
	rx->reply_port = src_port;
	rx->received = 0;
	rx->last_count = 0;
	rx->tries = 0;
	rx->stall_done = false;
	rx->stalling = false;

	if (rx->key_len != 0) {
		char msg[5 + OTA_AUTH_SHA256_HEX_LEN + 1];
		if (make_nonce(rx, now) != 0)
			return 0;
		udp_send(rx, src_ip, src_port, msg,
			 ota_format(msg, sizeof(msg), "AUTH %s", rx->nonce));
		rx->state = OTA_ESPOTA_WAITAUTH;
		return 1;
	}
	enter_runupdate(rx, src_ip, src_port);
	return 1;
}

static int
on_auth(struct ota_espota *rx, uint32_t src_ip, uint16_t src_port, struct pkt *p)
{
	size_t want = rx->nonce_len; /* the scheme's hex length: WAITAUTH keeps the nonce's scheme */
	const char *cnonce;
	const char *response;
	size_t cnonce_len;
	size_t response_len;
	int rc;

	/* anything but a well-formed auth message sends WAITAUTH back to IDLE, silently */
	rx->state = OTA_ESPOTA_IDLE;
	if (parse_int(p) != CMD_AUTH)
		return 1;
	read_until(p, true, ' ', &cnonce, &cnonce_len);
	read_until(p, false, '\n', &response, &response_len);
	if (cnonce_len != want || response_len != want)
		return 1;

	rc = ota_auth_verify(rx->hash, rx->scheme, rx->key, rx->key_len, rx->nonce, rx->nonce_len,
			     cnonce, cnonce_len, response, response_len);
	if (rc == 0 && !rx->faults.reject_auth) {
		enter_runupdate(rx, src_ip, src_port);
		return 1;
	}
	if (rx->flavor != OTA_FLAVOR_ESP32) {
		src_ip = rx->ota_ip;
		src_port = rx->reply_port;
	}
	udp_send(rx, src_ip, src_port, auth_failed, sizeof(auth_failed) - 1);
	emit(rx, OTA_ESPOTA_EV_ERROR, OTA_ESPOTA_ERR_AUTH, 0);
	return 1;
}

int
ota_espota_on_udp(struct ota_espota *rx,
		  uint32_t src_ip,
		  uint16_t src_port,
		  const uint8_t *data,
		  size_t len,
		  uint32_t now_ms)
{
	struct pkt p;
	if (rx == 0 || (data == 0 && len != 0))
		return 0;
	p.d = data;
	p.len = len;
	p.off = 0;
	switch (rx->state) {
	case OTA_ESPOTA_IDLE:
		return on_invitation(rx, src_ip, src_port, &p, now_ms);
	case OTA_ESPOTA_WAITAUTH:
		return on_auth(rx, src_ip, src_port, &p);
	case OTA_ESPOTA_RUNUPDATE:
	default:
		/* the devices do not look at UDP while an update runs */
		return 0;
	}
}

/* ---- the update ---- */

static void
start_connect(struct ota_espota *rx, uint32_t now)
{
	if (rx->faults.no_connect_back) {
		session_fail(rx, OTA_ESPOTA_ERR_CONNECT, OTA_UPDATE_OK);
		return;
	}
	rx->phase = OTA_ESPOTA_PH_CONNECTING;
	rx->deadline_ms = now + OTA_ESPOTA_CONNECT_TIMEOUT_MS;
	if (rx->ops.tcp_connect(rx->ops.user, rx->ota_ip, rx->host_port) < 0 &&
	    rx->phase == OTA_ESPOTA_PH_CONNECTING) {
		rx->phase = OTA_ESPOTA_PH_NONE; /* nothing to cancel */
		session_fail(rx, OTA_ESPOTA_ERR_CONNECT, OTA_UPDATE_OK);
	}
}

static void
run_begin(struct ota_espota *rx, uint32_t now)
{
	char text[OTA_SINK_TEXT_MAX];
	enum ota_update_error err;

	text[0] = '\0';
	if (rx->faults.begin_no_space)
		err = OTA_UPDATE_ERR_SPACE;
	else if (rx->size == 0)
		err = OTA_UPDATE_ERR_SIZE;
	else
		err = ota_sink_run_begin(&rx->run, rx->size, rx->cmd, rx->md5, text);

	if (err != OTA_UPDATE_OK) {
		fail_update(rx, OTA_ESPOTA_ERR_BEGIN, err, text);
		return;
	}

	emit(rx, OTA_ESPOTA_EV_START, rx->size, (uint32_t)rx->cmd);
	if (rx->flavor == OTA_FLAVOR_ESP8266) {
		udp_send(rx, rx->ota_ip, rx->reply_port, "OK", 2);
		rx->phase = OTA_ESPOTA_PH_CONNECT_DELAY;
		rx->deadline_ms = now + OTA_ESPOTA_ESP8266_CONNECT_DELAY_MS;
		return;
	}
	start_connect(rx, now);
}

void
ota_espota_on_tcp_connected(struct ota_espota *rx, uint32_t now_ms)
{
	if (rx == 0 || rx->phase != OTA_ESPOTA_PH_CONNECTING)
		return;
	rx->tcp_open = true;
	rx->phase = OTA_ESPOTA_PH_RECEIVING;
	rx->last_rx_ms = now_ms;
	if (rx->faults.drop && rx->faults.drop_at == 0)
		session_fail(rx, OTA_ESPOTA_ERR_RECEIVE, OTA_UPDATE_OK);
}

static void
finish_success(struct ota_espota *rx)
{
	uint32_t size = rx->size;
	tcp_close(rx);
	rx->state = OTA_ESPOTA_IDLE;
	rx->phase = OTA_ESPOTA_PH_NONE;
	emit(rx, OTA_ESPOTA_EV_END, size, 0);
}

void
ota_espota_on_tcp_closed(struct ota_espota *rx, uint32_t now_ms)
{
	enum ota_espota_phase ph;
	(void)now_ms;
	if (rx == 0)
		return;
	ph = rx->phase;
	/* the phases from CONNECTING on have a connection (or its attempt) to lose */
	if (ph < OTA_ESPOTA_PH_CONNECTING || ph > OTA_ESPOTA_PH_CLOSE_DELAY)
		return;
	rx->tcp_open = false;
	if (ph >= OTA_ESPOTA_PH_OK_DELAY) {
		/* the image is committed already; only the final OK is lost */
		finish_success(rx);
		return;
	}
	rx->phase = OTA_ESPOTA_PH_NONE;
	if (ph == OTA_ESPOTA_PH_CONNECTING)
		session_fail(rx, OTA_ESPOTA_ERR_CONNECT, OTA_UPDATE_OK);
	else
		/* RECEIVING: Update.end() on a short image fails; there is nobody left to tell */
		session_fail(rx, OTA_ESPOTA_ERR_END, OTA_UPDATE_ERR_ABORTED);
}

/* all bytes are in: Update.end() with its MD5 check */
static void
finish_update(struct ota_espota *rx, uint32_t now)
{
	char text[OTA_SINK_TEXT_MAX];
	enum ota_update_error err =
	    ota_sink_run_end(&rx->run, rx->md5, rx->flavor, rx->faults.md5_mismatch, text);

	if (err != OTA_UPDATE_OK) {
		fail_update(rx, OTA_ESPOTA_ERR_END, err, text);
		return;
	}
	if (rx->flavor == OTA_FLAVOR_ESP8266) {
		/* so the last count does not merge with OK: flush, 1 s, OK, 1 s, close */
		rx->phase = OTA_ESPOTA_PH_OK_DELAY;
		rx->deadline_ms = now + OTA_ESPOTA_ESP8266_OK_DELAY_MS;
		return;
	}
	(void)tcp_send(rx, "OK", 2);
	finish_success(rx);
}

/* Update.write() of one piece; false when the session ended */
static bool
write_piece(struct ota_espota *rx, const uint8_t *data, size_t n)
{
	char text[OTA_SINK_TEXT_MAX];
	enum ota_update_error err = ota_sink_run_write(&rx->run, data, n, text);
	if (err != OTA_UPDATE_OK) {
		fail_update(rx, OTA_ESPOTA_ERR_END, err, text);
		return false;
	}
	rx->received += (uint32_t)n;
	emit(rx, OTA_ESPOTA_EV_PROGRESS, rx->received, rx->size);
	return true;
}

static bool
send_count(struct ota_espota *rx, uint32_t count)
{
	char dec[11];
	size_t n = format_u32(count, dec);
	if (tcp_send(rx, dec, n) < 0) {
		session_fail(rx, OTA_ESPOTA_ERR_RECEIVE, OTA_UPDATE_OK);
		return false;
	}
	return true;
}

size_t
ota_espota_on_tcp_data(struct ota_espota *rx, const uint8_t *data, size_t len, uint32_t now_ms)
{
	size_t used = 0;
	uint32_t pending = 0; /* ESP8266: one count per read of everything available */
	uint32_t drop_at;

	if (rx == 0 || (data == 0 && len != 0))
		return len;
	if (rx->phase != OTA_ESPOTA_PH_RECEIVING)
		return len; /* nobody reads: bytes after the image, or late ones */
	if (rx->stalling)
		return 0;
	rx->last_rx_ms = now_ms;
	rx->tries = 0;
	drop_at = rx->faults.drop ? rx->faults.drop_at : UINT32_MAX;

	while (used < len) {
		/* the fault positions still ahead, UINT32_MAX for none */
		uint32_t stall_at =
		    rx->faults.stall && !rx->stall_done ? rx->faults.stall_at : UINT32_MAX;
		uint32_t take = rx->size - rx->received;
		uint32_t avail = len - used > UINT32_MAX ? UINT32_MAX : (uint32_t)(len - used);

		if (rx->received >= stall_at) {
			rx->stall_done = true;
			rx->stalling = true;
			rx->stall_until_ms = now_ms + rx->faults.stall_ms;
			break;
		}
		take = min_u32(avail, take);
		if (rx->flavor == OTA_FLAVOR_ESP32)
			take = min_u32(take, OTA_ESPOTA_ESP32_CHUNK);
		/* stop exactly at the fault positions */
		take = min_u32(take, stall_at - rx->received);
		if (drop_at > rx->received)
			take = min_u32(take, drop_at - rx->received);

		if (!write_piece(rx, data + used, take))
			return len;
		used += take;
		if (rx->flavor == OTA_FLAVOR_ESP32) {
			rx->last_count = take;
			if (!send_count(rx, take))
				return len;
		} else {
			pending += take;
		}
		if (rx->received == rx->size || rx->received >= drop_at)
			break;
	}
	if (pending != 0 && !send_count(rx, pending))
		return len;

	if (rx->received >= drop_at && rx->received < rx->size) {
		session_fail(rx, OTA_ESPOTA_ERR_RECEIVE, OTA_UPDATE_OK);
		return len;
	}
	if (rx->received == rx->size) {
		finish_update(rx, now_ms);
		return len; /* anything past the image is never read */
	}
	return used;
}

/* the receive loop's timeouts; returns the delay until the next check */
static uint32_t
poll_receiving(struct ota_espota *rx, uint32_t now)
{
	if (rx->stalling) {
		if (!due(now, rx->stall_until_ms))
			return until(now, rx->stall_until_ms);
		rx->stalling = false;
		rx->last_rx_ms = now;
		return 0; /* the port offers the held bytes again */
	}
	if (rx->flavor == OTA_FLAVOR_ESP32) {
		uint32_t deadline = rx->last_rx_ms + rx->timeout_ms;
		if (!due(now, deadline))
			return until(now, deadline);
		/* re-send the last count up to three times, then give up */
		if (rx->last_count != 0 && rx->tries < OTA_ESPOTA_ESP32_RETRIES) {
			rx->tries++;
			rx->last_rx_ms = now;
			if (!send_count(rx, rx->last_count))
				return UINT32_MAX;
			return rx->timeout_ms;
		}
		session_fail(rx, OTA_ESPOTA_ERR_RECEIVE, OTA_UPDATE_OK);
		return UINT32_MAX;
	}
	if (rx->idle_timeout_ms != 0) {
		uint32_t deadline = rx->last_rx_ms + rx->idle_timeout_ms;
		if (!due(now, deadline))
			return until(now, deadline);
		session_fail(rx, OTA_ESPOTA_ERR_RECEIVE, OTA_UPDATE_OK);
	}
	return UINT32_MAX;
}

uint32_t
ota_espota_poll(struct ota_espota *rx, uint32_t now_ms)
{
	/* a phase may finish and start the next one in the same call */
	if (rx == 0)
		return UINT32_MAX;
	for (int guard = 0; guard < 8; guard++) {
		enum ota_espota_phase before = rx->phase;
		if (before == OTA_ESPOTA_PH_NONE || before > OTA_ESPOTA_PH_CLOSE_DELAY)
			return UINT32_MAX;
		if (before == OTA_ESPOTA_PH_RECEIVING)
			return poll_receiving(rx, now_ms);
		/* every other phase but BEGIN waits for its timer */
		if (before != OTA_ESPOTA_PH_BEGIN && !due(now_ms, rx->deadline_ms))
			return until(now_ms, rx->deadline_ms);
		switch (before) {
		case OTA_ESPOTA_PH_BEGIN:
			run_begin(rx, now_ms);
			break;
		case OTA_ESPOTA_PH_CONNECT_DELAY:
			start_connect(rx, now_ms);
			break;
		case OTA_ESPOTA_PH_CONNECTING:
			/* the port never told us: cancel and give up as a failed connect */
			session_fail(rx, OTA_ESPOTA_ERR_CONNECT, OTA_UPDATE_OK);
			break;
		case OTA_ESPOTA_PH_OK_DELAY:
			(void)tcp_send(rx, "OK", 2);
			rx->phase = OTA_ESPOTA_PH_CLOSE_DELAY;
			rx->deadline_ms = now_ms + OTA_ESPOTA_ESP8266_OK_DELAY_MS;
			break;
		default: /* OTA_ESPOTA_PH_CLOSE_DELAY */
			finish_success(rx);
			break;
		}
		if (rx->phase == before)
			break;
	}
	return rx->phase != OTA_ESPOTA_PH_NONE ? 0 : UINT32_MAX;
}

void
ota_espota_abort(struct ota_espota *rx)
{
	if (rx != 0)
		session_drop(rx);
}

enum ota_espota_state
ota_espota_get_state(const struct ota_espota *rx)
{
	return rx != 0 ? rx->state : OTA_ESPOTA_IDLE;
}

uint32_t
ota_espota_get_received(const struct ota_espota *rx)
{
	return rx != 0 ? rx->received : 0;
}
