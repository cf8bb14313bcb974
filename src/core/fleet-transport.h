/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-transport.h - how an image travels to a device (espota, HTTP POST, …)
 *
 * A transport runs entirely on the thread-default main context of the caller: no threads,
 * no blocking calls. Progress and transcript lines are delivered through the request.
 */
#pragma once

#include "fleet-device.h"
#include "fleet-image.h"

G_BEGIN_DECLS

/* done: bytes the device (or at least its TCP stack) has taken; total: image size */
typedef void (*FleetUploadProgressFunc)(guint64 done, guint64 total, gpointer user_data);
/* one line of the update transcript; never contains a password */
typedef void (*FleetTranscriptFunc)(const gchar *line, gpointer user_data);

typedef enum {
	FLEET_UPLOAD_PHASE_CONNECTING,	   /* resolving, inviting, opening the connection */
	FLEET_UPLOAD_PHASE_AUTHENTICATING, /* answering the device's challenge */
	FLEET_UPLOAD_PHASE_UPLOADING,	   /* bytes on the wire */
	FLEET_UPLOAD_PHASE_DEVICE_VERIFYING, /* all sent, waiting for the device's verdict */
} FleetUploadPhase;
typedef void (*FleetUploadPhaseFunc)(FleetUploadPhase phase, gpointer user_data);

typedef struct _FleetUploadRequest FleetUploadRequest;

#define FLEET_TYPE_UPLOAD_REQUEST (fleet_upload_request_get_type())
GType
fleet_upload_request_get_type(void);

FleetUploadRequest *
fleet_upload_request_new(FleetDevice *device, FleetImage *image);
FleetUploadRequest *
fleet_upload_request_ref(FleetUploadRequest *self);
void
fleet_upload_request_unref(FleetUploadRequest *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetUploadRequest, fleet_upload_request_unref)

FleetDevice *
fleet_upload_request_get_device(FleetUploadRequest *self);
FleetImage *
fleet_upload_request_get_image(FleetUploadRequest *self);

/* kept in memory that is wiped on free; never logged */
void
fleet_upload_request_set_password(FleetUploadRequest *self, const gchar *password);
const gchar *
fleet_upload_request_get_password(FleetUploadRequest *self);

/* a filesystem image (espota command 100, HTTP field "filesystem") instead of the app */
void
fleet_upload_request_set_filesystem(FleetUploadRequest *self, gboolean filesystem);
gboolean
fleet_upload_request_get_filesystem(FleetUploadRequest *self);

/* espota: wait for an ack after every chunk, as espota.py does (for comparisons) */
void
fleet_upload_request_set_stop_and_wait(FleetUploadRequest *self, gboolean stop_and_wait);
gboolean
fleet_upload_request_get_stop_and_wait(FleetUploadRequest *self);
/* espota: bytes allowed in flight when streaming (default 256 KiB) */
void
fleet_upload_request_set_window(FleetUploadRequest *self, guint window);
guint
fleet_upload_request_get_window(FleetUploadRequest *self);

/* HTTP: form field name (default "firmware"), or a raw body instead of multipart */
void
fleet_upload_request_set_http_field(FleetUploadRequest *self, const gchar *field);
const gchar *
fleet_upload_request_get_http_field(FleetUploadRequest *self);
void
fleet_upload_request_set_http_raw(FleetUploadRequest *self, gboolean raw);
gboolean
fleet_upload_request_get_http_raw(FleetUploadRequest *self);
/* HTTP: user name for Basic/Digest authentication (NULL: "admin") */
void
fleet_upload_request_set_http_user(FleetUploadRequest *self, const gchar *user);
const gchar *
fleet_upload_request_get_http_user(FleetUploadRequest *self);

/* seconds: invitation/connection, silence during the transfer, the device's final verdict */
void
fleet_upload_request_set_timeouts(FleetUploadRequest *self,
				  guint connect_timeout,
				  guint stall_timeout,
				  guint result_timeout);
guint
fleet_upload_request_get_connect_timeout(FleetUploadRequest *self);
guint
fleet_upload_request_get_stall_timeout(FleetUploadRequest *self);
guint
fleet_upload_request_get_result_timeout(FleetUploadRequest *self);

void
fleet_upload_request_set_progress_func(FleetUploadRequest *self,
				       FleetUploadProgressFunc func,
				       gpointer user_data);
void
fleet_upload_request_set_phase_func(FleetUploadRequest *self,
				    FleetUploadPhaseFunc func,
				    gpointer user_data);
void
fleet_upload_request_set_transcript_func(FleetUploadRequest *self,
					 FleetTranscriptFunc func,
					 gpointer user_data);

/* used by transports */
void
fleet_upload_request_progress(FleetUploadRequest *self, guint64 done, guint64 total);
void
fleet_upload_request_phase(FleetUploadRequest *self, FleetUploadPhase phase);
void
fleet_upload_request_transcript(FleetUploadRequest *self, const gchar *format, ...)
    G_GNUC_PRINTF(2, 3);

/**
 * fleet_transport_device_error:
 * @who: the device as fleet_device_describe() names it
 * @text: what the device said, already sanitized (fleet_text_sanitize)
 *
 * The error text a device sent (espota's "ERROR[7]: MD5 verification failed…", an HTTP
 * "Update error: …" page) as an error in FLEET_ERROR that names the cause and the fix.
 */
GError *
fleet_transport_device_error(const gchar *who, const gchar *text);
/* the same, but %NULL when the text is none of the errors espfleet knows */
GError *
fleet_transport_device_error_known(const gchar *who, const gchar *text);

#define FLEET_TYPE_TRANSPORT (fleet_transport_get_type())
G_DECLARE_INTERFACE(FleetTransport, fleet_transport, FLEET, TRANSPORT, GObject)

struct _FleetTransportInterface {
	GTypeInterface parent_iface;
	FleetProtocol (*get_protocol)(FleetTransport *self);
	void (*upload_async)(FleetTransport *self,
			     FleetUploadRequest *request,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
	gboolean (*upload_finish)(FleetTransport *self, GAsyncResult *result, GError **error);
};

FleetProtocol
fleet_transport_get_protocol(FleetTransport *self);

/**
 * fleet_transport_upload_async:
 *
 * Sends the request's image to its device. Completes when the device has accepted the
 * whole image (espota "OK", HTTP success page) or with an error in FLEET_ERROR that names
 * the cause and the fix: FLEET_ERROR_AUTH_FAILED when a password is missing or wrong,
 * FLEET_ERROR_TIMED_OUT, FLEET_ERROR_NETWORK, FLEET_ERROR_INVALID_DATA when the device
 * rejected the image. Cancelling gives G_IO_ERROR_CANCELLED.
 */
void
fleet_transport_upload_async(FleetTransport *self,
			     FleetUploadRequest *request,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
fleet_transport_upload_finish(FleetTransport *self, GAsyncResult *result, GError **error);

G_END_DECLS
