# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_course with the fake transport: the exact calls of each path.

parallel=1 keeps the calls in a fixed order (the fake transport checks order); the thread pool
itself is tested in tests/unit/plugins/module_utils/test_course.py.
"""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils import _exec, _trees
from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_course
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import (
    API_KEY,
    API_URL,
    ApiCall,
    run_module_failed,
    run_module_success,
)

ME = '5134e292-3608-4e27-b5d1-645b92dc67fd'
ADA = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
ADA2 = '6d8a1b9e-2f0a-4c55-9b7e-3c1d2e4f5a6b'
TA = 'a80ae000-76a1-4793-acf3-84826895f49b'
TA2 = '0c5f5b1e-8d7a-4e2b-9f3c-1a2b3c4d5e6f'
STRANGER = '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a'
P_ADA = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
P_BOB = 'f122d520-e70c-4812-8945-57fe8839a247'
P_OLD = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
P_OTHER = '7b9e0c1d-2e3f-4a5b-8c6d-9e0f1a2b3c4d'
MATERIALS = 'c0ffee00-1234-4abc-8def-0123456789ab'

STUDENTS = [
    {'student_id': '1001', 'email': 'ada@example.edu', 'first_name': 'Ada', 'last_name': 'Lovelace'},
    {'student_id': '1002', 'email': 'bob@example.edu', 'first_name': 'Bob', 'last_name': 'Builder'},
]
README = '# Algebra\n\nWelcome!\n'
HANDOUTS = [{'path': 'README.md', 'content': README}]
FIELDS = {'name': None, 'title': None, 'description': None, 'users': None, 'invite': None, 'deleted': None, 'created': None,
          'project_id': None}
ADA_TITLE = 'Ada Lovelace - Algebra'
BOB_TITLE = 'Bob Builder - Algebra'
INVITE_TEXT = "You are invited to collaborate on the CoCalc project '%s'."


def args(**extra):
    base = dict(course_id='alg-1', title='Algebra', students=STUDENTS, staff=['ta@example.edu'], handouts=HANDOUTS, parallel=1)
    base.update(extra)
    # None means "left out": AnsibleModule counts a present None for mutually_exclusive.
    return dict((key, value) for key, value in base.items() if value is not None)


def whoami(account_id=ME):
    row = {'account_id': account_id, 'email_address': 'me@example.edu', 'first_name': 'I', 'last_name': 'Teacher', 'groups': []}
    return ApiCall('query', {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None,
                                                    'last_name': None, 'groups': None}}}).reply(
        {'event': 'query', 'query': {'accounts': row if account_id else None}})


def found(account_id, email):
    return {'account_id': account_id, 'first_name': 'X', 'last_name': 'Y', 'name': None, 'email_address': email,
            'last_active': None, 'created': 1795767313473, 'email_address_verified': None}


def search(emails, rows):
    return ApiCall('user_search', {'query': ','.join(emails), 'limit': len(emails)}).reply(
        {'event': 'user_search_results', 'results': rows})


def default_search():
    """Ada and the TA have accounts, Bob has none."""
    return search(['ada@example.edu', 'bob@example.edu', 'ta@example.edu'], [found(ADA, 'ada@example.edu'), found(TA, 'ta@example.edu')])


def projects(rows, fields=None):
    spec = dict(fields or FIELDS)
    return ApiCall('query', {'query': {'projects_all': [spec]}}).reply({'event': 'query', 'query': {'projects_all': rows}})


def row(project_id, name, title, users, invite=None, description=None, deleted=None):
    # A list get omits null fields, as the real hub does.
    data = {'project_id': project_id, 'title': title, 'users': users}
    for key, value in (('name', name), ('invite', invite), ('description', description), ('deleted', deleted)):
        if value is not None:
            data[key] = value
    return data


def users(*collaborators):
    result = {ME: {'group': 'owner', 'hide': False}}
    result.update((account_id, {'group': 'collaborator'}) for account_id in collaborators)
    return result


def converged_rows():
    return [row(P_ADA, 'alg-1.1001', ADA_TITLE, users(ADA, TA)),
            row(P_BOB, 'alg-1.1002', BOB_TITLE, users(TA), invite={'bob@example.edu': {'time': '2026-01-01T00:00:00.000Z'}})]


def reads(items):
    """One array read_text_file_from_project call: items are (project_id, path, content or None for ENOENT)."""
    answers = []
    for project_id, path, content in items:
        if content is None:
            answers.append({'path': path, 'project_id': project_id,
                            'error': "Error: ENOENT: no such file or directory, stat '/home/user/%s'" % path})
        else:
            answers.append({'path': path, 'project_id': project_id, 'content': content})
    if len(items) == 1:
        project_id, path, content = items[0]
        call = ApiCall('read_text_file_from_project', {'project_id': project_id, 'path': path})
        return call.reply({'event': 'text_file_read_from_project', 'content': content}) if content is not None else \
            call.error("Error: ENOENT: no such file or directory, stat '/home/user/%s'" % path)
    return ApiCall('read_text_file_from_project', {'project_id': [i[0] for i in items], 'path': [i[1] for i in items]}).reply(
        {'event': 'text_file_read_from_project', 'content': answers})


def create(title, project_id, description=None, start=False):
    body = {'title': title}
    if start:
        body['start'] = True
    if description is not None:
        body['description'] = description
    return ApiCall('create_project', body).reply({'event': 'project_created', 'project_id': project_id})


def query_set(values):
    return ApiCall('query', {'query': {'projects': values}}).reply({'event': 'query', 'query': {}})


SETTLE = {'name': None, 'title': None, 'description': None, 'users': None, 'deleted': None, 'created': None, 'project_id': None}


def key_line(key):
    return '<!-- cocalc.cocalc course key: %s -->' % key


def token_line(key, token='tok0'):
    return '<!-- cocalc.cocalc creating %s %s -->' % (token, key)


def new(title, project_id, key, start=False, description=None):
    """The create call of a course project: its description carries the marker and the creation token."""
    return create(title, project_id, start=start,
                  description=(description + '\n\n' if description else '') + key_line(key) + '\n\n' + token_line(key))


def fresh(project_id, key, title, second, token='tok0'):
    """A project as it is right after its create call (no name yet), created at second s."""
    data = row(project_id, None, title, users(), description=key_line(key) + '\n\n' + token_line(key, token))
    data['created'] = '2026-01-01T00:00:%02d.000Z' % second
    return data


def settle(rows, fields=None):
    """The one projects_all read after the creations (who else created the same project?)."""
    return projects(rows, fields or SETTLE)


def add(project_id, account_id):
    return ApiCall('invite_collaborator', {'project_id': project_id, 'account_id': account_id}).reply({'event': 'success'})


def remove(project_id, account_id):
    return ApiCall('remove_collaborator', {'project_id': project_id, 'account_id': account_id}).reply({'event': 'success'})


def invite(project_id, to, title, **fields):
    body = dict(project_id=project_id, to=to, email=INVITE_TEXT % title, title=title, link2proj='%s/projects/%s' % (API_URL, project_id))
    body.update(fields)
    return ApiCall('invite_noncloud_collaborators', body).reply(
        {'event': 'invite_noncloud_collaborators_resp', 'mesg': 'Invited %s to collaborate on a project.' % to})


def guard(project_id, *paths):
    """The one check, before a project's handouts are written, that their paths stay in its home."""
    return ApiCall('project_exec', {'project_id': project_id, 'command': 'sh', 'err_on_exit': False,
                                    'args': ['-c', _exec.HOME_GUARD, 'sh'] + list(paths)}).expect_timeout(40).reply(
        {'event': 'project_exec_output', 'stdout': '', 'stderr': '', 'exit_code': 0})


