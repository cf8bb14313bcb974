/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-auth.c - espota authentication math against the vectors of specs/espota.md §3, §5 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota/ota-auth.h"
#include "sim-crypto.h"

static struct sim_crypto *crypto;

/* wraps the OpenSSL ops and fails the test when a hash starts before the last finished */
struct strict_ops {
	struct ota_hash_ops ops;
	const struct ota_hash_ops *inner;
	int running[2];
	unsigned calls;
	unsigned fail_after; /* 0: never fail */
};

static int
strict_begin(void *user, enum ota_hash_kind kind)
{
	struct strict_ops *s = user;
	ck_assert_int_eq(s->running[kind], 0);
	if (s->fail_after != 0 && ++s->calls >= s->fail_after)
		return -1;
	s->running[kind] = 1;
	return s->inner->begin(s->inner->user, kind);
}

static int
strict_update(void *user, enum ota_hash_kind kind, const uint8_t *data, size_t len)
{
	struct strict_ops *s = user;
	ck_assert_int_eq(s->running[kind], 1);
	return s->inner->update(s->inner->user, kind, data, len);
}

static int
strict_finish(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	struct strict_ops *s = user;
	ck_assert_int_eq(s->running[kind], 1);
	s->running[kind] = 0;
	return s->inner->finish(s->inner->user, kind, out);
}

static struct strict_ops strict;

static const struct ota_hash_ops *
ops(void)
{
	memset(&strict, 0, sizeof(strict));
	strict.inner = sim_crypto_ops(crypto);
	strict.ops.user = &strict;
	strict.ops.begin = strict_begin;
	strict.ops.update = strict_update;
	strict.ops.finish = strict_finish;
	return &strict.ops;
}

static void
setup(void)
{
	crypto = sim_crypto_new();
	ck_assert_ptr_nonnull(crypto);
}

static void
teardown(void)
{
	sim_crypto_free(crypto);
	crypto = NULL;
}

static void
hex_of(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
digest_of(enum ota_hash_kind kind, const char *s, char *out)
{
	struct ota_auth_part p = {s, strlen(s)};
	ck_assert_int_eq(ota_auth_digest_hex(ops(), kind, &p, 1, out), 0);
}

/* specs/espota.md §3 */
static const char cnonce_input[] =
    "sketch.ino.bin3000000123456789abcdef0123456789abcdef192.168.1.50";
static const char legacy_nonce[] = "25d55ad283aa400af464c76d713c07ad";
static const char legacy_cnonce[] = "9c987b9b4e3da783e8fe30a5c5b0abca";
static const char legacy_key[] = "21232f297a57a5a743894a0e4a801fc3";
static const char legacy_response[] = "2bae2e278ad7df27546f911dbf1c3a64";

/* specs/espota.md §5 */
static const char new_nonce[] = "ef797c8118f02dfb649607dd5d3f8c7623048c9c063d532cc95c5ed7a898a64f";
static const char new_cnonce[] = "6fb03626049a6e0eb1b770e4f6a6dcb8d2444bd9aa649958dd203107f5ad75d3";
static const char new_ph[] = "8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918";
static const char new_dk[] = "85871e7040ebe53425acebee1372cd0fa63b75f0910506763fc0e0b9402a3a2f";
static const char new_response[] =
    "75a43d2a808a58941edb9041acf3c08563fad7998eaaeca3dfa287fb9ef3776a";
static const char new_response_md5_ph[] =
    "4616bf86c34e0ed4f191c454baeb69cb271ae87c253d5242c70ecbfb25866c63";

START_TEST(test_legacy_vector)
{
	char out[65];
	ota_auth_password_hash(ops(), OTA_AUTH_MD5, "admin", 5, out);
	ck_assert_str_eq(out, legacy_key);
	digest_of(OTA_HASH_MD5, cnonce_input, out);
	ck_assert_str_eq(out, legacy_cnonce);
	ck_assert_int_eq(ota_auth_response(ops(), OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					   legacy_cnonce, 32, out),
			 0);
	ck_assert_str_eq(out, legacy_response);
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					 legacy_cnonce, 32, legacy_response, 32),
			 0);
}
END_TEST

