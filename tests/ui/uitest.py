# SPDX-License-Identifier: GPL-3.0-or-later
"""uitest.py - drive the real espfleet window from a test: org.gtk.Actions over D-Bus,
X screenshots, bounded waits (never fixed sleeps), and the outer wrapper that runs a test
inside Xvfb with a private session bus and a private gnome-keyring

    app = App(path, env)
    app.start()
    app.activate('open-image', gv_str('/tmp/x.bin'))
    devices = app.wait('devices online', lambda: ... app.state('devices') ...)

States are the JSON strings of the app's read-only actions (app.devices, app.batch, ...).
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

APP_ID = 'io.github.espfleet.EspFleet'
OBJECT_PATH = '/io/github/espfleet/EspFleet'
SKIP = 77
SCREEN = (1280, 800)
WINDOW_TITLE = 'ESP Fleet Updater'
HERE = os.path.dirname(os.path.abspath(__file__))


def log(*args):
    print(*args, flush=True)


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


# ---------------------------------------------------------------------------------------
# GVariant text

def gv_str(s):
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


def gv_strv(items):
    return '@as [' + ', '.join(gv_str(s) for s in items) + ']'


def gv_bool(b):
    return 'true' if b else 'false'


def unescape(s):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            n = s[i + 1]
            if n == 'u':
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
                continue
            if n == 'U':
                out.append(chr(int(s[i + 2:i + 10], 16)))
                i += 10
                continue
            out.append({'n': '\n', 't': '\t', 'r': '\r', 'a': '\a', 'b': '\b', 'f': '\f',
                        'v': '\v'}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def first_string(text):
    """the first GVariant string literal after '[<' in gdbus output"""
    start = text.find('[<')
    if start < 0:
        return None
    i = start + 2
    while i < len(text) and text[i] not in '\'"':
        i += 1
    if i >= len(text):
        return None
    quote = text[i]
    j = i + 1
    while j < len(text):
        if text[j] == '\\':
            j += 2
            continue
        if text[j] == quote:
            return unescape(text[i + 1:j])
        j += 1
    return None


# ---------------------------------------------------------------------------------------
# the app over D-Bus

def gdbus(*args, timeout=10):
    r = subprocess.run(['gdbus', 'call', '--session'] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError('gdbus %s failed: %s' % (' '.join(args[:6]), r.stderr.strip()))
    return r.stdout


def action_state(name):
    """the JSON state of app.<name>, parsed; None while it is empty"""
    out = gdbus('--dest', APP_ID, '--object-path', OBJECT_PATH,
                '--method', 'org.gtk.Actions.Describe', name)
    text = first_string(out)
    return json.loads(text) if text else None


class App:
    def __init__(self, path, env, log_path=None):
        self.path = path
        self.env = env
        self.proc = None
        self.log_path = log_path

    def start(self, args=()):
        out = open(self.log_path, 'ab') if self.log_path else None
        self.proc = subprocess.Popen([self.path] + list(args), env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT if out else None)
        if out:
            out.close()
        wait_for('the bus name ' + APP_ID, self._owned, 30)
        wait_for('the window', app_window_geometry, 30)

    def _owned(self):
        self.alive()
        out = gdbus('--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus',
                    '--method', 'org.freedesktop.DBus.NameHasOwner', APP_ID)
        return 'true' in out

    def alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError('espfleet exited early with %d' % self.proc.returncode)

    def activate(self, action, parameter=None):
        self.alive()
        params = '[]' if parameter is None else '[<%s>]' % parameter
        try:
            gdbus('--dest', APP_ID, '--object-path', OBJECT_PATH,
                  '--method', 'org.gtk.Actions.Activate', action, params, '{}')
        except subprocess.TimeoutExpired:
            self.dump_stacks()
            raise RuntimeError('espfleet did not answer app.%s within 10 s' % action)

    def activate_window(self, action, parameter=None, window=1):
        """win.<action> of the app's window number @window (GtkApplicationWindow's id)"""
        self.alive()
        params = '[]' if parameter is None else '[<%s>]' % parameter
        gdbus('--dest', APP_ID, '--object-path', '%s/window/%d' % (OBJECT_PATH, window),
              '--method', 'org.gtk.Actions.Activate', action, params, '{}')

    def set_window_state(self, action, value, window=1):
        """changes the state of the stateful win.<action> (GVariant text @value)"""
        self.alive()
        gdbus('--dest', APP_ID, '--object-path', '%s/window/%d' % (OBJECT_PATH, window),
              '--method', 'org.gtk.Actions.SetState', action, '<%s>' % value, '{}')

    def dump_stacks(self):
        """where the main loop hangs, when gdb is there to tell"""
        if shutil.which('gdb') is not None and self.proc.poll() is None:
            subprocess.run(['gdb', '-p', str(self.proc.pid), '-batch', '-ex',
                            'thread apply all bt'], timeout=60, stdin=subprocess.DEVNULL)

    def state(self, name):
        return action_state(name)

    def set_state(self, name, value):
        """asks for a new state of the stateful app.<name> (GVariant text @value)"""
        self.alive()
        gdbus('--dest', APP_ID, '--object-path', OBJECT_PATH,
              '--method', 'org.gtk.Actions.SetState', name, '<%s>' % value, '{}')

    def bool_state(self, name):
        out = gdbus('--dest', APP_ID, '--object-path', OBJECT_PATH,
                    '--method', 'org.gtk.Actions.Describe', name)
        return '[<true>]' in out

    def enabled(self, name):
        out = gdbus('--dest', APP_ID, '--object-path', OBJECT_PATH,
                    '--method', 'org.gtk.Actions.Describe', name)
        return out.lstrip('(').startswith('true')

    def devices(self):
        return self.state('devices') or []

    def by_name(self):
        return {d['name']: d for d in self.devices()}

    def reset_latency(self):
        """restarts the main-loop probe (ESPFLEET_LATENCY_PROBE) and waits until its state
        is a fresh one"""
        self.activate('latency-reset')
        self.wait('a fresh probe',
                  lambda: (self.state('latency') or {}).get('samples', 99) < 50, 10)

    def wait(self, what, predicate, timeout=60, interval=0.1):
        return wait_for(what, lambda: (self.alive(), predicate())[1], timeout, interval)

    def quit(self, timeout=20):
        self.activate('quit')
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError('espfleet did not quit')

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for(what, predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError('timed out after %d s waiting for %s' % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------------------
# screens

def x11_libs():
    """libX11 and libXtst through ctypes, with the argument types the helpers here use;
    xtst is None when libXtst is missing"""
    import ctypes
    import ctypes.util
    x11 = ctypes.CDLL(ctypes.util.find_library('X11') or 'libX11.so.6')
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_int]
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    name = ctypes.util.find_library('Xtst')
    xtst = ctypes.CDLL(name) if name else None
    if xtst is not None:
        xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                           ctypes.c_ulong]
        xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                              ctypes.c_int, ctypes.c_ulong]
        xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                              ctypes.c_ulong]
    return x11, xtst


def park_pointer():
    """the pointer to the bottom-right corner, so no tooltip or hover shows in a screenshot"""
    x11, _ = x11_libs()
    display = x11.XOpenDisplay(None)
    if not display:
        return
    root = x11.XDefaultRootWindow(display)
    x11.XWarpPointer(display, 0, root, 0, 0, 0, 0, SCREEN[0] - 1, SCREEN[1] - 1)
    x11.XFlush(display)
    x11.XCloseDisplay(display)


def drag(start, end):
    """presses button 1 at @start, moves in steps (XDND needs motion events) and releases at
    @end, through XTest; False when libXtst is missing"""
    x11, xtst = x11_libs()
    if xtst is None:
        return False
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
    return True


def wheel(x, y, notches, button, pause=0.03):
    """@notches mouse-wheel clicks (button 4 up, 5 down) with the pointer at x, y, through
    XTest; False when libXtst is missing"""
    x11, xtst = x11_libs()
    if xtst is None:
        return False
    display = x11.XOpenDisplay(None)
    try:
        xtst.XTestFakeMotionEvent(display, -1, x, y, 0)
        x11.XFlush(display)
        for _ in range(notches):
            xtst.XTestFakeButtonEvent(display, button, 1, 0)
            xtst.XTestFakeButtonEvent(display, button, 0, 0)
            x11.XFlush(display)
            time.sleep(pause)
    finally:
        x11.XCloseDisplay(display)
    return True


CONTROL = 0xFFE3
SHIFT = 0xFFE1
ESCAPE = 0xFF1B


def type_text(text):
    """types ASCII letters, digits and '-' through XTest"""
    for c in text:
        press_key(ord(c))


def press_key(keysym=0xFF0D, modifiers=()):
    """one key press and release through XTest to the focused window (default: Return),
    with @modifiers (keysyms) held down; False when libXtst is missing"""
    x11, tst = x11_libs()
    if tst is None:
        return False
    display = x11.XOpenDisplay(None)
    try:
        mods = [x11.XKeysymToKeycode(display, m) for m in modifiers]
        for m in mods:
            tst.XTestFakeKeyEvent(display, m, 1, 0)
        code = x11.XKeysymToKeycode(display, keysym)
        tst.XTestFakeKeyEvent(display, code, 1, 0)
        tst.XTestFakeKeyEvent(display, code, 0, 0)
        for m in reversed(mods):
            tst.XTestFakeKeyEvent(display, m, 0, 0)
        x11.XFlush(display)
    finally:
        x11.XCloseDisplay(display)
    return True


def grab_screen():
    """the screen as a PPM image; ImageMagick's import, not xwd -root, which leaves out the
    ARGB windows GTK gives its dialogs (they come out black)"""
    r = subprocess.run(['import', '-silent', '-window', 'root', 'ppm:-'], capture_output=True,
                       timeout=20)
    if r.returncode != 0:
        raise RuntimeError('import failed: ' + r.stderr.decode(errors='replace'))
    return r.stdout


def settled_screen(timeout=10, previous=None):
    """the screen once it stopped changing; if previous is given, first wait until it
    differs from that"""
    deadline = time.monotonic() + timeout
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


def app_window_geometry(title=WINDOW_TITLE):
    """x, y, width, height of the window with this title, from xwininfo"""
    r = subprocess.run(['xwininfo', '-root', '-tree'], capture_output=True, text=True,
                       timeout=10)
    for line in r.stdout.splitlines():
        if ('"%s"' % title) in line:
            m = re.search(r'(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)', line)
            if m and int(m.group(1)) > 100:
                w, h, ax, ay = (int(m.group(i)) for i in (1, 2, 5, 6))
                return ax, ay, w, h
    return None


def save_png(shot, path, window=None):
    """the whole screen, or only the window with title @window (with a margin)"""
    args = ['convert', 'ppm:-']
    if window is not None:
        geometry = app_window_geometry(window)
        if geometry is not None:
            x, y, w, h = geometry
            args += ['-crop', '%dx%d+%d+%d' % (w, h, x, y), '+repage']
    subprocess.run(args + ['png:' + path], input=shot, check=True, timeout=30)
    log('screenshot:', path)


def window_painted(shot, window):
    """False while the window is still the black of an X window nothing was drawn into"""
    geometry = app_window_geometry(window)
    if geometry is None:
        return False
    x, y, w, h = geometry
    r = subprocess.run(['convert', 'ppm:-', '-crop', '%dx%d+%d+%d' % (w, h, x, y), '+repage',
                        '-format', '%[fx:mean]', 'info:'], input=shot, capture_output=True,
                       timeout=30)
    try:
        return float(r.stdout.decode().strip() or 0) > 0.05
    except ValueError:
        return False


def screenshot(directory, name, previous=None, settle=True, window=WINDOW_TITLE,
               timeout=10):
    """saves <name>.png (the window once it is drawn); returns the raw screen for a later
    'previous'"""
    deadline = time.monotonic() + timeout
    while True:
        shot = settled_screen(previous=previous) if settle else grab_screen()
        if window is None or window_painted(shot, window) or time.monotonic() > deadline:
            break
        previous = None
        time.sleep(0.1)
    save_png(shot, os.path.join(directory, name + '.png'), window=window)
    return shot


# ---------------------------------------------------------------------------------------
# the outer run: Xvfb, a private session bus and keyring, one process group

def test_env(extra=None):
    env = dict(os.environ)
    # no accessibility bus, gvfs or dconf daemons: nothing may outlive the private bus
    env.update({'NO_AT_BRIDGE': '1', 'GIO_USE_VFS': 'local', 'GTK_A11Y': 'none',
                'GSETTINGS_BACKEND': env.get('GSETTINGS_BACKEND', 'memory'),
                'LANG': env.get('LANG', 'C.UTF-8')})
    env.update(extra or {})
    return env


def missing_tools():
    for tool in ('xvfb-run', 'Xvfb', 'dbus-run-session', 'gdbus', 'import', 'xwininfo',
                 'convert', 'gnome-keyring-daemon'):
        if shutil.which(tool) is None:
            return tool
    return None


def inner_command(script, args):
    """the command that runs @script --inner under a private keyring, bus and X server"""
    keyring = os.path.join(os.path.dirname(HERE), 'core', 'with-keyring.sh')
    return [keyring, 'xvfb-run', '-a', '-s', '-screen 0 %dx%dx24' % SCREEN,
            sys.executable, os.path.abspath(script), '--inner'] + list(args)


def run_group(cmd, timeout, env=None):
    """runs @cmd in its own process group; everything left of it is stopped afterwards"""
    proc = subprocess.Popen(cmd, start_new_session=True, env=env)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print('FAIL: timed out after %d s' % timeout)
        rc = 1
    finally:
        if stop_group(proc.pid):
            print('FAIL: processes of the test were still running and had to be killed')
            rc = 1
    return rc


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(pgid):
    """True when something of the group was still running after a grace period"""
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not group_alive(pgid):
        return False
    os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    return True


# ---------------------------------------------------------------------------------------
# the Secret Service, straight over D-Bus (no libsecret needed in the test)

SECRET_SNIPPET = r"""
import sys
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
def call(path, iface, method, args, rtype):
    return bus.call_sync('org.freedesktop.secrets', path, iface, method, args,
                         GLib.VariantType(rtype), Gio.DBusCallFlags.NONE, 10000, None).unpack()
