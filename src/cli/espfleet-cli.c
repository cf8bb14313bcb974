/* SPDX-License-Identifier: GPL-3.0-or-later */
/* espfleet-cli.c - headless front end on libfleet-core */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "fleet-cli.h"
#include "fleet-text.h"

typedef int (*FleetCliCommandFunc)(FleetCli *cli, int argc, char **argv);

typedef struct {
	const gchar *name;
	const gchar *args;
	const gchar *summary;
	FleetCliCommandFunc func;
} FleetCliCommand;

int
fleet_cli_usage_error(GOptionContext *context, const gchar *message)
{
	g_autofree gchar *help = g_option_context_get_help(context, TRUE, NULL);
	g_printerr("espfleet-cli: %s\n\n%s", message, help);
	return FLEET_CLI_EXIT_USAGE;
}

static const FleetCliCommand commands[] = {
    {"discover", N_("[--timeout S] [--watch] [--json]"),
     N_("List the devices that announce themselves on this network"), fleet_cli_discover},
    {"inspect", N_("FILE [--board BOARD] [--chip CHIP] [--json]"),
     N_("Check a firmware image before it is sent to any device"), fleet_cli_inspect},
    {"push", N_("--image FILE [DEVICE…|--all|--board B|--match GLOB] [OPTION…]"),
     N_("Send one image to many devices and verify that they run it"), fleet_cli_push},
    {"logs", N_("DEVICE… [--merged] [--source tcp|syslog|serial:PATH@BAUD] [OPTION…]"),
     N_("Show the live logs of devices, one at a time or merged"), fleet_cli_logs},
};

static void
fleet_cli_print_usage(FILE *out)
{
	fprintf(out, "%s\n\n", _("Usage: espfleet-cli COMMAND [OPTION…]"));
	fprintf(out, "%s\n", _("Commands:"));
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-9s %s\n            %s\n", commands[i].name, _(commands[i].args),
			_(commands[i].summary));
	fprintf(out, "\n%s\n", _("Run \"espfleet-cli COMMAND --help\" for the options of a command."));
}

int
main(int argc, char **argv)
{
	FleetCli cli = {0};
	const gchar *localedir = g_getenv("ESPFLEET_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	cli.is_tty = isatty(STDOUT_FILENO);
	cli.color = cli.is_tty && g_getenv("NO_COLOR") == NULL;

	if (argc < 2) {
		fleet_cli_print_usage(stderr);
		return FLEET_CLI_EXIT_USAGE;
	}
	if (g_strcmp0(argv[1], "--help") == 0 || g_strcmp0(argv[1], "-h") == 0 ||
	    g_strcmp0(argv[1], "help") == 0) {
		fleet_cli_print_usage(stdout);
		return FLEET_CLI_EXIT_OK;
	}
	if (g_strcmp0(argv[1], "--version") == 0) {
		g_print("espfleet-cli %s\n", PACKAGE_VERSION);
		return FLEET_CLI_EXIT_OK;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_strcmp0(argv[1], commands[i].name) == 0) {
			/* the subcommand parses its own options; argv[0] becomes "espfleet-cli inspect" */
			g_autofree gchar *prgname = g_strdup_printf("espfleet-cli %s", commands[i].name);
			g_set_prgname(prgname);
			return commands[i].func(&cli, argc - 1, argv + 1);
		}
	}
	{
		g_autofree gchar *safe = fleet_text_sanitize(argv[1], -1, 40);
		g_printerr(_("espfleet-cli: unknown command \"%s\"\n\n"), safe);
	}
	fleet_cli_print_usage(stderr);
	return FLEET_CLI_EXIT_USAGE;
}
