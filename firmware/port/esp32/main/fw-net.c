/* SPDX-License-Identifier: MIT */
/*
 * fw-net.c - the network task: one select() loop over the espota UDP port, its connect-back,
 * the HTTP listener and connections and the log clients, driving the core's receivers
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "esp_log.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "fw-device.h"
#include "fw-idf-ota.h"
#include "fw-log.h"
#include "fw-mdns.h"
#include "fw-wifi.h"
#include "lwip/sockets.h"
#include "port-info.h"
#include "ota/ota-errors.h"
#include "ota/ota-util.h"
#include "sdkconfig.h"

static const char *TAG = "app_main";

#define REBOOT_DELAY_MS 100u
#define WAIT_STEP_MS 100u
#define SELECT_MAX_MS 1000u

uint32_t
fw_now_ms(void)
{
	return (uint32_t)(esp_timer_get_time() / 1000);
}

/* a deadline @ms from now; never 0, which means "off" */
static uint32_t
due_in(uint32_t ms)
{
	uint32_t t = fw_now_ms() + ms;
	return t != 0 ? t : 1;
}

static bool
is_due(uint32_t at, uint32_t now)
{
	return at != 0 && (int32_t)(now - at) >= 0;
}

/* ms until @at, for the select() timeout */
static void
min_wait(uint32_t *wait, uint32_t at, uint32_t now)
{
	uint32_t left;
	if (at == 0)
		return;
	left = is_due(at, now) ? 0 : at - now;
	if (left < *wait)
		*wait = left;
}

static void
set_last_update(struct fw_device *d, const char *text)
{
	snprintf(d->state.last_update, sizeof(d->state.last_update), "%s", text);
	d->result_set = true;
	if (fw_state_save(&d->state) != ESP_OK)
		ESP_LOGE("nvs", "cannot save the device state");
}

/* ---- connections ---- */

static void
conn_init(struct fw_conn *c, uint8_t *out, size_t out_cap)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->id = -1;
	c->out = out;
	c->out_cap = out_cap;
}

static void
conn_open(struct fw_conn *c, int fd, int id)
{
	c->fd = fd;
	c->id = id;
	c->connecting = false;
	c->closing = false;
	c->broken = false;
	c->eof = false;
	c->out_len = 0;
	c->in_len = 0;
}

static void
conn_close(struct fw_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->id = -1;
	c->connecting = false;
	c->closing = false;
	c->broken = false;
	c->eof = false;
	c->out_len = 0;
	c->in_len = 0;
}

static void
set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL, 0);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* sends what is queued; false when the socket failed */
static bool
conn_flush(struct fw_conn *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_DONTWAIT);
		if (n > 0) {
			memmove(c->out, c->out + n, c->out_len - (size_t)n);
			c->out_len -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return true;
		return false;
	}
	return true;
}

/* queue and try to send; a failure is reported from the loop, never from a core callback */
static int
conn_send(struct fw_conn *c, const uint8_t *data, size_t len)
{
	if (c->fd < 0 || c->broken)
		return -1;
	if (len > c->out_cap - c->out_len) {
		c->broken = true;
		return -1;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	if (!c->connecting && !conn_flush(c)) {
		c->broken = true;
		return -1;
	}
	return 0;
}

/* after the core let go: close once the queued bytes are out */
static void
conn_close_when_sent(struct fw_conn *c)
{
	c->id = -1;
	c->closing = true;
	if (c->fd >= 0 && !c->connecting && !c->broken && !conn_flush(c))
		c->broken = true;
	if (c->out_len == 0 || c->broken || c->connecting)
		conn_close(c);
}

/* one recv() into c->in */
static void
conn_read(struct fw_conn *c)
{
	ssize_t n;
	if (c->in_len >= sizeof(c->in))
		return;
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n > 0)
		c->in_len += (size_t)n;
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		c->broken = true;
}