def write(project_id, path, content):
    return ApiCall('write_text_file_to_project', {'project_id': project_id, 'path': path, 'content': content}).reply(
        {'event': 'file_written_to_project'})


def first_run_calls():
    # Projects and people first (started at creation, as handouts follow), then the files.
    return [
        whoami(), default_search(), projects([]),
        new(ADA_TITLE, P_ADA, 'alg-1.1001', start=True), new(BOB_TITLE, P_BOB, 'alg-1.1002', start=True),
        settle([fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1), fresh(P_BOB, 'alg-1.1002', BOB_TITLE, 2)]),
        query_set({'project_id': P_ADA, 'name': 'alg-1.1001', 'description': ''}), add(P_ADA, ADA), add(P_ADA, TA),
        query_set({'project_id': P_BOB, 'name': 'alg-1.1002', 'description': ''}),
        add(P_BOB, TA), invite(P_BOB, 'bob@example.edu', BOB_TITLE),
        guard(P_ADA, 'README.md'), write(P_ADA, 'README.md', README), guard(P_BOB, 'README.md'), write(P_BOB, 'README.md', README),
    ]


def rerun_calls():
    return [whoami(), default_search(), projects(converged_rows()),
            reads([(P_ADA, 'README.md', README), (P_BOB, 'README.md', README)])]


# ---- create, re-run, update ------------------------------------------------------------------

def test_first_run_creates_marks_adds_invites_and_writes(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, args(), first_run_calls())
    assert result['changed'] is True
    course = result['course']
    assert course['marker'] == 'name'
    ada, bob = course['students']
    assert ada == {'student_id': '1001', 'email': 'ada@example.edu', 'account_id': ADA, 'invited': None, 'project_id': P_ADA,
                   'status': 'created', 'actions': [{'action': 'create_project'},
                                                    {'action': 'update_project', 'fields': ['description', 'name']},
                                                    {'action': 'add_collaborator', 'account_id': ADA},
                                                    {'action': 'add_collaborator', 'account_id': TA},
                                                    {'action': 'write_file', 'path': 'README.md'}]}
    assert bob['account_id'] is None and bob['invited'] == 'bob@example.edu' and bob['project_id'] == P_BOB
    assert course['totals'] == {'students': 2, 'created': 2, 'updated': 0, 'deleted': 0, 'collaborators_added': 3,
                                'collaborators_removed': 0, 'invited': 1, 'files_written': 2, 'setups_run': 0, 'unchanged': 0, 'failed': 0}
    assert course['dropped'] == []
    assert API_KEY not in result.text


def test_rerun_makes_no_write_and_at_most_five_calls_plus_reads(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, args(), rerun_calls())
    assert result['changed'] is False
    assert [s['status'] for s in result['course']['students']] == ['unchanged', 'unchanged']
    assert result['course']['totals']['unchanged'] == 2
    # whoami, user_search, projects_all and one batched read for both projects' handouts.
    assert len(result.transport.requests) == 4


def test_rerun_without_handouts_is_three_calls(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[]), rerun_calls()[:3])
    assert result['changed'] is False


def test_check_mode_rerun_is_unchanged(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, args(), rerun_calls(), check_mode=True)
    assert result['changed'] is False


