/* SPDX-License-Identifier: MIT */
/* check-mdns.c - the mDNS responder: messages, queries, compression, bad input, lifecycle */

#define _GNU_SOURCE /* memmem */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota/ota-mdns.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define OUR_IP IP(192, 168, 7, 20)
#define PEER_IP IP(192, 168, 7, 50)
#define HOST "esp32-a0b1c2d3e4f5"
#define MAX_SENT 256

struct sent {
	uint32_t ip;
	uint16_t port;
	uint32_t at;
	size_t len;
	uint8_t data[OTA_MDNS_PACKET_MAX];
};

static struct sent sent[MAX_SENT];
static unsigned n_sent;
static uint32_t now;
static struct ota_mdns m;
static struct ota_mdns_config cfg;

static void
send_cb(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	ck_assert_ptr_eq(user, &m);
	ck_assert_uint_lt(n_sent, MAX_SENT);
	ck_assert_uint_le(len, OTA_MDNS_PACKET_MAX);
	sent[n_sent].ip = ip;
	sent[n_sent].port = port;
	sent[n_sent].at = now;
	sent[n_sent].len = len;
	memcpy(sent[n_sent].data, data, len);
	n_sent++;
}

static void
default_config(struct ota_mdns_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hostname = HOST;
	c->ipv4 = OUR_IP;
	c->netmask = IP(255, 255, 255, 0);
	c->ota_port = 3232;
	c->board = "esp32dev";
	c->auth_upload = true;
	c->fw_version = "1.2.3";
	for (int i = 0; i < 32; i++)
		c->fw_sha256[i] = (uint8_t)i;
	c->log_port = 2323;
	c->mac[0] = 0xa0;
	c->mac[1] = 0xb1;
	c->mac[2] = 0xc2;
	c->mac[3] = 0xd3;
	c->mac[4] = 0xe4;
	c->mac[5] = 0xf5;
	c->chip = "esp32";
}

static void
setup(void)
{
	n_sent = 0;
	now = 100000;
	default_config(&cfg);
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), 0);
}

static void
advance(uint32_t ms)
{
	for (uint32_t i = 0; i < ms; i++) {
		now++;
		ota_mdns_poll(&m, now);
	}
}

/* run the clock until the core has sent count packets in all */
static void
run_until(unsigned count)
{
	for (int i = 0; i < 20000 && n_sent < count; i++)
		advance(1);
	ck_assert_uint_eq(n_sent, count);
}

/* start, then run the clock until the responder owns its names and has announced them */
static void
bring_up(void)
{
	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	for (int i = 0; i < 10000 && ota_mdns_get_state(&m) != OTA_MDNS_RUNNING; i++)
		advance(1);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);
	/* past the once-a-second multicast rate limit of the announcements */
	advance(1100);
	n_sent = 0;
}

/* ---- hand-made packets, written without the core's builder ---- */

struct qb {
	uint8_t b[OTA_MDNS_PACKET_MAX];
	size_t len;
};

static void
qb_u16(struct qb *q, uint16_t v)
{
	q->b[q->len++] = (uint8_t)(v >> 8);
	q->b[q->len++] = (uint8_t)v;
}

static void
qb_u32(struct qb *q, uint32_t v)
{
	qb_u16(q, (uint16_t)(v >> 16));
	qb_u16(q, (uint16_t)v);
}

static void
qb_header(
    struct qb *q, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	q->len = 0;
	qb_u16(q, id);
	qb_u16(q, flags);
	qb_u16(q, qd);
	qb_u16(q, an);
	qb_u16(q, ns);
	qb_u16(q, ar);
}

/* dotted name, no escapes, uncompressed */
static void
qb_name(struct qb *q, const char *dotted)
{
	const char *p = dotted;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		q->b[q->len++] = (uint8_t)l;
		memcpy(q->b + q->len, p, l);
		q->len += l;
		p += l;
		if (*p == '.')
			p++;
	}
	q->b[q->len++] = 0;
}

static void
qb_question(struct qb *q, const char *name, uint16_t type, uint16_t klass)
{
	qb_name(q, name);
	qb_u16(q, type);
	qb_u16(q, klass);
}

static void
qb_rr_start(struct qb *q, const char *name, uint16_t type, uint16_t klass, uint32_t ttl)
{
	qb_name(q, name);
	qb_u16(q, type);
	qb_u16(q, klass);
	qb_u32(q, ttl);
}

static void
qb_rr_a(struct qb *q, const char *name, uint32_t ttl, uint32_t ip)
{
	qb_rr_start(q, name, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN | OTA_DNS_CACHE_FLUSH_BIT, ttl);
	qb_u16(q, 4);
	qb_u32(q, ip);
}

static void
qb_rr_ptr(struct qb *q, const char *name, uint32_t ttl, const char *target)
{
	size_t at;

	qb_rr_start(q, name, OTA_DNS_TYPE_PTR, OTA_DNS_CLASS_IN, ttl);
	at = q->len;
	qb_u16(q, 0);
	qb_name(q, target);
	q->b[at] = (uint8_t)((q->len - at - 2) >> 8);
	q->b[at + 1] = (uint8_t)(q->len - at - 2);
}

static void
qb_rr_srv(struct qb *q, const char *name, uint32_t ttl, uint16_t port, const char *target)
{
	size_t at;

	qb_rr_start(q, name, OTA_DNS_TYPE_SRV, OTA_DNS_CLASS_IN | OTA_DNS_CACHE_FLUSH_BIT, ttl);
	at = q->len;
	qb_u16(q, 0);
	qb_u16(q, 0);
	qb_u16(q, 0);
	qb_u16(q, port);
	qb_name(q, target);
	q->b[at] = (uint8_t)((q->len - at - 2) >> 8);
	q->b[at + 1] = (uint8_t)(q->len - at - 2);
}

static int
deliver(const struct qb *q, uint32_t ip, uint16_t port)
{
	return ota_mdns_on_packet(&m, ip, port, q->b, q->len, now);
}

