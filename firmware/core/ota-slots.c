/* SPDX-License-Identifier: MIT */
/*
 * ota-slots.c - ESP-IDF-faithful A/B OTA slots: partition table, otadata, boot selection
 *
 * Read against ESP-IDF (specs/esp-images.md section 4): components/app_update/esp_ota_ops.c
 * for the app side, components/bootloader_support/src/bootloader_utility.c and
 * bootloader_common_loader.c for the bootloader, esp_image_format.c for verification.
 * Where this code differs from IDF it says so and why.
 */

#include "ota/ota-slots.h"

#include "ota/ota-errors.h"
#include "ota/ota-sink.h"
#include "ota/ota-util.h"

#define MIN_SCRATCH 64u

/* ---- small helpers ---- */

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)(v >> 8);
}

static uint32_t
align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool
is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* ---- flash access: every mutation of the core passes through these two ---- */

static int
flash_read(const struct ota_flash_ops *f, uint32_t addr, void *buf, size_t len)
{
	if (len == 0)
		return OTA_OK;
	return f->read(f->user, addr, buf, len) == 0 ? OTA_OK : OTA_E_FLASH_READ;
}

static int
flash_write(const struct ota_flash_ops *f, uint32_t addr, const void *buf, size_t len)
{
	if (len == 0)
		return OTA_OK;
	return f->write(f->user, addr, buf, len) == 0 ? OTA_OK : OTA_E_FLASH;
}

/* erase [addr, addr + len) of a device's flash, whose sectors are 4 KiB (config_ok): 64 KiB
 * blocks where address and length allow, as esp_flash_erase_region does, sectors
 * otherwise; one flash operation each */
static int
flash_erase_region(const struct ota_flash_ops *f, uint32_t addr, uint32_t len)
{
	while (len > 0) {
		uint32_t n = OTA_FLASH_SECTOR_SIZE;
		if (addr % OTA_FLASH_BLOCK_SIZE == 0 && len >= OTA_FLASH_BLOCK_SIZE)
			n = OTA_FLASH_BLOCK_SIZE;
		if (f->erase(f->user, addr, n) != 0)
			return OTA_E_FLASH_ERASE;
		addr += n;
		len -= n;
	}
	return OTA_OK;
}

/* ---- hashing ---- */

static int
hash_begin(const struct ota_hash_ops *h, enum ota_hash_kind kind)
{
	return h->begin(h->user, kind) == 0 ? OTA_OK : OTA_E_CRYPTO;
}

static int
hash_update(const struct ota_hash_ops *h, enum ota_hash_kind kind, const uint8_t *p, size_t n)
{
	if (n == 0)
		return OTA_OK;
	return h->update(h->user, kind, p, n) == 0 ? OTA_OK : OTA_E_CRYPTO;
}

static int
hash_finish(const struct ota_hash_ops *h, enum ota_hash_kind kind, uint8_t *out)
{
	return h->finish(h->user, kind, out) == 0 ? OTA_OK : OTA_E_CRYPTO;
}

/* end a hash whose result is not wanted, so the port's context is not left open */
static void
hash_drop(const struct ota_hash_ops *h, enum ota_hash_kind kind)
{
	uint8_t sink[OTA_SHA256_LEN];
	(void)h->finish(h->user, kind, sink);
}

/* ---- otadata entries ---- */

uint32_t
ota_select_entry_crc(uint32_t seq)
{
	uint8_t b[4];
	ota_put_u32le(b, seq);
	return ota_crc32_le(0xFFFFFFFFu, b, sizeof(b));
}

void
ota_select_entry_encode(const struct ota_select_entry *e, uint8_t out[OTA_SELECT_ENTRY_LEN])
{
	ota_put_u32le(out, e->seq);
	ota_copy(out + 4, e->seq_label, sizeof(e->seq_label));
	ota_put_u32le(out + 24, e->state);
	ota_put_u32le(out + 28, e->crc);
}

void
ota_select_entry_decode(const uint8_t in[OTA_SELECT_ENTRY_LEN], struct ota_select_entry *e)
{
	e->seq = ota_get_u32le(in);
	ota_copy(e->seq_label, in + 4, sizeof(e->seq_label));
	e->state = ota_get_u32le(in + 24);
	e->crc = ota_get_u32le(in + 28);
}

/* what the bootloader and the app side ask of an entry, each answer one bit */
#define E_CRC 0x01u	/* the CRC matches the seq (esp_ota_get_state_partition) */
#define E_INTACT 0x02u	/* and the seq is not blank */
#define E_VALID 0x04u	/* bootloader_common_ota_select_valid */
#define E_INVALID 0x08u /* bootloader_common_ota_select_invalid */
#define E_FAILED 0x10u	/* intact, and INVALID or ABORTED (esp_ota_get_last_invalid_partition) */

static unsigned
entry_class(const struct ota_select_entry *e)
{
	bool failed = e->state == OTA_IMG_INVALID || e->state == OTA_IMG_ABORTED;
	unsigned c = e->crc == ota_select_entry_crc(e->seq) ? E_CRC : 0u;
	if (e->seq == OTA_SEQ_BLANK)
		return c | E_INVALID;
	if (failed)
		c |= E_INVALID;
	if (c & E_CRC)
		c |= E_INTACT | (failed ? E_FAILED : E_VALID);
	return c;
}

bool
ota_select_entry_valid(const struct ota_select_entry *e)
{
	return (entry_class(e) & E_VALID) != 0;
}

bool
ota_select_entry_invalid(const struct ota_select_entry *e)
{
	return (entry_class(e) & E_INVALID) != 0;
}

/* bootloader_common_select_otadata over the entries with @flag: the larger seq (@max) or
 * the smaller one, ties to entry 1; -1 when neither has it */
static int
pick_entry(const struct ota_select_entry e[2], const unsigned cls[2], unsigned flag, bool max)
{
	bool ok0 = (cls[0] & flag) != 0;
	bool ok1 = (cls[1] & flag) != 0;
	if (ok0 && ok1)
		return (max ? e[0].seq > e[1].seq : e[0].seq < e[1].seq) ? 0 : 1;
	return ok0 ? 0 : ok1 ? 1 : -1;
}

int
ota_select_active(const struct ota_select_entry e[2])
{
	unsigned cls[2] = {entry_class(&e[0]), entry_class(&e[1])};
	return pick_entry(e, cls, E_VALID, true);
}

