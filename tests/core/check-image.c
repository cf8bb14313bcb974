/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-image.c - FleetImage pre-flight against images from the independent generator */

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-image.h"
#include "fleet-test-images.h"

/* what a good image of each kind must parse to */
typedef struct {
	FleetTestImageKind kind;
	const gchar *kind_id;
	const gchar *chip;
	gboolean has_app_desc;
	const gchar *flash_mode;
	guint32 flash_size;
	guint freq_mhz;
	const gchar *signature; /* NULL: none */
	gboolean usable;
	const gchar *finding; /* one finding that must be there, or NULL */
	gboolean compressed;
} Expect;

static const Expect expectations[] = {
    {FLEET_TEST_IMAGE_ESP32_APP, "esp32-app", "esp32", TRUE, "DIO", 4u << 20, 40, NULL, TRUE,
     "sha256-ok", FALSE},
    {FLEET_TEST_IMAGE_ESP32S3_APP, "esp32-app", "esp32s3", TRUE, "DIO", 8u << 20, 80, NULL, TRUE,
     "sha256-ok", FALSE},
    {FLEET_TEST_IMAGE_ESP32C3_APP, "esp32-app", "esp32c3", TRUE, "DIO", 4u << 20, 80, NULL, TRUE,
     "sha256-ok", FALSE},
    {FLEET_TEST_IMAGE_ESP32_APP_NO_HASH, "esp32-app", "esp32", TRUE, "DIO", 4u << 20, 40, NULL,
     TRUE, "no-sha256", FALSE},
    {FLEET_TEST_IMAGE_ESP8266_V1, "esp8266-v1", "esp8266", FALSE, "DIO", 4u << 20, 40, NULL, TRUE,
     "v1-without-eboot", FALSE},
    {FLEET_TEST_IMAGE_ESP8266_V2, "esp8266-v2", "esp8266", FALSE, "DIO", 4u << 20, 40, NULL, TRUE,
     "v2-not-arduino", FALSE},
    {FLEET_TEST_IMAGE_ARDUINO, "esp8266-arduino", "esp8266", FALSE, "DIO", 4u << 20, 40, NULL, TRUE,
     "arduino-crc-ok", FALSE},
    {FLEET_TEST_IMAGE_ARDUINO_GZ, "esp8266-arduino", "esp8266", FALSE, "DIO", 4u << 20, 40, NULL,
     TRUE, "gzip", TRUE},
    {FLEET_TEST_IMAGE_ESP8266_RTOS_V3, "esp8266-rtos-v3", "esp8266", TRUE, "DIO", 4u << 20, 40,
     NULL, TRUE, "esp8266-rtos-sdk-v3", FALSE},
    {FLEET_TEST_IMAGE_ESP32_SIGNED_RSA, "esp32-app", "esp32", TRUE, "DIO", 4u << 20, 40,
     "Secure Boot v2, RSA-3072-PSS, 1 block", TRUE, "secure-boot-v2-signature", FALSE},
    {FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA, "esp32-app", "esp32", TRUE, "DIO", 4u << 20, 40,
     "Secure Boot v2, ECDSA-P256, 1 block", TRUE, "secure-boot-v2-signature", FALSE},
    {FLEET_TEST_IMAGE_ESP8266_SIGNED, "esp8266-arduino", "esp8266", FALSE, "DIO", 4u << 20, 40,
     "ESP8266 signed update, 256-byte signature", TRUE, "esp8266-signed-update", FALSE},
    {FLEET_TEST_IMAGE_MERGED_FLASH, "merged-flash", "unknown", FALSE, NULL, 0, 0, NULL, FALSE,
     "merged-flash-image", FALSE},
};

static FleetImage *
parse_test_image(FleetTestImage *t)
{
	g_autoptr(GBytes) bytes = fleet_test_image_get_bytes(t);
	return fleet_image_new_from_bytes(bytes, "test.bin");
}

static FleetFinding *
find_finding(FleetImage *img, const gchar *id)
{
	GPtrArray *findings = fleet_image_get_findings(img);
	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *f = g_ptr_array_index(findings, i);
		if (g_strcmp0(f->id, id) == 0)
			return f;
	}
	return NULL;
}

/* the message of a finding that must be there */
static const gchar *
finding_message(FleetImage *img, const gchar *id)
{
	FleetFinding *f = find_finding(img, id);
	ck_assert_msg(f != NULL, "no finding %s", id);
	return f != NULL ? f->message : "";
}

static gchar *
findings_to_string(FleetImage *img)
{
	GPtrArray *findings = fleet_image_get_findings(img);
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *f = g_ptr_array_index(findings, i);
		g_string_append_printf(s, " [%s %s: %s]", fleet_severity_to_string(f->severity),
				       f->id, f->message);
	}
	return g_string_free(s, FALSE);
}

#define assert_finding(img, id)                                                                    \
	do {                                                                                       \
		g_autofree gchar *all_ = findings_to_string(img);                                  \
		ck_assert_msg(find_finding((img), (id)) != NULL, "no finding %s in%s", (id),       \
			      all_);                                                               \
	} while (0)

