/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-discovery.c - finds _arduino._tcp devices through avahi-daemon and adds manual ones */

#include "config.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>
#include <glib/gi18n-lib.h>
#include <net/if.h>
#include <string.h>

#include "fleet-discovery.h"
#include "fleet-error.h"
#include "fleet-text.h"
#include "fleet-txt-record.h"

/* wait before trying again when not even the system bus answers */
#define FLEET_DISCOVERY_RETRY_MS 5000
#define FLEET_DISCOVERY_DOMAIN "local"

typedef struct {
	gint interface;
	gint protocol;
} FleetDiscoverySighting;

/* one announced service instance; kept after it is gone so that it finds its row again */
typedef struct {
	FleetDiscovery *self; /* (unowned) */
	gchar *name;	      /* as announced, for Avahi; never shown */
	gchar *device_id;     /* the row it fills, NULL before the first resolve */
	GArray *sightings;    /* FleetDiscoverySighting: where the browser sees it now */
	gchar *ipv4;
	gchar *ipv6;
	AvahiServiceResolver *resolver4;
	AvahiServiceResolver *resolver6;
	GSource *grace; /* pending offline */
} FleetDiscoveryInstance;

struct _FleetDiscovery {
	GObject parent_instance;
	FleetDeviceList *devices;
	FleetDiscoveryState state;
	gchar *error_message;
	guint grace_ms;
	gboolean started;
	GMainContext *context;
	AvahiGLibPoll *poll;
	AvahiClient *client;
	AvahiServiceBrowser *browser;
	GSource *reconnect;
	GHashTable *instances; /* name → FleetDiscoveryInstance */
};

G_DEFINE_TYPE(FleetDiscovery, fleet_discovery, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE(FleetDiscoveryState,
		   fleet_discovery_state,
		   G_DEFINE_ENUM_VALUE(FLEET_DISCOVERY_STATE_STARTING, "starting"),
		   G_DEFINE_ENUM_VALUE(FLEET_DISCOVERY_STATE_RUNNING, "running"),
		   G_DEFINE_ENUM_VALUE(FLEET_DISCOVERY_STATE_UNAVAILABLE, "unavailable"))

enum { PROP_0, PROP_DEVICES, PROP_STATE, PROP_ERROR_MESSAGE, PROP_GRACE_PERIOD, N_PROPS };

static GParamSpec *props[N_PROPS];

static void fleet_discovery_connect(FleetDiscovery *self);

static void
fleet_discovery_source_clear(GSource **source)
{
	if (*source == NULL)
		return;
	g_source_destroy(*source);
	g_source_unref(*source);
	*source = NULL;
}

static GSource *
fleet_discovery_timeout(FleetDiscovery *self, guint ms, GSourceFunc func, gpointer data)
{
	GSource *source = g_timeout_source_new(ms);
	g_source_set_callback(source, func, data, NULL);
	g_source_attach(source, self->context);
	return source;
}

static void
fleet_discovery_instance_stop_resolving(FleetDiscoveryInstance *inst)
{
	g_clear_pointer(&inst->resolver4, avahi_service_resolver_free);
	g_clear_pointer(&inst->resolver6, avahi_service_resolver_free);
}

static void
fleet_discovery_instance_free(FleetDiscoveryInstance *inst)
{
	fleet_discovery_instance_stop_resolving(inst);
	fleet_discovery_source_clear(&inst->grace);
	g_array_unref(inst->sightings);
	g_free(inst->name);
	g_free(inst->device_id);
	g_free(inst->ipv4);
	g_free(inst->ipv6);
	g_free(inst);
}

static FleetDiscoveryInstance *
fleet_discovery_instance_get(FleetDiscovery *self, const gchar *name)
{
	FleetDiscoveryInstance *inst = g_hash_table_lookup(self->instances, name);
	if (inst != NULL)
		return inst;
	inst = g_new0(FleetDiscoveryInstance, 1);
	inst->self = self;
	inst->name = g_strdup(name);
	inst->sightings = g_array_new(FALSE, FALSE, sizeof(FleetDiscoverySighting));
	g_hash_table_insert(self->instances, inst->name, inst);
	return inst;
}

static void
fleet_discovery_set_state(FleetDiscovery *self, FleetDiscoveryState state, const gchar *message)
{
	g_object_freeze_notify(G_OBJECT(self));
	if (self->state != state) {
		self->state = state;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
	}
	if (g_strcmp0(self->error_message, message) != 0) {
		g_free(self->error_message);
		self->error_message = g_strdup(message);
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ERROR_MESSAGE]);
	}
	g_object_thaw_notify(G_OBJECT(self));
}

