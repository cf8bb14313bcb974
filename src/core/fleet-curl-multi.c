/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-curl-multi.c - libcurl's multi socket interface driven by a GLib main context
 *
 * libcurl tells us which sockets to watch for what (CURLMOPT_SOCKETFUNCTION) and when it
 * next needs a call without socket activity (CURLMOPT_TIMERFUNCTION). Each watched socket
 * gets a GUnixFDSource, the timer a timeout source, and both feed curl_multi_socket_action.
 * Finished transfers come out of curl_multi_info_read and are reported to their owners.
 *
 * libcurl forbids calling the multi API from inside its callbacks, so adds and removes
 * made while libcurl is on the stack are queued and carried out as soon as it returns.
 */

#include "config.h"

#include "fleet-curl-multi.h"

#include <glib-unix.h>

typedef struct {
	FleetCurlDoneFunc done;
	gpointer user_data;
} FleetCurlTransfer;

typedef struct {
	GIOCondition condition;
	GSource *source;
} FleetCurlWatch;

typedef struct {
	gboolean add;
	CURL *easy;
} FleetCurlPendingOp;

struct _FleetCurlMulti {
	GObject parent_instance;
	GMainContext *context;
	CURLM *multi;
	GSource *timer;
	GHashTable *transfers; /* CURL* → FleetCurlTransfer */
	GHashTable *watches;   /* fd → FleetCurlWatch */
	guint in_curl;	       /* depth of multi API calls on the stack */
	GArray *pending;       /* FleetCurlPendingOp, made while in_curl > 0 */
	gboolean is_default;
};

G_DEFINE_TYPE(FleetCurlMulti, fleet_curl_multi, G_TYPE_OBJECT)

/* one default multi handle per main context; weak, so it goes when its last user does */
static GMutex fleet_curl_multi_defaults_lock;
static GHashTable *fleet_curl_multi_defaults; /* GMainContext* → GWeakRef* */

static void
fleet_curl_watch_free(gpointer data)
{
	FleetCurlWatch *w = data;
	if (w->source != NULL) {
		g_source_destroy(w->source);
		g_source_unref(w->source);
	}
	g_free(w);
}

static void
fleet_curl_multi_run_pending(FleetCurlMulti *self)
{
	g_autoptr(GArray) ops = NULL;
	if (self->in_curl > 0 || self->pending->len == 0)
		return;
	ops = self->pending;
	self->pending = g_array_new(FALSE, FALSE, sizeof(FleetCurlPendingOp));
	self->in_curl++;
	for (guint i = 0; i < ops->len; i++) {
		FleetCurlPendingOp *op = &g_array_index(ops, FleetCurlPendingOp, i);
		if (!op->add) {
			curl_multi_remove_handle(self->multi, op->easy);
			continue;
		}
		/* removed again before it ever started */
		if (!g_hash_table_contains(self->transfers, op->easy))
			continue;
		if (curl_multi_add_handle(self->multi, op->easy) != CURLM_OK)
			g_warning("libcurl refused a transfer that was queued while it was busy");
	}
	self->in_curl--;
}

static void
fleet_curl_multi_check_info(FleetCurlMulti *self)
{
	CURLMsg *msg;
	gint left = 0;

	while ((msg = curl_multi_info_read(self->multi, &left)) != NULL) {
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		FleetCurlTransfer *t;
		FleetCurlDoneFunc done;
		gpointer user_data;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is invalid once the handle is removed: everything was copied above */
		curl_multi_remove_handle(self->multi, easy);
		t = g_hash_table_lookup(self->transfers, easy);
		if (t == NULL)
			continue;
		done = t->done;
		user_data = t->user_data;
		g_hash_table_remove(self->transfers, easy);
		done(easy, result, user_data);
	}
}

