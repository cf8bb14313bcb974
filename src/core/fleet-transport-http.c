/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-transport-http.c - HTTP POST push transport on libcurl's multi socket interface
 *
 * One easy handle per upload on the main context's shared multi handle (fleet-curl-multi),
 * so a hundred uploads share one thread. The image's GBytes is read in place by a read
 * callback; nothing copies it. The request has the shape every Arduino-core receiver
 * parses (specs/http-ota.md §1e): name= before filename=, both quoted, a Content-Length,
 * no "Expect: 100-continue", and an Origin equal to http://<Host> for arduino-esp32's CSRF
 * check. Stalls and the wait for the verdict are timed here rather than with libcurl's
 * low-speed limit, which also counts the silence while the device verifies the image.
 */

#include "config.h"

#include "fleet-transport-http.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/socket.h>

#include "fleet-autocleanups.h"
#include "fleet-cancel-hop.h"
#include "fleet-curl-multi.h"
#include "fleet-error.h"
#include "fleet-text.h"

/* the device's answer is a short page; anything longer is cut here */
#define HTTP_RESPONSE_MAX (16u * 1024u)
#define HTTP_TEXT_MAX 240
/* bytes the kernel may hold for one upload: progress stays honest, memory stays flat */
#define HTTP_SNDBUF (64 * 1024)
#define HTTP_NAME_MAX 64

struct _FleetTransportHttp {
	GObject parent_instance;
};

static void fleet_transport_http_iface_init(FleetTransportInterface *iface);

G_DEFINE_TYPE_WITH_CODE(FleetTransportHttp,
			fleet_transport_http,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(FLEET_TYPE_TRANSPORT,
					      fleet_transport_http_iface_init))

typedef struct {
	GTask *task; /* borrowed: the task owns the session */
	FleetUploadRequest *request;
	FleetCurlMulti *multi;
	CURL *easy;
	gboolean running; /* added to the multi handle */
	curl_mime *mime;
	struct curl_slist *headers;
	gchar *who;
	gchar *url;
	gchar *path;
	guint16 port;
	gboolean raw;
	gchar *user;
	gchar *password;
	gboolean digest; /* second attempt, with Digest */

	GBytes *bytes;
	const guint8 *data;
	gsize size;
	gsize offset;
	curl_off_t part_header_len; /* the multipart part's header lines */
	curl_off_t prefix;	    /* multipart bytes before the image, -1 until known */

	FleetUploadPhase phase;
	guint64 done;
	curl_off_t last_ulnow;
	gint64 last_progress; /* monotonic time of the last byte sent (or the start + grace) */
	gint64 body_sent;     /* when the last byte went out, 0 before */
	GSource *timer;

	GByteArray *response;
	gboolean response_cut;
	gchar errbuf[CURL_ERROR_SIZE];

	GMainContext *context;
	gboolean finished;
	GError *result_error;
	FleetCancelHop *cancel_hop;
} HttpSession;

static void
http_wipe(gchar *secret)
{
	if (secret == NULL)
		return;
	/* volatile so the wipe is not optimised away */
	for (volatile gchar *p = secret; *p != '\0'; p++)
		*p = '\0';
	g_free(secret);
}

static void
http_session_stop(HttpSession *s)
{
	if (s->running) {
		fleet_curl_multi_remove(s->multi, s->easy);
		s->running = FALSE;
	}
	if (s->timer != NULL) {
		g_source_destroy(s->timer);
		g_clear_pointer(&s->timer, g_source_unref);
	}
	g_clear_pointer(&s->cancel_hop, fleet_cancel_hop_free);
}

