/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-source.c - where log lines come from: the interface every source implements */

#include "config.h"

#include "fleet-log-source.h"

G_DEFINE_INTERFACE(FleetLogSource, fleet_log_source, G_TYPE_OBJECT)

enum { SIGNAL_LINES, N_SIGNALS };
static guint signals[N_SIGNALS];

GType
fleet_log_source_state_get_type(void)
{
	static gsize type = 0;
	if (g_once_init_enter(&type)) {
		static const GEnumValue values[] = {
		    {FLEET_LOG_SOURCE_STATE_STOPPED, "FLEET_LOG_SOURCE_STATE_STOPPED", "stopped"},
		    {FLEET_LOG_SOURCE_STATE_CONNECTING, "FLEET_LOG_SOURCE_STATE_CONNECTING",
		     "connecting"},
		    {FLEET_LOG_SOURCE_STATE_RUNNING, "FLEET_LOG_SOURCE_STATE_RUNNING", "running"},
		    {FLEET_LOG_SOURCE_STATE_WAITING, "FLEET_LOG_SOURCE_STATE_WAITING", "waiting"},
		    {FLEET_LOG_SOURCE_STATE_FAILED, "FLEET_LOG_SOURCE_STATE_FAILED", "failed"},
		    {0, NULL, NULL},
		};
		g_once_init_leave(&type, g_enum_register_static("FleetLogSourceState", values));
	}
	return type;
}

static void
fleet_log_source_default_init(FleetLogSourceInterface *iface)
{
	/**
	 * FleetLogSource::lines:
	 * @lines: (element-type FleetLogLine): new lines, oldest first
	 */
	signals[SIGNAL_LINES] =
	    g_signal_new("lines", G_TYPE_FROM_INTERFACE(iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
	g_object_interface_install_property(
	    iface, g_param_spec_enum("state", NULL, NULL, FLEET_TYPE_LOG_SOURCE_STATE,
				     FLEET_LOG_SOURCE_STATE_STOPPED,
				     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
	g_object_interface_install_property(
	    iface, g_param_spec_string("status", NULL, NULL, NULL,
				       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

void
fleet_log_source_start(FleetLogSource *self)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	FLEET_LOG_SOURCE_GET_IFACE(self)->start(self);
}

void
fleet_log_source_stop(FleetLogSource *self)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	FLEET_LOG_SOURCE_GET_IFACE(self)->stop(self);
}

gchar *
fleet_log_source_describe(FleetLogSource *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), NULL);
	return FLEET_LOG_SOURCE_GET_IFACE(self)->describe(self);
}

FleetLogSourceState
fleet_log_source_get_state(FleetLogSource *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), FLEET_LOG_SOURCE_STATE_STOPPED);
	return FLEET_LOG_SOURCE_GET_IFACE(self)->get_state(self);
}

const gchar *
fleet_log_source_get_status(FleetLogSource *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), NULL);
	return FLEET_LOG_SOURCE_GET_IFACE(self)->get_status(self);
}

const gchar *
fleet_log_source_get_device_id(FleetLogSource *self)
{
	FleetLogSourceInterface *iface;
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), NULL);
	iface = FLEET_LOG_SOURCE_GET_IFACE(self);
	return iface->get_device_id != NULL ? iface->get_device_id(self) : NULL;
}

void
fleet_log_source_emit_lines(FleetLogSource *self, GPtrArray *lines)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	g_return_if_fail(lines != NULL);
	if (lines->len == 0)
		return;
	g_signal_emit(self, signals[SIGNAL_LINES], 0, lines);
}

void
fleet_log_source_emit_event(FleetLogSource *self,
			    const gchar *device_id,
			    FleetLogLevel level,
			    const gchar *text)
{
	g_autoptr(GPtrArray) lines =
	    g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	g_ptr_array_add(lines, fleet_log_line_new_event(device_id, g_get_real_time(),
							FLEET_LOG_LINE_KIND_EVENT, level, text));
	fleet_log_source_emit_lines(self, lines);
}

void
fleet_log_source_status_set(FleetLogSource *self,
			    FleetLogSourceStatus *status,
			    FleetLogSourceState state,
			    const gchar *message)
{
	gboolean state_changed = status->state != state;
	gboolean status_changed = g_strcmp0(status->status, message) != 0;

	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	status->state = state;
	if (status_changed) {
		g_free(status->status);
		status->status = g_strdup(message);
	}
	if (state_changed)
		g_object_notify(G_OBJECT(self), "state");
	if (status_changed)
		g_object_notify(G_OBJECT(self), "status");
}

void
fleet_log_source_status_clear(FleetLogSourceStatus *status)
{
	g_clear_pointer(&status->status, g_free);
	status->state = FLEET_LOG_SOURCE_STATE_STOPPED;
}
