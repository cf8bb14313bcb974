/* SPDX-License-Identifier: MIT */
/*
 * mdns-dump.c - drives the mDNS responder from a script on stdin and prints what it sends
 *
 * For tests that check the packets with a parser other than ours (mdns-interop.py). No
 * sockets: the clock is fake and every packet is printed as hex.
 *
 *   mdns-dump [--ip A.B.C.D]   (default 192.168.7.20/24)
 *
 *   start | stop | state | sync | advance MS | packet A.B.C.D PORT HEX | version V | hostname H
 *
 * prints, for every packet sent:  sent A.B.C.D PORT TIME HEX
 * and "ok" for sync, so that a driver can tell where the output of a command ends.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota/ota-mdns.h"

static uint32_t now = 1000;
static struct ota_mdns m;

static void
print_ip(uint32_t ip)
{
	printf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void
send_cb(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	(void)user;
	printf("sent ");
	print_ip(ip);
	printf(" %u %u ", port, now);
	for (size_t i = 0; i < len; i++)
		printf("%02x", data[i]);
	printf("\n");
}

static int
parse_ip(const char *s, uint32_t *ip)
{
	unsigned a, b, c, d;

	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 ||
	    d > 255)
		return -1;
	*ip = (a << 24) | (b << 16) | (c << 8) | d;
	return 0;
}

static size_t
parse_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (s[0] && s[1] && n < max) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

int
main(int argc, char **argv)
{
	static char line[8192];
	static char hostname[64] = "esp32-a0b1c2d3e4f5";
	static char version[41] = "1.2.3";
	struct ota_mdns_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.hostname = hostname;
	cfg.ipv4 = (192u << 24) | (168u << 16) | (7u << 8) | 20u;
	cfg.netmask = 0xFFFFFF00u;
	cfg.ota_port = 3232;
	cfg.board = "esp32dev";
	cfg.auth_upload = true;
	cfg.fw_version = version;
	for (int i = 0; i < 32; i++)
		cfg.fw_sha256[i] = (uint8_t)(0x10 + i);
	cfg.log_port = 2323;
	memcpy(cfg.mac, "\xa0\xb1\xc2\xd3\xe4\xf5", 6);
	cfg.chip = "esp32";
	if (argc == 3 && strcmp(argv[1], "--ip") == 0) {
		if (parse_ip(argv[2], &cfg.ipv4) < 0)
			return 2;
	} else if (argc != 1) {
		fprintf(stderr, "usage: mdns-dump [--ip A.B.C.D]\n");
		return 2;
	}
	if (ota_mdns_init(&m, &cfg, send_cb, NULL) != 0) {
		fprintf(stderr, "mdns-dump: init failed\n");
		return 1;
	}

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char cmd[32], a1[64], a2[64];
		static char hex[8192];
		int n = sscanf(line, "%31s %63s %63s %8191s", cmd, a1, a2, hex);

		if (n < 1)
			continue;
		if (strcmp(cmd, "start") == 0) {
			if (ota_mdns_start(&m, now) != 0)
				return 1;
		} else if (strcmp(cmd, "stop") == 0) {
			ota_mdns_stop(&m, now);
		} else if (strcmp(cmd, "sync") == 0) {
			printf("ok\n");
		} else if (strcmp(cmd, "state") == 0) {
			printf("state %d\n", (int)ota_mdns_get_state(&m));
		} else if (strcmp(cmd, "advance") == 0 && n >= 2) {
			long ms = strtol(a1, NULL, 10);
			for (long i = 0; i < ms; i++)
				ota_mdns_poll(&m, ++now);
		} else if (strcmp(cmd, "packet") == 0 && n == 4) {
			static uint8_t pkt[OTA_MDNS_PACKET_MAX];
			uint32_t ip;
			size_t len = parse_hex(hex, pkt, sizeof(pkt));
			int rc;

			if (parse_ip(a1, &ip) < 0)
				return 1;
			rc = ota_mdns_on_packet(&m, ip, (uint16_t)strtoul(a2, NULL, 10), pkt, len,
						now);
			printf("rc %d\n", rc);
		} else if (strcmp(cmd, "version") == 0 && n >= 2) {
			snprintf(version, sizeof(version), "%.40s", a1);
			if (ota_mdns_update(&m, &cfg, now) != 0)
				return 1;
		} else if (strcmp(cmd, "hostname") == 0 && n >= 2) {
			snprintf(hostname, sizeof(hostname), "%s", a1);
			if (ota_mdns_update(&m, &cfg, now) != 0)
				return 1;
		} else {
			fprintf(stderr, "mdns-dump: bad command: %s", line);
			return 1;
		}
		fflush(stdout);
	}
	return 0;
}
