/* SPDX-License-Identifier: MIT */
/* check-log.c - the device log stream: formatter, ESP-IDF lines, history ring, slow clients */

#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota/ota-log.h"

#define RX_MAX 65536

struct rx {
	bool accept;
	size_t budget; /* bytes it takes before refusing; SIZE_MAX for no limit */
	char data[RX_MAX];
	size_t len;
	unsigned lines;
	unsigned offers;
};

static struct rx rx[OTA_LOG_MAX_CLIENTS];
static struct ota_log lg;
static char ring[4096];
static uint32_t clock_ms;
static bool log_from_send;

static uint32_t
clock_cb(void *user)
{
	(void)user;
	return clock_ms;
}

static bool
send_cb(void *user, unsigned client, const char *line, size_t len)
{
	struct rx *r;

	ck_assert_ptr_eq(user, &lg);
	ck_assert_uint_lt(client, OTA_LOG_MAX_CLIENTS);
	r = &rx[client];
	r->offers++;
	/* every offer is one whole line */
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_null(memchr(line, '\n', len - 1));
	if (!r->accept || len > r->budget)
		return false;
	if (r->budget != SIZE_MAX)
		r->budget -= len;
	ck_assert_uint_le(r->len + len, RX_MAX);
	memcpy(r->data + r->len, line, len);
	r->len += len;
	r->lines++;
	if (log_from_send) {
		/* a log line written from inside the send callback must not recurse */
		log_from_send = false; /* once */
		ota_log_printf(&lg, OTA_LOG_WARN, "net", "slow client %u", client);
	}
	return true;
}

static void
init_log(size_t ring_size, bool colors)
{
	struct ota_log_config cfg = {
	    .ring = ring,
	    .ring_size = ring_size,
	    .send = send_cb,
	    .clock = clock_cb,
	    .user = &lg,
	    .level = OTA_LOG_VERBOSE,
	    .colors = colors,
	};
	ck_assert_int_eq(ota_log_init(&lg, &cfg), 0);
}

static void
setup(void)
{
	memset(rx, 0, sizeof(rx));
	for (int i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		rx[i].accept = true;
		rx[i].budget = SIZE_MAX;
	}
	clock_ms = 1234;
	log_from_send = false;
	init_log(sizeof(ring), true);
}

/* the formatter agrees with the C library on everything it supports */
#define SAME(fmt, ...)                                                                             \
	do {                                                                                       \
		char ours[128], libc[128];                                                         \
		size_t n = ota_log_format(ours, sizeof(ours), fmt, __VA_ARGS__);                   \
		int want = snprintf(libc, sizeof(libc), fmt, __VA_ARGS__);                         \
		ck_assert_str_eq(ours, libc);                                                      \
		ck_assert_uint_eq(n, (size_t)want);                                                \
	} while (0)

START_TEST(test_format_like_libc)
{
	SAME("%d", 0);
	SAME("%d %i", -42, 17);
	SAME("%d", INT_MIN);
	SAME("%u", UINT_MAX);
	SAME("%lu", ULONG_MAX);
	SAME("%ld", LONG_MIN);
	SAME("%lld|%llu", LLONG_MIN, ULLONG_MAX);
	SAME("%zu", (size_t)123456);
	SAME("%x %X", 0xdeadbeefu, 0xabcu);
	SAME("%02x:%02x:%02x", 0xa0u, 0x1u, 0u);
	SAME("%08X", 0x1fu);
	SAME("[%5d] [%-5d] [%05d] [%-5d]", 42, 42, -42, 7);
	SAME("[%3d]", 12345);
	SAME("[%.3d] [%6.3d] [%.0d]", 7, -7, 0);
	SAME("%c%c%c", 'a', 'b', 'c');
	SAME("[%3c] [%-3c]", 'x', 'y');
	SAME("%s", "hello");
	SAME("[%10s] [%-10s] [%.3s] [%*s] [%-*s] [%.*s]", "abc", "abc", "abcdef", 6, "ab", 6, "ab",
	     2, "xyz");
	SAME("100%% %s", "done");
	SAME("%lx", 0x123456789abcUL);
	SAME("%hd %hu", 5, 6);
}
END_TEST

/* without the format attribute, to hand the formatter what a compiler would reject */
static size_t
raw_format(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = ota_log_vformat(out, size, fmt, ap);
	va_end(ap);
	return n;
}