uint32_t
ota_compute_seq(uint32_t current_seq, uint32_t slot, uint32_t app_count)
{
	uint32_t base;
	uint32_t i = 0;
	if (app_count == 0)
		return 0;
	base = (slot + 1) % app_count;
	while (current_seq > base + i * app_count)
		i++;
	return base + i * app_count;
}

const char *
ota_img_state_name(uint32_t state)
{
	switch (state) {
	case OTA_IMG_NEW:
		return "NEW";
	case OTA_IMG_PENDING_VERIFY:
		return "PENDING_VERIFY";
	case OTA_IMG_VALID:
		return "VALID";
	case OTA_IMG_INVALID:
		return "INVALID";
	case OTA_IMG_ABORTED:
		return "ABORTED";
	case OTA_IMG_UNDEFINED:
		return "UNDEFINED";
	default:
		return "?";
	}
}

/* ---- partition table ---- */

/* the default layout in 4 KiB units; ota_0's size, ota_1 and the file system are placed
 * at run time */
static const struct default_part {
	uint8_t type;
	uint8_t subtype;
	uint16_t offset; /* sectors */
	uint16_t size;	 /* sectors */
	char label[10];
} default_parts[] = {
    {OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_NVS, OTA_DEFAULT_NVS_OFFSET / 4096u,
     OTA_DEFAULT_NVS_SIZE / 4096u, "nvs"},
    {OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_OTA, OTA_DEFAULT_OTADATA_OFFSET / 4096u,
     OTA_DEFAULT_OTADATA_SIZE / 4096u, "otadata"},
    {OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_PHY, OTA_DEFAULT_PHY_OFFSET / 4096u,
     OTA_DEFAULT_PHY_SIZE / 4096u, "phy_init"},
    {OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_OTA_0, OTA_DEFAULT_APP_OFFSET / 4096u, 0, "ota_0"},
    {OTA_PART_TYPE_APP, OTA_PART_SUBTYPE_OTA_0 + 1, 0, 0, "ota_1"},
    {OTA_PART_TYPE_DATA, OTA_PART_SUBTYPE_DATA_SPIFFS, 0, 0, "spiffs"},
};

int
ota_partition_table_default(uint32_t flash_size,
			    uint32_t slot_size,
			    uint32_t fs_size,
			    struct ota_partition *out,
			    size_t max,
			    size_t *n_out)
{
	uint32_t app1;
	uint32_t end;
	uint32_t fs_len = 0;
	size_t n = 5;

	if (out == NULL || n_out == NULL || max < 6)
		return OTA_E_BAD_ARGS;
	if (slot_size % OTA_FLASH_SECTOR_SIZE != 0 ||
	    (fs_size != OTA_FS_NONE && fs_size % OTA_FLASH_SECTOR_SIZE != 0))
		return OTA_E_BAD_ARGS;
	if (flash_size < OTA_DEFAULT_APP_OFFSET + 2 * OTA_FLASH_BLOCK_SIZE)
		return OTA_E_NO_SPACE;
	if (slot_size == 0) {
		uint32_t avail = flash_size - OTA_DEFAULT_APP_OFFSET;
		if (fs_size != OTA_FS_NONE && fs_size != 0) {
			if (fs_size >= avail)
				return OTA_E_NO_SPACE;
			avail -= fs_size;
		}
		slot_size = (avail / 2) & ~(OTA_FLASH_BLOCK_SIZE - 1);
		if (slot_size == 0)
			return OTA_E_NO_SPACE;
	}
	/* a slot larger than the flash fails the test after align_up too, wrapped or not */
	app1 = align_up(OTA_DEFAULT_APP_OFFSET + slot_size, OTA_FLASH_BLOCK_SIZE);
	if (app1 > flash_size || slot_size > flash_size - app1)
		return OTA_E_NO_SPACE;
	end = app1 + slot_size;
	if (fs_size != OTA_FS_NONE) {
		fs_len = fs_size != 0 ? fs_size : flash_size - end;
		if (fs_size != 0 && fs_len > flash_size - end)
			return OTA_E_NO_SPACE;
		if (fs_len >= 2 * OTA_FLASH_SECTOR_SIZE)
			n = 6;
	}

	for (size_t i = 0; i < n; i++) {
		const struct default_part *d = &default_parts[i];
		struct ota_partition *p = &out[i];
		ota_fill(p, 0, sizeof(*p));
		p->type = d->type;
		p->subtype = d->subtype;
		p->offset = (uint32_t)d->offset * 4096u;
		p->size = (uint32_t)d->size * 4096u;
		ota_copy(p->label, d->label, sizeof(d->label));
	}
	out[3].size = slot_size;
	out[4].offset = app1;
	out[4].size = slot_size;
	if (n > 5) {
		out[5].offset = end;
		out[5].size = fs_len;
	}
	*n_out = n;
	return OTA_OK;
}

static void
encode_partition(const struct ota_partition *p, uint8_t *out)
{
	ota_fill(out, 0, OTA_PARTITION_ENTRY_LEN);
	put_le16(out, (uint16_t)OTA_PARTITION_MAGIC);
	out[2] = p->type;
	out[3] = p->subtype;
	ota_put_u32le(out + 4, p->offset);
	ota_put_u32le(out + 8, p->size);
	ota_copy(out + 12, p->label, ota_strnlen(p->label, OTA_PARTITION_LABEL_LEN));
	ota_put_u32le(out + 28, p->flags);
}

