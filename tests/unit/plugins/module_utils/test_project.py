# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the reusable pieces of _project.py (what the course reconciler builds on)."""

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils import _project
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcError, CocalcInputError
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, FakeCocalc

ME = '5134e292-3608-4e27-b5d1-645b92dc67fd'
BOB = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
P1 = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
P2 = '8e6f659e-1493-4fc2-ab69-8dc79a084e48'
P3 = '98e19977-fca2-4730-b7dc-f044f32031b6'


def mine(project_id, **fields):
    return dict(fields, project_id=project_id, users={ME: {'group': 'owner'}})


def test_read_projects_is_one_call_for_any_number_of_projects(monkeypatch):
    rows = [mine('%08d-0000-4000-8000-000000000000' % n, title='s%d' % n) for n in range(250)]
    spec = dict((field, None) for field in _project.PROJECT_FIELDS)
    spec['project_id'] = None
    fake = FakeCocalc(monkeypatch, [ApiCall('query', {'query': {'projects_all': [spec]}}).reply({'event': 'query', 'query': {'projects_all': rows}})])
    found, unsupported = _project.read_projects(fake.client())
    fake.assert_done()
    assert len(found) == 250
    assert unsupported == frozenset()
    assert 'status' not in _project.PROJECT_FIELDS


def test_read_projects_skips_known_unsupported_fields_without_probing(monkeypatch):
    spec = dict((field, None) for field in _project.PROJECT_FIELDS if field != 'name')
    spec['project_id'] = P1
    fake = FakeCocalc(monkeypatch, [ApiCall('query', {'query': {'projects_all': [spec]}}).reply({'event': 'query', 'query': {'projects_all': []}})])
    assert _project.read_projects(fake.client(), project_id=P1, unsupported={'name'}) == ([], frozenset(['name']))
    fake.assert_done()


def test_read_projects_with_other_fields_probes_each_refused_optional_field_once(monkeypatch):
    # The course's fields: name and invite may both be refused; one call more for each, never two.
    fields = ('name', 'title', 'invite', 'users')
    spec = dict((field, None) for field in fields)
    spec['project_id'] = None
    without_name = dict((k, v) for k, v in spec.items() if k != 'name')
    without_both = dict((k, v) for k, v in without_name.items() if k != 'invite')
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', {'query': {'projects_all': [spec]}}).error('FATAL: user get query not allowed for projects_all.name'),
        ApiCall('query', {'query': {'projects_all': [without_name]}}).error('FATAL: user get query not allowed for projects_all.invite'),
        ApiCall('query', {'query': {'projects_all': [without_both]}}).reply({'event': 'query', 'query': {'projects_all': [mine(P1)]}}),
    ])
    rows, unsupported = _project.read_projects(fake.client(), fields)
    fake.assert_done()
    assert [row['project_id'] for row in rows] == [P1]
    assert unsupported == frozenset(['name', 'invite'])


def test_read_projects_does_not_probe_required_fields_and_labels_the_error(monkeypatch):
    spec = dict((field, None) for field in _project.PROJECT_FIELDS)
    spec['project_id'] = None
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', {'query': {'projects_all': [spec]}}).error('FATAL: user get query not allowed for projects_all.users')])
    with pytest.raises(CocalcApiError) as info:
        _project.read_projects(fake.client(), what='read the projects')
    fake.assert_done()
    assert info.value.attempted == 'read the projects'


def test_project_errors_are_task_errors_but_not_input_errors():
    assert issubclass(_project.ProjectError, CocalcError)
    assert not issubclass(_project.ProjectError, CocalcInputError)
    assert issubclass(CocalcInputError, CocalcError) and issubclass(CocalcInputError, ValueError)


def test_find_by_id_includes_deleted():
    rows = [mine(P1, deleted=True), mine(P2)]
    assert _project.find_project(rows, project_id=P1)['project_id'] == P1
    assert _project.find_project(rows, project_id=P3) is None


