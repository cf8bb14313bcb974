/* SPDX-License-Identifier: MIT */
/* ota-auth.c - espota response math: MD5 digest, HMAC-SHA256 and PBKDF2 over port hashes */

#include "ota/ota-auth.h"

#include "ota/ota-sink.h"
#include "ota/ota-util.h"

#define SHA256_BLOCK 64
/* longest key text accepted: a stored hash is 32 or 64 hex, leave room for odd ones */
#define KEY_MAX 128
/* one PBKDF2 block index, big-endian */
#define INT32_LEN 4

size_t
ota_auth_hex_len(enum ota_auth_scheme scheme)
{
	return scheme == OTA_AUTH_PBKDF2 ? OTA_AUTH_SHA256_HEX_LEN : OTA_AUTH_MD5_HEX_LEN;
}

bool
ota_auth_is_hex(const char *s, size_t len)
{
	if (s == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		/* | 0x20 lowers 'A'-'F' and maps no other byte into 'a'-'f' */
		if (c - '0' > 9 && (c | 0x20) - 'a' > 5)
			return false;
	}
	return true;
}

/* the hash ops are complete: the sink's check, shared */
#define ops_ok(ops) ota_hash_ops_valid(ops)

static size_t
digest_len(enum ota_hash_kind kind)
{
	return kind == OTA_HASH_SHA256 ? OTA_SHA256_LEN : OTA_MD5_LEN;
}

/* hash the parts, with ':' between them when @join; the raw digest goes to @out (16 or 32) */
static int
digest_parts(const struct ota_hash_ops *ops,
	     enum ota_hash_kind kind,
	     const struct ota_auth_part *parts,
	     size_t n_parts,
	     bool join,
	     uint8_t *out)
{
	uint8_t scratch[OTA_SHA256_LEN];
	int rc = 0;
	if (ops->begin(ops->user, kind) != 0)
		return OTA_E_CRYPTO;
	/* odd steps hash part step / 2, even ones the ':' before it */
	for (size_t step = 1; step < 2 * n_parts && rc == 0; step++) {
		const void *data = parts[step / 2].data;
		size_t len = parts[step / 2].len;
		if ((step & 1) == 0) {
			data = ":";
			len = join;
		}
		if (len != 0)
			rc = ops->update(ops->user, kind, data, len);
	}
	/* finish even after a failure, so the port's context is free for the next user */
	if (ops->finish(ops->user, kind, rc == 0 ? out : scratch) != 0 || rc != 0)
		return OTA_E_CRYPTO;
	return 0;
}

static int
digest_hex(const struct ota_hash_ops *ops,
	   enum ota_hash_kind kind,
	   const struct ota_auth_part *parts,
	   size_t n_parts,
	   bool join,
	   char *out_hex)
{
	uint8_t d[OTA_SHA256_LEN];
	int rc;
	if (out_hex == 0 || (parts == 0 && n_parts != 0))
		return OTA_E_BAD_ARGS;
	if (kind != OTA_HASH_MD5 && kind != OTA_HASH_SHA256)
		return OTA_E_BAD_ARGS;
	/* the hash ops last, here and in ota_auth_response(): their check is a call */
	if (!ops_ok(ops))
		return OTA_E_BAD_ARGS;
	rc = digest_parts(ops, kind, parts, n_parts, join, d);
	if (rc != 0)
		return rc;
	ota_hex(d, digest_len(kind), out_hex);
	return 0;
}

int
ota_auth_digest_hex(const struct ota_hash_ops *ops,
		    enum ota_hash_kind kind,
		    const struct ota_auth_part *parts,
		    size_t n_parts,
		    char *out_hex)
{
	return digest_hex(ops, kind, parts, n_parts, false, out_hex);
}

int
ota_auth_digest_joined(const struct ota_hash_ops *ops,
		       enum ota_hash_kind kind,
		       const struct ota_auth_part *parts,
		       size_t n_parts,
		       char *out_hex)
{
	return digest_hex(ops, kind, parts, n_parts, true, out_hex);
}

int
ota_auth_password_hash(const struct ota_hash_ops *ops,
		       enum ota_auth_scheme scheme,
		       const char *password,
		       size_t password_len,
		       char *out_hex)
{
	struct ota_auth_part part = {password, password_len};
	if (password == 0 && password_len != 0)
		return OTA_E_BAD_ARGS;
	return ota_auth_digest_hex(ops, scheme == OTA_AUTH_PBKDF2 ? OTA_HASH_SHA256 : OTA_HASH_MD5,
				   &part, 1, out_hex);
}

