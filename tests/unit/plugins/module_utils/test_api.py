# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of CocalcClient against the fake transport (exact calls, canned answers)."""

from __future__ import annotations

import email.utils
import json
import os
import re
import time
from unittest.mock import ANY

import pytest
import requests

from ansible_collections.cocalc.cocalc.plugins.module_utils import _api
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import ERROR_KINDS, CocalcApiError, CocalcCheckModeError, ProjectNotReady, attempting
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, API_URL, ApiCall, FakeCocalc

PID = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
AID = '25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3'
PONG = {'event': 'pong', 'id': 'x', 'now': '2024-09-12T00:00:00.000Z'}


def pong():
    return ApiCall('ping').reply(PONG)


def failing_call(monkeypatch, calls, action, **client_kwargs):
    """Run action(client), expect CocalcApiError, check every expected call was made; return the error."""
    fake = FakeCocalc(monkeypatch, calls)
    client = fake.client(**client_kwargs)
    with pytest.raises(CocalcApiError) as info:
        action(client)
    fake.assert_done()
    return info.value, fake


def assert_key_absent(error):
    for text in (str(error), repr(error), json.dumps(error.as_dict()), repr(error.body), error.message):
        assert API_KEY not in text


# ---- transport basics ----

def test_ping_sends_exact_request(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong()])
    assert fake.client().ping() == PONG
    fake.assert_done()
    seen = fake.requests[0]
    assert seen['url'] == API_URL + '/api/v1/ping'
    assert seen['method'] == 'POST'
    assert seen['raw_body'] == b'{}'
    assert seen['user_agent'] == 'cocalc.cocalc/%s (+ansible)' % _api.COLLECTION_VERSION


def test_key_is_basic_auth_user_with_empty_password(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong()])
    fake.client().ping()
    seen = fake.requests[0]
    assert seen['authorization'].startswith('Basic ')
    assert (seen['auth_user'], seen['auth_password']) == (API_KEY, '')


def test_tls_verification_is_on_by_default(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong().expect_verify(True)])
    client = _api.CocalcClient(API_URL, API_KEY)
    client.ping()
    fake.assert_done()
    assert fake.requests[0]['verify'] is True


def test_validate_certs_false_reaches_requests(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong().expect_verify(False)])
    fake.client(validate_certs=False).ping()
    fake.assert_done()


def test_default_timeout_and_per_call_override(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        pong().expect_timeout(_api.DEFAULT_TIMEOUT),
        ApiCall('project_exec', {'project_id': PID, 'command': 'sleep 40', 'timeout': 40})
        .expect_timeout(50).reply({'event': 'project_exec_output', 'stdout': '', 'stderr': '', 'exit_code': 0}),
    ])
    client = _api.CocalcClient(API_URL, API_KEY)
    client.ping()
    out = client.call('project_exec', {'project_id': PID, 'command': 'sleep 40', 'timeout': 40}, request_timeout=50)
    assert out['exit_code'] == 0
    fake.assert_done()


def test_api_timeout_reaches_requests(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong().expect_timeout(7)])
    fake.client(timeout=7).ping()
    fake.assert_done()


def test_body_from_keywords_and_dict_are_merged(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('invite_collaborator', {'project_id': PID, 'account_id': AID}).reply({'event': 'success'}),
    ])
    fake.client().call('invite_collaborator', {'project_id': PID}, account_id=AID)
    fake.assert_done()


def test_trailing_slash_and_api_path_in_url_are_normalised(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong(), pong()])
    _api.CocalcClient(API_URL + '/', API_KEY).ping()
    _api.CocalcClient(API_URL + '/api/v1/', API_KEY).ping()
    fake.assert_done()


def test_user_agent_version_matches_galaxy_yml():
    galaxy = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'galaxy.yml')
    with open(galaxy) as handle:
        version = re.search(r'^version:\s*(\S+)', handle.read(), re.M).group(1)
    assert _api.COLLECTION_VERSION == version


@pytest.mark.parametrize('kwargs, fragment', [
    (dict(api_url='cocalc.example.org'), 'api_url must start with http:// or https://'),
    (dict(api_url=''), 'api_url must be the base URL'),
    (dict(api_url='https://user:pw@cocalc.example.org'), 'api_url must not contain credentials'),
    (dict(api_key=' '), 'api_key must be a non-empty string'),
    (dict(timeout=0), 'api_timeout must be a positive number'),
    (dict(retries=-1), 'api_retries must be an integer between 0 and 20'),
    (dict(retries=100), 'api_retries must be an integer between 0 and 20'),
])
def test_bad_connection_options_name_the_option(kwargs, fragment):
    api_url = kwargs.pop('api_url', API_URL)
    api_key = kwargs.pop('api_key', API_KEY)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        _api.CocalcClient(api_url, api_key, **kwargs)


# ---- both error channels and the special failure events ----

def test_http_400_error_channel(monkeypatch):
    text = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'foo' '"
    err, _fake = failing_call(monkeypatch, [ApiCall('ping', {'foo': 1}).reject(text)], lambda c: c.call('ping', foo=1))
    assert (err.endpoint, err.http_status, err.event, err.message) == ('ping', 400, None, text)
    assert err.unexpected_argument == 'foo'
    assert str(err) == "API call 'ping' failed (HTTP 400): " + text


def test_http_200_event_error_channel(monkeypatch):
    text = 'FATAL: user get query not allowed for accounts.api_key'
    query = {'accounts': {'api_key': None}}
    err, _fake = failing_call(monkeypatch, [ApiCall('query', {'query': query}).error(text)], lambda c: c.query(query))
    assert (err.http_status, err.event, err.message) == (200, 'error', text)
    assert err.unexpected_argument is None
    assert err.as_dict() == dict(endpoint='query', http_status=200, event='error', message=text)


