/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-syslog.c - syslog datagrams: RFC 5424, RFC 3164 and looser BSD forms */

#include "config.h"

#include "fleet-log-syslog.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fleet-error.h"
#include "fleet-log-splitter.h"
#include "fleet-text.h"

/* RFC 5424 §6 field limits */
#define SYSLOG_HOSTNAME_MAX 255
#define SYSLOG_APP_NAME_MAX 48
#define SYSLOG_PROCID_MAX 128
#define SYSLOG_MSGID_MAX 32
#define SYSLOG_TIMESTAMP_MAX 48
#define SYSLOG_SD_MAX 4096
/* RFC 3164 says 32; real tags are sometimes longer */
#define SYSLOG_TAG_MAX 48

typedef struct {
	const guint8 *data;
	gsize len;
	gsize pos;
} FleetSyslogCursor;

static gboolean
fleet_syslog_printusascii(guint8 c)
{
	return c >= 33 && c <= 126;
}

static gchar *
fleet_syslog_field(const guint8 *data, gsize len, gsize max)
{
	return fleet_text_sanitize((const gchar *)data, (gssize)MIN(len, max), 0);
}

/* "<PRI>": 1-3 digits, at most 191, no leading zero unless it is "0" */
static gboolean
fleet_syslog_pri(FleetSyslogCursor *c, gint *facility, gint *severity)
{
	gsize i = 1;
	guint v = 0;
	if (c->len < 3 || c->data[0] != '<')
		return FALSE;
	while (i < c->len && i <= 4 && g_ascii_isdigit(c->data[i])) {
		v = v * 10 + (guint)(c->data[i] - '0');
		i++;
	}
	if (i == 1 || i > 4 || i >= c->len || c->data[i] != '>' || v > 191)
		return FALSE;
	if (i > 2 && c->data[1] == '0')
		return FALSE;
	*facility = (gint)(v / 8);
	*severity = (gint)(v % 8);
	c->pos = i + 1;
	return TRUE;
}

/* a run of PRINTUSASCII up to the next space (or the end), at most @max long */
static gboolean
fleet_syslog_word(FleetSyslogCursor *c, gsize max, gsize *start, gsize *len)
{
	gsize i = c->pos;
	while (i < c->len && fleet_syslog_printusascii(c->data[i]))
		i++;
	if (i == c->pos || i - c->pos > max)
		return FALSE;
	if (i < c->len && c->data[i] != ' ')
		return FALSE;
	*start = c->pos;
	*len = i - c->pos;
	c->pos = i;
	return TRUE;
}

static gboolean
fleet_syslog_space(FleetSyslogCursor *c)
{
	if (c->pos >= c->len || c->data[c->pos] != ' ')
		return FALSE;
	c->pos++;
	return TRUE;
}

/* a NILVALUE-or-word field followed by a space; *out stays NULL for "-" */
static gboolean
fleet_syslog_header_field(FleetSyslogCursor *c, gsize max, gchar **out)
{
	gsize start;
	gsize len;
	if (!fleet_syslog_word(c, max, &start, &len) || !fleet_syslog_space(c))
		return FALSE;
	if (!(len == 1 && c->data[start] == '-'))
		*out = fleet_syslog_field(c->data + start, len, max);
	return TRUE;
}

/* STRUCTURED-DATA: "-" or one or more "[id param=\"value\" …]" */
static gboolean
fleet_syslog_sd(FleetSyslogCursor *c, gchar **out)
{
	gsize start = c->pos;
	if (c->pos < c->len && c->data[c->pos] == '-') {
		c->pos++;
		return c->pos == c->len || c->data[c->pos] == ' ';
	}
	while (c->pos < c->len && c->data[c->pos] == '[') {
		gboolean quoted = FALSE;
		c->pos++;
		while (c->pos < c->len) {
			guint8 ch = c->data[c->pos];
			if (quoted && ch == '\\' && c->pos + 1 < c->len) {
				c->pos += 2;
				continue;
			}
			if (ch == '"')
				quoted = !quoted;
			else if (ch == ']' && !quoted)
				break;
			c->pos++;
		}
		if (c->pos >= c->len)
			return FALSE;
		c->pos++; /* ']' */
	}
	if (c->pos == start || (c->pos < c->len && c->data[c->pos] != ' '))
		return FALSE;
	*out = fleet_syslog_field(c->data + start, c->pos - start, SYSLOG_SD_MAX);
	return TRUE;
}