/* every segment FleetImage reports is the one the generator wrote */
static void
assert_segments_match(FleetImage *img, FleetTestImage *t)
{
	guint first = 0;
	if (t->kind == FLEET_TEST_IMAGE_ESP8266_V2) {
		guint32 addr = 1;
		guint32 len = 0;
		guint32 off = 0;
		/* the irom segment is listed first, stored with load address 0 after 8 bytes */
		ck_assert(fleet_image_get_segment(img, 0, &addr, &len, &off));
		ck_assert_uint_eq(addr, 0);
		ck_assert_uint_eq(off, 16);
		ck_assert_uint_eq(len, t->header_offset - 16);
		ck_assert_str_eq(fleet_image_get_segment_memory(img, 0), "IROM");
		first = 1;
	}
	ck_assert_uint_eq(fleet_image_get_segment_count(img), t->n_segments + first);
	for (guint i = 0; i < t->n_segments; i++) {
		guint32 addr = 0;
		guint32 len = 0;
		guint32 off = 0;
		ck_assert(fleet_image_get_segment(img, i + first, &addr, &len, &off));
		ck_assert_uint_eq(addr, t->seg_addr[i]);
		ck_assert_uint_eq(len, t->seg_len[i]);
		ck_assert_uint_eq(off, t->seg_header[i] + 8);
		if (addr == 0)
			ck_assert_str_eq(fleet_image_get_segment_memory(img, i + first), "padding");
		else
			ck_assert_str_ne(fleet_image_get_segment_memory(img, i + first), "?");
	}
	ck_assert(!fleet_image_get_segment(img, t->n_segments + first, NULL, NULL, NULL));
}

static void
check_good_image(const Expect *e, gboolean small, guint32 seed)
{
	FleetTestImageOptions o = {
	    .small = small, .seed = seed, .version = "2.7.1-rc1", .project = "greenhouse"};
	g_autoptr(FleetTestImage) t = fleet_test_image_new(e->kind, &o);
	g_autoptr(GBytes) bytes = fleet_test_image_get_bytes(t);
	g_autoptr(FleetImage) img = fleet_image_new_from_bytes(bytes, "test.bin");
	g_autofree gchar *md5 = g_compute_checksum_for_bytes(G_CHECKSUM_MD5, bytes);
	g_autofree gchar *sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
	g_autofree gchar *all = findings_to_string(img);
	const gchar *kind = fleet_test_image_kind_to_string(e->kind);

	ck_assert_msg(g_strcmp0(fleet_image_get_kind(img), e->kind_id) == 0, "%s: kind %s%s", kind,
		      fleet_image_get_kind(img), all);
	ck_assert_str_eq(fleet_image_get_chip(img), e->chip);
	ck_assert_msg(fleet_image_has_errors(img) == !e->usable, "%s small=%d seed=%u:%s", kind,
		      small, seed, all);
	assert_finding(img, e->finding);
	ck_assert_str_eq(fleet_image_get_md5(img), md5);
	ck_assert_str_eq(fleet_image_get_sha256(img), sha256);
	ck_assert_uint_eq(fleet_image_get_size(img), g_bytes_get_size(bytes));
	ck_assert(fleet_image_get_bytes(img) == bytes);
	ck_assert_int_eq(fleet_image_is_compressed(img), e->compressed);
	ck_assert_int_eq(fleet_image_is_esp8266(img), g_strcmp0(e->chip, "esp8266") == 0);
	ck_assert_str_eq(fleet_image_get_filename(img), "test.bin");

	if (e->has_app_desc) {
		g_autofree gchar *elf = g_malloc(65);
		for (guint i = 0; i < 32; i++)
			g_snprintf(elf + 2 * i, 3, "%02x", t->elf_sha256[i]);
		ck_assert_str_eq(fleet_image_get_version(img), "2.7.1-rc1");
		ck_assert_str_eq(fleet_image_get_project_name(img), "greenhouse");
		ck_assert_str_eq(fleet_image_get_idf_version(img), "v5.3.1");
		ck_assert_str_eq(fleet_image_get_build_date(img), "Nov 21 2026 12:34:56");
		ck_assert_str_eq(fleet_image_get_elf_sha256(img), elf);
		ck_assert_uint_eq(fleet_image_get_secure_version(img), 0);
	} else {
		ck_assert_ptr_null(fleet_image_get_version(img));
		ck_assert_ptr_null(fleet_image_get_project_name(img));
		ck_assert_ptr_null(fleet_image_get_elf_sha256(img));
	}
	if (e->flash_mode != NULL) {
		ck_assert_str_eq(fleet_image_get_flash_mode(img), e->flash_mode);
		ck_assert_uint_eq(fleet_image_get_flash_size(img), e->flash_size);
		ck_assert_uint_eq(fleet_image_get_flash_freq_mhz(img), e->freq_mhz);
	}
	if (e->signature != NULL)
		ck_assert_str_eq(fleet_image_get_signature_description(img), e->signature);
	else
		ck_assert_ptr_null(fleet_image_get_signature_description(img));

	if (e->kind == FLEET_TEST_IMAGE_ARDUINO_GZ) {
		g_autoptr(FleetTestImage) plain =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, &o);
		ck_assert_uint_eq(fleet_image_get_content_size(img), plain->data->len);
		ck_assert_uint_eq(fleet_image_get_segment_count(img), plain->n_segments);
		assert_finding(img, "arduino-crc-ok");
		assert_segments_match(img, plain);
	} else if (e->kind != FLEET_TEST_IMAGE_MERGED_FLASH) {
		ck_assert_uint_eq(fleet_image_get_content_size(img), g_bytes_get_size(bytes));
		ck_assert_uint_eq(fleet_image_get_entry_addr(img), t->entry);
		assert_segments_match(img, t);
	} else {
		ck_assert_ptr_nonnull(
		    strstr(finding_message(img, "merged-flash-image"), "0x10000"));
		ck_assert_uint_eq(fleet_image_get_segment_count(img), 0);
	}
	if (g_str_has_prefix(e->chip, "esp32") && e->kind != FLEET_TEST_IMAGE_MERGED_FLASH)
		ck_assert_int_eq(fleet_image_get_min_chip_revision(img), t->chip_id == 5 ? 3 : 0);
	else
		ck_assert_int_eq(fleet_image_get_min_chip_revision(img), -1);
}

START_TEST(test_good_kinds)
{
	const Expect *e = &expectations[_i];
	check_good_image(e, FALSE, 0);
	check_good_image(e, TRUE, 0);
}
END_TEST