def test_drift_is_fixed_and_only_the_differences_are_written(monkeypatch):
    drifted = [row(P_ADA, 'alg-1.1001', 'Renamed by Ada', users(ADA, TA, STRANGER), description='old'),
               row(P_BOB, 'alg-1.1002', BOB_TITLE, users(TA), invite={'bob@example.edu': {'time': 'x'}}, description='Algebra course')]
    calls = [whoami(), default_search(), projects(drifted),
             reads([(P_ADA, 'README.md', 'edited by Ada\n'), (P_BOB, 'README.md', README)]),
             query_set({'project_id': P_ADA, 'title': ADA_TITLE, 'description': 'Algebra course'}),
             remove(P_ADA, STRANGER), guard(P_ADA, 'README.md'), write(P_ADA, 'README.md', README)]
    result = run_module_success(monkeypatch, cocalc_course, args(description='Algebra course'), calls, diff=True)
    ada, bob = result['course']['students']
    assert ada['status'] == 'updated' and bob['status'] == 'unchanged'
    assert ada['actions'] == [{'action': 'update_project', 'fields': ['description', 'title']},
                              {'action': 'remove_collaborator', 'account_id': STRANGER},
                              {'action': 'write_file', 'path': 'README.md'}]
    old_sha = 'sha256:' + hashlib.sha256(b'edited by Ada\n').hexdigest()
    new_sha = 'sha256:' + hashlib.sha256(README.encode()).hexdigest()
    assert result['diff']['before'] == {'1001': {'title': 'Renamed by Ada', 'description': 'old', 'handouts': {'README.md': old_sha},
                                                 'collaborators': {ME: 'owner', ADA: 'collaborator', TA: 'collaborator',
                                                                   STRANGER: 'collaborator'}}}
    assert result['diff']['after'] == {'1001': {'title': ADA_TITLE, 'description': 'Algebra course', 'handouts': {'README.md': new_sha},
                                                'collaborators': {ME: 'owner', ADA: 'collaborator', TA: 'collaborator'}}}


def test_force_false_writes_only_missing_handouts(monkeypatch):
    handouts = [{'path': 'hw1.md', 'content': 'hw1\n', 'force': False}]
    calls = [whoami(), default_search(), projects(converged_rows()),
             reads([(P_ADA, 'hw1.md', 'my answers\n'), (P_BOB, 'hw1.md', None)]),
             guard(P_BOB, 'hw1.md'), write(P_BOB, 'hw1.md', 'hw1\n')]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=handouts), calls)
    assert [s['status'] for s in result['course']['students']] == ['unchanged', 'updated']


def test_a_handout_path_out_of_the_home_fails_that_student_and_writes_nothing(monkeypatch):
    # Bob's hw1.md is a symlink out of his home: the check before his writes refuses, nothing is written.
    handouts = [{'path': 'hw1.md', 'content': 'hw1\n', 'force': False}]
    outside = ApiCall('project_exec', {'project_id': P_BOB, 'command': 'sh', 'err_on_exit': False,
                                       'args': ['-c', _exec.HOME_GUARD, 'sh', 'hw1.md']}).expect_timeout(40).reply(
        {'event': 'project_exec_output', 'stdout': '', 'stderr': 'outside-home 1\n/elsewhere/hw1.md', 'exit_code': 97})
    calls = [whoami(), default_search(), projects(converged_rows()),
             reads([(P_ADA, 'hw1.md', 'my answers\n'), (P_BOB, 'hw1.md', None)]), outside]
    result = run_module_failed(monkeypatch, cocalc_course, args(handouts=handouts), calls)
    bob = result['course']['students'][1]
    assert bob['status'] == 'failed' and bob['actions'] == []
    assert bob['error'] == ("handouts[0].path 'hw1.md' leaves the home of project %s: its real location is /elsewhere/hw1.md "
                            "(a symlink or '..' points outside the home); nothing was changed" % P_BOB)
    assert result['course']['students'][0]['status'] == 'unchanged'


def test_purge_false_only_adds(monkeypatch):
    rows = [row(P_ADA, 'alg-1.1001', ADA_TITLE, users(ADA, STRANGER)), converged_rows()[1]]
    calls = [whoami(), default_search(), projects(rows), add(P_ADA, TA)]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[], purge=False), calls)
    assert result['course']['totals']['collaborators_removed'] == 0


def test_email_change_moves_access_to_the_new_account(monkeypatch):
    students = [dict(STUDENTS[0], email='ada.new@example.edu'), STUDENTS[1]]
    calls = [whoami(),
             search(['ada.new@example.edu', 'bob@example.edu', 'ta@example.edu'], [found(ADA2, 'ada.new@example.edu'), found(TA, 'ta@example.edu')]),
             projects(converged_rows()),
             add(P_ADA, ADA2), remove(P_ADA, ADA)]
    result = run_module_success(monkeypatch, cocalc_course, args(students=students, handouts=[]), calls)
    ada = result['course']['students'][0]
    assert ada['account_id'] == ADA2 and ada['project_id'] == P_ADA
    assert result['course']['totals']['created'] == 0


def test_email_change_to_an_address_without_account_invites_it(monkeypatch):
    students = [dict(STUDENTS[0], email='ada.new@example.edu'), STUDENTS[1]]
    calls = [whoami(),
             search(['ada.new@example.edu', 'bob@example.edu', 'ta@example.edu'], [found(TA, 'ta@example.edu')]),
             projects(converged_rows()),
             invite(P_ADA, 'ada.new@example.edu', ADA_TITLE, subject='Your project', replyto='prof@example.edu', email='Join us'),
             remove(P_ADA, ADA)]
    result = run_module_success(monkeypatch, cocalc_course, args(students=students, handouts=[],
                                                                 invite={'subject': 'Your project', 'reply_to': 'prof@example.edu',
                                                                         'body': 'Join us'}), calls)
    assert result['course']['students'][0]['invited'] == 'ada.new@example.edu'


