/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-log-parse.c - log lines: ANSI colours, ESP-IDF and Arduino prefixes, escapes,
 * line splitting with telnet negotiation, syslog RFC 3164 and RFC 5424 */

#include <check.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-error.h"
#include "fleet-log-line.h"
#include "fleet-log-splitter.h"
#include "fleet-log-syslog.h"

#define GREEN (2 + 1)
#define RED (1 + 1)

static FleetLogLine *
parse(const gchar *s)
{
	return fleet_log_line_parse("dev", 1000, (const guint8 *)s, strlen(s));
}

static void
assert_raw(FleetLogLine *line, const gchar *expected, gsize len)
{
	g_autoptr(GBytes) raw = fleet_log_line_get_raw(line);
	gsize n = 0;
	const guint8 *data = g_bytes_get_data(raw, &n);
	ck_assert_uint_eq(n, len);
	ck_assert(len == 0 || memcmp(data, expected, len) == 0);
}

/* the text is valid UTF-8 with no control character but tab */
static void
assert_safe_text(FleetLogLine *line)
{
	const gchar *text = fleet_log_line_get_text(line);
	gsize len = fleet_log_line_get_text_len(line);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert(g_utf8_validate(text, (gssize)len, NULL));
	for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		ck_assert_msg(c == '\t' ||
				  (c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0) &&
				   !(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069) &&
				   c != 0x2028 && c != 0x2029),
			      "U+%04X in the text", c);
	}
}

START_TEST(test_idf_colored)
{
	const gchar *in = "\033[0;32mI (1234) wifi: connected to lab-ap\033[0m";
	g_autoptr(FleetLogLine) line = parse(in);
	guint n = 0;
	const FleetLogSpan *spans = fleet_log_line_get_spans(line, &n);

	ck_assert_int_eq(fleet_log_line_get_kind(line), FLEET_LOG_LINE_KIND_TEXT);
	ck_assert_int_eq(fleet_log_line_get_level(line), FLEET_LOG_LEVEL_INFO);
	ck_assert_int_eq(fleet_log_line_get_device_ms(line), 1234);
	ck_assert_str_eq(fleet_log_line_get_tag(line), "wifi");
	ck_assert_str_eq(fleet_log_line_get_text(line), "I (1234) wifi: connected to lab-ap");
	ck_assert_str_eq(fleet_log_line_get_message(line), "connected to lab-ap");
	ck_assert_str_eq(fleet_log_line_get_device_id(line), "dev");
	ck_assert_int_eq(fleet_log_line_get_host_time(line), 1000);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(spans[0].start, 0);
	ck_assert_uint_eq(spans[0].end, strlen("I (1234) wifi: connected to lab-ap"));
	ck_assert_uint_eq(spans[0].fg, GREEN);
	ck_assert_uint_eq(spans[0].bg, 0);
	ck_assert_uint_eq(spans[0].attrs, 0);
	assert_raw(line, in, strlen(in));
}
END_TEST

