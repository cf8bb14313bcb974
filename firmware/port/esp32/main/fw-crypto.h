/* SPDX-License-Identifier: MIT */
/*
 * fw-crypto.h - the core's streaming MD5 and SHA-256 (struct ota_hash_ops) over mbedTLS
 *
 * ESP-IDF's mbedTLS port runs SHA-256 on the chip's SHA accelerator and MD5 in ROM or
 * software. One instance per concurrent user, as in the simulator (espota, HTTP auth,
 * HTTP image MD5, the slots, the sink each have their own).
 */
#pragma once

#include "mbedtls/md5.h"
#include "mbedtls/sha256.h"
#include "ota/ota-crypto.h"

struct fw_crypto {
	struct ota_hash_ops ops;
	mbedtls_md5_context md5;
	mbedtls_sha256_context sha256;
};

void fw_crypto_init(struct fw_crypto *c);
const struct ota_hash_ops *fw_crypto_ops(struct fw_crypto *c);
