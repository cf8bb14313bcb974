/* SPDX-License-Identifier: MIT */
/* sim-flash.c - SPI NOR flash model: NOR rules, operation budget, torn operations, timing */

#define _POSIX_C_SOURCE 200809L

#include "sim-flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* specs/esp-images.md 5.1/5.4: typical SPI NOR figures */
#define SECTOR_ERASE_NS (45ull * 1000 * 1000)
#define BLOCK_ERASE_NS (150ull * 1000 * 1000)
#define PAGE_PROGRAM_NS (800ull * 1000)
#define PAGE_SIZE_BYTES 256u

static bool
is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static bool
bit_get(const uint8_t *map, uint32_t i)
{
	return (map[i >> 3] >> (i & 7)) & 1;
}

static void
bits_set(uint8_t *map, uint32_t from, uint32_t n, bool v)
{
	for (uint32_t i = from; i < from + n; i++) {
		if (v)
			map[i >> 3] |= (uint8_t)(1u << (i & 7));
		else
			map[i >> 3] &= (uint8_t) ~(1u << (i & 7));
	}
}

const char *
sim_flash_violation_name(enum sim_flash_violation v)
{
	switch (v) {
	case SIM_FLASH_OK:
		return "none";
	case SIM_FLASH_V_RANGE:
		return "out of range";
	case SIM_FLASH_V_ERASE_ALIGN:
		return "erase not on whole sectors";
	case SIM_FLASH_V_WRITE_ALIGN:
		return "write not aligned";
	case SIM_FLASH_V_WRITE_NOT_ERASED:
		return "write to a byte not erased since its last write";
	default:
		return "?";
	}
}

static int
violation(struct sim_flash *f, enum sim_flash_violation v, uint32_t addr)
{
	if (f->violations++ == 0) {
		f->first_violation = v;
		f->first_violation_addr = addr;
	}
	if (f->cfg.violation_mode == SIM_FLASH_VIOLATION_ABORT) {
		fprintf(stderr, "sim-flash: NOR rule broken at 0x%08x: %s\n", (unsigned)addr,
			sim_flash_violation_name(v));
		abort();
	}
	return -1;
}

static bool
in_range(const struct sim_flash *f, uint32_t addr, size_t len)
{
	return addr <= f->cfg.size && len <= f->cfg.size - addr;
}

static void
spend(struct sim_flash *f, uint64_t ns)
{
	f->busy_ns += ns;
	if (f->cfg.timing == SIM_FLASH_REALISTIC && ns > 0) {
		struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
				      .tv_nsec = (long)(ns % 1000000000ull)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		}
	}
}

static uint64_t
erase_cost(const struct sim_flash *f, uint32_t addr, uint32_t len)
{
	uint64_t ns = 0;
	while (len > 0) {
		uint32_t unit = f->cfg.sector_size;
		if (addr % f->cfg.block_size == 0 && len >= f->cfg.block_size) {
			unit = f->cfg.block_size;
			ns += BLOCK_ERASE_NS;
		} else {
			ns += SECTOR_ERASE_NS;
		}
		addr += unit;
		len -= unit;
	}
	return ns;
}

static uint64_t
write_cost(uint32_t addr, uint32_t len)
{
	if (len == 0)
		return 0;
	return (uint64_t)((addr + len - 1) / PAGE_SIZE_BYTES - addr / PAGE_SIZE_BYTES + 1) *
	       PAGE_PROGRAM_NS;
}

static void
do_write(struct sim_flash *f, uint32_t addr, const uint8_t *src, uint32_t len)
{
	memcpy(f->data + addr, src, len);
	bits_set(f->written, addr, len, true);
	spend(f, write_cost(addr, len));
}

static void
do_erase(struct sim_flash *f, uint32_t addr, uint32_t len, uint64_t cost)
{
	memset(f->data + addr, f->cfg.erased_val, len);
	bits_set(f->written, addr, len, false);
	spend(f, cost);
}

/* bytes of a torn operation of @len bytes that happen */
static uint32_t
torn_len(const struct sim_flash *f, uint32_t len)
{
	int64_t keep = f->torn_keep == 0  ? len / 2
		       : f->torn_keep > 0 ? f->torn_keep
					  : (int64_t)len + f->torn_keep;
	if (keep < 0)
		keep = 0;
	if (len > 0 && keep > (int64_t)len - 1)
		keep = (int64_t)len - 1;
	return (uint32_t)keep;
}

/* the budget: true when this operation is the one the power cut hits */
static bool
cut_now(struct sim_flash *f)
{
	if (f->budget == 0)
		return false;
	return --f->budget == 0;
}

