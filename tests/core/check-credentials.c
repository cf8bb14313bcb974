/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-credentials.c - passwords in gnome-keyring on a private bus, and the in-memory fallback */

#include <check.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-credentials.h"

/*
 *   check-credentials keyring   under tests/core/with-keyring.sh (private bus + gnome-keyring)
 *   check-credentials memory    with a session bus address that leads nowhere
 */

/* every password here contains this, so the log writer spots any that gets logged */
#define MARK "pw-7f3a"
#define NO_KEYRING_REASON                                                                          \
	"No keyring (Secret Service) is available: passwords are kept only until espfleet quits"

/* written independently of fleet-credentials.c: the stored items must match it */
static const SecretSchema test_schema = {
    "io.github.espfleet.EspFleet.Password",
    SECRET_SCHEMA_NONE,
    {
	{"device", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"protocol", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{NULL, 0},
    },
};

static gchar *scratch_home; /* memory mode: must stay empty */
static guint log_messages;
static gboolean log_leak;

static gboolean
field_has_mark(const GLogField *field)
{
	if (field->value == NULL)
		return FALSE;
	if (field->length < 0)
		return strstr(field->value, MARK) != NULL;
	for (gsize i = 0; i + strlen(MARK) <= (gsize)field->length; i++) {
		if (memcmp((const guint8 *)field->value + i, MARK, strlen(MARK)) == 0)
			return TRUE;
	}
	return FALSE;
}

/* sees every message, debug included (G_MESSAGES_DEBUG=all) */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (field_has_mark(&fields[i]))
			log_leak = TRUE;
	}
	log_messages++;
	return g_log_writer_default(level, fields, n_fields, user_data);
}

static void
got_result(GObject *source, GAsyncResult *result, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(result);
}

static GAsyncResult *
wait_result(GAsyncResult **slot)
{
	while (*slot == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *slot;
}

static gchar *
lookup(FleetCredentials *creds, const gchar *device_id, FleetProtocol protocol)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	gchar *password;

	fleet_credentials_lookup_async(creds, device_id, protocol, NULL, got_result, &res);
	password = fleet_credentials_lookup_finish(creds, wait_result(&res), &error);
	ck_assert_msg(error == NULL, "lookup: %s", error != NULL ? error->message : "");
	return password;
}

static void
store(FleetCredentials *creds,
      const gchar *device_id,
      const gchar *name,
      FleetProtocol protocol,
      const gchar *password)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	fleet_credentials_store_async(creds, device_id, name, protocol, password, NULL, got_result,
				      &res);
	ck_assert_msg(fleet_credentials_store_finish(creds, wait_result(&res), &error), "store: %s",
		      error != NULL ? error->message : "");
}

static void
set_default(FleetCredentials *creds, FleetProtocol protocol, const gchar *password)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	fleet_credentials_set_default_async(creds, protocol, password, NULL, got_result, &res);
	ck_assert_msg(fleet_credentials_set_default_finish(creds, wait_result(&res), &error),
		      "set_default: %s", error != NULL ? error->message : "");
}

static void
clear(FleetCredentials *creds, const gchar *device_id, FleetProtocol protocol)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	fleet_credentials_clear_async(creds, device_id, protocol, NULL, got_result, &res);
	ck_assert_msg(fleet_credentials_clear_finish(creds, wait_result(&res), &error), "clear: %s",
		      error != NULL ? error->message : "");
}

#define ck_assert_password(creds, id, protocol, expected)                                          \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_autoptr(FleetPassword) _pw = lookup((creds), (id), (protocol));                  \
		ck_assert_pstr_eq(_pw, (expected));                                                \
	}                                                                                          \
	G_STMT_END

static void
assert_no_leak(void)
{
	ck_assert_msg(!log_leak, "a password reached the log");
}

/* the sequence every store must pass: own password, fleet default, per protocol, clear */
static void
check_fallback_rules(FleetCredentials *creds, const gchar *id)
{
	/* a clean start, whatever ran before on this keyring */
	clear(creds, FLEET_CREDENTIALS_DEFAULT_ID, FLEET_PROTOCOL_ESPOTA);
	clear(creds, FLEET_CREDENTIALS_DEFAULT_ID, FLEET_PROTOCOL_HTTP);
	ck_assert_password(creds, id, FLEET_PROTOCOL_ESPOTA, NULL);

	set_default(creds, FLEET_PROTOCOL_ESPOTA, MARK "-fleet");
	ck_assert_password(creds, id, FLEET_PROTOCOL_ESPOTA, MARK "-fleet");
	ck_assert_password(creds, id, FLEET_PROTOCOL_HTTP, NULL);
	ck_assert_password(creds, FLEET_CREDENTIALS_DEFAULT_ID, FLEET_PROTOCOL_ESPOTA,
			   MARK "-fleet");

	store(creds, id, "esp-b", FLEET_PROTOCOL_ESPOTA, MARK "-b");
	ck_assert_password(creds, id, FLEET_PROTOCOL_ESPOTA, MARK "-b");
	/* another device still gets the default */
	ck_assert_password(creds, "mac:02:00:00:00:00:ff", FLEET_PROTOCOL_ESPOTA, MARK "-fleet");

	clear(creds, id, FLEET_PROTOCOL_ESPOTA);
	ck_assert_password(creds, id, FLEET_PROTOCOL_ESPOTA, MARK "-fleet");
	clear(creds, FLEET_CREDENTIALS_DEFAULT_ID, FLEET_PROTOCOL_ESPOTA);
	ck_assert_password(creds, id, FLEET_PROTOCOL_ESPOTA, NULL);
	/* clearing what is not there is fine */
	clear(creds, id, FLEET_PROTOCOL_ESPOTA);
}

