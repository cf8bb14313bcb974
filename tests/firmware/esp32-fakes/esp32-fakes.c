/* SPDX-License-Identifier: MIT */
/* esp32-fakes.c - host fakes of the ESP-IDF calls the port's glue makes, over a RAM flash */

#include "esp32-fakes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_flash.h"
#include "esp_flash_encrypt.h"
#include "esp_log.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "ota/ota-errors.h"
#include "sim-crypto.h"

struct fake_idf fake;
static struct sim_crypto *model_crypto;

/* ---- the RAM flash, unguarded: what ESP-IDF's own code writes through ---- */

static int
raw_read(void *user, uint32_t addr, void *buf, size_t len)
{
	(void)user;
	if (addr > FAKE_FLASH_SIZE || len > FAKE_FLASH_SIZE - addr)
		return -1;
	memcpy(buf, fake.flash + addr, len);
	return 0;
}

static int
raw_write(void *user, uint32_t addr, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	(void)user;
	if (addr > FAKE_FLASH_SIZE || len > FAKE_FLASH_SIZE - addr)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((fake.flash[addr + i] & p[i]) != p[i])
			fake.nor_violations++;
		fake.flash[addr + i] &= p[i];
	}
	return 0;
}

static int
raw_erase(void *user, uint32_t addr, size_t len)
{
	(void)user;
	if (addr % 4096 != 0 || len % 4096 != 0 || addr > FAKE_FLASH_SIZE ||
	    len > FAKE_FLASH_SIZE - addr)
		return -1;
	memset(fake.flash + addr, 0xFF, len);
	return 0;
}

/* ---- the partition table from CSV ---- */

static unsigned long
csv_number(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	if (*end == 'K' || *end == 'k')
		v *= 1024u;
	else if (*end == 'M' || *end == 'm')
		v *= 1024u * 1024u;
	return v;
}

static int
csv_subtype(const char *type, const char *sub)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {
	    {"factory", 0x00}, {"test", 0x20}, {"ota", 0x00},	 {"phy", 0x01},
	    {"nvs", 0x02},     {"fat", 0x81},  {"spiffs", 0x82}, {"littlefs", 0x83},
	};
	if (strncmp(sub, "ota_", 4) == 0 && strcmp(type, "app") == 0)
		return 0x10 + atoi(sub + 4);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(sub, names[i].name) == 0)
			return names[i].value;
	}
	return -1;
}

static char *
trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
parse_csv(const char *csv)
{
	char line[256];
	const char *p = csv;
	fake.n_parts = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		char *f[5];
		char *save = NULL;
		int i = 0;
		esp_partition_t *part;
		int sub;

		if (n >= sizeof(line))
			return -1;
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (p[n] == '\n');
		if (trim(line)[0] == '#' || trim(line)[0] == '\0')
			continue;
		for (char *t = strtok_r(line, ",", &save); t != NULL && i < 5;
		     t = strtok_r(NULL, ",", &save))
			f[i++] = trim(t);
		if (i < 5 || fake.n_parts >= FAKE_MAX_PARTS)
			return -1;
		sub = csv_subtype(f[1], f[2]);
		if (sub < 0)
			return -1;
		part = &fake.parts[fake.n_parts++];
		memset(part, 0, sizeof(*part));
		part->type =
		    strcmp(f[1], "app") == 0 ? ESP_PARTITION_TYPE_APP : ESP_PARTITION_TYPE_DATA;
		part->subtype = (esp_partition_subtype_t)sub;
		part->address = (uint32_t)csv_number(f[3]);
		part->size = (uint32_t)csv_number(f[4]);
		part->erase_size = 4096;
		snprintf(part->label, sizeof(part->label), "%s", f[0]);
	}
	return 0;
}

