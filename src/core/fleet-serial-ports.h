/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-serial-ports.h - the USB serial ports of this machine (/dev/ttyUSB*, /dev/ttyACM*)
 * with the names of their USB adapters, read from sysfs
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * FleetSerialPort:
 * @path: "/dev/ttyUSB0"
 * @name: "ttyUSB0"
 * @description: (nullable): "CP2102N USB to UART Bridge Controller (Silicon Labs)"
 * @vid: USB vendor id, 0 when unknown
 * @pid: USB product id
 * @serial: (nullable): the adapter's serial number
 *
 * Strings read from the adapter are sanitised.
 */
typedef struct {
	gchar *path;
	gchar *name;
	gchar *description;
	guint16 vid;
	guint16 pid;
	gchar *serial;
} FleetSerialPort;

#define FLEET_TYPE_SERIAL_PORT (fleet_serial_port_get_type())
GType
fleet_serial_port_get_type(void);

FleetSerialPort *
fleet_serial_port_copy(const FleetSerialPort *port);
void
fleet_serial_port_free(FleetSerialPort *port);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetSerialPort, fleet_serial_port_free)

/* "/dev/ttyUSB0 — CP2102N USB to UART Bridge Controller (Silicon Labs)" */
gchar *
fleet_serial_port_describe(const FleetSerialPort *port);

/**
 * fleet_serial_ports_list:
 * @sysfs_root: (nullable): where sysfs is mounted, NULL for "/sys" (tests give a fake tree)
 * @dev_root: (nullable): where the device nodes are, NULL for "/dev"
 *
 * Returns: (transfer full) (element-type FleetSerialPort): the ports sorted by name; empty
 * when there are none
 */
GPtrArray *
fleet_serial_ports_list(const gchar *sysfs_root, const gchar *dev_root);

G_END_DECLS
