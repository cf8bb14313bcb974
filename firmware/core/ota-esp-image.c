/* SPDX-License-Identifier: MIT */
/*
 * ota-esp-image.c - ESP8266 and ESP32-family firmware image parser
 *
 * Rules follow ESP-IDF's esp_image_format.c, esptool's bin_image.py and the Arduino
 * ESP8266 elf2bin/Updater; docs/image-formats.md cites each one.
 */

#include "ota/ota-esp-image.h"

#include "ota/ota-util.h"

#define SEGMENT_LEN_MAX (16u * 1024u * 1024u)
#define ESP32_HEADER_LEN 24
#define ESP8266_HEADER_LEN 8
#define SEGMENT_HEADER_LEN 8
#define APP_DESC_OFFSET 0x20
#define APP_DESC_LEN 256
#define MERGED_PARTITION_TABLE_OFFSET 0x8000
#define PARTITION_MAGIC 0x50AA
#define ARDUINO_CRC_LEN_OFFSET 0x1010
#define ARDUINO_CRC_VAL_OFFSET 0x1014
#define SBV1_TRAILER_LEN 68
/* esp_app_desc_t up to and including spi_flash_mode */
#define APP_DESC_USED 182
/* a signature block's magic, version and the bytes that tell its scheme */
#define SIG_BLOCK_HEAD_LEN 64
#define SIG_BLOCK_CRC_OFFSET 1196

/* how much each finding weighs */
static const uint8_t finding_severity[OTA_F_LAST] = {
    [OTA_F_EMPTY] = OTA_SEV_ERROR,
    [OTA_F_NOT_ESP] = OTA_SEV_ERROR,
    [OTA_F_TRUNCATED_HEADER] = OTA_SEV_ERROR,
    [OTA_F_MERGED_FLASH] = OTA_SEV_ERROR,
    [OTA_F_TOO_MANY_SEGMENTS] = OTA_SEV_ERROR,
    [OTA_F_NO_SEGMENTS] = OTA_SEV_ERROR,
    [OTA_F_SEGMENT_PAST_END] = OTA_SEV_ERROR,
    [OTA_F_SEGMENT_LEN_ALIGN] = OTA_SEV_ERROR,
    [OTA_F_SEGMENT_TOO_LARGE] = OTA_SEV_ERROR,
    [OTA_F_MMU_MISALIGNED] = OTA_SEV_ERROR,
    [OTA_F_CHECKSUM_MISSING] = OTA_SEV_ERROR,
    [OTA_F_CHECKSUM_MISMATCH] = OTA_SEV_ERROR,
    [OTA_F_HASH_FLAG_INVALID] = OTA_SEV_ERROR,
    [OTA_F_HASH_MISSING] = OTA_SEV_ERROR,
    [OTA_F_HASH_MISMATCH] = OTA_SEV_ERROR,
    [OTA_F_HASH_OK] = OTA_SEV_INFO,
    [OTA_F_NO_HASH] = OTA_SEV_INFO,
    [OTA_F_CHIP_UNKNOWN] = OTA_SEV_ERROR,
    [OTA_F_RESERVED_NONZERO] = OTA_SEV_WARNING,
    [OTA_F_NO_APP_DESC] = OTA_SEV_WARNING,
    [OTA_F_SEGMENT0_SMALL] = OTA_SEV_ERROR,
    [OTA_F_BOOTLOADER] = OTA_SEV_ERROR,
    [OTA_F_CHIP_AMBIGUOUS] = OTA_SEV_WARNING,
    [OTA_F_RTOS_SDK_V3] = OTA_SEV_INFO,
    [OTA_F_ENTRY_UNUSUAL] = OTA_SEV_WARNING,
    [OTA_F_FLASH_SIZE_CODE] = OTA_SEV_WARNING,
    [OTA_F_TRAILING_DATA] = OTA_SEV_WARNING,
    [OTA_F_TRAILING_PADDING] = OTA_SEV_INFO,
    [OTA_F_SIG_SBV2] = OTA_SEV_INFO,
    [OTA_F_SIG_SBV2_BAD_BLOCK] = OTA_SEV_ERROR,
    [OTA_F_SIG_DIGEST_MISMATCH] = OTA_SEV_ERROR,
    [OTA_F_SIG_SBV1] = OTA_SEV_INFO,
    [OTA_F_SIG_ESP8266] = OTA_SEV_INFO,
    [OTA_F_V2_NOT_ARDUINO] = OTA_SEV_WARNING,
    [OTA_F_V2_HEADER_COUNT] = OTA_SEV_WARNING,
    [OTA_F_V2_CRC_MISMATCH] = OTA_SEV_ERROR,
    [OTA_F_V1_NO_EBOOT] = OTA_SEV_WARNING,
    [OTA_F_ARDUINO_APP_BAD] = OTA_SEV_ERROR,
    [OTA_F_ARDUINO_CRC_OK] = OTA_SEV_INFO,
    [OTA_F_ARDUINO_CRC_MISMATCH] = OTA_SEV_ERROR,
    [OTA_F_ARDUINO_CRC_LENGTH] = OTA_SEV_ERROR,
    [OTA_F_ARDUINO_NO_CRC] = OTA_SEV_INFO,
    [OTA_F_GZIP] = OTA_SEV_INFO,
    [OTA_F_READ_ERROR] = OTA_SEV_ERROR,
};

/*
 * The findings' identifiers, desktop only. Arrays, not pointers to string literals: a
 * table's literals share one section with every other table's, and a device's
 * --gc-sections could then not drop them.
 */
static const char finding_ids[OTA_F_LAST][28] = {
    [OTA_F_EMPTY] = "empty",
    [OTA_F_NOT_ESP] = "not-esp-image",
    [OTA_F_TRUNCATED_HEADER] = "truncated-header",
    [OTA_F_MERGED_FLASH] = "merged-flash-image",
    [OTA_F_TOO_MANY_SEGMENTS] = "too-many-segments",
    [OTA_F_NO_SEGMENTS] = "no-segments",
    [OTA_F_SEGMENT_PAST_END] = "segment-past-end",
    [OTA_F_SEGMENT_LEN_ALIGN] = "segment-length-unaligned",
    [OTA_F_SEGMENT_TOO_LARGE] = "segment-too-large",
    [OTA_F_MMU_MISALIGNED] = "segment-mmu-misaligned",
    [OTA_F_CHECKSUM_MISSING] = "checksum-missing",
    [OTA_F_CHECKSUM_MISMATCH] = "checksum-mismatch",
    [OTA_F_HASH_FLAG_INVALID] = "hash-flag-invalid",
    [OTA_F_HASH_MISSING] = "sha256-missing",
    [OTA_F_HASH_MISMATCH] = "sha256-mismatch",
    [OTA_F_HASH_OK] = "sha256-ok",
    [OTA_F_NO_HASH] = "no-sha256",
    [OTA_F_CHIP_UNKNOWN] = "chip-unknown",
    [OTA_F_RESERVED_NONZERO] = "reserved-nonzero",
    [OTA_F_NO_APP_DESC] = "no-app-description",
    [OTA_F_SEGMENT0_SMALL] = "segment0-too-small",
    [OTA_F_BOOTLOADER] = "bootloader-image",
    [OTA_F_CHIP_AMBIGUOUS] = "chip-ambiguous",
    [OTA_F_RTOS_SDK_V3] = "esp8266-rtos-sdk-v3",
    [OTA_F_ENTRY_UNUSUAL] = "entry-point-unusual",
    [OTA_F_FLASH_SIZE_CODE] = "flash-size-unknown",
    [OTA_F_TRAILING_DATA] = "trailing-data",
    [OTA_F_TRAILING_PADDING] = "trailing-padding",
    [OTA_F_SIG_SBV2] = "secure-boot-v2-signature",
    [OTA_F_SIG_SBV2_BAD_BLOCK] = "signature-block-corrupt",
    [OTA_F_SIG_DIGEST_MISMATCH] = "signature-digest-mismatch",
    [OTA_F_SIG_SBV1] = "secure-boot-v1-signature",
    [OTA_F_SIG_ESP8266] = "esp8266-signed-update",
    [OTA_F_V2_NOT_ARDUINO] = "v2-not-arduino",
    [OTA_F_V2_HEADER_COUNT] = "v2-header-count",
    [OTA_F_V2_CRC_MISMATCH] = "v2-crc-mismatch",
    [OTA_F_V1_NO_EBOOT] = "v1-without-eboot",
    [OTA_F_ARDUINO_APP_BAD] = "arduino-sketch-invalid",
    [OTA_F_ARDUINO_CRC_OK] = "arduino-crc-ok",
    [OTA_F_ARDUINO_CRC_MISMATCH] = "arduino-crc-mismatch",
    [OTA_F_ARDUINO_CRC_LENGTH] = "arduino-crc-length",
    [OTA_F_ARDUINO_NO_CRC] = "arduino-no-crc",
    [OTA_F_GZIP] = "gzip",
    [OTA_F_READ_ERROR] = "read-error",
};