int
fake_idf_reset(const char *csv, enum ota_chip chip)
{
	struct ota_partition parts[FAKE_MAX_PARTS];
	int rc;

	fake_idf_free();
	memset(&fake, 0, sizeof(fake));
	fake.flash = malloc(FAKE_FLASH_SIZE);
	model_crypto = sim_crypto_new();
	if (fake.flash == NULL || model_crypto == NULL || parse_csv(csv) != 0)
		return -1;
	memset(fake.flash, 0xFF, FAKE_FLASH_SIZE);
	fake.raw.read = raw_read;
	fake.raw.write = raw_write;
	fake.raw.erase = raw_erase;
	fake.raw.size = FAKE_FLASH_SIZE;
	fake.raw.sector_size = 4096;
	fake.raw.write_align = 1;
	fake.raw.erased_val = 0xFF;
	for (size_t i = 0; i < fake.n_parts; i++) {
		memset(&parts[i], 0, sizeof(parts[i]));
		parts[i].type = (uint8_t)fake.parts[i].type;
		parts[i].subtype = (uint8_t)fake.parts[i].subtype;
		parts[i].offset = fake.parts[i].address;
		parts[i].size = fake.parts[i].size;
		memcpy(parts[i].label, fake.parts[i].label, sizeof(parts[i].label));
	}
	rc = ota_partition_table_write(&fake.raw, sim_crypto_ops(model_crypto),
				       OTA_PARTITION_TABLE_OFFSET, parts, fake.n_parts,
				       fake.scratch, sizeof(fake.scratch));
	if (rc != OTA_OK)
		return -1;
	fake.model_cfg.flash = &fake.raw;
	fake.model_cfg.hash = sim_crypto_ops(model_crypto);
	fake.model_cfg.chip = chip;
	fake.model_cfg.chip_rev = 300;
	fake.model_cfg.rollback = true;
	fake.model_cfg.scratch = fake.scratch;
	fake.model_cfg.scratch_len = sizeof(fake.scratch);
	if (ota_slots_init(&fake.model, &fake.model_cfg) != OTA_OK)
		return -1;
	fake.running = fake_partition("ota_0");
	(void)ota_slots_set_running(&fake.model, 0);
	fake.set_boot_result = ESP_OK;
	fake.writes = fake.erases = fake.flash_reads = fake.encrypted_reads = 0;
	fake.nor_violations = 0;
	return 0;
}

void
fake_idf_free(void)
{
	free(fake.flash);
	fake.flash = NULL;
	sim_crypto_free(model_crypto);
	model_crypto = NULL;
}

const esp_partition_t *
fake_partition(const char *label)
{
	for (size_t i = 0; i < fake.n_parts; i++) {
		if (strcmp(fake.parts[i].label, label) == 0)
			return &fake.parts[i];
	}
	return NULL;
}

void
fake_flash_image(const char *label, const uint8_t *img, size_t len)
{
	const esp_partition_t *p = fake_partition(label);
	if (p == NULL || len > p->size)
		abort();
	memset(fake.flash + p->address, 0xFF, p->size);
	memcpy(fake.flash + p->address, img, len);
}

static const esp_partition_t *
partition_of_slot(int slot)
{
	const esp_partition_t *p =
	    esp_partition_find_first(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_OTA(slot), NULL);
	return p;
}

int
fake_reboot(struct ota_boot_result *res)
{
	int slot = ota_boot(&fake.model, res);
	if (slot >= 0)
		fake.running = partition_of_slot(slot);
	return slot;
}

uint32_t
fake_state_of(const char *label)
{
	const esp_partition_t *p = fake_partition(label);
	uint32_t st = OTA_IMG_UNDEFINED;
	if (p == NULL)
		abort();
	if (ota_slots_get_state(&fake.model, p->subtype - ESP_PARTITION_SUBTYPE_APP_OTA_MIN, &st) !=
	    OTA_OK)
		return OTA_IMG_UNDEFINED;
	return st;
}

/* ---- esp_err, esp_log, esp_timer ---- */

const char *
esp_err_to_name(esp_err_t code)
{
	return code == ESP_OK ? "ESP_OK" : "ESP_ERR_(fake)";
}

void
fake_log(char level, const char *tag, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(fake.last_log, sizeof(fake.last_log), "%c %s: ", level, tag);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(fake.last_log))
		vsnprintf(fake.last_log + n, sizeof(fake.last_log) - (size_t)n, fmt, ap);
	va_end(ap);
	fake.log_lines++;
}

