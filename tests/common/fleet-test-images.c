/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-test-images.c - builds ESP8266/ESP32 firmware images in memory for the tests */

#include "fleet-test-images.h"

#include <gio/gio.h>
#include <string.h>

/* layout constants, from shared/specs/esp-images.md */
#define ESP_MAGIC 0xE9
#define ESP_V2_MAGIC 0xEA
#define CHECKSUM_SEED 0xEF
#define SEG_HDR 8
#define ESP32_HDR 24
#define ESP8266_HDR 8
#define MMU_PAGE 0x10000u
#define APP_DESC_MAGIC 0xABCD5432u
#define ARDUINO_APP 0x1000u
#define ARDUINO_CRC_LEN_AT 0x1010u
#define ARDUINO_CRC_VAL_AT 0x1014u
#define SIG_SECTOR_LEN 4096u
#define SIG_BLOCK_LEN 1216u
#define SIG_CRC_AT 1196u
#define PART_TABLE 0x8000u
#define MERGED_APP 0x10000u

/* a segment to be written */
typedef struct {
	guint32 addr;
	GByteArray *data;
	gboolean flash; /* flash-mapped: the MMU rule applies (ESP32 family) */
	/* small images: load address = follow_base + (data offset % 64 KiB), which keeps the
	 * MMU rule without 64 KiB of padding */
	guint32 follow_base;
} TestSeg;

static void
test_seg_free(TestSeg *seg)
{
	g_byte_array_unref(seg->data);
	g_free(seg);
}

/* xorshift32: deterministic filler, different per image and segment */
static guint32
prng_next(guint32 *state)
{
	guint32 x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static void
prng_fill(guint32 *state, guint8 *p, gsize n)
{
	for (gsize i = 0; i < n; i++)
		p[i] = (guint8)(prng_next(state) >> 24);
}

static TestSeg *
test_seg_new(guint32 addr, gsize len, gboolean flash, guint32 *prng)
{
	TestSeg *seg = g_new0(TestSeg, 1);
	seg->addr = addr;
	seg->flash = flash;
	seg->data = g_byte_array_sized_new((guint)len);
	g_byte_array_set_size(seg->data, (guint)len);
	prng_fill(prng, seg->data->data, len);
	return seg;
}

static void
put_u16(guint8 *p, guint16 v)
{
	p[0] = (guint8)(v & 0xFF);
	p[1] = (guint8)(v >> 8);
}

static void
put_u32(guint8 *p, guint32 v)
{
	p[0] = (guint8)(v & 0xFF);
	p[1] = (guint8)((v >> 8) & 0xFF);
	p[2] = (guint8)((v >> 16) & 0xFF);
	p[3] = (guint8)(v >> 24);
}

static void
append_u32(GByteArray *out, guint32 v)
{
	guint8 b[4];
	put_u32(b, v);
	g_byte_array_append(out, b, 4);
}

static void
append_fill(GByteArray *out, guint8 value, gsize n)
{
	guint old = out->len;
	g_byte_array_set_size(out, old + (guint)n);
	memset(out->data + old, value, n);
}

/* zlib CRC-32: reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF */
guint32
fleet_test_crc32_zlib(const guint8 *data, gsize len)
{
	guint32 crc = 0xFFFFFFFFu;
	for (gsize i = 0; i < len; i++) {
		crc ^= data[i];
		for (guint k = 0; k < 8; k++)
			crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
	}
	return crc ^ 0xFFFFFFFFu;
}

/* CRC-32/MPEG-2, as elf2bin.py crc8266: MSB first, poly 0x04C11DB7, init all ones, no xor */
guint32
fleet_test_crc32_mpeg2(const guint8 *data, gsize len)
{
	guint32 crc = 0xFFFFFFFFu;
	for (gsize i = 0; i < len; i++) {
		for (guint bit = 0x80; bit != 0; bit >>= 1) {
			gboolean top = (crc & 0x80000000u) != 0;
			gboolean in = (data[i] & bit) != 0;
			crc <<= 1;
			if (top != in)
				crc ^= 0x04C11DB7u;
		}
	}
	return crc;
}

static void
sha256_of(const guint8 *data, gsize len, guint8 *out)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	gsize n = 32;
	g_checksum_update(sum, data, (gssize)len);
	g_checksum_get_digest(sum, out, &n);
}

/* esp_app_desc_t (spec 1.8): 256 bytes at the start of segment 0 */
static void
write_app_desc(guint8 *p, const FleetTestImage *img, guint8 spi_mode)
{
	memset(p, 0, 256);
	put_u32(p, APP_DESC_MAGIC);
	put_u32(p + 4, 0); /* secure_version */
	g_strlcpy((gchar *)p + 16, img->version, 32);
	g_strlcpy((gchar *)p + 48, img->project, 32);
	g_strlcpy((gchar *)p + 80, "12:34:56", 16);
	g_strlcpy((gchar *)p + 96, "Nov 21 2026", 16);
	g_strlcpy((gchar *)p + 112, "v5.3.1", 32);
	memcpy(p + 144, img->elf_sha256, 32);
	p[180] = 0; /* mmu_page_size: default 64 KiB */
	p[181] = spi_mode;
}