/* by enum ota_chip - 1; what the device's parser needs of a chip */
struct chip_info {
	char id[9]; /* ota_chip_id_string(), held here rather than as a literal (see above) */
	uint8_t chip_id; /* the header's, all below 0x100; the ESP8266's is not looked at */
	/* flash-mapped windows (esptool MEMORY_MAP) in 64 KiB units; zero when not checked */
	uint16_t drom_lo, drom_hi, irom_lo, irom_hi;
};

static const struct chip_info chip_table[OTA_CHIP_LAST - 1] = {
    [OTA_CHIP_ESP8266 - 1] = {"esp8266", 0xFF, 0, 0, 0, 0},
    [OTA_CHIP_ESP32 - 1] = {"esp32", 0x0000, 0x3F40, 0x3F80, 0x400D, 0x4040},
    [OTA_CHIP_ESP32S2 - 1] = {"esp32s2", 0x0002, 0x3F00, 0x3FF8, 0x4008, 0x4080},
    [OTA_CHIP_ESP32C3 - 1] = {"esp32c3", 0x0005, 0x3C00, 0x3C80, 0x4200, 0x4280},
    [OTA_CHIP_ESP32S3 - 1] = {"esp32s3", 0x0009, 0x3C00, 0x3D00, 0x4200, 0x4280},
    [OTA_CHIP_ESP32C2 - 1] = {"esp32c2", 0x000C, 0x3C00, 0x3C40, 0x4200, 0x4240},
    [OTA_CHIP_ESP32C6 - 1] = {"esp32c6", 0x000D, 0x4280, 0x4300, 0x4200, 0x4280},
    [OTA_CHIP_ESP32H2 - 1] = {"esp32h2", 0x0010, 0x4280, 0x4300, 0x4200, 0x4280},
    [OTA_CHIP_ESP32P4 - 1] = {"esp32p4", 0x0012, 0, 0, 0, 0},
    [OTA_CHIP_ESP32C61 - 1] = {"esp32c61", 0x0014, 0, 0, 0, 0},
    [OTA_CHIP_ESP32C5 - 1] = {"esp32c5", 0x0017, 0, 0, 0, 0},
    [OTA_CHIP_ESP32H21 - 1] = {"esp32h21", 0x0019, 0, 0, 0, 0},
    [OTA_CHIP_ESP32H4 - 1] = {"esp32h4", 0x001C, 0, 0, 0, 0},
    [OTA_CHIP_ESP32E22 - 1] = {"esp32e22", 0x001F, 0, 0, 0, 0},
    [OTA_CHIP_ESP32S31 - 1] = {"esp32s31", 0x0020, 0, 0, 0, 0},
};

#define N_CHIPS (sizeof(chip_table) / sizeof(chip_table[0]))

/* display names: desktop only */
static const char chip_names[OTA_CHIP_LAST][10] = {
    [OTA_CHIP_ESP8266] = "ESP8266",
    [OTA_CHIP_ESP32] = "ESP32",
    [OTA_CHIP_ESP32S2] = "ESP32-S2",
    [OTA_CHIP_ESP32C3] = "ESP32-C3",
    [OTA_CHIP_ESP32S3] = "ESP32-S3",
    [OTA_CHIP_ESP32C2] = "ESP32-C2",
    [OTA_CHIP_ESP32C6] = "ESP32-C6",
    [OTA_CHIP_ESP32H2] = "ESP32-H2",
    [OTA_CHIP_ESP32P4] = "ESP32-P4",
    [OTA_CHIP_ESP32C61] = "ESP32-C61",
    [OTA_CHIP_ESP32C5] = "ESP32-C5",
    [OTA_CHIP_ESP32H21] = "ESP32-H21",
    [OTA_CHIP_ESP32H4] = "ESP32-H4",
    [OTA_CHIP_ESP32E22] = "ESP32-E22",
    [OTA_CHIP_ESP32S31] = "ESP32-S31",
};

static bool
addr_in(uint32_t a, uint32_t lo, uint32_t hi);

static OTA_NOINLINE const struct chip_info *
chip_info_get(enum ota_chip chip)
{
	if (chip <= OTA_CHIP_UNKNOWN || chip >= OTA_CHIP_LAST)
		return NULL;
	return &chip_table[chip - 1];
}

/* is @a in the window [lo, hi) given in 64 KiB units? */
static bool
in_window(uint32_t a, uint16_t lo, uint16_t hi)
{
	return addr_in(a >> 16, lo, hi);
}

const char *
ota_chip_name(enum ota_chip chip)
{
	return chip_info_get(chip) != NULL ? chip_names[chip] : "unknown";
}

const char *
ota_chip_id_string(enum ota_chip chip)
{
	const struct chip_info *info = chip_info_get(chip);
	return info != NULL ? info->id : "unknown";
}

enum ota_chip
ota_chip_from_id(uint16_t chip_id)
{
	/* from the entry after the ESP8266's: its images have no chip id field */
	for (size_t i = OTA_CHIP_ESP8266; i < N_CHIPS; i++) {
		if (chip_table[i].chip_id == chip_id)
			return (enum ota_chip)(i + 1);
	}
	return OTA_CHIP_UNKNOWN;
}

