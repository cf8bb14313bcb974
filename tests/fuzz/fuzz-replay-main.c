/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-replay-main.c - runs a libFuzzer target over corpus files without libFuzzer */

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* optional in a target, as in libFuzzer */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* libFuzzer never hands a target more than this by default; the corpora stay far below */
#define REPLAY_MAX_FILE (16u * 1024u * 1024u)

static int
replay_file(const char *path, unsigned *ran)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t len;
	long end;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (unsigned long)end > REPLAY_MAX_FILE) {
		fprintf(stderr, "%s: cannot size the file (or it is over %u bytes)\n", path,
			REPLAY_MAX_FILE);
		fclose(f);
		return -1;
	}
	len = (size_t)end;
	/* an exact-size heap copy, so ASan sees any read past the end of the input */
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "%s: read failed\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(len > 0 ? buf : NULL, len);
	free(buf);
	(*ran)++;
	return 0;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every regular file in a directory, in name order so failures reproduce */
static int
replay_dir(const char *dir, unsigned *ran)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	size_t cap = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **grown;
			cap = cap == 0 ? 64 : cap * 2;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				rc = -1;
				break;
			}
			names = grown;
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(names[i], ran) != 0)
				rc = -1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned ran = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		/* libFuzzer flags such as -runs=N are ignored so both builds take the same line */
		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &ran) != 0)
				rc = 1;
		} else if (replay_file(argv[i], &ran) != 0) {
			rc = 1;
		}
	}
	printf("%s: replayed %u inputs\n", argv[0], ran);
	/* an empty or missing corpus would make this test pass without testing anything */
	if (ran == 0) {
		fprintf(stderr, "no inputs found\n");
		return 1;
	}
	return rc;
}
