/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-job-private.h - what FleetJobQueue may do to a FleetJob and nobody else */
#pragma once

#include "fleet-job-queue.h"
#include "fleet-job.h"

G_BEGIN_DECLS

/* pre-flight, password, upload, verification; the job reports through notify::phase */
void
fleet_job_run(FleetJob *self, FleetJobQueue *queue);
/* back to "queued" for a retry */
void
fleet_job_reset(FleetJob *self);
/* the queue will not start this job */
void
fleet_job_skip(FleetJob *self, const gchar *reason);

G_END_DECLS
