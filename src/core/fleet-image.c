/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-image.c - firmware image pre-flight over the shared firmware-core parser */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "fleet-board.h"
#include "fleet-error.h"
#include "fleet-hash.h"
#include "fleet-image.h"
#include "fleet-text.h"
#include "ota/ota-esp-image.h"
#include "ota/ota-util.h"

struct _FleetImage {
	GObject parent_instance;
	GBytes *bytes;	 /* the file, as sent to devices */
	GBytes *content; /* what the parser saw: gunzipped when compressed */
	gchar *filename;
	gchar *md5;
	gchar *sha256;
	gboolean compressed;
	gsize outer_sig_len; /* esp8266 signature appended to a gzip file */
	struct ota_esp_image img;
	GPtrArray *findings; /* of FleetFinding */
	gchar *build_date;
	gchar *elf_sha256;
	gchar *sig_description;
	gchar *version;
	gchar *project_name;
	gchar *idf_version;
};

G_DEFINE_TYPE(FleetImage, fleet_image, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE(FleetFinding, fleet_finding, fleet_finding_copy, fleet_finding_free)

FleetFinding *
fleet_finding_new(FleetSeverity severity, const gchar *id, const gchar *message)
{
	FleetFinding *finding = g_new0(FleetFinding, 1);
	finding->severity = severity;
	finding->id = g_strdup(id);
	finding->message = g_strdup(message);
	return finding;
}

FleetFinding *
fleet_finding_copy(const FleetFinding *finding)
{
	return fleet_finding_new(finding->severity, finding->id, finding->message);
}

void
fleet_finding_free(FleetFinding *finding)
{
	if (finding == NULL)
		return;
	g_free(finding->id);
	g_free(finding->message);
	g_free(finding);
}

const gchar *
fleet_severity_to_string(FleetSeverity severity)
{
	switch (severity) {
	case FLEET_SEVERITY_INFO:
		return "info";
	case FLEET_SEVERITY_WARNING:
		return "warning";
	case FLEET_SEVERITY_ERROR:
	default:
		return "error";
	}
}

const gchar *
fleet_compat_verdict_to_string(FleetCompatVerdict verdict)
{
	switch (verdict) {
	case FLEET_COMPAT_OK:
		return "ok";
	case FLEET_COMPAT_WARNING:
		return "warning";
	case FLEET_COMPAT_REFUSE:
	default:
		return "refuse";
	}
}

static void
fleet_image_add_finding(FleetImage *self, FleetSeverity severity, const gchar *id, const gchar *message)
{
	g_ptr_array_add(self->findings, fleet_finding_new(severity, id, message));
}

static gchar *
fleet_image_finding_message(const struct ota_finding *f)
{
	guint a = f->a;
	guint b = f->b;

	switch ((enum ota_finding_code)f->code) {
	case OTA_F_EMPTY:
		return g_strdup(_("The file is empty"));
	case OTA_F_NOT_ESP:
		/* TRANSLATORS: %02X is the first byte of the file in hex */
		return g_strdup_printf(_("Not an ESP firmware image (first byte 0x%02X; ESP images start "
					 "with 0xE9, or 1F 8B when gzip-compressed)"),
				       a);
	case OTA_F_TRUNCATED_HEADER:
		return g_strdup_printf(_("The file ends inside the image header (%u of %u bytes): it "
					 "is truncated"),
				       a, b);
	case OTA_F_MERGED_FLASH:
		return g_strdup_printf(_("This is a whole-flash image (bootloader, partition table and "
					 "application); over the air only the application is sent: "
					 "use the application .bin (in this file it starts at offset "
					 "0x%X)"),
				       a);
	case OTA_F_TOO_MANY_SEGMENTS:
		return g_strdup_printf(_("The header declares %u segments but at most %u are allowed: "
					 "the image is corrupted"),
				       a, b);
	case OTA_F_NO_SEGMENTS:
		return g_strdup(_("The header declares no segments: the image is corrupted"));
	case OTA_F_SEGMENT_PAST_END:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
						   "Segment %u runs past the end of the file (%u "
						   "byte missing): the file is truncated",
						   "Segment %u runs past the end of the file (%u "
						   "bytes missing): the file is truncated",
						   b),
				       a, b);
	case OTA_F_SEGMENT_LEN_ALIGN:
		return g_strdup_printf(_("Segment %u is %u bytes long, not a multiple of 4: ESP-IDF "
					 "refuses such images"),
				       a, b);
	case OTA_F_SEGMENT_TOO_LARGE:
		return g_strdup_printf(_("Segment %u is %u bytes long, more than the 16 MB ESP-IDF "
					 "allows: the image is corrupted"),
				       a, b);
	case OTA_F_MMU_MISALIGNED:
		return g_strdup_printf(_("Segment %u (load address 0x%08X) is not aligned to the flash "
					 "MMU page, so the bootloader would refuse it: rebuild the "
					 "image with esptool elf2image"),
				       a, b);
	case OTA_F_CHECKSUM_MISSING:
		return g_strdup(_("The file ends before the checksum byte: it is truncated"));
	case OTA_F_CHECKSUM_MISMATCH:
		return g_strdup_printf(_("Checksum mismatch: image is corrupted (stored 0x%02X, "
					 "computed 0x%02X)"),
				       a, b);
	case OTA_F_HASH_FLAG_INVALID:
		return g_strdup_printf(_("Header byte 23 (SHA-256 appended) is 0x%02X instead of 0 or "
					 "1: the image is corrupted"),
				       a);
	case OTA_F_HASH_MISSING:
		return g_strdup(_("The header promises an appended SHA-256 but the file ends before "
				  "it: the file is truncated"));
	case OTA_F_HASH_MISMATCH:
		return g_strdup(_("Appended SHA-256 does not match: the image is corrupted"));
	case OTA_F_HASH_OK:
		return g_strdup(_("Appended SHA-256 verified"));
	case OTA_F_NO_HASH:
		return g_strdup(_("No appended SHA-256: only the checksum byte protects this image"));
	case OTA_F_CHIP_UNKNOWN:
		return g_strdup_printf(_("Unknown chip id 0x%04X: this is not an image for any chip "
					 "espfleet knows"),
				       a);
	case OTA_F_RESERVED_NONZERO:
		return g_strdup(_("Reserved header bytes are not zero"));
	case OTA_F_NO_APP_DESC:
		return g_strdup(_("No application description (esp_app_desc_t) in the image: its "
				  "version and project name are unknown, so the update cannot be "
				  "verified by version"));
	case OTA_F_SEGMENT0_SMALL:
		return g_strdup_printf(_("Segment 0 is only %u bytes, too small for the application "
					 "description: the image is corrupted"),
				       a);
	case OTA_F_BOOTLOADER:
		return g_strdup(_("This is a bootloader image, not an application: bootloaders "
				  "cannot be updated over the air"));
	case OTA_F_CHIP_AMBIGUOUS:
		return g_strdup(_("The header says chip id 0 (ESP32) but the load addresses fit "
				  "neither ESP32 nor ESP8266: the chip could not be confirmed"));
	case OTA_F_RTOS_SDK_V3:
		return g_strdup(_("ESP8266 RTOS SDK v3 image (ESP-IDF-style header with chip id 0 "
				  "and ESP8266 addresses)"));
	case OTA_F_ENTRY_UNUSUAL:
		return g_strdup_printf(_("Entry point 0x%08X lies outside the ESP8266 instruction RAM"),
				       a);
	case OTA_F_FLASH_SIZE_CODE:
		return g_strdup_printf(_("Flash size code %u in the header is not a known size"), a);
	case OTA_F_TRAILING_DATA:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
						   "%u unexpected byte follows the image",
						   "%u unexpected bytes follow the image", a),
				       a);
	case OTA_F_TRAILING_PADDING:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
						   "The image is padded with %u byte of 0xFF",
						   "The image is padded with %u bytes of 0xFF", a),
				       a);
	case OTA_F_SIG_SBV2:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
						   "Signed for Secure Boot v2: %u signature block "
						   "(%s)",
						   "Signed for Secure Boot v2: %u signature blocks "
						   "(%s)",
						   a),
				       a, ota_sig_scheme_name((enum ota_sig_scheme)b));
	case OTA_F_SIG_SBV2_BAD_BLOCK:
		return g_strdup_printf(_("Signature block %u is damaged (wrong magic, version or "
					 "CRC)"),
				       a);
	case OTA_F_SIG_DIGEST_MISMATCH:
		return g_strdup_printf(_("Signature block %u was made for different image contents: "
					 "the image was changed after it was signed"),
				       a);
	case OTA_F_SIG_SBV1:
		return g_strdup(_("Signed with a Secure Boot v1 ECDSA signature"));
	case OTA_F_SIG_ESP8266:
		return g_strdup_printf(_("ESP8266 signed update (%u-byte signature appended)"), a);
	case OTA_F_V2_NOT_ARDUINO:
		return g_strdup(_("ESP8266 \"v2\" image (magic 0xEA) for the Espressif NONOS SDK boot "
				  "loader; Arduino devices refuse it with \"Magic byte is not "
				  "0xE9\""));
	case OTA_F_V2_HEADER_COUNT:
		return g_strdup_printf(_("Byte 1 of the v2 header is %u instead of 4"), a);
	case OTA_F_V2_CRC_MISMATCH:
		return g_strdup_printf(_("CRC of the v2 image does not match (stored 0x%08X, computed "
					 "0x%08X): the image is corrupted"),
				       a, b);
	case OTA_F_V1_NO_EBOOT:
		return g_strdup(_("Plain ESP8266 image without the Arduino eboot loader: ArduinoOTA "
				  "devices expect the Arduino .bin (eboot and sketch)"));
	case OTA_F_ARDUINO_APP_BAD:
		return g_strdup(_("The sketch image at offset 0x1000 is not a valid image: the file "
				  "is corrupted"));
	case OTA_F_ARDUINO_CRC_OK:
		return g_strdup(_("Whole-file CRC verified"));
	case OTA_F_ARDUINO_CRC_MISMATCH:
		return g_strdup_printf(_("Whole-file CRC mismatch (stored 0x%08X, computed 0x%08X): "
					 "the image is corrupted"),
				       a, b);
	case OTA_F_ARDUINO_CRC_LENGTH:
		return g_strdup_printf(_("The whole-file CRC covers %u bytes but the image has %u: "
					 "the file was truncated or extended"),
				       a, b);
	case OTA_F_ARDUINO_NO_CRC:
		return g_strdup(_("No whole-file CRC (built by an older tool chain)"));
	case OTA_F_READ_ERROR:
		return g_strdup_printf(_("The image could not be read at offset 0x%X: check the "
					 "file or the storage it is on and try again"),
				       a);
	case OTA_F_GZIP:
	case OTA_F_LAST:
	default:
		break;
	}
	return g_strdup_printf(_("Unexpected finding %u"), (guint)f->code);
}

