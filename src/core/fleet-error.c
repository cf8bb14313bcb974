/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-error.c - the FLEET_ERROR domain */

#include "config.h"

#include <gio/gio.h>

#include "fleet-error.h"

G_DEFINE_QUARK(fleet-error-quark, fleet_error)

static FleetError
fleet_error_from_io(gint code)
{
	switch (code) {
	case G_IO_ERROR_NOT_FOUND:
		return FLEET_ERROR_NOT_FOUND;
	case G_IO_ERROR_NOT_SUPPORTED:
		return FLEET_ERROR_NOT_SUPPORTED;
	case G_IO_ERROR_INVALID_DATA:
		return FLEET_ERROR_INVALID_DATA;
	case G_IO_ERROR_TIMED_OUT:
		return FLEET_ERROR_TIMED_OUT;
	case G_IO_ERROR_BUSY:
		return FLEET_ERROR_DEVICE_BUSY;
	case G_IO_ERROR_PERMISSION_DENIED:
	case G_IO_ERROR_IS_DIRECTORY:
	case G_IO_ERROR_NOT_REGULAR_FILE:
		return FLEET_ERROR_READ;
	case G_IO_ERROR_CONNECTION_REFUSED:
	case G_IO_ERROR_HOST_UNREACHABLE:
	case G_IO_ERROR_NETWORK_UNREACHABLE:
	case G_IO_ERROR_BROKEN_PIPE:
	case G_IO_ERROR_HOST_NOT_FOUND:
	case G_IO_ERROR_ADDRESS_IN_USE:
		return FLEET_ERROR_NETWORK;
	default:
		return FLEET_ERROR_INTERNAL;
	}
}

static FleetError
fleet_error_from_file(gint code)
{
	switch (code) {
	case G_FILE_ERROR_NOENT:
		return FLEET_ERROR_NOT_FOUND;
	case G_FILE_ERROR_ACCES:
	case G_FILE_ERROR_PERM:
	case G_FILE_ERROR_ISDIR:
	case G_FILE_ERROR_IO:
		return FLEET_ERROR_READ;
	default:
		return FLEET_ERROR_INTERNAL;
	}
}

void
fleet_error_convert(GError **error)
{
	if (error == NULL || *error == NULL)
		return;
	if ((*error)->domain == FLEET_ERROR)
		return;
	if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if ((*error)->domain == G_IO_ERROR) {
		(*error)->code = fleet_error_from_io((*error)->code);
		(*error)->domain = FLEET_ERROR;
		return;
	}
	if ((*error)->domain == G_FILE_ERROR) {
		(*error)->code = fleet_error_from_file((*error)->code);
		(*error)->domain = FLEET_ERROR;
		return;
	}
	(*error)->code = FLEET_ERROR_INTERNAL;
	(*error)->domain = FLEET_ERROR;
}
