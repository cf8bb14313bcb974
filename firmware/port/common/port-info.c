/* SPDX-License-Identifier: MIT */
/* port-info.c - the GET /info document and the texts every port reports alike */

#include "port-info.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ota/ota-espota.h"
#include "ota/ota-slots.h"
#include "ota/ota-util.h"

const char *
port_state_id(uint32_t ota_state)
{
	switch (ota_state) {
	case OTA_IMG_VALID:
		return "valid";
	case OTA_IMG_PENDING_VERIFY:
		return "pending_verify";
	case OTA_IMG_UNDEFINED:
		return "undefined";
	case OTA_IMG_NEW:
		return "new";
	case OTA_IMG_INVALID:
		return "invalid";
	case OTA_IMG_ABORTED:
		return "aborted";
	default:
		return "unknown";
	}
}

const char *
port_espota_error_text(enum ota_flavor flavor, uint32_t err, uint32_t update_err)
{
	if (update_err != 0)
		return ota_update_error_text(flavor, (enum ota_update_error)update_err);
	switch (err) {
	case OTA_ESPOTA_ERR_AUTH:
		return "Auth Failed";
	case OTA_ESPOTA_ERR_BEGIN:
		return "Begin Failed";
	case OTA_ESPOTA_ERR_CONNECT:
		return "Connect Failed";
	case OTA_ESPOTA_ERR_RECEIVE:
		return "Receive Failed";
	default:
		return "End Failed";
	}
}

/* ---- /info ---- */

struct json {
	char *buf;
	size_t size;
	size_t pos;
	bool over;
};

static void
json_put(struct json *j, const char *s, size_t n)
{
	if (j->over || n >= j->size - j->pos) {
		j->over = true;
		return;
	}
	memcpy(j->buf + j->pos, s, n);
	j->pos += n;
	j->buf[j->pos] = '\0';
}

static void json_fmt(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
json_fmt(struct json *j, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		j->over = true;
		return;
	}
	json_put(j, tmp, (size_t)n);
}

/* a JSON string: quotes, backslashes and control characters escaped */
static void
json_str(struct json *j, const char *s)
{
	json_put(j, "\"", 1);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			json_put(j, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			json_fmt(j, "\\u%04x", c);
		} else {
			json_put(j, (const char *)&c, 1);
		}
	}
	json_put(j, "\"", 1);
}

int
port_info_json(const struct port_info *info, char *buf, size_t size)
{
	struct json j = {buf, size, 0, false};
	char sha[65];
	const uint8_t *m = info->mac;

	if (buf == NULL || size == 0)
		return -1;
	buf[0] = '\0';
	ota_hex(info->fw_sha256, sizeof(info->fw_sha256), sha);
	json_fmt(&j, "{\"name\":");
	json_str(&j, info->name);
	json_fmt(&j, ",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"chip\":", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	json_str(&j, info->chip);
	json_fmt(&j, ",\"board\":");
	json_str(&j, info->board);
	json_fmt(&j, ",\"project\":");
	json_str(&j, info->project);
	json_fmt(&j, ",\"version\":");
	json_str(&j, info->version);
	json_fmt(&j, ",\"fw_sha256\":\"");
	json_put(&j, sha, 64);
	json_fmt(&j, "\",\"running_slot\":");
	json_str(&j, info->running_slot);
	json_fmt(&j, ",\"running_state\":\"%s\",\"slot_size\":%u,\"free_space\":%u,",
		 port_state_id(info->running_state), (unsigned)info->slot_size,
		 (unsigned)info->free_space);
	json_fmt(&j, "\"uptime\":%llu,\"boot_count\":%u,\"last_update\":",
		 (unsigned long long)info->uptime_s, (unsigned)info->boot_count);
	json_str(&j, info->last_update);
	json_fmt(&j, ",\"idf_version\":");
	json_str(&j, info->idf_version);
	json_fmt(&j, ",\"reset_reason\":");
	json_str(&j, info->reset_reason);
	json_fmt(&j, "}");
	return j.over ? -1 : (int)j.pos;
}
