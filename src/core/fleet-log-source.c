/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-source.c - where log lines come from: the base class of every source */

#include "config.h"

#include <glib/gi18n.h>

#include "fleet-log-source-private.h"
#include "fleet-log-splitter.h"

typedef struct {
	FleetLogSourceState state;
	gchar *status;

	/* a byte stream */
	FleetLogSplitter *splitter;
	GPtrArray *batch; /* lines of the read in progress */
	GSource *partial_source;
	guint partial_ms;

	/* reconnecting */
	guint retry_id;
	gboolean failing; /* a failure was marked; later ones are quiet */
} FleetLogSourcePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(FleetLogSource, fleet_log_source, G_TYPE_OBJECT)

#define GET_PRIVATE(o) ((FleetLogSourcePrivate *)fleet_log_source_get_instance_private(o))

enum {
	PROP_0,
	PROP_STATE,
	PROP_STATUS,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

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

void
fleet_log_source_start(FleetLogSource *self)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	FLEET_LOG_SOURCE_GET_CLASS(self)->start(self);
}

void
fleet_log_source_stop(FleetLogSource *self)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	FLEET_LOG_SOURCE_GET_CLASS(self)->stop(self);
}

gchar *
fleet_log_source_describe(FleetLogSource *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), NULL);
	return FLEET_LOG_SOURCE_GET_CLASS(self)->describe(self);
}

FleetLogSourceState
fleet_log_source_get_state(FleetLogSource *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), FLEET_LOG_SOURCE_STATE_STOPPED);
	return GET_PRIVATE(self)->state;
}

const gchar *
fleet_log_source_get_status(FleetLogSource *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), NULL);
	return GET_PRIVATE(self)->status;
}

const gchar *
fleet_log_source_get_device_id(FleetLogSource *self)
{
	FleetLogSourceClass *klass;
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), NULL);
	klass = FLEET_LOG_SOURCE_GET_CLASS(self);
	return klass->get_device_id != NULL ? klass->get_device_id(self) : NULL;
}

void
fleet_log_source_set_state(FleetLogSource *self, FleetLogSourceState state, const gchar *message)
{
	FleetLogSourcePrivate *priv;
	gboolean state_changed;
	gboolean status_changed;

	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	priv = GET_PRIVATE(self);
	state_changed = priv->state != state;
	status_changed = g_strcmp0(priv->status, message) != 0;
	priv->state = state;
	if (status_changed) {
		g_free(priv->status);
		priv->status = g_strdup(message);
	}
	if (state_changed)
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
	if (status_changed)
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATUS]);
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
fleet_log_source_mark(FleetLogSource *self, FleetLogLevel level, const gchar *text)
{
	fleet_log_source_emit_event(self, fleet_log_source_get_device_id(self), level, text);
}

static void
fleet_log_source_line_cb(const guint8 *data, gsize len, gpointer user_data)
{
	FleetLogSource *self = FLEET_LOG_SOURCE(user_data);
	FleetLogLine *line = fleet_log_line_parse(fleet_log_source_get_device_id(self),
						  g_get_real_time(), data, len);
	FLEET_LOG_SOURCE_GET_CLASS(self)->add_line(self, line);
}

static void
fleet_log_source_real_add_line(FleetLogSource *self, FleetLogLine *line)
{
	g_ptr_array_add(GET_PRIVATE(self)->batch, line);
}

static void
fleet_log_source_emit_batch(FleetLogSource *self)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) batch = NULL;
	if (priv->batch->len == 0)
		return;
	batch = g_steal_pointer(&priv->batch);
	priv->batch = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
	fleet_log_source_emit_lines(self, batch);
}

static gboolean
fleet_log_source_partial_cb(gpointer user_data)
{
	FleetLogSource *self = FLEET_LOG_SOURCE(user_data);
	g_source_set_ready_time(GET_PRIVATE(self)->partial_source, -1);
	fleet_log_source_input_flush(self);
	return G_SOURCE_CONTINUE;
}

void
fleet_log_source_input_open(FleetLogSource *self, gboolean telnet)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	g_clear_pointer(&priv->splitter, fleet_log_splitter_free);
	priv->splitter = fleet_log_splitter_new(telnet);
	if (priv->partial_source == NULL) {
		priv->partial_source = g_timeout_source_new(G_MAXUINT);
		g_source_set_ready_time(priv->partial_source, -1);
		g_source_set_callback(priv->partial_source, fleet_log_source_partial_cb, self,
				      NULL);
		g_source_attach(priv->partial_source, g_main_context_get_thread_default());
	}
}

void
fleet_log_source_input_feed(FleetLogSource *self, const guint8 *data, gsize len, GByteArray *reply)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	g_return_if_fail(priv->splitter != NULL);
	fleet_log_splitter_feed(priv->splitter, data, len, reply, fleet_log_source_line_cb, self);
}

