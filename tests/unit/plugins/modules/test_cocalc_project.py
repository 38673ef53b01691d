# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_project with the fake transport: the exact API calls of every path."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
import requests

from ansible_collections.cocalc.cocalc.plugins.module_utils import _project
from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_project
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, ApiCall, run_module_failed, run_module_success

ME = '5134e292-3608-4e27-b5d1-645b92dc67fd'
BOB = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
PID = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
PID2 = '8e6f659e-1493-4fc2-ab69-8dc79a084e48'
NEW = '98e19977-fca2-4730-b7dc-f044f32031b6'
FIELDS = ('name', 'title', 'description', 'compute_image', 'deleted', 'users', 'state', 'action_request')
WHO_QUERY = {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None, 'groups': None}}}
OPENED = {'ip': '127.0.0.1', 'time': '2026-11-27T08:47:20.198Z', 'state': 'opened'}
RUNNING = {'ip': '127.0.0.1', 'time': '2026-11-27T08:47:37.212Z', 'state': 'running'}
STORED_REQUEST = {'time': '2026-11-27T08:47:35.990Z', 'action': 'start', 'started': '2026-11-27T08:47:35.993Z',
                  'finished': '2026-11-27T08:47:37.212Z'}


def whoami(account_id=ME):
    me = {'account_id': account_id, 'email_address': 'alice@example.com', 'first_name': 'Alice', 'last_name': 'T', 'groups': None}
    return ApiCall('query', WHO_QUERY).reply({'event': 'query', 'multi_response': False,
                                              'query': {'accounts': me} if account_id else {}})


def list_spec(project_id=None, title=None, skip=()):
    spec = dict((field, None) for field in FIELDS if field not in skip)
    spec['project_id'] = project_id
    if title is not None:
        spec['title'] = title
    return {'query': {'projects_all': [spec]}}


def projects_all(rows, project_id=None, title=None, skip=()):
    """A projects_all list read and its answer (list gets omit null fields, as the hub does)."""
    rows = [dict((key, value) for key, value in row.items() if value is not None) for row in rows]
    return ApiCall('query', list_spec(project_id, title, skip)).reply(
        {'event': 'query', 'multi_response': False, 'query': {'projects_all': rows}})


def row(project_id=PID, title='Algebra', description='', name=None, deleted=None, users=None, state=None, image='ubuntu2204',
        action_request=None):
    return {'project_id': project_id, 'title': title, 'description': description, 'name': name, 'deleted': deleted,
            'users': users if users is not None else {ME: {'group': 'owner'}}, 'state': state if state is not None else OPENED,
            'compute_image': image, 'action_request': action_request}


def query_set(values):
    return ApiCall('query', {'query': {'projects': values}}).reply({'event': 'query', 'multi_response': False, 'query': {}})


def create(body, project_id=NEW):
    return ApiCall('create_project', body).reply({'event': 'project_created', 'id': 'x', 'project_id': project_id})


def token_line(key=None, token='tok0'):
    return '<!-- cocalc.cocalc creating %s -->' % (token + (' ' + key if key else ''))


def tokened(body, key=None):
    """A create_project body as the module sends it: the description ends with the creation token line."""
    body = dict(body)
    body['description'] = (body['description'] + '\n\n' if body.get('description') else '') + token_line(key)
    return body


SETTLE_FIELDS = ('name', 'title', 'description', 'users', 'deleted', 'created')


def settle(rows, title='Algebra'):
    """The read after a create: which live projects of that title are the same project, and which is the oldest."""
    spec = dict((field, None) for field in SETTLE_FIELDS)
    spec.update(project_id=None, title=title)
    return ApiCall('query', {'query': {'projects_all': [spec]}}).reply(
        {'event': 'query', 'multi_response': False, 'query': {'projects_all': rows}})


def born(project_id=NEW, second=1, key=None, token='tok0', title='Algebra', **fields):
    """A project right after its create call (description still carrying its token), created at second s."""
    data = {'project_id': project_id, 'title': title, 'description': token_line(key, token),
            'users': {ME: {'group': 'owner'}}, 'created': '2026-01-01T00:00:%02d.000Z' % second}
    data.update(fields)
    return data


