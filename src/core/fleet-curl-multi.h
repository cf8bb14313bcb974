/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-curl-multi.h - libcurl's multi socket interface driven by a GLib main context
 *
 * One CURLM per GMainContext. Each socket libcurl asks about gets a GUnixFDSource with the
 * conditions libcurl wants, its timer a GSource timeout; finished transfers are reported
 * through a callback on that context. No threads: a hundred transfers run on one.
 */
#pragma once

#include <curl/curl.h>
#include <gio/gio.h>

#include "fleet-error.h"

G_BEGIN_DECLS

/*
 * @easy: the handle that finished; it is no longer part of the multi handle and belongs to
 * the caller again (free it, or add it once more for a second attempt)
 * @result: libcurl's verdict (CURLE_OK for a complete HTTP exchange of any status)
 */
typedef void (*FleetCurlDoneFunc)(CURL *easy, CURLcode result, gpointer user_data);

#define FLEET_TYPE_CURL_MULTI (fleet_curl_multi_get_type())
G_DECLARE_FINAL_TYPE(FleetCurlMulti, fleet_curl_multi, FLEET, CURL_MULTI, GObject)

/* a new multi handle for @context (NULL: the global default context) */
FleetCurlMulti *
fleet_curl_multi_new(GMainContext *context);

/*
 * the shared multi handle of the calling thread's thread-default main context, created on
 * first use; (transfer full): hold the reference while any transfer is running on it
 */
FleetCurlMulti *
fleet_curl_multi_get_default(void);

GMainContext *
fleet_curl_multi_get_context(FleetCurlMulti *self);

/* transfers currently added */
guint
fleet_curl_multi_get_n_transfers(FleetCurlMulti *self);

/*
 * starts @easy (which stays owned by the caller); @done runs on the multi's context once,
 * when the transfer ends, unless fleet_curl_multi_remove() was called first
 */
gboolean
fleet_curl_multi_add(FleetCurlMulti *self,
		     CURL *easy,
		     FleetCurlDoneFunc done,
		     gpointer user_data,
		     GError **error);

/*
 * stops @easy without calling its done callback; does nothing if it is not added. Safe
 * everywhere, including inside a done callback and inside libcurl's own callbacks (read,
 * write, progress): there the removal waits until libcurl has returned, before control goes
 * back to the main loop, so free the handle from an idle or later, never in that callback
 */
void
fleet_curl_multi_remove(FleetCurlMulti *self, CURL *easy);

/* the FLEET_ERROR code for a libcurl failure */
FleetError
fleet_curl_error_code(CURLcode code);

/* set the options every request to a device needs: no proxy, no signals, http:// only, no
 * redirects, no compressed answers */
void
fleet_curl_easy_set_defaults(CURL *easy);

G_END_DECLS