/* what the user reads when discovery does not work; decided by Avahi's error code */
static gchar *
fleet_discovery_error_text(int avahi_error)
{
	switch (avahi_error) {
	case AVAHI_ERR_NO_DAEMON:
		return g_strdup(_("avahi-daemon is not running: start it with 'systemctl start "
				  "avahi-daemon', or add devices by address"));
	case AVAHI_ERR_DISCONNECTED:
		return g_strdup(_("Lost the connection to avahi-daemon: waiting for it to come "
				  "back; devices can still be added by address"));
	case AVAHI_ERR_ACCESS_DENIED:
	case AVAHI_ERR_NOT_PERMITTED:
		return g_strdup_printf(_("avahi-daemon refused the request (%s): check its D-Bus "
					 "policy, or add devices by address"),
				       avahi_strerror(avahi_error));
	case AVAHI_ERR_VERSION_MISMATCH:
		return g_strdup(_("The running avahi-daemon is too old for this program: add "
				  "devices by address"));
	default:
		return g_strdup_printf(_("Device discovery through avahi-daemon failed (%s): add "
					 "devices by address"),
				       avahi_strerror(avahi_error));
	}
}

static void
fleet_discovery_set_unavailable(FleetDiscovery *self, int avahi_error)
{
	g_autofree gchar *message = fleet_discovery_error_text(avahi_error);
	g_debug("discovery unavailable: %s", avahi_strerror(avahi_error));
	fleet_discovery_set_state(self, FLEET_DISCOVERY_STATE_UNAVAILABLE, message);
}

static gboolean
fleet_discovery_device_announced(FleetDiscovery *self, const gchar *device_id)
{
	GHashTableIter iter;
	gpointer value;
	g_hash_table_iter_init(&iter, self->instances);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		FleetDiscoveryInstance *inst = value;
		if (inst->sightings->len > 0 && g_strcmp0(inst->device_id, device_id) == 0)
			return TRUE;
	}
	return FALSE;
}

/* @device_id lost an instance: offline unless another instance still announces it */
static void
fleet_discovery_maybe_offline(FleetDiscovery *self, const gchar *device_id)
{
	FleetDevice *device = fleet_device_list_lookup(self->devices, device_id);
	if (device == NULL || fleet_discovery_device_announced(self, device_id))
		return;
	fleet_device_set_online(device, FALSE);
}

static gboolean
fleet_discovery_grace_cb(gpointer user_data)
{
	FleetDiscoveryInstance *inst = user_data;
	g_source_unref(inst->grace);
	inst->grace = NULL;
	/* nothing more to learn about a service that is gone; a new announcement resolves
	 * it again */
	fleet_discovery_instance_stop_resolving(inst);
	if (inst->device_id != NULL)
		fleet_discovery_maybe_offline(inst->self, inst->device_id);
	return G_SOURCE_REMOVE;
}

static void
fleet_discovery_instance_start_grace(FleetDiscoveryInstance *inst)
{
	if (inst->grace != NULL)
		return;
	inst->grace = fleet_discovery_timeout(inst->self, inst->self->grace_ms,
					      fleet_discovery_grace_cb, inst);
}

/* forget where every instance was seen: the browser that told us is gone */
static void
fleet_discovery_forget_sightings(FleetDiscovery *self)
{
	GHashTableIter iter;
	gpointer value;
	g_hash_table_iter_init(&iter, self->instances);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		FleetDiscoveryInstance *inst = value;
		fleet_discovery_instance_stop_resolving(inst);
		if (inst->sightings->len == 0)
			continue;
		g_array_set_size(inst->sightings, 0);
		fleet_discovery_instance_start_grace(inst);
	}
}

static void
fleet_discovery_drop_client(FleetDiscovery *self)
{
	/* avahi_client_free() frees the browser and resolvers too; clear our pointers first */
	fleet_discovery_forget_sightings(self);
	g_clear_pointer(&self->browser, avahi_service_browser_free);
	g_clear_pointer(&self->client, avahi_client_free);
}

