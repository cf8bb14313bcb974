/* SPDX-License-Identifier: MIT */
/* ota-test-support.c - OpenSSL hash operations, ESP image builder, simulated device */

#include "ota-test-support.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota-errors.h"
#include "ota/ota-util.h"

/* ---- hashing ---- */

static EVP_MD_CTX *hash_ctx[2];

static EVP_MD_CTX *
ctx_for(enum ota_hash_kind kind)
{
	EVP_MD_CTX **c = &hash_ctx[kind == OTA_HASH_MD5 ? 0 : 1];
	if (*c == NULL)
		*c = EVP_MD_CTX_new();
	return *c;
}

static int
hash_begin(void *user, enum ota_hash_kind kind)
{
	EVP_MD_CTX *c = ctx_for(kind);
	(void)user;
	if (c == NULL)
		return -1;
	return EVP_DigestInit_ex(c, kind == OTA_HASH_MD5 ? EVP_md5() : EVP_sha256(), NULL) == 1
		   ? 0
		   : -1;
}

static int
hash_update(void *user, enum ota_hash_kind kind, const uint8_t *data, size_t len)
{
	(void)user;
	return EVP_DigestUpdate(ctx_for(kind), data, len) == 1 ? 0 : -1;
}

static int
hash_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	(void)user;
	return EVP_DigestFinal_ex(ctx_for(kind), out, NULL) == 1 ? 0 : -1;
}

static const struct ota_hash_ops test_ops = {
    .user = NULL,
    .begin = hash_begin,
    .update = hash_update,
    .finish = hash_finish,
};

const struct ota_hash_ops *
test_hash_ops(void)
{
	return &test_ops;
}

void
test_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
	EVP_Digest(data, len, out, NULL, EVP_md5(), NULL);
}

void
test_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}

/* ---- images ---- */

