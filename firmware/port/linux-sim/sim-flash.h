/* SPDX-License-Identifier: MIT */
/*
 * sim-flash.h - a SPI NOR flash model for the simulator and the power-failure tests
 *
 * A byte array (in RAM, or a file mapped with mmap so a simulated device keeps its flash
 * across runs) behind a struct ota_flash_ops that enforces the NOR rules mcuboot's
 * simulator enforces: erase only whole aligned sectors, write only aligned units, write
 * only bytes erased since their last write. A broken rule is recorded and the operation
 * fails without changing anything (or aborts the process, for code that should crash).
 *
 * Power loss, mcuboot's way: every write and erase counts as one operation; with a budget
 * of n the n-th operation from now does not happen and instead the registered jmp_buf is
 * longjmp'd to (or, without one, that operation and every later one fails until the
 * budget is set again). In torn mode the n-th operation is cut partway instead; it
 * affects a prefix of keep bytes, by default keep = len / 2 (sim_flash_set_torn_keep):
 *   - a write of len bytes stores its first keep bytes, the rest stay as they were;
 *   - an erase of [addr, addr + len) erases its first keep bytes (they read as the
 *     erased value and may be written again), the rest keeps its old contents.
 * Reads are never counted and never cut.
 *
 * Timing: SIM_FLASH_FAST does not sleep; SIM_FLASH_REALISTIC sleeps as a typical part
 * would (specs/esp-images.md 5.4): 45 ms per 4 KiB sector erase, 150 ms per 64 KiB block
 * erase, 0.8 ms per 256-byte page programmed (partly or fully). Both modes add the modelled
 * time to a counter (sim_flash_busy_ns), so tests can check the model without waiting.
 */
#pragma once

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-flash.h"

enum sim_flash_timing {
	SIM_FLASH_FAST,
	SIM_FLASH_REALISTIC,
};

enum sim_flash_violation_mode {
	SIM_FLASH_VIOLATION_FAIL,  /* record it, the operation returns -1 and changes nothing */
	SIM_FLASH_VIOLATION_ABORT, /* record it, print it to stderr and abort() */
};

enum sim_flash_violation {
	SIM_FLASH_OK = 0,
	SIM_FLASH_V_RANGE,	      /* outside the flash */
	SIM_FLASH_V_ERASE_ALIGN,      /* erase not on whole sectors */
	SIM_FLASH_V_WRITE_ALIGN,      /* write address or length not write_align multiples */
	SIM_FLASH_V_WRITE_NOT_ERASED, /* a byte written twice without an erase between */
};

struct sim_flash_config {
	uint32_t size;	      /* bytes, a multiple of sector_size */
	uint32_t sector_size; /* 0 for 4096 */
	uint32_t block_size;  /* 64 KiB block erase unit for timing, 0 for 65536 */
	uint32_t write_align; /* 0 for 1 */
	uint8_t erased_val;   /* 0xFF on every ESP part; anything else only for model tests */
	const char *path;     /* NULL: RAM only; else the file holding the flash contents */
	enum sim_flash_timing timing;
	enum sim_flash_violation_mode violation_mode;
};

struct sim_flash {
	struct sim_flash_config cfg;
	struct ota_flash_ops ops;
	uint8_t *data;	  /* the contents */
	uint8_t *written; /* one bit per byte: written since its last erase */
	bool mapped;	  /* data is an mmap of cfg.path */
	int fd;

	uint64_t ops_done; /* mutating operations performed (torn ones included) */
	uint64_t reads;
	uint64_t budget; /* operations left before the cut, 0 = never */
	bool torn;
	int32_t torn_keep; /* 0: half; > 0: that many bytes; < 0: all but -torn_keep */
	bool power_lost;
	jmp_buf *jmp;
	bool cut; /* the last cut: which operation it hit */
	bool cut_write;
	uint32_t cut_addr;
	uint32_t cut_len;
	uint64_t busy_ns; /* modelled busy time */

	uint64_t violations;
	enum sim_flash_violation first_violation;
	uint32_t first_violation_addr;
};

/* 0 on success, -1 with errno set; a new file (or a missing one) starts all erased, an
 * existing file of another size is refused (EINVAL) */
int sim_flash_open(struct sim_flash *f, const struct sim_flash_config *cfg);
/* writes a mapped file back (msync) and frees everything */
void sim_flash_close(struct sim_flash *f);
/* msync for a file-backed flash; 0 for RAM */
int sim_flash_sync(struct sim_flash *f);

/* the port boundary the core takes; valid while @f is open */
const struct ota_flash_ops *sim_flash_ops(struct sim_flash *f);

/* set every byte to the erased value, without counting operations */
void sim_flash_format(struct sim_flash *f);
/* copy the contents (and which bytes are written) from another flash of the same geometry,
 * without counting: how a test restores a pristine image before each cut */
int sim_flash_copy_from(struct sim_flash *f, const struct sim_flash *src);
/* raw access for tests and the simulator's inspection commands (not counted, no rules) */
uint8_t *sim_flash_data(struct sim_flash *f);
uint32_t sim_flash_size(const struct sim_flash *f);

/*
 * sim_flash_set_budget:
 * @n: 0 to never cut; otherwise the n-th mutating operation from now is cut
 *
 * Clears a previous power loss. With a jmp_buf registered the cut longjmps to it with
 * value 1 before (or, torn, in the middle of) the operation.
 */
void sim_flash_set_budget(struct sim_flash *f, uint64_t n);
/* where a cut jumps to; NULL to make the cut operation (and all later ones) fail instead */
void sim_flash_set_jmp(struct sim_flash *f, jmp_buf *jmp);
/* cut operations halfway instead of before them (see the file comment for which bytes) */
void sim_flash_set_torn(struct sim_flash *f, bool torn);
/* how much of a torn operation happens: 0 for half of it (the default), n > 0 for its first
 * n bytes, n < 0 for all but its last -n bytes; always fewer bytes than the operation has */
void sim_flash_set_torn_keep(struct sim_flash *f, int32_t keep);
/* true after a cut without a jmp_buf, until sim_flash_set_budget() */
bool sim_flash_power_lost(const struct sim_flash *f);
/* the operation the last cut hit (kept until the next sim_flash_set_budget()); false if none */
bool sim_flash_last_cut(const struct sim_flash *f, uint32_t *addr, uint32_t *len, bool *is_write);

/* mutating operations so far (count mode: run clean, read this back) */
uint64_t sim_flash_op_count(const struct sim_flash *f);
void sim_flash_reset_op_count(struct sim_flash *f);

void sim_flash_set_timing(struct sim_flash *f, enum sim_flash_timing timing);
uint64_t sim_flash_busy_ns(const struct sim_flash *f);

/* rule violations so far, the first one's kind and address */
uint64_t sim_flash_violations(const struct sim_flash *f);
enum sim_flash_violation sim_flash_first_violation(const struct sim_flash *f, uint32_t *addr);
void sim_flash_clear_violations(struct sim_flash *f);
const char *sim_flash_violation_name(enum sim_flash_violation v);
