# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The backends: the auto decision, and every operation of the current generation as exact calls
(api/v2 routes and conat functions) with answers converted back to API v1's shapes."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from unittest.mock import ANY

from ansible_collections.cocalc.cocalc.plugins.module_utils import _accounts, _api, _files, _module, _texts
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcCheckModeError
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import CommandTimeout, exec_in_project
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, API_URL, ApiCall, FakeCocalc

PID = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
PID2 = '9672a713-94c4-4b65-8b7b-8185b0f2ece2'
AID = '25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3'
NEXT_404 = ('<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8" data-next-head=""/><title data-next-head="">404 Page Not '
            'Found</title></head><body><div id="__next"><h1>404 Page Not Found</h1></div></body></html>')
# The bridges are given a timeout a second under the HTTP timeout (api_timeout 30 here).
BRIDGE_MS = 29000


def v2(route, body):
    return ApiCall(route, body).expect_url(API_URL + '/api/v2/' + route)


def hub(name, args, timeout_ms=BRIDGE_MS):
    return ApiCall(name, {'name': name, 'args': args, 'timeout': timeout_ms}).expect_url(API_URL + '/api/conat/hub')


def project(project_id, name, args, timeout_ms=BRIDGE_MS):
    return ApiCall(name, {'project_id': project_id, 'name': name, 'args': args, 'timeout': timeout_ms}).expect_url(
        API_URL + '/api/conat/project')


def current(monkeypatch, calls, **kwargs):
    fake = FakeCocalc(monkeypatch, calls)
    kwargs.setdefault('api_version', 'current')
    return fake, fake.client(**kwargs)


def run(monkeypatch, calls, action, **kwargs):
    fake, client = current(monkeypatch, calls, **kwargs)
    result = action(client)
    fake.assert_done()
    return result


def fails(monkeypatch, calls, action, **kwargs):
    fake, client = current(monkeypatch, calls, **kwargs)
    with pytest.raises(CocalcApiError) as info:
        action(client)
    fake.assert_done()
    return info.value, fake


# ---- choosing the generation ----

def test_auto_sends_v1_first_and_switches_on_current_cocalcs_404_page(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('ping').raw(NEXT_404, 404),
        hub('system.ping', []).reply({'now': 5}),
        hub('system.ping', []).reply({'now': 6}),
    ])
    client = fake.client()
    assert client.api_version == 'auto' and client.generation is None
    assert client.ping() == {'event': 'pong', 'now': 5}
    assert client.generation == 'current'
    # Decided once per client: the next call goes straight to the current API.
    assert client.ping() == {'event': 'pong', 'now': 6}
    fake.assert_done()


def test_auto_on_a_v1_server_costs_no_extra_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('ping').reply({'event': 'pong'}), ApiCall('ping').reply({'event': 'pong'})])
    client = fake.client()
    client.ping()
    client.ping()
    fake.assert_done()
    assert client.generation == 'v1'


def test_auto_settles_on_v1_after_a_v1_error_answer(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('ping').error('nope')])
    client = fake.client()
    with pytest.raises(CocalcApiError):
        client.ping()
    assert client.generation == 'v1'


def test_auto_does_not_settle_without_an_answer(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('ping').raises(requests.exceptions.ConnectionError('Connection refused'))])
    client = fake.client(retries=0)
    with pytest.raises(CocalcApiError):
        client.ping()
    assert client.generation is None


def test_a_server_that_speaks_neither_gets_an_error_naming_both(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('ping').raw(NEXT_404, 404), hub('system.ping', []).raw(NEXT_404, 404)])
    client = fake.client()
    with pytest.raises(CocalcApiError) as info:
        client.ping()
    fake.assert_done()
    text = str(info.value)
    assert 'HTTP 404' in text and '/api/v2' in text and '/api/conat' in text and 'API v1' in text
    assert info.value.unknown_endpoint


def test_a_plain_404_page_in_auto_names_both_without_trying_more(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('ping').raw('<html><pre>Cannot POST /api/v1/ping</pre></html>', 404)])
    client = fake.client()
    with pytest.raises(CocalcApiError) as info:
        client.ping()
    fake.assert_done()
    assert 'is api_url the base URL' in str(info.value) and 'current CoCalc' in str(info.value)
    assert client.generation is None


