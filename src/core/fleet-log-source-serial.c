/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-source-serial.c - a local serial port as a log source, surviving unplug */

#include "config.h"

#include "fleet-log-source-serial.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "fleet-error.h"
#include "fleet-log-source-private.h"

#define FLEET_LOG_SERIAL_CHUNK 4096
#define FLEET_LOG_SERIAL_READ_BUDGET (64 * 1024)

/*
 * Linux takes any rate through termios2 and BOTHER. <asm/termbits.h> cannot be included
 * next to <termios.h>, so the generic layout is declared here for the architectures that
 * use it.
 */
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) ||     \
			   defined(__arm__) || defined(__riscv))
#define FLEET_HAVE_TERMIOS2 1
struct fleet_termios2 {
	tcflag_t c_iflag;
	tcflag_t c_oflag;
	tcflag_t c_cflag;
	tcflag_t c_lflag;
	cc_t c_line;
	cc_t c_cc[19];
	speed_t c_ispeed;
	speed_t c_ospeed;
};
#define FLEET_TCGETS2 _IOR('T', 0x2A, struct fleet_termios2)
#define FLEET_TCSETS2 _IOW('T', 0x2B, struct fleet_termios2)
#define FLEET_BOTHER 0x00001000
#define FLEET_CBAUD 0x0000100f
#endif

struct _FleetLogSourceSerial {
	FleetLogSource parent_instance;
	gchar *path;
	gchar *device_id;
	guint baud;
	gboolean dtr;
	gboolean rts;
	gboolean started;
	gint fd;
	guint read_id;
	guint reset_id;
	guint n_opens;
	guint8 buf[FLEET_LOG_SERIAL_CHUNK];
};

G_DEFINE_TYPE(FleetLogSourceSerial, fleet_log_source_serial, FLEET_TYPE_LOG_SOURCE)

gchar *
fleet_log_source_serial_id_for_path(const gchar *path)
{
	g_return_val_if_fail(path != NULL, NULL);
	return g_strdup_printf("serial:%s", path);
}

const gchar *
fleet_log_source_serial_get_path(FleetLogSourceSerial *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), NULL);
	return self->path;
}

const gchar *
fleet_log_source_serial_get_device_id(FleetLogSourceSerial *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), NULL);
	return self->device_id;
}

guint
fleet_log_source_serial_get_baud(FleetLogSourceSerial *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), 0);
	return self->baud;
}

gboolean
fleet_log_source_serial_get_dtr(FleetLogSourceSerial *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), FALSE);
	return self->dtr;
}

gboolean
fleet_log_source_serial_get_rts(FleetLogSourceSerial *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), FALSE);
	return self->rts;
}

guint
fleet_log_source_serial_get_n_opens(FleetLogSourceSerial *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), 0);
	return self->n_opens;
}

static speed_t
fleet_log_serial_speed(guint baud)
{
	static const struct {
		guint baud;
		speed_t speed;
	} speeds[] = {
	    {50, B50},		 {75, B75},	      {110, B110},	   {134, B134},
	    {150, B150},	 {200, B200},	      {300, B300},	   {600, B600},
	    {1200, B1200},	 {1800, B1800},	      {2400, B2400},	   {4800, B4800},
	    {9600, B9600},	 {19200, B19200},     {38400, B38400},	   {57600, B57600},
	    {115200, B115200},	 {230400, B230400},   {460800, B460800},   {500000, B500000},
	    {576000, B576000},	 {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
	    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
	    {3500000, B3500000}, {4000000, B4000000},
	};
	for (guint i = 0; i < G_N_ELEMENTS(speeds); i++) {
		if (speeds[i].baud == baud)
			return speeds[i].speed;
	}
	return B0;
}

/* raw 8N1 without flow control at @baud */
static gboolean
fleet_log_serial_configure(gint fd, guint baud, GError **error)
{
	struct termios t;
	speed_t speed = fleet_log_serial_speed(baud);

	if (tcgetattr(fd, &t) != 0) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
			    _("This is not a serial port: %s"), g_strerror(errno));
		return FALSE;
	}
	cfmakeraw(&t);
	t.c_cflag &= (tcflag_t) ~(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= (tcflag_t) ~(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (speed != B0) {
		cfsetispeed(&t, speed);
		cfsetospeed(&t, speed);
	}
	if (tcsetattr(fd, TCSANOW, &t) != 0) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
			    _("Cannot set up the serial port: %s"), g_strerror(errno));
		return FALSE;
	}
	if (speed != B0)
		return TRUE;
