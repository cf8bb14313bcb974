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
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uitest  # noqa: E402

TOTAL_TIMEOUT = 60

VERSION = 'v2.4.1-ui-test'
PROJECT = 'greenhouse-node'


log = uitest.log
check = uitest.check


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

def image_report():
    return uitest.action_state('image-report')


def report_of(path):
    """the image report once it is the one of @path, else None"""
    report = image_report()
    return report if report and report['file'] == path else None


def test_drop(app, path, env, left):
    """drop path onto the window as a file:// URI from another GTK app; False when this
    system cannot do it (no PyGObject or no XTest)"""
    python = uitest.python_with_gi(gtk=True)
    if python is None or uitest.x11_libs()[1] is None:
        log('drag and drop: not tested (needs PyGObject for GTK 3 and libXtst)')
        return False
    source = subprocess.Popen([python, os.path.join(os.path.dirname(__file__),
                                                    'drag-source.py'), 'file://' + path], env=env)
    try:
        uitest.wait_for('the drag source window',
                        lambda: uitest.app_window_geometry('drag source'), left())
        uitest.drag((1100, 730), (480, 300))
        report = app.wait('the report of the dropped ' + path, lambda: report_of(path), left())
        log('image-report after the drop:', json.dumps(report))
    finally:
        source.terminate()
        source.wait(timeout=10)
        uitest.park_pointer()
    return True


def inner(args):
    deadline = time.monotonic() + TOTAL_TIMEOUT - 10

    def left():
        return max(1, deadline - time.monotonic())

    def shot(name, previous=None, window=False):
        """the settled screen saved as <name>.png (and the window as <name>-window.png)"""
        screen = uitest.settled_screen(timeout=left(), previous=previous)
        uitest.save_png(screen, os.path.join(args.screenshots, name + '.png'))
        if window:
            uitest.save_png(screen, os.path.join(args.screenshots, name + '-window.png'),
                            window=uitest.WINDOW_TITLE)
        return screen

    os.makedirs(args.screenshots, exist_ok=True)
    # never the machine's avahi-daemon: it would browse the real network
    env = uitest.test_env({'DBUS_SYSTEM_BUS_ADDRESS':
                           'unix:path=/nonexistent/espfleet-test-system-bus'})

    with tempfile.TemporaryDirectory(prefix='espfleet-ui-') as tmp:
        good, bad = write_images(tmp, args.image_gen)
        app = uitest.App(args.app, env)
        try:
            app.start()
            check(image_report() is None, 'image-report is set before any image was opened')
            # without a system bus there is no avahi-daemon to ask: the empty state says so
            discovery = app.wait('discovery to give up', lambda: (
                lambda d: d if d and d['state'] == 'unavailable' else None)(
                    app.state('discovery')), left())
            log('discovery:', json.dumps(discovery))
            check('avahi' in (discovery['message'] or '').lower(),
                  'the empty state does not name avahi-daemon: %r' % discovery)
            # only now: Xvfb resets (and centres the pointer) while it has no clients
            uitest.park_pointer()
            empty = shot('empty')

            # a valid image
            app.activate('open-image', uitest.gv_str(good))
            report = app.wait('the report of ' + good, lambda: report_of(good), left())
            log('image-report:', json.dumps(report))
            check(report['chip'] == 'esp32s3', 'chip is %r' % report['chip'])
            check(report['version'] == VERSION, 'version is %r' % report['version'])
            check(report['usable'] is True, 'the valid image is not usable')
            check(report['errors'] == 0, 'the valid image has errors')
            with open(good, 'rb') as f:
                check(report['sha256'] == hashlib.sha256(f.read()).hexdigest(), 'sha256')
            valid_shot = shot('report-valid', previous=empty, window=True)

            # the same image with one byte flipped
            app.activate('open-image', uitest.gv_str('file://' + bad))
            report = app.wait('the report of ' + bad, lambda: report_of(bad), left())
            log('image-report:', json.dumps(report))
            check(report['usable'] is False, 'the corrupted image is usable')
            check(report['errors'] >= 1, 'the corrupted image has no errors')
            bad_shot = shot('report-corrupted', previous=valid_shot, window=True)

            # the valid image once more, dropped from another application
            dropped = os.path.join(tmp, 'dropped.bin')
            shutil.copyfile(good, dropped)
            current = bad
            if test_drop(app, dropped, env, left):
                current = dropped
                bad_shot = uitest.settled_screen(timeout=left())

            # a file that cannot be read: an error bar, the report stays
            missing = os.path.join(tmp, 'does-not-exist.bin')
            app.activate('open-image', uitest.gv_str(missing))
            shot('open-error', previous=bad_shot)
            check(app.proc.poll() is None, 'espfleet died on an unreadable file')
            check(image_report()['file'] == current, 'the report changed on an unreadable file')

            rc = app.quit(timeout=left())
            check(rc == 0, 'espfleet exited with %d' % rc)
        finally:
            app.kill()
    return 0


# ---------------------------------------------------------------------------------------
# outer run

def outer(args):
    tool = uitest.missing_tools()
    if tool is not None:
        print('SKIP: %s is not installed (needs xvfb, dbus, x11-apps, x11-utils, imagemagick, '
              'gnome-keyring)' % tool)
        return uitest.SKIP
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
    except (uitest.CheckFailed, RuntimeError, subprocess.SubprocessError) as e:
        print('FAIL:', e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