def test_error_event_without_text_still_fails(monkeypatch):
    err, _fake = failing_call(monkeypatch, [ApiCall('ping').reply({'event': 'error', 'error': {}})], lambda c: c.ping())
    assert err.event == 'error'
    assert 'without details' in err.message


def test_account_creation_failed_is_a_failure(monkeypatch):
    body = {'email_address': 'ada@example.org', 'password': 'secret-pw', 'first_name': 'A', 'last_name': 'L'}
    reply = {'event': 'account_creation_failed', 'id': 'x',
             'reason': {'email_address': 'This e-mail address is already taken.', 'password': 'Password too short.'}}
    err, _fake = failing_call(monkeypatch, [ApiCall('create_account', body).reply(reply)],
                              lambda c: c.call('create_account', body))
    assert err.event == 'account_creation_failed'
    assert err.message == 'email_address: This e-mail address is already taken.; password: Password too short.'


@pytest.mark.parametrize('endpoint, event, error, message', [
    ('change_email_address', 'changed_email_address', 'email_already_taken', 'email_already_taken'),
    ('change_password', 'changed_password', {'new_password': 'Password must be between 6 and 64 characters in length.'},
     '{"new_password": "Password must be between 6 and 64 characters in length."}'),
    ('forgot_password', 'forgot_password_response', 'No account with e-mail address x@example.org',
     'No account with e-mail address x@example.org'),
])
def test_truthy_error_field_in_success_event_is_a_failure(monkeypatch, endpoint, event, error, message):
    err, _fake = failing_call(monkeypatch, [ApiCall(endpoint).reply({'event': event, 'error': error})],
                              lambda c: c.call(endpoint))
    assert (err.event, err.message) == (event, message)


def test_false_error_field_is_success(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('change_email_address').reply({'event': 'changed_email_address', 'error': False})])
    assert fake.client().call('change_email_address')['event'] == 'changed_email_address'
    fake.assert_done()


# ---- non-JSON answers ----

@pytest.mark.parametrize('status, body, content_type, fragments', [
    (404, '<!DOCTYPE html><html><body><pre>Cannot POST /api/v1/ping</pre></body></html>', 'text/html; charset=utf-8',
     ['HTTP 404', 'text/html', 'Cannot POST /api/v1/ping', 'is api_url the base URL']),
    (413, '<html><body>Payload Too Large</body></html>', 'text/html', ['HTTP 413', 'Payload Too Large', 'request body was 2 bytes']),
    (500, 'Internal Server Error', 'text/plain', ['HTTP 500', 'text/plain', 'Internal Server Error']),
    (200, '', None, ['HTTP 200', 'no content type', '(empty body)']),
    (200, '[1, 2]', 'application/json', ['HTTP 200', 'expected a JSON object']),
])
def test_non_json_answers_give_clear_message(monkeypatch, status, body, content_type, fragments):
    # retries=0: the message is under test here (a 5xx page or a 200 non-object is retried, see RETRY_POLICY).
    err, _fake = failing_call(monkeypatch, [ApiCall('ping').raw(body, status, content_type)], lambda c: c.ping(), retries=0)
    assert err.http_status == status
    assert err.event is None
    for fragment in fragments:
        assert fragment in str(err)
    assert "API call 'ping'" in str(err)
    assert '<' not in err.message.split(':', 1)[1]  # HTML tags stripped


def test_long_html_answer_is_shortened(monkeypatch):
    err, _fake = failing_call(monkeypatch, [ApiCall('ping').raw('<p>' + 'x' * 5000 + '</p>', 404)], lambda c: c.ping())
    assert len(err.message) < 400


# ---- servers without API v1 ----

@pytest.mark.parametrize('text', [
    "unknown endpoint 'query'",
    "unknown message event type 'query'",
    "endpoint 'query' is not part of the HTTP API",
])
def test_unknown_basic_endpoint_says_server_lacks_api_v1(monkeypatch, text):
    query = {'accounts': {'account_id': None}}
    err, _fake = failing_call(monkeypatch, [ApiCall('query', {'query': query}).reject(text)], lambda c: c.query(query))
    assert err.unknown_endpoint
    assert 'does not speak CoCalc API v1' in str(err)
    assert 'cocalc.com removed API v1 in 2025' in str(err)


def test_unknown_endpoint_for_removed_endpoint_names_the_removal(monkeypatch):
    err, _fake = failing_call(monkeypatch, [ApiCall('create_account', {}).reject("unknown endpoint 'create_account'")],
                              lambda c: c.call('create_account'))
    assert err.unknown_endpoint
    assert 'CoCalc removed create_account from API v1 in October 2024' in str(err)


def test_unknown_endpoint_outside_api_v1_is_named_as_such(monkeypatch):
    err, _fake = failing_call(monkeypatch, [ApiCall('no_such_thing').reject("unknown endpoint 'no_such_thing'")],
                              lambda c: c.call('no_such_thing'))
    assert err.unknown_endpoint
    assert err.message == "unknown endpoint 'no_such_thing' (no_such_thing is not an endpoint of CoCalc API v1)"


def test_unknown_endpoint_text_about_another_endpoint_is_not_flagged(monkeypatch):
    err, _fake = failing_call(monkeypatch, [pong().reject("unknown endpoint 'v1'")], lambda c: c.ping())
    assert not err.unknown_endpoint


@pytest.mark.parametrize('text', ['No account found. Is your API key wrong?', 'error: value "9562950446" is out of range for type integer'])
def test_bad_key_answers_get_a_hint(monkeypatch, text):
    err, _fake = failing_call(monkeypatch, [pong().reject(text)], lambda c: c.ping())
    assert err.message == text + ' (check api_key / COCALC_API_KEY)'


@pytest.mark.parametrize('text', ["FATAL: anonymous get queries not allowed for table 'accounts'",
                                  'You must be signed in to search for users.'])
def test_anonymous_answers_of_old_servers_get_a_key_hint(monkeypatch, text):
    err, _fake = failing_call(monkeypatch, [pong().error(text)], lambda c: c.ping())
    assert err.message == text + ' (the server did not recognise the key as an account; check api_key / COCALC_API_KEY)'