static int
power_cut(struct sim_flash *f, uint32_t addr, uint32_t len, bool is_write)
{
	f->cut = true;
	f->cut_addr = addr;
	f->cut_len = len;
	f->cut_write = is_write;
	if (f->jmp != NULL) {
		jmp_buf *jmp = f->jmp;
		/* the next boot starts with a fresh budget */
		longjmp(*jmp, 1);
	}
	f->power_lost = true;
	return -1;
}

static int
op_read(void *user, uint32_t addr, void *buf, size_t len)
{
	struct sim_flash *f = user;
	if (!in_range(f, addr, len))
		return violation(f, SIM_FLASH_V_RANGE, addr);
	memcpy(buf, f->data + addr, len);
	f->reads++;
	return 0;
}

static int
op_write(void *user, uint32_t addr, const void *buf, size_t len)
{
	struct sim_flash *f = user;
	uint32_t n = (uint32_t)len;

	if (f->power_lost)
		return -1;
	if (!in_range(f, addr, len))
		return violation(f, SIM_FLASH_V_RANGE, addr);
	if (addr % f->cfg.write_align != 0 || n % f->cfg.write_align != 0)
		return violation(f, SIM_FLASH_V_WRITE_ALIGN, addr);
	for (uint32_t i = 0; i < n; i++) {
		if (bit_get(f->written, addr + i))
			return violation(f, SIM_FLASH_V_WRITE_NOT_ERASED, addr + i);
	}
	if (cut_now(f)) {
		if (f->torn) {
			do_write(f, addr, buf, torn_len(f, n));
			f->ops_done++;
		}
		return power_cut(f, addr, n, true);
	}
	do_write(f, addr, buf, n);
	f->ops_done++;
	return 0;
}

static int
op_erase(void *user, uint32_t addr, size_t len)
{
	struct sim_flash *f = user;
	uint32_t n = (uint32_t)len;

	if (f->power_lost)
		return -1;
	if (!in_range(f, addr, len))
		return violation(f, SIM_FLASH_V_RANGE, addr);
	if (n == 0 || addr % f->cfg.sector_size != 0 || n % f->cfg.sector_size != 0)
		return violation(f, SIM_FLASH_V_ERASE_ALIGN, addr);
	if (cut_now(f)) {
		if (f->torn) {
			uint32_t keep = torn_len(f, n);
			do_erase(f, addr, keep, erase_cost(f, addr, n) * keep / n);
			f->ops_done++;
		}
		return power_cut(f, addr, n, false);
	}
	do_erase(f, addr, n, erase_cost(f, addr, n));
	f->ops_done++;
	return 0;
}

static void
mark_written_from_contents(struct sim_flash *f)
{
	/* a file does not say which bytes were written: a byte that differs from the erased
	 * value certainly was, one that equals it is taken as erased */
	memset(f->written, 0, f->cfg.size / 8 + 1);
	for (uint32_t i = 0; i < f->cfg.size; i++) {
		if (f->data[i] != f->cfg.erased_val)
			f->written[i >> 3] |= (uint8_t)(1u << (i & 7));
	}
}

