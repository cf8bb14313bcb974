/* SPDX-License-Identifier: MIT */
/*
 * sim-state.h - what a simulated device keeps in its state directory besides the flash
 *
 * <state-dir>/<name>/ holds:
 *   flash.bin  the NOR flash (sim-flash)
 *   mac        "02:xx:xx:xx:xx:xx", a random locally administered MAC made on first start
 *   password   "md5 <32 hex>" or "sha256 <64 hex>": the hash ArduinoOTA's setPasswordHash()
 *              keeps, never the password itself (mode 0600)
 *   state      key=value lines: boot_count, last_update and, per app slot, the length and
 *              SHA-256 of the image as it was uploaded (what fw_sha256 reports)
 *   lock       flock()ed while a simulator runs the device
 * Files are replaced with write-to-temporary + rename, so a killed process leaves either
 * the old or the new file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_STATE_SLOTS 16
#define SIM_STATE_TEXT_MAX 128

struct sim_slot_record {
	bool known;
	uint32_t len;
	uint8_t sha256[32];
};

struct sim_state {
	char path[4096]; /* of the state file */
	uint32_t boot_count;
	char last_update[SIM_STATE_TEXT_MAX];
	struct sim_slot_record slots[SIM_STATE_SLOTS];
};

/* mkdir -p; 0 or -1 with errno */
int sim_mkdirs(const char *path);

/* takes <dir>/lock; the fd stays open (and locked) for the life of the process; -1 when
 * another process holds it (errno EWOULDBLOCK) */
int sim_state_lock(const char *dir);

/* reads <dir>/state; a missing file gives an empty state (0 on success) */
int sim_state_load(struct sim_state *st, const char *dir);
int sim_state_save(const struct sim_state *st);

/* reads <dir>/mac, or makes and stores a random locally administered unicast MAC */
int sim_mac_load_or_create(const char *dir, uint8_t mac[6]);

/* "md5" / "sha256" and the lowercase hex hash */
int sim_password_store(const char *dir, const char *scheme, const char *hash_hex);
/* 1 when one is stored, 0 when none, -1 on a bad file */
int
sim_password_load(const char *dir, char *scheme, size_t scheme_size, char *hash, size_t hash_size);
int sim_password_remove(const char *dir);

/* writes @len bytes to @path through a temporary file and rename() */
int sim_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);
