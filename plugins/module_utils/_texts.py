# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Text files in projects: read (one or many, batched), compare, write; and text files on the controller.

Pure logic over a CocalcClient, free of AnsibleModule. Reading, planning and writing are separate
steps, so the course reconciler can read the handouts of 200 projects in a few calls, plan each,
and write only the ones that differ from a thread pool::

    current = read_text_files(client, [(pid, 'README.md') for pid in project_ids])   # batched
    for pid in project_ids:
        plan = plan_text(current[(pid, 'README.md')], text)                          # pure
        if plan.changed:
            write_text_file(client, pid, 'README.md', text)                          # writes

Server facts this relies on (real hub 2024-09 and the guide era, see the reference):
- read_text_file_from_project answers a missing file with an ENOENT error event, a directory with
  its tar.bz2 archive as text, a file over 10 MB with "Attempt to open large file"; the 2024 hub
  also takes arrays of project_id/path and answers per file, in the order the reads finished.
- JSON bodies are limited to 100 kB, form bodies to 1 MB; longer text is written in parts that
  are joined inside the project and checked by sha256.
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
    ProjectNotReady,
    check_uuid,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import (
    HOME_GUARD,
    PROJECT_COMMAND_TIMEOUT,
    check_in_home,
    check_project_path,
    exec_in_project,
    outside_home_error,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._public_paths import check_public_read_path, public_text


# The largest text cocalc_file writes: 1 MiB of UTF-8.
MAX_CONTENT_BYTES = 1024 * 1024
# The hub's urlencoded body limit since 2022-07 (older hubs: 100 kB, which the parts route covers).
FORM_BODY_LIMIT = 1024 * 1024
# ansible's default MAX_FILE_SIZE_FOR_DIFF: larger texts are not put into the diff.
MAX_DIFF_BYTES = 104448
# Files per read_text_file_from_project array call.
READ_BATCH = 50

# bzip2 magic, what the hub returns for a directory path.
_BZ2_RE = re.compile(r'^BZh[1-9]1AY&SY')


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
        matched, failure = _read_round(client, pending, first=waiter is None)
        if failure is not None:
            found.update((key, failure()) for key in pending)
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


def _read_round(client, keys, first):
    """One array read of keys: ({key: item}, None), or (None, failure) where failure() makes the error
    of each key. _NoArrays when the first read shows that the server takes no arrays; after that the
    server took arrays a moment ago, so a failure is real, not a missing feature."""
    try:
        answer = client.call('read_text_file_from_project', project_id=[key[0] for key in keys],
                             path=[key[1] for key in keys])
    except CocalcApiError as err:
        if err.http_status is None:
            raise
        if first:
            raise _NoArrays() from None
        failure = err   # the name err is unbound after the except block
        return None, lambda: failure
    items = answer.get('content')
    if not isinstance(items, list) and first:
        raise _NoArrays()
    matched = match_batch(keys, items) if isinstance(items, list) else None
    if matched is None:
        return None, lambda: _batch_error(answer, len(keys))
    return matched, None


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


def looks_like_archive(text):
    """True for what the hub answers when asked for the text of a directory (its tar.bz2 archive)."""
    return isinstance(text, str) and bool(_BZ2_RE.match(text))


# ---- text: read for the lookup ----

def lookup_texts(connect, project_id, terms, public=False):
    """The cocalc_file lookup: the text of each term (a path) of one project, checked before any call.

    connect: makes the CocalcClient (only once the input is good). public: read through the public
    reader (a file inside a public path of any project) instead of the project's files.
    """
    project_id = check_uuid(project_id, 'project_id')
    check = check_public_read_path if public else check_project_path
    paths = [check(term, 'term %d' % (index + 1)) for index, term in enumerate(terms)]
    with connect() as client:
        if public:
            return [public_text(client, project_id, path) for path in paths]
        return read_project_texts(client, project_id, paths) if paths else []


def read_project_texts(client, project_id, paths):
    """The texts of files of one project, in as few calls as the server allows; CocalcApiError on any failure.

    One project_exec first checks that no path's real location leaves the home (the hub reads
    through symlinks anywhere), so nothing outside the home is ever read.
    """
    check_in_home(client, project_id, paths, ['term %d' % (index + 1) for index in range(len(paths))])
    found = read_text_files(client, [(project_id, path) for path in paths])
    return [_usable_text(found[(project_id, path)], project_id, path) for path in paths]


def _usable_text(text, project_id, path):
    """A text of read_text_files, or the error that says why there is none."""
    where = "Could not read '%s' of project %s" % (path, project_id)
    if isinstance(text, CocalcApiError) and text.kind == 'is_directory':
        # The current generation's per-file EISDIR: the same mistake as v1's archive answer below.
        raise CocalcInputError('%s: it is a directory; name a file' % where)
    if isinstance(text, CocalcApiError):
        if text.attempted is None:
            text.attempted = where[len('Could not '):]
        raise text
    if text is None:
        raise CocalcInputError('%s: there is no such file' % where)
    if text is TOO_LARGE:
        raise CocalcInputError('%s: the file is larger than the server reads (10 MB by default)' % where)
    if looks_like_archive(text):
        raise CocalcInputError('%s: it is a directory (the server answers with an archive); name a file' % where)
    return text


# ---- text files on the controller ----

def read_controller_text(path, option, limit=None, strip_bom=False):
    """The text of a UTF-8 file on the controller; CocalcInputError naming option otherwise.

    limit: the most bytes the file may have (only that much is read). strip_bom: drop a leading
    UTF-8 byte order mark (spreadsheet exports have one); otherwise the text is kept exactly.
    """
    try:
        with open(path, 'rb') as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
    except OSError as err:
        raise CocalcInputError('%s: cannot read %s on the controller: %s' % (option, path, err.strerror or err)) from None
    if limit is not None and len(data) > limit:
        raise CocalcInputError('%s: %s is larger than %d bytes, the most %s may have' % (option, path, limit, option))
    try:
        return data.decode('utf-8-sig' if strip_bom else 'utf-8')
    except UnicodeDecodeError as err:
        raise CocalcInputError('%s: %s is not UTF-8 text (byte %d cannot be decoded); only text files can be used'
                               % (option, path, err.start)) from None
