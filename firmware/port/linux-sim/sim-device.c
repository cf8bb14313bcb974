/* SPDX-License-Identifier: MIT */
/* sim-device.c - one simulated device: the portable core wired to sockets and the flash file */

#define _GNU_SOURCE

#include "sim-device.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ota/ota-errors.h"
#include "ota/ota-util.h"
#include "port-info.h"
#include "sim-image.h"

enum {
	SRC_NONE,
	SRC_ESPOTA,
	SRC_HTTP,
};

/* pollref.which */
enum {
	W_UDP = 1,
	W_HTTP_LISTEN,
	W_LOG_LISTEN,
	W_MDNS_UNI,
	W_MDNS_MCAST,
	W_ESPOTA,
	W_HTTP_CONN = 16, /* + index */
	W_LOG_CONN = 32,  /* + index */
};

#define LOG_RING_SIZE (64u * 1024u)
#define LOG_OUT_MAX (32u * 1024u)
#define HTTP_PIECE 1460u
#define READ_CHUNK 16384u
#define REBOOT_DELAY_US 100000u
#define PROGRESS_UNKNOWN_STEP (64u * 1024u)
#define SINK_BUF_LEN 4096u
/* lwIP's receive window (TCP_WND): arduino-esp32 5744, esp8266 lwIP2 2 * 1460 */
#define ESP32_TCP_WND 5744
#define ESP8266_TCP_WND 2920