START_TEST(test_format_bounds)
{
	char out[16];

	memset(out, 'Z', sizeof(out));
	ck_assert_uint_eq(ota_log_format(out, 8, "%s", "0123456789"), 7);
	ck_assert_str_eq(out, "0123456");
	ck_assert_int_eq(out[8], 'Z');
	ck_assert_uint_eq(ota_log_format(out, 1, "%d", 12345), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(ota_log_format(out, 0, "x"), 0);
	ck_assert_int_eq(out[0], '\0');
	raw_format(out, sizeof(out), "%s|", (const char *)NULL);
	ck_assert_str_eq(out, "(null)|");
	/* huge widths are capped, never overrun */
	ck_assert_uint_eq(ota_log_format(out, sizeof(out), "%900d", 1), 15);
	ck_assert_str_eq(out, "               ");
	/* unknown conversions and a lone '%' are printed as written */
	raw_format(out, sizeof(out), "a%qb%");
	ck_assert_str_eq(out, "a%qb%");
	raw_format(out, sizeof(out), "%5");
	ck_assert_str_eq(out, "%5");
	/* '-' wins over '0', as in C */
	raw_format(out, sizeof(out), "[%-05d]", 7);
	ck_assert_str_eq(out, "[7    ]");
}
END_TEST

/* the one line client 0 got, as a string */
static const char *
got(unsigned client)
{
	rx[client].data[rx[client].len] = '\0';
	return rx[client].data;
}

START_TEST(test_esp_idf_lines)
{
	int c = ota_log_client_add(&lg);

	ck_assert_int_eq(c, 0);
	ck_assert_int_gt(
	    ota_log_printf(&lg, OTA_LOG_ERROR, "ota", "flash write failed at %u", 4096u), 0);
	ck_assert_str_eq(got(0), "\033[0;31mE (1234) ota: flash write failed at 4096\033[0m\n");
	rx[0].len = 0;
	clock_ms = 98765;
	ota_log_printf(&lg, OTA_LOG_WARN, "mdns", "renamed to %s", "esp-2");
	ck_assert_str_eq(got(0), "\033[0;33mW (98765) mdns: renamed to esp-2\033[0m\n");
	rx[0].len = 0;
	ota_log_printf(&lg, OTA_LOG_INFO, "boot", "slot %d", 1);
	ck_assert_str_eq(got(0), "\033[0;32mI (98765) boot: slot 1\033[0m\n");
	rx[0].len = 0;
	/* D and V have no colour, but the reset still ends the line, as in esp_log.h */
	ota_log_printf(&lg, OTA_LOG_DEBUG, "espota", "chunk %u", 1460u);
	ck_assert_str_eq(got(0), "D (98765) espota: chunk 1460\033[0m\n");
	rx[0].len = 0;
	ota_log_printf(&lg, OTA_LOG_VERBOSE, "espota", "x");
	ck_assert_str_eq(got(0), "V (98765) espota: x\033[0m\n");

	/* without colours (CONFIG_LOG_COLORS off) */
	init_log(sizeof(ring), false);
	rx[0].len = 0;
	ck_assert_int_eq(ota_log_client_add(&lg), 0);
	ota_log_printf(&lg, OTA_LOG_ERROR, "ota", "bad %s", "md5");
	ck_assert_str_eq(got(0), "E (98765) ota: bad md5\n");

	/* level filter */
	ota_log_set_level(&lg, OTA_LOG_INFO);
	rx[0].len = 0;
	ck_assert_int_eq(ota_log_printf(&lg, OTA_LOG_DEBUG, "x", "hidden"), 0);
	ck_assert_int_eq(ota_log_printf(&lg, OTA_LOG_VERBOSE, "x", "hidden"), 0);
	ck_assert_int_eq(ota_log_printf(&lg, OTA_LOG_NONE, "x", "hidden"), 0);
	ck_assert_uint_eq(rx[0].len, 0);
	ck_assert_int_gt(ota_log_printf(&lg, OTA_LOG_INFO, "x", "shown"), 0);
	ck_assert_str_eq(got(0), "I (98765) x: shown\n");
}
END_TEST

START_TEST(test_one_line_always)
{
	char big[600];

	ck_assert_int_eq(ota_log_client_add(&lg), 0);
	/* embedded line breaks cannot split a line */
	ota_log_printf(&lg, OTA_LOG_INFO, "t", "a\nb\r\nc");
	ck_assert_str_eq(got(0), "\033[0;32mI (1234) t: a b  c\033[0m\n");
	/* too long: cut, but still coloured, reset and terminated */
	rx[0].len = 0;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(ota_log_printf(&lg, OTA_LOG_WARN, "t", "%s", big), OTA_LOG_LINE_MAX - 1);
	ck_assert_uint_eq(rx[0].len, OTA_LOG_LINE_MAX - 1);
	ck_assert_int_eq(memcmp(rx[0].data + rx[0].len - 5, "\033[0m\n", 5), 0);
	ck_assert_int_eq(memcmp(rx[0].data, "\033[0;33mW (1234) t: xxx", 22), 0);
}
END_TEST

START_TEST(test_history_on_connect)
{
	init_log(sizeof(ring), false);
	ota_log_printf(&lg, OTA_LOG_INFO, "boot", "one");
	ota_log_printf(&lg, OTA_LOG_INFO, "boot", "two");
	clock_ms = 2000;
	ota_log_printf(&lg, OTA_LOG_WARN, "boot", "three");
	/* nobody listening yet: nothing offered */
	ck_assert_uint_eq(rx[0].offers, 0);

	ck_assert_int_eq(ota_log_client_add(&lg), 0);
	ota_log_pump(&lg);
	ck_assert_str_eq(got(0), "I (1234) boot: one\nI (1234) boot: two\nW (2000) boot: three\n");
	/* then live lines */
	ota_log_printf(&lg, OTA_LOG_INFO, "boot", "four");
	ck_assert_str_eq(got(0), "I (1234) boot: one\nI (1234) boot: two\nW (2000) boot: three\n"
				 "I (2000) boot: four\n");
	/* a second client gets the same history */
	ck_assert_int_eq(ota_log_client_add(&lg), 1);
	ota_log_pump(&lg);
	ck_assert_str_eq(got(1), got(0));
}
END_TEST

/* lines in buf must be "I (1234) t: line N" with N rising by one; returns the first N */
static int
check_sequence(const char *buf, size_t len, int *last)
{
	int first = -1, prev = -1;
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int n;

		ck_assert_ptr_nonnull(nl);
		ck_assert_int_eq(sscanf(p, "I (1234) t: line %d", &n), 1);
		if (prev >= 0)
			ck_assert_int_eq(n, prev + 1);
		else
			first = n;
		prev = n;
		p = nl + 1;
	}
	*last = prev;
	return first;
}