def test_find_by_title_ignores_deleted_and_reports_ambiguity():
    rows = [mine(P1, title='T', deleted=True), mine(P2, title='T'), mine(P3, title='U')]
    assert _project.find_project(rows, title='T')['project_id'] == P2
    assert _project.find_project(rows, title='t') is None
    with pytest.raises(_project.ProjectError, match='2 projects match title .U.: %s, %s' % (P1, P3)):
        _project.find_project(rows + [mine(P1, title='U')], title='U')


def test_find_by_name_is_per_owner_and_case_insensitive():
    theirs = dict(project_id=P1, name='alg', users={BOB: {'group': 'owner'}, ME: {'group': 'collaborator'}})
    rows = [theirs, mine(P2, name='Alg', deleted=True), mine(P3, name='ALG')]
    assert _project.find_project(rows, name='alg', me=ME)['project_id'] == P3          # live beats deleted
    assert _project.find_project(rows[:2], name='alg', me=ME)['project_id'] == P2      # else the deleted one
    assert _project.find_project(rows[:1], name='alg', me=ME) is None                  # someone else's
    with pytest.raises(_project.ProjectError):
        _project.find_project(rows, name='alg')                                         # no account: all owners


def test_find_needs_a_key():
    with pytest.raises(_project.ProjectError, match='one of project_id, name or title'):
        _project.find_project([])


def test_project_view_normalises():
    row = {'project_id': P1, 'users': {ME: {'group': 'owner', 'hide': True, 'upgrades': {'cores': 1}}, 'bad': 'x'},
           'state': {'state': 'running', 'ip': '127.0.0.1'}}
    assert _project.project_view(row, ME) == {
        'project_id': P1, 'name': None, 'title': '', 'description': '', 'compute_image': None, 'deleted': False,
        'hidden': True, 'state': 'running', 'users': {ME: {'group': 'owner'}}}
    assert _project.project_view(row, None)['hidden'] is None
    assert _project.project_view(row, BOB)['hidden'] is False


def test_plan_changes_compares_only_what_is_set():
    current = _project.project_view(mine(P1, title='T', description='d', name='n'), ME)
    assert _project.plan_changes(current, {'title': 'T', 'description': None, 'hidden': False, 'deleted': False}) == {}
    assert _project.plan_changes(current, {'title': 'T2', 'name': 'N', 'hidden': True}) == {'title': 'T2', 'name': 'N', 'hidden': True}


def test_set_fields_turns_hidden_into_the_users_map():
    assert _project.set_fields(P1, {'hidden': True, 'title': 'T'}, ME) == {'project_id': P1, 'title': 'T', 'users': {ME: {'hide': True}}}


@pytest.mark.parametrize('state_now, wanted, expected', [
    ('running', 'started', (None, None)),
    ('opened', 'started', ('start', _project.RUNNING)),
    (None, 'started', ('start', _project.RUNNING)),
    ('starting', 'started', (None, _project.RUNNING)),
    ('stopping', 'started', ('start', _project.RUNNING)),
    ('opened', 'stopped', (None, None)),
    ('closed', 'stopped', (None, None)),
    (None, 'stopped', (None, None)),
    ('running', 'stopped', ('stop', _project.STOPPED)),
    ('starting', 'stopped', ('stop', _project.STOPPED)),
    ('stopping', 'stopped', (None, _project.STOPPED)),
    ('running', 'present', (None, None)),
])
def test_plan_action(state_now, wanted, expected):
    assert _project.plan_action(state_now, wanted) == expected


def test_apply_changes_without_changes_makes_no_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    _project.apply_changes(fake.client(), P1, {}, ME)
    fake.assert_done()


@pytest.mark.parametrize('name, fragment', [
    ('', 'non-empty'), (3, 'non-empty'), (P1, 'must not be a UUID'), ('x' * 101, 'at most 100'),
])
def test_check_name(name, fragment):
    with pytest.raises(CocalcInputError, match=fragment):
        _project.check_name(name)
    assert _project.check_name('algebra-101') == 'algebra-101'