static gboolean
fleet_discovery_address_is_ipv6(const gchar *address)
{
	return strchr(address, ':') != NULL;
}

static void
fleet_discovery_instance_apply_address(FleetDiscoveryInstance *inst, FleetDevice *device)
{
	const gchar *address = inst->ipv4 != NULL ? inst->ipv4 : inst->ipv6;
	if (address != NULL)
		fleet_device_set_address(device, address);
}

FleetDevice *
fleet_discovery_service_resolved(FleetDiscovery *self,
				 const gchar *instance,
				 const gchar *host_name,
				 const gchar *address,
				 guint16 port,
				 const guint8 *txt,
				 gsize txt_len)
{
	FleetDiscoveryInstance *inst;
	g_autoptr(GHashTable) fields = NULL;
	g_autofree gchar *clean_name = NULL;
	g_autofree gchar *name_id = NULL;
	g_autofree gchar *mac_id = NULL;
	g_autofree gchar *old_id = NULL;
	FleetDevice *device = NULL;

	g_return_val_if_fail(FLEET_IS_DISCOVERY(self), NULL);
	g_return_val_if_fail(instance != NULL, NULL);

	inst = fleet_discovery_instance_get(self, instance);
	if (txt != NULL) {
		g_autoptr(GError) error = NULL;
		fields = fleet_txt_record_parse(txt, txt_len, &error);
		if (fields == NULL) {
			g_autofree gchar *shown = fleet_text_sanitize(instance, -1, 64);
			g_debug("ignoring the TXT record of %s: %s", shown, error->message);
		}
	}
	if (fields != NULL)
		mac_id = fleet_device_id_for_mac(g_hash_table_lookup(fields, "mac"));
	clean_name = fleet_text_sanitize(instance, -1, 0);
	name_id = g_strconcat("name:", clean_name, NULL);

	/* the row this instance filled before, else one known by its MAC or its name */
	if (inst->device_id != NULL)
		device = fleet_device_list_lookup(self->devices, inst->device_id);
	if (device == NULL && mac_id != NULL)
		device = fleet_device_list_lookup(self->devices, mac_id);
	if (device == NULL)
		device = fleet_device_list_lookup(self->devices, name_id);
	if (device != NULL && mac_id != NULL &&
	    g_strcmp0(fleet_device_get_id(device), mac_id) != 0) {
		if (g_str_has_prefix(fleet_device_get_id(device), "mac:")) {
			/* another module now uses this instance name */
			device = fleet_device_list_lookup(self->devices, mac_id);
		} else {
			/* the MAC appeared: same module, same row, better id */
			device = fleet_device_list_rekey(self->devices, device, mac_id);
		}
	}
	if (device == NULL) {
		g_autoptr(FleetDevice) fresh =
		    fleet_device_new(mac_id != NULL ? mac_id : name_id, FLEET_DEVICE_SOURCE_MDNS);
		device = fleet_device_list_add(self->devices, fresh);
	}
	old_id = g_steal_pointer(&inst->device_id);
	inst->device_id = g_strdup(fleet_device_get_id(device));
	if (old_id != NULL && g_strcmp0(old_id, inst->device_id) != 0)
		fleet_discovery_maybe_offline(self, old_id);

	if (address != NULL && address[0] != '\0') {
		gchar **slot = fleet_discovery_address_is_ipv6(address) ? &inst->ipv6 : &inst->ipv4;
		g_free(*slot);
		*slot = g_strdup(address);
	}

	g_object_freeze_notify(G_OBJECT(device));
	fleet_device_set_name(device, instance);
	if (host_name != NULL)
		fleet_device_set_hostname(device, host_name);
	fleet_discovery_instance_apply_address(inst, device);
	if (port != 0)
		fleet_device_set_ota_port(device, port);
	if (fields != NULL)
		fleet_device_apply_txt(device, fields);
	fleet_device_set_online(device, TRUE);
	g_object_thaw_notify(G_OBJECT(device));
	return device;
}

