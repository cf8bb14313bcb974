/* SPDX-License-Identifier: MIT */
/* sim-state.c - MAC, password hash, boot count and slot records of a simulated device */

#define _GNU_SOURCE

#include "sim-state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int
sim_mkdirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

int
sim_state_lock(const char *dir)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
sim_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[4200];
	const unsigned char *p = data;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* reads a small text file into @buf (NUL-terminated); -1 when missing or unreadable */
static int
read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;
	if (f == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
parse_hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]);
		int lo = hi >= 0 ? hex_value(s[2 * i + 1]) : -1;
		if (lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void
to_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
state_line(struct sim_state *st, char *line)
{
	char *eq = strchr(line, '=');
	char *val;
	unsigned slot;
	char what[16];

	if (eq == NULL)
		return;
	*eq = '\0';
	val = eq + 1;
	if (strcmp(line, "boot_count") == 0) {
		st->boot_count = (uint32_t)strtoul(val, NULL, 10);
	} else if (strcmp(line, "last_update") == 0) {
		snprintf(st->last_update, sizeof(st->last_update), "%s", val);
	} else if (sscanf(line, "slot%u_%15s", &slot, what) == 2 && slot < SIM_STATE_SLOTS) {
		struct sim_slot_record *r = &st->slots[slot];
		if (strcmp(what, "len") == 0) {
			r->len = (uint32_t)strtoul(val, NULL, 10);
		} else if (strcmp(what, "sha256") == 0 && strlen(val) == 64 &&
			   parse_hex(val, r->sha256, 32)) {
			r->known = true;
		}
	}
}

int
sim_state_load(struct sim_state *st, const char *dir)
{
	char buf[8192];
	char *save = NULL;

	memset(st, 0, sizeof(*st));
	snprintf(st->path, sizeof(st->path), "%s/state", dir);
	if (read_small(st->path, buf, sizeof(buf)) != 0)
		return errno == ENOENT ? 0 : -1;
	for (char *line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		state_line(st, line);
	for (size_t i = 0; i < SIM_STATE_SLOTS; i++) {
		if (st->slots[i].len == 0)
			st->slots[i].known = false;
	}
	return 0;
}

int
sim_state_save(const struct sim_state *st)
{
	char buf[8192];
	size_t n = 0;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "boot_count=%u\nlast_update=%s\n",
			      (unsigned)st->boot_count, st->last_update);
	for (size_t i = 0; i < SIM_STATE_SLOTS && n < sizeof(buf); i++) {
		char hex[65];
		if (!st->slots[i].known)
			continue;
		to_hex(st->slots[i].sha256, 32, hex);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "slot%zu_len=%u\nslot%zu_sha256=%s\n", i,
				      (unsigned)st->slots[i].len, i, hex);
	}
	if (n >= sizeof(buf)) {
		errno = ENOSPC;
		return -1;
	}
	return sim_write_file_atomic(st->path, buf, n, 0644);
}

int
sim_mac_load_or_create(const char *dir, uint8_t mac[6])
{
	char path[4200];
	char buf[64];
	unsigned v[6];

	snprintf(path, sizeof(path), "%s/mac", dir);
	if (read_small(path, buf, sizeof(buf)) == 0 &&
	    sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6) {
		for (size_t i = 0; i < 6; i++)
			mac[i] = (uint8_t)v[i];
		return 0;
	}
	if (getrandom(mac, 6, 0) != 6)
		return -1;
	/* locally administered (bit 1), unicast (bit 0 clear) */
	mac[0] = (uint8_t)((mac[0] & 0xFC) | 0x02);
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return sim_write_file_atomic(path, buf, strlen(buf), 0644);
}

int
sim_password_store(const char *dir, const char *scheme, const char *hash_hex)
{
	char path[4200];
	char buf[128];
	snprintf(path, sizeof(path), "%s/password", dir);
	snprintf(buf, sizeof(buf), "%s %s\n", scheme, hash_hex);
	return sim_write_file_atomic(path, buf, strlen(buf), 0600);
}

int
sim_password_load(const char *dir, char *scheme, size_t scheme_size, char *hash, size_t hash_size)
{
	char path[4200];
	char buf[160];
	char s[16];
	char h[80];

	snprintf(path, sizeof(path), "%s/password", dir);
	if (read_small(path, buf, sizeof(buf)) != 0)
		return errno == ENOENT ? 0 : -1;
	if (sscanf(buf, "%15s %79s", s, h) != 2)
		return -1;
	if (!((strcmp(s, "md5") == 0 && strlen(h) == 32) ||
	      (strcmp(s, "sha256") == 0 && strlen(h) == 64)))
		return -1;
	for (const char *p = h; *p != '\0'; p++) {
		if (hex_value(*p) < 0)
			return -1;
	}
	snprintf(scheme, scheme_size, "%s", s);
	snprintf(hash, hash_size, "%s", h);
	return 1;
}

int
sim_password_remove(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/password", dir);
	if (unlink(path) != 0 && errno != ENOENT)
		return -1;
	return 0;
}