def test_v1_forced_on_current_cocalc_says_how_to_switch(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('ping').raw(NEXT_404, 404)])
    with pytest.raises(CocalcApiError) as info:
        fake.client(api_version='v1').ping()
    fake.assert_done()
    assert 'set api_version to auto or current' in str(info.value)


def test_api_version_from_the_environment(monkeypatch):
    monkeypatch.setenv('COCALC_API_VERSION', 'current')
    fake = FakeCocalc(monkeypatch, [hub('system.ping', []).reply({'now': 1})])
    client = fake.client()
    client.ping()
    fake.assert_done()
    assert client.generation == 'current'


def test_from_params_passes_api_version(monkeypatch):
    params = dict(api_url=API_URL, api_key=API_KEY, validate_certs=True, api_timeout=30, api_retries=3, api_version='v1')
    assert _api.CocalcClient.from_params(params).generation == 'v1'


def test_a_bad_api_version_is_refused():
    with pytest.raises(ValueError, match='api_version must be one of auto, v1, current'):
        _api.CocalcClient(API_URL, API_KEY, api_version='v2')


def test_connection_spec_has_api_version_with_env_fallback():
    spec = _module.connection_argument_spec()['api_version']
    assert spec['choices'] == ['auto', 'v1', 'current']
    assert spec['fallback'][1] == ['COCALC_API_VERSION']


def test_every_operation_has_a_kind_and_the_current_backend_knows_it():
    from ansible_collections.cocalc.cocalc.plugins.module_utils._backend_current import MISSING, CurrentBackend
    for name, kind in _api.OPERATIONS.items():
        assert kind in ('read', 'idempotent', 'once', None)
        assert name in MISSING or hasattr(CurrentBackend, '_op_' + name), name
    assert _api.READ_ONLY_ENDPOINTS == frozenset(['ping', 'user_search', 'get_usernames', 'read_text_file_from_project',
                                                  'public_get_directory_listing', 'public_get_text_file', 'copy_path_status'])


# ---- the operations, current generation ----

def test_ping(monkeypatch):
    assert run(monkeypatch, [hub('system.ping', []).reply({'now': 7})], lambda c: c.ping()) == {'event': 'pong', 'now': 7}


def test_query_get_is_user_query(monkeypatch):
    spec = {'accounts': {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None, 'groups': None}}
    row = {'account_id': AID, 'email_address': 'a@example.com', 'first_name': 'A', 'last_name': 'B', 'groups': []}
    me = run(monkeypatch, [v2('user-query', {'query': spec}).reply({'query': {'accounts': row}})], lambda c: c.whoami())
    assert me == row


def test_query_set_and_options(monkeypatch):
    calls = [v2('user-query', {'query': {'projects': {'project_id': PID, 'title': 'T'}}}).reply({'query': {}}),
             v2('user-query', {'query': {'projects_all': [{'project_id': None}]}, 'options': [{'limit': 5}]})
             .reply({'query': {'projects_all': [{'project_id': PID}]}})]

    def action(client):
        client.query_set('projects', {'project_id': PID, 'title': 'T'})
        return client.query_get('projects_all', [{'project_id': None}], options=[{'limit': 5}])
    assert run(monkeypatch, calls, action) == [{'project_id': PID}]


@pytest.mark.parametrize('action', ['start', 'stop'])
def test_project_actions_use_the_routes_that_wait(monkeypatch, action):
    body = {'query': {'projects': {'project_id': PID, 'action_request': {'action': action, 'time': '2026-01-01T00:00:00.000Z'}}}}
    answer = run(monkeypatch, [v2('projects/' + action, {'project_id': PID}).reply({'status': 'ok'}).expect_timeout(120)],
                 lambda c: c.call('query', body, request_timeout=120))
    assert answer == {'event': 'query', 'query': {}}


def test_create_project(monkeypatch):
    answer = run(monkeypatch, [v2('projects/create', {'title': 'T', 'description': 'D', 'image': 'ubuntu2404'}).reply({'project_id': PID})],
                 lambda c: c.call('create_project', title='T', description='D', image='ubuntu2404'))
    assert answer['project_id'] == PID


def test_create_project_with_start_starts_it(monkeypatch):
    calls = [v2('projects/create', {'title': 'T'}).reply({'project_id': PID}),
             v2('projects/start', {'project_id': PID}).reply({'status': 'ok'})]
    assert run(monkeypatch, calls, lambda c: c.call('create_project', title='T', start=True))['project_id'] == PID