static GList *
search_items(const gchar *id, const gchar *protocol)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) attrs =
	    secret_attributes_build(&test_schema, "device", id, "protocol", protocol, NULL);
	GList *items =
	    secret_service_search_sync(NULL, &test_schema, attrs, SECRET_SEARCH_ALL, NULL, &error);
	ck_assert_msg(error == NULL, "search: %s", error != NULL ? error->message : "");
	return items;
}

/* ---- keyring mode ---- */

START_TEST(test_keyring_store_lookup)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();
	g_autoptr(FleetCredentials) again = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *direct = NULL;
	const gchar *id = "mac:02:00:00:00:00:01";
	GList *items;

	store(creds, id, "esp-one", FLEET_PROTOCOL_ESPOTA, MARK "-one");
	ck_assert(fleet_credentials_get_persistent(creds));
	ck_assert_ptr_null(fleet_credentials_get_reason(creds));
	ck_assert_password(creds, id, FLEET_PROTOCOL_ESPOTA, MARK "-one");

	/* really in the Secret Service, under the schema, the attributes and the label */
	direct = secret_password_lookup_sync(&test_schema, NULL, &error, "device", id, "protocol",
					     "espota", NULL);
	ck_assert_ptr_null(error);
	ck_assert_str_eq(direct, MARK "-one");
	items = search_items(id, "espota");
	ck_assert_uint_eq(g_list_length(items), 1);
	{
		g_autofree gchar *label = secret_item_get_label(items->data);
		ck_assert_str_eq(label, "ESP Fleet Updater: esp-one");
	}
	g_list_free_full(items, g_object_unref);

	/* a new run of the program finds it */
	again = fleet_credentials_new();
	ck_assert_password(again, id, FLEET_PROTOCOL_ESPOTA, MARK "-one");
	ck_assert(fleet_credentials_get_persistent(again));
	assert_no_leak();
}
END_TEST

START_TEST(test_keyring_fallback_rules)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();
	check_fallback_rules(creds, "mac:02:00:00:00:00:02");
	ck_assert(fleet_credentials_get_persistent(creds));
	assert_no_leak();
}
END_TEST

START_TEST(test_keyring_overwrite)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();
	const gchar *id = "name:esp-overwrite";
	GList *items;

	store(creds, id, "esp-overwrite", FLEET_PROTOCOL_HTTP, MARK "-old");
	store(creds, id, "esp-overwrite", FLEET_PROTOCOL_HTTP, MARK "-new");
	ck_assert_password(creds, id, FLEET_PROTOCOL_HTTP, MARK "-new");
	items = search_items(id, "http");
	ck_assert_uint_eq(g_list_length(items), 1);
	g_list_free_full(items, g_object_unref);
	clear(creds, id, FLEET_PROTOCOL_HTTP);
	ck_assert_password(creds, id, FLEET_PROTOCOL_HTTP, NULL);
	items = search_items(id, "http");
	ck_assert_uint_eq(g_list_length(items), 0);
	assert_no_leak();
}
END_TEST

/* the name in the label comes from the device: no control characters reach the keyring */
START_TEST(test_keyring_label_sanitized)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();
	const gchar *id = "name:evil";
	GList *items;

	store(creds, id, "evil\x1b[2J\nname", FLEET_PROTOCOL_ESPOTA, MARK "-evil");
	items = search_items(id, "espota");
	ck_assert_uint_eq(g_list_length(items), 1);
	{
		g_autofree gchar *label = secret_item_get_label(items->data);
		ck_assert_str_eq(label, "ESP Fleet Updater: evil\\x1b[2J\\x0aname");
	}
	g_list_free_full(items, g_object_unref);
	assert_no_leak();
}
END_TEST

/* cancelling is not a missing keyring */
START_TEST(test_keyring_cancelled)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *password = NULL;

	g_cancellable_cancel(cancellable);
	fleet_credentials_lookup_async(creds, "name:x", FLEET_PROTOCOL_ESPOTA, cancellable,
				       got_result, &res);
	password = fleet_credentials_lookup_finish(creds, wait_result(&res), &error);
	ck_assert_ptr_null(password);
	ck_assert(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
	ck_assert(fleet_credentials_get_persistent(creds));
}
END_TEST

/* ---- memory mode ---- */