static void
query(const char *name, uint16_t type, uint16_t klass)
{
	struct qb q;

	qb_header(&q, 0, 0, 1, 0, 0, 0);
	qb_question(&q, name, type, klass);
	ck_assert_int_eq(deliver(&q, PEER_IP, OTA_MDNS_PORT), 0);
}

/* ---- parsing what the core sent ---- */

struct parsed {
	struct ota_dns_header hdr;
	unsigned n;
	struct ota_dns_record recs[40];
	size_t name_off[40]; /* where each owner name starts */
	char names[40][300];
};

static void
parse(const uint8_t *pkt, size_t len, struct parsed *p)
{
	struct ota_dns_reader r;
	int rc;

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(ota_dns_reader_init(&r, pkt, len), 0);
	p->hdr = r.hdr;
	for (;;) {
		size_t off = r.off;

		ck_assert_uint_lt(p->n, 40);
		rc = ota_dns_reader_next(&r, &p->recs[p->n]);
		ck_assert_int_ge(rc, 0);
		if (rc == 0)
			break;
		p->name_off[p->n] = off;
		ck_assert_int_ge(ota_dns_name_to_text(&p->recs[p->n].name, p->names[p->n], 300), 0);
		p->n++;
	}
	ck_assert_uint_eq(r.off, len);
}

/* index of the record of that section, type and name, or -1 */
static int
find(const struct parsed *p, enum ota_dns_section section, uint16_t type, const char *name)
{
	for (unsigned i = 0; i < p->n; i++) {
		if (p->recs[i].section == section && p->recs[i].type == type &&
		    strcmp(p->names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

static unsigned
count_section(const struct parsed *p, enum ota_dns_section section)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->n; i++)
		n += p->recs[i].section == section;
	return n;
}

/* rdata name of a PTR (or the SRV target) as text */
static void
rdata_name(const uint8_t *pkt, size_t len, const struct ota_dns_record *rec, char *out)
{
	struct ota_dns_name name;
	size_t off = rec->rdata_off + (rec->type == OTA_DNS_TYPE_SRV ? 6 : 0);

	ck_assert_int_eq(ota_dns_read_name(pkt, len, &off, &name), 0);
	ck_assert_int_ge(ota_dns_name_to_text(&name, out, 300), 0);
}

#define INSTANCE HOST "._arduino._tcp.local"
#define HOSTNAME HOST ".local"

/* ---- tests ---- */

START_TEST(test_build_and_parse_back)
{
	uint8_t pkt[OTA_MDNS_PACKET_MAX];
	struct parsed p;
	char name[300];
	int len, i;

	len = ota_mdns_build(&m, (1u << OTA_MDNS_REC_PTR_SVC), pkt, sizeof(pkt));
	ck_assert_int_gt(len, 12);
	parse(pkt, (size_t)len, &p);
	ck_assert_uint_eq(p.hdr.id, 0);
	ck_assert_uint_eq(p.hdr.flags, 0x8400);
	ck_assert_uint_eq(p.hdr.qdcount, 0);
	ck_assert_uint_eq(p.hdr.ancount, 1);
	ck_assert_uint_eq(p.hdr.nscount, 0);
	/* RFC 6763 §12.1: SRV, TXT and address with the PTR; NSEC per RFC 6762 §6.1 */
	ck_assert_uint_eq(p.hdr.arcount, 5);
	ck_assert_uint_eq(count_section(&p, OTA_DNS_ADDITIONAL), 5);

	i = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_PTR, "_arduino._tcp.local");
	ck_assert_int_ge(i, 0);
	ck_assert(!p.recs[i].top_bit); /* shared: no cache-flush */
	ck_assert_uint_eq(p.recs[i].klass, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(p.recs[i].ttl, 4500);
	rdata_name(pkt, (size_t)len, &p.recs[i], name);
	ck_assert_str_eq(name, INSTANCE);

	i = find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_SRV, INSTANCE);
	ck_assert_int_ge(i, 0);
	ck_assert(p.recs[i].top_bit);
	ck_assert_uint_eq(p.recs[i].ttl, 120);
	ck_assert_uint_eq(pkt[p.recs[i].rdata_off + 4], 3232 >> 8);
	ck_assert_uint_eq(pkt[p.recs[i].rdata_off + 5], 3232 & 0xff);
	rdata_name(pkt, (size_t)len, &p.recs[i], name);
	ck_assert_str_eq(name, HOSTNAME);

	i = find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_TXT, INSTANCE);
	ck_assert_int_ge(i, 0);
	ck_assert(p.recs[i].top_bit);
	ck_assert_uint_eq(p.recs[i].ttl, 4500);

	i = find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_A, HOSTNAME);
	ck_assert_int_ge(i, 0);
	ck_assert(p.recs[i].top_bit);
	ck_assert_uint_eq(p.recs[i].ttl, 120);
	ck_assert_uint_eq(p.recs[i].rdlength, 4);
	ck_assert_mem_eq(pkt + p.recs[i].rdata_off, "\xc0\xa8\x07\x14", 4);

	i = find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_NSEC, HOSTNAME);
	ck_assert_int_ge(i, 0);
	ck_assert(p.recs[i].top_bit);
	/* next name = owner, then window 0, 1 byte, bit for type 1 (A) */
	ck_assert_uint_eq(p.recs[i].rdlength, strlen(HOST) + 8 + 3);
	ck_assert_mem_eq(pkt + p.recs[i].rdata_off + strlen(HOST) + 8, "\x00\x01\x40", 3);
	i = find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_NSEC, INSTANCE);
	ck_assert_int_ge(i, 0);
	/* window 0, 5 bytes: TXT (16) and SRV (33) */
	ck_assert_mem_eq(pkt + p.recs[i].rdata_off + p.recs[i].rdlength - 7,
			 "\x00\x05\x00\x00\x80\x00\x40", 7);
}
END_TEST