def action(verb, wait_timeout=120):
    # The set blocks until the action finished, so it may take as long as the wait.
    return ApiCall('query', {'query': {'projects': {'project_id': PID, 'action_request': {'action': verb, 'time': ANY}}}}) \
        .reply({'event': 'query', 'multi_response': False, 'query': {}}).expect_timeout(max(30, wait_timeout))


def view(project_id=PID, title='Algebra', description='', name=None, deleted=False, hidden=False, state='opened', image='ubuntu2204',
         users=None):
    return {'project_id': project_id, 'name': name, 'title': title, 'description': description, 'compute_image': image,
            'deleted': deleted, 'hidden': hidden, 'state': state, 'users': users if users is not None else {ME: {'group': 'owner'}}}


# ---- create ----

def test_create_by_title(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'description': 'Course files'}, [
        whoami(),
        projects_all([], title='Algebra'),
        create(tokened({'title': 'Algebra', 'description': 'Course files'})),
        settle([born()]),
        query_set({'project_id': NEW, 'description': 'Course files'}),
        projects_all([row(NEW, description='Course files')], project_id=NEW),
    ])
    assert result['changed'] is True
    assert result['project'] == view(NEW, description='Course files')
    assert API_KEY not in result.text


def test_create_with_name_hidden_and_image_sets_the_rest_in_one_query(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'name': 'alg-101', 'title': 'Algebra', 'hidden': True,
                                                              'compute_image': 'ubuntu2404'}, [
        whoami(),
        projects_all([row(PID2, title='Other', name='other')]),
        create(tokened({'title': 'Algebra', 'image': 'ubuntu2404'}, key='alg-101')),
        settle([born(key='alg-101')]),
        query_set({'project_id': NEW, 'name': 'alg-101', 'description': '', 'users': {ME: {'hide': True}}}),
        projects_all([row(NEW, name='alg-101', image='ubuntu2404', users={ME: {'group': 'owner', 'hide': True}})], project_id=NEW),
    ])
    assert result['project'] == view(NEW, name='alg-101', hidden=True, image='ubuntu2404')


def test_create_on_server_without_image_option_sets_compute_image_afterwards(monkeypatch):
    unexpected = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'image' '"
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'compute_image': 'default'}, [
        whoami(),
        projects_all([], title='Algebra'),
        ApiCall('create_project', tokened({'title': 'Algebra', 'image': 'default'})).reject(unexpected),
        create(tokened({'title': 'Algebra'})),
        settle([born()]),
        query_set({'project_id': NEW, 'compute_image': 'default', 'description': ''}),
        projects_all([row(NEW, image='default')], project_id=NEW),
    ])
    assert result['project']['compute_image'] == 'default'


def test_create_started_asks_create_project_to_start_and_waits(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'state': 'started'}, [
        whoami(),
        projects_all([], title='Algebra'),
        create(tokened({'title': 'Algebra', 'start': True})),
        settle([born()]),
        query_set({'project_id': NEW, 'description': ''}),
        projects_all([row(NEW, state={'state': 'starting'})], project_id=NEW),
        projects_all([row(NEW, state=RUNNING)], project_id=NEW),
    ])
    assert result['project']['state'] == 'running'
    assert result.transport.sleeps == [_project.POLL_INTERVAL]


def test_create_stopped_does_not_start(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'state': 'stopped'}, [
        whoami(),
        projects_all([], title='Algebra'),
        create(tokened({'title': 'Algebra'})),
        settle([born()]),
        query_set({'project_id': NEW, 'description': ''}),
        projects_all([row(NEW)], project_id=NEW),
    ])
    assert result['project']['state'] == 'opened'


def test_check_mode_create_makes_no_write_and_predicts(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'name': 'alg', 'hidden': True, 'state': 'started'}, [
        whoami(),
        projects_all([]),
    ], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['project'] == view(None, name='alg', hidden=True, state='running', image=None)
    assert result['diff']['before'] == {}
    assert result['diff']['after']['title'] == 'Algebra'