def test_a_deleted_project_of_a_returning_student_is_restored(monkeypatch):
    rows = [row(P_ADA, 'alg-1.1001', ADA_TITLE, users(ADA, TA), deleted=True), converged_rows()[1]]
    calls = [whoami(), default_search(), projects(rows), query_set({'project_id': P_ADA, 'deleted': False})]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[]), calls)
    assert result['course']['students'][0]['actions'] == [{'action': 'update_project', 'fields': ['deleted']}]


def test_projects_of_other_owners_and_other_courses_are_ignored(monkeypatch):
    someone = {STRANGER: {'group': 'owner'}, ME: {'group': 'collaborator'}}
    rows = [row(P_OTHER, 'alg-1.1001', 'Not mine', someone), row(P_OLD, 'alg-10.1001', 'Other course', users()),
            row('11111111-2222-4333-8444-555555555555', None, ADA_TITLE, users(ADA, TA))]   # same title, no marker
    calls = [whoami(), default_search(), projects(rows)] + first_run_calls()[3:]
    result = run_module_success(monkeypatch, cocalc_course, args(), calls)
    assert result['course']['totals']['created'] == 2
    assert result['course']['dropped'] == []


# ---- check mode and diff ----------------------------------------------------------------------

def test_check_mode_plans_everything_and_writes_nothing(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, args(), first_run_calls()[:3], check_mode=True, diff=True)
    assert result['changed'] is True
    ada, bob = result['course']['students']
    assert ada['project_id'] is None and ada['status'] == 'created'
    assert [a['action'] for a in bob['actions']] == ['create_project', 'update_project', 'add_collaborator', 'invite', 'write_file']
    assert result['course']['totals']['created'] == 2
    assert result['diff']['before'] == {}
    assert result['diff']['after']['1002'] == {
        'title': BOB_TITLE, 'name': 'alg-1.1002', 'deleted': False, 'collaborators': {ME: 'owner', TA: 'collaborator'},
        'invited': ['bob@example.edu'], 'handouts': {'README.md': 'sha256:' + hashlib.sha256(README.encode()).hexdigest()}}


def test_no_diff_key_when_nothing_changes(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, args(), rerun_calls(), diff=True)
    assert 'diff' not in result


# ---- drops and end of term ----------------------------------------------------------------------

def dropped_rows():
    return converged_rows() + [row(P_OLD, 'alg-1.0999', 'Carl Gauss - Algebra', users('c4a2b0d0-0000-4000-8000-000000000001', TA))]


@pytest.mark.parametrize('on_drop, writes, entry_actions', [
    ('keep', [], []),
    ('remove_student', [remove(P_OLD, 'c4a2b0d0-0000-4000-8000-000000000001')],
     [{'action': 'remove_collaborator', 'account_id': 'c4a2b0d0-0000-4000-8000-000000000001'}]),
    ('delete', [query_set({'project_id': P_OLD, 'deleted': True})], [{'action': 'delete_project'}]),
])
def test_a_dropped_student_is_handled_per_on_drop(monkeypatch, on_drop, writes, entry_actions):
    calls = [whoami(), default_search(), projects(dropped_rows())] + writes
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[], on_drop=on_drop), calls)
    assert result['course']['dropped'] == [{'student_id': '0999', 'project_id': P_OLD, 'actions': entry_actions,
                                            'status': 'updated' if writes else 'unchanged'}]
    assert result['changed'] is bool(writes)


def test_end_of_term_deletes_every_course_project(monkeypatch):
    calls = [whoami(), projects(dropped_rows()),
             query_set({'project_id': P_OLD, 'deleted': True}), query_set({'project_id': P_ADA, 'deleted': True}),
             query_set({'project_id': P_BOB, 'deleted': True})]
    result = run_module_success(monkeypatch, cocalc_course, {'course_id': 'alg-1', 'state': 'absent', 'on_drop': 'delete', 'parallel': 1},
                                calls)
    assert result['course']['students'] == []
    assert result['course']['totals']['deleted'] == 3
    again = [whoami(), projects([dict(r, deleted=True) for r in dropped_rows()])]
    result = run_module_success(monkeypatch, cocalc_course, {'course_id': 'alg-1', 'state': 'absent', 'on_drop': 'delete', 'parallel': 1},
                                again)
    assert result['changed'] is False


def test_end_of_term_with_keep_warns(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, {'course_id': 'alg-1', 'state': 'absent'}, [whoami(), projects(dropped_rows())])
    assert result['changed'] is False
    assert any('on_drop=keep' in text for text in result.warnings)


# ---- failures ----------------------------------------------------------------------------------

def test_one_failing_student_does_not_stop_the_others(monkeypatch):
    calls = [whoami(), default_search(), projects([]),
             new(ADA_TITLE, P_ADA, 'alg-1.1001'), new(BOB_TITLE, P_BOB, 'alg-1.1002'),
             settle([fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1), fresh(P_BOB, 'alg-1.1002', BOB_TITLE, 2)]),
             query_set({'project_id': P_ADA, 'name': 'alg-1.1001', 'description': ''}),
             add(P_ADA, ADA).error('Error: user %s does not have write access to project %s' % (ME, P_ADA)),
             query_set({'project_id': P_BOB, 'name': 'alg-1.1002', 'description': ''}),
             add(P_BOB, TA), invite(P_BOB, 'bob@example.edu', BOB_TITLE)]
    result = run_module_failed(monkeypatch, cocalc_course, args(handouts=[]), calls)
    assert result['msg'].startswith('1 of 2 course projects failed (a re-run completes what is missing): 1001: Could not add %s to project'
                                    % ADA)
    ada, bob = result['course']['students']
    assert ada['status'] == 'failed' and 'write access' in ada['error']
    assert ada['actions'] == [{'action': 'create_project'}, {'action': 'update_project', 'fields': ['description', 'name']}]
    assert bob['status'] == 'created'
    assert result['changed'] is True
    assert result['course']['totals']['failed'] == 1


