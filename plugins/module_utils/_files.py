# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Files in projects: read, compare, write text; copy trees between projects; remove paths.

Pure logic over a CocalcClient, free of AnsibleModule. Each job is split into "read current state"
(batchable), "plan" (pure) and "apply" (writes), so the course reconciler can read the handouts of
200 projects in a few calls, plan each, and write only the ones that differ from a thread pool::

    current = read_text_files(client, [(pid, 'README.md') for pid in project_ids])   # batched
    for pid in project_ids:
        plan = plan_text(current[(pid, 'README.md')], text)                          # pure
        if plan.changed:
            write_text_file(client, pid, 'README.md', text)                          # writes

    sources = probe_trees(client, src_pid, ['handout'])                             # checksums
    plan = plan_copy(sources[0], probe_trees(client, pid, ['handout'])[0], CopyOptions())
    if plan.changed:
        copy_path(client, src_pid, 'handout', pid, 'handout', CopyOptions())

ensure_file() is the resource function of the cocalc_file module and composes these pieces.

Server facts this relies on (real hub 2024-09 and the guide era, see the reference):
- read_text_file_from_project answers a missing file with an ENOENT error event, a directory with
  its tar.bz2 archive as text, a file over 10 MB with "Attempt to open large file"; the 2024 hub
  also takes arrays of project_id/path and answers per file.
- JSON bodies are limited to 100 kB, form bodies to 1 MB; longer text is written in parts that
  are joined inside the project and checked by sha256.
- copy_path_between_projects is rsync -a (--update unless overwrite_newer, --delete with
  delete_missing); 2024 hubs copy asynchronously unless wait_until_done is true, guide-era hubs
  reject that option.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import uuid

