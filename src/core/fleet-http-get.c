/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-http-get.c - a small asynchronous HTTP GET for probing devices (GET /info) */

#include "config.h"

#include "fleet-http-get.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "fleet-cancel-hop.h"
#include "fleet-curl-multi.h"
#include "fleet-error.h"
#include "fleet-text.h"

#define HTTP_GET_DEFAULT_TIMEOUT_S 10

typedef struct {
	guint status;
	GBytes *body;
} HttpGetResult;

typedef struct {
	GTask *task; /* borrowed: the task owns the session */
	FleetCurlMulti *multi;
	CURL *easy;
	gboolean running;
	gchar *url; /* sanitized, for messages */
	guint timeout_s;
	GByteArray *body;
	gsize max_bytes;
	gboolean too_big;
	gchar errbuf[CURL_ERROR_SIZE];
	GMainContext *context;
	gboolean finished;
	GError *error;
	HttpGetResult *result;
	FleetCancelHop *cancel_hop;
} HttpGetSession;

static void
http_get_result_free(gpointer data)
{
	HttpGetResult *r = data;
	g_bytes_unref(r->body);
	g_free(r);
}

static void
http_get_session_stop(HttpGetSession *s)
{
	if (s->running) {
		fleet_curl_multi_remove(s->multi, s->easy);
		s->running = FALSE;
	}
	g_clear_pointer(&s->cancel_hop, fleet_cancel_hop_free);
}

static void
http_get_session_free(gpointer data)
{
	HttpGetSession *s = data;
	http_get_session_stop(s);
	g_clear_pointer(&s->easy, curl_easy_cleanup);
	g_clear_object(&s->multi);
	g_clear_pointer(&s->body, g_byte_array_unref);
	g_clear_pointer(&s->result, http_get_result_free);
	g_clear_error(&s->error);
	g_clear_pointer(&s->context, g_main_context_unref);
	g_free(s->url);
	g_free(s);
}

static gboolean
http_get_complete_idle_cb(gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	HttpGetSession *s = g_task_get_task_data(task);
	if (s->error != NULL)
		g_task_return_error(task, g_steal_pointer(&s->error));
	else
		g_task_return_pointer(task, g_steal_pointer(&s->result), http_get_result_free);
	return G_SOURCE_REMOVE;
}

/* the task is returned from an idle: no callback on the stack sees the session freed */
static void
http_get_complete(HttpGetSession *s, GError *error)
{
	g_autoptr(GSource) idle = NULL;
	if (s->finished) {
		if (error != NULL)
			g_error_free(error);
		return;
	}
	s->finished = TRUE;
	http_get_session_stop(s);
	s->error = error;
	idle = g_idle_source_new();
	g_source_set_callback(idle, http_get_complete_idle_cb, s->task, NULL);
	g_source_attach(idle, s->context);
}

static size_t
http_get_write_cb(gchar *ptr, size_t size, size_t nmemb, gpointer user_data)
{
	HttpGetSession *s = user_data;
	gsize n = size * nmemb;
	if (s->body->len + n > s->max_bytes) {
		s->too_big = TRUE;
		return 0;
	}
	g_byte_array_append(s->body, (const guint8 *)ptr, (guint)n);
	return n;
}

static gint
http_get_xferinfo_cb(
    gpointer user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	HttpGetSession *s = user_data;
	return s->finished || g_cancellable_is_cancelled(g_task_get_cancellable(s->task)) ? 1 : 0;
}

static void
http_get_done_cb(CURL *easy, CURLcode result, gpointer user_data)
{
	HttpGetSession *s = user_data;
	const gchar *detail = s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(result);
	glong status = 0;
	glong os_errno = 0;

	s->running = FALSE;
	if (s->finished)
		return;
	if (result == CURLE_ABORTED_BY_CALLBACK) {
		http_get_complete(s, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
							 _("The request was cancelled")));
		return;
	}
	if (s->too_big || result == CURLE_FILESIZE_EXCEEDED) {
		http_get_complete(
		    s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				   _("The answer from %s is longer than %lu bytes"), s->url,
				   (gulong)s->max_bytes));
		return;
	}
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
	if (result == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED) {
		http_get_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
						 _("%s refused the connection"), s->url));
		return;
	}
	if (result == CURLE_OPERATION_TIMEDOUT) {
		http_get_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
						 _("%s did not answer within %u s"), s->url,
						 s->timeout_s));
		return;
	}
	if (result != CURLE_OK) {
		http_get_complete(s, g_error_new(FLEET_ERROR, fleet_curl_error_code(result),
						 _("Cannot get %s: %s"), s->url, detail));
		return;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	s->result = g_new0(HttpGetResult, 1);
	s->result->status = (guint)CLAMP(status, 0, 999);
	s->result->body = g_byte_array_free_to_bytes(g_steal_pointer(&s->body));
	http_get_complete(s, NULL);
}

static void
http_get_cancelled(gpointer user_data)
{
	HttpGetSession *s = user_data;
	http_get_complete(s, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
						 _("The request was cancelled")));
}

void
fleet_http_get_async(const gchar *url,
		     guint timeout_s,
		     gsize max_bytes,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data)
{
	GTask *task;
	HttpGetSession *s;
	g_autoptr(GError) error = NULL;

	g_return_if_fail(url != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(NULL, cancellable, callback, user_data);
	s = g_new0(HttpGetSession, 1);
	g_task_set_source_tag(task, fleet_http_get_async);
	g_task_set_task_data(task, s, http_get_session_free);
	s->task = task;
	s->url = fleet_text_sanitize(url, -1, 200);
	s->timeout_s = timeout_s > 0 ? timeout_s : HTTP_GET_DEFAULT_TIMEOUT_S;
	s->max_bytes = max_bytes;
	s->body = g_byte_array_new();
	s->context = g_main_context_ref_thread_default();
	/* before any curl call: the multi's class initialises libcurl */
	s->multi = fleet_curl_multi_get_default();

	if (!g_str_has_prefix(url, "http://")) {
		http_get_complete(
		    s, g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
				   _("Only http:// addresses can be probed, not “%s”"), s->url));
		return;
	}
	s->easy = curl_easy_init();
	if (s->easy == NULL) {
		http_get_complete(s, g_error_new_literal(FLEET_ERROR, FLEET_ERROR_INTERNAL,
							 "curl_easy_init failed"));
		return;
	}
	fleet_curl_easy_set_defaults(s->easy);
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (glong)s->timeout_s * 1000L);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, (glong)s->timeout_s * 1000L);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, http_get_write_cb);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFOFUNCTION, http_get_xferinfo_cb);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFODATA, s);
	/* refuse early when the device announces an oversized answer */
	curl_easy_setopt(s->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);

	/* cancellation may come from any thread: it is handled on the session's context */
	s->cancel_hop = fleet_cancel_hop_new(cancellable, s->context, http_get_cancelled, s);
	if (g_cancellable_is_cancelled(cancellable))
		return;
	if (!fleet_curl_multi_add(s->multi, s->easy, http_get_done_cb, s, &error)) {
		http_get_complete(s, g_steal_pointer(&error));
		return;
	}
	s->running = TRUE;
}

GBytes *
fleet_http_get_finish(GAsyncResult *result, guint *status, GError **error)
{
	HttpGetResult *r;
	GBytes *body;

	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == fleet_http_get_async, NULL);

	r = g_task_propagate_pointer(G_TASK(result), error);
	if (r == NULL)
		return NULL;
	if (status != NULL)
		*status = r->status;
	body = g_bytes_ref(r->body);
	http_get_result_free(r);
	return body;
}