/* ESP-IDF's default: the line goes to the UART; here into fake.console */
static int
console_vprintf(const char *fmt, va_list ap)
{
	int n = vsnprintf(fake.console + fake.console_len, sizeof(fake.console) - fake.console_len,
			  fmt, ap);
	if (n > 0) {
		size_t room = sizeof(fake.console) - fake.console_len - 1;
		fake.console_len += (size_t)n < room ? (size_t)n : room;
	}
	return n;
}

vprintf_like_t
esp_log_set_vprintf(vprintf_like_t func)
{
	vprintf_like_t prev = fake.log_hook != NULL ? fake.log_hook : console_vprintf;
	fake.log_hook = func;
	return prev;
}

int
fake_log_write(const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = (fake.log_hook != NULL ? fake.log_hook : console_vprintf)(fmt, ap);
	va_end(ap);
	return n;
}

void
fake_critical_enter(portMUX_TYPE *mux)
{
	mux->depth++;
	fake.critical_depth++;
	fake.critical_sections++;
}

void
fake_critical_exit(portMUX_TYPE *mux)
{
	mux->depth--;
	fake.critical_depth--;
}

int64_t
esp_timer_get_time(void)
{
	fake.now_us += 1000;
	return fake.now_us;
}

/* ---- esp_partition ---- */

struct esp_partition_iterator_opaque_ {
	esp_partition_type_t type;
	esp_partition_subtype_t subtype;
	const char *label;
	size_t next;
	const esp_partition_t *cur;
};

static bool
matches(const esp_partition_t *p,
	esp_partition_type_t type,
	esp_partition_subtype_t subtype,
	const char *label)
{
	return (type == ESP_PARTITION_TYPE_ANY || p->type == type) &&
	       (subtype == ESP_PARTITION_SUBTYPE_ANY || p->subtype == subtype) &&
	       (label == NULL || strcmp(p->label, label) == 0);
}

esp_partition_iterator_t
esp_partition_next(esp_partition_iterator_t it)
{
	while (it->next < fake.n_parts) {
		const esp_partition_t *p = &fake.parts[it->next++];
		if (matches(p, it->type, it->subtype, it->label)) {
			it->cur = p;
			return it;
		}
	}
	esp_partition_iterator_release(it);
	return NULL;
}

esp_partition_iterator_t
esp_partition_find(esp_partition_type_t type, esp_partition_subtype_t subtype, const char *label)
{
	esp_partition_iterator_t it = calloc(1, sizeof(*it));
	if (it == NULL)
		return NULL;
	it->type = type;
	it->subtype = subtype;
	it->label = label;
	return esp_partition_next(it);
}

const esp_partition_t *
esp_partition_find_first(esp_partition_type_t type,
			 esp_partition_subtype_t subtype,
			 const char *label)
{
	esp_partition_iterator_t it = esp_partition_find(type, subtype, label);
	const esp_partition_t *p;
	if (it == NULL)
		return NULL;
	p = it->cur;
	esp_partition_iterator_release(it);
	return p;
}

const esp_partition_t *
esp_partition_get(esp_partition_iterator_t it)
{
	return it->cur;
}

void
esp_partition_iterator_release(esp_partition_iterator_t it)
{
	free(it);
}

/* ESP-IDF's checks: offset past the end is INVALID_ARG, a range past it INVALID_SIZE */
static esp_err_t
range_check(const esp_partition_t *p, size_t off, size_t len)
{
	if (p == NULL)
		return ESP_ERR_INVALID_ARG;
	if (off > p->size)
		return ESP_ERR_INVALID_ARG;
	if (len > p->size - off)
		return ESP_ERR_INVALID_SIZE;
	return ESP_OK;
}

esp_err_t
esp_partition_read(const esp_partition_t *p, size_t off, void *dst, size_t len)
{
	esp_err_t err = range_check(p, off, len);
	if (err != ESP_OK)
		return err;
	memcpy(dst, fake.flash + p->address + off, len);
	return ESP_OK;
}