def test_deleted_title_match_is_not_reused(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([row(PID, deleted=True)], title='Algebra'),
        create(tokened({'title': 'Algebra'})),
        settle([born(), row(PID, deleted=True)]),
        query_set({'project_id': NEW, 'description': ''}),
        projects_all([row(NEW)], project_id=NEW),
    ])
    assert result['project']['project_id'] == NEW


# ---- idempotence ----

def test_idempotent_rerun_only_reads(monkeypatch):
    current = row(name='alg', description='d', users={ME: {'group': 'owner', 'hide': True}, BOB: {'group': 'collaborator'}})
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'name': 'alg', 'title': 'Algebra', 'description': 'd',
                                                              'hidden': True, 'compute_image': 'ubuntu2204'}, [
        whoami(),
        projects_all([current], project_id=PID),
    ], diff=True)
    assert result['changed'] is False
    assert result['project'] == view(name='alg', description='d', hidden=True, users={ME: {'group': 'owner'}, BOB: {'group': 'collaborator'}})
    assert 'diff' not in result


def test_check_mode_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([row()], title='Algebra'),
    ], check_mode=True)
    assert result['changed'] is False
    assert result['project'] == view()


def test_hidden_false_matches_a_missing_hide_flag(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'hidden': False}, [
        whoami(),
        projects_all([row()], title='Algebra'),
    ])
    assert result['changed'] is False


def test_options_left_out_are_not_reset(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID}, [
        whoami(),
        projects_all([row(description='set in the web UI', name='x')], project_id=PID),
    ])
    assert result['changed'] is False
    assert result['project']['description'] == 'set in the web UI'


# ---- update ----

def test_update_sends_only_the_differences_in_one_set(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'title': 'Algebra II', 'description': '',
                                                              'hidden': True, 'name': 'alg2'}, [
        whoami(),
        projects_all([row()], project_id=PID),
        query_set({'project_id': PID, 'title': 'Algebra II', 'name': 'alg2', 'users': {ME: {'hide': True}}}),
    ], diff=True)
    assert result['changed'] is True
    assert result['project'] == view(title='Algebra II', name='alg2', hidden=True)
    assert result['diff'] == {'before': {'title': 'Algebra', 'name': None, 'hidden': False},
                              'after': {'title': 'Algebra II', 'name': 'alg2', 'hidden': True}}


def test_check_mode_update_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'description': 'new'}, [
        whoami(),
        projects_all([row()], project_id=PID),
    ], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['project'] == view(description='new')
    assert result['diff'] == {'before': {'description': ''}, 'after': {'description': 'new'}}


def test_unhide(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'hidden': False}, [
        whoami(),
        projects_all([row(users={ME: {'group': 'owner', 'hide': True}})], title='Algebra'),
        query_set({'project_id': PID, 'users': {ME: {'hide': False}}}),
    ])
    assert result['changed'] is True
    assert result['project']['hidden'] is False


def test_find_by_name_among_own_projects_only(monkeypatch):
    theirs = row(PID2, name='alg', users={BOB: {'group': 'owner'}, ME: {'group': 'collaborator'}})
    mine = row(PID, name='ALG')
    result = run_module_success(monkeypatch, cocalc_project, {'name': 'alg', 'description': 'x'}, [
        whoami(),
        projects_all([theirs, mine]),
        query_set({'project_id': PID, 'name': 'alg', 'description': 'x'}),
    ])
    assert result['project']['project_id'] == PID
    assert result['project']['name'] == 'alg'


# ---- delete / undelete ----

def test_absent_soft_deletes(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'state': 'absent'}, [
        whoami(),
        projects_all([row()], title='Algebra'),
        query_set({'project_id': PID, 'deleted': True}),
    ], diff=True)
    assert result['changed'] is True
    assert result['project'] == view(deleted=True)
    assert result['diff'] == {'before': {'deleted': False}, 'after': {'deleted': True}}


