/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-line.c - one line of a device log: ANSI colours, ESP-IDF prefix, escapes */

#include "config.h"

#include "fleet-log-line.h"

#include <string.h>

#include "fleet-log-ansi.h"
#include "fleet-text.h"

/* longest tag taken from an ESP-IDF or Arduino prefix */
#define FLEET_LOG_TAG_MAX 64

enum {
	FLEET_LOG_LINE_FLAG_TRAILING_RESET = 1 << 0, /* raw had an extra "\033[0m" at the end */
};

struct _FleetLogLine {
	gint ref_count;
	guint8 kind;
	guint8 level;
	guint8 flags;
	guint16 n_spans;
	guint16 msg_offset;
	guint32 text_len;
	guint32 raw_len;
	guint32 dropped;
	guint64 seq;
	gint64 host_time;
	gint64 device_ms;
	gchar *device_id; /* GRefString, interned */
	const gchar *text;
	const gchar *tag;
	const gchar *raw; /* NULL: rebuilt from text and spans */
	FleetLogSpan *spans;
	/* spans, then text, tag and raw, each NUL-terminated */
	guint64 data[];
};

G_DEFINE_BOXED_TYPE(FleetLogLine, fleet_log_line, fleet_log_line_ref, fleet_log_line_unref)

/* ---- ESP-IDF and Arduino prefixes ---- */

typedef struct {
	FleetLogLevel level;
	gint64 device_ms;
	gsize tag_start;
	gsize tag_len;
	gsize msg_offset;
} FleetLogPrefix;

static FleetLogLevel
fleet_log_level_from_letter(gchar c)
{
	switch (c) {
	case 'E':
		return FLEET_LOG_LEVEL_ERROR;
	case 'W':
		return FLEET_LOG_LEVEL_WARN;
	case 'I':
		return FLEET_LOG_LEVEL_INFO;
	case 'D':
		return FLEET_LOG_LEVEL_DEBUG;
	case 'V':
		return FLEET_LOG_LEVEL_VERBOSE;
	default:
		return FLEET_LOG_LEVEL_NONE;
	}
}

/* up to @max digits at t[*i]; FALSE when there are none */
static gboolean
fleet_log_digits(const gchar *t, gsize len, gsize *i, guint max, guint64 *value)
{
	guint n = 0;
	*value = 0;
	while (*i < len && g_ascii_isdigit(t[*i]) && n < max) {
		*value = *value * 10 + (guint64)(t[*i] - '0');
		(*i)++;
		n++;
	}
	return n > 0 && !(*i < len && g_ascii_isdigit(t[*i]));
}

static gboolean
fleet_log_two_digits(const gchar *t, gsize len, gsize i, guint max, guint64 *value)
{
	if (i + 2 > len || !g_ascii_isdigit(t[i]) || !g_ascii_isdigit(t[i + 1]))
		return FALSE;
	*value = (guint64)((t[i] - '0') * 10 + (t[i + 1] - '0'));
	return *value <= max;
}

/* "(1234)" or "(12:34:56.789)" at t[*i] */
static gboolean
fleet_log_idf_timestamp(const gchar *t, gsize len, gsize *i, gint64 *ms)
{
	guint64 v = 0;
	guint64 h, m, s, frac;
	gsize j = *i + 1;

	if (*i >= len || t[*i] != '(')
		return FALSE;
	if (j + 13 <= len && t[j + 2] == ':' && t[j + 5] == ':' && t[j + 8] == '.' &&
	    t[j + 12] == ')' && fleet_log_two_digits(t, len, j, 23, &h) &&
	    fleet_log_two_digits(t, len, j + 3, 59, &m) &&
	    fleet_log_two_digits(t, len, j + 6, 59, &s)) {
		gsize k = j + 9;
		if (!fleet_log_digits(t, len, &k, 3, &frac) || k != j + 12)
			return FALSE;
		*ms = (gint64)(((h * 60 + m) * 60 + s) * 1000 + frac);
		*i = j + 13;
		return TRUE;
	}
	if (!fleet_log_digits(t, len, &j, 10, &v) || j >= len || t[j] != ')' || v > G_MAXUINT32)
		return FALSE;
	*ms = (gint64)v;
	*i = j + 1;
	return TRUE;
}

static gboolean
fleet_log_tag_ok(const gchar *t, gsize start, gsize n)
{
	if (n == 0 || n > FLEET_LOG_TAG_MAX)
		return FALSE;
	for (gsize k = start; k < start + n; k++) {
		if (t[k] == '\\' && k + 1 < start + n && t[k + 1] == 'x')
			return FALSE; /* an escaped control: not a tag */
	}
	return TRUE;
}

