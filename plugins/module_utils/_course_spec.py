# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The input of cocalc_course: its options, the roster, the student project markers. Pure (but for
reading the roster and handouts[].src files on the controller), no call to any server::

    spec = course_spec(params)     # every option checked before any call; CocalcInputError names it

_course.py reads, plans and applies what a CourseSpec asks for.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import string

from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcInputError, check_email, check_non_empty, check_uuid, validated
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import argument_spec as setup_argument_spec
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import setup_spec
from ansible_collections.cocalc.cocalc.plugins.module_utils._project import MARKER_RE, MARKER_TEMPLATE, strip_token
from ansible_collections.cocalc.cocalc.plugins.module_utils._texts import read_controller_text, text_bytes

DEFAULT_TITLE = '{first_name} {last_name} - {title}'
TITLE_FIELDS = ('first_name', 'last_name', 'student_id', 'email', 'title', 'course_id')
MAX_PARALLEL = 64

_COURSE_ID_RE = re.compile(r'^[A-Za-z0-9_-]{1,40}$')
# A project name holds the course key, a dot, and the student key: at most 100 characters.
MAX_STUDENT_KEY = 59
_KEY_UNSAFE_RE = re.compile(r'[^a-z0-9._-]')

# Roster columns by header (compared without case and surrounding blanks), first found wins.
ROSTER_COLUMNS = dict(
    student_id=('student_id', 'sis user id', 'id'),
    email=('email', 'sis login id'),
    first_name=('first_name', 'first name'),
    last_name=('last_name', 'last name'),
    name=('name', 'student'),
)


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
    return strip_token(MARKER_RE.sub('', description or '')).rstrip()


def _split_name(full):
    """(first, last) from 'Last, First' or 'First Last'."""
    full = ' '.join((full or '').split())
    if ',' in full:
        last, _sep, first = full.partition(',')
        return first.strip(), last.strip()
    first, _sep, last = full.rpartition(' ')
    return (first, last) if first else (last, '')


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


def _roster_header(reader, source):
    try:
        return next(reader)
    except StopIteration:
        raise CocalcInputError('roster: %s is empty; it needs a header line and one line per student' % source) from None
    except csv.Error as err:
        raise CocalcInputError('roster: %s is not valid CSV: %s' % (source, err)) from None


def _roster_index(header, columns, source):
    """{field: column position or None}; the student_id and email columns must be there."""
    index = dict((field, _roster_column(header, field, columns, source)) for field in ROSTER_COLUMNS)
    for field in ('student_id', 'email'):
        if index[field] is None:
            raise CocalcInputError('roster: %s has no %s column (looked for %s); name it with roster_columns.%s'
                                   % (source, field, ', '.join(repr(name) for name in ROSTER_COLUMNS[field]), field))
    return index


def _roster_student(row, index, where):
    """The student of one roster line, or None for a line without student ID and email."""
    def cell(field):
        position = index[field]
        return row[position].strip() if position is not None and position < len(row) else ''
    student_id, email = cell('student_id'), cell('email')
    if not student_id and not email:
        return None
    if not student_id or not email:
        raise CocalcInputError('roster: %s has %s but no %s' % (where, 'an email' if email else 'a student ID',
                                                                'student ID' if email else 'email'))
    first, last = cell('first_name'), cell('last_name')
    if not first and not last and index['name'] is not None:
        first, last = _split_name(cell('name'))
    return dict(student_id=student_id, email=email, first_name=first or None, last_name=last or None, where=where)


def parse_roster(text, columns=None, source='roster'):
    """Students from CSV text: [{student_id, email, first_name, last_name, where}] (see the module docs)."""
    columns = dict((key, value) for key, value in (columns or {}).items() if value)
    reader = csv.reader(io.StringIO(text.lstrip('\ufeff')))
    index = _roster_index(_roster_header(reader, source), columns, source)
    students = []
    try:
        for row in reader:
            student = _roster_student(row, index, '%s line %d' % (source, reader.line_num))
            if student is not None:
                students.append(student)
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
    validated('non_empty', template, 'student_project_title')
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


def _check_student(student, where, option):
    """One student's own fields, normalised in place (the kinds of _validate)."""
    student['student_id'] = validated('non_empty', student.get('student_id'), '%s: student_id' % where).strip()
    student['email'] = check_email(student.get('email'), '%s.email' % where if option == 'students' else '%s: the email' % where)
    for name in ('first_name', 'last_name'):
        if student.get(name) not in (None, ''):
            validated('person_name', student[name], '%s.%s' % (where, name))


def _check_unique(student, where, keys, emails):
    """Each project marker and each email once per course (keys, emails: what was seen, and where)."""
    key = student['key']
    if key in keys:
        raise CocalcInputError('%s: student_id %r gives the same project marker %r as %s (IDs are compared without case, '
                               'characters other than letters, digits, ".", "_" and "-" count as "_")'
                               % (where, student['student_id'], key, keys[key]))
    keys[key] = where
    address = student['email'].lower()
    if address in emails:
        raise CocalcInputError('%s: email %s is also the email of %s' % (where, student['email'], emails[address]))
    emails[address] = where


