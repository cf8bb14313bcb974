/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-transport.c - the transport interface and the upload request it carries out */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "fleet-error.h"
#include "fleet-transport.h"

struct _FleetUploadRequest {
	gint refcount;
	FleetDevice *device;
	FleetImage *image;
	gchar *password;
	gboolean filesystem;
	gboolean stop_and_wait;
	guint window;
	gchar *http_field;
	gboolean http_raw;
	gchar *http_user;
	guint connect_timeout;
	guint stall_timeout;
	guint result_timeout;
	FleetUploadProgressFunc progress_func;
	gpointer progress_data;
	FleetUploadPhaseFunc phase_func;
	gpointer phase_data;
	FleetTranscriptFunc transcript_func;
	gpointer transcript_data;
};

G_DEFINE_BOXED_TYPE(FleetUploadRequest,
		    fleet_upload_request,
		    fleet_upload_request_ref,
		    fleet_upload_request_unref)

G_DEFINE_INTERFACE(FleetTransport, fleet_transport, G_TYPE_OBJECT)

static void
fleet_transport_default_init(FleetTransportInterface *iface)
{
}

FleetUploadRequest *
fleet_upload_request_new(FleetDevice *device, FleetImage *image)
{
	FleetUploadRequest *self;
	g_return_val_if_fail(FLEET_IS_DEVICE(device), NULL);
	g_return_val_if_fail(FLEET_IS_IMAGE(image), NULL);
	self = g_new0(FleetUploadRequest, 1);
	self->refcount = 1;
	self->device = g_object_ref(device);
	self->image = g_object_ref(image);
	/* enough for 20 Mbit/s at 100 ms RTT; real devices' TCP windows are far smaller */
	self->window = 256 * 1024;
	self->http_field = g_strdup("firmware");
	self->connect_timeout = 10;
	self->stall_timeout = 20;
	self->result_timeout = 60;
	return self;
}

FleetUploadRequest *
fleet_upload_request_ref(FleetUploadRequest *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->refcount);
	return self;
}

static void
fleet_upload_request_wipe_password(FleetUploadRequest *self)
{
	if (self->password == NULL)
		return;
	/* volatile so the wipe is not optimised away */
	for (volatile gchar *p = self->password; *p != '\0'; p++)
		*p = '\0';
	g_clear_pointer(&self->password, g_free);
}

void
fleet_upload_request_unref(FleetUploadRequest *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	fleet_upload_request_wipe_password(self);
	g_object_unref(self->device);
	g_object_unref(self->image);
	g_free(self->http_field);
	g_free(self->http_user);
	g_free(self);
}

FleetDevice *
fleet_upload_request_get_device(FleetUploadRequest *self)
{
	return self->device;
}

FleetImage *
fleet_upload_request_get_image(FleetUploadRequest *self)
{
	return self->image;
}

void
fleet_upload_request_set_password(FleetUploadRequest *self, const gchar *password)
{
	fleet_upload_request_wipe_password(self);
	self->password = g_strdup(password);
}

const gchar *
fleet_upload_request_get_password(FleetUploadRequest *self)
{
	return self->password;
}

void
fleet_upload_request_set_filesystem(FleetUploadRequest *self, gboolean filesystem)
{
	self->filesystem = filesystem;
}

gboolean
fleet_upload_request_get_filesystem(FleetUploadRequest *self)
{
	return self->filesystem;
}

void
fleet_upload_request_set_stop_and_wait(FleetUploadRequest *self, gboolean stop_and_wait)
{
	self->stop_and_wait = stop_and_wait;
}

gboolean
fleet_upload_request_get_stop_and_wait(FleetUploadRequest *self)
{
	return self->stop_and_wait;
}

void
fleet_upload_request_set_window(FleetUploadRequest *self, guint window)
{
	self->window = CLAMP(window, 1460, 4 * 1024 * 1024);
}

guint
fleet_upload_request_get_window(FleetUploadRequest *self)
{
	return self->window;
}

void
fleet_upload_request_set_http_field(FleetUploadRequest *self, const gchar *field)
{
	g_free(self->http_field);
	self->http_field = g_strdup(field != NULL ? field : "firmware");
}

const gchar *
fleet_upload_request_get_http_field(FleetUploadRequest *self)
{
	return self->http_field;
}

void
fleet_upload_request_set_http_raw(FleetUploadRequest *self, gboolean raw)
{
	self->http_raw = raw;
}

gboolean
fleet_upload_request_get_http_raw(FleetUploadRequest *self)
{
	return self->http_raw;
}

void
fleet_upload_request_set_http_user(FleetUploadRequest *self, const gchar *user)
{
	g_free(self->http_user);
	self->http_user = g_strdup(user);
}

const gchar *
fleet_upload_request_get_http_user(FleetUploadRequest *self)
{
	return self->http_user != NULL ? self->http_user : "admin";
}

