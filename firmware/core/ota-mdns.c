/* SPDX-License-Identifier: MIT */
/* ota-mdns.c - mDNS responder for _arduino._tcp: message reader, builder, probe and announce */

#include "ota/ota-mdns.h"

#include "ota/ota-util.h"

#define DNS_HEADER_LEN 12
#define DNS_QUESTION_MIN 5 /* root name + type + class */
#define DNS_RECORD_MIN 11  /* root name + type + class + ttl + rdlength */
#define MAX_POINTER_HOPS 64
#define MAX_COMPRESS_NAMES 48
#define MAX_TIEBREAK 8
#define RDATA_MAX (OTA_MDNS_PACKET_MAX / 3)

/* RFC 6762 §8.1: more than 15 conflicts in 10 s and we wait 5 s before probing again */
#define CONFLICT_WINDOW_MS 10000
#define CONFLICT_LIMIT 15
#define CONFLICT_BACKOFF_MS 5000

#define ALL_PRIMARY                                                                                \
	((1u << OTA_MDNS_REC_PTR_ENUM) | (1u << OTA_MDNS_REC_PTR_SVC) | (1u << OTA_MDNS_REC_SRV) | \
	 (1u << OTA_MDNS_REC_TXT) | (1u << OTA_MDNS_REC_A))
#define BIT(r) (1u << (r))
#define SHARED_RECORDS (BIT(OTA_MDNS_REC_PTR_ENUM) | BIT(OTA_MDNS_REC_PTR_SVC))

/* fixed names in wire form; the string literal's NUL is the root label */
static const uint8_t svc_wire[] = "\x08_arduino\x04_tcp\x05local";
static const uint8_t enum_wire[] = "\x09_services\x07_dns-sd\x04_udp\x05local";
static const uint8_t local_wire[] = "\x05local";

/* ---- small helpers ---- */

/* n big-endian 16-bit fields from p */
static void
get_u16s(const uint8_t *p, uint16_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint16_t)((p[2 * i] << 8) | p[2 * i + 1]);
}

static bool
time_reached(uint32_t now, uint32_t when)
{
	return (int32_t)(now - when) >= 0;
}

static uint32_t
rng_next(struct ota_mdns *m)
{
	/* xorshift32: only spreads timers of devices that boot together, not for secrets */
	uint32_t x = m->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	m->rng = x;
	return x;
}

static uint32_t
rng_range(struct ota_mdns *m, uint32_t lo, uint32_t hi)
{
	return lo + rng_next(m) % (hi - lo + 1);
}

/* length of an uncompressed wire-form name, root label included */
static size_t
wire_len(const uint8_t *wire)
{
	size_t i = 0;

	while (wire[i] != 0)
		i += 1 + (size_t)wire[i];
	return i + 1;
}

/* is @name the uncompressed wire-form @wire (ASCII case ignored)? */
static bool
name_is(const struct ota_dns_name *name, const uint8_t *wire)
{
	size_t n = wire_len(wire);

	/* length bytes are below 64 so lowering them is harmless */
	return name->len == n && ota_equal_ci(name->wire, wire, n);
}

/* ---- reader ---- */

int
ota_dns_reader_init(struct ota_dns_reader *r, const uint8_t *pkt, size_t len)
{
	uint16_t h[6];
	size_t need;

	if (r == NULL || (pkt == NULL && len != 0))
		return OTA_MDNS_E_ARGS;
	ota_fill(r, 0, sizeof(*r));
	if (len < DNS_HEADER_LEN)
		return OTA_MDNS_E_MALFORMED;
	r->pkt = pkt;
	r->len = len;
	/* the header is six big-endian 16-bit fields */
	get_u16s(pkt, h, 6);
	r->hdr.id = h[0];
	r->hdr.flags = h[1];
	r->hdr.qdcount = h[2];
	r->hdr.ancount = h[3];
	r->hdr.nscount = h[4];
	r->hdr.arcount = h[5];
	r->off = DNS_HEADER_LEN;

	/* counts that cannot fit are rejected before any record is read */
	need = (size_t)r->hdr.qdcount * DNS_QUESTION_MIN +
	       ((size_t)r->hdr.ancount + r->hdr.nscount + r->hdr.arcount) * DNS_RECORD_MIN;
	if (need > len - DNS_HEADER_LEN)
		return OTA_MDNS_E_MALFORMED;
	return 0;
}

