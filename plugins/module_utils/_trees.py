# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Trees in projects: what a path holds (kind, checksums), removing it, and copying between projects.

Pure logic over a CocalcClient, free of AnsibleModule. The checksums of trees are read with one
project_exec, a copy is planned from them (an rsync model, pure), and copied only when the plan
changes something::

    sources = probe_trees(client, src_pid, ['handout'])                             # checksums
    plan = plan_copy(sources[0], probe_trees(client, pid, ['handout'])[0], CopyOptions())
    if plan.changed:
        copy_path(client, src_pid, 'handout', pid, 'handout', CopyOptions())

Server facts this relies on (real hub 2024-09 and the guide era, see the reference):
- copy_path_between_projects is rsync -a (--update unless overwrite_newer, --delete with
  delete_missing); 2024 hubs copy asynchronously unless wait_until_done is true, guide-era hubs
  reject that option.
"""

from __future__ import annotations

import re

from ansible_collections.cocalc.cocalc.plugins.module_utils import _wait
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcInputError
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import (
    ENTRY_GUARD,
    HOME_GUARD,
    PROJECT_COMMAND_TIMEOUT,
    exec_in_project,
    outside_home_error,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._texts import error_text

# Seconds to wait for a copy when copy_from.timeout is not set (kucalc bounds its own wait at 4 min).
DEFAULT_COPY_WAIT = 240
COPY_POLL_INTERVAL = 2.0

_SHA256_RE = re.compile(r'^([0-9a-f]{64}) [ *](.*)$', re.DOTALL)


# ---- paths: kind and removal ----

_STAT_KINDS = {'regular file': 'file', 'regular empty file': 'file', 'directory': 'directory', 'symbolic link': 'link'}


def path_kind(client, project_id, path, option='path'):
    """'missing', 'file', 'directory', 'link' or 'other' (read-only, allowed in check mode).

    OutsideHomeError when the path's real location leaves the home.
    """
    result = exec_in_project(client, project_id, 'sh', args=['-c', ENTRY_GUARD + 'exec stat --printf=%F -- "$1"', 'sh', path], probe=True)
    outside = outside_home_error(result, [path], [option], project_id)
    if outside is not None:
        raise outside
    if result.rc == 0:
        return _STAT_KINDS.get(result.stdout.strip(), 'other')
    if 'No such file or directory' in result.stderr or 'Not a directory' in result.stderr:
        return 'missing'
    raise CocalcApiError('project_exec', 200, None, "'stat %s' ended with exit code %d: %s" % (path, result.rc, result.stderr.strip()))


def remove_path(client, project_id, path, option='path'):
    """rm -rf -- path, in the same shell that checks that its real location is inside the home
    (OutsideHomeError otherwise, and nothing removed)."""
    result = exec_in_project(client, project_id, 'sh', args=['-c', ENTRY_GUARD + 'exec rm -rf -- "$1"', 'sh', path],
                             timeout=PROJECT_COMMAND_TIMEOUT)
    outside = outside_home_error(result, [path], [option], project_id)
    if outside is not None:
        raise outside
    if result.rc != 0:
        raise CocalcApiError('project_exec', 200, None, "'rm -rf %s' ended with exit code %d: %s" % (path, result.rc, result.stderr.strip()))


# ---- trees: checksums ----

class FileEntry(object):
    """One regular file of a tree: size in bytes, mtime (epoch seconds), sha256."""

    def __init__(self, size, mtime, sha256=None):
        self.size = size
        self.mtime = mtime
        self.sha256 = sha256

    def __eq__(self, other):
        return isinstance(other, FileEntry) and (self.size, self.mtime, self.sha256) == (other.size, other.mtime, other.sha256)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return 'FileEntry(%r, %r, %r)' % (self.size, self.mtime, self.sha256)


class Tree(object):
    """What a path holds: kind ('missing', 'file', 'directory', 'other') and its regular files by
    relative path ('' for a file itself)."""

    def __init__(self, kind, files=None):
        self.kind = kind
        self.files = files or {}

    def checksums(self):
        return dict((name, entry.sha256) for name, entry in self.files.items())

    def __repr__(self):
        return 'Tree(%r, %r)' % (self.kind, self.files)


# Lists each path's regular files with size, mtime and sha256, NUL-separated so that any file
# name survives. Arguments: exclude flag ("1": skip *.sage-history), then the paths, which must
# all really lie in the home (HOME_GUARD) before anything is listed.
_PROBE_SCRIPT = r'''set -f
x=$1; shift
''' + HOME_GUARD + r'''f=
[ "$x" = 1 ] && f='! -name *.sage-history'
for p in "$@"; do
  if [ -d "$p" ] && [ ! -L "$p" ]; then
    printf '@directory\0'
    (cd -- "$p" && find . -type f $f -printf 'S %s %T@ %P\0' && find . -type f $f -print0 | xargs -0 -r sha256sum -z --) || exit 3
  elif [ -f "$p" ] && [ ! -L "$p" ]; then
    printf '@file\0'
    (find "./$p" -maxdepth 0 -printf 'S %s %T@ \0' && sha256sum -z -- "$p") || exit 3
  elif [ -e "$p" ] || [ -L "$p" ]; then
    printf '@other\0'
  else
    printf '@missing\0'
  fi
done'''


def parse_probe(output, count):
    """Parse the probe script's output into count Trees."""
    trees = []
    for record in output.split('\0'):
        if not record:
            continue
        if record.startswith('@'):
            trees.append(Tree(record[1:]))
        elif not trees:
            raise ValueError('probe output starts with %r' % record[:40])
        else:
            _add_probe_record(trees[-1], record)
    if not _complete(trees, count):
        raise ValueError('incomplete probe output for %d paths' % count)
    return trees


