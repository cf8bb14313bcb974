/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-log-serial.c - the serial source over a pseudo-terminal pair (lines, baud changes,
 * unplug = the master side closed, replug = a new pty behind the same path), and the USB
 * serial port list from a fake sysfs tree */

#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "fleet-check-run.h"
#include "fleet-error.h"
#include "fleet-log-hub.h"
#include "fleet-log-source-serial.h"
#include "fleet-serial-ports.h"

/* the generic struct termios2, to read back the speed of a pty (see the source) */
struct test_termios2 {
	tcflag_t c_iflag;
	tcflag_t c_oflag;
	tcflag_t c_cflag;
	tcflag_t c_lflag;
	cc_t c_line;
	cc_t c_cc[19];
	speed_t c_ispeed;
	speed_t c_ospeed;
};
#define TEST_TCGETS2 _IOR('T', 0x2A, struct test_termios2)

/* a pty whose slave is reachable under @link (as udev's /dev/serial/by-id links are) */
static gint
pty_plug(const gchar *link)
{
	gint master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	const gchar *slave;
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = ptsname(master);
	ck_assert_ptr_nonnull(slave);
	(void)g_unlink(link);
	ck_assert_int_eq(symlink(slave, link), 0);
	return master;
}

/* the speed the slave side runs at (the master's termios ioctls act on the slave) */
static guint
pty_baud(gint master)
{
	struct test_termios2 t2;
	ck_assert_int_eq(ioctl(master, TEST_TCGETS2, &t2), 0);
	return t2.c_ospeed;
}

static void
pty_write(gint master, const gchar *data)
{
	ck_assert_int_eq(write(master, data, strlen(data)), (gssize)strlen(data));
}

typedef struct {
	GPtrArray *lines;
} Seen;

static void
seen_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	Seen *seen = user_data;
	for (guint i = 0; i < lines->len; i++)
		g_ptr_array_add(seen->lines, fleet_log_line_ref(g_ptr_array_index(lines, i)));
}

static gchar *
seen_text(Seen *seen)
{
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < seen->lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(seen->lines, i);
		if (fleet_log_line_get_kind(line) == FLEET_LOG_LINE_KIND_EVENT)
			g_string_append(out, "* ");
		g_string_append(out, fleet_log_line_get_text(line));
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

static void
wait_text(Seen *seen, const gchar *needle)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	g_autofree gchar *text = NULL;
	while (g_get_monotonic_time() < deadline) {
		g_autofree gchar *now = seen_text(seen);
		if (strstr(now, needle) != NULL)
			return;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	text = seen_text(seen);
	ck_abort_msg("\"%s\" never came; the log has:\n%s", needle, text);
}

START_TEST(test_serial_pty)
{
	g_autofree gchar *tmp = g_dir_make_tmp("fleet-serial-XXXXXX", NULL);
	g_autofree gchar *link = g_build_filename(tmp, "ttyUSB-test", NULL);
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autoptr(FleetLogSourceSerial) serial = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *expect_open = NULL;
	g_autofree gchar *expect_back = NULL;
	g_autofree gchar *described = NULL;
	Seen seen = {g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref)};
	FleetLogLine *first_text = NULL;
	gint master = pty_plug(link);

	fleet_log_hub_set_batch_interval(hub, 0);
	g_signal_connect(hub, "lines-added", G_CALLBACK(seen_cb), &seen);
	serial = fleet_log_source_serial_new(link, 115200, NULL);
	ck_assert_str_eq(fleet_log_source_serial_get_path(serial), link);
	ck_assert(g_str_has_prefix(fleet_log_source_serial_get_device_id(serial), "serial:"));
	described = fleet_log_source_describe(FLEET_LOG_SOURCE(serial));
	ck_assert(g_str_has_suffix(described, "at 115200 baud"));
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(serial));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(serial)),
			 FLEET_LOG_SOURCE_STATE_RUNNING);
	expect_open = g_strdup_printf("* opened %s at 115200 baud", link);
	wait_text(&seen, expect_open);
	ck_assert_uint_eq(pty_baud(master), 115200);

	/* lines as an ESP prints them */
	pty_write(master,
		  "ets Jun  8 2016 00:22:57\r\n\033[0;32mI (31) boot: ESP-IDF v5.3\033[0m\r\n");
	wait_text(&seen, "I (31) boot: ESP-IDF v5.3");
	for (guint i = 0; i < seen.lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(seen.lines, i);
		if (fleet_log_line_get_level(line) == FLEET_LOG_LEVEL_INFO &&
		    fleet_log_line_get_kind(line) == FLEET_LOG_LINE_KIND_TEXT)
			first_text = line;
	}
	ck_assert_ptr_nonnull(first_text);
	ck_assert_str_eq(fleet_log_line_get_tag(first_text), "boot");

	/* any rate, also the ESP8266 ROM's 74880; the port follows at once */
	ck_assert(fleet_log_source_serial_set_baud(serial, 74880, &error));
	ck_assert_uint_eq(pty_baud(master), 74880);
	ck_assert_uint_eq(fleet_log_source_serial_get_baud(serial), 74880);
	wait_text(&seen, "* now at 74880 baud");
	ck_assert(fleet_log_source_serial_set_baud(serial, 921600, &error));
	ck_assert_uint_eq(pty_baud(master), 921600);

	/* a pty has no modem lines: the reset says so instead of pretending */
	ck_assert(!fleet_log_source_serial_reset_device(serial, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED));
	g_clear_error(&error);
	ck_assert(!fleet_log_source_serial_set_modem_lines(serial, TRUE, FALSE, &error));
	g_clear_error(&error);
	ck_assert(!fleet_log_source_serial_get_dtr(serial));
	ck_assert(!fleet_log_source_serial_get_rts(serial));

	/* unplug: the other end goes away, with a partial line still in flight */
	pty_write(master, "half a li");
	g_usleep(50 * 1000);
	g_main_context_iteration(NULL, FALSE);
	close(master);
	(void)g_unlink(link);
	wait_text(&seen, "* disconnected:");
	wait_text(&seen, "half a li\n");
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(serial)),
			 FLEET_LOG_SOURCE_STATE_WAITING);
	/* replug: a new device behind the same path; the baud rate chosen stays */
	master = pty_plug(link);
	expect_back = g_strdup_printf("* reconnected: %s at 921600 baud", link);
	wait_text(&seen, expect_back);
	ck_assert_uint_eq(pty_baud(master), 921600);
	pty_write(master, "after replug\n");
	wait_text(&seen, "after replug");
	ck_assert_uint_eq(fleet_log_source_serial_get_n_opens(serial), 2);

	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(serial));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(serial)),
			 FLEET_LOG_SOURCE_STATE_STOPPED);
	ck_assert(!fleet_log_source_serial_reset_device(serial, &error));
	close(master);
	(void)g_unlink(link);
	(void)g_rmdir(tmp);
	g_ptr_array_unref(seen.lines);
}
END_TEST

