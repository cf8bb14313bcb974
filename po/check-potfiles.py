#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# check-potfiles.py - fail when po/POTFILES.in misses a translatable file, lists a
# missing one, or is not sorted
#
# usage: check-potfiles.py SOURCE_ROOT

import os
import re
import sys

# directories whose files may carry user-visible strings; firmware/ is protocol
# text and tests/ is never shown to users
SCANNED_DIRS = ('src', 'data')
SCANNED_SUFFIXES = ('.c', '.h', '.ui', '.xml', '.in')

# files that are translatable by their kind alone, whatever their content
TRANSLATABLE_KINDS = ('.desktop.in', '.metainfo.xml.in', '.gschema.xml')

# gettext calls as whole tokens, so that "__attribute__((" or "foo_(" do not count,
# plus GtkBuilder properties marked for translation
MARKER = re.compile(r'\b(?:_|N_|C_|NC_|ngettext|g_dngettext|g_dpgettext2)\s*\(|'
                    r'translatable\s*=\s*"yes"')


def is_translatable(path):
    if path.endswith(TRANSLATABLE_KINDS):
        return True
    try:
        with open(path, encoding='utf-8') as f:
            return MARKER.search(f.read()) is not None
    except (UnicodeDecodeError, OSError):
        return False


def scan(root):
    found = set()
    for top in SCANNED_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            # skip hidden directories (editor state, VCS data)
            dirnames[:] = [d for d in dirnames if not d.startswith('.')]
            for name in filenames:
                if name.startswith('.') or not name.endswith(SCANNED_SUFFIXES):
                    continue
                path = os.path.join(dirpath, name)
                if is_translatable(path):
                    found.add(os.path.relpath(path, root).replace(os.sep, '/'))
    return found


def read_potfiles(path):
    entries = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            # comments, blank lines and the optional "[encoding: UTF-8]" header
            if not line or line.startswith('#') or line.startswith('['):
                continue
            entries.append(line)
    return entries


def main():
    if len(sys.argv) != 2:
        print('usage: check-potfiles.py SOURCE_ROOT', file=sys.stderr)
        return 2
    root = sys.argv[1]
    potfiles = os.path.join(root, 'po', 'POTFILES.in')
    entries = read_potfiles(potfiles)
    errors = []

    if entries != sorted(entries):
        for prev, cur in zip(entries, entries[1:]):
            if cur < prev:
                errors.append(f'POTFILES.in is not sorted: "{cur}" comes after "{prev}"')
    seen = set()
    for entry in entries:
        if entry in seen:
            errors.append(f'POTFILES.in lists "{entry}" twice')
        seen.add(entry)
        if not os.path.isfile(os.path.join(root, entry)):
            errors.append(f'POTFILES.in lists "{entry}", which does not exist')
    for path in sorted(scan(root) - seen):
        errors.append(f'"{path}" has translatable strings but is missing from POTFILES.in')

    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print(f'POTFILES.in: {len(entries)} files, sorted, complete')
    return 0


if __name__ == '__main__':
    sys.exit(main())