int
ota_partition_table_write(const struct ota_flash_ops *flash,
			  const struct ota_hash_ops *hash,
			  uint32_t table_offset,
			  const struct ota_partition *parts,
			  size_t n,
			  uint8_t *scratch,
			  size_t scratch_len)
{
	size_t len = (n + (hash != NULL ? 1 : 0)) * OTA_PARTITION_ENTRY_LEN;
	size_t padded;

	if (flash == NULL || parts == NULL || scratch == NULL || n == 0)
		return OTA_E_BAD_ARGS;
	if (table_offset == 0)
		table_offset = OTA_PARTITION_TABLE_OFFSET;
	padded = align_up((uint32_t)len, flash->write_align);
	/* the end marker (0xFFFF) is the erased flash after the last entry */
	if (len + OTA_PARTITION_ENTRY_LEN > OTA_PARTITION_TABLE_MAX_LEN || padded > scratch_len ||
	    table_offset % flash->sector_size != 0 || table_offset >= flash->size)
		return OTA_E_BAD_ARGS;
	ota_fill(scratch, flash->erased_val, padded);
	for (size_t i = 0; i < n; i++)
		encode_partition(&parts[i], scratch + i * OTA_PARTITION_ENTRY_LEN);
	if (hash != NULL) {
		/* gen_esp32part.py: 0xEBEB, 14 bytes 0xFF, MD5 of the entries before it */
		uint8_t *md5 = scratch + n * OTA_PARTITION_ENTRY_LEN;
		put_le16(md5, (uint16_t)OTA_PARTITION_MD5_MAGIC);
		ota_fill(md5 + 2, 0xFF, 14);
		if (ota_hash_buffer(hash, OTA_HASH_MD5, scratch, n * OTA_PARTITION_ENTRY_LEN,
				    md5 + 16) != 0)
			return OTA_E_CRYPTO;
	}
	/* one sector of any size: a port's flash, not yet checked by config_ok */
	if (flash->erase(flash->user, table_offset, flash->sector_size) != 0)
		return OTA_E_FLASH_ERASE;
	return flash_write(flash, table_offset, scratch, padded);
}

int
ota_partition_table_write_default(const struct ota_flash_ops *flash,
				  const struct ota_hash_ops *hash,
				  uint32_t slot_size,
				  uint32_t fs_size,
				  uint8_t *scratch,
				  size_t scratch_len)
{
	struct ota_partition parts[8];
	size_t n = 0;
	int rc;
	if (flash == NULL)
		return OTA_E_BAD_ARGS;
	rc = ota_partition_table_default(flash->size, slot_size, fs_size, parts, 8, &n);
	if (rc != OTA_OK)
		return rc;
	return ota_partition_table_write(flash, hash, OTA_PARTITION_TABLE_OFFSET, parts, n, scratch,
					 scratch_len);
}

/* the entries of the table, MD5 running when @hash; sets *md5_done when it was checked */
static int
read_table_entries(const struct ota_flash_ops *flash,
		   const struct ota_hash_ops *hash,
		   uint32_t table_offset,
		   struct ota_partition *out,
		   size_t max,
		   size_t *n_out,
		   bool *md5_done)
{
	uint8_t e[OTA_PARTITION_ENTRY_LEN];
	size_t n = 0;

	for (uint32_t off = 0; off < OTA_PARTITION_TABLE_MAX_LEN; off += OTA_PARTITION_ENTRY_LEN) {
		uint16_t magic;
		int rc = flash_read(flash, table_offset + off, e, sizeof(e));
		if (rc != OTA_OK)
			return rc;
		magic = ota_get_u16le(e);
		if (magic == OTA_PARTITION_MAGIC) {
			struct ota_partition *p;
			uint32_t offset = ota_get_u32le(e + 4);
			uint32_t size = ota_get_u32le(e + 8);
			if (n >= max || offset > flash->size || size > flash->size - offset)
				return OTA_E_PARTITION_TABLE;
			p = &out[n++];
			p->type = e[2];
			p->subtype = e[3];
			p->offset = offset;
			p->size = size;
			ota_copy_field(p->label, e + 12, OTA_PARTITION_LABEL_LEN);
			p->flags = ota_get_u32le(e + 28);
			if (hash != NULL && !*md5_done &&
			    hash_update(hash, OTA_HASH_MD5, e, sizeof(e)) != OTA_OK)
				return OTA_E_CRYPTO;
		} else if (magic == OTA_PARTITION_MD5_MAGIC) {
			uint8_t md5[OTA_MD5_LEN];
			if (hash == NULL || *md5_done)
				continue;
			*md5_done = true;
			rc = hash_finish(hash, OTA_HASH_MD5, md5);
			if (rc != OTA_OK)
				return rc;
			if (ota_compare(md5, e + 16, OTA_MD5_LEN) != 0)
				return OTA_E_PARTITION_TABLE;
		} else if (magic == 0xFFFF && e[2] == 0xFF && e[3] == 0xFF) {
			break;
		} else {
			return OTA_E_PARTITION_TABLE;
		}
	}
	if (n == 0)
		return OTA_E_PARTITION_TABLE;
	*n_out = n;
	return OTA_OK;
}

int
ota_partition_table_read(const struct ota_flash_ops *flash,
			 const struct ota_hash_ops *hash,
			 uint32_t table_offset,
			 struct ota_partition *out,
			 size_t max,
			 size_t *n_out)
{
	bool md5_done = false;
	int rc;

	if (flash == NULL || out == NULL || n_out == NULL)
		return OTA_E_BAD_ARGS;
	if (table_offset == 0)
		table_offset = OTA_PARTITION_TABLE_OFFSET;
	if (table_offset > flash->size || OTA_PARTITION_TABLE_MAX_LEN > flash->size - table_offset)
		return OTA_E_PARTITION_TABLE;
	if (hash != NULL && hash_begin(hash, OTA_HASH_MD5) != OTA_OK)
		return OTA_E_CRYPTO;
	rc = read_table_entries(flash, hash, table_offset, out, max, n_out, &md5_done);
	if (hash != NULL && !md5_done)
		hash_drop(hash, OTA_HASH_MD5);
	return rc;
}

/* ---- the device ---- */

static bool
config_ok(const struct ota_slots_config *c)
{
	const struct ota_flash_ops *f = c->flash;
	if (f == NULL || f->read == NULL || f->write == NULL || f->erase == NULL)
		return false;
	if (f->sector_size != OTA_FLASH_SECTOR_SIZE || !is_pow2(f->write_align) ||
	    f->write_align > OTA_FLASH_MAX_ALIGN || f->erased_val != 0xFF)
		return false;
	if (!ota_hash_ops_valid(c->hash))
		return false;
	if (c->scratch == NULL || c->scratch_len < MIN_SCRATCH)
		return false;
	return c->chip != OTA_CHIP_UNKNOWN && c->chip < OTA_CHIP_LAST;
}

static bool
partition_aligned(const struct ota_partition *p, uint32_t sector)
{
	return p->offset % sector == 0 && p->size % sector == 0 && p->size > 0;
}