START_TEST(test_txt_record_exact)
{
	static const char *const want[] = {
	    "board=esp32dev",	   "auth_upload=yes",  "tcp_check=no",
	    "ssh_upload=no",	   "fw_version=1.2.3", "fw_sha256=0001020304050607",
	    "http_update=/update", "log_port=2323",    "mac=a0:b1:c2:d3:e4:f5",
	    "chip=esp32",
	};
	uint8_t pkt[OTA_MDNS_PACKET_MAX];
	struct parsed p;
	size_t off, end;
	unsigned k = 0;
	int len, i;

	len = ota_mdns_build(&m, 1u << OTA_MDNS_REC_TXT, pkt, sizeof(pkt));
	ck_assert_int_gt(len, 0);
	parse(pkt, (size_t)len, &p);
	ck_assert_uint_eq(p.hdr.ancount, 1);
	ck_assert_uint_eq(p.hdr.arcount, 0);
	i = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_TXT, INSTANCE);
	ck_assert_int_ge(i, 0);
	off = p.recs[i].rdata_off;
	end = off + p.recs[i].rdlength;
	while (off < end) {
		size_t l = pkt[off];

		ck_assert_uint_lt(k, sizeof(want) / sizeof(want[0]));
		ck_assert_uint_eq(l, strlen(want[k]));
		ck_assert_mem_eq(pkt + off + 1, want[k], l);
		off += 1 + l;
		k++;
	}
	ck_assert_uint_eq(off, end);
	ck_assert_uint_eq(k, sizeof(want) / sizeof(want[0]));

	/* auth_upload=no, board defaults to "generic" like the Arduino cores */
	cfg.auth_upload = false;
	cfg.board = NULL;
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), 0);
	len = ota_mdns_build(&m, 1u << OTA_MDNS_REC_TXT, pkt, sizeof(pkt));
	ck_assert_ptr_nonnull(memmem(pkt, (size_t)len, "\015board=generic", 14));
	ck_assert_ptr_nonnull(memmem(pkt, (size_t)len, "\016auth_upload=no", 15));
}
END_TEST

START_TEST(test_name_compression)
{
	uint8_t pkt[OTA_MDNS_PACKET_MAX];
	struct parsed p;
	size_t plain = 12;
	int len;

	len = ota_mdns_build(&m, (1u << OTA_MDNS_REC_PTR_ENUM) | (1u << OTA_MDNS_REC_PTR_SVC), pkt,
			     sizeof(pkt));
	ck_assert_int_gt(len, 0);
	parse(pkt, (size_t)len, &p);
	ck_assert_uint_eq(p.n, 7);
	for (unsigned i = 0; i < p.n; i++) {
		/* every owner name after the first was seen before: it must start or end in a
		 * pointer */
		if (i > 0) {
			size_t o = p.name_off[i];
			while ((pkt[o] & 0xC0) == 0 && pkt[o] != 0)
				o += 1 + pkt[o];
			ck_assert_msg((pkt[o] & 0xC0) == 0xC0, "record %u (%s) not compressed", i,
				      p.names[i]);
		}
		plain += p.recs[i].name.len + 10u + p.recs[i].rdlength;
	}
	ck_assert_uint_lt((size_t)len, plain);
	/* "_arduino" once in names and targets, once more in the NSEC next name (never compressed)
	 */
	{
		unsigned count = 0;
		for (int o = 0; o + 9 <= len; o++)
			count += memcmp(pkt + o, "\x08_arduino", 9) == 0;
		ck_assert_uint_eq(count, 2);
	}
}
END_TEST

START_TEST(test_read_name_compressed)
{
	/* header, then "a.local" at 12, "b" + pointer to "local" (14), then a pointer to 19 */
	static const uint8_t pkt[] = {
	    0,	  0,   0,    0,	  0,   0,   0,	 0,   0, 0, 0, 0, /* header */
	    1,	  'a', 5,    'l', 'o', 'c', 'a', 'l', 0,	  /* 12: a.local */
	    1,	  'B', 0xC0, 14,				  /* 21: B + "local" */
	    0xC0, 21,						  /* 25: B.local */
	};
	struct ota_dns_name n;
	char text[64];
	size_t off = 12;

	ck_assert_int_eq(ota_dns_read_name(pkt, sizeof(pkt), &off, &n), 0);
	ck_assert_uint_eq(off, 21);
	ota_dns_name_to_text(&n, text, sizeof(text));
	ck_assert_str_eq(text, "a.local");
	ck_assert_int_eq(ota_dns_read_name(pkt, sizeof(pkt), &off, &n), 0);
	ck_assert_uint_eq(off, 25);
	ota_dns_name_to_text(&n, text, sizeof(text));
	ck_assert_str_eq(text, "B.local");
	ck_assert_int_eq(ota_dns_read_name(pkt, sizeof(pkt), &off, &n), 0);
	ck_assert_uint_eq(off, 27);
	ota_dns_name_to_text(&n, text, sizeof(text));
	ck_assert_str_eq(text, "B.local");
	/* case-insensitive equality */
	{
		struct ota_dns_name b;
		const char *labels[] = {"b", "LOCAL", NULL};
		ck_assert_int_eq(ota_dns_name_from_labels(&b, labels), 0);
		ck_assert(ota_dns_name_equal(&n, &b));
	}
}
END_TEST