static void
fleet_image_add_ota_findings(FleetImage *self)
{
	for (guint i = 0; i < self->img.n_findings; i++) {
		const struct ota_finding *f = &self->img.findings[i];
		g_autofree gchar *message = NULL;
		if (f->code == OTA_F_GZIP)
			continue;
		message = fleet_image_finding_message(f);
		fleet_image_add_finding(self, (FleetSeverity)f->severity,
					ota_finding_id((enum ota_finding_code)f->code), message);
	}
}

/* gunzip in memory, bounded; returns the offset where the gzip stream ended */
static GBytes *
fleet_image_gunzip(GBytes *bytes, gsize *consumed, GError **error)
{
	g_autoptr(GZlibDecompressor) conv = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
	g_autoptr(GByteArray) out = g_byte_array_new();
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	gsize in_pos = 0;
	guint8 buf[65536];

	for (;;) {
		gsize bytes_read = 0;
		gsize bytes_written = 0;
		GConverterResult res;
		res = g_converter_convert(G_CONVERTER(conv), data + in_pos, len - in_pos, buf,
					  sizeof(buf), G_CONVERTER_INPUT_AT_END, &bytes_read,
					  &bytes_written, error);
		if (res == G_CONVERTER_ERROR)
			return NULL;
		in_pos += bytes_read;
		g_byte_array_append(out, buf, (guint)bytes_written);
		if (out->len > FLEET_IMAGE_SIZE_MAX) {
			g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				    _("it unpacks to more than %u MB"),
				    FLEET_IMAGE_SIZE_MAX / (1024u * 1024u));
			return NULL;
		}
		if (res == G_CONVERTER_FINISHED)
			break;
		if (bytes_read == 0 && bytes_written == 0) {
			g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
					    _("the compressed data ends early"));
			return NULL;
		}
	}
	*consumed = in_pos;
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static void
fleet_image_parse_gzip(FleetImage *self)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GBytes) content = NULL;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(self->bytes, &len);
	gsize consumed = 0;
	gsize payload_len = 0;
	gsize sig_len = 0;
	g_autofree gchar *msg = NULL;

	self->compressed = TRUE;
	content = fleet_image_gunzip(self->bytes, &consumed, &error_local);
	if (content == NULL) {
		g_autofree gchar *m =
		    g_strdup_printf(_("The file starts like gzip data but cannot be unpacked: %s"),
				    error_local->message);
		fleet_image_add_finding(self, FLEET_SEVERITY_ERROR, "gzip-corrupt", m);
		return;
	}
	msg = g_strdup_printf(_("Compressed with gzip: %lu bytes unpack to %lu; only ESP8266 "
				"devices accept compressed images"),
			      (gulong)len, (gulong)g_bytes_get_size(content));
	fleet_image_add_finding(self, FLEET_SEVERITY_INFO, "gzip", msg);

	/* a signed .bin.gz carries its signature after the gzip stream */
	if (consumed < len) {
		if (ota_esp8266_signed_split(data, len, consumed, &payload_len, &sig_len)) {
			g_autofree gchar *m =
			    g_strdup_printf(_("ESP8266 signed update (%u-byte signature appended)"),
					    (guint)sig_len);
			self->outer_sig_len = sig_len;
			fleet_image_add_finding(self, FLEET_SEVERITY_INFO, "esp8266-signed-update", m);
		} else {
			g_autofree gchar *m = g_strdup_printf(
			    g_dngettext(GETTEXT_PACKAGE, "%u unexpected byte follows the gzip data",
					"%u unexpected bytes follow the gzip data",
					(gulong)(len - consumed)),
			    (guint)(len - consumed));
			fleet_image_add_finding(self, FLEET_SEVERITY_WARNING, "trailing-data", m);
		}
	}

	g_clear_pointer(&self->content, g_bytes_unref);
	self->content = g_steal_pointer(&content);
	data = g_bytes_get_data(self->content, &len);
	(void)ota_esp_image_parse(data, len, &self->img);
	if (self->img.kind == OTA_IMAGE_GZIP) {
		fleet_image_add_finding(self, FLEET_SEVERITY_ERROR, "gzip-nested",
					_("The unpacked data is gzip-compressed again: devices "
					  "unpack only once"));
		return;
	}
	if (self->img.kind != OTA_IMAGE_UNKNOWN && self->img.chip != OTA_CHIP_ESP8266) {
		fleet_image_add_finding(self, FLEET_SEVERITY_ERROR, "gzip-not-esp8266",
					_("This gzip-compressed image is not for the ESP8266: ESP32 "
					  "devices do not accept compressed images, send the "
					  "uncompressed .bin"));
	}
}