static void
conn_consume(struct fw_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* ---- the sink's notes ---- */

static void
sink_note(void *user, enum fw_sink_note note, int slot, uint32_t len, const uint8_t *sha256)
{
	struct fw_device *d = user;
	switch (note) {
	case FW_SINK_BEGUN:
		d->result_set = false;
		break;
	case FW_SINK_COMMITTED:
		if (slot >= 0 && slot < FW_STATE_SLOTS) {
			d->state.slots[slot].known = sha256 != NULL;
			d->state.slots[slot].len = len;
			if (sha256 != NULL)
				memcpy(d->state.slots[slot].sha256, sha256, 32);
			d->state.pending_slot = slot;
		}
		if (fw_state_save(&d->state) != ESP_OK)
			ESP_LOGE("nvs", "cannot save the slot record");
		break;
	case FW_SINK_ABORTED:
		if (!d->result_set) {
			set_last_update(d, "Aborted");
			/* the receiver's error event, if one follows, says more */
			d->result_set = false;
		}
		break;
	}
}

/* ---- espota ---- */

static void
espota_udp_send(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	struct fw_device *d = user;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(ip);
	sa.sin_port = htons(port);
	if (sendto(d->udp_fd, data, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ESP_LOGW("ota", "udp reply lost: errno %d", errno);
}

static int
espota_tcp_connect(void *user, uint32_t ip, uint16_t port)
{
	struct fw_device *d = user;
	struct fw_conn *c = &d->espota_conn;
	struct sockaddr_in sa;
	int fd;

	if (c->fd >= 0)
		conn_close(c);
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (fd < 0) {
		ESP_LOGE("ota", "no socket for the connect-back: errno %d", errno);
		return -1;
	}
	set_nonblocking(fd);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(ip);
	sa.sin_port = htons(port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		ESP_LOGE("ota", "connect to %u.%u.%u.%u:%u failed: errno %d", (unsigned)(ip >> 24),
			 (unsigned)(ip >> 16 & 255), (unsigned)(ip >> 8 & 255),
			 (unsigned)(ip & 255), (unsigned)port, errno);
		close(fd);
		return -1;
	}
	conn_open(c, fd, 0);
	c->connecting = true;
	ESP_LOGI("ota", "connecting back to %u.%u.%u.%u:%u", (unsigned)(ip >> 24),
		 (unsigned)(ip >> 16 & 255), (unsigned)(ip >> 8 & 255), (unsigned)(ip & 255),
		 (unsigned)port);
	return 0;
}

static int
espota_tcp_send(void *user, const uint8_t *data, size_t len)
{
	struct fw_device *d = user;
	return conn_send(&d->espota_conn, data, len);
}

static void
espota_tcp_close(void *user)
{
	struct fw_device *d = user;
	conn_close_when_sent(&d->espota_conn);
}

static int
random_bytes(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	esp_fill_random(buf, len);
	return 0;
}

static void
schedule_reboot(struct fw_device *d)
{
	if (d->reboot_at == 0)
		d->reboot_at = due_in(REBOOT_DELAY_MS);
}

static void
espota_event(void *user, enum ota_espota_event ev, uint32_t a, uint32_t b)
{
	struct fw_device *d = user;
	switch (ev) {
	case OTA_ESPOTA_EV_END:
		ESP_LOGI(TAG, "OTA end (%u bytes): rebooting", (unsigned)a);
		set_last_update(d, "ok");
		schedule_reboot(d);
		break;
	case OTA_ESPOTA_EV_ERROR: {
		const char *text = port_espota_error_text(d->flavor, a, b);
		ESP_LOGE("ota", "Error[%u]: %s", (unsigned)a, text);
		set_last_update(d, text);
		break;
	}
	default:
		break;
	}
}

/* ---- HTTP ---- */

static struct fw_conn *
http_conn_by_id(struct fw_device *d, int id)
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
	struct fw_device *d = user;
	struct fw_conn *c = http_conn_by_id(d, conn);
	return c != NULL ? conn_send(c, data, len) : -1;
}

static void
http_close(void *user, int conn)
{
	struct fw_device *d = user;
	struct fw_conn *c = http_conn_by_id(d, conn);
	if (c != NULL)
		conn_close_when_sent(c);
}

static int
http_info_json(void *user, char *buf, size_t size)
{
	struct fw_device *d = user;
	const struct ota_partition *run = ota_slots_app(&d->slots, d->running_slot);
	const struct ota_partition *next =
	    ota_slots_app(&d->slots, ota_slots_next_update_slot(&d->slots));
	struct port_info info;

	memset(&info, 0, sizeof(info));
	info.name = d->name;
	memcpy(info.mac, d->mac, sizeof(info.mac));
	info.chip = d->chip_id;
	info.board = d->board;
	info.project = d->desc.project_name;
	info.version = d->desc.version;
	memcpy(info.fw_sha256, d->fw_sha256, sizeof(info.fw_sha256));
	info.running_slot = d->running_part != NULL ? d->running_part->label : "";
	info.running_state = d->running_state;
	info.slot_size = run != NULL ? run->size : 0;
	info.free_space = next != NULL ? next->size : 0;
	info.uptime_s = (uint64_t)(esp_timer_get_time() / 1000000);
	info.boot_count = d->state.boot_count;
	info.last_update = d->state.last_update;
	info.idf_version = d->desc.idf_ver;
	info.reset_reason = d->reset_reason;
	return port_info_json(&info, buf, size);
}

static void
http_event(void *user, enum ota_http_event ev, int conn, uint32_t a, uint32_t b)
{
	struct fw_device *d = user;
	(void)conn;
	(void)b;
	switch (ev) {
	case OTA_HTTP_EV_UPDATE_END:
		ESP_LOGI(TAG, "HTTP update done (%u bytes): rebooting", (unsigned)a);
		set_last_update(d, "ok");
		schedule_reboot(d);
		break;
	case OTA_HTTP_EV_UPDATE_ERROR: {
		/* the update server words every error the ESP8266 way */
		const char *text =
		    ota_update_error_text(OTA_FLAVOR_ESP8266, (enum ota_update_error)a);
		ESP_LOGE("http", "Update error: %s", text);
		set_last_update(d, text);
		break;
	}
	case OTA_HTTP_EV_AUTH_FAILED:
		ESP_LOGW("http", "request without valid credentials");
		break;
	default:
		break;
	}
}

/* ---- the log stream ---- */

static struct fw_conn *
log_conn_by_client(struct fw_device *d, unsigned client)
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
	struct fw_device *d = user;
	struct fw_conn *c = log_conn_by_client(d, client);
	if (c == NULL || c->broken)
		return true; /* gone: nothing to hold back for */
	if (len > c->out_cap - c->out_len)
		return false; /* the core offers the line again later */
	(void)conn_send(c, (const uint8_t *)line, len);
	return true;
}

static uint32_t
log_clock(void *user)
{
	(void)user;
	return fw_log_clock(fw_now_ms());
}

static void
log_client_drop(struct fw_device *d, struct fw_conn *c)
{
	if (c->id >= 0)
		ota_log_client_remove(&d->log, (unsigned)c->id);
	conn_close(c);
}

/* ---- services ---- */

static int
listen_tcp(uint16_t port)
{
	struct sockaddr_in sa;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	sa.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 2) != 0) {
		close(fd);
		return -1;
	}
	set_nonblocking(fd);
	return fd;
}