static void
fleet_discovery_resolver_cb(AvahiServiceResolver *resolver,
			    AvahiIfIndex interface,
			    AvahiProtocol protocol,
			    AvahiResolverEvent event,
			    const char *name,
			    const char *type,
			    const char *domain,
			    const char *host_name,
			    const AvahiAddress *address,
			    uint16_t port,
			    AvahiStringList *txt,
			    AvahiLookupResultFlags flags,
			    void *user_data)
{
	FleetDiscoveryInstance *inst = user_data;
	FleetDiscovery *self = inst->self;
	gboolean v4 = resolver == inst->resolver4;
	gchar text[AVAHI_ADDRESS_STR_MAX + IF_NAMESIZE + 1] = "";
	g_autofree guint8 *wire = NULL;
	gsize wire_len = 0;

	if (event != AVAHI_RESOLVER_FOUND) {
		FleetDevice *device;
		g_autofree gchar *shown = fleet_text_sanitize(name, -1, 64);
		g_debug("resolving %s (%s) failed: %s", shown, v4 ? "IPv4" : "IPv6",
			avahi_strerror(
			    avahi_client_errno(avahi_service_resolver_get_client(resolver))));
		/* the resolver keeps watching; until it finds the service again, an address of
		 * the other family is better than a stale one */
		if (v4)
			g_clear_pointer(&inst->ipv4, g_free);
		else
			g_clear_pointer(&inst->ipv6, g_free);
		device = fleet_device_list_lookup(self->devices, inst->device_id);
		if (device != NULL)
			fleet_discovery_instance_apply_address(inst, device);
		return;
	}

	if (address != NULL) {
		avahi_address_snprint(text, AVAHI_ADDRESS_STR_MAX, address);
		/* a link-local IPv6 address needs its interface to be usable */
		if (address->proto == AVAHI_PROTO_INET6 && address->data.ipv6.address[0] == 0xfe &&
		    (address->data.ipv6.address[1] & 0xc0) == 0x80 && interface > 0) {
			gchar ifname[IF_NAMESIZE];
			if (if_indextoname((unsigned)interface, ifname) != NULL) {
				g_strlcat(text, "%", sizeof(text));
				g_strlcat(text, ifname, sizeof(text));
			}
		}
	}
	if (txt != NULL) {
		wire_len = avahi_string_list_serialize(txt, NULL, 0);
		if (wire_len <= FLEET_TXT_MAX_RECORD_LEN) {
			wire = g_malloc(wire_len + 1);
			wire_len = avahi_string_list_serialize(txt, wire, wire_len + 1);
		}
	}
	fleet_discovery_service_resolved(self, name, host_name, text, port, wire,
					 wire != NULL ? wire_len : 0);
}

/* browsers and resolvers need a daemon that answers */
static gboolean
fleet_discovery_client_connected(AvahiClient *client)
{
	AvahiClientState state = avahi_client_get_state(client);
	return state == AVAHI_CLIENT_S_RUNNING || state == AVAHI_CLIENT_S_REGISTERING ||
	       state == AVAHI_CLIENT_S_COLLISION;
}

static void
fleet_discovery_instance_resolve(FleetDiscoveryInstance *inst)
{
	AvahiClient *client = inst->self->client;

	fleet_discovery_instance_stop_resolving(inst);
	if (client == NULL || !fleet_discovery_client_connected(client))
		return;
	/* both families at once: IPv4 wins whenever it answers (see _service_resolved). The
	 * resolvers stay until the instance is gone: avahi reports changed records through them,
	 * such as a new TXT record after a reboot without a goodbye */
	inst->resolver4 = avahi_service_resolver_new(
	    client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, inst->name, FLEET_DISCOVERY_SERVICE_TYPE,
	    FLEET_DISCOVERY_DOMAIN, AVAHI_PROTO_INET, 0, fleet_discovery_resolver_cb, inst);
	inst->resolver6 = avahi_service_resolver_new(
	    client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, inst->name, FLEET_DISCOVERY_SERVICE_TYPE,
	    FLEET_DISCOVERY_DOMAIN, AVAHI_PROTO_INET6, 0, fleet_discovery_resolver_cb, inst);
	if (inst->resolver4 == NULL || inst->resolver6 == NULL)
		g_debug("cannot resolve a service: %s", avahi_strerror(avahi_client_errno(client)));
}