static void
http_session_free(gpointer data)
{
	HttpSession *s = data;
	http_session_stop(s);
	g_clear_pointer(&s->easy, curl_easy_cleanup);
	g_clear_pointer(&s->mime, curl_mime_free);
	g_clear_pointer(&s->headers, curl_slist_free_all);
	g_clear_object(&s->multi);
	g_clear_pointer(&s->bytes, g_bytes_unref);
	g_clear_pointer(&s->request, fleet_upload_request_unref);
	g_clear_pointer(&s->response, g_byte_array_unref);
	g_clear_error(&s->result_error);
	g_clear_pointer(&s->context, g_main_context_unref);
	http_wipe(s->password);
	g_free(s->user);
	g_free(s->who);
	g_free(s->url);
	g_free(s->path);
	g_free(s);
}

static gboolean
http_complete_idle_cb(gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	HttpSession *s = g_task_get_task_data(task);
	if (s->result_error != NULL)
		g_task_return_error(task, g_steal_pointer(&s->result_error));
	else
		g_task_return_boolean(task, TRUE);
	return G_SOURCE_REMOVE;
}

/*
 * every path that ends the session comes through here; the task is returned from an idle
 * so that no callback still running on the stack can see the session freed
 */
static void
http_session_complete(HttpSession *s, GError *error)
{
	g_autoptr(GSource) idle = NULL;
	if (s->finished) {
		if (error != NULL)
			g_error_free(error);
		return;
	}
	s->finished = TRUE;
	http_session_stop(s);
	if (error != NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		fleet_upload_request_transcript(s->request, "http: %s", error->message);
	s->result_error = error;
	idle = g_idle_source_new();
	g_source_set_callback(idle, http_complete_idle_cb, s->task, NULL);
	g_source_attach(idle, s->context);
	/* the session's own task reference now belongs to the idle */
}

static void
http_session_succeed(HttpSession *s)
{
	if (s->finished)
		return;
	s->done = s->size;
	fleet_upload_request_progress(s->request, s->size, s->size);
	http_session_complete(s, NULL);
}

/* a substring search that is not stopped by NUL bytes in a device's answer */
static gboolean
http_contains(const gchar *haystack, gsize len, const gchar *needle)
{
	gsize n = strlen(needle);
	if (n > len)
		return FALSE;
	for (gsize i = 0; i + n <= len; i++) {
		if (g_ascii_strncasecmp(haystack + i, needle, n) == 0)
			return TRUE;
	}
	return FALSE;
}

/* the answer without surrounding white space equals @word */
static gboolean
http_body_is(const gchar *body, gsize len, const gchar *word)
{
	gsize start = 0;
	while (start < len && g_ascii_isspace(body[start]))
		start++;
	while (len > start && g_ascii_isspace(body[len - 1]))
		len--;
	return len - start == strlen(word) && memcmp(body + start, word, len - start) == 0;
}

static GError *
http_device_error(HttpSession *s, const gchar *text)
{
	return fleet_transport_device_error(s->who, text);
}

static gchar *
http_response_text(HttpSession *s)
{
	g_autofree gchar *text = fleet_text_sanitize((const gchar *)s->response->data,
						     (gssize)s->response->len, HTTP_TEXT_MAX);
	return g_strdup(g_strstrip(text));
}

static void
http_set_phase(HttpSession *s, FleetUploadPhase phase)
{
	if (s->phase == phase)
		return;
	s->phase = phase;
	fleet_upload_request_phase(s->request, phase);
}

static void http_arm_timer(HttpSession *s);

static gint
http_xferinfo_cb(
    gpointer user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	HttpSession *s = user_data;
	guint64 done;

	if (s->finished || g_cancellable_is_cancelled(g_task_get_cancellable(s->task)))
		return 1; /* CURLE_ABORTED_BY_CALLBACK */
	if (ulnow != s->last_ulnow) {
		s->last_ulnow = ulnow;
		s->last_progress = g_get_monotonic_time();
	}
	if (ulnow > 0 && s->phase != FLEET_UPLOAD_PHASE_UPLOADING &&
	    s->phase != FLEET_UPLOAD_PHASE_DEVICE_VERIFYING) {
		http_set_phase(s, FLEET_UPLOAD_PHASE_UPLOADING);
		/* connected: from now on the stall clock runs without the connect grace */
		http_arm_timer(s);
	}

	if (!s->raw && s->prefix < 0 && ultotal > (curl_off_t)s->size) {
		curl_off_t overhead = ultotal - (curl_off_t)s->size;
		s->prefix = (overhead + s->part_header_len - 4) / 2;
		/* another framing than expected: count the whole overhead as before */
		if (s->prefix < 0 || s->prefix > overhead)
			s->prefix = overhead;
	}
	if (s->raw)
		done = (guint64)MAX(ulnow, 0);
	else if (s->prefix >= 0 && ulnow > s->prefix)
		done = (guint64)(ulnow - s->prefix);
	else
		done = 0;
	done = MIN(done, (guint64)s->size);
	if (done > s->done) {
		s->done = done;
		fleet_upload_request_progress(s->request, done, s->size);
	}

	if (ultotal > 0 && ulnow >= ultotal && s->body_sent == 0) {
		s->body_sent = g_get_monotonic_time();
		http_set_phase(s, FLEET_UPLOAD_PHASE_DEVICE_VERIFYING);
		fleet_upload_request_transcript(s->request,
						"http: all %" G_GSIZE_FORMAT
						" bytes sent; waiting for "
						"the device's verdict",
						s->size);
		http_arm_timer(s);
	}
	return 0;
}

/* the image, read in place */
static size_t
http_read_cb(gchar *buffer, size_t size, size_t nitems, gpointer user_data)
{
	HttpSession *s = user_data;
	gsize n = MIN(size * nitems, s->size - s->offset);
	memcpy(buffer, s->data + s->offset, n);
	s->offset += n;
	return n;
}

/* libcurl rewinds when it has to send the body again */
static gint
http_seek_cb(gpointer user_data, curl_off_t offset, gint origin)
{
	HttpSession *s = user_data;
	if (origin != SEEK_SET || offset < 0 || (guint64)offset > (guint64)s->size)
		return CURL_SEEKFUNC_FAIL;
	s->offset = (gsize)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t
http_write_cb(gchar *ptr, size_t size, size_t nmemb, gpointer user_data)
{
	HttpSession *s = user_data;
	gsize n = size * nmemb;
	if (s->response->len + n > HTTP_RESPONSE_MAX) {
		/* keep what fits; the verdict is at the start of the page */
		g_byte_array_append(s->response, (const guint8 *)ptr,
				    HTTP_RESPONSE_MAX - s->response->len);
		s->response_cut = TRUE;
		return 0;
	}
	g_byte_array_append(s->response, (const guint8 *)ptr, (guint)n);
	return n;
}

static gint
http_sockopt_cb(gpointer user_data, curl_socket_t fd, curlsocktype purpose)
{
	gint sndbuf = HTTP_SNDBUF;
	if (purpose == CURLSOCKTYPE_IPCXN)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return CURL_SOCKOPT_OK;
}

static gboolean
http_timer_cb(gpointer user_data)
{
	HttpSession *s = user_data;
	g_clear_pointer(&s->timer, g_source_unref);
	http_arm_timer(s);
	return G_SOURCE_REMOVE;
}

/* fails the session when its deadline has passed, else sleeps until the deadline */
static void
http_arm_timer(HttpSession *s)
{
	gint64 now = g_get_monotonic_time();
	gint64 deadline;

	if (s->finished)
		return;
	if (s->body_sent != 0) {
		guint result_timeout = fleet_upload_request_get_result_timeout(s->request);
		deadline = s->body_sent + (gint64)result_timeout * G_USEC_PER_SEC;
		if (now >= deadline) {
			http_session_complete(
			    s, g_error_new(FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
					   _("%s received the whole image but did not report a "
					     "result within %u s"),
					   s->who, result_timeout));
			return;
		}
	} else {
		guint stall_timeout = fleet_upload_request_get_stall_timeout(s->request);
		deadline = s->last_progress + (gint64)stall_timeout * G_USEC_PER_SEC;
		if (now >= deadline) {
			http_session_complete(
			    s, g_error_new(
				   FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
				   _("The transfer to %s stalled at %lu of %lu bytes for %u s: "
				     "the link is too weak or the device hangs; it keeps its "
				     "old firmware"),
				   s->who, (gulong)s->done, (gulong)s->size, stall_timeout));
			return;
		}
	}
	if (s->timer != NULL) {
		g_source_destroy(s->timer);
		g_clear_pointer(&s->timer, g_source_unref);
	}
	/* +1 ms: never wake up just before the deadline */
	s->timer = g_timeout_source_new((guint)((deadline - now) / 1000 + 1));
	g_source_set_callback(s->timer, http_timer_cb, s, NULL);
	g_source_set_static_name(s->timer, "[fleet] http upload deadline");
	g_source_attach(s->timer, s->context);
}

static void http_done_cb(CURL *easy, CURLcode result, gpointer user_data);

static void
http_start_attempt(HttpSession *s)
{
	g_autoptr(GError) error = NULL;
	s->offset = 0;
	s->done = 0;
	s->last_ulnow = 0;
	s->body_sent = 0;
	s->response_cut = FALSE;
	s->errbuf[0] = '\0';
	g_byte_array_set_size(s->response, 0);
	/* the connect timeout is libcurl's; the stall clock starts once it has passed */
	s->last_progress =
	    g_get_monotonic_time() +
	    (gint64)fleet_upload_request_get_connect_timeout(s->request) * G_USEC_PER_SEC;
	if (!fleet_curl_multi_add(s->multi, s->easy, http_done_cb, s, &error)) {
		http_session_complete(s, g_steal_pointer(&error));
		return;
	}
	s->running = TRUE;
	http_arm_timer(s);
}

/* a failure before any HTTP answer arrived */
static GError *
http_transport_error(HttpSession *s, CURLcode result)
{
	glong os_errno = 0;
	const gchar *detail = s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(result);

	curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os_errno);
	switch (result) {
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED)
			return g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
					   _("%s refused the connection on port %u: is the web "
					     "updater running?"),
					   s->who, s->port);
		return g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
				   _("Cannot connect to %s (%s): is it online?"), s->who, detail);
	case CURLE_COULDNT_RESOLVE_HOST:
		return g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
				   _("Cannot resolve %s (%s): is it online?"), s->who, detail);
	case CURLE_OPERATION_TIMEDOUT:
		if (s->last_ulnow == 0)
			return g_error_new(
			    FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
			    _("%s did not accept a connection on port %u within %u s: "
			      "is it online and the port right?"),
			    s->who, s->port, fleet_upload_request_get_connect_timeout(s->request));
		break;
	case CURLE_GOT_NOTHING:
		if (s->body_sent != 0)
			return g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
					   _("%s closed the connection without an answer after "
					     "receiving the whole image; it probably rejected it: "
					     "check the device's log"),
					   s->who);
		break;
	default:
		break;
	}
	if (s->body_sent == 0)
		return g_error_new(FLEET_ERROR, fleet_curl_error_code(result),
				   _("%s dropped the connection after %lu of %lu bytes (%s); the "
				     "device keeps its old firmware; try again"),
				   s->who, (gulong)s->done, (gulong)s->size, detail);
	return g_error_new(FLEET_ERROR, fleet_curl_error_code(result),
			   _("The connection to %s broke while waiting for its verdict (%s); "
			     "check whether it rebooted with the new image"),
			   s->who, detail);
}

