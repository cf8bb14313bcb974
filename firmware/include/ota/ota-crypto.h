/* SPDX-License-Identifier: MIT */
/*
 * ota-crypto.h - the crypto a port provides to the portable core
 *
 * The core never allocates: each streaming hash keeps its state wherever the port wants
 * (ROM, mbedTLS context, OpenSSL EVP context). Only one hash per kind runs at a time.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define OTA_MD5_LEN 16
#define OTA_SHA256_LEN 32

enum ota_hash_kind {
	OTA_HASH_MD5,
	OTA_HASH_SHA256,
};

struct ota_hash_ops {
	void *user;
	/* each returns 0 on success, a negative value on failure */
	int (*begin)(void *user, enum ota_hash_kind kind);
	int (*update)(void *user, enum ota_hash_kind kind, const uint8_t *data, size_t len);
	/* writes 16 (MD5) or 32 (SHA-256) bytes */
	int (*finish)(void *user, enum ota_hash_kind kind, uint8_t *out);
};

/* one-shot helper over a struct ota_hash_ops; returns 0 on success */
int ota_hash_buffer(const struct ota_hash_ops *ops,
		    enum ota_hash_kind kind,
		    const uint8_t *data,
		    size_t len,
		    uint8_t *out);