void
fleet_upload_request_set_timeouts(FleetUploadRequest *self,
				  guint connect_timeout,
				  guint stall_timeout,
				  guint result_timeout)
{
	self->connect_timeout = MAX(connect_timeout, 1);
	self->stall_timeout = MAX(stall_timeout, 1);
	self->result_timeout = MAX(result_timeout, 1);
}

guint
fleet_upload_request_get_connect_timeout(FleetUploadRequest *self)
{
	return self->connect_timeout;
}

guint
fleet_upload_request_get_stall_timeout(FleetUploadRequest *self)
{
	return self->stall_timeout;
}

guint
fleet_upload_request_get_result_timeout(FleetUploadRequest *self)
{
	return self->result_timeout;
}

void
fleet_upload_request_set_progress_func(FleetUploadRequest *self,
				       FleetUploadProgressFunc func,
				       gpointer user_data)
{
	self->progress_func = func;
	self->progress_data = user_data;
}

void
fleet_upload_request_set_phase_func(FleetUploadRequest *self,
				    FleetUploadPhaseFunc func,
				    gpointer user_data)
{
	self->phase_func = func;
	self->phase_data = user_data;
}

void
fleet_upload_request_set_transcript_func(FleetUploadRequest *self,
					 FleetTranscriptFunc func,
					 gpointer user_data)
{
	self->transcript_func = func;
	self->transcript_data = user_data;
}

void
fleet_upload_request_progress(FleetUploadRequest *self, guint64 done, guint64 total)
{
	if (self->progress_func != NULL)
		self->progress_func(done, total, self->progress_data);
}

void
fleet_upload_request_phase(FleetUploadRequest *self, FleetUploadPhase phase)
{
	if (self->phase_func != NULL)
		self->phase_func(phase, self->phase_data);
}

void
fleet_upload_request_transcript(FleetUploadRequest *self, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *line = NULL;
	va_start(args, format);
	line = g_strdup_vprintf(format, args);
	va_end(args);
	g_debug("%s: %s", fleet_device_get_id(self->device), line);
	if (self->transcript_func != NULL)
		self->transcript_func(line, self->transcript_data);
}

static gboolean
fleet_transport_text_has(const gchar *text, const gchar *needle)
{
	gsize n = strlen(needle);
	for (const gchar *p = text; *p != '\0'; p++) {
		if (g_ascii_strncasecmp(p, needle, n) == 0)
			return TRUE;
	}
	return FALSE;
}

GError *
fleet_transport_device_error_known(const gchar *who, const gchar *text)
{
	if (fleet_transport_text_has(text, "MD5"))
		return g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				   _("%s rejected the image: MD5 mismatch (transfer corrupted): "
				     "“%s”; try again"),
				   who, text);
	if (fleet_transport_text_has(text, "Not Enough Space") ||
	    fleet_transport_text_has(text, "too large"))
		return g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
				   _("%s has not enough space for this image (“%s”): use a smaller "
				     "image or a partition layout with a larger OTA slot"),
				   who, text);
	if (fleet_transport_text_has(text, "Wrong origin"))
		return g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
				   _("%s refused the request's origin (“%s”): address the device "
				     "directly, not through a proxy or another name"),
				   who, text);
	if (fleet_transport_text_has(text, "Magic") ||
	    fleet_transport_text_has(text, "Flash config wrong") ||
	    fleet_transport_text_has(text, "Wrong"))
		return g_error_new(FLEET_ERROR, FLEET_ERROR_WRONG_TARGET,
				   _("%s rejected the image (“%s”): is it built for this chip?"),
				   who, text);
	if (fleet_transport_text_has(text, "Signature"))
		return g_error_new(FLEET_ERROR, FLEET_ERROR_SIGNATURE_INVALID,
				   _("%s rejected the image's signature (“%s”): sign it with the key "
				     "the device trusts"),
				   who, text);
	return NULL;
}

GError *
fleet_transport_device_error(const gchar *who, const gchar *text)
{
	GError *error = fleet_transport_device_error_known(who, text);
	if (error != NULL)
		return error;
	return g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA, _("%s reported an error: “%s”"),
			   who, text);
}

FleetProtocol
fleet_transport_get_protocol(FleetTransport *self)
{
	g_return_val_if_fail(FLEET_IS_TRANSPORT(self), FLEET_PROTOCOL_NONE);
	return FLEET_TRANSPORT_GET_IFACE(self)->get_protocol(self);
}

void
fleet_transport_upload_async(FleetTransport *self,
			     FleetUploadRequest *request,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_return_if_fail(FLEET_IS_TRANSPORT(self));
	g_return_if_fail(request != NULL);
	FLEET_TRANSPORT_GET_IFACE(self)->upload_async(self, request, cancellable, callback,
						       user_data);
}

gboolean
fleet_transport_upload_finish(FleetTransport *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(FLEET_IS_TRANSPORT(self), FALSE);
	return FLEET_TRANSPORT_GET_IFACE(self)->upload_finish(self, result, error);
}