# ---- retries ----

def test_connection_error_is_retried_with_backoff(monkeypatch):
    refused = requests.exceptions.ConnectionError('[Errno 111] Connection refused')
    fake = FakeCocalc(monkeypatch, [pong().raises(refused), pong().raises(refused), pong()])
    assert fake.client().ping() == PONG
    fake.assert_done()
    assert len(fake.sleeps) == 2
    assert 0.5 <= fake.sleeps[0] <= 1.0
    assert 1.0 <= fake.sleeps[1] <= 2.0


def test_connect_timeout_is_retried(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong().raises(requests.exceptions.ConnectTimeout('connect timed out')), pong()])
    fake.client().ping()
    fake.assert_done()


def test_retries_are_bounded_and_reported(monkeypatch):
    refused = requests.exceptions.ConnectionError('HTTPSConnectionPool(...): (Caused by NewConnectionError(\'...: '
                                                  '[Errno 111] Connection refused\'))')
    err, fake = failing_call(monkeypatch, [pong().raises(refused)] * 3, lambda c: c.ping(), retries=2)
    assert err.http_status is None
    assert str(err) == ("API call 'ping' failed (no answer): could not connect to %s/api/v1/ping: "
                        "[Errno 111] Connection refused (after 2 retries)" % API_URL)
    assert len(fake.sleeps) == 2


def test_backoff_is_capped(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong().raw('busy', 503)] * 9 + [pong()])
    fake.client(retries=9).ping()
    fake.assert_done()
    assert max(fake.sleeps) <= _api.BACKOFF_CAP
    assert fake.sleeps[-1] >= _api.BACKOFF_CAP / 2


@pytest.mark.parametrize('status', [429, 502, 503, 504])
def test_transient_statuses_are_retried(monkeypatch, status):
    fake = FakeCocalc(monkeypatch, [pong().raw('<html>try later</html>', status), pong()])
    assert fake.client().ping() == PONG
    fake.assert_done()
    assert len(fake.sleeps) == 1


@pytest.mark.parametrize('status', [400, 404, 413])
def test_other_statuses_are_not_retried(monkeypatch, status):
    err, fake = failing_call(monkeypatch, [pong().raw('nope', status)], lambda c: c.ping())
    assert err.http_status == status
    assert fake.sleeps == []


def test_a_json_error_500_is_the_hubs_word_and_not_retried(monkeypatch):
    err, fake = failing_call(monkeypatch, [pong().reply({'error': 'boom'}, status=500)], lambda c: c.ping())
    assert err.http_status == 500 and err.failure is None and not err.may_have_run
    assert fake.sleeps == []


def test_retry_after_seconds_is_honoured(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong().reply({'error': 'slow down'}, status=429, headers={'Retry-After': '7'}), pong()])
    fake.client().ping()
    fake.assert_done()
    assert fake.sleeps == [7.0]


def test_retry_after_http_date_is_honoured(monkeypatch):
    when = email.utils.formatdate(time.time() + 12, usegmt=True)
    fake = FakeCocalc(monkeypatch, [pong().raw('', 503, None, headers={'Retry-After': when}), pong()])
    fake.client().ping()
    fake.assert_done()
    assert 9 <= fake.sleeps[0] <= 12


def test_too_long_retry_after_gives_up_with_message(monkeypatch):
    err, fake = failing_call(monkeypatch, [pong().reply({'error': 'rate limit'}, status=429, headers={'Retry-After': '3600'})],
                             lambda c: c.ping())
    assert fake.sleeps == []
    assert err.http_status == 429
    assert err.message == 'rate limit (rate limited by the server)'


def test_last_transient_answer_becomes_the_error(monkeypatch):
    err, fake = failing_call(monkeypatch, [pong().raw('<h1>502 Bad Gateway</h1>', 502)] * 4, lambda c: c.ping())
    assert err.http_status == 502
    assert '502 Bad Gateway' in err.message and 'unavailable' in err.message and '(after 3 retries)' in err.message
    assert len(fake.sleeps) == 3


def test_read_timeout_of_a_read_is_retried_then_reported(monkeypatch):
    err, fake = failing_call(monkeypatch, [pong().raises(requests.exceptions.ReadTimeout('read timed out'))] * 2,
                             lambda c: c.ping(), timeout=5, retries=1)
    assert 'no answer from %s/api/v1/ping within 5 seconds (option api_timeout)' % API_URL in str(err)
    assert len(fake.sleeps) == 1
    assert err.failure == 'lost' and err.may_have_run


def test_tls_error_is_not_retried(monkeypatch):
    bad_cert = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")
    err, fake = failing_call(monkeypatch, [pong().raises(bad_cert)], lambda c: c.ping())
    assert 'CERTIFICATE_VERIFY_FAILED' in str(err) and 'validate_certs=false' in str(err)
    assert fake.sleeps == []


ONCE_CALLS = [
    ('create_project', {'title': 'T'}),
    ('create_account', {'email_address': 'a@example.org'}),
    ('project_exec', {'project_id': PID, 'command': 'ls'}),
    ('copy_path_between_projects', {'src_project_id': PID, 'src_path': 'a', 'target_project_id': PID}),
    ('copy_public_path_between_projects', {'src_project_id': PID, 'src_path': 'a', 'target_project_id': PID}),
    ('invite_noncloud_collaborators', {'project_id': PID, 'to': 'a@example.org'}),
    ('change_email_address', {'new_email_address': 'a@example.org'}),
    ('change_password', {'new_password': 'xxxxxxxx'}),
    ('user_auth', {'account_id': AID}),
    ('query', {'query': {'projects': {'project_id': PID, 'action_request': {'action': 'start'}}}}),
]