int
ota_slots_init(struct ota_slots *s, const struct ota_slots_config *cfg)
{
	size_t n = 0;
	int rc;

	if (s == NULL || cfg == NULL || !config_ok(cfg))
		return OTA_E_BAD_ARGS;
	ota_fill(s, 0, sizeof(*s));
	ota_copy(&s->cfg, cfg, sizeof(s->cfg));
	s->running = OTA_SLOT_NONE;
	rc = ota_partition_table_read(cfg->flash, cfg->hash, cfg->table_offset, s->parts,
				      OTA_MAX_PARTITIONS, &n);
	if (rc != OTA_OK)
		return rc;
	s->n_parts = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct ota_partition *p = &s->parts[i];
		const struct ota_partition **role;
		if (p->type == OTA_PART_TYPE_APP && (p->subtype & 0xF0) == OTA_PART_SUBTYPE_OTA_0) {
			role = &s->apps[p->subtype & 0x0F];
		} else if (p->type == OTA_PART_TYPE_DATA &&
			   p->subtype == OTA_PART_SUBTYPE_DATA_OTA) {
			if (p->size < 2 * OTA_FLASH_SECTOR_SIZE)
				return OTA_E_PARTITION_TABLE;
			role = &s->otadata;
		} else if (p->type == OTA_PART_TYPE_DATA && s->fs == NULL &&
			   (p->subtype == OTA_PART_SUBTYPE_DATA_SPIFFS ||
			    p->subtype == OTA_PART_SUBTYPE_DATA_LITTLEFS ||
			    p->subtype == OTA_PART_SUBTYPE_DATA_FAT)) {
			role = &s->fs; /* the first file system */
		} else {
			continue;
		}
		/* one partition per app slot and one otadata, each in whole sectors */
		if (*role != NULL || !partition_aligned(p, OTA_FLASH_SECTOR_SIZE))
			return OTA_E_PARTITION_TABLE;
		*role = p;
		if (p->type == OTA_PART_TYPE_APP)
			s->app_count++;
	}
	/* IDF's app_count is the number of ota_N entries and slot = (seq - 1) % app_count, so
	 * the indices must be 0..app_count-1 for every seq to name a partition */
	if (s->otadata == NULL || s->app_count < 2)
		return OTA_E_PARTITION_TABLE;
	for (unsigned i = 0; i < s->app_count; i++) {
		if (s->apps[i] == NULL)
			return OTA_E_PARTITION_TABLE;
	}
	return OTA_OK;
}

const struct ota_partition *
ota_slots_app(const struct ota_slots *s, int slot)
{
	if (s == NULL || slot < 0 || slot >= (int)s->app_count)
		return NULL;
	return s->apps[slot];
}

int
ota_slots_running(const struct ota_slots *s)
{
	return s != NULL ? s->running : OTA_SLOT_NONE;
}

int
ota_slots_set_running(struct ota_slots *s, int slot)
{
	if (ota_slots_app(s, slot) == NULL)
		return OTA_E_NOT_FOUND;
	s->running = slot;
	return OTA_OK;
}

static uint32_t
entry_addr(const struct ota_slots *s, int i)
{
	return s->otadata->offset + (uint32_t)i * OTA_FLASH_SECTOR_SIZE;
}

int
ota_slots_read_otadata(const struct ota_slots *s, struct ota_select_entry e[2])
{
	uint8_t raw[OTA_SELECT_ENTRY_LEN];
	if (s == NULL || s->otadata == NULL || e == NULL)
		return OTA_E_BAD_ARGS;
	for (int i = 0; i < 2; i++) {
		int rc = flash_read(s->cfg.flash, entry_addr(s, i), raw, sizeof(raw));
		if (rc != OTA_OK)
			return rc;
		ota_select_entry_decode(raw, &e[i]);
	}
	return OTA_OK;
}

/* both entries with what each one is and names, and the active one: every otadata decision
 * reads this */
struct otadata {
	struct ota_select_entry e[2];
	unsigned cls[2];
	int slot[2]; /* the slot each entry's seq names */
	int active;  /* the valid entry with the larger seq, -1 */
};

static void
otadata_classify(const struct ota_slots *s, struct otadata *od)
{
	for (int i = 0; i < 2; i++) {
		od->cls[i] = entry_class(&od->e[i]);
		/* unsigned arithmetic as in IDF: seq 0 wraps (a table without slots, which
		 * ota_slots_init refused, names none) */
		od->slot[i] =
		    s->app_count != 0 ? (int)((od->e[i].seq - 1u) % s->app_count) : OTA_SLOT_NONE;
	}
	od->active = pick_entry(od->e, od->cls, E_VALID, true);
}

static int
otadata_read(const struct ota_slots *s, struct otadata *od)
{
	int rc = ota_slots_read_otadata(s, od->e);
	if (rc == OTA_OK)
		otadata_classify(s, od);
	return rc;
}

/* write_otadata / rewrite_ota_seq: erase the entry's sector, then program the 32 bytes;
 * the CRC is the last field, so a write cut short never leaves a CRC that matches */
static int
write_entry(struct ota_slots *s, int i, const struct ota_select_entry *e)
{
	const struct ota_flash_ops *f = s->cfg.flash;
	/* padded to write_align (<= OTA_FLASH_MAX_ALIGN, config_ok) with the erased value,
	 * which leaves the padding bytes as they were */
	uint8_t buf[OTA_FLASH_MAX_ALIGN];
	uint32_t padded = align_up(OTA_SELECT_ENTRY_LEN, f->write_align);
	int rc = flash_erase_region(f, entry_addr(s, i), OTA_FLASH_SECTOR_SIZE);
	if (rc != OTA_OK)
		return rc;
	ota_fill(buf, f->erased_val, padded);
	ota_select_entry_encode(e, buf);
	return flash_write(f, entry_addr(s, i), buf, padded);
}

/* entry @i of @od with @seq and @state and the CRC that goes with them, written */
static int
record_entry(struct ota_slots *s, struct otadata *od, int i, uint32_t seq, uint32_t state)
{
	struct ota_select_entry *e = &od->e[i];
	e->seq = seq;
	e->state = state;
	e->crc = ota_select_entry_crc(seq);
	return write_entry(s, i, e);
}

int
ota_slots_boot_slot(const struct ota_slots *s)
{
	struct otadata od;
	int rc = otadata_read(s, &od);
	if (rc != OTA_OK)
		return rc;
	/* both entries invalid means no valid one either: ota_0 */
	return od.active < 0 ? 0 : od.slot[od.active];
}

int
ota_slots_next_update_slot(const struct ota_slots *s)
{
	if (s == NULL || s->app_count == 0)
		return OTA_E_NOT_FOUND;
	if (s->running < 0 || s->running >= (int)s->app_count)
		return 0;
	return s->running + 1 < (int)s->app_count ? s->running + 1 : 0;
}

