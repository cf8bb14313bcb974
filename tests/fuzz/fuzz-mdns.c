/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mdns.c - arbitrary bytes into the DNS reader and the mDNS responder
 *
 * The first input byte picks the responder's state (probing or running) and the sender
 * (multicast port, legacy port, ourselves, off-link); the rest is the datagram. Every
 * packet the responder sends in reply must itself parse cleanly.
 */

#include <stddef.h>
#include <stdint.h>

#include "ota/ota-mdns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must_parse(const uint8_t *pkt, size_t len)
{
	struct ota_dns_reader r;
	struct ota_dns_record rec;
	int rc;

	if (ota_dns_reader_init(&r, pkt, len) != 0)
		__builtin_trap();
	while ((rc = ota_dns_reader_next(&r, &rec)) == 1) {
		static uint8_t rdata[OTA_MDNS_PACKET_MAX];
		size_t n;

		if (rec.section != OTA_DNS_QUESTION &&
		    ota_dns_rdata_canonical(pkt, len, &rec, rdata, sizeof(rdata), &n) != 0)
			__builtin_trap();
	}
	if (rc != 0 || r.off != len || len > OTA_MDNS_PACKET_MAX)
		__builtin_trap();
}

static void
send_cb(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	(void)user;
	(void)ip;
	(void)port;
	must_parse(data, len);
}

/* the pure reader on its own, as a resolver would use it */
static void
read_all(const uint8_t *data, size_t size)
{
	struct ota_dns_reader r;
	struct ota_dns_record rec;
	static uint8_t rdata[OTA_MDNS_PACKET_MAX];
	char text[4 * OTA_MDNS_NAME_MAX + 1];

	if (ota_dns_reader_init(&r, data, size) != 0)
		return;
	while (ota_dns_reader_next(&r, &rec) == 1) {
		size_t n;

		ota_dns_name_to_text(&rec.name, text, sizeof(text));
		if (rec.section != OTA_DNS_QUESTION)
			(void)ota_dns_rdata_canonical(data, size, &rec, rdata, sizeof(rdata), &n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ota_mdns running, probing, m;
	static bool ready;
	static const uint32_t our_ip = 0xC0A80714u; /* 192.168.7.20 */
	uint32_t now = 50000, src_ip = 0xC0A80732u;
	uint16_t src_port = 5353;
	uint8_t sel;

	if (!ready) {
		struct ota_mdns_config cfg = {
		    .hostname = "esp32-fuzz",
		    .ipv4 = our_ip,
		    .netmask = 0xFFFFFF00u,
		    .ota_port = 3232,
		    .board = "esp32dev",
		    .fw_version = "1.0.0",
		    .log_port = 2323,
		    .chip = "esp32",
		};

		if (ota_mdns_init(&probing, &cfg, send_cb, NULL) != 0 ||
		    ota_mdns_start(&probing, 0) != 0)
			__builtin_trap();
		running = probing;
		for (uint32_t t = 0; t < 5000; t += 50)
			ota_mdns_poll(&running, t);
		if (ota_mdns_get_state(&running) != OTA_MDNS_RUNNING)
			__builtin_trap();
		ota_mdns_poll(&probing, 300);
		ready = true;
	}

	read_all(data, size);
	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;

	m = (sel & 1) ? probing : running;
	switch ((sel >> 1) & 3) {
	case 1:
		src_port = (uint16_t)(40000 + sel);
		break;
	case 2:
		src_ip = our_ip;
		break;
	case 3:
		src_ip = 0x0A000001u;
		break;
	default:
		break;
	}
	/* a second datagram right after the first catches state left behind by it */
	(void)ota_mdns_on_packet(&m, src_ip, src_port, data, size, now);
	(void)ota_mdns_on_packet(&m, src_ip, src_port, data, size, now + 1);
	for (uint32_t t = 0; t <= 2000; t += 100)
		ota_mdns_poll(&m, now + t);
	return 0;
}
