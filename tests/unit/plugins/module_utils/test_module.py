# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of CocalcModule (result conventions) and the pure helpers of _module.py."""

from __future__ import annotations

import types

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils import _module
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcInputError,
    Outcome,
    attempting,
    check_email,
    check_non_empty,
    check_uuid,
    diff_changed_keys,
    redact_secrets,
    wanted_changes,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule, result_of
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, API_URL, OMIT, ApiCall, run_module, run_module_failed, run_module_success

PID = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
PONG = {'event': 'pong', 'now': 'x'}


def module_running(action, argument_spec=None, checks=None, result_key='thing'):
    """A stand-in for a module file: main() builds a CocalcModule and runs action."""
    spec = argument_spec if argument_spec is not None else dict(title=dict(type='str'), project_id=dict(type='str'))

    def main():
        CocalcModule(argument_spec=spec, result_key=result_key, checks=checks, supports_check_mode=True).run(action)
    return types.SimpleNamespace(main=main)


def pinging(client, params, check_mode):
    return Outcome({'pong': client.ping()['event'], 'params': params, 'check_mode': check_mode})


# ---- connection options ----

def test_connection_argument_spec():
    spec = _module.connection_argument_spec()
    assert sorted(spec) == ['api_key', 'api_retries', 'api_timeout', 'api_url', 'api_version', 'validate_certs']
    assert spec['api_key']['no_log'] is True
    assert spec['api_url']['fallback'][1] == ['COCALC_API_URL']
    assert spec['api_key']['fallback'][1] == ['COCALC_API_KEY']
    assert spec['api_timeout']['fallback'][1] == ['COCALC_API_TIMEOUT']
    assert spec['validate_certs']['default'] is True
    assert (spec['api_timeout']['default'], spec['api_retries']['default']) == (30, 3)


def test_resource_logic_gets_options_without_connection_options(monkeypatch):
    result = run_module_success(monkeypatch, module_running(pinging), {'title': 'T'}, [ApiCall('ping').reply(PONG)])
    assert result['thing'] == {'pong': 'pong', 'params': {'title': 'T', 'project_id': None}, 'check_mode': False}
    assert result['changed'] is False
    assert 'diff' not in result


def test_missing_url_and_key_name_the_options(monkeypatch):
    monkeypatch.delenv('COCALC_API_URL', raising=False)
    monkeypatch.delenv('COCALC_API_KEY', raising=False)
    result = run_module(monkeypatch, module_running(pinging), {'api_url': OMIT, 'api_key': OMIT}, [])
    assert result.failed
    assert 'api_url' in result['msg'] and 'api_key' in result['msg']


def test_environment_supplies_connection_options(monkeypatch):
    monkeypatch.setenv('COCALC_API_URL', 'https://env.example.org')
    monkeypatch.setenv('COCALC_API_KEY', API_KEY)
    monkeypatch.setenv('COCALC_API_TIMEOUT', '12')
    result = run_module_success(monkeypatch, module_running(pinging), {'api_url': OMIT, 'api_key': OMIT}, [
        ApiCall('ping').expect_url('https://env.example.org/api/v1/ping').expect_timeout(12).reply(PONG),
    ])
    assert result['invocation']['module_args']['api_url'] == 'https://env.example.org'


def test_task_options_beat_environment(monkeypatch):
    # module_defaults reach the module as task options, so they beat the environment the same way.
    monkeypatch.setenv('COCALC_API_URL', 'https://env.example.org')
    monkeypatch.setenv('COCALC_API_KEY', 'sk_EnvironmentKeyNotUsed99')
    monkeypatch.setenv('COCALC_API_TIMEOUT', '12')
    run_module_success(monkeypatch, module_running(pinging), {'api_url': API_URL, 'api_key': API_KEY, 'api_timeout': 5}, [
        ApiCall('ping').expect_url(API_URL + '/api/v1/ping').expect_auth(API_KEY).expect_timeout(5).reply(PONG),
    ])


def test_defaults_apply_without_task_option_or_environment(monkeypatch):
    monkeypatch.delenv('COCALC_API_TIMEOUT', raising=False)
    result = run_module_success(monkeypatch, module_running(pinging), {}, [ApiCall('ping').expect_timeout(30).expect_verify(True).reply(PONG)])
    args = result['invocation']['module_args']
    assert (args['api_timeout'], args['api_retries'], args['validate_certs']) == (30, 3, True)


@pytest.mark.parametrize('args, fragment', [
    ({'api_url': 'cocalc.example.org'}, 'api_url must start with http:// or https://'),
    ({'api_timeout': 0}, 'api_timeout must be a positive number'),
    ({'api_retries': 50}, 'api_retries must be an integer between 0 and 20'),
])
def test_bad_connection_options_fail_cleanly(monkeypatch, args, fragment):
    result = run_module_failed(monkeypatch, module_running(pinging), args, [])
    assert fragment in result['msg']
    assert 'Traceback' not in result.text