START_TEST(test_read_name_malformed)
{
	uint8_t pkt[600];
	struct ota_dns_name n;
	size_t off;

	memset(pkt, 0, sizeof(pkt));
	/* pointer to itself */
	pkt[12] = 0xC0;
	pkt[13] = 12;
	off = 12;
	ck_assert_int_eq(ota_dns_read_name(pkt, 14, &off, &n), OTA_MDNS_E_MALFORMED);
	/* forward pointer */
	pkt[13] = 14;
	ck_assert_int_eq(ota_dns_read_name(pkt, 16, &off, &n), OTA_MDNS_E_MALFORMED);
	/* a loop through a label: "a" then a pointer back to the "a" */
	pkt[12] = 1;
	pkt[13] = 'a';
	pkt[14] = 0xC0;
	pkt[15] = 12;
	off = 12;
	ck_assert_int_eq(ota_dns_read_name(pkt, 16, &off, &n), OTA_MDNS_E_MALFORMED);
	/* two names pointing at each other: 16 -> 18 -> 16 */
	pkt[16] = 0xC0;
	pkt[17] = 18;
	pkt[18] = 0xC0;
	pkt[19] = 16;
	off = 18;
	ck_assert_int_eq(ota_dns_read_name(pkt, 20, &off, &n), OTA_MDNS_E_MALFORMED);
	/* label type 0x40 (a 64-byte label) and 0x80 */
	pkt[12] = 64;
	off = 12;
	ck_assert_int_eq(ota_dns_read_name(pkt, sizeof(pkt), &off, &n), OTA_MDNS_E_MALFORMED);
	pkt[12] = 0x80;
	ck_assert_int_eq(ota_dns_read_name(pkt, sizeof(pkt), &off, &n), OTA_MDNS_E_MALFORMED);
	/* label running past the end, pointer cut in half, no root label */
	pkt[12] = 10;
	ck_assert_int_eq(ota_dns_read_name(pkt, 20, &off, &n), OTA_MDNS_E_MALFORMED);
	pkt[12] = 0xC0;
	ck_assert_int_eq(ota_dns_read_name(pkt, 13, &off, &n), OTA_MDNS_E_MALFORMED);
	pkt[12] = 1;
	pkt[13] = 'x';
	ck_assert_int_eq(ota_dns_read_name(pkt, 14, &off, &n), OTA_MDNS_E_MALFORMED);

	/* 255 bytes in wire form is the limit: 63+63+63+61 labels */
	memset(pkt, 'x', sizeof(pkt));
	off = 12;
	pkt[off] = 63;
	pkt[off + 64] = 63;
	pkt[off + 128] = 63;
	pkt[off + 192] = 61;
	pkt[off + 254] = 0;
	ck_assert_int_eq(ota_dns_read_name(pkt, sizeof(pkt), &off, &n), 0);
	ck_assert_uint_eq(n.len, 255);
	ck_assert_uint_eq(off, 12 + 255);
	pkt[12 + 192] = 62;
	pkt[12 + 254] = 'x';
	pkt[12 + 255] = 0;
	off = 12;
	ck_assert_int_eq(ota_dns_read_name(pkt, sizeof(pkt), &off, &n), OTA_MDNS_E_MALFORMED);
}
END_TEST

START_TEST(test_malformed_packets_ignored)
{
	struct qb q;
	uint8_t tiny[11] = {0};

	bring_up();
	/* shorter than a header */
	ck_assert_int_eq(ota_mdns_on_packet(&m, PEER_IP, 5353, tiny, sizeof(tiny), now),
			 OTA_MDNS_E_MALFORMED);
	/* counts larger than the packet */
	qb_header(&q, 0, 0, 200, 0, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), OTA_MDNS_E_MALFORMED);
	qb_header(&q, 0, 0, 1, 0, 0, 3);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), OTA_MDNS_E_MALFORMED);
	/* a question cut short */
	qb_header(&q, 0, 0, 1, 0, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	q.len -= 1;
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), OTA_MDNS_E_MALFORMED);
	/* a good question followed by a known answer whose rdlength runs past the end */
	qb_header(&q, 0, 0, 1, 1, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	qb_rr_start(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1, 4500);
	qb_u16(&q, 40);
	qb_u16(&q, 0);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), OTA_MDNS_E_MALFORMED);
	/* an A record of 3 bytes */
	qb_header(&q, 0, 0, 1, 1, 0, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_A, 1);
	qb_rr_start(&q, HOSTNAME, OTA_DNS_TYPE_A, 1, 120);
	qb_u16(&q, 3);
	q.b[q.len++] = 1;
	q.b[q.len++] = 2;
	q.b[q.len++] = 3;
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), OTA_MDNS_E_MALFORMED);
	/* a question whose name points at itself */
	qb_header(&q, 0, 0, 1, 0, 0, 0);
	qb_u16(&q, 0xC00C);
	qb_u16(&q, OTA_DNS_TYPE_PTR);
	qb_u16(&q, 1);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), OTA_MDNS_E_MALFORMED);
	/* a PTR whose target name leaves its rdata */
	qb_header(&q, 0, 0x8400, 0, 1, 0, 0);
	qb_rr_ptr(&q, "_arduino._tcp.local", 4500, "x._arduino._tcp.local");
	q.b[q.len - 23 - 1] = 5; /* rdlength low byte: 23 -> 5 */
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), OTA_MDNS_E_MALFORMED);

	advance(2000);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);
}
END_TEST

START_TEST(test_query_each_type)
{
	struct parsed p;
	char name[300];
	int i;

	bring_up();

	/* PTR for the service type: shared, so 20-120 ms later */
	query("_arduino._tcp.local", OTA_DNS_TYPE_PTR, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 0);
	{
		uint32_t asked = now;
		advance(130);
		ck_assert_uint_eq(n_sent, 1);
		ck_assert_uint_ge(sent[0].at - asked, 20);
		ck_assert_uint_le(sent[0].at - asked, 120);
	}
	ck_assert_uint_eq(sent[0].ip, OTA_MDNS_GROUP);
	ck_assert_uint_eq(sent[0].port, 5353);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.qdcount, 0);
	i = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_PTR, "_arduino._tcp.local");
	ck_assert_int_ge(i, 0);
	rdata_name(sent[0].data, sent[0].len, &p.recs[i], name);
	ck_assert_str_eq(name, INSTANCE);
	ck_assert_int_ge(find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_SRV, INSTANCE), 0);
	ck_assert_int_ge(find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_TXT, INSTANCE), 0);
	ck_assert_int_ge(find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_A, HOSTNAME), 0);

	/* service type enumeration (RFC 6763 §9) */
	n_sent = 0;
	query("_services._dns-sd._udp.local", OTA_DNS_TYPE_PTR, OTA_DNS_CLASS_IN);
	advance(130);
	ck_assert_uint_eq(n_sent, 1);
	parse(sent[0].data, sent[0].len, &p);
	i = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_PTR, "_services._dns-sd._udp.local");
	ck_assert_int_ge(i, 0);
	rdata_name(sent[0].data, sent[0].len, &p.recs[i], name);
	ck_assert_str_eq(name, "_arduino._tcp.local");

	/* unique records are answered at once; names compare case-insensitively */
	n_sent = 0;
	query(HOST "._ARDUINO._tcp.LOCAL", OTA_DNS_TYPE_SRV, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 1);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.ancount, 1);
	ck_assert_int_ge(find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_SRV, INSTANCE), 0);
	ck_assert_int_ge(find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_A, HOSTNAME), 0);

	n_sent = 0;
	query(INSTANCE, OTA_DNS_TYPE_TXT, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 1);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.ancount, 1);
	ck_assert_int_ge(find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_TXT, INSTANCE), 0);

	n_sent = 0;
	query(HOSTNAME, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 1);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.ancount, 1);
	i = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_A, HOSTNAME);
	ck_assert_int_ge(i, 0);
	ck_assert(p.recs[i].top_bit);
	ck_assert_mem_eq(sent[0].data + p.recs[i].rdata_off, "\xc0\xa8\x07\x14", 4);

	/* the same question again within a second: rate limited (RFC 6762 §6.2) */
	n_sent = 0;
	query(HOSTNAME, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 0);
	advance(1000);

	/* AAAA: we own the name but not the type, so an NSEC says so */
	n_sent = 0;
	query(HOSTNAME, OTA_DNS_TYPE_AAAA, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 1);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_int_ge(find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_NSEC, HOSTNAME), 0);

	/* ANY on the instance: SRV and TXT */
	advance(1100);
	n_sent = 0;
	query(INSTANCE, OTA_DNS_TYPE_ANY, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 1);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.ancount, 2);

	/* other names, other classes: nothing */
	n_sent = 0;
	query("other.local", OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN);
	query("_http._tcp.local", OTA_DNS_TYPE_PTR, OTA_DNS_CLASS_IN);
	query(HOSTNAME, OTA_DNS_TYPE_A, 3 /* CH */);
	advance(600);
	ck_assert_uint_eq(n_sent, 0);
}
END_TEST

