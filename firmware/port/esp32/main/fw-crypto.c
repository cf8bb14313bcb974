/* SPDX-License-Identifier: MIT */
/* fw-crypto.c - struct ota_hash_ops over mbedtls_md5_* and mbedtls_sha256_* */

#include "fw-crypto.h"

#include <string.h>

static int
crypto_begin(void *user, enum ota_hash_kind kind)
{
	struct fw_crypto *c = user;
	switch (kind) {
	case OTA_HASH_MD5:
		/* free + init drops whatever an abandoned hash left behind */
		mbedtls_md5_free(&c->md5);
		mbedtls_md5_init(&c->md5);
		return mbedtls_md5_starts(&c->md5) == 0 ? 0 : -1;
	case OTA_HASH_SHA256:
		mbedtls_sha256_free(&c->sha256);
		mbedtls_sha256_init(&c->sha256);
		return mbedtls_sha256_starts(&c->sha256, 0) == 0 ? 0 : -1;
	default:
		return -1;
	}
}

static int
crypto_update(void *user, enum ota_hash_kind kind, const uint8_t *data, size_t len)
{
	struct fw_crypto *c = user;
	switch (kind) {
	case OTA_HASH_MD5:
		return mbedtls_md5_update(&c->md5, data, len) == 0 ? 0 : -1;
	case OTA_HASH_SHA256:
		return mbedtls_sha256_update(&c->sha256, data, len) == 0 ? 0 : -1;
	default:
		return -1;
	}
}

static int
crypto_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	struct fw_crypto *c = user;
	switch (kind) {
	case OTA_HASH_MD5:
		return mbedtls_md5_finish(&c->md5, out) == 0 ? 0 : -1;
	case OTA_HASH_SHA256:
		return mbedtls_sha256_finish(&c->sha256, out) == 0 ? 0 : -1;
	default:
		return -1;
	}
}

void
fw_crypto_init(struct fw_crypto *c)
{
	memset(c, 0, sizeof(*c));
	mbedtls_md5_init(&c->md5);
	mbedtls_sha256_init(&c->sha256);
	c->ops.user = c;
	c->ops.begin = crypto_begin;
	c->ops.update = crypto_update;
	c->ops.finish = crypto_finish;
}

const struct ota_hash_ops *
fw_crypto_ops(struct fw_crypto *c)
{
	return &c->ops;
}
