# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_project_info with the fake transport."""

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_project_info
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, run_module_failed, run_module_success

ME = '5134e292-3608-4e27-b5d1-645b92dc67fd'
BOB = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
P1 = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
P2 = '8e6f659e-1493-4fc2-ab69-8dc79a084e48'
P3 = '98e19977-fca2-4730-b7dc-f044f32031b6'
P4 = '007c5a24-ea59-4ecf-96aa-ccac788c1e49'
FIELDS = ('name', 'title', 'description', 'compute_image', 'deleted', 'users', 'state', 'action_request')
WHO_QUERY = {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None, 'groups': None}}}

LIVE = {'project_id': P2, 'title': 'B', 'description': 'b', 'users': {ME: {'group': 'owner'}}, 'compute_image': 'ubuntu2204',
        'state': {'state': 'running', 'time': 't'}, 'name': 'bee',
        # status is never asked for; if a server sent it anyway it must not come back.
        'status': {'secret_token': 'very-secret-token-value'}}
ALSO_LIVE = {'project_id': P1, 'title': 'A', 'users': {BOB: {'group': 'owner'}, ME: {'group': 'collaborator', 'hide': False}}}
HIDDEN = {'project_id': P3, 'title': 'C', 'users': {ME: {'group': 'owner', 'hide': True}}}
DELETED = {'project_id': P4, 'title': 'D', 'deleted': True, 'users': {ME: {'group': 'owner'}}}


def whoami():
    me = {'account_id': ME, 'email_address': 'alice@example.com', 'first_name': 'Alice', 'last_name': 'T', 'groups': None}
    return ApiCall('query', WHO_QUERY).reply({'event': 'query', 'query': {'accounts': me}})


def list_spec(project_id=None, title=None, skip=()):
    spec = dict((field, None) for field in FIELDS if field not in skip)
    spec['project_id'] = project_id
    if title is not None:
        spec['title'] = title
    return {'query': {'projects_all': [spec]}}


def projects_all(rows, project_id=None, title=None, skip=()):
    return ApiCall('query', list_spec(project_id, title, skip)).reply({'event': 'query', 'query': {'projects_all': rows}})


def test_default_lists_live_visible_projects_sorted(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {}, [
        whoami(),
        projects_all([LIVE, DELETED, HIDDEN, ALSO_LIVE]),
    ])
    assert result['changed'] is False
    assert [p['project_id'] for p in result['projects']] == [P1, P2]
    assert result['projects'][1] == {'project_id': P2, 'name': 'bee', 'title': 'B', 'description': 'b', 'compute_image': 'ubuntu2204',
                                     'deleted': False, 'hidden': False, 'state': 'running', 'users': {ME: {'group': 'owner'}}}
    assert result['projects'][0]['users'] == {BOB: {'group': 'owner'}, ME: {'group': 'collaborator'}}
    assert result['projects'][0]['state'] is None
    assert 'very-secret-token-value' not in result.text


def test_include_deleted_and_hidden(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {'include_deleted': True, 'include_hidden': True}, [
        whoami(),
        projects_all([LIVE, DELETED, HIDDEN, ALSO_LIVE]),
    ])
    assert [p['title'] for p in result['projects']] == ['A', 'B', 'C', 'D']
    assert [p['hidden'] for p in result['projects']] == [False, False, True, False]
    assert [p['deleted'] for p in result['projects']] == [False, False, False, True]


def test_title_filters_on_the_server(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {'title': 'B'}, [
        whoami(),
        projects_all([LIVE], title='B'),
    ])
    assert [p['project_id'] for p in result['projects']] == [P2]


def test_name_filter_ignores_case(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {'name': 'BEE'}, [
        whoami(),
        projects_all([LIVE, ALSO_LIVE]),
    ])
    assert [p['project_id'] for p in result['projects']] == [P2]


def test_project_id(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {'project_id': P2.upper()}, [
        whoami(),
        projects_all([LIVE], project_id=P2),
    ])
    assert [p['project_id'] for p in result['projects']] == [P2]


def test_unreadable_project_id_gives_empty_list(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {'project_id': P2}, [
        whoami(),
        ApiCall('query', list_spec(P2)).error('FATAL: you do not have read access to this project'),
    ])
    assert result['projects'] == []


def test_other_errors_fail_with_context(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project_info, {}, [
        whoami(),
        ApiCall('query', list_spec()).error('FATAL: something broke'),
    ])
    assert result['msg'] == "Could not read projects: API call 'query' failed (HTTP 200, event 'error'): FATAL: something broke"
    assert result['api_error']['event'] == 'error'


def test_server_without_name_and_compute_image(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {}, [
        whoami(),
        ApiCall('query', list_spec()).error('FATAL: user get query not allowed for projects_all.name'),
        ApiCall('query', list_spec(skip=('name',))).error('FATAL: user get query not allowed for projects_all.compute_image'),
        projects_all([ALSO_LIVE], skip=('name', 'compute_image')),
    ])
    assert result['projects'][0]['name'] is None
    assert result['projects'][0]['compute_image'] is None


def test_name_filter_on_server_without_names_fails(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_project_info, {'name': 'bee'}, [
        whoami(),
        ApiCall('query', list_spec()).error('FATAL: user get query not allowed for projects_all.name'),
        projects_all([ALSO_LIVE], skip=('name',)),
    ])
    assert 'name is not supported by this server' in result['msg']


def test_check_mode_makes_the_same_reads(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_project_info, {}, [whoami(), projects_all([LIVE])], check_mode=True)
    assert len(result['projects']) == 1


@pytest.mark.parametrize('args, fragment', [
    ({'project_id': 'nope'}, 'project_id must be a UUID'),
    ({'title': ''}, 'title must be a non-empty string'),
    ({'name': P1}, 'name must not be a UUID'),
    ({'include_deleted': 'perhaps'}, 'include_deleted'),
])
def test_bad_input_fails_before_any_call(monkeypatch, args, fragment):
    result = run_module_failed(monkeypatch, cocalc_project_info, args, [])
    assert fragment in result['msg']