/* the same kinds over many seeds: random segment data must never change the verdict */
START_TEST(test_good_kinds_seeds)
{
	for (guint k = 0; k < G_N_ELEMENTS(expectations); k++)
		check_good_image(&expectations[k], TRUE, (guint32)_i + 1);
}
END_TEST

START_TEST(test_generator_names)
{
	const gchar *const *names = fleet_test_image_names();
	guint n = 0;
	for (guint i = 0; i < FLEET_TEST_IMAGE_LAST; i++) {
		const gchar *name = fleet_test_image_kind_to_string((FleetTestImageKind)i);
		ck_assert_int_eq(fleet_test_image_kind_from_string(name), i);
	}
	ck_assert_int_eq(fleet_test_image_kind_from_string("nope"), FLEET_TEST_IMAGE_LAST);
	for (; names[n] != NULL; n++) {
		g_autoptr(FleetTestImage) t = fleet_test_image_new_named(names[n], NULL);
		ck_assert_ptr_nonnull(t);
		ck_assert_uint_gt(t->data->len, 0);
	}
	ck_assert_uint_eq(n, FLEET_TEST_IMAGE_LAST + 12);
	ck_assert_ptr_null(fleet_test_image_new_named("nope", NULL));
}
END_TEST

/* the generator's own CRCs: the standard check values */
START_TEST(test_generator_crcs)
{
	const guint8 *check = (const guint8 *)"123456789";
	ck_assert_uint_eq(fleet_test_crc32_zlib(check, 9), 0xCBF43926u);
	ck_assert_uint_eq(fleet_test_crc32_mpeg2(check, 9), 0x0376E6E7u);
}
END_TEST

/* --- one corruption per validation rule --- */

static void
assert_bad(FleetImage *img, const gchar *id)
{
	g_autofree gchar *all = findings_to_string(img);
	FleetFinding *f = find_finding(img, id);
	ck_assert_msg(f != NULL, "no finding %s in%s", id, all);
	ck_assert_int_eq(f != NULL ? f->severity : FLEET_SEVERITY_INFO, FLEET_SEVERITY_ERROR);
	ck_assert_msg(fleet_image_has_errors(img), "usable despite %s", id);
}

/* only the intended error, so a rule cannot hide behind another */
static void
assert_only_error(FleetImage *img, const gchar *id)
{
	GPtrArray *findings = fleet_image_get_findings(img);
	g_autofree gchar *all = findings_to_string(img);
	assert_bad(img, id);
	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *f = g_ptr_array_index(findings, i);
		if (f->severity == FLEET_SEVERITY_ERROR)
			ck_assert_msg(g_strcmp0(f->id, id) == 0, "extra error %s in%s", f->id, all);
	}
}

START_TEST(test_bad_checksum)
{
	for (guint k = 0; k < 2; k++) {
		FleetTestImageOptions o = {.small = k == 1};
		g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, &o);
		g_autoptr(FleetImage) img = NULL;
		fleet_test_image_flip_segment_byte(t, 2, 5, 0x01);
		img = parse_test_image(t);
		assert_only_error(img, "checksum-mismatch");
		assert_finding(img, "sha256-ok");
	}
	/* ESP8266 formats share the checksum rule */
	for (guint k = FLEET_TEST_IMAGE_ESP8266_V1; k <= FLEET_TEST_IMAGE_ARDUINO; k++) {
		g_autoptr(FleetTestImage) t = fleet_test_image_new(k, NULL);
		g_autoptr(FleetImage) img = NULL;
		fleet_test_image_flip_segment_byte(t, 1, 0, 0x80);
		img = parse_test_image(t);
		assert_only_error(img, "checksum-mismatch");
	}
}
END_TEST

START_TEST(test_bad_sha256)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = NULL;
	fleet_test_image_corrupt_sha256(t);
	img = parse_test_image(t);
	assert_only_error(img, "sha256-mismatch");
	ck_assert_ptr_null(find_finding(img, "sha256-ok"));
}
END_TEST

START_TEST(test_segment_past_end)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = NULL;
	g_autofree gchar *missing = NULL;
	const gchar *msg;
	/* cut inside segment 3's data */
	fleet_test_image_truncate(t, t->seg_header[3] + 8 + 10);
	img = parse_test_image(t);
	assert_only_error(img, "segment-past-end");
	msg = finding_message(img, "segment-past-end");
	ck_assert_msg(strstr(msg, "Segment 3 ") != NULL, "%s", msg);
	missing = g_strdup_printf("(%u bytes missing)", t->seg_len[3] - 10);
	ck_assert_msg(strstr(msg, missing) != NULL, "%s", msg);
}
END_TEST

START_TEST(test_too_many_segments)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = NULL;
	fleet_test_image_set_segment_count(t, 17);
	img = parse_test_image(t);
	assert_only_error(img, "too-many-segments");
	ck_assert_ptr_nonnull(strstr(finding_message(img, "too-many-segments"), "17"));
}
END_TEST

START_TEST(test_unaligned_segment)
{
	FleetTestImageOptions o = {.unaligned_segment_len = TRUE};
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, &o);
	g_autoptr(FleetImage) img = parse_test_image(t);
	assert_only_error(img, "segment-length-unaligned");
}
END_TEST

START_TEST(test_unknown_chip)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = NULL;
	fleet_test_image_set_chip_id(t, 0x0042);
	img = parse_test_image(t);
	assert_only_error(img, "chip-unknown");
	ck_assert_str_eq(fleet_image_get_chip(img), "unknown");
	ck_assert_ptr_nonnull(strstr(finding_message(img, "chip-unknown"), "0x0042"));
}
END_TEST

START_TEST(test_hash_flag_invalid)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = NULL;
	fleet_test_image_set_hash_flag(t, 5);
	img = parse_test_image(t);
	assert_only_error(img, "hash-flag-invalid");
	ck_assert_str_eq(fleet_image_get_chip(img), "esp32");
}
END_TEST