static gboolean
http_retry_with_digest(HttpSession *s)
{
	glong avail = 0;
	if (s->digest || s->password == NULL)
		return FALSE;
	curl_easy_getinfo(s->easy, CURLINFO_HTTPAUTH_AVAIL, &avail);
	if ((avail & CURLAUTH_DIGEST) == 0)
		return FALSE;
	s->digest = TRUE;
	fleet_upload_request_transcript(s->request,
					"http: the device wants Digest authentication; sending the "
					"image again with Digest credentials for user “%s”",
					s->user);
	http_set_phase(s, FLEET_UPLOAD_PHASE_AUTHENTICATING);
	curl_easy_setopt(s->easy, CURLOPT_HTTPAUTH, (glong)CURLAUTH_DIGEST);
	http_start_attempt(s);
	return TRUE;
}

static void
http_judge_answer(HttpSession *s, CURLcode result, glong status)
{
	const gchar *body = (const gchar *)s->response->data;
	gsize len = s->response->len;
	g_autofree gchar *text = http_response_text(s);
	/* a device that reboots right after its answer may reset the connection */
	gboolean complete = result == CURLE_OK;

	fleet_upload_request_transcript(
	    s->request, "http: device answered HTTP %ld%s%s%s%s", status, len > 0 ? ": “" : "",
	    len > 0 ? text : "", len > 0 ? "”" : "", complete ? "" : " (connection closed early)");
	if (status == 200) {
		if (http_contains(body, len, "Update error") ||
		    http_contains(body, len, "Update Failed") || http_body_is(body, len, "FAIL")) {
			http_session_complete(s, http_device_error(s, text));
			return;
		}
		if (http_contains(body, len, "Update Success") || http_body_is(body, len, "OK")) {
			http_session_succeed(s);
			return;
		}
		if (!complete) {
			http_session_complete(s, http_transport_error(s, result));
			return;
		}
		http_session_complete(
		    s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				   _("%s answered “%s”, which is neither a success nor a failure "
				     "message espfleet knows: is %s its update page?"),
				   s->who, text, s->path));
		return;
	}
	if (status == 401) {
		if (s->password == NULL) {
			http_session_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_AUTH_FAILED,
							     _("%s needs a password and none was "
							       "given"),
							     s->who));
			return;
		}
		if (http_retry_with_digest(s))
			return;
		http_session_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_AUTH_FAILED,
						     _("Wrong password for %s"), s->who));
		return;
	}
	if (status == 404) {
		http_session_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
						     _("%s has no HTTP update page at %s: is the "
						       "path right?"),
						     s->who, s->path));
		return;
	}
	if (len > 0) {
		GError *known = fleet_transport_device_error_known(s->who, text);
		if (known != NULL) {
			http_session_complete(s, known);
			return;
		}
		http_session_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
						     _("%s answered HTTP %ld: “%s”"), s->who,
						     status, text));
		return;
	}
	http_session_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
					     _("%s answered HTTP %ld without a message"), s->who,
					     status));
}

