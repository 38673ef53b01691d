# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Public paths (shares) of projects: read, plan, apply; plus the public readers.

A public path is a row of the query table ``public_paths`` whose primary key ``id`` is the
SHA-1 of ``project_id + path`` (the path exactly as sent: ``a`` and ``a/`` are two rows).
There is no delete: unpublishing sets ``disabled: true``.

The three steps are separate so a course reconciler can read the rows of many projects in
one call and apply a thread pool of writes::

    rows = read_public_paths(client, project_ids)                     # one query call
    plans = [plan_public_path(pid, 'handout', find_public_path(rows[pid], pid, 'handout'),
                              'present', description='Week 1') for pid in project_ids]
    for plan in plans:                                                 # pure: nothing written yet
        if plan.changed:
            apply_public_path_plan(client, plan)                       # one query set each
"""

from __future__ import annotations

import hashlib

from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    Outcome,
    attempting,
    predict,
    validated,
    wanted_changes,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import check_in_home, check_project_path

TABLE = 'public_paths'
# Readable on every server era; ``authenticated`` only exists on servers from 2021-12 on.
BASE_FIELDS = ('id', 'project_id', 'path', 'description', 'disabled', 'unlisted')
AUTHENTICATED = 'authenticated'
# The options of cocalc_public_path that map one to one to row fields.
SETTABLE_OPTIONS = ('description', 'unlisted', AUTHENTICATED)


def public_path_id(project_id, path):
    """The server's id of a public path: SHA-1 hex of project_id + path, path not normalised."""
    return hashlib.sha1((project_id + path).encode('utf-8')).hexdigest()


def check_public_path(value, option):
    """A public path exactly as given (its id depends on every character); CocalcInputError otherwise.

    The public_path kind of _validate: a project path with no '..' at all (the server never
    treats a path containing '../' as public).
    """
    return validated('public_path', value, option)


def check_public_read_path(value, option, allow_home=False):
    """A path to read publicly (a file, or a directory to list), normalised like check_project_path.

    With allow_home, '' and '.' name the home directory and become ''.
    """
    if allow_home and value == '':
        return ''
    normal = check_project_path(value, option, allow_home=allow_home)
    return '' if normal == '.' else normal


def _read_spec(project_id, with_authenticated):
    fields = BASE_FIELDS + ((AUTHENTICATED,) if with_authenticated else ())
    spec = dict((field, None) for field in fields)
    spec['project_id'] = project_id
    return [spec]


def normalise_row(row, with_authenticated=False):
    """A row as modules return it: the fields always present, unset flags false, no description ''.

    The server omits fields it never stored (list gets drop nulls), and treats them as false.
    """
    result = dict(
        id=row.get('id'),
        project_id=row.get('project_id'),
        path=row.get('path'),
        description=row.get('description') or '',
        unlisted=bool(row.get('unlisted')),
        disabled=bool(row.get('disabled')),
    )
    if with_authenticated:
        result[AUTHENTICATED] = bool(row.get(AUTHENTICATED))
    return result


def is_unknown_field_error(error, field):
    """True when a query failed because this server's public_paths table lacks ``field``."""
    return isinstance(error, CocalcApiError) and error.kind == 'unexpected_argument' and error.argument == field


def read_public_paths(client, project_ids, with_authenticated=False):
    """{project_id: [normalised rows]} for the given projects, in one query call.

    Any account may read any project's public paths, so an unknown project simply has none.
    Several projects go into one array-form query (the server runs its parts in series).
    """
    project_ids = list(project_ids)
    if not project_ids:
        return {}
    specs = [{TABLE: _read_spec(project_id, with_authenticated)} for project_id in project_ids]
    what = 'read the public paths of project %s' % project_ids[0] if len(project_ids) == 1 else \
        'read the public paths of %d projects' % len(project_ids)
    try:
        with attempting(what):
            answer = client.query(specs[0] if len(specs) == 1 else specs)
    except CocalcApiError as err:
        if with_authenticated and is_unknown_field_error(err, AUTHENTICATED):
            err.message += (' (this CoCalc server predates the public path option authenticated, '
                            'added in December 2021; leave authenticated unset)')
        raise
    answers = [answer] if len(specs) == 1 else (answer or [])
    rows = {}
    for project_id, part in zip(project_ids, answers):
        found = (part or {}).get(TABLE) or []
        rows[project_id] = [normalise_row(row, with_authenticated) for row in found]
    return rows


def find_public_path(rows, project_id, path):
    """The row of this exact path among one project's rows, or None."""
    wanted = public_path_id(project_id, path)
    for row in rows:
        if row.get('id') == wanted:
            return row
    return None


class PublicPathPlan(object):
    """What to write for one public path, decided from the current row alone (no I/O).

    write: the fields to set (besides project_id and path), or None when nothing differs.
    before / after: the normalised row before and as it will be (None = no row).
    """

    def __init__(self, project_id, path, before, after, write):
        self.project_id = project_id
        self.path = path
        self.before = before
        self.after = after
        self.write = write

    @property
    def changed(self):
        return self.write is not None

    @property
    def action(self):
        """A verb for messages: publish, update or unpublish."""
        if self.write is None:
            return 'leave'
        if self.write.get('disabled') is True:
            return 'unpublish'
        if self.before is None or self.before.get('disabled'):
            return 'publish'
        return 'update'


def _blank_row(project_id, path, with_authenticated):
    """How a row the server has never seen reads once published with no options."""
    row = normalise_row(dict(id=public_path_id(project_id, path), project_id=project_id, path=path))
    if with_authenticated:
        row[AUTHENTICATED] = False
    return row