def test_missing_requests_fails_with_missing_required_lib(monkeypatch):
    monkeypatch.setattr(_module, 'HAS_REQUESTS', False)
    result = run_module_failed(monkeypatch, module_running(pinging), {}, [])
    assert 'Failed to import the required Python library (requests)' in result['msg']


def test_plain_http_to_remote_host_warns(monkeypatch):
    result = run_module_success(monkeypatch, module_running(pinging), {'api_url': 'http://cocalc.example.org'}, [ApiCall('ping').reply(PONG)])
    assert any('unencrypted' in text for text in result.warnings)
    result = run_module_success(monkeypatch, module_running(pinging), {'api_url': 'http://127.0.0.1:5000'}, [ApiCall('ping').reply(PONG)])
    assert result.warnings == []


# ---- errors ----

def creating(client, params, check_mode):
    with attempting("create project '%s'" % params['title']):
        client.call('create_project', title=params['title'])
    return Outcome({'title': params['title']}, changed=True)


def test_api_error_becomes_readable_fail_json(monkeypatch):
    result = run_module_failed(monkeypatch, module_running(creating), {'title': 'Algebra'}, [
        ApiCall('create_project', {'title': 'Algebra'}).error("Failed to create new project 'Algebra' -- quota"),
    ])
    assert result['msg'] == ("Could not create project 'Algebra': API call 'create_project' failed (HTTP 200, event 'error'): "
                             "Failed to create new project 'Algebra' -- quota")
    assert result['api_error'] == {'endpoint': 'create_project', 'http_status': 200, 'event': 'error',
                                   'message': "Failed to create new project 'Algebra' -- quota"}
    assert 'exception' not in result


def test_key_never_in_failure_output(monkeypatch):
    result = run_module_failed(monkeypatch, module_running(creating), {'title': 'Algebra'}, [
        ApiCall('create_project', {'title': 'Algebra'}).reject('No account found. Is your API key wrong? (%s)' % API_KEY),
    ])
    assert API_KEY not in result.text
    assert result['invocation']['module_args']['api_key'] != API_KEY
    assert 'check api_key' in result['msg']


def test_input_error_fails_with_message(monkeypatch):
    def bad_input(client, params, check_mode):
        raise CocalcInputError('title must not contain a slash')
    result = run_module_failed(monkeypatch, module_running(bad_input), {}, [])
    assert result['msg'] == 'title must not contain a slash'
    assert 'api_error' not in result


def test_checks_validate_and_normalise_options(monkeypatch):
    result = run_module_success(monkeypatch, module_running(pinging, checks={'project_id': 'uuid'}), {'project_id': PID.upper()},
                                [ApiCall('ping').reply(PONG)])
    assert result['thing']['params']['project_id'] == PID
    result = run_module_failed(monkeypatch, module_running(pinging, checks={'project_id': 'uuid'}), {'project_id': 'nope'}, [])
    assert result['msg'].startswith("project_id must be a UUID")


# ---- check mode ----

def test_check_mode_write_attempt_fails_loudly_without_sending(monkeypatch):
    result = run_module_failed(monkeypatch, module_running(creating), {'title': 'Algebra'}, [], check_mode=True)
    assert result['msg'] == "internal error: API call 'create_project' would change the server in check mode"


def test_check_mode_reaches_resource_logic(monkeypatch):
    result = run_module_success(monkeypatch, module_running(pinging), {}, [ApiCall('ping').reply(PONG)], check_mode=True)
    assert result['thing']['check_mode'] is True


# ---- results and diff ----

def outcome_of(outcome):
    return lambda client, params, check_mode: outcome


def test_result_key_present_even_when_absent(monkeypatch):
    result = run_module_success(monkeypatch, module_running(outcome_of(Outcome(None, False))), {}, [])
    assert result['thing'] is None
    assert result['changed'] is False


def test_diff_only_changed_keys_and_no_secrets(monkeypatch):
    before = {'project_id': PID, 'title': 'Old', 'description': 'same', 'password': 'hunter22'}
    after = {'project_id': PID, 'title': 'New', 'description': 'same', 'password': 'hunter23', 'api_key': 'sk_x'}
    action = outcome_of(Outcome(after, True, before=before, after=after, added=[{'api_key': 'sk_y', 'id': 1}]))
    result = run_module_success(monkeypatch, module_running(action), {}, [], diff=True)
    assert result['diff'] == {'before': {'title': 'Old'}, 'after': {'title': 'New'}}
    assert result['thing'] == {'project_id': PID, 'title': 'New', 'description': 'same'}
    assert result['added'] == [{'id': 1}]
    assert result['changed'] is True


