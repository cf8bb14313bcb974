/* SPDX-License-Identifier: MIT */
/* sim-crypto.c - the port's streaming MD5 and SHA-256 over OpenSSL EVP */

#include "sim-crypto.h"

#include <openssl/evp.h>
#include <stdlib.h>

struct sim_crypto {
	struct ota_hash_ops ops;
	EVP_MD_CTX *ctx[2]; /* by enum ota_hash_kind */
};

static EVP_MD_CTX *
ctx_for(void *user, enum ota_hash_kind kind)
{
	struct sim_crypto *c = user;
	if (kind != OTA_HASH_MD5 && kind != OTA_HASH_SHA256)
		return NULL;
	return c->ctx[kind];
}

static int
sim_begin(void *user, enum ota_hash_kind kind)
{
	EVP_MD_CTX *ctx = ctx_for(user, kind);
	if (ctx == NULL)
		return -1;
	return EVP_DigestInit_ex(ctx, kind == OTA_HASH_MD5 ? EVP_md5() : EVP_sha256(), NULL) == 1
		   ? 0
		   : -1;
}

static int
sim_update(void *user, enum ota_hash_kind kind, const uint8_t *data, size_t len)
{
	EVP_MD_CTX *ctx = ctx_for(user, kind);
	if (ctx == NULL)
		return -1;
	return EVP_DigestUpdate(ctx, data, len) == 1 ? 0 : -1;
}

static int
sim_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	EVP_MD_CTX *ctx = ctx_for(user, kind);
	unsigned int n = 0;
	if (ctx == NULL)
		return -1;
	return EVP_DigestFinal_ex(ctx, out, &n) == 1 ? 0 : -1;
}

struct sim_crypto *
sim_crypto_new(void)
{
	struct sim_crypto *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->ctx[OTA_HASH_MD5] = EVP_MD_CTX_new();
	c->ctx[OTA_HASH_SHA256] = EVP_MD_CTX_new();
	if (c->ctx[OTA_HASH_MD5] == NULL || c->ctx[OTA_HASH_SHA256] == NULL) {
		sim_crypto_free(c);
		return NULL;
	}
	c->ops.user = c;
	c->ops.begin = sim_begin;
	c->ops.update = sim_update;
	c->ops.finish = sim_finish;
	return c;
}

void
sim_crypto_free(struct sim_crypto *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->ctx[OTA_HASH_MD5]);
	EVP_MD_CTX_free(c->ctx[OTA_HASH_SHA256]);
	free(c);
}

const struct ota_hash_ops *
sim_crypto_ops(struct sim_crypto *c)
{
	return c != NULL ? &c->ops : NULL;
}