static void
http_done_cb(CURL *easy, CURLcode result, gpointer user_data)
{
	HttpSession *s = user_data;
	glong status = 0;

	s->running = FALSE;
	if (s->finished)
		return;
	if (result == CURLE_ABORTED_BY_CALLBACK) {
		http_session_complete(s, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
							     _("The update was cancelled")));
		return;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	/* a write error is our own cut at HTTP_RESPONSE_MAX: judge what was read */
	if (result == CURLE_WRITE_ERROR && s->response_cut)
		result = CURLE_OK;
	if (status <= 0) {
		http_session_complete(s, http_transport_error(s, result));
		return;
	}
	http_judge_answer(s, result, status);
}

static void
http_cancelled(gpointer user_data)
{
	HttpSession *s = user_data;
	http_session_complete(s, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
						     _("The update was cancelled")));
}

/* a token for the multipart header: what libcurl would have to escape is replaced */
static gchar *
http_safe_token(const gchar *in, const gchar *fallback)
{
	GString *out = g_string_new(NULL);
	for (const gchar *p = in != NULL ? in : ""; *p != '\0' && out->len < HTTP_NAME_MAX; p++) {
		if (g_ascii_isalnum(*p) || strchr("._-+", *p) != NULL)
			g_string_append_c(out, *p);
		else
			g_string_append_c(out, '_');
	}
	if (out->len == 0)
		g_string_append(out, fallback);
	return g_string_free(out, FALSE);
}