START_TEST(test_mmu_misaligned)
{
	for (guint k = 0; k < 2; k++) {
		FleetTestImageOptions o = {.break_mmu_alignment = TRUE, .small = k == 1};
		g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, &o);
		g_autoptr(FleetImage) img = parse_test_image(t);
		ck_assert_uint_eq(t->n_padding_segments, 0);
		assert_only_error(img, "segment-mmu-misaligned");
		ck_assert_ptr_nonnull(
		    strstr(finding_message(img, "segment-mmu-misaligned"), "Segment 1 "));
	}
}
END_TEST

/* the realistic image needs esptool's padding segment; the parser must accept it */
START_TEST(test_mmu_padding_segment)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = parse_test_image(t);
	ck_assert_uint_eq(t->n_padding_segments, 1);
	ck_assert_uint_eq(t->seg_addr[1], 0);
	ck_assert_uint_eq((t->seg_header[2] + 8) % 0x10000, t->seg_addr[2] % 0x10000);
	ck_assert(!fleet_image_has_errors(img));
	ck_assert_str_eq(fleet_image_get_segment_memory(img, 0), "DROM");
	ck_assert_str_eq(fleet_image_get_segment_memory(img, 1), "padding");
	ck_assert_str_eq(fleet_image_get_segment_memory(img, 2), "IROM");
	ck_assert_str_eq(fleet_image_get_segment_memory(img, 3), "DRAM");
	ck_assert_str_eq(fleet_image_get_segment_memory(img, 4), "IRAM");
	ck_assert_str_eq(fleet_image_get_segment_memory(img, 5), "RTC");
	ck_assert_ptr_null(fleet_image_get_segment_memory(img, 6));
}
END_TEST

START_TEST(test_signature_block_crc)
{
	for (guint k = FLEET_TEST_IMAGE_ESP32_SIGNED_RSA; k <= FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA;
	     k++) {
		g_autoptr(FleetTestImage) t = fleet_test_image_new(k, NULL);
		g_autoptr(FleetImage) img = NULL;
		fleet_test_image_corrupt_signature_block(t);
		img = parse_test_image(t);
		assert_only_error(img, "signature-block-corrupt");
	}
}
END_TEST

START_TEST(test_modified_after_signing)
{
	for (guint k = FLEET_TEST_IMAGE_ESP32_SIGNED_RSA; k <= FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA;
	     k++) {
		g_autoptr(FleetTestImage) t = fleet_test_image_new(k, NULL);
		g_autoptr(FleetImage) img = NULL;
		fleet_test_image_modify_after_signing(t);
		img = parse_test_image(t);
		assert_only_error(img, "signature-digest-mismatch");
		assert_finding(img, "sha256-ok");
		ck_assert_str_eq(fleet_image_get_version(img), "9.0.0");
	}
}
END_TEST

START_TEST(test_arduino_crc)
{
	for (guint k = 0; k < 2; k++) {
		FleetTestImageOptions o = {.small = k == 1};
		g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, &o);
		g_autoptr(FleetImage) img = NULL;
		fleet_test_image_corrupt_arduino_crc(t);
		img = parse_test_image(t);
		assert_only_error(img, "arduino-crc-mismatch");
	}
	/* a changed sketch byte with its checksum re-sealed: only the CRC notices */
	{
		g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, NULL);
		g_autoptr(FleetImage) img = NULL;
		t->data->data[t->seg_header[2] + 8] ^= 0x04;
		t->data->data[t->checksum_offset] ^= 0x04;
		img = parse_test_image(t);
		assert_only_error(img, "arduino-crc-mismatch");
	}
	/* a file extended after the CRC was stored */
	{
		g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, NULL);
		g_autoptr(FleetImage) img = NULL;
		guint8 extra[16] = {1, 2, 3};
		g_byte_array_append(t->data, extra, sizeof(extra));
		img = parse_test_image(t);
		assert_bad(img, "arduino-crc-length");
	}
}
END_TEST

START_TEST(test_v2_crc)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_V2, NULL);
	g_autoptr(FleetImage) img = NULL;
	/* the irom segment is covered by the CRC only */
	t->data->data[20] ^= 0x01;
	img = parse_test_image(t);
	assert_only_error(img, "v2-crc-mismatch");
}
END_TEST

START_TEST(test_not_esp)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = NULL;
	const gchar *msg;
	fleet_test_image_set_first_byte(t, 0x4D);
	img = parse_test_image(t);
	assert_only_error(img, "not-esp-image");
	msg = finding_message(img, "not-esp-image");
	ck_assert_msg(strstr(msg, "first byte 0x4D") != NULL, "%s", msg);
	ck_assert_str_eq(fleet_image_get_kind(img), "unknown");
}
END_TEST

START_TEST(test_empty)
{
	g_autoptr(GBytes) bytes = g_bytes_new(NULL, 0);
	g_autoptr(FleetImage) img = fleet_image_new_from_bytes(bytes, NULL);
	assert_only_error(img, "empty");
	ck_assert_ptr_null(fleet_image_get_filename(img));
	ck_assert_str_eq(fleet_image_get_md5(img), "d41d8cd98f00b204e9800998ecf8427e");
}
END_TEST

/* two data bytes AA 50 at 0x8000 of an app do not make a whole-flash dump */
START_TEST(test_partition_magic_inside_app)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = NULL;
	g_autofree gchar *all = NULL;
	fleet_test_image_plant_partition_magic(t);
	ck_assert_uint_eq(t->data->data[0x8000], 0xAA);
	img = parse_test_image(t);
	all = findings_to_string(img);
	ck_assert_msg(g_strcmp0(fleet_image_get_kind(img), "esp32-app") == 0, "kind %s%s",
		      fleet_image_get_kind(img), all);
	ck_assert_msg(!fleet_image_has_errors(img), "%s", all);
}
END_TEST

