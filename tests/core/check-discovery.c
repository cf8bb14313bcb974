/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-discovery.c - device identity, online tracking and the Avahi client, without a real daemon
 */

#include <avahi-common/strlst.h>
#include <check.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-discovery.h"
#include "fleet-error.h"

/*
 * Nothing here talks to this machine's avahi-daemon or sends multicast: main() points
 * DBUS_SYSTEM_BUS_ADDRESS at a socket that does not exist, and the client tests run a
 * private dbus-daemon (GTestDBus) with a fake org.freedesktop.Avahi on it.
 */

#define NOT_RUNNING                                                                                \
	"avahi-daemon is not running: start it with 'systemctl start avahi-daemon', or add "       \
	"devices by address"

#define WAIT_FOR(cond, ms)                                                                         \
	G_STMT_START                                                                               \
	{                                                                                          \
		gint64 _end = g_get_monotonic_time() + (gint64)(ms)*1000;                          \
		while (!(cond) && g_get_monotonic_time() < _end) {                                 \
			if (!g_main_context_iteration(NULL, FALSE))                                \
				g_usleep(1000);                                                    \
		}                                                                                  \
	}                                                                                          \
	G_STMT_END

/* run the main loop for @ms without waiting for anything */
static void
spin(guint ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	while (g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
}

/* a TXT record in wire format, built by Avahi as the resolver callback would get it */
static GBytes *
txt_wire(const gchar *first, ...)
{
	va_list ap;
	AvahiStringList *list = NULL;
	gsize len;
	guint8 *buf;

	/* Avahi keeps the list reversed and serializes it in announcement order */
	if (first != NULL) {
		list = avahi_string_list_add(NULL, first);
		va_start(ap, first);
		list = avahi_string_list_add_many_va(list, ap);
		va_end(ap);
	}
	len = avahi_string_list_serialize(list, NULL, 0);
	buf = g_malloc(len);
	len = avahi_string_list_serialize(list, buf, len);
	avahi_string_list_free(list);
	return g_bytes_new_take(buf, len);
}

static FleetDevice *
resolved(
    FleetDiscovery *disc, const gchar *instance, const gchar *address, guint16 port, GBytes *txt)
{
	g_autofree gchar *host = g_strconcat(instance, ".local", NULL);
	gsize len = 0;
	const guint8 *data = txt != NULL ? g_bytes_get_data(txt, &len) : NULL;
	return fleet_discovery_service_resolved(disc, instance, host, address, port, data, len);
}

static FleetDiscovery *
new_discovery(void)
{
	g_autoptr(FleetDeviceList) list = fleet_device_list_new();
	return fleet_discovery_new(list);
}

static guint
n_devices(FleetDiscovery *disc)
{
	return g_list_model_get_n_items(G_LIST_MODEL(fleet_discovery_get_devices(disc)));
}

static void
count_notify(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	(*(guint *)user_data)++;
}

START_TEST(test_txt_fields)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GBytes) txt =
	    txt_wire("board=esp32dev", "tcp_check=no", "ssh_upload=no", "auth_upload=yes",
		     "fw_version=1.2.3", "fw_sha256=ABCDEF0123456789", "http_update=/update",
		     "log_port=2323", "mac=24:0A:C4:12:34:56", "chip=esp32", NULL);
	FleetDevice *dev = resolved(disc, "esp32-lab", "198.18.0.13", 3232, txt);

	ck_assert_ptr_nonnull(dev);
	ck_assert_uint_eq(n_devices(disc), 1);
	ck_assert_str_eq(fleet_device_get_id(dev), "mac:24:0a:c4:12:34:56");
	ck_assert_int_eq(fleet_device_get_source(dev), FLEET_DEVICE_SOURCE_MDNS);
	ck_assert_str_eq(fleet_device_get_name(dev), "esp32-lab");
	ck_assert_str_eq(fleet_device_get_hostname(dev), "esp32-lab.local");
	ck_assert_str_eq(fleet_device_get_address(dev), "198.18.0.13");
	ck_assert_uint_eq(fleet_device_get_ota_port(dev), 3232);
	ck_assert_str_eq(fleet_device_get_board(dev), "esp32dev");
	ck_assert_str_eq(fleet_device_get_chip(dev), "esp32");
	ck_assert(fleet_device_get_needs_password(dev));
	ck_assert_str_eq(fleet_device_get_fw_version(dev), "1.2.3");
	ck_assert_str_eq(fleet_device_get_fw_sha256(dev), "abcdef0123456789");
	ck_assert_str_eq(fleet_device_get_http_path(dev), "/update");
	ck_assert_uint_eq(fleet_device_get_http_port(dev), 80);
	ck_assert_uint_eq(fleet_device_get_log_port(dev), 2323);
	ck_assert_uint_eq(fleet_device_get_protocols(dev),
			  FLEET_PROTOCOL_ESPOTA | FLEET_PROTOCOL_HTTP);
	ck_assert(fleet_device_get_online(dev));
	ck_assert_int_gt(fleet_device_get_last_seen(dev), 0);
}
END_TEST

