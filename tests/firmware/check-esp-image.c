/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-esp-image.c - the firmware core's image parser, field by field, against the generator */

#include <check.h>
#include <glib.h>
#include <string.h>
#include <zlib.h>

#include "fleet-check-run.h"
#include "fleet-test-images.h"
#include "ota/ota-esp-image.h"
#include "ota/ota-util.h"

/* --- hash ops over GChecksum, plus one that fails --- */

typedef struct {
	GChecksum *sum;
	guint calls;
} HashState;

static int
hash_begin(void *user, enum ota_hash_kind kind)
{
	HashState *st = user;
	g_clear_pointer(&st->sum, g_checksum_free);
	st->sum = g_checksum_new(kind == OTA_HASH_MD5 ? G_CHECKSUM_MD5 : G_CHECKSUM_SHA256);
	st->calls++;
	return 0;
}

static int
hash_update(void *user, enum ota_hash_kind kind, const uint8_t *data, size_t len)
{
	HashState *st = user;
	g_checksum_update(st->sum, data, (gssize)len);
	return 0;
}

static int
hash_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	HashState *st = user;
	gsize n = kind == OTA_HASH_MD5 ? 16 : 32;
	g_checksum_get_digest(st->sum, out, &n);
	g_clear_pointer(&st->sum, g_checksum_free);
	return 0;
}

static int
hash_begin_fail(void *user, enum ota_hash_kind kind)
{
	return -5;
}

static gboolean
has_finding(const struct ota_esp_image *img, enum ota_finding_code code)
{
	for (guint i = 0; i < img->n_findings; i++) {
		if (img->findings[i].code == code)
			return TRUE;
	}
	return FALSE;
}

static gchar *
findings_to_string(const struct ota_esp_image *img)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < img->n_findings; i++)
		g_string_append_printf(s, " %s(%u,%u)",
				       ota_finding_id((enum ota_finding_code)img->findings[i].code),
				       img->findings[i].a, img->findings[i].b);
	return g_string_free(s, FALSE);
}

/* parse a heap copy of exactly the image's size, so ASan sees any read past the end */
static gboolean
parse_exact(const FleetTestImage *t, struct ota_esp_image *img, gboolean digests)
{
	g_autofree guint8 *copy = g_memdup2(t->data->data, t->data->len);
	HashState st = {NULL, 0};
	struct ota_hash_ops ops = {&st, hash_begin, hash_update, hash_finish};
	gboolean ok = ota_esp_image_parse(copy, t->data->len, img);
	if (digests)
		ok = ota_esp_image_check_digests(copy, t->data->len, img, &ops) && ok;
	g_clear_pointer(&st.sum, g_checksum_free);
	return ok;
}

/* --- CRCs --- */

START_TEST(test_crc_check_values)
{
	const uint8_t *s = (const uint8_t *)"123456789";
	ck_assert_uint_eq(ota_crc32_le(0, s, 9), 0xCBF43926u);
	ck_assert_uint_eq(ota_crc32_msb(0xFFFFFFFFu, s, 9), 0x0376E6E7u);
	ck_assert_uint_eq(ota_crc32_le(0, s, 0), 0);
	ck_assert_uint_eq(ota_crc32_msb(0xFFFFFFFFu, s, 0), 0xFFFFFFFFu);
}
END_TEST

/* against zlib and the generator's own CRC-32/MPEG-2, chained at every split point */
START_TEST(test_crc_random)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(1234 + (guint32)_i);
	guint8 buf[300];
	gsize len = (gsize)g_rand_int_range(rand, 1, sizeof(buf));
	for (gsize i = 0; i < len; i++)
		buf[i] = (guint8)g_rand_int_range(rand, 0, 256);
	ck_assert_uint_eq(ota_crc32_le(0, buf, len), (guint32)crc32(0, buf, (uInt)len));
	ck_assert_uint_eq(ota_crc32_le(0, buf, len), fleet_test_crc32_zlib(buf, len));
	ck_assert_uint_eq(ota_crc32_msb(0xFFFFFFFFu, buf, len), fleet_test_crc32_mpeg2(buf, len));
	for (gsize k = 0; k <= len; k++) {
		ck_assert_uint_eq(ota_crc32_le(ota_crc32_le(0, buf, k), buf + k, len - k),
				  ota_crc32_le(0, buf, len));
		ck_assert_uint_eq(
		    ota_crc32_msb(ota_crc32_msb(0xFFFFFFFFu, buf, k), buf + k, len - k),
		    ota_crc32_msb(0xFFFFFFFFu, buf, len));
	}
}
END_TEST

/* --- round trip: what the generator wrote is what the parser reads --- */

static void
check_layout(const FleetTestImage *t, const struct ota_esp_image *img)
{
	guint first = t->kind == FLEET_TEST_IMAGE_ESP8266_V2 ? 1 : 0;
	ck_assert_uint_eq(img->file_len, t->data->len);
	ck_assert_uint_eq(img->header_offset, t->header_offset);
	ck_assert_uint_eq(img->segment_count, t->n_segments);
	ck_assert_uint_eq(img->segments_parsed, t->n_segments + first);
	for (guint i = 0; i < t->n_segments; i++) {
		ck_assert_uint_eq(img->segments[i + first].load_addr, t->seg_addr[i]);
		ck_assert_uint_eq(img->segments[i + first].data_len, t->seg_len[i]);
		ck_assert_uint_eq(img->segments[i + first].data_offset, t->seg_header[i] + 8);
	}
	ck_assert(img->checksum_present);
	ck_assert_uint_eq(img->checksum_offset, t->checksum_offset);
	ck_assert_uint_eq(img->checksum_stored, t->data->data[t->checksum_offset]);
	ck_assert_uint_eq(img->checksum_computed, img->checksum_stored);
	ck_assert_uint_eq(img->entry_addr, t->entry);
	ck_assert_uint_eq(img->flash_mode, t->flash_mode);
	ck_assert_uint_eq(img->flash_size_code, t->flash_size_freq >> 4);
	ck_assert_uint_eq(img->flash_freq_code, t->flash_size_freq & 0x0F);
	ck_assert_uint_eq(img->image_len, t->image_end);
	ck_assert_uint_eq(img->payload_len, t->payload_len);
	ck_assert_uint_eq(img->hash_offset, t->hash_offset);
	ck_assert_int_eq(img->hash_present, t->hash_offset != 0);
}

