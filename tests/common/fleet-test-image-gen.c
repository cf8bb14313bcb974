/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-test-image-gen.c - writes a generated test image to a file for process tests */

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "fleet-test-images.h"

static void
usage(FILE *out)
{
	const gchar *const *names = fleet_test_image_names();
	fprintf(out, "usage: fleet-test-image-gen KIND OUTFILE [--version V] [--project P] "
		     "[--seed N] [--small]\nKIND:");
	for (guint i = 0; names[i] != NULL; i++)
		fprintf(out, " %s", names[i]);
	fprintf(out, "\n");
}

int
main(int argc, char **argv)
{
	FleetTestImageOptions options = {0};
	g_autoptr(FleetTestImage) img = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *kind = NULL;
	const gchar *outfile = NULL;

	for (int i = 1; i < argc; i++) {
		const gchar *arg = argv[i];
		if (g_strcmp0(arg, "--version") == 0 && i + 1 < argc) {
			options.version = argv[++i];
		} else if (g_strcmp0(arg, "--project") == 0 && i + 1 < argc) {
			options.project = argv[++i];
		} else if (g_strcmp0(arg, "--seed") == 0 && i + 1 < argc) {
			options.seed = (guint32)g_ascii_strtoull(argv[++i], NULL, 0);
		} else if (g_strcmp0(arg, "--small") == 0) {
			options.small = TRUE;
		} else if (g_strcmp0(arg, "--help") == 0 || g_strcmp0(arg, "-h") == 0) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else if (arg[0] == '-') {
			usage(stderr);
			return 2;
		} else if (kind == NULL) {
			kind = arg;
		} else if (outfile == NULL) {
			outfile = arg;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (kind == NULL || outfile == NULL) {
		usage(stderr);
		return 2;
	}
	img = fleet_test_image_new_named(kind, &options);
	if (img == NULL) {
		fprintf(stderr, "unknown image kind \"%s\"\n", kind);
		usage(stderr);
		return 2;
	}
	if (!g_file_set_contents(outfile, (const gchar *)img->data->data, img->data->len, &error)) {
		fprintf(stderr, "%s\n", error->message);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