void
fleet_discovery_service_new(FleetDiscovery *self,
			    const gchar *instance,
			    gint interface,
			    gint protocol)
{
	FleetDiscoveryInstance *inst;
	gboolean was_gone;
	FleetDiscoverySighting sighting = {interface, protocol};

	g_return_if_fail(FLEET_IS_DISCOVERY(self));
	g_return_if_fail(instance != NULL);

	inst = fleet_discovery_instance_get(self, instance);
	was_gone = inst->sightings->len == 0;
	for (guint i = 0; i < inst->sightings->len; i++) {
		FleetDiscoverySighting *s =
		    &g_array_index(inst->sightings, FleetDiscoverySighting, i);
		if (s->interface == interface && s->protocol == protocol)
			return;
	}
	g_array_append_val(inst->sightings, sighting);
	fleet_discovery_source_clear(&inst->grace);
	/* a new or returning instance may run other firmware now (a reboot after an
	 * update): look at its records again */
	if (was_gone || inst->resolver4 == NULL)
		fleet_discovery_instance_resolve(inst);
}

void
fleet_discovery_service_removed(FleetDiscovery *self,
				const gchar *instance,
				gint interface,
				gint protocol)
{
	FleetDiscoveryInstance *inst;

	g_return_if_fail(FLEET_IS_DISCOVERY(self));
	g_return_if_fail(instance != NULL);

	inst = g_hash_table_lookup(self->instances, instance);
	if (inst == NULL)
		return;
	for (guint i = 0; i < inst->sightings->len; i++) {
		FleetDiscoverySighting *s =
		    &g_array_index(inst->sightings, FleetDiscoverySighting, i);
		if (s->interface == interface && s->protocol == protocol) {
			g_array_remove_index_fast(inst->sightings, i);
			break;
		}
	}
	if (inst->sightings->len == 0)
		fleet_discovery_instance_start_grace(inst);
}

static gboolean
fleet_discovery_reconnect_cb(gpointer user_data)
{
	FleetDiscovery *self = FLEET_DISCOVERY(user_data);
	g_source_unref(self->reconnect);
	self->reconnect = NULL;
	fleet_discovery_drop_client(self);
	fleet_discovery_connect(self);
	return G_SOURCE_REMOVE;
}

static void
fleet_discovery_schedule_reconnect(FleetDiscovery *self, guint ms)
{
	if (self->reconnect != NULL)
		return;
	self->reconnect = fleet_discovery_timeout(self, ms, fleet_discovery_reconnect_cb, self);
}

static void
fleet_discovery_browser_cb(AvahiServiceBrowser *browser,
			   AvahiIfIndex interface,
			   AvahiProtocol protocol,
			   AvahiBrowserEvent event,
			   const char *name,
			   const char *type,
			   const char *domain,
			   AvahiLookupResultFlags flags,
			   void *user_data)
{
	FleetDiscovery *self = FLEET_DISCOVERY(user_data);

	switch (event) {
	case AVAHI_BROWSER_NEW:
		fleet_discovery_service_new(self, name, interface, protocol);
		break;
	case AVAHI_BROWSER_REMOVE:
		fleet_discovery_service_removed(self, name, interface, protocol);
		break;
	case AVAHI_BROWSER_FAILURE:
		/* the browser is dead; start over with a fresh client */
		fleet_discovery_set_unavailable(
		    self, avahi_client_errno(avahi_service_browser_get_client(browser)));
		fleet_discovery_schedule_reconnect(self, 0);
		break;
	case AVAHI_BROWSER_CACHE_EXHAUSTED:
	case AVAHI_BROWSER_ALL_FOR_NOW:
	default:
		break;
	}
}

static void
fleet_discovery_browse(FleetDiscovery *self, AvahiClient *client)
{
	if (self->browser != NULL)
		return;
	self->browser = avahi_service_browser_new(
	    client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, FLEET_DISCOVERY_SERVICE_TYPE,
	    FLEET_DISCOVERY_DOMAIN, 0, fleet_discovery_browser_cb, self);
	if (self->browser == NULL) {
		fleet_discovery_set_unavailable(self, avahi_client_errno(client));
		fleet_discovery_schedule_reconnect(self, FLEET_DISCOVERY_RETRY_MS);
		return;
	}
	fleet_discovery_set_state(self, FLEET_DISCOVERY_STATE_RUNNING, NULL);
}