/* a gzip file whose content is not an ESP8266 image */
START_TEST(test_gzip_esp32)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(GBytes) raw = fleet_test_image_get_bytes(t);
	g_autoptr(GBytes) gz = fleet_test_gzip(raw);
	g_autoptr(FleetImage) img = fleet_image_new_from_bytes(gz, "app.bin.gz");
	assert_only_error(img, "gzip-not-esp8266");
	ck_assert(fleet_image_is_compressed(img));
	ck_assert_str_eq(fleet_image_get_kind(img), "esp32-app");
	ck_assert_uint_eq(fleet_image_get_content_size(img), g_bytes_get_size(raw));
}
END_TEST

START_TEST(test_gzip_broken)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO_GZ, NULL);
	g_autoptr(FleetImage) img = NULL;
	g_autoptr(FleetImage) img2 = NULL;
	g_autoptr(FleetTestImage) inner = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO_GZ, NULL);
	g_autoptr(GBytes) nested = fleet_test_image_get_bytes(inner);
	g_autoptr(GBytes) gz = NULL;
	/* cut the gzip stream short */
	fleet_test_image_truncate(t, t->data->len / 2);
	img = parse_test_image(t);
	assert_only_error(img, "gzip-corrupt");

	/* gzip inside gzip: eboot unpacks once */
	gz = fleet_test_gzip(nested);
	img2 = fleet_image_new_from_bytes(gz, NULL);
	assert_only_error(img2, "gzip-nested");
}
END_TEST

/* a signed .bin.gz: signature after the gzip stream (signing.py signs after gzip) */
START_TEST(test_gzip_signed)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO_GZ, NULL);
	g_autoptr(FleetImage) img = NULL;
	guint8 sig[256];
	guint8 len[4] = {0x00, 0x01, 0x00, 0x00};
	memset(sig, 0x5A, sizeof(sig));
	g_byte_array_append(t->data, sig, sizeof(sig));
	g_byte_array_append(t->data, len, sizeof(len));
	img = parse_test_image(t);
	ck_assert(!fleet_image_has_errors(img));
	assert_finding(img, "esp8266-signed-update");
	ck_assert_str_eq(fleet_image_get_signature_description(img),
			 "ESP8266 signed update, 256-byte signature");
	ck_assert_str_eq(fleet_image_get_kind(img), "esp8266-arduino");
}
END_TEST

/* --- truncation: never crash, never usable before the end --- */

static FleetTestImage *
small_esp32(void)
{
	FleetTestImageOptions o = {.small = TRUE};
	return fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, &o);
}

START_TEST(test_truncate_every_offset)
{
	g_autoptr(FleetTestImage) t = small_esp32();
	gsize full = t->data->len;
	g_autoptr(GBytes) all = fleet_test_image_get_bytes(t);
	g_autoptr(GBytes) cut = g_bytes_new_from_bytes(all, 0, (gsize)_i);
	g_autoptr(FleetImage) img = fleet_image_new_from_bytes(cut, NULL);
	g_autofree gchar *found = findings_to_string(img);
	ck_assert_msg(fleet_image_has_errors(img) == ((gsize)_i < full), "cut at %d of %zu:%s", _i,
		      full, found);
}
END_TEST

/* every other format, each offset in one test (fewer forks) */
START_TEST(test_truncate_other_formats)
{
	static const FleetTestImageKind kinds[] = {
	    FLEET_TEST_IMAGE_ESP32S3_APP,	 FLEET_TEST_IMAGE_ESP32_APP_NO_HASH,
	    FLEET_TEST_IMAGE_ESP8266_V2,	 FLEET_TEST_IMAGE_ARDUINO,
	    FLEET_TEST_IMAGE_ARDUINO_GZ,	 FLEET_TEST_IMAGE_ESP8266_RTOS_V3,
	    FLEET_TEST_IMAGE_ESP8266_SIGNED,	 FLEET_TEST_IMAGE_ESP32_SIGNED_RSA,
	    FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA,
	};
	FleetTestImageOptions o = {.small = TRUE};
	g_autoptr(FleetTestImage) t = fleet_test_image_new(kinds[_i], &o);
	g_autoptr(GBytes) all = fleet_test_image_get_bytes(t);
	for (gsize n = 0; n < t->data->len; n++) {
		g_autoptr(GBytes) cut = NULL;
		/* an ESP32 image followed by 0xFF padding is a complete image (esptool
		 * --pad-to-size); only a signature sector that has begun must be whole */
		if (t->esp32_layout && t->sig_offset != 0 && n >= t->image_end &&
		    n <= t->sig_offset)
			continue;
		/* likewise the payload of an esp8266 signed update, without its signature */
		if (t->sig_offset != 0 && n == t->payload_len)
			continue;
		cut = g_bytes_new_from_bytes(all, 0, n);
		g_autoptr(FleetImage) img = fleet_image_new_from_bytes(cut, NULL);
		g_autofree gchar *found = findings_to_string(img);
		ck_assert_msg(fleet_image_has_errors(img), "%s cut at %zu of %u:%s",
			      fleet_test_image_kind_to_string(kinds[_i]), n, t->data->len, found);
	}
}
END_TEST

/* --- ESP8266 vs ESP32 --- */

START_TEST(test_rtos_v3_is_esp8266)
{
	for (guint small = 0; small < 2; small++) {
		FleetTestImageOptions o = {.small = small, .seed = (guint32)_i};
		g_autoptr(FleetTestImage) t =
		    fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_RTOS_V3, &o);
		g_autoptr(FleetImage) img = parse_test_image(t);
		/* chip id 0 in the header, but never ESP32 */
		ck_assert_uint_eq(t->chip_id, 0);
		ck_assert_str_eq(fleet_image_get_chip(img), "esp8266");
		ck_assert_str_eq(fleet_image_get_kind(img), "esp8266-rtos-v3");
		ck_assert(fleet_image_is_esp8266(img));
	}
}
END_TEST