attrs = dict(a.split('=', 1) for a in sys.argv[1:])
unlocked, locked = call('/org/freedesktop/secrets', 'org.freedesktop.Secret.Service',
                        'SearchItems', GLib.Variant('(a{ss})', (attrs,)), '(aoao)')
if not unlocked:
    sys.exit(3)
_, session = call('/org/freedesktop/secrets', 'org.freedesktop.Secret.Service', 'OpenSession',
                  GLib.Variant('(sv)', ('plain', GLib.Variant('s', ''))), '(vo)')
(secret,) = call(unlocked[0], 'org.freedesktop.Secret.Item', 'GetSecret',
                 GLib.Variant('(o)', (session,)), '((oayays))')
sys.stdout.write(bytes(secret[2]).decode())
"""


def python_with_gi(gtk=False):
    """a python3 that has PyGObject (the system one, usually), with GTK 3 when @gtk; or None"""
    probe = ("import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk"
             if gtk else 'from gi.repository import Gio')
    for python in (sys.executable, '/usr/bin/python3'):
        if os.path.exists(python):
            r = subprocess.run([python, '-c', probe], capture_output=True, timeout=20)
            if r.returncode == 0:
                return python
    return None


def keyring_items(attributes):
    """object paths of the unlocked Secret Service items that carry @attributes"""
    attrs = '{' + ', '.join('%s: %s' % (gv_str(k), gv_str(v)) for k, v in attributes.items()) + '}'
    out = gdbus('--dest', 'org.freedesktop.secrets', '--object-path', '/org/freedesktop/secrets',
                '--method', 'org.freedesktop.Secret.Service.SearchItems', attrs)
    unlocked = out.split('],')[0]
    return re.findall(r"'(/org/freedesktop/secrets/[^']+)'", unlocked)


def keyring_secret(attributes):
    """the secret stored under @attributes (a dict), or None when there is no such item;
    True when an item exists but this system cannot read secrets (no PyGObject)"""
    if not keyring_items(attributes):
        return None
    python = python_with_gi()
    if python is None:
        log('keyring: item found; its secret is not compared (needs PyGObject)')
        return True
    # a plain session belongs to one D-Bus connection: open it and read in one process
    r = subprocess.run([python, '-c', SECRET_SNIPPET] +
                       ['%s=%s' % kv for kv in attributes.items()],
                       capture_output=True, text=True, timeout=30)
    if r.returncode == 3:
        return None
    if r.returncode != 0:
        raise RuntimeError('reading the keyring failed: ' + r.stderr.strip())
    return r.stdout


# ---------------------------------------------------------------------------------------
# the desktop around the app: notifications, the clipboard, the web browser, X focus

NOTIFY_SNIPPET = r"""
import json, sys
from gi.repository import Gio, GLib
XML = '''<node><interface name="org.gtk.Notifications">
<method name="AddNotification"><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="a{sv}" direction="in"/></method>
<method name="RemoveNotification"><arg type="s" direction="in"/><arg type="s" direction="in"/>
</method></interface></node>'''
out = sys.argv[1]
def call(conn, sender, path, iface, method, params, invocation):
    args = params.unpack()
    with open(out, 'a') as f:
        f.write(json.dumps({'method': method, 'app': args[0], 'id': args[1],
                            'notification': args[2] if len(args) > 2 else None}) + '\n')
    invocation.return_value(None)
