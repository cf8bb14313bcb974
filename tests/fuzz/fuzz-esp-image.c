/* SPDX-License-Identifier: MIT */
/*
 * fuzz-esp-image.c - arbitrary bytes into the firmware core's image parser
 *
 * Besides "no crash, no read outside the input", every parse must hold the parser's own
 * promises: the result matches the findings, segments lie inside the file, offsets are
 * bounded, and parsing the same bytes twice gives the same struct bit for bit. The reader
 * path (what a device uses on flash) must give that same struct however the bytes are cut,
 * turn a failing read into a read-error finding, and read a slot (open-ended) safely.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ota/ota-esp-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a stand-in hash: cheap, reads every byte it is given, so ASan checks the ranges */
struct fold {
	uint8_t acc[OTA_SHA256_LEN];
	size_t n;
};

static int
fold_begin(void *user, enum ota_hash_kind kind)
{
	struct fold *f = user;
	(void)kind;
	memset(f, 0, sizeof(*f));
	return 0;
}

static int
fold_update(void *user, enum ota_hash_kind kind, const uint8_t *p, size_t len)
{
	struct fold *f = user;
	(void)kind;
	for (size_t i = 0; i < len; i++, f->n++)
		f->acc[f->n % OTA_SHA256_LEN] =
		    (uint8_t)((f->acc[f->n % OTA_SHA256_LEN] << 1) ^ p[i]);
	return 0;
}

static int
fold_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	struct fold *f = user;
	memcpy(out, f->acc, kind == OTA_HASH_MD5 ? OTA_MD5_LEN : OTA_SHA256_LEN);
	return 0;
}

/* a device-like reader: no map(), at most 7 bytes per read(), a read covering fail_at fails */
struct pieces {
	const uint8_t *data;
	size_t size;
	size_t fail_at;
};

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static int
fits(size_t off, size_t len, size_t size)
{
	return (uint64_t)off + (uint64_t)len <= (uint64_t)size;
}

static int
pieces_read(void *user, size_t off, uint8_t *buf, size_t len)
{
	const struct pieces *p = user;
	size_t n = len < 7 ? len : 7;
	/* the parser never asks for bytes outside the image, nor for nothing */
	CHECK(len > 0 && len <= 65536 && fits(off, len, p->size));
	if (p->fail_at >= off && p->fail_at < off + n)
		return -1;
	memcpy(buf, p->data + off, n);
	return (int)n;
}