esp_err_t
esp_partition_write(const esp_partition_t *p, size_t off, const void *src, size_t len)
{
	esp_err_t err = range_check(p, off, len);
	if (err != ESP_OK)
		return err;
	if (p->readonly)
		return ESP_FAIL;
	/* encrypted partitions take 16-byte units only */
	if (p->encrypted && (off % 16 != 0 || len % 16 != 0))
		return ESP_ERR_INVALID_ARG;
	fake.writes++;
	return raw_write(NULL, p->address + (uint32_t)off, src, len) == 0 ? ESP_OK : ESP_FAIL;
}

esp_err_t
esp_partition_erase_range(const esp_partition_t *p, size_t off, size_t len)
{
	esp_err_t err = range_check(p, off, len);
	if (err != ESP_OK)
		return err;
	if (off % p->erase_size != 0 || len % p->erase_size != 0)
		return ESP_ERR_INVALID_SIZE;
	fake.erases++;
	memset(fake.flash + p->address + off, 0xFF, len);
	return ESP_OK;
}

/* ---- esp_flash ---- */

esp_err_t
esp_flash_read(esp_flash_t *chip, void *buffer, uint32_t address, uint32_t length)
{
	(void)chip;
	fake.flash_reads++;
	return raw_read(NULL, address, buffer, length) == 0 ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t
esp_flash_read_encrypted(esp_flash_t *chip, uint32_t address, void *out_buffer, uint32_t length)
{
	(void)chip;
	fake.encrypted_reads++;
	return raw_read(NULL, address, out_buffer, length) == 0 ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t
esp_flash_get_size(esp_flash_t *chip, uint32_t *out_size)
{
	(void)chip;
	*out_size = FAKE_FLASH_SIZE;
	return ESP_OK;
}

bool
esp_flash_encryption_enabled(void)
{
	return fake.encryption;
}

/* ---- app_update ---- */

static int
slot_of(const esp_partition_t *p)
{
	if (p == NULL || p->type != ESP_PARTITION_TYPE_APP || p->subtype < 0x10 ||
	    p->subtype >= 0x20)
		return -1;
	return (int)p->subtype - 0x10;
}

esp_err_t
esp_ota_set_boot_partition(const esp_partition_t *partition)
{
	int slot = slot_of(partition);
	fake.set_boot_calls++;
	if (slot < 0)
		return ESP_ERR_INVALID_ARG;
	if (fake.set_boot_result != ESP_OK)
		return fake.set_boot_result;
	/* esp_image_verify() then the otadata write, as ESP-IDF does them */
	switch (ota_slots_set_boot(&fake.model, slot)) {
	case OTA_OK:
		return ESP_OK;
	case OTA_E_NOT_FOUND:
		return ESP_ERR_NOT_FOUND;
	default:
		return ESP_ERR_OTA_VALIDATE_FAILED;
	}
}

const esp_partition_t *
esp_ota_get_running_partition(void)
{
	return fake.running;
}

esp_err_t
esp_ota_mark_app_valid_cancel_rollback(void)
{
	(void)ota_slots_set_running(&fake.model, slot_of(fake.running));
	return ota_slots_mark_valid(&fake.model) == OTA_OK ? ESP_OK : ESP_FAIL;
}

esp_err_t
esp_ota_get_state_partition(const esp_partition_t *partition, esp_ota_img_states_t *ota_state)
{
	uint32_t st;
	int slot = slot_of(partition);
	if (slot < 0 || ota_state == NULL)
		return ESP_ERR_INVALID_ARG;
	if (ota_slots_get_state(&fake.model, slot, &st) != OTA_OK)
		return ESP_ERR_NOT_FOUND;
	*ota_state = (esp_ota_img_states_t)st;
	return ESP_OK;
}

const esp_partition_t *
esp_ota_get_last_invalid_partition(void)
{
	int slot = ota_slots_last_invalid(&fake.model);
	return slot >= 0 ? partition_of_slot(slot) : NULL;
}