static void
check_app_desc(const FleetTestImage *t, const struct ota_esp_image *img)
{
	ck_assert(img->has_app_desc);
	ck_assert_str_eq(img->app_desc.version, t->version);
	ck_assert_str_eq(img->app_desc.project_name, t->project);
	ck_assert_str_eq(img->app_desc.time, "12:34:56");
	ck_assert_str_eq(img->app_desc.date, "Nov 21 2026");
	ck_assert_str_eq(img->app_desc.idf_ver, "v5.3.1");
	ck_assert_mem_eq(img->app_desc.app_elf_sha256, t->elf_sha256, 32);
	ck_assert_uint_eq(img->app_desc.secure_version, 0);
	ck_assert_uint_eq(img->app_desc.spi_flash_mode, 2);
}

START_TEST(test_roundtrip_esp32)
{
	static const struct {
		FleetTestImageKind kind;
		enum ota_chip chip;
		uint16_t chip_id;
		uint16_t max_rev;
		uint32_t flash_size;
	} cases[] = {
	    {FLEET_TEST_IMAGE_ESP32_APP, OTA_CHIP_ESP32, 0, 399, 4u << 20},
	    {FLEET_TEST_IMAGE_ESP32S3_APP, OTA_CHIP_ESP32S3, 9, 99, 8u << 20},
	    {FLEET_TEST_IMAGE_ESP32C3_APP, OTA_CHIP_ESP32C3, 5, 199, 4u << 20},
	    {FLEET_TEST_IMAGE_ESP32_APP_NO_HASH, OTA_CHIP_ESP32, 0, 399, 4u << 20},
	};
	for (guint small = 0; small < 2; small++) {
		for (guint k = 0; k < G_N_ELEMENTS(cases); k++) {
			FleetTestImageOptions o = {.small = small,
						   .version = "v1.2.3-31-characters-long-xyzw",
						   .project = "a-project"};
			g_autoptr(FleetTestImage) t = fleet_test_image_new(cases[k].kind, &o);
			struct ota_esp_image img;
			g_autofree gchar *f = NULL;
			gboolean ok = parse_exact(t, &img, TRUE);
			f = findings_to_string(&img);
			ck_assert_msg(ok, "%s:%s", fleet_test_image_kind_to_string(cases[k].kind),
				      f);
			ck_assert_int_eq(img.kind, OTA_IMAGE_ESP32_APP);
			ck_assert_int_eq(img.chip, cases[k].chip);
			ck_assert_uint_eq(img.chip_id, cases[k].chip_id);
			ck_assert_uint_eq(img.flash_size, cases[k].flash_size);
			ck_assert_uint_eq(img.max_chip_rev_full, cases[k].max_rev);
			ck_assert_uint_eq(img.min_chip_rev_full, cases[k].chip_id == 5 ? 3 : 0);
			ck_assert_uint_eq(img.wp_pin, 0xEE);
			ck_assert_uint_eq(img.hash_appended, t->hash_offset != 0);
			check_layout(t, &img);
			check_app_desc(t, &img);
			ck_assert(
			    has_finding(&img, t->hash_offset != 0 ? OTA_F_HASH_OK : OTA_F_NO_HASH));
			ck_assert_uint_eq(img.sig_blocks, 0);
			ck_assert_uint_eq(img.esp8266_sig_len, 0);
			/* the padding segment esptool inserts (big images only) */
			ck_assert_uint_eq(t->n_padding_segments, small ? 0 : 1);
		}
	}
}
END_TEST

START_TEST(test_roundtrip_esp8266)
{
	for (guint small = 0; small < 2; small++) {
		FleetTestImageOptions o = {.small = small};
		g_autoptr(FleetTestImage) v1 =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_V1, &o);
		g_autoptr(FleetTestImage) v2 =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_V2, &o);
		g_autoptr(FleetTestImage) ard = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, &o);
		g_autoptr(FleetTestImage) v3 =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_RTOS_V3, &o);
		struct ota_esp_image img;

		ck_assert(parse_exact(v1, &img, TRUE));
		ck_assert_int_eq(img.kind, OTA_IMAGE_ESP8266_V1);
		ck_assert_int_eq(img.chip, OTA_CHIP_ESP8266);
		ck_assert_uint_eq(img.flash_size, 4u << 20);
		check_layout(v1, &img);
		ck_assert(has_finding(&img, OTA_F_V1_NO_EBOOT));

		ck_assert(parse_exact(v2, &img, TRUE));
		ck_assert_int_eq(img.kind, OTA_IMAGE_ESP8266_V2);
		check_layout(v2, &img);
		ck_assert_uint_eq(img.segments[0].load_addr, 0);
		ck_assert_uint_eq(img.segments[0].data_offset, 16);
		ck_assert_uint_eq(img.segments[0].data_len, v2->header_offset - 16);
		ck_assert(!has_finding(&img, OTA_F_V2_CRC_MISMATCH));
		ck_assert(!has_finding(&img, OTA_F_V2_HEADER_COUNT));

		ck_assert(parse_exact(ard, &img, TRUE));
		ck_assert_int_eq(img.kind, OTA_IMAGE_ESP8266_ARDUINO);
		check_layout(ard, &img);
		ck_assert_uint_eq(img.header_offset, 0x1000);
		ck_assert_uint_eq(img.eboot_len, ard->eboot_len);
		ck_assert(img.arduino_crc_present);
		ck_assert_uint_eq(img.arduino_crc_len, ard->data->len);
		ck_assert_uint_eq(img.arduino_crc_stored, img.arduino_crc_computed);
		ck_assert(has_finding(&img, OTA_F_ARDUINO_CRC_OK));
		/* elf2bin stores the CRC after computing the checksum: the stored checksum
		 * byte is the XOR of the data with zeros where the CRC words now are */
		ck_assert(!has_finding(&img, OTA_F_CHECKSUM_MISMATCH));

		ck_assert(parse_exact(v3, &img, TRUE));
		ck_assert_int_eq(img.kind, OTA_IMAGE_ESP8266_V3);
		ck_assert_int_eq(img.chip, OTA_CHIP_ESP8266);
		ck_assert_uint_eq(img.chip_id, 0);
		check_layout(v3, &img);
		check_app_desc(v3, &img);
		ck_assert(has_finding(&img, OTA_F_RTOS_SDK_V3));
		ck_assert(has_finding(&img, OTA_F_HASH_OK));
	}
}
END_TEST