def _lost(call, failure):
    """Make call fail in one of the ways that leave open whether the hub did the work."""
    if failure == 'reset':
        return call.raises(requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'reset'))"))
    if failure == 'read_timeout':
        return call.raises(requests.exceptions.ReadTimeout('read timed out'))
    if failure == 'truncated':
        return call.raises(requests.exceptions.ChunkedEncodingError('IncompleteRead(20 bytes read, 20 more expected)'))
    if failure == 'html200':
        return call.raw('<html><body>maintenance</body></html>', 200)
    if failure == 'cut_json':
        return call.raw('{"event":"project_created","proj', 200, content_type='application/json')
    return call.raw('<html>Gateway Timeout</html>', failure)


def _unsent(call, failure):
    """Make call fail in one of the ways that prove the hub did not do the work."""
    if failure == 'refused':
        return call.raises(requests.exceptions.ConnectionError('[Errno 111] Connection refused'))
    if failure == 'connect_timeout':
        return call.raises(requests.exceptions.ConnectTimeout('connect timed out'))
    return call.raw('busy', failure, headers={'Retry-After': '1'})


LOST = ['reset', 'read_timeout', 'truncated', 'html200', 'cut_json', 502, 504, 500]
UNSENT = ['refused', 'connect_timeout', 429, 503]


def test_retry_policy_table_rows():
    assert _api.RETRY_POLICY == {'read': frozenset(['unsent', 'lost']), 'idempotent': frozenset(['unsent', 'lost']),
                                 'once': frozenset(['unsent'])}


@pytest.mark.parametrize('endpoint, body', ONCE_CALLS)
def test_once_calls_are_of_kind_once(endpoint, body):
    assert _api.call_kind(endpoint, body) == 'once'


@pytest.mark.parametrize('endpoint, body', ONCE_CALLS)
@pytest.mark.parametrize('failure', LOST)
def test_once_calls_are_never_repeated_when_the_hub_may_have_run_them(monkeypatch, endpoint, body, failure):
    err, fake = failing_call(monkeypatch, [_lost(ApiCall(endpoint, body), failure)], lambda c: c.call(endpoint, body))
    assert len(fake.requests) == 1
    assert fake.sleeps == []
    assert err.failure == 'lost' and err.may_have_run


@pytest.mark.parametrize('endpoint, body', ONCE_CALLS)
@pytest.mark.parametrize('failure', UNSENT)
def test_once_calls_are_retried_when_the_hub_did_not_run_them(monkeypatch, endpoint, body, failure):
    fake = FakeCocalc(monkeypatch, [_unsent(ApiCall(endpoint, body), failure), ApiCall(endpoint, body).reply({'event': 'ok'})])
    fake.client().call(endpoint, body)
    fake.assert_done()
    assert len(fake.sleeps) == 1


@pytest.mark.parametrize('endpoint, body', ONCE_CALLS)
def test_once_call_that_stays_unsent_says_it_did_not_run(monkeypatch, endpoint, body):
    err, _fake = failing_call(monkeypatch, [_unsent(ApiCall(endpoint, body), 503)] * 2, lambda c: c.call(endpoint, body), retries=1)
    assert err.failure == 'unsent' and not err.may_have_run


READ_CALLS = [
    ('ping', {}),
    ('user_search', {'query': 'a@example.org'}),
    ('read_text_file_from_project', {'project_id': PID, 'path': 'a.txt'}),
    ('query', {'query': {'projects_all': [{'project_id': None}]}}),
]
IDEMPOTENT_CALLS = [
    ('write_text_file_to_project', {'project_id': PID, 'path': 'a.txt', 'content': 'x'}),
    ('invite_collaborator', {'project_id': PID, 'account_id': AID}),
    ('query', {'query': {'projects': {'project_id': PID, 'title': 'New'}}}),
]


@pytest.mark.parametrize('endpoint, body, kind', [c + ('read',) for c in READ_CALLS] + [c + ('idempotent',) for c in IDEMPOTENT_CALLS])
@pytest.mark.parametrize('failure', LOST + UNSENT)
def test_reads_and_idempotent_writes_are_retried_after_any_transient_failure(monkeypatch, endpoint, body, kind, failure):
    assert _api.call_kind(endpoint, body) == kind
    call = ApiCall(endpoint, body)
    call = _unsent(call, failure) if failure in UNSENT else _lost(call, failure)
    fake = FakeCocalc(monkeypatch, [call, ApiCall(endpoint, body).reply({'event': 'ok'})])
    fake.client().call(endpoint, body)
    fake.assert_done()
    assert len(fake.sleeps) == 1


@pytest.mark.parametrize('endpoint, body', [
    ('ping', {}),
    ('user_search', {'query': 'a@example.org'}),
    ('get_usernames', {'account_ids': [AID]}),
    ('read_text_file_from_project', {'project_id': PID, 'path': 'a.txt'}),
    ('write_text_file_to_project', {'project_id': PID, 'path': 'a.txt', 'content': 'x'}),
    ('invite_collaborator', {'project_id': PID, 'account_id': AID}),
    ('remove_collaborator', {'project_id': PID, 'account_id': AID}),
    ('public_get_text_file', {'project_id': PID, 'path': 'a.txt'}),
    ('public_get_directory_listing', {'project_id': PID, 'path': ''}),
    ('query', {'query': {'projects_all': [{'project_id': None}]}}),
    ('query', {'query': {'projects': {'project_id': PID, 'title': 'New'}}}),
    ('query', {'query': {'public_paths': {'project_id': PID, 'path': 'a', 'disabled': True}}}),
])
def test_safe_calls_are_retried(monkeypatch, endpoint, body):
    fake = FakeCocalc(monkeypatch, [ApiCall(endpoint, body).raw('busy', 503), ApiCall(endpoint, body).reply({'event': 'ok'})])
    fake.client().call(endpoint, body)
    fake.assert_done()