/* the file name without its directory; devices only print it, but some want one */
static gchar *
http_file_name(FleetImage *image)
{
	const gchar *name = fleet_image_get_filename(image);
	g_autofree gchar *base = name != NULL ? g_path_get_basename(name) : NULL;
	if (base != NULL && (g_strcmp0(base, ".") == 0 || g_strcmp0(base, G_DIR_SEPARATOR_S) == 0))
		g_clear_pointer(&base, g_free);
	return http_safe_token(base, "firmware.bin");
}

/* the path from mDNS or the user: printable, starting with '/', no white space */
static gboolean
http_path_is_valid(const gchar *path)
{
	if (path[0] != '/' || strlen(path) > 256)
		return FALSE;
	for (const gchar *p = path; *p != '\0'; p++) {
		if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f || *p == '#')
			return FALSE;
	}
	return TRUE;
}

/* "http://<host>:<port><path>" and the Host header value for it */
static gboolean
http_build_url(HttpSession *s, const gchar *address, gchar **host_header, GError **error)
{
	g_autoptr(CURLU) u = curl_url();
	g_autofree gchar *host = NULL;
	g_autofree gchar *zone = NULL;
	g_autofree gchar *port = g_strdup_printf("%u", s->port);
	g_autofree gchar *path = g_strdup(s->path);
	gchar *query = strchr(path, '?');
	gchar *url = NULL;
	CURLUcode rc;

	if (strchr(address, ':') != NULL) {
		const gchar *percent = strchr(address, '%');
		host = g_strdup_printf(
		    "[%.*s]", (int)(percent != NULL ? (gsize)(percent - address) : strlen(address)),
		    address);
		if (percent != NULL)
			zone = g_strdup(percent + 1);
	} else {
		host = g_strdup(address);
	}
	if (query != NULL)
		*query++ = '\0';
	rc = curl_url_set(u, CURLUPART_SCHEME, "http", 0);
	if (rc == CURLUE_OK)
		rc = curl_url_set(u, CURLUPART_HOST, host, 0);
	if (rc == CURLUE_OK && zone != NULL)
		rc = curl_url_set(u, CURLUPART_ZONEID, zone, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_set(u, CURLUPART_PORT, port, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_set(u, CURLUPART_PATH, path, 0);
	if (rc == CURLUE_OK && query != NULL && *query != '\0')
		rc = curl_url_set(u, CURLUPART_QUERY, query, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_URL, &url, 0);
	if (rc != CURLUE_OK) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("Cannot make an HTTP address for %s from “%s” and “%s”: %s"), s->who,
			    address, s->path, curl_url_strerror(rc));
		return FALSE;
	}
	s->url = g_strdup(url);
	curl_free(url);
	/* what libcurl itself would send: no port for 80, no zone */
	*host_header = s->port == 80 ? g_strdup(host) : g_strdup_printf("%s:%u", host, s->port);
	return TRUE;
}