/* a stock ESP8266 ArduinoOTA sketch (espota.md §7): no MAC, so the instance name is the id */
START_TEST(test_stock_esp8266)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GBytes) txt = txt_wire("tcp_check=no", "ssh_upload=no",
					 "board=ESP8266_WEMOS_D1MINI", "auth_upload=no", NULL);
	FleetDevice *dev = resolved(disc, "esp8266-1a2b3c", "198.18.0.20", 8266, txt);

	ck_assert_str_eq(fleet_device_get_id(dev), "name:esp8266-1a2b3c");
	ck_assert(!fleet_device_get_needs_password(dev));
	ck_assert_uint_eq(fleet_device_get_protocols(dev), FLEET_PROTOCOL_ESPOTA);
	ck_assert_uint_eq(fleet_device_get_ota_port(dev), 8266);
	ck_assert_str_eq(fleet_device_get_board(dev), "ESP8266_WEMOS_D1MINI");
	ck_assert_ptr_null(fleet_device_get_mac(dev));
	ck_assert_ptr_eq(
	    fleet_device_list_lookup(fleet_discovery_get_devices(disc), "name:esp8266-1a2b3c"),
	    dev);
}
END_TEST

/* first seen without a MAC, then with one: one row, same object, new id */
START_TEST(test_rekey_when_mac_appears)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	FleetDeviceList *list = fleet_discovery_get_devices(disc);
	g_autoptr(GBytes) plain = txt_wire("board=esp32dev", NULL);
	g_autoptr(GBytes) with_mac = txt_wire("board=esp32dev", "mac=a4cf12010203", NULL);
	g_autoptr(FleetDevice) first = NULL;
	FleetDevice *second;

	first = g_object_ref(resolved(disc, "esp32-a", "198.18.0.30", 3232, plain));
	ck_assert_str_eq(fleet_device_get_id(first), "name:esp32-a");
	second = resolved(disc, "esp32-a", "198.18.0.30", 3232, with_mac);
	ck_assert_ptr_eq(first, second);
	ck_assert_str_eq(fleet_device_get_id(second), "mac:a4:cf:12:01:02:03");
	ck_assert_uint_eq(n_devices(disc), 1);
	ck_assert_ptr_null(fleet_device_list_lookup(list, "name:esp32-a"));
	ck_assert_ptr_eq(fleet_device_list_lookup(list, "mac:a4:cf:12:01:02:03"), first);

	/* a later announcement without the MAC (other firmware) keeps the row */
	ck_assert_ptr_eq(resolved(disc, "esp32-a", "198.18.0.30", 3232, plain), first);
	ck_assert_uint_eq(n_devices(disc), 1);
}
END_TEST

/* a module renamed itself: the new name's row merges into the row that has its MAC */
START_TEST(test_rekey_merges_rows)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GBytes) mac = txt_wire("mac=a4:cf:12:01:02:04", NULL);
	g_autoptr(GBytes) plain = txt_wire("board=esp32dev", NULL);
	FleetDevice *old_row = resolved(disc, "kitchen", "198.18.0.31", 3232, mac);
	FleetDevice *merged;

	fleet_discovery_service_removed(disc, "kitchen", 2, 0);
	resolved(disc, "hallway", "198.18.0.31", 3232, plain);
	ck_assert_uint_eq(n_devices(disc), 2);
	merged = resolved(disc, "hallway", "198.18.0.31", 3232, mac);
	ck_assert_ptr_eq(merged, old_row);
	ck_assert_uint_eq(n_devices(disc), 1);
	ck_assert_str_eq(fleet_device_get_name(merged), "hallway");
}
END_TEST

/* the instance name moved to another module: two devices, the old one goes offline */
START_TEST(test_name_taken_by_other_module)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GBytes) mac1 = txt_wire("mac=02:00:00:00:00:01", NULL);
	g_autoptr(GBytes) mac2 = txt_wire("mac=02:00:00:00:00:02", NULL);
	FleetDevice *one = resolved(disc, "esp32-test", "198.18.0.40", 3232, mac1);
	FleetDevice *two = resolved(disc, "esp32-test", "198.18.0.41", 3232, mac2);

	ck_assert_ptr_ne(one, two);
	ck_assert_uint_eq(n_devices(disc), 2);
	ck_assert(!fleet_device_get_online(one));
	ck_assert(fleet_device_get_online(two));
}
END_TEST

/* a reboot with a new DHCP lease: the same row, the new address */
START_TEST(test_new_address_same_row)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GBytes) txt = txt_wire("mac=02:00:00:00:00:10", "fw_version=1.0", NULL);
	g_autoptr(GBytes) txt2 = txt_wire("mac=02:00:00:00:00:10", "fw_version=2.0", NULL);
	FleetDevice *dev;
	guint version_notifies = 0;

	fleet_discovery_service_new(disc, "esp-dhcp", 2, 0);
	dev = resolved(disc, "esp-dhcp", "198.18.0.50", 3232, txt);
	g_signal_connect(dev, "notify::fw-version", G_CALLBACK(count_notify), &version_notifies);
	fleet_discovery_service_removed(disc, "esp-dhcp", 2, 0);
	fleet_discovery_service_new(disc, "esp-dhcp", 2, 0);
	ck_assert_ptr_eq(resolved(disc, "esp-dhcp", "198.18.0.77", 3232, txt2), dev);
	ck_assert_uint_eq(n_devices(disc), 1);
	ck_assert_str_eq(fleet_device_get_address(dev), "198.18.0.77");
	ck_assert_str_eq(fleet_device_get_fw_version(dev), "2.0");
	ck_assert_uint_eq(version_notifies, 1);
}
END_TEST