static void poll_cores(struct sim_device *d);
static void http_restore_password(struct sim_device *d);
static void
dev_log(struct sim_device *d, enum ota_log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- time ---- */

static uint32_t
core_ms(uint64_t us)
{
	return (uint32_t)(us / 1000u);
}

static uint32_t
now_ms(void)
{
	return core_ms(sim_now_us());
}

/* a core's "call me again in ms" as an absolute time, 0 for never */
static uint64_t
core_deadline(uint64_t now_us, uint32_t ms)
{
	return ms == UINT32_MAX ? 0 : now_us + (uint64_t)ms * 1000u;
}

static void
min_deadline(uint64_t *deadline, uint64_t t)
{
	if (t != 0 && (*deadline == 0 || t < *deadline))
		*deadline = t;
}

/* ---- the log ---- */

static uint32_t
log_clock(void *user)
{
	struct sim_device *d = user;
	if (d->log_clock_override >= 0)
		return (uint32_t)d->log_clock_override;
	return (uint32_t)((sim_now_us() - d->boot_us) / 1000u);
}

static void
dev_logv(
    struct sim_device *d, enum ota_log_level level, const char *tag, const char *fmt, va_list ap)
{
	static const char letters[] = "?EWIDV";
	char text[OTA_LOG_LINE_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (d->log_ready)
		(void)ota_log_printf(&d->log, level, tag, "%s", text);
	if (d->cfg.console)
		printf("[%s] %c (%u) %s: %s\n", d->cfg.name, letters[level], log_clock(d), tag,
		       text);
}

static void
dev_log(struct sim_device *d, enum ota_log_level level, const char *tag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dev_logv(d, level, tag, fmt, ap);
	va_end(ap);
}

/* ---- connections ---- */

static void
conn_init(struct sim_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->id = -1;
}

static void
conn_open(struct sim_conn *c, int fd, enum sim_sock_kind kind, int id)
{
	sim_buf_clear(&c->out);
	sim_buf_clear(&c->in);
	c->fd = fd;
	c->kind = kind;
	c->id = id;
	c->connecting = false;
	c->closing = false;
	c->broken = false;
	c->eof = false;
	c->paused_until_us = 0;
}

/* the socket goes; the buffers stay allocated for the next connection */
static void
conn_close(struct sim_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->kind = SIM_SOCK_NONE;
	c->id = -1;
	c->connecting = false;
	c->closing = false;
	c->broken = false;
	c->eof = false;
	sim_buf_clear(&c->out);
	sim_buf_clear(&c->in);
}

static void
conn_free(struct sim_conn *c)
{
	conn_close(c);
	sim_buf_free(&c->out);
	sim_buf_free(&c->in);
}

/* queue and try to send; a failure is reported from the loop, never from a core callback */
static int
conn_send(struct sim_conn *c, const uint8_t *data, size_t len)
{
	if (c->fd < 0 || c->broken)
		return -1;
	if (sim_buf_append(&c->out, data, len) != 0) {
		c->broken = true;
		return -1;
	}
	if (!c->connecting && sim_buf_flush(c->fd, &c->out) != 0) {
		c->broken = true;
		return -1;
	}
	return 0;
}

/* after the core let go: close once the queued bytes are out */
static void
conn_close_when_sent(struct sim_conn *c)
{
	c->id = -1;
	c->closing = true;
	if (c->fd >= 0 && !c->connecting && !c->broken)
		(void)sim_buf_flush(c->fd, &c->out);
	if (c->out.len == 0 || c->broken || c->connecting)
		conn_close(c);
}

/* one recv() into c->in; false when nothing could be read */
static bool
conn_read(struct sim_conn *c)
{
	uint8_t buf[READ_CHUNK];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			if (sim_buf_append(&c->in, buf, (size_t)n) != 0)
				c->broken = true;
			return true;
		}
		if (n == 0) {
			c->eof = true;
			return false;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			c->broken = true; /* EWOULDBLOCK is EAGAIN on Linux */
		return false;
	}
}

/* ---- faults ---- */

static struct ota_espota_faults
espota_faults_of(const struct sim_faults *f)
{
	struct ota_espota_faults e;
	memset(&e, 0, sizeof(e));
	e.drop = f->drop;
	e.drop_at = f->drop_at;
	e.stall = f->stall;
	e.stall_at = f->stall_at;
	e.stall_ms = f->stall_ms;
	e.md5_mismatch = f->md5_mismatch;
	e.reject_auth = f->auth_reject;
	e.no_connect_back = f->no_connect_back;
	e.begin_no_space = f->begin_error;
	return e;
}

/* logs the firing and disarms the switch (unless --fault-repeat) */
static void
fault_fired(struct sim_device *d, bool *armed, const char *what)
{
	dev_log(d, OTA_LOG_WARN, "fault", "%s fired", what);
	if (!d->armed.repeat) {
		*armed = false;
		d->espota_faults_dirty = true;
	}
}

static void
apply_espota_faults(struct sim_device *d)
{
	if (d->espota_faults_dirty) {
		struct ota_espota_faults f = espota_faults_of(&d->armed);
		d->espota_faults_dirty = false;
		ota_espota_set_faults(&d->espota, &f);
	}
}

/* ---- flash timing ---- */

/*
 * The flash model runs without sleeping; its modelled busy time is charged to this device
 * only, which stops taking events until the time has passed (realistic timing). A chip
 * does nothing else while its flash erases or programs either.
 */
static void
account_flash(struct sim_device *d)
{
	uint64_t ns = sim_flash_busy_ns(&d->flash);
	uint64_t delta = ns - d->busy_ns_seen;
	d->busy_ns_seen = ns;
	if (d->cfg.timing == SIM_FLASH_REALISTIC && delta > 0) {
		uint64_t now = sim_now_us();
		uint64_t base = d->busy_until_us > now ? d->busy_until_us : now;
		d->busy_until_us = base + delta / 1000u;
	}
}

/* ---- state ---- */

static void
set_last_update(struct sim_device *d, const char *text)
{
	snprintf(d->state.last_update, sizeof(d->state.last_update), "%s", text);
	d->result_set = true;
	if (sim_state_save(&d->state) != 0)
		dev_log(d, OTA_LOG_ERROR, "sim", "cannot write %s: %s", d->state.path,
			strerror(errno));
}

static const char *
slot_label(const struct sim_device *d, int slot)
{
	const struct ota_partition *p = ota_slots_app(&d->slots, slot);
	if (slot == OTA_SLOT_FS)
		return d->slots.fs != NULL ? d->slots.fs->label : "fs";
	return p != NULL ? p->label : "?";
}

static uint32_t
running_state(const struct sim_device *d)
{
	uint32_t st = OTA_IMG_UNDEFINED;
	if (d->running_slot < 0 || ota_slots_get_state(&d->slots, d->running_slot, &st) != OTA_OK)
		return OTA_IMG_UNDEFINED;
	return st;
}

/* ---- the sink: the receivers' Update object over the A/B slots ---- */

static void
sink_hash_drop(struct sim_device *d)
{
	if (d->upd_hashing) {
		uint8_t scratch[OTA_SHA256_LEN];
		const struct ota_hash_ops *h = sim_crypto_ops(d->c_sink);
		d->upd_hashing = false;
		(void)h->finish(h->user, OTA_HASH_SHA256, scratch);
	}
}

static bool
parse_md5(const char *hex, uint8_t out[OTA_MD5_LEN])
{
	if (hex == NULL || !ota_auth_is_hex(hex, 32) || hex[32] != '\0')
		return false;
	for (size_t i = 0; i < OTA_MD5_LEN; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

static const char *
source_name(int src)
{
	return src == SRC_ESPOTA ? "espota" : src == SRC_HTTP ? "http" : "?";
}

static int
sink_begin(void *user, uint32_t size, int command, const char *md5_hex)
{
	struct sim_device *d = user;
	const struct ota_hash_ops *h = sim_crypto_ops(d->c_sink);
	uint8_t md5[OTA_MD5_LEN];
	enum ota_erase_mode mode;
	int slot;
	int rc;

	d->sink_error = NULL;
	d->result_set = false;
	if (d->upd_open)
		return OTA_E_BUSY;
	if (d->cur_source == SRC_HTTP && d->armed.begin_error) {
		fault_fired(d, &d->armed.begin_error, "begin-error (Not Enough Space)");
		return OTA_E_NO_SPACE;
	}
	if (command != OTA_CMD_FLASH && command != OTA_CMD_FS)
		return OTA_E_BAD_ARGS;
	slot = command == OTA_CMD_FS ? OTA_SLOT_FS : OTA_SLOT_NEXT;
	/*
	 * Erasing as the Updaters do: esp8266's erases each 4 KiB sector before writing it;
	 * arduino-esp32's erases 64 KiB blocks where it can, which costs what erasing the
	 * announced size up front in blocks costs. An unknown size (multipart upload) is
	 * erased sector by sector, not the whole partition.
	 */
	mode = d->cfg.flavor == OTA_FLAVOR_ESP32 && size != 0 ? OTA_ERASE_UP_FRONT : OTA_ERASE_LAZY;
	rc = ota_update_begin(&d->upd, &d->slots, slot, size == 0 ? OTA_SIZE_UNKNOWN : size, mode);
	account_flash(d);
	if (rc != OTA_OK) {
		if (rc == OTA_E_BAD_STATE)
			d->sink_error = "running app is not confirmed yet (pending verify)";
		dev_log(d, OTA_LOG_ERROR, "ota", "update refused: %s (%u bytes, %s)",
			ota_strerror(rc), (unsigned)size, command == OTA_CMD_FS ? "fs" : "app");
		return rc;
	}
	if (parse_md5(md5_hex, md5))
		(void)ota_update_set_md5(&d->upd, md5);
	d->upd_hashing = h->begin(h->user, OTA_HASH_SHA256) == 0;
	d->upd_open = true;
	d->upd_source = d->cur_source;
	d->upd_cmd = command;
	d->upd_size = size;
	d->upd_written = 0;
	d->upd_buf_len = 0;
	d->upd_stall_done = false;
	d->upd_next_report = size != 0 ? 10 : PROGRESS_UNKNOWN_STEP;
	d->upd_started_us = sim_now_us();
	dev_log(d, OTA_LOG_INFO, "ota", "start updating %s via %s: %u bytes into %s",
		command == OTA_CMD_FS ? "filesystem" : "sketch", source_name(d->upd_source),
		(unsigned)size, slot_label(d, ota_update_slot(&d->upd)));
	return 0;
}

static void
report_progress(struct sim_device *d)
{
	if (d->upd_size != 0) {
		uint32_t pct = (uint32_t)((uint64_t)d->upd_written * 100u / d->upd_size);
		while (d->upd_next_report <= 100 && pct >= d->upd_next_report) {
			dev_log(d, OTA_LOG_INFO, "ota", "progress: %u%% (%u of %u bytes)",
				(unsigned)d->upd_next_report, (unsigned)d->upd_written,
				(unsigned)d->upd_size);
			d->upd_next_report += 10;
		}
		return;
	}
	while (d->upd_written >= d->upd_next_report) {
		dev_log(d, OTA_LOG_INFO, "ota", "progress: %u bytes", (unsigned)d->upd_next_report);
		d->upd_next_report += PROGRESS_UNKNOWN_STEP;
	}
}

/* writes the buffered bytes to the slot */
static int
sink_flush(struct sim_device *d)
{
	int rc;
	if (d->upd_buf_len == 0)
		return OTA_OK;
	rc = ota_update_write(&d->upd, d->upd_buf, d->upd_buf_len);
	account_flash(d);
	if (rc != OTA_OK)
		dev_log(d, OTA_LOG_ERROR, "ota", "write failed at %u bytes: %s",
			(unsigned)(d->upd_written - d->upd_buf_len), ota_strerror(rc));
	d->upd_buf_len = 0;
	return rc;
}

static int
sink_write(void *user, const uint8_t *data, size_t len)
{
	struct sim_device *d = user;
	const struct ota_hash_ops *h = sim_crypto_ops(d->c_sink);
	int rc;

	d->sink_error = NULL;
	if (!d->upd_open)
		return OTA_E_BAD_STATE;
	if (d->upd_source == SRC_HTTP && d->http_drop_pending)
		return 0; /* the connection is about to go: nothing more is written */
	if (d->upd_source == SRC_HTTP && d->armed.drop && d->upd_written + len > d->armed.drop_at) {
		/* write up to the drop point; the port then closes the connection */
		len = d->armed.drop_at > d->upd_written ? d->armed.drop_at - d->upd_written : 0;
		d->http_drop_pending = true;
	}
	if (d->upd_source == SRC_HTTP && d->armed.stall && !d->upd_stall_done &&
	    d->upd_written + len >= d->armed.stall_at) {
		d->upd_stall_done = true;
		d->http_stall_pending = true;
	}
	if (len == 0)
		return 0;
	if (d->upd_hashing && h->update(h->user, OTA_HASH_SHA256, data, len) != 0)
		sink_hash_drop(d);
	/* the Updater's 4 KiB buffer: flash sees whole sectors, as on the devices */
	while (len > 0) {
		size_t n = SINK_BUF_LEN - d->upd_buf_len;
		if (n > len)
			n = len;
		memcpy(d->upd_buf + d->upd_buf_len, data, n);
		d->upd_buf_len += n;
		d->upd_written += (uint32_t)n;
		data += n;
		len -= n;
		if (d->upd_buf_len == SINK_BUF_LEN) {
			rc = sink_flush(d);
			if (rc != OTA_OK)
				return rc;
		}
	}
	report_progress(d);
	return 0;
}

static int
sink_end(void *user)
{
	struct sim_device *d = user;
	const struct ota_hash_ops *h = sim_crypto_ops(d->c_sink);
	struct ota_image_info info;
	uint8_t sha[OTA_SHA256_LEN];
	bool have_sha = false;
	int slot;
	int rc;

	d->sink_error = NULL;
	if (!d->upd_open)
		return OTA_E_BAD_STATE;
	slot = ota_update_slot(&d->upd);
	if (d->upd_source == SRC_HTTP && d->armed.md5_mismatch) {
		fault_fired(d, &d->armed.md5_mismatch, "md5-mismatch");
		ota_update_abort(&d->upd);
		sink_hash_drop(d);
		d->upd_open = false;
		return OTA_E_MD5;
	}
	if (d->upd_hashing) {
		d->upd_hashing = false;
		have_sha = h->finish(h->user, OTA_HASH_SHA256, sha) == 0;
	}
	rc = sink_flush(d);
	if (rc != OTA_OK) {
		ota_update_abort(&d->upd);
		d->upd_open = false;
		return rc;
	}
	rc = ota_update_end(&d->upd, &info);
	account_flash(d);
	d->upd_open = false;
	if (rc != OTA_OK) {
		dev_log(d, OTA_LOG_ERROR, "ota", "image in %s rejected: %s", slot_label(d, slot),
			ota_strerror(rc));
		return rc;
	}
	if (slot >= 0) {
		if (slot < SIM_STATE_SLOTS) {
			d->state.slots[slot].known = have_sha;
			d->state.slots[slot].len = d->upd_written;
			if (have_sha)
				memcpy(d->state.slots[slot].sha256, sha, sizeof(sha));
			if (sim_state_save(&d->state) != 0)
				dev_log(d, OTA_LOG_ERROR, "sim", "cannot write %s: %s",
					d->state.path, strerror(errno));
		}
		rc = ota_slots_set_boot(&d->slots, slot);
		account_flash(d);
		if (rc != OTA_OK) {
			dev_log(d, OTA_LOG_ERROR, "esp_ota_ops", "set boot partition %s: %s",
				slot_label(d, slot), ota_strerror(rc));
			return rc;
		}
		dev_log(d, OTA_LOG_INFO, "esp_ota_ops",
			"new app %s %s written to %s, next boot: %s", info.project_name,
			info.version, slot_label(d, slot), slot_label(d, slot));
	} else {
		dev_log(d, OTA_LOG_INFO, "ota", "filesystem image written: %u bytes into %s",
			(unsigned)d->upd_written, slot_label(d, slot));
	}
	{
		uint64_t us = sim_now_us() - d->upd_started_us;
		uint64_t kbs = us > 0 ? (uint64_t)d->upd_written * 1000000u / us / 1024u : 0;
		dev_log(d, OTA_LOG_INFO, "ota", "update complete: %u bytes in %u ms (%u KiB/s)",
			(unsigned)d->upd_written, (unsigned)(us / 1000u), (unsigned)kbs);
	}
	dev_log(d, OTA_LOG_INFO, "sim", "flash operations so far: %llu",
		(unsigned long long)sim_flash_op_count(&d->flash));
	return 0;
}

static void
sink_abort(void *user)
{
	struct sim_device *d = user;
	if (!d->upd_open)
		return;
	ota_update_abort(&d->upd);
	sink_hash_drop(d);
	d->upd_open = false;
	dev_log(d, OTA_LOG_WARN, "ota", "update aborted after %u bytes", (unsigned)d->upd_written);
	if (!d->result_set) {
		set_last_update(d, "Aborted");
		/* the receiver's error event, if one follows, says more */
		d->result_set = false;
	}
}

static const char *
sink_error_text(void *user)
{
	struct sim_device *d = user;
	return d->sink_error;
}

/* ---- rebooting ---- */

static void
schedule_reboot(struct sim_device *d, uint64_t delay_us)
{
	uint64_t at = sim_now_us() + delay_us;
	if (d->reboot_at_us == 0 || at < d->reboot_at_us)
		d->reboot_at_us = at;
}

/* ---- espota ---- */

static void
espota_udp_send(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	struct sim_device *d = user;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(ip);
	sa.sin_port = htons(port);
	if (sendto(d->udp_fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		dev_log(d, OTA_LOG_WARN, "ota", "udp reply lost: %s", strerror(errno));
}

static int
espota_tcp_connect(void *user, uint32_t ip, uint16_t port)
{
	struct sim_device *d = user;
	struct sim_conn *c = &d->espota_conn;
	int wnd = d->cfg.tcp_window != 0 ? (int)d->cfg.tcp_window
	    : d->cfg.flavor == OTA_FLAVOR_ESP8266 ? ESP8266_TCP_WND : ESP32_TCP_WND;
	char addr[16];
	int fd;

	if (c->fd >= 0)
		conn_close(c);
	sim_ip_format(ip, addr);
	fd = sim_tcp_connect(d->cfg.bind_ip, ip, port, wnd);
	if (fd < 0) {
		dev_log(d, OTA_LOG_ERROR, "ota", "connect to %s:%u failed: %s", addr,
			(unsigned)port, strerror(errno));
		return -1;
	}
	conn_open(c, fd, SIM_SOCK_ESPOTA, 0);
	c->connecting = true;
	dev_log(d, OTA_LOG_INFO, "ota", "connecting back to %s:%u", addr, (unsigned)port);
	return 0;
}

static int
espota_tcp_send(void *user, const uint8_t *data, size_t len)
{
	struct sim_device *d = user;
	return conn_send(&d->espota_conn, data, len);
}

static void
espota_tcp_close(void *user)
{
	struct sim_device *d = user;
	conn_close_when_sent(&d->espota_conn);
}

static int
random_bytes(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static void
espota_error(struct sim_device *d, uint32_t err, uint32_t uerr)
{
	const char *text = port_espota_error_text(d->cfg.flavor, err, uerr);
	struct sim_faults *a = &d->armed;

	if (err == OTA_ESPOTA_ERR_AUTH && a->auth_reject)
		fault_fired(d, &a->auth_reject, "auth-reject");
	else if (err == OTA_ESPOTA_ERR_CONNECT && a->no_connect_back)
		fault_fired(d, &a->no_connect_back, "no-connect-back");
	else if (err == OTA_ESPOTA_ERR_BEGIN && uerr == OTA_UPDATE_ERR_SPACE && a->begin_error)
		fault_fired(d, &a->begin_error, "begin-error (Not Enough Space)");
	else if (err == OTA_ESPOTA_ERR_END && uerr == OTA_UPDATE_ERR_MD5 && a->md5_mismatch)
		fault_fired(d, &a->md5_mismatch, "md5-mismatch");
	else if (a->drop && ota_espota_get_received(&d->espota) >= a->drop_at &&
		 (err == OTA_ESPOTA_ERR_RECEIVE))
		fault_fired(d, &a->drop, "drop-at");
	dev_log(d, OTA_LOG_ERROR, "ota", "Error[%u]: %s", (unsigned)err, text);
	set_last_update(d, text);
}

static void
espota_event(void *user, enum ota_espota_event ev, uint32_t a, uint32_t b)
{
	struct sim_device *d = user;
	switch (ev) {
	case OTA_ESPOTA_EV_START:
		break;
	case OTA_ESPOTA_EV_PROGRESS:
		break;
	case OTA_ESPOTA_EV_END:
		dev_log(d, OTA_LOG_INFO, "app_main", "OTA end (%u bytes): rebooting", (unsigned)a);
		set_last_update(d, "ok");
		schedule_reboot(d, REBOOT_DELAY_US);
		break;
	case OTA_ESPOTA_EV_ERROR:
		espota_error(d, a, b);
		break;
	}
}

/* ---- HTTP ---- */

static struct sim_conn *
http_conn_by_id(struct sim_device *d, int id)
{
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		if (d->http_conns[i].fd >= 0 && d->http_conns[i].id == id)
			return &d->http_conns[i];
	}
	return NULL;
}

static int
http_send(void *user, int conn, const uint8_t *data, size_t len)
{
	struct sim_device *d = user;
	struct sim_conn *c = http_conn_by_id(d, conn);
	return c != NULL ? conn_send(c, data, len) : -1;
}

static void
http_close(void *user, int conn)
{
	struct sim_device *d = user;
	struct sim_conn *c = http_conn_by_id(d, conn);
	if (c != NULL)
		conn_close_when_sent(c);
}

static void
mac_text(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static int
http_info_json(void *user, char *buf, size_t size)
{
	struct sim_device *d = user;
	const struct ota_partition *run = ota_slots_app(&d->slots, d->running_slot);
	const struct ota_partition *next =
	    ota_slots_app(&d->slots, ota_slots_next_update_slot(&d->slots));
	struct port_info info;

	memset(&info, 0, sizeof(info));
	info.name = d->cfg.name;
	memcpy(info.mac, d->mac, sizeof(info.mac));
	info.chip = ota_chip_id_string(d->cfg.chip);
	info.board = d->cfg.board;
	info.project = d->desc.project_name;
	info.version = d->desc.version;
	memcpy(info.fw_sha256, d->fw_sha256, sizeof(info.fw_sha256));
	info.running_slot = run != NULL ? run->label : "";
	info.running_state = running_state(d);
	info.slot_size = run != NULL ? run->size : 0;
	info.free_space = next != NULL ? next->size : 0;
	info.uptime_s = (sim_now_us() - d->boot_us) / 1000000u;
	info.boot_count = d->state.boot_count;
	info.last_update = d->state.last_update;
	info.idf_version = d->has_desc ? d->desc.idf_ver : "";
	info.reset_reason = d->reset_reason;
	return port_info_json(&info, buf, size);
}

static void
http_event(void *user, enum ota_http_event ev, int conn, uint32_t a, uint32_t b)
{
	struct sim_device *d = user;
	(void)conn;
	(void)b;
	switch (ev) {
	case OTA_HTTP_EV_UPDATE_END:
		dev_log(d, OTA_LOG_INFO, "app_main", "HTTP update done (%u bytes): rebooting",
			(unsigned)a);
		set_last_update(d, "ok");
		schedule_reboot(d, REBOOT_DELAY_US);
		break;
	case OTA_HTTP_EV_UPDATE_ERROR: {
		/* the update server words every error the ESP8266 way */
		const char *text =
		    ota_update_error_text(OTA_FLAVOR_ESP8266, (enum ota_update_error)a);
		dev_log(d, OTA_LOG_ERROR, "http", "Update error: %s", text);
		set_last_update(d, text);
		break;
	}
	case OTA_HTTP_EV_AUTH_FAILED:
		dev_log(d, OTA_LOG_WARN, "http", "request without valid credentials");
		if (d->http_rejecting && d->armed.auth_reject) {
			fault_fired(d, &d->armed.auth_reject, "auth-reject (http)");
			set_last_update(d, "Auth Failed");
		}
		break;
	case OTA_HTTP_EV_RESPONSE:
		/* the refused request is over (an upload's body was read first) */
		if (a == 401 && d->http_rejecting && !d->armed.auth_reject)
			d->http_restore_pending = true;
		break;
	default:
		break;
	}
}

static bool
http_paused(const struct sim_device *d, uint64_t now)
{
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		if (d->http_conns[i].fd >= 0 && d->http_conns[i].paused_until_us > now)
			return true;
	}
	return false;
}

/* feeds what is buffered in pieces, so that the drop and stall faults hit near their byte */
static void
http_feed(struct sim_device *d, struct sim_conn *c)
{
	uint64_t now = sim_now_us();
	while (c->in.len > 0 && c->id >= 0 && c->paused_until_us <= now && c->fd >= 0) {
		size_t piece = c->in.len < HTTP_PIECE ? c->in.len : HTTP_PIECE;
		int id = c->id;
		d->cur_source = SRC_HTTP;
		(void)ota_http_on_data(d->http, id, c->in.data, piece, core_ms(now));
		d->cur_source = SRC_NONE;
		sim_buf_consume(&c->in, piece);
		if (d->http_drop_pending) {
			char what[64];
			d->http_drop_pending = false;
			snprintf(what, sizeof(what), "drop-at=%u (http)",
				 (unsigned)d->armed.drop_at);
			fault_fired(d, &d->armed.drop, what);
			d->cur_source = SRC_HTTP;
			ota_http_on_close(d->http, id);
			d->cur_source = SRC_NONE;
			conn_close(c);
			return;
		}
		if (d->http_stall_pending) {
			char what[64];
			d->http_stall_pending = false;
			snprintf(what, sizeof(what), "stall-at=%u:%.3g (http)",
				 (unsigned)d->armed.stall_at, d->armed.stall_ms / 1000.0);
			c->paused_until_us = now + (uint64_t)d->armed.stall_ms * 1000u;
			fault_fired(d, &d->armed.stall, what);
			break;
		}
	}
	if (c->fd >= 0 && c->in.len == 0 && (c->eof || c->broken)) {
		if (c->id >= 0) {
			d->cur_source = SRC_HTTP;
			ota_http_on_close(d->http, c->id);
			d->cur_source = SRC_NONE;
		}
		conn_close(c);
	}
}

/* ---- the log stream ---- */

static struct sim_conn *
log_conn_by_client(struct sim_device *d, unsigned client)
{
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		if (d->log_conns[i].fd >= 0 && d->log_conns[i].id == (int)client)
			return &d->log_conns[i];
	}
	return NULL;
}

static bool
log_send(void *user, unsigned client, const char *line, size_t len)
{
	struct sim_device *d = user;
	struct sim_conn *c = log_conn_by_client(d, client);
	if (c == NULL || c->broken)
		return true; /* gone: nothing to hold back for */
	if (c->out.len + len > LOG_OUT_MAX)
		return false;
	(void)conn_send(c, (const uint8_t *)line, len);
	return true;
}

static void
log_client_drop(struct sim_device *d, struct sim_conn *c)
{
	if (c->id >= 0 && d->log_ready)
		ota_log_client_remove(&d->log, (unsigned)c->id);
	conn_close(c);
}

/* ---- mDNS ---- */

static void
mdns_send(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	struct sim_device *d = user;
	struct sockaddr_in sa;
	if (d->mdns_uni_fd < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(ip);
	sa.sin_port = htons(port);
	(void)sendto(d->mdns_uni_fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
}

static void
mdns_config(struct sim_device *d, struct ota_mdns_config *mc)
{
	memset(mc, 0, sizeof(*mc));
	mc->hostname = d->cfg.name;
	mc->instance = d->cfg.name;
	mc->ipv4 = d->cfg.bind_ip;
	mc->netmask = d->netmask;
	mc->ota_port = d->cfg.ota_port;
	mc->board = d->cfg.board;
	mc->auth_upload = d->cfg.password_hash[0] != '\0';
	mc->fw_version = d->desc.version;
	memcpy(mc->fw_sha256, d->fw_sha256, sizeof(mc->fw_sha256));
	mc->log_port = d->cfg.log_port;
	memcpy(mc->mac, d->mac, 6);
	mc->chip = ota_chip_id_string(d->cfg.chip);
	mc->http_port = d->cfg.http_port;
}

/*
 * The HTTP update server. With the auth-reject fault armed (and credentials set) it runs
 * with a random password, so that correct credentials are refused with 401; once the
 * fault fired it gets the real one back as soon as no connection is open.
 */
static int
http_server_init(struct sim_device *d, bool reject)
{
	struct ota_http_config hc;
	char random_pw[33];
	uint8_t r[16];

	memset(&hc, 0, sizeof(hc));
	hc.username = d->cfg.http_user;
	hc.password = d->cfg.http_password;
	d->http_rejecting = false;
	if (reject && d->cfg.http_user[0] != '\0' && d->cfg.http_password[0] != '\0' &&
	    random_bytes(NULL, r, sizeof(r)) == 0) {
		ota_hex(r, sizeof(r), random_pw);
		hc.password = random_pw;
		d->http_rejecting = true;
	}
	hc.challenge = OTA_HTTP_CHALLENGE_BASIC;
	hc.sink = &d->sink;
	hc.auth_hash = sim_crypto_ops(d->c_http_auth);
	hc.image_hash = sim_crypto_ops(d->c_http_image);
	hc.ops.user = d;
	hc.ops.send = http_send;
	hc.ops.close = http_close;
	hc.ops.info_json = http_info_json;
	hc.ops.random = random_bytes;
	hc.ops.event = http_event;
	return ota_http_init(d->http, &hc);
}

/* ---- services ---- */

static void
services_stop(struct sim_device *d)
{
	uint32_t ms = now_ms();

	if (d->mdns_on) {
		(void)ota_mdns_stop(d->mdns, ms);
		dev_log(d, OTA_LOG_INFO, "mdns", "goodbye sent");
		d->mdns_on = false;
	}
	if (d->mdns_uni_fd >= 0)
		close(d->mdns_uni_fd);
	if (d->mdns_mcast_fd >= 0)
		close(d->mdns_mcast_fd);
	d->mdns_uni_fd = -1;
	d->mdns_mcast_fd = -1;

	if (d->phase == SIM_PHASE_RUNNING) {
		d->cur_source = SRC_ESPOTA;
		ota_espota_abort(&d->espota);
		d->cur_source = SRC_HTTP;
		for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
			struct sim_conn *c = &d->http_conns[i];
			if (c->fd >= 0 && c->id >= 0)
				ota_http_on_close(d->http, c->id);
		}
		d->cur_source = SRC_NONE;
	}
	if (d->upd_open)
		sink_abort(d);
	conn_close(&d->espota_conn);
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++)
		conn_close(&d->http_conns[i]);
	/* the last lines go out if the socket takes them now, as a resetting chip's would */
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		struct sim_conn *c = &d->log_conns[i];
		if (c->fd >= 0 && !c->broken)
			(void)sim_buf_flush(c->fd, &c->out);
		conn_close(c);
	}
	if (d->udp_fd >= 0)
		close(d->udp_fd);
	if (d->http_fd >= 0)
		close(d->http_fd);
	if (d->log_fd >= 0)
		close(d->log_fd);
	d->udp_fd = -1;
	d->http_fd = -1;
	d->log_fd = -1;
	d->log_ready = false;
	d->busy_until_us = 0;
	d->reboot_at_us = 0;
	d->confirm_at_us = 0;
	d->heartbeat_at_us = 0;
	d->espota_at_us = 0;
	d->http_at_us = 0;
	d->mdns_at_us = 0;
	d->http_drop_pending = false;
	d->http_stall_pending = false;
}

static int
services_start(struct sim_device *d, char *err, size_t err_size)
{
	struct ota_espota_config ec;
	char mac[18];
	int rc;

	d->udp_fd = sim_udp_bind(d->cfg.bind_ip, d->cfg.ota_port, err, err_size);
	if (d->udp_fd < 0)
		return -1;
	d->http_fd = sim_tcp_listen(d->cfg.bind_ip, d->cfg.http_port, err, err_size);
	if (d->http_fd < 0)
		return -1;
	d->log_fd = sim_tcp_listen(d->cfg.bind_ip, d->cfg.log_port, err, err_size);
	if (d->log_fd < 0)
		return -1;

	memset(&ec, 0, sizeof(ec));
	ec.flavor = d->cfg.flavor;
	ec.auth_scheme = d->cfg.auth_scheme;
	ec.password_hash = d->cfg.password_hash;
	ec.hash = sim_crypto_ops(d->c_espota);
	ec.sink = &d->sink;
	ec.ops.user = d;
	ec.ops.udp_send = espota_udp_send;
	ec.ops.tcp_connect = espota_tcp_connect;
	ec.ops.tcp_send = espota_tcp_send;
	ec.ops.tcp_close = espota_tcp_close;
	ec.ops.random = random_bytes;
	ec.ops.event = espota_event;
	ec.faults = espota_faults_of(&d->armed);
	rc = ota_espota_init(&d->espota, &ec);
	if (rc != 0) {
		snprintf(err, err_size, "espota receiver: %s", ota_strerror(rc));
		return -1;
	}

	rc = http_server_init(d, d->armed.auth_reject);
	if (rc != 0) {
		snprintf(err, err_size, "http server: %s", ota_strerror(rc));
		return -1;
	}

	mac_text(d->mac, mac);
	dev_log(d, OTA_LOG_INFO, "wifi", "mode : sta (%s)", mac);
	dev_log(d, OTA_LOG_INFO, "wifi",
		"connected with espfleet-lab, aid = 1, channel 6, BW20, bssid = 02:00:5e:00:00:01");
	{
		char ip[16];
		char mask[16];
		sim_ip_format(d->cfg.bind_ip, ip);
		sim_ip_format(d->netmask, mask);
		dev_log(d, OTA_LOG_INFO, "esp_netif_handlers", "sta ip: %s, mask: %s, gw: %s", ip,
			mask, ip);
	}
	dev_log(d, OTA_LOG_INFO, "app_main", "ArduinoOTA (%s) on udp/%u, auth %s",
		d->cfg.flavor == OTA_FLAVOR_ESP8266 ? "esp8266" : "esp32",
		(unsigned)d->cfg.ota_port,
		d->cfg.password_hash[0] == '\0'	     ? "off"
		: d->cfg.auth_scheme == OTA_AUTH_MD5 ? "md5"
						     : "sha256");
	dev_log(d, OTA_LOG_INFO, "app_main", "HTTP update server on http://%s:%u/update%s",
		d->bind_text, (unsigned)d->cfg.http_port,
		d->cfg.http_user[0] != '\0' && d->cfg.http_password[0] != '\0' ? " (auth)" : "");
	dev_log(d, OTA_LOG_INFO, "app_main", "log stream on tcp/%u", (unsigned)d->cfg.log_port);

	if (d->cfg.mdns) {
		struct ota_mdns_config mc;
		if (sim_mdns_open(d->cfg.bind_ip, d->ifindex, &d->mdns_uni_fd, &d->mdns_mcast_fd,
				  err, err_size) != 0)
			return -1;
		mdns_config(d, &mc);
		rc = ota_mdns_init(d->mdns, &mc, mdns_send, d);
		if (rc == 0)
			rc = ota_mdns_start(d->mdns, now_ms());
		if (rc != 0) {
			snprintf(err, err_size, "mdns responder: %s", ota_strerror(rc));
			return -1;
		}
		d->mdns_on = true;
		dev_log(d, OTA_LOG_INFO, "mdns", "probing for %s.local on %s (_arduino._tcp %u)",
			d->cfg.name, d->ifname, (unsigned)d->cfg.ota_port);
	} else {
		dev_log(d, OTA_LOG_INFO, "mdns", "off (needs --bind to a non-loopback address)");
	}
	return 0;
}

/* ---- booting ---- */

/* one boot line at the modelled boot time @vt (ms since reset) */
static void boot_line(struct sim_device *d,
		      uint32_t *vt,
		      uint32_t step,
		      enum ota_log_level lvl,
		      const char *tag,
		      const char *fmt,
		      ...) __attribute__((format(printf, 6, 7)));

static void
boot_line(struct sim_device *d,
	  uint32_t *vt,
	  uint32_t step,
	  enum ota_log_level lvl,
	  const char *tag,
	  const char *fmt,
	  ...)
{
	va_list ap;
	*vt += step;
	/* after a reset the lines cannot be later than the time since the reset */
	d->log_clock_override = *vt < d->boot_line_cap ? *vt : d->boot_line_cap;
	va_start(ap, fmt);
	dev_logv(d, lvl, tag, fmt, ap);
	va_end(ap);
}

static const char *
part_usage(const struct ota_partition *p)
{
	if (p->type == OTA_PART_TYPE_APP)
		return p->subtype == OTA_PART_SUBTYPE_FACTORY ? "factory app" : "OTA app";
	switch (p->subtype) {
	case OTA_PART_SUBTYPE_DATA_OTA:
		return "OTA data";
	case OTA_PART_SUBTYPE_DATA_PHY:
		return "RF data";
	case OTA_PART_SUBTYPE_DATA_NVS:
		return "WiFi data";
	default:
		return "Unknown data";
	}
}

static const char *
flash_size_text(uint32_t size)
{
	static char buf[16];
	snprintf(buf, sizeof(buf), "%uMB", (unsigned)(size >> 20));
	return buf;
}

/* the length of the image in @slot as uploaded (the slot record), else what verify found */
static uint32_t
slot_image_len(const struct sim_device *d, int slot, const struct ota_image_info *info)
{
	const struct ota_partition *p = ota_slots_app(&d->slots, slot);
	const struct sim_slot_record *r =
	    slot >= 0 && slot < SIM_STATE_SLOTS ? &d->state.slots[slot] : NULL;
	if (p == NULL)
		return 0;
	if (r != NULL && r->known && r->len >= info->image_len && r->len <= p->size) {
		uint8_t sha[32];
		unsigned int n = 32;
		const uint8_t *bytes = sim_flash_data((struct sim_flash *)&d->flash) + p->offset;
		/* a record from an earlier image in this slot does not count */
		if (EVP_Digest(bytes, r->len, sha, &n, EVP_sha256(), NULL) == 1 &&
		    memcmp(sha, r->sha256, 32) == 0)
			return r->len;
	}
	return info->image_len <= p->size ? info->image_len : p->size;
}

static void
log_segments(struct sim_device *d, uint32_t *vt, const uint8_t *img, uint32_t len, uint32_t base)
{
	struct ota_esp_image *parsed = calloc(1, sizeof(*parsed));
	if (parsed == NULL)
		return;
	(void)ota_esp_image_parse(img, len, parsed);
	for (unsigned i = 0; i < parsed->segments_parsed; i++) {
		const struct ota_esp_segment *s = &parsed->segments[i];
		const char *mem = ota_segment_memory(d->cfg.chip, s->load_addr);
		bool mapped = strcmp(mem, "DROM") == 0 || strcmp(mem, "IROM") == 0;
		boot_line(d, vt, 6, OTA_LOG_INFO, "esp_image",
			  "segment %u: paddr=%08x vaddr=%08x size=%05xh (%6u) %s", i,
			  (unsigned)(base + s->data_offset), (unsigned)s->load_addr,
			  (unsigned)s->data_len, (unsigned)s->data_len, mapped ? "map" : "load");
	}
	free(parsed);
}

static void
sha_of_slot(struct sim_device *d, int slot, uint32_t len)
{
	const struct ota_partition *p = ota_slots_app(&d->slots, slot);
	unsigned int n = 32;
	memset(d->fw_sha256, 0, sizeof(d->fw_sha256));
	if (p != NULL)
		(void)EVP_Digest(sim_flash_data(&d->flash) + p->offset, len, d->fw_sha256, &n,
				 EVP_sha256(), NULL);
}

/*
 * The second-stage bootloader and the start of the app: ota_boot(), boot lines, the
 * running image's description and fw_sha256. Returns false when nothing boots.
 */
static bool
boot_firmware(struct sim_device *d, uint32_t *vt)
{
	struct ota_boot_result res;
	const struct ota_partition *p;
	char tag[24];
	uint32_t len;
	int rc;

	snprintf(tag, sizeof(tag), "boot.%s", ota_chip_id_string(d->cfg.chip));

	boot_line(d, vt, 27, OTA_LOG_INFO, "boot", "ESP-IDF %s 2nd stage bootloader",
		  sim_idf_version(d->cfg.chip));
	boot_line(d, vt, 0, OTA_LOG_INFO, "boot", "compile time Nov 21 2026 12:00:00");
	boot_line(d, vt, 2, OTA_LOG_INFO, "boot", "chip revision: v%u.%u",
		  (unsigned)(sim_chip_rev(d->cfg.chip) / 100),
		  (unsigned)(sim_chip_rev(d->cfg.chip) % 100));
	boot_line(d, vt, 4, OTA_LOG_INFO, tag, "SPI Speed      : 40MHz");
	boot_line(d, vt, 5, OTA_LOG_INFO, tag, "SPI Mode       : DIO");
	boot_line(d, vt, 4, OTA_LOG_INFO, tag, "SPI Flash Size : %s",
		  flash_size_text(d->cfg.flash_size));
	boot_line(d, vt, 5, OTA_LOG_INFO, "boot", "Enabling RNG early entropy source...");

	rc = ota_slots_init(&d->slots, &d->slots_cfg);
	if (rc != OTA_OK) {
		boot_line(d, vt, 5, OTA_LOG_ERROR, "boot", "partition table: %s", ota_strerror(rc));
		return false;
	}
	boot_line(d, vt, 5, OTA_LOG_INFO, "boot", "Partition Table:");
	boot_line(d, vt, 4, OTA_LOG_INFO, "boot",
		  "## Label            Usage          Type ST Offset   Length");
	for (unsigned i = 0; i < d->slots.n_parts; i++) {
		const struct ota_partition *q = &d->slots.parts[i];
		boot_line(d, vt, 7, OTA_LOG_INFO, "boot", "%2u %-16s %-14s %02x %02x %08x %08x", i,
			  q->label, part_usage(q), q->type, q->subtype, (unsigned)q->offset,
			  (unsigned)q->size);
	}
	boot_line(d, vt, 7, OTA_LOG_INFO, "boot", "End of partition table");

	rc = ota_boot(&d->slots, &res);
	account_flash(d);
	d->busy_until_us = 0; /* the boot time covers the bootloader's otadata writes */
	if (res.aborted > 0)
		boot_line(d, vt, 3, OTA_LOG_WARN, "boot",
			  "app in PENDING_VERIFY state was not confirmed: marked ABORTED (%u)",
			  res.aborted);
	if (res.fallback)
		boot_line(d, vt, 3, OTA_LOG_ERROR, "boot",
			  "selected partition %s does not verify, falling back",
			  slot_label(d, res.selected));
	if (rc < 0) {
		boot_line(d, vt, 3, OTA_LOG_ERROR, "boot",
			  "No bootable app partitions in the partition table");
		return false;
	}
	p = ota_slots_app(&d->slots, res.slot);
	d->running_slot = res.slot;
	d->running_state = res.state;
	d->run_info = res.image;
	len = slot_image_len(d, res.slot, &res.image);
	boot_line(d, vt, 4, OTA_LOG_INFO, "boot", "Loaded app from partition at offset 0x%x",
		  (unsigned)p->offset);
	log_segments(d, vt, sim_flash_data(&d->flash) + p->offset, len, p->offset);
	boot_line(d, vt, 40, OTA_LOG_INFO, "boot", "Disabling RNG early entropy source...");

	d->has_desc = sim_image_app_desc(sim_flash_data(&d->flash) + p->offset, len, &d->desc);
	sha_of_slot(d, res.slot, len);
	d->bad_app_reboot = false;
	d->rolled_back = res.aborted > 0 || res.fallback;
	if (d->rolled_back) {
		d->state.last_update[0] = '\0';
		set_last_update(d, "rolled back");
	}
	return true;
}

static void
app_start_lines(struct sim_device *d, uint32_t *vt)
{
	char elf[17];
	if (d->cfg.chip != OTA_CHIP_ESP8266)
		boot_line(d, vt, 60, OTA_LOG_INFO, "cpu_start", "Pro cpu start user code");
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_init", "Application information:");
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_init", "Project name:     %s", d->desc.project_name);
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_init", "App version:      %s", d->desc.version);
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_init", "Compile time:     %s %s", d->desc.date,
		  d->desc.time);
	ota_hex(d->desc.app_elf_sha256, 8, elf);
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_init", "ELF file SHA256:  %s...", elf);
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_init", "ESP-IDF:          %s", d->desc.idf_ver);
	boot_line(d, vt, 30, OTA_LOG_INFO, "main_task", "Calling app_main()");
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_main", "espfleet-sim %s starting", d->desc.version);
	boot_line(d, vt, 2, OTA_LOG_INFO, "app_main", "running %s (%s), boot #%u, reset reason %s",
		  slot_label(d, d->running_slot), port_state_id(d->running_state),
		  (unsigned)d->state.boot_count, d->reset_reason);
	if (d->rolled_back)
		boot_line(d, vt, 1, OTA_LOG_WARN, "app_main",
			  "last update rolled back: the new app did not confirm itself");
	boot_line(d, vt, 200, OTA_LOG_INFO, "wifi",
		  "wifi driver task: 3ffc08b4, prio:23, stack:6656");
}

/* the log ring is RAM: a boot starts it empty */
static void
log_restart(struct sim_device *d)
{
	struct ota_log_config lc;
	memset(&lc, 0, sizeof(lc));
	lc.ring = d->log_ring;
	lc.ring_size = LOG_RING_SIZE;
	lc.send = log_send;
	lc.clock = log_clock;
	lc.user = d;
	lc.level = OTA_LOG_INFO;
	lc.colors = true;
	d->log_ready = ota_log_init(&d->log, &lc) == 0;
}

static int
boot(struct sim_device *d, char *err, size_t err_size)
{
	uint64_t now = sim_now_us();
	uint32_t vt = 0;

	log_restart(d);
	d->log_clock_override = 0;
	/*
	 * Uptime and log time count from the reset: after a reboot that is when the device went
	 * silent; at power-on the boot lines' modelled time is taken to have passed already.
	 */
	d->reset_reason = d->reset_us != 0 ? "software" : "power_on";
	d->boot_line_cap = d->reset_us != 0 ? (int64_t)((now - d->reset_us) / 1000u) : INT32_MAX;
	d->boot_us = d->reset_us != 0 ? d->reset_us : now;
	if (!boot_firmware(d, &vt)) {
		d->log_clock_override = -1;
		/* a real chip resets and tries again */
		d->phase = SIM_PHASE_BOOTING;
		d->boot_at_us = now + (uint64_t)d->cfg.boot_time_ms * 1000u + 1000000u;
		return 0;
	}
	d->state.boot_count++;
	if (sim_state_save(&d->state) != 0)
		dev_log(d, OTA_LOG_ERROR, "sim", "cannot write %s: %s", d->state.path,
			strerror(errno));
	app_start_lines(d, &vt);
	d->log_clock_override = -1;
	d->boot_us = d->reset_us != 0 ? d->reset_us : now - (uint64_t)vt * 1000u;
	d->reset_us = 0;
	d->phase = SIM_PHASE_RUNNING;
	if (services_start(d, err, err_size) != 0) {
		services_stop(d);
		d->phase = SIM_PHASE_OFF;
		return -1;
	}
	dev_log(d, OTA_LOG_INFO, "sim", "flash operations so far: %llu",
		(unsigned long long)sim_flash_op_count(&d->flash));
	if (d->running_state == OTA_IMG_PENDING_VERIFY) {
		d->confirm_at_us = now + (uint64_t)d->cfg.confirm_after_ms * 1000u;
		dev_log(d, OTA_LOG_INFO, "app_main",
			"new app is pending verification: self-test for %u ms",
			(unsigned)d->cfg.confirm_after_ms);
	}
	d->heartbeat_at_us = now + (uint64_t)d->cfg.heartbeat_ms * 1000u;
	d->lograte_at_us = now;
	d->lograte_n = 0;
	/* the cores' first deadlines (mDNS probing starts within 250 ms) */
	poll_cores(d);
	return 0;
}

static void
reboot_now(struct sim_device *d)
{
	dev_log(d, OTA_LOG_INFO, "system", "Restarting...");
	services_stop(d);
	d->reset_us = sim_now_us();
	d->phase = SIM_PHASE_BOOTING;
	d->boot_at_us = sim_now_us() + (uint64_t)d->cfg.boot_time_ms * 1000u;
	if (d->cfg.console)
		printf("[%s] (rebooting: silent for %u ms)\n", d->cfg.name,
		       (unsigned)d->cfg.boot_time_ms);
}

/* the app's self-test after a first boot: confirm, or (bad app) restart unconfirmed */
static void
confirm_app(struct sim_device *d)
{
	bool marker = d->has_desc && sim_image_is_bad_app(&d->desc);
	int rc;

	d->confirm_at_us = 0;
	if (marker || d->armed.bad_app) {
		if (!marker)
			fault_fired(d, &d->armed.bad_app, "bad-app");
		dev_log(d, OTA_LOG_ERROR, "app_main",
			"self-test failed (%s): restarting without confirming %s",
			marker ? "bad-app marker in the app description" : "--fault bad-app",
			slot_label(d, d->running_slot));
		d->bad_app_reboot = true;
		schedule_reboot(d, 0);
		return;
	}
	rc = ota_slots_mark_valid(&d->slots);
	account_flash(d);
	if (rc != OTA_OK) {
		dev_log(d, OTA_LOG_ERROR, "esp_ota_ops", "mark valid: %s", ota_strerror(rc));
		return;
	}
	d->running_state = running_state(d);
	dev_log(d, OTA_LOG_INFO, "app_main",
		"self-test passed: %s marked valid, rollback cancelled",
		slot_label(d, d->running_slot));
}

/* ---- periodic lines ---- */

static void
heartbeat(struct sim_device *d, uint64_t now)
{
	uint32_t jitter;
	uint32_t base = d->cfg.chip == OTA_CHIP_ESP8266 ? 41000u : 231000u;
	(void)random_bytes(NULL, (uint8_t *)&jitter, sizeof(jitter));
	d->heap = base - jitter % 4096u;
	if (d->upd_open) {
		dev_log(d, OTA_LOG_INFO, "heartbeat",
			"uptime %llu s, free heap %u, rssi -%u dBm, ota: %u bytes received",
			(unsigned long long)((now - d->boot_us) / 1000000u), (unsigned)d->heap,
			(unsigned)(55 + jitter % 7), (unsigned)d->upd_written);
	} else {
		dev_log(d, OTA_LOG_INFO, "heartbeat", "uptime %llu s, free heap %u, rssi -%u dBm",
			(unsigned long long)((now - d->boot_us) / 1000000u), (unsigned)d->heap,
			(unsigned)(55 + jitter % 7));
	}
	d->heartbeat_at_us = now + (uint64_t)d->cfg.heartbeat_ms * 1000u;
}

static void
synthetic_lines(struct sim_device *d, uint64_t now)
{
	double rate = d->cfg.log_rate;
	uint64_t due;
	unsigned emitted = 0;

	if (rate <= 0)
		return;
	due = (uint64_t)((double)(now - d->lograte_at_us) * rate / 1e6);
	while (d->lograte_n < due && emitted < 2000) {
		uint32_t r;
		(void)random_bytes(NULL, (uint8_t *)&r, sizeof(r));
		dev_log(d, OTA_LOG_INFO, "sensor",
			"seq=%u temp=%u.%u C humidity=%u.%u %% pressure=%u hPa",
			(unsigned)d->lograte_n, 20u + r % 6u, (r >> 3) % 10u, 35u + (r >> 7) % 20u,
			(r >> 12) % 10u, 1000u + (r >> 16) % 30u);
		d->lograte_n++;
		emitted++;
	}
	if (d->lograte_n < due)
		d->lograte_n = (uint32_t)due; /* too far behind: skip, as a loaded UART would */
}

static uint64_t
lograte_next(const struct sim_device *d)
{
	if (d->cfg.log_rate <= 0)
		return 0;
	return d->lograte_at_us + (uint64_t)((double)(d->lograte_n + 1) * 1e6 / d->cfg.log_rate);
}

/* ---- socket events ---- */

static void
espota_feed(struct sim_device *d)
{
	struct sim_conn *c = &d->espota_conn;
	while (c->fd >= 0 && c->id >= 0 && !c->connecting && c->in.len > 0) {
		bool stalled = d->espota.stall_done;
		size_t used;
		d->cur_source = SRC_ESPOTA;
		used = ota_espota_on_tcp_data(&d->espota, c->in.data, c->in.len, now_ms());
		d->cur_source = SRC_NONE;
		if (c->fd < 0 || c->id < 0)
			return; /* the receiver closed it; the rest is never read */
		sim_buf_consume(&c->in, used);
		if (!stalled && d->espota.stall_done) {
			char what[64];
			snprintf(what, sizeof(what), "stall-at=%u:%.3g",
				 (unsigned)d->armed.stall_at, d->armed.stall_ms / 1000.0);
			fault_fired(d, &d->armed.stall, what);
		}
		if (used == 0)
			break;
	}
	if (c->fd >= 0 && c->id >= 0 && c->in.len == 0 && (c->eof || c->broken)) {
		c->id = -1;
		d->cur_source = SRC_ESPOTA;
		ota_espota_on_tcp_closed(&d->espota, now_ms());
		d->cur_source = SRC_NONE;
		conn_close(c);
	}
}

static void
espota_conn_event(struct sim_device *d, short revents)
{
	struct sim_conn *c = &d->espota_conn;
	if (c->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		c->connecting = false;
		d->cur_source = SRC_ESPOTA;
		if (soerr != 0) {
			dev_log(d, OTA_LOG_ERROR, "ota", "connect back failed: %s",
				strerror(soerr));
			c->id = -1;
			ota_espota_on_tcp_closed(&d->espota, now_ms());
			conn_close(c);
		} else {
			ota_espota_on_tcp_connected(&d->espota, now_ms());
		}
		d->cur_source = SRC_NONE;
		if (c->fd >= 0 && c->out.len > 0 && sim_buf_flush(c->fd, &c->out) != 0)
			c->broken = true;
		return;
	}
	if ((revents & POLLOUT) && c->out.len > 0 && sim_buf_flush(c->fd, &c->out) != 0)
		c->broken = true;
	if (c->closing) {
		if (c->out.len == 0 || c->broken || (revents & (POLLERR | POLLHUP)))
			conn_close(c);
		return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		(void)conn_read(c);
	espota_feed(d);
}

static void
udp_event(struct sim_device *d)
{
	for (int i = 0; i < 16; i++) {
		uint8_t buf[OTA_ESPOTA_UDP_MAX];
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(d->udp_fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, &sl);
		if (n < 0)
			return;
		d->cur_source = SRC_ESPOTA;
		(void)ota_espota_on_udp(&d->espota, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port),
					buf, (size_t)n, now_ms());
		d->cur_source = SRC_NONE;
	}
}

static void
http_accept(struct sim_device *d)
{
	for (;;) {
		int fd = accept4(d->http_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sim_conn *slot = NULL;
		int id;
		if (fd < 0)
			return;
		for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
			if (d->http_conns[i].fd < 0) {
				slot = &d->http_conns[i];
				break;
			}
		}
		id = slot != NULL ? ota_http_accept(d->http, now_ms()) : OTA_E_BUSY;
		if (id < 0) {
			close(fd); /* every slot taken: the stock server would not accept either */
			continue;
		}
		conn_open(slot, fd, SIM_SOCK_HTTP, id);
	}
}

static void
http_conn_event(struct sim_device *d, struct sim_conn *c, short revents)
{
	if ((revents & POLLOUT) && c->out.len > 0 && sim_buf_flush(c->fd, &c->out) != 0)
		c->broken = true;
	if (c->closing) {
		if (c->out.len == 0 || c->broken || (revents & (POLLERR | POLLHUP)))
			conn_close(c);
		return;
	}
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && c->in.len == 0)
		(void)conn_read(c);
	http_feed(d, c);
}

static void
log_accept(struct sim_device *d)
{
	for (;;) {
		int fd = accept4(d->log_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sim_conn *slot = NULL;
		int client;
		if (fd < 0)
			return;
		for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
			if (d->log_conns[i].fd < 0) {
				slot = &d->log_conns[i];
				break;
			}
		}
		client =
		    slot != NULL && d->log_ready ? ota_log_client_add(&d->log) : OTA_LOG_E_FULL;
		if (client < 0) {
			close(fd);
			continue;
		}
		conn_open(slot, fd, SIM_SOCK_LOG, client);
		ota_log_pump(&d->log);
	}
}

static void
log_conn_event(struct sim_device *d, struct sim_conn *c, short revents)
{
	if ((revents & POLLOUT) && c->out.len > 0 && sim_buf_flush(c->fd, &c->out) != 0)
		c->broken = true;
	if (revents & (POLLIN | POLLERR | POLLHUP)) {
		/* whatever a client types is ignored, as a serial log would */
		(void)conn_read(c);
		sim_buf_clear(&c->in);
	}
	if (c->eof || c->broken) {
		log_client_drop(d, c);
		return;
	}
	if (c->out.len == 0)
		ota_log_pump(&d->log);
}

static void
mdns_event(struct sim_device *d, int fd)
{
	for (int i = 0; i < 16 && d->mdns_on; i++) {
		uint8_t buf[OTA_MDNS_PACKET_MAX];
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, &sl);
		uint32_t src;
		uint16_t port;
		if (n < 0)
			return;
		src = ntohl(sa.sin_addr.s_addr);
		port = ntohs(sa.sin_port);
		/* our own multicast, looped back (and our siblings' on the same address) */
		if (src == d->cfg.bind_ip && port == OTA_MDNS_PORT)
			continue;
		(void)ota_mdns_on_packet(d->mdns, src, port, buf, (size_t)n, now_ms());
	}
}