/* "I (1234) tag: text" */
static gboolean
fleet_log_parse_idf(const gchar *t, gsize len, FleetLogPrefix *p)
{
	gsize i = 2;
	const gchar *colon;

	if (len < 7 || fleet_log_level_from_letter(t[0]) == FLEET_LOG_LEVEL_NONE || t[1] != ' ')
		return FALSE;
	if (!fleet_log_idf_timestamp(t, len, &i, &p->device_ms))
		return FALSE;
	if (i >= len || t[i] != ' ')
		return FALSE;
	i++;
	colon = g_strstr_len(t + i, (gssize)(len - i), ": ");
	if (colon != NULL) {
		p->tag_start = i;
		p->tag_len = (gsize)(colon - (t + i));
		p->msg_offset = p->tag_start + p->tag_len + 2;
	} else if (t[len - 1] == ':' && len > i + 1) {
		p->tag_start = i;
		p->tag_len = len - 1 - i;
		p->msg_offset = len;
	} else {
		return FALSE;
	}
	if (!fleet_log_tag_ok(t, p->tag_start, p->tag_len))
		return FALSE;
	p->level = fleet_log_level_from_letter(t[0]);
	return TRUE;
}

/* "[  1234][E][file.cpp:12] func(): text" or "[E][file.cpp:12] func(): text" */
static gboolean
fleet_log_parse_arduino(const gchar *t, gsize len, FleetLogPrefix *p)
{
	gsize i = 0;
	gsize file_start;
	gsize file_end;
	guint64 v;

	if (len < 8 || t[0] != '[')
		return FALSE;
	i = 1;
	p->device_ms = -1;
	if (t[i] == ' ' || g_ascii_isdigit(t[i])) {
		while (i < len && t[i] == ' ')
			i++;
		if (!fleet_log_digits(t, len, &i, 10, &v) || i >= len || t[i] != ']' ||
		    v > G_MAXUINT32)
			return FALSE;
		p->device_ms = (gint64)v;
		i++;
		if (i >= len || t[i] != '[')
			return FALSE;
		i++;
	}
	if (i + 3 > len || fleet_log_level_from_letter(t[i]) == FLEET_LOG_LEVEL_NONE ||
	    t[i + 1] != ']' || t[i + 2] != '[')
		return FALSE;
	p->level = fleet_log_level_from_letter(t[i]);
	file_start = i + 3;
	file_end = file_start;
	while (file_end < len && t[file_end] != ':' && t[file_end] != ']')
		file_end++;
	if (file_end >= len || t[file_end] != ':')
		return FALSE;
	i = file_end + 1;
	if (!fleet_log_digits(t, len, &i, 6, &v) || i >= len || t[i] != ']')
		return FALSE;
	i++;
	if (i < len && t[i] == ' ')
		i++;
	p->tag_start = file_start;
	p->tag_len = file_end - file_start;
	p->msg_offset = i;
	return fleet_log_tag_ok(t, p->tag_start, p->tag_len);
}

/* "... 12 lines dropped ..." from ota-log */
static gboolean
fleet_log_parse_dropped(const gchar *t, gsize len, guint *dropped)
{
	gsize i = 4;
	guint64 v;
	if (len < 22 || memcmp(t, "... ", 4) != 0)
		return FALSE;
	if (!fleet_log_digits(t, len, &i, 10, &v) || v > G_MAXUINT32)
		return FALSE;
	if (len - i != strlen(" lines dropped ...") ||
	    memcmp(t + i, " lines dropped ...", len - i) != 0)
		return FALSE;
	*dropped = (guint)v;
	return TRUE;
}

/* ---- packing ---- */

typedef struct {
	const gchar *device_id;
	gint64 host_time;
	FleetLogLineKind kind;
	FleetLogLevel level;
	gint64 device_ms;
	const gchar *text;
	gsize text_len;
	const gchar *tag;
	gsize tag_len;
	gsize msg_offset;
	const gchar *raw;
	gsize raw_len;
	const FleetLogSpan *spans;
	guint n_spans;
	guint8 flags;
	guint dropped;
} FleetLogLineParts;

