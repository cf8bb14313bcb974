/* SPDX-License-Identifier: MIT */
/* ota-crypto.c - helpers over the port's crypto operations */

#include "ota/ota-crypto.h"

int
ota_hash_buffer(const struct ota_hash_ops *ops,
		enum ota_hash_kind kind,
		const uint8_t *data,
		size_t len,
		uint8_t *out)
{
	int rc;
	if (ops == 0 || ops->begin == 0 || ops->update == 0 || ops->finish == 0)
		return -1;
	rc = ops->begin(ops->user, kind);
	if (rc != 0)
		return rc;
	rc = ops->update(ops->user, kind, data, len);
	if (rc != 0)
		return rc;
	return ops->finish(ops->user, kind, out);
}