void
fleet_log_source_input_read_done(FleetLogSource *self)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	fleet_log_source_emit_batch(self);
	if (priv->splitter != NULL && priv->partial_source != NULL && priv->partial_ms > 0 &&
	    fleet_log_splitter_get_pending(priv->splitter) > 0)
		g_source_set_ready_time(priv->partial_source,
					g_get_monotonic_time() + (gint64)priv->partial_ms * 1000);
}

void
fleet_log_source_input_flush(FleetLogSource *self)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	if (priv->splitter != NULL)
		fleet_log_splitter_flush(priv->splitter, fleet_log_source_line_cb, self);
	fleet_log_source_emit_batch(self);
}

void
fleet_log_source_input_close(FleetLogSource *self)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	if (priv->partial_source != NULL)
		g_source_set_ready_time(priv->partial_source, -1);
}

void
fleet_log_source_set_partial_timeout(FleetLogSource *self, guint ms)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	GET_PRIVATE(self)->partial_ms = ms;
}

static gboolean
fleet_log_source_retry_cb(gpointer user_data)
{
	FleetLogSource *self = FLEET_LOG_SOURCE(user_data);
	GET_PRIVATE(self)->retry_id = 0;
	FLEET_LOG_SOURCE_GET_CLASS(self)->reconnect(self);
	return G_SOURCE_REMOVE;
}

void
fleet_log_source_retry_after(FleetLogSource *self, guint ms)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	g_return_if_fail(FLEET_LOG_SOURCE_GET_CLASS(self)->reconnect != NULL);
	g_clear_handle_id(&priv->retry_id, g_source_remove);
	priv->retry_id = g_timeout_add(ms, fleet_log_source_retry_cb, self);
}

void
fleet_log_source_retry_cancel(FleetLogSource *self)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	g_clear_handle_id(&GET_PRIVATE(self)->retry_id, g_source_remove);
}

gboolean
fleet_log_source_retry_pending(FleetLogSource *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), FALSE);
	return GET_PRIVATE(self)->retry_id != 0;
}

void
fleet_log_source_mark_lost(FleetLogSource *self, const gchar *reason)
{
	g_autofree gchar *text = NULL;
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	/* TRANSLATORS: marks the place in a device's or a serial port's log where its
	 * connection ended; %s says why */
	text = g_strdup_printf(_("disconnected: %s"), reason);
	fleet_log_source_mark(self, FLEET_LOG_LEVEL_WARN, text);
	GET_PRIVATE(self)->failing = TRUE;
}

void
fleet_log_source_mark_failure(FleetLogSource *self, const gchar *text)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(FLEET_IS_LOG_SOURCE(self));
	if (priv->failing)
		return;
	fleet_log_source_mark(self, FLEET_LOG_LEVEL_WARN, text);
	priv->failing = TRUE;
}

gboolean
fleet_log_source_clear_failure(FleetLogSource *self)
{
	FleetLogSourcePrivate *priv;
	gboolean failing;
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE(self), FALSE);
	priv = GET_PRIVATE(self);
	failing = priv->failing;
	priv->failing = FALSE;
	return failing;
}

static void
fleet_log_source_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(FLEET_LOG_SOURCE(object));
	switch (prop_id) {
	case PROP_STATE:
		g_value_set_enum(value, priv->state);
		break;
	case PROP_STATUS:
		g_value_set_string(value, priv->status);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
fleet_log_source_dispose(GObject *object)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(FLEET_LOG_SOURCE(object));
	g_clear_handle_id(&priv->retry_id, g_source_remove);
	if (priv->partial_source != NULL) {
		g_source_destroy(priv->partial_source);
		g_clear_pointer(&priv->partial_source, g_source_unref);
	}
	G_OBJECT_CLASS(fleet_log_source_parent_class)->dispose(object);
}

static void
fleet_log_source_finalize(GObject *object)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(FLEET_LOG_SOURCE(object));
	g_free(priv->status);
	g_clear_pointer(&priv->splitter, fleet_log_splitter_free);
	g_ptr_array_unref(priv->batch);
	G_OBJECT_CLASS(fleet_log_source_parent_class)->finalize(object);
}

static void
fleet_log_source_class_init(FleetLogSourceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = fleet_log_source_get_property;
	object_class->dispose = fleet_log_source_dispose;
	object_class->finalize = fleet_log_source_finalize;
	klass->add_line = fleet_log_source_real_add_line;

	props[PROP_STATE] = g_param_spec_enum("state", NULL, NULL, FLEET_TYPE_LOG_SOURCE_STATE,
					      FLEET_LOG_SOURCE_STATE_STOPPED,
					      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_STATUS] = g_param_spec_string("status", NULL, NULL, NULL,
						 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * FleetLogSource::lines:
	 * @lines: (element-type FleetLogLine): new lines, oldest first
	 */
	signals[SIGNAL_LINES] = g_signal_new("lines", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
}

static void
fleet_log_source_init(FleetLogSource *self)
{
	FleetLogSourcePrivate *priv = GET_PRIVATE(self);
	priv->partial_ms = 1000;
	priv->batch = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
}