START_TEST(test_idf_levels)
{
	static const struct {
		const gchar *in;
		FleetLogLevel level;
		gint64 ms;
		const gchar *tag;
		const gchar *msg;
	} cases[] = {
	    {"\033[0;31mE (5) ota: image invalid\033[0m", FLEET_LOG_LEVEL_ERROR, 5, "ota",
	     "image invalid"},
	    {"\033[0;33mW (4294967295) x: y\033[0m", FLEET_LOG_LEVEL_WARN, 4294967295, "x", "y"},
	    {"D (17) esp_netif: z\033[0m", FLEET_LOG_LEVEL_DEBUG, 17, "esp_netif", "z"},
	    {"V (0) a b: c: d", FLEET_LOG_LEVEL_VERBOSE, 0, "a b", "c: d"},
	    {"I (12:34:56.789) sntp: time set", FLEET_LOG_LEVEL_INFO, 45296789, "sntp", "time set"},
	    {"I (27) boot:", FLEET_LOG_LEVEL_INFO, 27, "boot", ""},
	    /* not ESP-IDF: verbatim */
	    {"I (abc) tag: x", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    {"I (123)tag: x", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    {"X (123) tag: x", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    {"I (42949672950) tag: x", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    {"I (12) no tag here", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    {"ets Jun  8 2016 00:22:57", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    {"", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    /* Arduino-ESP32 core */
	    {"[  1234][E][WiFiGeneric.cpp:1583] _eventCallback(): Reason: 201",
	     FLEET_LOG_LEVEL_ERROR, 1234, "WiFiGeneric.cpp", "_eventCallback(): Reason: 201"},
	    {"[W][Update.cpp:12] begin(): too big", FLEET_LOG_LEVEL_WARN, -1, "Update.cpp",
	     "begin(): too big"},
	    {"[  1][Q][a.c:1] x", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	    {"[E][a.c] x", FLEET_LOG_LEVEL_NONE, -1, NULL, NULL},
	};
	g_autoptr(FleetLogLine) line = parse(cases[_i].in);
	ck_assert_msg(fleet_log_line_get_level(line) == cases[_i].level, "%s: level %d",
		      cases[_i].in, fleet_log_line_get_level(line));
	ck_assert_int_eq(fleet_log_line_get_device_ms(line), cases[_i].ms);
	ck_assert_str_eq(fleet_log_line_get_tag(line) != NULL ? fleet_log_line_get_tag(line)
							      : "(null)",
			 cases[_i].tag != NULL ? cases[_i].tag : "(null)");
	if (cases[_i].msg != NULL)
		ck_assert_str_eq(fleet_log_line_get_message(line), cases[_i].msg);
	else
		ck_assert_str_eq(fleet_log_line_get_message(line), fleet_log_line_get_text(line));
	assert_raw(line, cases[_i].in, strlen(cases[_i].in));
}
END_TEST

START_TEST(test_dropped_marker)
{
	g_autoptr(FleetLogLine) line = parse("... 12 lines dropped ...");
	g_autoptr(FleetLogLine) other = parse("... 12 lines dropped ... later");
	ck_assert_int_eq(fleet_log_line_get_kind(line), FLEET_LOG_LINE_KIND_DROPPED);
	ck_assert_uint_eq(fleet_log_line_get_dropped(line), 12);
	ck_assert_int_eq(fleet_log_line_get_level(line), FLEET_LOG_LEVEL_WARN);
	ck_assert_int_eq(fleet_log_line_get_kind(other), FLEET_LOG_LINE_KIND_TEXT);
}
END_TEST

START_TEST(test_escapes)
{
	static const struct {
		const gchar *in;
		gsize len;
		const gchar *text;
	} cases[] = {
	    {"bad\xff\xfe!", 0, "bad\\xff\\xfe!"},
	    {"bell\x07 nul", 0, "bell\\x07 nul"},
	    {"with\0nul", 8, "with\\x00nul"},
	    {"tab\there", 0, "tab\there"},
	    {"del\x7f", 0, "del\\x7f"},
	    {"c1\xc2\x9b"
	     "31m",
	     0, "c1\\x9b31m"},
	    {"txt\xe2\x80\xae"
	     "exe",
	     0, "txt\\u202eexe"},
	    {"Grüße 温度", 0, "Grüße 温度"},
	    /* escape sequences that are not colours are taken out */
	    {"\033[2Kerased\033[1A", 0, "erased"},
	    {"\033]0;title\007after", 0, "after"},
	    {"\033]8;;http://x\033\\link", 0, "link"},
	    {"\033(Bcharset", 0, "charset"},
	    /* incomplete ones are shown */
	    {"cut \033[31", 0, "cut \\x1b[31"},
	    {"end\033", 0, "end\\x1b"},
	    {"\033[3\x01m", 0, "\\x1b[3\\x01m"},
	    {"\033]0;never ends", 0, "\\x1b]0;never ends"},
	};
	gsize len = cases[_i].len > 0 ? cases[_i].len : strlen(cases[_i].in);
	g_autoptr(FleetLogLine) line =
	    fleet_log_line_parse("dev", 0, (const guint8 *)cases[_i].in, len);
	ck_assert_str_eq(fleet_log_line_get_text(line), cases[_i].text);
	assert_safe_text(line);
	/* the raw bytes are always what came in */
	assert_raw(line, cases[_i].in, len);
}
END_TEST

START_TEST(test_sgr)
{
	guint n = 0;
	const FleetLogSpan *s;
	g_autoptr(FleetLogLine) l256 = parse("\033[38;5;208mX\033[0m");
	g_autoptr(FleetLogLine) lrgb = parse("\033[38;2;255;0;0mR\033[48;2;128;128;128mG");
	g_autoptr(FleetLogLine) lbold = parse("\033[1;31mE\033[22mN\033[0m");
	g_autoptr(FleetLogLine) lmulti = parse("\033[31mA\033[32mB\033[0mC\033[31m\033[31mD");
	g_autoptr(FleetLogLine) lbright = parse("\033[91;104;4;7mZ\033[24;27;39;49m-");

	s = fleet_log_line_get_spans(l256, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(s[0].fg, 208 + 1);
	assert_raw(l256, "\033[38;5;208mX\033[0m", strlen("\033[38;5;208mX\033[0m"));

	s = fleet_log_line_get_spans(lrgb, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(s[0].fg, 196 + 1);
	ck_assert_uint_eq(s[1].fg, 196 + 1);
	ck_assert_uint_eq(s[1].bg, 244 + 1); /* the grey ramp */
	ck_assert_str_eq(fleet_log_line_get_text(lrgb), "RG");

	s = fleet_log_line_get_spans(lbold, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(s[0].attrs, FLEET_LOG_ATTR_BOLD);
	ck_assert_uint_eq(s[0].fg, RED);
	ck_assert_uint_eq(s[1].attrs, 0);
	ck_assert_uint_eq(s[1].fg, RED);

	/* adjacent spans stay apart, the same colour twice is one span */
	s = fleet_log_line_get_spans(lmulti, &n);
	ck_assert_str_eq(fleet_log_line_get_text(lmulti), "ABCD");
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(s[0].start, 0);
	ck_assert_uint_eq(s[0].end, 1);
	ck_assert_uint_eq(s[1].start, 1);
	ck_assert_uint_eq(s[1].fg, GREEN);
	ck_assert_uint_eq(s[2].start, 3);
	ck_assert_uint_eq(s[2].end, 4);
	assert_raw(lmulti, "\033[31mA\033[32mB\033[0mC\033[31m\033[31mD",
		   strlen("\033[31mA\033[32mB\033[0mC\033[31m\033[31mD"));

	s = fleet_log_line_get_spans(lbright, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(s[0].fg, 9 + 1);
	ck_assert_uint_eq(s[0].bg, 12 + 1);
	ck_assert_uint_eq(s[0].attrs, FLEET_LOG_ATTR_UNDERLINE | FLEET_LOG_ATTR_INVERSE);
	ck_assert_uint_eq(s[0].end, 1);
}
END_TEST

START_TEST(test_long_line)
{
	g_autofree gchar *in = g_strnfill(FLEET_LOG_LINE_MAX + 100, 'x');
	g_autofree guint8 *bad = g_malloc(FLEET_LOG_LINE_MAX);
	g_autoptr(FleetLogLine) line = parse(in);
	g_autoptr(FleetLogLine) worst = NULL;
	ck_assert_uint_eq(fleet_log_line_get_text_len(line), FLEET_LOG_LINE_MAX);
	/* every byte escaped: four times as long, still complete */
	memset(bad, 0xff, FLEET_LOG_LINE_MAX);
	worst = fleet_log_line_parse("d", 0, bad, FLEET_LOG_LINE_MAX);
	ck_assert_uint_eq(fleet_log_line_get_text_len(worst), 4 * FLEET_LOG_LINE_MAX);
	assert_raw(worst, (const gchar *)bad, FLEET_LOG_LINE_MAX);
}
END_TEST

/* any bytes: safe text, raw bytes given back exactly, spans inside the text */
START_TEST(test_random_roundtrip)
{
	GRand *rand = g_rand_new_with_seed(0x106 + (guint32)_i);
	static const gchar *const pieces[] = {"\033[",	"0;",	"31",	 "m",	 "38;5;",
					      "\033]",	"\007", "\r",	 "\xff", "\xc3",
					      "\xa9",	"I (",	") t: ", "[E]",	 "\t",
					      "\033\\", ";",	"2;",	 "1",	 "\xe2\x80\xae"};
	for (guint iter = 0; iter < 2000; iter++) {
		g_autoptr(GString) in = g_string_new(NULL);
		g_autoptr(FleetLogLine) line = NULL;
		guint n = 0;
		const FleetLogSpan *spans;
		guint parts = (guint)g_rand_int_range(rand, 0, 40);
		for (guint p = 0; p < parts; p++) {
			if (g_rand_boolean(rand))
				g_string_append(
				    in, pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))]);
			else
				g_string_append_c(in, (gchar)g_rand_int_range(rand, 0, 256));
		}
		line = fleet_log_line_parse("r", 0, (const guint8 *)in->str, in->len);
		assert_safe_text(line);
		assert_raw(line, in->str, in->len);
		spans = fleet_log_line_get_spans(line, &n);
		for (guint s = 0; s < n; s++) {
			ck_assert_uint_lt(spans[s].start, spans[s].end);
			ck_assert_uint_le(spans[s].end, fleet_log_line_get_text_len(line));
			if (s > 0)
				ck_assert_uint_le(spans[s - 1].end, spans[s].start);
		}
	}
	g_rand_free(rand);
}
END_TEST

START_TEST(test_new_full_and_event)
{
	g_autoptr(FleetLogLine) full = fleet_log_line_new_full(
	    "d", 5, FLEET_LOG_LEVEL_WARN, "app\x01", -1, "app\x01: msg \033[31mred", 6);
	g_autoptr(FleetLogLine) event = fleet_log_line_new_event(
	    "d", 6, FLEET_LOG_LINE_KIND_EVENT, FLEET_LOG_LEVEL_INFO, "reconnected\n");
	guint n = 0;

	/* the offset given in bytes of the input moves with the escape in front of it */
	ck_assert_str_eq(fleet_log_line_get_text(full), "app\\x01: msg red");
	ck_assert_str_eq(fleet_log_line_get_message(full), "msg red");
	ck_assert_str_eq(fleet_log_line_get_tag(full), "app\\x01");
	ck_assert_int_eq(fleet_log_line_get_level(full), FLEET_LOG_LEVEL_WARN);
	fleet_log_line_get_spans(full, &n);
	ck_assert_uint_eq(n, 1);

	ck_assert_str_eq(fleet_log_line_get_text(event), "reconnected\\x0a");
	ck_assert_int_eq(fleet_log_line_get_kind(event), FLEET_LOG_LINE_KIND_EVENT);
	ck_assert_ptr_null(fleet_log_line_get_tag(event));
	ck_assert_uint_eq(fleet_log_line_get_seq(event), 0);
	fleet_log_line_set_seq(event, 77);
	ck_assert_uint_eq(fleet_log_line_get_seq(event), 77);
}
END_TEST

START_TEST(test_format)
{
	/* 2024-05-01 12:34:56.789 UTC; the tests run with TZ=UTC */
	gint64 t = G_GINT64_CONSTANT(1714566896789000);
	const gchar *in = "\033[0;31mE (5) ota: bad\033[0m";
	g_autoptr(FleetLogLine) line =
	    fleet_log_line_parse("mac:aa", t, (const guint8 *)in, strlen(in));
	g_autoptr(FleetLogLine) plain =
	    fleet_log_line_parse("mac:aa", t, (const guint8 *)"W (1) x: y", 10);
	g_autoptr(GString) out = g_string_new(NULL);

	fleet_log_line_format(line, NULL, FLEET_LOG_FORMAT_NONE, out);
	ck_assert_str_eq(out->str, "E (5) ota: bad\n");
	g_string_truncate(out, 0);
	fleet_log_line_format(line, "esp-lab-1",
			      FLEET_LOG_FORMAT_HOST_TIME | FLEET_LOG_FORMAT_DEVICE, out);
	ck_assert_str_eq(out->str, "12:34:56.789 esp-lab-1        E (5) ota: bad\n");
	g_string_truncate(out, 0);
	fleet_log_line_format(line, "a-very-long-device-name", FLEET_LOG_FORMAT_DEVICE, out);
	ck_assert_str_eq(out->str, "a-very-long-dev… E (5) ota: bad\n");
	g_string_truncate(out, 0);
	fleet_log_line_format(line, "evil\033[2J", FLEET_LOG_FORMAT_DEVICE, out);
	ck_assert(strchr(out->str, '\033') == NULL);
	g_string_truncate(out, 0);
	/* colours: the line's own, else by level */
	fleet_log_line_format(line, NULL, FLEET_LOG_FORMAT_COLOR, out);
	ck_assert_str_eq(out->str, "\033[0;31mE (5) ota: bad\033[0m\n");
	g_string_truncate(out, 0);
	fleet_log_line_format(plain, NULL, FLEET_LOG_FORMAT_COLOR, out);
	ck_assert_str_eq(out->str, "\033[0;33mW (1) x: y\033[0m\n");
}
END_TEST

START_TEST(test_redact)
{
	g_autoptr(GPtrArray) secrets = g_ptr_array_new();
	const gchar *in = "\033[0;32mI (1) app: password is hunter2, again hunter2\033[0m";
	g_autoptr(FleetLogLine) line = parse(in);
	g_autoptr(FleetLogLine) clean = parse("I (1) app: nothing here");
	g_autoptr(FleetLogLine) masked = NULL;
	g_autoptr(GBytes) raw = NULL;
	guint n = 0;

	ck_assert_ptr_null(fleet_log_line_dup_redacted(line, NULL));
	g_ptr_array_add(secrets, (gpointer) "");
	g_ptr_array_add(secrets, (gpointer) "hunter2");
	masked = fleet_log_line_dup_redacted(line, secrets);
	ck_assert_ptr_nonnull(masked);
	ck_assert_str_eq(fleet_log_line_get_text(masked),
			 "I (1) app: password is *******, again *******");
	raw = fleet_log_line_get_raw(masked);
	ck_assert(g_strstr_len(g_bytes_get_data(raw, NULL), (gssize)g_bytes_get_size(raw),
			       "hunter2") == NULL);
	ck_assert_str_eq(fleet_log_line_get_tag(masked), "app");
	fleet_log_line_get_spans(masked, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(fleet_log_line_dup_redacted(clean, secrets));
}
END_TEST

START_TEST(test_levels_from_string)
{
	FleetLogLevel level = FLEET_LOG_LEVEL_NONE;
	ck_assert(fleet_log_level_from_string("w", &level));
	ck_assert_int_eq(level, FLEET_LOG_LEVEL_WARN);
	ck_assert(fleet_log_level_from_string("Warning", &level));
	ck_assert(fleet_log_level_from_string("DEBUG", &level));
	ck_assert_int_eq(level, FLEET_LOG_LEVEL_DEBUG);
	ck_assert(!fleet_log_level_from_string("x", &level));
	ck_assert(!fleet_log_level_from_string("errors", &level));
	ck_assert(!fleet_log_level_from_string(NULL, &level));
	ck_assert_int_eq(fleet_log_level_to_char(FLEET_LOG_LEVEL_ERROR), 'E');
	ck_assert_int_eq(fleet_log_level_to_char(FLEET_LOG_LEVEL_NONE), ' ');
}
END_TEST

/* ---- splitter ---- */

typedef struct {
	GPtrArray *lines;
} Collect;

static void
collect_cb(const guint8 *line, gsize len, gpointer user_data)
{
	Collect *c = user_data;
	g_ptr_array_add(c->lines, g_strndup((const gchar *)line, len));
}

/* feeds @in whole and byte by byte: both must give the same lines and replies */
static gchar *
split(gboolean telnet, const gchar *in, gsize len, GByteArray **reply_out)
{
	g_autofree gchar *whole = NULL;
	for (guint pass = 0; pass < 2; pass++) {
		g_autoptr(FleetLogSplitter) s = fleet_log_splitter_new(telnet);
		g_autoptr(GByteArray) reply = g_byte_array_new();
		Collect c = {g_ptr_array_new_with_free_func(g_free)};
		g_autofree gchar *joined = NULL;
		if (pass == 0) {
			fleet_log_splitter_feed(s, (const guint8 *)in, len, reply, collect_cb, &c);
		} else {
			for (gsize i = 0; i < len; i++)
				fleet_log_splitter_feed(s, (const guint8 *)in + i, 1, reply,
							collect_cb, &c);
		}
		g_ptr_array_add(c.lines, g_strdup_printf("<pending %" G_GSIZE_FORMAT ">",
							 fleet_log_splitter_get_pending(s)));
		fleet_log_splitter_flush(s, collect_cb, &c);
		g_ptr_array_add(c.lines, NULL);
		joined = g_strjoinv("|", (gchar **)c.lines->pdata);
		g_ptr_array_unref(c.lines);
		if (pass == 0) {
			whole = g_steal_pointer(&joined);
			if (reply_out != NULL)
				*reply_out = g_byte_array_ref(reply);
		} else {
			ck_assert_str_eq(joined, whole);
		}
	}
	return g_steal_pointer(&whole);
}

START_TEST(test_splitter)
{
	g_autofree gchar *a = split(FALSE, "a\nb\r\nc\rd", 8, NULL);
	g_autofree gchar *b = split(FALSE, "\n\r\n\r\r\nx", 7, NULL);
	g_autofree gchar *c = split(FALSE, "keep\xff\0bytes\n", 12, NULL);
	g_autofree gchar *long_in = g_strnfill(FLEET_LOG_LINE_MAX + 3, 'y');
	g_autoptr(FleetLogSplitter) s = fleet_log_splitter_new(FALSE);
	Collect col = {g_ptr_array_new_with_free_func(g_free)};

	ck_assert_str_eq(a, "a|b|c|<pending 1>|d");
	/* empty lines are lines; "\r\n" is one break */
	ck_assert_str_eq(b, "||||<pending 1>|x");
	ck_assert_str_eq(c, "keep\xff|<pending 0>");
	/* a line longer than the limit is cut there */
	fleet_log_splitter_feed(s, (const guint8 *)long_in, strlen(long_in), NULL, collect_cb,
				&col);
	ck_assert_uint_eq(col.lines->len, 1);
	ck_assert_uint_eq(strlen(g_ptr_array_index(col.lines, 0)), FLEET_LOG_LINE_MAX);
	ck_assert_uint_eq(fleet_log_splitter_get_pending(s), 3);
	ck_assert(!fleet_log_splitter_get_telnet(s));
	g_ptr_array_unref(col.lines);
}
END_TEST

START_TEST(test_telnet)
{
	g_autoptr(GByteArray) reply = NULL;
	g_autoptr(GByteArray) reply2 = NULL;
	g_autoptr(GByteArray) reply3 = NULL;
	/* IAC WILL ECHO, IAC DO SGA, text with an escaped 0xff, IAC NOP, CR NUL */
	static const gchar in[] = "\xff\xfb\x01\xff\xfd\x03hello\xff\xff!\xff\xf1\r\0next\r\n"
				  "\xff\xfb\x01"
				  "again\n";
	/* a subnegotiation (terminal type) with IAC IAC inside */
	static const gchar sb[] = "\xff\xfa\x18\x01\xff\xff\x00\xff\xf0text\n";
	g_autofree gchar *lines = split(TRUE, in, sizeof(in) - 1, &reply);
	g_autofree gchar *lines2 = split(TRUE, sb, sizeof(sb) - 1, &reply2);
	g_autofree gchar *plain = split(FALSE, "\xff\xfb\x01x\n", 5, &reply3);

	ck_assert_str_eq(lines, "hello\xff!|next|again|<pending 0>");
	/* refusals, once per option: DONT ECHO, WONT SGA */
	ck_assert_uint_eq(reply->len, 6);
	ck_assert(memcmp(reply->data, "\xff\xfe\x01\xff\xfc\x03", 6) == 0);
	ck_assert_str_eq(lines2, "text|<pending 0>");
	ck_assert_uint_eq(reply2->len, 0);
	/* without telnet, 0xff bytes are data */
	ck_assert_str_eq(plain, "\xff\xfb\x01x|<pending 0>");
	ck_assert_uint_eq(reply3->len, 0);
}
END_TEST

/* ---- syslog ---- */

static FleetLogSyslogMessage *
syslog_parse(const gchar *s)
{
	g_autoptr(GError) error = NULL;
	FleetLogSyslogMessage *msg = fleet_log_syslog_parse((const guint8 *)s, strlen(s), &error);
	ck_assert_msg(msg != NULL, "%s: %s", s, error != NULL ? error->message : "");
	return msg;
}

static gchar *
msg_text(FleetLogSyslogMessage *msg)
{
	if (g_bytes_get_size(msg->msg) == 0)
		return g_strdup("");
	return g_strndup(g_bytes_get_data(msg->msg, NULL), g_bytes_get_size(msg->msg));
}

START_TEST(test_syslog_5424)
{
	g_autoptr(FleetLogSyslogMessage) a =
	    syslog_parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
			 "\xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8");
	g_autoptr(FleetLogSyslogMessage) b = syslog_parse(
	    "<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut=\"3\" "
	    "eventSource=\"App\\]lication\" eventID=\"1011\"][examplePriority@32473 "
	    "class=\"high\"] "
	    "An application event");
	g_autoptr(FleetLogSyslogMessage) c = syslog_parse("<165>1 - - - - - -");
	g_autoptr(FleetLogSyslogMessage) d = syslog_parse("<14>1 - esp-1 app 42 - - hello\n");
	g_autofree gchar *ta = msg_text(a);
	g_autofree gchar *tb = msg_text(b);
	g_autofree gchar *td = msg_text(d);

	ck_assert(a->rfc5424);
	ck_assert_int_eq(a->facility, 4);
	ck_assert_int_eq(a->severity, 2);
	ck_assert_str_eq(a->timestamp, "2003-10-11T22:14:15.003Z");
	ck_assert_str_eq(a->hostname, "mymachine.example.com");
	ck_assert_str_eq(a->app_name, "su");
	ck_assert_ptr_null(a->procid);
	ck_assert_str_eq(a->msgid, "ID47");
	ck_assert_ptr_null(a->structured_data);
	ck_assert_str_eq(ta, "'su root' failed for lonvick on /dev/pts/8");

	ck_assert(b->rfc5424);
	ck_assert_int_eq(b->severity, 5);
	ck_assert_int_eq(b->facility, 20);
	ck_assert_str_eq(b->structured_data,
			 "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\]lication\" "
			 "eventID=\"1011\"][examplePriority@32473 class=\"high\"]");
	ck_assert_str_eq(tb, "An application event");

	ck_assert(c->rfc5424);
	ck_assert_ptr_null(c->timestamp);
	ck_assert_ptr_null(c->hostname);
	ck_assert_ptr_null(c->app_name);
	ck_assert_uint_eq(g_bytes_get_size(c->msg), 0);

	ck_assert_str_eq(d->hostname, "esp-1");
	ck_assert_str_eq(d->procid, "42");
	ck_assert_str_eq(td, "hello");
}
END_TEST

START_TEST(test_syslog_3164)
{
	static const struct {
		const gchar *in;
		gint severity;
		const gchar *timestamp;
		const gchar *hostname;
		const gchar *app;
		const gchar *procid;
		const gchar *msg;
	} cases[] = {
	    {"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", 2, "Oct 11 22:14:15",
	     "mymachine", "su", NULL, "'su root' failed"},
	    {"<13>Feb  5 17:32:18 10.0.0.99 myapp[1234]: Use the BFG!", 5, "Feb  5 17:32:18",
	     "10.0.0.99", "myapp", "1234", "Use the BFG!"},
	    {"<14>esp-lab-1 sensor: 21.5 C", 6, NULL, "esp-lab-1", "sensor", NULL, "21.5 C"},
	    {"<15>sensor[7]: x", 7, NULL, NULL, "sensor", "7", "x"},
	    {"<11>plain message text", 3, NULL, NULL, NULL, NULL, "plain message text"},
	    {"<12>Oct 11 22:14:15 host no tag here", 4, "Oct 11 22:14:15", "host", NULL, NULL,
	     "no tag here"},
	    {"<12>2024-05-01T12:00:00.123+02:00 host app: m", 4, "2024-05-01T12:00:00.123+02:00",
	     "host", "app", NULL, "m"},
	    /* a broken RFC 5424 header falls back to BSD rules */
	    {"<14>1 notatime host app - - - x", 6, NULL, NULL, NULL, NULL,
	     "1 notatime host app - - - x"},
	    /* no or bad PRI: everything is the message */
	    {"hello", -1, NULL, NULL, NULL, NULL, "hello"},
	    {"<192>x", -1, NULL, NULL, NULL, NULL, "<192>x"},
	    {"<01>x", -1, NULL, NULL, NULL, NULL, "<01>x"},
	    {"<>x", -1, NULL, NULL, NULL, NULL, "<>x"},
	    {"<0>", 0, NULL, NULL, NULL, NULL, ""},
	};
	g_autoptr(FleetLogSyslogMessage) m = syslog_parse(cases[_i].in);
	g_autofree gchar *text = msg_text(m);
	ck_assert(!m->rfc5424);
	ck_assert_int_eq(m->severity, cases[_i].severity);
	ck_assert_str_eq(m->timestamp != NULL ? m->timestamp : "-",
			 cases[_i].timestamp != NULL ? cases[_i].timestamp : "-");
	ck_assert_str_eq(m->hostname != NULL ? m->hostname : "-",
			 cases[_i].hostname != NULL ? cases[_i].hostname : "-");
	ck_assert_str_eq(m->app_name != NULL ? m->app_name : "-",
			 cases[_i].app != NULL ? cases[_i].app : "-");
	ck_assert_str_eq(m->procid != NULL ? m->procid : "-",
			 cases[_i].procid != NULL ? cases[_i].procid : "-");
	ck_assert_str_eq(text, cases[_i].msg);
}
END_TEST

START_TEST(test_syslog_errors_and_hostile)
{
	g_autoptr(GError) error = NULL;
	g_autofree guint8 *huge = g_malloc0(FLEET_LOG_SYSLOG_MAX + 1);
	g_autoptr(FleetLogSyslogMessage) evil =
	    syslog_parse("<14>1 - h\xff\x01st app\033 - - - text");
	g_autoptr(FleetLogSyslogMessage) ctl = syslog_parse("<14>ho\033st app: x");

	ck_assert_ptr_null(fleet_log_syslog_parse((const guint8 *)"", 0, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
	g_clear_error(&error);
	ck_assert_ptr_null(fleet_log_syslog_parse(huge, FLEET_LOG_SYSLOG_MAX + 1, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
	/* bytes outside PRINTUSASCII are no header: BSD rules, nothing unsafe in the fields */
	ck_assert(!evil->rfc5424);
	ck_assert(ctl->hostname == NULL || strchr(ctl->hostname, '\033') == NULL);
	ck_assert_int_eq(fleet_log_syslog_severity_to_level(0), FLEET_LOG_LEVEL_ERROR);
	ck_assert_int_eq(fleet_log_syslog_severity_to_level(3), FLEET_LOG_LEVEL_ERROR);
	ck_assert_int_eq(fleet_log_syslog_severity_to_level(4), FLEET_LOG_LEVEL_WARN);
	ck_assert_int_eq(fleet_log_syslog_severity_to_level(6), FLEET_LOG_LEVEL_INFO);
	ck_assert_int_eq(fleet_log_syslog_severity_to_level(7), FLEET_LOG_LEVEL_DEBUG);
	ck_assert_int_eq(fleet_log_syslog_severity_to_level(-1), FLEET_LOG_LEVEL_NONE);
}
END_TEST

START_TEST(test_syslog_lines)
{
	g_autoptr(FleetLogSyslogMessage) idf =
	    syslog_parse("<14>1 - esp-1 app - - - \033[0;31mE (100) ota: failed\033[0m");
	g_autoptr(FleetLogSyslogMessage) bsd = syslog_parse("<12>esp-lab-1 sensor: low\nbattery");
	g_autoptr(FleetLogSyslogMessage) bare = syslog_parse("<13>just text");
	g_autoptr(FleetLogSyslogMessage) none = syslog_parse("no pri at all");
	g_autoptr(FleetLogSyslogMessage) empty = syslog_parse("<13>1 - - app - - -");
	g_autoptr(GPtrArray) l1 = fleet_log_syslog_to_lines(idf, "mac:1", 7);
	g_autoptr(GPtrArray) l2 = fleet_log_syslog_to_lines(bsd, "mac:2", 7);
	g_autoptr(GPtrArray) l3 = fleet_log_syslog_to_lines(bare, "mac:3", 7);
	g_autoptr(GPtrArray) l4 = fleet_log_syslog_to_lines(none, "mac:4", 7);
	g_autoptr(GPtrArray) l5 = fleet_log_syslog_to_lines(empty, "mac:5", 7);
	FleetLogLine *line;

	/* an ESP-IDF line inside keeps its own level, tag and colours */
	ck_assert_uint_eq(l1->len, 1);
	line = g_ptr_array_index(l1, 0);
	ck_assert_int_eq(fleet_log_line_get_level(line), FLEET_LOG_LEVEL_ERROR);
	ck_assert_str_eq(fleet_log_line_get_tag(line), "ota");
	ck_assert_str_eq(fleet_log_line_get_device_id(line), "mac:1");
	ck_assert_int_eq(fleet_log_line_get_host_time(line), 7);

	/* other text: severity as the level, the app as tag, one line per line */
	ck_assert_uint_eq(l2->len, 2);
	line = g_ptr_array_index(l2, 0);
	ck_assert_str_eq(fleet_log_line_get_text(line), "sensor: low");
	ck_assert_str_eq(fleet_log_line_get_message(line), "low");
	ck_assert_str_eq(fleet_log_line_get_tag(line), "sensor");
	ck_assert_int_eq(fleet_log_line_get_level(line), FLEET_LOG_LEVEL_WARN);
	line = g_ptr_array_index(l2, 1);
	ck_assert_str_eq(fleet_log_line_get_text(line), "sensor: battery");

	ck_assert_uint_eq(l3->len, 1);
	line = g_ptr_array_index(l3, 0);
	ck_assert_str_eq(fleet_log_line_get_text(line), "just text");
	ck_assert_int_eq(fleet_log_line_get_level(line), FLEET_LOG_LEVEL_INFO);
	ck_assert_ptr_null(fleet_log_line_get_tag(line));

	ck_assert_uint_eq(l4->len, 1);
	ck_assert_int_eq(fleet_log_line_get_level(g_ptr_array_index(l4, 0)), FLEET_LOG_LEVEL_NONE);
	ck_assert_uint_eq(l5->len, 1);
	ck_assert_str_eq(fleet_log_line_get_text(g_ptr_array_index(l5, 0)), "app: ");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log-parse");
	TCase *tc_line = tcase_create("line");
	TCase *tc_split = tcase_create("splitter");
	TCase *tc_syslog = tcase_create("syslog");

	tcase_add_test(tc_line, test_idf_colored);
	tcase_add_loop_test(tc_line, test_idf_levels, 0, 17);
	tcase_add_test(tc_line, test_dropped_marker);
	tcase_add_loop_test(tc_line, test_escapes, 0, 16);
	tcase_add_test(tc_line, test_sgr);
	tcase_add_test(tc_line, test_long_line);
	tcase_add_loop_test(tc_line, test_random_roundtrip, 0, 4);
	tcase_add_test(tc_line, test_new_full_and_event);
	tcase_add_test(tc_line, test_format);
	tcase_add_test(tc_line, test_redact);
	tcase_add_test(tc_line, test_levels_from_string);
	suite_add_tcase(s, tc_line);

	tcase_add_test(tc_split, test_splitter);
	tcase_add_test(tc_split, test_telnet);
	suite_add_tcase(s, tc_split);

	tcase_add_test(tc_syslog, test_syslog_5424);
	tcase_add_loop_test(tc_syslog, test_syslog_3164, 0, 13);
	tcase_add_test(tc_syslog, test_syslog_errors_and_hostile);
	tcase_add_test(tc_syslog, test_syslog_lines);
	suite_add_tcase(s, tc_syslog);

	return fleet_check_run(s);
}
