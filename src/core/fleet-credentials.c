/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-credentials.c - device passwords in the Secret Service, or in memory when there is none */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "fleet-credentials.h"
#include "fleet-text.h"

/* longest device name put into a keyring label */
#define FLEET_CREDENTIALS_LABEL_NAME_MAX 64

struct _FleetCredentials {
	GObject parent_instance;
	gboolean persistent;
	gchar *reason;
	/* "<protocol>\n<device id>" → SecretValue; SecretValue keeps the text in locked
	 * memory and wipes it when the last reference goes */
	GHashTable *memory;
};

G_DEFINE_TYPE(FleetCredentials, fleet_credentials, G_TYPE_OBJECT)

enum { PROP_0, PROP_PERSISTENT, PROP_REASON, N_PROPS };

static GParamSpec *props[N_PROPS];

static const SecretSchema fleet_credentials_schema = {
    FLEET_CREDENTIALS_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    {
	{"device", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"protocol", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{NULL, 0},
    },
};

typedef enum {
	FLEET_CREDENTIALS_OP_LOOKUP,
	FLEET_CREDENTIALS_OP_STORE,
	FLEET_CREDENTIALS_OP_CLEAR,
} FleetCredentialsOpKind;

typedef struct {
	FleetCredentialsOpKind kind;
	gchar *device_id;
	const gchar *protocol; /* static */
	gchar *label;	       /* store only */
	gchar *password;       /* store only; wiped on free */
	gboolean trying_default;
} FleetCredentialsOp;

static void
fleet_credentials_op_free(FleetCredentialsOp *op)
{
	g_free(op->device_id);
	g_free(op->label);
	fleet_credentials_free_password(op->password);
	g_free(op);
}

void
fleet_credentials_free_password(gchar *password)
{
	/* zeroes the text first; also right for the locked memory libsecret hands out */
	secret_password_free(password);
}

static const gchar *
fleet_credentials_protocol_name(FleetProtocol protocol)
{
	switch (protocol) {
	case FLEET_PROTOCOL_ESPOTA:
		return "espota";
	case FLEET_PROTOCOL_HTTP:
		return "http";
	case FLEET_PROTOCOL_NONE:
	default:
		return NULL;
	}
}

static gchar *
fleet_credentials_memory_key(const gchar *device_id, const gchar *protocol)
{
	/* protocol names never contain a newline, so the split is unambiguous */
	return g_strdup_printf("%s\n%s", protocol, device_id);
}

/* the Secret Service answered with an error of its own (locked, no such object…): a real
 * failure. Anything else means nobody answers on the bus: fall back to memory. */
static gboolean
fleet_credentials_error_is_unavailable(const GError *error)
{
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return FALSE;
	return error->domain != SECRET_ERROR;
}

static void
fleet_credentials_fall_back(FleetCredentials *self, const GError *error)
{
	if (!self->persistent)
		return;
	/* the error text comes from D-Bus and never holds a password */
	g_debug("no Secret Service, keeping passwords in memory: %s", error->message);
	self->persistent = FALSE;
	self->reason = g_strdup(_("No keyring (Secret Service) is available: passwords are kept "
				  "only until espfleet quits"));
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PERSISTENT]);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_REASON]);
}

static gchar *
fleet_credentials_memory_lookup(FleetCredentials *self,
				const gchar *device_id,
				const gchar *protocol)
{
	g_autofree gchar *key = fleet_credentials_memory_key(device_id, protocol);
	SecretValue *value = g_hash_table_lookup(self->memory, key);
	if (value == NULL && g_strcmp0(device_id, FLEET_CREDENTIALS_DEFAULT_ID) != 0) {
		g_autofree gchar *fallback =
		    fleet_credentials_memory_key(FLEET_CREDENTIALS_DEFAULT_ID, protocol);
		value = g_hash_table_lookup(self->memory, fallback);
	}
	if (value == NULL)
		return NULL;
	return g_strdup(secret_value_get_text(value));
}

/* finishes @task from the in-memory table */
static void
fleet_credentials_memory_run(FleetCredentials *self, GTask *task)
{
	FleetCredentialsOp *op = g_task_get_task_data(task);
	g_autofree gchar *key = fleet_credentials_memory_key(op->device_id, op->protocol);

	switch (op->kind) {
	case FLEET_CREDENTIALS_OP_LOOKUP:
		g_task_return_pointer(
		    task, fleet_credentials_memory_lookup(self, op->device_id, op->protocol),
		    (GDestroyNotify)fleet_credentials_free_password);
		break;
	case FLEET_CREDENTIALS_OP_STORE:
		g_hash_table_replace(self->memory, g_steal_pointer(&key),
				     secret_value_new(op->password, -1, "text/plain"));
		g_task_return_boolean(task, TRUE);
		break;
	case FLEET_CREDENTIALS_OP_CLEAR:
		g_hash_table_remove(self->memory, key);
		g_task_return_boolean(task, TRUE);
		break;
	default:
		g_assert_not_reached();
	}
}