static FleetLogLine *
fleet_log_line_pack(const FleetLogLineParts *p)
{
	gsize size = sizeof(FleetLogLine) + p->n_spans * sizeof(FleetLogSpan) + p->text_len + 1 +
		     (p->tag != NULL ? p->tag_len + 1 : 0) + (p->raw != NULL ? p->raw_len + 1 : 0);
	FleetLogLine *self = g_malloc(size);
	gchar *at;

	self->ref_count = 1;
	self->kind = (guint8)p->kind;
	self->level = (guint8)p->level;
	self->flags = p->flags;
	self->n_spans = (guint16)p->n_spans;
	self->msg_offset = (guint16)MIN(p->msg_offset, p->text_len);
	self->text_len = (guint32)p->text_len;
	self->raw_len = (guint32)p->raw_len;
	self->dropped = p->dropped;
	self->seq = 0;
	self->host_time = p->host_time;
	self->device_ms = p->device_ms;
	self->device_id = g_ref_string_new_intern(p->device_id != NULL ? p->device_id : "");
	self->spans = (FleetLogSpan *)self->data;
	if (p->n_spans > 0)
		memcpy(self->spans, p->spans, p->n_spans * sizeof(FleetLogSpan));
	at = (gchar *)(self->spans + p->n_spans);
	memcpy(at, p->text, p->text_len);
	at[p->text_len] = '\0';
	self->text = at;
	at += p->text_len + 1;
	self->tag = NULL;
	if (p->tag != NULL) {
		memcpy(at, p->tag, p->tag_len);
		at[p->tag_len] = '\0';
		self->tag = at;
		at += p->tag_len + 1;
	}
	self->raw = NULL;
	if (p->raw != NULL) {
		memcpy(at, p->raw, p->raw_len);
		at[p->raw_len] = '\0';
		self->raw = at;
	}
	return self;
}

static gboolean
fleet_log_ends_with_reset(const guint8 *data, gsize len)
{
	return len >= 4 && memcmp(data + len - 4, "\033[0m", 4) == 0;
}

FleetLogLine *
fleet_log_line_parse(const gchar *device_id, gint64 host_time, const guint8 *data, gsize len)
{
	g_autofree FleetLogBuilder *b = g_new(FleetLogBuilder, 1);
	FleetLogLineParts parts = {0};
	FleetLogPrefix prefix = {FLEET_LOG_LEVEL_NONE, -1, 0, 0, 0};
	gboolean have_prefix;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	len = MIN(len, (gsize)FLEET_LOG_LINE_MAX);
	fleet_log_builder_init(b);
	fleet_log_builder_feed(b, data, len);

	parts.device_id = device_id;
	parts.host_time = host_time;
	parts.kind = FLEET_LOG_LINE_KIND_TEXT;
	parts.text = b->text;
	parts.text_len = b->text_len;
	parts.spans = b->spans;
	parts.n_spans = b->n_spans;
	parts.device_ms = -1;

	have_prefix = fleet_log_parse_idf(b->text, b->text_len, &prefix) ||
		      fleet_log_parse_arduino(b->text, b->text_len, &prefix);
	if (have_prefix) {
		parts.level = prefix.level;
		parts.device_ms = prefix.device_ms;
		parts.tag = b->text + prefix.tag_start;
		parts.tag_len = prefix.tag_len;
		parts.msg_offset = prefix.msg_offset;
	} else if (fleet_log_parse_dropped(b->text, b->text_len, &parts.dropped)) {
		parts.kind = FLEET_LOG_LINE_KIND_DROPPED;
		parts.level = FLEET_LOG_LEVEL_WARN;
	}

	/* keep the raw bytes only when the text and spans cannot give them back */
	if (fleet_log_ends_with_reset(data, len))
		parts.flags |= FLEET_LOG_LINE_FLAG_TRAILING_RESET;
	if (!b->lossy) {
		g_autoptr(GString) again = g_string_sized_new(len + 16);
		fleet_log_ansi_append(again, b->text, b->text_len, b->spans, b->n_spans,
				      (parts.flags & FLEET_LOG_LINE_FLAG_TRAILING_RESET) != 0);
		if (again->len != len || memcmp(again->str, data, len) != 0)
			b->lossy = TRUE;
	}
	if (b->lossy) {
		parts.raw = (const gchar *)data;
		parts.raw_len = len;
		parts.flags = 0;
	}
	return fleet_log_line_pack(&parts);
}

/* sanitised copy of engine or syslog text (no colours), into @b */
static void
fleet_log_builder_plain(FleetLogBuilder *b, const gchar *text)
{
	gsize len = text != NULL ? strlen(text) : 0;
	fleet_log_builder_init(b);
	fleet_log_builder_feed(b, (const guint8 *)(text != NULL ? text : ""),
			       MIN(len, (gsize)FLEET_LOG_LINE_MAX));
}