/* header fields of one image */
typedef struct {
	guint8 magic;
	guint8 mode;
	guint8 size_freq;
	guint32 entry;
	gboolean esp32_layout;
	guint16 chip_id;
	guint16 min_rev_full;
	guint16 max_rev_full;
	gboolean all_zero_ext; /* ESP8266 RTOS SDK v3: extended header zero but byte 23 */
	gboolean append_digest;
	gboolean break_mmu;
} ImageHeader;

/*
 * writes header, segments (ESP32 layout: padding segments with load address 0 in front of
 * flash segments that would break the MMU rule, as esptool does), zero pad, checksum byte
 * at the end of a 16-byte block and the optional SHA-256; records the layout in @img
 */
static void
write_image(FleetTestImage *img, const ImageHeader *h, GPtrArray *segs)
{
	GByteArray *out = img->data;
	gsize start = out->len;
	guint8 checksum = CHECKSUM_SEED;
	guint count = 0;
	guint8 hdr[ESP32_HDR] = {0};

	g_assert(start % 16 == 0);
	hdr[0] = h->magic;
	hdr[2] = h->mode;
	hdr[3] = h->size_freq;
	put_u32(hdr + 4, h->entry);
	if (h->esp32_layout && !h->all_zero_ext) {
		hdr[8] = 0xEE; /* WP pin disabled */
		put_u16(hdr + 12, h->chip_id);
		hdr[14] = (guint8)(h->min_rev_full / 100);
		put_u16(hdr + 15, h->min_rev_full);
		put_u16(hdr + 17, h->max_rev_full);
	}
	if (h->esp32_layout)
		hdr[23] = h->append_digest ? 1 : 0;
	g_byte_array_append(out, hdr, h->esp32_layout ? ESP32_HDR : ESP8266_HDR);

	img->header_offset = start;
	img->esp32_layout = h->esp32_layout;
	img->entry = h->entry;
	img->flash_mode = h->mode;
	img->flash_size_freq = h->size_freq;
	img->chip_id = h->chip_id;

	for (guint i = 0; i < segs->len; i++) {
		TestSeg *seg = g_ptr_array_index(segs, i);
		gsize data_off = out->len + SEG_HDR;
		guint8 sh[SEG_HDR];

		if (seg->flash && seg->follow_base != 0) {
			seg->addr = seg->follow_base + (guint32)(data_off % MMU_PAGE);
			if (h->break_mmu)
				seg->addr += 0x100;
		} else if (seg->flash && !h->break_mmu &&
			   data_off % MMU_PAGE != seg->addr % MMU_PAGE) {
			/* a padding segment so the next data offset matches the load address */
			gsize pad = (seg->addr % MMU_PAGE + MMU_PAGE -
				     (out->len + 2 * SEG_HDR) % MMU_PAGE) %
				    MMU_PAGE;
			g_assert(count < FLEET_TEST_IMAGE_MAX_SEGMENTS);
			img->seg_header[count] = out->len;
			img->seg_addr[count] = 0;
			img->seg_len[count] = (guint32)pad;
			put_u32(sh, 0);
			put_u32(sh + 4, (guint32)pad);
			g_byte_array_append(out, sh, SEG_HDR);
			append_fill(out, 0, pad); /* zeros leave the checksum alone */
			img->n_padding_segments++;
			count++;
			data_off = out->len + SEG_HDR;
			g_assert(data_off % MMU_PAGE == seg->addr % MMU_PAGE);
		}
		g_assert(count < FLEET_TEST_IMAGE_MAX_SEGMENTS);
		img->seg_header[count] = out->len;
		img->seg_addr[count] = seg->addr;
		img->seg_len[count] = seg->data->len;
		put_u32(sh, seg->addr);
		put_u32(sh + 4, seg->data->len);
		g_byte_array_append(out, sh, SEG_HDR);
		g_byte_array_append(out, seg->data->data, seg->data->len);
		for (guint k = 0; k < seg->data->len; k++)
			checksum ^= seg->data->data[k];
		count++;
	}
	out->data[start + 1] = (guint8)count;
	img->n_segments = count;

	/* zero pad: the checksum is the last byte of a 16-byte block */
	append_fill(out, 0, 15 - out->len % 16);
	img->checksum_offset = out->len;
	g_byte_array_append(out, &checksum, 1);
	g_assert(out->len % 16 == 0);
	img->image_end = out->len;
	if (h->esp32_layout && h->append_digest) {
		guint8 digest[32];
		sha256_of(out->data + start, out->len - start, digest);
		img->hash_offset = out->len;
		g_byte_array_append(out, digest, 32);
		img->image_end = out->len;
	}
	img->payload_len = out->len;
}

/* per-chip addresses: esptool targets/<chip>.py MEMORY_MAP, IDF linker scripts */
typedef struct {
	guint16 chip_id;
	guint32 drom, irom, dram, iram, entry;
	guint8 size_freq;
	guint16 min_rev_full, max_rev_full;
	gboolean rtc;
} ChipMap;

static const ChipMap chip_esp32 = {0x0000,     0x3F400020, 0x400D0020, 0x3FFB0000, 0x40080000,
				   0x40081188, 0x20,	   0,	       399,	   TRUE};
static const ChipMap chip_esp32s3 = {0x0009,	 0x3C030020, 0x42000020, 0x3FC88000, 0x40374000,
				     0x40375A10, 0x3F,	     0,		 99,	     FALSE};
static const ChipMap chip_esp32c3 = {0x0005,	 0x3C020020, 0x42000020, 0x3FC8A000, 0x40380000,
				     0x40380080, 0x2F,	     3,		 199,	     FALSE};

