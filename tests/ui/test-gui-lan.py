#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-gui-lan.py - the real window against the LAN harness: five simulated devices in
network namespaces (two with the same password) found through a real avahi-daemon

usage: test-gui-lan.py --app BUILD/src/gtk/espfleet --sim BUILD/.../espfleet-sim --out DIR

Discovers the five, ticks three, chooses an image and updates them until every row says
"verified"; the password flow (the dialog appears once for both locked devices when the
answer is "for all selected devices", and the password is remembered for both in a private
gnome-keyring; a wrong password asks again for that device only; the transcript never shows
it; the next batch does not ask); cancelling mid-batch leaves the devices on their
old firmware and online. Everything is read from the app's exported action states, never
after fixed sleeps; screenshots of each state go to DIR.

Needs root (network namespaces): without it, exit 77 (skip) with the reason.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'lan'))
import uitest  # noqa: E402
from uitest import check, gv_str, gv_strv, log  # noqa: E402

TOTAL_TIMEOUT = 420
NAMES = ['esp-lab-1', 'esp-lab-2', 'esp-lab-3', 'esp-lab-4', 'esp-lab-5']
LOCKED = ['esp-lab-4', 'esp-lab-5']
PASSWORD = 'tr0ub4dor-lan'


def batch_number(app):
    batch = app.state('batch')
    return batch['number'] if batch else 0


def wait_batch(app, number, timeout=120, during=None):
    def ended():
        if during is not None:
            during()
        batch = app.state('batch')
        return batch if batch and batch['number'] == number and batch['finished'] else None
    return app.wait('the end of batch %d' % number, ended, timeout, interval=0.05)


def explain(app):
    """each row's outcome, and the transcript of the first failure"""
    failed = None
    for d in app.devices():
        log('  %s: phase %s, result %s, %s' % (d['name'], d['phase'], d['result'], d['message']))
        if failed is None and d['result'] in ('failed', 'rolled-back'):
            failed = d['id']
    if failed is not None:
        app.activate('show-device', gv_str(failed))
        transcript = app.wait('the transcript of ' + failed, lambda: (
            lambda t: t if t and t['device'] == failed else None)(app.state('transcript')), 10)
        log(transcript['text'])


def select(app, ids, names):
    app.activate('select-devices', gv_strv([ids[n] for n in names]))
    app.wait('%s ticked' % ', '.join(names), lambda: sorted(
        d['name'] for d in app.devices() if d['checked']) == sorted(names), 10)


