/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-cli.h - what the espfleet-cli subcommands share */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* exit statuses shared by every subcommand */
#define FLEET_CLI_EXIT_OK 0
#define FLEET_CLI_EXIT_PROBLEM 1
#define FLEET_CLI_EXIT_USAGE 2

typedef struct {
	gboolean color;	 /* stdout is a terminal and NO_COLOR is unset */
	gboolean is_tty; /* stdout is a terminal */
} FleetCli;

int
fleet_cli_usage_error(GOptionContext *context, const gchar *message);

int
fleet_cli_inspect(FleetCli *cli, int argc, char **argv);
int
fleet_cli_push(FleetCli *cli, int argc, char **argv);
int
fleet_cli_discover(FleetCli *cli, int argc, char **argv);
int
fleet_cli_logs(FleetCli *cli, int argc, char **argv);

G_END_DECLS