static gboolean
http_add_header(HttpSession *s, const gchar *header)
{
	struct curl_slist *list = curl_slist_append(s->headers, header);
	if (list == NULL)
		return FALSE;
	s->headers = list;
	return TRUE;
}

static gboolean
http_prepare(HttpSession *s, const gchar *address, GError **error)
{
	FleetImage *image = fleet_upload_request_get_image(s->request);
	g_autofree gchar *host_header = NULL;
	g_autofree gchar *host_line = NULL;
	g_autofree gchar *origin_line = NULL;
	g_autofree gchar *referer = NULL;
	g_autofree gchar *field = NULL;
	g_autofree gchar *filename = NULL;
	gboolean ok = TRUE;

	if (!http_build_url(s, address, &host_header, error))
		return FALSE;
	s->easy = curl_easy_init();
	if (s->easy == NULL) {
		g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INTERNAL,
				    "curl_easy_init failed");
		return FALSE;
	}
	fleet_curl_easy_set_defaults(s->easy);
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	/* a firmware never travels over a connection that may have gone stale; the device
	 * reboots afterwards anyway */
	curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (glong)fleet_upload_request_get_connect_timeout(s->request) * 1000L);
	curl_easy_setopt(s->easy, CURLOPT_SOCKOPTFUNCTION, http_sockopt_cb);
	curl_easy_setopt(s->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFOFUNCTION, http_xferinfo_cb);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);

	/* arduino-esp32 accepts an upload only when Origin is http:// + Host; Tasmota wants
	 * a Referer naming the device; an empty Expect avoids the 100-continue wait that
	 * ESP web servers never answer */
	host_line = g_strdup_printf("Host: %s", host_header);
	origin_line = g_strdup_printf("Origin: http://%s", host_header);
	referer = g_strdup_printf("http://%s%s", host_header, s->path);
	ok = http_add_header(s, host_line) && http_add_header(s, origin_line) &&
	     http_add_header(s, "Expect:");
	curl_easy_setopt(s->easy, CURLOPT_REFERER, referer);

	if (s->password != NULL) {
		/* pre-emptive Basic: otherwise the image is sent once for nothing, and a 401
		 * that still comes back means the password is wrong */
		curl_easy_setopt(s->easy, CURLOPT_HTTPAUTH, (glong)CURLAUTH_BASIC);
		curl_easy_setopt(s->easy, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(s->easy, CURLOPT_PASSWORD, s->password);
	}

	if (s->raw) {
		g_autofree gchar *md5_line =
		    g_strdup_printf("X-MD5: %s", fleet_image_get_md5(image));
		ok = ok && http_add_header(s, "Content-Type: application/octet-stream") &&
		     http_add_header(s, md5_line);
		curl_easy_setopt(s->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->size);
		curl_easy_setopt(s->easy, CURLOPT_READFUNCTION, http_read_cb);
		curl_easy_setopt(s->easy, CURLOPT_READDATA, s);
		curl_easy_setopt(s->easy, CURLOPT_SEEKFUNCTION, http_seek_cb);
		curl_easy_setopt(s->easy, CURLOPT_SEEKDATA, s);
		fleet_upload_request_transcript(
		    s->request, "http: POST %s, raw body of %" G_GSIZE_FORMAT " bytes, X-MD5 %s",
		    s->url, s->size, fleet_image_get_md5(image));
	} else {
		curl_mimepart *part;
		gsize header_len;

		field = http_safe_token(fleet_upload_request_get_filesystem(s->request)
					    ? "filesystem"
					    : fleet_upload_request_get_http_field(s->request),
					"firmware");
		filename = http_file_name(image);
		s->mime = curl_mime_init(s->easy);
		part = curl_mime_addpart(s->mime);
		if (part == NULL || curl_mime_name(part, field) != CURLE_OK ||
		    curl_mime_filename(part, filename) != CURLE_OK ||
		    curl_mime_type(part, "application/octet-stream") != CURLE_OK ||
		    curl_mime_data_cb(part, (curl_off_t)s->size, http_read_cb, http_seek_cb, NULL,
				      s) != CURLE_OK) {
			g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INTERNAL,
					    "building the multipart body failed");
			return FALSE;
		}
		curl_easy_setopt(s->easy, CURLOPT_MIMEPOST, s->mime);
		/*
		 * libcurl frames the part as "--B\r\n" headers "\r\n" data "\r\n--B--\r\n"; the
		 * boundary B is its own, so the bytes before the image follow from the total:
		 * prefix = 4 + |B| + H and total = size + 12 + 2|B| + H
		 */
		header_len =
		    strlen("Content-Disposition: form-data; name=\"\"; filename=\"\"\r\n") +
		    strlen(field) + strlen(filename) +
		    strlen("Content-Type: application/octet-stream\r\n") + 2;
		s->part_header_len = (curl_off_t)header_len;
		fleet_upload_request_transcript(s->request,
						"http: POST %s, multipart field “%s”, file “%s”, "
						"%" G_GSIZE_FORMAT " bytes",
						s->url, field, filename, s->size);
	}
	if (!ok) {
		g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INTERNAL,
				    "building the request headers failed");
		return FALSE;
	}
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
	if (s->password != NULL)
		fleet_upload_request_transcript(
		    s->request, "http: sending Basic credentials for user “%s”", s->user);
	return TRUE;
}

