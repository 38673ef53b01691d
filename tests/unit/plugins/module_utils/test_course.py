# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of _course.py: roster parsing, markers, read chunks, and the thread pool against a
small in-memory hub (the fake transport checks calls in order, which a pool cannot give)."""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
import uuid

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.cocalc.cocalc.plugins.module_utils import _api, _course, _exec, _wait
from ansible_collections.cocalc.cocalc.plugins.module_utils._api import CocalcClient
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcInputError
from ansible_collections.cocalc.cocalc.plugins.module_utils._course import (
    parse_roster,
    pick_project,
    project_key,
    read_chunks,
    reconcile_course,
    strip_marker,
    with_marker,
)
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import FakeClock

ME = '5134e292-3608-4e27-b5d1-645b92dc67fd'


# ---- roster ----------------------------------------------------------------------------------

CANVAS = ('\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Homework 1\n'
          '    Points Possible,,,,,10\n'
          '"Lovelace, Ada",101,S-1,ada@example.edu,A,9\n'
          '"van Rossum, Guido",102,S-2,guido@example.edu,A,10\n')


def test_canvas_export_maps_by_default():
    students = parse_roster(CANVAS, source='canvas.csv')
    assert [(s['student_id'], s['email'], s['first_name'], s['last_name']) for s in students] == [
        ('S-1', 'ada@example.edu', 'Ada', 'Lovelace'), ('S-2', 'guido@example.edu', 'Guido', 'van Rossum')]
    assert students[1]['where'] == 'canvas.csv line 4'


def test_plain_columns_and_first_last_names():
    students = parse_roster('email,student_id,name\nada@x.org,1,Ada Lovelace\nbob@x.org,2,Bob\n')
    assert [(s['first_name'], s['last_name']) for s in students] == [('Ada', 'Lovelace'), ('Bob', None)]


def test_roster_columns_override_the_defaults():
    text = 'Matrikel,Mail,Vorname,Nachname\n42,ada@x.org,Ada,Lovelace\n'
    students = parse_roster(text, dict(student_id='matrikel', email='Mail', first_name='Vorname', last_name='Nachname'))
    assert students == [dict(student_id='42', email='ada@x.org', first_name='Ada', last_name='Lovelace', where='roster line 2')]


@pytest.mark.parametrize('text, columns, fragment', [
    ('', None, 'roster: roster is empty'),
    ('name,email\nAda,a@x.org\n', None, "has no student_id column (looked for 'student_id', 'sis user id', 'id'); name it with roster_columns.student_id"),
    ('id,email\n1,a@x.org\n', {'email': 'Mail'}, "roster_columns.email: the roster roster has no column 'Mail' (its columns: id, email)"),
    ('id,email\n1,a@x.org\n,b@x.org\n', None, 'roster line 3 has an email but no student ID'),
])
def test_roster_problems_name_the_option_or_line(text, columns, fragment):
    with pytest.raises(CocalcInputError) as info:
        parse_roster(text, columns)
    assert fragment in str(info.value)


# ---- markers -----------------------------------------------------------------------------------

def test_project_key_is_lower_case_and_safe():
    assert project_key('Alg-1', ' S 1/2@X.org ') == 'alg-1.s_1_2_x.org'


def test_description_marker_round_trip():
    text = with_marker('Welcome\n', 'alg-1.1001')
    assert text == 'Welcome\n\n<!-- cocalc.cocalc course key: alg-1.1001 -->'
    assert strip_marker(text) == 'Welcome'
    assert with_marker(text, 'alg-1.1001') == text
    assert with_marker('', 'k.1') == '<!-- cocalc.cocalc course key: k.1 -->'


def test_pick_prefers_name_then_live_projects():
    by_marker = {'project_id': 'b', 'description': with_marker('', 'c.1')}
    named_deleted = {'project_id': 'a', 'name': 'c.1', 'deleted': True}
    assert pick_project([by_marker, named_deleted], 'c.1') is named_deleted
    live = {'project_id': 'c', 'description': with_marker('', 'c.1')}
    assert pick_project([dict(by_marker, deleted=True), live], 'c.1') is live
    assert pick_project([], 'c.1') is None


# ---- read chunks -------------------------------------------------------------------------------

@pytest.mark.parametrize('projects, files, parallel, calls', [(4, 2, 8, 4), (4, 2, 1, 1), (30, 2, 8, 8), (200, 2, 8, 8), (200, 3, 8, 13), (3, 60, 8, 3)])
def test_read_chunks_stay_within_the_call_budget(projects, files, parallel, calls):
    targets = [('p%03d' % p, 'f%d' % f) for p in range(projects) for f in range(files)]
    chunks = read_chunks(targets, parallel)
    assert len(chunks) == calls
    assert len(chunks) <= projects
    assert sorted(itertools.chain(*chunks)) == sorted(targets)
    assert all(len(chunk) <= max(_course.READ_BATCH, files) for chunk in chunks)


# ---- the thread pool against an in-memory hub --------------------------------------------------

class MiniHub(object):
    """Just enough of a hub for the course's calls, thread-safe, counting calls and concurrency."""

    def __init__(self, accounts, fail_writes_in=None, delay=0.0, start_calls=0):
        self.lock = threading.Lock()
        # As the 2024 hub (runs-2024/README.md facts 1-3): a project created with start: true refuses
        # its next start_calls project calls ("unable to determine project port", batch items
        # {"error": {}}), and batched reads answer in another order than asked.
        self.start_calls = start_calls
        self.starting = {}
        self.refused = 0
        self.accounts = accounts           # email -> account_id
        self.projects = {}
        self.files = {}
        self.calls = []
        self.active = 0
        self.most_active = 0
        self.fail_writes_in = fail_writes_in or set()
        self.delay = delay

    def handle(self, endpoint, body):
        with self.lock:
            self.calls.append(endpoint)
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            time.sleep(self.delay)
            with self.lock:
                return getattr(self, 'do_' + endpoint)(body)
        finally:
            with self.lock:
                self.active -= 1

    def do_query(self, body):
        query = body['query']
        if 'accounts' in query:
            return {'query': {'accounts': {'account_id': ME}}}
        if 'projects_all' in query:
            return {'query': {'projects_all': [dict(project) for project in self.projects.values()]}}
        values = query['projects']
        self.projects[values['project_id']].update((k, v) for k, v in values.items() if k != 'users')
        return {'query': {}}

    def do_user_search(self, body):
        rows = [{'account_id': self.accounts[email], 'email_address': email} for email in body['query'].split(',') if email in self.accounts]
        return {'results': rows}

    def _not_ready(self, project_id):
        """True (and one refusal used up) while the project is still starting."""
        if self.starting.get(project_id, 0) > 0:
            self.starting[project_id] -= 1
            self.refused += 1
            return True
        return False

    def do_create_project(self, body):
        project_id = str(uuid.uuid4())
        if body.get('start'):
            self.starting[project_id] = self.start_calls
        self.projects[project_id] = dict(project_id=project_id, title=body['title'], description=body.get('description', ''),
                                         created='2026-01-01T00:00:%02d.000Z' % len(self.projects), users={ME: {'group': 'owner'}})
        return {'project_id': project_id}

    def do_invite_collaborator(self, body):
        self.projects[body['project_id']]['users'][body['account_id']] = {'group': 'collaborator'}
        return {'event': 'success'}

    def do_remove_collaborator(self, body):
        self.projects[body['project_id']]['users'].pop(body['account_id'], None)
        return {'event': 'success'}

    def do_invite_noncloud_collaborators(self, body):
        self.projects[body['project_id']].setdefault('invite', {})[body['to']] = {'time': 'now'}
        return {'event': 'invite_noncloud_collaborators_resp'}

    def do_write_text_file_to_project(self, body):
        if self._not_ready(body['project_id']):
            raise CocalcApiError('write_text_file_to_project', 200, 'error', 'Error: unable to determine project port')
        if body['project_id'] in self.fail_writes_in:
            raise CocalcApiError('write_text_file_to_project', 200, 'error', 'disk quota exceeded')
        self.files[(body['project_id'], body['path'])] = body['content']
        return {'event': 'file_written_to_project'}

    def do_project_exec(self, body):
        # Only the check that handout paths stay in the home runs here: they all do.
        assert body['command'] == 'sh' and body['args'][1] == _exec.HOME_GUARD
        return {'event': 'project_exec_output', 'stdout': '', 'stderr': '', 'exit_code': 0}

    def do_read_text_file_from_project(self, body):
        items = []
        refused = set(project_id for project_id in set(body['project_id']) if self._not_ready(project_id))
        for project_id, path in zip(body['project_id'], body['path']):
            if project_id in refused:
                items.append({'project_id': project_id, 'path': path, 'error': {}})
            elif (project_id, path) in self.files:
                items.append({'project_id': project_id, 'path': path, 'content': self.files[(project_id, path)]})
            else:
                items.append({'project_id': project_id, 'path': path, 'error': 'ENOENT: no such file or directory'})
        # Completion order, never the order asked.
        return {'content': items[::-1]}