/* ---- the cores' timers ---- */

static void
poll_cores(struct sim_device *d)
{
	uint64_t now = sim_now_us();
	uint32_t r;

	if (d->phase != SIM_PHASE_RUNNING)
		return;
	for (int round = 0; round < 4; round++) {
		d->cur_source = SRC_ESPOTA;
		r = ota_espota_poll(&d->espota, core_ms(now));
		d->cur_source = SRC_NONE;
		apply_espota_faults(d);
		/* a stall that ended: the held bytes are offered again */
		if (d->espota_conn.in.len == 0 || d->espota.stalling)
			break;
		espota_feed(d);
	}
	d->espota_at_us = core_deadline(now, r);

	if (!http_paused(d, now)) {
		d->cur_source = SRC_HTTP;
		r = ota_http_poll(d->http, core_ms(now));
		d->cur_source = SRC_NONE;
		d->http_at_us = core_deadline(now, r);
	}
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		struct sim_conn *c = &d->http_conns[i];
		if (c->fd >= 0 && c->in.len > 0 && c->paused_until_us <= now)
			http_feed(d, c);
	}
	apply_espota_faults(d);
	if (d->http_restore_pending) {
		d->http_restore_pending = false;
		http_restore_password(d);
	}

	if (d->mdns_on) {
		r = ota_mdns_poll(d->mdns, core_ms(now));
		d->mdns_at_us = core_deadline(now, r);
	}
}