static void
fleet_image_describe_signature(FleetImage *self)
{
	const struct ota_esp_image *img = &self->img;
	if (img->sig_blocks > 0) {
		self->sig_description = g_strdup_printf(
		    g_dngettext(GETTEXT_PACKAGE, "Secure Boot v2, %s, %u block",
				"Secure Boot v2, %s, %u blocks", img->sig_blocks),
		    ota_sig_scheme_name(img->sig_scheme[0]), (guint)img->sig_blocks);
	} else if (img->sig_sbv1) {
		self->sig_description = g_strdup(_("Secure Boot v1 ECDSA"));
	} else if (img->esp8266_sig_len > 0 || self->outer_sig_len > 0) {
		self->sig_description =
		    g_strdup_printf(_("ESP8266 signed update, %u-byte signature"),
				    (guint)MAX(img->esp8266_sig_len, self->outer_sig_len));
	}
}

static gchar *
fleet_image_strdup_nonempty(const gchar *s)
{
	if (s == NULL || s[0] == '\0')
		return NULL;
	/* text from the file: valid UTF-8, no terminal escapes, never markup */
	return fleet_text_sanitize(s, -1, 64);
}

static void
fleet_image_parse(FleetImage *self)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(self->bytes, &len);
	FleetHashOps hash;

	self->md5 = g_compute_checksum_for_bytes(G_CHECKSUM_MD5, self->bytes);
	self->sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, self->bytes);
	self->content = g_bytes_ref(self->bytes);

	if (len > FLEET_IMAGE_SIZE_MAX) {
		g_autofree gchar *have = g_format_size_full(len, G_FORMAT_SIZE_IEC_UNITS);
		g_autofree gchar *limit =
		    g_format_size_full(FLEET_IMAGE_SIZE_MAX, G_FORMAT_SIZE_IEC_UNITS);
		g_autofree gchar *m = g_strdup_printf(
		    _("The file is %s; ESP firmware images are at most %s: is this the right file?"),
		    have, limit);
		fleet_image_add_finding(self, FLEET_SEVERITY_ERROR, "too-large", m);
		self->img.file_len = len;
		return;
	}

	(void)ota_esp_image_parse(data, len, &self->img);
	if (self->img.kind == OTA_IMAGE_GZIP)
		fleet_image_parse_gzip(self);

	data = g_bytes_get_data(self->content, &len);
	fleet_hash_ops_init(&hash);
	(void)ota_esp_image_check_digests(data, len, &self->img, &hash.ops);
	fleet_hash_ops_clear(&hash);
	fleet_image_add_ota_findings(self);

	if (self->img.has_app_desc) {
		const struct ota_esp_app_desc *d = &self->img.app_desc;
		self->version = fleet_image_strdup_nonempty(d->version);
		self->project_name = fleet_image_strdup_nonempty(d->project_name);
		self->idf_version = fleet_image_strdup_nonempty(d->idf_ver);
		if (d->date[0] != '\0') {
			g_autofree gchar *date = g_strstrip(g_strdup_printf("%s %s", d->date, d->time));
			self->build_date = fleet_text_sanitize(date, -1, 64);
		}
		self->elf_sha256 = g_malloc(65);
		ota_hex(d->app_elf_sha256, 32, self->elf_sha256);
	}
	fleet_image_describe_signature(self);
}