/* compare ignoring case, '-' and '_' */
static bool
chip_name_equal(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-' || *a == '_')
			a++;
		while (*b == '-' || *b == '_')
			b++;
		if (ota_lower(*a) != ota_lower(*b))
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

enum ota_chip
ota_chip_from_string(const char *s)
{
	if (s == NULL)
		return OTA_CHIP_UNKNOWN;
	for (size_t i = 0; i < N_CHIPS; i++) {
		if (chip_name_equal(s, chip_table[i].id))
			return (enum ota_chip)(i + 1);
	}
	if (chip_name_equal(s, "esp8285"))
		return OTA_CHIP_ESP8266;
	return OTA_CHIP_UNKNOWN;
}

/* inline: ota_esp_image_add_finding() then calls nothing and needs no stack frame */
static inline uint8_t
severity_of(enum ota_finding_code code)
{
	return (unsigned)code < OTA_F_LAST ? finding_severity[code] : OTA_SEV_ERROR;
}

enum ota_severity
ota_finding_severity(enum ota_finding_code code)
{
	return (enum ota_severity)severity_of(code);
}

const char *
ota_finding_id(enum ota_finding_code code)
{
	if ((unsigned)code >= OTA_F_LAST || finding_ids[code][0] == '\0')
		return "unknown";
	return finding_ids[code];
}

const char *
ota_image_kind_id(enum ota_image_kind kind)
{
	switch (kind) {
	case OTA_IMAGE_ESP32_APP:
		return "esp32-app";
	case OTA_IMAGE_ESP32_BOOTLOADER:
		return "esp32-bootloader";
	case OTA_IMAGE_ESP8266_V1:
		return "esp8266-v1";
	case OTA_IMAGE_ESP8266_ARDUINO:
		return "esp8266-arduino";
	case OTA_IMAGE_ESP8266_V2:
		return "esp8266-v2";
	case OTA_IMAGE_ESP8266_V3:
		return "esp8266-rtos-v3";
	case OTA_IMAGE_GZIP:
		return "gzip";
	case OTA_IMAGE_MERGED_FLASH:
		return "merged-flash";
	case OTA_IMAGE_UNKNOWN:
	default:
		return "unknown";
	}
}

const char *
ota_segment_memory(enum ota_chip chip, uint32_t a)
{
	const struct chip_info *info = chip_info_get(chip);
	if (a < 0x10000000u)
		return "padding";
	if (chip == OTA_CHIP_ESP8266) {
		if (addr_in(a, 0x3FFE8000, 0x40000000))
			return "DRAM";
		if (addr_in(a, 0x40100000, 0x40110000))
			return "IRAM";
		if (addr_in(a, 0x40200000, 0x40300000))
			return "IROM";
		return "?";
	}
	if (info != NULL && info->irom_hi != 0) {
		if (in_window(a, info->drom_lo, info->drom_hi))
			return "DROM";
		if (in_window(a, info->irom_lo, info->irom_hi))
			return "IROM";
	}
	if (addr_in(a, 0x3FF80000, 0x40000000) || addr_in(a, 0x3FC80000, 0x3FD00000) ||
	    addr_in(a, 0x40800000, 0x40880000))
		return "DRAM";
	if (addr_in(a, 0x40070000, 0x400C0000) || addr_in(a, 0x40370000, 0x403E0000))
		return "IRAM";
	if (addr_in(a, 0x400C0000, 0x400C2000) || addr_in(a, 0x50000000, 0x50002000) ||
	    addr_in(a, 0x600FE000, 0x60100000))
		return "RTC";
	return "?";
}

const char *
ota_flash_mode_name(uint8_t mode)
{
	static const char *const names[] = {"QIO", "QOUT", "DIO", "DOUT", "FAST_READ", "SLOW_READ"};
	return mode < 6 ? names[mode] : "unknown";
}

const char *
ota_sig_scheme_name(enum ota_sig_scheme scheme)
{
	switch (scheme) {
	case OTA_SIG_RSA3072_PSS:
		return "RSA-3072-PSS";
	case OTA_SIG_ECDSA_P256:
		return "ECDSA-P256";
	case OTA_SIG_ECDSA_P384:
		return "ECDSA-P384";
	case OTA_SIG_ECDSA_P192:
		return "ECDSA-P192";
	case OTA_SIG_UNKNOWN:
		return "unknown";
	case OTA_SIG_NONE:
	default:
		return "none";
	}
}

unsigned
ota_flash_freq_mhz(enum ota_chip chip, uint8_t code)
{
	switch (chip) {
	case OTA_CHIP_ESP32C2:
		return code == 0xF ? 60 : code == 0 ? 30 : code == 1 ? 20 : code == 2 ? 15 : 0;
	case OTA_CHIP_ESP32H2:
		return code == 0xF ? 48 : code == 0 ? 24 : code == 1 ? 16 : code == 2 ? 12 : 0;
	case OTA_CHIP_ESP32C6:
		return code == 0 ? 40 : code == 2 ? 20 : 0;
	case OTA_CHIP_ESP32C5:
		return code == 0xF ? 80 : code == 0 ? 40 : code == 2 ? 20 : 0;
	default:
		return code == 0xF ? 80 : code == 0 ? 40 : code == 1 ? 26 : code == 2 ? 20 : 0;
	}
}

static OTA_NOINLINE uint32_t
flash_size_bytes(enum ota_chip chip, uint8_t code)
{
	if (chip == OTA_CHIP_ESP8266) {
		static const uint16_t kib[16] = {512, 256, 1024, 2048, 4096, 2048, 4096, 0,
						 8192, 16384, 0, 0, 0, 0, 0, 0};
		return kib[code & 0x0F] * 1024u;
	}
	if (code <= 7)
		return (1024u * 1024u) << code;
	return 0;
}

void
ota_esp_image_add_finding(struct ota_esp_image *img, enum ota_finding_code code, uint32_t a, uint32_t b)
{
	uint8_t sev = severity_of(code);
	struct ota_finding *f;
	int i = img->n_findings;
	if (i < OTA_ESP_MAX_FINDINGS) {
		img->n_findings++;
	} else {
		img->findings_overflow = true;
		/* an error must never be lost: it replaces the last informational finding */
		if (sev != OTA_SEV_ERROR)
			return;
		i = OTA_ESP_MAX_FINDINGS;
		do {
			if (--i < 0)
				return;
		} while (img->findings[i].severity == OTA_SEV_ERROR);
	}
	f = &img->findings[i];
	f->code = (uint16_t)code;
	f->severity = sev;
	f->a = a;
	f->b = b;
}

/* a finding without arguments */
static void
note(struct ota_esp_image *img, enum ota_finding_code code)
{
	ota_esp_image_add_finding(img, code, 0, 0);
}

bool
ota_esp_image_has_errors(const struct ota_esp_image *img)
{
	for (uint8_t i = 0; i < img->n_findings; i++) {
		if (img->findings[i].severity == OTA_SEV_ERROR)
			return true;
	}
	return false;
}

/* ota_get_u16le(), which -Os inlines here: on Xtensa the call costs more than the loads */
static inline uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
clamp_u32(size_t v)
{
	return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)v;
}

static OTA_NOINLINE bool
bytes_are(const uint8_t *p, size_t n, uint8_t value)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != value)
			return false;
	}
	return true;
}

/* ---- reading the image through the caller's reader ---- */

/* no read() call asks for more, so its byte count always fits an int */
#define READ_CHUNK_MAX 0x10000u
/* the streaming buffer when the reader brings none */
#define STACK_SCRATCH_LEN 64u

/* the parser's view of one image */
struct src {
	const struct ota_reader *r;
	size_t len;	 /* r->size */
	bool open_ended; /* r->open_ended */
	struct ota_esp_image *img;
	bool failed; /* the reader failed once: nothing more is read */
};

static void
src_init(struct src *s, const struct ota_reader *r, struct ota_esp_image *img)
{
	s->r = r;
	s->len = r->size;
	s->open_ended = r->open_ended;
	s->img = img;
	s->failed = false;
}

static void
src_fail(struct src *s, size_t off)
{
	if (s->failed)
		return;
	s->failed = true;
	ota_esp_image_add_finding(s->img, OTA_F_READ_ERROR, clamp_u32(off), 0);
}

/* [off, off + n) through read(), which may return fewer bytes than asked for */
static bool
src_fetch(struct src *s, size_t off, uint8_t *out, size_t n)
{
	const struct ota_reader *r = s->r;
	while (n > 0) {
		size_t want = n < READ_CHUNK_MAX ? n : READ_CHUNK_MAX;
		int got = r->read != NULL ? r->read(r->user, off, out, want) : -1;
		if (got <= 0 || (size_t)got > want) {
			src_fail(s, off);
			return false;
		}
		off += (size_t)got;
		out += got;
		n -= (size_t)got;
	}
	return true;
}

static const uint8_t *
src_map(const struct src *s, size_t off, size_t n)
{
	const struct ota_reader *r = s->r;
	return r->map != NULL ? r->map(r->user, off, n) : NULL;
}

/*
 * [off, off + n) into @out, which is zeroed when this fails: when the range is not inside
 * the image (what ota_read_u32le() reports for a buffer) or the reader failed, which is
 * recorded once as OTA_F_READ_ERROR
 */
static bool
src_read(struct src *s, size_t off, uint8_t *out, size_t n)
{
	const uint8_t *p;
	if (!ota_range_ok(s->len, off, n) || s->failed) {
		ota_fill(out, 0, n);
		return false;
	}
	if (n == 0)
		return true;
	p = src_map(s, off, n);
	if (p != NULL) {
		ota_copy(out, p, n);
		return true;
	}
	if (!src_fetch(s, off, out, n)) {
		ota_fill(out, 0, n);
		return false;
	}
	return true;
}

/* the word at @off, 0 when it is not there (src_read() zeroes what it could not read) */
static uint32_t
src_u32(struct src *s, size_t off)
{
	uint8_t b[4];
	(void)src_read(s, off, b, sizeof(b));
	return ota_get_u32le(b);
}

/* takes a piece of a streamed range; false stops the stream */
typedef bool (*src_sink)(void *ctx, const uint8_t *p, size_t n);

/*
 * Feeds [off, off + n) to @sink: mapped pieces where the reader maps, else through the
 * scratch buffer, never byte by byte. True when every byte was fed.
 */
static bool
src_stream(struct src *s, size_t off, size_t n, src_sink sink, void *ctx)
{
	const struct ota_reader *r = s->r;
	uint8_t stack_buf[STACK_SCRATCH_LEN];
	uint8_t *buf = stack_buf;
	size_t cap = sizeof(stack_buf);

	if (!ota_range_ok(s->len, off, n) || s->failed)
		return false;
	if (r->scratch != NULL && r->scratch_len > 0) {
		buf = r->scratch;
		cap = r->scratch_len < READ_CHUNK_MAX ? r->scratch_len : READ_CHUNK_MAX;
	}
	while (n > 0) {
		size_t chunk = n < READ_CHUNK_MAX ? n : READ_CHUNK_MAX;
		const uint8_t *p = src_map(s, off, chunk);
		if (p == NULL) {
			chunk = n < cap ? n : cap;
			if (!src_fetch(s, off, buf, chunk))
				return false;
			p = buf;
		}
		if (!sink(ctx, p, chunk))
			return false;
		off += chunk;
		n -= chunk;
	}
	return true;
}

static bool
sink_xor(void *ctx, const uint8_t *p, size_t n)
{
	uint8_t *x = ctx;
	uint8_t v = *x;
	for (size_t i = 0; i < n; i++)
		v ^= p[i];
	*x = v;
	return true;
}

