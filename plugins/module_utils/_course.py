# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A whole course in one task: read everything in a few batched calls, plan each student, write only
what differs from a bounded thread pool. Composes the resource layers; it never talks HTTP itself
and has no second "ensure a project" or "ensure collaborators"::

    spec = course_spec(params)                    # _course_spec: validated input (roster CSV read there), pure
    state = read_course(client, spec, pool)       # whoami, ONE user_search, ONE projects_all, handout reads
    plans = plan_course(spec, state)              # pure: one ProjectPlan per student and dropped project
    run_plans(client, spec, state, plans, pool)   # the writes, per project, in parallel

reconcile_course() composes them for the cocalc_course module and its action plugin.

What it reuses: _accounts (account_id_of_key, accounts_by_email: the one account resolver), _project
(the one project finder in its marker mode: index_by_marker, pick_project, unfinished_extras; and
read_projects, project_view, plan_changes, create_findable, apply_changes), _collaborators
(plan_membership, apply_plan, invitation_fields, record_invitations), _texts (read_text_files, plan_text,
write_text_file), _trees (probe_trees, plan_copy, copy_path), _course_setup (the setup command).

Server facts it relies on: projects are found through projects_all only; names are unique per owner
(without case) and only the owner may set them; create_project takes no name, so a name costs one
query set after the creation; invitations are recorded by the server in projects.invite (or, where
the key cannot read that field, in a file of the project).
"""

from __future__ import annotations

import concurrent.futures
import hashlib

from ansible_collections.cocalc.cocalc.plugins.module_utils._accounts import account_id_of_key, accounts_by_email, check_accounts_exist
from ansible_collections.cocalc.cocalc.plugins.module_utils._collaborators import (
    INVITE_RECORD_PATH,
    apply_plan,
    invitation_fields,
    parse_invite_record,
    plan_membership,
    record_invitations,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcError, CocalcInputError, Outcome, attempting, diff_changed_keys
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import SetupFailed, current_result, pending_result, run_setup
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_spec import (
    course_spec,
    strip_marker,
    with_marker,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import CommandTimeout, check_in_home
from ansible_collections.cocalc.cocalc.plugins.module_utils._project import (
    SETTLE_FIELDS,
    ProjectError,
    apply_changes,
    create_findable,
    creation_order,
    index_by_marker,
    pick_project,
    plan_changes,
    project_view,
    read_projects,
    unfinished_extras,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._texts import READ_BATCH, TOO_LARGE, plan_text, read_text_files, write_text_file
from ansible_collections.cocalc.cocalc.plugins.module_utils._trees import CopyOptions, copy_path, plan_copy, probe_trees


# Read in the single projects_all call. Never 'status': it holds the project's secret token. A server
# that refuses name or invite (_project.OPTIONAL_FIELDS) is read without it: see CourseState.marker.
PROJECT_FIELDS = ('name', 'title', 'description', 'users', 'invite', 'deleted', 'created')


class CourseError(CocalcError):
    """A problem with one student's project (e.g. a handout of it that could not be read)."""


# ---- read (batched) -----------------------------------------------------------------------------

class CourseState(object):
    """What the server holds, read in a few calls."""

    def __init__(self):
        self.me = None
        self.accounts = {}            # lower-cased email -> user_search row
        self.rows = []                # projects_all rows
        self.unreadable = frozenset()  # fields of PROJECT_FIELDS this server does not let us read
        self.index = {}               # marker key -> [rows owned by me]
        self.files = {}               # (project_id, path) -> text | None | TOO_LARGE | CocalcApiError
        self.trees = {}               # project_id -> {path: Tree} | CocalcError
        self.sources = {}             # materials path -> Tree

    @property
    def marker(self):
        return 'description' if 'name' in self.unreadable else 'name'

    @property
    def invites_readable(self):
        return 'invite' not in self.unreadable


def index_projects(rows, me, course_id):
    """{marker key: [rows]} of the course's projects the key's account owns (the finder's marker mode)."""
    return index_by_marker(rows, me, course_id.lower() + '.')