START_TEST(test_esp32_is_esp32)
{
	FleetTestImageOptions o = {.small = TRUE, .seed = (guint32)_i};
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP_NO_HASH, &o);
	g_autoptr(FleetTestImage) v1 = fleet_test_image_new(FLEET_TEST_IMAGE_ESP8266_V1, &o);
	g_autoptr(FleetImage) img = parse_test_image(t);
	g_autoptr(FleetImage) img1 = parse_test_image(v1);
	ck_assert_str_eq(fleet_image_get_chip(img), "esp32");
	ck_assert(!fleet_image_is_esp8266(img));
	ck_assert_str_eq(fleet_image_get_chip(img1), "esp8266");
	ck_assert_str_eq(fleet_image_get_kind(img1), "esp8266-v1");
}
END_TEST

/* --- compatibility with what a device announced --- */

static FleetCompatVerdict
compat(FleetTestImageKind kind,
       const FleetTestImageOptions *o,
       const FleetDeviceFacts *facts,
       GPtrArray **reasons)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(kind, o);
	g_autoptr(FleetImage) img = parse_test_image(t);
	FleetCompatVerdict v = fleet_image_check_compat(img, facts, reasons);
	/* never a silent refusal or warning */
	if (v != FLEET_COMPAT_OK)
		ck_assert_uint_gt((*reasons)->len, 0);
	return v;
}

static gboolean
has_reason(GPtrArray *reasons, const gchar *id)
{
	for (guint i = 0; i < reasons->len; i++) {
		FleetFinding *f = g_ptr_array_index(reasons, i);
		if (g_strcmp0(f->id, id) == 0)
			return TRUE;
	}
	return FALSE;
}

typedef struct {
	FleetTestImageKind kind;
	const gchar *board;
	FleetCompatVerdict verdict;
	const gchar *reason; /* NULL: none expected */
} CompatCase;

static const CompatCase compat_cases[] = {
    {FLEET_TEST_IMAGE_ESP32_APP, "esp32", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ESP32S3_APP, "esp32s3", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ESP32C3_APP, "esp32c3", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ESP32S3_APP, "esp32", FLEET_COMPAT_REFUSE, "chip-mismatch"},
    {FLEET_TEST_IMAGE_ESP32_APP, "esp32c3", FLEET_COMPAT_REFUSE, "chip-mismatch"},
    {FLEET_TEST_IMAGE_ESP32_APP, "nodemcuv2", FLEET_COMPAT_REFUSE, "chip-mismatch"},
    {FLEET_TEST_IMAGE_ARDUINO, "nodemcuv2", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ARDUINO, "d1_mini", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ARDUINO, "ESP8266_GENERIC", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ARDUINO, "\"ESP8266_WEMOS_D1MINILITE\"", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ARDUINO_GZ, "d1_mini", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ESP8266_SIGNED, "nodemcuv2", FLEET_COMPAT_OK, NULL},
    {FLEET_TEST_IMAGE_ARDUINO, "esp32", FLEET_COMPAT_REFUSE, "chip-mismatch"},
    {FLEET_TEST_IMAGE_ARDUINO_GZ, "esp32s3", FLEET_COMPAT_REFUSE, "chip-mismatch"},
    {FLEET_TEST_IMAGE_ESP8266_RTOS_V3, "esp32", FLEET_COMPAT_REFUSE, "chip-mismatch"},
    {FLEET_TEST_IMAGE_ESP8266_V2, "nodemcuv2", FLEET_COMPAT_REFUSE, "v2-not-arduino"},
    {FLEET_TEST_IMAGE_ESP8266_V1, "d1_mini", FLEET_COMPAT_WARNING, "v1-without-eboot"},
    {FLEET_TEST_IMAGE_ARDUINO, "my-own-pcb", FLEET_COMPAT_WARNING, "board-unknown"},
    {FLEET_TEST_IMAGE_ESP32_APP, "my-own-pcb", FLEET_COMPAT_WARNING, "board-unknown"},
    {FLEET_TEST_IMAGE_ESP32_APP, "acme-esp32-s3-thing", FLEET_COMPAT_REFUSE, "chip-mismatch"},
    {FLEET_TEST_IMAGE_ESP32S3_APP, "acme-esp32-s3-thing", FLEET_COMPAT_WARNING, "chip-guessed"},
    {FLEET_TEST_IMAGE_MERGED_FLASH, "esp32", FLEET_COMPAT_REFUSE, "image-has-errors"},
    {FLEET_TEST_IMAGE_ESP32_SIGNED_RSA, "esp32", FLEET_COMPAT_OK, NULL},
};

START_TEST(test_compat_boards)
{
	const CompatCase *c = &compat_cases[_i];
	FleetDeviceFacts facts = {.board = c->board, .chip_revision = -1};
	g_autoptr(GPtrArray) reasons = NULL;
	FleetCompatVerdict v = compat(c->kind, NULL, &facts, &reasons);
	ck_assert_msg(v == c->verdict, "%s on %s: %s", fleet_test_image_kind_to_string(c->kind),
		      c->board, fleet_compat_verdict_to_string(v));
	if (c->reason != NULL)
		ck_assert_msg(has_reason(reasons, c->reason), "%s on %s: no reason %s",
			      fleet_test_image_kind_to_string(c->kind), c->board, c->reason);
	else
		ck_assert_uint_eq(reasons->len, 0);
}
END_TEST

START_TEST(test_compat_chip_word_wins)
{
	/* the chip the device reports outranks a misleading board name */
	FleetDeviceFacts facts = {.board = "nodemcuv2", .chip = "esp32s3", .chip_revision = -1};
	g_autoptr(GPtrArray) reasons = NULL;
	ck_assert_int_eq(compat(FLEET_TEST_IMAGE_ESP32S3_APP, NULL, &facts, &reasons),
			 FLEET_COMPAT_OK);
}
END_TEST

