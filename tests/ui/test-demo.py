#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-demo.py - the demo fleet end to end: espfleet --demo starts simulated devices on
loopback, and the real window updates them (password prompt, remember in the private
keyring, a second batch that does not ask, cancel mid-batch, retry, report export); the
simulators are gone after quitting

usage: test-demo.py --app BUILD/src/gtk/espfleet --sim BUILD/.../espfleet-sim --out DIR

Runs without root: the simulators listen on 127.x addresses and nothing is multicast.
Exit 77 (skip) with the reason when Xvfb, D-Bus or gnome-keyring tools are missing.
"""

import argparse
import csv
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uitest  # noqa: E402
from uitest import check, gv_str, gv_strv, log  # noqa: E402

TOTAL_TIMEOUT = 240


def results(app, names):
    devices = app.by_name()
    return {n: devices[n]['result'] for n in names if n in devices}


def wait_results(app, names, wanted, timeout=90):
    def done():
        r = results(app, names)
        return r if len(r) == len(names) and all(v is not None for v in r.values()) else None
    r = app.wait('results of ' + ', '.join(names), done, timeout)
    check(all(v in wanted for v in r.values()), 'unexpected results: %r' % r)
    return r


def batch_number(app):
    batch = app.state('batch')
    return batch['number'] if batch else 0


def run_batch(app, action='update', parameter=None, timeout=90, during=None):
    """starts a batch and waits for its end; @during() runs on every poll"""
    number = batch_number(app) + 1
    app.activate(action, parameter)

    def ended():
        if during is not None:
            during()
        batch = app.state('batch')
        return batch if batch['number'] == number and batch['finished'] else None
    return app.wait('the end of batch %d' % number, ended, timeout, interval=0.05)


def inner(args):
    shots = args.out
    os.makedirs(shots, exist_ok=True)
    env = uitest.test_env({
        # never the machine's avahi-daemon (it would browse the real network)
        'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/espfleet-test-system-bus',
        'ESPFLEET_SIM': args.sim,
    })
    app = uitest.App(args.app, env, log_path=os.path.join(shots, 'espfleet.log'))
    demo_dir = None
    # the desktop around the app: a notification server and a web browser that only record
    notify_log = os.path.join(os.environ['HOME'], 'notifications.jsonl')
    browser_log = os.path.join(os.environ['HOME'], 'browser.log')
    notifier = uitest.start_notification_server(notify_log)
    uitest.install_browser(browser_log)
    try:
        app.start(['--demo'])
        uitest.park_pointer()

        # five simulated devices come online with what they say about themselves
        def fleet_ready():
            devices = app.devices()
            ok = len(devices) == 5 and all(d['online'] and d['version'] for d in devices)
            return devices if ok else None
        devices = app.wait('five online demo devices', fleet_ready, 60)
        report = app.wait('the demo image', lambda: app.state('image-report'), 30)
        demo_dir = os.path.dirname(report['file'])
        log('demo image:', json.dumps(report))
        check(report['usable'] and report['chip'] == 'esp32', 'demo image: %r' % report)
        names = {d['name']: d for d in devices}
        check(names['demo-esp8266-1']['verdict'] == 'refuse', 'the ESP8266 is not refused')
        check('ESP8266' in (names['demo-esp8266-1']['message'] or ''),
              'no reason for the refusal: %r' % names['demo-esp8266-1'])
        esp32 = sorted(n for n, d in names.items() if d['verdict'] != 'refuse')
        check(len(esp32) == 4 and 'demo-locked-1' in esp32, 'compatible devices: %r' % esp32)
        ids = {n: d['id'] for n, d in names.items()}
        check(not app.enabled('update'), 'Update is enabled with nothing ticked')
        shot = uitest.screenshot(shots, 'demo-fleet')

        # search (Ctrl+F, typing, Escape) and a quick filter decide which rows show
        def shown():
            return sorted(d['name'] for d in app.devices() if d['shown'])
        app.wait('every row shown', lambda: len(shown()) == 5, 10)
        if uitest.press_key(ord('f'), modifiers=[uitest.CONTROL]):
            uitest.type_text('8266')
            app.wait('the search result', lambda: shown() == ['demo-esp8266-1'], 10)
            uitest.screenshot(shots, 'search')
            uitest.press_key(uitest.ESCAPE)
            app.wait('the search to end', lambda: len(shown()) == 5, 10)
        app.set_window_state('filter-compatible', 'true')
        app.wait('only compatible rows', lambda: shown() == esp32, 10)
        app.set_window_state('filter-compatible', 'false')
        app.wait('every row again', lambda: len(shown()) == 5, 10)

        # forcing warns first; the default answer keeps the refused device out
        app.set_state('force', 'true')
        app.wait('the force warning', lambda: uitest.app_window_geometry(
            'Send the image to incompatible devices?'), 10)
        uitest.screenshot(shots, 'force-warning',
                          window='Send the image to incompatible devices?')
        if uitest.press_key():
            app.wait('the warning to close', lambda: uitest.app_window_geometry(
                'Send the image to incompatible devices?') is None, 10)
            check(not app.bool_state('force'), 'the default answer forced the batch')

        # the refused device cannot be ticked, the others can
        app.activate('select-devices', gv_strv(list(ids.values())))
        app.wait('four ticked', lambda: sorted(d['name'] for d in app.devices()
                                               if d['checked']) == esp32, 10)
        check(app.enabled('update'), 'Update is not enabled with devices ticked')

        # first batch: a password prompt for the locked device, remembered in the keyring
        app.activate('update')
        main_shot = False
        prompted = False
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            devices = app.devices()
            uploading = [d for d in devices if d['phase'] in ('uploading', 'device-verifying')
                         and 0.05 < d['progress'] < 0.95]
            if not main_shot and len(uploading) >= 2:
                uitest.screenshot(shots, 'main-window', settle=False)
                main_shot = True
            prompt = app.state('password-prompt')
            if prompt and not prompted:
                check(prompt['device'] == ids['demo-locked-1'], 'prompt for %r' % prompt)
                check(prompt['rejected'] is False, 'first prompt says rejected')
                uitest.screenshot(shots, 'password-dialog', window='Device Password')
                app.activate('answer-password', "(%s, true, false)" % gv_str('demo'))
                prompted = True
            if all(d['result'] for d in devices if d['name'] in esp32):
                break
            time.sleep(0.05)
        check(prompted, 'the locked device never asked for its password')
        wait_results(app, esp32, {'verified'})
        batch = app.wait('the end of the batch',
                         lambda: (lambda b: b if b and b['finished'] else None)(app.state('batch')),
                         10)
        log('batch:', json.dumps(batch))
        check(batch['counts'].get('verified') == 4, 'batch counts: %r' % batch)
        check(not main_shot or os.path.exists(os.path.join(shots, 'main-window.png')), 'shot')
        shot = uitest.screenshot(shots, 'verified', previous=shot)
        secret = uitest.keyring_secret({'device': ids['demo-locked-1'], 'protocol': 'espota'})
        check(secret in ('demo', True), 'the keyring holds %r, not the password' % secret)
        app.wait('the lock shows a remembered password',
                 lambda: app.by_name()['demo-locked-1']['password'] == 'remembered', 10)

        # the transcript pane shows the selected device's update
        app.activate('show-device', gv_str(ids['demo-esp32-2']))
        transcript = app.wait('the transcript of demo-esp32-2', lambda: (
            lambda t: t if t and t['device'] == ids['demo-esp32-2'] and t['text'] else None)(
                app.state('transcript')), 10)
        check('verified' in transcript['text'], 'transcript: %r' % transcript['text'][-400:])
        uitest.screenshot(shots, 'transcript')

        # second batch: the keyring answers, nobody is asked
        app.activate('select-devices', gv_strv([ids['demo-locked-1']]))
        app.wait('one ticked', lambda: [d['name'] for d in app.devices() if d['checked']]
                 == ['demo-locked-1'], 10)
        def not_asked():
            check(not app.state('password-prompt'), 'asked again for a remembered password')
        # while the window is not the active one, the end of a batch is a desktop
        # notification whose default action brings the window back
        uitest.drop_focus()
        before = len(uitest.notifications(notify_log))
        batch = run_batch(app, during=not_asked, timeout=60)
        check(batch['counts'] == {'verified': 1}, 'second batch: %r' % batch)
        if notifier is not None:
            sent = app.wait('the notification', lambda: uitest.notifications(notify_log)[before:],
                            10)
            note = sent[-1]
            log('notification:', json.dumps(note))
            check(note['method'] == 'AddNotification' and note['app'] == uitest.APP_ID
                  and note['id'] == 'batch-finished', 'notification: %r' % note)
            check(note['notification'].get('title') == 'Firmware updates finished'
                  and '1 verified' in note['notification'].get('body', ''),
                  'notification text: %r' % note)
            check(note['notification'].get('default-action') == 'app.activate-window',
                  'notification action: %r' % note)
            app.activate('activate-window')
        else:
            log('the desktop notification: not tested (needs python3-gi)')

        # the row menu from the keyboard: Shift+F10 on the shown device; Copy Address puts
        # its address on the clipboard, Open Web Page hands its web page to the browser
        esp32_1 = app.by_name()['demo-esp32-1']
        app.activate('show-device', gv_str(esp32_1['id']))
        if uitest.press_key(0xFFC7, modifiers=[uitest.SHIFT]):
            uitest.screenshot(shots, 'row-menu')
            app.activate_window('row-copy-address')
            copied = app.wait('the copied address', uitest.clipboard_text, 10)
            check(copied == esp32_1['address'], 'copied %r, not %r' % (copied, esp32_1['address']))
            app.activate_window('row-open-web-page')
            opened = app.wait('the web page in the browser', lambda: os.path.exists(browser_log)
                              and open(browser_log).read().split(), 10)
            check(len(opened) == 1 and opened[0].startswith('http://%s:' % esp32_1['address'])
                  and opened[0].endswith('/'), 'browser got %r' % opened)
            with urllib.request.urlopen(opened[0] + 'info', timeout=5) as r:
                info = json.load(r)
            check(info.get('name') == 'demo-esp32-1', 'the web page is of %r' % info.get('name'))
            uitest.press_key(uitest.ESCAPE)
        else:
            log('the row menu: not tested (needs libXtst)')

        # cancel mid-batch, then retry what was cancelled
        plain = [n for n in esp32 if n != 'demo-locked-1']
        app.activate('select-devices', gv_strv([ids[n] for n in plain]))
        app.wait('three ticked', lambda: sorted(d['name'] for d in app.devices()
                                                if d['checked']) == plain, 10)
        number = batch_number(app) + 1
        app.activate('update')
        app.wait('an upload under way', lambda: any(
            d['phase'] in ('uploading', 'device-verifying') for d in app.devices()), 30, 0.02)
        app.activate('cancel-all')
        batch = app.wait('the cancelled batch', lambda: (
            lambda b: b if b['number'] == number and b['finished'] else None)(app.state('batch')),
            30)
        wait_results(app, plain, {'cancelled', 'verified'}, 5)
        check(batch['counts'].get('cancelled', 0) >= 1, 'nothing was cancelled: %r' % batch)
        check('failed' not in batch['counts'], 'cancelling failed devices: %r' % batch)
        # the summary's "N cancelled" shows only those devices
        cancelled = sorted(d['name'] for d in app.devices() if d['result'] == 'cancelled')
        app.activate_window('filter-result', gv_str('cancelled'))
        app.wait('only the cancelled rows', lambda: sorted(
            d['name'] for d in app.devices() if d['shown']) == cancelled, 10)
        uitest.screenshot(shots, 'cancelled')
        app.activate_window('filter-result', gv_str(''))
        app.wait('every row again', lambda: all(d['shown'] for d in app.devices()), 10)
        check(app.enabled('retry-failed'), 'Retry Failed is not offered')
        batch = run_batch(app, 'retry-failed')
        check(set(batch['counts']) <= {'verified'}, 'after the retry: %r' % batch)
        wait_results(app, plain, {'verified'}, 5)

        # the report, both formats
        csv_path = os.path.join(shots, 'report.csv')
        json_path = os.path.join(shots, 'report.json')
        for path in (csv_path, json_path):
            if os.path.exists(path):
                os.unlink(path)
            app.activate('export-report', gv_str(path))
            app.wait('the report ' + path, lambda: os.path.exists(path) and os.path.getsize(path),
                     10)
        with open(csv_path, newline='') as f:
            rows = list(csv.DictReader(f))
        check(list(rows[0].keys()) == ['device', 'id', 'address', 'old_version', 'new_version',
                                       'protocol', 'bytes', 'duration_s', 'attempts', 'result',
                                       'error'], 'CSV columns: %r' % list(rows[0].keys()))
        check(sorted(r['device'] for r in rows) == esp32, 'CSV devices: %r' % rows)
        check(all(r['result'] == 'verified' and r['protocol'] == 'espota' and int(r['bytes']) > 0
                  for r in rows), 'CSV rows: %r' % rows)
        retried = [r for r in rows if r['device'] in plain and int(r['attempts']) >= 2]
        check(retried, 'no retried device in the report: %r' % rows)
        with open(json_path) as f:
            report_json = json.load(f)
        check(len(report_json['devices']) == 4 and all(
            d['new_version'] == '1.1.0' for d in report_json['devices']), 'JSON: %r' % report_json)

        # the row menu's "Forget Password" empties the keyring for that device; "Remove
        # Device" takes a device added by address off the list
        app.activate('forget-password', gv_str(ids['demo-locked-1']))
        app.wait('the password forgotten', lambda: app.by_name()['demo-locked-1']['password']
                 == 'none', 10)
        check(uitest.keyring_secret({'device': ids['demo-locked-1'], 'protocol': 'espota'})
              is None, 'the keyring still holds the password')
        app.activate('remove-device', gv_str(ids['demo-esp8266-1']))
        app.wait('the device removed', lambda: 'demo-esp8266-1' not in app.by_name(), 10)

        # closing the window during a batch asks; "finish in the background" (the default
        # answer) closes it and the app holds on until the batch is over
        number = batch_number(app) + 1
        app.activate('update')
        app.wait('batch %d running' % number, lambda: (
            lambda b: b['number'] == number and b['running'])(app.state('batch')), 30, 0.02)
        app.activate('quit')
        app.wait('the question', lambda: uitest.app_window_geometry(
            'Updates are still running'), 10)
        uitest.screenshot(shots, 'close-during-batch', window='Updates are still running')
        if uitest.press_key():
            app.wait('the main window to close', lambda: uitest.app_window_geometry() is None,
                     10)
            check(app.state('batch')['running'], 'the batch stopped with the window')
            rc = app.proc.wait(timeout=120)
        else:
            log('closing during a batch: not tested (needs libXtst)')
            app.wait('batch %d' % number, lambda: app.state('batch')['finished'], 120)
            rc = app.quit()
        check(rc == 0, 'espfleet exited with %d' % rc)
        # the simulators and their files went with the app
        check(not os.path.exists(demo_dir), 'the demo directory %s is left' % demo_dir)
        for pid in os.listdir('/proc'):
            if pid.isdigit():
                try:
                    with open('/proc/%s/cmdline' % pid, 'rb') as f:
                        cmdline = f.read().decode(errors='replace')
                except OSError:
                    continue
                check(demo_dir not in cmdline, 'a simulator is still running: ' + cmdline)
    finally:
        app.kill()
        if notifier is not None:
            notifier.terminate()
            notifier.wait(timeout=10)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--app', required=True)
    parser.add_argument('--sim', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--inner', action='store_true')
    args = parser.parse_args()
    if not args.inner:
        tool = uitest.missing_tools()
        if tool is not None:
            print('SKIP: %s is not installed (xvfb, dbus, x11-apps, x11-utils, imagemagick, '
                  'gnome-keyring)' % tool)
            return uitest.SKIP
        return uitest.run_group(uitest.inner_command(__file__, ['--app', args.app, '--sim',
                                                                args.sim, '--out', args.out]),
                                TOTAL_TIMEOUT)
    try:
        return inner(args)
    except (uitest.CheckFailed, RuntimeError, OSError, ValueError, KeyError) as e:
        print('FAIL:', type(e).__name__, e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