def test_a_new_project_that_cannot_be_named_keeps_its_marker_for_the_next_run(monkeypatch):
    calls = [whoami(), default_search(), projects(converged_rows()[1:]),
             new(ADA_TITLE, P_ADA, 'alg-1.1001'), settle([fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1)] + converged_rows()[1:]),
             query_set({'project_id': P_ADA, 'name': 'alg-1.1001', 'description': ''}).error('FATAL: database is down')]
    result = run_module_failed(monkeypatch, cocalc_course, args(handouts=[]), calls)
    ada = result['course']['students'][0]
    # Not deleted: the marker line of its create call lets the next run find and finish it (no duplicate, no leftover).
    assert ada['actions'] == [{'action': 'create_project'}]
    assert ada['error'].startswith('Could not update project %s (description, name)' % P_ADA)
    assert result['course']['students'][1]['status'] == 'unchanged'


def test_next_run_adopts_an_unfinished_project_instead_of_creating_another(monkeypatch):
    calls = [whoami(), default_search(), projects([fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1, token='other')] + converged_rows()[1:]),
             query_set({'project_id': P_ADA, 'name': 'alg-1.1001', 'description': ''}), add(P_ADA, ADA), add(P_ADA, TA)]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[]), calls)
    ada = result['course']['students'][0]
    assert ada['project_id'] == P_ADA and ada['status'] == 'updated'
    assert result['course']['totals']['created'] == 0


def test_a_lost_create_answer_is_found_by_its_token_and_finished(monkeypatch):
    lost = create(ADA_TITLE, P_ADA, description=key_line('alg-1.1001') + '\n\n' + token_line('alg-1.1001'))
    lost.raw('<html><body>504 Gateway Time-out</body></html>', 504)
    by_token = ApiCall('query', {'query': {'projects_all': [{'title': ADA_TITLE, 'description': None, 'deleted': None,
                                                             'project_id': None}]}}).reply(
        {'event': 'query', 'query': {'projects_all': [fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1)]}})
    calls = [whoami(), default_search(), projects(converged_rows()[1:]), lost, by_token,
             settle([fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1)] + converged_rows()[1:]),
             query_set({'project_id': P_ADA, 'name': 'alg-1.1001', 'description': ''}), add(P_ADA, ADA), add(P_ADA, TA)]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[]), calls)
    ada = result['course']['students'][0]
    assert ada['project_id'] == P_ADA and ada['status'] == 'created'
    # create_project was sent once: never repeated after a 504.
    assert [r['url'].rsplit('/', 1)[1] for r in result.transport.requests].count('create_project') == 1


def test_two_runs_at_once_the_older_project_wins_and_the_loser_removes_only_its_own(monkeypatch):
    older = fresh(P_OLD, 'alg-1.1001', ADA_TITLE, 0, token='other')
    calls = [whoami(), default_search(), projects(converged_rows()[1:]),
             new(ADA_TITLE, P_ADA, 'alg-1.1001'), settle([older, fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1)] + converged_rows()[1:]),
             query_set({'project_id': P_ADA, 'deleted': True})]
    result = run_module_failed(monkeypatch, cocalc_course, args(handouts=[]), calls)
    ada = result['course']['students'][0]
    assert ada['actions'] == [{'action': 'create_project'}, {'action': 'delete_project', 'project_id': P_ADA}]
    assert 'kept the older one, %s' % P_OLD in ada['error']
    # The next run adopts the winner (its description still names the other run's token) and finishes it.
    calls = [whoami(), default_search(), projects([older, dict(fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 1), deleted=True)]
                                                  + converged_rows()[1:]),
             query_set({'project_id': P_OLD, 'name': 'alg-1.1001', 'description': ''}), add(P_OLD, ADA), add(P_OLD, TA)]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[]), calls)
    assert result['course']['students'][0]['project_id'] == P_OLD


def test_unfinished_duplicates_left_by_earlier_runs_are_removed_and_the_oldest_kept(monkeypatch):
    rows = [fresh(P_ADA, 'alg-1.1001', ADA_TITLE, 5, token='b'), fresh(P_OLD, 'alg-1.1001', ADA_TITLE, 1, token='a')]
    calls = [whoami(), default_search(), projects(rows + converged_rows()[1:]),
             query_set({'project_id': P_ADA, 'deleted': True}),
             query_set({'project_id': P_OLD, 'name': 'alg-1.1001', 'description': ''}), add(P_OLD, ADA), add(P_OLD, TA)]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[]), calls)
    ada = result['course']['students'][0]
    assert ada['project_id'] == P_OLD
    assert {'action': 'delete_project', 'project_id': P_ADA} in ada['actions']


def test_an_unreadable_handout_fails_that_student_only(monkeypatch):
    calls = [whoami(), default_search(), projects(converged_rows()),
             ApiCall('read_text_file_from_project', {'project_id': [P_ADA, P_BOB], 'path': ['README.md', 'README.md']}).reply(
                 {'event': 'text_file_read_from_project', 'content': [
                     {'path': 'README.md', 'project_id': P_ADA, 'error': 'Error: EACCES: permission denied'},
                     {'path': 'README.md', 'project_id': P_BOB, 'content': 'old\n'}]}),
             guard(P_BOB, 'README.md'), write(P_BOB, 'README.md', README)]
    result = run_module_failed(monkeypatch, cocalc_course, args(), calls)
    assert 'EACCES' in result['course']['students'][0]['error']
    assert result['course']['students'][1]['status'] == 'updated'


