/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-job-queue.h - runs a batch of update jobs: bounded concurrency, a canary group,
 * stop after K failures, cancel, retry the failed ones
 */
#pragma once

#include "fleet-job.h"
#include "fleet-transport.h"

G_BEGIN_DECLS

#define FLEET_TYPE_JOB_QUEUE (fleet_job_queue_get_type())
G_DECLARE_FINAL_TYPE(FleetJobQueue, fleet_job_queue, FLEET, JOB_QUEUE, GObject)

/* a GListModel of FleetJob in the order they were added */
FleetJobQueue *
fleet_job_queue_new(void);

void
fleet_job_queue_add_transport(FleetJobQueue *self, FleetTransport *transport);
FleetTransport *
fleet_job_queue_get_transport(FleetJobQueue *self, FleetProtocol protocol);

/* a FleetCredentials (or NULL); jobs look passwords up there before asking */
void
fleet_job_queue_set_credentials(FleetJobQueue *self, GObject *credentials);
GObject *
fleet_job_queue_get_credentials(FleetJobQueue *self);

/* at most this many jobs upload at once (1..256, default 8) */
void
fleet_job_queue_set_concurrency(FleetJobQueue *self, guint concurrency);
guint
fleet_job_queue_get_concurrency(FleetJobQueue *self);
/* the first N jobs must verify before the others start (0 = no canary) */
void
fleet_job_queue_set_canary_count(FleetJobQueue *self, guint count);
guint
fleet_job_queue_get_canary_count(FleetJobQueue *self);
/* stop starting new jobs after K failures (0 = never) */
void
fleet_job_queue_set_max_failures(FleetJobQueue *self, guint max_failures);
guint
fleet_job_queue_get_max_failures(FleetJobQueue *self);

/* seconds: invitation/connect, transfer stall, device verdict, coming back after reboot */
void
fleet_job_queue_set_timeouts(FleetJobQueue *self,
			     guint connect_timeout,
			     guint stall_timeout,
			     guint result_timeout,
			     guint verify_timeout);
guint
fleet_job_queue_get_connect_timeout(FleetJobQueue *self);
guint
fleet_job_queue_get_stall_timeout(FleetJobQueue *self);
guint
fleet_job_queue_get_result_timeout(FleetJobQueue *self);
guint
fleet_job_queue_get_verify_timeout(FleetJobQueue *self);
/* do not wait for the device to come back (the job ends as "uploaded") */
void
fleet_job_queue_set_verify(FleetJobQueue *self, gboolean verify);
gboolean
fleet_job_queue_get_verify(FleetJobQueue *self);
/* espota lock-step mode, for comparisons with classic uploaders */
void
fleet_job_queue_set_stop_and_wait(FleetJobQueue *self, gboolean stop_and_wait);
gboolean
fleet_job_queue_get_stop_and_wait(FleetJobQueue *self);
/* HTTP form field ("firmware") */
void
fleet_job_queue_set_http_field(FleetJobQueue *self, const gchar *field);
const gchar *
fleet_job_queue_get_http_field(FleetJobQueue *self);

/* a password every job that needs one tries before asking (CLI --password-file, "use for all") */
void
fleet_job_queue_set_default_password(FleetJobQueue *self, const gchar *password);
const gchar *
fleet_job_queue_get_default_password(FleetJobQueue *self);

FleetJob *
fleet_job_queue_add(FleetJobQueue *self, FleetDevice *device, FleetImage *image);
/* starts (or resumes) running queued jobs */
void
fleet_job_queue_start(FleetJobQueue *self);
void
fleet_job_queue_cancel_all(FleetJobQueue *self);
/* puts failed, rolled-back and cancelled jobs back in the queue and starts them */
guint
fleet_job_queue_retry_failed(FleetJobQueue *self);
/* removes every finished job */
void
fleet_job_queue_clear_finished(FleetJobQueue *self);

gboolean
fleet_job_queue_get_running(FleetJobQueue *self);
/* counts by phase over the current jobs */
guint
fleet_job_queue_count(FleetJobQueue *self, FleetJobPhase phase);
/* "18 verified, 1 failed, 1 skipped" */
gchar *
fleet_job_queue_get_summary(FleetJobQueue *self);

/* used by FleetJob */
void
fleet_job_queue_password_needed(FleetJobQueue *self, FleetJob *job);

G_END_DECLS