def test_check_mode_absent_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'absent'}, [
        whoami(),
        projects_all([row()], project_id=PID),
    ], check_mode=True)
    assert result['changed'] is True
    assert result['project']['deleted'] is True


def test_absent_on_deleted_project_is_no_change(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'absent'}, [
        whoami(),
        projects_all([row(deleted=True)], project_id=PID),
    ])
    assert result['changed'] is False
    assert result['project'] == view(deleted=True)


def test_absent_on_missing_title_is_no_change(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'state': 'absent'}, [
        whoami(),
        projects_all([row(deleted=True)], title='Algebra'),
    ])
    assert result['changed'] is False
    assert result['project'] is None


def test_present_on_deleted_project_by_id_undeletes(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID}, [
        whoami(),
        projects_all([row(deleted=True)], project_id=PID),
        query_set({'project_id': PID, 'deleted': False}),
    ])
    assert result['changed'] is True
    assert result['project']['deleted'] is False


def test_present_by_name_undeletes_the_deleted_project_holding_the_name(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'name': 'alg'}, [
        whoami(),
        projects_all([row(name='alg', deleted=True)]),
        query_set({'project_id': PID, 'deleted': False}),
    ])
    assert result['project']['project_id'] == PID


# ---- start / stop ----

def test_start_sends_the_action_alone_after_other_changes_and_waits(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'title': 'New', 'state': 'started'}, [
        whoami(),
        projects_all([row(action_request=STORED_REQUEST)], project_id=PID),
        query_set({'project_id': PID, 'title': 'New'}),
        action('start'),
        projects_all([row(title='New', state=RUNNING)], project_id=PID),
    ], diff=True)
    assert result['changed'] is True
    assert result['project'] == view(title='New', state='running')
    assert result['diff'] == {'before': {'title': 'Algebra', 'state': 'opened'}, 'after': {'title': 'New', 'state': 'running'}}
    sent = result.transport.requests[3]['body']['query']['projects']['action_request']['time']
    assert sent != STORED_REQUEST['time'] and sent.endswith('Z')
    assert result.transport.sleeps == []


def test_started_on_running_project_makes_no_call(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'started'}, [
        whoami(),
        projects_all([row(state=RUNNING)], project_id=PID),
    ])
    assert result['changed'] is False
    assert result['project']['state'] == 'running'


def test_stop_running_project(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'stopped', 'wait_timeout': 300}, [
        whoami(),
        projects_all([row(state=RUNNING)], project_id=PID),
        action('stop', wait_timeout=300),
        projects_all([row(state=OPENED)], project_id=PID),
    ])
    assert result['changed'] is True
    assert result['project']['state'] == 'opened'


@pytest.mark.parametrize('state', [OPENED, {'state': 'closed'}, {}])
def test_stopped_on_stopped_project_makes_no_call(monkeypatch, state):
    current = row()
    current['state'] = state or None
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'stopped'}, [
        whoami(),
        projects_all([current], project_id=PID),
    ])
    assert result['changed'] is False


def test_stopping_project_is_waited_for_not_asked_again(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'stopped'}, [
        whoami(),
        projects_all([row(state={'state': 'stopping'})], project_id=PID),
        projects_all([row(state={'state': 'stopping'})], project_id=PID),
        projects_all([row(state={'state': 'closed'})], project_id=PID),
    ])
    assert result['changed'] is False
    assert result['project']['state'] == 'closed'
    assert result.transport.sleeps == [_project.POLL_INTERVAL]


def test_check_mode_start_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'started'}, [
        whoami(),
        projects_all([row()], project_id=PID),
    ], check_mode=True)
    assert result['changed'] is True
    assert result['project']['state'] == 'running'


def test_wait_timeout_names_the_option(monkeypatch):
    # Polls at 0, 1 and 2 seconds (virtual time); a third pause would pass wait_timeout.
    result = run_module_failed(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'started', 'wait_timeout': 2}, [
        whoami(),
        projects_all([row()], project_id=PID),
        action('start', wait_timeout=2),
        projects_all([row(state={'state': 'starting', 'error': 'disk full'})], project_id=PID),
        projects_all([row(state={'state': 'starting', 'error': 'disk full'})], project_id=PID),
        projects_all([row(state={'state': 'starting', 'error': 'disk full'})], project_id=PID),
    ])
    assert "still in state 'starting' after wait_timeout=2 seconds" in result['msg']
    assert 'disk full' in result['msg']
    assert result.transport.sleeps == [_project.POLL_INTERVAL, _project.POLL_INTERVAL]