START_TEST(test_compat_device_unknown)
{
	FleetDeviceFacts facts = {.chip_revision = -1};
	g_autoptr(GPtrArray) reasons = NULL;
	ck_assert_int_eq(compat(FLEET_TEST_IMAGE_ESP32_APP, NULL, &facts, &reasons),
			 FLEET_COMPAT_WARNING);
	ck_assert(has_reason(reasons, "device-unknown"));
}
END_TEST

START_TEST(test_compat_slot_size)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(FleetImage) img = parse_test_image(t);
	FleetDeviceFacts facts = {.board = "esp32", .chip_revision = -1};
	g_autoptr(GPtrArray) r1 = NULL;
	g_autoptr(GPtrArray) r2 = NULL;
	g_autoptr(GPtrArray) r3 = NULL;

	facts.slot_size = t->data->len - 1;
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, &r1), FLEET_COMPAT_REFUSE);
	ck_assert(has_reason(r1, "too-large-for-slot"));
	facts.slot_size = t->data->len;
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, &r2), FLEET_COMPAT_OK);
	facts.slot_size = 0;
	facts.free_space = 4096;
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, &r3), FLEET_COMPAT_REFUSE);
	ck_assert(has_reason(r3, "not-enough-space"));
	/* a NULL out-parameter is allowed */
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, NULL), FLEET_COMPAT_REFUSE);
}
END_TEST

/* what is staged on an ESP8266 is the compressed file: its size counts */
START_TEST(test_compat_slot_size_gzip)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO_GZ, NULL);
	g_autoptr(FleetImage) img = parse_test_image(t);
	FleetDeviceFacts facts = {.board = "nodemcuv2", .chip_revision = -1};
	g_autoptr(GPtrArray) reasons = NULL;
	facts.free_space = t->data->len;
	ck_assert_uint_lt(t->data->len, fleet_image_get_content_size(img));
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, &reasons), FLEET_COMPAT_OK);
}
END_TEST

START_TEST(test_compat_gzip_esp32)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(GBytes) raw = fleet_test_image_get_bytes(t);
	g_autoptr(GBytes) gz = fleet_test_gzip(raw);
	g_autoptr(FleetImage) img = fleet_image_new_from_bytes(gz, NULL);
	FleetDeviceFacts facts = {.board = "esp32", .chip_revision = -1};
	g_autoptr(GPtrArray) reasons = NULL;
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, &reasons), FLEET_COMPAT_REFUSE);
	ck_assert(has_reason(reasons, "image-has-errors"));
}
END_TEST

START_TEST(test_compat_chip_revision)
{
	FleetTestImageOptions o = {.min_chip_rev_full = 300};
	FleetDeviceFacts facts = {.board = "esp32"};
	g_autoptr(GPtrArray) r1 = NULL;
	g_autoptr(GPtrArray) r2 = NULL;
	g_autoptr(GPtrArray) r3 = NULL;
	FleetFinding *f;

	facts.chip_revision = 101;
	ck_assert_int_eq(compat(FLEET_TEST_IMAGE_ESP32_APP, &o, &facts, &r1), FLEET_COMPAT_REFUSE);
	ck_assert(has_reason(r1, "chip-revision"));
	f = g_ptr_array_index(r1, 0);
	ck_assert_msg(strstr(f->message, "v3.0") != NULL && strstr(f->message, "v1.1") != NULL,
		      "%s", f->message);
	facts.chip_revision = 300;
	ck_assert_int_eq(compat(FLEET_TEST_IMAGE_ESP32_APP, &o, &facts, &r2), FLEET_COMPAT_OK);
	facts.chip_revision = -1; /* unknown: not a reason to refuse */
	ck_assert_int_eq(compat(FLEET_TEST_IMAGE_ESP32_APP, &o, &facts, &r3), FLEET_COMPAT_OK);
}
END_TEST

/* the bootloader also refuses a chip newer than the image's maximum revision */
START_TEST(test_compat_chip_revision_max)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(FleetImage) img = NULL;
	g_autoptr(GPtrArray) r1 = NULL;
	g_autoptr(GPtrArray) r2 = NULL;
	FleetDeviceFacts facts = {.board = "esp32"};

	/* max_chip_rev_full = v2.99 (header bytes 17-18), re-sealed */
	t->data->data[17] = 299 & 0xff;
	t->data->data[18] = 299 >> 8;
	fleet_test_image_reseal(t);
	bytes = g_bytes_new(t->data->data, t->data->len);
	img = fleet_image_new_from_bytes(bytes, "max-rev.bin");
	ck_assert(!fleet_image_has_errors(img));
	facts.chip_revision = 300;
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, &r1), FLEET_COMPAT_REFUSE);
	ck_assert(has_reason(r1, "chip-revision-max"));
	facts.chip_revision = 299;
	ck_assert_int_eq(fleet_image_check_compat(img, &facts, &r2), FLEET_COMPAT_OK);
}
END_TEST

/* an RTOS SDK image does not boot under an Arduino sketch's eboot */
START_TEST(test_compat_rtos_sdk_on_esp8266)
{
	g_autoptr(GPtrArray) reasons = NULL;
	FleetDeviceFacts facts = {.board = "nodemcuv2", .chip_revision = -1};
	ck_assert_int_eq(compat(FLEET_TEST_IMAGE_ESP8266_RTOS_V3, &(FleetTestImageOptions){0}, &facts, &reasons),
			 FLEET_COMPAT_WARNING);
	ck_assert(has_reason(reasons, "rtos-sdk-image"));
}
END_TEST

/* board text from the network is sanitised before it lands in a message */
START_TEST(test_compat_board_text_sanitised)
{
	FleetDeviceFacts facts = {.board = "evil\x1b[2J\xff", .chip_revision = -1};
	g_autoptr(GPtrArray) reasons = NULL;
	FleetFinding *f;
	ck_assert_int_eq(compat(FLEET_TEST_IMAGE_ESP32_APP, NULL, &facts, &reasons),
			 FLEET_COMPAT_WARNING);
	f = g_ptr_array_index(reasons, 0);
	ck_assert(g_utf8_validate(f->message, -1, NULL));
	ck_assert_ptr_null(strchr(f->message, '\x1b'));
}
END_TEST