START_TEST(test_query_compressed_questions)
{
	struct qb q;
	struct parsed p;

	bring_up();
	/* two questions, the second one compressed against the first (RFC 1035 §4.1.4) */
	qb_header(&q, 0, 0, 2, 0, 0, 0);
	qb_question(&q, INSTANCE, OTA_DNS_TYPE_SRV, 1);
	/* "host.local": label + pointer to "local" at the end of the first name */
	q.b[q.len++] = (uint8_t)strlen(HOST);
	memcpy(q.b + q.len, HOST, strlen(HOST));
	q.len += strlen(HOST);
	qb_u16(&q, (uint16_t)(0xC000 | (12 + 1 + strlen(HOST) + 9 + 5)));
	qb_u16(&q, OTA_DNS_TYPE_A);
	qb_u16(&q, 1);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	ck_assert_uint_eq(n_sent, 1);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.ancount, 2);
	ck_assert_int_ge(find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_SRV, INSTANCE), 0);
	ck_assert_int_ge(find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_A, HOSTNAME), 0);
}
END_TEST

START_TEST(test_qu_bit)
{
	struct parsed p;

	bring_up();
	/* A was multicast (announced) within a quarter of its TTL: unicast answer */
	query(HOSTNAME, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN | OTA_DNS_QU_BIT);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].ip, PEER_IP);
	ck_assert_uint_eq(sent[0].port, 5353);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.id, 0);
	ck_assert_uint_eq(p.hdr.qdcount, 0);
	ck_assert_int_ge(find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_A, HOSTNAME), 0);

	/* not multicast for more than TTL/4 (30 s): multicast instead (RFC 6762 §5.4) */
	advance(31000);
	n_sent = 0;
	query(HOSTNAME, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN | OTA_DNS_QU_BIT);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].ip, OTA_MDNS_GROUP);

	/* a QU question for the PTR shortly after: unicast at once */
	n_sent = 0;
	query("_arduino._tcp.local", OTA_DNS_TYPE_PTR, OTA_DNS_CLASS_IN | OTA_DNS_QU_BIT);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].ip, PEER_IP);
}
END_TEST

START_TEST(test_legacy_unicast)
{
	struct qb q;
	struct parsed p;
	int i;

	bring_up();
	qb_header(&q, 0x1234, 0x0100 /* RD, as dig sets it */, 1, 0, 0, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN);
	ck_assert_int_eq(deliver(&q, PEER_IP, 40000), 0);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].ip, PEER_IP);
	ck_assert_uint_eq(sent[0].port, 40000);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.id, 0x1234);
	ck_assert_uint_eq(p.hdr.flags & 0x8000, 0x8000);
	/* the question is repeated (RFC 6762 §6.7) */
	ck_assert_uint_eq(p.hdr.qdcount, 1);
	ck_assert_str_eq(p.names[0], HOSTNAME);
	ck_assert_uint_eq(p.recs[0].type, OTA_DNS_TYPE_A);
	i = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_A, HOSTNAME);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_le(p.recs[i].ttl, 10);
	ck_assert(!p.recs[i].top_bit); /* no cache-flush bit in legacy answers */

	/* a PTR browse through a plain resolver: answered at once, all TTLs <= 10 */
	n_sent = 0;
	qb_header(&q, 0xbeef, 0, 1, 0, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, OTA_DNS_CLASS_IN);
	ck_assert_int_eq(deliver(&q, PEER_IP, 51000), 0);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].port, 51000);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.id, 0xbeef);
	ck_assert_uint_gt(p.n, 4);
	for (unsigned k = 0; k < p.n; k++) {
		if (p.recs[k].section == OTA_DNS_QUESTION)
			continue;
		ck_assert_uint_le(p.recs[k].ttl, 10);
		ck_assert(!p.recs[k].top_bit);
	}
	/* SRV target written in full for resolvers that do not expect compression there */
	i = find(&p, OTA_DNS_ADDITIONAL, OTA_DNS_TYPE_SRV, INSTANCE);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(p.recs[i].rdlength, 6 + strlen(HOST) + 8);
}
END_TEST