static void
fleet_syslog_set_msg(FleetLogSyslogMessage *msg, const guint8 *data, gsize len)
{
	if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) {
		data += 3;
		len -= 3;
	}
	g_clear_pointer(&msg->msg, g_bytes_unref);
	msg->msg = g_bytes_new(data, len);
}

static void
fleet_syslog_clear_header(FleetLogSyslogMessage *msg)
{
	g_clear_pointer(&msg->timestamp, g_free);
	g_clear_pointer(&msg->hostname, g_free);
	g_clear_pointer(&msg->app_name, g_free);
	g_clear_pointer(&msg->procid, g_free);
	g_clear_pointer(&msg->msgid, g_free);
	g_clear_pointer(&msg->structured_data, g_free);
}

/* "1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]" after the PRI */
static gboolean
fleet_syslog_parse_5424(FleetSyslogCursor *c, FleetLogSyslogMessage *msg)
{
	gsize start;
	gsize len;

	if (c->pos + 2 > c->len || c->data[c->pos] != '1' || c->data[c->pos + 1] != ' ')
		return FALSE;
	c->pos += 2;
	if (!fleet_syslog_word(c, SYSLOG_TIMESTAMP_MAX, &start, &len) || !fleet_syslog_space(c))
		return FALSE;
	if (!(len == 1 && c->data[start] == '-')) {
		/* RFC 3339: digits, "-", ":", "T", ".", "Z", "+" */
		for (gsize i = start; i < start + len; i++) {
			if (!g_ascii_isdigit(c->data[i]) && strchr("-:T.Z+", c->data[i]) == NULL)
				return FALSE;
		}
		msg->timestamp = fleet_syslog_field(c->data + start, len, SYSLOG_TIMESTAMP_MAX);
	}
	if (!fleet_syslog_header_field(c, SYSLOG_HOSTNAME_MAX, &msg->hostname) ||
	    !fleet_syslog_header_field(c, SYSLOG_APP_NAME_MAX, &msg->app_name) ||
	    !fleet_syslog_header_field(c, SYSLOG_PROCID_MAX, &msg->procid))
		return FALSE;
	if (!fleet_syslog_word(c, SYSLOG_MSGID_MAX, &start, &len) || !fleet_syslog_space(c))
		return FALSE;
	if (!(len == 1 && c->data[start] == '-'))
		msg->msgid = fleet_syslog_field(c->data + start, len, SYSLOG_MSGID_MAX);
	if (!fleet_syslog_sd(c, &msg->structured_data))
		return FALSE;
	if (c->pos < c->len)
		c->pos++; /* the space before MSG */
	msg->rfc5424 = TRUE;
	fleet_syslog_set_msg(msg, c->data + c->pos, c->len - c->pos);
	return TRUE;
}

/* "Mmm dd hh:mm:ss" (day space-padded) or an RFC 3339 time, then a space */
static gboolean
fleet_syslog_3164_timestamp(FleetSyslogCursor *c, FleetLogSyslogMessage *msg)
{
	static const gchar months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const guint8 *d = c->data + c->pos;
	gsize left = c->len - c->pos;
	gsize start;
	gsize len;

	if (left >= 16 && d[3] == ' ' && d[6] == ' ' && d[9] == ':' && d[12] == ':' &&
	    d[15] == ' ') {
		gboolean month = FALSE;
		for (guint m = 0; m < 12; m++)
			month = month || memcmp(d, months + 3 * m, 3) == 0;
		if (month && (d[4] == ' ' || g_ascii_isdigit(d[4])) && g_ascii_isdigit(d[5]) &&
		    g_ascii_isdigit(d[7]) && g_ascii_isdigit(d[8]) && g_ascii_isdigit(d[10]) &&
		    g_ascii_isdigit(d[11]) && g_ascii_isdigit(d[13]) && g_ascii_isdigit(d[14])) {
			msg->timestamp = fleet_syslog_field(d, 15, 15);
			c->pos += 16;
			return TRUE;
		}
	}
	/* rsyslog's RFC 3339 stamps in BSD messages: "2024-05-01T12:00:00.123+02:00 " */
	if (left >= 20 && g_ascii_isdigit(d[0]) && g_ascii_isdigit(d[3]) && d[4] == '-' &&
	    d[10] == 'T') {
		gsize save = c->pos;
		if (fleet_syslog_word(c, SYSLOG_TIMESTAMP_MAX, &start, &len) &&
		    fleet_syslog_space(c)) {
			msg->timestamp =
			    fleet_syslog_field(c->data + start, len, SYSLOG_TIMESTAMP_MAX);
			return TRUE;
		}
		c->pos = save;
	}
	return FALSE;
}