#ifdef FLEET_HAVE_TERMIOS2
	{
		struct fleet_termios2 t2;
		if (ioctl(fd, FLEET_TCGETS2, &t2) == 0) {
			t2.c_cflag &= (tcflag_t)~FLEET_CBAUD;
			t2.c_cflag |= FLEET_BOTHER;
			t2.c_ispeed = baud;
			t2.c_ospeed = baud;
			if (ioctl(fd, FLEET_TCSETS2, &t2) == 0)
				return TRUE;
		}
	}
#endif
	g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
		    _("The serial port does not support %u baud"), baud);
	return FALSE;
}

static gboolean
fleet_log_serial_modem_lines(gint fd, gboolean dtr, gboolean rts, GError **error)
{
	gint set = (dtr ? TIOCM_DTR : 0) | (rts ? TIOCM_RTS : 0);
	gint clear = (dtr ? 0 : TIOCM_DTR) | (rts ? 0 : TIOCM_RTS);
	if ((set != 0 && ioctl(fd, TIOCMBIS, &set) != 0) ||
	    (clear != 0 && ioctl(fd, TIOCMBIC, &clear) != 0)) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
			    _("This port has no modem control lines (DTR/RTS): %s"),
			    g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static void
fleet_log_source_serial_close(FleetLogSourceSerial *self)
{
	g_clear_handle_id(&self->read_id, g_source_remove);
	g_clear_handle_id(&self->reset_id, g_source_remove);
	fleet_log_source_input_close(FLEET_LOG_SOURCE(self));
	if (self->fd >= 0) {
		close(self->fd);
		self->fd = -1;
	}
}

/* polls for the port; an attempt already planned keeps its time */
static void
fleet_log_source_serial_wait_for_port(FleetLogSourceSerial *self, const gchar *status)
{
	FleetLogSource *source = FLEET_LOG_SOURCE(self);
	fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_WAITING, status);
	if (!fleet_log_source_retry_pending(source))
		fleet_log_source_retry_after(source, FLEET_LOG_SERIAL_REOPEN_MS);
}

/* the adapter went away (unplugged, or the other end of a pty closed) */
static void
fleet_log_source_serial_lost(FleetLogSourceSerial *self, const gchar *reason)
{
	fleet_log_source_input_flush(FLEET_LOG_SOURCE(self));
	fleet_log_source_serial_close(self);
	fleet_log_source_mark_lost(FLEET_LOG_SOURCE(self), reason);
	fleet_log_source_serial_wait_for_port(self,
					      _("Port unplugged; waiting for it to come back"));
}

static gboolean
fleet_log_source_serial_read_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	FleetLogSourceSerial *self = FLEET_LOG_SOURCE_SERIAL(user_data);
	gsize budget = FLEET_LOG_SERIAL_READ_BUDGET;

	while (budget > 0) {
		gssize n = read(fd, self->buf, sizeof(self->buf));
		if (n > 0) {
			fleet_log_source_input_feed(FLEET_LOG_SOURCE(self), self->buf, (gsize)n,
						    NULL);
			budget -= MIN((gsize)n, budget);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		self->read_id = 0;
		/* TRANSLATORS: why a serial port stopped delivering */
		fleet_log_source_serial_lost(self,
					     n == 0 ? _("the port was closed") : g_strerror(errno));
		return G_SOURCE_REMOVE;
	}
	fleet_log_source_input_read_done(FLEET_LOG_SOURCE(self));
	return G_SOURCE_CONTINUE;
}