static void
fleet_discovery_client_cb(AvahiClient *client, AvahiClientState state, void *user_data)
{
	FleetDiscovery *self = FLEET_DISCOVERY(user_data);

	/* the first call comes from inside avahi_client_new(), before it returns @client */
	if (self->client == NULL)
		self->client = client;

	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
	case AVAHI_CLIENT_S_REGISTERING:
	case AVAHI_CLIENT_S_COLLISION:
		/* the daemon answers; its own host name does not matter for browsing */
		fleet_discovery_browse(self, client);
		break;
	case AVAHI_CLIENT_CONNECTING:
		/* only with AVAHI_CLIENT_NO_FAIL: the daemon is not on the bus; the client
		 * watches for it and goes on by itself when it appears */
		fleet_discovery_set_unavailable(self, AVAHI_ERR_NO_DAEMON);
		break;
	case AVAHI_CLIENT_FAILURE:
	default:
		/* typically AVAHI_ERR_DISCONNECTED: the daemon (or the bus) went away. A new
		 * client waits for it; not from inside this callback, which libdbus runs */
		fleet_discovery_set_unavailable(self, avahi_client_errno(client));
		fleet_discovery_schedule_reconnect(self, 0);
		break;
	}
}

static void
fleet_discovery_connect(FleetDiscovery *self)
{
	int error = AVAHI_OK;
	AvahiClient *client;

	if (self->poll == NULL)
		self->poll = avahi_glib_poll_new(self->context, G_PRIORITY_DEFAULT);
	client = avahi_client_new(avahi_glib_poll_get(self->poll), AVAHI_CLIENT_NO_FAIL,
				  fleet_discovery_client_cb, self, &error);
	if (client == NULL) {
		/* not even the bus answers (NO_FAIL covers only a missing daemon); whatever
		 * the callback saw was freed with the client */
		self->client = NULL;
		self->browser = NULL;
		fleet_discovery_set_unavailable(self, error);
		fleet_discovery_schedule_reconnect(self, FLEET_DISCOVERY_RETRY_MS);
		return;
	}
	self->client = client;
}

void
fleet_discovery_start(FleetDiscovery *self)
{
	g_return_if_fail(FLEET_IS_DISCOVERY(self));
	if (self->started)
		return;
	self->started = TRUE;
	fleet_discovery_connect(self);
}

void
fleet_discovery_refresh(FleetDiscovery *self)
{
	g_return_if_fail(FLEET_IS_DISCOVERY(self));
	if (!self->started) {
		fleet_discovery_start(self);
		return;
	}
	if (self->browser == NULL) {
		fleet_discovery_source_clear(&self->reconnect);
		fleet_discovery_drop_client(self);
		fleet_discovery_connect(self);
		return;
	}
	/* the new browser reports every instance it still sees, which cancels its grace
	 * period and resolves it again; the others go offline */
	fleet_discovery_forget_sightings(self);
	g_clear_pointer(&self->browser, avahi_service_browser_free);
	fleet_discovery_browse(self, self->client);
}

FleetDiscoveryState
fleet_discovery_get_state(FleetDiscovery *self)
{
	g_return_val_if_fail(FLEET_IS_DISCOVERY(self), FLEET_DISCOVERY_STATE_UNAVAILABLE);
	return self->state;
}

const gchar *
fleet_discovery_get_error_message(FleetDiscovery *self)
{
	g_return_val_if_fail(FLEET_IS_DISCOVERY(self), NULL);
	return self->error_message;
}

guint
fleet_discovery_get_grace_period(FleetDiscovery *self)
{
	g_return_val_if_fail(FLEET_IS_DISCOVERY(self), 0);
	return self->grace_ms;
}

void
fleet_discovery_set_grace_period(FleetDiscovery *self, guint grace_ms)
{
	g_return_if_fail(FLEET_IS_DISCOVERY(self));
	if (self->grace_ms == grace_ms)
		return;
	self->grace_ms = grace_ms;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_GRACE_PERIOD]);
}

FleetDeviceList *
fleet_discovery_get_devices(FleetDiscovery *self)
{
	g_return_val_if_fail(FLEET_IS_DISCOVERY(self), NULL);
	return self->devices;
}