int
ota_slots_get_state(const struct ota_slots *s, int slot, uint32_t *state)
{
	struct otadata od;
	int rc;
	if (ota_slots_app(s, slot) == NULL || state == NULL)
		return OTA_E_BAD_ARGS;
	rc = otadata_read(s, &od);
	if (rc != OTA_OK)
		return rc;
	for (int i = 0; i < 2; i++) {
		if (od.slot[i] == slot && (od.cls[i] & E_CRC)) {
			*state = od.e[i].state;
			return OTA_OK;
		}
	}
	return OTA_E_NOT_FOUND;
}

/* ---- image verification (esp_image_verify): the shared parser reading flash ---- */

/*
 * The image is read by the parser the desktop pre-flight uses (ota-esp-image.c), through
 * a reader over flash that overlays the bytes an unfinished update still holds back in
 * RAM; only the device's own acceptance policy is here.
 */
struct flash_image {
	const struct ota_slots *s;
	uint32_t base;	     /* flash address of byte 0 */
	const uint8_t *head; /* replaces [0, head_len) while the real bytes are held back */
	uint32_t head_len;
	int rc; /* the first flash error */
};

static int
flash_image_read(void *user, size_t off, uint8_t *buf, size_t len)
{
	struct flash_image *fi = user;
	int rc;
	/* fewer bytes than asked for is fine by the parser, which asks for 64 KiB at most */
	if (len > 0x10000u)
		len = 0x10000u;
	rc = flash_read(fi->s->cfg.flash, fi->base + (uint32_t)off, buf, len);
	if (rc != OTA_OK) {
		if (fi->rc == OTA_OK)
			fi->rc = rc;
		return -1;
	}
	if (fi->head != NULL && off < fi->head_len) {
		size_t n = fi->head_len - off;
		ota_copy(buf, fi->head + off, n < len ? n : len);
	}
	return (int)len;
}

static void
flash_image_reader(struct ota_reader *r, struct flash_image *fi, uint32_t size, bool open_ended)
{
	ota_fill(r, 0, sizeof(*r));
	r->user = fi;
	r->read = flash_image_read;
	r->size = size;
	r->scratch = fi->s->cfg.scratch;
	r->scratch_len = fi->s->cfg.scratch_len;
	r->open_ended = open_ended;
}

static OTA_NOINLINE bool
has_finding(const struct ota_esp_image *img, enum ota_finding_code code)
{
	for (uint8_t i = 0; i < img->n_findings; i++) {
		if (img->findings[i].code == code)
			return true;
	}
	return false;
}

/* the kinds this device's loader runs */
static bool
kind_bootable(const struct ota_slots *s, enum ota_image_kind kind)
{
	if (s->cfg.chip == OTA_CHIP_ESP8266)
		/* the ROM loader reads 8-byte headers: a v1 image, or eboot + sketch */
		return kind == OTA_IMAGE_ESP8266_V1 || kind == OTA_IMAGE_ESP8266_ARDUINO;
	return kind == OTA_IMAGE_ESP32_APP;
}

/*
 * The device's verdict on a parse result, before the digests: what the second-stage
 * bootloader refuses (bootloader_common_check_chip_validity, esp_image_verify), and
 * no esp_app_desc_t, which esp_ota_get_partition_description() needs
 */
static int
image_verdict(const struct ota_slots *s, const struct ota_esp_image *img, uint32_t slot_size)
{
	bool checksum = false;
	bool signature = false;

	/* not 0xE9: a blank or half-written slot, gzip, an Espressif NONOS v2 image */
	if (has_finding(img, OTA_F_NOT_ESP) || img->kind == OTA_IMAGE_GZIP ||
	    img->kind == OTA_IMAGE_ESP8266_V2)
		return OTA_E_BAD_MAGIC;
	if (img->kind == OTA_IMAGE_UNKNOWN || img->kind == OTA_IMAGE_MERGED_FLASH)
		return OTA_E_BAD_IMAGE;
	if (s->cfg.chip != OTA_CHIP_ESP8266) {
		if (img->chip != s->cfg.chip)
			return OTA_E_WRONG_CHIP;
		if (s->cfg.chip_rev < img->min_chip_rev_full ||
		    (img->max_chip_rev_full != 0 && img->max_chip_rev_full != 0xFFFF &&
		     s->cfg.chip_rev > img->max_chip_rev_full))
			return OTA_E_WRONG_CHIP;
	}
	/* an ESP32-layout image means nothing to the ESP8266 loader, and the other way round */
	if (!kind_bootable(s, img->kind))
		return OTA_E_BAD_IMAGE;
	if (img->image_len > slot_size)
		return OTA_E_NO_SPACE;
	for (uint8_t i = 0; i < img->n_findings; i++) {
		const struct ota_finding *f = &img->findings[i];
		if (f->severity != OTA_SEV_ERROR)
			continue;
		switch ((enum ota_finding_code)f->code) {
		case OTA_F_CHECKSUM_MISMATCH:
		case OTA_F_ARDUINO_CRC_MISMATCH:
			checksum = true;
			break;
		case OTA_F_SIG_SBV2_BAD_BLOCK:
			signature = true;
			break;
		default:
			/* layout: segments, lengths, alignment, truncation, a bootloader */
			return OTA_E_BAD_IMAGE;
		}
	}
	if (checksum)
		return OTA_E_CHECKSUM;
	if (signature)
		return OTA_E_SIGNATURE;
	if (s->cfg.chip != OTA_CHIP_ESP8266 && !img->has_app_desc)
		return OTA_E_BAD_IMAGE;
	return OTA_OK;
}

static void
image_info_fill(struct ota_image_info *info, const struct ota_esp_image *img)
{
	bool esp8266 = img->kind == OTA_IMAGE_ESP8266_V1 || img->kind == OTA_IMAGE_ESP8266_ARDUINO;
	ota_fill(info, 0, sizeof(*info));
	info->image_len = (uint32_t)img->image_len;
	info->chip_id = esp8266 ? 0xFFFF : img->chip_id;
	info->segment_count = img->segment_count;
	info->entry_addr = img->entry_addr;
	info->hash_appended = img->hash_appended == 1;
	if (img->has_app_desc) {
		info->secure_version = img->app_desc.secure_version;
		ota_copy(info->version, img->app_desc.version, sizeof(info->version));
		ota_copy(info->project_name, img->app_desc.project_name,
			 sizeof(info->project_name));
	}
}