int
ota_dns_read_name(const uint8_t *pkt, size_t len, size_t *off, struct ota_dns_name *out)
{
	/* next: where the name ends in the packet, once a pointer was followed (never 0) */
	size_t pos, limit, next = 0, n = 0;
	unsigned hops = 0;

	if (pkt == NULL || off == NULL || out == NULL)
		return OTA_MDNS_E_ARGS;
	pos = *off;
	limit = pos;
	for (;;) {
		uint8_t c;

		if (pos >= len)
			return OTA_MDNS_E_MALFORMED;
		c = pkt[pos];
		if (c >= 0xC0) {
			size_t target;

			if (pos + 1 >= len)
				return OTA_MDNS_E_MALFORMED;
			target = ((size_t)(c & 0x3F) << 8) | pkt[pos + 1];
			/*
			 * each pointer must land before everything read so far: the targets
			 * strictly decrease, so no chain of pointers can loop
			 */
			if (target >= limit || ++hops > MAX_POINTER_HOPS)
				return OTA_MDNS_E_MALFORMED;
			if (next == 0)
				next = pos + 2;
			pos = target;
			limit = target;
			continue;
		}
		if (c >= 0x40) /* 0x40 extended and 0x80 reserved label types */
			return OTA_MDNS_E_MALFORMED;
		if (c == 0)
			break;
		/* the label's c bytes follow its length byte inside the packet (pos < len) */
		if (c >= len - pos)
			return OTA_MDNS_E_MALFORMED;
		/* room for this label and the root label after it */
		if (n + 1 + c + 1 > OTA_MDNS_NAME_MAX)
			return OTA_MDNS_E_MALFORMED;
		/* the length byte and the label in one copy */
		ota_copy(out->wire + n, pkt + pos, 1 + (size_t)c);
		n += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
	out->wire[n++] = 0;
	out->len = (uint8_t)n;
	*off = next != 0 ? next : pos + 1;
	return 0;
}

int
ota_dns_reader_next(struct ota_dns_reader *r, struct ota_dns_record *rec)
{
	/* the four section counts, in section order, as the header carries them */
	uint16_t count[4];
	uint32_t end = 0;
	uint16_t h[5];
	size_t fixed;
	unsigned s;
	int rc;

	if (r == NULL || rec == NULL || r->pkt == NULL)
		return OTA_MDNS_E_ARGS;
	get_u16s(r->pkt + 4, count, 4);
	for (s = 0; s < 4; s++) {
		end += count[s];
		if (r->index < end)
			break;
	}
	if (s == 4)
		return 0;

	ota_fill(rec, 0, sizeof(*rec));
	rec->section = (enum ota_dns_section)s;

	rc = ota_dns_read_name(r->pkt, r->len, &r->off, &rec->name);
	if (rc < 0)
		return rc;
	/* type, class, then for records the TTL and the rdata length */
	fixed = rec->section == OTA_DNS_QUESTION ? 4 : 10;
	if (!ota_range_ok(r->len, r->off, fixed))
		return OTA_MDNS_E_MALFORMED;
	get_u16s(r->pkt + r->off, h, fixed / 2);
	r->off += fixed;
	rec->type = h[0];
	rec->klass = h[1] & OTA_DNS_CLASS_MASK;
	rec->top_bit = (h[1] & 0x8000) != 0;
	if (rec->section != OTA_DNS_QUESTION) {
		rec->ttl = (uint32_t)h[2] << 16 | h[3];
		rec->rdlength = h[4];
		if (!ota_range_ok(r->len, r->off, rec->rdlength))
			return OTA_MDNS_E_MALFORMED;
		rec->rdata_off = r->off;
		r->off += rec->rdlength;
	}
	r->index++;
	return 1;
}

int
ota_dns_rdata_canonical(const uint8_t *pkt,
			size_t len,
			const struct ota_dns_record *rec,
			uint8_t *out,
			size_t out_size,
			size_t *out_len)
{
	struct ota_dns_name name;
	size_t off, end, n = 0, fixed;
	int rc;

	if (pkt == NULL || rec == NULL || out == NULL || out_len == NULL ||
	    rec->section == OTA_DNS_QUESTION)
		return OTA_MDNS_E_ARGS;
	off = rec->rdata_off;
	if (!ota_range_ok(len, off, rec->rdlength))
		return OTA_MDNS_E_MALFORMED;
	end = off + rec->rdlength;

	switch (rec->type) {
	case OTA_DNS_TYPE_A:
	case OTA_DNS_TYPE_AAAA:
		if (rec->rdlength != (rec->type == OTA_DNS_TYPE_A ? 4 : 16))
			return OTA_MDNS_E_MALFORMED;
		break;
	case OTA_DNS_TYPE_TXT:
		/* every string must end inside the rdata */
		for (size_t p = off; p < end;) {
			p += 1 + (size_t)pkt[p];
			if (p > end)
				return OTA_MDNS_E_MALFORMED;
		}
		break;
	case OTA_DNS_TYPE_SRV:
	case OTA_DNS_TYPE_PTR:
	case OTA_DNS_TYPE_NSEC:
		/* priority, weight and port come before the SRV target */
		fixed = rec->type == OTA_DNS_TYPE_SRV ? 6 : 0;
		if (rec->rdlength < fixed + 1)
			return OTA_MDNS_E_MALFORMED;
		if (fixed > out_size)
			return OTA_MDNS_E_NOSPACE;
		ota_copy(out, pkt + off, fixed);
		n = fixed;
		off += fixed;
		/* the name must lie inside the rdata: read it from a view that ends there */
		rc = ota_dns_read_name(pkt, end, &off, &name);
		if (rc < 0)
			return rc;
		if (rec->type != OTA_DNS_TYPE_NSEC && off != end)
			return OTA_MDNS_E_MALFORMED;
		if (name.len > out_size - n)
			return OTA_MDNS_E_NOSPACE;
		ota_copy(out + n, name.wire, name.len);
		n += name.len;
		break;
	default:
		break;
	}
	/* whatever follows (the whole rdata for plain types, the NSEC bitmap) is copied */
	if (end - off > out_size - n)
		return OTA_MDNS_E_NOSPACE;
	ota_copy(out + n, pkt + off, end - off);
	n += end - off;
	*out_len = n;
	return 0;
}

bool
ota_dns_name_equal(const struct ota_dns_name *a, const struct ota_dns_name *b)
{
	/* length bytes are below 64 so lowering them is harmless */
	return a->len == b->len && ota_equal_ci(a->wire, b->wire, a->len);
}

int
ota_dns_name_to_text(const struct ota_dns_name *name, char *out, size_t out_size)
{
	size_t o = 0, i = 0;

	if (name == NULL || out == NULL || out_size == 0)
		return OTA_MDNS_E_ARGS;
	out[0] = '\0';
	while (i < name->len && name->wire[i] != 0) {
		uint8_t l = name->wire[i++];

		if (o != 0) {
			if (o + 1 >= out_size)
				return OTA_MDNS_E_NOSPACE;
			out[o++] = '.';
		}
		for (uint8_t k = 0; k < l && i < name->len; k++, i++) {
			uint8_t c = name->wire[i];
			char esc[4];
			size_t n = 0;

			if (c == '.' || c == '\\') {
				esc[n++] = '\\';
				esc[n++] = (char)c;
			} else if (c > 0x20 && c < 0x7f) {
				esc[n++] = (char)c;
			} else {
				esc[n++] = '\\';
				esc[n++] = (char)('0' + c / 100);
				esc[n++] = (char)('0' + c / 10 % 10);
				esc[n++] = (char)('0' + c % 10);
			}
			if (o + n >= out_size) {
				out[o] = '\0';
				return OTA_MDNS_E_NOSPACE;
			}
			ota_copy(out + o, esc, n);
			o += n;
		}
		out[o] = '\0';
	}
	return (int)o;
}

int
ota_dns_name_from_labels(struct ota_dns_name *out, const char *const *labels)
{
	size_t n = 0;

	if (out == NULL || labels == NULL)
		return OTA_MDNS_E_ARGS;
	for (size_t k = 0; labels[k] != NULL; k++) {
		size_t l = ota_strnlen(labels[k], OTA_MDNS_LABEL_MAX + 1);

		if (l == 0 || l > OTA_MDNS_LABEL_MAX || n + 1 + l + 1 > OTA_MDNS_NAME_MAX)
			return OTA_MDNS_E_ARGS;
		out->wire[n] = (uint8_t)l;
		ota_copy(out->wire + n + 1, labels[k], l);
		n += 1 + l;
	}
	out->wire[n++] = 0;
	out->len = (uint8_t)n;
	return 0;
}

/* ---- writer with name compression ---- */

struct writer {
	uint8_t *buf;
	size_t size;
	size_t len;
	bool failed;
	unsigned n_names;
	uint16_t names[MAX_COMPRESS_NAMES]; /* offsets of labels already in the packet */
};

static void
writer_init(struct writer *w, uint8_t *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->failed = false;
	w->n_names = 0;
}

static void
put_bytes(struct writer *w, const void *p, size_t n)
{
	/* len never passes size */
	if (w->failed || n > w->size - w->len) {
		w->failed = true;
		return;
	}
	ota_copy(w->buf + w->len, p, n);
	w->len += n;
}

static void
put_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put_bytes(w, b, 2);
}