START_TEST(test_legacy_rejects)
{
	char bad[33];
	strcpy(bad, legacy_response);
	bad[31] = bad[31] == '4' ? '5' : '4';
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					 legacy_cnonce, 32, bad, 32),
			 OTA_E_AUTH);
	/* the devices compare case-sensitively */
	strcpy(bad, legacy_response);
	bad[2] = 'A';
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					 legacy_cnonce, 32, bad, 32),
			 OTA_E_AUTH);
	/* a trailing CR makes it 33 long */
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					 legacy_cnonce, 32, "2bae2e278ad7df27546f911dbf1c3a64\r",
					 33),
			 OTA_E_AUTH);
	/* an uppercase stored hash is used verbatim and so gives another response */
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_MD5, "21232F297A57A5A743894A0E4A801FC3",
					 32, legacy_nonce, 32, legacy_cnonce, 32, legacy_response,
					 32),
			 OTA_E_AUTH);
	/* wrong password */
	{
		char key[33];
		ota_auth_password_hash(ops(), OTA_AUTH_MD5, "admin2", 6, key);
		ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_MD5, key, 32, legacy_nonce, 32,
						 legacy_cnonce, 32, legacy_response, 32),
				 OTA_E_AUTH);
	}
}
END_TEST

START_TEST(test_pbkdf2_vector)
{
	char out[65];
	uint8_t dk[32];
	char dk_hex[65];
	char salt[130];

	digest_of(OTA_HASH_SHA256, "12345678", out);
	ck_assert_str_eq(out, new_nonce);
	digest_of(OTA_HASH_SHA256, cnonce_input, out);
	ck_assert_str_eq(out, new_cnonce);
	ck_assert_int_eq(ota_auth_password_hash(ops(), OTA_AUTH_PBKDF2, "admin", 5, out), 0);
	ck_assert_str_eq(out, new_ph);

	snprintf(salt, sizeof(salt), "%s:%s", new_nonce, new_cnonce);
	ck_assert_int_eq(ota_pbkdf2_hmac_sha256(ops(), (const uint8_t *)new_ph, 64,
						(const uint8_t *)salt, strlen(salt), 10000, dk,
						sizeof(dk)),
			 0);
	hex_of(dk, sizeof(dk), dk_hex);
	ck_assert_str_eq(dk_hex, new_dk);

	ck_assert_int_eq(ota_auth_response(ops(), OTA_AUTH_PBKDF2, new_ph, 64, new_nonce, 64,
					   new_cnonce, 64, out),
			 0);
	ck_assert_str_eq(out, new_response);
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_PBKDF2, new_ph, 64, new_nonce, 64,
					 new_cnonce, 64, new_response, 64),
			 0);
}
END_TEST

START_TEST(test_pbkdf2_md5_ph)
{
	char out[65];
	/* setPasswordHash(<32-hex MD5>) on a >= 3.3.1 device: PH is the MD5 text */
	ck_assert_int_eq(ota_auth_response(ops(), OTA_AUTH_PBKDF2, legacy_key, 32, new_nonce, 64,
					   new_cnonce, 64, out),
			 0);
	ck_assert_str_eq(out, new_response_md5_ph);
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_PBKDF2, legacy_key, 32, new_nonce, 64,
					 new_cnonce, 64, new_response, 64),
			 OTA_E_AUTH);
}
END_TEST

START_TEST(test_third_party_vector)
{
	char ph[65];
	char nonce[65];
	char cnonce[65];
	char out[65];
	for (int i = 0; i < 32; i++) {
		memcpy(nonce + 2 * i, "ab", 2);
		memcpy(cnonce + 2 * i, "cd", 2);
	}
	nonce[64] = cnonce[64] = '\0';
	ota_auth_password_hash(ops(), OTA_AUTH_PBKDF2, "a-real-password", 15, ph);
	ck_assert_int_eq(
	    ota_auth_response(ops(), OTA_AUTH_PBKDF2, ph, 64, nonce, 64, cnonce, 64, out), 0);
	ck_assert_str_eq(out, "4d63ba8b1efa8949a0c5caefe7e8bc77db582e5531bdf2667c663394b4551b93");
}
END_TEST