static bool
sink_crc32_le(void *ctx, const uint8_t *p, size_t n)
{
	uint32_t *crc = ctx;
	*crc = ota_crc32_le(*crc, p, n);
	return true;
}

static bool
sink_crc32_msb(void *ctx, const uint8_t *p, size_t n)
{
	uint32_t *crc = ctx;
	*crc = ota_crc32_msb(*crc, p, n);
	return true;
}

static bool
sink_all_equal(void *ctx, const uint8_t *p, size_t n)
{
	return bytes_are(p, n, *(const uint8_t *)ctx);
}

/* every byte of [from, to) is @value (true for an empty range) */
static bool
all_bytes_are(struct src *s, size_t from, size_t to, uint8_t value)
{
	return from >= to || src_stream(s, from, to - from, sink_all_equal, &value);
}

struct hash_sink {
	const struct ota_hash_ops *ops;
	bool failed;
};

static bool
sink_sha256(void *ctx, const uint8_t *p, size_t n)
{
	struct hash_sink *h = ctx;
	if (h->ops->update(h->ops->user, OTA_HASH_SHA256, p, n) != 0) {
		h->failed = true;
		return false;
	}
	return true;
}

/* SHA-256 of the image's first @n bytes, streamed; false when the hash or a read failed */
static bool
sha256_prefix(struct src *s, const struct ota_hash_ops *hash, size_t n, uint8_t *digest)
{
	struct hash_sink h = {hash, false};
	if (hash == NULL || hash->begin == NULL || hash->update == NULL || hash->finish == NULL)
		return false;
	if (hash->begin(hash->user, OTA_HASH_SHA256) != 0)
		return false;
	if (!src_stream(s, 0, n, sink_sha256, &h)) {
		/* close the port's context; the result is not wanted */
		uint8_t unused[OTA_SHA256_LEN];
		(void)hash->finish(hash->user, OTA_HASH_SHA256, unused);
		return false;
	}
	return hash->finish(hash->user, OTA_HASH_SHA256, digest) == 0;
}

/* ---- segments ---- */

/* the result of walking a chain of segments */
struct walk {
	uint8_t parsed;
	bool complete;	     /* every segment lies inside the file */
	uint8_t bad_index;   /* first segment that does not */
	size_t missing;	     /* how many bytes it lacks */
	size_t end;	     /* offset after the last segment */
	uint8_t checksum;    /* 0xEF ^ all segment data */
	bool checksum_present;
	size_t checksum_offset;
	uint8_t checksum_stored;
	struct ota_esp_segment segs[OTA_ESP_MAX_SEGMENTS];
};

static void
walk_segments(struct src *s, size_t off, unsigned count, struct walk *w)
{
	size_t len = s->len;

	ota_fill(w, 0, sizeof(*w));
	w->checksum = 0xEF;
	if (count > OTA_ESP_MAX_SEGMENTS)
		count = OTA_ESP_MAX_SEGMENTS;
	for (unsigned i = 0; i < count; i++) {
		uint8_t sh[SEGMENT_HEADER_LEN];
		uint32_t addr;
		uint32_t dlen;
		size_t data_off;
		/* where a walk stops (nothing reads it after a complete walk) */
		w->bad_index = (uint8_t)i;
		if (!src_read(s, off, sh, sizeof(sh))) {
			/* after a read error nothing is missing: the error is its own finding */
			if (!ota_range_ok(len, off, SEGMENT_HEADER_LEN))
				w->missing = off + SEGMENT_HEADER_LEN - (len < off ? off : len);
			return;
		}
		addr = ota_get_u32le(sh);
		dlen = ota_get_u32le(sh + 4);
		data_off = off + SEGMENT_HEADER_LEN;
		if (!ota_range_ok(len, data_off, dlen)) {
			w->missing = (size_t)dlen - (len - data_off);
			w->segs[i].load_addr = addr;
			w->segs[i].data_len = dlen;
			w->segs[i].data_offset = (uint32_t)data_off;
			return;
		}
		if (!src_stream(s, data_off, dlen, sink_xor, &w->checksum))
			return;
		w->segs[i].load_addr = addr;
		w->segs[i].data_len = dlen;
		w->segs[i].data_offset = clamp_u32(data_off);
		w->parsed = (uint8_t)(i + 1);
		off = data_off + dlen;
	}
	w->complete = true;
	w->end = off;
	w->checksum_offset = ((off + 1 + 15) & ~(size_t)15) - 1;
	if (w->checksum_offset < len && src_read(s, w->checksum_offset, &w->checksum_stored, 1))
		w->checksum_present = true;
}

static OTA_NOINLINE bool
walk_ok(const struct walk *w)
{
	/* (only a complete walk has its checksum present) */
	return w->checksum_present && w->checksum_stored == w->checksum;
}

static void
copy_walk(struct ota_esp_image *img, const struct walk *w)
{
	ota_copy(img->segments, w->segs, sizeof(img->segments));
	img->segments_parsed = w->parsed;
	img->checksum_present = w->checksum_present;
	img->checksum_offset = w->checksum_offset;
	img->checksum_stored = w->checksum_stored;
	img->checksum_computed = w->checksum;
}

/* the image checksum byte against the one computed over the segments (copy_walk()) */
static void
check_checksum(struct ota_esp_image *img)
{
	if (img->checksum_stored != img->checksum_computed)
		ota_esp_image_add_finding(img, OTA_F_CHECKSUM_MISMATCH, img->checksum_stored,
					  img->checksum_computed);
}

/* report a walk's structural errors; true when the segments and checksum are present */
static bool
report_walk(struct ota_esp_image *img, const struct walk *w)
{
	if (!w->complete) {
		ota_esp_image_add_finding(img, OTA_F_SEGMENT_PAST_END, w->bad_index,
					  clamp_u32(w->missing));
		return false;
	}
	if (!w->checksum_present) {
		note(img, OTA_F_CHECKSUM_MISSING);
		return false;
	}
	return true;
}

static bool
addr_in(uint32_t a, uint32_t lo, uint32_t hi)
{
	return a >= lo && a < hi;
}

/* an address window in 64 KiB units and what an address in it scores */
struct score_window {
	uint16_t lo;
	uint8_t len;
	int8_t score;
};

/* the entry point's windows, then the segments' (the windows of each are disjoint) */
static const struct score_window score_windows[8] = {
    {0x4010, 0x01, 2},  {0x4008, 0x04, -2}, {0x400D, 0x33, -2}, /* entry */
    {0x4010, 0x01, 1},  {0x4020, 0x10, 1},  {0x3F40, 0x40, -1},
    {0x4008, 0x04, -1}, {0x400D, 0x13, -1},
};

static int
window_score(uint32_t a, const struct score_window *t, size_t n)
{
	int score = 0;
	for (size_t k = 0; k < n; k++) {
		if ((a >> 16) - t[k].lo < t[k].len)
			score += t[k].score;
	}
	return score;
}

/* ESP8266-looking addresses count for, ESP32-looking ones against (esp-images.md 2.6c) */
static int
esp8266_address_score(const struct walk *w, uint32_t entry)
{
	int score = window_score(entry, score_windows, 3);
	for (uint8_t i = 0; i < w->parsed; i++)
		score += window_score(w->segs[i].load_addr, score_windows + 3, 5);
	return score;
}

static void
parse_app_desc(struct src *s, size_t off, struct ota_esp_app_desc *d)
{
	uint8_t p[APP_DESC_USED];
	if (!src_read(s, off, p, sizeof(p)))
		return;
	d->secure_version = ota_get_u32le(p + 4);
	ota_copy_field(d->version, p + 16, 32);
	ota_copy_field(d->project_name, p + 48, 32);
	ota_copy_field(d->time, p + 80, 16);
	ota_copy_field(d->date, p + 96, 16);
	ota_copy_field(d->idf_ver, p + 112, 32);
	ota_copy(d->app_elf_sha256, p + 144, 32);
	d->min_efuse_blk_rev_full = get_u16(p + 176);
	d->max_efuse_blk_rev_full = get_u16(p + 178);
	d->mmu_page_size = p[180];
	d->spi_flash_mode = p[181];
}

/* what follows the image from @from to the end of the file */
static void
report_trailing(struct src *s, size_t from)
{
	size_t len = s->len;
	if (from >= len)
		return;
	ota_esp_image_add_finding(
	    s->img, all_bytes_are(s, from, len, 0xFF) ? OTA_F_TRAILING_PADDING : OTA_F_TRAILING_DATA,
	    clamp_u32(len - from), 0);
}