static int
bind_udp(uint16_t port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	sa.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	set_nonblocking(fd);
	return fd;
}

static void
mdns_config(const struct fw_device *d, struct ota_mdns_config *mc)
{
	memset(mc, 0, sizeof(*mc));
	mc->hostname = d->name;
	mc->instance = d->name;
	mc->ipv4 = d->ip;
	mc->netmask = d->netmask;
	mc->ota_port = d->ota_port;
	mc->board = d->board;
	mc->auth_upload = d->password_hash[0] != '\0';
	mc->fw_version = d->desc.version;
	memcpy(mc->fw_sha256, d->fw_sha256, sizeof(mc->fw_sha256));
	mc->log_port = d->log_port;
	memcpy(mc->mac, d->mac, 6);
	mc->chip = d->chip_id;
	mc->http_port = d->http_port;
}

static bool
services_start(struct fw_device *d)
{
	struct ota_espota_config ec;
	struct ota_http_config hc;
	struct ota_mdns_config mc;
	int rc;

	d->udp_fd = bind_udp(d->ota_port);
	d->http_fd = listen_tcp(d->http_port);
	d->log_fd = listen_tcp(d->log_port);
	if (d->udp_fd < 0 || d->http_fd < 0 || d->log_fd < 0) {
		ESP_LOGE(TAG, "cannot bind udp/%u, tcp/%u or tcp/%u: errno %d",
			 (unsigned)d->ota_port, (unsigned)d->http_port, (unsigned)d->log_port,
			 errno);
		return false;
	}

	memset(&ec, 0, sizeof(ec));
	ec.flavor = d->flavor;
	ec.auth_scheme = d->auth_scheme;
	ec.password_hash = d->password_hash;
	ec.hash = fw_crypto_ops(&d->c_espota);
	ec.sink = fw_sink_get(&d->sink);
	ec.ops.user = d;
	ec.ops.udp_send = espota_udp_send;
	ec.ops.tcp_connect = espota_tcp_connect;
	ec.ops.tcp_send = espota_tcp_send;
	ec.ops.tcp_close = espota_tcp_close;
	ec.ops.random = random_bytes;
	ec.ops.event = espota_event;
	rc = ota_espota_init(&d->espota, &ec);
	if (rc != OTA_OK) {
		ESP_LOGE(TAG, "espota receiver: %s", ota_strerror(rc));
		return false;
	}

	memset(&hc, 0, sizeof(hc));
	hc.username = d->http_user;
	hc.password = d->http_password;
	hc.challenge = OTA_HTTP_CHALLENGE_BASIC;
	hc.sink = fw_sink_get(&d->sink);
	hc.auth_hash = fw_crypto_ops(&d->c_http_auth);
	hc.image_hash = fw_crypto_ops(&d->c_http_image);
	hc.ops.user = d;
	hc.ops.send = http_send;
	hc.ops.close = http_close;
	hc.ops.info_json = http_info_json;
	hc.ops.random = random_bytes;
	hc.ops.event = http_event;
	rc = ota_http_init(&d->http, &hc);
	if (rc != OTA_OK) {
		ESP_LOGE(TAG, "http server: %s", ota_strerror(rc));
		return false;
	}

	ESP_LOGI(TAG, "ArduinoOTA (%s) on udp/%u, auth %s",
		 d->flavor == OTA_FLAVOR_ESP8266 ? "esp8266" : "esp32", (unsigned)d->ota_port,
		 d->password_hash[0] == '\0'	  ? "off"
		 : d->auth_scheme == OTA_AUTH_MD5 ? "md5"
						  : "sha256");
	ESP_LOGI(TAG, "HTTP update server on http://%u.%u.%u.%u:%u/update%s",
		 (unsigned)(d->ip >> 24), (unsigned)(d->ip >> 16 & 255),
		 (unsigned)(d->ip >> 8 & 255), (unsigned)(d->ip & 255), (unsigned)d->http_port,
		 d->http_user[0] != '\0' && d->http_password[0] != '\0' ? " (auth)" : "");
	ESP_LOGI(TAG, "log stream on tcp/%u", (unsigned)d->log_port);

	mdns_config(d, &mc);
	if (fw_mdns_start(&mc) == ESP_OK) {
		d->mdns_on = true;
		ESP_LOGI("mdns", "announcing %s.local (_arduino._tcp %u)", d->name,
			 (unsigned)d->ota_port);
	} else {
		ESP_LOGE("mdns", "the mdns component did not start");
	}
	d->services_up = true;
	return true;
}