/*
 * auth-reject fired on HTTP: the server gets the real password back. Its connections go
 * (each after what was queued for it, the 401 included), since a new server does not know
 * them; the uploader's next connection is accepted with the right credentials.
 */
static void
http_restore_password(struct sim_device *d)
{
	d->cur_source = SRC_HTTP;
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		struct sim_conn *c = &d->http_conns[i];
		if (c->fd >= 0 && c->id >= 0) {
			ota_http_on_close(d->http, c->id);
			conn_close_when_sent(c);
		}
	}
	d->cur_source = SRC_NONE;
	if (http_server_init(d, false) == 0)
		dev_log(d, OTA_LOG_INFO, "http", "credentials accepted again");
}

/* failures noticed inside callbacks, reported now that no core is running */
static void
reap_conns(struct sim_device *d)
{
	struct sim_conn *e = &d->espota_conn;
	if (e->fd >= 0 && e->broken && e->in.len == 0) {
		if (e->id >= 0) {
			e->id = -1;
			d->cur_source = SRC_ESPOTA;
			ota_espota_on_tcp_closed(&d->espota, now_ms());
			d->cur_source = SRC_NONE;
		}
		conn_close(e);
	}
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		struct sim_conn *c = &d->http_conns[i];
		if (c->fd >= 0 && c->broken) {
			if (c->id >= 0) {
				d->cur_source = SRC_HTTP;
				ota_http_on_close(d->http, c->id);
				d->cur_source = SRC_NONE;
			}
			conn_close(c);
		}
	}
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		struct sim_conn *c = &d->log_conns[i];
		if (c->fd >= 0 && c->broken)
			log_client_drop(d, c);
	}
}

