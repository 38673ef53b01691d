# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Projects: read, find, plan, apply. Pure logic over a CocalcClient, no Ansible objects.

The pieces are separate so that the course reconciler can read every project once and then
plan and apply for hundreds of them without reading again::

    me = account_id_of_key(client)
    rows, unsupported = read_projects(client)                 # ONE projects_all call for all
    row = find_project(rows, title='Algebra - ada', me=me)     # pure; raises ProjectError if ambiguous
    current = project_view(row, me)                           # the shape modules return
    changes = plan_changes(current, dict(description='...', hidden=True, deleted=False))   # pure
    apply_changes(client, current['project_id'], changes, me) # one query set (or nothing)
    project_id = create_project(client, dict(title='Algebra - ada'), unsupported=unsupported)

create_project() / create_findable() make a project findable even when the create answer is lost (a
creation token line in the description of the create call); settle_creation() applies the rule for runs
at the same time (the oldest wins; the loser soft-deletes only what it created).
ensure_project() and list_projects() compose them for the cocalc_project and
cocalc_project_info modules. read_projects() is also how _collaborators and _course read
projects (with their own fields): the one place that probes for fields a server refuses.
Facts they rely on (recorded from real hubs): projects are looked up through projects_all
only (the table "projects" hides projects not edited for 21 days); the ``status`` field holds
the project's secret token and is never requested; an action_request runs only when its
``time`` differs from the stored one and drops every other field of the same set, so it is
always sent alone; a stopped project reads ``opened``.
"""

from __future__ import annotations

import datetime
import re
import uuid
from urllib.parse import quote, unquote

from ansible_collections.cocalc.cocalc.plugins.module_utils import _wait
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcError,
    CocalcInputError,
    Outcome,
    attempting,
    predict,
    validated,
    wanted_changes,
)

# What read_projects() asks for by default, in one projects_all call. Never 'status': it holds the
# project's secret token.
PROJECT_FIELDS = ('name', 'title', 'description', 'compute_image', 'deleted', 'users', 'state', 'action_request')
# Fields a server may refuse (older servers lack name and compute_image; some keys may not read
# invite); a get naming one of them fails as a whole, so they are probed.
OPTIONAL_FIELDS = frozenset(['name', 'compute_image', 'invite'])
# The fields of a project a module may change, in the words of the view below.
UPDATABLE = ('title', 'description', 'compute_image', 'name', 'hidden', 'deleted')

RUNNING = frozenset(['running'])
# A stopped project reads 'opened' on the real hub (also right after create_project without start).
STOPPED = frozenset(['opened', 'closed', 'archived'])
# In-flight states: wait for them to settle instead of asking again.
SETTLING = {'starting': RUNNING, 'stopping': STOPPED}

POLL_INTERVAL = 1.0

# The creation token: create_project can set only title and description, so the create call itself
# carries a line that makes the new project findable when its answer is lost (a 504 after the hub made it,
# a reset, truncated JSON). The line names a unique token (this creation) and the key the project is
# for (a project name, a course marker; empty for a title-only project). A later set of the same run
# (or the adoption by the next run) replaces the description without it.
TOKEN_TEMPLATE = '<!-- cocalc.cocalc creating %s -->'
_TOKEN_RE = re.compile(r'\n*<!-- cocalc\.cocalc creating (\w+)(?: (\S+))? -->')
# Read to settle a creation: which rows are the same project, and which of them is the oldest.
SETTLE_FIELDS = ('name', 'title', 'description', 'users', 'deleted', 'created')


class ProjectError(CocalcError):
    """A project task that cannot go on (no such project, ambiguous match, unsupported option,
    state not reached in time); the message names the option to look at."""


def _utc_now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def new_creation_token():
    # Indirection so unit tests get a fixed token.
    return uuid.uuid4().hex


def token_line(token, key=''):
    return TOKEN_TEMPLATE % ('%s %s' % (token, quote(key, safe='')) if key else token)


def creation_of(description):
    """(token, key) of a creation token line in description, else (None, None)."""
    match = _TOKEN_RE.search(description or '')
    if not match:
        return None, None
    return match.group(1), unquote(match.group(2) or '')


def strip_token(description):
    """description without its creation token line."""
    return _TOKEN_RE.sub('', description or '').rstrip()


def creation_order(row):
    """The sort key of the rule "the oldest project wins": created, then project_id (so every run agrees)."""
    return (str(row.get('created') or ''), row.get('project_id') or '')


# ---- validation ----

def check_name(value, option='name'):
    """A project name as the hub accepts it: the project_name kind of _validate."""
    return validated('project_name', value, option)


# ---- read ----

def account_id_of_key(client):
    """The account ID of the API key, or None for a key that belongs to no account."""
    with attempting('read the account of the API key'):
        me = client.whoami()
    return (me or {}).get('account_id')


def read_projects(client, fields=PROJECT_FIELDS, project_id=None, title=None, unsupported=(), what='read projects'):
    """Raw projects_all rows visible to the key with fields (and project_id), in ONE call; one
    more for each of the OPTIONAL_FIELDS asked for that the server refuses (it is left out).

    project_id / title filter on the server (equality). Returns (rows, unsupported): the
    optional fields this server does not let the key read; pass it back to skip the probe next
    time. A project_id the key cannot read (missing, or someone else's) raises CocalcApiError;
    see is_no_access(). what: the attempting() label of API errors.
    """
    unsupported = set(unsupported)
    filters = {}
    if project_id is not None:
        filters['project_id'] = project_id
    if title is not None:
        filters['title'] = title
    while True:
        asked = [field for field in fields if field not in unsupported]
        try:
            with attempting(what):
                rows = client.projects_all(asked, **filters)
        except CocalcApiError as err:
            if err.kind == 'unexpected_argument' and err.argument in OPTIONAL_FIELDS and err.argument in asked:
                unsupported.add(err.argument)
                continue
            raise
        return rows, frozenset(unsupported)


def is_no_access(err):
    """True for the hub's answer to a project_id that is missing or not the key's to read."""
    return isinstance(err, CocalcApiError) and err.kind == 'no_access'


def _state_of(row):
    state = (row or {}).get('state')
    return state.get('state') if isinstance(state, dict) else None


def project_view(row, me):
    """The project as modules return it (no status, no secrets). hidden is None without an account."""
    users = row.get('users') if isinstance(row.get('users'), dict) else {}
    mine = users.get(me) if me else None
    if me is None:
        hidden = None
    else:
        hidden = bool(mine.get('hide')) if isinstance(mine, dict) else False
    return dict(
        project_id=row.get('project_id'),
        name=row.get('name') or None,
        title=row.get('title') or '',
        description=row.get('description') or '',
        compute_image=row.get('compute_image'),
        deleted=bool(row.get('deleted')),
        hidden=hidden,
        state=_state_of(row),
        users=dict((account_id, dict(group=entry.get('group')))
                   for account_id, entry in users.items() if isinstance(entry, dict)),
    )


def _owner_of(row):
    for account_id, entry in (row.get('users') or {}).items():
        if isinstance(entry, dict) and entry.get('group') == 'owner':
            return account_id
    return None


def find_project(rows, project_id=None, name=None, title=None, me=None):
    """The one row that project_id, else name, else title names; None if there is none.

    project_id: any row with that id (deleted ones too). name: names are unique per owner and
    compared without case, as the hub does, among the projects ``me`` owns (all, if me is
    None); a live match wins over a deleted one. title: among the non-deleted rows.
    Several candidates raise ProjectError listing their ids: never pick one.
    """
    if project_id is not None:
        matches = [row for row in rows if row.get('project_id') == project_id]
        what = 'project_id %s' % project_id
    elif name is not None:
        named = [row for row in rows if isinstance(row.get('name'), str) and row['name'].lower() == name.lower()
                 and (me is None or _owner_of(row) == me)]
        matches = [row for row in named if not row.get('deleted')] or named
        what = 'name %r' % name
    elif title is not None:
        matches = [row for row in rows if row.get('title') == title and not row.get('deleted')]
        what = 'title %r' % title
    else:
        raise ProjectError('one of project_id, name or title is required to find a project')
    if len(matches) > 1:
        ids = sorted(row.get('project_id') for row in matches)
        raise ProjectError('%d projects match %s: %s; set project_id to choose one' % (len(ids), what, ', '.join(ids)))
    return matches[0] if matches else None


# ---- plan (pure) ----

def plan_changes(current, desired):
    """{field: new value} for the UPDATABLE fields desired sets (not None) that differ from the view."""
    wanted = dict((key, desired.get(key)) for key in UPDATABLE)
    return wanted_changes(current, wanted)


def plan_action(state_now, wanted):
    """(action to request or None, states to wait for or None) to bring a project to wanted
    ('started' or 'stopped'). A project in flight is waited for, not asked again."""
    if wanted == 'started':
        target, action = RUNNING, 'start'
    elif wanted == 'stopped':
        target, action = STOPPED, 'stop'
    else:
        return None, None
    if state_now in target or (wanted == 'stopped' and state_now is None):
        return None, None
    if SETTLING.get(state_now) == target:
        return None, target
    return action, target


def new_project_view(fields, me, start=False):
    """What create_project makes of fields (a prediction; compute_image None = server default)."""
    return dict(project_id=None, name=None, title=fields.get('title') or '', description=fields.get('description') or '',
                compute_image=fields.get('compute_image'), deleted=False, hidden=False if me else None,
                state='running' if start else 'opened', users={me: dict(group='owner')} if me else {})


# ---- apply (writes) ----

def set_fields(project_id, changes, me):
    """The query set that writes changes (view words) to a project: {'projects': {...}}."""
    values = dict(project_id=project_id)
    for key, value in changes.items():
        if key == 'hidden':
            values['users'] = {me: dict(hide=value)}
        else:
            values[key] = value
    return values


def apply_changes(client, project_id, changes, me):
    """Write changes in ONE query set; nothing when there are none."""
    if not changes:
        return
    with attempting('update project %s (%s)' % (project_id, ', '.join(sorted(changes)))):
        client.query_set('projects', set_fields(project_id, changes, me))


class Creation(object):
    """What create_project() made: project_id (None when the create answer was lost and no project
    with its token was found), left = the fields a later set must write (always the description, to
    drop the token line), and lost = the CocalcApiError of a lost answer (or None)."""

    def __init__(self, project_id, left, token, lost=None):
        self.project_id = project_id
        self.left = left
        self.token = token
        self.lost = lost


def create_project(client, fields, start=False, unsupported=(), key=''):
    """create_project with title, description plus a creation token line (see TOKEN_TEMPLATE) and
    compute_image (as ``image``); returns (project_id, fields a later set must write). Only options the user set are sent; start only
    when asked. A server without the image option gets compute_image left for a later set.

    When the answer is lost after the request may have reached the hub (err.may_have_run), the
    project is looked for by its token (one projects_all read by title) instead of creating again;
    found, it is returned like an answered create. Not found, the error is raised: the hub made nothing.
    """
    creation = create_findable(client, fields, start=start, unsupported=unsupported, key=key)
    if creation.project_id is None:
        raise creation.lost
    return creation.project_id, creation.left


def create_findable(client, fields, start=False, unsupported=(), key=''):
    """create_project() as a Creation (project_id None instead of an error when a lost answer made nothing)."""
    token = new_creation_token()
    final_description = fields.get('description') or ''
    marked = (final_description + '\n\n' if final_description else '') + token_line(token, key)
    body = dict(description=marked)
    if fields.get('title') is not None:
        body['title'] = fields['title']
    if start:
        body['start'] = True
    if fields.get('compute_image') is not None and 'compute_image' not in unsupported:
        body['image'] = fields['compute_image']
    lost = None
    with attempting('create project %r' % (fields.get('title') or '')):
        try:
            # An older hub rejects image (HTTP 400, nothing created): asked again without it.
            answer = client.call_without_rejected('create_project', body, optional=('image',))
            project_id = answer.get('project_id')
        except CocalcApiError as err:
            if not err.may_have_run:
                raise
            lost, project_id = err, find_by_token(client, fields.get('title') or '', token)
            if project_id is None:
                err.attempted = err.attempted or 'create project %r' % (fields.get('title') or '')
                err.message += ' (no project carries the creation token of this call, so the hub made none; a re-run creates it)'
    left = dict(description=final_description)
    if fields.get('compute_image') is not None and 'image' not in body:
        left['compute_image'] = fields['compute_image']
    return Creation(project_id, left, token, lost)


def find_by_token(client, title, token):
    """The id of the live project whose description carries this creation token, or None."""
    with attempting('look for the project whose create answer was lost'):
        rows, _unused = read_projects(client, ('title', 'description', 'deleted'), title=title)
    for row in rows:
        if creation_of(row.get('description'))[0] == token and not row.get('deleted'):
            return row['project_id']
    return None


def settle_creation(client, project_id, title, same, me):
    """The rule for runs that create the same project at the same time: the oldest wins (creation_order).

    Reads the live projects titled title (one call); same(row) says which are the same project as
    ours (the one just created). When an older one exists, ours is soft-deleted (we remove only what
    we created) and the winner's row is returned; else None (ours is the one)."""
    with attempting('check whether another run created project %r at the same time' % title):
        rows, _unused = read_projects(client, SETTLE_FIELDS, title=title)
    ours = [row for row in rows if row.get('project_id') == project_id]
    others = [row for row in rows if row.get('project_id') != project_id and not row.get('deleted')
              and (me is None or me in (row.get('users') or {})) and same(row)]
    if not others or not ours:
        return None
    winner = min(ours + others, key=creation_order)
    if winner['project_id'] == project_id:
        return None
    apply_changes(client, project_id, dict(deleted=True), me)
    return winner


def request_action(client, project_id, action, stored_time=None, wait_timeout=0):
    """Send {'action': action, 'time': <new time>} in a set of its own.

    The hub runs an action only when time differs from the stored one and drops any other field
    sent with it. The set returns once the action finished, so it may take as long as the wait.
    """
    when = _utc_now_iso()
    if when == stored_time:
        when = when[:-4] + '%03dZ' % ((int(when[-4:-1]) + 1) % 1000)
    body = {'query': {'projects': {'project_id': project_id, 'action_request': {'action': action, 'time': when}}}}
    with attempting('%s project %s' % (action, project_id)):
        client.call('query', body, request_timeout=max(client.timeout, wait_timeout))


def wait_for_state(client, project_id, target, wait_timeout, unsupported=()):
    """Read the project until its state is in target; its row. ProjectError after wait_timeout s."""
    waiter = _wait.Waiter(wait_timeout, first=POLL_INTERVAL, factor=1.0)
    while True:
        rows, _unused = read_projects(client, project_id=project_id, unsupported=unsupported)
        row = rows[0] if rows else {}
        if _state_of(row) in target:
            return row
        if not waiter.pause():
            error = (row.get('state') or {}).get('error') if isinstance(row.get('state'), dict) else None
            raise ProjectError('project %s is still in state %r after wait_timeout=%s seconds (waiting for %s)%s'
                               % (project_id, _state_of(row), wait_timeout, ' or '.join(sorted(target)),
                                  '; the server reports: %s' % error if error else ''))


# ---- the modules' entry points ----

def _check_supported(params, unsupported):
    for option in ('name', 'compute_image'):
        if params.get(option) is not None and option in unsupported:
            raise ProjectError('%s is not supported by this server: its projects have no %s field (older CoCalc)'
                               % (option, option))


def _read_for_lookup(client, params):
    """Rows that can hold the wanted project (one call), and the unsupported fields."""
    project_id = params.get('project_id')
    try:
        if project_id is not None:
            return read_projects(client, project_id=project_id)
        if params.get('name') is not None:
            return read_projects(client)
        return read_projects(client, title=params.get('title'))
    except CocalcApiError as err:
        if project_id is not None and is_no_access(err):
            raise ProjectError('project_id %s names no project the API key can read (it does not exist, or the '
                               "key's account is not a collaborator on it)" % project_id)
        raise


def _lookup_key(params):
    """The one option that identifies the project: project_id, else name, else title."""
    for option in ('project_id', 'name', 'title'):
        if params.get(option) is not None:
            return {option: params[option]}
    raise ProjectError('one of project_id, name or title is required to find a project')


def ensure_project(client, params, check_mode):
    """cocalc_project: find the project, then create / update / delete / start / stop it."""
    state = params['state']
    key = _lookup_key(params)
    if params.get('name') is not None:
        check_name(params['name'])
    if params['wait_timeout'] < 0:
        raise CocalcInputError('wait_timeout must be 0 or more seconds, got %r' % params['wait_timeout'])
    me = account_id_of_key(client)
    if params.get('hidden') is not None and me is None:
        raise ProjectError('hidden is a per-account setting, but the API key belongs to no account (a project key)')
    rows, unsupported = _read_for_lookup(client, params)
    _check_supported(params, unsupported)
    adopted = []
    if 'project_id' in key:
        row = find_project(rows, me=me, **key)
    else:
        row, adopted = _find_or_adopt(client, rows, me, key, state, check_mode)
    if row is None and 'project_id' in key:
        raise ProjectError('project_id %s was not found' % key['project_id'])
    current = project_view(row, me) if row is not None else None

    if state == 'absent':
        if current is None or current['deleted']:
            return Outcome(current, bool(adopted))
        after = predict(current, dict(deleted=True))
        if not check_mode:
            apply_changes(client, current['project_id'], dict(deleted=True), me)
        return Outcome(after, True, before=current, after=after)

    desired = _desired(params, row)
    if current is None:
        return _create(client, params, desired, me, unsupported, check_mode)
    outcome = _update(client, params, row, desired, me, unsupported, check_mode)
    if adopted:
        outcome.changed = True
        outcome.warnings.append('removed (soft-deleted) project(s) %s: unfinished creations of the same project by an '
                                'earlier or concurrent run (the oldest, %s, was kept)' % (', '.join(adopted), row['project_id']))
    return outcome


def _desired(params, row):
    desired = dict((option, params.get(option)) for option in ('title', 'description', 'compute_image', 'name', 'hidden'))
    desired['deleted'] = False
    if desired['description'] is None and row is not None and creation_of(row.get('description'))[0]:
        # A project whose creation was not finished (its create answer was lost): drop the token line.
        desired['description'] = strip_token(row.get('description'))
    return desired


def _same_creation(row, key):
    """True when row is (an unfinished creation of) the project that key (name or title) selects."""
    if 'name' in key:
        pending = creation_of(row.get('description'))[1]
        return ((row.get('name') or '').lower() == key['name'].lower()
                or (pending is not None and pending.lower() == key['name'].lower()))
    return row.get('title') == key['title']


def _find_or_adopt(client, rows, me, key, state, check_mode):
    """find_project by name or title, plus the rule for unfinished creations (rows carrying a creation
    token: a lost create answer, or runs at the same time): a finished match wins, else the oldest;
    the other unfinished ones are soft-deleted (they are ours and were never used as the project).
    Returns (row or None, [ids removed])."""
    try:
        row = find_project(rows, me=me, **key)
    except ProjectError:
        row = None
        ambiguous = True
    else:
        ambiguous = False
        pending = [] if 'title' in key else [
            r for r in rows if not r.get('deleted') and _owner_of(r) == me and not r.get('name')
            and _same_creation(r, key)]
        if not pending:
            return row, []
    live = [r for r in rows if not r.get('deleted') and (me is None or _owner_of(r) == me) and _same_creation(r, key)]
    unfinished = [r for r in live if creation_of(r.get('description'))[0]]
    finished = [r for r in live if r not in unfinished]
    if len(finished) > 1 or (ambiguous and not unfinished):
        find_project(rows, me=me, **key)  # raises the "N projects match" error: not of our making
    if len(unfinished) > 1 or finished:
        with attempting('read the creation times of unfinished projects'):
            dated, _unused = read_projects(client, SETTLE_FIELDS, title=key.get('title'))
        created = dict((r['project_id'], r.get('created')) for r in dated)
        for r in unfinished:
            r['created'] = created.get(r['project_id'])
    keep = finished[0] if finished else min(unfinished, key=creation_order)
    removed = [r['project_id'] for r in unfinished if r is not keep]
    if not check_mode:
        for project_id in removed:
            apply_changes(client, project_id, dict(deleted=True), me)
    return keep, removed


def _update(client, params, row, desired, me, unsupported, check_mode):
    """Bring an existing project to desired and to params['state'] (fields first, then the action)."""
    current = project_view(row, me)
    state = params['state']
    if params.get('hidden') is not None and me not in current['users']:
        raise ProjectError('hidden: the account of the API key is not a member of project %s, and hiding is per member'
                           % current['project_id'])
    changes = plan_changes(current, desired)
    if 'name' in changes and (me is None or _owner_of(row) != me):
        # Checked here: the 2024 hub lets a collaborator set the name (a defect of that release).
        raise ProjectError('name: only the owner of project %s may change its name, and the account of the API key is %s'
                           % (current['project_id'], 'a collaborator, not the owner' if me in current['users'] else 'not its owner'))
    action, target = plan_action(current['state'], state)
    after = predict(current, changes)
    if target is not None:
        after['state'] = 'running' if target is RUNNING else 'opened'
    changed = bool(changes) or action is not None
    if check_mode or (not changed and target is None):
        return Outcome(after, changed, before=current, after=after)
    apply_changes(client, current['project_id'], changes, me)
    if target is None:
        return Outcome(after, changed, before=current, after=after)
    updated = predict(current, changes)
    what = 'Updated project %s (%s), but then: ' % (current['project_id'], ', '.join(sorted(changes)))
    try:
        if action is not None:
            stored = row.get('action_request') if isinstance(row.get('action_request'), dict) else {}
            request_action(client, current['project_id'], action, stored.get('time'), params['wait_timeout'])
        after = project_view(wait_for_state(client, current['project_id'], target, params['wait_timeout'], unsupported), me)
    except (CocalcApiError, ProjectError) as err:
        if not changes:
            raise
        return _partly_done(updated, current, err, what)
    return Outcome(after, changed, before=current, after=after)


def _partly_done(resource, before, err, done):
    """An Outcome that fails after some writes, still returning what was done."""
    extra = dict(api_error=err.as_dict()) if isinstance(err, CocalcApiError) else {}
    return Outcome(resource, True, before=before, after=resource, failure=done + str(err), **extra)


def _create(client, params, desired, me, unsupported, check_mode):
    start = params['state'] == 'started'
    fields = dict((option, value) for option, value in desired.items() if value is not None)
    predicted = new_project_view(fields, me, start=start)
    predicted = predict(predicted, plan_changes(predicted, desired))
    if check_mode:
        return Outcome(predicted, True, before=None, after=predicted)
    key = _lookup_key(params)
    project_id, left = create_project(client, fields, start=start, unsupported=unsupported, key=params.get('name') or '')
    made = dict((option, value) for option, value in fields.items() if option not in left)
    made_view = dict(new_project_view(made, me, start=start), project_id=project_id)
    try:
        winner = settle_creation(client, project_id, fields.get('title') or '', lambda row: _same_creation(row, key), me)
        if winner is not None:
            # Another run made the same project first (the oldest wins): ours is deleted, go on with that one.
            rows, _unused = read_projects(client, project_id=winner['project_id'], unsupported=unsupported)
            outcome = _update(client, params, rows[0], _desired(params, rows[0]), me, unsupported, check_mode)
            outcome.changed = True
            outcome.warnings.append('another run created this project at the same time; kept the older one, %s, and '
                                    'removed (soft-deleted) the one this run created, %s' % (winner['project_id'], project_id))
            return outcome
        # name, hidden, the final description (without the creation token) and anything create_project
        # could not take: one set.
        changes = plan_changes(made_view, desired)
        changes.update(left)
        apply_changes(client, project_id, changes, me)
        if start:
            row = wait_for_state(client, project_id, RUNNING, params['wait_timeout'], unsupported)
        else:
            rows, _unused = read_projects(client, project_id=project_id, unsupported=unsupported)
            row = rows[0] if rows else dict(project_id=project_id)
    except (CocalcApiError, ProjectError) as err:
        # The project exists now: say so, with its ID, so a re-run can pick it up by project_id.
        return _partly_done(made_view, None, err, 'Created project %s, but then: ' % project_id)
    after = project_view(row, me)
    return Outcome(after, True, before=None, after=after)


def list_projects(client, params, check_mode):
    """cocalc_project_info: the projects visible to the key, filtered; read-only."""
    if params.get('name') is not None:
        check_name(params['name'])
    me = account_id_of_key(client)
    try:
        rows, unsupported = read_projects(client, project_id=params.get('project_id'), title=params.get('title'))
    except CocalcApiError as err:
        if params.get('project_id') is not None and is_no_access(err):
            return Outcome([], False)
        raise
    if params.get('name') is not None and 'name' in unsupported:
        raise ProjectError('name is not supported by this server: its projects have no name field (older CoCalc)')
    projects = []
    for row in rows:
        view = project_view(row, me)
        if params.get('name') is not None and (view['name'] or '').lower() != params['name'].lower():
            continue
        if view['deleted'] and not params['include_deleted']:
            continue
        if view['hidden'] and not params['include_hidden']:
            continue
        projects.append(view)
    projects.sort(key=lambda view: (view['title'], view['project_id']))
    return Outcome(projects, False)