static void
flush_logs(struct fw_device *d)
{
	fw_log_drain(&d->log);
	ota_log_pump(&d->log);
}

/* mDNS goodbye, every socket closed, then ESP-IDF's restart: the bootloader decides */
static void
reboot_now(struct fw_device *d)
{
	ESP_LOGI("system", "Restarting...");
	if (d->mdns_on)
		fw_mdns_stop();
	d->mdns_on = false;
	ota_espota_abort(&d->espota);
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		struct fw_conn *c = &d->http_conns[i];
		if (c->fd >= 0 && c->id >= 0)
			ota_http_on_close(&d->http, c->id);
		conn_close(c);
	}
	conn_close(&d->espota_conn);
	/* the last lines go out if the sockets take them now, as a resetting chip's would */
	flush_logs(d);
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		struct fw_conn *c = &d->log_conns[i];
		if (c->fd >= 0 && !c->broken)
			(void)conn_flush(c);
		conn_close(c);
	}
	vTaskDelay(pdMS_TO_TICKS(50));
	esp_restart();
}

/* ---- the self-test ---- */

static void
restart_unconfirmed(struct fw_device *d, const char *why)
{
	const char *label = d->running_part != NULL ? d->running_part->label : "?";
	ESP_LOGE(TAG, "self-test failed (%s): restarting without confirming %s", why, label);
	reboot_now(d);
}