FleetLogLine *
fleet_log_line_new_event(const gchar *device_id,
			 gint64 host_time,
			 FleetLogLineKind kind,
			 FleetLogLevel level,
			 const gchar *text)
{
	g_autofree FleetLogBuilder *b = g_new(FleetLogBuilder, 1);
	FleetLogLineParts parts = {0};

	fleet_log_builder_plain(b, text);
	parts.device_id = device_id;
	parts.host_time = host_time;
	parts.kind = kind;
	parts.level = level;
	parts.device_ms = -1;
	parts.text = b->text;
	parts.text_len = b->text_len;
	parts.spans = b->spans;
	parts.n_spans = b->n_spans;
	return fleet_log_line_pack(&parts);
}

FleetLogLine *
fleet_log_line_new_full(const gchar *device_id,
			gint64 host_time,
			FleetLogLevel level,
			const gchar *tag,
			gint64 device_ms,
			const gchar *text,
			gsize msg_offset)
{
	g_autofree FleetLogBuilder *b = g_new(FleetLogBuilder, 1);
	g_autofree gchar *safe_tag = NULL;
	FleetLogLineParts parts = {0};
	gsize prefix_len = 0;

	/* the offset counts bytes of @text: escapes in front of it move it */
	if (text != NULL && msg_offset > 0) {
		g_autofree FleetLogBuilder *pb = g_new(FleetLogBuilder, 1);
		g_autofree gchar *head = g_strndup(text, msg_offset);
		fleet_log_builder_plain(pb, head);
		prefix_len = pb->text_len;
	}
	fleet_log_builder_plain(b, text);
	if (tag != NULL) {
		g_autofree FleetLogBuilder *tb = g_new(FleetLogBuilder, 1);
		fleet_log_builder_plain(tb, tag);
		safe_tag = g_strndup(tb->text, MIN(tb->text_len, (gsize)FLEET_LOG_TAG_MAX));
	}
	parts.device_id = device_id;
	parts.host_time = host_time;
	parts.kind = FLEET_LOG_LINE_KIND_TEXT;
	parts.level = level;
	parts.device_ms = device_ms;
	parts.text = b->text;
	parts.text_len = b->text_len;
	parts.tag = safe_tag;
	parts.tag_len = safe_tag != NULL ? strlen(safe_tag) : 0;
	parts.msg_offset = MIN(prefix_len, G_MAXUINT16);
	parts.spans = b->spans;
	parts.n_spans = b->n_spans;
	return fleet_log_line_pack(&parts);
}

FleetLogLine *
fleet_log_line_ref(FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->ref_count);
	return self;
}

void
fleet_log_line_unref(FleetLogLine *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->ref_count))
		return;
	g_ref_string_release(self->device_id);
	g_free(self);
}

const gchar *
fleet_log_line_get_device_id(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->device_id;
}

gint64
fleet_log_line_get_host_time(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->host_time;
}

gint64
fleet_log_line_get_device_ms(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, -1);
	return self->device_ms;
}

FleetLogLevel
fleet_log_line_get_level(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, FLEET_LOG_LEVEL_NONE);
	return (FleetLogLevel)self->level;
}

FleetLogLineKind
fleet_log_line_get_kind(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, FLEET_LOG_LINE_KIND_TEXT);
	return (FleetLogLineKind)self->kind;
}

const gchar *
fleet_log_line_get_tag(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->tag;
}

const gchar *
fleet_log_line_get_text(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->text;
}

gsize
fleet_log_line_get_text_len(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->text_len;
}

const gchar *
fleet_log_line_get_message(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->text + self->msg_offset;
}

const FleetLogSpan *
fleet_log_line_get_spans(const FleetLogLine *self, guint *n_spans)
{
	g_return_val_if_fail(self != NULL, NULL);
	if (n_spans != NULL)
		*n_spans = self->n_spans;
	return self->spans;
}

guint
fleet_log_line_get_dropped(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->dropped;
}

GBytes *
fleet_log_line_get_raw(const FleetLogLine *self)
{
	GString *out;
	g_return_val_if_fail(self != NULL, NULL);
	if (self->raw != NULL)
		return g_bytes_new(self->raw, self->raw_len);
	out = g_string_sized_new(self->text_len + 16);
	fleet_log_ansi_append(out, self->text, self->text_len, self->spans, self->n_spans,
			      (self->flags & FLEET_LOG_LINE_FLAG_TRAILING_RESET) != 0);
	return g_string_free_to_bytes(out);
}

