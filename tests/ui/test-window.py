#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# test-window.py - start espfleet under Xvfb, open images through its D-Bus actions, save
# screenshots
#
# usage: test-window.py --app BUILD/src/gtk/espfleet --screenshots DIR [--image-gen PROG]
#
# The outer run starts "with-keyring.sh xvfb-run test-window.py --inner ..." (a private
# session bus and gnome-keyring, see uitest.py) in its own process group and kills that
# group when anything goes wrong or takes longer than 60 s. The app gets a system bus
# address where nothing listens, so it never browses the real network; its empty state
# must then say that discovery is unavailable and why.
# The inner run (inside the private X server and session bus) starts the app, drives it
# through org.gtk.Actions and waits for the app.image-report state, never for a fixed time.
# Exit code 77 (skip) with the reason when Xvfb, dbus-run-session or a screenshot tool is
# missing.

import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uitest  # noqa: E402

APP_ID = 'io.github.espfleet.EspFleet'
OBJECT_PATH = '/io/github/espfleet/EspFleet'
TOTAL_TIMEOUT = 60
SKIP = 77

VERSION = 'v2.4.1-ui-test'
PROJECT = 'greenhouse-node'


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------------------------------
# test image: tests/common's fleet-test-image-gen when meson passes it, else this minimal
# valid ESP32-S3 application (esp-images.md)

def esp32s3_app_image():
    desc = bytearray(256)
    struct.pack_into('<II', desc, 0, 0xABCD5432, 0)          # magic, secure_version
    desc[16:16 + len(VERSION)] = VERSION.encode()             # version[32]
    desc[48:48 + len(PROJECT)] = PROJECT.encode()             # project_name[32]
    desc[80:88] = b'12:34:56'                                 # time[16]
    desc[96:107] = b'Nov 21 2026'                             # date[16]
    desc[112:118] = b'v5.2.1'                                 # idf_ver[32]
    desc[144:176] = hashlib.sha256(b'elf').digest()           # app_elf_sha256
    desc[180] = 16                                            # mmu_page_size: 64 KiB

    iram = bytes((i * 37 + 11) & 0xFF for i in range(512))
    segments = [(0x3C000020, bytes(desc)), (0x40374000, iram)]

    img = bytearray()
    img += bytes([0xE9, len(segments), 0x02, 0x20])           # magic, count, DIO, 4MB/40MHz
    img += struct.pack('<I', 0x40374080)                      # entry
    img += bytes([0xEE, 0, 0, 0])                             # wp pin, drive settings
    img += struct.pack('<HBHH', 9, 0, 0, 99)                  # chip id, min rev, min/max full
    img += bytes(4) + bytes([1])                              # reserved, hash appended
    checksum = 0xEF
    for addr, data in segments:
        img += struct.pack('<II', addr, len(data)) + data
        for b in data:
            checksum ^= b
    # the checksum byte ends a 16-byte block; zero padding before it
    while (len(img) + 1) % 16 != 0:
        img.append(0)
    img.append(checksum)
    img += hashlib.sha256(img).digest()
    return bytes(img)


def write_images(tmp, image_gen):
    good = os.path.join(tmp, 'greenhouse-node.bin')
    if image_gen:
        subprocess.run([image_gen, 'esp32s3-app', good, '--version', VERSION, '--project',
                        PROJECT], check=True, timeout=20)
    else:
        with open(good, 'wb') as f:
            f.write(esp32s3_app_image())
    with open(good, 'rb') as f:
        data = bytearray(f.read())
    # flip one byte inside segment 1: the checksum and the appended SHA-256 no longer match
    bad = os.path.join(tmp, 'greenhouse-node-corrupted.bin')
    data[len(data) // 2] ^= 0xFF
    with open(bad, 'wb') as f:
        f.write(data)
    return good, bad


# ---------------------------------------------------------------------------------------
# inner run: inside Xvfb and the private session bus

def gdbus(*args, timeout=10):
    r = subprocess.run(['gdbus', 'call', '--session'] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError('gdbus %s failed: %s' % (' '.join(args), r.stderr.strip()))
    return r.stdout


def activate(action, parameter=None):
    params = '[]' if parameter is None else '[<%s>]' % gvariant_string(parameter)
    gdbus('--dest', APP_ID, '--object-path', OBJECT_PATH,
          '--method', 'org.gtk.Actions.Activate', action, params, '{}')


def gvariant_string(s):
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


def image_report():
    return uitest.action_state('image-report')


def wait_for(what, predicate, deadline, interval=0.1):
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError('timed out waiting for ' + what)
        time.sleep(interval)


def park_pointer():
    """move the pointer to the screen's bottom-right corner, off the window, so that no
    tooltip or hover highlight ends up in a screenshot (Xvfb starts it in the middle)"""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library('X11')
    if name is None:
        return
    x11 = ctypes.CDLL(name)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_int]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    if not display:
        return
    root = x11.XDefaultRootWindow(display)
    x11.XWarpPointer(display, 0, root, 0, 0, 0, 0, 1279, 799)
    x11.XFlush(display)
    x11.XCloseDisplay(display)


def x11_libs():
    import ctypes
    import ctypes.util
    x11 = ctypes.CDLL(ctypes.util.find_library('X11') or 'libX11.so.6')
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    name = ctypes.util.find_library('Xtst')
    xtst = ctypes.CDLL(name) if name else None
    if xtst is not None:
        xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                              ctypes.c_int, ctypes.c_ulong]
        xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                              ctypes.c_ulong]
    return x11, xtst


