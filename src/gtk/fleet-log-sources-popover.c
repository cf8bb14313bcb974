/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-sources-popover.c - the log viewer's "add a source" popover */

#include "config.h"

#include "fleet-log-sources-popover.h"

#include <glib/gi18n.h>

#include "fleet-log-source-serial.h"
#include "fleet-log-source-syslog.h"
#include "fleet-log-source-tcp.h"
#include "fleet-log-view-resources.h"
#include "fleet-serial-ports.h"

struct _FleetLogSourcesPopover {
	GtkPopover parent_instance;
	FleetLogHub *hub;
	FleetLogSourceSyslog *syslog; /* the receiver started here, while it runs */

	GtkComboBoxText *serial_port_combo;
	GtkComboBoxText *serial_open_baud_combo;
	GtkEntry *tcp_entry;
	GtkSpinButton *syslog_port_spin;
	GtkButton *syslog_button;
	GtkLabel *sources_error_label;
};

G_DEFINE_TYPE(FleetLogSourcesPopover, fleet_log_sources_popover, GTK_TYPE_POPOVER)

enum { SIGNAL_SOURCE_ADDED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
fleet_log_sources_popover_error(FleetLogSourcesPopover *self, const gchar *text)
{
	gtk_label_set_text(self->sources_error_label, text != NULL ? text : "");
	gtk_widget_set_visible(GTK_WIDGET(self->sources_error_label), text != NULL);
}

static void
fleet_log_sources_popover_done(FleetLogSourcesPopover *self, FleetLogSource *source)
{
	fleet_log_sources_popover_error(self, NULL);
	gtk_popover_popdown(GTK_POPOVER(self));
	g_signal_emit(self, signals[SIGNAL_SOURCE_ADDED], 0, source);
}

/* the ports are looked up each time the popover opens: adapters come and go */
static void
fleet_log_sources_popover_map(GtkWidget *widget)
{
	FleetLogSourcesPopover *self = FLEET_LOG_SOURCES_POPOVER(widget);
	g_autoptr(GPtrArray) ports = fleet_serial_ports_list(NULL, NULL);

	fleet_log_sources_popover_error(self, NULL);
	gtk_combo_box_text_remove_all(self->serial_port_combo);
	for (guint i = 0; i < ports->len; i++) {
		FleetSerialPort *port = g_ptr_array_index(ports, i);
		g_autofree gchar *text = fleet_serial_port_describe(port);
		gtk_combo_box_text_append(self->serial_port_combo, port->path, text);
	}
	if (ports->len == 0)
		gtk_combo_box_text_append(self->serial_port_combo, NULL,
					  _("No USB serial port found"));
	gtk_combo_box_set_active(GTK_COMBO_BOX(self->serial_port_combo), 0);
	gtk_widget_set_sensitive(GTK_WIDGET(self->serial_port_combo), ports->len > 0);
	gtk_button_set_label(self->syslog_button, self->syslog != NULL ? _("_Stop") : _("_Listen"));
	GTK_WIDGET_CLASS(fleet_log_sources_popover_parent_class)->map(widget);
}

static void
fleet_log_sources_popover_serial_open_button_clicked_cb(GtkButton *button, gpointer user_data)
{
	FleetLogSourcesPopover *self = FLEET_LOG_SOURCES_POPOVER(user_data);
	const gchar *path = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->serial_port_combo));
	const gchar *baud_text =
	    gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(self->serial_open_baud_combo))));
	g_autoptr(FleetLogSourceSerial) serial = NULL;
	g_autofree gchar *id = NULL;
	guint64 baud = 0;

	if (self->hub == NULL)
		return;
	if (path == NULL) {
		fleet_log_sources_popover_error(self, _("No USB serial port found"));
		return;
	}
	if (!g_ascii_string_to_unsigned(baud_text, 10, 50, 20000000, &baud, NULL)) {
		fleet_log_sources_popover_error(self, _("The baud rate is not a number"));
		return;
	}
	id = fleet_log_source_serial_id_for_path(path);
	if (fleet_log_hub_find_source(self->hub, id) == NULL) {
		serial = fleet_log_source_serial_new(path, (guint)baud, NULL);
		fleet_log_hub_add_source(self->hub, FLEET_LOG_SOURCE(serial));
		if (fleet_log_source_get_state(FLEET_LOG_SOURCE(serial)) ==
		    FLEET_LOG_SOURCE_STATE_FAILED) {
			fleet_log_sources_popover_error(
			    self, fleet_log_source_get_status(FLEET_LOG_SOURCE(serial)));
			fleet_log_hub_remove_source(self->hub, FLEET_LOG_SOURCE(serial));
			return;
		}
	}
	fleet_log_sources_popover_done(self, fleet_log_hub_find_source(self->hub, id));
}