START_TEST(test_roundtrip_signed)
{
	for (guint k = FLEET_TEST_IMAGE_ESP32_SIGNED_RSA; k <= FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA;
	     k++) {
		g_autoptr(FleetTestImage) t = fleet_test_image_new(k, NULL);
		struct ota_esp_image img;
		ck_assert(parse_exact(t, &img, TRUE));
		ck_assert_uint_eq(img.sig_sector_offset, t->sig_offset);
		ck_assert_uint_eq(img.sig_sector_offset % 4096, 0);
		ck_assert_uint_eq(img.payload_len, t->sig_offset);
		ck_assert_uint_eq(img.sig_blocks, 1);
		ck_assert_int_eq(img.sig_scheme[0], k == FLEET_TEST_IMAGE_ESP32_SIGNED_RSA
							? OTA_SIG_RSA3072_PSS
							: OTA_SIG_ECDSA_P256);
		ck_assert(img.sig_block_ok[0]);
		ck_assert(has_finding(&img, OTA_F_SIG_SBV2));
		ck_assert(!has_finding(&img, OTA_F_SIG_DIGEST_MISMATCH));
		ck_assert(!has_finding(&img, OTA_F_TRAILING_DATA));
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_SIGNED, NULL);
		struct ota_esp_image img;
		ck_assert(parse_exact(t, &img, TRUE));
		ck_assert_int_eq(img.kind, OTA_IMAGE_ESP8266_ARDUINO);
		ck_assert_uint_eq(img.esp8266_sig_len, 256);
		ck_assert_uint_eq(img.payload_len, t->sig_offset);
		ck_assert(has_finding(&img, OTA_F_ARDUINO_CRC_OK));
	}
}
END_TEST

/* a second block and an ECDSA P-384 block: counted, P-384 digests left to the verifier */
START_TEST(test_signature_blocks)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_SIGNED_RSA, NULL);
	guint8 *blk2 = t->data->data + t->sig_offset + 1216;
	struct ota_esp_image img;
	memset(blk2, 0, 1216);
	blk2[0] = 0xE7;
	blk2[1] = 0x03;
	blk2[2] = 1;  /* SHA-384 */
	blk2[52] = 3; /* P-384 */
	ota_put_u32le(blk2 + 1196, ota_crc32_le(0, blk2, 1196));
	ck_assert(parse_exact(t, &img, TRUE));
	ck_assert_uint_eq(img.sig_blocks, 2);
	ck_assert_int_eq(img.sig_scheme[1], OTA_SIG_ECDSA_P384);
	ck_assert(img.sig_block_ok[1]);
	/* an unknown curve in block 1 is a damaged block */
	blk2[2] = 0;
	blk2[36] = 9;
	ota_put_u32le(blk2 + 1196, ota_crc32_le(0, blk2, 1196));
	ck_assert(!parse_exact(t, &img, TRUE));
	ck_assert(has_finding(&img, OTA_F_SIG_SBV2_BAD_BLOCK));
}
END_TEST

/* the Secure Boot v1 trailer: 68 bytes after the SHA-256, version word 0 */
START_TEST(test_sbv1_trailer)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	guint8 trailer[68] = {0};
	struct ota_esp_image img;
	memset(trailer + 4, 0x42, 64);
	g_byte_array_append(t->data, trailer, sizeof(trailer));
	ck_assert(parse_exact(t, &img, TRUE));
	ck_assert(img.sig_sbv1);
	ck_assert(has_finding(&img, OTA_F_SIG_SBV1));
}
END_TEST

START_TEST(test_gzip_and_merged)
{
	g_autoptr(FleetTestImage) gz = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO_GZ, NULL);
	g_autoptr(FleetTestImage) merged =
	    fleet_test_image_new(FLEET_TEST_IMAGE_MERGED_FLASH, NULL);
	struct ota_esp_image img;
	ck_assert(parse_exact(gz, &img, FALSE));
	ck_assert_int_eq(img.kind, OTA_IMAGE_GZIP);
	ck_assert(has_finding(&img, OTA_F_GZIP));
	ck_assert(!parse_exact(merged, &img, FALSE));
	ck_assert_int_eq(img.kind, OTA_IMAGE_MERGED_FLASH);
	ck_assert_uint_eq(img.findings[0].code, OTA_F_MERGED_FLASH);
	ck_assert_uint_eq(img.findings[0].a, merged->merged_app_offset);
}
END_TEST

/* --- findings of corrupted images, raw codes and arguments --- */