/* RFC 1123 host name labels; the user may type a name with a trailing dot */
static gboolean
fleet_discovery_hostname_valid(const gchar *host)
{
	g_auto(GStrv) labels = NULL;
	gsize len = strlen(host);
	gboolean numeric = FALSE;
	if (len == 0 || len > 253)
		return FALSE;
	labels = g_strsplit(host, ".", -1);
	for (guint i = 0; labels[i] != NULL; i++) {
		gsize n = strlen(labels[i]);
		if (n == 0) {
			if (labels[i + 1] != NULL || i == 0)
				return FALSE;
			break;
		}
		if (n > 63 || labels[i][0] == '-' || labels[i][n - 1] == '-')
			return FALSE;
		numeric = TRUE;
		for (gsize j = 0; j < n; j++) {
			if (!g_ascii_isalnum(labels[i][j]) && labels[i][j] != '-' &&
			    labels[i][j] != '_')
				return FALSE;
			if (!g_ascii_isdigit(labels[i][j]))
				numeric = FALSE;
		}
	}
	/* "999.1.1.1" is a mistyped address, not a name (RFC 3696 §2: no all-numeric TLD) */
	return !numeric;
}

/* "192.168.1.5", "FE80::1%eth0", "[::1]", "esp32-1.local." → canonical text, NULL if invalid;
 * *is_ip says whether it is an address */
static gchar *
fleet_discovery_normalize_host(const gchar *input, gboolean *is_ip)
{
	g_autofree gchar *host = g_strstrip(g_strdup(input));
	g_autofree gchar *scope = NULL;
	g_autoptr(GInetAddress) inet = NULL;
	gsize len = strlen(host);
	gchar *percent;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	percent = strchr(host, '%');
	if (percent != NULL) {
		/* an IPv6 zone: an interface name */
		*percent = '\0';
		scope = g_strdup(percent + 1);
		if (scope[0] == '\0' || strlen(scope) >= IF_NAMESIZE)
			return NULL;
		for (const gchar *p = scope; *p != '\0'; p++) {
			if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
				return NULL;
		}
	}
	inet = g_inet_address_new_from_string(host);
	if (inet != NULL) {
		g_autofree gchar *canonical = g_inet_address_to_string(inet);
		*is_ip = TRUE;
		if (scope != NULL) {
			if (g_inet_address_get_family(inet) != G_SOCKET_FAMILY_IPV6)
				return NULL;
			return g_strdup_printf("%s%%%s", canonical, scope);
		}
		return g_steal_pointer(&canonical);
	}
	*is_ip = FALSE;
	if (scope != NULL || !fleet_discovery_hostname_valid(host))
		return NULL;
	len = strlen(host);
	if (host[len - 1] == '.')
		host[len - 1] = '\0';
	return g_ascii_strdown(host, -1);
}

FleetDevice *
fleet_discovery_add_manual(
    FleetDiscovery *self, const gchar *host, FleetProtocol protocol, guint port, GError **error)
{
	g_autofree gchar *canonical = NULL;
	g_autofree gchar *id = NULL;
	g_autoptr(FleetDevice) device = NULL;
	FleetDevice *existing;
	gboolean is_ip = FALSE;

	g_return_val_if_fail(FLEET_IS_DISCOVERY(self), NULL);
	g_return_val_if_fail(host != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (protocol != FLEET_PROTOCOL_ESPOTA && protocol != FLEET_PROTOCOL_HTTP) {
		g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
				    _("A device added by address uses either espota or HTTP"));
		return NULL;
	}
	if (port == 0 || port > G_MAXUINT16) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("Port %u is not valid: use a number from 1 to 65535"), port);
		return NULL;
	}
	canonical = fleet_discovery_normalize_host(host, &is_ip);
	if (canonical == NULL) {
		g_autofree gchar *shown = fleet_text_sanitize(host, -1, 64);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("“%s” is neither an IP address nor a host name"), shown);
		return NULL;
	}
	id = g_strdup_printf("addr:%s:%u", canonical, port);
	existing = fleet_device_list_lookup(self->devices, id);
	if (existing != NULL)
		return existing;

	device = fleet_device_new(id, FLEET_DEVICE_SOURCE_MANUAL);
	fleet_device_set_name(device, canonical);
	if (is_ip)
		fleet_device_set_address(device, canonical);
	else
		fleet_device_set_hostname(device, canonical);
	fleet_device_set_protocols(device, protocol);
	if (protocol == FLEET_PROTOCOL_HTTP) {
		fleet_device_set_http_port(device, (guint16)port);
		fleet_device_set_http_path(device, "/update");
	} else {
		fleet_device_set_ota_port(device, (guint16)port);
	}
	return fleet_device_list_add(self->devices, device);
}