def test_retry_override_per_call(monkeypatch):
    body = {'title': 'T'}
    fake = FakeCocalc(monkeypatch, [ApiCall('create_project', body).raw('busy', 503),
                                    ApiCall('create_project', body).reply({'event': 'project_created', 'project_id': PID})])
    client = fake.client()
    assert client.call('create_project', body, retry=True)['project_id'] == PID
    fake.assert_done()
    _err, fake = failing_call(monkeypatch, [pong().raw('busy', 503)], lambda c: c.call('ping', retry=False))
    assert fake.sleeps == []


def test_zero_retries_disables_retrying(monkeypatch):
    _err, fake = failing_call(monkeypatch, [pong().raw('busy', 503)], lambda c: c.ping(), retries=0)
    assert fake.sleeps == []


# ---- body encoding ----

def test_large_text_write_is_form_encoded(monkeypatch):
    content = 'line ä & = + %\n' * 10000  # ~150 kB: over the JSON limit
    body = {'project_id': PID, 'path': 'dir/big file.txt', 'content': content}
    fake = FakeCocalc(monkeypatch, [ApiCall('write_text_file_to_project', body).expect_form().reply({'event': 'file_written_to_project'})])
    fake.client().call('write_text_file_to_project', body)
    fake.assert_done()
    assert fake.requests[0]['content_type'] == 'application/x-www-form-urlencoded'


def test_json_up_to_the_limit_then_form(monkeypatch):
    def body_of_size(size):
        body = {'project_id': PID, 'path': 'a', 'content': ''}
        overhead = len(json.dumps(body, separators=(',', ':')))
        body['content'] = 'x' * (size - overhead)
        return body
    at_limit, over_limit = body_of_size(_api.JSON_BODY_LIMIT), body_of_size(_api.JSON_BODY_LIMIT + 1)
    fake = FakeCocalc(monkeypatch, [
        ApiCall('write_text_file_to_project', at_limit).reply({'event': 'file_written_to_project'}),
        ApiCall('write_text_file_to_project', over_limit).expect_form().reply({'event': 'file_written_to_project'}),
    ])
    client = fake.client()
    client.call('write_text_file_to_project', at_limit)
    client.call('write_text_file_to_project', over_limit)
    fake.assert_done()
    assert len(fake.requests[0]['raw_body']) == _api.JSON_BODY_LIMIT


def test_large_body_with_non_string_values_stays_json(monkeypatch):
    body = {'project_id': PID, 'command': 'echo ' + 'x' * 110000, 'bash': True, 'timeout': 10}
    fake = FakeCocalc(monkeypatch, [ApiCall('project_exec', body).reply({'event': 'project_exec_output', 'exit_code': 0})])
    fake.client().call('project_exec', body)
    fake.assert_done()


def test_forced_form_and_forced_json(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('user_search', {'query': 'a'}).expect_form().reply({'event': 'user_search_results', 'results': []}),
        ApiCall('user_search', {'query': 'b' * 200000}).reply({'event': 'user_search_results', 'results': []}),
    ])
    client = fake.client()
    client.call('user_search', {'query': 'a'}, form=True)
    client.call('user_search', {'query': 'b' * 200000}, form=False)
    fake.assert_done()


def test_form_encoding_follows_qs_extended_syntax():
    encoded = _api.form_encode({'path': 'a b/&=+', 'info': {'course': 'x y'}, 'args': ['-l', 'ä']})
    assert encoded == b'path=a%20b%2F%26%3D%2B&info[course]=x%20y&args[]=-l&args[]=%C3%A4'


@pytest.mark.parametrize('body', [{'bash': False}, {'timeout': 10}, {'x': None}, {'args': [1]}, {'a[b]': 'x'}])
def test_form_encoding_refuses_non_strings(body):
    with pytest.raises(ValueError, match='cannot form-encode'):
        _api.form_encode(body)


# ---- the key never leaks ----

def test_key_echoed_by_server_is_redacted_everywhere(monkeypatch):
    text = 'No account found for key %s, Is your API key wrong?' % API_KEY
    err, _fake = failing_call(monkeypatch, [pong().reply({'error': text, 'key': API_KEY}, status=400)], lambda c: c.ping())
    assert_key_absent(err)
    assert '<redacted>' in err.message


@pytest.mark.parametrize('call', [
    ApiCall('ping').error('bad key ' + API_KEY),
    ApiCall('ping').raw('<p>key=%s</p>' % API_KEY, 404),
    ApiCall('ping').reply({'event': 'account_creation_failed', 'reason': {'other': API_KEY}}),
    ApiCall('ping').raises(requests.exceptions.ReadTimeout('timeout for ' + API_KEY)),
    ApiCall('ping').raises(requests.exceptions.InvalidHeader('bad header value ' + API_KEY)),
])
def test_key_absent_from_every_failure(monkeypatch, call):
    err, _fake = failing_call(monkeypatch, [call], lambda c: c.ping(), retries=0)
    assert_key_absent(err)


def test_short_key_is_not_used_to_mangle_messages(monkeypatch):
    fake = FakeCocalc(monkeypatch, [pong().error('error in the request')], api_key='err')
    with pytest.raises(CocalcApiError) as info:
        fake.client().ping()
    assert info.value.message == 'error in the request'


# ---- check mode guard ----

def test_check_mode_refuses_writes_before_sending(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    client = fake.client()
    client.check_mode = True
    for endpoint, body in [('create_project', {'title': 'T'}), ('invite_collaborator', {}), ('project_exec', {}),
                           ('query', {'query': {'projects': {'project_id': PID, 'title': 'x'}}})]:
        with pytest.raises(CocalcCheckModeError, match=endpoint):
            client.call(endpoint, body)
    fake.assert_done()
    assert fake.requests == []


def test_check_mode_allows_reads_and_explicit_probes(monkeypatch):
    query = {'query': {'projects_all': [{'project_id': None}]}}
    probe = {'project_id': PID, 'command': 'test', 'args': ['-e', 'x']}
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', query).reply({'event': 'query', 'query': {'projects_all': []}}),
        ApiCall('read_text_file_from_project', {'project_id': PID, 'path': 'a'}).reply({'event': 'text_file_read_from_project', 'content': ''}),
        ApiCall('project_exec', probe).reply({'event': 'project_exec_output', 'exit_code': 0}),
    ])
    client = fake.client()
    client.check_mode = True
    client.call('query', query)
    client.call('read_text_file_from_project', project_id=PID, path='a')
    client.call('project_exec', probe, allow_in_check_mode=True)
    fake.assert_done()


