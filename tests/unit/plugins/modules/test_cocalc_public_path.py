# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_public_path with the fake transport: the exact calls per case."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import HOME_GUARD
from ansible_collections.cocalc.cocalc.plugins.module_utils._public_paths import public_path_id
from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_public_path
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, ApiCall, run_module_failed, run_module_success

PID = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
PATH = 'handouts/week1'
# The id the 2024 hub returned for project PID and path 'flow5-a2cbf8' (flows-2024.jsonl, public_paths step 3).
RECORDED_ID = '70631ffafac3dedc894b9612aafd39d80a866f48'
PATH_ID = hashlib.sha1((PID + PATH).encode('utf-8')).hexdigest()
READ_FIELDS = ('id', 'project_id', 'path', 'description', 'disabled', 'unlisted')


def read(rows, authenticated=False):
    """The list read of the project's public paths, answered as the 2024 hub does (nulls omitted)."""
    spec = dict((field, None) for field in READ_FIELDS + (('authenticated',) if authenticated else ()))
    spec['project_id'] = PID
    return ApiCall('query', {'query': {'public_paths': [spec]}}).reply(
        {'query': {'public_paths': rows}, 'multi_response': False, 'event': 'query', 'id': 'r'})


def write(**values):
    body = dict(project_id=PID, path=PATH)
    body.update(values)
    return ApiCall('query', {'query': {'public_paths': body}}).reply({'query': {}, 'multi_response': False, 'event': 'query', 'id': 'w'})


def guard(outside=None, path=PATH):
    """The read-only check before publishing that the path stays in the home."""
    body = dict(project_id=PID, err_on_exit=False, command='sh', args=['-c', HOME_GUARD, 'sh', path])
    reply = {'event': 'project_exec_output', 'stdout': '', 'stderr': '', 'exit_code': 0}
    if outside:
        reply.update(stderr='outside-home 1\n' + outside, exit_code=97)
    return ApiCall('project_exec', body).expect_timeout(40).reply(reply)


def row(**fields):
    """A stored row as a list get returns it: only the fields that were ever set."""
    result = dict(project_id=PID, path=PATH, id=PATH_ID)
    result.update(fields)
    return result


def returned(**fields):
    result = dict(id=PATH_ID, project_id=PID, path=PATH, description='', unlisted=False, disabled=False)
    result.update(fields)
    return result


def args(**options):
    result = dict(project_id=PID, path=PATH)
    result.update(options)
    return result


OTHER_ROW = dict(project_id=PID, path=PATH + '/', id=hashlib.sha1((PID + PATH + '/').encode('utf-8')).hexdigest(), description='slash')


# ---- create ----

def test_publish_new_path_writes_once(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='Week 1'), [
        read([OTHER_ROW]),
        guard(),
        write(description='Week 1'),
    ])
    assert result['changed'] is True
    assert result['public_path'] == returned(description='Week 1')


def test_publish_without_options_still_writes_the_row(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(), [read([]), guard(), write()])
    assert result['changed'] is True
    assert result['public_path'] == returned()


def test_publish_with_all_options(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='d', unlisted=True, authenticated=True), [
        read([], authenticated=True),
        guard(),
        write(description='d', unlisted=True, authenticated=True),
    ])
    assert result['public_path'] == returned(description='d', unlisted=True, authenticated=True)


def test_the_id_is_sha1_of_project_id_and_path_like_the_real_hub():
    assert public_path_id(PID, 'flow5-a2cbf8') == RECORDED_ID
    assert public_path_id(PID, 'flow5-a2cbf8/') != RECORDED_ID


# ---- idempotence ----

def test_rerun_with_same_values_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='Week 1', unlisted=False), [
        read([OTHER_ROW, row(description='Week 1', disabled=False)]),
    ])
    assert result['changed'] is False
    assert result['public_path'] == returned(description='Week 1')


def test_options_left_out_are_not_managed(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(), [
        read([row(description='set in the web UI', unlisted=True)]),
    ])
    assert result['changed'] is False
    assert result['public_path'] == returned(description='set in the web UI', unlisted=True)


def test_empty_description_matches_a_row_without_one(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description=''), [read([row()])])
    assert result['changed'] is False


def test_trailing_slash_row_is_a_different_path(monkeypatch):
    # Only 'handouts/week1/' exists: 'handouts/week1' is new.
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='slash'), [
        read([OTHER_ROW]), guard(), write(description='slash'),
    ])
    assert result['changed'] is True


# ---- update ----

def test_update_sends_only_the_changed_fields(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='v2', unlisted=True), [
        read([row(description='v2', unlisted=False)]),
        guard(),
        write(unlisted=True),
    ])
    assert result['changed'] is True
    assert result['public_path'] == returned(description='v2', unlisted=True)


def test_present_re_enables_a_disabled_path(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='d'), [
        read([row(description='d', disabled=True)]),
        guard(),
        write(disabled=False),
    ], diff=True)
    assert result['changed'] is True
    assert result['public_path']['disabled'] is False
    assert result['diff'] == {'before': {'disabled': True}, 'after': {'disabled': False}}


def test_authenticated_change_reads_and_writes_it(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(authenticated=False), [
        read([row(authenticated=True)], authenticated=True),
        guard(),
        write(authenticated=False),
    ])
    assert result['public_path'] == returned(authenticated=False)