/* ---- the loop interface ---- */

static void
add_fd(struct pollfd *pfds,
       struct sim_pollref *refs,
       size_t *n,
       struct sim_device *d,
       int fd,
       short events,
       int which)
{
	if (fd < 0 || events == 0)
		return;
	pfds[*n].fd = fd;
	pfds[*n].events = events;
	pfds[*n].revents = 0;
	refs[*n].dev = d;
	refs[*n].fd = fd;
	refs[*n].which = which;
	(*n)++;
}

void
sim_device_collect(struct sim_device *d,
		   struct pollfd *pfds,
		   struct sim_pollref *refs,
		   size_t *n,
		   uint64_t now,
		   uint64_t *deadline)
{
	if (d->phase == SIM_PHASE_BOOTING) {
		min_deadline(deadline, d->boot_at_us);
		return;
	}
	if (d->phase != SIM_PHASE_RUNNING)
		return;
	if (d->busy_until_us > now) {
		min_deadline(deadline, d->busy_until_us);
		return;
	}
	if (d->woke)
		min_deadline(deadline, now);
	add_fd(pfds, refs, n, d, d->udp_fd, POLLIN, W_UDP);
	add_fd(pfds, refs, n, d, d->http_fd, POLLIN, W_HTTP_LISTEN);
	add_fd(pfds, refs, n, d, d->log_fd, POLLIN, W_LOG_LISTEN);
	add_fd(pfds, refs, n, d, d->mdns_uni_fd, POLLIN, W_MDNS_UNI);
	add_fd(pfds, refs, n, d, d->mdns_mcast_fd, POLLIN, W_MDNS_MCAST);
	{
		struct sim_conn *c = &d->espota_conn;
		short ev = 0;
		if (c->connecting || c->out.len > 0)
			ev |= POLLOUT;
		if (!c->connecting && !c->closing && c->in.len == 0 && !c->eof)
			ev |= POLLIN;
		add_fd(pfds, refs, n, d, c->fd, ev, W_ESPOTA);
	}
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		struct sim_conn *c = &d->http_conns[i];
		short ev = c->out.len > 0 ? POLLOUT : 0;
		if (c->fd < 0)
			continue;
		if (c->in.len == 0 && !c->eof && !c->closing)
			ev |= POLLIN;
		if (c->paused_until_us > now)
			min_deadline(deadline, c->paused_until_us);
		add_fd(pfds, refs, n, d, c->fd, ev, W_HTTP_CONN + (int)i);
	}
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		struct sim_conn *c = &d->log_conns[i];
		add_fd(pfds, refs, n, d, c->fd, (short)(POLLIN | (c->out.len > 0 ? POLLOUT : 0)),
		       W_LOG_CONN + (int)i);
	}
	min_deadline(deadline, d->espota_at_us);
	min_deadline(deadline, d->http_at_us);
	min_deadline(deadline, d->mdns_at_us);
	min_deadline(deadline, d->reboot_at_us);
	min_deadline(deadline, d->confirm_at_us);
	min_deadline(deadline, d->heartbeat_at_us);
	min_deadline(deadline, lograte_next(d));
}