def test_query_kind_can_be_forced_by_options():
    assert _api.is_read_only('query', {'query': {'t': {'a': 1}}, 'options': [{'set': False}]})
    assert not _api.is_read_only('query', {'query': {'t': {'a': None}}, 'options': [{'set': True}]})
    assert not _api.is_read_only('query', {'query': {'t': {'a': {'b': 1}}}})
    assert _api.is_read_only('query', {'query': [{'t': {'a': 1}}, {'u': [{'b': None}]}]})


# ---- query helpers ----

WHO_FIELDS = {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None, 'groups': None}


def test_whoami(monkeypatch):
    me = {'account_id': AID, 'email_address': 'ada@example.org', 'first_name': 'Ada', 'last_name': 'L', 'groups': None}
    fake = FakeCocalc(monkeypatch, [ApiCall('query', {'query': {'accounts': WHO_FIELDS}})
                                    .reply({'event': 'query', 'query': {'accounts': me}, 'multi_response': False})])
    assert fake.client().whoami() == me
    fake.assert_done()


def test_whoami_of_project_key_is_none(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('query', {'query': {'accounts': WHO_FIELDS}}).reply({'event': 'query', 'query': {}})])
    assert fake.client().whoami() is None
    fake.assert_done()


def test_query_get_single_list_and_options(monkeypatch):
    options = [{'limit': 5}]
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', {'query': {'projects_all': {'project_id': PID, 'title': None}}}).reply({'event': 'query', 'query': {}}),
        ApiCall('query', {'query': {'projects_all': [{'project_id': None}]}, 'options': options})
        .reply({'event': 'query', 'query': {'projects_all': [{'project_id': PID}]}, 'options': options}),
    ])
    client = fake.client()
    assert client.query_get('projects_all', {'project_id': PID, 'title': None}) is None
    assert client.query_get('projects_all', [{'project_id': None}], options) == [{'project_id': PID}]
    fake.assert_done()


def test_query_set(monkeypatch):
    values = {'project_id': PID, 'title': 'New', 'users': {AID: {'hide': True}}}
    fake = FakeCocalc(monkeypatch, [ApiCall('query', {'query': {'projects': values}}).reply({'event': 'query', 'query': {}})])
    assert fake.client().query_set('projects', values) is None
    fake.assert_done()


@pytest.mark.parametrize('call, fragment', [
    (lambda c: c.query_get('projects_all', {'project_id': PID}), 'at least one field with value None'),
    (lambda c: c.query_get('projects_all', [{}, {}]), 'exactly one dict'),
    (lambda c: c.query_get('projects_all', 'x'), 'must be a dict'),
    (lambda c: c.query_set('projects', {'project_id': PID, 'title': None}), 'must not contain None'),
    (lambda c: c.query_set('projects', {'project_id': PID, 'users': {AID: None}}), 'must not contain None'),
    (lambda c: c.query_set('projects', {}), 'non-empty dict'),
])
def test_query_helpers_refuse_specs_the_server_would_misread(monkeypatch, call, fragment):
    fake = FakeCocalc(monkeypatch, [])
    with pytest.raises(ValueError, match=fragment):
        call(fake.client())
    assert fake.requests == []


def test_projects_all_uses_the_unwindowed_table(monkeypatch):
    spec = {'title': 'Algebra', 'users': None, 'deleted': None, 'project_id': None}
    fake = FakeCocalc(monkeypatch, [ApiCall('query', {'query': {'projects_all': [spec]}})
                                    .reply({'event': 'query', 'query': {'projects_all': [{'project_id': PID, 'title': 'Algebra'}]}})])
    assert fake.client().projects_all(['title', 'users', 'deleted'], title='Algebra') == [{'project_id': PID, 'title': 'Algebra'}]
    fake.assert_done()


def search_reply(rows):
    return {'event': 'user_search_results', 'results': rows}


def test_user_search_emails_maps_lower_case_and_skips_misses(monkeypatch):
    row = {'account_id': AID, 'first_name': 'Ada', 'last_name': 'L', 'email_address': 'ada@example.org'}
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', {'query': 'ada@example.org,nobody@example.org', 'limit': 2})
                                    .reply(search_reply([row]))])
    found = fake.client().user_search_emails(['Ada@Example.org', ' ada@example.org', 'nobody@example.org'])
    assert found == {'ada@example.org': row}
    fake.assert_done()


def rows_for(emails):
    return [{'account_id': 'id-%s' % e, 'email_address': e} for e in emails]


def test_user_search_emails_asks_for_a_whole_roster_in_one_call(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(250)]
    with_account = emails[:180]   # more rows than the cap: the server clearly did not cap email hits
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', {'query': ','.join(emails), 'limit': 250})
                                    .reply(search_reply(rows_for(with_account)))])
    found = fake.client().user_search_emails(emails)
    fake.assert_done()
    assert sorted(found) == with_account


def test_user_search_emails_asks_again_when_an_answer_fills_the_cap(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(120)]
    # A server that counts email hits against its 50-row cap: 50, then 50, then the last 20 (fewer than the cap: done).
    calls = [ApiCall('user_search', {'query': ','.join(emails[i:]), 'limit': 120 - i}).reply(search_reply(rows_for(emails[i:i + 50])))
             for i in (0, 50, 100)]
    fake = FakeCocalc(monkeypatch, calls)
    found = fake.client().user_search_emails(emails)
    fake.assert_done()
    assert sorted(found) == emails


