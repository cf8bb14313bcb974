/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-board.c - board ids as devices announce them, mapped to chip families */

#include <check.h>

#include "fleet-board.h"
#include "fleet-check-run.h"

typedef struct {
	const gchar *board;
	const gchar *chip; /* NULL: unknown */
	gboolean guessed;
} BoardCase;

static const BoardCase cases[] = {
    /* arduino-esp32 announces ARDUINO_VARIANT */
    {"esp32", "esp32", FALSE},
    {"esp32s2", "esp32s2", FALSE},
    {"esp32s3", "esp32s3", FALSE},
    {"esp32c3", "esp32c3", FALSE},
    {"esp32c6", "esp32c6", FALSE},
    {"esp32c61", "esp32c61", FALSE},
    {"esp32h2", "esp32h2", FALSE},
    {"lolin_s2_mini", "esp32s2", FALSE},
    {"xiao_esp32c3", "esp32c3", FALSE},
    {"m5stack_core2", "esp32", FALSE},
    /* esp8266/Arduino announces ARDUINO_BOARD_ID ("generic" when unset) */
    {"generic", "esp8266", FALSE},
    {"nodemcuv2", "esp8266", FALSE},
    {"d1_mini", "esp8266", FALSE},
    {"d1_mini_lite", "esp8266", FALSE},
    {"esp8285", "esp8266", FALSE},
    /* ... or, in older cores, the quoted ARDUINO_BOARD define */
    {"ESP8266_GENERIC", "esp8266", FALSE},
    {"\"ESP8266_WEMOS_D1MINILITE\"", "esp8266", FALSE},
    {"\"ESP8266_NODEMCU\"", "esp8266", FALSE},
    {"  nodemcuv2  ", "esp8266", FALSE},
    {"NodeMCUv2", "esp8266", FALSE},
    {"ESP32S3", "esp32s3", FALSE},
    /* names that only say the chip */
    {"acme-esp32-s3-thing", "esp32s3", TRUE},
    {"ACME_ESP32_C3_mini", "esp32c3", TRUE},
    {"my-esp32c61-board", "esp32c61", TRUE},
    {"my-esp32c6-board", "esp32c6", TRUE},
    {"garage-esp32", "esp32", TRUE},
    {"wemos_d1_r2", "esp8266", TRUE},
    {"custom-esp8266-relay", "esp8266", TRUE},
    /* unknown */
    {"my-own-pcb", NULL, FALSE},
    {"", NULL, FALSE},
    {"\"\"", NULL, FALSE},
    {"\xff\xfe", NULL, FALSE},
    {"esp\xff"
     "32",
     NULL, FALSE},
};

START_TEST(test_board)
{
	const BoardCase *c = &cases[_i];
	gboolean guessed = !c->guessed;
	const gchar *chip = fleet_board_to_chip(c->board, &guessed);
	ck_assert_msg(g_strcmp0(chip, c->chip) == 0, "\"%s\" -> %s, expected %s", c->board, chip,
		      c->chip);
	if (c->chip != NULL)
		ck_assert_msg(guessed == c->guessed, "\"%s\": guessed %d", c->board, guessed);
	else
		ck_assert(!guessed);
	/* the out-parameter is optional */
	ck_assert_str_eq(fleet_board_to_chip(c->board, NULL) ?: "(null)", c->chip ?: "(null)");
}
END_TEST

START_TEST(test_board_null)
{
	gboolean guessed = TRUE;
	ck_assert_ptr_null(fleet_board_to_chip(NULL, &guessed));
	ck_assert(!guessed);
}
END_TEST

/* a single quote character must not be read past */
START_TEST(test_board_lone_quote)
{
	ck_assert_ptr_null(fleet_board_to_chip("\"", NULL));
	ck_assert_ptr_null(fleet_board_to_chip(" \" ", NULL));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("board");
	TCase *tc = tcase_create("map");

	tcase_add_loop_test(tc, test_board, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_board_null);
	tcase_add_test(tc, test_board_lone_quote);
	suite_add_tcase(s, tc);
	return fleet_check_run(s);
}
