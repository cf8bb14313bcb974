/* SPDX-License-Identifier: MIT */
/* sim-image.c - builds the factory image of a simulated device and reads app descriptions */

#define _DEFAULT_SOURCE

#include "sim-image.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ota/ota-util.h"

#define ESP_MAGIC 0xE9u
#define CHECKSUM_SEED 0xEFu
#define ESP32_HEADER_LEN 24u
#define ESP8266_HEADER_LEN 8u
#define SEGMENT_HEADER_LEN 8u
#define APP_DESC_LEN 256u
#define ARDUINO_SKETCH_OFFSET 0x1000u
#define ARDUINO_CRC_LEN_AT 0x1010u
#define ARDUINO_CRC_VAL_AT 0x1014u
#define DEFAULT_BODY_LEN (96u * 1024u)

/* where an app's segments load, per chip (esptool's MEMORY_MAP; DROM data sits at file
 * offset 0x20, which matches the 0x..0020 load address modulo the 64 KiB MMU page) */
struct chip_layout {
	enum ota_chip chip;
	uint32_t drom;
	uint32_t dram;
	uint32_t iram;
	uint32_t entry;
	uint16_t min_rev;
	uint16_t max_rev;
	uint16_t rev; /* what the simulated chip reports */
	const char *board;
};

static const struct chip_layout layouts[] = {
    {OTA_CHIP_ESP32, 0x3F400020, 0x3FFB0000, 0x40080000, 0x40081188, 0, 399, 300, "esp32"},
    {OTA_CHIP_ESP32S2, 0x3F000020, 0x3FFBE000, 0x40024000, 0x40024C00, 0, 199, 100, "esp32s2"},
    {OTA_CHIP_ESP32S3, 0x3C030020, 0x3FC88000, 0x40374000, 0x40375A10, 0, 99, 2, "esp32s3"},
    {OTA_CHIP_ESP32C3, 0x3C020020, 0x3FC8A000, 0x40380000, 0x40380080, 3, 199, 4, "esp32c3"},
    {OTA_CHIP_ESP32C2, 0x3C000020, 0x3FCA0000, 0x4037C000, 0x4037C080, 0, 199, 100, "esp32c2"},
    {OTA_CHIP_ESP32C6, 0x42800020, 0x40800000, 0x40810000, 0x40810080, 0, 99, 0, "esp32c6"},
    {OTA_CHIP_ESP32H2, 0x42800020, 0x40800000, 0x40810000, 0x40810080, 0, 99, 0, "esp32h2"},
};

/* RISC-V chips without an entry above */
static const struct chip_layout layout_default = {
    OTA_CHIP_UNKNOWN, 0x42800020, 0x40800000, 0x40810000, 0x40810080, 0, 99, 0, "generic"};

static const struct chip_layout *
layout_for(enum ota_chip chip)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (layouts[i].chip == chip)
			return &layouts[i];
	}
	return &layout_default;
}

uint16_t
sim_chip_id(enum ota_chip chip)
{
	if (chip == OTA_CHIP_ESP8266)
		return 0xFFFF;
	for (uint32_t id = 0; id < 0x100; id++) {
		if (ota_chip_from_id((uint16_t)id) == chip)
			return (uint16_t)id;
	}
	return 0xFFFF;
}

uint16_t
sim_chip_rev(enum ota_chip chip)
{
	return chip == OTA_CHIP_ESP8266 ? 0 : layout_for(chip)->rev;
}

const char *
sim_chip_board(enum ota_chip chip)
{
	if (chip == OTA_CHIP_ESP8266)
		return "nodemcuv2";
	return layout_for(chip)->board;
}

const char *
sim_idf_version(enum ota_chip chip)
{
	/* the ESP8266 "IDF" is the Arduino core's SDK */
	return chip == OTA_CHIP_ESP8266 ? "2.2.2-dev(38a443e)" : "v5.3.1";
}

/* ---- a growing byte buffer ---- */

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed;
};