static void
fleet_transport_http_upload_async(FleetTransport *transport,
				  FleetUploadRequest *request,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	GTask *task = g_task_new(transport, cancellable, callback, user_data);
	HttpSession *s = g_new0(HttpSession, 1);
	FleetDevice *device = fleet_upload_request_get_device(request);
	FleetImage *image = fleet_upload_request_get_image(request);
	const gchar *address = fleet_device_get_address(device);
	const gchar *path = fleet_device_get_http_path(device);
	g_autoptr(GError) error = NULL;

	g_task_set_source_tag(task, fleet_transport_http_upload_async);
	g_task_set_task_data(task, s, http_session_free);
	s->task = task;
	s->request = fleet_upload_request_ref(request);
	s->bytes = g_bytes_ref(fleet_image_get_bytes(image));
	s->data = g_bytes_get_data(s->bytes, &s->size);
	s->port = fleet_device_get_http_port(device) != 0 ? fleet_device_get_http_port(device) : 80;
	s->path = g_strdup(path != NULL && path[0] != '\0' ? path : "/update");
	s->raw = fleet_upload_request_get_http_raw(request);
	s->who = fleet_device_describe(device, FLEET_PROTOCOL_HTTP);
	s->user = g_strdup(fleet_upload_request_get_http_user(request));
	s->password = g_strdup(fleet_upload_request_get_password(request));
	s->response = g_byte_array_new();
	s->context = g_main_context_ref_thread_default();
	s->phase = FLEET_UPLOAD_PHASE_CONNECTING;
	s->prefix = -1;
	/* before any curl call: the multi's class initialises libcurl */
	s->multi = fleet_curl_multi_get_default();

	if (address == NULL) {
		http_session_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
						     _("No address is known for %s: is it online?"),
						     s->who));
		return;
	}
	if (!http_path_is_valid(s->path)) {
		g_autofree gchar *safe = fleet_text_sanitize(s->path, -1, 80);
		http_session_complete(s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
						     _("%s announced an unusable HTTP update path "
						       "“%s”: set the path by hand"),
						     s->who, safe));
		return;
	}
	if (!http_prepare(s, address, &error)) {
		http_session_complete(s, g_steal_pointer(&error));
		return;
	}
	/* cancellation may come from any thread: it is handled on the session's context */
	s->cancel_hop = fleet_cancel_hop_new(cancellable, s->context, http_cancelled, s);
	if (g_cancellable_is_cancelled(cancellable))
		return;
	fleet_upload_request_phase(request, FLEET_UPLOAD_PHASE_CONNECTING);
	http_start_attempt(s);
}

static gboolean
fleet_transport_http_upload_finish(FleetTransport *transport, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, transport), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

static FleetProtocol
fleet_transport_http_get_protocol(FleetTransport *transport)
{
	return FLEET_PROTOCOL_HTTP;
}

static void
fleet_transport_http_iface_init(FleetTransportInterface *iface)
{
	iface->get_protocol = fleet_transport_http_get_protocol;
	iface->upload_async = fleet_transport_http_upload_async;
	iface->upload_finish = fleet_transport_http_upload_finish;
}

static void
fleet_transport_http_class_init(FleetTransportHttpClass *klass)
{
}

static void
fleet_transport_http_init(FleetTransportHttp *self)
{
}

FleetTransportHttp *
fleet_transport_http_new(void)
{
	return g_object_new(FLEET_TYPE_TRANSPORT_HTTP, NULL);
}