/* IPv6 only while there is no IPv4 address */
START_TEST(test_ipv4_preferred)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GBytes) txt = txt_wire("mac=02:00:00:00:00:20", NULL);
	FleetDevice *dev = resolved(disc, "esp-v6", "fe80::1%lan0", 3232, txt);

	ck_assert_str_eq(fleet_device_get_address(dev), "fe80::1%lan0");
	resolved(disc, "esp-v6", "198.18.0.60", 3232, txt);
	ck_assert_str_eq(fleet_device_get_address(dev), "198.18.0.60");
	resolved(disc, "esp-v6", "2001:db8::60", 3232, txt);
	ck_assert_str_eq(fleet_device_get_address(dev), "198.18.0.60");
}
END_TEST

START_TEST(test_last_seen_every_resolve)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	FleetDevice *dev = resolved(disc, "esp-seen", "198.18.0.70", 3232, NULL);
	gint64 first = fleet_device_get_last_seen(dev);
	guint notifies = 0;

	g_signal_connect(dev, "notify::last-seen", G_CALLBACK(count_notify), &notifies);
	g_usleep(2000);
	resolved(disc, "esp-seen", "198.18.0.70", 3232, NULL);
	ck_assert_int_gt(fleet_device_get_last_seen(dev), first);
	ck_assert_uint_ge(notifies, 1);
}
END_TEST

START_TEST(test_grace_period)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	FleetDevice *dev;

	ck_assert_uint_eq(fleet_discovery_get_grace_period(disc),
			  FLEET_DISCOVERY_GRACE_PERIOD_DEFAULT_MS);
	ck_assert_uint_eq(FLEET_DISCOVERY_GRACE_PERIOD_DEFAULT_MS, 10000);
	fleet_discovery_set_grace_period(disc, 60);

	/* seen on two interfaces; losing one of them changes nothing */
	fleet_discovery_service_new(disc, "esp-grace", 2, 0);
	fleet_discovery_service_new(disc, "esp-grace", 3, 0);
	dev = resolved(disc, "esp-grace", "198.18.0.80", 3232, NULL);
	fleet_discovery_service_removed(disc, "esp-grace", 2, 0);
	spin(200);
	ck_assert(fleet_device_get_online(dev));

	/* gone everywhere: online through the grace period, offline after it */
	fleet_discovery_service_removed(disc, "esp-grace", 3, 0);
	ck_assert(fleet_device_get_online(dev));
	WAIT_FOR(!fleet_device_get_online(dev), 5000);
	ck_assert(!fleet_device_get_online(dev));
	ck_assert_uint_eq(n_devices(disc), 1);

	/* comes back */
	fleet_discovery_service_new(disc, "esp-grace", 2, 0);
	ck_assert_ptr_eq(resolved(disc, "esp-grace", "198.18.0.80", 3232, NULL), dev);
	ck_assert(fleet_device_get_online(dev));

	/* a re-announcement within the grace period cancels it */
	fleet_discovery_set_grace_period(disc, 300);
	fleet_discovery_service_removed(disc, "esp-grace", 2, 0);
	spin(20);
	fleet_discovery_service_new(disc, "esp-grace", 2, 0);
	spin(600);
	ck_assert(fleet_device_get_online(dev));
}
END_TEST

/* device strings are untrusted: names with escapes, bad UTF-8, malformed TXT */
START_TEST(test_hostile_strings)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GBytes) txt = txt_wire("board=\x1b[31mred\xff", "mac=not-a-mac", NULL);
	const guint8 broken[] = {5, 'a', '=', 'b'}; /* a length byte past the end */
	FleetDevice *dev = resolved(disc, "evil\x1b]0;x\x07", "198.18.0.90", 3232, txt);
	FleetDevice *dev2;

	ck_assert_str_eq(fleet_device_get_id(dev), "name:evil\\x1b]0;x\\x07");
	ck_assert_str_eq(fleet_device_get_name(dev), "evil\\x1b]0;x\\x07");
	ck_assert_str_eq(fleet_device_get_board(dev), "\\x1b[31mred\\xff");
	ck_assert_ptr_eq(strchr(fleet_device_get_name(dev), '\x1b'), NULL);

	dev2 = fleet_discovery_service_resolved(disc, "broken", "broken.local", "198.18.0.91", 3232,
						broken, sizeof(broken));
	ck_assert_str_eq(fleet_device_get_id(dev2), "name:broken");
	ck_assert_ptr_null(fleet_device_get_board(dev2));
	ck_assert(fleet_device_get_online(dev2));
}
END_TEST