void
sim_device_dispatch(struct sim_device *d, const struct sim_pollref *ref, short revents)
{
	int w = ref->which;
	if (d->phase != SIM_PHASE_RUNNING)
		return;
	switch (w) {
	case W_UDP:
		if (ref->fd == d->udp_fd)
			udp_event(d);
		break;
	case W_HTTP_LISTEN:
		if (ref->fd == d->http_fd)
			http_accept(d);
		break;
	case W_LOG_LISTEN:
		if (ref->fd == d->log_fd)
			log_accept(d);
		break;
	case W_MDNS_UNI:
	case W_MDNS_MCAST:
		if (ref->fd == d->mdns_uni_fd || ref->fd == d->mdns_mcast_fd)
			mdns_event(d, ref->fd);
		break;
	case W_ESPOTA:
		if (ref->fd == d->espota_conn.fd)
			espota_conn_event(d, revents);
		break;
	default:
		if (w >= W_HTTP_CONN && w < W_HTTP_CONN + OTA_HTTP_MAX_CONN) {
			struct sim_conn *c = &d->http_conns[w - W_HTTP_CONN];
			if (c->fd == ref->fd)
				http_conn_event(d, c, revents);
		} else if (w >= W_LOG_CONN && w < W_LOG_CONN + OTA_LOG_MAX_CLIENTS) {
			struct sim_conn *c = &d->log_conns[w - W_LOG_CONN];
			if (c->fd == ref->fd)
				log_conn_event(d, c, revents);
		}
		break;
	}
	apply_espota_faults(d);
}

