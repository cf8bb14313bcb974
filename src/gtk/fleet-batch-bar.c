/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-batch-bar.c - under the list: options of the next batch, progress of the running one */

#include "config.h"

#include "fleet-batch-bar.h"

/* the buttons are bound to app.cancel-all, app.retry-failed and app.force in the template:
 * the bar itself decides nothing */

struct _FleetBatchBar {
	GtkBox parent_instance;

	GtkBox *options_box;
	GtkSpinButton *canary_spin;
	GtkSpinButton *failures_spin;
	GtkButton *cancel_button;
	GtkButton *retry_button;
	GtkLabel *progress_label;
	GtkProgressBar *progress_bar;
};

G_DEFINE_TYPE(FleetBatchBar, fleet_batch_bar, GTK_TYPE_BOX)

static void
fleet_batch_bar_class_init(FleetBatchBarClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	gtk_widget_class_set_template_from_resource(
	    widget_class, "/io/github/espfleet/EspFleet/fleet-batch-bar.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetBatchBar, options_box);
	gtk_widget_class_bind_template_child(widget_class, FleetBatchBar, canary_spin);
	gtk_widget_class_bind_template_child(widget_class, FleetBatchBar, failures_spin);
	gtk_widget_class_bind_template_child(widget_class, FleetBatchBar, cancel_button);
	gtk_widget_class_bind_template_child(widget_class, FleetBatchBar, retry_button);
	gtk_widget_class_bind_template_child(widget_class, FleetBatchBar, progress_label);
	gtk_widget_class_bind_template_child(widget_class, FleetBatchBar, progress_bar);
}

static void
fleet_batch_bar_init(FleetBatchBar *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

guint
fleet_batch_bar_get_canary(FleetBatchBar *self)
{
	g_return_val_if_fail(FLEET_IS_BATCH_BAR(self), 0);
	gtk_spin_button_update(self->canary_spin);
	return (guint)gtk_spin_button_get_value_as_int(self->canary_spin);
}

void
fleet_batch_bar_set_canary(FleetBatchBar *self, guint canary)
{
	g_return_if_fail(FLEET_IS_BATCH_BAR(self));
	gtk_spin_button_set_value(self->canary_spin, canary);
}

guint
fleet_batch_bar_get_max_failures(FleetBatchBar *self)
{
	g_return_val_if_fail(FLEET_IS_BATCH_BAR(self), 0);
	gtk_spin_button_update(self->failures_spin);
	return (guint)gtk_spin_button_get_value_as_int(self->failures_spin);
}

void
fleet_batch_bar_set_max_failures(FleetBatchBar *self, guint max_failures)
{
	g_return_if_fail(FLEET_IS_BATCH_BAR(self));
	gtk_spin_button_set_value(self->failures_spin, max_failures);
}

void
fleet_batch_bar_set_running(FleetBatchBar *self, gboolean running)
{
	g_return_if_fail(FLEET_IS_BATCH_BAR(self));
	gtk_widget_set_sensitive(GTK_WIDGET(self->options_box), !running);
	gtk_widget_set_visible(GTK_WIDGET(self->cancel_button), running);
}

void
fleet_batch_bar_set_progress(FleetBatchBar *self, const gchar *text, gdouble fraction)
{
	g_return_if_fail(FLEET_IS_BATCH_BAR(self));
	if (g_strcmp0(gtk_label_get_text(self->progress_label), text != NULL ? text : "") != 0)
		gtk_label_set_text(self->progress_label, text != NULL ? text : "");
	gtk_widget_set_visible(GTK_WIDGET(self->progress_bar), text != NULL && fraction >= 0.0);
	if (fraction >= 0.0)
		gtk_progress_bar_set_fraction(self->progress_bar, CLAMP(fraction, 0.0, 1.0));
}

void
fleet_batch_bar_set_can_retry(FleetBatchBar *self, gboolean can_retry)
{
	g_return_if_fail(FLEET_IS_BATCH_BAR(self));
	gtk_widget_set_visible(GTK_WIDGET(self->retry_button), can_retry);
}

GtkWidget *
fleet_batch_bar_new(void)
{
	return g_object_new(FLEET_TYPE_BATCH_BAR, NULL);
}