static void fleet_credentials_keyring_run(GTask *task);

static void
fleet_credentials_lookup_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	FleetCredentials *self = g_task_get_source_object(task);
	FleetCredentialsOp *op = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetPassword) password =
	    secret_password_lookup_nonpageable_finish(result, &error);

	if (error != NULL) {
		if (!fleet_credentials_error_is_unavailable(error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		fleet_credentials_fall_back(self, error);
		fleet_credentials_memory_run(self, task);
		return;
	}
	if (password == NULL && !op->trying_default &&
	    g_strcmp0(op->device_id, FLEET_CREDENTIALS_DEFAULT_ID) != 0) {
		op->trying_default = TRUE;
		fleet_credentials_keyring_run(g_steal_pointer(&task));
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&password),
			      (GDestroyNotify)fleet_credentials_free_password);
}

static void
fleet_credentials_store_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	FleetCredentials *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	if (!secret_password_store_finish(result, &error)) {
		if (!fleet_credentials_error_is_unavailable(error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		fleet_credentials_fall_back(self, error);
		fleet_credentials_memory_run(self, task);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
fleet_credentials_clear_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	FleetCredentials *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	/* FALSE without an error only means there was nothing to remove */
	if (!secret_password_clear_finish(result, &error) && error != NULL) {
		if (!fleet_credentials_error_is_unavailable(error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		fleet_credentials_fall_back(self, error);
		fleet_credentials_memory_run(self, task);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/* takes @task */
static void
fleet_credentials_keyring_run(GTask *task)
{
	FleetCredentialsOp *op = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);
	const gchar *device = op->trying_default ? FLEET_CREDENTIALS_DEFAULT_ID : op->device_id;

	switch (op->kind) {
	case FLEET_CREDENTIALS_OP_LOOKUP:
		secret_password_lookup(&fleet_credentials_schema, cancellable,
				       fleet_credentials_lookup_cb, task, "device", device,
				       "protocol", op->protocol, NULL);
		break;
	case FLEET_CREDENTIALS_OP_STORE:
		secret_password_store(&fleet_credentials_schema, SECRET_COLLECTION_DEFAULT,
				      op->label, op->password, cancellable,
				      fleet_credentials_store_cb, task, "device", device,
				      "protocol", op->protocol, NULL);
		break;
	case FLEET_CREDENTIALS_OP_CLEAR:
		secret_password_clear(&fleet_credentials_schema, cancellable,
				      fleet_credentials_clear_cb, task, "device", device,
				      "protocol", op->protocol, NULL);
		break;
	default:
		g_assert_not_reached();
	}
}

static void
fleet_credentials_start(FleetCredentials *self,
			FleetCredentialsOp *op,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data,
			gpointer source_tag)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, source_tag);
	g_task_set_task_data(task, op, (GDestroyNotify)fleet_credentials_op_free);
	if (!self->persistent) {
		fleet_credentials_memory_run(self, task);
		return;
	}
	fleet_credentials_keyring_run(g_steal_pointer(&task));
}

void
fleet_credentials_lookup_async(FleetCredentials *self,
			       const gchar *device_id,
			       FleetProtocol protocol,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	FleetCredentialsOp *op;
	g_return_if_fail(FLEET_IS_CREDENTIALS(self));
	g_return_if_fail(device_id != NULL && device_id[0] != '\0');
	g_return_if_fail(fleet_credentials_protocol_name(protocol) != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	op = g_new0(FleetCredentialsOp, 1);
	op->kind = FLEET_CREDENTIALS_OP_LOOKUP;
	op->device_id = g_strdup(device_id);
	op->protocol = fleet_credentials_protocol_name(protocol);
	fleet_credentials_start(self, op, cancellable, callback, user_data,
				fleet_credentials_lookup_async);
}

gchar *
fleet_credentials_lookup_finish(FleetCredentials *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(FLEET_IS_CREDENTIALS(self), NULL);
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	g_return_val_if_fail(
	    g_task_get_source_tag(G_TASK(result)) == fleet_credentials_lookup_async, NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

static void
fleet_credentials_store_internal(FleetCredentials *self,
				 const gchar *device_id,
				 gchar *label,
				 FleetProtocol protocol,
				 const gchar *password,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data,
				 gpointer source_tag)
{
	FleetCredentialsOp *op = g_new0(FleetCredentialsOp, 1);
	op->kind = FLEET_CREDENTIALS_OP_STORE;
	op->device_id = g_strdup(device_id);
	op->protocol = fleet_credentials_protocol_name(protocol);
	op->label = label;
	op->password = g_strdup(password);
	fleet_credentials_start(self, op, cancellable, callback, user_data, source_tag);
}

void
fleet_credentials_store_async(FleetCredentials *self,
			      const gchar *device_id,
			      const gchar *device_name,
			      FleetProtocol protocol,
			      const gchar *password,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autofree gchar *name = NULL;
	g_return_if_fail(FLEET_IS_CREDENTIALS(self));
	g_return_if_fail(device_id != NULL && device_id[0] != '\0');
	g_return_if_fail(fleet_credentials_protocol_name(protocol) != NULL);
	g_return_if_fail(password != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	/* the name was announced by the device: keep the keyring's label plain and short */
	name = fleet_text_sanitize(device_name != NULL ? device_name : device_id, -1,
				   FLEET_CREDENTIALS_LABEL_NAME_MAX);
	fleet_credentials_store_internal(
	    self, device_id, g_strdup_printf(_("ESP Fleet Updater: %s"), name), protocol, password,
	    cancellable, callback, user_data, fleet_credentials_store_async);
}

gboolean
fleet_credentials_store_finish(FleetCredentials *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(FLEET_IS_CREDENTIALS(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == fleet_credentials_store_async,
			     FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

void
fleet_credentials_set_default_async(FleetCredentials *self,
				    FleetProtocol protocol,
				    const gchar *password,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data)
{
	g_return_if_fail(FLEET_IS_CREDENTIALS(self));
	g_return_if_fail(fleet_credentials_protocol_name(protocol) != NULL);
	g_return_if_fail(password != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	fleet_credentials_store_internal(
	    self, FLEET_CREDENTIALS_DEFAULT_ID,
	    g_strdup_printf(_("ESP Fleet Updater: %s"), _("default password for all devices")),
	    protocol, password, cancellable, callback, user_data,
	    fleet_credentials_set_default_async);
}

gboolean
fleet_credentials_set_default_finish(FleetCredentials *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(FLEET_IS_CREDENTIALS(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(
	    g_task_get_source_tag(G_TASK(result)) == fleet_credentials_set_default_async, FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

void
fleet_credentials_clear_async(FleetCredentials *self,
			      const gchar *device_id,
			      FleetProtocol protocol,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	FleetCredentialsOp *op;
	g_return_if_fail(FLEET_IS_CREDENTIALS(self));
	g_return_if_fail(device_id != NULL && device_id[0] != '\0');
	g_return_if_fail(fleet_credentials_protocol_name(protocol) != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	op = g_new0(FleetCredentialsOp, 1);
	op->kind = FLEET_CREDENTIALS_OP_CLEAR;
	op->device_id = g_strdup(device_id);
	op->protocol = fleet_credentials_protocol_name(protocol);
	fleet_credentials_start(self, op, cancellable, callback, user_data,
				fleet_credentials_clear_async);
}

gboolean
fleet_credentials_clear_finish(FleetCredentials *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(FLEET_IS_CREDENTIALS(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == fleet_credentials_clear_async,
			     FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean
fleet_credentials_get_persistent(FleetCredentials *self)
{
	g_return_val_if_fail(FLEET_IS_CREDENTIALS(self), FALSE);
	return self->persistent;
}

const gchar *
fleet_credentials_get_reason(FleetCredentials *self)
{
	g_return_val_if_fail(FLEET_IS_CREDENTIALS(self), NULL);
	return self->reason;
}

static void
fleet_credentials_probe_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetCredentials) self = FLEET_CREDENTIALS(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(SecretService) service = secret_service_get_finish(result, &error);

	if (service == NULL && fleet_credentials_error_is_unavailable(error))
		fleet_credentials_fall_back(self, error);
}

static void
fleet_credentials_constructed(GObject *object)
{
	FleetCredentials *self = FLEET_CREDENTIALS(object);
	G_OBJECT_CLASS(fleet_credentials_parent_class)->constructed(object);
	/* opening a session makes the service answer (and starts it when it is activatable),
	 * so the UI can say early that passwords will not be remembered */
	secret_service_get(SECRET_SERVICE_OPEN_SESSION, NULL, fleet_credentials_probe_cb,
			   g_object_ref(self));
}

static void
fleet_credentials_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetCredentials *self = FLEET_CREDENTIALS(object);
	switch (prop_id) {
	case PROP_PERSISTENT:
		g_value_set_boolean(value, self->persistent);
		break;
	case PROP_REASON:
		g_value_set_string(value, self->reason);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
fleet_credentials_finalize(GObject *object)
{
	FleetCredentials *self = FLEET_CREDENTIALS(object);
	g_hash_table_unref(self->memory);
	g_free(self->reason);
	G_OBJECT_CLASS(fleet_credentials_parent_class)->finalize(object);
}

static void
fleet_credentials_class_init(FleetCredentialsClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
	object_class->constructed = fleet_credentials_constructed;
	object_class->get_property = fleet_credentials_get_property;
	object_class->finalize = fleet_credentials_finalize;

	props[PROP_PERSISTENT] = g_param_spec_boolean("persistent", NULL, NULL, TRUE, ro);
	props[PROP_REASON] = g_param_spec_string("reason", NULL, NULL, NULL, ro);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
fleet_credentials_init(FleetCredentials *self)
{
	self->persistent = TRUE;
	self->memory = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     (GDestroyNotify)secret_value_unref);
}

FleetCredentials *
fleet_credentials_new(void)
{
	return g_object_new(FLEET_TYPE_CREDENTIALS, NULL);
}
