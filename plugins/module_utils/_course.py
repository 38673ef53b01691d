# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A whole course in one task: read everything in a few batched calls, plan each student, write only
what differs from a bounded thread pool. Composes the resource layers; it never talks HTTP itself
and has no second "ensure a project" or "ensure collaborators"::

    spec = course_spec(params)                    # validated input (roster CSV read here), pure
    state = read_course(client, spec, pool)       # whoami, ONE user_search, ONE projects_all, handout reads
    plans = plan_course(spec, state)              # pure: one ProjectPlan per student and dropped project
    run_plans(client, spec, state, plans, pool)   # the writes, per project, in parallel

reconcile_course() composes them for the cocalc_course module and its action plugin.

What it reuses: _project (account_id_of_key, read_projects, project_view, plan_changes, create_findable,
apply_changes), _collaborators (plan_membership, apply_plan, invitation_fields, the invite record), _files
(read_text_files, plan_text, write_text_file, probe_trees, plan_copy, copy_path), the client's
user_search_emails. Server facts it relies on: projects are found through projects_all only;
names are unique per owner (without case) and only the owner may set them; create_project takes
no name, so a name costs one query set after the creation; invitations are recorded by the
server in projects.invite (or, where the key cannot read that field, in a file of the project).
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import io
import re
import string