/* the two padded key blocks of RFC 2104 */
struct hmac_pads {
	uint8_t ipad[SHA256_BLOCK];
	uint8_t opad[SHA256_BLOCK];
};

static int
hmac_pads_init(const struct ota_hash_ops *ops,
	       const uint8_t *key,
	       size_t key_len,
	       struct hmac_pads *p)
{
	uint8_t k0[SHA256_BLOCK];
	ota_fill(k0, 0, sizeof(k0));
	if (key_len > SHA256_BLOCK) {
		struct ota_auth_part part = {key, key_len};
		int rc = digest_parts(ops, OTA_HASH_SHA256, &part, 1, false, k0);
		if (rc != 0)
			return rc;
	} else if (key_len > 0) {
		ota_copy(k0, key, key_len);
	}
	for (size_t i = 0; i < SHA256_BLOCK; i++) {
		p->ipad[i] = (uint8_t)(k0[i] ^ 0x36u);
		p->opad[i] = (uint8_t)(k0[i] ^ 0x5cu);
	}
	ota_fill(k0, 0, sizeof(k0));
	return 0;
}

/* at most this many message parts per HMAC: enough for salt pieces and a block index */
#define HMAC_PARTS_MAX 6

static int
hmac_with_pads(const struct ota_hash_ops *ops,
	       const struct hmac_pads *p,
	       const struct ota_auth_part *parts,
	       size_t n_parts,
	       uint8_t out[OTA_SHA256_LEN])
{
	struct ota_auth_part all[HMAC_PARTS_MAX + 1];
	uint8_t inner[OTA_SHA256_LEN];
	struct ota_auth_part outer[2];
	int rc;
	if (n_parts > HMAC_PARTS_MAX)
		return OTA_E_BAD_ARGS;
	all[0].data = p->ipad;
	all[0].len = SHA256_BLOCK;
	for (size_t i = 0; i < n_parts; i++)
		all[i + 1] = parts[i];
	rc = digest_parts(ops, OTA_HASH_SHA256, all, n_parts + 1, false, inner);
	if (rc != 0)
		return rc;
	outer[0].data = p->opad;
	outer[0].len = SHA256_BLOCK;
	outer[1].data = inner;
	outer[1].len = sizeof(inner);
	return digest_parts(ops, OTA_HASH_SHA256, outer, 2, false, out);
}

int
ota_hmac_sha256(const struct ota_hash_ops *ops,
		const uint8_t *key,
		size_t key_len,
		const struct ota_auth_part *parts,
		size_t n_parts,
		uint8_t out[OTA_SHA256_LEN])
{
	struct hmac_pads p;
	int rc;
	if (!ops_ok(ops) || out == 0 || (key == 0 && key_len != 0) ||
	    (parts == 0 && n_parts != 0) || n_parts > HMAC_PARTS_MAX)
		return OTA_E_BAD_ARGS;
	rc = hmac_pads_init(ops, key, key_len, &p);
	if (rc == 0)
		rc = hmac_with_pads(ops, &p, parts, n_parts, out);
	ota_fill(&p, 0, sizeof(p));
	return rc;
}

static int
pbkdf2_parts(const struct ota_hash_ops *ops,
	     const uint8_t *password,
	     size_t password_len,
	     const struct ota_auth_part *salt,
	     size_t n_salt,
	     uint32_t iterations,
	     uint8_t *out,
	     size_t out_len)
{
	struct hmac_pads p;
	struct ota_auth_part msg[HMAC_PARTS_MAX];
	uint8_t u[OTA_SHA256_LEN];
	uint8_t t[OTA_SHA256_LEN];
	uint8_t index_be[INT32_LEN];
	uint32_t block = 1;
	size_t done = 0;
	int rc;

	if (n_salt + 1 > HMAC_PARTS_MAX)
		return OTA_E_BAD_ARGS;
	rc = hmac_pads_init(ops, password, password_len, &p);
	while (rc == 0 && done < out_len) {
		size_t take = out_len - done < OTA_SHA256_LEN ? out_len - done : OTA_SHA256_LEN;
		index_be[0] = (uint8_t)(block >> 24);
		index_be[1] = (uint8_t)(block >> 16);
		index_be[2] = (uint8_t)(block >> 8);
		index_be[3] = (uint8_t)block;
		for (size_t i = 0; i < n_salt; i++)
			msg[i] = salt[i];
		msg[n_salt].data = index_be;
		msg[n_salt].len = sizeof(index_be);
		/* U1 = PRF(P, S || INT(i)), Un = PRF(P, Un-1), T = U1 ^ ... ^ Uc */
		rc = hmac_with_pads(ops, &p, msg, n_salt + 1, u);
		if (rc != 0)
			break;
		ota_copy(t, u, sizeof(t));
		for (uint32_t c = 1; c < iterations; c++) {
			struct ota_auth_part prev = {u, sizeof(u)};
			rc = hmac_with_pads(ops, &p, &prev, 1, u);
			if (rc != 0)
				break;
			for (size_t k = 0; k < sizeof(t); k++)
				t[k] ^= u[k];
		}
		if (rc != 0)
			break;
		ota_copy(out + done, t, take);
		done += take;
		block++;
	}
	ota_fill(&p, 0, sizeof(p));
	ota_fill(u, 0, sizeof(u));
	ota_fill(t, 0, sizeof(t));
	return rc;
}