FleetImage *
fleet_image_new_from_bytes(GBytes *bytes, const gchar *filename)
{
	FleetImage *self;
	g_return_val_if_fail(bytes != NULL, NULL);
	self = g_object_new(FLEET_TYPE_IMAGE, NULL);
	self->bytes = g_bytes_ref(bytes);
	self->filename = filename != NULL ? fleet_text_sanitize(filename, -1, 0) : NULL;
	fleet_image_parse(self);
	return self;
}

FleetImage *
fleet_image_new_from_file(GFile *file, GCancellable *cancellable, GError **error)
{
	g_autoptr(GFileInfo) info = NULL;
	g_autoptr(GMappedFile) mapped = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *basename = NULL;
	g_autofree gchar *shown = NULL;
	g_autoptr(GError) error_local = NULL;
	goffset size;

	g_return_val_if_fail(G_IS_FILE(file), NULL);

	basename = g_file_get_basename(file);
	shown = g_file_get_parse_name(file);
	info = g_file_query_info(file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
				 G_FILE_QUERY_INFO_NONE, cancellable, &error_local);
	if (info == NULL) {
		if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
			g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
				    _("%s does not exist: check the path"), shown);
			return NULL;
		}
		if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) {
			g_set_error(error, FLEET_ERROR, FLEET_ERROR_READ,
				    _("Cannot read %s: permission denied"), shown);
			return NULL;
		}
		g_propagate_error(error, g_steal_pointer(&error_local));
		fleet_error_convert(error);
		g_prefix_error(error, _("Cannot read %s: "), shown);
		return NULL;
	}
	if (g_file_info_get_file_type(info) != G_FILE_TYPE_REGULAR) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_READ,
			    _("Cannot read %s: it is not a regular file"), shown);
		return NULL;
	}
	size = g_file_info_get_size(info);
	if (size > (goffset)FLEET_IMAGE_SIZE_MAX) {
		g_autofree gchar *have = g_format_size_full((guint64)size, G_FORMAT_SIZE_IEC_UNITS);
		g_autofree gchar *limit =
		    g_format_size_full(FLEET_IMAGE_SIZE_MAX, G_FORMAT_SIZE_IEC_UNITS);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("%s is %s; ESP firmware images are at most %s: is this the right "
			      "file?"),
			    shown, have, limit);
		return NULL;
	}
	path = g_file_get_path(file);
	if (path == NULL) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
			    _("Cannot read %s: only local files are supported"), shown);
		return NULL;
	}
	if (size == 0) {
		bytes = g_bytes_new(NULL, 0);
	} else {
		mapped = g_mapped_file_new(path, FALSE, error);
		if (mapped == NULL) {
			fleet_error_convert(error);
			g_prefix_error(error, _("Cannot read %s: "), shown);
			return NULL;
		}
		bytes = g_mapped_file_get_bytes(mapped);
	}
	return fleet_image_new_from_bytes(bytes, basename);
}