static void
fleet_curl_multi_action(FleetCurlMulti *self, curl_socket_t fd, gint events)
{
	gint running = 0;
	CURLMcode rc;

	self->in_curl++;
	rc = curl_multi_socket_action(self->multi, fd, events, &running);
	self->in_curl--;
	if (rc != CURLM_OK)
		g_warning("curl_multi_socket_action: %s", curl_multi_strerror(rc));
	fleet_curl_multi_run_pending(self);
	fleet_curl_multi_check_info(self);
	fleet_curl_multi_run_pending(self);
}

static gboolean
fleet_curl_multi_fd_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	g_autoptr(FleetCurlMulti) self = g_object_ref(user_data);
	FleetCurlWatch *w = g_hash_table_lookup(self->watches, GINT_TO_POINTER(fd));
	gint events = 0;

	if (condition & G_IO_NVAL) {
		/* closed behind libcurl's back: polling it again would spin */
		g_warning("libcurl socket %d was closed while watched", fd);
		g_hash_table_remove(self->watches, GINT_TO_POINTER(fd));
		return G_SOURCE_REMOVE;
	}
	/* an error or hang-up is found by libcurl itself when it reads or writes */
	if ((condition & (G_IO_ERR | G_IO_HUP)) && w != NULL)
		condition |= w->condition;
	if (condition & G_IO_IN)
		events |= CURL_CSELECT_IN;
	if (condition & G_IO_OUT)
		events |= CURL_CSELECT_OUT;
	if (condition & G_IO_ERR)
		events |= CURL_CSELECT_ERR;
	fleet_curl_multi_action(self, fd, events);
	return G_SOURCE_CONTINUE;
}

static gint
fleet_curl_multi_socket_cb(
    CURL *easy, curl_socket_t fd, gint what, gpointer userp, gpointer socketp)
{
	FleetCurlMulti *self = userp;
	FleetCurlWatch *w;
	GIOCondition condition = 0;

	if (what == CURL_POLL_REMOVE) {
		g_hash_table_remove(self->watches, GINT_TO_POINTER(fd));
		return 0;
	}
	if (what & CURL_POLL_IN)
		condition |= G_IO_IN;
	if (what & CURL_POLL_OUT)
		condition |= G_IO_OUT;
	w = g_hash_table_lookup(self->watches, GINT_TO_POINTER(fd));
	if (w == NULL) {
		w = g_new0(FleetCurlWatch, 1);
		g_hash_table_insert(self->watches, GINT_TO_POINTER(fd), w);
	} else if (w->source != NULL && w->condition == condition) {
		return 0;
	}
	/* a GUnixFDSource cannot change its conditions: replace it */
	if (w->source != NULL) {
		g_source_destroy(w->source);
		g_clear_pointer(&w->source, g_source_unref);
	}
	w->condition = condition;
	if (condition == 0)
		return 0;
	w->source = g_unix_fd_source_new(fd, condition);
	g_source_set_callback(w->source, G_SOURCE_FUNC(fleet_curl_multi_fd_cb), self, NULL);
	g_source_set_static_name(w->source, "[fleet] curl socket");
	g_source_attach(w->source, self->context);
	return 0;
}

static gboolean
fleet_curl_multi_timer_fired_cb(gpointer user_data)
{
	g_autoptr(FleetCurlMulti) self = g_object_ref(user_data);
	/* one-shot; libcurl may set a new timer from inside the action */
	g_clear_pointer(&self->timer, g_source_unref);
	fleet_curl_multi_action(self, CURL_SOCKET_TIMEOUT, 0);
	return G_SOURCE_REMOVE;
}

static gint
fleet_curl_multi_timer_cb(CURLM *multi, glong timeout_ms, gpointer userp)
{
	FleetCurlMulti *self = userp;
	if (self->timer != NULL) {
		g_source_destroy(self->timer);
		g_clear_pointer(&self->timer, g_source_unref);
	}
	if (timeout_ms < 0)
		return 0;
	/* never act from inside this callback (libcurl forbids it): 0 ms runs on the next
	 * main loop iteration */
	self->timer = g_timeout_source_new((guint)MIN(timeout_ms, (glong)G_MAXINT));
	g_source_set_callback(self->timer, fleet_curl_multi_timer_fired_cb, self, NULL);
	g_source_set_static_name(self->timer, "[fleet] curl timer");
	g_source_attach(self->timer, self->context);
	return 0;
}