def read_chunks(targets, parallel):
    """Split (project_id, path) reads into calls that run side by side: whole projects per call (so
    never more calls than projects, the call budget), about one call per thread, at most READ_BATCH
    files per call unless one project alone has more."""
    by_project = {}
    for target in targets:
        by_project.setdefault(target[0], []).append(target)
    if not by_project:
        return []
    limit = min(READ_BATCH, -(-len(targets) // min(parallel, len(by_project))))
    chunks = [[]]
    for files in by_project.values():
        if chunks[-1] and len(chunks[-1]) + len(files) > limit:
            chunks.append([])
        chunks[-1].extend(files)
    return chunks


def _map(pool, function, items):
    """function over items, in the pool when there is one (parallel > 1), else in order."""
    if pool is None:
        return [function(item) for item in items]
    return list(pool.map(function, items))


def read_course(client, spec, pool=None):
    """whoami, ONE user_search for every roster and staff email, ONE projects_all, then the handout
    files of the existing student projects (batched reads; one checksum probe per project for copies)."""
    state = CourseState()
    state.me = account_id_of_key(client)
    if state.me is None:
        raise CocalcInputError('the API key belongs to no account (a project key?); cocalc_course needs an account key, '
                               'whose account owns the student projects')
    emails = [student['email'] for student in spec.students] + spec.staff_emails
    if emails:
        state.accounts = accounts_by_email(client, emails, what='look up the accounts of %d email addresses' % len(emails))
    missing_staff = [email for email in spec.staff_emails if email.lower() not in state.accounts]
    if missing_staff:
        raise CocalcInputError('staff: no CoCalc account has the email %s; staff need an account (they are not invited)'
                               % ', '.join(missing_staff))
    # Every project the key's account can see, in ONE call (one more for each field the server refuses).
    state.rows, state.unreadable = read_projects(client, PROJECT_FIELDS, what='read the projects')
    state.index = index_projects(state.rows, state.me, spec.course_id)
    _read_handouts(client, spec, state, pool)
    return state


def _existing(spec, state):
    """(student, row) of roster students whose project exists (ambiguous ones left out)."""
    found = []
    for student in spec.students:
        try:
            row = pick_project(state.index.get(student['key'], []), student['key'])
        except ProjectError:
            continue
        if row is not None:
            found.append((student, row))
    return found


def _read_targets(spec, state, texts, copies):
    """([(project_id, path)] to read in batches, [project_id] to probe for copies) of the existing projects."""
    targets = []
    probe_ids = []
    for student, row in _existing(spec, state):
        targets.extend((row['project_id'], handout.path) for handout in texts)
        if spec.setup is not None:
            # The setup marker rides along with the handouts: no call of its own.
            targets.append((row['project_id'], spec.setup.marker_path))
        if not state.invites_readable and student['email'].lower() not in state.accounts:
            targets.append((row['project_id'], INVITE_RECORD_PATH))
        if copies:
            probe_ids.append(row['project_id'])
    return targets, probe_ids


def _read_files(client, spec, state, pool, targets):
    def read(chunk):
        with attempting('read the handouts of %d projects' % len(set(pid for pid, _path in chunk))):
            return read_text_files(client, chunk)
    for result in _map(pool, read, read_chunks(targets, spec.parallel)):
        state.files.update(result)


def _probe_sources(client, spec, state, copies):
    """The checksums of the copy_from sources in the materials project; each must be a file or directory."""
    sources = [handout.copy_from for handout in copies]
    with attempting('read the checksums of the handouts in materials project %s' % spec.materials_project_id):
        trees = probe_trees(client, spec.materials_project_id, sources, options=_handout_options(spec, copies, '.copy_from'))
    state.sources = dict(zip(sources, trees))
    for path, tree in state.sources.items():
        if tree.kind not in ('file', 'directory'):
            raise CocalcInputError("handouts: copy_from '%s' is not a file or directory in materials project %s"
                                   % (path, spec.materials_project_id))


def _probe_targets(client, spec, state, pool, copies, probe_ids):
    """The checksums of the copied handouts in each existing project (one probe per project)."""
    paths = [handout.path for handout in copies]
    options = _handout_options(spec, copies, '.path')

    def probe(project_id):
        try:
            with attempting('read the checksums of the handouts in project %s' % project_id):
                return project_id, dict(zip(paths, probe_trees(client, project_id, paths, options=options)))
        except CocalcError as err:   # also a handout path that leaves this project's home
            return project_id, err
    state.trees.update(_map(pool, probe, probe_ids))


def _read_handouts(client, spec, state, pool):
    texts = [handout for handout in spec.handouts if handout.content is not None]
    copies = [handout for handout in spec.handouts if handout.copy_from is not None]
    targets, probe_ids = _read_targets(spec, state, texts, copies)
    if targets:
        _read_files(client, spec, state, pool, targets)
    if copies and spec.students:
        _probe_sources(client, spec, state, copies)
        _probe_targets(client, spec, state, pool, copies, probe_ids)


def _handout_options(spec, handouts, suffix):
    """The option name of each handout, for messages: handouts[2].path."""
    return ['handouts[%d]%s' % (spec.handouts.index(handout), suffix) for handout in handouts]


# ---- plan (pure) --------------------------------------------------------------------------------

class ProjectPlan(object):
    """What one student project needs (or a dropped one), and, after run_plan, what was done."""

    def __init__(self, key, student=None, row=None):
        self.key = key
        self.student = student
        self.row = row
        self.project_id = row['project_id'] if row else None
        self.create = None          # fields for create_project, for a missing project
        self.changes = {}           # project fields to set (view words), after creating or on an existing one
        self.membership = None      # _collaborators.MembershipPlan
        self.invites = {}           # the invite map the plan was made with
        self.account_id = None
        self.invited = None
        self.writes = []            # Handouts to write (text)
        self.copies = []            # Handouts to copy
        self.file_views = ({}, {})  # handout path -> what is there before / after, for the diff
        self.delete = False
        self.discard = []           # ids of unfinished duplicate creations to soft-delete
        self.error = None
        self.actions = []
        self.setup = None           # the setup's result entry, when the course has a setup
        self.setup_before = None    # the marker found and the one a done setup leaves, for the diff
        self.setup_digest = None

    @property
    def needs_writes(self):
        return bool(self.create is not None or self.changes or (self.membership and self.membership.changed)
                    or self.writes or self.copies or self.delete or self.discard or self.setup_pending)

    @property
    def setup_pending(self):
        return self.setup_digest is not None and self.setup_before != self.setup_digest

    def planned_actions(self):
        actions = [dict(action='delete_project', project_id=project_id) for project_id in self.discard]
        if self.create is not None:
            actions.append(dict(action='create_project'))
        if self.changes:
            actions.append(dict(action='update_project', fields=sorted(self.changes)))
        if self.membership is not None:
            actions.extend(dict(action='add_collaborator', account_id=account_id) for account_id in self.membership.add)
            actions.extend(dict(action='invite', email=email) for email in self.membership.invite)
            actions.extend(dict(action='remove_collaborator', account_id=account_id) for account_id in self.membership.remove)
        actions.extend(dict(action='write_file', path=handout.path) for handout in self.writes)
        actions.extend(dict(action='copy_file', path=handout.path) for handout in self.copies)
        if self.setup_pending:
            actions.append(dict(action='run_setup'))
        if self.delete:
            actions.append(dict(action='delete_project'))
        return actions


_NOT_READ = object()


def _text_view(current):
    if current is None:
        return None
    if current is TOO_LARGE:
        return 'too large to read'
    return 'sha256:' + hashlib.sha256(current.encode('utf-8')).hexdigest()


def _plan_text(plan, state, handout, new):
    """(before, after) views when the text handout must be written, else None."""
    # "Missing" (None) only for a new project or where the hub said ENOENT for this very file:
    # a file that was not read, or whose read failed, is never written over.
    current = None if new else state.files.get((plan.project_id, handout.path), _NOT_READ)
    if current is _NOT_READ:
        raise CourseError("handout '%s' of project %s was not read, so it is left alone" % (handout.path, plan.project_id))
    if isinstance(current, CocalcApiError):
        raise current
    if current is None or (handout.force and plan_text(current, handout.content).changed):
        return _text_view(current), 'sha256:' + handout.sha256
    return None


def _plan_copied(plan, state, handout, new):
    """(before, after) views when the copied handout must be copied, else None."""
    trees = {} if new else state.trees.get(plan.project_id)
    if isinstance(trees, CocalcError):
        raise trees
    target = (trees or {}).get(handout.path)
    if target is not None and target.kind != 'missing':
        copy_plan = plan_copy(state.sources[handout.copy_from], target, CopyOptions())
        if not (handout.force and copy_plan is not None and copy_plan.changed):
            return None
    return (target.kind if target is not None else 'missing'), 'copy of %s' % handout.copy_from


def _plan_handouts(plan, spec, state, new):
    before, after = plan.file_views
    for handout in spec.handouts:
        text = handout.content is not None
        views = (_plan_text if text else _plan_copied)(plan, state, handout, new)
        if views is not None:
            (plan.writes if text else plan.copies).append(handout)
            before[handout.path], after[handout.path] = views


def _invites_of(plan, state):
    if state.invites_readable:
        invite = plan.row.get('invite') if plan.row else None
        return invite if isinstance(invite, dict) else {}
    if plan.row is None:
        return {}
    text = state.files.get((plan.project_id, INVITE_RECORD_PATH))
    if isinstance(text, CocalcApiError):
        raise text
    return parse_invite_record(text)


def _wanted_description(spec, state, row, key):
    """The description a student project must have, None to leave it as it is."""
    if state.marker == 'description':
        current = project_view(row, state.me)['description'] if row else ''
        return with_marker(spec.description if spec.description is not None else current, key)
    if spec.description is None and row is not None \
            and strip_marker(row.get('description')) != (row.get('description') or '').rstrip():
        # A project adopted from an unfinished creation: its description still holds the marker / token.
        return strip_marker(row.get('description'))
    return spec.description


def _plan_fields(plan, spec, state, row):
    """plan.create (a missing project) or plan.changes (an existing one); the project's users now."""
    student = plan.student
    wanted_description = _wanted_description(spec, state, row, plan.key)
    if row is None:
        plan.create = dict(title=student['title'])
        if wanted_description:
            plan.create['description'] = wanted_description
        if state.marker == 'name':
            plan.changes = dict(name=plan.key)
        return {state.me: dict(group='owner')}
    current = project_view(row, state.me)
    desired = dict(title=student['title'], description=wanted_description, deleted=False)
    if state.marker == 'name':
        desired['name'] = plan.key
    plan.changes = plan_changes(current, desired)
    return current['users']


def plan_student(spec, state, student, staff_ids):
    """The plan for one roster student (pure). CourseError/ProjectError/CocalcApiError for a student that cannot be planned."""
    candidates = state.index.get(student['key'], [])
    row = pick_project(candidates, student['key'])
    plan = ProjectPlan(student['key'], student, row)
    plan.discard = [extra['project_id'] for extra in unfinished_extras(candidates, row)]
    account = state.accounts.get(student['email'].lower())
    plan.account_id = account['account_id'] if account else None
    users = _plan_fields(plan, spec, state, row)
    wanted = ([plan.account_id] if plan.account_id else []) + [account_id for account_id in staff_ids if account_id != plan.account_id]
    plan.invites = _invites_of(plan, state)
    plan.membership = plan_membership(users, wanted, [] if plan.account_id else [student['email']], plan.invites,
                                      state='present', purge=spec.purge, me=state.me)
    if plan.account_id is None:
        plan.invited = student['email']
    _plan_handouts(plan, spec, state, new=row is None)
    _plan_setup(plan, spec, state, new=row is None)
    return plan


def _plan_setup(plan, spec, state, new):
    if spec.setup is None:
        return
    marker = None if new else state.files.get((plan.project_id, spec.setup.marker_path))
    current = spec.setup.is_current(marker)
    plan.setup_before = marker.strip() if isinstance(marker, str) else None
    plan.setup_digest = spec.setup.digest
    plan.setup = current_result() if current else pending_result()


def plan_dropped(spec, state, key, staff_ids):
    """The plan for a course project whose student is not in the roster: on_drop decides."""
    row = pick_project(state.index[key], key)
    plan = ProjectPlan(key, None, row)
    if spec.on_drop == 'keep' or row.get('deleted'):
        return plan
    if spec.on_drop == 'delete':
        plan.delete = True
        return plan
    users = project_view(row, state.me)['users']
    keep = [account_id for account_id in staff_ids if account_id in users]
    plan.membership = plan_membership(users, keep, state='present', purge=True, me=state.me)
    return plan


def _known_row(state, key):
    """The student's project when it is unambiguous (to name it in a failure), else None."""
    try:
        return pick_project(state.index.get(key, []), key)
    except ProjectError:
        return None


def _staff_ids(spec, state):
    ids = list(spec.staff_ids)
    for email in spec.staff_emails:
        account_id = state.accounts[email.lower()]['account_id']
        if account_id not in ids:
            ids.append(account_id)
    return ids


def plan_course(spec, state):
    """(student plans in roster order, dropped plans by key). A student that cannot be planned gets a
    plan with .error set (the others go on)."""
    staff_ids = _staff_ids(spec, state)
    plans = []
    for student in spec.students:
        try:
            plans.append(plan_student(spec, state, student, staff_ids))
        except CocalcError as err:
            failed = ProjectPlan(student['key'], student, _known_row(state, student['key']))
            failed.error = str(err)
            plans.append(failed)
    roster_keys = set(student['key'] for student in spec.students)
    dropped = []
    for key in sorted(state.index):
        if key in roster_keys:
            continue
        try:
            dropped.append(plan_dropped(spec, state, key, staff_ids))
        except ProjectError as err:
            failed = ProjectPlan(key)
            failed.error = str(err)
            dropped.append(failed)
    return plans, dropped


# ---- apply (writes) -------------------------------------------------------------------------------

def _invite_params(spec):
    """The invite options in the words of _collaborators.invitation_fields()."""
    return dict(invite_body=spec.invite.get('body'), invite_subject=spec.invite.get('subject'),
                reply_to=spec.invite.get('reply_to'), invite_link=None)


def run_plan(client, spec, state, plan, phase):
    """Make the writes of one plan's phase, recording each action as it is done: 'create' (a missing
    project, findable by its token), 'projects' (fields, people), 'files' (handouts) or 'setup' (the
    setup command). A failure stops this plan
    only: it is kept in plan.error (with what was attempted), and its later phases are skipped."""
    if plan.error is not None:
        return plan
    try:
        if phase == 'create':
            _run_create(client, state, plan)
        elif phase == 'projects':
            _run_project_writes(client, spec, state, plan)
        elif phase == 'files':
            _run_file_writes(client, spec, plan)
        elif plan.setup_pending:
            _run_setup(client, spec, plan)
    except CocalcError as err:
        plan.error = str(err)
    return plan


def _run_setup(client, spec, plan):
    try:
        action, plan.setup = run_setup(client, spec.setup, plan.project_id)
    except SetupFailed as err:
        plan.setup = err.result
        plan.actions.append(dict(action='run_setup', rc=err.result['rc']))
        raise
    except CocalcApiError as err:
        plan.setup = dict(pending_result(), status='failed', msg=str(err))
        if isinstance(err, CommandTimeout):
            # It ran until the server killed it: a change, and no marker.
            plan.actions.append(dict(action='run_setup'))
        raise
    plan.actions.append(action)


def _run_create(client, state, plan):
    """Create a missing project so that the next run finds it even when the answer is lost: the create
    call's description carries the marker line (in both marker modes) and a creation token; the name and
    the final description follow in the 'projects' phase, after settle_creations()."""
    for project_id in plan.discard:
        apply_changes(client, project_id, dict(deleted=True), state.me)
        plan.actions.append(dict(action='delete_project', project_id=project_id))
    if plan.create is None:
        return
    fields = dict(plan.create)
    final = fields.get('description') or ''
    if state.marker == 'name':
        fields['description'] = with_marker(final, plan.key)
    # Text handouts start the project anyway; starting it at creation lets it come up while the
    # other projects are made, instead of on the first write.
    creation = create_findable(client, fields, start=bool(plan.writes), key=plan.key)
    if creation.project_id is None:
        raise creation.lost
    plan.project_id = creation.project_id
    plan.actions.append(dict(action='create_project'))
    left = dict(creation.left, description=final)
    plan.changes.update(left)


def settle_creations(client, spec, state, plans):
    """The rule for two runs of a course at the same time: the oldest project of a student wins. ONE
    projects_all read after the creations; a plan whose new project is not the oldest live one of its
    key soft-deletes it (only what this run created) and fails, naming the winner: a re-run finishes
    the winner. Nothing is read when nothing was created."""
    created = [plan for plan in plans if plan.error is None and plan.create is not None and plan.project_id]
    if not created:
        return
    try:
        rows, _unused = read_projects(client, SETTLE_FIELDS, unsupported=state.unreadable,
                                      what='check whether another run created the same projects')
    except CocalcApiError as err:
        for plan in created:
            plan.error = '%s (created project %s; a re-run finishes it)' % (err, plan.project_id)
        return
    index = index_projects(rows, state.me, spec.course_id)
    for plan in created:
        _settle(client, state, plan, [row for row in index.get(plan.key, []) if not row.get('deleted')])


def _settle(client, state, plan, live):
    """Soft-delete the project this plan created unless it is the oldest of the live ones of its key."""
    if not any(row['project_id'] == plan.project_id for row in live):
        return
    winner = min(live, key=creation_order)
    if winner['project_id'] == plan.project_id:
        return
    try:
        apply_changes(client, plan.project_id, dict(deleted=True), state.me)
        plan.actions.append(dict(action='delete_project', project_id=plan.project_id))
    except CocalcApiError as err:
        plan.error = str(err)
        return
    plan.error = ('another run created the project of this student at the same time: kept the older one, %s, and '
                  'removed (soft-deleted) the one this run created, %s; a re-run finishes it' % (winner['project_id'], plan.project_id))


def _run_project_writes(client, spec, state, plan):
    if plan.create is not None:
        if plan.changes:
            _mark_new_project(client, state, plan)
    elif plan.changes:
        apply_changes(client, plan.project_id, plan.changes, state.me)
        plan.actions.append(dict(action='update_project', fields=sorted(plan.changes)))
    if plan.membership is not None and plan.membership.changed:
        _run_membership(client, spec, state, plan)
    if plan.delete:
        apply_changes(client, plan.project_id, dict(deleted=True), state.me)
        plan.actions.append(dict(action='delete_project'))


def _run_membership(client, spec, state, plan):
    """Add, invite and remove people; where the server hides projects.invite, record the invitations in the project."""
    membership = plan.membership
    title = plan.student['title'] if plan.student else (plan.row or {}).get('title')
    invitation = invitation_fields(client, dict(title=title, project_id=plan.project_id), _invite_params(spec)) \
        if membership.invite else None
    sent = apply_plan(client, plan.project_id, membership, invitation)
    plan.actions.extend(dict(action='add_collaborator', account_id=account_id) for account_id in membership.add)
    plan.actions.extend(dict(action='invite', email=email) for email in membership.invite)
    plan.actions.extend(dict(action='remove_collaborator', account_id=account_id) for account_id in membership.remove)
    if not state.invites_readable:
        record_invitations(client, plan.project_id, plan.invites, sent)


def _mark_new_project(client, state, plan):
    """Set the name (the marker) and the final description of a project just created. When that fails
    the project keeps the marker line of its create call, so a re-run finds and finishes it."""
    apply_changes(client, plan.project_id, plan.changes, state.me)
    plan.actions.append(dict(action='update_project', fields=sorted(plan.changes)))


def _run_file_writes(client, spec, plan):
    # The hub writes and copies through symlinks anywhere: one check of every handout path of this
    # project, and only when something is about to be written.
    handouts = plan.writes + plan.copies
    check_in_home(client, plan.project_id, [handout.path for handout in handouts], _handout_options(spec, handouts, '.path'))
    for handout in plan.writes:
        with attempting("write '%s' in project %s" % (handout.path, plan.project_id)):
            write_text_file(client, plan.project_id, handout.path, handout.content)
        plan.actions.append(dict(action='write_file', path=handout.path))
    for handout in plan.copies:
        with attempting("copy '%s' of project %s to '%s' in project %s"
                        % (handout.copy_from, spec.materials_project_id, handout.path, plan.project_id)):
            copy_path(client, spec.materials_project_id, handout.copy_from, plan.project_id, handout.path, CopyOptions())
        plan.actions.append(dict(action='copy_file', path=handout.path))


def _check_staff_accounts(client, spec, plans):
    """Staff given by account ID must exist (invite_collaborator would add any UUID); asked only when one
    is about to be added somewhere, so a converged course costs no call."""
    adding = set()
    for plan in plans:
        if plan.membership is not None and plan.error is None:
            adding.update(plan.membership.add)
    check_accounts_exist(client, [account_id for account_id in spec.staff_ids if account_id in adding])


# ---- the result -------------------------------------------------------------------------------------

def _status(plan):
    if plan.error:
        return 'failed'
    if any(action['action'] == 'create_project' for action in plan.actions):
        return 'created'
    return 'updated' if plan.actions else 'unchanged'


def _entry(plan):
    entry = dict(project_id=plan.project_id, status=_status(plan), actions=plan.actions)
    if plan.error:
        entry['error'] = plan.error
    if plan.setup is not None:
        entry['setup'] = plan.setup
    return entry


def _student_entry(plan):
    student = plan.student
    entry = dict(student_id=student['student_id'], email=student['email'], account_id=plan.account_id, invited=plan.invited)
    entry.update(_entry(plan))
    return entry


def _dropped_entry(plan):
    entry = dict(student_id=plan.key.split('.', 1)[1])
    entry.update(_entry(plan))
    return entry


def _totals(plans, dropped):
    counts = dict(students=len(plans), created=0, updated=0, deleted=0, collaborators_added=0, collaborators_removed=0,
                  invited=0, files_written=0, setups_run=0, unchanged=0, failed=0)
    names = dict(create_project='created', delete_project='deleted', add_collaborator='collaborators_added',
                 remove_collaborator='collaborators_removed', invite='invited', write_file='files_written', copy_file='files_written',
                 run_setup='setups_run')
    for plan in plans + dropped:
        for action in plan.actions:
            if action['action'] in names:
                counts[names[action['action']]] += 1
        status = _status(plan)
        if status in ('updated', 'failed'):
            counts[status] += 1
        elif status == 'unchanged' and plan.student is not None:
            counts['unchanged'] += 1
    return counts


def _field_views(plan, state):
    """(before, after, users now) of one project's fields; before is None for a project to create."""
    if plan.row is not None:
        current = project_view(plan.row, state.me)
        before = dict((key, current[key]) for key in ('title', 'description', 'deleted'))
        if state.marker == 'name':
            before['name'] = current['name']
        users = current['users']
    else:
        before = None
        users = {state.me: dict(group='owner')}
    after = dict(before or {})
    after.update((key, value) for key, value in ((plan.create or {}).items()))
    after.update(plan.changes)
    if plan.create is not None:
        after.setdefault('deleted', False)
    if plan.delete:
        after['deleted'] = True
    return before, after, users


def _people_views(plan, users):
    """(collaborators, invited) before and after: {account_id: group}, [lower-cased emails]."""
    membership = plan.membership
    people_before = dict((account_id, entry.get('group')) for account_id, entry in users.items())
    people_after = dict((account_id, entry.get('group')) for account_id, entry in
                        (membership.users_after(users) if membership else users).items())
    invited_before = sorted(address.lower() for address in plan.invites)
    invited_after = sorted(set(invited_before) | set(email.lower() for email in (membership.invite if membership else [])))
    return (people_before, invited_before), (people_after, invited_after)


def _views(plan, state):
    """(before, after) of one project for the diff: its fields, people, invitations and handouts."""
    before, after, users = _field_views(plan, state)
    (people_before, invited_before), (people_after, invited_after) = _people_views(plan, users)
    files_before, files_after = plan.file_views
    if before is not None:
        before.update(collaborators=people_before, invited=invited_before, handouts=dict(files_before))
    after.update(collaborators=people_after, invited=invited_after, handouts=dict(files_before, **files_after))
    if plan.setup is not None:
        # The marker's digest before, the one a done setup leaves after.
        if before is not None:
            before['setup'] = plan.setup_before
        after['setup'] = plan.setup_digest
    return before, after


def course_diff(plans, dropped, state):
    """{'before': {student_id: ...}, 'after': {...}} of the projects that change, changed keys only."""
    before, after = {}, {}
    for plan in plans + dropped:
        if plan.error or not plan.planned_actions():
            continue
        label = plan.student['student_id'] if plan.student else plan.key.split('.', 1)[1]
        old, new = _views(plan, state)
        if old is None:
            after[label] = new
            continue
        changed = diff_changed_keys(old, new)
        before[label] = changed['before']
        after[label] = changed['after']
    return dict(before=before, after=after)


def _failure_message(plans, dropped):
    failed = [plan for plan in plans + dropped if plan.error]
    if not failed:
        return None
    lines = ['%s: %s' % (plan.student['student_id'] if plan.student else 'dropped project %s' % (plan.project_id or plan.key),
                         plan.error) for plan in failed]
    return '%d of %d course projects failed (a re-run completes what is missing): %s' % (
        len(failed), len(plans) + len(dropped), '; '.join(lines))


# ---- the module's composition -----------------------------------------------------------------------

def run_plans(client, spec, state, plans, pool):
    """Every write the plans need, phase by phase, each phase over the pool."""
    work = [plan for plan in plans if plan.error is None and plan.needs_writes]
    for plan in work:
        plan.actions = []
    # Every project and its people first, then the files: new projects start meanwhile. The
    # setup command last, so that it finds the handouts.
    _map(pool, lambda plan: run_plan(client, spec, state, plan, 'create'), work)
    settle_creations(client, spec, state, work)
    for phase in ('projects', 'files', 'setup'):
        _map(pool, lambda plan, phase=phase: run_plan(client, spec, state, plan, phase), work)


def _outcome(spec, state, plans, dropped):
    warnings = []
    if spec.state == 'absent' and spec.on_drop == 'keep':
        warnings.append('state=absent with on_drop=keep leaves every project of the course as it is')
    course = dict(
        course_id=spec.course_id,
        marker=state.marker,
        students=[_student_entry(plan) for plan in plans],
        dropped=[_dropped_entry(plan) for plan in dropped],
        totals=_totals(plans, dropped),
    )
    changed = any(plan.actions for plan in plans + dropped)
    diff = course_diff(plans, dropped, state)
    return Outcome(course, changed, diff=diff if (diff['before'] or diff['after']) else None, warnings=warnings,
                   failure=_failure_message(plans, dropped))


def reconcile_course(client, params, check_mode):
    """cocalc_course: validate, read in batches, plan, write in parallel (nothing in check mode)."""
    spec = course_spec(params)
    client.resize_pool(spec.parallel)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=spec.parallel) if spec.parallel > 1 else None
    try:
        state = read_course(client, spec, pool)
        plans, dropped = plan_course(spec, state)
        for plan in plans + dropped:
            if plan.error is None:
                plan.actions = plan.planned_actions()
        _check_staff_accounts(client, spec, plans + dropped)
        if not check_mode:
            run_plans(client, spec, state, plans + dropped, pool)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return _outcome(spec, state, plans, dropped)