START_TEST(test_manual)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	g_autoptr(GError) error = NULL;
	FleetDevice *dev;
	FleetDevice *http;
	FleetDevice *mdns;

	dev = fleet_discovery_add_manual(disc, "192.168.4.1", FLEET_PROTOCOL_ESPOTA, 3232, &error);
	ck_assert_ptr_nonnull(dev);
	ck_assert_str_eq(fleet_device_get_id(dev), "addr:192.168.4.1:3232");
	ck_assert_int_eq(fleet_device_get_source(dev), FLEET_DEVICE_SOURCE_MANUAL);
	ck_assert_str_eq(fleet_device_get_name(dev), "192.168.4.1");
	ck_assert_str_eq(fleet_device_get_address(dev), "192.168.4.1");
	ck_assert_uint_eq(fleet_device_get_ota_port(dev), 3232);
	ck_assert_uint_eq(fleet_device_get_protocols(dev), FLEET_PROTOCOL_ESPOTA);
	ck_assert(!fleet_device_get_online(dev));
	/* the same address again is the same device */
	ck_assert_ptr_eq(
	    fleet_discovery_add_manual(disc, " 192.168.4.1 ", FLEET_PROTOCOL_ESPOTA, 3232, NULL),
	    dev);
	ck_assert_uint_eq(n_devices(disc), 1);

	http = fleet_discovery_add_manual(disc, "ESP32-Lab.local.", FLEET_PROTOCOL_HTTP, 80, NULL);
	ck_assert_ptr_nonnull(http);
	ck_assert_str_eq(fleet_device_get_id(http), "addr:esp32-lab.local:80");
	ck_assert_str_eq(fleet_device_get_hostname(http), "esp32-lab.local");
	ck_assert_ptr_null(fleet_device_get_address(http));
	ck_assert_uint_eq(fleet_device_get_http_port(http), 80);
	ck_assert_str_eq(fleet_device_get_http_path(http), "/update");
	ck_assert_uint_eq(fleet_device_get_protocols(http), FLEET_PROTOCOL_HTTP);

	dev = fleet_discovery_add_manual(disc, "[FE80::1%eth0]", FLEET_PROTOCOL_ESPOTA, 3232, NULL);
	ck_assert_ptr_nonnull(dev);
	ck_assert_str_eq(fleet_device_get_id(dev), "addr:fe80::1%eth0:3232");
	ck_assert_str_eq(fleet_device_get_address(dev), "fe80::1%eth0");
	ck_assert_uint_eq(n_devices(disc), 3);

	/* refused input */
	{
		const gchar *bad_hosts[] = {
		    "",		"  ",	    "bad host",	 "a..b", "-x.lan", "1.2.3.4%eth0",
		    "x\x1b[1m", "fe80::1%", "999.1.1.1", ".",	 "host:80"};
		for (guint i = 0; i < G_N_ELEMENTS(bad_hosts); i++) {
			g_clear_error(&error);
			ck_assert_ptr_null(fleet_discovery_add_manual(
			    disc, bad_hosts[i], FLEET_PROTOCOL_ESPOTA, 3232, &error));
			ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
			ck_assert_ptr_null(strchr(error->message, '\x1b'));
		}
	}
	g_clear_error(&error);
	ck_assert_ptr_null(
	    fleet_discovery_add_manual(disc, "10.0.0.1", FLEET_PROTOCOL_ESPOTA, 0, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
	g_clear_error(&error);
	ck_assert_ptr_null(
	    fleet_discovery_add_manual(disc, "10.0.0.1", FLEET_PROTOCOL_ESPOTA, 65536, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
	g_clear_error(&error);
	ck_assert_ptr_null(fleet_discovery_add_manual(
	    disc, "10.0.0.1", FLEET_PROTOCOL_ESPOTA | FLEET_PROTOCOL_HTTP, 80, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED));
	ck_assert_uint_eq(n_devices(disc), 3);

	/* removal: manual only */
	mdns = resolved(disc, "esp-mdns", "198.18.0.99", 3232, NULL);
	g_clear_error(&error);
	ck_assert(!fleet_discovery_remove_manual(disc, fleet_device_get_id(mdns), &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED));
	g_clear_error(&error);
	ck_assert(fleet_discovery_remove_manual(disc, "addr:esp32-lab.local:80", &error));
	ck_assert_ptr_null(error);
	ck_assert_uint_eq(n_devices(disc), 3);
	ck_assert(!fleet_discovery_remove_manual(disc, "addr:esp32-lab.local:80", &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND));
}
END_TEST

/* no system bus at all: a clear state and message, and manual devices still work */
START_TEST(test_unavailable)
{
	g_autoptr(FleetDiscovery) disc = new_discovery();
	guint state_notifies = 0;

	ck_assert_int_eq(fleet_discovery_get_state(disc), FLEET_DISCOVERY_STATE_STARTING);
	ck_assert_ptr_null(fleet_discovery_get_error_message(disc));
	g_signal_connect(disc, "notify::state", G_CALLBACK(count_notify), &state_notifies);
	fleet_discovery_start(disc);
	WAIT_FOR(fleet_discovery_get_state(disc) == FLEET_DISCOVERY_STATE_UNAVAILABLE, 5000);
	ck_assert_int_eq(fleet_discovery_get_state(disc), FLEET_DISCOVERY_STATE_UNAVAILABLE);
	ck_assert_str_eq(fleet_discovery_get_error_message(disc), NOT_RUNNING);
	ck_assert_uint_eq(state_notifies, 1);

	fleet_discovery_refresh(disc);
	ck_assert_int_eq(fleet_discovery_get_state(disc), FLEET_DISCOVERY_STATE_UNAVAILABLE);
	ck_assert_str_eq(fleet_discovery_get_error_message(disc), NOT_RUNNING);
	ck_assert_ptr_nonnull(
	    fleet_discovery_add_manual(disc, "198.18.0.5", FLEET_PROTOCOL_ESPOTA, 3232, NULL));
	ck_assert_uint_eq(n_devices(disc), 1);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* a fake avahi-daemon: org.freedesktop.Avahi on a private bus, in its own thread, because
 * avahi-client makes blocking calls from the main thread */

#define AVAHI_SERVER_IFACE "org.freedesktop.Avahi.Server"

static const gchar fake_xml[] =
    "<node>"
    " <interface name='org.freedesktop.Avahi.Server'>"
    "  <method name='GetAPIVersion'><arg direction='out' type='u'/></method>"
    "  <method name='GetState'><arg direction='out' type='i'/></method>"
    "  <method name='ServiceBrowserNew'>"
    "   <arg direction='in' type='i'/><arg direction='in' type='i'/>"
    "   <arg direction='in' type='s'/><arg direction='in' type='s'/>"
    "   <arg direction='in' type='u'/><arg direction='out' type='o'/>"
    "  </method>"
    "  <method name='ServiceResolverNew'>"
    "   <arg direction='in' type='i'/><arg direction='in' type='i'/>"
    "   <arg direction='in' type='s'/><arg direction='in' type='s'/>"
    "   <arg direction='in' type='s'/><arg direction='in' type='i'/>"
    "   <arg direction='in' type='u'/><arg direction='out' type='o'/>"
    "  </method>"
    " </interface>"
    " <interface name='org.freedesktop.Avahi.ServiceBrowser'><method name='Free'/></interface>"
    " <interface name='org.freedesktop.Avahi.ServiceResolver'><method name='Free'/></interface>"
    "</node>";

typedef struct {
	gchar *host;
	gchar *ipv4;
	gchar *ipv6;
	guint16 port;
	GStrv txt;
} FakeService;

typedef struct {
	GMutex lock;
	GCond cond;
	gboolean ready;
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	GDBusConnection *conn;
	GDBusNodeInfo *info;
	GHashTable *services; /* name → FakeService */
	GHashTable *objects;  /* path → registration id */
	gchar *browser_path;
	gchar *browser_owner;
	gchar *browse_type;
	gchar *browse_domain;
	gint browse_interface;
	gint browse_protocol;
	guint next_object;
	guint browsers_created;
	guint browsers_freed;
	guint resolvers_created;
	guint resolvers_freed;
	guint resolved_v4;
	guint resolved_v6;
} FakeAvahi;

static void
fake_service_free(FakeService *svc)
{
	g_free(svc->host);
	g_free(svc->ipv4);
	g_free(svc->ipv6);
	g_strfreev(svc->txt);
	g_free(svc);
}

static void
fake_object_call(GDBusConnection *conn,
		 const gchar *sender,
		 const gchar *path,
		 const gchar *iface,
		 const gchar *method,
		 GVariant *params,
		 GDBusMethodInvocation *invocation,
		 gpointer user_data)
{
	FakeAvahi *fake = user_data;
	guint id;

	g_mutex_lock(&fake->lock);
	id = GPOINTER_TO_UINT(g_hash_table_lookup(fake->objects, path));
	g_hash_table_remove(fake->objects, path);
	if (g_str_has_suffix(iface, "ServiceBrowser")) {
		fake->browsers_freed++;
		if (g_strcmp0(path, fake->browser_path) == 0)
			g_clear_pointer(&fake->browser_path, g_free);
	} else {
		fake->resolvers_freed++;
	}
	g_mutex_unlock(&fake->lock);
	g_dbus_method_invocation_return_value(invocation, NULL);
	if (id != 0)
		g_dbus_connection_unregister_object(conn, id);
}

static const GDBusInterfaceVTable fake_object_vtable = {fake_object_call, NULL, NULL, {0}};

static gchar *
fake_new_object(FakeAvahi *fake, const gchar *kind, const gchar *iface_name)
{
	gchar *path = g_strdup_printf("/Client1/%s%u", kind, ++fake->next_object);
	guint id = g_dbus_connection_register_object(
	    fake->conn, path, g_dbus_node_info_lookup_interface(fake->info, iface_name),
	    &fake_object_vtable, fake, NULL, NULL);
	g_hash_table_insert(fake->objects, g_strdup(path), GUINT_TO_POINTER(id));
	return path;
}

static void
fake_resolve(
    FakeAvahi *fake, const gchar *sender, const gchar *path, const gchar *name, gint aproto)
{
	FakeService *svc;
	const gchar *address = NULL;
	GVariantBuilder txt;

	g_mutex_lock(&fake->lock);
	svc = g_hash_table_lookup(fake->services, name);
	if (svc != NULL)
		address = aproto == 1 ? svc->ipv6 : svc->ipv4;
	if (address == NULL) {
		g_mutex_unlock(&fake->lock);
		g_dbus_connection_emit_signal(
		    fake->conn, sender, path, "org.freedesktop.Avahi.ServiceResolver", "Failure",
		    g_variant_new("(s)", "org.freedesktop.Avahi.TimeoutError"), NULL);
		return;
	}
	if (aproto == 1)
		fake->resolved_v6++;
	else
		fake->resolved_v4++;
	g_variant_builder_init(&txt, G_VARIANT_TYPE("aay"));
	for (guint i = 0; svc->txt != NULL && svc->txt[i] != NULL; i++)
		g_variant_builder_add_value(
		    &txt, g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, svc->txt[i],
						    strlen(svc->txt[i]), 1));
	g_dbus_connection_emit_signal(
	    fake->conn, sender, path, "org.freedesktop.Avahi.ServiceResolver", "Found",
	    g_variant_new("(iissssisqaayu)", 2, 0, name, "_arduino._tcp", "local", svc->host,
			  aproto, address, svc->port, &txt, 0u),
	    NULL);
	g_mutex_unlock(&fake->lock);
}

static void
fake_server_call(GDBusConnection *conn,
		 const gchar *sender,
		 const gchar *path,
		 const gchar *iface,
		 const gchar *method,
		 GVariant *params,
		 GDBusMethodInvocation *invocation,
		 gpointer user_data)
{
	FakeAvahi *fake = user_data;

	if (g_strcmp0(method, "GetAPIVersion") == 0) {
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(u)", 0x0204u));
	} else if (g_strcmp0(method, "GetState") == 0) {
		/* AVAHI_SERVER_RUNNING */
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(i)", 2));
	} else if (g_strcmp0(method, "ServiceBrowserNew") == 0) {
		g_autofree gchar *obj = NULL;
		g_mutex_lock(&fake->lock);
		obj =
		    fake_new_object(fake, "ServiceBrowser", "org.freedesktop.Avahi.ServiceBrowser");
		g_free(fake->browse_type);
		g_free(fake->browse_domain);
		g_variant_get(params, "(iissu)", &fake->browse_interface, &fake->browse_protocol,
			      &fake->browse_type, &fake->browse_domain, NULL);
		g_free(fake->browser_path);
		fake->browser_path = g_strdup(obj);
		g_free(fake->browser_owner);
		fake->browser_owner = g_strdup(sender);
		fake->browsers_created++;
		g_mutex_unlock(&fake->lock);
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", obj));
	} else if (g_strcmp0(method, "ServiceResolverNew") == 0) {
		g_autofree gchar *obj = NULL;
		const gchar *name = NULL;
		gint aproto = -1;
		g_variant_get(params, "(ii&s&s&siu)", NULL, NULL, &name, NULL, NULL, &aproto, NULL);
		g_mutex_lock(&fake->lock);
		obj = fake_new_object(fake, "ServiceResolver",
				      "org.freedesktop.Avahi.ServiceResolver");
		fake->resolvers_created++;
		g_mutex_unlock(&fake->lock);
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", obj));
		/* the reply goes out first, as from the real daemon */
		fake_resolve(fake, sender, obj, name, aproto);
	} else {
		g_dbus_method_invocation_return_dbus_error(
		    invocation, "org.freedesktop.DBus.Error.UnknownMethod", method);
	}
}

static const GDBusInterfaceVTable fake_server_vtable = {fake_server_call, NULL, NULL, {0}};

static gpointer
fake_thread(gpointer data)
{
	FakeAvahi *fake = data;
	g_autoptr(GError) error = NULL;
	guint server_id;

	g_main_context_push_thread_default(fake->context);
	fake->conn = g_dbus_connection_new_for_address_sync(
	    g_getenv("DBUS_SYSTEM_BUS_ADDRESS"),
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	g_assert_no_error(error);
	server_id = g_dbus_connection_register_object(
	    fake->conn, "/", g_dbus_node_info_lookup_interface(fake->info, AVAHI_SERVER_IFACE),
	    &fake_server_vtable, fake, NULL, &error);
	g_assert_no_error(error);

	g_mutex_lock(&fake->lock);
	fake->ready = TRUE;
	g_cond_signal(&fake->cond);
	g_mutex_unlock(&fake->lock);

	g_main_loop_run(fake->loop);

	g_dbus_connection_unregister_object(fake->conn, server_id);
	g_dbus_connection_close_sync(fake->conn, NULL, NULL);
	g_clear_object(&fake->conn);
	g_main_context_pop_thread_default(fake->context);
	return NULL;
}

static FakeAvahi *
fake_new(void)
{
	FakeAvahi *fake = g_new0(FakeAvahi, 1);
	g_mutex_init(&fake->lock);
	g_cond_init(&fake->cond);
	fake->info = g_dbus_node_info_new_for_xml(fake_xml, NULL);
	fake->context = g_main_context_new();
	fake->loop = g_main_loop_new(fake->context, FALSE);
	fake->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					       (GDestroyNotify)fake_service_free);
	fake->objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	fake->thread = g_thread_new("fake-avahi", fake_thread, fake);
	g_mutex_lock(&fake->lock);
	while (!fake->ready)
		g_cond_wait(&fake->cond, &fake->lock);
	g_mutex_unlock(&fake->lock);
	return fake;
}

static void
fake_free(FakeAvahi *fake)
{
	g_main_loop_quit(fake->loop);
	g_thread_join(fake->thread);
	g_main_loop_unref(fake->loop);
	g_main_context_unref(fake->context);
	g_dbus_node_info_unref(fake->info);
	g_hash_table_unref(fake->services);
	g_hash_table_unref(fake->objects);
	g_free(fake->browser_path);
	g_free(fake->browser_owner);
	g_free(fake->browse_type);
	g_free(fake->browse_domain);
	g_mutex_clear(&fake->lock);
	g_cond_clear(&fake->cond);
	g_free(fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeAvahi, fake_free)

/* the daemon appears on, or leaves, the bus */
static void
fake_own_name(FakeAvahi *fake, gboolean own)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_connection_call_sync(
	    fake->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
	    own ? "RequestName" : "ReleaseName",
	    own ? g_variant_new("(su)", "org.freedesktop.Avahi", 4u /* DO_NOT_QUEUE */)
		: g_variant_new("(s)", "org.freedesktop.Avahi"),
	    NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	ck_assert_msg(ret != NULL, "%s", error != NULL ? error->message : "");
}

static void
fake_publish(
    FakeAvahi *fake, const gchar *name, const gchar *ipv4, const gchar *ipv6, const gchar *txt)
{
	FakeService *svc = g_new0(FakeService, 1);
	svc->host = g_strconcat(name, ".local", NULL);
	svc->ipv4 = g_strdup(ipv4);
	svc->ipv6 = g_strdup(ipv6);
	svc->port = 3232;
	svc->txt = g_strsplit(txt, " ", -1);
	g_mutex_lock(&fake->lock);
	g_hash_table_replace(fake->services, g_strdup(name), svc);
	g_mutex_unlock(&fake->lock);
}

/* the browser signals ItemNew or ItemRemove */
static void
fake_item(FakeAvahi *fake, const gchar *signal, const gchar *name, gint interface)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *owner = NULL;
	g_autoptr(GError) error = NULL;

	g_mutex_lock(&fake->lock);
	path = g_strdup(fake->browser_path);
	owner = g_strdup(fake->browser_owner);
	g_mutex_unlock(&fake->lock);
	ck_assert_ptr_nonnull(path);
	/* avahi-daemon sends browser signals to their client only */
	ck_assert(g_dbus_connection_emit_signal(
	    fake->conn, owner, path, "org.freedesktop.Avahi.ServiceBrowser", signal,
	    g_variant_new("(iisssu)", interface, 0, name, "_arduino._tcp", "local", 0u), &error));
}

static guint
fake_count(FakeAvahi *fake, const guint *counter)
{
	guint value;
	g_mutex_lock(&fake->lock);
	value = *counter;
	g_mutex_unlock(&fake->lock);
	return value;
}

static gboolean
fake_has_browser(FakeAvahi *fake)
{
	gboolean has;
	g_mutex_lock(&fake->lock);
	has = fake->browser_path != NULL;
	g_mutex_unlock(&fake->lock);
	return has;
}

static GTestDBus *
private_system_bus(void)
{
	g_autofree gchar *daemon = g_find_program_in_path("dbus-daemon");
	GTestDBus *bus;
	/* the "dbus" package is in ./run's required list */
	ck_assert_msg(daemon != NULL, "dbus-daemon is not installed");
	bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(bus);
	/* avahi-client reads the system bus address from here */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address(bus), TRUE);
	return bus;
}

/* the daemon is missing at first, appears, announces a device, loses it, reboots it */
START_TEST(test_client_lifecycle)
{
	g_autoptr(GTestDBus) bus = private_system_bus();
	g_autoptr(FakeAvahi) fake = NULL;
	g_autoptr(FleetDiscovery) disc = NULL;
	FleetDeviceList *list;
	FleetDevice *dev;

	fake = fake_new();
	disc = new_discovery();
	list = fleet_discovery_get_devices(disc);
	fleet_discovery_set_grace_period(disc, 100);

	/* the bus is there, the daemon is not */
	fleet_discovery_start(disc);
	WAIT_FOR(fleet_discovery_get_state(disc) == FLEET_DISCOVERY_STATE_UNAVAILABLE, 5000);
	ck_assert_int_eq(fleet_discovery_get_state(disc), FLEET_DISCOVERY_STATE_UNAVAILABLE);
	ck_assert_str_eq(fleet_discovery_get_error_message(disc), NOT_RUNNING);

	/* it starts: the client notices by itself and browses */
	fake_own_name(fake, TRUE);
	WAIT_FOR(fleet_discovery_get_state(disc) == FLEET_DISCOVERY_STATE_RUNNING, 5000);
	ck_assert_int_eq(fleet_discovery_get_state(disc), FLEET_DISCOVERY_STATE_RUNNING);
	ck_assert_ptr_null(fleet_discovery_get_error_message(disc));
	ck_assert(fake_has_browser(fake));
	ck_assert_str_eq(fake->browse_type, "_arduino._tcp");
	ck_assert_str_eq(fake->browse_domain, "local");
	ck_assert_int_eq(fake->browse_interface, -1); /* AVAHI_IF_UNSPEC */
	ck_assert_int_eq(fake->browse_protocol, -1);  /* AVAHI_PROTO_UNSPEC */

	/* a device with both address families: the IPv4 one is used */
	fake_publish(fake, "esp-sim-1", "198.18.0.11", "fe80::11",
		     "board=esp32dev auth_upload=yes mac=02:00:00:00:00:11 fw_version=1.0 "
		     "fw_sha256=0011223344556677");
	fake_item(fake, "ItemNew", "esp-sim-1", 2);
	WAIT_FOR(fleet_device_list_lookup(list, "mac:02:00:00:00:00:11") != NULL &&
		     fake_count(fake, &fake->resolved_v6) == 1,
		 5000);
	dev = fleet_device_list_lookup(list, "mac:02:00:00:00:00:11");
	ck_assert_ptr_nonnull(dev);
	ck_assert_str_eq(fleet_device_get_address(dev), "198.18.0.11");
	ck_assert_str_eq(fleet_device_get_hostname(dev), "esp-sim-1.local");
	ck_assert_uint_eq(fleet_device_get_ota_port(dev), 3232);
	ck_assert_str_eq(fleet_device_get_fw_version(dev), "1.0");
	ck_assert(fleet_device_get_needs_password(dev));
	ck_assert(fleet_device_get_online(dev));
	ck_assert_uint_eq(fake_count(fake, &fake->resolvers_created), 2);

	/* goodbye: offline after the grace period; the resolvers are let go */
	fake_item(fake, "ItemRemove", "esp-sim-1", 2);
	WAIT_FOR(!fleet_device_get_online(dev), 5000);
	ck_assert(!fleet_device_get_online(dev));
	WAIT_FOR(fake_count(fake, &fake->resolvers_freed) == 2, 5000);
	ck_assert_uint_eq(fake_count(fake, &fake->resolvers_freed), 2);

	/* back after an update, on a new address: resolved again, same row */
	fake_publish(
	    fake, "esp-sim-1", "198.18.0.12", NULL,
	    "board=esp32dev mac=02:00:00:00:00:11 fw_version=2.0 fw_sha256=8899aabbccddeeff");
	fake_item(fake, "ItemNew", "esp-sim-1", 2);
	WAIT_FOR(g_strcmp0(fleet_device_get_fw_version(dev), "2.0") == 0, 5000);
	ck_assert_str_eq(fleet_device_get_fw_version(dev), "2.0");
	ck_assert_str_eq(fleet_device_get_fw_sha256(dev), "8899aabbccddeeff");
	ck_assert_str_eq(fleet_device_get_address(dev), "198.18.0.12");
	ck_assert(fleet_device_get_online(dev));
	ck_assert_uint_eq(g_list_model_get_n_items(G_LIST_MODEL(list)), 1);

	/* an IPv6-only device */
	fake_publish(fake, "esp-v6", NULL, "fe80::22", "mac=02:00:00:00:00:22");
	fake_item(fake, "ItemNew", "esp-v6", 2);
	WAIT_FOR(fleet_device_list_lookup(list, "mac:02:00:00:00:00:22") != NULL, 5000);
	ck_assert_ptr_nonnull(fleet_device_list_lookup(list, "mac:02:00:00:00:00:22"));
	ck_assert(g_str_has_prefix(
	    fleet_device_get_address(fleet_device_list_lookup(list, "mac:02:00:00:00:00:22")),
	    "fe80::22"));

	/* F5: a new browser; what it reports stays online */
	fleet_discovery_refresh(disc);
	ck_assert_uint_eq(fake_count(fake, &fake->browsers_freed), 1);
	ck_assert_uint_eq(fake_count(fake, &fake->browsers_created), 2);
	fake_item(fake, "ItemNew", "esp-sim-1", 2);
	WAIT_FOR(!fleet_device_get_online(fleet_device_list_lookup(list, "mac:02:00:00:00:00:22")),
		 5000);
	ck_assert(
	    !fleet_device_get_online(fleet_device_list_lookup(list, "mac:02:00:00:00:00:22")));
	ck_assert(fleet_device_get_online(dev));

	/* the daemon stops: unavailable with the message, and back when it returns */
	fake_own_name(fake, FALSE);
	WAIT_FOR(fleet_discovery_get_state(disc) == FLEET_DISCOVERY_STATE_UNAVAILABLE, 5000);
	ck_assert_int_eq(fleet_discovery_get_state(disc), FLEET_DISCOVERY_STATE_UNAVAILABLE);
	WAIT_FOR(g_strcmp0(fleet_discovery_get_error_message(disc), NOT_RUNNING) == 0, 5000);
	ck_assert_str_eq(fleet_discovery_get_error_message(disc), NOT_RUNNING);
	/* what it reported is no longer seen */
	WAIT_FOR(!fleet_device_get_online(dev), 5000);
	ck_assert(!fleet_device_get_online(dev));
	fake_own_name(fake, TRUE);
	WAIT_FOR(fleet_discovery_get_state(disc) == FLEET_DISCOVERY_STATE_RUNNING, 5000);
	ck_assert_int_eq(fleet_discovery_get_state(disc), FLEET_DISCOVERY_STATE_RUNNING);
	ck_assert_uint_eq(fake_count(fake, &fake->browsers_created), 3);
	fake_item(fake, "ItemNew", "esp-sim-1", 2);
	WAIT_FOR(fleet_device_get_online(dev), 5000);
	ck_assert(fleet_device_get_online(dev));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("discovery");
	TCase *tc = tcase_create("rules");
	TCase *tc_client = tcase_create("client");
	g_autofree gchar *nowhere = NULL;
	g_autofree gchar *sock = NULL;
	int status;

	/* never the machine's system bus: a socket in a directory that is made and removed
	 * here, so it cannot exist */
	nowhere = g_dir_make_tmp("check-discovery-XXXXXX", NULL);
	g_assert_nonnull(nowhere);
	sock = g_strdup_printf("unix:path=%s/no-such-socket", nowhere);
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", sock, TRUE);

	tcase_add_test(tc, test_txt_fields);
	tcase_add_test(tc, test_stock_esp8266);
	tcase_add_test(tc, test_rekey_when_mac_appears);
	tcase_add_test(tc, test_rekey_merges_rows);
	tcase_add_test(tc, test_name_taken_by_other_module);
	tcase_add_test(tc, test_new_address_same_row);
	tcase_add_test(tc, test_ipv4_preferred);
	tcase_add_test(tc, test_last_seen_every_resolve);
	tcase_add_test(tc, test_grace_period);
	tcase_add_test(tc, test_hostile_strings);
	tcase_add_test(tc, test_manual);
	tcase_add_test(tc, test_unavailable);
	suite_add_tcase(s, tc);
	tcase_add_test(tc_client, test_client_lifecycle);
	tcase_set_timeout(tc_client, 60);
	suite_add_tcase(s, tc_client);

	/* each test in its own process: libdbus reads DBUS_SYSTEM_BUS_ADDRESS only once */
	status = fleet_check_run_with(s, 1);
	g_rmdir(nowhere);
	return status;
}