/* ESP-IDF application: flash segments first (app desc in DROM), then RAM, as esptool */
static void
build_esp32_app(FleetTestImage *img,
		const ChipMap *chip,
		const FleetTestImageOptions *o,
		gboolean digest,
		guint32 *prng)
{
	g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func((GDestroyNotify)test_seg_free);
	ImageHeader h = {0};
	TestSeg *drom;
	TestSeg *irom;
	gsize scale = o->small ? 1 : 16;

	drom = test_seg_new(chip->drom, o->small ? 0x140 : 0x2000, TRUE, prng);
	write_app_desc(drom->data->data, img, 2);
	g_ptr_array_add(segs, drom);
	/* DROM data lands at file offset 0x20, matching its load address 0x...0020 */
	irom = test_seg_new(chip->irom, o->small ? 0x100 : 0x6000, TRUE, prng);
	if (o->small)
		irom->follow_base = chip->irom & ~(MMU_PAGE - 1);
	g_ptr_array_add(segs, irom);
	g_ptr_array_add(segs,
			test_seg_new(chip->dram, 0x80 * scale - (o->unaligned_segment_len ? 2 : 0),
				     FALSE, prng));
	g_ptr_array_add(segs, test_seg_new(chip->iram, 0xC0 * scale, FALSE, prng));
	if (chip->rtc && !o->small)
		g_ptr_array_add(segs, test_seg_new(0x50000000, 0x20, FALSE, prng));

	h.magic = ESP_MAGIC;
	h.mode = 2; /* DIO */
	h.size_freq = chip->size_freq;
	h.entry = chip->entry;
	h.esp32_layout = TRUE;
	h.chip_id = chip->chip_id;
	h.min_rev_full = o->min_chip_rev_full != 0 ? o->min_chip_rev_full : chip->min_rev_full;
	h.max_rev_full = chip->max_rev_full;
	h.append_digest = digest;
	h.break_mmu = o->break_mmu_alignment;
	write_image(img, &h, segs);
}

/* ESP8266 RAM segments: IRAM .text, DRAM .data and .rodata */
static void
add_esp8266_ram_segments(GPtrArray *segs, gboolean small, guint32 *prng)
{
	g_ptr_array_add(segs, test_seg_new(0x40100000, small ? 0x1C4 : 0x6E4, FALSE, prng));
	g_ptr_array_add(segs, test_seg_new(0x3FFE8000, small ? 0x48 : 0x2A0, FALSE, prng));
	g_ptr_array_add(
	    segs, test_seg_new(small ? 0x3FFE8048 : 0x3FFE82A0, small ? 0x64 : 0x5C0, FALSE, prng));
}

static void
build_esp8266_v1(FleetTestImage *img, const FleetTestImageOptions *o, guint32 *prng)
{
	g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func((GDestroyNotify)test_seg_free);
	ImageHeader h = {.magic = ESP_MAGIC, .mode = 2, .size_freq = 0x40, .entry = 0x40100004};
	add_esp8266_ram_segments(segs, o->small, prng);
	write_image(img, &h, segs);
}

/* esptool ESP8266V2FirmwareImage.save */
static void
build_esp8266_v2(FleetTestImage *img, const FleetTestImageOptions *o, guint32 *prng)
{
	g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func((GDestroyNotify)test_seg_free);
	ImageHeader h = {.magic = ESP_MAGIC, .mode = 2, .size_freq = 0x40, .entry = 0x40100004};
	GByteArray *out = img->data;
	gsize irom_len = o->small ? 0x100 : 0x4000; /* a multiple of 16 already */
	guint8 first[8] = {ESP_V2_MAGIC, 4, 2, 0x40, 0, 0, 0, 0};
	guint32 crc;
	guint8 *irom;

	put_u32(first + 4, h.entry);
	g_byte_array_append(out, first, 8);
	append_u32(out, 0); /* the irom segment is stored with load address 0 */
	append_u32(out, (guint32)irom_len);
	append_fill(out, 0, irom_len);
	irom = out->data + 16;
	prng_fill(prng, irom, irom_len);

	add_esp8266_ram_segments(segs, o->small, prng);
	write_image(img, &h, segs);

	/* esp8266_crc32 of the whole file so far */
	crc = fleet_test_crc32_zlib(out->data, out->len);
	crc = (crc & 0x80000000u) ? crc ^ 0xFFFFFFFFu : crc + 1;
	append_u32(out, crc);
	img->image_end = out->len;
	img->payload_len = out->len;
}

static void
arduino_store_crc(FleetTestImage *img)
{
	guint8 *d = img->data->data;
	gsize len = img->payload_len;
	guint32 crc;
	put_u32(d + ARDUINO_CRC_LEN_AT, 0);
	put_u32(d + ARDUINO_CRC_VAL_AT, 0);
	crc = fleet_test_crc32_mpeg2(d, len);
	put_u32(d + ARDUINO_CRC_LEN_AT, (guint32)len);
	put_u32(d + ARDUINO_CRC_VAL_AT, crc);
}

