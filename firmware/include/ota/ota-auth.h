/* SPDX-License-Identifier: MIT */
/*
 * ota-auth.h - espota authentication math (legacy MD5 and the >= 3.3.1 PBKDF2 scheme)
 *
 * Everything is lowercase hex text hashed as ASCII, as in specs/espota.md §3 and §5:
 *
 *   legacy:  K = MD5hex(password)            (or a stored 32-hex MD5 hash)
 *            RESPONSE = MD5hex(K ":" NONCE ":" CNONCE)
 *   PBKDF2:  PH = SHA256hex(password)        (or a stored 64-hex SHA-256 or 32-hex MD5)
 *            DK = PBKDF2-HMAC-SHA256(PH, NONCE ":" CNONCE, 10000, 32) as 64 hex
 *            RESPONSE = SHA256hex(DK ":" NONCE ":" CNONCE)
 *
 * HMAC and PBKDF2 are built here on the port's streaming SHA-256 (struct ota_hash_ops),
 * with stack buffers only. Only one hash runs at a time on @ops.
 *
 * Errors: OTA_E_BAD_ARGS (lengths, NULLs), OTA_E_CRYPTO (the port's hash failed),
 * OTA_E_AUTH (ota_auth_verify(): the response does not match).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-crypto.h"
#include "ota/ota-errors.h"

#define OTA_AUTH_MD5_HEX_LEN 32
#define OTA_AUTH_SHA256_HEX_LEN 64
#define OTA_AUTH_PBKDF2_ITERATIONS 10000u
/* the longest nonce or cnonce either scheme uses */
#define OTA_AUTH_NONCE_MAX 64

enum ota_auth_scheme {
	OTA_AUTH_MD5,	 /* ESP8266 and ESP32 before 3.3.1: 32-hex nonce */
	OTA_AUTH_PBKDF2, /* ESP32 >= 3.3.1: 64-hex nonce */
};

/* one piece of a message hashed without joining the pieces in a buffer */
struct ota_auth_part {
	const void *data;
	size_t len;
};

/* hex length of the nonce, cnonce and response of @scheme (32 or 64) */
size_t ota_auth_hex_len(enum ota_auth_scheme scheme);

/* true when @s holds @len lowercase or uppercase hex digits */
bool ota_auth_is_hex(const char *s, size_t len);

/**
 * ota_auth_digest_hex:
 *
 * The lowercase hex digest of the concatenation of @parts into @out_hex, which holds
 * 33 (MD5) or 65 (SHA-256) bytes; NUL-terminated.
 */
int ota_auth_digest_hex(const struct ota_hash_ops *ops,
			enum ota_hash_kind kind,
			const struct ota_auth_part *parts,
			size_t n_parts,
			char *out_hex);

/* ota_auth_digest_hex() of the parts joined with ':', "a:b:c", as espota and HTTP Digest hash */
int ota_auth_digest_joined(const struct ota_hash_ops *ops,
			   enum ota_hash_kind kind,
			   const struct ota_auth_part *parts,
			   size_t n_parts,
			   char *out_hex);

/* the stored password hash of a plain password: MD5hex (legacy) or SHA256hex (PBKDF2) */
int ota_auth_password_hash(const struct ota_hash_ops *ops,
			   enum ota_auth_scheme scheme,
			   const char *password,
			   size_t password_len,
			   char *out_hex);

/* RFC 2104 HMAC-SHA256 of the concatenated @parts */
int ota_hmac_sha256(const struct ota_hash_ops *ops,
		    const uint8_t *key,
		    size_t key_len,
		    const struct ota_auth_part *parts,
		    size_t n_parts,
		    uint8_t out[OTA_SHA256_LEN]);

/* RFC 8018 PBKDF2 with HMAC-SHA256; @iterations >= 1, any @out_len */
int ota_pbkdf2_hmac_sha256(const struct ota_hash_ops *ops,
			   const uint8_t *password,
			   size_t password_len,
			   const uint8_t *salt,
			   size_t salt_len,
			   uint32_t iterations,
			   uint8_t *out,
			   size_t out_len);

/**
 * ota_auth_response:
 * @key_hex: K (legacy: 32 hex) or PH (PBKDF2: 32 or 64 hex), as stored on the device
 * @nonce, @cnonce: 1..64 bytes each (the device side checks the exact lengths itself)
 * @out_hex: 65 bytes; receives 32 (legacy) or 64 (PBKDF2) hex digits and a NUL
 *
 * The response the host must send (specs/espota.md §3, §5).
 */
int ota_auth_response(const struct ota_hash_ops *ops,
		      enum ota_auth_scheme scheme,
		      const char *key_hex,
		      size_t key_len,
		      const char *nonce,
		      size_t nonce_len,
		      const char *cnonce,
		      size_t cnonce_len,
		      char *out_hex);

/**
 * ota_auth_verify:
 *
 * Computes the expected response and compares it with @response in constant time,
 * case-sensitively (both stock devices compare case-sensitively).
 *
 * Returns: 0 when it matches, OTA_E_AUTH when not, another error otherwise.
 */
int ota_auth_verify(const struct ota_hash_ops *ops,
		    enum ota_auth_scheme scheme,
		    const char *key_hex,
		    size_t key_len,
		    const char *nonce,
		    size_t nonce_len,
		    const char *cnonce,
		    size_t cnonce_len,
		    const char *response,
		    size_t response_len);