def test_create_project_is_never_repeated_after_a_lost_answer(monkeypatch):
    err, fake = fails(monkeypatch, [v2('projects/create', {'title': 'T'}).raw('<html>bad gateway</html>', 502)],
                      lambda c: c.call('create_project', title='T'))
    assert err.may_have_run and fake.sleeps == []


def test_write_goes_through_the_project_bridge(monkeypatch):
    calls = [project(PID, 'system.writeTextFileToProject', [{'path': 'a.txt', 'content': 'x' * 200000}]).reply(None)]
    answer = run(monkeypatch, calls, lambda c: c.call('write_text_file_to_project', dict(project_id=PID, path='a.txt', content='x' * 200000),
                                                      form=True))
    assert answer == {'event': 'file_written_to_project'}


def test_write_onto_a_directory_reports_the_projects_error(monkeypatch):
    calls = [project(PID, 'system.writeTextFileToProject', [{'path': 'sub', 'content': 'x'}])
             .reply({'error': "Error: EISDIR: illegal operation on a directory, open 'sub'"})]
    err, _fake = fails(monkeypatch, calls, lambda c: c.call('write_text_file_to_project', project_id=PID, path='sub', content='x'))
    assert err.message == "EISDIR: illegal operation on a directory, open 'sub' (current API: system.writeTextFileToProject)"
    assert err.endpoint == 'write_text_file_to_project'


def test_read_one_file_and_a_missing_one(monkeypatch):
    calls = [project(PID, 'system.readTextFileFromProject', [{'path': 'a.md'}]).reply('text'),
             project(PID, 'system.readTextFileFromProject', [{'path': 'nope.md'}])
             .reply({'error': "Error: ENOENT: no such file or directory, open 'nope.md'"})]

    def action(client):
        return _texts.read_text_file(client, PID, 'a.md'), _texts.read_text_file(client, PID, 'nope.md')
    assert run(monkeypatch, calls, action) == ('text', None)


def test_batched_reads_are_single_reads_with_per_item_errors(monkeypatch):
    calls = [project(PID, 'system.readTextFileFromProject', [{'path': 'a'}]).reply('A'),
             project(PID2, 'system.readTextFileFromProject', [{'path': 'b'}])
             .reply({'error': "Error: ENOENT: no such file or directory, open 'b'"}),
             project(PID2, 'system.readTextFileFromProject', [{'path': 'c'}]).reply({'error': 'user must be a collaborator on the project'})]
    fake, client = current(monkeypatch, calls)
    client.pool_size = 1   # one thread: the fake expects its calls in order
    answer = client.call('read_text_file_from_project', project_id=[PID, PID2, PID2], path=['a', 'b', 'c'])
    fake.assert_done()
    assert answer['content'] == [
        {'project_id': PID, 'path': 'a', 'content': 'A'},
        {'project_id': PID2, 'path': 'b', 'error': "ENOENT: no such file or directory, open 'b'"},
        {'project_id': PID2, 'path': 'c', 'error': 'user must be a collaborator on the project'}]


def test_read_text_files_keeps_its_contract_in_the_current_generation(monkeypatch):
    calls = [project(PID, 'system.readTextFileFromProject', [{'path': 'a'}]).reply('A'),
             project(PID, 'system.readTextFileFromProject', [{'path': 'b'}])
             .reply({'error': "Error: ENOENT: no such file or directory, open 'b'"})]
    fake, client = current(monkeypatch, calls)
    client.pool_size = 1
    assert _texts.read_text_files(client, [(PID, 'a'), (PID, 'b')]) == {(PID, 'a'): 'A', (PID, 'b'): None}
    fake.assert_done()


PUBLIC_COPY = {'project_id': PID2, 'path': 'pub/sheet.md', 'public': True}


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_public_copy_fails_before_any_call_in_the_current_generation(monkeypatch, check_mode):
    fake, client = current(monkeypatch, [])
    with pytest.raises(_texts.CocalcInputError) as info:
        _files.ensure_copy(client, PID, 'sheet.md', dict(PUBLIC_COPY), check_mode)
    fake.assert_done()
    assert fake.requests == []
    assert str(info.value).startswith("copy_from.public: copying a public path of a project the key's account is not on is not "
                                      "possible with current CoCalc")