static uint32_t
xorshift(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static void
fill_random(uint8_t *p, size_t n, uint32_t *seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(xorshift(seed) >> 11);
}

static void
put_str(uint8_t *p, const char *s, size_t field)
{
	size_t n = strlen(s);
	memcpy(p, s, n < field ? n : field - 1);
}

static void
put_seg(uint8_t *p, uint32_t addr, uint32_t len)
{
	ota_put_u32le(p, addr);
	ota_put_u32le(p + 4, len);
}

/* zero padding and the checksum as the last byte of a 16-byte block */
static size_t
finish_checksum(uint8_t *out, size_t off, uint8_t checksum)
{
	size_t padded = (off + 1 + 15) & ~(size_t)15;
	memset(out + off, 0, padded - off);
	out[padded - 1] = checksum;
	return padded;
}

size_t
test_image_build(uint8_t *out, size_t cap, const struct test_image_opts *o)
{
	uint32_t seed = o->seed != 0 ? o->seed : 0x12345678u;
	const uint32_t seg0_len = 512;
	size_t body;
	uint32_t seg1_len;
	uint32_t seg2_len;
	size_t off;
	uint8_t x = 0xEF;
	size_t len;

	/* header + 3 segment headers + seg0 + checksum block + digest */
	if (o->len < 24 + 24 + seg0_len + 16 + 32 + 64 || cap < o->len + 64)
		return 0;
	body = o->len - (24 + 24 + seg0_len + 16 + 32);
	seg1_len = (uint32_t)(body / 3) & ~3u;
	seg2_len = (uint32_t)(body - seg1_len) & ~3u;

	memset(out, 0, cap);
	out[0] = 0xE9;
	out[1] = 3;
	out[2] = 2;    /* DIO */
	out[3] = 0x20; /* 4 MB, 40 MHz */
	ota_put_u32le(out + 4, 0x40080400);
	out[8] = 0xEE;
	out[12] = (uint8_t)(o->chip_id & 0xFF);
	out[13] = (uint8_t)(o->chip_id >> 8);
	out[15] = (uint8_t)(o->min_rev & 0xFF);
	out[16] = (uint8_t)(o->min_rev >> 8);
	out[17] = (uint8_t)(o->max_rev & 0xFF);
	out[18] = (uint8_t)(o->max_rev >> 8);
	out[23] = o->no_hash ? 0 : 1;
	off = 24;

	/* segment 0: esp_app_desc_t first, at file offset 0x20 */
	put_seg(out + off, 0x3F400020, seg0_len);
	off += 8;
	fill_random(out + off, seg0_len, &seed);
	memset(out + off, 0, 256);
	ota_put_u32le(out + off, OTA_ESP_APP_DESC_MAGIC);
	put_str(out + off + 16, o->version != NULL ? o->version : "test", 32);
	put_str(out + off + 48, "espfleet-test", 32);
	put_str(out + off + 112, "v5.3", 32);
	off += seg0_len;

	put_seg(out + off, 0x3FFB0000, seg1_len);
	off += 8;
	fill_random(out + off, seg1_len, &seed);
	off += seg1_len;

	put_seg(out + off, 0x40080000, seg2_len);
	off += 8;
	fill_random(out + off, seg2_len, &seed);
	off += seg2_len;

	for (size_t i = 24 + 8; i < 24 + 8 + seg0_len; i++)
		x ^= out[i];
	for (size_t i = 24 + 8 + seg0_len + 8; i < 24 + 8 + seg0_len + 8 + seg1_len; i++)
		x ^= out[i];
	for (size_t i = off - seg2_len; i < off; i++)
		x ^= out[i];
	len = finish_checksum(out, off, x);
	if (!o->no_hash) {
		test_sha256(out, len, out + len);
		len += 32;
	}
	return len;
}

size_t
test_image_build_v1(uint8_t *out, size_t cap, size_t len, uint32_t seed)
{
	uint32_t s = seed != 0 ? seed : 0x9E3779B9u;
	uint32_t seg_len;
	size_t off = 8;
	uint8_t x = 0xEF;

	if (len < 64 || cap < len + 32)
		return 0;
	seg_len = (uint32_t)((len - 8 - 16 - 16) / 2) & ~3u;
	memset(out, 0, cap);
	out[0] = 0xE9;
	out[1] = 2;
	out[2] = 2;
	out[3] = 0x40; /* 4 MB (ESP8266 code 4), 40 MHz */
	ota_put_u32le(out + 4, 0x40100004);
	put_seg(out + off, 0x40100000, seg_len);
	off += 8;
	fill_random(out + off, seg_len, &s);
	for (size_t i = 0; i < seg_len; i++)
		x ^= out[off + i];
	off += seg_len;
	put_seg(out + off, 0x3FFE8000, seg_len);
	off += 8;
	fill_random(out + off, seg_len, &s);
	for (size_t i = 0; i < seg_len; i++)
		x ^= out[off + i];
	off += seg_len;
	return finish_checksum(out, off, x);
}

/* ---- a simulated device ---- */

int
test_dev_open(struct test_dev *d, uint32_t slot_size, uint32_t fs_size, uint32_t write_align)
{
	struct sim_flash_config fc;
	uint32_t app1 = (OTA_DEFAULT_APP_OFFSET + slot_size + 0xFFFF) & ~0xFFFFu;
	uint32_t size = app1 + slot_size + (fs_size != OTA_FS_NONE ? fs_size : 0);
	int rc;

	memset(d, 0, sizeof(*d));
	memset(&fc, 0, sizeof(fc));
	fc.size = size;
	fc.sector_size = 4096;
	fc.write_align = write_align;
	fc.erased_val = 0xFF;
	fc.timing = SIM_FLASH_FAST;
	fc.violation_mode = SIM_FLASH_VIOLATION_FAIL;
	if (sim_flash_open(&d->flash, &fc) != 0)
		return OTA_E_BAD_ARGS;
	rc = ota_partition_table_write_default(sim_flash_ops(&d->flash), test_hash_ops(), slot_size,
					       fs_size, d->scratch, sizeof(d->scratch));
	if (rc != OTA_OK)
		return rc;
	d->cfg.flash = sim_flash_ops(&d->flash);
	d->cfg.hash = test_hash_ops();
	d->cfg.chip = OTA_CHIP_ESP32;
	d->cfg.chip_rev = 300;
	d->cfg.rollback = true;
	d->cfg.scratch = d->scratch;
	d->cfg.scratch_len = sizeof(d->scratch);
	return ota_slots_init(&d->slots, &d->cfg);
}

int
test_dev_reinit(struct test_dev *d)
{
	return ota_slots_init(&d->slots, &d->cfg);
}

void
test_dev_close(struct test_dev *d)
{
	sim_flash_close(&d->flash);
}

int
test_dev_update(struct test_dev *d,
		int slot,
		const uint8_t *img,
		size_t len,
		size_t chunk,
		enum ota_erase_mode mode,
		bool set_boot)
{
	struct ota_update u;
	uint8_t md5[16];
	int rc = ota_update_begin(&u, &d->slots, slot, (uint32_t)len, mode);
	if (rc != OTA_OK)
		return rc;
	test_md5(img, len, md5);
	ota_update_set_md5(&u, md5);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		rc = ota_update_write(&u, img + off, n);
		if (rc != OTA_OK) {
			ota_update_abort(&u);
			return rc;
		}
	}
	rc = ota_update_end(&u, NULL);
	if (rc != OTA_OK || !set_boot)
		return rc;
	return ota_slots_set_boot(&d->slots, ota_update_slot(&u));
}

bool
test_dev_slot_holds(struct test_dev *d, int slot, const uint8_t *img, size_t len)
{
	const struct ota_partition *p = ota_slots_app(&d->slots, slot);
	if (p == NULL || len > p->size)
		return false;
	return memcmp(sim_flash_data(&d->flash) + p->offset, img, len) == 0;
}