def test_two_projects_with_one_marker_fail_that_student(monkeypatch):
    # Servers without names: markers live in descriptions, so duplicates are possible.
    refused = ApiCall('query', {'query': {'projects_all': [FIELDS]}}).error('FATAL: user get query not allowed for projects_all.name')
    no_name = dict((k, v) for k, v in FIELDS.items() if k != 'name')
    marker = '<!-- cocalc.cocalc course key: alg-1.1001 -->'
    rows = [row(P_ADA, None, ADA_TITLE, users(ADA, TA), description=marker),
            row(P_OTHER, None, 'copy', users(ADA, TA), description='x\n\n' + marker),
            row(P_BOB, None, BOB_TITLE, users(TA), invite={'bob@example.edu': {}}, description='<!-- cocalc.cocalc course key: alg-1.1002 -->')]
    calls = [whoami(), default_search(), refused, projects(rows, fields=no_name)]
    result = run_module_failed(monkeypatch, cocalc_course, args(handouts=[]), calls)
    assert '2 projects carry the marker alg-1.1001: %s, %s' % tuple(sorted([P_ADA, P_OTHER])) in result['msg']
    assert result['course']['students'][1]['status'] == 'unchanged'
    assert result['course']['marker'] == 'description'


def test_server_without_names_marks_projects_in_the_description(monkeypatch):
    refused = ApiCall('query', {'query': {'projects_all': [FIELDS]}}).error('FATAL: user get query not allowed for projects_all.name')
    no_name = dict((k, v) for k, v in FIELDS.items() if k != 'name')
    settle_no_name = dict((k, v) for k, v in SETTLE.items() if k != 'name')
    calls = [whoami(), default_search(), refused, projects([], fields=no_name),
             new(ADA_TITLE, P_ADA, 'alg-1.1001', description='Algebra course'),
             new(BOB_TITLE, P_BOB, 'alg-1.1002', description='Algebra course'),
             settle([], fields=settle_no_name),
             query_set({'project_id': P_ADA, 'description': 'Algebra course\n\n<!-- cocalc.cocalc course key: alg-1.1001 -->'}),
             add(P_ADA, ADA), add(P_ADA, TA),
             query_set({'project_id': P_BOB, 'description': 'Algebra course\n\n<!-- cocalc.cocalc course key: alg-1.1002 -->'}),
             add(P_BOB, TA), invite(P_BOB, 'bob@example.edu', BOB_TITLE)]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[], description='Algebra course'), calls)
    assert result['course']['marker'] == 'description'
    assert result['course']['totals']['created'] == 2


def test_server_hiding_invites_keeps_a_record_in_the_project(monkeypatch):
    refused = ApiCall('query', {'query': {'projects_all': [FIELDS]}}).error('FATAL: user get query not allowed for projects_all.invite')
    no_invite = dict((k, v) for k, v in FIELDS.items() if k != 'invite')
    rows = [converged_rows()[0], row(P_BOB, 'alg-1.1002', BOB_TITLE, users(TA))]
    record = '{\n  "bob@example.edu": {\n    "time": "2026-01-01"\n  }\n}\n'
    calls = [whoami(), default_search(), refused, projects(rows, fields=no_invite),
             reads([(P_BOB, '.cocalc-ansible-invites.json', record)])]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=[]), calls)
    assert result['changed'] is False


def test_staff_email_without_account_fails_before_any_write(monkeypatch):
    calls = [whoami(), search(['ada@example.edu', 'bob@example.edu', 'ta@example.edu'], [found(ADA, 'ada@example.edu')])]
    result = run_module_failed(monkeypatch, cocalc_course, args(), calls)
    assert result['msg'] == 'staff: no CoCalc account has the email ta@example.edu; staff need an account (they are not invited)'


def test_staff_account_id_that_does_not_exist_fails_before_any_write(monkeypatch):
    calls = [whoami(), search(['ada@example.edu', 'bob@example.edu'], [found(ADA, 'ada@example.edu')]), projects(converged_rows()),
             ApiCall('get_usernames', {'account_ids': [TA2]}).reply({'event': 'usernames', 'usernames': {TA2: {}}})]
    result = run_module_failed(monkeypatch, cocalc_course, args(staff=[TA, TA2], handouts=[]), calls)
    assert result['msg'] == 'account_id %s: no CoCalc account has this id' % TA2


def test_project_key_is_refused(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_course, args(), [whoami(account_id=None)])
    assert 'belongs to no account' in result['msg']


def test_api_error_while_reading_fails_with_api_error(monkeypatch):
    calls = [whoami(), default_search(), ApiCall('query', {'query': {'projects_all': [FIELDS]}}).error('FATAL: database is down')]
    result = run_module_failed(monkeypatch, cocalc_course, args(), calls)
    assert result['api_error']['endpoint'] == 'query'
    assert result['msg'].startswith('Could not read the projects')


# ---- copies from a materials project ----------------------------------------------------------

def probe_reply(project_id, paths, stdout):
    return ApiCall('project_exec', {'project_id': project_id, 'command': 'sh', 'err_on_exit': False, 'timeout': 120,
                                    'args': ['-c', _trees._PROBE_SCRIPT, 'sh', '0'] + paths}).expect_timeout(150).reply(
        {'event': 'project_exec_output', 'stdout': stdout, 'stderr': '', 'exit_code': 0})


def file_probe(sha, size=4, mtime='1700000000.0'):
    return '@file\0S %d %s \0%s  p\0' % (size, mtime, sha)