static void
fleet_curl_multi_finalize(GObject *object)
{
	FleetCurlMulti *self = FLEET_CURL_MULTI(object);

	if (self->is_default) {
		/* released after the lock: the last unref of a successor would take it again */
		g_autoptr(GObject) successor = NULL;
		GWeakRef *ref;
		g_mutex_lock(&fleet_curl_multi_defaults_lock);
		ref = g_hash_table_lookup(fleet_curl_multi_defaults, self->context);
		successor = ref != NULL ? g_weak_ref_get(ref) : NULL;
		if (ref != NULL && successor == NULL)
			g_hash_table_remove(fleet_curl_multi_defaults, self->context);
		g_mutex_unlock(&fleet_curl_multi_defaults_lock);
	}
	if (g_hash_table_size(self->transfers) > 0) {
		GHashTableIter iter;
		gpointer easy;
		g_warning("%u curl transfers still running when their multi handle went away",
			  g_hash_table_size(self->transfers));
		g_hash_table_iter_init(&iter, self->transfers);
		while (g_hash_table_iter_next(&iter, &easy, NULL))
			curl_multi_remove_handle(self->multi, easy);
	}
	for (guint i = 0; i < self->pending->len; i++) {
		FleetCurlPendingOp *op = &g_array_index(self->pending, FleetCurlPendingOp, i);
		if (!op->add)
			curl_multi_remove_handle(self->multi, op->easy);
	}
	/* closes cached connections; their sockets come back through the socket callback */
	curl_multi_cleanup(self->multi);
	if (self->timer != NULL) {
		g_source_destroy(self->timer);
		g_source_unref(self->timer);
	}
	g_hash_table_unref(self->watches);
	g_hash_table_unref(self->transfers);
	g_array_unref(self->pending);
	g_main_context_unref(self->context);
	G_OBJECT_CLASS(fleet_curl_multi_parent_class)->finalize(object);
}

static void
fleet_curl_multi_class_init(FleetCurlMultiClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = fleet_curl_multi_finalize;
	/* class_init runs exactly once and is thread-safe: the place for the global init */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		g_critical("curl_global_init failed");
}

static void
fleet_curl_multi_init(FleetCurlMulti *self)
{
	self->transfers = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	self->watches = g_hash_table_new_full(NULL, NULL, NULL, fleet_curl_watch_free);
	self->pending = g_array_new(FALSE, FALSE, sizeof(FleetCurlPendingOp));
	self->multi = curl_multi_init();
	if (self->multi == NULL)
		g_error("curl_multi_init failed: out of memory");
	curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, fleet_curl_multi_socket_cb);
	curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
	curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, fleet_curl_multi_timer_cb);
	curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
}

FleetCurlMulti *
fleet_curl_multi_new(GMainContext *context)
{
	FleetCurlMulti *self = g_object_new(FLEET_TYPE_CURL_MULTI, NULL);
	self->context = context != NULL ? g_main_context_ref(context)
					: g_main_context_ref(g_main_context_default());
	return self;
}

static void
fleet_curl_multi_weak_ref_free(gpointer data)
{
	GWeakRef *ref = data;
	g_weak_ref_clear(ref);
	g_free(ref);
}