static void
fleet_image_load_thread_cb(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	GFile *file = task_data;
	GError *error = NULL;
	FleetImage *image = fleet_image_new_from_file(file, cancellable, &error);
	if (image == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, image, g_object_unref);
}

void
fleet_image_load_async(GFile *file,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_return_if_fail(G_IS_FILE(file));
	task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, fleet_image_load_async);
	g_task_set_task_data(task, g_object_ref(file), g_object_unref);
	g_task_run_in_thread(task, fleet_image_load_thread_cb);
}

FleetImage *
fleet_image_load_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

GBytes *
fleet_image_get_bytes(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->bytes;
}

const gchar *
fleet_image_get_filename(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->filename;
}

gsize
fleet_image_get_size(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), 0);
	return g_bytes_get_size(self->bytes);
}

const gchar *
fleet_image_get_md5(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->md5;
}

const gchar *
fleet_image_get_sha256(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->sha256;
}

const gchar *
fleet_image_get_kind(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return ota_image_kind_id(self->img.kind);
}

const gchar *
fleet_image_get_kind_description(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	switch (self->img.kind) {
	case OTA_IMAGE_ESP32_APP:
		return _("ESP-IDF application");
	case OTA_IMAGE_ESP32_BOOTLOADER:
		return _("ESP-IDF bootloader");
	case OTA_IMAGE_ESP8266_V1:
		return _("ESP8266 image");
	case OTA_IMAGE_ESP8266_ARDUINO:
		return _("Arduino ESP8266 sketch (with eboot)");
	case OTA_IMAGE_ESP8266_V2:
		return _("ESP8266 NONOS SDK OTA image (v2)");
	case OTA_IMAGE_ESP8266_V3:
		return _("ESP8266 RTOS SDK application");
	case OTA_IMAGE_MERGED_FLASH:
		return _("Whole-flash image");
	case OTA_IMAGE_GZIP:
	case OTA_IMAGE_UNKNOWN:
	default:
		return _("Unknown file");
	}
}

const gchar *
fleet_image_get_chip(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return ota_chip_id_string(self->img.chip);
}

const gchar *
fleet_image_get_chip_name(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	if (self->img.chip == OTA_CHIP_UNKNOWN)
		return _("unknown chip");
	return ota_chip_name(self->img.chip);
}

gboolean
fleet_image_is_esp8266(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), FALSE);
	return self->img.chip == OTA_CHIP_ESP8266;
}

gboolean
fleet_image_is_compressed(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), FALSE);
	return self->compressed;
}

gsize
fleet_image_get_content_size(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), 0);
	return g_bytes_get_size(self->content);
}

const gchar *
fleet_image_get_version(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->version;
}

const gchar *
fleet_image_get_project_name(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->project_name;
}

const gchar *
fleet_image_get_idf_version(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->idf_version;
}

const gchar *
fleet_image_get_build_date(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->build_date;
}

const gchar *
fleet_image_get_elf_sha256(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->elf_sha256;
}

guint32
fleet_image_get_secure_version(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), 0);
	return self->img.app_desc.secure_version;
}

const gchar *
fleet_image_get_flash_mode(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return ota_flash_mode_name(self->img.flash_mode);
}

guint32
fleet_image_get_flash_size(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), 0);
	return self->img.flash_size;
}

guint
fleet_image_get_flash_freq_mhz(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), 0);
	return ota_flash_freq_mhz(self->img.chip, self->img.flash_freq_code);
}

guint32
fleet_image_get_entry_addr(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), 0);
	return self->img.entry_addr;
}

gint
fleet_image_get_min_chip_revision(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), -1);
	if (self->img.kind != OTA_IMAGE_ESP32_APP && self->img.kind != OTA_IMAGE_ESP32_BOOTLOADER)
		return -1;
	return self->img.min_chip_rev_full;
}

guint
fleet_image_get_segment_count(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), 0);
	return self->img.segments_parsed;
}