void
sim_device_run(struct sim_device *d)
{
	uint64_t now = sim_now_us();

	if (d->phase == SIM_PHASE_BOOTING) {
		char err[256];
		if (now < d->boot_at_us)
			return;
		if (boot(d, err, sizeof(err)) != 0) {
			/* a port still taken: a real device retries its server start */
			dev_log(d, OTA_LOG_ERROR, "app_main", "%s; retrying", err);
			d->phase = SIM_PHASE_BOOTING;
			d->boot_at_us = now + 1000000u;
		}
		return;
	}
	if (d->phase != SIM_PHASE_RUNNING)
		return;
	if (d->busy_until_us > now)
		return;
	if (d->busy_until_us != 0) {
		/* the flash is done: the next round reads what waited, then the timers run */
		d->busy_until_us = 0;
		d->woke = true;
		return;
	}
	d->woke = false;
	reap_conns(d);
	if (d->reboot_at_us != 0 && now >= d->reboot_at_us) {
		reboot_now(d);
		return;
	}
	if (d->confirm_at_us != 0 && now >= d->confirm_at_us)
		confirm_app(d);
	if (d->heartbeat_at_us != 0 && now >= d->heartbeat_at_us)
		heartbeat(d, now);
	synthetic_lines(d, now);
	poll_cores(d);
	reap_conns(d);
}