static void
put_u32(struct writer *w, uint32_t v)
{
	put_u16(w, (uint16_t)(v >> 16));
	put_u16(w, (uint16_t)v);
}

static void
put_name(struct writer *w, const uint8_t *wire, bool compress)
{
	struct ota_dns_name name;
	size_t i = 0;

	while (wire[i] != 0) {
		for (unsigned k = 0; compress && k < w->n_names; k++) {
			/* the name written there, read back from our own packet */
			size_t off = w->names[k];

			if (ota_dns_read_name(w->buf, w->len, &off, &name) == 0 &&
			    name_is(&name, wire + i)) {
				put_u16(w, (uint16_t)(0xC000 | w->names[k]));
				return;
			}
		}
		if (!w->failed && w->len <= 0x3FFF && w->n_names < MAX_COMPRESS_NAMES)
			w->names[w->n_names++] = (uint16_t)w->len;
		put_bytes(w, wire + i, 1 + (size_t)wire[i]);
		i += 1 + (size_t)wire[i];
	}
	/* the root label */
	put_bytes(w, wire + i, 1);
}

/* ---- our records ---- */

/* in this order: cache-flush bits up to MODE_GOODBYE, a compressed SRV target before MODE_LEGACY */
enum write_mode {
	MODE_MULTICAST, /* cache-flush bits, full TTLs */
	MODE_GOODBYE, /* TTL 0 */
	MODE_PROBE,   /* authority section of a probe: no cache-flush bit */
	MODE_LEGACY,  /* RFC 6762 §6.7: no cache-flush bit, TTL <= 10 s, uncompressed SRV target */
	MODE_CANONICAL, /* rdata only, uncompressed, for comparisons */
};

static bool
rec_is_unique(enum ota_mdns_rec r)
{
	return (SHARED_RECORDS & BIT(r)) == 0;
}

/* RFC 6762 §10: records that name the host live 120 s, the others 75 minutes */
#define TTL_OTHER_RECORDS \
	(BIT(OTA_MDNS_REC_PTR_ENUM) | BIT(OTA_MDNS_REC_PTR_SVC) | BIT(OTA_MDNS_REC_TXT))

static uint32_t
rec_ttl(enum ota_mdns_rec r)
{
	return TTL_OTHER_RECORDS & BIT(r) ? OTA_MDNS_TTL_OTHER : OTA_MDNS_TTL_HOST;
}

/* a quarter of record @r's TTL in ms, as two constants rather than rec_ttl(r) * 250 */
static uint32_t
quarter_ttl(int r)
{
	return TTL_OTHER_RECORDS & BIT(r) ? OTA_MDNS_TTL_OTHER * 250u : OTA_MDNS_TTL_HOST * 250u;
}

static uint16_t
rec_type(enum ota_mdns_rec r)
{
	static const uint8_t types[OTA_MDNS_REC_COUNT] = {
	    [OTA_MDNS_REC_PTR_ENUM] = OTA_DNS_TYPE_PTR,
	    [OTA_MDNS_REC_PTR_SVC] = OTA_DNS_TYPE_PTR,
	    [OTA_MDNS_REC_SRV] = OTA_DNS_TYPE_SRV,
	    [OTA_MDNS_REC_TXT] = OTA_DNS_TYPE_TXT,
	    [OTA_MDNS_REC_A] = OTA_DNS_TYPE_A,
	    [OTA_MDNS_REC_NSEC_INSTANCE] = OTA_DNS_TYPE_NSEC,
	    [OTA_MDNS_REC_NSEC_HOST] = OTA_DNS_TYPE_NSEC,
	};
	return types[r];
}

static OTA_NOINLINE const uint8_t *
rec_owner(const struct ota_mdns *m, enum ota_mdns_rec r)
{
	switch (r) {
	case OTA_MDNS_REC_PTR_ENUM:
		return enum_wire;
	case OTA_MDNS_REC_PTR_SVC:
		return svc_wire;
	case OTA_MDNS_REC_SRV:
	case OTA_MDNS_REC_TXT:
	case OTA_MDNS_REC_NSEC_INSTANCE:
		return m->instance.wire;
	default:
		return m->host.wire;
	}
}

static void
put_rdata(const struct ota_mdns *m, struct writer *w, enum ota_mdns_rec r, enum write_mode mode)
{
	bool compress = mode != MODE_CANONICAL;

	switch (r) {
	case OTA_MDNS_REC_PTR_ENUM:
	case OTA_MDNS_REC_PTR_SVC:
		put_name(w, r == OTA_MDNS_REC_PTR_ENUM ? svc_wire : m->instance.wire, compress);
		break;
	case OTA_MDNS_REC_SRV:
		put_u32(w, 0); /* priority, weight */
		put_u16(w, m->ota_port);
		/*
		 * RFC 6762 §18.14 allows compression here; plain DNS resolvers may not expect
		 * it, so not for legacy unicast (nor in the canonical form)
		 */
		put_name(w, m->host.wire, mode < MODE_LEGACY);
		break;
	case OTA_MDNS_REC_TXT:
		put_bytes(w, m->txt, m->txt_len);
		break;
	case OTA_MDNS_REC_A:
		put_u32(w, m->ipv4);
		break;
	case OTA_MDNS_REC_NSEC_INSTANCE:
	case OTA_MDNS_REC_NSEC_HOST:
		/*
		 * RFC 6762 §6.1 restricted form: next name = owner, window 0, then for the
		 * instance TXT (16) and SRV (33), for the host only A (1)
		 */
		put_name(w, rec_owner(m, r), false);
		if (r == OTA_MDNS_REC_NSEC_INSTANCE)
			put_bytes(w, "\0\5\0\0\x80\0\x40", 7);
		else
			put_bytes(w, "\0\1\x40", 3);
		break;
	default:
		w->failed = true;
		break;
	}
}

static void
put_record(const struct ota_mdns *m, struct writer *w, enum ota_mdns_rec r, enum write_mode mode)
{
	uint16_t klass = OTA_DNS_CLASS_IN;
	uint32_t ttl = rec_ttl(r);
	size_t len_at;

	if (mode <= MODE_GOODBYE && rec_is_unique(r))
		klass |= OTA_DNS_CACHE_FLUSH_BIT;
	if (mode == MODE_LEGACY && ttl > OTA_MDNS_TTL_LEGACY)
		ttl = OTA_MDNS_TTL_LEGACY;
	if (mode == MODE_GOODBYE)
		ttl = 0;

	put_name(w, rec_owner(m, r), true);
	put_u32(w, (uint32_t)rec_type(r) << 16 | klass);
	put_u32(w, ttl);
	len_at = w->len;
	put_u16(w, 0);
	put_rdata(m, w, r, mode);
	if (!w->failed) {
		size_t rdlen = w->len - len_at - 2;
		w->buf[len_at] = (uint8_t)(rdlen >> 8);
		w->buf[len_at + 1] = (uint8_t)rdlen;
	}
}