def test_a_public_copy_in_auto_fails_once_the_probe_found_current_cocalc(monkeypatch):
    # auto learns the generation from the source probe (a read); its refusal by a non-member is not the message.
    calls = [ApiCall('project_exec', ANY).expect_timeout(150).raw(NEXT_404, 404),
             project(PID2, 'system.exec', ANY, ANY).expect_timeout(150).reply({'error': 'Error: user must be a collaborator on the project'}),
             project(PID, 'system.exec', ANY, ANY).expect_timeout(150).reply({'stdout': '@missing\0@missing\0', 'stderr': '', 'exit_code': 0})]
    fake = FakeCocalc(monkeypatch, calls)
    client = fake.client(api_version='auto')
    with pytest.raises(_texts.CocalcInputError) as info:
        _files.ensure_copy(client, PID, 'sheet.md', dict(PUBLIC_COPY), False)
    fake.assert_done()
    assert client.generation == 'current'
    assert 'not possible with current CoCalc' in str(info.value) and 'nothing was copied' in str(info.value)


EISDIR = {'error': 'Error: EISDIR: illegal operation on a directory, read'}


def test_a_directory_read_is_an_item_error_of_a_batch(monkeypatch):
    calls = [project(PID, 'system.readTextFileFromProject', [{'path': 'a'}]).reply('A'),
             project(PID, 'system.readTextFileFromProject', [{'path': 'd'}]).reply(EISDIR)]
    fake, client = current(monkeypatch, calls)
    client.pool_size = 1
    answer = client.call('read_text_file_from_project', project_id=PID, path=['a', 'd'])
    fake.assert_done()
    assert answer['content'] == [{'project_id': PID, 'path': 'a', 'content': 'A'},
                                 {'project_id': PID, 'path': 'd', 'error': 'EISDIR: illegal operation on a directory, read'}]


@pytest.mark.parametrize('paths', [['d'], ['a', 'd']])
def test_the_lookup_says_a_directory_is_a_directory(monkeypatch, paths):
    # One path is a single read, two are a batch: both say what v1's archive answer made the lookup say.
    calls = [project(PID, 'system.readTextFileFromProject', [{'path': 'a'}]).reply('A')] if 'a' in paths else []
    calls.append(project(PID, 'system.readTextFileFromProject', [{'path': 'd'}]).reply(EISDIR))
    monkeypatch.setattr(_texts, 'check_in_home', lambda *args: None)
    fake, client = current(monkeypatch, calls)
    client.pool_size = 1
    with pytest.raises(_texts.CocalcInputError) as info:
        _texts.read_project_texts(client, PID, paths)
    fake.assert_done()
    assert str(info.value) == "Could not read 'd' of project %s: it is a directory; name a file" % PID


def test_exec_passes_err_on_exit_and_the_bridge_timeout(monkeypatch):
    opts = {'command': 'sh', 'err_on_exit': False, 'args': ['-c', 'exit 3'], 'timeout': 100}
    calls = [project(PID, 'system.exec', [opts], timeout_ms=129000).expect_timeout(130)
             .reply({'type': 'blocking', 'stdout': 'out', 'stderr': 'err', 'exit_code': 3})]
    result = run(monkeypatch, calls, lambda c: exec_in_project(c, PID, 'sh', args=['-c', 'exit 3'], timeout=100))
    assert (result.rc, result.stdout, result.stderr) == (3, 'out', 'err')


def test_exec_killed_keeps_v1s_text(monkeypatch):
    opts = {'command': 'sleep', 'err_on_exit': False, 'args': ['5'], 'timeout': 1}
    calls = [project(PID, 'system.exec', [opts], timeout_ms=30000).expect_timeout(31).reply({'error': "killed command 'sleep 5'"})]
    fake, client = current(monkeypatch, calls)
    with pytest.raises(CommandTimeout) as info:
        exec_in_project(client, PID, 'sleep', args=['5'], timeout=1)
    fake.assert_done()
    assert "Error executing command 'sleep' with args '5' -- killed command 'sleep 5'" in str(info.value)