/* ---- opening: state, flash, factory image ---- */

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0;
	size_t n = 0;
	if (f == NULL)
		return -1;
	for (;;) {
		size_t r;
		if (n == cap) {
			uint8_t *p;
			cap = cap != 0 ? cap * 2 : 65536;
			p = realloc(buf, cap);
			if (p == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return -1;
			}
			buf = p;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* writes @img into ota_0 the way esptool would, leaving otadata blank */
static int
factory_flash(struct sim_device *d, const uint8_t *img, size_t len, char *err, size_t err_size)
{
	struct ota_image_info info;
	unsigned int n = 32;
	int rc;

	rc = ota_slots_init(&d->slots, &d->slots_cfg);
	if (rc == OTA_OK)
		rc = ota_update_begin(&d->upd, &d->slots, 0, (uint32_t)len, OTA_ERASE_UP_FRONT);
	if (rc == OTA_OK)
		rc = ota_update_write(&d->upd, img, len);
	if (rc == OTA_OK)
		rc = ota_update_end(&d->upd, &info);
	else
		ota_update_abort(&d->upd);
	if (rc != OTA_OK) {
		snprintf(err, err_size, "factory image does not fit or verify on this %s: %s",
			 ota_chip_id_string(d->cfg.chip), ota_strerror(rc));
		return -1;
	}
	d->state.slots[0].known = true;
	d->state.slots[0].len = (uint32_t)len;
	(void)EVP_Digest(img, len, d->state.slots[0].sha256, &n, EVP_sha256(), NULL);
	d->state.slots[1].known = false;
	return sim_state_save(&d->state);
}

static bool
anything_bootable(struct sim_device *d)
{
	if (ota_slots_init(&d->slots, &d->slots_cfg) != OTA_OK)
		return false;
	for (int i = 0; i < d->slots.app_count; i++) {
		if (ota_slots_verify(&d->slots, i, NULL) == OTA_OK)
			return true;
	}
	return false;
}

static int
prepare_flash(struct sim_device *d, char *err, size_t err_size)
{
	struct ota_partition parts[OTA_MAX_PARTITIONS];
	size_t n = 0;
	bool blank;
	uint8_t *img = NULL;
	size_t len = 0;
	int rc;

	blank = ota_partition_table_read(&d->flash.ops, sim_crypto_ops(d->c_slots), 0, parts,
					 OTA_MAX_PARTITIONS, &n) != OTA_OK;
	if (!blank && anything_bootable(d))
		return 0;
	if (blank) {
		/* nvs, otadata, phy_init, ota_0, ota_1 (3/8 of the flash each), spiffs */
		uint32_t slot_size = (d->cfg.flash_size / 8u * 3u) & ~0xFFFFu;
		rc =
		    ota_partition_table_write_default(&d->flash.ops, sim_crypto_ops(d->c_slots),
						      slot_size, 0, d->scratch, sizeof(d->scratch));
		if (rc != OTA_OK) {
			snprintf(err, err_size, "cannot write the partition table: %s",
				 ota_strerror(rc));
			return -1;
		}
	}
	if (d->cfg.initial_image != NULL) {
		if (read_file(d->cfg.initial_image, &img, &len) != 0) {
			snprintf(err, err_size, "cannot read %s: %s", d->cfg.initial_image,
				 strerror(errno));
			return -1;
		}
	} else {
		struct sim_image_opts o;
		memset(&o, 0, sizeof(o));
		o.chip = d->cfg.chip;
		o.project = d->cfg.project;
		o.version = d->cfg.fw_version;
		o.flash_size = d->cfg.flash_size;
		if (sim_image_build(&o, &img, &len) != 0) {
			snprintf(err, err_size, "cannot build an image for %s",
				 ota_chip_id_string(d->cfg.chip));
			return -1;
		}
	}
	if (d->cfg.console)
		printf("[%s] factory flash: %s%zu bytes into ota_0\n", d->cfg.name,
		       blank ? "partition table, " : "", len);
	rc = factory_flash(d, img, len, err, err_size);
	free(img);
	return rc;
}

int
sim_device_open(struct sim_device *d, const struct sim_config *cfg, char *err, size_t err_size)
{
	struct sim_flash_config fc;
	char path[4200];

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->lock_fd = -1;
	d->udp_fd = d->http_fd = d->log_fd = d->mdns_uni_fd = d->mdns_mcast_fd = -1;
	d->running_slot = OTA_SLOT_NONE;
	d->log_clock_override = -1;
	conn_init(&d->espota_conn);
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++)
		conn_init(&d->http_conns[i]);
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++)
		conn_init(&d->log_conns[i]);
	d->armed = cfg->faults;
	sim_ip_format(cfg->bind_ip, d->bind_text);
	d->netmask = 0xFF000000u;

	if (cfg->mdns && sim_iface_for(cfg->bind_ip, &d->ifindex, &d->netmask, d->ifname,
				       sizeof(d->ifname)) != 0) {
		snprintf(err, err_size, "no interface has the address %s", d->bind_text);
		return -1;
	}
	if (!cfg->mdns) {
		unsigned idx;
		uint32_t mask;
		char name[32];
		if (sim_iface_for(cfg->bind_ip, &idx, &mask, name, sizeof(name)) == 0)
			d->netmask = mask;
	}
	if (sim_mkdirs(cfg->dir) != 0) {
		snprintf(err, err_size, "cannot create %s: %s", cfg->dir, strerror(errno));
		return -1;
	}
	d->lock_fd = sim_state_lock(cfg->dir);
	if (d->lock_fd < 0) {
		snprintf(err, err_size, "%s is in use by another simulator (%s)", cfg->dir,
			 strerror(errno));
		return -1;
	}
	if (sim_mac_load_or_create(cfg->dir, d->mac) != 0 ||
	    sim_state_load(&d->state, cfg->dir) != 0) {
		snprintf(err, err_size, "cannot read the state in %s: %s", cfg->dir,
			 strerror(errno));
		return -1;
	}
	d->c_slots = sim_crypto_new();
	d->c_espota = sim_crypto_new();
	d->c_http_auth = sim_crypto_new();
	d->c_http_image = sim_crypto_new();
	d->c_sink = sim_crypto_new();
	d->http = calloc(1, sizeof(*d->http));
	d->mdns = calloc(1, sizeof(*d->mdns));
	d->log_ring = calloc(1, LOG_RING_SIZE);
	if (d->c_slots == NULL || d->c_espota == NULL || d->c_http_auth == NULL ||
	    d->c_http_image == NULL || d->c_sink == NULL || d->http == NULL || d->mdns == NULL ||
	    d->log_ring == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}

	snprintf(path, sizeof(path), "%s/flash.bin", cfg->dir);
	memset(&fc, 0, sizeof(fc));
	fc.size = cfg->flash_size;
	fc.sector_size = 4096;
	fc.write_align = 1;
	fc.erased_val = 0xFF;
	fc.path = path;
	/* never sleeps: the modelled time is charged per device (account_flash) */
	fc.timing = SIM_FLASH_FAST;
	fc.violation_mode = SIM_FLASH_VIOLATION_FAIL;
	if (sim_flash_open(&d->flash, &fc) != 0) {
		snprintf(err, err_size, "cannot open %s as a %u byte flash: %s", path,
			 (unsigned)cfg->flash_size,
			 errno == EINVAL ? "it has another size (see --flash-size)"
					 : strerror(errno));
		return -1;
	}
	d->flash_open = true;
	if (cfg->faults.power_cut) {
		sim_flash_set_budget(&d->flash, cfg->faults.power_cut_op);
		sim_flash_set_jmp(&d->flash, cfg->power_jmp);
	}

	d->slots_cfg.flash = sim_flash_ops(&d->flash);
	d->slots_cfg.hash = sim_crypto_ops(d->c_slots);
	d->slots_cfg.chip = cfg->chip;
	d->slots_cfg.chip_rev = sim_chip_rev(cfg->chip);
	d->slots_cfg.rollback = true;
	d->slots_cfg.scratch = d->scratch;
	d->slots_cfg.scratch_len = sizeof(d->scratch);

	d->sink.user = d;
	d->sink.begin = sink_begin;
	d->sink.write = sink_write;
	d->sink.end = sink_end;
	d->sink.abort = sink_abort;
	d->sink.error_text = sink_error_text;

	if (prepare_flash(d, err, err_size) != 0)
		return -1;
	account_flash(d);
	d->busy_until_us = 0; /* factory flashing is not OTA time */
	d->phase = SIM_PHASE_OFF;
	return 0;
}

int
sim_device_start(struct sim_device *d, char *err, size_t err_size)
{
	return boot(d, err, err_size);
}

bool
sim_device_power_cut(struct sim_device *d)
{
	return d->flash_open && sim_flash_last_cut(&d->flash, NULL, NULL, NULL);
}

void
sim_device_report_power_cut(struct sim_device *d)
{
	uint32_t addr = 0;
	uint32_t len = 0;
	bool is_write = false;
	char what[160];

	(void)sim_flash_last_cut(&d->flash, &addr, &len, &is_write);
	snprintf(what, sizeof(what),
		 "power-cut-at-op=%llu: power lost before flash %s of %u bytes "
		 "at 0x%06x",
		 (unsigned long long)d->cfg.faults.power_cut_op, is_write ? "write" : "erase",
		 (unsigned)len, (unsigned)addr);
	d->armed.repeat = true; /* nothing to disarm: the process dies */
	fault_fired(d, &d->armed.power_cut, what);
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		struct sim_conn *c = &d->log_conns[i];
		if (c->fd >= 0)
			(void)sim_buf_flush(c->fd, &c->out);
	}
}

void
sim_device_close(struct sim_device *d)
{
	if (d->phase == SIM_PHASE_RUNNING)
		dev_log(d, OTA_LOG_INFO, "sim", "shutting down");
	services_stop(d);
	d->phase = SIM_PHASE_OFF;
	if (d->flash_open)
		sim_flash_close(&d->flash);
	d->flash_open = false;
	conn_free(&d->espota_conn);
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++)
		conn_free(&d->http_conns[i]);
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++)
		conn_free(&d->log_conns[i]);
	sim_crypto_free(d->c_slots);
	sim_crypto_free(d->c_espota);
	sim_crypto_free(d->c_http_auth);
	sim_crypto_free(d->c_http_image);
	sim_crypto_free(d->c_sink);
	free(d->http);
	free(d->mdns);
	free(d->log_ring);
	d->http = NULL;
	d->mdns = NULL;
	d->log_ring = NULL;
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->lock_fd = -1;
}