def test_same_time_as_stored_request_is_moved(monkeypatch):
    monkeypatch.setattr(_project, '_utc_now_iso', lambda: '2026-11-27T08:47:35.990Z')
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'started'}, [
        whoami(),
        projects_all([row(action_request=STORED_REQUEST)], project_id=PID),
        ApiCall('query', {'query': {'projects': {'project_id': PID, 'action_request': {
            'action': 'start', 'time': '2026-11-27T08:47:35.991Z'}}}}).reply({'event': 'query', 'query': {}}).expect_timeout(120),
        projects_all([row(state=RUNNING)], project_id=PID),
    ])
    assert result['changed'] is True


def test_start_undeletes_first(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'started'}, [
        whoami(),
        projects_all([row(deleted=True)], project_id=PID),
        query_set({'project_id': PID, 'deleted': False}),
        action('start'),
        projects_all([row(deleted=False, state=RUNNING)], project_id=PID),
    ])
    assert result['project']['deleted'] is False
    assert result['project']['state'] == 'running'


# ---- failures ----

def test_ambiguous_title_fails_listing_ids_and_creates_nothing(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([row(PID2), row(PID), row(NEW, deleted=True)], title='Algebra'),
    ])
    assert result['msg'] == "2 projects match title 'Algebra': %s, %s; set project_id to choose one" % (PID, PID2)


def test_unknown_project_id_fails_and_creates_nothing(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'project_id': PID, 'title': 'Algebra'}, [
        whoami(),
        ApiCall('query', list_spec(PID)).error('FATAL: you do not have read access to this project'),
    ])
    assert 'project_id %s names no project the API key can read' % PID in result['msg']


def test_permission_denied_on_write_is_reported_with_context(monkeypatch):
    text = 'user must be an admin or a collaborator on the project'
    result = run_module_failed(monkeypatch, cocalc_project, {'project_id': PID, 'title': 'New'}, [
        whoami(),
        projects_all([row()], project_id=PID),
        ApiCall('query', {'query': {'projects': {'project_id': PID, 'title': 'New'}}}).error(text),
    ])
    assert result['msg'] == "Could not update project %s (title): API call 'query' failed (HTTP 200, event 'error'): %s" % (PID, text)
    assert result['api_error'] == {'endpoint': 'query', 'http_status': 200, 'event': 'error', 'message': text}


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_collaborator_cannot_rename_and_nothing_is_sent(monkeypatch, check_mode):
    """The 2024 hub lets a collaborator set projects.name (runs-2024/README.md, fact 4), so the module
    checks ownership itself from the users it read: no query set is sent."""
    theirs = row(users={BOB: {'group': 'owner'}, ME: {'group': 'collaborator'}})
    result = run_module_failed(monkeypatch, cocalc_project, {'project_id': PID, 'name': 'mine'}, [
        whoami(),
        projects_all([theirs], project_id=PID),
    ], check_mode=check_mode)
    assert result['msg'] == ('name: only the owner of project %s may change its name, and the account of the API key is '
                             'a collaborator, not the owner' % PID)
    assert 'changed' not in result or result['changed'] is False


def test_the_owner_renames(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'name': 'mine'}, [
        whoami(),
        projects_all([row()], project_id=PID),
        query_set({'project_id': PID, 'name': 'mine'}),
    ])
    assert result['changed'] is True and result['project']['name'] == 'mine'


def test_hidden_needs_membership(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'project_id': PID, 'hidden': True}, [
        whoami(),
        projects_all([row(users={BOB: {'group': 'owner'}})], project_id=PID),
    ])
    assert result['msg'].startswith('hidden: the account of the API key is not a member')