START_TEST(test_known_answer_suppression)
{
	struct qb q;

	bring_up();
	/* the querier already has our PTR with more than half its TTL: no answer */
	qb_header(&q, 0, 0, 1, 1, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	qb_rr_ptr(&q, "_arduino._tcp.local", 3000, INSTANCE);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	advance(600);
	ck_assert_uint_eq(n_sent, 0);

	/* with less than half the TTL left it is answered */
	qb_header(&q, 0, 0, 1, 1, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	qb_rr_ptr(&q, "_arduino._tcp.local", 2000, INSTANCE);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	advance(200);
	ck_assert_uint_eq(n_sent, 1);

	/* a known answer for some other instance does not suppress ours */
	advance(1100);
	n_sent = 0;
	qb_header(&q, 0, 0, 1, 1, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	qb_rr_ptr(&q, "_arduino._tcp.local", 4500, "other._arduino._tcp.local");
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	advance(200);
	ck_assert_uint_eq(n_sent, 1);

	/* TC: more known answers follow; the continuation suppresses the delayed answer */
	advance(1100);
	n_sent = 0;
	qb_header(&q, 0, OTA_DNS_FLAG_TC, 1, 0, 0, 0);
	qb_question(&q, "_arduino._tcp.local", OTA_DNS_TYPE_PTR, 1);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	advance(300);
	ck_assert_uint_eq(n_sent, 0);
	qb_header(&q, 0, 0, 0, 1, 0, 0);
	qb_rr_ptr(&q, "_arduino._tcp.local", 4500, INSTANCE);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	advance(600);
	ck_assert_uint_eq(n_sent, 0);
}
END_TEST

/* the names carried by the first question of a probe */
static void
probe_names(const struct sent *s, char *host, char *instance)
{
	struct parsed p;

	parse(s->data, s->len, &p);
	ck_assert_uint_eq(p.hdr.flags, 0);
	ck_assert_uint_eq(p.hdr.qdcount, 2);
	ck_assert_uint_eq(p.hdr.nscount, 3);
	strcpy(host, p.names[0]);
	strcpy(instance, p.names[1]);
}

START_TEST(test_probe_announce_timing)
{
	struct parsed p;
	uint32_t start = now;
	uint32_t wait;

	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	wait = ota_mdns_poll(&m, now);
	ck_assert_uint_lt(wait, 250);
	advance(6000);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);
	ck_assert_uint_eq(ota_mdns_poll(&m, now), UINT32_MAX);
	ck_assert_uint_eq(n_sent, 5);

	/* three probes, 250 ms apart, the first within 250 ms of the start */
	ck_assert_uint_lt(sent[0].at - start, 250);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(sent[i].ip, OTA_MDNS_GROUP);
		parse(sent[i].data, sent[i].len, &p);
		ck_assert_uint_eq(p.hdr.flags, 0); /* a query */
		ck_assert_uint_eq(p.hdr.qdcount, 2);
		ck_assert_str_eq(p.names[0], HOSTNAME);
		ck_assert_uint_eq(p.recs[0].type, OTA_DNS_TYPE_ANY);
		ck_assert(p.recs[0].top_bit); /* QU */
		ck_assert_str_eq(p.names[1], INSTANCE);
		/* the proposed records in the authority section */
		ck_assert_uint_eq(p.hdr.nscount, 3);
		ck_assert_int_ge(find(&p, OTA_DNS_AUTHORITY, OTA_DNS_TYPE_A, HOSTNAME), 0);
		ck_assert_int_ge(find(&p, OTA_DNS_AUTHORITY, OTA_DNS_TYPE_SRV, INSTANCE), 0);
		ck_assert_int_ge(find(&p, OTA_DNS_AUTHORITY, OTA_DNS_TYPE_TXT, INSTANCE), 0);
		if (i > 0)
			ck_assert_uint_eq(sent[i].at - sent[i - 1].at, 250);
	}
	/* announcements: 250 ms after the last probe, then one second later */
	ck_assert_uint_eq(sent[3].at - sent[2].at, 250);
	ck_assert_uint_eq(sent[4].at - sent[3].at, 1000);
	for (int i = 3; i < 5; i++) {
		int k;

		ck_assert_uint_eq(sent[i].ip, OTA_MDNS_GROUP);
		parse(sent[i].data, sent[i].len, &p);
		ck_assert_uint_eq(p.hdr.flags, 0x8400);
		ck_assert_uint_eq(p.hdr.ancount, 5);
		k = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_PTR, "_arduino._tcp.local");
		ck_assert_int_ge(k, 0);
		ck_assert(!p.recs[k].top_bit);
		k = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_PTR, "_services._dns-sd._udp.local");
		ck_assert_int_ge(k, 0);
		k = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_SRV, INSTANCE);
		ck_assert(p.recs[k].top_bit);
		k = find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_A, HOSTNAME);
		ck_assert(p.recs[k].top_bit);
	}

	/* no queries answered while probing: start again and ask during the probes */
	ck_assert_int_eq(ota_mdns_stop(&m, now), 0);
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), 0);
	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	n_sent = 0;
	run_until(1);
	query(HOSTNAME, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN);
	ck_assert_uint_eq(n_sent, 1);
}
END_TEST

START_TEST(test_goodbye)
{
	struct parsed p;

	bring_up();
	ck_assert_int_eq(ota_mdns_stop(&m, now), 0);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_STOPPED);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].ip, OTA_MDNS_GROUP);
	parse(sent[0].data, sent[0].len, &p);
	ck_assert_uint_eq(p.hdr.ancount, 5);
	for (unsigned i = 0; i < p.n; i++)
		ck_assert_uint_eq(p.recs[i].ttl, 0);
	ck_assert_int_ge(find(&p, OTA_DNS_ANSWER, OTA_DNS_TYPE_PTR, "_arduino._tcp.local"), 0);

	/* stopped: silent */
	n_sent = 0;
	query(HOSTNAME, OTA_DNS_TYPE_A, OTA_DNS_CLASS_IN);
	advance(3000);
	ck_assert_uint_eq(n_sent, 0);

	/* stopping before the names were ours says no goodbye */
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), 0);
	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	advance(300);
	n_sent = 0;
	ck_assert_int_eq(ota_mdns_stop(&m, now), 0);
	ck_assert_uint_eq(n_sent, 0);
}
END_TEST

static bool
packet_has(const struct sent *s, const char *needle)
{
	return memmem(s->data, s->len, needle, strlen(needle)) != NULL;
}