/* --- JSON and files --- */

START_TEST(test_json)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_SIGNED_RSA, NULL);
	g_autoptr(FleetImage) img = parse_test_image(t);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *text = NULL;
	JsonObject *obj;
	JsonArray *segs;
	g_autoptr(GError) error = NULL;

	json_builder_begin_object(builder);
	fleet_image_to_json(img, builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, NULL);
	ck_assert(json_parser_load_from_data(parser, text, -1, &error));
	obj = json_node_get_object(json_parser_get_root(parser));
	ck_assert(json_object_get_boolean_member(obj, "usable"));
	ck_assert_str_eq(json_object_get_string_member(obj, "kind"), "esp32-app");
	ck_assert_str_eq(json_object_get_string_member(obj, "chip"), "esp32");
	ck_assert_str_eq(json_object_get_string_member(obj, "signature"),
			 "Secure Boot v2, RSA-3072-PSS, 1 block");
	ck_assert_str_eq(
	    json_object_get_string_member(json_object_get_object_member(obj, "file"), "sha256"),
	    fleet_image_get_sha256(img));
	ck_assert_str_eq(
	    json_object_get_string_member(json_object_get_object_member(obj, "app"), "version"),
	    "1.0.0");
	segs = json_object_get_array_member(obj, "segments");
	ck_assert_uint_eq(json_array_get_length(segs), t->n_segments);
	ck_assert_str_eq(
	    json_object_get_string_member(json_array_get_object_element(segs, 2), "load_addr"),
	    "0x400d0020");
	ck_assert_uint_gt(json_array_get_length(json_object_get_array_member(obj, "findings")), 0);
}
END_TEST

START_TEST(test_from_file)
{
	g_autoptr(FleetTestImage) t = fleet_test_image_new(FLEET_TEST_IMAGE_ARDUINO, NULL);
	g_autofree gchar *dir = g_dir_make_tmp("check-image-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "sketch.ino.bin", NULL);
	g_autofree gchar *missing = g_build_filename(dir, "missing.bin", NULL);
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autoptr(GFile) nofile = g_file_new_for_path(missing);
	g_autoptr(GFile) dirfile = g_file_new_for_path(dir);
	g_autoptr(FleetImage) img = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;

	ck_assert(g_file_set_contents(path, (const gchar *)t->data->data, t->data->len, NULL));
	img = fleet_image_new_from_file(file, NULL, &error);
	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(fleet_image_get_filename(img), "sketch.ino.bin");
	ck_assert_str_eq(fleet_image_get_kind(img), "esp8266-arduino");
	ck_assert(!fleet_image_has_errors(img));
	ck_assert_ptr_null(fleet_image_new_from_file(nofile, NULL, &error2));
	ck_assert_ptr_nonnull(error2);
	g_clear_error(&error2);
	ck_assert_ptr_null(fleet_image_new_from_file(dirfile, NULL, &error2));
	ck_assert_ptr_nonnull(error2);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

static Suite *
image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *tc;
	g_autoptr(FleetTestImage) small = small_esp32();

	tc = tcase_create("good");
	tcase_add_loop_test(tc, test_good_kinds, 0, G_N_ELEMENTS(expectations));
	tcase_add_loop_test(tc, test_good_kinds_seeds, 0, 8);
	tcase_add_test(tc, test_generator_names);
	tcase_add_test(tc, test_generator_crcs);
	tcase_add_test(tc, test_mmu_padding_segment);
	tcase_add_test(tc, test_gzip_signed);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_test(tc, test_bad_checksum);
	tcase_add_test(tc, test_bad_sha256);
	tcase_add_test(tc, test_segment_past_end);
	tcase_add_test(tc, test_too_many_segments);
	tcase_add_test(tc, test_unaligned_segment);
	tcase_add_test(tc, test_unknown_chip);
	tcase_add_test(tc, test_hash_flag_invalid);
	tcase_add_test(tc, test_mmu_misaligned);
	tcase_add_test(tc, test_signature_block_crc);
	tcase_add_test(tc, test_modified_after_signing);
	tcase_add_test(tc, test_arduino_crc);
	tcase_add_test(tc, test_v2_crc);
	tcase_add_test(tc, test_not_esp);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_partition_magic_inside_app);
	tcase_add_test(tc, test_gzip_esp32);
	tcase_add_test(tc, test_gzip_broken);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncated");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_truncate_every_offset, 0, (int)small->data->len + 1);
	tcase_add_loop_test(tc, test_truncate_other_formats, 0, 9);
	suite_add_tcase(s, tc);

	tc = tcase_create("chip");
	tcase_add_loop_test(tc, test_rtos_v3_is_esp8266, 0, 32);
	tcase_add_loop_test(tc, test_esp32_is_esp32, 0, 32);
	suite_add_tcase(s, tc);

	tc = tcase_create("compat");
	tcase_add_loop_test(tc, test_compat_boards, 0, G_N_ELEMENTS(compat_cases));
	tcase_add_test(tc, test_compat_chip_word_wins);
	tcase_add_test(tc, test_compat_device_unknown);
	tcase_add_test(tc, test_compat_slot_size);
	tcase_add_test(tc, test_compat_slot_size_gzip);
	tcase_add_test(tc, test_compat_gzip_esp32);
	tcase_add_test(tc, test_compat_chip_revision);
	tcase_add_test(tc, test_compat_chip_revision_max);
	tcase_add_test(tc, test_compat_rtos_sdk_on_esp8266);
	tcase_add_test(tc, test_compat_board_text_sanitised);
	suite_add_tcase(s, tc);

	tc = tcase_create("io");
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_from_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(image_suite());
}