static void
assert_scratch_empty(void)
{
	g_autoptr(GDir) dir = g_dir_open(scratch_home, 0, NULL);
	const gchar *name;
	ck_assert_ptr_nonnull(dir);
	name = g_dir_read_name(dir);
	ck_assert_msg(name == NULL, "%s was written to HOME", name);
}

START_TEST(test_memory_probe)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();
	gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	/* the probe finds out without any call */
	while (fleet_credentials_get_persistent(creds) && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	ck_assert(!fleet_credentials_get_persistent(creds));
	ck_assert_str_eq(fleet_credentials_get_reason(creds), NO_KEYRING_REASON);
}
END_TEST

START_TEST(test_memory_roundtrip)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();

	/* straight away, before the probe has answered */
	store(creds, "mac:02:00:00:00:00:03", "esp-three", FLEET_PROTOCOL_ESPOTA, MARK "-three");
	ck_assert(!fleet_credentials_get_persistent(creds));
	ck_assert_str_eq(fleet_credentials_get_reason(creds), NO_KEYRING_REASON);
	ck_assert_password(creds, "mac:02:00:00:00:00:03", FLEET_PROTOCOL_ESPOTA, MARK "-three");
	ck_assert_password(creds, "mac:02:00:00:00:00:03", FLEET_PROTOCOL_HTTP, NULL);
	check_fallback_rules(creds, "mac:02:00:00:00:00:04");

	/* the debug log was on and seen, and held no password; nothing went to a file */
	ck_assert_uint_gt(log_messages, 0);
	assert_no_leak();
	assert_scratch_empty();
}
END_TEST

/* memory mode lasts as long as the object: a new one knows nothing */
START_TEST(test_memory_not_persistent)
{
	g_autoptr(FleetCredentials) creds = fleet_credentials_new();
	g_autoptr(FleetCredentials) other = NULL;

	store(creds, "name:esp-gone", "esp-gone", FLEET_PROTOCOL_HTTP, MARK "-gone");
	g_clear_object(&creds);
	other = fleet_credentials_new();
	ck_assert_password(other, "name:esp-gone", FLEET_PROTOCOL_HTTP, NULL);
	assert_scratch_empty();
}
END_TEST

START_TEST(test_free_password_null)
{
	fleet_credentials_free_password(NULL);
	fleet_credentials_free_password(g_strdup(MARK "-wiped"));
}
END_TEST

int
main(int argc, char **argv)
{
	const gchar *mode = argc > 1 ? argv[1] : "";
	Suite *s = suite_create("credentials");
	TCase *tc = tcase_create(mode);
	g_autofree gchar *nowhere = NULL;
	int status;

	if (g_strcmp0(mode, "keyring") == 0) {
		if (g_getenv("DBUS_SESSION_BUS_ADDRESS") == NULL) {
			fprintf(stderr, "keyring mode runs under tests/core/with-keyring.sh\n");
			return 1;
		}
		tcase_add_test(tc, test_keyring_store_lookup);
		tcase_add_test(tc, test_keyring_fallback_rules);
		tcase_add_test(tc, test_keyring_overwrite);
		tcase_add_test(tc, test_keyring_label_sanitized);
		tcase_add_test(tc, test_keyring_cancelled);
	} else if (g_strcmp0(mode, "memory") == 0) {
		g_autofree gchar *bus = NULL;
		/* a bus that cannot exist, and a HOME that must stay empty */
		nowhere = g_dir_make_tmp("check-credentials-XXXXXX", NULL);
		g_assert_nonnull(nowhere);
		scratch_home = g_build_filename(nowhere, "home", NULL);
		g_mkdir(scratch_home, 0700);
		bus = g_strdup_printf("unix:path=%s/no-such-bus", nowhere);
		g_setenv("DBUS_SESSION_BUS_ADDRESS", bus, TRUE);
		g_unsetenv("DBUS_STARTER_ADDRESS");
		g_unsetenv("DBUS_STARTER_BUS_TYPE");
		g_setenv("HOME", scratch_home, TRUE);
		g_setenv("XDG_DATA_HOME", scratch_home, TRUE);
		g_setenv("XDG_CONFIG_HOME", scratch_home, TRUE);
		g_setenv("XDG_CACHE_HOME", scratch_home, TRUE);
		g_setenv("XDG_RUNTIME_DIR", scratch_home, TRUE);
		tcase_add_test(tc, test_memory_probe);
		tcase_add_test(tc, test_memory_roundtrip);
		tcase_add_test(tc, test_memory_not_persistent);
		tcase_add_test(tc, test_free_password_null);
	} else {
		fprintf(stderr, "usage: %s keyring|memory\n", argv[0]);
		return 2;
	}
	g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
	g_log_set_writer_func(log_writer, NULL, NULL);

	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	status = fleet_check_run(s);
	if (nowhere != NULL) {
		g_rmdir(scratch_home);
		g_rmdir(nowhere);
	}
	g_free(scratch_home);
	return status;
}
