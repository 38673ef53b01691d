# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_account_info with the fake transport."""

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_account_info
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, ApiCall, run_module_failed, run_module_success

ME_ID = '5134e292-3608-4e27-b5d1-645b92dc67fd'
BOB_ID = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'
ME = {'account_id': ME_ID, 'email_address': 'alice@example.com', 'first_name': 'Alice', 'last_name': 'Tester', 'groups': None}
WHO_QUERY = {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None, 'groups': None}}}
# A user_search row as the 2024 hub returns it for an email query.
BOB_ROW = {'account_id': BOB_ID, 'first_name': 'Bob', 'last_name': 'Builder', 'name': None, 'email_address': 'bob@example.com',
           'last_active': None, 'created': 1795767313473, 'email_address_verified': None}
BOB = {'account_id': BOB_ID, 'first_name': 'Bob', 'last_name': 'Builder', 'email_address': 'bob@example.com'}


def whoami(me=None):
    return ApiCall('query', WHO_QUERY).reply({'event': 'query', 'multi_response': False, 'query': {'accounts': me or ME} if me != {} else {}})


def search(query, limit, rows):
    return ApiCall('user_search', {'query': query, 'limit': limit}).reply({'event': 'user_search_results', 'results': rows})


def test_no_options_returns_me(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {}, [whoami()])
    assert result['me'] == ME
    assert result['accounts'] == []
    assert result['not_found'] == []
    assert result['changed'] is False


def test_project_key_has_no_me(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {}, [whoami({})])
    assert result['me'] is None


def test_single_email_string(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {'email': 'Bob@Example.com'}, [
        whoami(), search('bob@example.com', 1, [BOB_ROW]),
    ])
    assert result['accounts'] == [BOB]
    assert result['not_found'] == []


def test_email_list_with_misses_and_duplicates(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {'email': ['bob@example.com', 'nobody@example.com', 'BOB@example.com']}, [
        whoami(), search('bob@example.com,nobody@example.com', 2, [BOB_ROW]),
    ])
    assert result['accounts'] == [BOB]
    assert result['not_found'] == ['nobody@example.com']


def test_many_emails_are_looked_up_in_one_call(monkeypatch):
    emails = ['s%02d@ex.org' % n for n in range(60)]
    result = run_module_success(monkeypatch, cocalc_account_info, {'email': emails}, [
        whoami(),
        search(','.join(emails), 60, [{'account_id': 'id-0', 'first_name': 'S', 'last_name': '0', 'email_address': emails[0]},
                                      {'account_id': 'id-59', 'first_name': 'S', 'last_name': '59', 'email_address': emails[59]}]),
    ])
    assert [a['account_id'] for a in result['accounts']] == ['id-0', 'id-59']
    assert len(result['not_found']) == 58


def test_account_ids_via_get_usernames(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {'account_ids': [BOB_ID.upper(), UNKNOWN_ID]}, [
        whoami(),
        ApiCall('get_usernames', {'account_ids': [BOB_ID, UNKNOWN_ID]})
        .reply({'event': 'usernames', 'usernames': {BOB_ID: {'first_name': 'Bob', 'last_name': 'Builder'}, UNKNOWN_ID: {}}}),
    ])
    assert result['accounts'] == [{'account_id': BOB_ID, 'first_name': 'Bob', 'last_name': 'Builder'}]
    assert result['not_found'] == [UNKNOWN_ID]


def test_account_ids_on_server_without_get_usernames(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {'account_ids': [BOB_ID]}, [
        whoami(),
        ApiCall('get_usernames', {'account_ids': [BOB_ID]}).reject("unknown endpoint 'get_usernames'"),
        search(BOB_ID, 1, [dict(BOB_ROW, email_address=None)]),
    ])
    assert result['accounts'] == [{'account_id': BOB_ID, 'first_name': 'Bob', 'last_name': 'Builder'}]


def test_email_and_id_of_same_account_merge(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {'email': 'bob@example.com', 'account_ids': [BOB_ID]}, [
        whoami(),
        search('bob@example.com', 1, [BOB_ROW]),
        ApiCall('get_usernames', {'account_ids': [BOB_ID]}).reply({'event': 'usernames', 'usernames': {BOB_ID: {'first_name': 'Bob', 'last_name': 'B.'}}}),
    ])
    assert result['accounts'] == [dict(BOB, last_name='B.')]


def test_name_search(monkeypatch):
    alice_row = {'account_id': ME_ID, 'first_name': 'Alice', 'last_name': 'Tester', 'name': None, 'last_active': 1795767413880}
    result = run_module_success(monkeypatch, cocalc_account_info, {'name': 'bob builder'}, [
        whoami(),
        search('bob builder', 50, [dict(BOB_ROW, email_address=None), alice_row]),
    ])
    assert result['accounts'] == [{'account_id': BOB_ID, 'first_name': 'Bob', 'last_name': 'Builder'},
                                  {'account_id': ME_ID, 'first_name': 'Alice', 'last_name': 'Tester'}]


def test_check_mode_makes_the_same_read_calls(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_account_info, {'email': 'bob@example.com'}, [
        whoami(), search('bob@example.com', 1, [BOB_ROW]),
    ], check_mode=True)
    assert result['accounts'] == [BOB]


@pytest.mark.parametrize('args, fragment', [
    ({'email': ['bob@example.com', 'not-an-address']}, "email[1] must be one email address like ada@example.org, got 'not-an-address'"),
    ({'email': 'a@b.c;d@e.f'}, 'email[0] must be one email address'),
    ({'account_ids': ['nope']}, "account_ids[0] must be a UUID"),
    ({'name': '   '}, 'name must be a non-empty string'),
    ({'name': 'bob@example.com'}, 'use email to look up the address'),
])
def test_bad_input_fails_before_any_lookup(monkeypatch, args, fragment):
    result = run_module_failed(monkeypatch, cocalc_account_info, args, [])
    assert fragment in result['msg']


def test_server_error_is_reported_with_context(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_account_info, {'email': 'bob@example.com'}, [
        whoami(),
        ApiCall('user_search', {'query': 'bob@example.com', 'limit': 1}).error('You must be signed in to search for users.'),
    ])
    assert result['msg'] == ("Could not look up accounts by email: API call 'user_search' failed (HTTP 200, event 'error'): "
                             "You must be signed in to search for users. (the server did not recognise the key as an account; "
                             "check api_key / COCALC_API_KEY)")
    assert result['api_error']['event'] == 'error'


def test_wrong_key_fails_without_showing_it(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_account_info, {}, [
        ApiCall('query', WHO_QUERY).reject('No account found. Is your API key wrong?'),
    ])
    assert result['msg'].startswith("Could not read the account of the API key: API call 'query' failed (HTTP 400)")
    assert 'check api_key' in result['msg']
    assert API_KEY not in result.text


def test_server_without_api_v1(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_account_info, {}, [
        ApiCall('query', WHO_QUERY).reject("unknown message event type 'query'"),
    ])
    assert 'does not speak CoCalc API v1' in result['msg']
    assert result['api_error']['http_status'] == 400