class _HubAdapter(requests.adapters.BaseAdapter):
    """The MiniHub as the HTTP transport: a hub error becomes an HTTP 200 event error, as on the hub."""

    def __init__(self, hub):
        super(_HubAdapter, self).__init__()
        self.hub = hub

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        endpoint = request.url.rsplit('/', 1)[-1]
        try:
            data = self.hub.handle(endpoint, json.loads(request.body))
        except CocalcApiError as err:
            data = {'event': 'error', 'error': err.message}
        response = requests.Response()
        response.status_code = 200
        response.headers = CaseInsensitiveDict({'Content-Type': 'application/json'})
        response.raw = io.BytesIO(json.dumps(data).encode('utf-8'))
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


class HubClient(CocalcClient):
    """A real CocalcClient (call() included) whose HTTP transport is the MiniHub."""

    def __init__(self, hub):
        super(HubClient, self).__init__('https://cocalc.test', 'sk_UnitTestKey000001')
        self.hub = hub
        self.pool_sizes = []
        self._session.mount('https://', _HubAdapter(hub))

    def resize_pool(self, size):
        self.pool_sizes.append(size)


def course_params(count, parallel, **extra):
    params = dict(course_id='big', title='Big', description=None, roster=None, roster_columns=None, staff=['ta@x.org'],
                  students=[dict(student_id=str(n), email='s%d@x.org' % n, first_name='S', last_name=str(n)) for n in range(count)],
                  student_project_title='{first_name} {last_name} - {title}', handouts=[dict(path='README.md', content='hi\n', force=True)],
                  materials_project_id=None, invite=None, on_drop='keep', purge=True, parallel=parallel, state='present')
    params.update(extra)
    return params