/* from the first SIG_BLOCK_HEAD_LEN bytes of a signature block */
static enum ota_sig_scheme
sig_block_scheme(const uint8_t *blk)
{
	if (blk[1] == 0x02)
		return OTA_SIG_RSA3072_PSS;
	if (blk[1] == 0x03) {
		if (blk[2] == 1)
			return blk[52] == 3 ? OTA_SIG_ECDSA_P384 : OTA_SIG_UNKNOWN;
		if (blk[36] == 2)
			return OTA_SIG_ECDSA_P256;
		if (blk[36] == 1)
			return OTA_SIG_ECDSA_P192;
	}
	return OTA_SIG_UNKNOWN;
}

/* Secure Boot v2 sector or v1 trailer after an ESP32 image ending at img->image_len */
static void
parse_esp32_signatures(struct src *s, struct ota_esp_image *img)
{
	size_t len = s->len;
	size_t end = img->image_len;
	size_t sector;
	uint8_t magic = 0;
	uint8_t k;

	img->payload_len = end < len ? end : len;
	if (end >= len)
		return;

	/* (a failed read reads as 0 too) */
	if (len - end == SBV1_TRAILER_LEN && src_u32(s, end) == 0 && !s->failed) {
		img->sig_sbv1 = true;
		note(img, OTA_F_SIG_SBV1);
		return;
	}

	sector = (end + OTA_ESP_SIG_SECTOR_LEN - 1) & ~(size_t)(OTA_ESP_SIG_SECTOR_LEN - 1);
	if (sector < len)
		(void)src_read(s, sector, &magic, 1);
	if (sector >= len || magic != 0xE7 || !all_bytes_are(s, end, sector, 0xFF)) {
		report_trailing(s, end);
		return;
	}
	img->sig_sector_offset = sector;
	img->payload_len = sector;
	if (!ota_range_ok(len, sector, OTA_ESP_SIG_SECTOR_LEN)) {
		/* 0xFF to the 4 KiB boundary, a block magic, then the file ends: a signed image
		 * cut inside its signature sector, which no device will accept */
		note(img, OTA_F_SIG_SBV2_BAD_BLOCK);
		return;
	}
	for (k = 0; k < OTA_ESP_SIG_MAX_BLOCKS; k++) {
		size_t blk = sector + (size_t)k * OTA_ESP_SIG_BLOCK_LEN;
		uint8_t head[SIG_BLOCK_HEAD_LEN];
		uint32_t crc_stored;
		uint32_t crc = 0;
		(void)src_read(s, blk, head, sizeof(head));
		if (head[0] != 0xE7)
			break;
		img->sig_scheme[k] = sig_block_scheme(head);
		crc_stored = src_u32(s, blk + SIG_BLOCK_CRC_OFFSET);
		img->sig_block_ok[k] =
		    img->sig_scheme[k] != OTA_SIG_UNKNOWN &&
		    src_stream(s, blk, SIG_BLOCK_CRC_OFFSET, sink_crc32_le, &crc) &&
		    crc == crc_stored;
	}
	img->sig_blocks = k;
	ota_esp_image_add_finding(img, OTA_F_SIG_SBV2, img->sig_blocks, img->sig_scheme[0]);
	for (k = 0; k < img->sig_blocks; k++) {
		if (!img->sig_block_ok[k])
			ota_esp_image_add_finding(img, OTA_F_SIG_SBV2_BAD_BLOCK, k, 0);
	}
	report_trailing(s, sector + OTA_ESP_SIG_SECTOR_LEN);
}

static void
check_mmu_alignment(struct ota_esp_image *img)
{
	const struct chip_info *info = chip_info_get(img->chip);
	uint32_t page = 0x10000;
	if (info == NULL || info->irom_hi == 0)
		return;
	if (img->has_app_desc && img->app_desc.mmu_page_size >= 13 &&
	    img->app_desc.mmu_page_size <= 16)
		page = 1u << img->app_desc.mmu_page_size;
	for (uint8_t i = 0; i < img->segments_parsed; i++) {
		const struct ota_esp_segment *s = &img->segments[i];
		bool mapped = in_window(s->load_addr, info->drom_lo, info->drom_hi) ||
			      in_window(s->load_addr, info->irom_lo, info->irom_hi);
		/* page is a power of two: the offsets within a page differ */
		if (mapped && ((s->data_offset ^ s->load_addr) & (page - 1)) != 0)
			ota_esp_image_add_finding(img, OTA_F_MMU_MISALIGNED, i, s->load_addr);
	}
}

/* ESP32-family layout (also ESP8266 RTOS SDK v3), header @hdr at offset 0 */
static void
parse_esp32_layout(struct src *s,
		   const uint8_t *hdr,
		   struct ota_esp_image *img,
		   const struct walk *w)
{
	size_t len = s->len;
	uint8_t b23 = hdr[23];
	const struct ota_esp_segment *seg0 = &w->segs[0];
	enum ota_finding_code code;

	img->wp_pin = hdr[8];
	img->spi_pin_drv[0] = hdr[9];
	img->spi_pin_drv[1] = hdr[10];
	img->spi_pin_drv[2] = hdr[11];
	img->min_chip_rev = hdr[14];
	img->min_chip_rev_full = get_u16(hdr + 15);
	img->max_chip_rev_full = get_u16(hdr + 17);
	img->hash_appended = b23;
	copy_walk(img, w);

	if (!bytes_are(hdr + 19, 4, 0))
		note(img, OTA_F_RESERVED_NONZERO);
	if (img->segment_count > OTA_ESP_MAX_SEGMENTS) {
		ota_esp_image_add_finding(img, OTA_F_TOO_MANY_SEGMENTS, img->segment_count,
					  OTA_ESP_MAX_SEGMENTS);
		return;
	}
	if (img->segment_count == 0) {
		note(img, OTA_F_NO_SEGMENTS);
		return;
	}
	if (!report_walk(img, w))
		return;
	for (uint8_t i = 0; i < w->parsed; i++) {
		if (w->segs[i].data_len % 4 != 0)
			ota_esp_image_add_finding(img, OTA_F_SEGMENT_LEN_ALIGN, i, w->segs[i].data_len);
		if (w->segs[i].data_len >= SEGMENT_LEN_MAX)
			ota_esp_image_add_finding(img, OTA_F_SEGMENT_TOO_LARGE, i, w->segs[i].data_len);
	}
	check_checksum(img);

	img->image_len = w->checksum_offset + 1;
	code = b23 == 0 ? OTA_F_NO_HASH : OTA_F_HASH_FLAG_INVALID;
	if (b23 == 1) {
		img->hash_offset = img->image_len;
		img->image_len += OTA_SHA256_LEN;
		img->hash_present = ota_range_ok(len, img->hash_offset, OTA_SHA256_LEN);
		code = img->hash_present ? OTA_F_LAST : OTA_F_HASH_MISSING;
	}
	/* the flag's value is the argument of HASH_FLAG_INVALID (and 0 for NO_HASH) */
	if (code != OTA_F_LAST)
		ota_esp_image_add_finding(img, code, code == OTA_F_HASH_MISSING ? 0 : b23, 0);

	/* esp_app_desc_t is the first thing in segment 0 */
	if (seg0->data_len >= 4) {
		uint32_t magic = src_u32(s, seg0->data_offset);
		code = OTA_F_NO_APP_DESC;
		if (magic == OTA_ESP_APP_DESC_MAGIC) {
			code = OTA_F_SEGMENT0_SMALL;
			if (seg0->data_len >= APP_DESC_LEN) {
				code = OTA_F_LAST;
				img->has_app_desc = true;
				parse_app_desc(s, seg0->data_offset, &img->app_desc);
			}
		} else if ((magic & 0xFF) == 0x50 && img->kind == OTA_IMAGE_ESP32_APP &&
			   !addr_in(seg0->load_addr, 0x3C000000, 0x3F800000) &&
			   !addr_in(seg0->load_addr, 0x42000000, 0x43000000)) {
			img->kind = OTA_IMAGE_ESP32_BOOTLOADER;
			code = OTA_F_BOOTLOADER;
		}
		/* segment 0's length is SEGMENT0_SMALL's argument */
		if (code != OTA_F_LAST)
			ota_esp_image_add_finding(
			    img, code, code == OTA_F_SEGMENT0_SMALL ? seg0->data_len : 0, 0);
	}
	if (img->kind == OTA_IMAGE_ESP32_APP)
		check_mmu_alignment(img);
	if (img->kind != OTA_IMAGE_ESP8266_V3 && img->flash_size_code > 7)
		ota_esp_image_add_finding(img, OTA_F_FLASH_SIZE_CODE, img->flash_size_code, 0);

	if (img->image_len > len)
		return;
	/* in a flash slot what follows the image is not part of it */
	if (s->open_ended)
		img->payload_len = img->image_len;
	else
		parse_esp32_signatures(s, img);
}