static int
open_file(struct sim_flash *f)
{
	struct stat st;
	bool fresh;
	void *map;

	f->fd = open(f->cfg.path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (f->fd < 0)
		return -1;
	if (fstat(f->fd, &st) != 0)
		return -1;
	fresh = st.st_size == 0;
	if (!fresh && (uint64_t)st.st_size != f->cfg.size) {
		errno = EINVAL;
		return -1;
	}
	if (fresh && ftruncate(f->fd, (off_t)f->cfg.size) != 0)
		return -1;
	map = mmap(NULL, f->cfg.size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (map == MAP_FAILED)
		return -1;
	f->data = map;
	f->mapped = true;
	if (fresh)
		memset(f->data, f->cfg.erased_val, f->cfg.size);
	else
		mark_written_from_contents(f);
	return 0;
}

int
sim_flash_open(struct sim_flash *f, const struct sim_flash_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->cfg = *cfg;
	if (f->cfg.sector_size == 0)
		f->cfg.sector_size = 4096;
	if (f->cfg.block_size == 0)
		f->cfg.block_size = 0x10000;
	if (f->cfg.write_align == 0)
		f->cfg.write_align = 1;
	if (f->cfg.size == 0 || !is_pow2(f->cfg.sector_size) || !is_pow2(f->cfg.write_align) ||
	    f->cfg.size % f->cfg.sector_size != 0 || f->cfg.block_size % f->cfg.sector_size != 0 ||
	    f->cfg.write_align > f->cfg.sector_size) {
		errno = EINVAL;
		return -1;
	}
	f->written = calloc(f->cfg.size / 8 + 1, 1);
	if (f->written == NULL)
		return -1;
	if (f->cfg.path != NULL) {
		if (open_file(f) != 0) {
			int saved = errno;
			sim_flash_close(f);
			errno = saved;
			return -1;
		}
	} else {
		f->data = malloc(f->cfg.size);
		if (f->data == NULL) {
			sim_flash_close(f);
			return -1;
		}
		memset(f->data, f->cfg.erased_val, f->cfg.size);
	}
	f->ops.user = f;
	f->ops.read = op_read;
	f->ops.write = op_write;
	f->ops.erase = op_erase;
	f->ops.size = f->cfg.size;
	f->ops.sector_size = f->cfg.sector_size;
	f->ops.write_align = f->cfg.write_align;
	f->ops.erased_val = f->cfg.erased_val;
	return 0;
}

int
sim_flash_sync(struct sim_flash *f)
{
	if (f->mapped && f->data != NULL)
		return msync(f->data, f->cfg.size, MS_SYNC);
	return 0;
}

void
sim_flash_close(struct sim_flash *f)
{
	if (f->mapped) {
		if (f->data != NULL) {
			(void)msync(f->data, f->cfg.size, MS_SYNC);
			munmap(f->data, f->cfg.size);
		}
	} else {
		free(f->data);
	}
	if (f->fd >= 0)
		close(f->fd);
	free(f->written);
	f->data = NULL;
	f->written = NULL;
	f->fd = -1;
	f->mapped = false;
}

const struct ota_flash_ops *
sim_flash_ops(struct sim_flash *f)
{
	return &f->ops;
}

void
sim_flash_format(struct sim_flash *f)
{
	memset(f->data, f->cfg.erased_val, f->cfg.size);
	memset(f->written, 0, f->cfg.size / 8 + 1);
}

int
sim_flash_copy_from(struct sim_flash *f, const struct sim_flash *src)
{
	if (f->cfg.size != src->cfg.size) {
		errno = EINVAL;
		return -1;
	}
	memcpy(f->data, src->data, f->cfg.size);
	memcpy(f->written, src->written, f->cfg.size / 8 + 1);
	return 0;
}

uint8_t *
sim_flash_data(struct sim_flash *f)
{
	return f->data;
}

uint32_t
sim_flash_size(const struct sim_flash *f)
{
	return f->cfg.size;
}

void
sim_flash_set_budget(struct sim_flash *f, uint64_t n)
{
	f->budget = n;
	f->power_lost = false;
	f->cut = false;
}

bool
sim_flash_last_cut(const struct sim_flash *f, uint32_t *addr, uint32_t *len, bool *is_write)
{
	if (!f->cut)
		return false;
	if (addr != NULL)
		*addr = f->cut_addr;
	if (len != NULL)
		*len = f->cut_len;
	if (is_write != NULL)
		*is_write = f->cut_write;
	return true;
}

void
sim_flash_set_jmp(struct sim_flash *f, jmp_buf *jmp)
{
	f->jmp = jmp;
}

void
sim_flash_set_torn(struct sim_flash *f, bool torn)
{
	f->torn = torn;
}

void
sim_flash_set_torn_keep(struct sim_flash *f, int32_t keep)
{
	f->torn_keep = keep;
}

bool
sim_flash_power_lost(const struct sim_flash *f)
{
	return f->power_lost;
}

uint64_t
sim_flash_op_count(const struct sim_flash *f)
{
	return f->ops_done;
}

void
sim_flash_reset_op_count(struct sim_flash *f)
{
	f->ops_done = 0;
}

void
sim_flash_set_timing(struct sim_flash *f, enum sim_flash_timing timing)
{
	f->cfg.timing = timing;
}

uint64_t
sim_flash_busy_ns(const struct sim_flash *f)
{
	return f->busy_ns;
}

uint64_t
sim_flash_violations(const struct sim_flash *f)
{
	return f->violations;
}

enum sim_flash_violation
sim_flash_first_violation(const struct sim_flash *f, uint32_t *addr)
{
	if (addr != NULL)
		*addr = f->first_violation_addr;
	return f->violations > 0 ? f->first_violation : SIM_FLASH_OK;
}

void
sim_flash_clear_violations(struct sim_flash *f)
{
	f->violations = 0;
	f->first_violation = SIM_FLASH_OK;
	f->first_violation_addr = 0;
}
