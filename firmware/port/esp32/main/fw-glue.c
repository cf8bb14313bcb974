/* SPDX-License-Identifier: MIT */
/* fw-glue.c - the ESP-IDF port's hardware-free decisions (state, errors, TXT, log tee) */

#include "fw-glue.h"

#include <stdio.h>
#include <string.h>

#include "esp_idf_version.h"
#include "ota/ota-errors.h"
#include "ota/ota-slots.h"
#include "ota/ota-util.h"

uint32_t
fw_state_from_idf(esp_ota_img_states_t state)
{
	switch (state) {
	case ESP_OTA_IMG_NEW:
		return OTA_IMG_NEW;
	case ESP_OTA_IMG_PENDING_VERIFY:
		return OTA_IMG_PENDING_VERIFY;
	case ESP_OTA_IMG_VALID:
		return OTA_IMG_VALID;
	case ESP_OTA_IMG_INVALID:
		return OTA_IMG_INVALID;
	case ESP_OTA_IMG_ABORTED:
		return OTA_IMG_ABORTED;
	case ESP_OTA_IMG_UNDEFINED:
	default:
		/* the bootloader boots UNDEFINED like VALID; so does an unknown value */
		return OTA_IMG_UNDEFINED;
	}
}

int
fw_slot_of_partition(const esp_partition_t *part)
{
	unsigned sub;
	if (part == NULL || part->type != ESP_PARTITION_TYPE_APP)
		return OTA_SLOT_NONE;
	sub = (unsigned)part->subtype;
	if (sub < (unsigned)ESP_PARTITION_SUBTYPE_APP_OTA_MIN ||
	    sub >= (unsigned)ESP_PARTITION_SUBTYPE_APP_OTA_MAX)
		return OTA_SLOT_NONE;
	return (int)(sub - (unsigned)ESP_PARTITION_SUBTYPE_APP_OTA_MIN);
}

int
fw_ota_error_from_idf(esp_err_t err)
{
	switch (err) {
	case ESP_OK:
		return OTA_OK;
	case ESP_ERR_NO_MEM:
		return OTA_E_BUSY;
	case ESP_ERR_INVALID_ARG:
		return OTA_E_BAD_ARGS;
	case ESP_ERR_INVALID_SIZE:
		return OTA_E_NO_SPACE;
	case ESP_ERR_NOT_FOUND:
		return OTA_E_NOT_FOUND;
	case ESP_ERR_INVALID_STATE:
		return OTA_E_BAD_STATE;
	case ESP_ERR_OTA_PARTITION_CONFLICT:
		return OTA_E_CONFLICT;
	case ESP_ERR_OTA_SELECT_INFO_INVALID:
		return OTA_E_PARTITION_TABLE;
	case ESP_ERR_OTA_VALIDATE_FAILED:
		/* the core's own checks (layout, chip, checksum, SHA-256) pass before ESP-IDF is
		 * asked, so what ESP-IDF still refuses is the signature */
		return OTA_E_SIGNATURE;
	case ESP_ERR_OTA_SMALL_SEC_VER:
		return OTA_E_VERSION;
	case ESP_ERR_OTA_ROLLBACK_FAILED:
		return OTA_E_ROLLBACK;
	case ESP_ERR_OTA_ROLLBACK_INVALID_STATE:
		return OTA_E_BAD_STATE;
	default:
		/* ESP_FAIL, ESP_ERR_FLASH_OP_FAIL and _TIMEOUT: the flash itself */
		return OTA_E_FLASH;
	}
}

const char *
fw_reset_reason_id(esp_reset_reason_t reason)
{
	switch (reason) {
	case ESP_RST_POWERON:
		return "power_on";
	case ESP_RST_EXT:
		return "external";
	case ESP_RST_SW:
		return "software";
	case ESP_RST_PANIC:
		return "panic";
	case ESP_RST_INT_WDT:
		return "int_wdt";
	case ESP_RST_TASK_WDT:
		return "task_wdt";
	case ESP_RST_WDT:
		return "wdt";
	case ESP_RST_DEEPSLEEP:
		return "deep_sleep";
	case ESP_RST_BROWNOUT:
		return "brownout";
	case ESP_RST_SDIO:
		return "sdio";
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 2, 0)
	case ESP_RST_USB:
		return "usb";
	case ESP_RST_JTAG:
		return "jtag";
#endif
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 3, 0)
	case ESP_RST_EFUSE:
		return "efuse";
	case ESP_RST_PWR_GLITCH:
		return "power_glitch";
	case ESP_RST_CPU_LOCKUP:
		return "cpu_lockup";