START_TEST(test_reboot_new_txt)
{
	bring_up();
	ck_assert_int_eq(ota_mdns_stop(&m, now), 0);
	ck_assert(packet_has(&sent[0], "fw_version=1.2.3"));

	/* "reboot" into a new image: new init, probes, announcements with the new TXT */
	cfg.fw_version = "1.3.0";
	cfg.fw_sha256[0] = 0xab;
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), 0);
	n_sent = 0;
	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	advance(3000);
	ck_assert_uint_eq(n_sent, 5);
	for (int i = 0; i < 5; i++) {
		ck_assert(packet_has(&sent[i], "fw_version=1.3.0"));
		ck_assert(packet_has(&sent[i], "fw_sha256=ab01020304050607"));
	}

	/* a change while running: announced again, no new probes (RFC 6762 §8.4) */
	n_sent = 0;
	cfg.fw_version = "1.3.1";
	ck_assert_int_eq(ota_mdns_update(&m, &cfg, now), 0);
	advance(3000);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert_uint_eq(sent[1].at - sent[0].at, 1000);
	for (int i = 0; i < 2; i++) {
		struct parsed p;
		parse(sent[i].data, sent[i].len, &p);
		ck_assert_uint_eq(p.hdr.flags, 0x8400);
		ck_assert(packet_has(&sent[i], "fw_version=1.3.1"));
	}
	/* nothing changed: nothing sent */
	n_sent = 0;
	ck_assert_int_eq(ota_mdns_update(&m, &cfg, now), 0);
	advance(3000);
	ck_assert_uint_eq(n_sent, 0);

	/* a new host name: goodbye for the old one, then probing for the new one */
	cfg.hostname = "lamp";
	ck_assert_int_eq(ota_mdns_update(&m, &cfg, now), 0);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert(packet_has(&sent[0], HOST));
	advance(3000);
	ck_assert_uint_eq(n_sent, 6);
	ck_assert(packet_has(&sent[1], "\x04lamp\x05local"));
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);
}
END_TEST

static void
inject_response_a(const char *name, uint32_t ip)
{
	struct qb q;

	qb_header(&q, 0, 0x8400, 0, 1, 0, 0);
	qb_rr_a(&q, name, 120, ip);
	ck_assert_int_eq(deliver(&q, IP(192, 168, 7, 99), 5353), 0);
}

START_TEST(test_conflict_rename)
{
	char host[300], instance[300], label[80];
	struct qb q;

	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	run_until(1);

	/* somebody answers for our host name with another address: we become name-2 */
	inject_response_a(HOSTNAME, IP(192, 168, 7, 99));
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_PROBING);
	ck_assert_int_eq(ota_mdns_get_hostname(&m, label, sizeof(label)), (int)strlen(HOST) + 2);
	ck_assert_str_eq(label, HOST "-2");
	ck_assert_int_eq(ota_mdns_get_instance(&m, label, sizeof(label)), (int)strlen(HOST));
	n_sent = 0;
	run_until(1);
	probe_names(&sent[0], host, instance);
	ck_assert_str_eq(host, HOST "-2.local");
	ck_assert_str_eq(instance, INSTANCE);

	/* then for the instance (an SRV elsewhere): the instance becomes name-2 too */
	qb_header(&q, 0, 0x8400, 0, 1, 0, 0);
	qb_rr_srv(&q, INSTANCE, 120, 8266, "other.local");
	ck_assert_int_eq(deliver(&q, IP(192, 168, 7, 99), 5353), 0);
	/* and the new host name too: name-3 */
	inject_response_a(HOST "-2.local", IP(192, 168, 7, 98));
	ota_mdns_get_hostname(&m, label, sizeof(label));
	ck_assert_str_eq(label, HOST "-3");
	ota_mdns_get_instance(&m, label, sizeof(label));
	ck_assert_str_eq(label, HOST "-2");

	/* identical data (our own record seen from a cache) and goodbyes are no conflict */
	inject_response_a(HOST "-3.local", OUR_IP);
	{
		struct qb g;
		qb_header(&g, 0, 0x8400, 0, 1, 0, 0);
		qb_rr_a(&g, HOST "-3.local", 0, IP(1, 2, 3, 4));
		ck_assert_int_eq(deliver(&g, IP(192, 168, 7, 99), 5353), 0);
	}
	ota_mdns_get_hostname(&m, label, sizeof(label));
	ck_assert_str_eq(label, HOST "-3");

	n_sent = 0;
	advance(3000);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);
	ck_assert_uint_eq(n_sent, 5);
	ck_assert(packet_has(&sent[4], HOST "-3"));
	ck_assert(packet_has(&sent[4], HOST "-2\x08_arduino"));

	/* a conflict once running: back to probing under the same name (RFC 6762 §9) */
	inject_response_a(HOST "-3.local", IP(192, 168, 7, 97));
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_PROBING);
	ota_mdns_get_hostname(&m, label, sizeof(label));
	ck_assert_str_eq(label, HOST "-3");
	/* the other host defends: now we rename */
	inject_response_a(HOST "-3.local", IP(192, 168, 7, 97));
	ota_mdns_get_hostname(&m, label, sizeof(label));
	ck_assert_str_eq(label, HOST "-4");
}
END_TEST

START_TEST(test_conflict_long_name)
{
	char label[80];
	static const char long_name[] =
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"; /* 63 */

	cfg.hostname = long_name;
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), 0);
	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	run_until(1);
	{
		char name[80];
		snprintf(name, sizeof(name), "%s.local", long_name);
		inject_response_a(name, IP(10, 0, 0, 1));
	}
	ck_assert_int_eq(ota_mdns_get_hostname(&m, label, sizeof(label)), 63);
	ck_assert_str_eq(label + 61, "-2");
	ck_assert_int_eq(memcmp(label, long_name, 61), 0);

	/* bad configurations */
	cfg.hostname = "a.b";
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), OTA_MDNS_E_ARGS);
	cfg.hostname = "";
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), OTA_MDNS_E_ARGS);
	cfg.hostname = "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd";
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), OTA_MDNS_E_ARGS);
	cfg.hostname = "ok";
	cfg.ipv4 = 0;
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, send_cb, &m), OTA_MDNS_E_ARGS);
	cfg.ipv4 = OUR_IP;
	ck_assert_int_eq(ota_mdns_init(&m, &cfg, NULL, &m), OTA_MDNS_E_ARGS);
}
END_TEST