/* the trailer length word @l of a file of @len bytes (see ota_esp8266_signed_split) */
static bool
signed_split_len(
    size_t len, uint32_t l, size_t payload_end_hint, size_t *payload_len, size_t *sig_len)
{
	if (l == 0 || l > 1024 || (size_t)l > len - 4)
		return false;
	if (payload_end_hint != 0) {
		if (payload_end_hint + l + 4 != len)
			return false;
	} else {
		/* RSA-1024..4096 or a DER-encoded ECDSA signature (l is 1 to 1024 here) */
		if (!(((l & 127) == 0 && l <= 512) || l - 64 <= 8 || l - 100 <= 4 || l - 136 <= 4))
			return false;
	}
	*payload_len = len - 4 - l;
	*sig_len = l;
	return true;
}

bool
ota_esp8266_signed_split(
    const uint8_t *buf, size_t len, size_t payload_end_hint, size_t *payload_len, size_t *sig_len)
{
	uint32_t l = 0;
	if (len < 8 || !ota_read_u32le(buf, len, len - 4, &l))
		return false;
	return signed_split_len(len, l, payload_end_hint, payload_len, sig_len);
}

/* an esp8266 signed-update trailer right after the image: recorded, true */
static bool
esp8266_signed_trailer(struct src *s, struct ota_esp_image *img)
{
	size_t payload_len;
	size_t sig_len;
	/* (a word that is not there reads as 0, which is no length) */
	if (img->image_len >= s->len || s->len < 8 ||
	    !signed_split_len(s->len, src_u32(s, s->len - 4), img->image_len, &payload_len,
			      &sig_len))
		return false;
	img->esp8266_sig_len = sig_len;
	img->payload_len = payload_len;
	ota_esp_image_add_finding(img, OTA_F_SIG_ESP8266, clamp_u32(sig_len), 0);
	return true;
}

static void
check_v1_entry(struct ota_esp_image *img)
{
	if (!addr_in(img->entry_addr, 0x40100000, 0x40110000))
		ota_esp_image_add_finding(img, OTA_F_ENTRY_UNUSUAL, img->entry_addr, 0);
}

/*
 * The Arduino ESP8266 whole-file CRC at 0x1010 (elf2bin add_crc) over @payload_len bytes;
 * in a flash slot, which has no file length, over the length stored next to it
 */
static void
check_arduino_crc(struct src *s, size_t payload_len, struct ota_esp_image *img)
{
	static const uint8_t zeros[8] = {0};
	uint32_t stored_len = 0;
	uint32_t crc = 0xFFFFFFFFu;

	if (payload_len >= ARDUINO_CRC_LEN_OFFSET + 4)
		stored_len = src_u32(s, ARDUINO_CRC_LEN_OFFSET);
	if (payload_len >= ARDUINO_CRC_VAL_OFFSET + 4)
		img->arduino_crc_stored = src_u32(s, ARDUINO_CRC_VAL_OFFSET);
	img->arduino_crc_len = stored_len;
	if ((stored_len == 0 && img->arduino_crc_stored == 0) ||
	    (stored_len == 0xFFFFFFFFu && img->arduino_crc_stored == 0xFFFFFFFFu)) {
		note(img, OTA_F_ARDUINO_NO_CRC);
		return;
	}
	img->arduino_crc_present = true;
	if (s->open_ended) {
		if (stored_len < img->image_len || stored_len > payload_len) {
			ota_esp_image_add_finding(img, OTA_F_ARDUINO_CRC_LENGTH, stored_len,
						  clamp_u32(img->image_len));
			return;
		}
		payload_len = stored_len;
		img->payload_len = payload_len;
	} else if (stored_len != payload_len) {
		ota_esp_image_add_finding(img, OTA_F_ARDUINO_CRC_LENGTH, stored_len,
					  clamp_u32(payload_len));
		return;
	}
	if (!src_stream(s, 0, ARDUINO_CRC_LEN_OFFSET, sink_crc32_msb, &crc))
		return;
	crc = ota_crc32_msb(crc, zeros, sizeof(zeros));
	if (!src_stream(s, ARDUINO_CRC_LEN_OFFSET + 8, payload_len - ARDUINO_CRC_LEN_OFFSET - 8,
			sink_crc32_msb, &crc))
		return;
	img->arduino_crc_computed = crc;
	if (crc == img->arduino_crc_stored)
		note(img, OTA_F_ARDUINO_CRC_OK);
	else
		ota_esp_image_add_finding(img, OTA_F_ARDUINO_CRC_MISMATCH, img->arduino_crc_stored,
					  crc);
}

static void
parse_arduino_sketch(struct src *s, struct ota_esp_image *img, struct walk *w)
{
	size_t len = s->len;
	size_t hdr = OTA_ESP_ARDUINO_APP_OFFSET;
	uint8_t h[ESP8266_HEADER_LEN];
	uint8_t crc_bytes = 0;

	img->kind = OTA_IMAGE_ESP8266_ARDUINO;
	img->header_offset = hdr;
	if (!src_read(s, hdr, h, sizeof(h)))
		return;
	img->segment_count = h[1];
	img->entry_addr = ota_get_u32le(h + 4);
	if (img->segment_count == 0 || img->segment_count > OTA_ESP_MAX_SEGMENTS) {
		note(img, OTA_F_ARDUINO_APP_BAD);
		return;
	}
	walk_segments(s, hdr + ESP8266_HEADER_LEN, img->segment_count, w);
	copy_walk(img, w);
	if (!report_walk(img, w))
		return;

	/* elf2bin computes the checksum before it stores the CRC words in .irom0.text */
	if (w->checksum != w->checksum_stored && len >= ARDUINO_CRC_LEN_OFFSET + 8) {
		uint8_t words[8];
		(void)src_read(s, ARDUINO_CRC_LEN_OFFSET, words, sizeof(words));
		for (size_t k = 0; k < sizeof(words); k++)
			crc_bytes ^= words[k];
		if ((uint8_t)(w->checksum ^ crc_bytes) == w->checksum_stored)
			img->checksum_computed = w->checksum_stored;
	}
	check_checksum(img);
	img->image_len = w->checksum_offset + 1;
	check_v1_entry(img);

	if (s->open_ended) {
		img->payload_len = img->image_len;
		check_arduino_crc(s, len, img);
		return;
	}
	if (!esp8266_signed_trailer(s, img))
		img->payload_len = len;
	check_arduino_crc(s, img->payload_len, img);
	if (img->esp8266_sig_len == 0)
		report_trailing(s, img->image_len);
}

/* every segment in eboot's 4 KiB of IRAM at 0x4010F000 (A8266 bootloaders/eboot/eboot.ld) */
static bool
segments_are_eboot(const struct walk *w)
{
	if (w->parsed == 0)
		return false;
	for (uint8_t i = 0; i < w->parsed; i++) {
		if (!addr_in(w->segs[i].load_addr, 0x4010F000, 0x40110000))
			return false;
	}
	return true;
}

/* 0xE9 with the 8-byte header: a bare v1 image or the Arduino .bin */
static void
parse_esp8266_v1(struct src *s,
		 struct ota_esp_image *img,
		 const struct walk *w,
		 struct walk *sketch_walk)
{
	size_t len = s->len;
	size_t end = w->checksum_offset + 1;
	bool eboot = w->checksum_offset < OTA_ESP_ARDUINO_APP_OFFSET;
	bool sketch;
	bool cut;
	uint8_t sketch_magic = 0;

	img->kind = OTA_IMAGE_ESP8266_V1;
	img->chip = OTA_CHIP_ESP8266;
	if (img->segment_count == 0) {
		note(img, OTA_F_NO_SEGMENTS);
		return;
	}
	if (img->segment_count > OTA_ESP_MAX_SEGMENTS) {
		ota_esp_image_add_finding(img, OTA_F_TOO_MANY_SEGMENTS, img->segment_count,
					  OTA_ESP_MAX_SEGMENTS);
		return;
	}
	if (flash_size_bytes(OTA_CHIP_ESP8266, img->flash_size_code) == 0)
		ota_esp_image_add_finding(img, OTA_F_FLASH_SIZE_CODE, img->flash_size_code, 0);
	copy_walk(img, w);
	if (!report_walk(img, w))
		return;

