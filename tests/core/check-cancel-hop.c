/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-cancel-hop.c - cancellation from any thread, handled once on the session's context */

#include <check.h>

#include "fleet-cancel-hop.h"
#include "fleet-check-run.h"

typedef struct {
	guint calls;
	GThread *thread; /* where the call ran */
	FleetCancelHop *hop; /* freed by the call when set: a session ending itself */
} Seen;

static void
seen_func(gpointer user_data)
{
	Seen *seen = user_data;
	seen->calls++;
	seen->thread = g_thread_self();
	g_clear_pointer(&seen->hop, fleet_cancel_hop_free);
}

/* runs @context until @seen got a call or @wait_ms passed, then 50 ms more for a second call */
static void
iterate(GMainContext *context, Seen *seen, guint wait_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)wait_ms * 1000;
	while (seen->calls == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(context, FALSE);
	deadline = g_get_monotonic_time() + 50 * 1000;
	while (g_get_monotonic_time() < deadline)
		g_main_context_iteration(context, FALSE);
}

static gpointer
cancel_thread(gpointer data)
{
	g_cancellable_cancel(G_CANCELLABLE(data));
	return NULL;
}

START_TEST(test_null_cancellable)
{
	Seen seen = {0};
	ck_assert_ptr_null(fleet_cancel_hop_new(NULL, NULL, seen_func, &seen));
	fleet_cancel_hop_free(NULL);
}
END_TEST

START_TEST(test_other_thread)
{
	g_autoptr(GMainContext) context = g_main_context_new();
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	Seen seen = {0};
	GThread *thread;

	seen.hop = fleet_cancel_hop_new(cancellable, context, seen_func, &seen);
	ck_assert_ptr_nonnull(seen.hop);
	thread = g_thread_new("canceller", cancel_thread, cancellable);
	g_thread_join(thread);
	/* nothing ran in the cancelling thread, nothing before the context iterates */
	ck_assert_uint_eq(seen.calls, 0);
	iterate(context, &seen, 2000);
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_ptr_eq(seen.thread, g_thread_self());
	ck_assert_ptr_null(seen.hop); /* freed from inside its own call */
}
END_TEST

START_TEST(test_already_cancelled)
{
	g_autoptr(GMainContext) context = g_main_context_new();
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	Seen seen = {0};
	g_autoptr(FleetCancelHop) hop = NULL;

	g_cancellable_cancel(cancellable);
	hop = fleet_cancel_hop_new(cancellable, context, seen_func, &seen);
	ck_assert_uint_eq(seen.calls, 0);
	iterate(context, &seen, 2000);
	ck_assert_uint_eq(seen.calls, 1);
}
END_TEST

START_TEST(test_once)
{
	g_autoptr(GMainContext) context = g_main_context_new();
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	Seen seen = {0};
	g_autoptr(FleetCancelHop) hop = fleet_cancel_hop_new(cancellable, context, seen_func, &seen);

	g_cancellable_cancel(cancellable);
	g_cancellable_reset(cancellable);
	g_cancellable_cancel(cancellable);
	iterate(context, &seen, 2000);
	ck_assert_uint_eq(seen.calls, 1);
}
END_TEST

START_TEST(test_freed_before_delivery)
{
	g_autoptr(GMainContext) context = g_main_context_new();
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	Seen seen = {0};
	FleetCancelHop *hop = fleet_cancel_hop_new(cancellable, context, seen_func, &seen);

	/* the session ended on its own between the cancellation and the context's next turn */
	g_cancellable_cancel(cancellable);
	fleet_cancel_hop_free(hop);
	iterate(context, &seen, 100);
	ck_assert_uint_eq(seen.calls, 0);
	/* and a cancellation after the end reaches nobody */
	g_cancellable_reset(cancellable);
	g_cancellable_cancel(cancellable);
	iterate(context, &seen, 100);
	ck_assert_uint_eq(seen.calls, 0);
}
END_TEST

/* many threads racing a free on the owning thread: never a call after the free */
START_TEST(test_race_with_free)
{
	for (guint round = 0; round < 200; round++) {
		g_autoptr(GMainContext) context = g_main_context_new();
		g_autoptr(GCancellable) cancellable = g_cancellable_new();
		Seen seen = {0};
		FleetCancelHop *hop = fleet_cancel_hop_new(cancellable, context, seen_func, &seen);
		GThread *thread = g_thread_new("canceller", cancel_thread, cancellable);
		if (round % 2 == 0)
			g_thread_yield();
		fleet_cancel_hop_free(hop);
		g_thread_join(thread);
		while (g_main_context_iteration(context, FALSE))
			;
		ck_assert_uint_eq(seen.calls, 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cancel-hop");
	TCase *tc = tcase_create("hop");

	tcase_add_test(tc, test_null_cancellable);
	tcase_add_test(tc, test_other_thread);
	tcase_add_test(tc, test_already_cancelled);
	tcase_add_test(tc, test_once);
	tcase_add_test(tc, test_freed_before_delivery);
	tcase_add_test(tc, test_race_with_free);
	suite_add_tcase(s, tc);
	return fleet_check_run(s);
}