START_TEST(test_corruptions)
{
	struct ota_esp_image img;
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		guint8 before;
		fleet_test_image_flip_segment_byte(t, 0, 300, 0x20);
		before = t->data->data[t->checksum_offset];
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_CHECKSUM_MISMATCH));
		ck_assert(has_finding(&img, OTA_F_HASH_OK));
		ck_assert_uint_eq(img.checksum_stored, before);
		ck_assert_uint_eq(img.checksum_computed, before ^ 0x20);
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		fleet_test_image_corrupt_sha256(t);
		/* the structure is fine; only the digest check finds it */
		ck_assert(parse_exact(t, &img, FALSE));
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_HASH_MISMATCH));
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		fleet_test_image_truncate(t, t->seg_header[2] + 8 + 100);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert_uint_eq(img.findings[0].code, OTA_F_SEGMENT_PAST_END);
		ck_assert_uint_eq(img.findings[0].a, 2);
		ck_assert_uint_eq(img.findings[0].b, t->seg_len[2] - 100);
		ck_assert_uint_eq(img.segments_parsed, 2);
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		fleet_test_image_set_segment_count(t, 17);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_TOO_MANY_SEGMENTS));
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		fleet_test_image_set_segment_count(t, 0);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_NO_SEGMENTS));
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		fleet_test_image_set_chip_id(t, 0x0042);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_CHIP_UNKNOWN));
		ck_assert_int_eq(img.chip, OTA_CHIP_UNKNOWN);
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		fleet_test_image_set_hash_flag(t, 5);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_HASH_FLAG_INVALID));
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		/* a reserved header byte: a warning, as esptool only warns */
		t->data->data[20] = 1;
		fleet_test_image_reseal(t);
		ck_assert(parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_RESERVED_NONZERO));
	}
	{
		FleetTestImageOptions o = {.break_mmu_alignment = TRUE};
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32S3_APP, &o);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_MMU_MISALIGNED));
	}
	{
		FleetTestImageOptions o = {.unaligned_segment_len = TRUE};
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32C3_APP, &o);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_SEGMENT_LEN_ALIGN));
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA, NULL);
		fleet_test_image_modify_after_signing(t);
		ck_assert(parse_exact(t, &img, FALSE));
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_SIG_DIGEST_MISMATCH));
	}
	{
		g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, NULL);
		fleet_test_image_corrupt_arduino_crc(t);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_ARDUINO_CRC_MISMATCH));
		ck_assert_uint_ne(img.arduino_crc_stored, img.arduino_crc_computed);
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_V2, NULL);
		t->data->data[1] = 7;
		fleet_test_image_reseal(t);
		ck_assert(parse_exact(t, &img, TRUE));
		ck_assert(has_finding(&img, OTA_F_V2_HEADER_COUNT));
	}
	{
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
		fleet_test_image_set_first_byte(t, 0x4D);
		ck_assert(!parse_exact(t, &img, TRUE));
		ck_assert_uint_eq(img.n_findings, 1);
		ck_assert_uint_eq(img.findings[0].code, OTA_F_NOT_ESP);
		ck_assert_uint_eq(img.findings[0].a, 0x4D);
	}
}
END_TEST

/* an Arduino .bin cut at each point of its first 4 KiB is never a usable image */
START_TEST(test_arduino_cut_early)
{
	FleetTestImageOptions o = {.small = TRUE};
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, &o);
	for (gsize n = 0; n < 0x1100; n++) {
		struct ota_esp_image img;
		ck_assert_msg(!ota_esp_image_parse(t->data->data, n, &img), "usable at %zu", n);
	}
}
END_TEST

/* --- API pieces --- */

START_TEST(test_digests_hash_failure)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_SIGNED_RSA, NULL);
	struct ota_hash_ops failing = {NULL, hash_begin_fail, hash_update, hash_finish};
	struct ota_hash_ops missing = {NULL, NULL, NULL, NULL};
	HashState st = {NULL, 0};
	struct ota_hash_ops ops = {&st, hash_begin, hash_update, hash_finish};
	struct ota_esp_image img;
	ck_assert(ota_esp_image_parse(t->data->data, t->data->len, &img));
	ck_assert(!ota_esp_image_check_digests(t->data->data, t->data->len, &img, &failing));
	ck_assert(!ota_esp_image_check_digests(t->data->data, t->data->len, &img, &missing));
	/* one hash for the appended SHA-256, one for the signature digest */
	ck_assert(ota_esp_image_check_digests(t->data->data, t->data->len, &img, &ops));
	ck_assert_uint_eq(st.calls, 2);
}
END_TEST

START_TEST(test_empty_and_tiny)
{
	struct ota_esp_image img;
	const uint8_t e9 = 0xE9;
	const uint8_t gz[2] = {0x1F, 0x8B};
	const uint8_t ea[8] = {0xEA, 4, 2, 0x40, 0, 0, 0x10, 0x40};
	ck_assert(!ota_esp_image_parse(NULL, 0, &img));
	ck_assert_uint_eq(img.findings[0].code, OTA_F_EMPTY);
	ck_assert(!ota_esp_image_parse(&e9, 1, &img));
	ck_assert(has_finding(&img, OTA_F_TRUNCATED_HEADER));
	ck_assert(!ota_esp_image_parse(gz, 1, &img));
	ck_assert(ota_esp_image_parse(gz, 2, &img));
	ck_assert_int_eq(img.kind, OTA_IMAGE_GZIP);
	ck_assert(!ota_esp_image_parse(ea, sizeof(ea), &img));
	ck_assert(has_finding(&img, OTA_F_TRUNCATED_HEADER));
}
END_TEST

/* parsing is a pure function of the bytes: twice gives the same struct, bit for bit */
START_TEST(test_deterministic)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new((FleetTestImageKind)_i, NULL);
	struct ota_esp_image a;
	struct ota_esp_image b;
	memset(&a, 0xA5, sizeof(a));
	memset(&b, 0x5A, sizeof(b));
	ota_esp_image_parse(t->data->data, t->data->len, &a);
	ota_esp_image_parse(t->data->data, t->data->len, &b);
	ck_assert_mem_eq(&a, &b, sizeof(a));
}
END_TEST