START_TEST(test_hmac_rfc4231)
{
	uint8_t key[131];
	uint8_t mac[32];
	char hex[65];
	struct ota_auth_part msg;

	memset(key, 0x0b, 20);
	msg.data = "Hi There";
	msg.len = 8;
	ck_assert_int_eq(ota_hmac_sha256(ops(), key, 20, &msg, 1, mac), 0);
	hex_of(mac, 32, hex);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	{
		/* the message in pieces gives the same MAC */
		struct ota_auth_part parts[3] = {
		    {"what do ya ", 11}, {"", 0}, {"want for nothing?", 17}};
		ck_assert_int_eq(ota_hmac_sha256(ops(), (const uint8_t *)"Jefe", 4, parts, 3, mac),
				 0);
		hex_of(mac, 32, hex);
		ck_assert_str_eq(
		    hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	}

	/* a key longer than the block is hashed first */
	memset(key, 0xaa, sizeof(key));
	msg.data = "Test Using Larger Than Block-Size Key - Hash Key First";
	msg.len = strlen(msg.data);
	ck_assert_int_eq(ota_hmac_sha256(ops(), key, sizeof(key), &msg, 1, mac), 0);
	hex_of(mac, 32, hex);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

	ck_assert_int_eq(ota_hmac_sha256(ops(), NULL, 0, NULL, 0, mac), 0);
	hex_of(mac, 32, hex);
	ck_assert_str_eq(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}
END_TEST

START_TEST(test_pbkdf2_rfc7914)
{
	uint8_t out[64];
	char hex[129];
	ck_assert_int_eq(ota_pbkdf2_hmac_sha256(ops(), (const uint8_t *)"passwd", 6,
						(const uint8_t *)"salt", 4, 1, out, 64),
			 0);
	hex_of(out, 64, hex);
	ck_assert_str_eq(hex, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
			      "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
	ck_assert_int_eq(ota_pbkdf2_hmac_sha256(ops(), (const uint8_t *)"Password", 8,
						(const uint8_t *)"NaCl", 4, 80000, out, 64),
			 0);
	hex_of(out, 64, hex);
	ck_assert_str_eq(hex, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
			      "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
	/* a length that is not a multiple of the block */
	ck_assert_int_eq(ota_pbkdf2_hmac_sha256(ops(), (const uint8_t *)"password", 8,
						(const uint8_t *)"salt", 4, 2, out, 40),
			 0);
	hex_of(out, 40, hex);
	ck_assert_str_eq(hex, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"
			      "830651afcb5c862f");
}
END_TEST

START_TEST(test_bad_arguments)
{
	char out[65];
	uint8_t dk[32];
	struct ota_hash_ops none = {0};
	ck_assert_int_eq(ota_auth_response(NULL, OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					   legacy_cnonce, 32, out),
			 OTA_E_BAD_ARGS);
	ck_assert_int_eq(ota_auth_response(&none, OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					   legacy_cnonce, 32, out),
			 OTA_E_BAD_ARGS);
	ck_assert_int_eq(ota_auth_response(ops(), OTA_AUTH_MD5, legacy_key, 0, legacy_nonce, 32,
					   legacy_cnonce, 32, out),
			 OTA_E_BAD_ARGS);
	ck_assert_int_eq(ota_auth_response(ops(), OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 65,
					   legacy_cnonce, 32, out),
			 OTA_E_BAD_ARGS);
	ck_assert_int_eq(ota_pbkdf2_hmac_sha256(ops(), (const uint8_t *)"p", 1,
						(const uint8_t *)"s", 1, 0, dk, 32),
			 OTA_E_BAD_ARGS);
	ck_assert_int_eq(ota_auth_verify(ops(), OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
					 legacy_cnonce, 32, NULL, 32),
			 OTA_E_BAD_ARGS);
	ck_assert(ota_auth_is_hex("09afAF", 6));
	ck_assert(!ota_auth_is_hex("09ag", 4));
	ck_assert(!ota_auth_is_hex(NULL, 0));
	ck_assert_uint_eq(ota_auth_hex_len(OTA_AUTH_MD5), 32);
	ck_assert_uint_eq(ota_auth_hex_len(OTA_AUTH_PBKDF2), 64);
}
END_TEST

START_TEST(test_hash_failure)
{
	char out[65];
	/* every stage of the PBKDF2 path reports a failing port hash, and leaves it idle */
	for (unsigned k = 1; k < 8; k++) {
		const struct ota_hash_ops *o = ops();
		strict.fail_after = k;
		ck_assert_int_eq(ota_auth_response(o, OTA_AUTH_PBKDF2, new_ph, 64, new_nonce, 64,
						   new_cnonce, 64, out),
				 OTA_E_CRYPTO);
	}
	{
		const struct ota_hash_ops *o = ops();
		strict.fail_after = 1;
		ck_assert_int_eq(ota_auth_verify(o, OTA_AUTH_MD5, legacy_key, 32, legacy_nonce, 32,
						 legacy_cnonce, 32, legacy_response, 32),
				 OTA_E_CRYPTO);
	}
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_legacy_vector);
	tcase_add_test(tc, test_legacy_rejects);
	tcase_add_test(tc, test_pbkdf2_vector);
	tcase_add_test(tc, test_pbkdf2_md5_ph);
	tcase_add_test(tc, test_third_party_vector);
	tcase_add_test(tc, test_hmac_rfc4231);
	tcase_add_test(tc, test_pbkdf2_rfc7914);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_hash_failure);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(auth_suite());
}
