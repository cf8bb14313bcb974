/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-job.h - one device × one image: the phases of an update and their outcome */
#pragma once

#include "fleet-device.h"
#include "fleet-image.h"

G_BEGIN_DECLS

typedef enum {
	FLEET_JOB_PHASE_QUEUED,
	FLEET_JOB_PHASE_PREFLIGHT,
	FLEET_JOB_PHASE_WAITING_PASSWORD,
	FLEET_JOB_PHASE_CONNECTING,
	FLEET_JOB_PHASE_AUTHENTICATING,
	FLEET_JOB_PHASE_UPLOADING,
	FLEET_JOB_PHASE_DEVICE_VERIFYING,
	FLEET_JOB_PHASE_REBOOTING,
	/* terminal phases */
	FLEET_JOB_PHASE_VERIFIED,	   /* back online and running the new image */
	FLEET_JOB_PHASE_UPLOADED,	   /* accepted, but the device announces nothing to check */
	FLEET_JOB_PHASE_ROLLED_BACK,	   /* came back on the old firmware */
	FLEET_JOB_PHASE_FAILED,
	FLEET_JOB_PHASE_SKIPPED,
	FLEET_JOB_PHASE_CANCELLED,
} FleetJobPhase;

#define FLEET_TYPE_JOB (fleet_job_get_type())
G_DECLARE_FINAL_TYPE(FleetJob, fleet_job, FLEET, JOB, GObject)

FleetJob *
fleet_job_new(FleetDevice *device, FleetImage *image);

FleetDevice *
fleet_job_get_device(FleetJob *self);
FleetImage *
fleet_job_get_image(FleetJob *self);

FleetJobPhase
fleet_job_get_phase(FleetJob *self);
gboolean
fleet_job_is_finished(FleetJob *self);
gboolean
fleet_job_is_active(FleetJob *self);
/* translated, e.g. "Uploading" */
const gchar *
fleet_job_phase_to_string(FleetJobPhase phase);
/* stable id for reports, e.g. "rolled-back" */
const gchar *
fleet_job_phase_to_id(FleetJobPhase phase);

/* the one-line reason of a failed, skipped or rolled-back job; NULL otherwise */
const gchar *
fleet_job_get_message(FleetJob *self);
/* the FLEET_ERROR code of a failure, -1 when none */
gint
fleet_job_get_error_code(FleetJob *self);

guint64
fleet_job_get_bytes_done(FleetJob *self);
guint64
fleet_job_get_bytes_total(FleetJob *self);
/* bytes per second, smoothed; 0 when unknown */
gdouble
fleet_job_get_rate(FleetJob *self);
/* seconds left, -1 when unknown */
gint
fleet_job_get_eta(FleetJob *self);
guint
fleet_job_get_attempts(FleetJob *self);
/* monotonic microseconds; 0 when not started/finished */
gint64
fleet_job_get_started(FleetJob *self);
gint64
fleet_job_get_finished(FleetJob *self);
/* seconds from the moment the first image byte could go out (the device connected back, the
 * request started) to the device's verdict on the last one; 0 until the device accepted it */
gdouble
fleet_job_get_transfer_seconds(FleetJob *self);
/* what the device announced before and after, NULL when unknown */
const gchar *
fleet_job_get_old_version(FleetJob *self);
const gchar *
fleet_job_get_new_version(FleetJob *self);
FleetProtocol
fleet_job_get_protocol(FleetJob *self);

/* (element-type utf8): "12.345 s  line" entries; passwords never appear */
GPtrArray *
fleet_job_get_transcript(FleetJob *self);

/* send even when pre-flight refuses the device */
void
fleet_job_set_force(FleetJob *self, gboolean force);
gboolean
fleet_job_get_force(FleetJob *self);
/* the canary group of a batch */
void
fleet_job_set_canary(FleetJob *self, gboolean canary);
gboolean
fleet_job_get_canary(FleetJob *self);
/* a filesystem image (SPIFFS/LittleFS): no application checks, espota command 100 */
void
fleet_job_set_filesystem(FleetJob *self, gboolean filesystem);
gboolean
fleet_job_get_filesystem(FleetJob *self);
/* use this protocol instead of the device's preferred one */
void
fleet_job_set_protocol(FleetJob *self, FleetProtocol protocol);

/**
 * fleet_job_set_password:
 * @password: the password, or %NULL to give up (the job fails with "needs a password")
 * @remember: store it in the keyring once the device accepted it
 *
 * Answers FleetJobQueue::password-needed. The job continues on its own.
 */
void
fleet_job_set_password(FleetJob *self, const gchar *password, gboolean remember);
/* TRUE while the job waits for fleet_job_set_password() */
gboolean
fleet_job_get_needs_password(FleetJob *self);
/* TRUE when the last password was refused by the device */
gboolean
fleet_job_get_password_rejected(FleetJob *self);

void
fleet_job_cancel(FleetJob *self);

G_END_DECLS