def accounts_for(count):
    accounts = dict(('s%d@x.org' % n, str(uuid.UUID(int=n + 1))) for n in range(count) if n % 10 != 9)
    accounts['ta@x.org'] = str(uuid.UUID(int=999999))
    return accounts


def test_parallel_first_run_and_rerun_against_a_hub():
    hub = MiniHub(accounts_for(40), delay=0.005)
    client = HubClient(hub)
    outcome = reconcile_course(client, course_params(40, 8), False)
    assert outcome.failure is None and outcome.changed
    assert client.pool_sizes == [8]
    assert hub.most_active > 1
    totals = outcome.resource['totals']
    assert totals['created'] == 40 and totals['invited'] == 4 and totals['collaborators_added'] == 36 + 40
    assert all(project['name'].startswith('big.') for project in hub.projects.values())
    assert len(hub.files) == 40
    writes = [c for c in hub.calls if c not in ('query', 'user_search', 'read_text_file_from_project', 'project_exec')]
    # create + name (a query set) per project: count the sets separately.
    assert len(writes) == 40 + 36 + 40 + 4 + 40
    # One check per project that its handout paths stay in its home, right before its writes.
    assert hub.calls.count('project_exec') == 40

    hub.calls = []
    again = reconcile_course(client, course_params(40, 8), False)
    assert again.changed is False and again.failure is None
    assert hub.calls.count('user_search') == 1
    assert hub.calls.count('query') == 2           # whoami and projects_all
    assert hub.calls.count('read_text_file_from_project') == 8
    assert set(hub.calls) == {'query', 'user_search', 'read_text_file_from_project'}


def test_parallel_failures_of_single_students_do_not_stop_the_others():
    hub = MiniHub(accounts_for(20))
    client = HubClient(hub)
    first = reconcile_course(client, course_params(20, 4), False)
    bad = sorted(hub.projects)[:2]
    hub.fail_writes_in = set(bad)
    for project_id in bad:
        hub.files.pop((project_id, 'README.md'))
    for key in list(hub.files):
        hub.files[key] = 'old\n'
    outcome = reconcile_course(client, course_params(20, 4), False)
    assert first.failure is None
    assert outcome.failure.startswith('2 of 20 course projects failed')
    failed = [s for s in outcome.resource['students'] if s['status'] == 'failed']
    assert sorted(s['project_id'] for s in failed) == bad
    assert all('disk quota exceeded' in s['error'] for s in failed)
    assert outcome.resource['totals']['files_written'] == 18
    hub.fail_writes_in = set()
    healed = reconcile_course(client, course_params(20, 4), False)
    assert healed.failure is None and healed.resource['totals']['files_written'] == 2


def test_check_mode_in_parallel_makes_no_write():
    hub = MiniHub(accounts_for(12))
    client = HubClient(hub)
    client.check_mode = True
    outcome = reconcile_course(client, course_params(12, 8), True)
    assert outcome.changed and outcome.resource['totals']['created'] == 12
    assert set(hub.calls) == {'query', 'user_search'}
    assert hub.projects == {}


