/* SPDX-License-Identifier: MIT */
/* fw-flash.c - struct ota_flash_ops over esp_partition_*, with the partition table read-only */

#include "fw-flash.h"

#include <string.h>

#include "esp_flash.h"
#include "esp_flash_encrypt.h"
#include "ota/ota-slots.h"

static bool
inside(uint32_t start, uint32_t size, uint32_t addr, size_t len)
{
	return addr >= start && len <= size && addr - start <= size - len;
}

const esp_partition_t *
fw_flash_partition_at(const struct fw_flash *f, uint32_t addr, size_t len)
{
	if (f->running != NULL && inside(f->running->address, f->running->size, addr, len))
		return f->running;
	for (size_t i = 0; i < f->n_parts; i++) {
		const esp_partition_t *p = f->parts[i];
		if (inside(p->address, p->size, addr, len))
			return p;
	}
	return NULL;
}

/* a partition the core may change: otadata, a slot that is not running, the filesystem */
static const esp_partition_t *
writable_at(struct fw_flash *f, uint32_t addr, size_t len)
{
	const esp_partition_t *p = fw_flash_partition_at(f, addr, len);
	if (p == NULL || p == f->running ||
	    (f->running != NULL && p->address == f->running->address)) {
		f->refused++;
		return NULL;
	}
	return p;
}

static int
flash_read(void *user, uint32_t addr, void *buf, size_t len)
{
	struct fw_flash *f = user;
	const esp_partition_t *p;
	esp_err_t err;

	if (len == 0)
		return 0;
	p = fw_flash_partition_at(f, addr, len);
	if (p != NULL)
		return esp_partition_read(p, addr - p->address, buf, len) == ESP_OK ? 0 : -1;
	if (!inside(f->table_offset, OTA_PARTITION_TABLE_MAX_LEN, addr, len)) {
		f->refused++;
		return -1;
	}
	/* the table is encrypted along with the apps when flash encryption is on */
	if (f->table_encrypted)
		err = esp_flash_read_encrypted(NULL, addr, buf, (uint32_t)len);
	else
		err = esp_flash_read(NULL, buf, addr, (uint32_t)len);
	return err == ESP_OK ? 0 : -1;
}

static int
flash_write(void *user, uint32_t addr, const void *buf, size_t len)
{
	struct fw_flash *f = user;
	const esp_partition_t *p;
	if (len == 0)
		return 0;
	p = writable_at(f, addr, len);
	if (p == NULL)
		return -1;
	return esp_partition_write(p, addr - p->address, buf, len) == ESP_OK ? 0 : -1;
}

static int
flash_erase(void *user, uint32_t addr, size_t len)
{
	struct fw_flash *f = user;
	const esp_partition_t *p;
	if (len == 0)
		return 0;
	p = writable_at(f, addr, len);
	if (p == NULL)
		return -1;
	return esp_partition_erase_range(p, addr - p->address, len) == ESP_OK ? 0 : -1;
}

static void
add_part(struct fw_flash *f, const esp_partition_t *p)
{
	if (p != NULL && f->n_parts < FW_FLASH_MAX_PARTS)
		f->parts[f->n_parts++] = p;
}

static bool
is_fs_subtype(esp_partition_subtype_t sub)
{
	return sub == ESP_PARTITION_SUBTYPE_DATA_SPIFFS ||
	       sub == ESP_PARTITION_SUBTYPE_DATA_LITTLEFS || sub == ESP_PARTITION_SUBTYPE_DATA_FAT;
}

esp_err_t
fw_flash_init(struct fw_flash *f, uint32_t table_offset, const esp_partition_t *running)
{
	esp_partition_iterator_t it;
	const esp_partition_t *otadata;
	uint32_t size = 0;
	esp_err_t err;

	memset(f, 0, sizeof(*f));
	f->running = running;
	f->table_offset = table_offset;
	f->table_encrypted = esp_flash_encryption_enabled();

	otadata =
	    esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_OTA, NULL);
	if (otadata == NULL)
		return ESP_ERR_NOT_FOUND;
	add_part(f, otadata);

	/* the ota_N slots, the running one included (it is read; fw_flash refuses writes) */
	for (it = esp_partition_find(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_ANY, NULL);
	     it != NULL; it = esp_partition_next(it)) {
		const esp_partition_t *p = esp_partition_get(it);
		if (p->subtype >= ESP_PARTITION_SUBTYPE_APP_OTA_MIN &&
		    p->subtype < ESP_PARTITION_SUBTYPE_APP_OTA_MAX)
			add_part(f, p);
	}
	/* esp_partition_next() released the iterator when it returned NULL */

	for (it = esp_partition_find(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, NULL);
	     it != NULL; it = esp_partition_next(it)) {
		const esp_partition_t *p = esp_partition_get(it);
		if (is_fs_subtype(p->subtype)) {
			add_part(f, p);
			esp_partition_iterator_release(it);
			break;
		}
	}

	err = esp_flash_get_size(NULL, &size);
	if (err != ESP_OK)
		return err;
	f->ops.user = f;
	f->ops.read = flash_read;
	f->ops.write = flash_write;
	f->ops.erase = flash_erase;
	f->ops.size = size;
	f->ops.sector_size = OTA_FLASH_SECTOR_SIZE;
	f->ops.write_align = FW_FLASH_WRITE_ALIGN;
	f->ops.erased_val = 0xFF;
	return ESP_OK;
}