def _check_students(spec, students, option):
    keys, emails = {}, {}
    for index, student in enumerate(students):
        where = student.get('where') or '%s[%d]' % (option, index)
        _check_student(student, where, option)
        student['key'] = project_key(spec.course_id, student['student_id'])
        if len(student['key']) - len(spec.course_id) - 1 > MAX_STUDENT_KEY:
            raise CocalcInputError('%s: student_id %r is longer than %d characters' % (where, student['student_id'], MAX_STUDENT_KEY))
        _check_unique(student, where, keys, emails)
        student['title'] = validated('title', render_title(spec, student), '%s: the project title' % where)
        spec.students.append(student)


def _check_handouts(spec, handouts, materials_project_id):
    seen = set()
    for index, item in enumerate(handouts or []):
        where = 'handouts[%d]' % index
        path = validated('project_path', item.get('path'), where + '.path')
        if path in seen:
            raise CocalcInputError('%s.path: %s is named by another handout too' % (where, path))
        seen.add(path)
        if item.get('copy_from') is not None:
            if materials_project_id is None:
                raise CocalcInputError('%s.copy_from needs materials_project_id, the project to copy from' % where)
            source = validated('project_path', item['copy_from'], where + '.copy_from')
            spec.handouts.append(Handout(path, copy_from=source, force=item.get('force', True) is not False))
            continue
        content = item.get('content')
        if item.get('src') is not None and content is None:
            content = read_controller_text(item['src'], where + '.src', strip_bom=True)
        if content is None:
            raise CocalcInputError('%s needs one of content, src or copy_from' % where)
        text_bytes(content, where + ('.src' if item.get('src') is not None else '.content'))
        spec.handouts.append(Handout(path, content=content, force=item.get('force', True) is not False, src=item.get('src')))


def _check_fields(params):
    """The options of the course itself (params normalised in place)."""
    course_id = params.get('course_id')
    if not isinstance(course_id, str) or not _COURSE_ID_RE.match(course_id):
        raise CocalcInputError('course_id must be 1 to 40 letters, digits, "-" and "_", got %r' % (course_id,))
    parallel = params.get('parallel')
    if not isinstance(parallel, int) or isinstance(parallel, bool) or not 1 <= parallel <= MAX_PARALLEL:
        raise CocalcInputError('parallel must be between 1 and %d, got %r' % (MAX_PARALLEL, parallel))
    for option in ('title', 'description'):
        if params.get(option) is not None:
            validated(option, params[option], option)
    _check_title_template(params.get('student_project_title'))
    if params.get('materials_project_id') is not None:
        params['materials_project_id'] = check_uuid(params['materials_project_id'], 'materials_project_id')


def _check_invite(invite):
    """The invite email's options, normalised in place."""
    # The subject is an email header: a line break in it would start another header (Bcc: ...).
    for option, kind in (('subject', 'email_subject'), ('body', 'email_body')):
        if invite.get(option) is not None:
            validated(kind, invite[option], 'invite.%s' % option)
            check_non_empty(invite[option], 'invite.%s' % option)
    if invite.get('reply_to') is not None:
        invite['reply_to'] = check_email(invite['reply_to'], 'invite.reply_to')


def _check_staff(spec, staff):
    """Staff by email (spec.staff_emails) or by account ID (spec.staff_ids), each once."""
    for index, entry in enumerate(staff or []):
        where = 'staff[%d]' % index
        if isinstance(entry, str) and '@' in entry:
            address = check_email(entry, where)
            if address.lower() not in [known.lower() for known in spec.staff_emails]:
                spec.staff_emails.append(address)
            continue
        try:
            account_id = check_uuid(entry, where)
        except CocalcInputError:
            raise CocalcInputError('%s must be an email address or an account ID (UUID), got %r' % (where, entry)) from None
        if account_id not in spec.staff_ids:
            spec.staff_ids.append(account_id)


def _roster_students(spec, params):
    """The students of the roster file or of the students option, checked into spec.students."""
    if params.get('roster') is not None:
        text = read_controller_text(params['roster'], 'roster', strip_bom=True)
        students = parse_roster(text, params.get('roster_columns'), source=params['roster'])
        _check_students(spec, students, 'roster')
        return
    students = params.get('students')
    if students is None:
        raise CocalcInputError('one of students or roster is required with state=present')
    _check_students(spec, [dict(student) for student in students], 'students')


def course_spec(params):
    """Validate every option before any call; CocalcInputError names the option (or roster line)."""
    _check_fields(params)
    spec = CourseSpec(params)
    if spec.state == 'present' and not spec.title:
        raise CocalcInputError('title is required with state=present')
    _check_invite(spec.invite)
    _check_staff(spec, params.get('staff'))
    if spec.state == 'present':
        _roster_students(spec, params)
        _check_handouts(spec, params.get('handouts'), spec.materials_project_id)
        spec.setup = setup_spec(params.get('setup'), spec.course_id)
    return spec