# ---- starting projects, completion order, force: false (issue 9) ----------------------------------

HANDOUTS = [dict(path='README.md', content='hi\n', force=True),
            dict(path='homework/hw1.md', content='hw1\n', force=False),
            dict(path='homework/hw2.md', content='hw2\n', force=False)]


@pytest.fixture
def clock(monkeypatch):
    """Virtual time for the waits (the one clock seam, _wait.CLOCK)."""
    fake = FakeClock([])
    monkeypatch.setattr(_wait, 'CLOCK', fake)
    return fake


def file_writes(hub):
    return [call for call in hub.calls if call == 'write_text_file_to_project']


def test_first_run_with_starting_projects_succeeds_and_edits_survive_every_later_run(clock):
    hub = MiniHub(accounts_for(12), start_calls=2)
    client = HubClient(hub)
    first = reconcile_course(client, course_params(12, 4, handouts=HANDOUTS), False)
    assert first.failure is None
    assert first.resource['totals']['files_written'] == 36
    # Each project refused two calls while starting; every file landed once, none was written twice.
    assert hub.refused == 24
    assert len(file_writes(hub)) == 36 + 24
    assert clock.sleeps and max(clock.sleeps) <= _api.READY_WAIT_CAP
    projects = sorted(hub.projects)

    # Students edit and delete homework; the projects are starting again (batch items {"error": {}}).
    hub.files[(projects[0], 'homework/hw1.md')] = 'my answer\n'
    hub.files[(projects[1], 'homework/hw2.md')] = 'my other answer\n'
    del hub.files[(projects[2], 'homework/hw1.md')]
    hub.files[(projects[3], 'README.md')] = 'changed by the student\n'
    hub.starting = dict((project_id, 1) for project_id in projects)
    hub.calls = []
    second = reconcile_course(client, course_params(12, 4, handouts=HANDOUTS), False)
    assert second.failure is None
    assert hub.files[(projects[0], 'homework/hw1.md')] == 'my answer\n'
    assert hub.files[(projects[1], 'homework/hw2.md')] == 'my other answer\n'
    assert hub.files[(projects[2], 'homework/hw1.md')] == 'hw1\n'         # deleted: handed out again
    assert hub.files[(projects[3], 'README.md')] == 'hi\n'                # force: true
    assert second.resource['totals']['files_written'] == 2

    hub.calls = []
    third = reconcile_course(client, course_params(12, 4, handouts=HANDOUTS), False)
    assert third.changed is False and third.failure is None
    assert file_writes(hub) == []
    assert hub.files[(projects[0], 'homework/hw1.md')] == 'my answer\n'


def test_a_project_that_never_starts_fails_its_student_and_nothing_is_written_there(clock):
    hub = MiniHub(accounts_for(6))
    client = HubClient(hub)
    assert reconcile_course(client, course_params(6, 2, handouts=HANDOUTS), False).failure is None
    projects = sorted(hub.projects)
    stuck = projects[0]
    hub.files = dict((key, value) for key, value in hub.files.items() if key[0] != stuck)   # nothing readable there
    hub.starting = {stuck: 10 ** 6}
    client.ready_wait = 20
    hub.calls = []
    outcome = reconcile_course(client, course_params(6, 2, handouts=HANDOUTS), False)
    assert outcome.failure.startswith('1 of 6 course projects failed')
    failed = [entry for entry in outcome.resource['students'] if entry['status'] == 'failed']
    assert [entry['project_id'] for entry in failed] == [stuck]
    assert 'did not become ready within 20 seconds' in failed[0]['error']
    assert file_writes(hub) == []
    assert not [key for key in hub.files if key[0] == stuck]


def test_a_batch_that_cannot_be_matched_writes_nothing(clock, monkeypatch):
    hub = MiniHub(accounts_for(4))
    client = HubClient(hub)
    assert reconcile_course(client, course_params(4, 1, handouts=HANDOUTS), False).failure is None
    for key in list(hub.files):
        if key[1] != 'README.md':
            del hub.files[key]
    # A hub that answers without naming project_id and path: positions only.
    original = MiniHub.do_read_text_file_from_project
    monkeypatch.setattr(MiniHub, 'do_read_text_file_from_project',
                        lambda self, body: {'content': [{'content': item.get('content'), 'error': item.get('error')}
                                                        for item in original(self, body)['content']]})
    hub.calls = []
    outcome = reconcile_course(client, course_params(4, 1, handouts=HANDOUTS), False)
    assert outcome.resource['totals']['failed'] == 4
    assert 'cannot be matched one to one' in outcome.failure
    assert file_writes(hub) == []