def test_copy_handouts_are_compared_by_checksum_and_copied_when_missing(monkeypatch):
    sha = 'a' * 64
    handouts = [{'path': 'data.csv', 'copy_from': 'materials/data.csv'}]
    copy = ApiCall('copy_path_between_projects', {'src_project_id': MATERIALS, 'src_path': 'materials/data.csv', 'target_project_id': P_BOB,
                                                  'target_path': 'data.csv', 'wait_until_done': True}).expect_timeout(270).reply(
        {'event': 'copy_path_between_projects_response', 'copy_path_id': '', 'note': ''})
    calls = [whoami(), default_search(), projects(converged_rows()),
             probe_reply(MATERIALS, ['materials/data.csv'], file_probe(sha)),
             probe_reply(P_ADA, ['data.csv'], file_probe(sha)),
             probe_reply(P_BOB, ['data.csv'], '@missing\0'),
             guard(P_BOB, 'data.csv'), copy]
    result = run_module_success(monkeypatch, cocalc_course, args(handouts=handouts, materials_project_id=MATERIALS), calls)
    assert [s['status'] for s in result['course']['students']] == ['unchanged', 'updated']
    assert result['course']['students'][1]['actions'] == [{'action': 'copy_file', 'path': 'data.csv'}]


# ---- bad input: no call at all -------------------------------------------------------------------

@pytest.mark.parametrize('extra, fragment', [
    ({'course_id': 'alg 1'}, 'course_id must be 1 to 40 letters'),
    ({'course_id': 'a.b'}, 'course_id must be 1 to 40 letters'),
    ({'staff': ['not-a-uuid']}, 'staff[0] must be an email address or an account ID'),
    ({'staff': ['ta@@example']}, 'staff[0] must be one email address'),
    ({'students': [{'student_id': '1', 'email': ''}]}, 'students[0].email must be one email address'),
    ({'students': [{'student_id': ' ', 'email': 'a@example.edu'}]}, 'students[0]: student_id must be a non-empty string'),
    ({'students': [{'student_id': 'A1', 'email': 'a@example.edu'}, {'student_id': 'a1', 'email': 'b@example.edu'}]},
     'students[1]: student_id \'a1\' gives the same project marker'),
    ({'students': [{'student_id': '1', 'email': 'a@example.edu'}, {'student_id': '2', 'email': 'A@example.edu'}]},
     'students[1]: email A@example.edu is also the email of students[0]'),
    ({'students': [{'student_id': 'x' * 60, 'email': 'a@example.edu'}]}, 'is longer than 59 characters'),
    ({'handouts': [{'path': '/etc/passwd', 'content': 'x'}]}, 'handouts[0].path'),
    ({'handouts': [{'path': '../escape', 'content': 'x'}]}, 'handouts[0].path'),
    ({'handouts': [{'path': 'a', 'content': 'x'}, {'path': './a', 'content': 'y'}]}, 'handouts[1].path: a is named by another handout'),
    ({'handouts': [{'path': 'a', 'copy_from': 'b'}]}, 'handouts[0].copy_from needs materials_project_id'),
    ({'materials_project_id': 'nope'}, 'materials_project_id must be a UUID'),
    ({'student_project_title': '{first_name} {nickname}'}, 'student_project_title: unknown placeholder {nickname}'),
    ({'student_project_title': '{first_name'}, 'student_project_title'),
    ({'parallel': 0}, 'parallel must be between 1 and 64'),
    ({'parallel': 65}, 'parallel must be between 1 and 64'),
    ({'invite': {'reply_to': 'nobody'}}, 'invite.reply_to must be one email address'),
    ({'invite': {'subject': 'Hi\nBcc: all@example.edu'}}, 'invite.subject must be one line'),
    ({'invite': {'body': ' '}}, 'invite.body must be a non-empty string'),
    ({'on_drop': 'archive'}, 'on_drop'),
    ({'title': None}, 'title'),
    ({'roster': '/nonexistent/roster.csv', 'students': None}, 'roster: cannot read /nonexistent/roster.csv'),
    ({'roster': '/x.csv'}, 'mutually exclusive'),
])
def test_bad_input_fails_before_any_call(monkeypatch, extra, fragment):
    result = run_module_failed(monkeypatch, cocalc_course, args(**extra), [])
    assert fragment in result['msg']
    assert result.transport.requests == []


def test_roster_file_is_read(monkeypatch, tmp_path):
    roster = tmp_path / 'export.csv'
    roster.write_text('Student,ID,SIS User ID,SIS Login ID\n    Points Possible,,,\n"Lovelace, Ada",1,1001,ada@example.edu\n'
                      '"Builder, Bob",2,1002,bob@example.edu\n', encoding='utf-8')
    result = run_module_success(monkeypatch, cocalc_course, args(students=None, roster=str(roster)), first_run_calls())
    assert [s['student_id'] for s in result['course']['students']] == ['1001', '1002']


def test_roster_row_without_email_names_the_line(monkeypatch, tmp_path):
    roster = tmp_path / 'export.csv'
    roster.write_text('student_id,email\n1001,ada@example.edu\n1002,\n', encoding='utf-8')
    result = run_module_failed(monkeypatch, cocalc_course, args(students=None, roster=str(roster)), [])
    assert result['msg'] == 'roster: %s line 3 has a student ID but no email' % roster


# ---- setup: run once per project, known to be done from the batched reads -------------------------

SETUP = {'command': 'pip install --user sympy', 'creates': '.local/done'}
SETUP_MARKER = '.cocalc-course/alg-1.setup'


def setup_digest(setup=None):
    from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import setup_spec
    return setup_spec(dict(setup or SETUP), 'alg-1').digest


def setup_exec(project_id, setup=None, stdout='@@cocalc.cocalc-setup run\nSuccessfully installed sympy\n', stderr='', exit_code=0):
    from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import setup_spec
    script = setup_spec(dict(setup or SETUP), 'alg-1').script()
    timeout = (setup or SETUP).get('timeout', 60)
    body = {'project_id': project_id, 'command': script, 'bash': True, 'err_on_exit': False, 'timeout': timeout, 'max_output': 4000}
    return ApiCall('project_exec', body).expect_timeout(timeout + 30).reply(
        {'event': 'project_exec_output', 'stdout': stdout, 'stderr': stderr, 'exit_code': exit_code, 'type': 'blocking'})