def inner(args):
    shots = args.out
    os.makedirs(shots, exist_ok=True)
    env = uitest.test_env()
    app = uitest.App(args.app, env, log_path=os.path.join(shots, 'espfleet-lan.log'))
    try:
        app.start()
        uitest.park_pointer()

        # discovery over the LAN's avahi-daemon: every device, online, with its facts
        def discovered():
            devices = app.by_name()
            ok = all(n in devices and devices[n]['online'] and devices[n]['version']
                     for n in NAMES)
            return devices if ok else None
        devices = app.wait('five discovered devices', discovered, 60)
        check(app.state('discovery')['state'] == 'running', 'discovery is not running')
        ids = {n: devices[n]['id'] for n in NAMES}
        check(all(i.startswith('mac:') for i in ids.values()), 'identities: %r' % ids)
        shot = uitest.screenshot(shots, 'lan-discovered')

        app.activate('open-image', gv_str(args.image1))
        app.wait('the image report', lambda: (lambda r: r if r and r['file'] == args.image1
                                              else None)(app.state('image-report')), 30)
        app.wait('verdicts for every row', lambda: all(
            d['verdict'] == 'ok' for d in app.devices()), 10)

        # three devices, all verified
        three = NAMES[:3]
        select(app, ids, three)
        number = batch_number(app) + 1
        app.activate('update')
        mid = {}

        def shoot_mid():
            if not mid and any(d['phase'] in ('uploading', 'device-verifying', 'rebooting')
                               for d in app.devices()):
                mid['shot'] = uitest.screenshot(shots, 'lan-updating', settle=False)
        batch = wait_batch(app, number, during=shoot_mid)
        log('batch 1:', json.dumps(batch))
        explain(app)
        check(batch['counts'] == {'verified': 3}, 'batch 1: %r' % batch)
        devices = app.by_name()
        check(all(devices[n]['result'] == 'verified' and devices[n]['version'] == '2.0.0'
                  for n in three), 'rows: %r' % [devices[n] for n in three])
        check(all(devices[n]['result'] is None for n in NAMES[3:]), 'untouched rows changed')
        shot = uitest.screenshot(shots, 'lan-verified', previous=shot)

        # the password flow: both locked devices in one batch; the first question answered
        # "for all selected devices" reaches the other one without a second question, and
        # the password is remembered for both
        select(app, ids, LOCKED)
        number = batch_number(app) + 1
        app.activate('update')
        prompt = app.wait('the password dialog', lambda: app.state('password-prompt'), 60)
        first = prompt['device']
        check(first in [ids[n] for n in LOCKED] and not prompt['rejected'], 'prompt: %r' % prompt)
        uitest.screenshot(shots, 'lan-password', window='Device Password')
        app.activate('answer-password', "(%s, true, true)" % gv_str(PASSWORD))

        def nobody_else_asked():
            p = app.state('password-prompt')
            # the answered prompt may show until the state catches up, nothing else may
            check(not p or (p['device'] == first and not p['rejected']),
                  'asked again after "use for all selected devices": %r' % p)
        batch = wait_batch(app, number, during=nobody_else_asked)
        log('batch 2:', json.dumps(batch))
        explain(app)
        check(batch['counts'] == {'verified': 2}, 'batch 2: %r' % batch)
        for name in LOCKED:
            secret = uitest.keyring_secret({'device': ids[name], 'protocol': 'espota'})
            check(secret in (PASSWORD, True), 'the keyring holds %r for %s' % (secret, name))

        # a wrong password asks again, for that device only; the right one is remembered
        app.activate('open-image', gv_str(args.image2))
        app.wait('the second image', lambda: app.state('image-report')['file'] == args.image2,
                 30)
        locked = LOCKED[0]
        app.activate('forget-password', gv_str(ids[locked]))
        app.wait('the password forgotten', lambda: app.by_name()[locked]['password'] == 'none',
                 10)
        select(app, ids, [locked])
        number = batch_number(app) + 1
        app.activate('update')
        prompt = app.wait('the password dialog', lambda: app.state('password-prompt'), 60)
        check(prompt['device'] == ids[locked] and not prompt['rejected'], 'prompt: %r' % prompt)
        app.activate('answer-password', "(%s, true, false)" % gv_str('wrong-password'))
        prompt = app.wait('the second prompt', lambda: (
            lambda p: p if p and p['rejected'] else None)(app.state('password-prompt')), 60)
        check(prompt['device'] == ids[locked], 'second prompt for %r' % prompt)
        uitest.screenshot(shots, 'lan-password-rejected', window='Device Password')
        app.activate('answer-password', "(%s, true, false)" % gv_str(PASSWORD))
        batch = wait_batch(app, number)
        log('batch 3:', json.dumps(batch))
        explain(app)
        check(batch['counts'] == {'verified': 1}, 'batch 3: %r' % batch)
        secret = uitest.keyring_secret({'device': ids[locked], 'protocol': 'espota'})
        check(secret in (PASSWORD, True), 'the keyring holds %r' % secret)
        app.activate('show-device', gv_str(ids[locked]))
        transcript = app.wait('the transcript', lambda: (
            lambda t: t if t and t['device'] == ids[locked] and 'verified' in (t['text'] or '')
            else None)(app.state('transcript')), 10)
        check(PASSWORD not in transcript['text'] and 'wrong-password' not in transcript['text'],
              'a password shows in the transcript')
        uitest.screenshot(shots, 'lan-transcript')

        # the next batch finds the password in the keyring and asks nobody
        app.activate('open-image', gv_str(args.image3))
        app.wait('the third image', lambda: app.state('image-report')['file'] == args.image3,
                 30)
        select(app, ids, LOCKED)
        number = batch_number(app) + 1
        app.activate('update')

        def not_asked():
            check(not app.state('password-prompt'), 'asked again for a remembered password')
        batch = wait_batch(app, number, during=not_asked)
        check(batch['counts'] == {'verified': 2}, 'batch 4: %r' % batch)

        # cancel mid-batch: the devices stay on what they ran, online
        before = {n: app.by_name()[n]['version'] for n in three}
        select(app, ids, three)
        number = batch_number(app) + 1
        app.activate('update')
        app.wait('an upload under way', lambda: any(
            d['phase'] in ('uploading', 'device-verifying') for d in app.devices()), 60, 0.02)
        app.activate('cancel-all')
        batch = wait_batch(app, number, 60)
        log('batch 5:', json.dumps(batch))
        explain(app)
        check(batch['counts'].get('cancelled', 0) >= 1 and 'failed' not in batch['counts'],
              'batch 5: %r' % batch)
        uitest.screenshot(shots, 'lan-cancelled')
        cancelled = [n for n in three if app.by_name()[n]['result'] == 'cancelled']
        app.wait('cancelled devices back online on their old firmware', lambda: all(
            app.by_name()[n]['online'] and app.by_name()[n]['version'] == before[n]
            for n in cancelled), 60)

        rc = app.quit()
        check(rc == 0, 'espfleet exited with %d' % rc)
    finally:
        app.kill()
    return 0