gboolean
fleet_discovery_remove_manual(FleetDiscovery *self, const gchar *device_id, GError **error)
{
	FleetDevice *device;

	g_return_val_if_fail(FLEET_IS_DISCOVERY(self), FALSE);
	g_return_val_if_fail(device_id != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	device = fleet_device_list_lookup(self->devices, device_id);
	if (device == NULL) {
		g_autofree gchar *shown = fleet_text_sanitize(device_id, -1, 80);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND, _("No device “%s”"), shown);
		return FALSE;
	}
	if (fleet_device_get_source(device) != FLEET_DEVICE_SOURCE_MANUAL) {
		g_autofree gchar *shown = fleet_text_sanitize(device_id, -1, 80);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
			    _("“%s” was found on the network, not added by address"), shown);
		return FALSE;
	}
	return fleet_device_list_remove(self->devices, device);
}

static void
fleet_discovery_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetDiscovery *self = FLEET_DISCOVERY(object);
	switch (prop_id) {
	case PROP_DEVICES:
		g_value_set_object(value, self->devices);
		break;
	case PROP_STATE:
		g_value_set_enum(value, self->state);
		break;
	case PROP_ERROR_MESSAGE:
		g_value_set_string(value, self->error_message);
		break;
	case PROP_GRACE_PERIOD:
		g_value_set_uint(value, self->grace_ms);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
fleet_discovery_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	FleetDiscovery *self = FLEET_DISCOVERY(object);
	switch (prop_id) {
	case PROP_DEVICES:
		self->devices = g_value_dup_object(value);
		break;
	case PROP_GRACE_PERIOD:
		fleet_discovery_set_grace_period(self, g_value_get_uint(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
fleet_discovery_constructed(GObject *object)
{
	FleetDiscovery *self = FLEET_DISCOVERY(object);
	G_OBJECT_CLASS(fleet_discovery_parent_class)->constructed(object);
	if (self->devices == NULL)
		self->devices = fleet_device_list_new();
}

static void
fleet_discovery_dispose(GObject *object)
{
	FleetDiscovery *self = FLEET_DISCOVERY(object);
	fleet_discovery_source_clear(&self->reconnect);
	fleet_discovery_drop_client(self);
	g_hash_table_remove_all(self->instances);
	g_clear_pointer(&self->poll, avahi_glib_poll_free);
	g_clear_object(&self->devices);
	G_OBJECT_CLASS(fleet_discovery_parent_class)->dispose(object);
}

static void
fleet_discovery_finalize(GObject *object)
{
	FleetDiscovery *self = FLEET_DISCOVERY(object);
	g_hash_table_unref(self->instances);
	g_main_context_unref(self->context);
	g_free(self->error_message);
	G_OBJECT_CLASS(fleet_discovery_parent_class)->finalize(object);
}

static void
fleet_discovery_class_init(FleetDiscoveryClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
	object_class->constructed = fleet_discovery_constructed;
	object_class->get_property = fleet_discovery_get_property;
	object_class->set_property = fleet_discovery_set_property;
	object_class->dispose = fleet_discovery_dispose;
	object_class->finalize = fleet_discovery_finalize;

	props[PROP_DEVICES] = g_param_spec_object("devices", NULL, NULL, FLEET_TYPE_DEVICE_LIST,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
						      G_PARAM_STATIC_STRINGS);
	props[PROP_STATE] = g_param_spec_enum("state", NULL, NULL, FLEET_TYPE_DISCOVERY_STATE,
					      FLEET_DISCOVERY_STATE_STARTING, ro);
	props[PROP_ERROR_MESSAGE] = g_param_spec_string("error-message", NULL, NULL, NULL, ro);
	props[PROP_GRACE_PERIOD] = g_param_spec_uint(
	    "grace-period", NULL, NULL, 0, G_MAXUINT, FLEET_DISCOVERY_GRACE_PERIOD_DEFAULT_MS,
	    G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
fleet_discovery_init(FleetDiscovery *self)
{
	self->grace_ms = FLEET_DISCOVERY_GRACE_PERIOD_DEFAULT_MS;
	self->context = g_main_context_ref_thread_default();
	self->instances = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						(GDestroyNotify)fleet_discovery_instance_free);
}

FleetDiscovery *
fleet_discovery_new(FleetDeviceList *devices)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_LIST(devices), NULL);
	return g_object_new(FLEET_TYPE_DISCOVERY, "devices", devices, NULL);
}