/* the new image passed: Wi-Fi up, listeners bound, nothing wrong for the confirm delay */
static void
confirm_app(struct fw_device *d)
{
	const char *label = d->running_part != NULL ? d->running_part->label : "?";
	esp_err_t err;

	if (!fw_wifi_wait_ip(0, &d->ip, &d->netmask)) {
		/* the network went away during the self-test: not confirmed yet */
		d->confirm_at = due_in(1000);
		if (d->selftest_deadline == 0)
			d->selftest_deadline = due_in(CONFIG_ESPFLEET_SELFTEST_TIMEOUT_S * 1000u);
		return;
	}
	d->confirm_at = 0;
	d->selftest_deadline = 0;
#ifdef CONFIG_ESPFLEET_BAD_APP_MARKER
	if (fw_is_bad_app(d->desc.project_name, d->desc.version)) {
		restart_unconfirmed(d, "bad-app marker in the app description");
		return;
	}
#endif
	err = esp_ota_mark_app_valid_cancel_rollback();
	if (err != ESP_OK) {
		ESP_LOGE("esp_ota_ops", "mark valid: %s", esp_err_to_name(err));
		return;
	}
	d->running_state = OTA_IMG_VALID;
	d->outcome = FW_UPDATE_CONFIRMED;
	d->state.pending_slot = OTA_SLOT_NONE;
	if (fw_state_save(&d->state) != ESP_OK)
		ESP_LOGE("nvs", "cannot save the device state");
	ESP_LOGI(TAG, "self-test passed: %s marked valid, rollback cancelled", label);
}

/* ---- periodic lines ---- */

static void
heartbeat(struct fw_device *d)
{
	wifi_ap_record_t ap;
	int rssi = esp_wifi_sta_get_ap_info(&ap) == ESP_OK ? ap.rssi : 0;
	unsigned long long up = (unsigned long long)(esp_timer_get_time() / 1000000);
	if (fw_sink_busy(&d->sink))
		ESP_LOGI("heartbeat",
			 "uptime %llu s, free heap %u, rssi %d dBm, ota: %u bytes received", up,
			 (unsigned)esp_get_free_heap_size(), rssi, (unsigned)d->sink.written);
	else
		ESP_LOGI("heartbeat", "uptime %llu s, free heap %u, rssi %d dBm", up,
			 (unsigned)esp_get_free_heap_size(), rssi);
	d->heartbeat_at = due_in(CONFIG_ESPFLEET_HEARTBEAT_S * 1000u);
}

/* ---- socket events ---- */

static void
espota_feed(struct fw_device *d)
{
	struct fw_conn *c = &d->espota_conn;
	while (c->fd >= 0 && c->id >= 0 && !c->connecting && c->in_len > 0) {
		size_t used = ota_espota_on_tcp_data(&d->espota, c->in, c->in_len, fw_now_ms());
		if (c->fd < 0 || c->id < 0)
			return; /* the receiver closed it; the rest is never read */
		conn_consume(c, used);
		if (used == 0)
			break;
	}
	if (c->fd >= 0 && c->id >= 0 && c->in_len == 0 && (c->eof || c->broken)) {
		c->id = -1;
		ota_espota_on_tcp_closed(&d->espota, fw_now_ms());
		conn_close(c);
	}
}

