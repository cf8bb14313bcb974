#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# check-po-complete.py - fail when a translation lacks or has fuzzy strings of the current sources
#
# usage: check-po-complete.py SOURCE_ROOT PACKAGE LANG [XGETTEXT_ARG...]
#
# The template is extracted from the files in po/POTFILES.in into a temporary
# directory and merged into a temporary copy of po/LANG.po, so the source tree
# is never modified. Every message of the current sources must be translated
# and none may be fuzzy; msgfmt --check must accept the merged catalogue.

import os
import re
import shutil
import subprocess
import sys
import tempfile

TOOLS = ('xgettext', 'msgmerge', 'msgfmt', 'msgattrib')

# msgfmt --statistics, printed in the C locale
STATS = re.compile(r'(\d+) translated messages?'
                   r'(?:, (\d+) fuzzy translations?)?'
                   r'(?:, (\d+) untranslated messages?)?')

# a fuzzy header: its msgid "" is followed directly by msgstr, unlike a long msgid
FUZZY_HEADER = re.compile(r'^#, fuzzy[^\n]*\nmsgid ""\nmsgstr ""', re.M)


def run(argv, **kwargs):
    env = dict(os.environ, LC_ALL='C', LANGUAGE='')
    return subprocess.run(argv, env=env, text=True, capture_output=True, **kwargs)


def po_strings(text):
    """msgids of a catalogue as printed by msgattrib; the header is left out"""
    ids = []
    current = None
    for line in text.splitlines():
        if line.startswith('msgid '):
            current = [line[len('msgid '):]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            msgid = ''.join(part.strip()[1:-1] for part in current)
            if msgid:
                ids.append(msgid)
            current = None
    return ids


def main():
    if len(sys.argv) < 4:
        print('usage: check-po-complete.py SOURCE_ROOT PACKAGE LANG [XGETTEXT_ARG...]',
              file=sys.stderr)
        return 2
    root, package, lang = sys.argv[1:4]
    xgettext_args = sys.argv[4:]

    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print('gettext tools not installed: ' + ', '.join(missing))
        return 77

    po_dir = os.path.join(root, 'po')
    po_file = os.path.join(po_dir, lang + '.po')
    if not os.path.isfile(po_file):
        print(f'{po_file} does not exist', file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix='espfleet-po-') as tmp:
        pot = os.path.join(tmp, package + '.pot')
        merged = os.path.join(tmp, lang + '.po')

        # same call as meson's <package>-pot target, written to tmp instead of po/
        xgettext = run(['xgettext', '--package-name=' + package, '-f',
                        os.path.join(po_dir, 'POTFILES.in'), '-D', root, '-k_',
                        '-o', pot] + xgettext_args)
        if xgettext.returncode != 0:
            print(xgettext.stderr, file=sys.stderr)
            return 1
        # a warning means a message xgettext could not take whole, e.g. a format macro
        # such as G_GSIZE_FORMAT spliced into _(): the catalogue then holds a fragment
        # that never matches at run time, so that string can never be translated
        warnings = [line for line in xgettext.stderr.splitlines() if 'warning:' in line]
        for line in warnings:
            print(line, file=sys.stderr)
        if not os.path.exists(pot):
            # xgettext writes nothing when there is no message at all
            print('no translatable messages in the sources')
            return 0

        merge = run(['msgmerge', '--quiet', '-o', merged, po_file, pot])
        if merge.returncode != 0:
            print(merge.stderr, file=sys.stderr)
            return 1

        check = run(['msgfmt', '--check', '--statistics', '-o', os.devnull, merged])
        print(check.stderr.strip())
        if check.returncode != 0:
            print(f'msgfmt --check rejects {lang}.po', file=sys.stderr)
            return 1
        stats = STATS.search(check.stderr)
        if stats is None:
            print('cannot read msgfmt statistics', file=sys.stderr)
            return 1
        fuzzy = int(stats.group(2) or 0)
        untranslated = int(stats.group(3) or 0)

        errors = 0
        # msgfmt drops a fuzzy header, and with it the charset and plural forms;
        # neither its statistics nor msgattrib mention it
        with open(merged, encoding='utf-8') as f:
            if FUZZY_HEADER.search(f.read()):
                print(f'{lang}.po: the header entry is marked fuzzy', file=sys.stderr)
                errors += 1
        for what, flag, count in (('untranslated', '--untranslated', untranslated),
                                  ('fuzzy', '--only-fuzzy', fuzzy)):
            listing = run(['msgattrib', flag, '--no-obsolete', '--no-wrap', merged])
            ids = po_strings(listing.stdout)
            for msgid in ids:
                print(f'{lang}.po: {what}: "{msgid}"', file=sys.stderr)
            errors += max(count, len(ids))

        if warnings:
            print(f'{len(warnings)} messages in the sources cannot be extracted as written; '
                  'in _() use plain C format directives (cast to a standard type) '
                  'instead of GLib format macros', file=sys.stderr)
            return 1
        if errors:
            print(f'{lang}.po: {errors} messages need a translation or review; run '
                  f'"ninja -C <builddir> {package}-update-po" and translate them',
                  file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
