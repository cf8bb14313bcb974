/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c - espfleet entry point: gettext set-up, then the application */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "fleet-application.h"

int
main(int argc, char **argv)
{
	g_autoptr(FleetApplication) app = NULL;
	/* ./run points this at the build tree so that uninstalled runs are translated */
	const gchar *localedir = g_getenv("ESPFLEET_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	app = fleet_application_new();
	return g_application_run(G_APPLICATION(app), argc, argv);
}