/*
 * @size bytes of flash from fi->base: a slot (@open_ended, the image ends where its
 * structure says) or exactly the bytes an update received; @info may be NULL
 */
static int
verify_image(struct flash_image *fi,
	     uint32_t size,
	     bool open_ended,
	     uint32_t slot_size,
	     struct ota_image_info *info)
{
	const struct ota_slots *s = fi->s;
	struct ota_image_info local;
	struct ota_esp_image img;
	struct ota_reader r;
	int rc;

	if (info == NULL)
		info = &local;
	fi->rc = OTA_OK;
	flash_image_reader(&r, fi, size, open_ended);
	(void)ota_esp_image_parse_reader(&r, &img);
	image_info_fill(info, &img);
	if (fi->rc != OTA_OK)
		return fi->rc;
	rc = image_verdict(s, &img, slot_size);
	if (rc != OTA_OK)
		return rc;
	if (!img.hash_present && img.sig_blocks == 0)
		return OTA_OK;
	if (!ota_esp_image_check_digests_reader(&r, &img, s->cfg.hash)) {
		if (fi->rc != OTA_OK)
			return fi->rc;
		if (has_finding(&img, OTA_F_HASH_MISMATCH))
			return OTA_E_SHA256;
		return has_finding(&img, OTA_F_SIG_DIGEST_MISMATCH) ? OTA_E_SIGNATURE
								    : OTA_E_CRYPTO;
	}
	ota_copy(info->sha256, img.hash_stored, OTA_SHA256_LEN);
	return OTA_OK;
}

int
ota_slots_verify(const struct ota_slots *s, int slot, struct ota_image_info *info)
{
	struct flash_image fi;
	const struct ota_partition *p = ota_slots_app(s, slot);
	if (p == NULL)
		return OTA_E_NOT_FOUND;
	fi.s = s;
	fi.base = p->offset;
	fi.head = NULL;
	fi.head_len = 0;
	return verify_image(&fi, p->size, true, p->size, info);
}

/* ---- app-side otadata operations ---- */

int
ota_slots_set_boot(struct ota_slots *s, int slot)
{
	struct otadata od;
	int next = 0;
	uint32_t seq = (uint32_t)slot + 1;
	int rc;

	rc = ota_slots_verify(s, slot, NULL); /* OTA_E_NOT_FOUND for a slot that does not exist */
	if (rc != OTA_OK)
		return rc;
	rc = otadata_read(s, &od);
	if (rc != OTA_OK)
		return rc;
	if (od.active >= 0) {
		next = od.active;
		seq = od.e[next].seq;
		/* already selected: only the state changes */
		if (od.slot[next] != slot) {
			next ^= 1;
			seq = ota_compute_seq(seq, (uint32_t)slot, s->app_count);
		}
	}
	/* like rewrite_ota_seq, the seq_label read from flash is written back unchanged */
	return record_entry(s, &od, next, seq, s->cfg.rollback ? OTA_IMG_NEW : OTA_IMG_UNDEFINED);
}

/* the active entry becomes VALID, or INVALID when a rollback is possible */
static int
mark_active(struct ota_slots *s, uint32_t state)
{
	struct otadata od;
	int rc = otadata_read(s, &od);
	if (rc != OTA_OK)
		return rc;
	if (od.active < 0)
		return OTA_E_BAD_STATE;
	if (state == OTA_IMG_VALID) {
		if (od.e[od.active].state == OTA_IMG_VALID)
			return OTA_OK;
	} else if (!ota_slots_rollback_possible(s)) {
		return OTA_E_ROLLBACK;
	}
	return record_entry(s, &od, od.active, od.e[od.active].seq, state);
}

int
ota_slots_mark_valid(struct ota_slots *s)
{
	return mark_active(s, OTA_IMG_VALID);
}

bool
ota_slots_rollback_possible(const struct ota_slots *s)
{
	struct otadata od;
	int last;
	if (otadata_read(s, &od) != OTA_OK || od.active < 0)
		return false;
	last = od.active ^ 1;
	return (od.cls[last] & E_VALID) && ota_slots_verify(s, od.slot[last], NULL) == OTA_OK;
}

int
ota_slots_mark_invalid(struct ota_slots *s)
{
	return mark_active(s, OTA_IMG_INVALID);
}

int
ota_slots_last_invalid(const struct ota_slots *s)
{
	struct otadata od;
	int idx;
	int slot;
	if (otadata_read(s, &od) != OTA_OK)
		return OTA_SLOT_NONE;
	idx = pick_entry(od.e, od.cls, E_FAILED, false);
	if (idx < 0)
		return OTA_SLOT_NONE;
	slot = od.slot[idx];
	if (ota_slots_verify(s, slot, NULL) != OTA_OK)
		return OTA_SLOT_NONE;
	return slot;
}

/* ---- the bootloader ---- */

/* a slot that does not exist does not verify */
static bool
try_slot(struct ota_slots *s, int slot, struct ota_boot_result *r)
{
	return ota_slots_verify(s, slot, &r->image) == OTA_OK;
}

