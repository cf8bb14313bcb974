/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-serial-ports.c - the USB serial ports of this machine, named from sysfs */

#include "config.h"

#include "fleet-serial-ports.h"

#include <stdlib.h>
#include <string.h>

#include "fleet-text.h"

/* how far above the tty's device the USB device may be (port → interface → device) */
#define FLEET_SERIAL_SYSFS_DEPTH 4
#define FLEET_SERIAL_STRING_MAX 80

G_DEFINE_BOXED_TYPE(FleetSerialPort,
		    fleet_serial_port,
		    fleet_serial_port_copy,
		    fleet_serial_port_free)

/* the bridges ESP boards carry, for adapters that give no product string */
static const struct {
	guint16 vid;
	guint16 pid;
	const gchar *name;
} fleet_serial_known[] = {
    {0x10c4, 0xea60, "Silicon Labs CP210x"},
    {0x1a86, 0x7523, "WCH CH340"},
    {0x1a86, 0x55d4, "WCH CH9102"},
    {0x0403, 0x6001, "FTDI FT232R"},
    {0x0403, 0x6010, "FTDI FT2232"},
    {0x0403, 0x6015, "FTDI FT-X"},
    {0x303a, 0x1001, "Espressif USB JTAG/serial"},
    {0x303a, 0x0002, "Espressif USB CDC"},
    {0x067b, 0x2303, "Prolific PL2303"},
};

FleetSerialPort *
fleet_serial_port_copy(const FleetSerialPort *port)
{
	FleetSerialPort *copy;
	g_return_val_if_fail(port != NULL, NULL);
	copy = g_new0(FleetSerialPort, 1);
	copy->path = g_strdup(port->path);
	copy->name = g_strdup(port->name);
	copy->description = g_strdup(port->description);
	copy->vid = port->vid;
	copy->pid = port->pid;
	copy->serial = g_strdup(port->serial);
	return copy;
}

void
fleet_serial_port_free(FleetSerialPort *port)
{
	if (port == NULL)
		return;
	g_free(port->path);
	g_free(port->name);
	g_free(port->description);
	g_free(port->serial);
	g_free(port);
}

gchar *
fleet_serial_port_describe(const FleetSerialPort *port)
{
	g_return_val_if_fail(port != NULL, NULL);
	if (port->description == NULL)
		return g_strdup(port->path);
	return g_strdup_printf("%s — %s", port->path, port->description);
}

/* one line of a sysfs attribute, sanitised; NULL when absent or empty */
static gchar *
fleet_serial_read_attr(const gchar *dir, const gchar *attr)
{
	g_autofree gchar *path = g_build_filename(dir, attr, NULL);
	g_autofree gchar *contents = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &contents, &len, NULL))
		return NULL;
	g_strstrip(contents);
	if (contents[0] == '\0')
		return NULL;
	return fleet_text_sanitize(contents, -1, FLEET_SERIAL_STRING_MAX);
}

static guint16
fleet_serial_read_hex(const gchar *dir, const gchar *attr)
{
	g_autofree gchar *text = fleet_serial_read_attr(dir, attr);
	guint64 v = 0;
	if (text == NULL || !g_ascii_string_to_unsigned(text, 16, 0, 0xffff, &v, NULL))
		return 0;
	return (guint16)v;
}

static void
fleet_serial_fill_usb(FleetSerialPort *port, const gchar *sysfs_tty)
{
	g_autofree gchar *link = g_build_filename(sysfs_tty, "device", NULL);
	g_autofree gchar *dir = realpath(link, NULL);
	g_autofree gchar *interface = NULL;
	g_autofree gchar *product = NULL;
	g_autofree gchar *manufacturer = NULL;

	for (guint depth = 0; dir != NULL && depth < FLEET_SERIAL_SYSFS_DEPTH; depth++) {
		g_autofree gchar *vid_path = g_build_filename(dir, "idVendor", NULL);
		g_autofree gchar *parent = NULL;
		if (interface == NULL)
			interface = fleet_serial_read_attr(dir, "interface");
		if (g_file_test(vid_path, G_FILE_TEST_IS_REGULAR)) {
			port->vid = fleet_serial_read_hex(dir, "idVendor");
			port->pid = fleet_serial_read_hex(dir, "idProduct");
			product = fleet_serial_read_attr(dir, "product");
			manufacturer = fleet_serial_read_attr(dir, "manufacturer");
			port->serial = fleet_serial_read_attr(dir, "serial");
			break;
		}
		parent = g_path_get_dirname(dir);
		g_free(dir);
		dir = g_steal_pointer(&parent);
	}
	if (product == NULL && interface != NULL)
		product = g_steal_pointer(&interface);
	if (product == NULL) {
		for (guint i = 0; i < G_N_ELEMENTS(fleet_serial_known); i++) {
			if (fleet_serial_known[i].vid == port->vid &&
			    fleet_serial_known[i].pid == port->pid)
				product = g_strdup(fleet_serial_known[i].name);
		}
	}
	if (product != NULL && manufacturer != NULL && strstr(product, manufacturer) == NULL)
		port->description = g_strdup_printf("%s (%s)", product, manufacturer);
	else if (product != NULL)
		port->description = g_steal_pointer(&product);
	else if (port->vid != 0)
		port->description = g_strdup_printf("USB %04x:%04x", port->vid, port->pid);
}

static gint
fleet_serial_port_compare(gconstpointer a, gconstpointer b)
{
	const FleetSerialPort *pa = *(FleetSerialPort *const *)a;
	const FleetSerialPort *pb = *(FleetSerialPort *const *)b;
	/* ttyUSB2 before ttyUSB10 */
	gsize la = strlen(pa->name);
	gsize lb = strlen(pb->name);
	gint prefix = strncmp(pa->name, pb->name, 6);
	if (prefix != 0)
		return prefix;
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(pa->name, pb->name);
}

GPtrArray *
fleet_serial_ports_list(const gchar *sysfs_root, const gchar *dev_root)
{
	g_autoptr(GPtrArray) ports =
	    g_ptr_array_new_with_free_func((GDestroyNotify)fleet_serial_port_free);
	g_autofree gchar *class_dir =
	    g_build_filename(sysfs_root != NULL ? sysfs_root : "/sys", "class", "tty", NULL);
	g_autoptr(GDir) dir = g_dir_open(class_dir, 0, NULL);
	const gchar *name;

	if (dir == NULL)
		return g_steal_pointer(&ports);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *sysfs_tty = NULL;
		FleetSerialPort *port;
		if (!g_str_has_prefix(name, "ttyUSB") && !g_str_has_prefix(name, "ttyACM"))
			continue;
		port = g_new0(FleetSerialPort, 1);
		port->name = fleet_text_sanitize(name, -1, FLEET_SERIAL_STRING_MAX);
		port->path =
		    g_build_filename(dev_root != NULL ? dev_root : "/dev", port->name, NULL);
		sysfs_tty = g_build_filename(class_dir, name, NULL);
		fleet_serial_fill_usb(port, sysfs_tty);
		g_ptr_array_add(ports, port);
	}
	g_ptr_array_sort(ports, fleet_serial_port_compare);
	return g_steal_pointer(&ports);
}