/*
 * the received record's rdata against that of our record r, both in canonical form (in
 * scratch[0] and scratch[1]; ours always fits): < 0 when theirs sorts first (RFC 6762
 * §8.2), 0 when they are the same, > 0 when theirs sorts later or cannot be read or held.
 * With @ci the bytes compare without ASCII case, and only 0 or not 0 counts.
 */
static int
rdata_cmp(struct ota_mdns *m,
	  enum ota_mdns_rec r,
	  const uint8_t *pkt,
	  size_t len,
	  const struct ota_dns_record *rec,
	  bool ci)
{
	struct writer w;
	size_t tl, n;
	int c;

	if (ota_dns_rdata_canonical(pkt, len, rec, m->scratch[0], RDATA_MAX, &tl) < 0)
		return 1;
	writer_init(&w, m->scratch[1], RDATA_MAX);
	put_rdata(m, &w, r, MODE_CANONICAL);
	/* lexicographic; of two where one is the start of the other, the shorter first */
	n = tl < w.len ? tl : w.len;
	c = ci ? !ota_equal_ci(m->scratch[0], m->scratch[1], n)
	       : ota_compare(m->scratch[0], m->scratch[1], n);
	return c != 0 ? c : (int)tl - (int)w.len;
}

/* our records named @name, with in *typed the one of them of @type (our names differ) */
static uint32_t
owned_by(const struct ota_mdns *m, const struct ota_dns_name *name, uint16_t type, uint32_t *typed)
{
	uint32_t owned = 0;

	*typed = 0;
	for (int r = 0; r < OTA_MDNS_REC_COUNT; r++) {
		if (!name_is(name, rec_owner(m, (enum ota_mdns_rec)r)))
			continue;
		owned |= BIT(r);
		if (type == rec_type((enum ota_mdns_rec)r))
			*typed |= BIT(r);
	}
	return owned;
}

/*
 * the bit of our record that the received record repeats (name, type, class, rdata), or 0;
 * in *owned our records named like it
 */
static uint32_t
record_ours(struct ota_mdns *m,
	    const uint8_t *pkt,
	    size_t len,
	    const struct ota_dns_record *rec,
	    uint32_t *owned)
{
	uint32_t typed;
	int r = 0;

	*owned = owned_by(m, &rec->name, rec->type, &typed);
	if (typed == 0 || rec->klass != OTA_DNS_CLASS_IN)
		return 0;
	while (!(typed & BIT(r)))
		r++;
	/*
	 * rdata compares case-sensitively except for the names inside it: in all our records
	 * but TXT and A (PTR, SRV and NSEC)
	 */
	return rdata_cmp(m, (enum ota_mdns_rec)r, pkt, len, rec,
			 (typed & (BIT(OTA_MDNS_REC_TXT) | BIT(OTA_MDNS_REC_A))) == 0) == 0
		   ? typed
		   : 0;
}

/* @ours (one record's bit, or 0) when the received record gives it at least half our TTL:
 * a known answer (RFC 6762 §7.1, §7.4) */
static OTA_NOINLINE uint32_t
half_ttl(const struct ota_dns_record *rec, uint32_t ours)
{
	return rec->ttl >= (ours & TTL_OTHER_RECORDS ? OTA_MDNS_TTL_OTHER : OTA_MDNS_TTL_HOST) / 2
		   ? ours
		   : 0;
}

/* records worth sending along with the answers (RFC 6763 §12, RFC 6762 §6.1) */
static uint32_t
additional_for(uint32_t answers)
{
	uint32_t add = 0;

	if (answers & BIT(OTA_MDNS_REC_PTR_SVC))
		add |= BIT(OTA_MDNS_REC_SRV) | BIT(OTA_MDNS_REC_TXT) | BIT(OTA_MDNS_REC_A) |
		       BIT(OTA_MDNS_REC_NSEC_INSTANCE) | BIT(OTA_MDNS_REC_NSEC_HOST);
	if (answers & BIT(OTA_MDNS_REC_SRV))
		add |= BIT(OTA_MDNS_REC_A) | BIT(OTA_MDNS_REC_NSEC_HOST);
	if (answers & BIT(OTA_MDNS_REC_A))
		add |= BIT(OTA_MDNS_REC_NSEC_HOST);
	return add & ~answers;
}

/* where a unicast response goes; the legacy one repeats the query's questions, with its id */
struct reply_to {
	uint32_t ip;
	uint16_t port;
	uint16_t id;
	const uint8_t *query; /* NULL but for legacy unicast */
	size_t query_len;
};

/* with the mode: the answers alone, without the additional records they call for */
#define MODE_BARE 0x100

/* a response (flags QR | AA) with @answers, and their additional records unless MODE_BARE */
static int
build_response(const struct ota_mdns *m,
	       uint8_t *out,
	       size_t size,
	       uint32_t answers,
	       unsigned mode,
	       const struct reply_to *to)
{
	struct writer w;
	uint32_t sets[2] = {answers, mode & MODE_BARE ? 0 : additional_for(answers)};
	uint32_t questions = 0; /* every question read is written */

	mode &= ~(unsigned)MODE_BARE;
	writer_init(&w, out, size);
	/* id, QR | AA, then the counts, filled in below */
	put_u16(&w, to != NULL ? to->id : 0);
	put_bytes(&w, "\x84\0\0\0\0\0\0\0\0\0", 10);

	if (to != NULL && to->query != NULL) {
		struct ota_dns_reader r;
		struct ota_dns_record rec;

		if (ota_dns_reader_init(&r, to->query, to->query_len) < 0)
			return OTA_MDNS_E_MALFORMED;
		while (r.index < r.hdr.qdcount && ota_dns_reader_next(&r, &rec) == 1) {
			put_name(&w, rec.name.wire, true);
			put_u32(&w, (uint32_t)rec.type << 16 | rec.klass |
					(rec.top_bit ? OTA_DNS_QU_BIT : 0u));
		}
		questions = r.index;
	}
	if (w.failed)
		return OTA_MDNS_E_NOSPACE;
	out[4] = (uint8_t)(questions >> 8);
	out[5] = (uint8_t)questions;
	for (int i = 0; i < 2; i++) {
		for (int r = 0; r < OTA_MDNS_REC_COUNT; r++) {
			if (sets[i] & BIT(r)) {
				put_record(m, &w, (enum ota_mdns_rec)r, (enum write_mode)mode);
				/* ancount, then arcount (after nscount): at most 7, the low byte */
				out[7 + 4 * i]++;
			}
		}
	}
	if (w.failed)
		return OTA_MDNS_E_NOSPACE;
	return (int)w.len;
}