static void
fleet_log_source_serial_try_open(FleetLogSourceSerial *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	gint fd;

	if (!self->started || self->fd >= 0)
		return;
	fd = open(self->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		gint saved = errno;
		/* TRANSLATORS: %s is a serial port such as /dev/ttyUSB0, then the reason */
		text = g_strdup_printf(_("Cannot open %s: %s"), self->path, g_strerror(saved));
		fleet_log_source_mark_failure(FLEET_LOG_SOURCE(self), text);
		fleet_log_source_serial_wait_for_port(self, text);
		return;
	}
	/* one monitor per port, as a second reader would steal bytes */
	(void)ioctl(fd, TIOCEXCL);
	if (!fleet_log_serial_configure(fd, self->baud, &error)) {
		close(fd);
		fleet_log_source_mark(FLEET_LOG_SOURCE(self), FLEET_LOG_LEVEL_ERROR,
				      error->message);
		fleet_log_source_retry_cancel(FLEET_LOG_SOURCE(self));
		fleet_log_source_set_state(FLEET_LOG_SOURCE(self), FLEET_LOG_SOURCE_STATE_FAILED,
					   error->message);
		return;
	}
	/* many adapters raise DTR and RTS on open, which holds an ESP in reset */
	if (!fleet_log_serial_modem_lines(fd, self->dtr, self->rts, &error))
		g_debug("%s: %s", self->path, error->message);
	self->fd = fd;
	self->n_opens++;
	fleet_log_source_retry_cancel(FLEET_LOG_SOURCE(self));
	fleet_log_source_input_open(FLEET_LOG_SOURCE(self), FALSE);
	self->read_id =
	    g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, fleet_log_source_serial_read_cb, self);
	fleet_log_source_set_state(FLEET_LOG_SOURCE(self), FLEET_LOG_SOURCE_STATE_RUNNING, NULL);
	if (!fleet_log_source_clear_failure(FLEET_LOG_SOURCE(self)) && self->n_opens == 1) {
		/* TRANSLATORS: the first line of a serial log: a port and its baud rate */
		text = g_strdup_printf(_("opened %s at %u baud"), self->path, self->baud);
	} else {
		/* TRANSLATORS: a serial port came back after it was unplugged */
		text = g_strdup_printf(_("reconnected: %s at %u baud"), self->path, self->baud);
	}
	fleet_log_source_mark(FLEET_LOG_SOURCE(self), FLEET_LOG_LEVEL_INFO, text);
}

gboolean
fleet_log_source_serial_set_baud(FleetLogSourceSerial *self, guint baud, GError **error)
{
	g_autofree gchar *text = NULL;
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), FALSE);
	g_return_val_if_fail(baud > 0, FALSE);
	if (self->fd >= 0 && !fleet_log_serial_configure(self->fd, baud, error))
		return FALSE;
	if (baud == self->baud)
		return TRUE;
	self->baud = baud;
	if (self->fd >= 0) {
		/* TRANSLATORS: marks a baud rate change in a serial log */
		text = g_strdup_printf(_("now at %u baud"), baud);
		fleet_log_source_mark(FLEET_LOG_SOURCE(self), FLEET_LOG_LEVEL_INFO, text);
	}
	return TRUE;
}

gboolean
fleet_log_source_serial_set_modem_lines(FleetLogSourceSerial *self,
					gboolean dtr,
					gboolean rts,
					GError **error)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), FALSE);
	if (self->fd >= 0 && !fleet_log_serial_modem_lines(self->fd, dtr, rts, error))
		return FALSE;
	self->dtr = dtr;
	self->rts = rts;
	return TRUE;
}

static gboolean
fleet_log_source_serial_reset_done_cb(gpointer user_data)
{
	FleetLogSourceSerial *self = FLEET_LOG_SOURCE_SERIAL(user_data);
	g_autoptr(GError) error = NULL;
	self->reset_id = 0;
	if (self->fd >= 0 && !fleet_log_serial_modem_lines(self->fd, self->dtr, self->rts, &error))
		g_debug("%s: %s", self->path, error->message);
	return G_SOURCE_REMOVE;
}