from ansible_collections.cocalc.cocalc.plugins.module_utils._collaborators import (
    INVITE_RECORD_PATH,
    apply_plan,
    check_accounts_exist,
    invitation_fields,
    owners_of,
    parse_invite_record,
    plan_membership,
    write_invite_record,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcError,
    CocalcInputError,
    Outcome,
    attempting,
    check_email,
    check_non_empty,
    check_uuid,
    diff_changed_keys,
    validated,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import SetupFailed, current_result, pending_result, run_setup, setup_spec
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import argument_spec as setup_argument_spec
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import CommandTimeout, check_in_home, check_project_path
from ansible_collections.cocalc.cocalc.plugins.module_utils._files import (
    READ_BATCH,
    TOO_LARGE,
    CopyOptions,
    copy_path,
    plan_copy,
    plan_text,
    probe_trees,
    read_text_files,
    text_bytes,
    write_text_file,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._project import (
    SETTLE_FIELDS,
    account_id_of_key,
    apply_changes,
    create_findable,
    creation_of,
    creation_order,
    plan_changes,
    project_view,
    read_projects,
    strip_token,
)

DEFAULT_TITLE = '{first_name} {last_name} - {title}'
TITLE_FIELDS = ('first_name', 'last_name', 'student_id', 'email', 'title', 'course_id')
MAX_PARALLEL = 64

_COURSE_ID_RE = re.compile(r'^[A-Za-z0-9_-]{1,40}$')
# A project name holds the course key, a dot, and the student key: at most 100 characters.
MAX_STUDENT_KEY = 59
_KEY_UNSAFE_RE = re.compile(r'[^a-z0-9._-]')
MARKER_TEMPLATE = '<!-- cocalc.cocalc course key: %s -->'
_MARKER_RE = re.compile(r'<!-- cocalc\.cocalc course key: (\S+) -->')

# Read in the single projects_all call. Never 'status': it holds the project's secret token. A server
# that refuses name or invite (_project.OPTIONAL_FIELDS) is read without it: see CourseState.marker.
PROJECT_FIELDS = ('name', 'title', 'description', 'users', 'invite', 'deleted', 'created')

# Roster columns by header (compared without case and surrounding blanks), first found wins.
ROSTER_COLUMNS = dict(
    student_id=('student_id', 'sis user id', 'id'),
    email=('email', 'sis login id'),
    first_name=('first_name', 'first name'),
    last_name=('last_name', 'last name'),
    name=('name', 'student'),
)


class CourseError(CocalcError):
    """A problem with one student's project (e.g. two projects carry its marker)."""


# ---- options ---------------------------------------------------------------------------------

def argument_spec():
    """The options of cocalc_course (without the connection options), for the module and the action plugin."""
    return dict(
        course_id=dict(type='str', required=True),
        title=dict(type='str'),
        description=dict(type='str'),
        students=dict(type='list', elements='dict', options=dict(
            student_id=dict(type='str', required=True),
            email=dict(type='str', required=True),
            first_name=dict(type='str'),
            last_name=dict(type='str'),
        )),
        roster=dict(type='path'),
        roster_columns=dict(type='dict', options=dict(
            student_id=dict(type='str'),
            email=dict(type='str'),
            first_name=dict(type='str'),
            last_name=dict(type='str'),
            name=dict(type='str'),
        )),
        staff=dict(type='list', elements='str'),
        student_project_title=dict(type='str', default=DEFAULT_TITLE),
        handouts=dict(type='list', elements='dict', options=dict(
            path=dict(type='str', required=True),
            content=dict(type='str'),
            src=dict(type='path'),
            copy_from=dict(type='str'),
            force=dict(type='bool', default=True),
        ), mutually_exclusive=[('content', 'src', 'copy_from')], required_one_of=[('content', 'src', 'copy_from')]),
        materials_project_id=dict(type='str'),
        invite=dict(type='dict', options=dict(
            subject=dict(type='str'),
            body=dict(type='str'),
            reply_to=dict(type='str'),
        )),
        on_drop=dict(type='str', default='keep', choices=['keep', 'remove_student', 'delete']),
        purge=dict(type='bool', default=True),
        parallel=dict(type='int', default=8),
        setup=setup_argument_spec(),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )


# The rules between options, for AnsibleModule and ActionBase.validate_argument_spec alike.
MODULE_OPTIONS = dict(
    mutually_exclusive=[('students', 'roster')],
    required_if=[('state', 'present', ('title',)), ('state', 'present', ('students', 'roster'), True)],
)


# ---- input (pure, but for reading the roster and src files) --------------------------------------

def student_key(student_id):
    return _KEY_UNSAFE_RE.sub('_', student_id.strip().lower())


def project_key(course_id, student_id):
    """The marker of a student's project: '<course_id>.<student_id>', lower case, safe characters."""
    return '%s.%s' % (course_id.lower(), student_key(student_id))


def marker_line(key):
    return MARKER_TEMPLATE % key


def with_marker(description, key):
    """description (its old marker line removed) with the marker as its last line."""
    text = strip_marker(description)
    return '%s\n\n%s' % (text, marker_line(key)) if text else marker_line(key)


def strip_marker(description):
    """description without the marker line and without a creation token line (see _project.TOKEN_TEMPLATE)."""
    return strip_token(_MARKER_RE.sub('', description or '')).rstrip()


def _split_name(full):
    """(first, last) from 'Last, First' or 'First Last'."""
    full = ' '.join((full or '').split())
    if ',' in full:
        last, _sep, first = full.partition(',')
        return first.strip(), last.strip()
    first, _sep, last = full.rpartition(' ')
    return (first, last) if first else (last, '')


def _read_text_file(path, option):
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as err:
        raise CocalcInputError('%s: cannot read %s: %s' % (option, path, err.strerror or err)) from None
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as err:
        raise CocalcInputError('%s: %s is not UTF-8 text (byte %d)' % (option, path, err.start)) from None


def _roster_column(header, field, columns, source):
    wanted = columns.get(field)
    names = [wanted] if wanted else list(ROSTER_COLUMNS[field])
    normalised = [cell.strip().lower() for cell in header]
    for name in names:
        if name.strip().lower() in normalised:
            return normalised.index(name.strip().lower())
    if wanted:
        raise CocalcInputError('roster_columns.%s: the roster %s has no column %r (its columns: %s)'
                               % (field, source, wanted, ', '.join(header)))
    return None


def parse_roster(text, columns=None, source='roster'):
    """Students from CSV text: [{student_id, email, first_name, last_name, where}] (see the module docs)."""
    columns = dict((key, value) for key, value in (columns or {}).items() if value)
    reader = csv.reader(io.StringIO(text.lstrip('\ufeff')))
    try:
        header = next(reader)
    except StopIteration:
        raise CocalcInputError('roster: %s is empty; it needs a header line and one line per student' % source) from None
    except csv.Error as err:
        raise CocalcInputError('roster: %s is not valid CSV: %s' % (source, err)) from None
    index = dict((field, _roster_column(header, field, columns, source)) for field in ROSTER_COLUMNS)
    for field in ('student_id', 'email'):
        if index[field] is None:
            raise CocalcInputError('roster: %s has no %s column (looked for %s); name it with roster_columns.%s'
                                   % (source, field, ', '.join(repr(name) for name in ROSTER_COLUMNS[field]), field))
    students = []
    try:
        for row in reader:
            where = '%s line %d' % (source, reader.line_num)

            def cell(field, row=row):
                position = index[field]
                return row[position].strip() if position is not None and position < len(row) else ''
            student_id, email = cell('student_id'), cell('email')
            if not student_id and not email:
                continue
            if not student_id or not email:
                raise CocalcInputError('roster: %s has %s but no %s' % (where, 'an email' if email else 'a student ID',
                                                                        'student ID' if email else 'email'))
            first, last = cell('first_name'), cell('last_name')
            if not first and not last and index['name'] is not None:
                first, last = _split_name(cell('name'))
            students.append(dict(student_id=student_id, email=email, first_name=first or None, last_name=last or None, where=where))
    except csv.Error as err:
        raise CocalcInputError('roster: %s is not valid CSV near line %d: %s' % (source, reader.line_num, err)) from None
    return students


class Handout(object):
    """A validated handout: text (content) or copy (copy_from), and whether to overwrite differences."""

    def __init__(self, path, content=None, copy_from=None, force=True, src=None):
        self.path = path
        self.content = content
        self.copy_from = copy_from
        self.force = force
        self.src = src
        self.sha256 = hashlib.sha256(content.encode('utf-8')).hexdigest() if content is not None else None


class CourseSpec(object):
    """The validated options: what the course must look like."""

    def __init__(self, params):
        self.course_id = params['course_id']
        self.title = params.get('title')
        self.description = params.get('description')
        self.state = params['state']
        self.on_drop = params['on_drop']
        self.purge = params['purge']
        self.parallel = params['parallel']
        self.title_template = params['student_project_title']
        self.materials_project_id = params.get('materials_project_id')
        self.invite = dict(params.get('invite') or {})
        self.students = []
        self.staff_ids = []
        self.staff_emails = []
        self.handouts = []
        self.setup = None             # _course_setup.Setup


def _check_title_template(template):
    if not isinstance(template, str) or not template.strip():
        raise CocalcInputError('student_project_title must be a non-empty string')
    try:
        fields = [field for _text, field, _spec, _conv in string.Formatter().parse(template) if field is not None]
    except ValueError as err:
        raise CocalcInputError('student_project_title %r is not a valid template: %s' % (template, err)) from None
    unknown = [field for field in fields if field not in TITLE_FIELDS]
    if unknown:
        raise CocalcInputError('student_project_title: unknown placeholder {%s}; use %s'
                               % (unknown[0], ', '.join('{%s}' % name for name in TITLE_FIELDS)))


def render_title(spec, student):
    names = dict(first_name=student.get('first_name') or '', last_name=student.get('last_name') or '')
    if not names['first_name'] and not names['last_name']:
        names['first_name'] = student['student_id']
    values = dict(names, student_id=student['student_id'], email=student['email'], title=spec.title or '', course_id=spec.course_id)
    title = ' '.join(spec.title_template.format(**values).split())
    return title or student['student_id']


def _check_students(spec, students, option):
    keys, emails = {}, {}
    for index, student in enumerate(students):
        where = student.get('where') or '%s[%d]' % (option, index)
        student_id = student.get('student_id')
        if not isinstance(student_id, str) or not student_id.strip():
            raise CocalcInputError('%s: student_id must be a non-empty string, got %r' % (where, student_id))
        student['student_id'] = student_id.strip()
        student['email'] = check_email(student.get('email'), '%s.email' % where if option == 'students' else '%s: the email' % where)
        for name in ('first_name', 'last_name'):
            if student.get(name) is not None and not isinstance(student[name], str):
                raise CocalcInputError('%s.%s must be a string, got %r' % (where, name, student[name]))
            if student.get(name):
                validated('person_name', student[name], '%s.%s' % (where, name))
        key = project_key(spec.course_id, student['student_id'])
        if len(key) - len(spec.course_id) - 1 > MAX_STUDENT_KEY:
            raise CocalcInputError('%s: student_id %r is longer than %d characters' % (where, student['student_id'], MAX_STUDENT_KEY))
        if key in keys:
            raise CocalcInputError('%s: student_id %r gives the same project marker %r as %s (IDs are compared without case, '
                                   'characters other than letters, digits, ".", "_" and "-" count as "_")'
                                   % (where, student['student_id'], key, keys[key]))
        keys[key] = where
        address = student['email'].lower()
        if address in emails:
            raise CocalcInputError('%s: email %s is also the email of %s' % (where, student['email'], emails[address]))
        emails[address] = where
        student['key'] = key
        student['title'] = validated('title', render_title(spec, student), '%s: the project title' % where)
        spec.students.append(student)


def _check_handouts(spec, handouts, materials_project_id):
    seen = set()
    for index, item in enumerate(handouts or []):
        where = 'handouts[%d]' % index
        path = check_project_path(item.get('path'), where + '.path')
        if path in seen:
            raise CocalcInputError('%s.path: %s is named by another handout too' % (where, path))
        seen.add(path)
        if item.get('copy_from') is not None:
            if materials_project_id is None:
                raise CocalcInputError('%s.copy_from needs materials_project_id, the project to copy from' % where)
            source = check_project_path(item['copy_from'], where + '.copy_from')
            spec.handouts.append(Handout(path, copy_from=source, force=item.get('force', True) is not False))
            continue
        content = item.get('content')
        if item.get('src') is not None and content is None:
            content = _read_text_file(item['src'], where + '.src')
        if content is None:
            raise CocalcInputError('%s needs one of content, src or copy_from' % where)
        text_bytes(content, where + ('.src' if item.get('src') is not None else '.content'))
        spec.handouts.append(Handout(path, content=content, force=item.get('force', True) is not False, src=item.get('src')))


def course_spec(params):
    """Validate every option before any call; CocalcInputError names the option (or roster line)."""
    course_id = params.get('course_id')
    if not isinstance(course_id, str) or not _COURSE_ID_RE.match(course_id):
        raise CocalcInputError('course_id must be 1 to 40 letters, digits, "-" and "_", got %r' % (course_id,))
    parallel = params.get('parallel')
    if not isinstance(parallel, int) or isinstance(parallel, bool) or not 1 <= parallel <= MAX_PARALLEL:
        raise CocalcInputError('parallel must be between 1 and %d, got %r' % (MAX_PARALLEL, parallel))
    if params.get('title') is not None:
        validated('title', params['title'], 'title')
    if params.get('description') is not None:
        validated('description', params['description'], 'description')
    _check_title_template(params.get('student_project_title'))
    if params.get('materials_project_id') is not None:
        params['materials_project_id'] = check_uuid(params['materials_project_id'], 'materials_project_id')
    spec = CourseSpec(params)
    if spec.state == 'present' and not spec.title:
        raise CocalcInputError('title is required with state=present')
    invite = spec.invite
    # The subject is an email header: a line break in it would start another header (Bcc: ...).
    for option, kind in (('subject', 'email_subject'), ('body', 'email_body')):
        if invite.get(option) is not None:
            validated(kind, invite[option], 'invite.%s' % option)
            check_non_empty(invite[option], 'invite.%s' % option)
    if invite.get('reply_to') is not None:
        invite['reply_to'] = check_email(invite['reply_to'], 'invite.reply_to')
    for index, entry in enumerate(params.get('staff') or []):
        where = 'staff[%d]' % index
        if isinstance(entry, str) and '@' in entry:
            address = check_email(entry, where)
            if address.lower() not in [known.lower() for known in spec.staff_emails]:
                spec.staff_emails.append(address)
        else:
            try:
                account_id = check_uuid(entry, where)
            except CocalcInputError:
                raise CocalcInputError('%s must be an email address or an account ID (UUID), got %r' % (where, entry)) from None
            if account_id not in spec.staff_ids:
                spec.staff_ids.append(account_id)
    if spec.state == 'present':
        if params.get('roster') is not None:
            text = _read_text_file(params['roster'], 'roster')
            students = parse_roster(text, params.get('roster_columns'), source=params['roster'])
            _check_students(spec, students, 'roster')
        else:
            students = params.get('students')
            if students is None:
                raise CocalcInputError('one of students or roster is required with state=present')
            _check_students(spec, [dict(student) for student in students], 'students')
        _check_handouts(spec, params.get('handouts'), spec.materials_project_id)
        spec.setup = setup_spec(params.get('setup'), spec.course_id)
    return spec


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
    """{marker key: [rows]} of the course's projects the key's account owns: by name, or by the
    description marker (so a course moved to a server with names is still found)."""
    prefix = course_id.lower() + '.'
    index = {}
    for row in rows:
        if me not in owners_of(row.get('users')):
            continue
        keys = set()
        name = row.get('name')
        if isinstance(name, str) and name.lower().startswith(prefix):
            keys.add(name.lower())
        match = _MARKER_RE.search(row.get('description') or '')
        if match and match.group(1).lower().startswith(prefix):
            keys.add(match.group(1).lower())
        for key in keys:
            index.setdefault(key, []).append(row)
    return index


def pick_project(candidates, key):
    """The project of a marker key: a name match beats a description marker, a live project a deleted
    one, a finished project one whose creation was never finished (it still carries its creation token),
    and among unfinished ones the oldest (creation_order: the rule for runs at the same time). Several
    finished ones left: CourseError listing them (never pick one)."""
    named = [row for row in candidates if (row.get('name') or '').lower() == key]
    pool = named or candidates
    pool = [row for row in pool if not row.get('deleted')] or pool
    if len(pool) > 1:
        finished = [row for row in pool if not creation_of(row.get('description'))[0]]
        if len(finished) > 1:
            raise CourseError('%d projects carry the marker %s: %s; delete or rename all but one'
                              % (len(finished), key, ', '.join(sorted(row['project_id'] for row in finished))))
        return finished[0] if finished else min(pool, key=creation_order)
    return pool[0] if pool else None


def unfinished_extras(candidates, chosen):
    """The live projects of a key, other than chosen, whose creation was never finished: leftovers of a
    lost create answer or of runs at the same time. They are ours and were never the student's project."""
    return [row for row in candidates if row is not chosen and not row.get('deleted')
            and creation_of(row.get('description'))[0] and not row.get('name')]


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
        with attempting('look up the accounts of %d email addresses' % len(emails)):
            state.accounts = client.user_search_emails(emails)
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
        except CourseError:
            continue
        if row is not None:
            found.append((student, row))
    return found


def _read_handouts(client, spec, state, pool):
    texts = [handout for handout in spec.handouts if handout.content is not None]
    copies = [handout for handout in spec.handouts if handout.copy_from is not None]
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
    if targets:
        def read(chunk):
            with attempting('read the handouts of %d projects' % len(set(pid for pid, _path in chunk))):
                return read_text_files(client, chunk)
        for result in _map(pool, read, read_chunks(targets, spec.parallel)):
            state.files.update(result)
    if copies and spec.students:
        sources = [handout.copy_from for handout in copies]
        with attempting('read the checksums of the handouts in materials project %s' % spec.materials_project_id):
            trees = probe_trees(client, spec.materials_project_id, sources, options=_handout_options(spec, copies, '.copy_from'))
        state.sources = dict(zip(sources, trees))
        for path, tree in state.sources.items():
            if tree.kind not in ('file', 'directory'):
                raise CocalcInputError("handouts: copy_from '%s' is not a file or directory in materials project %s"
                                       % (path, spec.materials_project_id))
        paths = [handout.path for handout in copies]
        options = _handout_options(spec, copies, '.path')

        def probe(project_id):
            try:
                with attempting('read the checksums of the handouts in project %s' % project_id):
                    return project_id, dict(zip(paths, probe_trees(client, project_id, paths, options=options)))
            except CocalcError as err:   # also a handout path that leaves this project's home
                return project_id, err
        state.trees.update(_map(pool, probe, probe_ids))


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


def _plan_handouts(plan, spec, state, new):
    before, after = plan.file_views
    for handout in spec.handouts:
        if handout.content is not None:
            # "Missing" (None) only for a new project or where the hub said ENOENT for this very file:
            # a file that was not read, or whose read failed, is never written over.
            current = None if new else state.files.get((plan.project_id, handout.path), _NOT_READ)
            if current is _NOT_READ:
                raise CourseError("handout '%s' of project %s was not read, so it is left alone" % (handout.path, plan.project_id))
            if isinstance(current, CocalcApiError):
                raise current
            if current is None or (handout.force and plan_text(current, handout.content).changed):
                plan.writes.append(handout)
                before[handout.path] = _text_view(current)
                after[handout.path] = 'sha256:' + handout.sha256
            continue
        trees = {} if new else state.trees.get(plan.project_id)
        if isinstance(trees, CocalcError):
            raise trees
        target = (trees or {}).get(handout.path)
        if target is None or target.kind == 'missing':
            changed = True
        else:
            copy_plan = plan_copy(state.sources[handout.copy_from], target, CopyOptions())
            changed = handout.force and copy_plan is not None and copy_plan.changed
        if changed:
            plan.copies.append(handout)
            before[handout.path] = target.kind if target is not None else 'missing'
            after[handout.path] = 'copy of %s' % handout.copy_from


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


def plan_student(spec, state, student, staff_ids):
    """The plan for one roster student (pure). CourseError/CocalcApiError for a student that cannot be planned."""
    candidates = state.index.get(student['key'], [])
    row = pick_project(candidates, student['key'])
    plan = ProjectPlan(student['key'], student, row)
    plan.discard = [extra['project_id'] for extra in unfinished_extras(candidates, row)]
    account = state.accounts.get(student['email'].lower())
    plan.account_id = account['account_id'] if account else None
    wanted_description = spec.description
    if state.marker == 'name' and wanted_description is None and row is not None \
            and strip_marker(row.get('description')) != (row.get('description') or '').rstrip():
        # A project adopted from an unfinished creation: its description still holds the marker / token.
        wanted_description = strip_marker(row.get('description'))
    if state.marker == 'description':
        current_description = project_view(row, state.me)['description'] if row else ''
        wanted_description = with_marker(spec.description if spec.description is not None else current_description, plan.key)
    if row is None:
        plan.create = dict(title=student['title'])
        if wanted_description:
            plan.create['description'] = wanted_description
        if state.marker == 'name':
            plan.changes = dict(name=plan.key)
        users = {state.me: dict(group='owner')}
    else:
        current = project_view(row, state.me)
        desired = dict(title=student['title'], description=wanted_description, deleted=False)
        if state.marker == 'name':
            desired['name'] = plan.key
        plan.changes = plan_changes(current, desired)
        users = current['users']
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
    except CourseError:
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
        except CourseError as err:
            failed = ProjectPlan(key)
            failed.error = str(err)
            dropped.append(failed)
    return plans, dropped


# ---- apply (writes) -------------------------------------------------------------------------------

def _invite_params(spec):
    """The invite options in the words of _collaborators.invitation_fields()."""
    return dict(invite_message=spec.invite.get('body'), invite_subject=spec.invite.get('subject'),
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
        live = [row for row in index.get(plan.key, []) if not row.get('deleted')]
        if not any(row['project_id'] == plan.project_id for row in live):
            continue
        winner = min(live, key=creation_order)
        if winner['project_id'] == plan.project_id:
            continue
        try:
            apply_changes(client, plan.project_id, dict(deleted=True), state.me)
            plan.actions.append(dict(action='delete_project', project_id=plan.project_id))
        except CocalcApiError as err:
            plan.error = str(err)
            continue
        plan.error = ('another run created the project of this student at the same time: kept the older one, %s, and '
                      'removed (soft-deleted) the one this run created, %s; a re-run finishes it' % (winner['project_id'], plan.project_id))


def _run_project_writes(client, spec, state, plan):
    title = plan.student['title'] if plan.student else (plan.row or {}).get('title')
    if plan.create is not None:
        if plan.changes:
            _mark_new_project(client, state, plan)
    elif plan.changes:
        apply_changes(client, plan.project_id, plan.changes, state.me)
        plan.actions.append(dict(action='update_project', fields=sorted(plan.changes)))
    membership = plan.membership
    if membership is not None and membership.changed:
        invitation = invitation_fields(client, dict(title=title, project_id=plan.project_id), _invite_params(spec)) \
            if membership.invite else None
        sent = apply_plan(client, plan.project_id, membership, invitation)
        plan.actions.extend(dict(action='add_collaborator', account_id=account_id) for account_id in membership.add)
        plan.actions.extend(dict(action='invite', email=email) for email in membership.invite)
        plan.actions.extend(dict(action='remove_collaborator', account_id=account_id) for account_id in membership.remove)
        if sent and not state.invites_readable:
            record = dict(plan.invites)
            record.update(sent)
            write_invite_record(client, plan.project_id, record)
    if plan.delete:
        apply_changes(client, plan.project_id, dict(deleted=True), state.me)
        plan.actions.append(dict(action='delete_project'))


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


def _views(plan, state):
    """(before, after) of one project for the diff: its fields, people, invitations and handouts."""
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
    people_before = dict((account_id, entry.get('group')) for account_id, entry in users.items())
    membership = plan.membership
    people_after = dict((account_id, entry.get('group')) for account_id, entry in
                        (membership.users_after(users) if membership else users).items())
    invited_before = sorted(address.lower() for address in plan.invites)
    invited_after = sorted(set(invited_before) | set(email.lower() for email in (membership.invite if membership else [])))
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
            work = [plan for plan in plans + dropped if plan.error is None and plan.needs_writes]
            for plan in work:
                plan.actions = []
            # Every project and its people first, then the files: new projects start meanwhile. The
            # setup command last, so that it finds the handouts.
            _map(pool, lambda plan: run_plan(client, spec, state, plan, 'create'), work)
            settle_creations(client, spec, state, work)
            for phase in ('projects', 'files', 'setup'):
                _map(pool, lambda plan, phase=phase: run_plan(client, spec, state, plan, phase), work)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
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