def test_user_search_emails_full_cap_then_misses(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(60)]
    calls = [ApiCall('user_search', {'query': ','.join(emails), 'limit': 60}).reply(search_reply(rows_for(emails[:50]))),
             ApiCall('user_search', {'query': ','.join(emails[50:]), 'limit': 10}).reply(search_reply([]))]
    fake = FakeCocalc(monkeypatch, calls)
    assert sorted(fake.client().user_search_emails(emails)) == emails[:50]
    fake.assert_done()


def test_user_search_emails_stops_when_a_full_answer_brings_nothing_new(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(60)]
    strangers = [{'account_id': 'x%d' % n, 'email_address': 'other%d@ex.org' % n} for n in range(50)]
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', ANY).reply(search_reply(strangers))])
    assert fake.client().user_search_emails(emails) == {}
    fake.assert_done()


def test_user_search_emails_batches_by_length(monkeypatch):
    emails = ['%s%04d@example.org' % ('x' * 80, n) for n in range(600)]  # 97 characters each
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', ANY).reply(search_reply([])), ApiCall('user_search', ANY).reply(search_reply([]))])
    assert fake.client().user_search_emails(emails) == {}
    fake.assert_done()
    queries = [r['body']['query'] for r in fake.requests]
    assert all(len(q) <= _api.USER_SEARCH_QUERY_CHARS for q in queries)
    assert ','.join(queries).split(',') == emails


def test_pool_size_mounts_an_adapter_of_that_size():
    client = _api.CocalcClient(API_URL, API_KEY, pool_size=24)
    for prefix in ('https://', 'http://'):
        assert client._session.get_adapter(prefix + 'cocalc.test/api/v1/ping')._pool_maxsize == 24
    client.resize_pool(3)
    assert client._session.get_adapter(API_URL)._pool_maxsize == 3


@pytest.mark.parametrize('size', [0, -1, True, '8', 2.5])
def test_bad_pool_size_is_refused(size):
    with pytest.raises(ValueError, match='pool size'):
        _api.CocalcClient(API_URL, API_KEY, pool_size=size)


def test_user_search_emails_of_nothing_makes_no_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    assert fake.client().user_search_emails([]) == {}
    assert fake.requests == []


def test_get_usernames(monkeypatch):
    names = {AID: {'first_name': 'Ada', 'last_name': 'L'}, PID: {}}
    fake = FakeCocalc(monkeypatch, [ApiCall('get_usernames', {'account_ids': [AID, PID]}).reply({'event': 'usernames', 'usernames': names})])
    assert fake.client().get_usernames([AID, PID]) == names
    fake.assert_done()


def test_get_usernames_falls_back_to_user_search_on_newer_servers(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('get_usernames', {'account_ids': [AID, PID]}).reject("unknown endpoint 'get_usernames'"),
        ApiCall('user_search', {'query': AID, 'limit': 1}).reply(search_reply([{'account_id': AID, 'first_name': 'Ada', 'last_name': 'L'}])),
        ApiCall('user_search', {'query': PID, 'limit': 1}).reply(search_reply([])),
    ])
    assert fake.client().get_usernames([AID, PID]) == {AID: {'first_name': 'Ada', 'last_name': 'L'}, PID: {}}
    fake.assert_done()


def test_get_usernames_other_errors_propagate(monkeypatch):
    err, _fake = failing_call(monkeypatch, [ApiCall('get_usernames', {'account_ids': ['x']}).error('invalid uuid x in account_ids -- ["x"]')],
                              lambda c: c.get_usernames(['x']))
    assert err.event == 'error'


def test_attempting_labels_the_error(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('create_project', {'title': 'Algebra'}).error('boom')])
    with pytest.raises(CocalcApiError) as info:
        with attempting("create project 'Algebra'"):
            with attempting('inner label is kept'):
                fake.client().call('create_project', title='Algebra')
    assert str(info.value) == "Could not inner label is kept: API call 'create_project' failed (HTTP 200, event 'error'): boom"


# ---- projects that are still starting (runs-2024/README.md, fact 1) ----

PORT = 'Error: unable to determine project port'


def test_a_write_refused_by_a_starting_project_is_sent_again_after_pauses(monkeypatch):
    """course-playbook.jsonl 23:48:45: write_text_file_to_project right after create_project(start)
    answers {"event":"error","error":"Error: unable to determine project port"} at once: the hub
    refused it before reaching the project, so sending it again is no repeated write."""
    body = {'project_id': PID, 'path': 'README.md', 'content': 'hi'}
    fake = FakeCocalc(monkeypatch, [
        ApiCall('write_text_file_to_project', body).error(PORT),
        ApiCall('write_text_file_to_project', body).error(PORT),
        ApiCall('write_text_file_to_project', body).error('Error: unable to determine host'),
        ApiCall('write_text_file_to_project', body).reply({'event': 'file_written_to_project'}),
    ])
    client = fake.client(retries=0)
    assert client.call('write_text_file_to_project', body)['event'] == 'file_written_to_project'
    fake.assert_done()
    assert fake.sleeps == [1.0, 2.0, 4.0]


def test_a_project_that_never_starts_fails_with_a_message_that_says_so(monkeypatch):
    body = {'project_id': PID, 'command': 'true', 'err_on_exit': False}
    fake = FakeCocalc(monkeypatch, [ApiCall('project_exec', body).error(PORT) for _n in range(4)])
    with pytest.raises(_api.ProjectNotReady) as info:
        fake.client().call('project_exec', body, retry=False, ready_wait=10)
    fake.assert_done()
    assert fake.sleeps == [1.0, 2.0, 4.0]
    assert str(info.value) == ("API call 'project_exec' failed (HTTP 200, event 'error'): %s (project %s did not become ready "
                               "within 10 seconds: it is still starting, or cannot start)" % (PORT, PID))