int
ota_boot(struct ota_slots *s, struct ota_boot_result *result)
{
	struct ota_boot_result local;
	struct ota_boot_result *r = result != NULL ? result : &local;
	struct otadata od;
	bool initial = false;
	int start = -1;
	int slot = OTA_SLOT_NONE;
	int rc;

	if (s == NULL || s->otadata == NULL)
		return OTA_E_BAD_ARGS;
	ota_fill(r, 0, sizeof(*r));
	r->slot = OTA_SLOT_NONE;
	r->selected = OTA_SLOT_NONE;
	r->entry = -1;
	r->state = OTA_IMG_UNDEFINED;
	/* a reset forgets whatever ran before */
	s->running = OTA_SLOT_NONE;
	s->update_open = false;

	rc = ota_slots_read_otadata(s, od.e);
	if (rc != OTA_OK)
		return rc;

	/* an app that never confirmed itself did not survive its first boot; as in IDF the
	 * write's result is not checked: the bootloader has nobody to report it to (the CRC
	 * is written back as it was) */
	if (s->cfg.rollback) {
		for (int i = 0; i < 2; i++) {
			if (od.e[i].state == OTA_IMG_PENDING_VERIFY) {
				od.e[i].state = OTA_IMG_ABORTED;
				(void)write_entry(s, i, &od.e[i]);
				r->aborted++;
			}
		}
	}
	otadata_classify(s, &od);

	if (od.active >= 0) {
		const struct ota_select_entry *e = &od.e[od.active];
		start = od.slot[od.active];
		r->selected = start;
		r->entry = od.active;
		r->seq = e->seq;
		r->state = e->state;
		if (s->cfg.rollback && e->state == OTA_IMG_NEW) {
			r->state = OTA_IMG_PENDING_VERIFY;
			(void)record_entry(s, &od, od.active, e->seq, OTA_IMG_PENDING_VERIFY);
		}
	} else if (od.cls[0] & od.cls[1] & E_INVALID) {
		/* no factory app: ota_0, and remember to write otadata if it was blank */
		start = 0;
		initial = ((od.cls[0] | od.cls[1]) & E_INTACT) == 0;
	}
	/* else "ota data partition invalid and no factory, will try all partitions" */

	/* bootloader_utility_load_boot_image: down from start, then up from start + 1 */
	for (int i = start, step = -1; slot < 0 && i < (int)s->app_count; i += step) {
		if (i < 0) {
			/* the way down ended below 0: on up from start + 1 */
			i = start;
			step = 1;
		} else if (try_slot(s, i, r)) {
			slot = i;
		}
	}
	if (slot < 0)
		return OTA_E_NO_BOOTABLE;

	if (initial) {
		/* set_actual_ota_seq */
		ota_fill(&od.e[0], 0xFF, sizeof(od.e[0]));
		(void)record_entry(s, &od, 0, (uint32_t)slot + 1, OTA_IMG_VALID);
		r->initial = true;
		r->entry = 0;
		r->seq = (uint32_t)slot + 1;
		r->state = OTA_IMG_VALID;
	} else if (slot != start) {
		uint32_t st = OTA_IMG_UNDEFINED;
		r->fallback = true;
		r->entry = -1;
		(void)ota_slots_get_state(s, slot, &st); /* st is only written on success */
		r->state = st;
	}
	r->slot = slot;
	s->running = slot;
	return slot;
}

/* ---- writing an update ---- */

/* esp_ota_invalidate_inactive_ota_data_slot (erase_last_boot_app_partition with
 * skip_app_part_erase): a valid-CRC inactive entry naming a slot other than the running
 * one is erased, so a slot being rewritten cannot be selected through a stale entry */
static int
invalidate_inactive(struct ota_slots *s)
{
	struct otadata od;
	int inactive;
	int rc = otadata_read(s, &od);
	if (rc != OTA_OK || od.active < 0)
		return rc;
	inactive = od.active ^ 1;
	if (!(od.cls[inactive] & E_INTACT) || s->running < 0 || od.slot[inactive] == s->running)
		return OTA_OK;
	return flash_erase_region(s->cfg.flash, entry_addr(s, inactive), OTA_FLASH_SECTOR_SIZE);
}

int
ota_update_begin(
    struct ota_update *u, struct ota_slots *s, int slot, uint32_t size, enum ota_erase_mode mode)
{
	const struct ota_partition *p;
	uint32_t align;
	int rc;

	if (u == NULL || s == NULL || s->otadata == NULL ||
	    (mode != OTA_ERASE_UP_FRONT && mode != OTA_ERASE_LAZY))
		return OTA_E_BAD_ARGS;
	if (s->update_open)
		return OTA_E_BUSY;
	ota_fill(u, 0, sizeof(*u));
	/* held-back bytes never received stay erased flash (filled first: p then lives across
	 * fewer calls) */
	ota_fill(u->head, 0xFF, sizeof(u->head));
	if (slot == OTA_SLOT_NEXT)
		slot = ota_slots_next_update_slot(s);
	if (slot == OTA_SLOT_FS) {
		p = s->fs;
		if (p == NULL)
			return OTA_E_NOT_FOUND;
	} else {
		p = ota_slots_app(s, slot);
		if (p == NULL)
			return OTA_E_NOT_FOUND;
		if (slot == s->running)
			return OTA_E_CONFLICT;
		if (s->cfg.rollback) {
			/* st stays UNDEFINED when nothing runs or otadata has no state for it */
			uint32_t st = OTA_IMG_UNDEFINED;
			(void)ota_slots_get_state(s, s->running, &st);
			if (st == OTA_IMG_PENDING_VERIFY)
				return OTA_E_BAD_STATE;
		}
	}
	/* IDF reads 0 as "unknown" too */
	if (size == 0)
		size = OTA_SIZE_UNKNOWN;
	if (size != OTA_SIZE_UNKNOWN && size > p->size)
		return OTA_E_NO_SPACE;

	align = s->cfg.flash->write_align;
	u->slots = s;
	u->part = p;
	u->slot = slot;
	u->is_app = slot != OTA_SLOT_FS;
	u->size = size;
	u->hold = align > OTA_UPDATE_HOLD_LEN ? align : OTA_UPDATE_HOLD_LEN;
	u->flushed = u->hold;

	if (mode == OTA_ERASE_UP_FRONT) {
		uint32_t len =
		    size == OTA_SIZE_UNKNOWN ? p->size : align_up(size, OTA_FLASH_SECTOR_SIZE);
		rc = flash_erase_region(s->cfg.flash, p->offset, len);
		if (rc != OTA_OK)
			return rc;
		u->erased_to = len;
	}
	if (u->is_app && s->cfg.rollback)
		(void)invalidate_inactive(s);
	u->open = true;
	s->update_open = true;
	return OTA_OK;
}

int
ota_update_set_md5(struct ota_update *u, const uint8_t md5[OTA_MD5_LEN])
{
	if (u == NULL || !u->open || md5 == NULL)
		return OTA_E_BAD_ARGS;
	ota_copy(u->md5, md5, OTA_MD5_LEN);
	u->has_md5 = true;
	return OTA_OK;
}

/* erase the sectors up to @upto (partition-relative) that are not erased yet */
static int
ensure_erased(struct ota_update *u, uint32_t upto)
{
	const struct ota_flash_ops *f = u->slots->cfg.flash;
	while (u->erased_to < upto) {
		int rc =
		    flash_erase_region(f, u->part->offset + u->erased_to, OTA_FLASH_SECTOR_SIZE);
		if (rc != OTA_OK)
			return rc;
		u->erased_to += OTA_FLASH_SECTOR_SIZE;
	}
	return OTA_OK;
}