	/* eboot first, sketch at 0x1000: the Arduino .bin */
	sketch = eboot && len >= OTA_ESP_ARDUINO_APP_OFFSET + ESP8266_HEADER_LEN &&
		 src_read(s, OTA_ESP_ARDUINO_APP_OFFSET, &sketch_magic, 1) &&
		 sketch_magic == OTA_ESP_IMAGE_MAGIC;
	/* eboot alone, or eboot and part of elf2bin's 0xAA fill: an Arduino .bin cut short
	 * before its sketch, which would leave the device with a boot loader and nothing to boot */
	cut = eboot && !sketch &&
	      (segments_are_eboot(w) ||
	       (end < len &&
		all_bytes_are(s, end,
			      len < OTA_ESP_ARDUINO_APP_OFFSET ? len : OTA_ESP_ARDUINO_APP_OFFSET,
			      0xAA)));
	/* after the reads above, whose errors come first */
	check_checksum(img);
	if (sketch || cut) {
		img->eboot_len = end;
		if (sketch) {
			parse_arduino_sketch(s, img, sketch_walk);
			return;
		}
		img->kind = OTA_IMAGE_ESP8266_ARDUINO;
		img->image_len = end;
		note(img, OTA_F_ARDUINO_APP_BAD);
		return;
	}

	img->image_len = end;
	check_v1_entry(img);
	note(img, OTA_F_V1_NO_EBOOT);
	if (s->open_ended) {
		img->payload_len = img->image_len;
		return;
	}
	if (esp8266_signed_trailer(s, img))
		return;
	img->payload_len = img->image_len;
	report_trailing(s, img->image_len);
}

/* 0xEA: Espressif NONOS SDK "v2" OTA image */
static void
parse_esp8266_v2(struct src *s, struct ota_esp_image *img, struct walk *w)
{
	size_t len = s->len;
	uint8_t h[16];
	uint8_t h2[ESP8266_HEADER_LEN];
	uint32_t irom_addr;
	uint32_t irom_len;
	size_t hdr2;
	uint8_t stored[4];
	uint32_t crc_stored;
	uint32_t crc = 0;

	img->kind = OTA_IMAGE_ESP8266_V2;
	img->chip = OTA_CHIP_ESP8266;
	note(img, OTA_F_V2_NOT_ARDUINO);
	if (len < 16) {
		ota_esp_image_add_finding(img, OTA_F_TRUNCATED_HEADER, clamp_u32(len), 16);
		return;
	}
	if (!src_read(s, 0, h, sizeof(h)))
		return;
	if (h[1] != 4)
		ota_esp_image_add_finding(img, OTA_F_V2_HEADER_COUNT, h[1], 0);
	irom_addr = ota_get_u32le(h + 8);
	irom_len = ota_get_u32le(h + 12);
	/* the irom segment and the next header's 8 bytes (len is 16 or more here) */
	if (len < 24 || irom_len > len - 24) {
		size_t need = 16 + (size_t)irom_len + 8;
		ota_esp_image_add_finding(img, OTA_F_SEGMENT_PAST_END, 0,
					  clamp_u32(need > len ? need - len : 0));
		return;
	}
	hdr2 = 16 + (size_t)irom_len;
	if (!src_read(s, hdr2, h2, sizeof(h2)))
		return;
	if (h2[0] != OTA_ESP_IMAGE_MAGIC) {
		ota_esp_image_add_finding(img, OTA_F_TRUNCATED_HEADER, clamp_u32(hdr2), 0);
		return;
	}
	img->header_offset = hdr2;
	img->segment_count = h2[1];
	img->flash_mode = h2[2];
	img->flash_size_code = (uint8_t)(h2[3] >> 4);
	img->flash_freq_code = (uint8_t)(h2[3] & 0x0F);
	img->flash_size = flash_size_bytes(OTA_CHIP_ESP8266, img->flash_size_code);
	img->entry_addr = ota_get_u32le(h2 + 4);
	if (img->segment_count == 0 || img->segment_count >= OTA_ESP_MAX_SEGMENTS) {
		ota_esp_image_add_finding(img, img->segment_count == 0 ? OTA_F_NO_SEGMENTS
								       : OTA_F_TOO_MANY_SEGMENTS,
					  img->segment_count, OTA_ESP_MAX_SEGMENTS - 1);
		return;
	}
	walk_segments(s, hdr2 + ESP8266_HEADER_LEN, img->segment_count, w);
	copy_walk(img, w);
	/* list the irom segment first, as esptool does (at most 15 were parsed); a segment
	 * past the end, which the walk records after them, is not listed: this overwrites it */
	ota_copy(img->segments + 1, w->segs, w->parsed * sizeof(w->segs[0]));
	img->segments[0].load_addr = irom_addr;
	img->segments[0].data_len = irom_len;
	img->segments[0].data_offset = 16;
	img->segments_parsed = (uint8_t)(w->parsed + 1);
	if (!report_walk(img, w))
		return;
	check_checksum(img);
	img->image_len = w->checksum_offset + 1 + 4;
	if (!src_read(s, w->checksum_offset + 1, stored, sizeof(stored))) {
		note(img, OTA_F_CHECKSUM_MISSING);
		return;
	}
	if (!src_stream(s, 0, w->checksum_offset + 1, sink_crc32_le, &crc))
		return;
	crc = (crc & 0x80000000u) ? crc ^ 0xFFFFFFFFu : crc + 1;
	crc_stored = ota_get_u32le(stored);
	if (crc != crc_stored)
		ota_esp_image_add_finding(img, OTA_F_V2_CRC_MISMATCH, crc_stored, crc);
	check_v1_entry(img);
	img->payload_len = img->image_len;
	if (!s->open_ended)
		report_trailing(s, img->image_len);
}

/* a whole-flash dump has the partition table at 0x8000; returns the first app's offset */
static bool
find_merged_flash(struct src *s, uint32_t *app_offset, struct walk *w)
{
	size_t len = s->len;
	uint8_t head[2];

	/* (what could not be read is zeroed) */
	(void)src_read(s, MERGED_PARTITION_TABLE_OFFSET, head, sizeof(head));
	if (get_u16(head) != PARTITION_MAGIC)
		return false;
	if (!src_read(s, 0, head, sizeof(head)))
		return false;
	if (!(head[0] == 0xFF || head[0] == OTA_ESP_IMAGE_MAGIC))
		return false;
	if (head[0] == OTA_ESP_IMAGE_MAGIC) {
		/* only a bootloader at 0 (C3, S3, ...) that ends below the table makes a dump;
		 * an app can hold AA 50 at 0x8000 in its segment data (esp-images.md 2.6.4) */
		walk_segments(s, ESP32_HEADER_LEN, head[1], w);
		if (head[1] == 0 || head[1] > OTA_ESP_MAX_SEGMENTS || !w->complete ||
		    w->checksum_offset >= MERGED_PARTITION_TABLE_OFFSET)
			return false;
	}
	*app_offset = 0;
	for (size_t off = MERGED_PARTITION_TABLE_OFFSET;
	     off + 32 <= MERGED_PARTITION_TABLE_OFFSET + 0xC00; off += 32) {
		/* magic, type, subtype, offset of one esp_partition_info_t */
		uint8_t e[8];
		size_t n;
		if (off >= len || len - off < 2)
			break;
		n = len - off < sizeof(e) ? len - off : sizeof(e);
		if (!src_read(s, off, e, n) || get_u16(e) != PARTITION_MAGIC)
			break;
		/* type app (0), subtype factory (0x00) or ota_0 (0x10) */
		if (n == sizeof(e) && e[2] == 0 && (e[3] == 0x00 || e[3] == 0x10)) {
			*app_offset = ota_get_u32le(e + 4);
			break;
		}
	}
	return true;
}

