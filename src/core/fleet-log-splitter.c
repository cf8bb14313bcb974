/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-splitter.c - bytes from a stream into lines, telnet negotiation taken out */

#include "config.h"

#include "fleet-log-splitter.h"

#include <string.h>

#include "fleet-log-line.h"

/* telnet (RFC 854, 855) */
#define TELNET_SE 240
#define TELNET_SB 250
#define TELNET_WILL 251
#define TELNET_WONT 252
#define TELNET_DO 253
#define TELNET_DONT 254
#define TELNET_IAC 255

typedef enum {
	FLEET_TELNET_DATA,
	FLEET_TELNET_IAC,    /* after IAC */
	FLEET_TELNET_OPTION, /* after IAC WILL/WONT/DO/DONT */
	FLEET_TELNET_SB,     /* inside a subnegotiation */
	FLEET_TELNET_SB_IAC, /* IAC inside a subnegotiation */
} FleetTelnetState;

struct _FleetLogSplitter {
	gboolean telnet;
	FleetTelnetState state;
	guint8 verb;		 /* WILL/WONT/DO/DONT being read */
	guint8 refused_will[32]; /* options we answered DONT to, one bit each */
	guint8 refused_do[32];	 /* options we answered WONT to */
	gboolean after_cr;
	gsize len;
	guint8 line[FLEET_LOG_LINE_MAX];
};

FleetLogSplitter *
fleet_log_splitter_new(gboolean telnet)
{
	FleetLogSplitter *self = g_new0(FleetLogSplitter, 1);
	self->telnet = telnet;
	return self;
}

void
fleet_log_splitter_free(FleetLogSplitter *self)
{
	g_free(self);
}

gboolean
fleet_log_splitter_get_telnet(FleetLogSplitter *self)
{
	g_return_val_if_fail(self != NULL, FALSE);
	return self->telnet;
}

void
fleet_log_splitter_reset(FleetLogSplitter *self)
{
	g_return_if_fail(self != NULL);
	self->state = FLEET_TELNET_DATA;
	self->after_cr = FALSE;
	self->len = 0;
	memset(self->refused_will, 0, sizeof(self->refused_will));
	memset(self->refused_do, 0, sizeof(self->refused_do));
}

gsize
fleet_log_splitter_get_pending(FleetLogSplitter *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->len;
}

static void
fleet_log_splitter_emit(FleetLogSplitter *self, FleetLogSplitterFunc func, gpointer user_data)
{
	gsize len = self->len;
	self->len = 0;
	func(self->line, len, user_data);
}

static void
fleet_log_splitter_data(FleetLogSplitter *self,
			guint8 c,
			FleetLogSplitterFunc func,
			gpointer user_data)
{
	if (c == '\n') {
		if (self->after_cr) {
			self->after_cr = FALSE;
			return;
		}
		fleet_log_splitter_emit(self, func, user_data);
		return;
	}
	if (c == '\r') {
		fleet_log_splitter_emit(self, func, user_data);
		self->after_cr = TRUE;
		return;
	}
	/* telnet sends a bare CR as "\r\0" */
	if (c == 0 && self->after_cr && self->telnet) {
		self->after_cr = FALSE;
		return;
	}
	self->after_cr = FALSE;
	self->line[self->len++] = c;
	if (self->len >= sizeof(self->line))
		fleet_log_splitter_emit(self, func, user_data);
}

/* refuse an option once: WILL → DONT, DO → WONT; WONT and DONT need no answer */
static void
fleet_log_splitter_refuse(FleetLogSplitter *self, guint8 verb, guint8 option, GByteArray *reply)
{
	guint8 *bits;
	guint8 answer;
	guint8 bytes[3];

	if (verb == TELNET_WILL) {
		bits = self->refused_will;
		answer = TELNET_DONT;
	} else if (verb == TELNET_DO) {
		bits = self->refused_do;
		answer = TELNET_WONT;
	} else {
		return;
	}
	if (bits[option / 8] & (1u << (option % 8)))
		return;
	bits[option / 8] |= (guint8)(1u << (option % 8));
	if (reply == NULL)
		return;
	bytes[0] = TELNET_IAC;
	bytes[1] = answer;
	bytes[2] = option;
	g_byte_array_append(reply, bytes, sizeof(bytes));
}

void
fleet_log_splitter_feed(FleetLogSplitter *self,
			const guint8 *data,
			gsize len,
			GByteArray *reply,
			FleetLogSplitterFunc func,
			gpointer user_data)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(data != NULL || len == 0);
	g_return_if_fail(func != NULL);

	for (gsize i = 0; i < len; i++) {
		guint8 c = data[i];
		if (!self->telnet) {
			fleet_log_splitter_data(self, c, func, user_data);
			continue;
		}
		switch (self->state) {
		case FLEET_TELNET_DATA:
			if (c == TELNET_IAC)
				self->state = FLEET_TELNET_IAC;
			else
				fleet_log_splitter_data(self, c, func, user_data);
			break;
		case FLEET_TELNET_IAC:
			if (c == TELNET_IAC) {
				fleet_log_splitter_data(self, c, func, user_data);
				self->state = FLEET_TELNET_DATA;
			} else if (c >= TELNET_WILL && c <= TELNET_DONT) {
				self->verb = c;
				self->state = FLEET_TELNET_OPTION;
			} else if (c == TELNET_SB) {
				self->state = FLEET_TELNET_SB;
			} else {
				/* NOP, GA, AYT, …: two bytes, nothing to show */
				self->state = FLEET_TELNET_DATA;
			}
			break;
		case FLEET_TELNET_OPTION:
			fleet_log_splitter_refuse(self, self->verb, c, reply);
			self->state = FLEET_TELNET_DATA;
			break;
		case FLEET_TELNET_SB:
			if (c == TELNET_IAC)
				self->state = FLEET_TELNET_SB_IAC;
			break;
		case FLEET_TELNET_SB_IAC:
			/* IAC SE ends it; IAC IAC is a data byte inside it */
			self->state = c == TELNET_SE ? FLEET_TELNET_DATA : FLEET_TELNET_SB;
			break;
		default:
			g_assert_not_reached();
		}
	}
}

void
fleet_log_splitter_flush(FleetLogSplitter *self, FleetLogSplitterFunc func, gpointer user_data)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(func != NULL);
	if (self->len > 0)
		fleet_log_splitter_emit(self, func, user_data);
}