def plan_public_path(project_id, path, current, state, description=None, unlisted=None, authenticated=None):
    """Plan one public path. current: its normalised row or None. Options left None are not managed.

    present: publish (enable) the path and set the options that differ.
    absent: set ``disabled: true`` if the row exists and is enabled (there is no delete); the
    other options are not touched then.
    """
    if state == 'absent':
        if current is None or current.get('disabled'):
            return PublicPathPlan(project_id, path, current, current, None)
        return PublicPathPlan(project_id, path, current, predict(current, {'disabled': True}), {'disabled': True})
    desired = dict(description=description, unlisted=unlisted, authenticated=authenticated, disabled=False)
    with_authenticated = authenticated is not None
    base = current if current is not None else _blank_row(project_id, path, with_authenticated)
    changes = wanted_changes(base, desired)
    if current is None:
        # A new row: the write itself publishes it, even when no option differs from the defaults.
        changes.pop('disabled', None)
        return PublicPathPlan(project_id, path, None, predict(base, changes), changes)
    if not changes:
        return PublicPathPlan(project_id, path, current, current, None)
    return PublicPathPlan(project_id, path, current, predict(current, changes), changes)


def apply_public_path_plan(client, plan):
    """Write a plan (one query set); no call when nothing differs. Returns the row as planned."""
    if plan.write is None:
        return plan.after
    values = dict(project_id=plan.project_id, path=plan.path)
    values.update(plan.write)
    try:
        with attempting('%s path %r in project %s' % (plan.action, plan.path, plan.project_id)):
            client.query_set(TABLE, values)
    except CocalcApiError as err:
        if err.kind == 'no_access':
            err.message += ' (the API key must belong to an owner or collaborator of project %s)' % plan.project_id
        elif AUTHENTICATED in plan.write and is_unknown_field_error(err, AUTHENTICATED):
            err.message += ' (this CoCalc server predates the public path option authenticated; leave it unset)'
        raise
    return plan.after


def ensure_public_path(client, params, check_mode):
    """cocalc_public_path: read the project's rows, plan, and apply unless in check mode."""
    project_id = params['project_id']
    path = check_public_path(params['path'], 'path')
    with_authenticated = params.get(AUTHENTICATED) is not None
    rows = read_public_paths(client, [project_id], with_authenticated=with_authenticated)[project_id]
    current = find_public_path(rows, project_id, path)
    plan = plan_public_path(project_id, path, current, params['state'],
                            **dict((option, params.get(option)) for option in SETTABLE_OPTIONS))
    if plan.changed and params['state'] == 'present':
        # The share server follows a symlink anywhere: check before publishing (unpublishing is always safe).
        check_in_home(client, project_id, [path], ['path'])
    if plan.changed and not check_mode:
        apply_public_path_plan(client, plan)
    return Outcome(plan.after, plan.changed, before=plan.before, after=plan.after)


# ---- the public readers (servers before July 2021 only) ----

def _explain_public_error(err, project_id):
    if err.message == 'not_public':
        err.message += ' (project %s has no enabled public path)' % project_id
    elif 'is not public' in (err.message or ''):
        err.message += ' (publish it first, for example with cocalc.cocalc.cocalc_public_path)'


def public_directory_listing(client, project_id, path, hidden=False):
    """The entries of a public directory ({name, size, mtime, isdir}), via public_get_directory_listing.

    Only servers before July 2021 offer it; newer ones answer "unknown endpoint", which the
    client reports as "CoCalc removed public_get_directory_listing from API v1 in July 2021".
    """
    try:
        with attempting('list the public directory %r of project %s' % (path, project_id)):
            answer = client.call('public_get_directory_listing', project_id=project_id, path=path, hidden=hidden)
    except CocalcApiError as err:
        _explain_public_error(err, project_id)
        raise
    result = answer.get('result') or {}
    return (result.get('files') or []) if isinstance(result, dict) else []


def public_text(client, project_id, path):
    """The text of a public file, via public_get_text_file (servers before July 2021 only)."""
    try:
        with attempting('read the public file %r of project %s' % (path, project_id)):
            answer = client.call('public_get_text_file', project_id=project_id, path=path)
    except CocalcApiError as err:
        _explain_public_error(err, project_id)
        raise
    data = answer.get('data')
    return data if isinstance(data, str) else ''


def public_path_info(client, params, check_mode):
    """cocalc_public_path_info: the rows, and the public listing / texts that were asked for.

    Reads ``authenticated`` where the server has it: one call, plus a second on old servers.
    """
    project_id = params['project_id']
    path = params.get('path')
    if path is not None:
        check_public_path(path, 'path')
    listing_path = params.get('listing_path')
    if listing_path is not None:
        listing_path = check_public_read_path(listing_path, 'listing_path', allow_home=True)
    # (as given, as sent): RV(texts) is keyed by the path the user wrote.
    text_paths = [(text_path, check_public_read_path(text_path, 'text_paths[%d]' % index))
                  for index, text_path in enumerate(params.get('text_paths') or [])]
    try:
        rows = read_public_paths(client, [project_id], with_authenticated=True)[project_id]
    except CocalcApiError as err:
        if not is_unknown_field_error(err, AUTHENTICATED):
            raise
        rows = read_public_paths(client, [project_id])[project_id]
    if path is not None:
        rows = [row for row in rows if row['id'] == public_path_id(project_id, path)]
    extra = {}
    if listing_path is not None:
        extra['listing'] = public_directory_listing(client, project_id, listing_path, hidden=params.get('listing_hidden'))
    if text_paths:
        extra['texts'] = dict((given, public_text(client, project_id, sent)) for given, sent in text_paths)
    return Outcome(rows, False, **extra)
