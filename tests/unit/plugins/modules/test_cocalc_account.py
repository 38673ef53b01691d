# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_account with the fake transport: the exact calls of each path."""

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_account
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, ApiCall, run_module_failed, run_module_success

ME = '5134e292-3608-4e27-b5d1-645b92dc67fd'
CAROL = 'a80ae000-76a1-4793-acf3-84826895f49b'
PASSWORD = 'carol-pass-12345'
NEW_PASSWORD = 'alice-new-pass-987'
OLD_PASSWORD = 'alice-old-pass-123'
WHO_QUERY = {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None, 'groups': None}}}
ALICE = {'account_id': ME, 'email': 'alice@example.com', 'first_name': 'Alice', 'last_name': 'Tester'}
CAROL_VIEW = {'account_id': CAROL, 'email': 'carol@example.com', 'first_name': 'Carol', 'last_name': 'Created'}


def whoami(email='alice@example.com', first_name='Alice'):
    return ApiCall('query', WHO_QUERY).reply({'event': 'query', 'multi_response': False, 'query': {'accounts': {
        'account_id': ME, 'email_address': email, 'first_name': first_name, 'last_name': 'Tester', 'groups': None}}})


def search(email, rows):
    return ApiCall('user_search', {'query': email, 'limit': 1}).reply({'event': 'user_search_results', 'results': rows})


CAROL_ROW = {'account_id': CAROL, 'first_name': 'Carol', 'last_name': 'Created', 'name': None, 'email_address': 'carol@example.com',
             'last_active': None, 'created': 1795767313473, 'email_address_verified': None}


def create(first_name='Carol', last_name='Created'):
    return ApiCall('create_account', {'first_name': first_name, 'last_name': last_name, 'email_address': 'carol@example.com',
                                      'password': PASSWORD, 'agreed_to_terms': True})


CREATE_ARGS = {'email': 'carol@example.com', 'first_name': 'Carol', 'last_name': 'Created', 'password': PASSWORD}


# ---- other accounts: create, leave alone ----

def test_create(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, CREATE_ARGS, [
        whoami(), search('carol@example.com', []),
        create().reply({'event': 'account_created', 'id': 'x', 'account_id': CAROL}),
    ])
    assert result['changed'] is True
    assert result['account'] == CAROL_VIEW
    assert PASSWORD not in result.text
    assert API_KEY not in result.text


def test_existing_account_is_not_touched(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, dict(CREATE_ARGS, email='Carol@Example.com'), [
        whoami(), search('carol@example.com', [CAROL_ROW]),
    ])
    assert result['changed'] is False
    assert result['account'] == CAROL_VIEW
    assert result.warnings == []
    assert 'password_changed' not in result


def test_other_accounts_differing_names_are_a_warning_not_a_change(monkeypatch):
    args = {'email': 'carol@example.com', 'first_name': 'Caroline', 'password': PASSWORD, 'update_password': 'always'}
    result = run_module_success(monkeypatch, cocalc_account, args, [whoami(), search('carol@example.com', [CAROL_ROW])])
    assert result['changed'] is False
    assert result.warnings == [
        "first_name of account carol@example.com is 'Carol', not 'Caroline'; the API only lets an account change its own names, "
        "so it was left as it is",
        'the password of carol@example.com was not changed: the API only lets an account change its own password',
    ]


def test_create_without_names_sends_empty_names(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'carol@example.com', 'password': PASSWORD}, [
        whoami(), search('carol@example.com', []),
        create('', '').reply({'event': 'account_created', 'account_id': CAROL}),
    ])
    assert result['account'] == dict(CAROL_VIEW, first_name='', last_name='')


def test_create_needs_a_password(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_account, {'email': 'carol@example.com'}, [whoami(), search('carol@example.com', [])])
    assert result['msg'] == 'password is required to create the account carol@example.com'