START_TEST(test_finding_table)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint c = 0; c < OTA_F_LAST; c++) {
		const char *id = ota_finding_id((enum ota_finding_code)c);
		enum ota_severity sev = ota_finding_severity((enum ota_finding_code)c);
		ck_assert_msg(g_strcmp0(id, "unknown") != 0, "code %u has no id", c);
		ck_assert_msg(!g_hash_table_contains(seen, id), "id %s twice", id);
		g_hash_table_add(seen, (gpointer)id);
		ck_assert_int_le(sev, OTA_SEV_ERROR);
		/* ids are stable machine text: lowercase, digits and '-' */
		for (const char *p = id; *p != '\0'; p++)
			ck_assert((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
				  *p == '-');
	}
	ck_assert_str_eq(ota_finding_id(OTA_F_LAST), "unknown");
	ck_assert_int_eq(ota_finding_severity(OTA_F_LAST), OTA_SEV_ERROR);
	ck_assert_str_eq(ota_finding_id(OTA_F_CHECKSUM_MISMATCH), "checksum-mismatch");
	ck_assert_str_eq(ota_finding_id(OTA_F_HASH_MISMATCH), "sha256-mismatch");
	ck_assert_str_eq(ota_finding_id(OTA_F_SEGMENT_PAST_END), "segment-past-end");
	ck_assert_str_eq(ota_finding_id(OTA_F_NOT_ESP), "not-esp-image");
}
END_TEST

/* the finding list is bounded, and an error is never the one dropped */
START_TEST(test_finding_overflow)
{
	struct ota_esp_image img;
	memset(&img, 0, sizeof(img));
	for (guint i = 0; i < OTA_ESP_MAX_FINDINGS + 5; i++)
		ota_esp_image_add_finding(&img, OTA_F_TRAILING_PADDING, i, 0);
	ck_assert_uint_eq(img.n_findings, OTA_ESP_MAX_FINDINGS);
	ck_assert(img.findings_overflow);
	ck_assert(!ota_esp_image_has_errors(&img));
	ota_esp_image_add_finding(&img, OTA_F_CHECKSUM_MISMATCH, 1, 2);
	ck_assert(ota_esp_image_has_errors(&img));
	ck_assert_uint_eq(img.n_findings, OTA_ESP_MAX_FINDINGS);
}
END_TEST

START_TEST(test_chip_names)
{
	for (guint c = OTA_CHIP_ESP8266; c < OTA_CHIP_LAST; c++) {
		const char *id = ota_chip_id_string((enum ota_chip)c);
		const char *name = ota_chip_name((enum ota_chip)c);
		ck_assert_str_ne(id, "unknown");
		ck_assert_int_eq(ota_chip_from_string(id), c);
		ck_assert_int_eq(ota_chip_from_string(name), c);
	}
	ck_assert_int_eq(ota_chip_from_id(0), OTA_CHIP_ESP32);
	ck_assert_int_eq(ota_chip_from_id(5), OTA_CHIP_ESP32C3);
	ck_assert_int_eq(ota_chip_from_id(9), OTA_CHIP_ESP32S3);
	ck_assert_int_eq(ota_chip_from_id(0x0020), OTA_CHIP_ESP32S31);
	ck_assert_int_eq(ota_chip_from_id(0xFFFF), OTA_CHIP_UNKNOWN);
	ck_assert_int_eq(ota_chip_from_id(0x0042), OTA_CHIP_UNKNOWN);
	ck_assert_int_eq(ota_chip_from_string("ESP32-S3"), OTA_CHIP_ESP32S3);
	ck_assert_int_eq(ota_chip_from_string("esp32_c3"), OTA_CHIP_ESP32C3);
	ck_assert_int_eq(ota_chip_from_string("ESP8285"), OTA_CHIP_ESP8266);
	ck_assert_int_eq(ota_chip_from_string("esp32s"), OTA_CHIP_UNKNOWN);
	ck_assert_int_eq(ota_chip_from_string("esp32s33"), OTA_CHIP_UNKNOWN);
	ck_assert_int_eq(ota_chip_from_string(""), OTA_CHIP_UNKNOWN);
	ck_assert_int_eq(ota_chip_from_string(NULL), OTA_CHIP_UNKNOWN);
	ck_assert_str_eq(ota_chip_name(OTA_CHIP_UNKNOWN), "unknown");
}
END_TEST

START_TEST(test_names_and_tables)
{
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP32, 0xF), 80);
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP32, 0x0), 40);
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP8266, 0x1), 26);
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP32S3, 0x2), 20);
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP32C2, 0xF), 60);
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP32H2, 0x0), 24);
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP32C6, 0x1), 0);
	ck_assert_uint_eq(ota_flash_freq_mhz(OTA_CHIP_ESP32, 0x7), 0);
	ck_assert_str_eq(ota_flash_mode_name(0), "QIO");
	ck_assert_str_eq(ota_flash_mode_name(3), "DOUT");
	ck_assert_str_eq(ota_flash_mode_name(6), "unknown");
	ck_assert_str_eq(ota_sig_scheme_name(OTA_SIG_RSA3072_PSS), "RSA-3072-PSS");
	ck_assert_str_eq(ota_sig_scheme_name(OTA_SIG_NONE), "none");
	ck_assert_str_eq(ota_image_kind_id(OTA_IMAGE_ESP8266_V3), "esp8266-rtos-v3");
	ck_assert_str_eq(ota_image_kind_id(OTA_IMAGE_UNKNOWN), "unknown");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP32, 0x3F400020), "DROM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP32, 0x400D0020), "IROM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP32, 0x40080000), "IRAM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP32, 0x3FFB0000), "DRAM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP32, 0x50000000), "RTC");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP32, 0), "padding");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP32C3, 0x42000020), "IROM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP8266, 0x40201010), "IROM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP8266, 0x40100000), "IRAM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP8266, 0x3FFE8000), "DRAM");
	ck_assert_str_eq(ota_segment_memory(OTA_CHIP_ESP8266, 0x60000000), "?");
}
END_TEST

/* --- the reader interface: however the bytes are cut, the result is the same --- */

/* hands out at most @piece bytes per read(), fails any read that covers @fail_at */
typedef struct {
	const guint8 *data;
	gsize len;
	gsize piece;
	gsize fail_at;
	guint calls;
	gboolean outside; /* the parser asked for bytes outside [0, size) */
	gsize biggest;
} AwkwardReader;

