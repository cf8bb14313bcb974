/* SPDX-License-Identifier: MIT */
/* freertos/FreeRTOS.h (host fake) - the spinlock the log tee takes, counted */
#pragma once

typedef struct {
	int depth;
} portMUX_TYPE;

#define portMUX_INITIALIZER_UNLOCKED                                                               \
	{                                                                                          \
		0                                                                                  \
	}

void fake_critical_enter(portMUX_TYPE *mux);
void fake_critical_exit(portMUX_TYPE *mux);

#define portENTER_CRITICAL(mux) fake_critical_enter(mux)
#define portEXIT_CRITICAL(mux) fake_critical_exit(mux)
