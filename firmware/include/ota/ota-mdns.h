/* SPDX-License-Identifier: MIT */
/*
 * ota-mdns.h - a socket-free mDNS responder (RFC 6762/6763) announcing _arduino._tcp
 *
 * One host, IPv4 only. The port feeds every UDP datagram received on port 5353 (and on
 * nothing else) to ota_mdns_on_packet(), calls ota_mdns_poll() at least when the
 * returned delay has passed, and sends what the core hands to its send callback. IPv4
 * addresses are host byte order (192.168.0.1 is 0xC0A80001). Times are milliseconds of
 * a free-running clock; wrap-around of the 32-bit value is handled.
 *
 * The DNS message reader below is pure and bounds-checked; it is shared with the fuzz
 * target and the tests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-errors.h"

/* return codes: 0 or one of the core's common OTA_E_* codes */
#define OTA_MDNS_E_ARGS OTA_E_BAD_ARGS	    /* bad arguments or configuration */
#define OTA_MDNS_E_MALFORMED OTA_E_PROTOCOL /* the DNS message is not well formed */
#define OTA_MDNS_E_NOSPACE OTA_E_NO_SPACE   /* an output buffer is too small */
#define OTA_MDNS_E_STATE OTA_E_BAD_STATE    /* not allowed in the current state */

#define OTA_MDNS_PORT 5353
#define OTA_MDNS_GROUP 0xE00000FBu /* 224.0.0.251 */
#define OTA_MDNS_PACKET_MAX 1500
#define OTA_MDNS_LABEL_MAX 63
#define OTA_MDNS_NAME_MAX 255 /* wire form, including the root label */

/* RFC 6762 §10: host-name records 120 s, everything else 75 minutes */
#define OTA_MDNS_TTL_HOST 120
#define OTA_MDNS_TTL_OTHER 4500
/* RFC 6762 §6.7: legacy unicast answers carry at most this TTL */
#define OTA_MDNS_TTL_LEGACY 10

#define OTA_MDNS_PROBE_COUNT 3
#define OTA_MDNS_PROBE_INTERVAL_MS 250
#define OTA_MDNS_ANNOUNCE_COUNT 2
#define OTA_MDNS_ANNOUNCE_INTERVAL_MS 1000

/* limits on the configured strings, so the TXT record always fits one packet */
#define OTA_MDNS_BOARD_MAX 40
#define OTA_MDNS_VERSION_MAX 40
#define OTA_MDNS_CHIP_MAX 16

/* DNS constants */
#define OTA_DNS_TYPE_A 1
#define OTA_DNS_TYPE_PTR 12
#define OTA_DNS_TYPE_TXT 16
#define OTA_DNS_TYPE_AAAA 28
#define OTA_DNS_TYPE_SRV 33
#define OTA_DNS_TYPE_NSEC 47
#define OTA_DNS_TYPE_ANY 255
#define OTA_DNS_CLASS_IN 1
#define OTA_DNS_CLASS_ANY 255
#define OTA_DNS_CLASS_MASK 0x7fff
#define OTA_DNS_QU_BIT 0x8000	       /* in a question's class: unicast response wanted */
#define OTA_DNS_CACHE_FLUSH_BIT 0x8000 /* in a record's class: unique record */
#define OTA_DNS_FLAG_QR 0x8000
#define OTA_DNS_FLAG_AA 0x0400
#define OTA_DNS_FLAG_TC 0x0200

/* ---- DNS message reader ---- */

/* a domain name, decompressed, in wire form: length-prefixed labels ending with 0 */
struct ota_dns_name {
	uint8_t len; /* bytes used in wire[], including the final 0 */
	uint8_t wire[OTA_MDNS_NAME_MAX];
};

struct ota_dns_header {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	uint16_t ancount;
	uint16_t nscount;
	uint16_t arcount;
};

enum ota_dns_section {
	OTA_DNS_QUESTION,
	OTA_DNS_ANSWER,
	OTA_DNS_AUTHORITY,
	OTA_DNS_ADDITIONAL,
};

/* one question or resource record; rdata stays in the packet (it may hold pointers) */
struct ota_dns_record {
	enum ota_dns_section section;
	struct ota_dns_name name;
	uint16_t type;
	uint16_t klass;	  /* without the QU / cache-flush bit */
	bool top_bit;	  /* QU for questions, cache-flush for records */
	uint32_t ttl;	  /* records only */
	size_t rdata_off; /* offset of rdata in the packet; records only */
	uint16_t rdlength;
};

struct ota_dns_reader {
	const uint8_t *pkt;
	size_t len;
	size_t off;
	struct ota_dns_header hdr;
	uint32_t index; /* records read so far, over all sections */
};