static int
awkward_read(void *user, size_t off, uint8_t *buf, size_t len)
{
	AwkwardReader *ar = user;
	gsize n = MIN(len, ar->piece);
	ar->calls++;
	ar->biggest = MAX(ar->biggest, len);
	if (len == 0 || off > ar->len || len > ar->len - off) {
		ar->outside = TRUE;
		return -1;
	}
	if (ar->fail_at >= off && ar->fail_at < off + n)
		return -7;
	memcpy(buf, ar->data + off, n);
	return (int)n;
}

static void
awkward_init(AwkwardReader *ar,
	     struct ota_reader *r,
	     const guint8 *data,
	     gsize len,
	     gsize piece,
	     guint8 *scratch,
	     gsize scratch_len)
{
	memset(ar, 0, sizeof(*ar));
	ar->data = data;
	ar->len = len;
	ar->piece = piece;
	ar->fail_at = G_MAXSIZE;
	memset(r, 0, sizeof(*r));
	r->user = ar;
	r->read = awkward_read;
	r->size = len;
	r->scratch = scratch;
	r->scratch_len = scratch_len;
}

static guint
count_finding(const struct ota_esp_image *img, enum ota_finding_code code)
{
	guint n = 0;
	for (guint i = 0; i < img->n_findings; i++)
		n += img->findings[i].code == code;
	return n;
}

/* the memory parse (+ digests) of @data, and the same through readers cut every which way */
static void
check_readers_agree(const guint8 *data, gsize len, const gchar *what)
{
	static const struct {
		gsize piece;
		gsize scratch_len; /* 0: no scratch buffer, the parser's own on the stack */
	} cuts[] = {{1, 1}, {1, 0}, {7, 7}, {7, 64}, {4096, 4096}, {4096, 0}, {100000, 3}};
	HashState st = {NULL, 0};
	struct ota_hash_ops ops = {&st, hash_begin, hash_update, hash_finish};
	struct ota_esp_image ref;
	struct ota_esp_image got;
	gboolean ref_ok;
	gboolean ref_digests;

	memset(&ref, 0xA5, sizeof(ref));
	ref_ok = ota_esp_image_parse(data, len, &ref);
	ref_digests = ota_esp_image_check_digests(data, len, &ref, &ops);
	ck_assert_msg(count_finding(&ref, OTA_F_READ_ERROR) == 0, "%s", what);
	for (guint c = 0; c < G_N_ELEMENTS(cuts); c++) {
		g_autofree guint8 *scratch =
		    cuts[c].scratch_len ? g_malloc(cuts[c].scratch_len) : NULL;
		AwkwardReader ar;
		struct ota_reader r;
		gboolean ok;
		awkward_init(&ar, &r, data, len, cuts[c].piece, scratch, cuts[c].scratch_len);
		memset(&got, 0x5A, sizeof(got));
		ok = ota_esp_image_parse_reader(&r, &got);
		ck_assert_msg(ok == ref_ok, "%s, pieces of %zu: %d vs %d", what, cuts[c].piece, ok,
			      ref_ok);
		ok = ota_esp_image_check_digests_reader(&r, &got, &ops);
		ck_assert_msg(ok == ref_digests, "%s, pieces of %zu: digests", what, cuts[c].piece);
		ck_assert_msg(memcmp(&ref, &got, sizeof(ref)) == 0,
			      "%s, pieces of %zu, scratch %zu", what, cuts[c].piece,
			      cuts[c].scratch_len);
		ck_assert(!ar.outside);
		ck_assert_uint_le(ar.biggest, 65536);
		/* big pieces and a big scratch buffer: chunks, never byte by byte */
		if (cuts[c].piece == 4096 && cuts[c].scratch_len == 4096)
			ck_assert_msg(ar.calls <= 6 * (len / 4096 + 1) + 64,
				      "%s: %u reads of %zu bytes", what, ar.calls, len);
	}
	g_clear_pointer(&st.sum, g_checksum_free);
}

START_TEST(test_reader_kinds)
{
	FleetTestImageOptions small = {.small = TRUE};
	g_autoptr(FleetTestImage) t = fleet_test_image_new((FleetTestImageKind)_i, NULL);
	g_autoptr(FleetTestImage) s = fleet_test_image_new((FleetTestImageKind)_i, &small);
	check_readers_agree(t->data->data, t->data->len, fleet_test_image_kind_to_string(t->kind));
	check_readers_agree(s->data->data, s->data->len, fleet_test_image_kind_to_string(s->kind));
}
END_TEST

/* every named corruption, cut at many lengths: the damaged paths agree too */
START_TEST(test_reader_corruptions)
{
	const gchar *const *names = fleet_test_image_names();
	FleetTestImageOptions small = {.small = TRUE};
	for (guint i = 0; names[i] != NULL; i++) {
		g_autoptr(FleetTestImage) t = fleet_test_image_new_named(names[i], &small);
		gsize len = t->data->len;
		ck_assert_ptr_nonnull(t);
		for (gsize cut = 0; cut <= len; cut += (cut < 64 ? 1 : 97)) {
			g_autofree gchar *what = g_strdup_printf("%s cut to %zu", names[i], cut);
			check_readers_agree(t->data->data, cut, what);
		}
		check_readers_agree(t->data->data, len, names[i]);
	}
}
END_TEST