#endif
	case ESP_RST_UNKNOWN:
	default:
		return "unknown";
	}
}

enum fw_update_outcome
fw_update_outcome(int pending_slot, int running_slot, uint32_t running_state)
{
	if (pending_slot < 0)
		return FW_UPDATE_NONE;
	if (running_slot != pending_slot)
		return FW_UPDATE_ROLLED_BACK;
	/* NEW never reaches a running app: the bootloader turns it into PENDING_VERIFY */
	if (running_state == OTA_IMG_PENDING_VERIFY || running_state == OTA_IMG_NEW)
		return FW_UPDATE_TRYING;
	return FW_UPDATE_CONFIRMED;
}

static bool
contains(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

bool
fw_is_bad_app(const char *project, const char *version)
{
	return contains(project, "bad-app") || contains(version, "bad-app");
}

static void
txt_add(struct fw_txt *t, const char *key, const char *value)
{
	if (t->count < FW_TXT_MAX) {
		t->key[t->count] = key;
		t->value[t->count] = value != NULL ? value : "";
		t->count++;
	}
}

void
fw_txt_build(const struct ota_mdns_config *cfg, struct fw_txt *out)
{
	memset(out, 0, sizeof(*out));
	txt_add(out, "board", cfg->board != NULL ? cfg->board : "generic");
	txt_add(out, "auth_upload", cfg->auth_upload ? "yes" : "no");
	txt_add(out, "tcp_check", "no");
	txt_add(out, "ssh_upload", "no");
	txt_add(out, "fw_version", cfg->fw_version);
	ota_hex(cfg->fw_sha256, 8, out->sha);
	txt_add(out, "fw_sha256", out->sha);
	txt_add(out, "http_update", "/update");
	snprintf(out->log_port, sizeof(out->log_port), "%u", (unsigned)cfg->log_port);
	txt_add(out, "log_port", out->log_port);
	snprintf(out->mac, sizeof(out->mac), "%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0],
		 cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
	txt_add(out, "mac", out->mac);
	txt_add(out, "chip", cfg->chip);
	/* the update server's port when http_update=/update is not on port 80 */
	if (cfg->http_port != 0 && cfg->http_port != 80) {
		snprintf(out->http_port, sizeof(out->http_port), "%u", (unsigned)cfg->http_port);
		txt_add(out, "http_port", out->http_port);
	}
}

/* ---- the log tee ---- */

/* skips one "\033[...m" sequence at *i */
static void
skip_sgr(const char *s, size_t len, size_t *i)
{
	size_t j = *i;
	if (j + 1 < len && s[j] == '\033' && s[j + 1] == '[') {
		j += 2;
		while (j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';'))
			j++;
		if (j < len && s[j] == 'm')
			*i = j + 1;
	}
}

bool
fw_log_parse_line(const char *line,
		  size_t len,
		  enum ota_log_level *level,
		  uint32_t *ms,
		  char *tag,
		  size_t tag_size,
		  const char **text,
		  size_t *text_len)
{
	static const char letters[] = "EWIDV";
	const char *l;
	uint32_t t;
	size_t i = 0;
	size_t tag_start;
	size_t tag_end;
	size_t end;

	/* trailing newline and the colour reset */
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 4 && memcmp(line + len - 4, "\033[0m", 4) == 0)
		len -= 4;
	skip_sgr(line, len, &i);
	if (i + 4 > len || line[i] == '\0')
		return false;
	l = strchr(letters, line[i]);
	if (l == NULL || line[i + 1] != ' ' || line[i + 2] != '(')
		return false;
	i += 3;
	if (i >= len || line[i] < '0' || line[i] > '9')
		return false;
	t = 0;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		t = t * 10u + (uint32_t)(line[i++] - '0'); /* wraps with ESP-IDF's own counter */
	if (i + 1 >= len || line[i] != ')' || line[i + 1] != ' ')
		return false;
	i += 2;
	tag_start = i;
	while (i < len && line[i] != ':')
		i++;
	if (i >= len || i == tag_start || tag_size == 0)
		return false;
	tag_end = i;
	i++;
	if (i < len && line[i] == ' ')
		i++;
	end = tag_end - tag_start < tag_size ? tag_end - tag_start : tag_size - 1;
	memcpy(tag, line + tag_start, end);
	tag[end] = '\0';
	*level = (enum ota_log_level)(OTA_LOG_ERROR + (l - letters));
	*ms = t;
	*text = line + i;
	*text_len = len - i;
	return true;
}