@pytest.mark.parametrize('reason, text', [
    ({'email_address': 'This e-mail address is already taken.'}, 'email: This e-mail address is already taken.'),
    ({'first_name': 'Enter your first name.', 'last_name': 'Enter your last name.'},
     'first_name: Enter your first name.; last_name: Enter your last name.'),
    ({'other': 'Signing up via email/password is disabled.'}, 'other: Signing up via email/password is disabled.'),
])
def test_creation_failure_names_the_option(monkeypatch, reason, text):
    result = run_module_failed(monkeypatch, cocalc_account, CREATE_ARGS, [
        whoami(), search('carol@example.com', []),
        create().reply({'event': 'account_creation_failed', 'id': 'x', 'reason': reason}),
    ])
    assert result['msg'] == ("Could not create the account carol@example.com: API call 'create_account' failed "
                             "(HTTP 200, event 'account_creation_failed'): %s" % text)
    assert result['api_error']['event'] == 'account_creation_failed'
    assert PASSWORD not in result.text


def test_check_mode_create(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, CREATE_ARGS, [whoami(), search('carol@example.com', [])],
                                check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['account'] == dict(CAROL_VIEW, account_id=None)
    # account_id is None before and after, so the diff leaves it out.
    assert result['diff'] == {'before': {}, 'after': {'email': 'carol@example.com', 'first_name': 'Carol', 'last_name': 'Created'}}


def test_check_mode_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, CREATE_ARGS, [whoami(), search('carol@example.com', [CAROL_ROW])],
                                check_mode=True, diff=True)
    assert result['changed'] is False
    assert 'diff' not in result


# ---- the key's own account ----

def test_own_names_are_updated_with_a_query_set(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'ALICE@example.com', 'first_name': 'Alicia'}, [
        whoami(),
        ApiCall('query', {'query': {'accounts': {'first_name': 'Alicia'}}}).reply({'event': 'query', 'query': {}}),
    ], diff=True)
    assert result['changed'] is True
    assert result['account'] == dict(ALICE, first_name='Alicia')
    assert result['diff'] == {'before': {'first_name': 'Alice'}, 'after': {'first_name': 'Alicia'}}
    assert result['password_changed'] is False


def test_own_names_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'alice@example.com', 'first_name': 'Alice', 'last_name': 'Tester'},
                                [whoami()])
    assert result['changed'] is False
    assert result['account'] == ALICE


def test_check_mode_own_names(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'alice@example.com', 'last_name': 'Lovelace'}, [whoami()],
                                check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['diff'] == {'before': {'last_name': 'Tester'}, 'after': {'last_name': 'Lovelace'}}


def test_own_password_always(monkeypatch):
    args = {'email': 'alice@example.com', 'password': NEW_PASSWORD, 'old_password': OLD_PASSWORD, 'update_password': 'always'}
    result = run_module_success(monkeypatch, cocalc_account, args, [
        whoami(),
        ApiCall('change_password', {'account_id': ME, 'old_password': OLD_PASSWORD, 'new_password': NEW_PASSWORD})
        .reply({'event': 'changed_password', 'id': 'x'}),
    ])
    assert result['changed'] is True
    assert result['password_changed'] is True
    assert NEW_PASSWORD not in result.text and OLD_PASSWORD not in result.text


def test_own_password_on_a_guide_era_server(monkeypatch):
    args = {'email': 'alice@example.com', 'password': NEW_PASSWORD, 'update_password': 'always'}
    result = run_module_success(monkeypatch, cocalc_account, args, [
        whoami(),
        ApiCall('change_password', {'account_id': ME, 'old_password': '', 'new_password': NEW_PASSWORD})
        .reject("invalid parameters 'Error: misc.defaults -- TypeError: property 'email_address' must be specified: '"),
        ApiCall('change_password', {'email_address': 'alice@example.com', 'old_password': '', 'new_password': NEW_PASSWORD})
        .reply({'event': 'changed_password', 'id': 'x'}),
    ])
    assert result['password_changed'] is True