/* a read that fails is one error finding; what the parser did not need to read is not */
START_TEST(test_reader_failure)
{
	static const FleetTestImageKind kinds[] = {
	    FLEET_TEST_IMAGE_ESP32_APP,	      FLEET_TEST_IMAGE_ARDUINO,
	    FLEET_TEST_IMAGE_ESP8266_V2,      FLEET_TEST_IMAGE_ESP32_SIGNED_RSA,
	    FLEET_TEST_IMAGE_ESP8266_SIGNED,  FLEET_TEST_IMAGE_MERGED_FLASH,
	    FLEET_TEST_IMAGE_ESP8266_RTOS_V3,
	};
	FleetTestImageOptions small = {.small = TRUE};
	g_autoptr(FleetTestImage) t = fleet_test_image_new(kinds[_i], &small);
	const guint8 *data = t->data->data;
	gsize len = t->data->len;
	guint8 scratch[4096];
	HashState st = {NULL, 0};
	struct ota_hash_ops ops = {&st, hash_begin, hash_update, hash_finish};
	struct ota_esp_image ref;
	gboolean ref_ok = ota_esp_image_parse(data, len, &ref);

	for (gsize at = 0; at < len; at += (at < 48 ? 1 : 37)) {
		AwkwardReader ar;
		struct ota_reader r;
		struct ota_esp_image img;
		gboolean ok;
		awkward_init(&ar, &r, data, len, at % 2 ? 4096 : 5, scratch, at % 3 ? 4096 : 11);
		ar.fail_at = at;
		ok = ota_esp_image_parse_reader(&r, &img);
		if (count_finding(&img, OTA_F_READ_ERROR) == 0) {
			/* the parser never needed byte @at */
			ck_assert_msg(memcmp(&ref, &img, sizeof(ref)) == 0, "%s, failing at %zu",
				      fleet_test_image_kind_to_string(t->kind), at);
			ck_assert(ok == ref_ok);
			continue;
		}
		ck_assert(!ok);
		ck_assert(ota_esp_image_has_errors(&img));
		ck_assert_uint_eq(count_finding(&img, OTA_F_READ_ERROR), 1);
		for (guint i = 0; i < img.n_findings; i++) {
			if (img.findings[i].code == OTA_F_READ_ERROR) {
				ck_assert_uint_le(img.findings[i].a, at);
				ck_assert_uint_eq(img.findings[i].severity, OTA_SEV_ERROR);
			}
		}
		ck_assert(!ar.outside);
	}
	/* the header is always read; so is every byte of segment data (the checksum) */
	{
		AwkwardReader ar;
		struct ota_reader r;
		struct ota_esp_image img;
		awkward_init(&ar, &r, data, len, 64, scratch, sizeof(scratch));
		ar.fail_at = 0;
		ck_assert(!ota_esp_image_parse_reader(&r, &img));
		ck_assert_uint_eq(count_finding(&img, OTA_F_READ_ERROR), 1);
		ck_assert_uint_eq(img.findings[0].code, OTA_F_READ_ERROR);
		if (ref.segments_parsed > 0) {
			awkward_init(&ar, &r, data, len, 64, scratch, sizeof(scratch));
			ar.fail_at = ref.segments[ref.segments_parsed - 1].data_offset;
			ck_assert(!ota_esp_image_parse_reader(&r, &img));
			ck_assert_uint_eq(count_finding(&img, OTA_F_READ_ERROR), 1);
		}
	}
	/* digests: a failure inside the hashed bytes is an error, not a mismatch */
	if (ref.hash_present) {
		AwkwardReader ar;
		struct ota_reader r;
		struct ota_esp_image img;
		ck_assert(ota_esp_image_parse(data, len, &img));
		awkward_init(&ar, &r, data, len, 4096, scratch, sizeof(scratch));
		ar.fail_at = ref.hash_offset / 2;
		ck_assert(!ota_esp_image_check_digests_reader(&r, &img, &ops));
		ck_assert_uint_eq(count_finding(&img, OTA_F_READ_ERROR), 1);
		ck_assert(!has_finding(&img, OTA_F_HASH_OK));
		ck_assert(!has_finding(&img, OTA_F_HASH_MISMATCH));
		/* the port's hash context was closed: the next digest starts afresh */
		ck_assert(ota_esp_image_check_digests(data, len, &img, &ops));
		ck_assert(has_finding(&img, OTA_F_HASH_OK));
		ck_assert_mem_eq(img.hash_stored, data + ref.hash_offset, 32);
	}
	g_clear_pointer(&st.sum, g_checksum_free);
}
END_TEST