guint64
fleet_log_line_get_seq(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->seq;
}

void
fleet_log_line_set_seq(FleetLogLine *self, guint64 seq)
{
	g_return_if_fail(self != NULL);
	self->seq = seq;
}

/* where @needle first occurs in hay[from…len), -1 when it does not */
static gssize
fleet_log_find(const gchar *hay, gsize len, gsize from, const gchar *needle, gsize nlen)
{
	for (gsize i = from; i + nlen <= len; i++) {
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return (gssize)i;
	}
	return -1;
}

static gboolean
fleet_log_is_continuation(const gchar *hay, gsize len, gsize at)
{
	return at < len && ((guchar)hay[at] & 0xc0) == 0x80;
}

/*
 * @hay with every secret replaced by asterisks of the same length; NULL when none occurs.
 * In text (@utf8) only whole characters match, so the result stays valid UTF-8.
 */
static gchar *
fleet_log_redact(const gchar *hay, gsize len, GPtrArray *secrets, gboolean utf8)
{
	gchar *copy = NULL;
	for (guint i = 0; i < secrets->len; i++) {
		const gchar *secret = g_ptr_array_index(secrets, i);
		gsize slen = strlen(secret);
		gssize at;
		gsize from = 0;
		if (slen == 0)
			continue;
		while ((at = fleet_log_find(copy != NULL ? copy : hay, len, from, secret, slen)) >=
		       0) {
			if (utf8 && (fleet_log_is_continuation(hay, len, (gsize)at) ||
				     fleet_log_is_continuation(hay, len, (gsize)at + slen))) {
				from = (gsize)at + 1;
				continue;
			}
			if (copy == NULL) {
				copy = g_malloc(len + 1);
				memcpy(copy, hay, len);
				copy[len] = '\0';
			}
			memset(copy + at, '*', slen);
			from = (gsize)at + slen;
		}
	}
	return copy;
}

FleetLogLine *
fleet_log_line_dup_redacted(const FleetLogLine *self, GPtrArray *secrets)
{
	g_autofree gchar *text = NULL;
	g_autofree gchar *tag = NULL;
	g_autofree gchar *raw = NULL;
	g_autoptr(GBytes) raw_bytes = NULL;
	FleetLogLineParts parts = {0};
	gsize raw_len = 0;

	g_return_val_if_fail(self != NULL, NULL);
	if (secrets == NULL || secrets->len == 0)
		return NULL;
	text = fleet_log_redact(self->text, self->text_len, secrets, TRUE);
	if (self->tag != NULL)
		tag = fleet_log_redact(self->tag, strlen(self->tag), secrets, TRUE);
	raw_bytes = fleet_log_line_get_raw(self);
	raw_len = g_bytes_get_size(raw_bytes);
	raw = fleet_log_redact(g_bytes_get_data(raw_bytes, NULL), raw_len, secrets, FALSE);
	if (text == NULL && tag == NULL && raw == NULL)
		return NULL;

	parts.device_id = self->device_id;
	parts.host_time = self->host_time;
	parts.kind = (FleetLogLineKind)self->kind;
	parts.level = (FleetLogLevel)self->level;
	parts.device_ms = self->device_ms;
	parts.text = text != NULL ? text : self->text;
	parts.text_len = self->text_len;
	parts.tag = tag != NULL ? tag : self->tag;
	parts.tag_len = self->tag != NULL ? strlen(self->tag) : 0;
	parts.msg_offset = self->msg_offset;
	/* a secret cut in two by a colour code is still masked in the raw copy */
	parts.raw = raw != NULL ? raw : g_bytes_get_data(raw_bytes, NULL);
	parts.raw_len = raw_len;
	parts.spans = self->spans;
	parts.n_spans = self->n_spans;
	parts.dropped = self->dropped;
	return fleet_log_line_pack(&parts);
}

gchar
fleet_log_level_to_char(FleetLogLevel level)
{
	static const gchar letters[] = " EWIDV";
	return (guint)level < sizeof(letters) - 1 ? letters[level] : ' ';
}