START_TEST(test_serial_not_a_tty)
{
	g_autofree gchar *tmp = g_dir_make_tmp("fleet-serial-XXXXXX", NULL);
	g_autofree gchar *file = g_build_filename(tmp, "plain", NULL);
	g_autofree gchar *missing = g_build_filename(tmp, "ttyUSB7", NULL);
	g_autoptr(FleetLogSourceSerial) serial = NULL;
	g_autoptr(FleetLogSourceSerial) absent = NULL;

	ck_assert(g_file_set_contents(file, "x", 1, NULL));
	serial = fleet_log_source_serial_new(file, 0, "my-id");
	ck_assert_str_eq(fleet_log_source_serial_get_device_id(serial), "my-id");
	ck_assert_uint_eq(fleet_log_source_serial_get_baud(serial), FLEET_LOG_SERIAL_BAUD_DEFAULT);
	fleet_log_source_start(FLEET_LOG_SOURCE(serial));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(serial)),
			 FLEET_LOG_SOURCE_STATE_FAILED);
	ck_assert(g_str_has_prefix(fleet_log_source_get_status(FLEET_LOG_SOURCE(serial)),
				   "This is not a serial port"));
	fleet_log_source_stop(FLEET_LOG_SOURCE(serial));

	/* a port that is not plugged in yet is waited for */
	absent = fleet_log_source_serial_new(missing, 115200, NULL);
	fleet_log_source_start(FLEET_LOG_SOURCE(absent));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(absent)),
			 FLEET_LOG_SOURCE_STATE_WAITING);
	ck_assert(strstr(fleet_log_source_get_status(FLEET_LOG_SOURCE(absent)), "Cannot open") !=
		  NULL);
	fleet_log_source_stop(FLEET_LOG_SOURCE(absent));
	(void)g_unlink(file);
	(void)g_rmdir(tmp);
}
END_TEST

/* ---- port list ---- */

static void
make_file(const gchar *dir, const gchar *name, const gchar *contents)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	ck_assert(g_mkdir_with_parents(dir, 0755) == 0);
	ck_assert(g_file_set_contents(path, contents, -1, NULL));
}

static void
make_link(const gchar *target, const gchar *link)
{
	g_autofree gchar *parent = g_path_get_dirname(link);
	ck_assert(g_mkdir_with_parents(parent, 0755) == 0);
	ck_assert(g_mkdir_with_parents(target, 0755) == 0);
	ck_assert_int_eq(symlink(target, link), 0);
}

