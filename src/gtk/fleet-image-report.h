/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-image-report.h - shows the pre-flight report of one firmware image */
#pragma once

#include <gtk/gtk.h>

#include "fleet-image.h"

G_BEGIN_DECLS

#define FLEET_TYPE_IMAGE_REPORT (fleet_image_report_get_type())
G_DECLARE_FINAL_TYPE(FleetImageReport, fleet_image_report, FLEET, IMAGE_REPORT, GtkBox)

GtkWidget *
fleet_image_report_new(void);
void
fleet_image_report_set_image(FleetImageReport *self, FleetImage *image, GFile *file);

G_END_DECLS