/**
 * ota_dns_reader_init:
 *
 * Reads the 12-byte header. Fails with OTA_MDNS_E_MALFORMED when the packet is shorter,
 * or when the section counts cannot fit in it (each question needs 5 bytes, each record 11).
 */
int ota_dns_reader_init(struct ota_dns_reader *r, const uint8_t *pkt, size_t len);

/**
 * ota_dns_reader_next:
 *
 * Reads the next question or record into @rec, in packet order.
 *
 * Returns: 1 when a record was read, 0 at the end of the message, OTA_MDNS_E_MALFORMED on
 * a truncated record, a bad name or an rdlength beyond the packet.
 */
int ota_dns_reader_next(struct ota_dns_reader *r, struct ota_dns_record *rec);

/**
 * ota_dns_read_name:
 *
 * Decompresses the name at *@off of @pkt into @out and moves *@off past it (past the
 * first pointer when there is one). Pointers must point backwards, labels are at most 63
 * bytes, the whole name at most 255, and the 0x40/0x80 label types are rejected.
 */
int ota_dns_read_name(const uint8_t *pkt, size_t len, size_t *off, struct ota_dns_name *out);

/**
 * ota_dns_rdata_canonical:
 *
 * Copies the rdata of @rec into @out with the names in PTR, SRV and NSEC decompressed, so
 * that it compares byte for byte with another copy of the same record (RFC 6762 §8.2).
 * Checks the layout of A (4 bytes), SRV, PTR and TXT (strings inside rdlength).
 */
int ota_dns_rdata_canonical(const uint8_t *pkt,
			    size_t len,
			    const struct ota_dns_record *rec,
			    uint8_t *out,
			    size_t out_size,
			    size_t *out_len);

/* case-insensitive (ASCII) comparison of two names: true when equal */
bool ota_dns_name_equal(const struct ota_dns_name *a, const struct ota_dns_name *b);

/**
 * ota_dns_name_to_text:
 *
 * Presentation form without the final dot: "esp32-1.local"; '.' and '\' inside a label are
 * escaped with '\', bytes outside 0x21..0x7e as \DDD. Returns the length, or
 * OTA_MDNS_E_NOSPACE (out is then still NUL-terminated, cut short).
 */
int ota_dns_name_to_text(const struct ota_dns_name *name, char *out, size_t out_size);

/* builds a name from labels given as NUL-terminated strings, ending with a NULL */
int ota_dns_name_from_labels(struct ota_dns_name *out, const char *const *labels);

/* ---- responder ---- */

struct ota_mdns_config {
	const char *hostname; /* one label, "esp32-a0b1c2d3e4f5"; at most 63 bytes */
	const char *instance; /* service instance label; NULL or "" means the hostname */
	uint32_t ipv4;	      /* our address */
	uint32_t netmask;     /* unicast replies only go on-link; 0 disables the check */
	uint16_t ota_port;    /* SRV port: the espota port */
	/* TXT values */
	const char *board; /* "esp32dev"; NULL means "generic" */
	bool auth_upload;
	const char *fw_version;
	uint8_t fw_sha256[32]; /* of the running image; the first 8 bytes go out as 16 hex */
	uint16_t log_port;
	uint8_t mac[6];	  /* goes out as "a0:b1:c2:d3:e4:f5" */
	const char *chip; /* "esp32", "esp8266", ... */
	uint16_t http_port; /* TXT http_port=<n>, only when it is neither 0 nor 80 */
};

/* dst_ip OTA_MDNS_GROUP with dst_port 5353 means "multicast"; otherwise a unicast reply */
typedef void (*ota_mdns_send_fn)(
    void *user, uint32_t dst_ip, uint16_t dst_port, const uint8_t *data, size_t len);

enum ota_mdns_state {
	OTA_MDNS_IDLE,	     /* initialised, not started */
	OTA_MDNS_PROBING,    /* 3 probes, 250 ms apart */
	OTA_MDNS_ANNOUNCING, /* unsolicited responses, 1 s apart */
	OTA_MDNS_RUNNING,    /* answering queries */
	OTA_MDNS_STOPPED,    /* goodbye sent */
};

/* our records, as bits in the sets below */
enum ota_mdns_rec {
	OTA_MDNS_REC_PTR_ENUM, /* _services._dns-sd._udp.local PTR _arduino._tcp.local */
	OTA_MDNS_REC_PTR_SVC,  /* _arduino._tcp.local PTR <instance>._arduino._tcp.local */
	OTA_MDNS_REC_SRV,
	OTA_MDNS_REC_TXT,
	OTA_MDNS_REC_A,
	OTA_MDNS_REC_NSEC_INSTANCE, /* "only SRV and TXT exist" */
	OTA_MDNS_REC_NSEC_HOST,	    /* "only A exists": the negative answer for AAAA */
	OTA_MDNS_REC_COUNT,
};