gboolean
fleet_image_get_segment(FleetImage *self,
			guint idx,
			guint32 *load_addr,
			guint32 *length,
			guint32 *file_offset)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), FALSE);
	if (idx >= self->img.segments_parsed)
		return FALSE;
	if (load_addr != NULL)
		*load_addr = self->img.segments[idx].load_addr;
	if (length != NULL)
		*length = self->img.segments[idx].data_len;
	if (file_offset != NULL)
		*file_offset = self->img.segments[idx].data_offset;
	return TRUE;
}

const gchar *
fleet_image_get_segment_memory(FleetImage *self, guint idx)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	if (idx >= self->img.segments_parsed)
		return NULL;
	if (self->img.kind == OTA_IMAGE_ESP8266_V2 && idx == 0)
		return "IROM";
	return ota_segment_memory(self->img.chip, self->img.segments[idx].load_addr);
}

const gchar *
fleet_image_get_signature_description(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->sig_description;
}

GPtrArray *
fleet_image_get_findings(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	return self->findings;
}

static guint
fleet_image_count(FleetImage *self, FleetSeverity severity)
{
	guint n = 0;
	for (guint i = 0; i < self->findings->len; i++) {
		FleetFinding *f = g_ptr_array_index(self->findings, i);
		if (f->severity == severity)
			n++;
	}
	return n;
}

gboolean
fleet_image_has_errors(FleetImage *self)
{
	g_return_val_if_fail(FLEET_IS_IMAGE(self), TRUE);
	return fleet_image_count(self, FLEET_SEVERITY_ERROR) > 0;
}

gchar *
fleet_image_get_summary(FleetImage *self)
{
	guint errors;
	guint warnings;
	g_return_val_if_fail(FLEET_IS_IMAGE(self), NULL);
	errors = fleet_image_count(self, FLEET_SEVERITY_ERROR);
	warnings = fleet_image_count(self, FLEET_SEVERITY_WARNING);
	if (errors > 0)
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u error: do not use this image",
						   "%u errors: do not use this image", errors),
				       errors);
	if (warnings > 0)
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Usable, %u warning",
						   "Usable, %u warnings", warnings),
				       warnings);
	return g_strdup(_("Usable, no problems found"));
}

static FleetCompatVerdict
fleet_compat_add(GPtrArray *reasons, FleetCompatVerdict verdict, FleetCompatVerdict now, const gchar *id, gchar *message)
{
	FleetSeverity severity = now == FLEET_COMPAT_REFUSE	 ? FLEET_SEVERITY_ERROR
				 : now == FLEET_COMPAT_WARNING ? FLEET_SEVERITY_WARNING
							       : FLEET_SEVERITY_INFO;
	g_ptr_array_add(reasons, fleet_finding_new(severity, id, message));
	g_free(message);
	return MAX(verdict, now);
}