/*
 * "TAG:" or "TAG[pid]:" at the cursor: on success fills app_name/procid and moves the
 * cursor past the colon (and one space)
 */
static gboolean
fleet_syslog_3164_tag(FleetSyslogCursor *c, FleetLogSyslogMessage *msg)
{
	gsize i = c->pos;
	gsize tag_end;
	gsize pid_start = 0;
	gsize pid_end = 0;

	while (i < c->len && fleet_syslog_printusascii(c->data[i]) && c->data[i] != ':' &&
	       c->data[i] != '[' && i - c->pos < SYSLOG_TAG_MAX + 1)
		i++;
	tag_end = i;
	if (tag_end == c->pos || tag_end - c->pos > SYSLOG_TAG_MAX || i >= c->len)
		return FALSE;
	if (c->data[i] == '[') {
		pid_start = i + 1;
		i = pid_start;
		while (i < c->len && c->data[i] != ']' && i - pid_start < SYSLOG_PROCID_MAX)
			i++;
		if (i >= c->len || c->data[i] != ']')
			return FALSE;
		pid_end = i;
		i++;
	}
	if (i >= c->len || c->data[i] != ':')
		return FALSE;
	msg->app_name = fleet_syslog_field(c->data + c->pos, tag_end - c->pos, SYSLOG_TAG_MAX);
	if (pid_end > pid_start)
		msg->procid =
		    fleet_syslog_field(c->data + pid_start, pid_end - pid_start, SYSLOG_PROCID_MAX);
	i++;
	if (i < c->len && c->data[i] == ' ')
		i++;
	c->pos = i;
	return TRUE;
}

/* "[TIMESTAMP ][HOSTNAME ]TAG: MSG" after the PRI, or anything as the message */
static void
fleet_syslog_parse_3164(FleetSyslogCursor *c, FleetLogSyslogMessage *msg)
{
	gsize body = c->pos;
	gboolean stamped = fleet_syslog_3164_timestamp(c, msg);
	gsize after_stamp = c->pos;

	if (!fleet_syslog_3164_tag(c, msg)) {
		/* "host TAG: text": a word, then a tag */
		gsize start;
		gsize len;
		if (fleet_syslog_word(c, SYSLOG_HOSTNAME_MAX, &start, &len) &&
		    fleet_syslog_space(c) && fleet_syslog_3164_tag(c, msg)) {
			msg->hostname =
			    fleet_syslog_field(c->data + start, len, SYSLOG_HOSTNAME_MAX);
		} else if (stamped) {
			/* "Mmm dd hh:mm:ss host text" without a tag: the host is still there */
			c->pos = after_stamp;
			if (fleet_syslog_word(c, SYSLOG_HOSTNAME_MAX, &start, &len) &&
			    fleet_syslog_space(c))
				msg->hostname =
				    fleet_syslog_field(c->data + start, len, SYSLOG_HOSTNAME_MAX);
			else
				c->pos = after_stamp;
			g_clear_pointer(&msg->app_name, g_free);
			g_clear_pointer(&msg->procid, g_free);
		} else {
			g_clear_pointer(&msg->app_name, g_free);
			g_clear_pointer(&msg->procid, g_free);
			c->pos = body;
		}
	}
	fleet_syslog_set_msg(msg, c->data + c->pos, c->len - c->pos);
}

