/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-source-serial.h - a local serial port (/dev/ttyUSB0, /dev/ttyACM0): 8N1 at a
 * chosen baud rate, DTR/RTS control and the RTS/DTR reset of ESP boards; when the adapter
 * is unplugged it waits for it to come back and carries on
 */
#pragma once

#include "fleet-log-source.h"

G_BEGIN_DECLS

#define FLEET_LOG_SERIAL_BAUD_DEFAULT 115200
/* how often a port that went away is looked for */
#define FLEET_LOG_SERIAL_REOPEN_MS 500
/* how long EN is held low by a reset */
#define FLEET_LOG_SERIAL_RESET_MS 100

#define FLEET_TYPE_LOG_SOURCE_SERIAL (fleet_log_source_serial_get_type())
G_DECLARE_FINAL_TYPE(FleetLogSourceSerial,
		     fleet_log_source_serial,
		     FLEET,
		     LOG_SOURCE_SERIAL,
		     FleetLogSource)

/**
 * fleet_log_source_serial_new:
 * @path: the device node, e.g. "/dev/ttyUSB0"
 * @baud: bits per second (any rate the adapter supports, e.g. 74880)
 * @device_id: (nullable): the id its lines carry, NULL for "serial:PATH"
 */
FleetLogSourceSerial *
fleet_log_source_serial_new(const gchar *path, guint baud, const gchar *device_id);

/* "serial:/dev/ttyUSB0" */
gchar *
fleet_log_source_serial_id_for_path(const gchar *path);

const gchar *
fleet_log_source_serial_get_path(FleetLogSourceSerial *self);
const gchar *
fleet_log_source_serial_get_device_id(FleetLogSourceSerial *self);
guint
fleet_log_source_serial_get_baud(FleetLogSourceSerial *self);
/* applies at once when the port is open; FLEET_ERROR_NOT_SUPPORTED for a rate the port
 * refuses */
gboolean
fleet_log_source_serial_set_baud(FleetLogSourceSerial *self, guint baud, GError **error);

/* the levels of DTR and RTS while monitoring (both off by default: on ESP boards with the
 * usual auto-reset circuit that lets the chip run) */
gboolean
fleet_log_source_serial_set_modem_lines(FleetLogSourceSerial *self,
					gboolean dtr,
					gboolean rts,
					GError **error);
gboolean
fleet_log_source_serial_get_dtr(FleetLogSourceSerial *self);
gboolean
fleet_log_source_serial_get_rts(FleetLogSourceSerial *self);

/**
 * fleet_log_source_serial_reset_device:
 *
 * Resets an ESP board the way esptool and idf.py monitor do: DTR off (GPIO0 high, so the
 * chip boots its app), RTS on (EN low) for FLEET_LOG_SERIAL_RESET_MS, then back. Marks the
 * reset in the log.
 *
 * Returns: FALSE with FLEET_ERROR_NOT_SUPPORTED when the port is not open or has no modem
 * control lines
 */
gboolean
fleet_log_source_serial_reset_device(FleetLogSourceSerial *self, GError **error);

/* times the port was opened */
guint
fleet_log_source_serial_get_n_opens(FleetLogSourceSerial *self);

G_END_DECLS