START_TEST(test_ring_wraps)
{
	int first, last;

	/* 300 bytes hold 15 lines of 19-20 bytes; write 1000 of them */
	init_log(300, false);
	for (int i = 0; i < 1000; i++)
		ota_log_printf(&lg, OTA_LOG_INFO, "t", "line %d", i);
	ck_assert_int_eq(ota_log_client_add(&lg), 0);
	ota_log_pump(&lg);
	ck_assert_uint_le(rx[0].len, 300);
	ck_assert_uint_gt(rx[0].len, 300 - 22);
	first = check_sequence(rx[0].data, rx[0].len, &last);
	ck_assert_int_eq(last, 999);
	ck_assert_int_gt(first, 980);
	/* the full ring, byte for byte: lines that end exactly at the wrap point too */
	for (int round = 0; round < 50; round++) {
		rx[0].len = 0;
		ota_log_printf(&lg, OTA_LOG_INFO, "t", "line %d", 1000 + round);
		ck_assert_int_eq(memcmp(rx[0].data, "I (1234) t: line ", 17), 0);
		ck_assert_int_eq(atoi(rx[0].data + 17), 1000 + round);
	}
}
END_TEST

START_TEST(test_slow_client_drops_whole_lines)
{
	int first, last, dropped;
	char *p;

	init_log(512, false);
	ck_assert_int_eq(ota_log_client_add(&lg), 0);
	ck_assert_int_eq(ota_log_client_add(&lg), 1);
	rx[1].accept = false; /* client 1 stalls */
	for (int i = 0; i < 200; i++)
		ota_log_printf(&lg, OTA_LOG_INFO, "t", "line %d", i);
	/* the fast client got everything */
	first = check_sequence(rx[0].data, rx[0].len, &last);
	ck_assert_int_eq(first, 0);
	ck_assert_int_eq(last, 199);
	ck_assert_uint_eq(rx[1].len, 0);
	ck_assert_uint_gt(rx[1].offers, 0);

	/* client 1 recovers: a marker, then whole lines up to the newest */
	rx[1].accept = true;
	ota_log_pump(&lg);
	ck_assert_int_eq(sscanf(got(1), "... %d lines dropped ...\n", &dropped), 1);
	p = strchr(rx[1].data, '\n') + 1;
	first = check_sequence(p, rx[1].len - (size_t)(p - rx[1].data), &last);
	ck_assert_int_eq(last, 199);
	ck_assert_int_eq(first, dropped);
	ck_assert_uint_eq(ota_log_client_dropped(&lg, 1), (uint32_t)dropped);
	ck_assert_uint_eq(ota_log_client_dropped(&lg, 0), 0);

	/* a client that takes a few hundred bytes per pump: only whole lines, none twice */
	rx[2].budget = 0;
	ck_assert_int_eq(ota_log_client_add(&lg), 2);
	for (int i = 200; i < 600; i++) {
		ota_log_printf(&lg, OTA_LOG_INFO, "t", "line %d", i);
		if (i % 10 == 0) {
			rx[2].budget = 150;
			ota_log_pump(&lg);
			rx[2].budget = 0;
		}
	}
	rx[2].budget = SIZE_MAX;
	ota_log_pump(&lg);
	{
		/* split the stream on markers; between them the numbers must rise by one */
		int expect = -1, total_dropped = 0, seen = 0;
		const char *q = got(2), *end = rx[2].data + rx[2].len;

		while (q < end) {
			const char *nl = strchr(q, '\n');
			int n;

			ck_assert_ptr_nonnull(nl);
			if (sscanf(q, "... %d lines dropped ...", &n) == 1) {
				total_dropped += n;
				if (expect >= 0)
					expect += n;
			} else {
				ck_assert_int_eq(sscanf(q, "I (1234) t: line %d", &n), 1);
				if (expect >= 0)
					ck_assert_int_eq(n, expect);
				expect = n + 1;
				seen++;
			}
			q = nl + 1;
		}
		ck_assert_int_eq(expect, 600);
		ck_assert_int_gt(total_dropped, 0);
		ck_assert_uint_eq(ota_log_client_dropped(&lg, 2), (uint32_t)total_dropped);
	}
}
END_TEST