/* program [off, off + len) of the partition (aligned) */
static int
update_program(struct ota_update *u, uint32_t off, const uint8_t *data, uint32_t len)
{
	int rc;
	if (off > u->part->size || len > u->part->size - off)
		return OTA_E_NO_SPACE;
	rc = ensure_erased(u, off + len);
	if (rc != OTA_OK)
		return rc;
	return flash_write(u->slots->cfg.flash, u->part->offset + off, data, len);
}

static int
update_fail(struct ota_update *u, int rc)
{
	if (u->error == OTA_OK)
		u->error = rc;
	return rc;
}

/* the full write unit in tail goes to flash */
static int
flush_tail(struct ota_update *u)
{
	uint32_t align = u->slots->cfg.flash->write_align;
	int rc = update_program(u, u->flushed, u->tail, align);
	if (rc == OTA_OK) {
		u->flushed += align;
		u->tail_len = 0;
	}
	return rc;
}

int
ota_update_write(struct ota_update *u, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t align;
	int rc;

	if (u == NULL || !u->open || (data == NULL && len > 0))
		return OTA_E_BAD_ARGS;
	if (u->error != OTA_OK)
		return u->error;
	if (len == 0)
		return OTA_OK;
	if (len > u->part->size - u->written ||
	    (u->size != OTA_SIZE_UNKNOWN && len > u->size - u->written))
		return update_fail(u, OTA_E_NO_SPACE);
	if (u->written == 0 && u->is_app && p[0] != OTA_ESP_IMAGE_MAGIC)
		return update_fail(u, OTA_E_BAD_MAGIC);
	align = u->slots->cfg.flash->write_align;

	while (len > 0) {
		uint32_t n;
		if (u->written < u->hold) {
			/* the first bytes stay in RAM until end() has verified everything */
			n = u->hold - u->written;
			if (n > len)
				n = (uint32_t)len;
			ota_copy(u->head + u->written, p, n);
		} else if (u->tail_len == 0 && len >= align) {
			/* whole units straight from the caller's buffer */
			n = (uint32_t)len & ~(align - 1);
			rc = update_program(u, u->flushed, p, n);
			if (rc != OTA_OK)
				return update_fail(u, rc);
			u->flushed += n;
		} else {
			/* a partial write unit waits in tail */
			n = align - u->tail_len;
			if (n > len)
				n = (uint32_t)len;
			ota_copy(u->tail + u->tail_len, p, n);
			u->tail_len += n;
			if (u->tail_len == align && (rc = flush_tail(u)) != OTA_OK)
				return update_fail(u, rc);
		}
		u->written += n;
		p += n;
		len -= n;
	}
	return OTA_OK;
}

static void
update_close(struct ota_update *u)
{
	u->open = false;
	u->slots->update_open = false;
}

/* MD5 of [0, written) as the slot will hold it: the uploader's bytes, whatever they are */
static int
check_md5(struct ota_update *u, struct flash_image *fi)
{
	const struct ota_hash_ops *h = u->slots->cfg.hash;
	uint8_t *buf = u->slots->cfg.scratch;
	size_t cap = u->slots->cfg.scratch_len;
	uint8_t md5[OTA_MD5_LEN];
	uint32_t off = 0;
	int rc = hash_begin(h, OTA_HASH_MD5);
	if (rc != OTA_OK)
		return rc;
	fi->rc = OTA_OK;
	while (off < u->written) {
		/* flash_image_read() takes 64 KiB at most and says how much it took */
		int n = flash_image_read(fi, off, buf,
					 u->written - off < cap ? u->written - off : cap);
		rc = n < 0 ? fi->rc : hash_update(h, OTA_HASH_MD5, buf, (size_t)n);
		if (rc != OTA_OK) {
			hash_drop(h, OTA_HASH_MD5);
			return rc;
		}
		off += (uint32_t)n;
	}
	rc = hash_finish(h, OTA_HASH_MD5, md5);
	if (rc != OTA_OK)
		return rc;
	return ota_compare(md5, u->md5, OTA_MD5_LEN) == 0 ? OTA_OK : OTA_E_MD5;
}

/* @info may be NULL */
static int
update_finish(struct ota_update *u, struct ota_image_info *info)
{
	const struct ota_flash_ops *f = u->slots->cfg.flash;
	uint8_t back[OTA_FLASH_MAX_ALIGN];
	struct flash_image fi;
	int rc;

	if (u->written == 0)
		return OTA_E_TRUNCATED;
	if (u->size != OTA_SIZE_UNKNOWN && u->written != u->size)
		return OTA_E_TRUNCATED;
	if (u->tail_len > 0) {
		ota_fill(u->tail + u->tail_len, f->erased_val, f->write_align - u->tail_len);
		rc = flush_tail(u);
		if (rc != OTA_OK)
			return rc;
	}

	fi.s = u->slots;
	fi.base = u->part->offset;
	fi.head = u->head;
	fi.head_len = u->hold;
	fi.rc = OTA_OK;
	if (u->has_md5) {
		rc = check_md5(u, &fi);
		if (rc != OTA_OK)
			return rc;
	}
	/* exactly the received bytes: the same findings the desktop pre-flight reports */
	if (u->is_app) {
		rc = verify_image(&fi, u->written, false, u->part->size, info);
		if (rc != OTA_OK)
			return rc;
	}

	/* now the image may become bootable: the held-back bytes go to flash */
	rc = update_program(u, 0, u->head, u->hold);
	if (rc != OTA_OK)
		return rc;
	rc = flash_read(f, u->part->offset, back, u->hold);
	if (rc != OTA_OK)
		return rc;
	if (ota_compare(back, u->head, u->hold) != 0)
		return OTA_E_FLASH;
	return OTA_OK;
}

int
ota_update_end(struct ota_update *u, struct ota_image_info *info)
{
	int rc;
	if (u == NULL || !u->open)
		return OTA_E_BAD_STATE;
	rc = u->error != OTA_OK ? u->error : update_finish(u, info);
	update_close(u);
	return rc;
}

void
ota_update_abort(struct ota_update *u)
{
	if (u != NULL && u->open)
		update_close(u);
}

int
ota_update_slot(const struct ota_update *u)
{
	return u != NULL ? u->slot : OTA_SLOT_NONE;
}

uint32_t
ota_update_written(const struct ota_update *u)
{
	return u != NULL ? u->written : 0;
}