def test_exec_is_not_repeated_after_a_bridge_timeout(monkeypatch):
    calls = [project(PID, 'system.exec', [{'command': 'true'}]).reply(
        {'error': "timeout - callHub: subject='project.%s.0.api.-', name='system.exec', code='408' " % PID})]
    err, fake = fails(monkeypatch, calls, lambda c: c.call('project_exec', project_id=PID, command='true'))
    assert err.may_have_run and fake.sleeps == []


def test_a_read_is_sent_again_after_a_bridge_timeout(monkeypatch):
    call = project(PID, 'system.readTextFileFromProject', [{'path': 'a'}])
    calls = [call.reply({'error': "timeout - callHub: subject='x', name='system.readTextFileFromProject', code='408' "}),
             project(PID, 'system.readTextFileFromProject', [{'path': 'a'}]).reply('A')]
    assert run(monkeypatch, calls, lambda c: c.call('read_text_file_from_project', project_id=PID, path='a'))['content'] == 'A'


def test_copy_path(monkeypatch):
    body = dict(src_project_id=PID, path='a', target_project_id=PID2, target_path='b', wait_until_done=True)
    calls = [v2('projects/copy-path', body).reply({'copy_id': ''})]
    answer = run(monkeypatch, calls, lambda c: c.call('copy_path_between_projects', src_project_id=PID, src_path='a',
                                                      target_project_id=PID2, target_path='b', wait_until_done=True))
    assert 'copy_path_id' not in answer


def test_copy_path_status(monkeypatch):
    calls = [v2('projects/copy-path', dict(src_project_id=PID, path='a', target_project_id=PID2, target_path='b'))
             .reply({'copy_id': PID}),
             v2('projects/copy-path-status', {'copy_id': PID}).reply({'finished': True})]

    def action(client):
        first = client.call('copy_path_between_projects', src_project_id=PID, src_path='a', target_project_id=PID2, target_path='b')
        return first, client.call('copy_path_status', copy_path_id=first['copy_path_id'])
    first, status = run(monkeypatch, calls, action)
    assert first['copy_path_id'] == PID and status['data'] == {'finished': True}


@pytest.mark.parametrize('operation', ['invite_collaborator', 'add_collaborator'])
def test_adding_a_collaborator(monkeypatch, operation):
    calls = [v2('projects/collaborators/add', {'project_id': PID, 'account_id': AID}).reply({'status': 'ok'})]
    run(monkeypatch, calls, lambda c: c.call(operation, project_id=PID, account_id=AID))


def test_removing_an_owner_is_the_servers_error(monkeypatch):
    calls = [v2('projects/collaborators/remove', {'project_id': PID, 'account_id': AID})
             .reply({'error': 'Cannot remove an owner. Demote to collaborator first.'})]
    err, _fake = fails(monkeypatch, calls, lambda c: c.call('remove_collaborator', project_id=PID, account_id=AID))
    assert err.message == 'Cannot remove an owner. Demote to collaborator first. (current API: projects/collaborators/remove)'
    assert err.http_status == 200 and err.endpoint == 'remove_collaborator'
    assert err.event == 'error'   # v1's shape of an HTTP 200 failure


def test_current_no_access_texts_have_the_no_access_kind(monkeypatch):
    calls = [project(PID, 'system.exec', [{'command': 'id'}]).reply({'error': 'user must be a collaborator on the project'})]
    err, _fake = fails(monkeypatch, calls, lambda c: c.call('project_exec', project_id=PID, command='id'))
    assert err.kind == 'no_access'


def test_invitation_without_account(monkeypatch):
    opts = dict(project_id=PID, to='a@example.com, b@example.com', email='hi', title='P', link2proj='x')
    calls = [hub('projects.inviteCollaboratorWithoutAccount', [{'opts': opts}]).reply(None)]
    run(monkeypatch, calls, lambda c: c.call('invite_noncloud_collaborators', dict(opts)))


def test_user_search_emails(monkeypatch):
    row = {'account_id': AID, 'first_name': 'B', 'last_name': 'C', 'email_address': 'b@example.com'}
    calls = [hub('system.userSearch', [{'query': 'b@example.com,x@example.com', 'limit': 2}]).reply([row])]
    assert run(monkeypatch, calls, lambda c: _accounts.accounts_by_email(c, ['b@example.com', 'X@example.com'])) == {'b@example.com': row}


