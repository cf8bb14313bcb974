/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-board.h - Arduino board ids (the `board` TXT value) to chip families */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * fleet_board_to_chip:
 * @board: the announced board id, e.g. "nodemcuv2", "esp32s3", "\"ESP8266_WEMOS_D1MINI\""
 * @guessed: (out) (optional): set to %TRUE when the chip was inferred from the name only
 *
 * Returns: the chip id ("esp8266", "esp32s3", ...) or %NULL when the board is unknown.
 */
const gchar *
fleet_board_to_chip(const gchar *board, gboolean *guessed);

G_END_DECLS