static void
parse_e9(struct src *s, struct ota_esp_image *img, struct walk *walks)
{
	size_t len = s->len;
	uint8_t hdr[ESP32_HEADER_LEN];
	struct walk *w32 = &walks[0];
	struct walk *w8266 = &walks[1];
	bool esp32_header = false;
	bool e32_ok = false;
	bool v1_ok;
	bool use_esp32;
	uint16_t chip_id = 0xFFFF;
	int score32 = 0;

	if (len < ESP8266_HEADER_LEN) {
		ota_esp_image_add_finding(img, OTA_F_TRUNCATED_HEADER, clamp_u32(len),
					  ESP8266_HEADER_LEN);
		return;
	}
	ota_fill(hdr, 0, sizeof(hdr));
	if (!src_read(s, 0, hdr, len < sizeof(hdr) ? len : sizeof(hdr)))
		return;
	img->segment_count = hdr[1];
	img->flash_mode = hdr[2];
	img->flash_size_code = (uint8_t)(hdr[3] >> 4);
	img->flash_freq_code = (uint8_t)(hdr[3] & 0x0F);
	img->entry_addr = ota_get_u32le(hdr + 4);

	/* read it both ways (esp-images.md 2.6) */
	walk_segments(s, ESP8266_HEADER_LEN, hdr[1], w8266);
	v1_ok = hdr[1] > 0 && hdr[1] <= OTA_ESP_MAX_SEGMENTS && walk_ok(w8266);
	if (len >= ESP32_HEADER_LEN) {
		chip_id = get_u16(hdr + 12);
		esp32_header = hdr[23] <= 1 && ota_chip_from_id(chip_id) != OTA_CHIP_UNKNOWN &&
			       bytes_are(hdr + 19, 4, 0);
		walk_segments(s, ESP32_HEADER_LEN, hdr[1], w32);
		e32_ok = hdr[1] > 0 && hdr[1] <= OTA_ESP_MAX_SEGMENTS && walk_ok(w32);
		score32 = esp8266_address_score(w32, img->entry_addr);
	}

	if (v1_ok && esp32_header && e32_ok) {
		/* both consistent: only ESP8266 addresses make it an ESP8266 v1 image */
		use_esp32 = !(esp8266_address_score(w8266, img->entry_addr) > 0 && score32 <= 0);
	} else if (v1_ok) {
		use_esp32 = false;
	} else {
		/* a damaged image: trust whichever reading still holds together */
		use_esp32 = len >= ESP32_HEADER_LEN && (e32_ok || esp32_header);
	}

	if (!use_esp32) {
		img->flash_size = flash_size_bytes(OTA_CHIP_ESP8266, img->flash_size_code);
		/* the ESP32 reading is not needed any more: the sketch's walk reuses it */
		parse_esp8266_v1(s, img, w8266, w32);
		return;
	}

	img->chip_id = chip_id;
	img->chip = ota_chip_from_id(chip_id);
	img->kind = OTA_IMAGE_ESP32_APP;
	if (img->chip == OTA_CHIP_UNKNOWN)
		ota_esp_image_add_finding(img, OTA_F_CHIP_UNKNOWN, chip_id, 0);
	if (chip_id == 0) {
		int score = score32;
		if (score > 0) {
			img->kind = OTA_IMAGE_ESP8266_V3;
			img->chip = OTA_CHIP_ESP8266;
			note(img, OTA_F_RTOS_SDK_V3);
		} else if (score == 0 && !addr_in(img->entry_addr, 0x40080000, 0x400C0000)) {
			note(img, OTA_F_CHIP_AMBIGUOUS);
		}
	}
	img->flash_size = flash_size_bytes(img->chip, img->flash_size_code);
	parse_esp32_layout(s, hdr, img, w32);
}

bool
ota_esp_image_parse_reader(const struct ota_reader *r, struct ota_esp_image *img)
{
	/*
	 * The reader's view and every segment walk of one parse, each walk filled by
	 * walk_segments() before use: the dump check and the v2 parser take walks[0], an 0xE9
	 * header is read into both and the Arduino sketch reuses the ESP32 reading (one frame
	 * of walks instead of four). One object, the view first: the frame's largest object
	 * lies at the stack pointer, so the view's address, which nearly every call takes,
	 * costs no addition (80 bytes of lx106 code).
	 */
	struct {
		struct src s;
		struct walk walks[2];
	} p;
	struct src *s = &p.s;
	uint8_t head[2] = {0, 0};
	uint32_t app_offset = 0;

	ota_fill(img, 0, sizeof(*img));
	img->file_len = r != NULL ? r->size : 0;
	img->payload_len = img->file_len;
	if (r == NULL || r->size == 0 || (r->read == NULL && r->map == NULL)) {
		note(img, OTA_F_EMPTY);
		return false;
	}
	src_init(s, r, img);
	if (!src_read(s, 0, head, s->len < 2 ? 1 : 2))
		return false;
	if (s->len >= 2 && head[0] == 0x1F && head[1] == 0x8B) {
		img->kind = OTA_IMAGE_GZIP;
		img->chip = OTA_CHIP_ESP8266;
		note(img, OTA_F_GZIP);
		return true;
	}
	/* a slot holding an app is not a dump because of what lies at 0x8000 after it */
	if (!s->open_ended && find_merged_flash(s, &app_offset, &p.walks[0])) {
		img->kind = OTA_IMAGE_MERGED_FLASH;
		ota_esp_image_add_finding(img, OTA_F_MERGED_FLASH, app_offset, 0);
		return false;
	}
	if (head[0] == OTA_ESP_IMAGE_V2_MAGIC) {
		parse_esp8266_v2(s, img, &p.walks[0]);
	} else if (head[0] == OTA_ESP_IMAGE_MAGIC) {
		parse_e9(s, img, p.walks);
	} else {
		ota_esp_image_add_finding(img, OTA_F_NOT_ESP, head[0], 0);
	}
	return !ota_esp_image_has_errors(img);
}

bool
ota_esp_image_check_digests_reader(const struct ota_reader *r,
				   struct ota_esp_image *img,
				   const struct ota_hash_ops *hash)
{
	struct src s;
	uint8_t digest[OTA_SHA256_LEN];
	bool ok = true;

	if (r == NULL)
		return false;
	src_init(&s, r, img);
	if (img->hash_present && ota_range_ok(s.len, img->hash_offset, OTA_SHA256_LEN)) {
		if (!sha256_prefix(&s, hash, img->hash_offset, digest))
			return false;
		if (!src_read(&s, img->hash_offset, img->hash_stored, OTA_SHA256_LEN))
			return false;
		if (ota_compare(digest, img->hash_stored, OTA_SHA256_LEN) == 0) {
			note(img, OTA_F_HASH_OK);
		} else {
			note(img, OTA_F_HASH_MISMATCH);
			ok = false;
		}
	}
	if (img->sig_blocks > 0 &&
	    ota_range_ok(s.len, img->sig_sector_offset, OTA_ESP_SIG_SECTOR_LEN)) {
		bool hashed = false;
		for (uint8_t k = 0; k < img->sig_blocks && k < OTA_ESP_SIG_MAX_BLOCKS; k++) {
			size_t blk = img->sig_sector_offset + (size_t)k * OTA_ESP_SIG_BLOCK_LEN;
			uint8_t stored[OTA_SHA256_LEN];
			/* SHA-384 (P-384) digests are left to the signature verifier */
			if (img->sig_scheme[k] == OTA_SIG_ECDSA_P384 ||
			    img->sig_scheme[k] == OTA_SIG_UNKNOWN)
				continue;
			if (!hashed) {
				if (!sha256_prefix(&s, hash, img->sig_sector_offset, digest))
					return false;
				hashed = true;
			}
			if (!src_read(&s, blk + 4, stored, sizeof(stored)))
				return false;
			if (ota_compare(digest, stored, OTA_SHA256_LEN) != 0) {
				ota_esp_image_add_finding(img, OTA_F_SIG_DIGEST_MISMATCH, k, 0);
				ok = false;
			}
		}
	}
	return ok;
}

/* ---- the whole image in memory ---- */

struct mem_image {
	const uint8_t *buf;
};

static int
mem_read(void *user, size_t off, uint8_t *out, size_t n)
{
	const struct mem_image *m = user;
	ota_copy(out, m->buf + off, n);
	return (int)n;
}

static const uint8_t *
mem_map(void *user, size_t off, size_t n)
{
	const struct mem_image *m = user;
	(void)n;
	return m->buf + off;
}

static OTA_NOINLINE void
mem_reader(struct ota_reader *r, struct mem_image *m, const uint8_t *buf, size_t len)
{
	ota_fill(r, 0, sizeof(*r));
	m->buf = buf;
	r->user = m;
	if (buf != NULL) {
		r->read = mem_read;
		r->map = mem_map;
	}
	r->size = len;
}

bool
ota_esp_image_parse(const uint8_t *buf, size_t len, struct ota_esp_image *img)
{
	struct mem_image m;
	struct ota_reader r;
	mem_reader(&r, &m, buf, len);
	return ota_esp_image_parse_reader(&r, img);
}

bool
ota_esp_image_check_digests(const uint8_t *buf,
			    size_t len,
			    struct ota_esp_image *img,
			    const struct ota_hash_ops *hash)
{
	struct mem_image m;
	struct ota_reader r;
	mem_reader(&r, &m, buf, buf != NULL ? len : 0);
	return ota_esp_image_check_digests_reader(&r, img, hash);
}
