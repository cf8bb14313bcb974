/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-text.c - untrusted text made safe to show */

#include <check.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-text.h"

typedef struct {
	const gchar *in;
	gssize len;
	gsize max;
	const gchar *out;
} TextCase;

static const TextCase cases[] = {
    {"plain text", -1, 0, "plain text"},
    {"Grüße, 温度 ✓", -1, 0, "Grüße, 温度 ✓"},
    /* invalid UTF-8 becomes a visible escape, byte by byte */
    {"bad\xff\xfe!", -1, 0, "bad\\xff\\xfe!"},
    {"\xc3", -1, 0, "\\xc3"}, /* cut multi-byte sequence */
    {"\xe2\x82", -1, 0, "\\xe2\\x82"},
    {"\xc0\xaf", -1, 0, "\\xc0\\xaf"},		/* overlong '/' */
    {"\xed\xa0\x80", -1, 0, "\\xed\\xa0\\x80"}, /* UTF-16 surrogate */
    /* terminal escapes cannot reach the terminal */
    {"\x1b[31mred\x1b[0m", -1, 0, "\\x1b[31mred\\x1b[0m"},
    {"a\rb\nc\td\x07", -1, 0, "a\\x0db\\x0ac\\x09d\\x07"},
    {"del\x7f", -1, 0, "del\\x7f"},
    {"c1\xc2\x9b"
     "31m",
     -1, 0, "c1\\x9b31m"}, /* 8-bit CSI */
    /* bidi overrides and line separators */
    {"txt\xe2\x80\xae"
     "exe",
     -1, 0, "txt\\u202eexe"},
    {"a\xe2\x80\xa8"
     "b",
     -1, 0, "a\\u2028b"},
    {"\xe2\x81\xa6x", -1, 0, "\\u2066x"},
    /* explicit length: embedded NUL, and no read past len */
    {"a\0b", 3, 0, "a\\x00b"},
    {"abcdef", 3, 0, "abc"},
    /* the limit counts characters, not bytes, and marks the cut */
    {"abcdefgh", -1, 5, "abcde…"},
    {"abcde", -1, 5, "abcde"},
    {"äöüßé", -1, 3, "äöü…"},
    {"\x1b\x1b\x1b\x1b", -1, 2, "\\x1b\\x1b…"},
    {"", -1, 0, ""},
};

START_TEST(test_sanitize)
{
	const TextCase *c = &cases[_i];
	g_autofree gchar *out = fleet_text_sanitize(c->in, c->len, c->max);
	ck_assert_str_eq(out, c->out);
}
END_TEST

START_TEST(test_sanitize_null)
{
	g_autofree gchar *out = fleet_text_sanitize(NULL, -1, 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* random bytes: always valid UTF-8, never a control character, limit respected */
START_TEST(test_sanitize_random)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(0x5eed0000u + (guint32)_i);
	for (guint round = 0; round < 500; round++) {
		guint8 buf[64];
		gsize len = (gsize)g_rand_int_range(rand, 0, sizeof(buf));
		gsize max = (gsize)g_rand_int_range(rand, 0, 20);
		g_autofree gchar *out = NULL;
		for (gsize i = 0; i < len; i++)
			buf[i] = (guint8)g_rand_int_range(rand, 0, 256);
		out = fleet_text_sanitize((const gchar *)buf, (gssize)len, max);
		ck_assert(g_utf8_validate(out, -1, NULL));
		for (const gchar *p = out; *p != '\0'; p = g_utf8_next_char(p)) {
			gunichar ch = g_utf8_get_char(p);
			ck_assert_msg(ch >= 0x20 && ch != 0x7f && !(ch >= 0x80 && ch < 0xa0) &&
					  !(ch >= 0x202a && ch <= 0x202e) &&
					  !(ch >= 0x2066 && ch <= 0x2069) && ch != 0x2028 &&
					  ch != 0x2029,
				      "U+%04X survived", ch);
		}
		if (max > 0) {
			/* each input character is at most one escape of up to 6 ASCII chars */
			ck_assert_uint_le(g_utf8_strlen(out, -1), max * 6 + 1);
		}
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("sanitize");

	tcase_add_loop_test(tc, test_sanitize, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_sanitize_null);
	tcase_add_loop_test(tc, test_sanitize_random, 0, 4);
	suite_add_tcase(s, tc);
	return fleet_check_run(s);
}