def test_hidden_needs_an_account(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'project_id': PID, 'hidden': True}, [whoami(None)])
    assert 'hidden is a per-account setting' in result['msg']


def test_server_without_name_field(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'name': 'alg'}, [
        whoami(),
        ApiCall('query', list_spec()).error('FATAL: user get query not allowed for projects_all.name'),
        projects_all([row()], skip=('name',)),
    ])
    assert result['msg'] == 'name is not supported by this server: its projects have no name field (older CoCalc)'


def test_server_without_name_field_still_works_by_title(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        ApiCall('query', list_spec(title='Algebra')).error('FATAL: user get query not allowed for projects_all.name'),
        projects_all([row()], title='Algebra', skip=('name',)),
    ])
    assert result['changed'] is False
    assert result['project']['name'] is None


def test_other_read_errors_are_not_probed(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        ApiCall('query', list_spec(title='Algebra')).error('FATAL: user get query not allowed for projects_all.users'),
    ])
    assert 'Could not read projects' in result['msg']


@pytest.mark.parametrize('args, fragment', [
    ({'project_id': 'not-a-uuid'}, 'project_id must be a UUID'),
    ({'title': '  '}, 'title must be a non-empty string'),
    ({'name': ''}, 'name must be a non-empty string'),
    ({'name': PID}, 'name must not be a UUID'),
    ({'name': 'x' * 101}, 'name must be at most 100 characters'),
    ({'title': 'A', 'compute_image': ''}, 'compute_image must be a non-empty string'),
    ({'title': 'A', 'state': 'running'}, 'value of state must be one of'),
    ({'title': 'A', 'wait_timeout': -1}, 'wait_timeout must be 0 or more'),
    ({'description': 'd'}, 'one of the following is required: project_id, name, title'),
    ({'title': 'A', 'hidden': 'maybe'}, 'hidden'),
])
def test_bad_input_fails_before_any_call(monkeypatch, args, fragment):
    result = run_module_failed(monkeypatch, cocalc_project, args, [])
    assert fragment in result['msg']


def test_status_is_never_requested(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'project_id': PID, 'state': 'started'}, [
        whoami(),
        projects_all([row()], project_id=PID),
        action('start'),
        projects_all([row(state=RUNNING)], project_id=PID),
    ])
    for request in result.transport.requests:
        assert 'status' not in str(request['body'])


def test_failure_after_create_still_returns_the_new_project(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'title': 'Algebra', 'name': 'alg'}, [
        whoami(),
        projects_all([]),
        create(tokened({'title': 'Algebra'}, key='alg')),
        settle([born(key='alg')]),
        ApiCall('query', {'query': {'projects': {'project_id': NEW, 'name': 'alg', 'description': ''}}}).error(
            "There is already a project with the same owner as this project and name='alg'."),
    ])
    assert result['changed'] is True
    assert result['msg'].startswith("Created project %s, but then: Could not update project %s (description, name)" % (NEW, NEW))
    assert result['project']['project_id'] == NEW
    assert result['api_error']['event'] == 'error'


def test_timeout_after_an_update_reports_the_update(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'project_id': PID, 'title': 'New', 'state': 'started', 'wait_timeout': 1}, [
        whoami(),
        projects_all([row()], project_id=PID),
        query_set({'project_id': PID, 'title': 'New'}),
        action('start', wait_timeout=1),
        projects_all([row(title='New', state={'state': 'starting'})], project_id=PID),
        projects_all([row(title='New', state={'state': 'starting'})], project_id=PID),
    ])
    assert result['changed'] is True
    assert result['msg'].startswith('Updated project %s (title), but then: project %s is still in state' % (PID, PID))
    assert result['project']['title'] == 'New'


# ---- creation that survives a lost answer, and runs at the same time ----

