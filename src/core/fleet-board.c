/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-board.c - Arduino board ids (the `board` TXT value) to chip families */

#include "config.h"

#include <string.h>

#include "fleet-board.h"

typedef struct {
	const gchar *board;
	const gchar *chip;
} FleetBoardEntry;

/*
 * ESP8266 devices announce ARDUINO_BOARD_ID (the boards.txt id, "generic" when unset) or,
 * in older cores, the quoted ARDUINO_BOARD define; ESP32 devices announce ARDUINO_VARIANT.
 */
static const FleetBoardEntry board_table[] = {
    /* arduino-esp32 variants named after the chip */
    {"esp32", "esp32"},
    {"esp32s2", "esp32s2"},
    {"esp32s3", "esp32s3"},
    {"esp32c2", "esp32c2"},
    {"esp32c3", "esp32c3"},
    {"esp32c5", "esp32c5"},
    {"esp32c6", "esp32c6"},
    {"esp32c61", "esp32c61"},
    {"esp32h2", "esp32h2"},
    {"esp32p4", "esp32p4"},
    /* common arduino-esp32 board variants */
    {"esp32da", "esp32"},
    {"esp32doit-devkit-v1", "esp32"},
    {"doitesp32devkitv1", "esp32"},
    {"d1_mini32", "esp32"},
    {"lolin32", "esp32"},
    {"lolin32-lite", "esp32"},
    {"lolin_d32", "esp32"},
    {"lolin_d32_pro", "esp32"},
    {"nodemcu-32s", "esp32"},
    {"m5stack_core", "esp32"},
    {"m5stack_core2", "esp32"},
    {"m5stick_c", "esp32"},
    {"m5stack_atom", "esp32"},
    {"ttgo-t1", "esp32"},
    {"ttgo-lora32-v1", "esp32"},
    {"heltec_wifi_kit_32", "esp32"},
    {"heltec_wifi_lora_32_v2", "esp32"},
    {"featheresp32", "esp32"},
    {"wesp32", "esp32"},
    {"esp32-poe", "esp32"},
    {"esp32-evb", "esp32"},
    {"esp32cam", "esp32"},
    {"pico32", "esp32"},
    {"lolin_s2_mini", "esp32s2"},
    {"lolin_s2_pico", "esp32s2"},
    {"adafruit_feather_esp32s2", "esp32s2"},
    {"adafruit_qtpy_esp32s2", "esp32s2"},
    {"lolin_s3", "esp32s3"},
    {"lolin_s3_mini", "esp32s3"},
    {"adafruit_feather_esp32s3", "esp32s3"},
    {"adafruit_qtpy_esp32s3_nopsram", "esp32s3"},
    {"xiao_esp32s3", "esp32s3"},
    {"m5stack_atoms3", "esp32s3"},
    {"lolin_c3_mini", "esp32c3"},
    {"xiao_esp32c3", "esp32c3"},
    {"adafruit_qtpy_esp32c3", "esp32c3"},
    {"xiao_esp32c6", "esp32c6"},
    /* esp8266/Arduino boards.txt ids */
    {"generic", "esp8266"},
    {"esp8266", "esp8266"},
    {"esp8285", "esp8266"},
    {"nodemcu", "esp8266"},
    {"nodemcuv2", "esp8266"},
    {"d1", "esp8266"},
    {"d1_mini", "esp8266"},
    {"d1_mini_lite", "esp8266"},
    {"d1_mini_pro", "esp8266"},
    {"d1_mini_clone", "esp8266"},
    {"huzzah", "esp8266"},
    {"espduino", "esp8266"},
    {"espectro", "esp8266"},
    {"espino", "esp8266"},
    {"espinotee", "esp8266"},
    {"espresso_lite_v1", "esp8266"},
    {"espresso_lite_v2", "esp8266"},
    {"esp210", "esp8266"},
    {"eduinowifi", "esp8266"},
    {"gen4iod", "esp8266"},
    {"inventone", "esp8266"},
    {"modwifi", "esp8266"},
    {"oak", "esp8266"},
    {"phoenix_v1", "esp8266"},
    {"phoenix_v2", "esp8266"},
    {"sonoff", "esp8266"},
    {"thing", "esp8266"},
    {"thingdev", "esp8266"},
    {"wifi_slot", "esp8266"},
    {"wifinfo", "esp8266"},
    {"wiolink", "esp8266"},
    {"blynk", "esp8266"},
    {"cw01", "esp8266"},
    {"agruminolemon", "esp8266"},
};

/* substrings in board names, most specific first */
static const FleetBoardEntry board_patterns[] = {
    {"esp8266", "esp8266"}, {"esp8285", "esp8266"}, {"esp32c61", "esp32c61"},
    {"esp32s2", "esp32s2"}, {"esp32s3", "esp32s3"}, {"esp32c2", "esp32c2"},
    {"esp32c3", "esp32c3"}, {"esp32c5", "esp32c5"}, {"esp32c6", "esp32c6"},
    {"esp32h2", "esp32h2"}, {"esp32p4", "esp32p4"}, {"esp32", "esp32"},
    {"wemos", "esp8266"},	{"nodemcu", "esp8266"},
};

/* lowercase, quotes stripped, '-' kept; "ESP8266_WEMOS_D1MINI" style kept whole */
static gchar *
fleet_board_normalize(const gchar *board)
{
	g_autofree gchar *copy = g_strstrip(g_strdup(board));
	gsize len = strlen(copy);
	if (len >= 2 && copy[0] == '"' && copy[len - 1] == '"') {
		copy[len - 1] = '\0';
		return g_ascii_strdown(copy + 1, -1);
	}
	return g_ascii_strdown(copy, -1);
}

/* "esp32_s3" and "esp32-s3" both become "esp32s3" for pattern matching */
static gchar *
fleet_board_squash(const gchar *board)
{
	GString *out = g_string_new(NULL);
	for (const gchar *p = board; *p != '\0'; p++) {
		if (*p == '-' || *p == '_' || *p == ' ')
			continue;
		g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

const gchar *
fleet_board_to_chip(const gchar *board, gboolean *guessed)
{
	g_autofree gchar *norm = NULL;
	g_autofree gchar *squashed = NULL;

	if (guessed != NULL)
		*guessed = FALSE;
	if (board == NULL || board[0] == '\0' || !g_utf8_validate(board, -1, NULL))
		return NULL;
	norm = fleet_board_normalize(board);
	for (gsize i = 0; i < G_N_ELEMENTS(board_table); i++) {
		if (g_strcmp0(norm, board_table[i].board) == 0)
			return board_table[i].chip;
	}
	/* the ARDUINO_BOARD define of older ESP8266 cores: "ESP8266_WEMOS_D1MINI" */
	if (g_str_has_prefix(norm, "esp8266_"))
		return "esp8266";

	squashed = fleet_board_squash(norm);
	for (gsize i = 0; i < G_N_ELEMENTS(board_patterns); i++) {
		if (strstr(squashed, board_patterns[i].board) != NULL) {
			if (guessed != NULL)
				*guessed = TRUE;
			return board_patterns[i].chip;
		}
	}
	return NULL;
}