static void
espota_conn_event(struct fw_device *d, bool readable, bool writable)
{
	struct fw_conn *c = &d->espota_conn;
	if (c->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (!writable)
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		c->connecting = false;
		if (soerr != 0) {
			ESP_LOGE("ota", "connect back failed: errno %d", soerr);
			c->id = -1;
			ota_espota_on_tcp_closed(&d->espota, fw_now_ms());
			conn_close(c);
		} else {
			ota_espota_on_tcp_connected(&d->espota, fw_now_ms());
		}
		if (c->fd >= 0 && c->out_len > 0 && !conn_flush(c))
			c->broken = true;
		return;
	}
	if (writable && c->out_len > 0 && !conn_flush(c))
		c->broken = true;
	if (c->closing) {
		if (c->out_len == 0 || c->broken)
			conn_close(c);
		return;
	}
	if (readable)
		conn_read(c);
	espota_feed(d);
}

static void
udp_event(struct fw_device *d)
{
	for (int i = 0; i < 8; i++) {
		uint8_t buf[OTA_ESPOTA_UDP_MAX];
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(d->udp_fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&sa, &sl);
		if (n < 0)
			return;
		(void)ota_espota_on_udp(&d->espota, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port),
					buf, (size_t)n, fw_now_ms());
	}
}

static void
http_accept(struct fw_device *d)
{
	for (;;) {
		int fd = accept(d->http_fd, NULL, NULL);
		struct fw_conn *slot = NULL;
		int id;
		if (fd < 0)
			return;
		for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
			if (d->http_conns[i].fd < 0) {
				slot = &d->http_conns[i];
				break;
			}
		}
		id = slot != NULL ? ota_http_accept(&d->http, fw_now_ms()) : OTA_E_BUSY;
		if (id < 0) {
			close(fd); /* every slot taken: the stock server would not accept either */
			continue;
		}
		set_nonblocking(fd);
		conn_open(slot, fd, id);
	}
}

static void
http_feed(struct fw_device *d, struct fw_conn *c)
{
	if (c->in_len > 0 && c->id >= 0) {
		size_t n = c->in_len;
		c->in_len = 0; /* the core takes every byte */
		(void)ota_http_on_data(&d->http, c->id, c->in, n, fw_now_ms());
	}
	if (c->fd >= 0 && c->in_len == 0 && (c->eof || c->broken)) {
		if (c->id >= 0)
			ota_http_on_close(&d->http, c->id);
		conn_close(c);
	}
}

static void
http_conn_event(struct fw_device *d, struct fw_conn *c, bool readable, bool writable)
{
	if (writable && c->out_len > 0 && !conn_flush(c))
		c->broken = true;
	if (c->closing) {
		if (c->out_len == 0 || c->broken)
			conn_close(c);
		return;
	}
	if (readable)
		conn_read(c);
	http_feed(d, c);
}

static void
log_accept(struct fw_device *d)
{
	for (;;) {
		int fd = accept(d->log_fd, NULL, NULL);
		struct fw_conn *slot = NULL;
		int client;
		if (fd < 0)
			return;
		for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
			if (d->log_conns[i].fd < 0) {
				slot = &d->log_conns[i];
				break;
			}
		}
		client = slot != NULL ? ota_log_client_add(&d->log) : OTA_LOG_E_FULL;
		if (client < 0) {
			close(fd);
			continue;
		}
		set_nonblocking(fd);
		conn_open(slot, fd, client);
		ota_log_pump(&d->log);
	}
}

static void
log_conn_event(struct fw_device *d, struct fw_conn *c, bool readable, bool writable)
{
	if (writable && c->out_len > 0 && !conn_flush(c))
		c->broken = true;
	if (readable) {
		/* whatever a client types is ignored, as a serial log would */
		conn_read(c);
		c->in_len = 0;
	}
	if (c->eof || c->broken) {
		log_client_drop(d, c);
		return;
	}
	if (c->out_len == 0)
		ota_log_pump(&d->log);
}