gboolean
fleet_log_level_from_string(const gchar *text, FleetLogLevel *level)
{
	static const gchar *const names[] = {NULL, "error", "warn", "info", "debug", "verbose"};
	g_return_val_if_fail(level != NULL, FALSE);
	if (text == NULL)
		return FALSE;
	if (strlen(text) == 1) {
		FleetLogLevel l = fleet_log_level_from_letter(g_ascii_toupper(text[0]));
		if (l == FLEET_LOG_LEVEL_NONE)
			return FALSE;
		*level = l;
		return TRUE;
	}
	for (guint i = 1; i < G_N_ELEMENTS(names); i++) {
		if (g_ascii_strcasecmp(text, names[i]) == 0 ||
		    (i == FLEET_LOG_LEVEL_WARN && g_ascii_strcasecmp(text, "warning") == 0)) {
			*level = (FleetLogLevel)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* "12:34:56.789" in local time; the time zone offset is looked up once per second */
static void
fleet_log_append_host_time(GString *out, gint64 host_time)
{
	static gint64 cached_second = G_MININT64;
	static gchar cached[16];
	gint64 second = host_time / G_USEC_PER_SEC;
	if (second != cached_second) {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(second);
		if (dt == NULL) {
			g_string_append(out, "--:--:--.---");
			return;
		}
		g_snprintf(cached, sizeof(cached), "%02d:%02d:%02d", g_date_time_get_hour(dt),
			   g_date_time_get_minute(dt), g_date_time_get_second(dt));
		cached_second = second;
	}
	g_string_append_printf(out, "%s.%03d", cached, (gint)((host_time / 1000) % 1000));
}

static const gchar *
fleet_log_level_color(const FleetLogLine *self)
{
	if (self->kind != FLEET_LOG_LINE_KIND_TEXT)
		return "\033[0;36m";
	switch ((FleetLogLevel)self->level) {
	case FLEET_LOG_LEVEL_ERROR:
		return "\033[0;31m";
	case FLEET_LOG_LEVEL_WARN:
		return "\033[0;33m";
	case FLEET_LOG_LEVEL_DEBUG:
	case FLEET_LOG_LEVEL_VERBOSE:
		return "\033[0;2m";
	case FLEET_LOG_LEVEL_INFO:
	case FLEET_LOG_LEVEL_NONE:
	default:
		return NULL;
	}
}

/* @name sanitised, cut or padded to FLEET_LOG_DEVICE_COLUMN characters */
static gchar *
fleet_log_device_column(const gchar *name)
{
	g_autofree gchar *safe = fleet_text_sanitize(name, -1, 0);
	glong chars = g_utf8_strlen(safe, -1);
	GString *out = g_string_new(NULL);
	if (chars > FLEET_LOG_DEVICE_COLUMN) {
		const gchar *cut = g_utf8_offset_to_pointer(safe, FLEET_LOG_DEVICE_COLUMN - 1);
		g_string_append_len(out, safe, cut - safe);
		g_string_append(out, "…");
	} else {
		g_string_append(out, safe);
		for (glong i = chars; i < FLEET_LOG_DEVICE_COLUMN; i++)
			g_string_append_c(out, ' ');
	}
	return g_string_free(out, FALSE);
}

void
fleet_log_line_format(const FleetLogLine *self,
		      const gchar *device_name,
		      FleetLogFormatFlags flags,
		      GString *out)
{
	gboolean color = (flags & FLEET_LOG_FORMAT_COLOR) != 0;

	g_return_if_fail(self != NULL);
	g_return_if_fail(out != NULL);

	if (flags & FLEET_LOG_FORMAT_HOST_TIME) {
		if (color)
			g_string_append(out, "\033[2m");
		fleet_log_append_host_time(out, self->host_time);
		g_string_append(out, color ? "\033[0m " : " ");
	}
	if (flags & FLEET_LOG_FORMAT_DEVICE) {
		g_autofree gchar *name =
		    fleet_log_device_column(device_name != NULL ? device_name : self->device_id);
		if (color)
			g_string_append(out, "\033[1m");
		g_string_append(out, name);
		g_string_append(out, color ? "\033[0m " : " ");
	}
	/* what the viewer says stands apart from what the device said, as in idf.py monitor */
	if (self->kind == FLEET_LOG_LINE_KIND_EVENT)
		g_string_append(out, "--- ");
	if (color && self->n_spans > 0) {
		fleet_log_ansi_append(out, self->text, self->text_len, self->spans, self->n_spans,
				      FALSE);
	} else if (color && fleet_log_level_color(self) != NULL) {
		g_string_append(out, fleet_log_level_color(self));
		g_string_append_len(out, self->text, self->text_len);
		g_string_append(out, "\033[0m");
	} else {
		g_string_append_len(out, self->text, self->text_len);
	}
	g_string_append_c(out, '\n');
}
