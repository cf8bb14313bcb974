#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""ui-500-rows.py - a list of 500 devices: how long the rows take to appear, and how late
the main loop runs while the list is scrolled with the mouse wheel

usage: ui-500-rows.py BUILD_DIR            (./run bench passes build/)
       ui-500-rows.py --app PROG

500 devices are added by address (loopback addresses where nothing listens, so they stay
offline and are asked again now and then, as unreachable devices are), an image is chosen
so every row shows a verdict, then the pointer scrolls the list down and up with XTest
wheel events while the app's 10 ms probe at GTK's repaint priority (ESPFLEET_LATENCY_PROBE)
records its lateness: a frame that takes long to draw shows up there. Prints the time
until all rows are there, and max / 99th percentile lateness while scrolling; target for
smooth scrolling: max < 50 ms.

Runs under Xvfb with a private session bus and keyring; exit 77 when the tools (or
libXtst) are missing, 1 when the target is missed.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, 'tests', 'ui'))
import uitest  # noqa: E402
from uitest import check, gv_str, log  # noqa: E402

ROWS = 500
NOTCHES = 60
TARGET_MAX_MS = 50.0
TOTAL_TIMEOUT = 300


def inner(args):
    work = tempfile.mkdtemp(prefix='espfleet-rows-')
    app = None
    try:
        image = os.path.join(work, 'app.bin')
        if args.sim:
            subprocess.run([args.sim, '--make-image', image, '--chip', 'esp32',
                            '--fw-version', '2.0.0'], check=True, stdout=subprocess.DEVNULL)
        env = uitest.test_env({
            'ESPFLEET_LATENCY_PROBE': '1',
            'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/espfleet-bench-system-bus',
        })
        app = uitest.App(args.app, env, log_path=os.path.join(work, 'espfleet.log'))
        app.start()
        uitest.park_pointer()
        net = '127.%d.%d.' % (random.randint(16, 250), random.randint(1, 250))
        entries = ['(%s, %s, uint16 %d, uint16 %d)' % (
            gv_str(net + str(1 + i // 200)), gv_str('espota'), 3232 + i % 200, 8080 + i % 200)
            for i in range(ROWS)]
        t0 = time.monotonic()
        app.activate('add-addresses', '@a(ssqq) [' + ', '.join(entries) + ']')
        app.wait('%d rows' % ROWS, lambda: len(app.devices()) == ROWS, 60, 0.1)
        added = time.monotonic() - t0
        if args.sim:
            app.activate('open-image', gv_str(image))
            app.wait('verdicts', lambda: all(d['verdict'] for d in app.devices()), 30)

        geometry = uitest.app_window_geometry()
        check(geometry is not None, 'no window')
        x, y, w, h = geometry
        # the list fills the middle of the window
        px, py = x + w // 2, y + h // 3
        app.reset_latency()
        before = uitest.grab_screen()
        t0 = time.monotonic()
        uitest.wheel(px, py, NOTCHES, 5)
        duration = time.monotonic() - t0
        scrolled = uitest.settled_screen()
        t0 = time.monotonic()
        uitest.wheel(px, py, NOTCHES, 4)
        duration += time.monotonic() - t0
        # the wheel really moved the list
        check(scrolled != before, 'the list did not scroll')
        if args.out:
            uitest.save_png(scrolled, os.path.join(args.out, 'ui-500-rows-scrolled.png'),
                            window=uitest.WINDOW_TITLE)
        # the state is refreshed every 250 ms: wait for a value from after the scrolling
        time.sleep(0.6)
        latency = app.state('latency')
        log('')
        log('500 rows: %d devices listed (with verdicts) %.1f s after they were added'
            % (ROWS, added))
        log('  scrolling:        %d wheel notches down and up in %.1f s' % (2 * NOTCHES,
                                                                         duration))
        log('  lateness max:     %6.1f ms   (target < %.0f ms)' % (latency['max_ms'],
                                                                  TARGET_MAX_MS))
        log('  lateness p99:     %6.1f ms' % latency['p99_ms'])
        log('  main thread busy: %6.1f ms at most between two 10 ms ticks' %
            latency['busy_max_ms'])
        log('  machine load:     %s (1, 5, 15 min)' % ', '.join(
            '%.2f' % v for v in os.getloadavg()))
        ok = latency['max_ms'] < TARGET_MAX_MS
        log('  result:           %s' % ('target met' if ok else 'TARGET MISSED'))
        rc = app.quit(timeout=60)
        check(rc == 0, 'espfleet exited with %d' % rc)
        return 0 if ok else 1
    finally:
        if app is not None:
            app.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('build', nargs='?', help='the build directory (./run bench)')
    parser.add_argument('--app')
    parser.add_argument('--sim')
    parser.add_argument('--out', help='where to save a screenshot of the scrolled list')
    parser.add_argument('--inner', action='store_true')
    args = parser.parse_args()
    if args.build:
        args.app = args.app or os.path.join(args.build, 'src', 'gtk', 'espfleet')
        sim = os.path.join(args.build, 'firmware', 'port', 'linux-sim', 'espfleet-sim')
        args.sim = args.sim or (sim if os.path.exists(sim) else None)
        os.environ.setdefault('GSETTINGS_SCHEMA_DIR', os.path.join(args.build, 'data'))
    if not args.app:
        parser.error('give the build directory, or --app')
    if not args.inner:
        tool = uitest.missing_tools()
        if tool is None and uitest.x11_libs()[1] is None:
            tool = 'libXtst'
        if tool is not None:
            print('SKIP: %s is not installed (xvfb, dbus, x11-apps, x11-utils, imagemagick, '
                  'gnome-keyring, libxtst6)' % tool)
            return uitest.SKIP
        extra = ['--app', args.app] + (['--sim', args.sim] if args.sim else []) + \
            (['--out', os.path.abspath(args.out)] if args.out else [])
        return uitest.run_group(uitest.inner_command(__file__, extra), TOTAL_TIMEOUT)
    try:
        return inner(args)
    except (uitest.CheckFailed, RuntimeError, OSError, ValueError, KeyError) as e:
        print('FAIL:', type(e).__name__, e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