def test_own_password_on_a_server_without_change_password(monkeypatch):
    args = {'email': 'alice@example.com', 'password': NEW_PASSWORD, 'update_password': 'always'}
    result = run_module_failed(monkeypatch, cocalc_account, args, [
        whoami(),
        ApiCall('change_password', {'account_id': ME, 'old_password': '', 'new_password': NEW_PASSWORD})
        .reject("unknown endpoint 'change_password'"),
    ])
    assert result['msg'] == (
        "Could not change the password of the account of the API key: API call 'change_password' failed (HTTP 400): "
        "unknown endpoint 'change_password' (CoCalc removed change_password from API v1 in March 2024; this server is newer "
        "than that); set the password in the CoCalc web interface instead, or use update_password=on_create")


@pytest.mark.parametrize('error, text', [
    ('invalid old password', 'old_password is not the current password of the account'),
    ({'new_password': 'Password must be between 6 and 64 characters in length.'},
     'password: Password must be between 6 and 64 characters in length.'),
])
def test_own_password_failure_names_the_option(monkeypatch, error, text):
    args = {'email': 'alice@example.com', 'password': NEW_PASSWORD, 'old_password': OLD_PASSWORD, 'update_password': 'always'}
    result = run_module_failed(monkeypatch, cocalc_account, args, [
        whoami(),
        ApiCall('change_password', {'account_id': ME, 'old_password': OLD_PASSWORD, 'new_password': NEW_PASSWORD})
        .reply({'event': 'changed_password', 'id': 'x', 'error': error}),
    ])
    assert result['msg'].endswith("failed (HTTP 200, event 'changed_password'): %s" % text)
    assert NEW_PASSWORD not in result.text


def test_own_password_on_create_is_not_changed(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'alice@example.com', 'password': NEW_PASSWORD}, [whoami()])
    assert result['changed'] is False
    assert result['password_changed'] is False


def test_new_email(monkeypatch):
    args = {'email': 'alice@example.com', 'new_email': 'Ada@example.com', 'password': OLD_PASSWORD}
    result = run_module_success(monkeypatch, cocalc_account, args, [
        whoami(),
        ApiCall('change_email_address', {'account_id': ME, 'new_email_address': 'Ada@example.com', 'password': OLD_PASSWORD})
        .reply({'event': 'changed_email_address', 'id': 'x', 'error': False}),
    ], diff=True)
    assert result['changed'] is True
    assert result['account'] == dict(ALICE, email='ada@example.com')
    assert result['diff'] == {'before': {'email': 'alice@example.com'}, 'after': {'email': 'ada@example.com'}}


def test_new_email_rerun_finds_the_moved_account(monkeypatch):
    args = {'email': 'alice@example.com', 'new_email': 'ada@example.com', 'password': OLD_PASSWORD}
    result = run_module_success(monkeypatch, cocalc_account, args, [whoami(email='ada@example.com')])
    assert result['changed'] is False
    assert result['account']['email'] == 'ada@example.com'


@pytest.mark.parametrize('error, text', [
    ('invalid_password', 'password is not the current password of the account'),
    ('email_already_taken', 'new_email is already the address of an account'),
    ('email_invalid', 'the server does not accept new_email as an email address'),
])
def test_new_email_failure_names_the_option(monkeypatch, error, text):
    args = {'email': 'alice@example.com', 'new_email': 'bob@example.com', 'password': OLD_PASSWORD}
    result = run_module_failed(monkeypatch, cocalc_account, args, [
        whoami(),
        ApiCall('change_email_address', {'account_id': ME, 'new_email_address': 'bob@example.com', 'password': OLD_PASSWORD})
        .reply({'event': 'changed_email_address', 'id': 'x', 'error': error}),
    ])
    assert result['msg'] == ("Could not change the email address of the account of the API key to bob@example.com: API call "
                             "'change_email_address' failed (HTTP 200, event 'changed_email_address'): %s" % text)