int
ota_pbkdf2_hmac_sha256(const struct ota_hash_ops *ops,
		       const uint8_t *password,
		       size_t password_len,
		       const uint8_t *salt,
		       size_t salt_len,
		       uint32_t iterations,
		       uint8_t *out,
		       size_t out_len)
{
	struct ota_auth_part s = {salt, salt_len};
	if (!ops_ok(ops) || (password == 0 && password_len != 0) || (salt == 0 && salt_len != 0) ||
	    iterations == 0 || (out == 0 && out_len != 0))
		return OTA_E_BAD_ARGS;
	return pbkdf2_parts(ops, password, password_len, &s, 1, iterations, out, out_len);
}

int
ota_auth_response(const struct ota_hash_ops *ops,
		  enum ota_auth_scheme scheme,
		  const char *key_hex,
		  size_t key_len,
		  const char *nonce,
		  size_t nonce_len,
		  const char *cnonce,
		  size_t cnonce_len,
		  char *out_hex)
{
	/* each text present, with 1 to its maximum bytes: len - 1 wraps around for 0 */
	if (key_hex == 0 || key_len - 1 >= KEY_MAX || nonce == 0 ||
	    nonce_len - 1 >= OTA_AUTH_NONCE_MAX || cnonce == 0 ||
	    cnonce_len - 1 >= OTA_AUTH_NONCE_MAX || out_hex == 0 || !ops_ok(ops))
		return OTA_E_BAD_ARGS;

	{
		/* parts[0] is K (legacy) or DK (PBKDF2) as hex: RESPONSE = H(parts joined by ':')
		 */
		struct ota_auth_part parts[] = {
		    {key_hex, key_len},
		    {nonce, nonce_len},
		    {cnonce, cnonce_len},
		};
		/* DK and its hex, wiped together */
		struct {
			uint8_t dk[OTA_SHA256_LEN];
			char hex[OTA_AUTH_SHA256_HEX_LEN + 1];
		} dk;
		enum ota_hash_kind kind = OTA_HASH_MD5;
		int rc = 0;
		if (scheme != OTA_AUTH_MD5) {
			/* the salt is NONCE ":" CNONCE */
			const struct ota_auth_part salt[] = {parts[1], {":", 1}, parts[2]};
			rc = pbkdf2_parts(ops, (const uint8_t *)key_hex, key_len, salt, 3,
					  OTA_AUTH_PBKDF2_ITERATIONS, dk.dk, sizeof(dk.dk));
			if (rc == 0)
				ota_hex(dk.dk, sizeof(dk.dk), dk.hex);
			parts[0].data = dk.hex;
			parts[0].len = OTA_AUTH_SHA256_HEX_LEN;
			kind = OTA_HASH_SHA256;
		}
		if (rc == 0)
			rc = ota_auth_digest_joined(ops, kind, parts, 3, out_hex);
		ota_fill(&dk, 0, sizeof(dk));
		return rc;
	}
}

int
ota_auth_verify(const struct ota_hash_ops *ops,
		enum ota_auth_scheme scheme,
		const char *key_hex,
		size_t key_len,
		const char *nonce,
		size_t nonce_len,
		const char *cnonce,
		size_t cnonce_len,
		const char *response,
		size_t response_len)
{
	char expect[OTA_AUTH_SHA256_HEX_LEN + 1];
	size_t want = ota_auth_hex_len(scheme);
	int rc;
	if (response == 0)
		return OTA_E_BAD_ARGS;
	rc = ota_auth_response(ops, scheme, key_hex, key_len, nonce, nonce_len, cnonce, cnonce_len,
			       expect);
	if (rc != 0)
		return rc;
	if (response_len != want)
		return OTA_E_AUTH;
	rc = ota_compare_ct(expect, response, want) == 0 ? 0 : OTA_E_AUTH;
	ota_fill(expect, 0, sizeof(expect));
	return rc;
}