static uint8_t *
buf_grow(struct buf *b, size_t n)
{
	uint8_t *p;
	if (b->failed)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL) {
			b->failed = true;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	p = b->data + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

static void
buf_fill(struct buf *b, uint8_t value, size_t n)
{
	uint8_t *p = buf_grow(b, n);
	if (p != NULL)
		memset(p, value, n);
}

/* ---- image parts ---- */

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
put_str(uint8_t *field, const char *s, size_t field_len)
{
	size_t n = s != NULL ? strlen(s) : 0;
	memset(field, 0, field_len);
	memcpy(field, s, n < field_len ? n : field_len - 1);
}

static void
sha256_of(const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

/* esp_app_desc_t: magic, secure_version, version, project_name, time, date, idf_ver,
 * app_elf_sha256 (here: a digest of project and version, so it differs per build) */
static void
write_app_desc(uint8_t *p, const struct sim_image_opts *o)
{
	char elf_id[80];
	uint8_t elf_sha[32];
	char when[17];
	time_t now = time(NULL);
	struct tm tm;

	memset(p, 0, APP_DESC_LEN);
	ota_put_u32le(p, OTA_ESP_APP_DESC_MAGIC);
	put_str(p + 16, o->version, 32);
	put_str(p + 48, o->project, 32);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	put_str(p + 80, when, 16);
	strftime(when, sizeof(when), "%b %e %Y", &tm);
	put_str(p + 96, when, 16);
	put_str(p + 112, sim_idf_version(o->chip), 32);
	snprintf(elf_id, sizeof(elf_id), "%s/%s/%u", o->project, o->version, (unsigned)o->seed);
	sha256_of((const uint8_t *)elf_id, strlen(elf_id), elf_sha);
	memcpy(p + 144, elf_sha, 32);
}

struct segment {
	uint32_t addr;
	size_t len;	/* a multiple of 4 */
	bool app_desc;	/* starts with esp_app_desc_t */
	bool crc_words; /* starts with elf2bin's __crc_len/__crc_val, zero for now */
};

/*
 * one image: header, segments, zero padding with the XOR checksum as the last byte of a
 * 16-byte block, then (ESP32 layout) the SHA-256 of everything before it
 */
static void
write_image(struct buf *b,
	    const struct sim_image_opts *o,
	    const uint8_t *header,
	    size_t header_len,
	    const struct segment *segs,
	    size_t n_segs,
	    bool sha,
	    uint32_t *seed)
{
	size_t start = b->len;
	uint8_t checksum = CHECKSUM_SEED;
	uint8_t *p = buf_grow(b, header_len);
	size_t pad;

	if (p == NULL)
		return;
	memcpy(p, header, header_len);
	for (size_t i = 0; i < n_segs; i++) {
		p = buf_grow(b, SEGMENT_HEADER_LEN + segs[i].len);
		if (p == NULL)
			return;
		ota_put_u32le(p, segs[i].addr);
		ota_put_u32le(p + 4, (uint32_t)segs[i].len);
		p += SEGMENT_HEADER_LEN;
		fill_random(p, segs[i].len, seed);
		if (segs[i].app_desc)
			write_app_desc(p, o);
		if (segs[i].crc_words)
			memset(p, 0, 8);
		for (size_t k = 0; k < segs[i].len; k++)
			checksum ^= p[k];
	}
	pad = 15 - (b->len - start) % 16;
	buf_fill(b, 0, pad);
	p = buf_grow(b, 1);
	if (p == NULL)
		return;
	*p = checksum;
	if (sha) {
		uint8_t digest[32];
		sha256_of(b->data + start, b->len - start, digest);
		p = buf_grow(b, 32);
		if (p != NULL)
			memcpy(p, digest, 32);
	}
}

static uint8_t
esp32_size_code(uint32_t flash_size)
{
	uint8_t code = 0;
	for (uint32_t s = 1024u * 1024u; s < flash_size && code < 6; s *= 2)
		code++;
	return code;
}

static uint8_t
esp8266_size_code(uint32_t flash_size)
{
	/* esptool ESP8266ROM.FLASH_SIZES: 512K 0, 256K 1, 1M 2, 2M 3, 4M 4, 8M 8, 16M 9 */
	if (flash_size <= 512u * 1024u)
		return 0;
	if (flash_size <= 1024u * 1024u)
		return 2;
	if (flash_size <= 2u * 1024u * 1024u)
		return 3;
	if (flash_size <= 4u * 1024u * 1024u)
		return 4;
	if (flash_size <= 8u * 1024u * 1024u)
		return 8;
	return 9;
}

static void
build_esp32(struct buf *b, const struct sim_image_opts *o, size_t body, uint32_t *seed)
{
	const struct chip_layout *l = layout_for(o->chip);
	uint16_t chip_id = sim_chip_id(o->chip);
	uint8_t hdr[ESP32_HEADER_LEN] = {0};
	size_t ram = (body / 8) & ~(size_t)3;
	struct segment segs[3] = {
	    {l->drom, ((body - 2 * ram) & ~(size_t)3) + APP_DESC_LEN, true, false},
	    {l->dram, ram, false, false},
	    {l->iram, ram, false, false},
	};

	hdr[0] = ESP_MAGIC;
	hdr[1] = 3;
	hdr[2] = 2;						 /* DIO */
	hdr[3] = (uint8_t)(esp32_size_code(o->flash_size) << 4); /* 40 MHz */
	ota_put_u32le(hdr + 4, l->entry);
	hdr[8] = 0xEE; /* WP pin disabled */
	hdr[12] = (uint8_t)(chip_id & 0xFF);
	hdr[13] = (uint8_t)(chip_id >> 8);
	hdr[14] = (uint8_t)(l->min_rev / 100);
	hdr[15] = (uint8_t)(l->min_rev & 0xFF);
	hdr[16] = (uint8_t)(l->min_rev >> 8);
	hdr[17] = (uint8_t)(l->max_rev & 0xFF);
	hdr[18] = (uint8_t)(l->max_rev >> 8);
	hdr[23] = 1; /* SHA-256 appended */
	write_image(b, o, hdr, sizeof(hdr), segs, 3, true, seed);
}

static uint8_t
xor_bytes_u32(uint32_t v)
{
	return (uint8_t)(v ^ v >> 8 ^ v >> 16 ^ v >> 24);
}

/*
 * elf2bin's add_crc: the MSB-first CRC-32 of the whole file with the two words at 0x1010
 * zero, then the length and the CRC stored there. elf2bin computed the sketch checksum
 * before, so a stock .bin has a checksum that only matches with the words zeroed (the
 * Arduino loader never looks at it). Ours matches either way: the checksum is the last
 * byte of the file, so the CRC for each of its 256 values is one step away, and a value
 * that equals the checksum of the final bytes is searched for (tweaking one filler byte of
 * the last segment until there is one).
 */
static void
seal_arduino(struct buf *b, const struct segment *sketch, size_t n)
{
	size_t last = b->len - 1; /* the checksum byte */
	size_t tweak = 0;
	size_t off = ARDUINO_SKETCH_OFFSET + ESP8266_HEADER_LEN;

	for (size_t i = 0; i < n; i++)
		off += SEGMENT_HEADER_LEN + sketch[i].len;
	tweak = off - 1; /* the last data byte of the last segment */
	for (unsigned attempt = 0; attempt < 4096; attempt++) {
		uint8_t zero_sum = CHECKSUM_SEED;
		uint32_t state;
		size_t seg = ARDUINO_SKETCH_OFFSET + ESP8266_HEADER_LEN;

		memset(b->data + ARDUINO_CRC_LEN_AT, 0, 8);
		for (size_t i = 0; i < n; i++) {
			seg += SEGMENT_HEADER_LEN;
			for (size_t k = 0; k < sketch[i].len; k++)
				zero_sum ^= b->data[seg + k];
			seg += sketch[i].len;
		}
		state = ota_crc32_msb(0xFFFFFFFFu, b->data, last);
		for (unsigned c = 0; c < 256; c++) {
			uint8_t byte = (uint8_t)c;
			uint32_t crc = ota_crc32_msb(state, &byte, 1);
			uint8_t words =
			    (uint8_t)(xor_bytes_u32((uint32_t)b->len) ^ xor_bytes_u32(crc));
			if ((uint8_t)(zero_sum ^ words) != byte)
				continue;
			b->data[last] = byte;
			ota_put_u32le(b->data + ARDUINO_CRC_LEN_AT, (uint32_t)b->len);
			ota_put_u32le(b->data + ARDUINO_CRC_VAL_AT, crc);
			return;
		}
		b->data[tweak]++;
	}
	b->failed = true;
}

/* esp8266/Arduino tools/elf2bin.py: eboot, 0xAA up to 0x1000, the sketch, then add_crc */
static void
build_arduino(struct buf *b, const struct sim_image_opts *o, size_t body, uint32_t *seed)
{
	uint8_t size_freq = (uint8_t)(esp8266_size_code(o->flash_size) << 4);
	uint8_t eboot_hdr[ESP8266_HEADER_LEN] = {ESP_MAGIC, 2, 2, size_freq, 0, 0, 0, 0};
	uint8_t sketch_hdr[ESP8266_HEADER_LEN] = {ESP_MAGIC, 3, 2, size_freq, 0, 0, 0, 0};
	const struct segment eboot[2] = {
	    {0x4010F000, 0x5B0, false, false},
	    {0x4010F5B0, 0x60, false, false},
	};
	size_t ram = 0x800;
	const struct segment sketch[3] = {
	    /* .irom0.text first, so its data sits at 0x1010 = 0x40201010 - 0x40200000 */
	    {0x40201010, ((body - 2 * ram) & ~(size_t)3), false, true},
	    {0x40100000, ram, false, false},
	    {0x3FFE8000, ram, true, false},
	};

	ota_put_u32le(eboot_hdr + 4, 0x4010F49C);
	ota_put_u32le(sketch_hdr + 4, 0x401000F4);
	write_image(b, o, eboot_hdr, sizeof(eboot_hdr), eboot, 2, false, seed);
	if (b->failed)
		return;
	buf_fill(b, 0xAA, ARDUINO_SKETCH_OFFSET - b->len);
	write_image(b, o, sketch_hdr, sizeof(sketch_hdr), sketch, 3, false, seed);
	if (b->failed)
		return;
	seal_arduino(b, sketch, 3);
}

int
sim_image_build(const struct sim_image_opts *opts, uint8_t **out, size_t *out_len)
{
	struct buf b = {0};
	size_t body = opts->body_len != 0 ? opts->body_len : DEFAULT_BODY_LEN;
	uint32_t seed = opts->seed != 0 ? opts->seed : 0x5EED1234u;

	if (opts->chip == OTA_CHIP_UNKNOWN || opts->chip >= OTA_CHIP_LAST)
		return -1;
	if (body < 0x4000)
		body = 0x4000;
	if (opts->chip == OTA_CHIP_ESP8266)
		build_arduino(&b, opts, body, &seed);
	else
		build_esp32(&b, opts, body, &seed);
	if (b.failed) {
		free(b.data);
		return -1;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}

/* ---- reading back ---- */

static void
copy_field(char *dst, size_t dst_size, const uint8_t *src, size_t field)
{
	size_t n = 0;
	while (n < field && n + 1 < dst_size && src[n] != '\0')
		n++;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
decode_desc(const uint8_t *p, struct ota_esp_app_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->secure_version =
	    (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	copy_field(d->version, sizeof(d->version), p + 16, 32);
	copy_field(d->project_name, sizeof(d->project_name), p + 48, 32);
	copy_field(d->time, sizeof(d->time), p + 80, 16);
	copy_field(d->date, sizeof(d->date), p + 96, 16);
	copy_field(d->idf_ver, sizeof(d->idf_ver), p + 112, 32);
	memcpy(d->app_elf_sha256, p + 144, 32);
}

bool
sim_image_app_desc(const uint8_t *buf, size_t len, struct ota_esp_app_desc *desc)
{
	struct ota_esp_image *img = calloc(1, sizeof(*img));
	bool found = false;

	memset(desc, 0, sizeof(*desc));
	if (img == NULL)
		return false;
	(void)ota_esp_image_parse(buf, len, img);
	if (img->has_app_desc) {
		*desc = img->app_desc;
		found = true;
	} else if (img->kind == OTA_IMAGE_ESP8266_ARDUINO || img->kind == OTA_IMAGE_ESP8266_V1) {
		for (size_t off = 0; off + APP_DESC_LEN <= len; off += 4) {
			uint32_t magic;
			if (ota_read_u32le(buf, len, off, &magic) &&
			    magic == OTA_ESP_APP_DESC_MAGIC) {
				decode_desc(buf + off, desc);
				found = true;
				break;
			}
		}
	}
	free(img);
	return found;
}

static bool
contains(const char *s, const char *needle)
{
	return strstr(s, needle) != NULL;
}

bool
sim_image_is_bad_app(const struct ota_esp_app_desc *desc)
{
	return contains(desc->project_name, SIM_BAD_APP_MARKER) ||
	       contains(desc->version, SIM_BAD_APP_MARKER);
}