def test_new_email_for_another_account_fails(monkeypatch):
    args = {'email': 'carol@example.com', 'new_email': 'caroline@example.com', 'password': PASSWORD}
    result = run_module_failed(monkeypatch, cocalc_account, args, [whoami(), search('carol@example.com', [CAROL_ROW])])
    assert "new_email can only change the address of the API key's own account" in result['msg']


# ---- absent ----

def test_delete(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'carol@example.com', 'state': 'absent'}, [
        whoami(), search('carol@example.com', [CAROL_ROW]),
        ApiCall('delete_account', {'account_id': CAROL}).reply({'event': 'account_deleted', 'id': 'x'}),
    ], diff=True)
    assert result['changed'] is True
    assert result['account'] is None
    assert result['diff'] == {'before': CAROL_VIEW, 'after': {}}


def test_delete_missing_makes_no_call(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'carol@example.com', 'state': 'absent'}, [
        whoami(), search('carol@example.com', []),
    ])
    assert result['changed'] is False
    assert result['account'] is None


def test_check_mode_delete(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account, {'email': 'carol@example.com', 'state': 'absent'}, [
        whoami(), search('carol@example.com', [CAROL_ROW]),
    ], check_mode=True)
    assert result['changed'] is True


def test_delete_on_a_server_without_delete_account(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_account, {'email': 'carol@example.com', 'state': 'absent'}, [
        whoami(), search('carol@example.com', [CAROL_ROW]),
        ApiCall('delete_account', {'account_id': CAROL}).reject("endpoint 'delete_account' is not part of the HTTP API"),
    ])
    assert result['msg'] == (
        "Could not delete the account carol@example.com: API call 'delete_account' failed (HTTP 400): endpoint 'delete_account' "
        "is not part of the HTTP API (CoCalc removed delete_account from API v1 in May 2019; this server is newer than that); "
        "delete the account in the CoCalc admin interface instead")
    assert result['api_error']['http_status'] == 400


# ---- bad input: no call at all ----

@pytest.mark.parametrize('args, fragment', [
    ({'email': 'not-an-address', 'password': PASSWORD}, "email must be one email address like ada@example.org, got 'not-an-address'"),
    ({'email': ''}, 'email must be one email address'),
    ({'email': 'carol@example.com', 'first_name': {'a': 1}}, 'first_name must be a string, got a dict'),
    ({'email': 'carol@example.com', 'first_name': 'Ca\nrol'}, 'first_name must be one line'),
    ({'email': 'carol@example.com', 'last_name': ['a']}, 'last_name must be a string, got a list'),
    ({'email': 'carol@example.com', 'first_name': ' '}, 'first_name must be a non-empty string'),
    ({'email': 'carol@example.com', 'first_name': 'x' * 255}, 'first_name must be at most 254 characters, got 255'),
    ({'email': 'carol@example.com', 'password': 'short'}, 'password must be between 6 and 64 characters long'),
    ({'email': 'carol@example.com', 'new_email': 'x@example.com'}, "new_email needs password (the account's current password)"),
    ({'email': 'carol@example.com', 'new_email': 'nope', 'password': PASSWORD}, 'new_email must be one email address'),
    ({'email': 'carol@example.com', 'new_email': 'x@example.com', 'password': PASSWORD, 'update_password': 'always'},
     'cannot be combined with update_password=always'),
    ({'email': 'carol@example.com', 'new_email': 'CAROL@example.com', 'password': PASSWORD}, 'new_email is the same address as email'),
    ({'email': 'carol@example.com', 'state': 'absent', 'first_name': 'C'}, 'first_name cannot be used with state=absent'),
    ({'email': 'carol@example.com', 'old_password': PASSWORD}, 'old_password is only used with update_password=always'),
    ({'email': 'carol@example.com', 'update_password': 'sometimes'}, 'value of update_password must be one of: on_create, always'),
    ({'first_name': 'C'}, 'missing required arguments: email'),
])
def test_bad_input_fails_before_any_call(monkeypatch, args, fragment):
    result = run_module_failed(monkeypatch, cocalc_account, args, [])
    assert fragment in result['msg']
    assert PASSWORD not in result.text