def test_a_lost_create_answer_is_found_by_its_token_never_created_twice(monkeypatch):
    lost = create(tokened({'title': 'Algebra'}, key='alg'))
    lost.raw('<html><body>504 Gateway Time-out</body></html>', 504)
    by_token = ApiCall('query', {'query': {'projects_all': [{'title': 'Algebra', 'description': None, 'deleted': None,
                                                             'project_id': None}]}}).reply(
        {'event': 'query', 'multi_response': False, 'query': {'projects_all': [born(key='alg')]}})
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'name': 'alg'}, [
        whoami(),
        projects_all([]),
        lost,
        by_token,
        settle([born(key='alg')]),
        query_set({'project_id': NEW, 'name': 'alg', 'description': ''}),
        projects_all([row(NEW, name='alg')], project_id=NEW),
    ])
    assert result['changed'] is True
    assert result['project']['project_id'] == NEW


def test_a_lost_create_answer_without_a_project_fails_clearly(monkeypatch):
    lost = create(tokened({'title': 'Algebra'})).raises(requests.exceptions.ReadTimeout('read timed out'))
    by_token = ApiCall('query', {'query': {'projects_all': [{'title': 'Algebra', 'description': None, 'deleted': None,
                                                             'project_id': None}]}}).reply(
        {'event': 'query', 'multi_response': False, 'query': {'projects_all': []}})
    result = run_module_failed(monkeypatch, cocalc_project, {'title': 'Algebra'}, [whoami(), projects_all([], title='Algebra'), lost, by_token])
    assert 'no answer from' in result['msg'] and 'create project' in result['msg']


def test_next_run_adopts_an_unfinished_named_project(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra', 'name': 'alg'}, [
        whoami(),
        projects_all([row(PID, description=token_line('alg', 'old'))]),
        query_set({'project_id': PID, 'name': 'alg', 'description': ''}),
    ])
    assert result['changed'] is True
    assert result['project']['project_id'] == PID and result['project']['name'] == 'alg'


def test_next_run_adopts_an_unfinished_titled_project_and_drops_its_token(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([row(PID, description='notes\n\n' + token_line(None, 'old'))], title='Algebra'),
        query_set({'project_id': PID, 'description': 'notes'}),
    ])
    assert result['project']['description'] == 'notes'


def test_concurrent_runs_the_newer_creation_deletes_itself_and_adopts_the_older(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([], title='Algebra'),
        create(tokened({'title': 'Algebra'})),
        settle([born(PID, second=0, token='other'), born(NEW, second=1)]),
        query_set({'project_id': NEW, 'deleted': True}),
        projects_all([row(PID, description=token_line(None, 'other'))], project_id=PID),
        query_set({'project_id': PID, 'description': ''}),
    ])
    assert result['changed'] is True
    assert result['project']['project_id'] == PID
    assert any('kept the older one, %s' % PID in text for text in result.warnings)


def test_concurrent_runs_the_older_creation_keeps_going(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([], title='Algebra'),
        create(tokened({'title': 'Algebra'})),
        settle([born(PID, second=2, token='other'), born(NEW, second=1)]),
        query_set({'project_id': NEW, 'description': ''}),
        projects_all([row(NEW)], project_id=NEW),
    ])
    assert result['project']['project_id'] == NEW


def test_two_unfinished_titled_projects_keep_the_oldest_no_deadlock(monkeypatch):
    spec = dict((field, None) for field in SETTLE_FIELDS)
    spec.update(project_id=None, title='Algebra')
    dated = ApiCall('query', {'query': {'projects_all': [spec]}}).reply(
        {'event': 'query', 'multi_response': False, 'query': {'projects_all': [born(PID, second=5, token='b'), born(PID2, second=1, token='a')]}})
    result = run_module_success(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([row(PID, description=token_line(None, 'b')), row(PID2, description=token_line(None, 'a'))], title='Algebra'),
        dated,
        query_set({'project_id': PID, 'deleted': True}),
        query_set({'project_id': PID2, 'description': ''}),
    ])
    assert result['project']['project_id'] == PID2
    assert result['changed'] is True


def test_two_finished_titled_projects_still_ask_for_project_id(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project, {'title': 'Algebra'}, [
        whoami(),
        projects_all([row(PID), row(PID2)], title='Algebra'),
    ])
    assert '2 projects match' in result['msg']