/* a flash slot: the image ends where its structure says; stale bytes after it are ignored */
START_TEST(test_reader_open_ended)
{
	static const FleetTestImageKind kinds[] = {
	    FLEET_TEST_IMAGE_ESP32_APP,	     FLEET_TEST_IMAGE_ESP32_APP_NO_HASH,
	    FLEET_TEST_IMAGE_ESP8266_V1,     FLEET_TEST_IMAGE_ARDUINO,
	    FLEET_TEST_IMAGE_ESP8266_SIGNED, FLEET_TEST_IMAGE_ESP32_SIGNED_RSA,
	};
	FleetTestImageOptions small = {.small = TRUE};
	g_autoptr(FleetTestImage) t = fleet_test_image_new(kinds[_i], &small);
	gsize len = t->data->len;
	gsize slot = 0x10000;
	g_autofree guint8 *flash = g_malloc(slot);
	HashState st = {NULL, 0};
	struct ota_hash_ops ops = {&st, hash_begin, hash_update, hash_finish};
	struct ota_esp_image exact;
	struct ota_esp_image img;
	AwkwardReader ar;
	struct ota_reader r;
	guint32 seed = 7;

	/* what an earlier, longer image left behind: garbage, a signature block magic at
	 * the next 4 KiB boundary and a partition table magic at 0x8000 */
	memcpy(flash, t->data->data, len);
	for (gsize i = len; i < slot; i++) {
		seed = seed * 1103515245u + 12345u;
		flash[i] = (guint8)(seed >> 16);
	}
	flash[(len + 4095) & ~(gsize)4095] = 0xE7;
	flash[0x8000] = 0xAA;
	flash[0x8001] = 0x50;

	ck_assert(ota_esp_image_parse(t->data->data, len, &exact));
	awkward_init(&ar, &r, flash, slot, 4096, NULL, 0);
	r.open_ended = true;
	ck_assert_msg(ota_esp_image_parse_reader(&r, &img), "%s",
		      fleet_test_image_kind_to_string(t->kind));
	ck_assert_int_eq(img.kind, exact.kind);
	ck_assert_int_eq(img.chip, exact.chip);
	ck_assert_uint_eq(img.file_len, slot);
	ck_assert_uint_eq(img.image_len, exact.image_len);
	ck_assert_uint_eq(img.segments_parsed, exact.segments_parsed);
	ck_assert_mem_eq(img.segments, exact.segments, sizeof(img.segments));
	ck_assert_uint_eq(img.checksum_offset, exact.checksum_offset);
	ck_assert_int_eq(img.has_app_desc, exact.has_app_desc);
	ck_assert_str_eq(img.app_desc.version, exact.app_desc.version);
	ck_assert(!has_finding(&img, OTA_F_TRAILING_DATA));
	ck_assert(!has_finding(&img, OTA_F_TRAILING_PADDING));
	ck_assert(!has_finding(&img, OTA_F_SIG_SBV2));
	ck_assert(!has_finding(&img, OTA_F_SIG_ESP8266));
	ck_assert(!has_finding(&img, OTA_F_MERGED_FLASH));
	ck_assert_uint_eq(img.sig_blocks, 0);
	if (t->kind == FLEET_TEST_IMAGE_ARDUINO || t->kind == FLEET_TEST_IMAGE_ESP8266_SIGNED) {
		/* no file length on flash: the CRC covers the length stored with it */
		ck_assert(has_finding(&img, OTA_F_ARDUINO_CRC_OK));
		ck_assert_uint_eq(img.payload_len, t->payload_len);
		ck_assert_uint_eq(img.arduino_crc_computed, exact.arduino_crc_computed);
		/* the fill between eboot and sketch is only covered by that CRC */
		flash[t->eboot_len + 3] ^= 0x01;
		ck_assert(!ota_esp_image_parse_reader(&r, &img));
		ck_assert(has_finding(&img, OTA_F_ARDUINO_CRC_MISMATCH));
		flash[t->eboot_len + 3] ^= 0x01;
		/* a stored length beyond the slot */
		flash[0x1013] = 0x7F;
		ck_assert(!ota_esp_image_parse_reader(&r, &img));
		ck_assert(has_finding(&img, OTA_F_ARDUINO_CRC_LENGTH));
	} else {
		ck_assert_uint_eq(img.payload_len, img.image_len);
	}
	if (exact.hash_present) {
		ck_assert(ota_esp_image_parse_reader(&r, &img));
		ck_assert(ota_esp_image_check_digests_reader(&r, &img, &ops));
		ck_assert(has_finding(&img, OTA_F_HASH_OK));
	}
	/* the same bytes read as a file: the stale bytes are reported */
	ck_assert(!ota_esp_image_parse(flash, slot, &img) ||
		  has_finding(&img, OTA_F_TRAILING_DATA) || img.sig_blocks > 0);
	g_clear_pointer(&st.sum, g_checksum_free);
}
END_TEST

START_TEST(test_signed_split)
{
	guint8 buf[600];
	size_t payload = 0;
	size_t sig = 0;
	memset(buf, 0x11, sizeof(buf));
	/* 300 payload + 256 signature + length */
	ota_put_u32le(buf + 556, 256);
	ck_assert(ota_esp8266_signed_split(buf, 560, 300, &payload, &sig));
	ck_assert_uint_eq(payload, 300);
	ck_assert_uint_eq(sig, 256);
	ck_assert(ota_esp8266_signed_split(buf, 560, 0, &payload, &sig));
	ck_assert(!ota_esp8266_signed_split(buf, 560, 299, &payload, &sig));
	/* an unusual length is only believed with a hint */
	ota_put_u32le(buf + 556, 200);
	ck_assert(!ota_esp8266_signed_split(buf, 560, 0, &payload, &sig));
	ck_assert(ota_esp8266_signed_split(buf, 560, 356, &payload, &sig));
	/* impossible lengths */
	ota_put_u32le(buf + 556, 0);
	ck_assert(!ota_esp8266_signed_split(buf, 560, 0, &payload, &sig));
	ota_put_u32le(buf + 556, 0xFFFFFFF0u);
	ck_assert(!ota_esp8266_signed_split(buf, 560, 0, &payload, &sig));
	ck_assert(!ota_esp8266_signed_split(buf, 7, 0, &payload, &sig));
	ota_put_u32le(buf, 256);
	ck_assert(!ota_esp8266_signed_split(buf, 4, 0, &payload, &sig));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("esp-image");
	TCase *tc;

	tc = tcase_create("crc");
	tcase_add_test(tc, test_crc_check_values);
	tcase_add_loop_test(tc, test_crc_random, 0, 16);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_roundtrip_esp32);
	tcase_add_test(tc, test_roundtrip_esp8266);
	tcase_add_test(tc, test_roundtrip_signed);
	tcase_add_test(tc, test_signature_blocks);
	tcase_add_test(tc, test_sbv1_trailer);
	tcase_add_test(tc, test_gzip_and_merged);
	tcase_add_test(tc, test_corruptions);
	tcase_add_test(tc, test_arduino_cut_early);
	tcase_add_test(tc, test_digests_hash_failure);
	tcase_add_test(tc, test_empty_and_tiny);
	tcase_add_loop_test(tc, test_deterministic, 0, FLEET_TEST_IMAGE_LAST);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_finding_table);
	tcase_add_test(tc, test_finding_overflow);
	tcase_add_test(tc, test_chip_names);
	tcase_add_test(tc, test_names_and_tables);
	tcase_add_test(tc, test_signed_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("reader");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_reader_kinds, 0, FLEET_TEST_IMAGE_LAST);
	tcase_add_test(tc, test_reader_corruptions);
	tcase_add_loop_test(tc, test_reader_failure, 0, 7);
	tcase_add_loop_test(tc, test_reader_open_ended, 0, 6);
	suite_add_tcase(s, tc);

	return fleet_check_run(s);
}