FleetCurlMulti *
fleet_curl_multi_get_default(void)
{
	g_autoptr(GMainContext) context = g_main_context_ref_thread_default();
	FleetCurlMulti *self;
	GWeakRef *ref;

	g_mutex_lock(&fleet_curl_multi_defaults_lock);
	if (fleet_curl_multi_defaults == NULL)
		fleet_curl_multi_defaults =
		    g_hash_table_new_full(NULL, NULL, NULL, fleet_curl_multi_weak_ref_free);
	ref = g_hash_table_lookup(fleet_curl_multi_defaults, context);
	self = ref != NULL ? g_weak_ref_get(ref) : NULL;
	if (self == NULL) {
		self = fleet_curl_multi_new(context);
		self->is_default = TRUE;
		ref = g_new0(GWeakRef, 1);
		g_weak_ref_init(ref, self);
		/* the key stays valid: the multi holds a reference on its context */
		g_hash_table_replace(fleet_curl_multi_defaults, context, ref);
	}
	g_mutex_unlock(&fleet_curl_multi_defaults_lock);
	return self;
}

GMainContext *
fleet_curl_multi_get_context(FleetCurlMulti *self)
{
	g_return_val_if_fail(FLEET_IS_CURL_MULTI(self), NULL);
	return self->context;
}

guint
fleet_curl_multi_get_n_transfers(FleetCurlMulti *self)
{
	g_return_val_if_fail(FLEET_IS_CURL_MULTI(self), 0);
	return g_hash_table_size(self->transfers);
}

gboolean
fleet_curl_multi_add(
    FleetCurlMulti *self, CURL *easy, FleetCurlDoneFunc done, gpointer user_data, GError **error)
{
	FleetCurlTransfer *t;
	CURLMcode rc;

	g_return_val_if_fail(FLEET_IS_CURL_MULTI(self), FALSE);
	g_return_val_if_fail(easy != NULL, FALSE);
	g_return_val_if_fail(done != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (g_hash_table_contains(self->transfers, easy)) {
		g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INTERNAL,
				    "this curl handle is already running");
		return FALSE;
	}
	t = g_new0(FleetCurlTransfer, 1);
	t->done = done;
	t->user_data = user_data;
	g_hash_table_insert(self->transfers, easy, t);
	if (self->in_curl > 0) {
		FleetCurlPendingOp op = {TRUE, easy};
		g_array_append_val(self->pending, op);
		return TRUE;
	}
	self->in_curl++;
	rc = curl_multi_add_handle(self->multi, easy);
	self->in_curl--;
	fleet_curl_multi_run_pending(self);
	if (rc != CURLM_OK) {
		g_hash_table_remove(self->transfers, easy);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INTERNAL, "cannot start a transfer: %s",
			    curl_multi_strerror(rc));
		return FALSE;
	}
	return TRUE;
}

void
fleet_curl_multi_remove(FleetCurlMulti *self, CURL *easy)
{
	g_return_if_fail(FLEET_IS_CURL_MULTI(self));
	g_return_if_fail(easy != NULL);

	if (!g_hash_table_remove(self->transfers, easy))
		return;
	if (self->in_curl > 0) {
		FleetCurlPendingOp op = {FALSE, easy};
		g_array_append_val(self->pending, op);
		return;
	}
	self->in_curl++;
	curl_multi_remove_handle(self->multi, easy);
	self->in_curl--;
	fleet_curl_multi_run_pending(self);
}

FleetError
fleet_curl_error_code(CURLcode code)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		return FLEET_ERROR_TIMED_OUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return FLEET_ERROR_NOT_FOUND;
	case CURLE_LOGIN_DENIED:
		return FLEET_ERROR_AUTH_FAILED;
	case CURLE_URL_MALFORMAT:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_TOO_MANY_REDIRECTS:
		return FLEET_ERROR_INVALID_DATA;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return FLEET_ERROR_NOT_SUPPORTED;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return FLEET_ERROR_INTERNAL;
	default:
		return FLEET_ERROR_NETWORK;
	}
}

void
fleet_curl_easy_set_defaults(CURL *easy)
{
	g_return_if_fail(easy != NULL);
	/* devices are on the LAN: an http_proxy from the environment must not apply */
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http");
#else
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	/* embedded web servers speak HTTP/1.0 or 1.1 and nothing newer */
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "espfleet/" PACKAGE_VERSION);
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 1L);
}
