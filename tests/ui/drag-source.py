#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# drag-source.py - a small GTK window at (1000, 700) whose button drags one URI
# (text/uri-list); test-window.py drags it onto espfleet with XTest
#
# usage: drag-source.py URI    (needs PyGObject; runs until killed)

import sys

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('Gdk', '3.0')
from gi.repository import Gdk, Gtk  # noqa: E402


def main():
    uri = sys.argv[1]
    window = Gtk.Window(title='drag source')
    window.move(1000, 700)
    window.set_default_size(200, 60)
    button = Gtk.Button(label='drag me')
    button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    button.drag_source_add_uri_targets()
    button.connect('drag-data-get', lambda w, ctx, data, info, time: data.set_uris([uri]))
    window.add(button)
    window.connect('destroy', Gtk.main_quit)
    window.show_all()
    Gtk.main()


if __name__ == '__main__':
    main()