/* esp8266 Arduino tools/elf2bin.py: eboot, 0xAA to 0x1000, sketch, then add_crc */
static void
build_arduino(FleetTestImage *img, const FleetTestImageOptions *o, guint32 *prng)
{
	g_autoptr(GPtrArray) eboot = g_ptr_array_new_with_free_func((GDestroyNotify)test_seg_free);
	g_autoptr(GPtrArray) sketch = g_ptr_array_new_with_free_func((GDestroyNotify)test_seg_free);
	ImageHeader he = {.magic = ESP_MAGIC, .mode = 2, .size_freq = 0x40, .entry = 0x4010F49C};
	ImageHeader hs = {.magic = ESP_MAGIC, .mode = 2, .size_freq = 0x40, .entry = 0x401000F4};
	gsize text_len = o->small ? 0x1A0 : 0x5B0;
	TestSeg *irom;

	g_ptr_array_add(eboot, test_seg_new(0x4010F000, text_len, FALSE, prng));
	g_ptr_array_add(eboot, test_seg_new(0x4010F000 + (guint32)text_len, 0x60, FALSE, prng));
	write_image(img, &he, eboot);
	img->eboot_len = img->image_end;
	append_fill(img->data, 0xAA, ARDUINO_APP - img->data->len);

	/* .irom0.text comes first so that its data sits at 0x1010 = 0x40201010 - 0x40200000;
	 * its first 8 bytes are the linker's __crc_len/__crc_val, zero until add_crc */
	irom = test_seg_new(0x40201010, o->small ? 0x120 : 0x3000, FALSE, prng);
	memset(irom->data->data, 0, 8);
	g_ptr_array_add(sketch, irom);
	g_ptr_array_add(sketch, test_seg_new(0x40100000, o->small ? 0xA0 : 0x800, FALSE, prng));
	g_ptr_array_add(sketch, test_seg_new(o->small ? 0x401000A0 : 0x40100800,
					     o->small ? 0x20 : 0x200, FALSE, prng));
	g_ptr_array_add(sketch, test_seg_new(0x3FFE8000, o->small ? 0x30 : 0x100, FALSE, prng));
	g_ptr_array_add(sketch, test_seg_new(o->small ? 0x3FFE8030 : 0x3FFE8100,
					     o->small ? 0x58 : 0x400, FALSE, prng));
	/* the checksum is computed now, with the CRC words still zero, as elf2bin does */
	write_image(img, &hs, sketch);
	arduino_store_crc(img);
}

/* ESP8266 RTOS SDK v3: ESP32 layout, extended header zero but the digest flag */
static void
build_rtos_v3(FleetTestImage *img, const FleetTestImageOptions *o, guint32 *prng)
{
	g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func((GDestroyNotify)test_seg_free);
	ImageHeader h = {.magic = ESP_MAGIC,
			 .mode = 2,
			 .size_freq = 0x40,
			 .entry = 0x40100124,
			 .esp32_layout = TRUE,
			 .all_zero_ext = TRUE,
			 .append_digest = TRUE};
	TestSeg *rodata = test_seg_new(0x40210020, o->small ? 0x140 : 0x1800, FALSE, prng);
	write_app_desc(rodata->data->data, img, 2);
	g_ptr_array_add(segs, rodata);
	g_ptr_array_add(segs, test_seg_new(0x40100000, o->small ? 0xC0 : 0x900, FALSE, prng));
	g_ptr_array_add(segs, test_seg_new(0x3FFE8000, o->small ? 0x40 : 0x300, FALSE, prng));
	write_image(img, &h, segs);
}

/* Secure Boot v2 signature sector after an ESP32 app (spec 3.2) */
static void
sign_sbv2(FleetTestImage *img, gboolean ecdsa, guint32 *prng)
{
	GByteArray *out = img->data;
	guint8 *blk;
	gsize sector = (out->len + SIG_SECTOR_LEN - 1) / SIG_SECTOR_LEN * SIG_SECTOR_LEN;

	append_fill(out, 0xFF, sector - out->len);
	append_fill(out, 0xFF, SIG_SECTOR_LEN);
	blk = out->data + sector;
	memset(blk, 0, SIG_BLOCK_LEN);
	blk[0] = 0xE7;
	if (ecdsa) {
		blk[1] = 0x03;
		blk[2] = 0;			/* SHA-256 */
		blk[36] = 2;			/* P-256 */
		prng_fill(prng, blk + 37, 64);	/* X || Y */
		prng_fill(prng, blk + 101, 64); /* r || s */
	} else {
		blk[1] = 0x02;
		prng_fill(prng, blk + 36, 384); /* n */
		put_u32(blk + 420, 65537);
		prng_fill(prng, blk + 424, 384); /* rinv */
		prng_fill(prng, blk + 808, 4);	 /* mdash */
		prng_fill(prng, blk + 812, 384); /* signature */
	}
	img->sig_offset = sector;
	img->sig_len = SIG_SECTOR_LEN;
	img->payload_len = sector;
	sha256_of(out->data, sector, blk + 4);
	put_u32(blk + SIG_CRC_AT, fleet_test_crc32_zlib(blk, SIG_CRC_AT));
}

/* esp_partition_info_t (32 bytes) */
static void
add_partition(
    guint8 *p, guint8 type, guint8 subtype, guint32 offset, guint32 size, const gchar *label)
{
	p[0] = 0xAA;
	p[1] = 0x50;
	p[2] = type;
	p[3] = subtype;
	put_u32(p + 4, offset);
	put_u32(p + 8, size);
	memset(p + 12, 0, 16);
	g_strlcpy((gchar *)p + 12, label, 16);
	put_u32(p + 28, 0);
}