static bool
has_code(const struct ota_esp_image *img, enum ota_finding_code code)
{
	for (uint8_t i = 0; i < img->n_findings; i++) {
		if (img->findings[i].code == code)
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ota_esp_image img;
	static struct ota_esp_image again;
	static struct ota_esp_image cut;
	struct fold state;
	struct ota_hash_ops ops = {&state, fold_begin, fold_update, fold_finish};
	bool ok = ota_esp_image_parse(data, size, &img);
	uint8_t scratch[13];
	struct pieces pc = {data, size, SIZE_MAX};
	struct ota_reader r = {&pc, pieces_read, NULL, size, scratch, sizeof(scratch), false};
	bool cut_ok;
	uint8_t n_findings;

	CHECK(ok == !ota_esp_image_has_errors(&img));
	CHECK(img.file_len == size);
	CHECK(img.n_findings <= OTA_ESP_MAX_FINDINGS);
	CHECK(img.n_findings > 0 || ok);
	for (uint8_t i = 0; i < img.n_findings; i++) {
		CHECK(img.findings[i].code < OTA_F_LAST);
		CHECK(img.findings[i].severity ==
		      ota_finding_severity((enum ota_finding_code)img.findings[i].code));
	}
	CHECK(img.segments_parsed <= OTA_ESP_MAX_SEGMENTS);
	for (uint8_t i = 0; i < img.segments_parsed; i++)
		CHECK(fits(img.segments[i].data_offset, img.segments[i].data_len, size));
	if (img.checksum_present)
		CHECK(img.checksum_offset < size);
	CHECK(img.payload_len <= size);
	if (img.hash_present)
		CHECK(fits(img.hash_offset, OTA_SHA256_LEN, size));
	CHECK(img.sig_blocks <= OTA_ESP_SIG_MAX_BLOCKS);
	if (img.sig_blocks > 0)
		CHECK(fits(img.sig_sector_offset, OTA_ESP_SIG_SECTOR_LEN, size));
	if (img.esp8266_sig_len > 0)
		CHECK(img.payload_len + img.esp8266_sig_len + 4 == size);
	if (img.has_app_desc) {
		CHECK(img.app_desc.version[sizeof(img.app_desc.version) - 1] == '\0');
		CHECK(img.app_desc.project_name[sizeof(img.app_desc.project_name) - 1] == '\0');
	}
	if (img.kind == OTA_IMAGE_ESP8266_V1 || img.kind == OTA_IMAGE_ESP8266_V2 ||
	    img.kind == OTA_IMAGE_ESP8266_ARDUINO || img.kind == OTA_IMAGE_ESP8266_V3)
		CHECK(img.chip == OTA_CHIP_ESP8266);
	if (ok) {
		/* a usable image is a whole one */
		CHECK(img.kind != OTA_IMAGE_UNKNOWN && img.kind != OTA_IMAGE_MERGED_FLASH);
		if (img.kind != OTA_IMAGE_GZIP) {
			CHECK(img.checksum_present);
			CHECK(img.image_len > 0 && img.image_len <= size);
			CHECK(img.segments_parsed > 0);
		}
		if (img.kind == OTA_IMAGE_ESP32_APP)
			CHECK(img.chip != OTA_CHIP_UNKNOWN);
	}

	/* pure: same bytes, same answer, bit for bit */
	memset(&again, 0xA5, sizeof(again));
	(void)ota_esp_image_parse(data, size, &again);
	CHECK(memcmp(&img, &again, sizeof(img)) == 0);

	/* the reader path: the same struct, bit for bit */
	memset(&cut, 0x5A, sizeof(cut));
	cut_ok = ota_esp_image_parse_reader(&r, &cut);
	CHECK(cut_ok == ok);
	CHECK(memcmp(&img, &cut, sizeof(img)) == 0);

	n_findings = img.n_findings;
	if (!ota_esp_image_check_digests(data, size, &img, &ops))
		CHECK(ota_esp_image_has_errors(&img));
	CHECK(img.n_findings >= n_findings);
	cut_ok = ota_esp_image_check_digests_reader(&r, &cut, &ops);
	CHECK(memcmp(&img, &cut, sizeof(img)) == 0);

	/* a read failing somewhere: either the parser did not need that byte, or it says so */
	if (size > 0) {
		pc.fail_at = (size_t)data[0] * 251u % size;
		cut_ok = ota_esp_image_parse_reader(&r, &again);
		if (has_code(&again, OTA_F_READ_ERROR)) {
			CHECK(!cut_ok);
		} else {
			ota_esp_image_parse(data, size, &cut);
			CHECK(memcmp(&again, &cut, sizeof(cut)) == 0);
		}
		pc.fail_at = SIZE_MAX;
	}

	/* a flash slot: the image ends where its structure says, nothing after it counts */
	r.open_ended = true;
	cut_ok = ota_esp_image_parse_reader(&r, &cut);
	CHECK(cut_ok == !ota_esp_image_has_errors(&cut));
	CHECK(cut.file_len == size && cut.payload_len <= size);
	for (uint8_t i = 0; i < cut.segments_parsed; i++)
		CHECK(fits(cut.segments[i].data_offset, cut.segments[i].data_len, size));
	CHECK(!has_code(&cut, OTA_F_TRAILING_DATA) && !has_code(&cut, OTA_F_TRAILING_PADDING));
	CHECK(!has_code(&cut, OTA_F_MERGED_FLASH) && cut.sig_blocks == 0);
	(void)ota_esp_image_check_digests_reader(&r, &cut, &ops);
	return 0;
}