/* failures noticed inside callbacks, reported now that no core is running */
static void
reap_conns(struct fw_device *d)
{
	struct fw_conn *e = &d->espota_conn;
	if (e->fd >= 0 && e->broken && e->in_len == 0) {
		if (e->id >= 0) {
			e->id = -1;
			ota_espota_on_tcp_closed(&d->espota, fw_now_ms());
		}
		conn_close(e);
	}
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
		struct fw_conn *c = &d->http_conns[i];
		if (c->fd >= 0 && c->broken) {
			if (c->id >= 0)
				ota_http_on_close(&d->http, c->id);
			conn_close(c);
		}
	}
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		struct fw_conn *c = &d->log_conns[i];
		if (c->fd >= 0 && c->broken)
			log_client_drop(d, c);
	}
}

/* ---- the loop ---- */

static void
watch(int fd, bool rd, bool wr, fd_set *r, fd_set *w, int *maxfd)
{
	if (fd < 0 || (!rd && !wr))
		return;
	if (rd)
		FD_SET(fd, r);
	if (wr)
		FD_SET(fd, w);
	if (fd > *maxfd)
		*maxfd = fd;
}

static void
poll_cores(struct fw_device *d, uint32_t now)
{
	uint32_t r = ota_espota_poll(&d->espota, now);
	d->espota_at = r == UINT32_MAX ? 0 : due_in(r);
	if (d->espota_conn.in_len > 0)
		espota_feed(d);
	r = ota_http_poll(&d->http, now);
	d->http_at = r == UINT32_MAX ? 0 : due_in(r);
}

static void
run_timers(struct fw_device *d)
{
	uint32_t now = fw_now_ms();
	if (is_due(d->reboot_at, now))
		reboot_now(d);
	if (is_due(d->selftest_deadline, now))
		restart_unconfirmed(d, "no network or no listeners in time");
	if (is_due(d->confirm_at, now))
		confirm_app(d);
	if (is_due(d->heartbeat_at, now))
		heartbeat(d);
}

static void
serve(struct fw_device *d)
{
	for (;;) {
		uint32_t now = fw_now_ms();
		uint32_t wait = SELECT_MAX_MS;
		struct timeval tv;
		fd_set r;
		fd_set w;
		int maxfd = -1;
		int n;

		FD_ZERO(&r);
		FD_ZERO(&w);
		watch(d->udp_fd, true, false, &r, &w, &maxfd);
		watch(d->http_fd, true, false, &r, &w, &maxfd);
		watch(d->log_fd, true, false, &r, &w, &maxfd);
		{
			struct fw_conn *c = &d->espota_conn;
			watch(c->fd,
			      !c->connecting && !c->closing && c->in_len < sizeof(c->in) && !c->eof,
			      c->connecting || c->out_len > 0, &r, &w, &maxfd);
		}
		for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
			struct fw_conn *c = &d->http_conns[i];
			watch(c->fd, !c->eof && !c->closing, c->out_len > 0, &r, &w, &maxfd);
		}
		for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
			struct fw_conn *c = &d->log_conns[i];
			watch(c->fd, true, c->out_len > 0, &r, &w, &maxfd);
		}
		min_wait(&wait, d->espota_at, now);
		min_wait(&wait, d->http_at, now);
		min_wait(&wait, d->reboot_at, now);
		min_wait(&wait, d->confirm_at, now);
		min_wait(&wait, d->selftest_deadline, now);
		min_wait(&wait, d->heartbeat_at, now);
		if (fw_log_pending())
			wait =
			    wait < 20u ? wait : 20u; /* other tasks' lines reach the clients soon */
		tv.tv_sec = (long)(wait / 1000u);
		tv.tv_usec = (long)(wait % 1000u) * 1000;

		n = select(maxfd + 1, &r, &w, NULL, &tv);
		if (n > 0) {
			if (FD_ISSET(d->udp_fd, &r))
				udp_event(d);
			if (FD_ISSET(d->http_fd, &r))
				http_accept(d);
			if (FD_ISSET(d->log_fd, &r))
				log_accept(d);
			if (d->espota_conn.fd >= 0) {
				int fd = d->espota_conn.fd;
				espota_conn_event(d, FD_ISSET(fd, &r), FD_ISSET(fd, &w));
			}
			for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++) {
				struct fw_conn *c = &d->http_conns[i];
				if (c->fd >= 0 && (FD_ISSET(c->fd, &r) || FD_ISSET(c->fd, &w)))
					http_conn_event(d, c, FD_ISSET(c->fd, &r),
							FD_ISSET(c->fd, &w));
			}
			for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
				struct fw_conn *c = &d->log_conns[i];
				if (c->fd >= 0 && (FD_ISSET(c->fd, &r) || FD_ISSET(c->fd, &w)))
					log_conn_event(d, c, FD_ISSET(c->fd, &r),
						       FD_ISSET(c->fd, &w));
			}
		} else if (n < 0 && errno != EINTR) {
			ESP_LOGE(TAG, "select: errno %d", errno);
			vTaskDelay(pdMS_TO_TICKS(WAIT_STEP_MS));
		}
		reap_conns(d);
		poll_cores(d, fw_now_ms());
		reap_conns(d);
		flush_logs(d);
		run_timers(d);
	}
}