/* 0xFF, bootloader at 0x1000, partition table at 0x8000, app at 0x10000 */
static void
build_merged(FleetTestImage *img, const FleetTestImageOptions *o, guint32 *prng)
{
	g_autoptr(FleetTestImage) boot = g_new0(FleetTestImage, 1);
	g_autoptr(FleetTestImage) app = NULL;
	g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func((GDestroyNotify)test_seg_free);
	ImageHeader h = {.magic = ESP_MAGIC,
			 .mode = 2,
			 .size_freq = 0x20,
			 .entry = 0x40080640,
			 .esp32_layout = TRUE,
			 .chip_id = 0,
			 .max_rev_full = 399,
			 .append_digest = TRUE};
	GByteArray *out = img->data;
	TestSeg *dram;
	guint8 *table;
	g_autoptr(GChecksum) md5 = g_checksum_new(G_CHECKSUM_MD5);
	gsize n = 16;
	FleetTestImageOptions app_opts = *o;

	append_fill(out, 0xFF, 0x1000);

	/* second-stage bootloader: esp_bootloader_desc_t (magic byte 0x50) in DRAM */
	boot->data = out;
	dram = test_seg_new(0x3FFF0030, 0x60, FALSE, prng);
	memset(dram->data->data, 0, 80);
	dram->data->data[0] = 0x50;
	put_u32(dram->data->data + 4, 1);
	g_strlcpy((gchar *)dram->data->data + 8, "v5.3.1", 32);
	g_strlcpy((gchar *)dram->data->data + 40, "Nov 21 2026 12:34:56", 24);
	g_ptr_array_add(segs, dram);
	g_ptr_array_add(segs, test_seg_new(0x40078000, 0x400, FALSE, prng));
	g_ptr_array_add(segs, test_seg_new(0x40080400, 0x600, FALSE, prng));
	write_image(boot, &h, segs);
	boot->data = NULL;

	append_fill(out, 0xFF, PART_TABLE - out->len);
	append_fill(out, 0xFF, 0x1000);
	table = out->data + PART_TABLE;
	add_partition(table + 0 * 32, 1, 0x02, 0x9000, 0x5000, "nvs");
	add_partition(table + 1 * 32, 1, 0x00, 0xE000, 0x2000, "otadata");
	add_partition(table + 2 * 32, 0, 0x10, MERGED_APP, 0x140000, "ota_0");
	add_partition(table + 3 * 32, 0, 0x11, 0x150000, 0x140000, "ota_1");
	/* the MD5 entry: EB EB, 14 x FF, MD5 of the entries before it */
	table[4 * 32] = 0xEB;
	table[4 * 32 + 1] = 0xEB;
	g_checksum_update(md5, table, 4 * 32);
	g_checksum_get_digest(md5, table + 4 * 32 + 16, &n);

	append_fill(out, 0xFF, MERGED_APP - out->len);
	app_opts.small = TRUE;
	app = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, &app_opts);
	g_byte_array_append(out, app->data->data, app->data->len);
	img->merged_app_offset = MERGED_APP;
	img->header_offset = MERGED_APP;
	img->n_segments = app->n_segments;
	for (guint i = 0; i < app->n_segments; i++) {
		img->seg_header[i] = app->seg_header[i] + MERGED_APP;
		img->seg_addr[i] = app->seg_addr[i];
		img->seg_len[i] = app->seg_len[i];
	}
	img->checksum_offset = app->checksum_offset + MERGED_APP;
	img->hash_offset = app->hash_offset + MERGED_APP;
	img->image_end = out->len;
	img->payload_len = out->len;
	img->esp32_layout = TRUE;
	img->entry = app->entry;
	img->flash_mode = app->flash_mode;
	img->flash_size_freq = app->flash_size_freq;
}