def _add_probe_record(tree, record):
    """One record of a tree: 'S size mtime name' or sha256sum's 'checksum  name'."""
    if record.startswith('S '):
        size, mtime, name = record[2:].split(' ', 2)
        tree.files.setdefault(name, FileEntry(None, None)).size = int(size)
        tree.files[name].mtime = float(mtime)
        return
    match = _SHA256_RE.match(record)
    if not match:
        raise ValueError('unexpected probe output %r' % record[:80])
    name = match.group(2)
    name = '' if tree.kind == 'file' else (name[2:] if name.startswith('./') else name)
    tree.files.setdefault(name, FileEntry(None, None)).sha256 = match.group(1)


def _complete(trees, count):
    """True when there is a tree for each path, every file has its size and checksum, and a file's
    tree holds just the file itself."""
    if len(trees) != count:
        return False
    if any(entry.sha256 is None or entry.size is None for tree in trees for entry in tree.files.values()):
        return False
    return not any(tree.kind == 'file' and list(tree.files) != [''] for tree in trees)


def probe_trees(client, project_id, paths, exclude_history=False, options=None):
    """One project_exec: a Tree for each path (read-only, allowed in check mode).

    OutsideHomeError, naming the path's option (options: one name per path, default 'path'),
    when any path's real location leaves the home.
    """
    paths = list(paths)
    result = exec_in_project(client, project_id, 'sh', args=['-c', _PROBE_SCRIPT, 'sh', '1' if exclude_history else '0'] + paths,
                             timeout=PROJECT_COMMAND_TIMEOUT, probe=True)
    outside = outside_home_error(result, paths, list(options or ['path'] * len(paths)), project_id)
    if outside is not None:
        raise outside
    if result.rc != 0:
        raise CocalcApiError('project_exec', 200, None, 'listing the checksums of %s ended with exit code %d: %s'
                             % (', '.join(paths), result.rc, result.stderr.strip()))
    try:
        return parse_probe(result.stdout, len(paths))
    except ValueError as err:
        raise CocalcApiError('project_exec', 200, None, 'could not read the checksums of %s: %s' % (', '.join(paths), err)) from None


# ---- trees: plan a copy ----

class CopyOptions(object):
    """The rsync switches of a copy (all off by default, like the server)."""

    def __init__(self, overwrite_newer=False, delete_missing=False, backup=False, timeout=None, exclude_history=False, public=False):
        self.overwrite_newer = bool(overwrite_newer)
        self.delete_missing = bool(delete_missing)
        self.backup = bool(backup)
        self.timeout = timeout
        self.exclude_history = bool(exclude_history)
        self.public = bool(public)


class CopyPlan(object):
    """What a copy would do to the target: created/updated/deleted relative names, and the target's
    files afterwards. changed is True when the copy alters any file content (or creates the target)."""

    def __init__(self, kind_after, created, updated, deleted, files_after, changed):
        self.kind_after = kind_after
        self.created = created
        self.updated = updated
        self.deleted = deleted
        self.files_after = files_after
        self.changed = changed


def plan_copy(source, target, options):
    """Pure: the effect of rsync -a [--update] [--delete] [--backup] of source onto target.

    Compares regular files by sha256; a differing target file that is newer than the source is
    kept unless overwrite_newer (rsync --update), and so is one with the same size and mtime
    (rsync's quick check). Returns None when the source is not a file or directory.
    """
    if source.kind not in ('file', 'directory'):
        return None
    if target.kind != source.kind:
        # Missing target, or a file where a directory goes (or the reverse): all of it is new.
        return CopyPlan(source.kind, sorted(source.files), [], [], dict(source.files), True)
    created, updated = _transfers(source, target, options)
    deleted = _deletions(source, target, options)
    after = dict(target.files)
    after.update((name, source.files[name]) for name in created + updated)
    for name in deleted:
        after.pop(name, None)
    return CopyPlan(source.kind, sorted(created), sorted(updated), sorted(deleted), after, bool(created or updated or deleted))