def setup_rerun_calls(marker_ada, marker_bob):
    return [whoami(), default_search(), projects(converged_rows()),
            reads([(P_ADA, 'README.md', README), (P_ADA, SETUP_MARKER, marker_ada),
                   (P_BOB, 'README.md', README), (P_BOB, SETUP_MARKER, marker_bob)])]


def test_setup_first_run_runs_once_per_project_after_the_handouts(monkeypatch):
    calls = first_run_calls() + [setup_exec(P_ADA), setup_exec(P_BOB)]
    result = run_module_success(monkeypatch, cocalc_course, args(setup=SETUP), calls)
    assert result['changed'] is True
    ada, bob = result['course']['students']
    assert ada['actions'][-1] == {'action': 'run_setup'}
    assert ada['setup'] == {'status': 'ran', 'rc': 0, 'stdout': 'Successfully installed sympy\n', 'stderr': '', 'truncated': False, 'msg': ''}
    assert bob['setup']['status'] == 'ran'
    assert result['course']['totals']['setups_run'] == 2


def test_setup_rerun_with_current_markers_runs_nothing(monkeypatch):
    digest = setup_digest() + '\n'
    result = run_module_success(monkeypatch, cocalc_course, args(setup=SETUP), setup_rerun_calls(digest, digest))
    assert result['changed'] is False
    assert [s['setup']['status'] for s in result['course']['students']] == ['current', 'current']
    assert result['course']['totals']['setups_run'] == 0
    # The markers ride in the one batched read of the handouts: no call of their own.
    assert len(result.transport.requests) == 4


def test_setup_changed_spec_runs_again_where_the_marker_is_stale(monkeypatch):
    changed = dict(SETUP, command='pip install --user sympy==1.13.3')
    assert setup_digest(changed) != setup_digest()
    # A new timeout alone is no reason to run again.
    assert setup_digest(dict(SETUP, timeout=600)) == setup_digest()
    calls = setup_rerun_calls(setup_digest(changed), setup_digest()) + [setup_exec(P_BOB, changed)]
    result = run_module_success(monkeypatch, cocalc_course, args(setup=changed), calls, diff=True)
    assert result['changed'] is True
    ada, bob = result['course']['students']
    assert ada['setup']['status'] == 'current' and ada['status'] == 'unchanged'
    assert bob['setup']['status'] == 'ran' and bob['status'] == 'updated'
    assert result['diff'] == {'before': {'1002': {'setup': setup_digest()}}, 'after': {'1002': {'setup': setup_digest(changed)}}}


def test_setup_creates_is_checked_in_the_same_call_and_only_marks(monkeypatch):
    calls = setup_rerun_calls(None, setup_digest()) + [
        setup_exec(P_ADA, stdout="@@cocalc.cocalc-setup skipped: '.local/done' exists\n")]
    result = run_module_success(monkeypatch, cocalc_course, args(setup=SETUP), calls)
    ada = result['course']['students'][0]
    assert ada['setup']['status'] == 'skipped' and ada['setup']['msg'] == "Did not run command since '.local/done' exists"
    assert ada['actions'] == [{'action': 'mark_setup', 'reason': "Did not run command since '.local/done' exists"}]
    assert result['changed'] is True and result['course']['totals']['setups_run'] == 0


def test_setup_check_mode_reports_what_would_run_and_makes_no_exec(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_course, args(setup=SETUP), setup_rerun_calls(None, setup_digest()), check_mode=True)
    assert result['changed'] is True
    ada, bob = result['course']['students']
    assert ada['setup']['status'] == 'pending' and ada['actions'] == [{'action': 'run_setup'}]
    assert bob['setup']['status'] == 'current' and bob['actions'] == []


def test_setup_failure_fails_that_student_only_and_reports_its_output(monkeypatch):
    calls = setup_rerun_calls(None, None) + [
        setup_exec(P_ADA, stdout='@@cocalc.cocalc-setup run\n', stderr='ERROR: no such package\n', exit_code=1),
        setup_exec(P_BOB)]
    result = run_module_failed(monkeypatch, cocalc_course, args(setup=SETUP), calls)
    assert result['msg'].startswith('1 of 2 course projects failed')
    assert 'setup: the command ended with exit code 1 in project %s: ERROR: no such package' % P_ADA in result['msg']
    ada, bob = result['course']['students']
    assert ada['status'] == 'failed' and ada['setup']['status'] == 'failed' and ada['setup']['rc'] == 1
    assert ada['setup']['stderr'] == 'ERROR: no such package\n'
    assert ada['actions'] == [{'action': 'run_setup', 'rc': 1}]
    assert bob['setup']['status'] == 'ran'


@pytest.mark.parametrize('setup, fragment', [
    ({'command': 'ls', 'chdir': '/etc'}, 'setup.chdir must be relative to the project home'),
    ({'command': 'ls', 'creates': '../../x', 'chdir': 'a'}, 'setup.creates must stay inside the project home'),
    ({'command': 'echo hi', 'bash': True, 'args': ['x']}, 'setup.args cannot be combined with bash=true'),
    ({'command': 'ls', 'timeout': 0}, 'setup.timeout must be at least 1'),
    ({'command': '  '}, 'setup.command must be a non-empty string'),
])
def test_setup_bad_input_fails_before_any_call(monkeypatch, setup, fragment):
    result = run_module_failed(monkeypatch, cocalc_course, args(setup=setup), [])
    assert fragment in result['msg']
