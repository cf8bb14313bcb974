/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-fleet-image.c - arbitrary bytes into FleetImage: gunzip, findings, compat, JSON
 *
 * An input that starts with 'Z' is gzip-compressed here first (the rest of it), so the
 * fuzzer reaches the code after gunzip with arbitrary content, which it could hardly
 * do by producing valid deflate streams itself.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static GBytes *
gzip_bytes(const guint8 *data, gsize size)
{
	g_autoptr(GZlibCompressor) conv = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
	g_autoptr(GByteArray) out = g_byte_array_new();
	gsize pos = 0;
	guint8 buf[16384];
	for (;;) {
		gsize nread = 0;
		gsize nwritten = 0;
		GConverterResult res =
		    g_converter_convert(G_CONVERTER(conv), data + pos, size - pos, buf, sizeof(buf),
					G_CONVERTER_INPUT_AT_END, &nread, &nwritten, NULL);
		CHECK(res != G_CONVERTER_ERROR);
		pos += nread;
		g_byte_array_append(out, buf, (guint)nwritten);
		if (res == G_CONVERTER_FINISHED)
			break;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static void
check_findings(GPtrArray *findings)
{
	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *f = g_ptr_array_index(findings, i);
		CHECK(f->id != NULL && f->id[0] != '\0');
		CHECK(f->message != NULL && g_utf8_validate(f->message, -1, NULL));
		CHECK(f->severity <= FLEET_SEVERITY_ERROR);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(FleetImage) img = NULL;
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *json = NULL;
	g_autofree gchar *summary = NULL;
	/* a few input bytes double as an untrusted file and board name */
	g_autofree gchar *name = g_strndup((const gchar *)data, MIN(size, 24));
	const FleetDeviceFacts facts[] = {
	    {.board = "esp32", .chip_revision = -1},
	    {.board = "nodemcuv2", .slot_size = 0x100000, .chip_revision = -1},
	    {.board = "\"ESP8266_WEMOS_D1MINILITE\"", .free_space = 4096, .chip_revision = 100},
	    {.chip = "esp32s3", .chip_revision = 0},
	    {.board = name, .chip_revision = -1},
	    {.chip_revision = -1},
	};

	if (size > 0 && data[0] == 'Z')
		bytes = gzip_bytes(data + 1, size - 1);
	else
		bytes = g_bytes_new(data, size);
	img = fleet_image_new_from_bytes(bytes, name);

	CHECK(g_utf8_validate(fleet_image_get_filename(img), -1, NULL));
	CHECK(strlen(fleet_image_get_sha256(img)) == 64);
	check_findings(fleet_image_get_findings(img));
	summary = fleet_image_get_summary(img);
	CHECK(g_utf8_validate(summary, -1, NULL));
	CHECK(fleet_image_get_kind(img) != NULL && fleet_image_get_chip(img) != NULL);
	CHECK(fleet_image_get_kind_description(img) != NULL);
	CHECK(fleet_image_get_chip_name(img) != NULL);
	for (const gchar *s = fleet_image_get_version(img); s != NULL; s = NULL)
		CHECK(g_utf8_validate(s, -1, NULL));
	for (const gchar *s = fleet_image_get_project_name(img); s != NULL; s = NULL)
		CHECK(g_utf8_validate(s, -1, NULL));
	for (const gchar *s = fleet_image_get_build_date(img); s != NULL; s = NULL)
		CHECK(g_utf8_validate(s, -1, NULL));
	for (guint i = 0; i < fleet_image_get_segment_count(img); i++) {
		guint32 addr;
		guint32 len;
		guint32 off;
		CHECK(fleet_image_get_segment(img, i, &addr, &len, &off));
		CHECK((guint64)off + len <= fleet_image_get_content_size(img));
		CHECK(fleet_image_get_segment_memory(img, i) != NULL);
	}
	if (fleet_image_is_compressed(img))
		CHECK(fleet_image_get_size(img) == g_bytes_get_size(bytes));

	for (guint i = 0; i < G_N_ELEMENTS(facts); i++) {
		g_autoptr(GPtrArray) reasons = NULL;
		FleetCompatVerdict v = fleet_image_check_compat(img, &facts[i], &reasons);
		CHECK(v <= FLEET_COMPAT_REFUSE);
		CHECK(v == FLEET_COMPAT_OK || reasons->len > 0);
		/* an image with errors is never sent */
		if (fleet_image_has_errors(img))
			CHECK(v == FLEET_COMPAT_REFUSE);
		check_findings(reasons);
	}

	json_builder_begin_object(builder);
	fleet_image_to_json(img, builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(gen, root);
	json = json_generator_to_data(gen, NULL);
	CHECK(json != NULL && g_utf8_validate(json, -1, NULL));
	return 0;
}
