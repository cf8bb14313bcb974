/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-source-jobs.h - the update transcripts of the engine as log lines: phases,
 * protocol steps and errors of every job of a queue, under the job's device
 * (the transports redact passwords before a line reaches a transcript)
 */
#pragma once

#include "fleet-job-queue.h"
#include "fleet-log-source.h"

G_BEGIN_DECLS

/* the tag of transcript lines */
#define FLEET_LOG_JOBS_TAG "update"

#define FLEET_TYPE_LOG_SOURCE_JOBS (fleet_log_source_jobs_get_type())
G_DECLARE_FINAL_TYPE(FleetLogSourceJobs,
		     fleet_log_source_jobs,
		     FLEET,
		     LOG_SOURCE_JOBS,
		     FleetLogSource)

FleetLogSourceJobs *
fleet_log_source_jobs_new(FleetJobQueue *queue);

/* looks at every job's transcript now (it also does so on job changes and while jobs run) */
void
fleet_log_source_jobs_poll(FleetLogSourceJobs *self);

G_END_DECLS