def python_with_gtk():
    """a python3 that has PyGObject with GTK 3 (the system one, usually), or None"""
    for python in (sys.executable, '/usr/bin/python3'):
        if not os.path.exists(python):
            continue
        r = subprocess.run([python, '-c', "import gi; gi.require_version('Gtk', '3.0')"],
                           capture_output=True, timeout=20)
        if r.returncode == 0:
            return python
    return None


def drag_with_pointer(start, end):
    """press at start, move in steps (XDND needs motion events), release at end"""
    x11, xtst = x11_libs()
    display = x11.XOpenDisplay(None)
    try:
        def move(x, y):
            xtst.XTestFakeMotionEvent(display, -1, x, y, 0)
            x11.XFlush(display)
            time.sleep(0.03)
        move(*start)
        xtst.XTestFakeButtonEvent(display, 1, 1, 0)
        x11.XFlush(display)
        time.sleep(0.2)
        steps = 30
        for i in range(1, steps + 1):
            move(start[0] + (end[0] - start[0]) * i // steps,
                 start[1] + (end[1] - start[1]) * i // steps)
        time.sleep(0.3)
        move(*end)
        xtst.XTestFakeButtonEvent(display, 1, 0, 0)
        x11.XFlush(display)
    finally:
        x11.XCloseDisplay(display)


def window_named(title):
    r = subprocess.run(['xwininfo', '-root', '-tree'], capture_output=True, text=True,
                       timeout=10)
    return ('"%s"' % title) in r.stdout


def test_drop(path, env, deadline):
    """drop path onto the window as a file:// URI from another GTK app; False when this
    system cannot do it (no PyGObject or no XTest)"""
    python = python_with_gtk()
    _, xtst = x11_libs()
    if python is None or xtst is None:
        log('drag and drop: not tested (needs PyGObject for GTK 3 and libXtst)')
        return False
    source = subprocess.Popen([python, os.path.join(os.path.dirname(__file__),
                                                    'drag-source.py'), 'file://' + path], env=env)
    try:
        wait_for('the drag source window', lambda: window_named('drag source'), deadline)
        drag_with_pointer((1100, 730), (480, 300))
        report = wait_for('the report of the dropped ' + path,
                          lambda: (lambda r: r if r and r['file'] == path else None)(
                              image_report()), deadline)
        log('image-report after the drop:', json.dumps(report))
    finally:
        source.terminate()
        source.wait(timeout=10)
        park_pointer()
    return True


def grab_screen():
    return uitest.grab_screen()


def wait_for_settled_screen(deadline, previous=None):
    """the screen once it stopped changing (animations, repaints); if previous is given,
    first wait until it differs from that"""
    shot = grab_screen()
    if previous is not None:
        while shot == previous and time.monotonic() < deadline:
            time.sleep(0.1)
            shot = grab_screen()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        again = grab_screen()
        if again == shot:
            return shot
        shot = again
    raise RuntimeError('the screen never settled')


def save_png(shot, path):
    subprocess.run(['convert', 'ppm:-', 'png:' + path], input=shot, check=True, timeout=20)
    log('screenshot:', path)


def app_window_geometry():
    """x, y, width, height of the espfleet window, from xwininfo"""
    r = subprocess.run(['xwininfo', '-root', '-tree'], capture_output=True, text=True,
                       timeout=10)
    for line in r.stdout.splitlines():
        if '"ESP Fleet Updater"' in line or '"espfleet"' in line:
            m = re.search(r'(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)', line)
            if m and int(m.group(1)) > 100:
                w, h, ax, ay = (int(m.group(i)) for i in (1, 2, 5, 6))
                return ax, ay, w, h
    return None


def save_window_png(shot, path):
    geometry = app_window_geometry()
    if geometry is None:
        return
    x, y, w, h = geometry
    subprocess.run(['convert', 'ppm:-', '-crop', '%dx%d+%d+%d' % (w, h, x, y), '+repage',
                    'png:' + path], input=shot, check=True, timeout=20)
    log('screenshot (window):', path)


def inner(args):
    deadline = time.monotonic() + TOTAL_TIMEOUT - 10
    os.makedirs(args.screenshots, exist_ok=True)
    env = dict(os.environ)
    # no accessibility bus, gvfs or dconf daemons: nothing may outlive the private bus
    env.update({'NO_AT_BRIDGE': '1', 'GIO_USE_VFS': 'local', 'GTK_A11Y': 'none',
                'GSETTINGS_BACKEND': env.get('GSETTINGS_BACKEND', 'memory'),
                # never the machine's avahi-daemon: it would browse the real network
                'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/espfleet-test-system-bus'})

    with tempfile.TemporaryDirectory(prefix='espfleet-ui-') as tmp:
        good, bad = write_images(tmp, args.image_gen)
        app = subprocess.Popen([args.app], env=env)
        try:
            def owned():
                if app.poll() is not None:
                    raise RuntimeError('espfleet exited early with %d' % app.returncode)
                out = gdbus('--dest', 'org.freedesktop.DBus', '--object-path',
                            '/org/freedesktop/DBus', '--method',
                            'org.freedesktop.DBus.NameHasOwner', APP_ID)
                return 'true' in out
            wait_for('the bus name ' + APP_ID, owned, deadline)
            check(image_report() is None, 'image-report is set before any image was opened')
            # without a system bus there is no avahi-daemon to ask: the empty state says so
            discovery = wait_for('discovery to give up', lambda: (
                lambda d: d if d and d['state'] == 'unavailable' else None)(
                    uitest.action_state('discovery')), deadline)
            log('discovery:', json.dumps(discovery))
            check('avahi' in (discovery['message'] or '').lower(),
                  'the empty state does not name avahi-daemon: %r' % discovery)
            wait_for('the window', app_window_geometry, deadline)
            # only now: Xvfb resets (and centres the pointer) while it has no clients
            park_pointer()
            empty = wait_for_settled_screen(deadline)
            save_png(empty, os.path.join(args.screenshots, 'empty.png'))

            # a valid image
            activate('open-image', good)
            report = wait_for('the report of ' + good,
                              lambda: (lambda r: r if r and r['file'] == good else None)(
                                  image_report()), deadline)
            log('image-report:', json.dumps(report))
            check(report['chip'] == 'esp32s3', 'chip is %r' % report['chip'])
            check(report['version'] == VERSION, 'version is %r' % report['version'])
            check(report['usable'] is True, 'the valid image is not usable')
            check(report['errors'] == 0, 'the valid image has errors')
            with open(good, 'rb') as f:
                check(report['sha256'] == hashlib.sha256(f.read()).hexdigest(), 'sha256')
            shot = wait_for_settled_screen(deadline, previous=empty)
            save_png(shot, os.path.join(args.screenshots, 'report-valid.png'))
            save_window_png(shot, os.path.join(args.screenshots, 'report-valid-window.png'))

            # the same image with one byte flipped
            activate('open-image', 'file://' + bad)
            report = wait_for('the report of ' + bad,
                              lambda: (lambda r: r if r and r['file'] == bad else None)(
                                  image_report()), deadline)
            log('image-report:', json.dumps(report))
            check(report['usable'] is False, 'the corrupted image is usable')
            check(report['errors'] >= 1, 'the corrupted image has no errors')
            bad_shot = wait_for_settled_screen(deadline, previous=shot)
            save_png(bad_shot, os.path.join(args.screenshots, 'report-corrupted.png'))
            save_window_png(bad_shot,
                            os.path.join(args.screenshots, 'report-corrupted-window.png'))

            # the valid image once more, dropped from another application
            dropped = os.path.join(tmp, 'dropped.bin')
            shutil.copyfile(good, dropped)
            current = bad
            if test_drop(dropped, env, deadline):
                current = dropped
                bad_shot = wait_for_settled_screen(deadline)

            # a file that cannot be read: an error bar, the report stays
            missing = os.path.join(tmp, 'does-not-exist.bin')
            activate('open-image', missing)
            error_shot = wait_for_settled_screen(deadline, previous=bad_shot)
            save_png(error_shot, os.path.join(args.screenshots, 'open-error.png'))
            check(app.poll() is None, 'espfleet died on an unreadable file')
            check(image_report()['file'] == current, 'the report changed on an unreadable file')

            activate('quit')
            try:
                rc = app.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise RuntimeError('espfleet did not quit')
            check(rc == 0, 'espfleet exited with %d' % rc)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    return 0


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


# ---------------------------------------------------------------------------------------
# outer run

def outer(args):
    tool = uitest.missing_tools()
    if tool is not None:
        print('SKIP: %s is not installed (needs xvfb, dbus, x11-apps, x11-utils, imagemagick, '
              'gnome-keyring)' % tool)
        return SKIP
    extra = ['--app', args.app, '--screenshots', args.screenshots]
    if args.image_gen:
        extra += ['--image-gen', args.image_gen]
    return uitest.run_group(uitest.inner_command(__file__, extra), TOTAL_TIMEOUT)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--app', required=True)
    parser.add_argument('--screenshots', required=True)
    parser.add_argument('--image-gen')
    parser.add_argument('--inner', action='store_true')
    args = parser.parse_args()
    if not args.inner:
        return outer(args)
    try:
        return inner(args)
    except (CheckFailed, RuntimeError, subprocess.SubprocessError) as e:
        print('FAIL:', e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