def test_get_usernames(monkeypatch):
    calls = [v2('accounts/get-names', {'account_ids': [AID, PID]}).reply(
        {'names': {AID: {'first_name': 'A', 'last_name': 'B', 'profile': None}, PID: {'first_name': 'Deleted', 'last_name': 'User'}}})]
    # An unknown id is v1's {} (get-names calls it a "Deleted User" without a profile field).
    assert run(monkeypatch, calls, lambda c: c.get_usernames([AID, PID])) == {AID: {'first_name': 'A', 'last_name': 'B'}, PID: {}}


def test_create_account_is_sign_up(monkeypatch):
    body = dict(terms=True, email='n@example.com', password='secret-123', firstName='N', lastName='M')
    calls = [v2('auth/sign-up', body).reply({'account_id': AID}, headers={'Set-Cookie': 'remember_me=abc; Path=/'})]
    answer = run(monkeypatch, calls, lambda c: c.call('create_account', first_name='N', last_name='M', email_address='n@example.com',
                                                      password='secret-123', agreed_to_terms=True))
    assert answer['account_id'] == AID


def test_create_account_issues_name_v1s_fields(monkeypatch):
    body = dict(terms=True, email='bad', password='x', firstName='', lastName='')
    calls = [v2('auth/sign-up', body).reply({'issues': {'email': 'not valid', 'password': 'too easy'}})]
    err, _fake = fails(monkeypatch, calls, lambda c: c.call('create_account', email_address='bad', password='x', agreed_to_terms=True))
    assert err.event == 'account_creation_failed'
    assert err.body['reason'] == {'email_address': 'not valid', 'password': 'too easy'}


def test_change_email_address(monkeypatch):
    calls = [v2('accounts/set-email-address', {'email_address': 'n@example.com', 'password': 'pw-123456'}).reply({'status': 'success'})]
    run(monkeypatch, calls, lambda c: c.call('change_email_address', account_id=AID, new_email_address='n@example.com', password='pw-123456'))


@pytest.mark.parametrize('answer, code, text', [
    ('password is not correct', 'invalid_password', 'password is not the current password of the account'),
    ('email address is not valid', 'email_invalid', 'the server does not accept new_email as an email address'),
    ('email address "n@example.com" is already in use by another account', 'email_already_taken',
     'new_email is already the address of an account'),
])
def test_email_change_refusals_are_api_v1_error_codes(monkeypatch, answer, code, text):
    calls = [v2('accounts/set-email-address', {'email_address': 'n@example.com', 'password': 'pw-123456'}).reply({'error': answer})]
    err, _fake = fails(monkeypatch, calls, lambda c: _accounts.change_own_email(c, AID, 'n@example.com', 'pw-123456'))
    assert err.body == {'event': 'changed_email_address', 'error': code}
    assert err.endpoint == 'change_email_address' and err.event == 'changed_email_address'
    assert str(err) == ("Could not change the email address of the account of the API key to n@example.com: API call "
                        "'change_email_address' failed (HTTP 200, event 'changed_email_address'): %s" % text)


@pytest.mark.parametrize('operation', ['change_password', 'delete_account', 'public_get_text_file', 'public_get_directory_listing',
                                       'copy_public_path_between_projects', 'user_auth'])
def test_operations_without_a_counterpart_send_nothing(monkeypatch, operation):
    err, fake = fails(monkeypatch, [], lambda c: c.call(operation, project_id=PID, allow_in_check_mode=True))
    assert err.unknown_endpoint and fake.requests == []


def test_a_missing_operation_says_not_sent_not_no_answer(monkeypatch):
    # "(no answer)" would suggest a lost call that may have run; nothing was sent.
    err, _fake = fails(monkeypatch, [], lambda c: c.call('delete_account', account_id=AID))
    assert "API call 'delete_account' failed (not sent): current CoCalc" in str(err)
    assert 'no answer' not in str(err)


def test_a_missing_operation_says_when_api_v1_lost_it(monkeypatch):
    err, _fake = fails(monkeypatch, [], lambda c: c.call('public_get_text_file', project_id=PID, path='a'))
    assert 'CoCalc removed public_get_text_file from API v1 in July 2021' in err.message


# ---- check mode, errors ----