def acquired(conn, name):
    open(out + '.ready', 'w').close()
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
bus.register_object('/org/gtk/Notifications', Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0],
                    call, None, None)
Gio.bus_own_name_on_connection(bus, 'org.gtk.Notifications', Gio.BusNameOwnerFlags.NONE,
                               acquired, None)
GLib.MainLoop().run()
"""


def start_notification_server(path):
    """a stand-in for the desktop's notification server (org.gtk.Notifications, which GLib
    prefers over org.freedesktop.Notifications) on the session bus; every AddNotification
    is appended to @path as a JSON line. Start it before the app. None without PyGObject."""
    python = python_with_gi()
    if python is None:
        return None
    proc = subprocess.Popen([python, '-c', NOTIFY_SNIPPET, path])
    wait_for('the notification server', lambda: os.path.exists(path + '.ready')
             or proc.poll() is not None, 20)
    if proc.poll() is not None:
        raise RuntimeError('the notification server exited with %d' % proc.returncode)
    return proc


def notifications(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


CLIPBOARD_SNIPPET = r"""
import sys
import gi
gi.require_version('Gdk', '3.0')
gi.require_version('Gtk', '3.0')
from gi.repository import Gdk, Gtk
text = Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD).wait_for_text()
sys.stdout.write('' if text is None else text)
sys.exit(0 if text is not None else 3)
"""


def clipboard_text():
    """the X CLIPBOARD's text as its owner (the app) serves it; None when empty"""
    python = python_with_gi(gtk=True)
    if python is None:
        raise RuntimeError('reading the clipboard needs PyGObject with GTK 3 (python3-gi, '
                           'gir1.2-gtk-3.0)')
    r = subprocess.run([python, '-c', CLIPBOARD_SNIPPET], capture_output=True, text=True,
                       timeout=20)
    if r.returncode not in (0, 3):
        raise RuntimeError('reading the clipboard failed: %s' % r.stderr.strip()[-1500:])
    return r.stdout if r.returncode == 0 else None


