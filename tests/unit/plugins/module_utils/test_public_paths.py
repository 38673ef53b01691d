# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of _public_paths.py as a course reconciler uses it: batched read, pure plan, apply."""

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcCheckModeError, CocalcInputError
from ansible_collections.cocalc.cocalc.plugins.module_utils._public_paths import (
    apply_public_path_plan,
    check_public_path,
    check_public_read_path,
    find_public_path,
    plan_public_path,
    public_path_id,
    read_public_paths,
)
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, FakeCocalc

P1 = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
P2 = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
FIELDS = ('id', 'project_id', 'path', 'description', 'disabled', 'unlisted')


def spec(project_id):
    result = dict((field, None) for field in FIELDS)
    result['project_id'] = project_id
    return {'public_paths': [result]}


def normalised(project_id, path, **fields):
    result = dict(id=public_path_id(project_id, path), project_id=project_id, path=path, description='', unlisted=False, disabled=False)
    result.update(fields)
    return result


def test_read_many_projects_in_one_array_query(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', {'query': [spec(P1), spec(P2)]}).reply({'event': 'query', 'multi_response': False, 'query': [
            {'public_paths': [{'project_id': P1, 'path': 'a', 'id': public_path_id(P1, 'a'), 'disabled': True}]},
            {'public_paths': []},
        ]}),
    ])
    rows = read_public_paths(fake.client(), [P1, P2])
    fake.assert_done()
    assert rows == {P1: [normalised(P1, 'a', disabled=True)], P2: []}


def test_read_nothing_makes_no_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    assert read_public_paths(fake.client(), []) == {}
    fake.assert_done()


def test_find_uses_the_exact_path():
    rows = [normalised(P1, 'a/'), normalised(P1, 'a')]
    assert find_public_path(rows, P1, 'a') == rows[1]
    assert find_public_path(rows, P1, 'a/') == rows[0]
    assert find_public_path(rows, P1, 'b') is None
    assert find_public_path(rows, P2, 'a') is None


@pytest.mark.parametrize('current, state, options, write', [
    (None, 'present', {}, {}),
    (None, 'present', {'description': '', 'unlisted': False}, {}),
    (None, 'present', {'unlisted': True}, {'unlisted': True}),
    (None, 'absent', {}, None),
    (normalised(P1, 'a'), 'present', {}, None),
    (normalised(P1, 'a', disabled=True), 'present', {}, {'disabled': False}),
    (normalised(P1, 'a', disabled=True), 'present', {'description': 'x'}, {'description': 'x', 'disabled': False}),
    (normalised(P1, 'a'), 'absent', {'description': 'ignored'}, {'disabled': True}),
    (normalised(P1, 'a', disabled=True), 'absent', {}, None),
    (normalised(P1, 'a', authenticated=True), 'present', {'authenticated': True}, None),
])
def test_plan_writes_only_what_differs(current, state, options, write):
    plan = plan_public_path(P1, 'a', current, state, **options)
    assert plan.write == write
    assert plan.changed is (write is not None)
    assert plan.before == current


def test_plan_predicts_the_new_row():
    plan = plan_public_path(P1, 'a', None, 'present', description='d', authenticated=False)
    assert plan.after == normalised(P1, 'a', description='d', authenticated=False)
    assert plan.action == 'publish'


def test_apply_writes_one_set_and_nothing_for_an_unchanged_plan(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', {'query': {'public_paths': {'project_id': P1, 'path': 'a', 'disabled': True}}}).reply({'event': 'query', 'query': {}}),
    ])
    client = fake.client()
    assert apply_public_path_plan(client, plan_public_path(P1, 'a', normalised(P1, 'a'), 'absent'))['disabled'] is True
    assert apply_public_path_plan(client, plan_public_path(P1, 'a', normalised(P1, 'a'), 'present'))['disabled'] is False
    fake.assert_done()


def test_apply_refuses_to_write_in_check_mode(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    client = fake.client()
    client.check_mode = True
    with pytest.raises(CocalcCheckModeError):
        apply_public_path_plan(client, plan_public_path(P1, 'a', None, 'present'))
    fake.assert_done()


@pytest.mark.parametrize('value, ok', [
    ('a', True),
    ('a/b.md', True),
    ('a/', True),
    ('./a', True),
    ('a..b', True),
    ('', False),
    ('.', False),
    ('/a', False),
    ('a/../b', False),
    ('..', False),
    ('a\x00b', False),
    (3, False),
])
def test_public_paths_are_kept_exactly(value, ok):
    if ok:
        assert check_public_path(value, 'path') == value
    else:
        with pytest.raises(CocalcInputError, match='^path '):
            check_public_path(value, 'path')


@pytest.mark.parametrize('value, allow_home, expected', [
    ('a/./b/', False, 'a/b'),
    ('a/../b', False, 'b'),
    ('', True, ''),
    ('.', True, ''),
    ('sub/..', True, ''),
    ('', False, None),
    ('../x', True, None),
    ('/etc', True, None),
])
def test_public_reads_are_normalised(value, allow_home, expected):
    if expected is not None:
        assert check_public_read_path(value, 'listing_path', allow_home=allow_home) == expected
    else:
        with pytest.raises(CocalcInputError, match='^listing_path '):
            check_public_read_path(value, 'listing_path', allow_home=allow_home)
