/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-image.h - firmware image pre-flight: what an image is and whether it fits a device
 *
 * The rules live in firmware/core/ota-esp-image.c (shared with the device); FleetImage adds
 * gzip, file hashes, translated messages and the compatibility check against a device.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* the largest file pre-flight reads; ESP OTA slots are far smaller */
#define FLEET_IMAGE_SIZE_MAX (64u * 1024u * 1024u)

typedef enum {
	FLEET_SEVERITY_INFO,
	FLEET_SEVERITY_WARNING,
	FLEET_SEVERITY_ERROR,
} FleetSeverity;

typedef enum {
	FLEET_COMPAT_OK,
	FLEET_COMPAT_WARNING,
	FLEET_COMPAT_REFUSE,
} FleetCompatVerdict;

/**
 * FleetFinding:
 * @severity: how bad it is
 * @id: stable machine-readable identifier, e.g. "checksum-mismatch"
 * @message: translated, names the cause (and the fix where there is one)
 */
typedef struct {
	FleetSeverity severity;
	gchar *id;
	gchar *message;
} FleetFinding;

#define FLEET_TYPE_FINDING (fleet_finding_get_type())
GType
fleet_finding_get_type(void);
FleetFinding *
fleet_finding_new(FleetSeverity severity, const gchar *id, const gchar *message);
FleetFinding *
fleet_finding_copy(const FleetFinding *finding);
void
fleet_finding_free(FleetFinding *finding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetFinding, fleet_finding_free)

const gchar *
fleet_severity_to_string(FleetSeverity severity);
const gchar *
fleet_compat_verdict_to_string(FleetCompatVerdict verdict);

/**
 * FleetDeviceFacts:
 * @board: the `board` TXT value as announced, or %NULL
 * @chip: the chip the device reports ("esp32s3"), or %NULL
 * @slot_size: size of the OTA slot in bytes, 0 when unknown
 * @free_space: free sketch space in bytes, 0 when unknown
 * @chip_revision: major * 100 + minor, or -1 when unknown
 *
 * What a device told us about itself; every field may be missing.
 */
typedef struct {
	const gchar *board;
	const gchar *chip;
	guint64 slot_size;
	guint64 free_space;
	gint chip_revision;
} FleetDeviceFacts;

#define FLEET_TYPE_IMAGE (fleet_image_get_type())
G_DECLARE_FINAL_TYPE(FleetImage, fleet_image, FLEET, IMAGE, GObject)

/* parse bytes in memory (no I/O); never fails: problems become findings */
FleetImage *
fleet_image_new_from_bytes(GBytes *bytes, const gchar *filename);

/* map and parse a file; fails only when it cannot be read or is over FLEET_IMAGE_SIZE_MAX */
FleetImage *
fleet_image_new_from_file(GFile *file, GCancellable *cancellable, GError **error);

/* the same, hashing and parsing in a worker thread */
void
fleet_image_load_async(GFile *file,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
FleetImage *
fleet_image_load_finish(GAsyncResult *result, GError **error);

/* the bytes that are sent to a device (the file as it is, compressed or signed) */
GBytes *
fleet_image_get_bytes(FleetImage *self);
const gchar *
fleet_image_get_filename(FleetImage *self);
gsize
fleet_image_get_size(FleetImage *self);
const gchar *
fleet_image_get_md5(FleetImage *self);
const gchar *
fleet_image_get_sha256(FleetImage *self);

/* "esp32-app", "esp8266-arduino", ... (ota_image_kind_id of the content) */
const gchar *
fleet_image_get_kind(FleetImage *self);
/* translated description: "ESP-IDF application", "Arduino ESP8266 sketch (with eboot)" */
const gchar *
fleet_image_get_kind_description(FleetImage *self);
/* "esp32s3", "esp8266" or "unknown" */
const gchar *
fleet_image_get_chip(FleetImage *self);
/* "ESP32-S3" */
const gchar *
fleet_image_get_chip_name(FleetImage *self);
gboolean
fleet_image_is_esp8266(FleetImage *self);
gboolean
fleet_image_is_compressed(FleetImage *self);
/* size of the content after gunzip (the file size when not compressed) */
gsize
fleet_image_get_content_size(FleetImage *self);

/* from esp_app_desc_t; NULL when the image has none */
const gchar *
fleet_image_get_version(FleetImage *self);
const gchar *
fleet_image_get_project_name(FleetImage *self);
const gchar *
fleet_image_get_idf_version(FleetImage *self);
/* "Nov 21 2026 12:00:00", or NULL */
const gchar *
fleet_image_get_build_date(FleetImage *self);
const gchar *
fleet_image_get_elf_sha256(FleetImage *self);
guint32
fleet_image_get_secure_version(FleetImage *self);

/* flash parameters from the header: "DIO", 4194304, 40 */
const gchar *
fleet_image_get_flash_mode(FleetImage *self);
guint32
fleet_image_get_flash_size(FleetImage *self);
guint
fleet_image_get_flash_freq_mhz(FleetImage *self);
guint32
fleet_image_get_entry_addr(FleetImage *self);
/* -1 when the format has no such field */
gint
fleet_image_get_min_chip_revision(FleetImage *self);

guint
fleet_image_get_segment_count(FleetImage *self);
gboolean
fleet_image_get_segment(FleetImage *self,
			guint idx,
			guint32 *load_addr,
			guint32 *length,
			guint32 *file_offset);
/* "DROM", "IRAM", "padding"... for a segment of this image */
const gchar *
fleet_image_get_segment_memory(FleetImage *self, guint idx);

/* "Secure Boot v2 (RSA-3072-PSS, 1 block)", "esp8266 signed update (256-byte signature)", or NULL */
const gchar *
fleet_image_get_signature_description(FleetImage *self);

/* (element-type FleetFinding) */
GPtrArray *
fleet_image_get_findings(FleetImage *self);
gboolean
fleet_image_has_errors(FleetImage *self);
/* one line: "ok", "2 warnings", "1 error" */
gchar *
fleet_image_get_summary(FleetImage *self);

/**
 * fleet_image_check_compat:
 * @reasons: (out) (element-type FleetFinding): why, one entry per check that said
 *           something; never empty when the verdict is not %FLEET_COMPAT_OK
 *
 * Compares the image with what a device announced.
 */
FleetCompatVerdict
fleet_image_check_compat(FleetImage *self, const FleetDeviceFacts *facts, GPtrArray **reasons);

/* the report as JSON (schema in docs/inspect-json.md) */
void
fleet_image_to_json(FleetImage *self, JsonBuilder *builder);

G_END_DECLS