def test_authenticated_on_a_server_without_it_fails_clearly(monkeypatch):
    spec = dict((field, None) for field in READ_FIELDS + ('authenticated',))
    spec['project_id'] = PID
    result = run_module_failed(monkeypatch, cocalc_public_path, args(authenticated=True), [
        ApiCall('query', {'query': {'public_paths': [spec]}}).error('FATAL: user get query not allowed for public_paths.authenticated'),
    ])
    assert 'predates the public path option authenticated' in result['msg']
    assert result['msg'].startswith('Could not read the public paths of project %s' % PID)


# ---- check mode and diff ----

def test_check_mode_create_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='Week 1'), [read([]), guard()], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['public_path'] == returned(description='Week 1')
    assert result['diff'] == {'before': {}, 'after': returned(description='Week 1')}


def test_check_mode_update_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='new'), [
        read([row(description='old')]), guard(),
    ], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['public_path'] == returned(description='new')
    assert result['diff'] == {'before': {'description': 'old'}, 'after': {'description': 'new'}}


def test_check_mode_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='same'), [
        read([row(description='same')]),
    ], check_mode=True, diff=True)
    assert result['changed'] is False
    assert 'diff' not in result


def test_check_mode_absent_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(state='absent'), [read([row()])], check_mode=True)
    assert result['changed'] is True
    assert result['public_path'] == returned(disabled=True)


def test_diff_of_update_shows_only_changed_fields(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(description='d', unlisted=True), [
        read([row(description='d')]), guard(), write(unlisted=True),
    ], diff=True)
    assert result['diff'] == {'before': {'unlisted': False}, 'after': {'unlisted': True}}


# ---- absent (unpublish) ----

def test_absent_disables(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(state='absent', description='ignored'), [
        read([row(description='d')]),
        write(disabled=True),
    ], diff=True)
    assert result['changed'] is True
    assert result['public_path'] == returned(description='d', disabled=True)
    assert result['diff'] == {'before': {'disabled': False}, 'after': {'disabled': True}}


def test_absent_when_already_disabled(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(state='absent'), [read([row(disabled=True)])])
    assert result['changed'] is False
    assert result['public_path'] == returned(disabled=True)


def test_absent_when_never_published(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(state='absent'), [read([OTHER_ROW])], diff=True)
    assert result['changed'] is False
    assert result['public_path'] is None
    assert 'diff' not in result


# ---- errors ----

def test_not_a_collaborator(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path, args(description='x'), [
        read([]), guard(),
        ApiCall('query', {'query': {'public_paths': dict(project_id=PID, path=PATH, description='x')}}).error('FATAL: user must be an admin'),
    ])
    assert result['msg'] == ("Could not publish path %r in project %s: API call 'query' failed (HTTP 200, event 'error'): "
                             "FATAL: user must be an admin (the API key must belong to an owner or collaborator of project %s)"
                             % (PATH, PID, PID))
    assert result['api_error'] == {'endpoint': 'query', 'http_status': 200, 'event': 'error',
                                   'message': 'FATAL: user must be an admin (the API key must belong to an owner or collaborator of project %s)' % PID}


def test_unknown_project(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path, args(state='absent'), [
        read([row()]),
        ApiCall('query', {'query': {'public_paths': dict(project_id=PID, path=PATH, disabled=True)}}).error(
            "FATAL: unknown project_id '%s'" % PID),
    ])
    assert result['msg'].startswith('Could not unpublish path %r in project %s' % (PATH, PID))


def test_wrong_key_is_not_shown(monkeypatch):
    spec = dict((field, None) for field in READ_FIELDS)
    spec['project_id'] = PID
    result = run_module_failed(monkeypatch, cocalc_public_path, args(), [
        ApiCall('query', {'query': {'public_paths': [spec]}}).reject('No account found. Is your API key wrong?'),
    ])
    assert 'check api_key' in result['msg']
    assert API_KEY not in result.text


@pytest.mark.parametrize('options, fragment', [
    (args(project_id='nope'), "project_id must be a UUID"),
    (args(path='/etc/passwd'), "path must be relative to the project home, not absolute: '/etc/passwd'"),
    (args(path='a/../../b'), "path must stay inside the project home, but 'a/../../b' leaves it"),
    (args(path='a/../b'), "path must not contain '..' (the server never shares such a path), got 'a/../b'"),
    (args(path='..'), 'path must stay inside the project home'),
    (args(path='.'), 'not the home itself'),
    (args(path='  '), 'path must be a non-empty path'),
    (args(path=''), 'path must be a non-empty path'),
    (args(state='gone'), 'value of state must be one of: present, absent'),
    (args(unlisted='perhaps'), 'unlisted'),
    (dict(path=PATH), 'missing required arguments: project_id'),
])
def test_bad_input_fails_before_any_call(monkeypatch, options, fragment):
    result = run_module_failed(monkeypatch, cocalc_public_path, options, [])
    assert fragment in result['msg']


def test_publishing_a_symlink_out_of_the_home_is_refused(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path, args(path='link', description='x'),
                               [read([]), guard(outside='/elsewhere', path='link')])
    assert result['msg'] == ("path 'link' leaves the home of project %s: its real location is /elsewhere "
                             "(a symlink or '..' points outside the home); nothing was changed" % PID)


def test_check_mode_publish_is_refused_too(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path, args(path='link'), [read([]), guard(outside='/elsewhere', path='link')],
                               check_mode=True)
    assert "path 'link' leaves the home" in result['msg']


def test_unpublishing_needs_no_check(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path, args(state='absent'), [read([row()]), write(disabled=True)])
    assert result['changed'] is True