gboolean
fleet_log_source_serial_reset_device(FleetLogSourceSerial *self, GError **error)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SERIAL(self), FALSE);
	if (self->fd < 0) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
			    _("The serial port %s is not open"), self->path);
		return FALSE;
	}
	/* GPIO0 high (DTR off) so the chip boots its app, EN low (RTS on) */
	if (!fleet_log_serial_modem_lines(self->fd, FALSE, TRUE, error))
		return FALSE;
	/* TRANSLATORS: marks a device reset in a serial log */
	fleet_log_source_mark(FLEET_LOG_SOURCE(self), FLEET_LOG_LEVEL_INFO, _("reset (RTS pulse)"));
	g_clear_handle_id(&self->reset_id, g_source_remove);
	self->reset_id =
	    g_timeout_add(FLEET_LOG_SERIAL_RESET_MS, fleet_log_source_serial_reset_done_cb, self);
	return TRUE;
}

static void
fleet_log_source_serial_start(FleetLogSource *source)
{
	FleetLogSourceSerial *self = FLEET_LOG_SOURCE_SERIAL(source);
	if (self->started)
		return;
	self->started = TRUE;
	fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_CONNECTING, NULL);
	fleet_log_source_serial_try_open(self);
}

static void
fleet_log_source_serial_stop(FleetLogSource *source)
{
	FleetLogSourceSerial *self = FLEET_LOG_SOURCE_SERIAL(source);
	if (!self->started)
		return;
	fleet_log_source_input_flush(source);
	self->started = FALSE;
	fleet_log_source_retry_cancel(source);
	fleet_log_source_serial_close(self);
	fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_STOPPED, NULL);
}

static gchar *
fleet_log_source_serial_describe(FleetLogSource *source)
{
	FleetLogSourceSerial *self = FLEET_LOG_SOURCE_SERIAL(source);
	/* TRANSLATORS: a log source: a serial port and its baud rate */
	return g_strdup_printf(_("Serial %s at %u baud"), self->path, self->baud);
}

static const gchar *
fleet_log_source_serial_source_device_id(FleetLogSource *source)
{
	return fleet_log_source_serial_get_device_id(FLEET_LOG_SOURCE_SERIAL(source));
}

static void
fleet_log_source_serial_reconnect(FleetLogSource *source)
{
	fleet_log_source_serial_try_open(FLEET_LOG_SOURCE_SERIAL(source));
}

static void
fleet_log_source_serial_dispose(GObject *object)
{
	FleetLogSourceSerial *self = FLEET_LOG_SOURCE_SERIAL(object);
	self->started = FALSE;
	fleet_log_source_serial_close(self);
	G_OBJECT_CLASS(fleet_log_source_serial_parent_class)->dispose(object);
}

static void
fleet_log_source_serial_finalize(GObject *object)
{
	FleetLogSourceSerial *self = FLEET_LOG_SOURCE_SERIAL(object);
	g_free(self->path);
	g_free(self->device_id);
	G_OBJECT_CLASS(fleet_log_source_serial_parent_class)->finalize(object);
}

static void
fleet_log_source_serial_class_init(FleetLogSourceSerialClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	FleetLogSourceClass *source_class = FLEET_LOG_SOURCE_CLASS(klass);
	object_class->dispose = fleet_log_source_serial_dispose;
	object_class->finalize = fleet_log_source_serial_finalize;
	source_class->start = fleet_log_source_serial_start;
	source_class->stop = fleet_log_source_serial_stop;
	source_class->describe = fleet_log_source_serial_describe;
	source_class->get_device_id = fleet_log_source_serial_source_device_id;
	source_class->reconnect = fleet_log_source_serial_reconnect;
}

static void
fleet_log_source_serial_init(FleetLogSourceSerial *self)
{
	self->fd = -1;
	self->baud = FLEET_LOG_SERIAL_BAUD_DEFAULT;
}

FleetLogSourceSerial *
fleet_log_source_serial_new(const gchar *path, guint baud, const gchar *device_id)
{
	FleetLogSourceSerial *self;
	g_return_val_if_fail(path != NULL, NULL);
	self = g_object_new(FLEET_TYPE_LOG_SOURCE_SERIAL, NULL);
	self->path = g_strdup(path);
	self->baud = baud > 0 ? baud : FLEET_LOG_SERIAL_BAUD_DEFAULT;
	self->device_id =
	    device_id != NULL ? g_strdup(device_id) : fleet_log_source_serial_id_for_path(path);
	return self;
}