START_TEST(test_port_list)
{
	g_autofree gchar *root = g_dir_make_tmp("fleet-sysfs-XXXXXX", NULL);
	g_autofree gchar *usb_dev = g_build_filename(root, "devices/pci0000:00/usb1/1-2", NULL);
	g_autofree gchar *usb_port = g_build_filename(usb_dev, "1-2:1.0/ttyUSB0", NULL);
	g_autofree gchar *acm_dev = g_build_filename(root, "devices/pci0000:00/usb1/1-3", NULL);
	g_autofree gchar *acm_if = g_build_filename(acm_dev, "1-3:1.0", NULL);
	g_autofree gchar *ch_dev = g_build_filename(root, "devices/pci0000:00/usb1/1-4", NULL);
	g_autofree gchar *ch_port = g_build_filename(ch_dev, "1-4:1.0/ttyUSB10", NULL);
	g_autofree gchar *bad_dev = g_build_filename(root, "devices/pci0000:00/usb1/1-5", NULL);
	g_autofree gchar *bad_port = g_build_filename(bad_dev, "1-5:1.0/ttyUSB2", NULL);
	g_autofree gchar *class_tty = g_build_filename(root, "class/tty", NULL);
	g_autofree gchar *l0 = g_build_filename(class_tty, "ttyUSB0/device", NULL);
	g_autofree gchar *l1 = g_build_filename(class_tty, "ttyACM0/device", NULL);
	g_autofree gchar *l2 = g_build_filename(class_tty, "ttyUSB10/device", NULL);
	g_autofree gchar *l3 = g_build_filename(class_tty, "ttyUSB2/device", NULL);
	g_autofree gchar *other = g_build_filename(class_tty, "ttyS0", NULL);
	g_autoptr(GPtrArray) ports = NULL;
	g_autoptr(GPtrArray) none = NULL;
	g_autoptr(FleetSerialPort) copy = NULL;
	g_autofree gchar *described = NULL;
	FleetSerialPort *p;

	/* a CP2102N with strings, an ESP32-S3 USB CDC port, a CH340 without strings and an
	 * adapter whose product string is hostile */
	make_file(usb_dev, "idVendor", "10c4\n");
	make_file(usb_dev, "idProduct", "ea60\n");
	make_file(usb_dev, "product", "CP2102N USB to UART Bridge Controller\n");
	make_file(usb_dev, "manufacturer", "Silicon Labs\n");
	make_file(usb_dev, "serial", "0001\n");
	make_link(usb_port, l0);
	make_file(acm_dev, "idVendor", "303a\n");
	make_file(acm_dev, "idProduct", "1001\n");
	make_file(acm_if, "interface", "USB JTAG/serial debug unit\n");
	make_link(acm_if, l1);
	make_file(ch_dev, "idVendor", "1a86\n");
	make_file(ch_dev, "idProduct", "7523\n");
	make_link(ch_port, l2);
	make_file(bad_dev, "idVendor", "dead\n");
	make_file(bad_dev, "idProduct", "beef\n");
	make_file(bad_dev, "product", "\033[2Jevil\nproduct");
	make_link(bad_port, l3);
	ck_assert(g_mkdir_with_parents(other, 0755) == 0);

	ports = fleet_serial_ports_list(root, "/dev");
	ck_assert_uint_eq(ports->len, 4);
	/* ACM first, then USB in numeric order */
	p = g_ptr_array_index(ports, 0);
	ck_assert_str_eq(p->path, "/dev/ttyACM0");
	ck_assert_str_eq(p->description, "USB JTAG/serial debug unit");
	ck_assert_uint_eq(p->vid, 0x303a);
	p = g_ptr_array_index(ports, 1);
	ck_assert_str_eq(p->name, "ttyUSB0");
	ck_assert_str_eq(p->description, "CP2102N USB to UART Bridge Controller (Silicon Labs)");
	ck_assert_uint_eq(p->vid, 0x10c4);
	ck_assert_uint_eq(p->pid, 0xea60);
	ck_assert_str_eq(p->serial, "0001");
	described = fleet_serial_port_describe(p);
	ck_assert_str_eq(described,
			 "/dev/ttyUSB0 — CP2102N USB to UART Bridge Controller (Silicon Labs)");
	copy = fleet_serial_port_copy(p);
	ck_assert_str_eq(copy->description, p->description);
	p = g_ptr_array_index(ports, 2);
	ck_assert_str_eq(p->name, "ttyUSB2");
	ck_assert(strchr(p->description, '\033') == NULL);
	p = g_ptr_array_index(ports, 3);
	ck_assert_str_eq(p->name, "ttyUSB10");
	ck_assert_str_eq(p->description, "WCH CH340");

	none = fleet_serial_ports_list("/nonexistent-sysfs", NULL);
	ck_assert_uint_eq(none->len, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log-serial");
	TCase *tc = tcase_create("serial");

	tcase_add_test(tc, test_serial_pty);
	tcase_add_test(tc, test_serial_not_a_tty);
	tcase_add_test(tc, test_port_list);
	suite_add_tcase(s, tc);
	return fleet_check_run(s);
}
