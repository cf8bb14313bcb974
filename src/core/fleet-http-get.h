/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-http-get.h - a small asynchronous HTTP GET for probing devices (GET /info)
 *
 * Runs on the thread-default main context's shared libcurl multi handle: no threads. Only
 * http:// URLs, no proxy, no redirects, a hard size limit for the answer.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* @timeout_s: for the whole exchange, connection included (0 means 10 s);
 * @max_bytes: a longer answer fails with FLEET_ERROR_INVALID_DATA */
void
fleet_http_get_async(const gchar *url,
		     guint timeout_s,
		     gsize max_bytes,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data);

/*
 * Returns: (transfer full): the body, for any HTTP status (check @status: 200, 404…);
 * NULL with FLEET_ERROR_NETWORK, _TIMED_OUT, _NOT_FOUND (name unknown), _INVALID_DATA or
 * G_IO_ERROR_CANCELLED when no complete answer arrived
 */
GBytes *
fleet_http_get_finish(GAsyncResult *result, guint *status, GError **error);

G_END_DECLS