def outer(args):
    import lan
    import common
    tool = uitest.missing_tools()
    if tool is not None:
        print('SKIP: %s is not installed (xvfb, dbus, x11-apps, x11-utils, imagemagick, '
              'gnome-keyring)' % tool)
        return uitest.SKIP
    os.makedirs(args.out, exist_ok=True)
    with lan.Lan(keep_logs=os.environ.get('FLEET_LAN_LOGS')) as L:
        for name in NAMES:
            d = L.add_device()
            password = PASSWORD if name in LOCKED else None
            sim = common.sim_args(L, name, password=password)
            # the flash takes its real time, so that a batch can be cancelled midway
            sim[sim.index('--flash-speed') + 1] = 'realistic'
            L.start_sim(d, args.sim, sim)
        images = []
        for version in ('2.0.0', '2.0.1', '2.0.2'):
            path = os.path.join(L.tmp, 'espfleet-sim-%s.bin' % version)
            subprocess.run([args.sim, '--make-image', path, '--chip', 'esp32', '--project',
                            'espfleet-sim', '--fw-version', version], check=True,
                           stdout=subprocess.DEVNULL, timeout=30)
            images.append(path)
        cmd = uitest.inner_command(__file__, ['--app', args.app, '--sim', args.sim, '--out',
                                              args.out, '--image1', images[0], '--image2',
                                              images[1], '--image3', images[2]])
        # in the LAN's app namespace, with its private system bus (and our environment)
        proc = L.popen(cmd, log='gui')
        deadline = time.monotonic() + TOTAL_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        rc = proc.poll()
        print(L.log('gui'))
        if rc is None:
            print('FAIL: timed out after %d s' % TOTAL_TIMEOUT)
            rc = 1
        return rc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--app', required=True)
    parser.add_argument('--sim', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--image1')
    parser.add_argument('--image2')
    parser.add_argument('--image3')
    parser.add_argument('--inner', action='store_true')
    args = parser.parse_args()
    if not args.inner:
        return outer(args)
    try:
        return inner(args)
    except (uitest.CheckFailed, RuntimeError, OSError, ValueError, KeyError, TypeError) as e:
        print('FAIL:', type(e).__name__, e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