START_TEST(test_clients)
{
	for (int i = 0; i < OTA_LOG_MAX_CLIENTS; i++)
		ck_assert_int_eq(ota_log_client_add(&lg), i);
	ck_assert_int_eq(ota_log_client_add(&lg), OTA_LOG_E_FULL);
	ota_log_client_remove(&lg, 2);
	ota_log_printf(&lg, OTA_LOG_INFO, "t", "after remove");
	ck_assert_uint_eq(rx[2].len, 0);
	ck_assert_uint_gt(rx[3].len, 0);
	ck_assert_int_eq(ota_log_client_add(&lg), 2);
	ota_log_pump(&lg);
	ck_assert_str_eq(got(2), got(3));

	/* a line logged from inside the send callback is queued, not recursed into */
	memset(rx, 0, sizeof(rx));
	init_log(sizeof(ring), false);
	rx[0].accept = true;
	rx[0].budget = SIZE_MAX;
	ck_assert_int_eq(ota_log_client_add(&lg), 0);
	log_from_send = true;
	ota_log_printf(&lg, OTA_LOG_INFO, "t", "first");
	log_from_send = false;
	ota_log_pump(&lg);
	ck_assert_str_eq(got(0), "I (1234) t: first\nW (1234) net: slow client 0\n");

	/* bad arguments */
	{
		struct ota_log_config bad = {.ring = ring, .ring_size = 100, .send = send_cb};
		ck_assert_int_eq(ota_log_init(&lg, &bad), OTA_LOG_E_ARGS);
		bad.ring_size = sizeof(ring);
		bad.send = NULL;
		ck_assert_int_eq(ota_log_init(&lg, &bad), OTA_LOG_E_ARGS);
	}
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_format_like_libc);
	tcase_add_test(tc, test_format_bounds);
	tcase_add_test(tc, test_esp_idf_lines);
	tcase_add_test(tc, test_one_line_always);
	tcase_add_test(tc, test_history_on_connect);
	tcase_add_test(tc, test_ring_wraps);
	tcase_add_test(tc, test_slow_client_drops_whole_lines);
	tcase_add_test(tc, test_clients);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(log_suite());
}