def test_copies_wait_too_and_calls_naming_no_single_project_do_not(monkeypatch):
    copy = {'src_project_id': PID, 'src_path': 'a', 'target_project_id': AID, 'target_path': 'a'}
    fake = FakeCocalc(monkeypatch, [
        ApiCall('copy_path_between_projects', copy).error(PORT),
        ApiCall('copy_path_between_projects', copy).reply({'event': 'success'}),
        ApiCall('read_text_file_from_project', {'project_id': [PID, AID], 'path': ['a', 'b']}).error(PORT),
    ])
    client = fake.client()
    client.call('copy_path_between_projects', copy)
    with pytest.raises(_api.ProjectNotReady):
        client.call('read_text_file_from_project', project_id=[PID, AID], path=['a', 'b'])
    fake.assert_done()
    assert fake.sleeps == [1.0]


def test_ready_wait_zero_does_not_wait(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('read_text_file_from_project', {'project_id': PID, 'path': 'a'}).error(PORT)])
    client = fake.client()
    client.ready_wait = 0
    with pytest.raises(_api.ProjectNotReady, match='within 0 seconds'):
        client.call('read_text_file_from_project', project_id=PID, path='a')
    assert fake.sleeps == []


@pytest.mark.parametrize('item, not_ready', [
    ({'path': 'a', 'project_id': PID, 'error': {}}, True),
    ({'path': 'a', 'project_id': PID, 'error': PORT}, True),
    ({'path': 'a', 'project_id': PID, 'error': "Error: ENOENT: no such file or directory, stat '/projects/x/a'"}, False),
    ({'path': 'a', 'project_id': PID, 'content': ''}, False),
    ('text', False),
])
def test_not_ready_items(item, not_ready):
    assert _api.not_ready_item(item) is not_ready


# ---- error kinds: the server's words read once, here ----

@pytest.mark.parametrize('status, text, kind, argument', [
    (200, "Error: ENOENT: no such file or directory, open '/projects/%s/a.md'" % PID, 'not_found', '/projects/%s/a.md' % PID),
    (200, 'ENOENT', 'not_found', None),
    (200, 'FATAL: you do not have read access to this project', 'no_access', None),
    (200, 'ACCESS BLOCKED -- No read access to source project -- %s' % PID, 'no_access', None),
    (200, 'FATAL: user must be an admin', 'no_access', None),
    (200, 'Error: Attempt to open large file of size 12MB; the maximum allowed size is 10MB.', 'too_large', None),
    (400, "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'image' '", 'unexpected_argument', 'image'),
    (200, 'FATAL: user get query not allowed for projects_all.name', 'unexpected_argument', 'name'),
    (200, 'FATAL: changing public_paths.authenticated not allowed', 'unexpected_argument', 'authenticated'),
    (400, "invalid parameters 'Error: misc.defaults -- TypeError: property 'email_address' must be specified: '",
     'missing_argument', 'email_address'),
    (200, 'Error: unable to determine project port', 'not_ready', None),
    (200, 'No account found. Is your API key wrong?', 'bad_key', None),
    (200, 'FATAL: anonymous get queries not allowed for table \'accounts\'', 'bad_key', None),
    (200, 'boom', None, None),
    # only an endpoint's HTTP 400 names an unexpected argument
    (200, "got an unexpected argument 'image'", None, None),
    (None, 'could not connect to https://cocalc.example.org: ENOENT', None, None),
])
def test_classify(status, text, kind, argument):
    assert _api.classify(status, text) == (kind, argument)
    assert kind is None or kind in ERROR_KINDS


def test_the_kind_is_set_where_the_error_is_built(monkeypatch):
    text = "Error: ENOENT: no such file or directory, open '/projects/%s/a.md'" % PID
    err, _fake = failing_call(monkeypatch, [ApiCall('read_text_file_from_project', {'project_id': PID, 'path': 'a.md'}).error(text)],
                              lambda c: c.call('read_text_file_from_project', project_id=PID, path='a.md'))
    assert (err.kind, err.argument, err.message) == ('not_found', '/projects/%s/a.md' % PID, text)
    assert _api.api_error('x', 200, 'error', 'Error: unable to determine host', cls=ProjectNotReady).kind == 'not_ready'
    assert ProjectNotReady('x', 200, 'error', 'something else').kind == 'not_ready'


def test_call_without_rejected_drops_an_optional_option_once(monkeypatch):
    rejected = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'image' '"
    fake = FakeCocalc(monkeypatch, [
        ApiCall('create_project', {'title': 'A', 'image': 'old'}).reject(rejected),
        ApiCall('create_project', {'title': 'A'}).reply({'event': 'project_created', 'project_id': PID}),
    ])
    body = {'title': 'A', 'image': 'old'}
    assert fake.client().call_without_rejected('create_project', body, optional=('image',))['project_id'] == PID
    assert body == {'title': 'A'}
    fake.assert_done()


def test_call_without_rejected_keeps_what_is_not_optional(monkeypatch):
    rejected = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'title' '"
    err, _fake = failing_call(monkeypatch, [ApiCall('create_project', {'title': 'A'}).reject(rejected)],
                              lambda c: c.call_without_rejected('create_project', {'title': 'A'}, optional=('image',)))
    assert err.unexpected_argument == 'title'


def test_call_without_rejected_answers_each_rejection_once(monkeypatch):
    missing = "invalid parameters 'Error: misc.defaults -- TypeError: property 'email_address' must be specified: '"
    seen = []

    def adapt(body, err):
        seen.append((err.kind, err.argument))
        body['email_address'] = 'a@example.org'
        return True
    err, _fake = failing_call(monkeypatch, [
        ApiCall('change_password', {'account_id': PID}).reject(missing),
        ApiCall('change_password', {'account_id': PID, 'email_address': 'a@example.org'}).reject(missing),
    ], lambda c: c.call_without_rejected('change_password', {'account_id': PID}, adapt=adapt))
    assert seen == [('missing_argument', 'email_address')]
    assert err.kind == 'missing_argument'