void
fw_net_task(void *arg)
{
	struct fw_device *d = arg;
	struct ota_log_config lc;

	memset(&lc, 0, sizeof(lc));
	lc.ring = d->log_ring;
	lc.ring_size = sizeof(d->log_ring);
	lc.send = log_send;
	lc.clock = log_clock;
	lc.user = d;
	lc.level = OTA_LOG_INFO;
	lc.colors = true;
	(void)ota_log_init(&d->log, &lc);

	conn_init(&d->espota_conn, d->espota_out, sizeof(d->espota_out));
	for (size_t i = 0; i < OTA_HTTP_MAX_CONN; i++)
		conn_init(&d->http_conns[i], d->http_out[i], sizeof(d->http_out[i]));
	for (size_t i = 0; i < OTA_LOG_MAX_CLIENTS; i++)
		conn_init(&d->log_conns[i], d->log_out[i], sizeof(d->log_out[i]));
	d->udp_fd = d->http_fd = d->log_fd = -1;
	fw_sink_init(&d->sink, &d->slots, fw_crypto_ops(&d->c_sink), sink_note, d);

	if (d->running_state == OTA_IMG_PENDING_VERIFY) {
		d->selftest_deadline = due_in(CONFIG_ESPFLEET_SELFTEST_TIMEOUT_S * 1000u);
		ESP_LOGI(TAG,
			 "new app is pending verification: Wi-Fi and the OTA listeners "
			 "must be up within %u s",
			 (unsigned)CONFIG_ESPFLEET_SELFTEST_TIMEOUT_S);
	}

	/* the history keeps filling while the station connects */
	while (!fw_wifi_wait_ip(WAIT_STEP_MS, &d->ip, &d->netmask)) {
		fw_log_drain(&d->log);
		if (is_due(d->selftest_deadline, fw_now_ms()))
			restart_unconfirmed(d, "no IP address in time");
	}
	while (!services_start(d)) {
		/* a port still taken: a real device retries its server start */
		fw_log_drain(&d->log);
		vTaskDelay(pdMS_TO_TICKS(1000));
		if (is_due(d->selftest_deadline, fw_now_ms()))
			restart_unconfirmed(d, "the OTA listeners did not bind");
		if (d->udp_fd >= 0)
			close(d->udp_fd);
		if (d->http_fd >= 0)
			close(d->http_fd);
		if (d->log_fd >= 0)
			close(d->log_fd);
		d->udp_fd = d->http_fd = d->log_fd = -1;
	}
	if (d->running_state == OTA_IMG_PENDING_VERIFY) {
		/* the first half passed: an address and the listeners */
		d->selftest_deadline = 0;
		d->confirm_at = due_in(CONFIG_ESPFLEET_CONFIRM_AFTER_MS);
		ESP_LOGI(TAG, "new app is pending verification: self-test for %u ms",
			 (unsigned)CONFIG_ESPFLEET_CONFIRM_AFTER_MS);
	}
	d->heartbeat_at = due_in(CONFIG_ESPFLEET_HEARTBEAT_S * 1000u);
	serve(d);
}