FleetCompatVerdict
fleet_image_check_compat(FleetImage *self, const FleetDeviceFacts *facts, GPtrArray **reasons)
{
	g_autoptr(GPtrArray) why = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_finding_free);
	FleetCompatVerdict verdict = FLEET_COMPAT_OK;
	enum ota_chip device_chip = OTA_CHIP_UNKNOWN;
	gboolean guessed = FALSE;
	g_autofree gchar *board = NULL;
	gsize upload_size;

	g_return_val_if_fail(FLEET_IS_IMAGE(self), FLEET_COMPAT_REFUSE);
	g_return_val_if_fail(facts != NULL, FLEET_COMPAT_REFUSE);

	if (facts->board != NULL)
		board = fleet_text_sanitize(facts->board, -1, 64);

	if (fleet_image_has_errors(self)) {
		verdict = fleet_compat_add(why, verdict, FLEET_COMPAT_REFUSE, "image-has-errors",
					   g_strdup(_("The image has errors (see the pre-flight "
						      "report)")));
	}

	/* which chip is the device? its own word first, then its board id */
	if (facts->chip != NULL)
		device_chip = ota_chip_from_string(facts->chip);
	if (device_chip == OTA_CHIP_UNKNOWN && board != NULL) {
		const gchar *chip = fleet_board_to_chip(board, &guessed);
		if (chip != NULL) {
			device_chip = ota_chip_from_string(chip);
		} else {
			verdict = fleet_compat_add(
			    why, verdict, FLEET_COMPAT_WARNING, "board-unknown",
			    g_strdup_printf(_("Board \"%s\" is not known to espfleet, so the chip "
					      "cannot be checked: make sure the image was built for "
					      "this board"),
					    board));
		}
	}

	if (device_chip != OTA_CHIP_UNKNOWN && self->img.chip != OTA_CHIP_UNKNOWN &&
	    device_chip != self->img.chip) {
		if (guessed) {
			verdict = fleet_compat_add(
			    why, verdict, FLEET_COMPAT_REFUSE, "chip-mismatch",
			    g_strdup_printf(_("The image is for %s but board \"%s\" looks like "
					      "%s (guessed from its name)"),
					    ota_chip_name(self->img.chip), board,
					    ota_chip_name(device_chip)));
		} else {
			verdict = fleet_compat_add(
			    why, verdict, FLEET_COMPAT_REFUSE, "chip-mismatch",
			    g_strdup_printf(_("The image is for %s but the device is %s"),
					    ota_chip_name(self->img.chip),
					    ota_chip_name(device_chip)));
		}
	} else if (device_chip != OTA_CHIP_UNKNOWN && guessed) {
		verdict = fleet_compat_add(why, verdict, FLEET_COMPAT_WARNING, "chip-guessed",
					   g_strdup_printf(_("Board \"%s\" is taken to be %s from "
							     "its name only"),
							   board, ota_chip_name(device_chip)));
	}

	if (device_chip == OTA_CHIP_ESP8266) {
		if (self->img.kind == OTA_IMAGE_ESP8266_V2)
			verdict = fleet_compat_add(
			    why, verdict, FLEET_COMPAT_REFUSE, "v2-not-arduino",
			    g_strdup(_("Arduino ESP8266 devices refuse 0xEA (v2) images: send the "
				       "Arduino .bin")));
		else if (self->img.kind == OTA_IMAGE_ESP8266_V1)
			verdict = fleet_compat_add(
			    why, verdict, FLEET_COMPAT_WARNING, "v1-without-eboot",
			    g_strdup(_("The image has no eboot loader; the device may not boot "
				       "after the update")));
	}

	/* what lands in flash: the file as sent (ESP8266 stages it compressed) */
	upload_size = g_bytes_get_size(self->bytes);
	if (facts->slot_size > 0 && upload_size > facts->slot_size) {
		verdict = fleet_compat_add(
		    why, verdict, FLEET_COMPAT_REFUSE, "too-large-for-slot",
		    g_strdup_printf(_("The image is %lu bytes but the device's OTA slot holds %lu "
				      "bytes"),
				    (gulong)upload_size, (gulong)facts->slot_size));
	}
	if (facts->free_space > 0 && upload_size > facts->free_space) {
		verdict = fleet_compat_add(
		    why, verdict, FLEET_COMPAT_REFUSE, "not-enough-space",
		    g_strdup_printf(_("The image is %lu bytes but the device has only %lu bytes free "
				      "for it"),
				    (gulong)upload_size, (gulong)facts->free_space));
	}
	if (facts->chip_revision >= 0 && fleet_image_get_min_chip_revision(self) > 0 &&
	    fleet_image_get_min_chip_revision(self) > facts->chip_revision) {
		gint need = fleet_image_get_min_chip_revision(self);
		verdict = fleet_compat_add(
		    why, verdict, FLEET_COMPAT_REFUSE, "chip-revision",
		    g_strdup_printf(_("The image needs chip revision v%d.%d or later; the device "
				      "is v%d.%d"),
				    need / 100, need % 100, facts->chip_revision / 100,
				    facts->chip_revision % 100));
	}
	/* the bootloader also refuses a chip newer than the image's maximum (0 or 0xFFFF: unset) */
	if (facts->chip_revision >= 0 &&
	    (self->img.kind == OTA_IMAGE_ESP32_APP || self->img.kind == OTA_IMAGE_ESP32_BOOTLOADER) &&
	    self->img.max_chip_rev_full != 0 && self->img.max_chip_rev_full != 0xFFFF &&
	    facts->chip_revision > self->img.max_chip_rev_full) {
		gint most = self->img.max_chip_rev_full;
		verdict = fleet_compat_add(
		    why, verdict, FLEET_COMPAT_REFUSE, "chip-revision-max",
		    g_strdup_printf(_("The image supports chip revisions up to v%d.%d; the device "
				      "is v%d.%d"),
				    most / 100, most % 100, facts->chip_revision / 100,
				    facts->chip_revision % 100));
	}
	if (device_chip == OTA_CHIP_ESP8266 && self->img.kind == OTA_IMAGE_ESP8266_V3) {
		verdict = fleet_compat_add(
		    why, verdict, FLEET_COMPAT_WARNING, "rtos-sdk-image",
		    g_strdup(_("This is an ESP8266 RTOS SDK image: a device running an Arduino "
			       "sketch (eboot) cannot boot it, only one running the RTOS SDK "
			       "bootloader")));
	}
	if (device_chip == OTA_CHIP_UNKNOWN && board == NULL) {
		verdict = fleet_compat_add(why, verdict, FLEET_COMPAT_WARNING, "device-unknown",
					   g_strdup(_("The device announces neither its board nor "
						      "its chip, so compatibility cannot be "
						      "checked")));
	}

	if (reasons != NULL)
		*reasons = g_steal_pointer(&why);
	return verdict;
}