static void
fleet_log_sources_popover_tcp_button_clicked_cb(GtkButton *button, gpointer user_data)
{
	FleetLogSourcesPopover *self = FLEET_LOG_SOURCES_POPOVER(user_data);
	g_autofree gchar *text = g_strstrip(g_strdup(gtk_entry_get_text(self->tcp_entry)));
	g_autoptr(GSocketConnectable) address = NULL;
	g_autoptr(FleetLogSourceTcp) tcp = NULL;
	g_autofree gchar *id = NULL;
	const gchar *host;
	guint16 port;

	if (self->hub == NULL)
		return;
	/* port 23 when none is given: the telnet loggers */
	address = g_network_address_parse(text, 23, NULL);
	if (address == NULL || g_network_address_get_hostname(G_NETWORK_ADDRESS(address)) == NULL) {
		fleet_log_sources_popover_error(self, _("Give an address as host:port"));
		return;
	}
	host = g_network_address_get_hostname(G_NETWORK_ADDRESS(address));
	port = g_network_address_get_port(G_NETWORK_ADDRESS(address));
	id = g_strdup_printf("addr:%s:%u", host, (guint)port);
	if (fleet_log_hub_find_source(self->hub, id) == NULL) {
		tcp = fleet_log_source_tcp_new(id, host, port);
		fleet_log_hub_add_source(self->hub, FLEET_LOG_SOURCE(tcp));
	}
	fleet_log_sources_popover_done(self, fleet_log_hub_find_source(self->hub, id));
}

static void
fleet_log_sources_popover_tcp_entry_activate_cb(GtkEntry *entry, gpointer user_data)
{
	fleet_log_sources_popover_tcp_button_clicked_cb(NULL, user_data);
}

static void
fleet_log_sources_popover_stop_syslog(FleetLogSourcesPopover *self)
{
	if (self->syslog == NULL)
		return;
	if (self->hub != NULL)
		fleet_log_hub_remove_source(self->hub, FLEET_LOG_SOURCE(self->syslog));
	g_clear_object(&self->syslog);
}

static void
fleet_log_sources_popover_syslog_button_clicked_cb(GtkButton *button, gpointer user_data)
{
	FleetLogSourcesPopover *self = FLEET_LOG_SOURCES_POPOVER(user_data);
	guint port = (guint)gtk_spin_button_get_value_as_int(self->syslog_port_spin);

	if (self->hub == NULL)
		return;
	if (self->syslog != NULL) {
		fleet_log_sources_popover_stop_syslog(self);
		gtk_button_set_label(self->syslog_button, _("_Listen"));
		return;
	}
	self->syslog =
	    fleet_log_source_syslog_new(NULL, (guint16)port, fleet_log_hub_get_devices(self->hub));
	fleet_log_hub_add_source(self->hub, FLEET_LOG_SOURCE(self->syslog));
	if (fleet_log_source_get_state(FLEET_LOG_SOURCE(self->syslog)) ==
	    FLEET_LOG_SOURCE_STATE_FAILED) {
		fleet_log_sources_popover_error(
		    self, fleet_log_source_get_status(FLEET_LOG_SOURCE(self->syslog)));
		fleet_log_sources_popover_stop_syslog(self);
		return;
	}
	gtk_button_set_label(self->syslog_button, _("_Stop"));
	fleet_log_sources_popover_done(self, FLEET_LOG_SOURCE(self->syslog));
}

void
fleet_log_sources_popover_set_hub(FleetLogSourcesPopover *self, FleetLogHub *hub)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCES_POPOVER(self));
	g_return_if_fail(hub == NULL || FLEET_IS_LOG_HUB(hub));
	if (self->hub == hub)
		return;
	fleet_log_sources_popover_stop_syslog(self);
	g_set_object(&self->hub, hub);
}

static void
fleet_log_sources_popover_dispose(GObject *object)
{
	FleetLogSourcesPopover *self = FLEET_LOG_SOURCES_POPOVER(object);
	fleet_log_sources_popover_stop_syslog(self);
	g_clear_object(&self->hub);
	G_OBJECT_CLASS(fleet_log_sources_popover_parent_class)->dispose(object);
}

static void
fleet_log_sources_popover_class_init(FleetLogSourcesPopoverClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	g_autoptr(GBytes) template = NULL;

	object_class->dispose = fleet_log_sources_popover_dispose;
	widget_class->map = fleet_log_sources_popover_map;
	signals[SIGNAL_SOURCE_ADDED] =
	    g_signal_new("source-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 1, FLEET_TYPE_LOG_SOURCE);

	/* in the log view's own resource, like the view */
	template =
	    g_resource_lookup_data(fleet_log_view_resources_get_resource(),
				   "/io/github/espfleet/EspFleet/fleet-log-sources-popover.ui",
				   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
	gtk_widget_class_set_template(widget_class, template);
	gtk_widget_class_bind_template_child(widget_class, FleetLogSourcesPopover,
					     serial_port_combo);
	gtk_widget_class_bind_template_child(widget_class, FleetLogSourcesPopover,
					     serial_open_baud_combo);
	gtk_widget_class_bind_template_child(widget_class, FleetLogSourcesPopover, tcp_entry);
	gtk_widget_class_bind_template_child(widget_class, FleetLogSourcesPopover,
					     syslog_port_spin);
	gtk_widget_class_bind_template_child(widget_class, FleetLogSourcesPopover, syslog_button);
	gtk_widget_class_bind_template_child(widget_class, FleetLogSourcesPopover,
					     sources_error_label);
	gtk_widget_class_bind_template_callback(
	    widget_class, fleet_log_sources_popover_serial_open_button_clicked_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_log_sources_popover_tcp_button_clicked_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_log_sources_popover_tcp_entry_activate_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_log_sources_popover_syslog_button_clicked_cb);
}

static void
fleet_log_sources_popover_init(FleetLogSourcesPopover *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}