def _transfers(source, target, options):
    """(created, updated): the names of the source files rsync writes onto the target, in the source's order."""
    created, updated = [], []
    for name, entry in source.files.items():
        have = target.files.get(name)
        if have is None:
            created.append(name)
        elif have.sha256 != entry.sha256 and not _rsync_keeps(have, entry, options):
            updated.append(name)
    return created, updated


def _rsync_keeps(have, entry, options):
    """True when rsync leaves a differing target file alone: it is newer than the source (--update,
    unless overwrite_newer), or has the same size and mtime (rsync's quick check)."""
    if not options.overwrite_newer and have.mtime is not None and entry.mtime is not None and have.mtime > entry.mtime:
        return True
    return have.size == entry.size and have.mtime == entry.mtime


def _deletions(source, target, options):
    """The target files rsync --delete removes (delete_missing, directories only)."""
    if not (options.delete_missing and source.kind == 'directory'):
        return []
    return [name for name in target.files if name not in source.files and not _delete_protected(name, options)]


def _delete_protected(name, options):
    """rsync protects backup files from --delete, and leaves excluded files alone."""
    return (options.backup and name.endswith('~')) or (options.exclude_history and name.endswith('.sage-history'))


def tree_info(project_id, path, kind, files):
    """The returned ``file`` for a file or directory tree."""
    if kind == 'missing':
        return None
    size = sum(entry.size or 0 for entry in files.values())
    sha256 = files[''].sha256 if kind == 'file' and '' in files else None
    return dict(project_id=project_id, path=path, state=kind, size=size, sha256=sha256)


# ---- trees: copy ----

def copy_path(client, src_project_id, src_path, target_project_id, target_path, options):
    """Copy a file or directory between projects (or from a public path) and return when done.

    Sends only the switches that are on. wait_until_done goes to 2024-era hubs; a hub that
    rejects it (guide era) copies synchronously anyway. exclude_history uses the hub's exclude
    list where exclude_history itself is gone.
    """
    endpoint = 'copy_public_path_between_projects' if options.public else 'copy_path_between_projects'
    body = _copy_body(src_project_id, src_path, target_project_id, target_path, options)
    wait = options.timeout or DEFAULT_COPY_WAIT
    # A 400 for an option means nothing was copied: resending is safe.
    answer = client.call_without_rejected(endpoint, body, adapt=lambda sent, err: _adapt_copy_body(sent, err.unexpected_argument, options),
                                          request_timeout=client.timeout + wait)
    copy_path_id = answer.get('copy_path_id')
    if copy_path_id:
        _wait_for_copy(client, copy_path_id, wait)


def _copy_body(src_project_id, src_path, target_project_id, target_path, options):
    """The request of a copy: the paths and the switches that are on."""
    body = dict(src_project_id=src_project_id, src_path=src_path, target_project_id=target_project_id, target_path=target_path)
    for name in ('overwrite_newer', 'delete_missing', 'backup'):
        if getattr(options, name):
            body[name] = True
    if options.timeout:
        body['timeout'] = options.timeout
    if not options.public:
        body['wait_until_done'] = True
    if options.exclude_history:
        if options.public:
            body['exclude_history'] = True
        else:
            body['exclude'] = ['*.sage-history']
    return body


def _adapt_copy_body(body, rejected, options):
    """Change body for a server that rejected the option named rejected; False when body has no such option (give up)."""
    if rejected not in body:
        return False
    del body[rejected]
    if rejected == 'exclude':
        body['exclude_history'] = True
    elif rejected == 'exclude_history':
        if options.public:
            raise CocalcInputError('copy_from.exclude_history: this server cannot leave out *.sage-history files when copying a public path')
        body['exclude'] = ['*.sage-history']
    return True


def _wait_for_copy(client, copy_path_id, wait):
    """Poll copy_path_status until the queued copy finished (cluster hubs that queue copies)."""
    waiter = _wait.Waiter(wait, first=COPY_POLL_INTERVAL, factor=1.0)
    while True:
        answer = client.call('copy_path_status', copy_path_id=copy_path_id)
        data = answer.get('data')
        record = data[0] if isinstance(data, list) and data else data
        if isinstance(record, dict):
            if record.get('error'):
                raise CocalcApiError('copy_path_status', 200, None, 'the copy %s failed: %s' % (copy_path_id, error_text(record['error'])), answer)
            if record.get('finished'):
                return
        if not waiter.pause():
            raise CocalcApiError('copy_path_status', 200, None, 'the copy %s did not finish within %s seconds (option copy_from.timeout)'
                                 % (copy_path_id, wait), answer)