START_TEST(test_probe_tiebreak)
{
	struct qb q;
	uint32_t t0;

	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	run_until(1);

	/* another prober for our host name with a lower address: we win and go on */
	qb_header(&q, 0, 0, 1, 0, 1, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_ANY, 1);
	qb_rr_a(&q, HOSTNAME, 120, IP(192, 168, 7, 1));
	ck_assert_int_eq(deliver(&q, IP(192, 168, 7, 1), 5353), 0);
	advance(250);
	ck_assert_uint_eq(n_sent, 2);

	/* one with a higher address: we lose, wait a second and probe again, same name */
	qb_header(&q, 0, 0, 1, 0, 1, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_ANY, 1);
	qb_rr_a(&q, HOSTNAME, 120, IP(192, 168, 7, 200));
	ck_assert_int_eq(deliver(&q, IP(192, 168, 7, 200), 5353), 0);
	t0 = now;
	n_sent = 0;
	advance(999);
	ck_assert_uint_eq(n_sent, 0);
	advance(2);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].at - t0, 1000);
	{
		char host[300], instance[300];
		probe_names(&sent[0], host, instance);
		ck_assert_str_eq(host, HOSTNAME);
	}
	/* for the instance: TXT sorts first; a smaller TXT than ours loses */
	n_sent = 0;
	run_until(1);
	qb_header(&q, 0, 0, 1, 0, 1, 0);
	qb_question(&q, INSTANCE, OTA_DNS_TYPE_ANY, 1);
	qb_rr_start(&q, INSTANCE, OTA_DNS_TYPE_TXT, 1, 4500);
	qb_u16(&q, 4);
	memcpy(q.b + q.len, "\003a=1", 4);
	q.len += 4;
	ck_assert_int_eq(deliver(&q, IP(192, 168, 7, 200), 5353), 0);
	advance(250);
	ck_assert_uint_eq(n_sent, 2);
	/* an SRV alone sorts after our TXT: it wins, we wait a second */
	qb_header(&q, 0, 0, 1, 0, 1, 0);
	qb_question(&q, INSTANCE, OTA_DNS_TYPE_ANY, 1);
	qb_rr_srv(&q, INSTANCE, 120, 1, "other.local");
	ck_assert_int_eq(deliver(&q, IP(192, 168, 7, 200), 5353), 0);
	advance(999);
	ck_assert_uint_eq(n_sent, 2);
	advance(2);
	ck_assert_uint_eq(n_sent, 3);

	advance(2000);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);

	/* once running, a probe for our name is answered at once (defence) */
	advance(1000);
	n_sent = 0;
	qb_header(&q, 0, 0, 1, 0, 1, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_ANY, 1);
	qb_rr_a(&q, HOSTNAME, 120, IP(192, 168, 7, 200));
	ck_assert_int_eq(deliver(&q, IP(192, 168, 7, 200), 5353), 0);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].ip, OTA_MDNS_GROUP);
}
END_TEST

START_TEST(test_ignored_sources)
{
	struct qb q;

	bring_up();
	/* off-link querier (RFC 6762 §11) */
	qb_header(&q, 0, 0, 1, 0, 0, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_A, 1);
	ck_assert_int_eq(deliver(&q, IP(10, 1, 2, 3), 5353), 0);
	/* our own looped-back multicast */
	ck_assert_int_eq(deliver(&q, OUR_IP, 5353), 0);
	/* opcode 1 and rcode 1 are ignored (RFC 6762 §18.3, §18.11) */
	qb_header(&q, 0, 0x0800, 1, 0, 0, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_A, 1);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	qb_header(&q, 0, 0x0001, 1, 0, 0, 0);
	qb_question(&q, HOSTNAME, OTA_DNS_TYPE_A, 1);
	ck_assert_int_eq(deliver(&q, PEER_IP, 5353), 0);
	/* a response from a port other than 5353 is no conflict (RFC 6762 §6) */
	qb_header(&q, 0, 0x8400, 0, 1, 0, 0);
	qb_rr_a(&q, HOSTNAME, 120, IP(192, 168, 7, 99));
	ck_assert_int_eq(deliver(&q, PEER_IP, 40000), 0);
	advance(2000);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);
}
END_TEST

START_TEST(test_clock_wraps)
{
	now = 0xFFFFFF00u;
	ck_assert_int_eq(ota_mdns_start(&m, now), 0);
	advance(4000);
	ck_assert_int_eq(ota_mdns_get_state(&m), OTA_MDNS_RUNNING);
	ck_assert_uint_eq(n_sent, 5);
	ck_assert_uint_eq((uint32_t)(sent[4].at - sent[3].at), 1000);
}
END_TEST

static Suite *
mdns_suite(void)
{
	Suite *s = suite_create("mdns");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_build_and_parse_back);
	tcase_add_test(tc, test_txt_record_exact);
	tcase_add_test(tc, test_name_compression);
	tcase_add_test(tc, test_read_name_compressed);
	tcase_add_test(tc, test_read_name_malformed);
	tcase_add_test(tc, test_malformed_packets_ignored);
	tcase_add_test(tc, test_query_each_type);
	tcase_add_test(tc, test_query_compressed_questions);
	tcase_add_test(tc, test_qu_bit);
	tcase_add_test(tc, test_legacy_unicast);
	tcase_add_test(tc, test_known_answer_suppression);
	tcase_add_test(tc, test_probe_announce_timing);
	tcase_add_test(tc, test_goodbye);
	tcase_add_test(tc, test_reboot_new_txt);
	tcase_add_test(tc, test_conflict_rename);
	tcase_add_test(tc, test_conflict_long_name);
	tcase_add_test(tc, test_probe_tiebreak);
	tcase_add_test(tc, test_ignored_sources);
	tcase_add_test(tc, test_clock_wraps);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(mdns_suite());
}