FleetLogSyslogMessage *
fleet_log_syslog_parse(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(FleetLogSyslogMessage) msg = NULL;
	FleetSyslogCursor c = {data, len, 0};

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	if (len == 0) {
		g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				    _("The syslog message is empty"));
		return NULL;
	}
	if (len > FLEET_LOG_SYSLOG_MAX) {
		g_autofree gchar *size = g_format_size(len);
		/* TRANSLATORS: %s is a size such as "70.0 kB" */
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("The syslog message is too large (%s)"), size);
		return NULL;
	}
	/* datagrams often end in a newline that is not part of the message */
	while (c.len > 0 && (c.data[c.len - 1] == '\n' || c.data[c.len - 1] == '\0'))
		c.len--;
	msg = g_new0(FleetLogSyslogMessage, 1);
	msg->facility = -1;
	msg->severity = -1;
	if (!fleet_syslog_pri(&c, &msg->facility, &msg->severity)) {
		/* no PRI: all of it is the message (RFC 3164 §4.3.3) */
		msg->facility = -1;
		msg->severity = -1;
		c.pos = 0;
		fleet_syslog_set_msg(msg, c.data, c.len);
		return g_steal_pointer(&msg);
	}
	{
		gsize after_pri = c.pos;
		if (!fleet_syslog_parse_5424(&c, msg)) {
			fleet_syslog_clear_header(msg);
			c.pos = after_pri;
			fleet_syslog_parse_3164(&c, msg);
		}
	}
	return g_steal_pointer(&msg);
}

void
fleet_log_syslog_message_free(FleetLogSyslogMessage *msg)
{
	if (msg == NULL)
		return;
	fleet_syslog_clear_header(msg);
	g_clear_pointer(&msg->msg, g_bytes_unref);
	g_free(msg);
}

FleetLogLevel
fleet_log_syslog_severity_to_level(gint severity)
{
	if (severity < 0 || severity > 7)
		return FLEET_LOG_LEVEL_NONE;
	if (severity <= 3)
		return FLEET_LOG_LEVEL_ERROR;
	if (severity == 4)
		return FLEET_LOG_LEVEL_WARN;
	if (severity <= 6)
		return FLEET_LOG_LEVEL_INFO;
	return FLEET_LOG_LEVEL_DEBUG;
}

typedef struct {
	const FleetLogSyslogMessage *msg;
	const gchar *device_id;
	gint64 host_time;
	GPtrArray *lines;
} FleetSyslogLines;

static void
fleet_syslog_line_cb(const guint8 *data, gsize len, gpointer user_data)
{
	FleetSyslogLines *helper = user_data;
	g_autoptr(FleetLogLine) parsed = NULL;
	g_autofree gchar *text = NULL;
	gsize prefix = 0;

	parsed = fleet_log_line_parse(helper->device_id, helper->host_time, data, len);
	if (fleet_log_line_get_level(parsed) != FLEET_LOG_LEVEL_NONE ||
	    (helper->msg->app_name == NULL && helper->msg->severity < 0)) {
		g_ptr_array_add(helper->lines, g_steal_pointer(&parsed));
		return;
	}
	if (helper->msg->app_name != NULL) {
		text = g_strdup_printf("%s: %.*s", helper->msg->app_name, (gint)len,
				       (const gchar *)data);
		prefix = strlen(helper->msg->app_name) + 2;
		/* a NUL inside the message would cut the line: keep the parsed (escaped) text */
		if (memchr(data, '\0', len) != NULL) {
			g_free(text);
			text = g_strdup_printf("%s: %s", helper->msg->app_name,
					       fleet_log_line_get_text(parsed));
		}
	} else {
		text = g_strdup(fleet_log_line_get_text(parsed));
	}
	g_ptr_array_add(
	    helper->lines,
	    fleet_log_line_new_full(helper->device_id, helper->host_time,
				    fleet_log_syslog_severity_to_level(helper->msg->severity),
				    helper->msg->app_name, -1, text, prefix));
}

GPtrArray *
fleet_log_syslog_to_lines(const FleetLogSyslogMessage *msg,
			  const gchar *device_id,
			  gint64 host_time)
{
	g_autoptr(FleetLogSplitter) splitter = fleet_log_splitter_new(FALSE);
	FleetSyslogLines helper = {
	    msg, device_id, host_time,
	    g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref)};
	gsize len = 0;
	const guint8 *data;

	g_return_val_if_fail(msg != NULL, NULL);
	data = g_bytes_get_data(msg->msg, &len);
	fleet_log_splitter_feed(splitter, data, len, NULL, fleet_syslog_line_cb, &helper);
	fleet_log_splitter_flush(splitter, fleet_syslog_line_cb, &helper);
	if (helper.lines->len == 0)
		fleet_syslog_line_cb((const guint8 *)"", 0, &helper);
	return helper.lines;
}