from ansible_collections.cocalc.cocalc.plugins.module_utils import _wait
from ansible_collections.cocalc.cocalc.plugins.module_utils._api import (
    JSON_BODY_LIMIT,
    READY_WAIT_CAP,
    READY_WAIT_FIRST,
    api_error,
    form_encode,
    not_ready_item,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcInputError,
    Outcome,
    ProjectNotReady,
    attempting,
    check_uuid,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import (
    ENTRY_GUARD,
    HOME_GUARD,
    check_in_home,
    check_project_path,
    exec_in_project,
    outside_home_error,
)

# The largest text cocalc_file writes: 1 MiB of UTF-8.
MAX_CONTENT_BYTES = 1024 * 1024
# The hub's urlencoded body limit since 2022-07 (older hubs: 100 kB, which the parts route covers).
FORM_BODY_LIMIT = 1024 * 1024
# ansible's default MAX_FILE_SIZE_FOR_DIFF: larger texts are not put into the diff.
MAX_DIFF_BYTES = 104448
# Files per read_text_file_from_project array call.
READ_BATCH = 50
# Seconds for the checksum and join commands run in projects.
PROJECT_COMMAND_TIMEOUT = 120
# Seconds to wait for a copy when copy_from.timeout is not set (kucalc bounds its own wait at 4 min).
DEFAULT_COPY_WAIT = 240
COPY_POLL_INTERVAL = 2.0

# bzip2 magic, what the hub returns for a directory path.
_BZ2_RE = re.compile(r'^BZh[1-9]1AY&SY')
_SHA256_RE = re.compile(r'^([0-9a-f]{64}) [ *](.*)$', re.DOTALL)


class _Marker(object):
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


# A file bigger than the server reads (10 MB by default): it differs from any text we write.
TOO_LARGE = _Marker('TOO_LARGE')


def error_text(value):
    """An error field as text: the hub sometimes sends objects ({errno, code, syscall, path})."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


# ---- text: read ----

def _names_other_file(named, path):
    """True when a not_found error names a file (its argument, e.g. '/projects/<id>/a.md') that is not path."""
    if not named:
        return False
    return named != path and not named.endswith('/' + path)


def _classify_read_error(err, path):
    """None for a missing file (the hub said ENOENT for this very path), TOO_LARGE for an oversized
    one; otherwise re-raise: no other answer ever counts as "missing"."""
    if err.kind == 'not_found' and not _names_other_file(err.argument, path):
        return None
    if err.kind == 'too_large':
        return TOO_LARGE
    raise err


def read_text_file(client, project_id, path):
    """The file's text, None when it does not exist, or TOO_LARGE. Other failures raise CocalcApiError
    (ProjectNotReady for a project that did not finish starting within the client's ready_wait)."""
    try:
        answer = client.call('read_text_file_from_project', project_id=project_id, path=path)
    except CocalcApiError as err:
        return _classify_read_error(err, path)
    content = answer.get('content')
    if not isinstance(content, str):
        raise CocalcApiError('read_text_file_from_project', 200, answer.get('event'), 'the answer has no text content', answer)
    return content


def _read_one_safely(client, project_id, path):
    try:
        return read_text_file(client, project_id, path)
    except CocalcApiError as err:
        return err


class _NoArrays(Exception):
    """The server does not take arrays in read_text_file_from_project (older hubs)."""


def read_text_files(client, targets, batch_size=READ_BATCH):
    """Read many files, in few calls: {(project_id, path): text | None (missing) | TOO_LARGE | CocalcApiError}.

    Uses the array form of read_text_file_from_project (batch_size files per call); a server that
    rejects arrays gets one call per file from then on. The hub answers arrays in the order the reads
    finished, each item naming its project_id and path, so items are matched by (project_id, path),
    never by position; a batch whose items cannot be matched one to one gives an error for each of
    its files. Items of projects still starting are read again after a pause (within the client's
    ready_wait). Failures for single files come back as CocalcApiError values so one unreadable
    project does not hide the others; a transport failure (no answer) raises.
    """
    unique = []
    for target in targets:
        key = (target[0], target[1])
        if key not in unique:
            unique.append(key)
    results = {}
    arrays = True
    for start in range(0, len(unique), batch_size):
        batch = unique[start:start + batch_size]
        if arrays and len(batch) > 1:
            try:
                results.update(_read_batch(client, batch))
                continue
            except _NoArrays:
                arrays = False
        for project_id, path in batch:
            results[(project_id, path)] = _read_one_safely(client, project_id, path)
    return results


def _read_batch(client, batch):
    """One array read of batch (and again for the items of projects still starting)."""
    found = {}
    pending = list(batch)
    waiter = None
    while pending:
        try:
            answer = client.call('read_text_file_from_project', project_id=[key[0] for key in pending],
                                 path=[key[1] for key in pending])
        except CocalcApiError as err:
            if err.http_status is None:
                raise
            if found or waiter is not None:
                # This server took arrays a moment ago: the failure is real, not a missing feature.
                found.update((key, err) for key in pending)
                return found
            raise _NoArrays() from None
        items = answer.get('content')
        if not isinstance(items, list):
            if found or waiter is not None:
                found.update((key, _batch_error(answer, len(pending))) for key in pending)
                return found
            raise _NoArrays()
        matched = match_batch(pending, items)
        if matched is None:
            found.update((key, _batch_error(answer, len(pending))) for key in pending)
            return found
        waiting = [key for key in pending if not_ready_item(matched[key])]
        found.update((key, _array_item(key, matched[key])) for key in pending if key not in waiting)
        if not waiting:
            break
        if waiter is None:
            waiter = _wait.Waiter(client.ready_wait, first=READY_WAIT_FIRST, cap=READY_WAIT_CAP)
        if not waiter.pause():
            found.update((key, _not_ready_error(key, matched[key], waiter.budget)) for key in waiting)
            break
        pending = waiting
    return found


def match_batch(keys, items):
    """{(project_id, path): item} when items answer keys one to one (each item naming its project_id
    and path, in any order), else None."""
    wanted = set(keys)
    matched = {}
    for item in items:
        key = (item.get('project_id'), item.get('path')) if isinstance(item, dict) else None
        if key not in wanted or key in matched:
            return None
        matched[key] = item
    return matched if len(matched) == len(wanted) else None


def _batch_error(answer, count):
    return CocalcApiError('read_text_file_from_project', 200, answer.get('event'),
                          'the server answered a read of %d files with items that cannot be matched one to one to the files '
                          'asked for (each item must name its project_id and path); nothing of it is used' % count, answer)


def _not_ready_error(key, item, budget):
    err = ProjectNotReady('read_text_file_from_project', 200, 'error',
                          '%s (project %s did not become ready within %s seconds: it is still starting, or cannot start)'
                          % (_item_error_text(item), key[0], budget), item)
    err.attempted = "read '%s' in project %s" % (key[1], key[0])
    return err


def _item_error_text(item):
    error = item.get('error')
    if error == {}:
        return 'the server reported an error without details, as the hub does for a project that is still starting'
    return error_text(error)


def _array_item(key, item):
    if isinstance(item.get('content'), str) and item.get('error') is None:
        return item['content']
    err = api_error('read_text_file_from_project', 200, 'error', _item_error_text(item), item)
    err.attempted = "read '%s' in project %s" % (key[1], key[0])
    try:
        return _classify_read_error(err, key[1])
    except CocalcApiError as failure:
        return failure


# ---- text: plan ----

def text_bytes(content, option='content'):
    """content as UTF-8 bytes, or CocalcInputError (not text, or over MAX_CONTENT_BYTES)."""
    if not isinstance(content, str):
        raise CocalcInputError('%s must be text, got %s' % (option, type(content).__name__))
    try:
        data = content.encode('utf-8')
    except UnicodeEncodeError as err:
        raise CocalcInputError('%s is not valid UTF-8 text (%s); cocalc_file writes text files only' % (option, err.reason)) from None
    if len(data) > MAX_CONTENT_BYTES:
        raise CocalcInputError('%s is %d bytes of UTF-8; cocalc_file writes text files of at most %d bytes (1 MiB)'
                               % (option, len(data), MAX_CONTENT_BYTES))
    return data


def text_info(project_id, path, data):
    """The returned ``file`` for a text file with these bytes."""
    return dict(project_id=project_id, path=path, state='file', size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _appears_binary(text):
    return '\x00' in text or '\ufffd' in text


class TextPlan(object):
    """Whether a write is needed, and the diff in the shape of ansible.builtin.copy."""

    def __init__(self, changed, diff):
        self.changed = changed
        self.diff = diff


def plan_text(current, desired, before_header=None, after_header=None):
    """Pure: compare the current text (str, None = missing, TOO_LARGE) with the desired text."""
    changed = current != desired
    if not changed:
        return TextPlan(False, None)
    diff = {}
    if current is None:
        diff['before'] = ''
    elif current is TOO_LARGE or len(current.encode('utf-8', 'replace')) > MAX_DIFF_BYTES:
        diff['dst_larger'] = MAX_DIFF_BYTES
    elif _appears_binary(current):
        diff['dst_binary'] = 1
    else:
        diff['before'] = current
    if before_header:
        diff['before_header'] = before_header
    if len(desired.encode('utf-8')) > MAX_DIFF_BYTES:
        diff['src_larger'] = MAX_DIFF_BYTES
    elif '\x00' in desired:
        diff['src_binary'] = 1
    else:
        diff['after'] = desired
    if after_header:
        diff['after_header'] = after_header
    return TextPlan(True, diff)


# ---- text: write ----

def _json_size(body):
    # Exactly how CocalcClient encodes JSON bodies.
    return len(json.dumps(body, separators=(',', ':'), ensure_ascii=False).encode('utf-8'))


def write_text_file(client, project_id, path, content):
    """Write text (up to MAX_CONTENT_BYTES) exactly: one JSON call up to 100 kB, one form call
    up to the 1 MB form limit, otherwise in parts joined inside the project."""
    data = text_bytes(content)
    body = dict(project_id=project_id, path=path, content=content)
    if _json_size(body) <= JSON_BODY_LIMIT:
        client.call('write_text_file_to_project', body, form=False)
        return
    if len(form_encode(body)) <= FORM_BODY_LIMIT:
        try:
            client.call('write_text_file_to_project', body, form=True)
            return
        except CocalcApiError as err:
            if err.http_status != 413:
                raise
            # An older hub with a smaller form limit: the parts route works there too.
    _write_in_parts(client, project_id, path, content, data)


# Joins the parts into the target (truncating it in place, like the hub's own write), removes the
# parts on every exit, and prints the sha256 of what landed. Paths arrive as arguments: no quoting.
# The target is checked to stay in the home in the same shell that writes it.
_JOIN_SCRIPT = ('t=$1; shift; trap \'rm -f -- "$@"\' EXIT\n(set -- "$t"\n' + HOME_GUARD + ') || exit $?\n'
                'cat -- "$@" > "$t" && sha256sum < "$t"')


def _split_for_json(content, budget):
    """Split text into pieces whose JSON string encoding fits budget bytes."""
    pieces = []
    start = 0
    while start < len(content):
        size = budget
        while True:
            piece = content[start:start + size]
            encoded = len(json.dumps(piece, ensure_ascii=False).encode('utf-8'))
            if encoded <= budget:
                break
            size = max(1, min(size - 1, int(size * budget / encoded) - 8))
        pieces.append(piece)
        start += len(piece)
    return pieces


def _write_in_parts(client, project_id, path, content, data):
    directory, name = posixpath.split(path)
    token = uuid.uuid4().hex[:12]
    part_template = posixpath.join(directory, '.%s.cocalc-part-%s-%%04d' % (name, token))
    overhead = _json_size(dict(project_id=project_id, path=part_template % 0, content='')) + 64
    pieces = _split_for_json(content, JSON_BODY_LIMIT - overhead)
    parts = [part_template % index for index in range(len(pieces))]
    written = []
    try:
        for part, piece in zip(parts, pieces):
            client.call('write_text_file_to_project', dict(project_id=project_id, path=part, content=piece), form=False)
            written.append(part)
        result = exec_in_project(client, project_id, 'sh', args=['-c', _JOIN_SCRIPT, 'sh', path] + parts,
                                 timeout=PROJECT_COMMAND_TIMEOUT)
    except CocalcApiError:
        _remove_quietly(client, project_id, written)
        raise
    outside = outside_home_error(result, [path], ['path'], project_id)
    if outside is not None:
        raise outside
    expected = hashlib.sha256(data).hexdigest()
    landed = result.stdout.split(' ', 1)[0].strip()
    if result.rc != 0 or landed != expected:
        raise CocalcApiError('project_exec', 200, None,
                             'joining the %d parts of %s failed (exit code %d, sha256 %r, expected %s): %s'
                             % (len(parts), path, result.rc, landed, expected, result.stderr.strip()))


def _remove_quietly(client, project_id, paths):
    if not paths:
        return
    try:
        exec_in_project(client, project_id, 'rm', args=['-f', '--'] + list(paths))
    except CocalcApiError:
        pass   # the original error matters more than leftover part files


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
    current = None
    for record in output.split('\0'):
        if not record:
            continue
        if record.startswith('@'):
            current = Tree(record[1:])
            trees.append(current)
            continue
        if current is None:
            raise ValueError('probe output starts with %r' % record[:40])
        if record.startswith('S '):
            size, mtime, name = record[2:].split(' ', 2)
            current.files.setdefault(name, FileEntry(None, None)).size = int(size)
            current.files[name].mtime = float(mtime)
            continue
        match = _SHA256_RE.match(record)
        if not match:
            raise ValueError('unexpected probe output %r' % record[:80])
        name = match.group(2)
        name = '' if current.kind == 'file' else (name[2:] if name.startswith('./') else name)
        current.files.setdefault(name, FileEntry(None, None)).sha256 = match.group(1)
    if len(trees) != count or any(entry.sha256 is None or entry.size is None for tree in trees for entry in tree.files.values()) \
            or any(tree.kind == 'file' and list(tree.files) != [''] for tree in trees):
        raise ValueError('incomplete probe output for %d paths' % count)
    return trees


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
    created, updated, deleted = [], [], []
    after = dict(target.files)
    for name, entry in source.files.items():
        have = target.files.get(name)
        if have is None:
            created.append(name)
            after[name] = entry
        elif have.sha256 != entry.sha256:
            if not options.overwrite_newer and have.mtime is not None and entry.mtime is not None and have.mtime > entry.mtime:
                continue
            if have.size == entry.size and have.mtime == entry.mtime:
                continue
            updated.append(name)
            after[name] = entry
    if options.delete_missing and source.kind == 'directory':
        for name in target.files:
            if name in source.files:
                continue
            if options.backup and name.endswith('~'):
                continue   # rsync protects backup files from --delete
            if options.exclude_history and name.endswith('.sage-history'):
                continue
            deleted.append(name)
            after.pop(name, None)
    return CopyPlan(source.kind, sorted(created), sorted(updated), sorted(deleted), after, bool(created or updated or deleted))


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
    wait = options.timeout or DEFAULT_COPY_WAIT
    answer = client.call_without_rejected(endpoint, body, adapt=lambda sent, err: _adapt_copy_body(sent, err.unexpected_argument, options),
                                          request_timeout=client.timeout + wait)
    copy_path_id = answer.get('copy_path_id')
    if copy_path_id:
        _wait_for_copy(client, copy_path_id, wait)


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


# ---- the cocalc_file module ----

def _file_diff_maps(path, files):
    return dict((posixpath.join(path, name) if name else path, entry.sha256) for name, entry in files.items())


def ensure_copy(client, project_id, path, copy_from, check_mode):
    """copy_from onto project_id:path, changed only when the target's content differs."""
    src_project_id = check_uuid(copy_from['project_id'], 'copy_from.project_id')
    src_path = check_project_path(copy_from['path'], 'copy_from.path')
    options = CopyOptions(overwrite_newer=copy_from.get('overwrite_newer'), delete_missing=copy_from.get('delete_missing'),
                          backup=copy_from.get('backup'), timeout=copy_from.get('timeout'),
                          exclude_history=copy_from.get('exclude_history'), public=copy_from.get('public'))
    if options.timeout is not None and options.timeout <= 0:
        raise CocalcInputError('copy_from.timeout must be a positive number of seconds, got %r' % (options.timeout,))
    # A file copied onto an existing directory lands inside it (rsync), so both are probed.
    nested = posixpath.join(path, posixpath.basename(src_path))
    source = None
    with attempting("read the checksums of '%s' in project %s" % (src_path, src_project_id)):
        if src_project_id == project_id:
            source, target, inside = probe_trees(client, project_id, [src_path, path, nested], options.exclude_history,
                                                 options=['copy_from.path', 'path', 'path'])
        else:
            try:
                source = probe_trees(client, src_project_id, [src_path], options.exclude_history, options=['copy_from.path'])[0]
            except CocalcApiError as err:
                if err.kind != 'no_access':
                    raise
                # A public path (or a viewer's project): the copy may work where the listing does not.
    if source is not None and source.kind == 'missing':
        raise CocalcInputError("copy_from.path '%s' does not exist in project %s" % (src_path, src_project_id))
    if source is None or src_project_id != project_id:
        with attempting("read the checksums of '%s' in project %s" % (path, project_id)):
            target, inside = probe_trees(client, project_id, [path, nested], options.exclude_history)
    if source is not None and source.kind == 'file' and target.kind == 'directory':
        path, target = nested, inside
    plan = plan_copy(source, target, options) if source is not None else None
    if plan is None:
        return _copy_blind(client, project_id, path, src_project_id, src_path, options, target, check_mode)
    before = _file_diff_maps(path, target.files) if target.kind != 'missing' else None
    after = _file_diff_maps(path, plan.files_after)
    info = tree_info(project_id, path, plan.kind_after, plan.files_after)
    if not plan.changed:
        return Outcome(tree_info(project_id, path, target.kind, target.files), False)
    if not check_mode:
        with attempting("copy '%s' of project %s to '%s' in project %s" % (src_path, src_project_id, path, project_id)):
            copy_path(client, src_project_id, src_path, project_id, path, options)
    return Outcome(info, True, before=before, after=after)


def _copy_blind(client, project_id, path, src_project_id, src_path, options, target, check_mode):
    """The source cannot be listed: compare the target before and after the copy.

    A file copied into a directory lands inside it, which the directory's own tree includes.
    """
    if check_mode:
        return Outcome(tree_info(project_id, path, target.kind, target.files), True,
                       warnings=['cannot list copy_from.path in project %s, so check mode cannot tell whether the copy would change '
                                 'anything; assuming it would' % src_project_id])
    with attempting("copy '%s' of project %s to '%s' in project %s" % (src_path, src_project_id, path, project_id)):
        copy_path(client, src_project_id, src_path, project_id, path, options)
    with attempting("read the checksums of '%s' in project %s" % (path, project_id)):
        after = probe_trees(client, project_id, [path], options.exclude_history)[0]
    changed = (target.kind, target.checksums()) != (after.kind, after.checksums())
    info = tree_info(project_id, path, after.kind, after.files)
    if not changed:
        return Outcome(info, False)
    before_map = _file_diff_maps(path, target.files) if target.kind != 'missing' else None
    return Outcome(info, True, before=before_map, after=_file_diff_maps(path, after.files))


def looks_like_archive(text):
    return isinstance(text, str) and bool(_BZ2_RE.match(text))


def _explain_outside(client, project_id, path, err):
    """After a failed read: OutsideHomeError when the path leaves the home (a hub that refuses such
    reads has its own words for it; this gives ours), else nothing, and the caller re-raises err."""
    if err.http_status is None or isinstance(err, ProjectNotReady):
        return   # no answer, or a project that never came up: another call would not help
    try:
        check_in_home(client, project_id, [path], ['path'])
    except CocalcApiError:
        pass     # the read's own error is the one to report


def ensure_text(client, project_id, path, content, check_mode, after_header=None):
    """Write content to project_id:path unless it is already there."""
    data = text_bytes(content)
    with attempting("read '%s' in project %s" % (path, project_id)):
        try:
            current = read_text_file(client, project_id, path)
        except CocalcApiError as err:
            _explain_outside(client, project_id, path, err)
            raise
        if looks_like_archive(current) and path_kind(client, project_id, path) == 'directory':
            raise CocalcInputError("path '%s' is a directory in project %s; cocalc_file writes text files (copy_from copies directories)"
                                   % (path, project_id))
    plan = plan_text(current, content, before_header=path, after_header=after_header or path)
    info = text_info(project_id, path, data)
    if plan.changed:
        # Only before a write (the hub follows symlinks anywhere): an unchanged file costs no call.
        check_in_home(client, project_id, [path], ['path'])
    if plan.changed and not check_mode:
        with attempting("write '%s' in project %s" % (path, project_id)):
            write_text_file(client, project_id, path, content)
    return Outcome(info, plan.changed, diff=plan.diff)


def ensure_absent(client, project_id, path, check_mode):
    """Remove a file or directory; nothing to do when it is not there."""
    with attempting("check '%s' in project %s" % (path, project_id)):
        kind = path_kind(client, project_id, path)
    if kind == 'missing':
        return Outcome(None, False)
    if not check_mode:
        with attempting("remove '%s' in project %s" % (path, project_id)):
            remove_path(client, project_id, path)
    return Outcome(None, True, before=dict(path=path, state=kind), after=None)


def ensure_file(client, params, check_mode):
    """The resource function of cocalc_file."""
    project_id = params['project_id']
    path = check_project_path(params['path'], 'path')
    sources = [name for name in ('content', 'src', 'copy_from') if params.get(name) is not None]
    if params['state'] == 'absent':
        if sources:
            raise CocalcInputError('%s cannot be used with state=absent' % ', '.join(sources))
        return ensure_absent(client, project_id, path, check_mode)
    if params.get('copy_from') is not None:
        return ensure_copy(client, project_id, path, params['copy_from'], check_mode)
    if params.get('src') is not None and params.get('content') is None:
        raise CocalcInputError('src names a file on the controller, which the action plugin cocalc.cocalc.cocalc_file reads; '
                               'run the task as cocalc.cocalc.cocalc_file, or pass content')
    return ensure_text(client, project_id, path, params['content'], check_mode, after_header=params.get('src'))
