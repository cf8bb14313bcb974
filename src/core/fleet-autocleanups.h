/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-autocleanups.h - g_autoptr() support for the C libraries libfleet-core uses */
#pragma once

#include <curl/curl.h>
#include <glib.h>

G_BEGIN_DECLS

/* CURL and CURLM are typedefs of void in curl.h: keep the two apart when declaring them */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURLM, curl_multi_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURLU, curl_url_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(curl_mime, curl_mime_free)
typedef struct curl_slist FleetCurlSlist;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetCurlSlist, curl_slist_free_all)

G_END_DECLS