/* the small fields first: on Xtensa short offsets make shorter code */
struct ota_mdns {
	/* configuration (copied) */
	uint32_t ipv4;
	uint32_t netmask;
	uint16_t ota_port;
	uint16_t txt_len;
	/* current names: base, or base-N after conflicts */
	unsigned host_suffix;
	unsigned instance_suffix;

	ota_mdns_send_fn send;
	void *user;
	uint32_t rng;

	enum ota_mdns_state state;
	unsigned step; /* probes or announcements sent in this state */
	uint32_t next_ms;

	/* rate limits (RFC 6762 §6.2, §8.1) */
	uint32_t last_multicast_ms[OTA_MDNS_REC_COUNT];
	bool multicast_once[OTA_MDNS_REC_COUNT];
	uint32_t conflict_window_ms;
	unsigned conflicts_in_window;

	/* a delayed multicast answer (shared records, RFC 6762 §6) */
	uint32_t pending;
	uint32_t pending_ms;
	uint32_t pending_src;
	bool pending_tc;

	unsigned conflicts; /* total, for the port's diagnostics */

	char host_base[OTA_MDNS_LABEL_MAX + 1];
	char instance_base[OTA_MDNS_LABEL_MAX + 1];
	struct ota_dns_name host;	      /* host.local */
	struct ota_dns_name instance;	      /* instance._arduino._tcp.local */
	uint8_t txt[OTA_MDNS_PACKET_MAX / 3]; /* TXT rdata, built once */
	uint8_t buf[OTA_MDNS_PACKET_MAX];
	uint8_t scratch[2][OTA_MDNS_PACKET_MAX / 3];
};

/**
 * ota_mdns_init:
 *
 * Copies @cfg and checks it (labels 1..63 bytes, strings within the limits above, an
 * address). Nothing is sent before ota_mdns_start().
 */
int ota_mdns_init(struct ota_mdns *m,
		  const struct ota_mdns_config *cfg,
		  ota_mdns_send_fn send,
		  void *user);

/* starts probing; the first probe goes out 0-250 ms later from ota_mdns_poll() */
int ota_mdns_start(struct ota_mdns *m, uint32_t now_ms);

/**
 * ota_mdns_update:
 *
 * New configuration while running ("rebooted into a new image", new address, password
 * set). Changed names start probing again (after a goodbye for the old service pointer);
 * changed data is announced again (RFC 6762 §8.4).
 */
int ota_mdns_update(struct ota_mdns *m, const struct ota_mdns_config *cfg, uint32_t now_ms);

/* sends goodbye packets (TTL 0) for every record once it was announced, then stops */
int ota_mdns_stop(struct ota_mdns *m, uint32_t now_ms);

/**
 * ota_mdns_on_packet:
 *
 * One UDP datagram received on port 5353 from @src_ip:@src_port. Answers go out through
 * the send callback, at once or from a later ota_mdns_poll().
 *
 * Returns: 0, or OTA_MDNS_E_MALFORMED when the packet was ignored as malformed.
 */
int ota_mdns_on_packet(struct ota_mdns *m,
		       uint32_t src_ip,
		       uint16_t src_port,
		       const uint8_t *data,
		       size_t len,
		       uint32_t now_ms);

/**
 * ota_mdns_poll:
 *
 * Sends what is due (probes, announcements, delayed answers).
 *
 * Returns: milliseconds until the next call is needed, UINT32_MAX when nothing is scheduled.
 */
uint32_t ota_mdns_poll(struct ota_mdns *m, uint32_t now_ms);

enum ota_mdns_state ota_mdns_get_state(const struct ota_mdns *m);

/* the current host label ("esp32-x" or "esp32-x-2") and instance label, NUL-terminated */
int ota_mdns_get_hostname(const struct ota_mdns *m, char *out, size_t out_size);
int ota_mdns_get_instance(const struct ota_mdns *m, char *out, size_t out_size);

/**
 * ota_mdns_build:
 *
 * Builds a response holding the @answers records (bits of enum ota_mdns_rec) and the
 * additional records they call for, as a multicast response (id 0, cache-flush bits set,
 * our TTLs), into @out. Used by the announcer, the tests and the fuzz seed generator.
 *
 * Returns: the length, or a negative error.
 */
int ota_mdns_build(struct ota_mdns *m, uint32_t answers, uint8_t *out, size_t out_size);