GBytes *
fleet_test_gzip(GBytes *bytes)
{
	g_autoptr(GZlibCompressor) conv = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
	g_autoptr(GByteArray) out = g_byte_array_new();
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	gsize pos = 0;
	guint8 buf[16384];

	for (;;) {
		gsize nread = 0;
		gsize nwritten = 0;
		g_autoptr(GError) error = NULL;
		GConverterResult res =
		    g_converter_convert(G_CONVERTER(conv), data + pos, len - pos, buf, sizeof(buf),
					G_CONVERTER_INPUT_AT_END, &nread, &nwritten, &error);
		g_assert_no_error(error);
		pos += nread;
		g_byte_array_append(out, buf, (guint)nwritten);
		if (res == G_CONVERTER_FINISHED)
			break;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

FleetTestImage *
fleet_test_image_new(FleetTestImageKind kind, const FleetTestImageOptions *options)
{
	FleetTestImageOptions defaults = {0};
	const FleetTestImageOptions *o = options != NULL ? options : &defaults;
	FleetTestImage *img = g_new0(FleetTestImage, 1);
	guint32 prng = 0x9E3779B9u ^ (o->seed * 2654435761u) ^ ((guint32)kind << 20);

	if (prng == 0)
		prng = 1;
	img->kind = kind;
	img->data = g_byte_array_new();
	img->version = g_strdup(o->version != NULL ? o->version : "1.0.0");
	img->project = g_strdup(o->project != NULL ? o->project : "fleet-test");
	prng_fill(&prng, img->elf_sha256, sizeof(img->elf_sha256));

	switch (kind) {
	case FLEET_TEST_IMAGE_ESP32_APP:
		build_esp32_app(img, &chip_esp32, o, TRUE, &prng);
		break;
	case FLEET_TEST_IMAGE_ESP32S3_APP:
		build_esp32_app(img, &chip_esp32s3, o, TRUE, &prng);
		break;
	case FLEET_TEST_IMAGE_ESP32C3_APP:
		build_esp32_app(img, &chip_esp32c3, o, TRUE, &prng);
		break;
	case FLEET_TEST_IMAGE_ESP32_APP_NO_HASH:
		build_esp32_app(img, &chip_esp32, o, FALSE, &prng);
		break;
	case FLEET_TEST_IMAGE_ESP8266_V1:
		build_esp8266_v1(img, o, &prng);
		break;
	case FLEET_TEST_IMAGE_ESP8266_V2:
		build_esp8266_v2(img, o, &prng);
		break;
	case FLEET_TEST_IMAGE_ARDUINO:
		build_arduino(img, o, &prng);
		break;
	case FLEET_TEST_IMAGE_ARDUINO_GZ: {
		g_autoptr(FleetTestImage) plain = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, o);
		g_autoptr(GBytes) raw = fleet_test_image_get_bytes(plain);
		g_autoptr(GBytes) gz = fleet_test_gzip(raw);
		gsize gz_len = 0;
		const guint8 *gz_data = g_bytes_get_data(gz, &gz_len);
		g_byte_array_append(img->data, gz_data, (guint)gz_len);
		img->payload_len = gz_len;
		img->image_end = gz_len;
		break;
	}
	case FLEET_TEST_IMAGE_ESP8266_RTOS_V3:
		build_rtos_v3(img, o, &prng);
		break;
	case FLEET_TEST_IMAGE_ESP32_SIGNED_RSA:
	case FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA:
		build_esp32_app(img, &chip_esp32, o, TRUE, &prng);
		sign_sbv2(img, kind == FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA, &prng);
		break;
	case FLEET_TEST_IMAGE_ESP8266_SIGNED: {
		guint8 sig[256];
		build_arduino(img, o, &prng);
		prng_fill(&prng, sig, sizeof(sig));
		img->sig_offset = img->data->len;
		img->sig_len = sizeof(sig);
		g_byte_array_append(img->data, sig, sizeof(sig));
		append_u32(img->data, sizeof(sig));
		break;
	}
	case FLEET_TEST_IMAGE_MERGED_FLASH:
		build_merged(img, o, &prng);
		break;
	case FLEET_TEST_IMAGE_LAST:
	default:
		g_assert_not_reached();
	}
	return img;
}

void
fleet_test_image_free(FleetTestImage *img)
{
	if (img == NULL)
		return;
	if (img->data != NULL)
		g_byte_array_unref(img->data);
	g_free(img->version);
	g_free(img->project);
	g_free(img);
}

GBytes *
fleet_test_image_get_bytes(FleetTestImage *img)
{
	return g_bytes_new(img->data->data, img->data->len);
}

static const gchar *const kind_names[FLEET_TEST_IMAGE_LAST] = {
    [FLEET_TEST_IMAGE_ESP32_APP] = "esp32-app",
    [FLEET_TEST_IMAGE_ESP32S3_APP] = "esp32s3-app",
    [FLEET_TEST_IMAGE_ESP32C3_APP] = "esp32c3-app",
    [FLEET_TEST_IMAGE_ESP32_APP_NO_HASH] = "esp32-app-nohash",
    [FLEET_TEST_IMAGE_ESP8266_V1] = "esp8266-v1",
    [FLEET_TEST_IMAGE_ESP8266_V2] = "esp8266-v2",
    [FLEET_TEST_IMAGE_ARDUINO] = "arduino-bin",
    [FLEET_TEST_IMAGE_ARDUINO_GZ] = "arduino-bin-gz",
    [FLEET_TEST_IMAGE_ESP8266_RTOS_V3] = "esp8266-rtos-v3",
    [FLEET_TEST_IMAGE_ESP32_SIGNED_RSA] = "esp32-signed-rsa",
    [FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA] = "esp32-signed-ecdsa",
    [FLEET_TEST_IMAGE_ESP8266_SIGNED] = "esp8266-signed",
    [FLEET_TEST_IMAGE_MERGED_FLASH] = "merged-flash",
};

const gchar *
fleet_test_image_kind_to_string(FleetTestImageKind kind)
{
	if ((guint)kind >= FLEET_TEST_IMAGE_LAST)
		return NULL;
	return kind_names[kind];
}

FleetTestImageKind
fleet_test_image_kind_from_string(const gchar *name)
{
	for (guint i = 0; i < FLEET_TEST_IMAGE_LAST; i++) {
		if (g_strcmp0(name, kind_names[i]) == 0)
			return (FleetTestImageKind)i;
	}
	return FLEET_TEST_IMAGE_LAST;
}

/* --- re-sealing --- */

enum {
	SEAL_CHECKSUM = 1 << 0,
	SEAL_SHA256 = 1 << 1,
	SEAL_SIGNATURE = 1 << 2,
	SEAL_ARDUINO_CRC = 1 << 3,
	SEAL_V2_CRC = 1 << 4,
	SEAL_ALL = 0xFF,
};

static gboolean
is_arduino(const FleetTestImage *img)
{
	return img->kind == FLEET_TEST_IMAGE_ARDUINO ||
	       img->kind == FLEET_TEST_IMAGE_ESP8266_SIGNED;
}

static void
reseal(FleetTestImage *img, guint what)
{
	guint8 *d = img->data->data;

	g_return_if_fail(img->kind != FLEET_TEST_IMAGE_ARDUINO_GZ);
	if ((what & SEAL_CHECKSUM) && img->checksum_offset < img->data->len) {
		guint8 checksum = CHECKSUM_SEED;
		for (guint i = 0; i < img->n_segments; i++) {
			gsize off = img->seg_header[i] + SEG_HDR;
			for (gsize k = 0; k < img->seg_len[i] && off + k < img->data->len; k++) {
				/* the Arduino CRC words count as the zeros they were */
				if (is_arduino(img) && off + k >= ARDUINO_CRC_LEN_AT &&
				    off + k < ARDUINO_CRC_LEN_AT + 8)
					continue;
				checksum ^= d[off + k];
			}
		}
		d[img->checksum_offset] = checksum;
	}
	if ((what & SEAL_SHA256) && img->hash_offset != 0 &&
	    img->hash_offset + 32 <= img->data->len)
		sha256_of(d + img->header_offset, img->hash_offset - img->header_offset,
			  d + img->hash_offset);
	if ((what & SEAL_SIGNATURE) && img->esp32_layout && img->sig_offset != 0 &&
	    img->sig_offset + SIG_SECTOR_LEN <= img->data->len) {
		guint8 *blk = d + img->sig_offset;
		sha256_of(d, img->sig_offset, blk + 4);
		put_u32(blk + SIG_CRC_AT, fleet_test_crc32_zlib(blk, SIG_CRC_AT));
	}
	if ((what & SEAL_ARDUINO_CRC) && is_arduino(img) && img->payload_len <= img->data->len)
		arduino_store_crc(img);
	if ((what & SEAL_V2_CRC) && img->kind == FLEET_TEST_IMAGE_ESP8266_V2 &&
	    img->image_end <= img->data->len) {
		guint32 crc = fleet_test_crc32_zlib(d, img->image_end - 4);
		crc = (crc & 0x80000000u) ? crc ^ 0xFFFFFFFFu : crc + 1;
		put_u32(d + img->image_end - 4, crc);
	}
}

void
fleet_test_image_reseal(FleetTestImage *img)
{
	reseal(img, SEAL_ALL);
}

void
fleet_test_image_flip_segment_byte(FleetTestImage *img, guint seg, gsize pos, guint8 mask)
{
	gsize off;
	g_return_if_fail(seg < img->n_segments && pos < img->seg_len[seg]);
	off = img->seg_header[seg] + SEG_HDR + pos;
	g_return_if_fail(off < img->data->len);
	img->data->data[off] ^= mask;
	reseal(img, SEAL_ALL & ~SEAL_CHECKSUM);
}

void
fleet_test_image_corrupt_sha256(FleetTestImage *img)
{
	g_return_if_fail(img->hash_offset != 0 && img->hash_offset + 32 <= img->data->len);
	img->data->data[img->hash_offset + 7] ^= 0x10;
	reseal(img, SEAL_SIGNATURE);
}

void
fleet_test_image_truncate(FleetTestImage *img, gsize len)
{
	g_return_if_fail(len <= img->data->len);
	g_byte_array_set_size(img->data, (guint)len);
}

void
fleet_test_image_set_segment_count(FleetTestImage *img, guint8 count)
{
	img->data->data[img->header_offset + 1] = count;
	reseal(img, SEAL_SHA256 | SEAL_SIGNATURE | SEAL_ARDUINO_CRC | SEAL_V2_CRC);
}

void
fleet_test_image_set_chip_id(FleetTestImage *img, guint16 chip_id)
{
	g_return_if_fail(img->esp32_layout);
	put_u16(img->data->data + img->header_offset + 12, chip_id);
	img->chip_id = chip_id;
	reseal(img, SEAL_SHA256 | SEAL_SIGNATURE);
}

void
fleet_test_image_set_hash_flag(FleetTestImage *img, guint8 flag)
{
	g_return_if_fail(img->esp32_layout);
	img->data->data[img->header_offset + 23] = flag;
}

void
fleet_test_image_corrupt_signature_block(FleetTestImage *img)
{
	g_return_if_fail(img->esp32_layout && img->sig_offset != 0);
	/* inside the RSA modulus or the EC public point, not the digest */
	img->data->data[img->sig_offset + 64] ^= 0x01;
}

void
fleet_test_image_modify_after_signing(FleetTestImage *img)
{
	/* "1.0.0" -> "9.0.0": segment 0 begins with the app description, version at +16 */
	g_return_if_fail(img->esp32_layout && img->sig_offset != 0);
	img->data->data[img->seg_header[0] + SEG_HDR + 16] = '9';
	reseal(img, SEAL_CHECKSUM | SEAL_SHA256);
}

void
fleet_test_image_corrupt_arduino_crc(FleetTestImage *img)
{
	g_return_if_fail(is_arduino(img) && img->eboot_len < ARDUINO_APP);
	/* the 0xAA fill after eboot: no checksum covers it, only the whole-file CRC */
	img->data->data[img->eboot_len] ^= 0x01;
}

void
fleet_test_image_set_first_byte(FleetTestImage *img, guint8 value)
{
	img->data->data[0] = value;
}

void
fleet_test_image_plant_partition_magic(FleetTestImage *img)
{
	g_return_if_fail(img->esp32_layout && img->header_offset == 0);
	for (guint i = 0; i < img->n_segments; i++) {
		gsize start = img->seg_header[i] + SEG_HDR;
		if (start <= PART_TABLE && PART_TABLE + 2 <= start + img->seg_len[i]) {
			img->data->data[PART_TABLE] = 0xAA;
			img->data->data[PART_TABLE + 1] = 0x50;
			/* a padding segment must stay zero for esptool, so plant only real data */
			reseal(img, SEAL_ALL);
			return;
		}
	}
	g_return_if_reached();
}

/* --- named images --- */

typedef enum {
	CORRUPT_NONE,
	CORRUPT_CHECKSUM,
	CORRUPT_SHA256,
	CORRUPT_TRUNCATED,
	CORRUPT_17_SEGMENTS,
	CORRUPT_UNALIGNED,
	CORRUPT_UNKNOWN_CHIP,
	CORRUPT_HASH_FLAG,
	CORRUPT_MMU,
	CORRUPT_SIG_CRC,
	CORRUPT_SIGNED_MODIFIED,
	CORRUPT_ARDUINO_CRC,
	CORRUPT_NOT_ESP,
} Corruption;

typedef struct {
	const gchar *name;
	FleetTestImageKind kind;
	Corruption corruption;
} NamedImage;

static const NamedImage named_corruptions[] = {
    {"esp32-bad-checksum", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_CHECKSUM},
    {"esp32-bad-sha256", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_SHA256},
    {"esp32-truncated", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_TRUNCATED},
    {"esp32-17-segments", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_17_SEGMENTS},
    {"esp32-unaligned-segment", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_UNALIGNED},
    {"esp32-unknown-chip", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_UNKNOWN_CHIP},
    {"esp32-hash-flag-5", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_HASH_FLAG},
    {"esp32-mmu-misaligned", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_MMU},
    {"esp32-signed-bad-crc", FLEET_TEST_IMAGE_ESP32_SIGNED_RSA, CORRUPT_SIG_CRC},
    {"esp32-signed-modified", FLEET_TEST_IMAGE_ESP32_SIGNED_RSA, CORRUPT_SIGNED_MODIFIED},
    {"arduino-bad-crc", FLEET_TEST_IMAGE_ARDUINO, CORRUPT_ARDUINO_CRC},
    {"not-esp", FLEET_TEST_IMAGE_ESP32_APP, CORRUPT_NOT_ESP},
};

const gchar *const *
fleet_test_image_names(void)
{
	static const gchar *names[FLEET_TEST_IMAGE_LAST + G_N_ELEMENTS(named_corruptions) + 1];
	guint n = 0;
	for (guint i = 0; i < FLEET_TEST_IMAGE_LAST; i++)
		names[n++] = kind_names[i];
	for (guint i = 0; i < G_N_ELEMENTS(named_corruptions); i++)
		names[n++] = named_corruptions[i].name;
	names[n] = NULL;
	return names;
}

FleetTestImage *
fleet_test_image_new_named(const gchar *name, const FleetTestImageOptions *options)
{
	FleetTestImageOptions o = {0};
	const NamedImage *named = NULL;
	FleetTestImageKind kind = fleet_test_image_kind_from_string(name);
	FleetTestImage *img;

	if (options != NULL)
		o = *options;
	if (kind != FLEET_TEST_IMAGE_LAST)
		return fleet_test_image_new(kind, &o);
	for (guint i = 0; i < G_N_ELEMENTS(named_corruptions); i++) {
		if (g_strcmp0(name, named_corruptions[i].name) == 0)
			named = &named_corruptions[i];
	}
	if (named == NULL)
		return NULL;
	if (named->corruption == CORRUPT_UNALIGNED)
		o.unaligned_segment_len = TRUE;
	if (named->corruption == CORRUPT_MMU)
		o.break_mmu_alignment = TRUE;
	img = fleet_test_image_new(named->kind, &o);
	switch (named->corruption) {
	case CORRUPT_CHECKSUM:
		fleet_test_image_flip_segment_byte(img, img->n_segments - 1, 3, 0x40);
		break;
	case CORRUPT_SHA256:
		fleet_test_image_corrupt_sha256(img);
		break;
	case CORRUPT_TRUNCATED:
		/* in the middle of the last segment's data */
		fleet_test_image_truncate(img, img->seg_header[img->n_segments - 1] + SEG_HDR +
						   img->seg_len[img->n_segments - 1] / 2);
		break;
	case CORRUPT_17_SEGMENTS:
		fleet_test_image_set_segment_count(img, 17);
		break;
	case CORRUPT_UNKNOWN_CHIP:
		fleet_test_image_set_chip_id(img, 0x0042);
		break;
	case CORRUPT_HASH_FLAG:
		fleet_test_image_set_hash_flag(img, 5);
		break;
	case CORRUPT_SIG_CRC:
		fleet_test_image_corrupt_signature_block(img);
		break;
	case CORRUPT_SIGNED_MODIFIED:
		fleet_test_image_modify_after_signing(img);
		break;
	case CORRUPT_ARDUINO_CRC:
		fleet_test_image_corrupt_arduino_crc(img);
		break;
	case CORRUPT_NOT_ESP:
		fleet_test_image_set_first_byte(img, 0x4D);
		break;
	case CORRUPT_UNALIGNED:
	case CORRUPT_MMU:
	case CORRUPT_NONE:
	default:
		break;
	}
	return img;
}
