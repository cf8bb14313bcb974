/* SPDX-License-Identifier: MIT */
/*
 * sim-crypto.h - struct ota_hash_ops over OpenSSL EVP (MD5, SHA-256) for the simulator
 *
 * Each instance has its own MD5 and SHA-256 contexts, so receivers that may hash at the
 * same time (the espota image MD5, the HTTP Digest check) each get their own instance.
 */
#pragma once

#include "ota/ota-crypto.h"

struct sim_crypto;

/* NULL when OpenSSL cannot set up the contexts */
struct sim_crypto *sim_crypto_new(void);
void sim_crypto_free(struct sim_crypto *c);

/* the operations of @c; valid until sim_crypto_free() */
const struct ota_hash_ops *sim_crypto_ops(struct sim_crypto *c);