def test_no_diff_without_diff_mode(monkeypatch):
    action = outcome_of(Outcome({'t': 2}, True, before={'t': 1}, after={'t': 2}))
    result = run_module_success(monkeypatch, module_running(action), {}, [])
    assert 'diff' not in result


def test_ready_made_diff_is_used(monkeypatch):
    diff = {'before': 'a\n', 'after': 'b\n', 'before_header': 'x', 'after_header': 'x'}
    result = run_module_success(monkeypatch, module_running(outcome_of(Outcome({'path': 'x'}, True, diff=diff))), {}, [], diff=True)
    assert result['diff'] == diff


def test_diff_with_only_size_markers_is_kept(monkeypatch):
    # A binary file replaced by one too large to show: no text on either side, yet the diff says so.
    diff = {'dst_binary': 1, 'src_larger': 65536, 'before_header': 'x', 'after_header': 'x'}
    result = run_module_success(monkeypatch, module_running(outcome_of(Outcome({'path': 'x'}, True, diff=diff))), {}, [], diff=True)
    assert result['diff'] == diff


def test_empty_diff_is_left_out(monkeypatch):
    diff = {'before': '', 'after': '', 'before_header': 'x', 'after_header': 'x'}
    result = run_module_success(monkeypatch, module_running(outcome_of(Outcome({'path': 'x'}, False, diff=diff))), {}, [], diff=True)
    assert 'diff' not in result


def test_warnings_from_outcome_reach_the_user(monkeypatch):
    result = run_module_success(monkeypatch, module_running(outcome_of(Outcome(None, warnings=['careful']))), {}, [])
    assert 'careful' in result.warnings


def test_failure_after_partial_work_fails_with_the_result(monkeypatch):
    action = outcome_of(Outcome({'done': 3, 'api_key': 'sk_z'}, True, before={'n': 0}, after={'n': 3}, failure='2 of 5 failed: ...'))
    result = run_module_failed(monkeypatch, module_running(action), {}, [], diff=True)
    assert result['msg'] == '2 of 5 failed: ...'
    assert result['changed'] is True
    assert result['thing'] == {'done': 3}
    assert result['diff'] == {'before': {'n': 0}, 'after': {'n': 3}}


def test_result_of_is_the_module_result_without_exit():
    outcome = Outcome({'t': 2, 'password': 'x'}, True, before={'t': 1}, after={'t': 2}, extra_key=[1])
    assert result_of(outcome, 'thing', True) == {'changed': True, 'thing': {'t': 2}, 'extra_key': [1],
                                                 'diff': {'before': {'t': 1}, 'after': {'t': 2}}}
    assert result_of(outcome, 'thing', False) == {'changed': True, 'thing': {'t': 2}, 'extra_key': [1]}


# ---- pure helpers ----

def test_wanted_changes_ignores_unset_options_and_compares_maps_as_subsets():
    current = {'title': 'A', 'description': 'd', 'settings': {'memory': 1000, 'cores': 1}}
    assert wanted_changes(current, {'title': 'A', 'description': None, 'settings': {'cores': 1}}) == {}
    assert wanted_changes(current, {'title': 'B', 'settings': {'cores': 2, 'memory': None}}) == {'title': 'B', 'settings': {'cores': 2, 'memory': None}}
    assert wanted_changes(None, {'title': 'B'}) == {'title': 'B'}


def test_diff_changed_keys_for_create_and_delete():
    assert diff_changed_keys(None, {'a': 1, 'api_key': 'k'}) == {'before': {}, 'after': {'a': 1}}
    assert diff_changed_keys({'a': 1}, None) == {'before': {'a': 1}, 'after': {}}


def test_redact_secrets_is_deep_and_does_not_modify_input():
    value = {'a': [{'password': 'p', 'b': 1}], 'auth_token': 't'}
    assert redact_secrets(value) == {'a': [{'b': 1}]}
    assert value['auth_token'] == 't'


def test_validators_name_the_option():
    assert check_uuid(' ' + PID.upper(), 'project_id') == PID
    assert check_uuid([PID], 'account_ids') == [PID]
    with pytest.raises(CocalcInputError, match=r"^account_ids\[1\] must be a UUID"):
        check_uuid([PID, 'x'], 'account_ids')
    assert check_email(' ada@example.org ', 'email') == 'ada@example.org'
    for bad in ['ada', 'ada@example', 'a,b@example.org', 'a b@example.org', '@example.org', 5]:
        with pytest.raises(CocalcInputError, match='^email must be one email address'):
            check_email(bad, 'email')
    assert check_non_empty('x', 'title') == 'x'
    with pytest.raises(CocalcInputError, match='^title must be a non-empty string'):
        check_non_empty('  ', 'title')