int
ota_mdns_build(struct ota_mdns *m, uint32_t answers, uint8_t *out, size_t out_size)
{
	if (m == NULL || out == NULL)
		return OTA_MDNS_E_ARGS;
	return build_response(m, out, out_size, answers & (BIT(OTA_MDNS_REC_COUNT) - 1),
			      MODE_MULTICAST, NULL);
}

/* ---- sending ---- */

/*
 * @answers to @to, or multicast when @to is NULL. When the additional records do not fit
 * (a legacy query's questions can take the room) the answers go alone.
 */
static void
respond(struct ota_mdns *m, uint32_t answers, unsigned mode, const struct reply_to *to, uint32_t now)
{
	int len = build_response(m, m->buf, sizeof(m->buf), answers, mode, to);
	uint32_t ip = OTA_MDNS_GROUP;
	uint16_t port = OTA_MDNS_PORT;

	if (len == OTA_MDNS_E_NOSPACE)
		len = build_response(m, m->buf, sizeof(m->buf), answers, mode | MODE_BARE, to);
	if (len < 0)
		return;
	if (to != NULL) {
		ip = to->ip;
		port = to->port;
	} else {
		for (int r = 0; r < OTA_MDNS_REC_COUNT; r++) {
			if (answers & BIT(r)) {
				m->last_multicast_ms[r] = now;
				m->multicast_once[r] = true;
			}
		}
	}
	m->send(m->user, ip, port, m->buf, (size_t)len);
}

static void
send_probe(struct ota_mdns *m)
{
	struct writer w;

	writer_init(&w, m->buf, sizeof(m->buf));
	/* id 0, flags 0, 2 questions, 3 authority records: the ones we want (RFC 6762 §8.2) */
	put_bytes(&w, "\0\0\0\0\0\2\0\0\0\3\0\0", 12);
	/* QU: a defender can answer us directly (RFC 6762 §8.1) */
	for (int i = 0; i < 2; i++) {
		put_name(&w, i == 0 ? m->host.wire : m->instance.wire, true);
		put_u32(&w, (uint32_t)OTA_DNS_TYPE_ANY << 16 | OTA_DNS_CLASS_IN | OTA_DNS_QU_BIT);
	}
	put_record(m, &w, OTA_MDNS_REC_A, MODE_PROBE);
	put_record(m, &w, OTA_MDNS_REC_SRV, MODE_PROBE);
	put_record(m, &w, OTA_MDNS_REC_TXT, MODE_PROBE);
	if (!w.failed)
		m->send(m->user, OTA_MDNS_GROUP, OTA_MDNS_PORT, m->buf, w.len);
}

/* ---- names and configuration ---- */

/*
 * base, or base-N with base cut (on a UTF-8 boundary) so the label stays within 63 bytes,
 * followed by the wire-form name @tail of @tail_size bytes
 */
static void
make_name(struct ota_dns_name *out, const char *base, unsigned suffix, const uint8_t *tail,
	  size_t tail_size)
{
	uint8_t *label_out = out->wire;
	char dash_n[12];
	/* "-N", or nothing for the first name */
	size_t nd = suffix > 1 ? ota_format(dash_n, sizeof(dash_n), "-%u", suffix) : 0;
	size_t bl = ota_strnlen(base, OTA_MDNS_LABEL_MAX);

	if (bl > OTA_MDNS_LABEL_MAX - nd) {
		bl = OTA_MDNS_LABEL_MAX - nd;
		while (bl > 0 && ((uint8_t)base[bl] & 0xC0) == 0x80)
			bl--;
	}
	ota_copy(label_out + 1, base, bl);
	ota_copy(label_out + 1 + bl, dash_n, nd);
	bl += nd;
	label_out[0] = (uint8_t)bl;
	ota_copy(label_out + 1 + bl, tail, tail_size);
	out->len = (uint8_t)(1 + bl + tail_size);
}

static void
make_names(struct ota_mdns *m)
{
	make_name(&m->host, m->host_base, m->host_suffix, local_wire, sizeof(local_wire));
	make_name(&m->instance, m->instance_base, m->instance_suffix, svc_wire, sizeof(svc_wire));
}

/* one "key=value" string of the TXT record; one that does not fit is left out */
static void
txt_add(struct ota_mdns *m, const char *key, const char *value)
{
	size_t start = m->txt_len;
	/* room for the length byte, at most 255 bytes of text, and the formatter's NUL */
	size_t room = sizeof(m->txt) - start;
	size_t n;

	if (room < 3)
		return;
	if (room > 1 + 255 + 2)
		room = 1 + 255 + 2;
	n = ota_format((char *)m->txt + start + 1, room - 1, "%s%s", key, value);
	if (n + 2 >= room)
		return; /* cut: cannot happen with the limits check_config() enforces */
	m->txt[start] = (uint8_t)n;
	m->txt_len = (uint16_t)(start + 1 + n);
}

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

enum txt_key {
	TXT_BOARD,
	TXT_AUTH,
	TXT_TCP_CHECK,
	TXT_SSH,
	TXT_FW_VERSION,
	TXT_FW_SHA256,
	TXT_HTTP_UPDATE,
	TXT_LOG_PORT,
	TXT_MAC,
	TXT_CHIP,
	TXT_HTTP_PORT,
	TXT_COUNT,
};