static void
fleet_image_json_add_string(JsonBuilder *builder, const gchar *member, const gchar *value)
{
	json_builder_set_member_name(builder, member);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

static void
fleet_image_json_add_hex(JsonBuilder *builder, const gchar *member, guint32 value)
{
	g_autofree gchar *hex = g_strdup_printf("0x%08x", value);
	json_builder_set_member_name(builder, member);
	json_builder_add_string_value(builder, hex);
}

void
fleet_image_to_json(FleetImage *self, JsonBuilder *builder)
{
	g_autofree gchar *summary = NULL;
	g_return_if_fail(FLEET_IS_IMAGE(self));

	summary = fleet_image_get_summary(self);
	json_builder_set_member_name(builder, "file");
	json_builder_begin_object(builder);
	fleet_image_json_add_string(builder, "name", self->filename);
	json_builder_set_member_name(builder, "size");
	json_builder_add_int_value(builder, (gint64)g_bytes_get_size(self->bytes));
	fleet_image_json_add_string(builder, "md5", self->md5);
	fleet_image_json_add_string(builder, "sha256", self->sha256);
	json_builder_end_object(builder);

	json_builder_set_member_name(builder, "usable");
	json_builder_add_boolean_value(builder, !fleet_image_has_errors(self));
	fleet_image_json_add_string(builder, "summary", summary);
	fleet_image_json_add_string(builder, "kind", fleet_image_get_kind(self));
	fleet_image_json_add_string(builder, "kind_description",
				    fleet_image_get_kind_description(self));
	fleet_image_json_add_string(builder, "chip", fleet_image_get_chip(self));
	fleet_image_json_add_string(builder, "chip_name",
				    self->img.chip == OTA_CHIP_UNKNOWN ? NULL
								       : ota_chip_name(self->img.chip));
	json_builder_set_member_name(builder, "compressed");
	json_builder_add_boolean_value(builder, self->compressed);
	json_builder_set_member_name(builder, "content_size");
	json_builder_add_int_value(builder, (gint64)g_bytes_get_size(self->content));

	json_builder_set_member_name(builder, "app");
	if (self->img.has_app_desc) {
		json_builder_begin_object(builder);
		fleet_image_json_add_string(builder, "project", self->project_name);
		fleet_image_json_add_string(builder, "version", self->version);
		fleet_image_json_add_string(builder, "idf_version", self->idf_version);
		fleet_image_json_add_string(builder, "build_date", self->build_date);
		fleet_image_json_add_string(builder, "elf_sha256", self->elf_sha256);
		json_builder_set_member_name(builder, "secure_version");
		json_builder_add_int_value(builder, self->img.app_desc.secure_version);
		json_builder_end_object(builder);
	} else {
		json_builder_add_null_value(builder);
	}

	json_builder_set_member_name(builder, "flash");
	if (self->img.kind != OTA_IMAGE_UNKNOWN && self->img.kind != OTA_IMAGE_MERGED_FLASH) {
		json_builder_begin_object(builder);
		fleet_image_json_add_string(builder, "mode", fleet_image_get_flash_mode(self));
		json_builder_set_member_name(builder, "size");
		json_builder_add_int_value(builder, self->img.flash_size);
		json_builder_set_member_name(builder, "freq_mhz");
		json_builder_add_int_value(builder, fleet_image_get_flash_freq_mhz(self));
		json_builder_end_object(builder);
		fleet_image_json_add_hex(builder, "entry", self->img.entry_addr);
	} else {
		json_builder_add_null_value(builder);
		json_builder_set_member_name(builder, "entry");
		json_builder_add_null_value(builder);
	}

	json_builder_set_member_name(builder, "min_chip_revision");
	if (fleet_image_get_min_chip_revision(self) >= 0)
		json_builder_add_int_value(builder, fleet_image_get_min_chip_revision(self));
	else
		json_builder_add_null_value(builder);

	json_builder_set_member_name(builder, "segments");
	json_builder_begin_array(builder);
	for (guint i = 0; i < self->img.segments_parsed; i++) {
		const struct ota_esp_segment *s = &self->img.segments[i];
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "index");
		json_builder_add_int_value(builder, i);
		fleet_image_json_add_hex(builder, "load_addr", s->load_addr);
		json_builder_set_member_name(builder, "length");
		json_builder_add_int_value(builder, s->data_len);
		json_builder_set_member_name(builder, "file_offset");
		json_builder_add_int_value(builder, s->data_offset);
		fleet_image_json_add_string(builder, "memory",
					    fleet_image_get_segment_memory(self, i));
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);

	fleet_image_json_add_string(builder, "signature", self->sig_description);

	json_builder_set_member_name(builder, "findings");
	json_builder_begin_array(builder);
	for (guint i = 0; i < self->findings->len; i++) {
		FleetFinding *f = g_ptr_array_index(self->findings, i);
		json_builder_begin_object(builder);
		fleet_image_json_add_string(builder, "severity", fleet_severity_to_string(f->severity));
		fleet_image_json_add_string(builder, "id", f->id);
		fleet_image_json_add_string(builder, "message", f->message);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
}

static void
fleet_image_finalize(GObject *object)
{
	FleetImage *self = FLEET_IMAGE(object);
	g_clear_pointer(&self->bytes, g_bytes_unref);
	g_clear_pointer(&self->content, g_bytes_unref);
	g_clear_pointer(&self->findings, g_ptr_array_unref);
	g_free(self->filename);
	g_free(self->md5);
	g_free(self->sha256);
	g_free(self->build_date);
	g_free(self->elf_sha256);
	g_free(self->sig_description);
	g_free(self->version);
	g_free(self->project_name);
	g_free(self->idf_version);
	G_OBJECT_CLASS(fleet_image_parent_class)->finalize(object);
}

static void
fleet_image_class_init(FleetImageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = fleet_image_finalize;
}

static void
fleet_image_init(FleetImage *self)
{
	self->findings = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_finding_free);
}