def test_check_mode_lets_reads_through_and_refuses_writes_before_sending(monkeypatch):
    calls = [v2('user-query', {'query': {'projects_all': [{'project_id': None}]}}).reply({'query': {'projects_all': []}}),
             project(PID, 'system.readTextFileFromProject', [{'path': 'a'}]).reply('A')]
    fake, client = current(monkeypatch, calls)
    client.check_mode = True
    assert client.query_get('projects_all', [{'project_id': None}]) == []
    assert client.call('read_text_file_from_project', project_id=PID, path='a')['content'] == 'A'
    for operation, body in [('write_text_file_to_project', dict(project_id=PID, path='a', content='x')),
                            ('query', {'query': {'projects': {'project_id': PID, 'title': 'T'}}}),
                            ('create_project', {'title': 'T'})]:
        with pytest.raises(CocalcCheckModeError):
            client.call(operation, body)
    fake.assert_done()


def test_the_route_guard_knows_reads(monkeypatch):
    from ansible_collections.cocalc.cocalc.plugins.module_utils._backend_current import CurrentBackend
    fake, client = current(monkeypatch, [])
    client.check_mode = True
    how = _api.CallOptions(frozenset(), 30)
    with pytest.raises(CocalcCheckModeError):
        CurrentBackend.v2(client, 'projects/delete', {'project_id': PID}, how)
    with pytest.raises(CocalcCheckModeError):
        CurrentBackend.project(client, PID, 'system.exec', [{'command': 'rm'}], how)
    assert fake.requests == []


def test_a_probe_exec_runs_in_check_mode(monkeypatch):
    calls = [project(PID, 'system.exec', [{'command': 'test', 'err_on_exit': False, 'args': ['-e', 'a']}], timeout_ms=39000)
             .expect_timeout(40).reply({'type': 'blocking', 'stdout': '', 'stderr': '', 'exit_code': 1})]
    fake, client = current(monkeypatch, calls)
    client.check_mode = True
    from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import path_exists
    assert path_exists(client, PID, 'a') is False
    fake.assert_done()


def test_bad_key_texts_get_a_hint(monkeypatch):
    calls = [hub('system.ping', []).reply({'error': 'must be signed in and MUST provide an api key (cookies are not allowed)'})]
    err, _fake = fails(monkeypatch, calls, lambda c: c.ping())
    assert 'check api_key / COCALC_API_KEY' in str(err) and API_KEY not in str(err)


def test_body_too_large_is_413_text(monkeypatch):
    calls = [project(PID, 'system.writeTextFileToProject', [{'path': 'a', 'content': 'x'}]).raw('Body exceeded 1mb limit', 413, None)]
    err, fake = fails(monkeypatch, calls, lambda c: c.call('write_text_file_to_project', project_id=PID, path='a', content='x'))
    assert err.http_status == 413 and 'Body exceeded 1mb limit' in err.message and fake.sleeps == []


def test_an_unexpected_answer_is_an_error(monkeypatch):
    err, _fake = fails(monkeypatch, [v2('projects/create', {}).reply(['x'])], lambda c: c.call('create_project'))
    assert 'unexpected answer' in err.message


# ---- cookies: never kept ----

class _CookieServer(BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        _CookieServer.seen.append(self.headers.get('Cookie'))
        body = b'{"account_id": "x"}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Set-Cookie', 'remember_me=carols-session; Path=/; HttpOnly')
        self.send_header('Set-Cookie', 'connect.sid=s%3Aabc; Path=/; HttpOnly')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def cookie_server():
    _CookieServer.seen = []
    server = HTTPServer(('127.0.0.1', 0), _CookieServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_set_cookie_answer_is_never_sent_back(cookie_server):
    client = _api.CocalcClient(cookie_server, API_KEY, api_version='current', retries=0)
    client.post('/api/v2/auth/sign-up', {}, 'auth/sign-up', _api.CallOptions(frozenset(), 5), answers='current')
    client.post('/api/v2/user-query', {}, 'user-query', _api.CallOptions(frozenset(), 5), answers='current')
    assert _CookieServer.seen == [None, None]
    assert len(client._session.cookies) == 0


def test_the_cookie_test_can_fail_with_an_ordinary_session(cookie_server):
    session = requests.Session()
    session.post(cookie_server + '/api/v2/auth/sign-up', json={})
    session.post(cookie_server + '/api/v2/user-query', json={})
    assert _CookieServer.seen[0] is None and 'remember_me=carols-session' in _CookieServer.seen[1]