def install_browser(record):
    """a web browser for http:// links in this (private) HOME's XDG directories that only
    appends the URI it was given to @record, made the default for http and https"""
    home = os.environ['HOME']
    data = os.environ.get('XDG_DATA_HOME') or os.path.join(home, '.local', 'share')
    config = os.environ.get('XDG_CONFIG_HOME') or os.path.join(home, '.config')
    apps = os.path.join(data, 'applications')
    os.makedirs(apps, exist_ok=True)
    os.makedirs(config, exist_ok=True)
    script = os.path.join(home, 'record-uri')
    with open(script, 'w') as f:
        f.write('#!/bin/sh\nprintf "%%s\\n" "$1" >> %s\n' % shlex.quote(record))
    os.chmod(script, 0o755)
    with open(os.path.join(apps, 'espfleet-test-browser.desktop'), 'w') as f:
        f.write('[Desktop Entry]\nType=Application\nName=Test Browser\nExec=%s %%u\n'
                'MimeType=x-scheme-handler/http;x-scheme-handler/https;\nNoDisplay=true\n'
                % script)
    with open(os.path.join(config, 'mimeapps.list'), 'w') as f:
        f.write('[Default Applications]\nx-scheme-handler/http=espfleet-test-browser.desktop\n'
                'x-scheme-handler/https=espfleet-test-browser.desktop\n')


def drop_focus():
    """no X window has the keyboard any more: the app's window is no longer active"""
    x11, _ = x11_libs()
    display = x11.XOpenDisplay(None)
    if not display:
        raise RuntimeError('cannot open the X display')
    # None, RevertToNone, CurrentTime
    x11.XSetInputFocus(display, 0, 0, 0)
    x11.XFlush(display)
    x11.XCloseDisplay(display)