static void
build_txt(struct ota_mdns *m, const struct ota_mdns_config *cfg)
{
	/* in the order they go out; the ones without a value are whole */
	static const char *const keys[TXT_COUNT] = {
	    "board=",	     "auth_upload=",	    "tcp_check=no", "ssh_upload=no",
	    "fw_version=", "fw_sha256=",	    "http_update=/update", "log_port=",
	    "mac=",	     "chip=",		    "http_port=",
	};
	const uint8_t *mac = cfg->mac;
	const char *values[TXT_COUNT];
	char hex[17], log_port[6], mac_text[18], http_port[6];
	/* the update server's port when http_update=/update is not on port 80 */
	unsigned n = cfg->http_port != 0 && cfg->http_port != 80 ? TXT_COUNT : TXT_COUNT - 1;

	/* check_config() has bounded board, fw_version and chip */
	values[TXT_BOARD] = cfg->board ? cfg->board : "generic";
	values[TXT_AUTH] = cfg->auth_upload ? "yes" : "no";
	values[TXT_FW_VERSION] = or_empty(cfg->fw_version);
	ota_hex(cfg->fw_sha256, 8, hex);
	values[TXT_FW_SHA256] = hex;
	ota_format(log_port, sizeof(log_port), "%u", (unsigned)cfg->log_port);
	values[TXT_LOG_PORT] = log_port;
	ota_format(mac_text, sizeof(mac_text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		   mac[2], mac[3], mac[4], mac[5]);
	values[TXT_MAC] = mac_text;
	values[TXT_CHIP] = or_empty(cfg->chip);
	ota_format(http_port, sizeof(http_port), "%u", (unsigned)cfg->http_port);
	values[TXT_HTTP_PORT] = http_port;
	values[TXT_TCP_CHECK] = values[TXT_SSH] = values[TXT_HTTP_UPDATE] = "";

	m->txt_len = 0;
	for (unsigned i = 0; i < n; i++)
		txt_add(m, keys[i], values[i]);
}

static int
check_config(const struct ota_mdns_config *cfg)
{
	/* the optional strings (NULL allowed) and their limits */
	static const uint8_t max[4] = {OTA_MDNS_LABEL_MAX, OTA_MDNS_BOARD_MAX, OTA_MDNS_VERSION_MAX,
				       OTA_MDNS_CHIP_MAX};
	const char *strs[4];
	size_t hl;

	if (cfg == NULL || cfg->hostname == NULL || cfg->ipv4 == 0)
		return OTA_MDNS_E_ARGS;
	hl = ota_strnlen(cfg->hostname, OTA_MDNS_LABEL_MAX + 1);
	if (hl == 0 || hl > OTA_MDNS_LABEL_MAX)
		return OTA_MDNS_E_ARGS;
	for (size_t i = 0; i < hl; i++) {
		if (cfg->hostname[i] == '.')
			return OTA_MDNS_E_ARGS;
	}
	strs[0] = cfg->instance;
	strs[1] = cfg->board;
	strs[2] = cfg->fw_version;
	strs[3] = cfg->chip;
	for (int i = 0; i < 4; i++) {
		if (strs[i] != NULL && ota_strnlen(strs[i], max[i] + 1u) > max[i])
			return OTA_MDNS_E_ARGS;
	}
	return 0;
}

static const char *
instance_of(const struct ota_mdns_config *cfg)
{
	return (cfg->instance != NULL && cfg->instance[0] != '\0') ? cfg->instance : cfg->hostname;
}

/*
 * is the label @field (a NUL-terminated name field of 64 bytes) the checked label @label?
 * Its NUL is compared too, which the field always has room for
 */
static bool
same_label(const char *field, const char *label)
{
	return ota_compare(field, label, ota_strnlen(label, OTA_MDNS_LABEL_MAX) + 1) == 0;
}

static void
load_config(struct ota_mdns *m, const struct ota_mdns_config *cfg)
{
	ota_copy_field(m->host_base, cfg->hostname, OTA_MDNS_LABEL_MAX);
	ota_copy_field(m->instance_base, instance_of(cfg), OTA_MDNS_LABEL_MAX);
	m->ipv4 = cfg->ipv4;
	m->netmask = cfg->netmask;
	m->ota_port = cfg->ota_port;
	build_txt(m, cfg);
	make_names(m);
}

int
ota_mdns_init(struct ota_mdns *m,
	      const struct ota_mdns_config *cfg,
	      ota_mdns_send_fn send,
	      void *user)
{
	/* per-device seed so that devices powered up together spread their probes */
	uint32_t rng;
	int rc;

	if (m == NULL || send == NULL)
		return OTA_MDNS_E_ARGS;
	rc = check_config(cfg);
	if (rc < 0)
		return rc;
	/* all zero: OTA_MDNS_IDLE, nothing pending, no conflicts */
	ota_fill(m, 0, sizeof(*m));
	m->send = send;
	m->user = user;
	m->host_suffix = 1;
	m->instance_suffix = 1;
	load_config(m, cfg);
	rng = 0x9E3779B9u ^ cfg->ipv4;
	for (size_t i = 0; i < 6; i++)
		rng = (rng ^ cfg->mac[i]) * 16777619u;
	m->rng = rng != 0 ? rng : 1;
	return 0;
}

static void
start_probing(struct ota_mdns *m, uint32_t now, uint32_t delay_ms)
{
	m->state = OTA_MDNS_PROBING;
	m->step = 0;
	m->next_ms = now + delay_ms;
	m->pending = 0;
	ota_fill(m->multicast_once, 0, sizeof(m->multicast_once));
}

int
ota_mdns_start(struct ota_mdns *m, uint32_t now_ms)
{
	if (m == NULL || m->send == NULL)
		return OTA_MDNS_E_ARGS;
	if (m->state != OTA_MDNS_IDLE && m->state != OTA_MDNS_STOPPED)
		return OTA_MDNS_E_STATE;
	/* RFC 6762 §8.1: a random 0-250 ms before the first probe */
	start_probing(m, now_ms, rng_range(m, 0, OTA_MDNS_PROBE_INTERVAL_MS - 1));
	return 0;
}

static bool
names_claimed(const struct ota_mdns *m)
{
	return m->state == OTA_MDNS_ANNOUNCING || m->state == OTA_MDNS_RUNNING;
}

/* goodbyes (TTL 0) for our records, once they were announced */
static void
say_goodbye(struct ota_mdns *m, uint32_t now)
{
	if (names_claimed(m))
		respond(m, ALL_PRIMARY, MODE_GOODBYE | MODE_BARE, NULL, now);
}

int
ota_mdns_stop(struct ota_mdns *m, uint32_t now_ms)
{
	if (m == NULL)
		return OTA_MDNS_E_ARGS;
	say_goodbye(m, now_ms);
	m->state = OTA_MDNS_STOPPED;
	m->pending = 0;
	return 0;
}

/*
 * the rdata of SRV, TXT and A (port, text, address) into @out, one of the scratch buffers
 * (free outside packet handling; these need at most 6 + 71 + 264 + 4 bytes): its length
 */
static int
announced_data(const struct ota_mdns *m, uint8_t *out)
{
	struct writer w;

	writer_init(&w, out, RDATA_MAX);
	for (int r = OTA_MDNS_REC_SRV; r <= OTA_MDNS_REC_A; r++)
		put_rdata(m, &w, (enum ota_mdns_rec)r, MODE_CANONICAL);
	return (int)w.len;
}

int
ota_mdns_update(struct ota_mdns *m, const struct ota_mdns_config *cfg, uint32_t now_ms)
{
	bool names_changed;
	int rc, old_len;

	if (m == NULL)
		return OTA_MDNS_E_ARGS;
	rc = check_config(cfg);
	if (rc < 0)
		return rc;
	names_changed = !same_label(m->host_base, cfg->hostname) ||
			!same_label(m->instance_base, instance_of(cfg));
	if (names_changed) {
		say_goodbye(m, now_ms);
		m->host_suffix = 1;
		m->instance_suffix = 1;
	}
	old_len = announced_data(m, m->scratch[0]);
	load_config(m, cfg);

	if (m->state == OTA_MDNS_IDLE || m->state == OTA_MDNS_STOPPED)
		return 0;
	if (names_changed) {
		start_probing(m, now_ms, rng_range(m, 0, OTA_MDNS_PROBE_INTERVAL_MS - 1));
	} else if (names_claimed(m) && (announced_data(m, m->scratch[1]) != old_len ||
					ota_compare(m->scratch[0], m->scratch[1], (size_t)old_len) != 0)) {
		/* RFC 6762 §8.4: changed records are announced again, like new ones */
		m->state = OTA_MDNS_ANNOUNCING;
		m->step = 0;
		m->next_ms = now_ms;
		m->pending = 0;
	}
	return 0;
}

enum ota_mdns_state
ota_mdns_get_state(const struct ota_mdns *m)
{
	return m != NULL ? m->state : OTA_MDNS_IDLE;
}

static OTA_NOINLINE int
label_to_string(const uint8_t *wire, char *out, size_t out_size)
{
	size_t l = wire[0];

	if (out == NULL || out_size < l + 1)
		return OTA_MDNS_E_NOSPACE;
	ota_copy(out, wire + 1, l);
	out[l] = '\0';
	return (int)l;
}

int
ota_mdns_get_hostname(const struct ota_mdns *m, char *out, size_t out_size)
{
	if (m == NULL)
		return OTA_MDNS_E_ARGS;
	return label_to_string(m->host.wire, out, out_size);
}

int
ota_mdns_get_instance(const struct ota_mdns *m, char *out, size_t out_size)
{
	if (m == NULL)
		return OTA_MDNS_E_ARGS;
	return label_to_string(m->instance.wire, out, out_size);
}

/* ---- receiving ---- */

/* a name as the records it owns: the A record stands for the host, SRV for the instance */
#define OWNED_HOST BIT(OTA_MDNS_REC_A)
#define OWNED_INSTANCE BIT(OTA_MDNS_REC_SRV)

static void
conflict(struct ota_mdns *m, uint32_t which, uint32_t now)
{
	uint32_t delay;

	m->conflicts++;
	if (m->conflicts_in_window == 0 || now - m->conflict_window_ms > CONFLICT_WINDOW_MS) {
		m->conflict_window_ms = now;
		m->conflicts_in_window = 0;
	}
	m->conflicts_in_window++;

	if (m->state != OTA_MDNS_PROBING) {
		/* RFC 6762 §9: back to probing with the same name; a defender then renames us */
		start_probing(m, now, 0);
		return;
	}
	/* RFC 6762 §8.1: pick a new name and probe again */
	if (which & OWNED_HOST)
		m->host_suffix++;
	if (which & OWNED_INSTANCE)
		m->instance_suffix++;
	make_names(m);
	delay = rng_range(m, 0, OTA_MDNS_PROBE_INTERVAL_MS - 1);
	if (m->conflicts_in_window > CONFLICT_LIMIT)
		delay = CONFLICT_BACKOFF_MS;
	start_probing(m, now, delay);
}

/* which of our records answer a question for name/type? */
static uint32_t
match_question(const struct ota_mdns *m, const struct ota_dns_name *name, uint16_t type)
{
	uint32_t typed, owned = owned_by(m, name, type, &typed);
	uint32_t bits = (type == OTA_DNS_TYPE_ANY ? owned : typed) & ALL_PRIMARY;

	/* RFC 6762 §6.1: we own the name, so say the type does not exist */
	return bits != 0 ? bits : owned & ~ALL_PRIMARY;
}

/* small on purpose: eight of these live on an ESP8266 stack */
struct tb_entry {
	uint32_t key; /* class << 16 | type: the order of RFC 6762 §8.2.1 before the rdata */
	uint16_t rdlength;
	size_t rdata_off;
};

/*
 * simultaneous probe tie-break (RFC 6762 §8.2) for one of our names: compare the sorted
 * authority records of the other prober with ours. Returns > 0 when theirs is later (we
 * lose), < 0 when ours is, 0 when identical (our own probe, looped back).
 */
static int
tiebreak(struct ota_mdns *m, const uint8_t *pkt, size_t len, uint32_t which)
{
	struct tb_entry theirs[MAX_TIEBREAK];
	/* TXT (type 16) sorts before SRV (33) */
	static const uint8_t ours_instance[2] = {OTA_MDNS_REC_TXT, OTA_MDNS_REC_SRV};
	static const uint8_t ours_host[1] = {OTA_MDNS_REC_A};
	const uint8_t *ours = which == OWNED_HOST ? ours_host : ours_instance;
	unsigned n_theirs = 0, n_ours = which == OWNED_HOST ? 1 : 2;
	struct ota_dns_reader r;
	struct ota_dns_record rec;

	if (ota_dns_reader_init(&r, pkt, len) < 0)
		return 0;
	while (ota_dns_reader_next(&r, &rec) == 1 && n_theirs < MAX_TIEBREAK) {
		uint32_t key = (uint32_t)rec.klass << 16 | rec.type, typed;
		unsigned i;

		if (rec.section != OTA_DNS_AUTHORITY || !(owned_by(m, &rec.name, 0, &typed) & which))
			continue;
		/* insertion sort by (class, type); the rdata decides among equal ones below */
		for (i = n_theirs++; i > 0 && theirs[i - 1].key > key; i--)
			theirs[i] = theirs[i - 1];
		theirs[i].key = key;
		theirs[i].rdlength = rec.rdlength;
		theirs[i].rdata_off = rec.rdata_off;
	}
	if (n_theirs == 0)
		return 0;
	for (unsigned i = 0; i < n_theirs && i < n_ours; i++) {
		uint32_t key = (uint32_t)OTA_DNS_CLASS_IN << 16 | rec_type((enum ota_mdns_rec)ours[i]);
		int c;

		if (theirs[i].key != key)
			return theirs[i].key > key ? 1 : -1;
		/* only the section, type and rdata position matter to the canonical form */
		rec.section = OTA_DNS_AUTHORITY;
		rec.type = (uint16_t)key;
		rec.rdlength = theirs[i].rdlength;
		rec.rdata_off = theirs[i].rdata_off;
		c = rdata_cmp(m, (enum ota_mdns_rec)ours[i], pkt, len, &rec, false);
		if (c != 0)
			return c;
	}
	return (int)n_theirs - (int)n_ours;
}

int
ota_mdns_on_packet(struct ota_mdns *m,
		   uint32_t src_ip,
		   uint16_t src_port,
		   const uint8_t *data,
		   size_t len,
		   uint32_t now_ms)
{
	struct ota_dns_reader r;
	struct ota_dns_record rec;
	uint32_t uc = 0, mc = 0, stale = 0, known = 0, which = 0;
	bool legacy = src_port != OTA_MDNS_PORT;
	bool response, probe, tc;
	int rc;

	if (m == NULL)
		return OTA_MDNS_E_ARGS;
	/* this also rejects data NULL with a length */
	rc = ota_dns_reader_init(&r, data, len);
	if (rc < 0)
		return rc;
	response = (r.hdr.flags & OTA_DNS_FLAG_QR) != 0;
	probe = r.hdr.nscount > 0;
	tc = (r.hdr.flags & OTA_DNS_FLAG_TC) != 0;

	/*
	 * one pass over the whole message, which is only acted on below, once all of it has
	 * been read: half of a malformed packet is never acted on. It gathers the questions of
	 * a query; our records the message repeats with at least half our TTL (the known
	 * answers of a query, RFC 6762 §7.1; another responder's answers, §7.4); and other
	 * hosts' records for our names in a response.
	 */
	while ((rc = ota_dns_reader_next(&r, &rec)) == 1) {
		uint32_t bits, owned, ours;
		size_t n;

		if (rec.section != OTA_DNS_QUESTION) {
			/*
			 * the layout of the types we compare (other types are only copied, and
			 * the reader has checked their rdlength); rdata too big to copy is not
			 * malformed
			 */
			rc = ota_dns_rdata_canonical(data, len, &rec, m->scratch[0], RDATA_MAX, &n);
			if (rc == OTA_MDNS_E_MALFORMED)
				return rc;
			ours = record_ours(m, data, len, &rec, &owned);
			if (response || rec.section == OTA_DNS_ANSWER)
				known |= half_ttl(&rec, ours);
			/* another host's record for one of our names, alive */
			if (response && ours == 0 && rec.ttl != 0 && rec.klass == OTA_DNS_CLASS_IN)
				which |= owned & (OWNED_HOST | OWNED_INSTANCE);
			continue;
		}
		if (response || (rec.klass != OTA_DNS_CLASS_IN && rec.klass != OTA_DNS_CLASS_ANY))
			continue;
		bits = match_question(m, &rec.name, rec.type);
		for (int k = 0; k < OTA_MDNS_REC_COUNT; k++) {
			/* how long ago record k was multicast */
			uint32_t age =
			    m->multicast_once[k] ? now_ms - m->last_multicast_ms[k] : UINT32_MAX;

			if (!(bits & BIT(k)))
				continue;
			/*
			 * RFC 6762 §5.4: a QU question gets a unicast answer unless we have not
			 * multicast the record within a quarter of its TTL; §6.2: a record is
			 * multicast at most once a second, 250 ms when defending a probe
			 */
			if (legacy || (rec.top_bit && age < quarter_ttl(k)))
				uc |= BIT(k);
			else if (age >= (probe ? 250u : 1000u))
				mc |= BIT(k);
		}
	}
	if (rc < 0)
		return rc;

	if (m->state == OTA_MDNS_IDLE || m->state == OTA_MDNS_STOPPED)
		return 0;
	/* our own multicast, looped back */
	if (src_ip == m->ipv4 && src_port == OTA_MDNS_PORT)
		return 0;
	/* RFC 6762 §11: only on-link peers */
	if (m->netmask != 0 && ((src_ip ^ m->ipv4) & m->netmask) != 0)
		return 0;
	/* RFC 6762 §18.3 and §18.11: opcode and rcode other than 0 are ignored */
	if ((r.hdr.flags & 0x7800) != 0 || (r.hdr.flags & 0x000F) != 0)
		return 0;
	/* RFC 6762 §6: responses not from port 5353 are ignored */
	if (response && legacy)
		return 0;

	if (!response && m->state == OTA_MDNS_PROBING) {
		/* the names are not ours yet: only another prober for them matters */
		for (int i = 0; i < 2 && probe; i++) {
			if (tiebreak(m, data, len, i == 0 ? OWNED_HOST : OWNED_INSTANCE) > 0) {
				/* RFC 6762 §8.2: the loser waits one second and probes again */
				start_probing(m, now_ms, 1000);
				break;
			}
		}
		return 0;
	}
	/*
	 * known answers, also for a delayed answer to an earlier truncated query (§7.2); a
	 * response suppresses the delayed answers it repeats (§7.4)
	 */
	if (response || (m->pending_tc && src_ip == m->pending_src))
		stale = m->pending;
	m->pending &= ~(known & stale);
	if (which != 0)
		conflict(m, which, now_ms);
	uc &= ~known;
	mc &= ~known;

	if (uc != 0) {
		struct reply_to to = {src_ip, src_port, legacy ? r.hdr.id : 0, legacy ? data : NULL,
				      len};

		respond(m, uc, legacy ? MODE_LEGACY : MODE_MULTICAST, &to, now_ms);
	}

	if (mc == 0)
		return 0;
	if ((mc & SHARED_RECORDS) == 0 && !tc) {
		/* unique records are answered at once (RFC 6762 §6) */
		respond(m, mc, MODE_MULTICAST, NULL, now_ms);
		return 0;
	}
	/* shared records: 20-120 ms, or 400-500 ms when more known answers follow (§7.2) */
	{
		uint32_t due = now_ms + (tc ? 400u : 20u) + rng_next(m) % 101u;

		if (m->pending == 0 || (int32_t)(due - m->pending_ms) < 0)
			m->pending_ms = due;
		m->pending |= mc;
		m->pending_src = src_ip;
		m->pending_tc = tc;
	}
	return 0;
}

uint32_t
ota_mdns_poll(struct ota_mdns *m, uint32_t now_ms)
{
	uint32_t wait;
	bool timing;

	if (m == NULL)
		return UINT32_MAX;
	if (m->pending != 0 && time_reached(now_ms, m->pending_ms)) {
		if (names_claimed(m))
			respond(m, m->pending, MODE_MULTICAST, NULL, now_ms);
		m->pending = 0;
	}
	timing = m->state == OTA_MDNS_PROBING || m->state == OTA_MDNS_ANNOUNCING;
	if (timing && time_reached(now_ms, m->next_ms)) {
		uint32_t interval = OTA_MDNS_PROBE_INTERVAL_MS;

		if (m->state == OTA_MDNS_PROBING && m->step >= OTA_MDNS_PROBE_COUNT) {
			/* 250 ms after the third probe and nobody objected: the names are ours */
			m->state = OTA_MDNS_ANNOUNCING;
			m->step = 0;
		}
		/* the next probe, or an announcement: at once after the probes, then a second on */
		if (m->state == OTA_MDNS_PROBING) {
			send_probe(m);
		} else {
			respond(m, ALL_PRIMARY, MODE_MULTICAST, NULL, now_ms);
			interval = OTA_MDNS_ANNOUNCE_INTERVAL_MS;
		}
		m->step++;
		m->next_ms = now_ms + interval;
		if (m->state == OTA_MDNS_ANNOUNCING && m->step >= OTA_MDNS_ANNOUNCE_COUNT)
			m->state = OTA_MDNS_RUNNING;
	}
	/* whichever of the timers still running is due first */
	timing = m->state == OTA_MDNS_PROBING || m->state == OTA_MDNS_ANNOUNCING;
	if (m->pending != 0)
		wait = m->pending_ms;
	else if (!timing)
		return UINT32_MAX;
	if (timing && (m->pending == 0 || (int32_t)(m->next_ms - wait) < 0))
		wait = m->next_ms;
	return time_reached(now_ms, wait) ? 0 : wait - now_ms;
}
