"""Transport of the API (reference section 2): routing, methods, bodies, limits, auth, check order, options, id.

Expected texts come from the real-hub recordings (real-hub/transcripts-2024.jsonl) and the reference.
Transport never changed in substance between the eras, so most tests run on both; key handling differs
(the guide era runs unknown/blank keys anonymously) and is tested per era.
"""

import base64
import datetime
import json
import re

import pytest

from cocalc_testlib import NO_ACCOUNT, NO_AUTH, UUID_RE

JSON_LIMIT = 100 * 1024
FORM_LIMIT = 1024 * 1024
UNEXPECTED = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument '%s' '"
MISSING = "invalid parameters 'Error: misc.defaults -- TypeError: property '%s' must be specified: '"
BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'


def base62(text):
    value = 0
    for char in text:
        value = value * 62 + BASE62.index(char)
    return value


def assert_pong(reply, expected_id=None):
    assert reply.status == 200, reply.text
    assert reply.content_type.startswith('application/json'), reply.content_type
    assert reply.json['event'] == 'pong'
    if expected_id is None:
        assert re.fullmatch(UUID_RE, reply.json['id']), reply.json
        assert reply.json['id'][14] == '4', 'a generated id is a UUID v4: %s' % reply.json['id']
    else:
        assert reply.json['id'] == expected_id
    now = datetime.datetime.now(datetime.timezone.utc)
    served = datetime.datetime.strptime(reply.json['now'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
    assert abs((now - served).total_seconds()) < 60, reply.json


# -- routing and methods ----------------------------------------------------------------------------
def test_ping_json_content_type_and_pretty_json(server):
    reply = server.api().raw('ping', {})
    assert_pong(reply)
    assert reply.content_type == 'application/json; charset=utf-8'


@pytest.mark.parametrize('path', ['/api/v1/ping/', '/api/v1/foo/ping', '/api/v1/x/y/ping', '/api/v1/ping?id=from-query-string'])
def test_last_path_segment_routes(server, path):
    reply = server.api().raw(None, {}, path=path)
    assert_pong(reply)   # the query string is ignored: no id 'from-query-string' echoed


def test_empty_endpoint_after_trailing_slash_is_v1(server):
    assert server.api().http400(None, path='/api/v1/') == "unknown endpoint 'v1'"


def test_endpoint_names_are_case_sensitive(server):
    assert server.api().http400('PING') == "unknown endpoint 'PING'"


def test_object_prototype_name_as_endpoint(server):
    assert server.api().http400('toString') == "unknown message event type 'undefined'"


@pytest.mark.parametrize('method', ['GET', 'PUT', 'DELETE'])
def test_only_post_is_routed(server, method):
    reply = server.api().raw('ping', {}, method=method)
    assert reply.status == 404
    assert not reply.content_type.startswith('application/json')
    assert 'Cannot %s /api/v1/ping' % method in reply.text


def test_api_v1_without_slash_is_not_routed(server):
    reply = server.api().raw(None, {}, path='/api/v1')
    assert reply.status == 404 and reply.json is None


@pytest.mark.parametrize('name, expected', [
    ('nonexistent_endpoint', "unknown endpoint 'nonexistent_endpoint'"),
    ('sign_in', "endpoint 'sign_in' is not part of the HTTP API"),
    ('error', "endpoint 'error' is not part of the HTTP API"),
    ('api_messages', "endpoint 'api_messages' is not part of the HTTP API"),
])
def test_unknown_and_non_api_endpoints(server, name, expected):
    assert server.api().http400(name) == expected


# -- bodies ---------------------------------------------------------------------------------------
def test_no_body_at_all_is_an_empty_object(server):
    assert_pong(server.api().raw('ping', data=None, content_type=None))


def test_json_with_charset_parameter(server, alice):
    reply = alice.api.raw('query', {'query': {'accounts': {'account_id': None, 'first_name': None}}},
                          content_type='application/json; charset=utf-8')
    assert reply.status == 200 and reply.json['query']['accounts'] == {'account_id': alice.account_id, 'first_name': 'Alice'}


@pytest.mark.parametrize('content_type', ['text/plain', None, 'application/xml'])
def test_other_content_types_give_an_empty_body(server, content_type):
    body = '{"query": {"accounts": {"account_id": null}}}'
    assert server.api().http400('query', data=body, content_type=content_type) == MISSING % 'query'


def test_form_body_with_id(server):
    assert_pong(server.api().raw('ping', form='id=form-id-1'), 'form-id-1')


def test_form_qs_extended_syntax_nests_objects_and_values_are_strings(server, alice):
    # query[accounts][first_name]= is a nested object whose values are empty strings (not null): a set.
    reply = alice.api.raw('query', form='query[accounts][account_id]=&query[accounts][first_name]=')
    assert reply.status == 200 and reply.json['event'] == 'error'
    assert reply.json['error'] == 'first_name must be nonempty'


def test_form_qs_arrays(server, alice, project):
    reply = alice.api.raw('project_exec', form='project_id=%s&command=echo&args[]=x&args[]=y' % project)
    assert reply.status == 200 and reply.json['event'] == 'project_exec_output', reply.json
    assert reply.json['stdout'] == 'x y\n'


def test_form_false_is_a_truthy_string(server, alice, project):
    # err_on_exit=false sent as a form value is the string "false", which is truthy: still an error event.
    reply = alice.api.raw('project_exec', form={'project_id': project, 'command': 'sh', 'args[]': ['-c', 'exit 3'], 'err_on_exit': 'false'})
    assert reply.status == 200 and reply.json['event'] == 'error', reply.json
    reply = alice.api.raw('project_exec', {'project_id': project, 'command': 'sh', 'args': ['-c', 'exit 3'], 'err_on_exit': False})
    assert reply.json['event'] == 'project_exec_output' and reply.json['exit_code'] == 3


def test_form_single_value_where_a_list_is_expected(server_2024):
    account = server_2024.new_account('formlist')
    reply = account.api.raw('get_usernames', form='account_ids=%s' % account.account_id)
    assert reply.json['event'] == 'error'
    assert reply.json['error'] == 'invalid uuid %s in account_ids -- "%s"' % (account.account_id[0], account.account_id)


def test_malformed_json_is_400_and_not_json(server):
    reply = server.api().raw('ping', data='{"id": ', content_type='application/json')
    assert reply.status == 400
    assert reply.json is None and not reply.content_type.startswith('application/json')


def _json_body_of_size(project_id, size):
    body = {'project_id': project_id, 'path': 'edge.txt', 'content': ''}
    overhead = len(json.dumps(body).encode())
    body['content'] = 'e' * (size - overhead)
    data = json.dumps(body).encode()
    assert len(data) == size
    return data


def test_json_limit_is_100_kB(server, alice, project):
    reply = alice.api.raw('write_text_file_to_project', data=_json_body_of_size(project, JSON_LIMIT), content_type='application/json')
    assert reply.status == 200 and reply.json['event'] == 'file_written_to_project', reply.text[:300]
    assert len(alice.read(project, 'edge.txt')) == JSON_LIMIT - len(json.dumps({'project_id': project, 'path': 'edge.txt', 'content': ''}))
    reply = alice.api.raw('write_text_file_to_project', data=_json_body_of_size(project, JSON_LIMIT + 1), content_type='application/json')
    assert reply.status == 413 and reply.json is None, (reply.status, reply.text[:300])
    assert 'Payload Too Large' in reply.text


def _form_body_of_size(project_id, path, size):
    head = 'project_id=%s&path=%s&content=' % (project_id, path)
    return head + 'q' * (size - len(head))


def test_form_limit_is_1_MB(server, alice, project):
    reply = alice.api.raw('write_text_file_to_project', form=_form_body_of_size(project, 'f600k.txt', 600000))
    assert reply.status == 200 and reply.json['event'] == 'file_written_to_project'
    reply = alice.api.raw('write_text_file_to_project', form=_form_body_of_size(project, 'fmax.txt', FORM_LIMIT))
    assert reply.status == 200 and reply.json['event'] == 'file_written_to_project', reply.text[:300]
    reply = alice.api.raw('write_text_file_to_project', form=_form_body_of_size(project, 'fover.txt', FORM_LIMIT + 1))
    assert reply.status == 413 and reply.json is None
    assert 'fover.txt' not in alice.execute(project, 'ls')['stdout']


def test_json_body_over_the_limit_writes_nothing(server, alice, project):
    reply = alice.api.raw('write_text_file_to_project', {'project_id': project, 'path': 'big.txt', 'content': 'z' * 150000})
    assert reply.status == 413
    error = alice.api.error('read_text_file_from_project', project_id=project, path='big.txt')
    assert 'ENOENT' in error


# -- authentication -----------------------------------------------------------------------------------
def test_missing_header_is_reported_first(server):
    api = server.api()
    assert api.http400('ping', auth=None) == NO_AUTH
    assert api.http400('nonexistent_endpoint', auth=None) == NO_AUTH


@pytest.mark.parametrize('header, scheme', [('Token abc', 'Token'), ('bearer abc', 'bearer'), ('Digest x=1', 'Digest')])
def test_unknown_scheme(server, header, scheme):
    assert server.api().http400('ping', header=header) == "Unknown authorization type '%s'" % scheme


def test_basic_password_part_is_ignored(server):
    header = 'Basic ' + base64.b64encode(('%s:anything-at-all' % server.api_key).encode()).decode()
    assert_pong(server.api().raw('ping', {}, header=header))


def test_bearer_works(server):
    assert_pong(server.api().raw('ping', {}, auth='bearer'))


def test_key_of_created_account_works_with_both_schemes(server):
    account = server.new_account('schemes')
    assert_pong(account.api.raw('ping', {}, auth='basic'))
    assert_pong(account.api.raw('ping', {}, auth='bearer'))


def test_2024_wrong_and_blank_keys_are_rejected(server_2024):
    api = server_2024.api()
    assert api.http400('ping', key='sk-wrongwrongwrongw000001') == NO_ACCOUNT
    header = 'Basic ' + base64.b64encode((':%s' % server_2024.api_key).encode()).decode()   # curl -u :KEY sends a blank key
    assert api.http400('ping', header=header) == NO_ACCOUNT
    assert api.http400('create_project', {'title': 'x'}, key='sk_0000000000000000000001') == NO_ACCOUNT


@pytest.mark.parametrize('key', ['garbage', 'sk_wrongwrongwrongw', 'zzzzzzzzzz'])
def test_2024_key_suffix_out_of_range_leaks_the_database_error(server_2024, key):
    # The last six characters are read as a base-62 row id; above 2^31 the real hub leaked this error.
    value = base62(key[-6:])
    assert value >= 2 ** 31
    assert server_2024.api().http400('ping', key=key) == 'error: value "%d" is out of range for type integer' % value


def test_guide_blank_or_unknown_key_runs_anonymously(server_guide):
    api = server_guide.api()
    header = 'Basic ' + base64.b64encode(b':').decode()   # curl -u :
    assert_pong(api.raw('ping', {}, header=header))
    assert_pong(api.raw('ping', {}, key='sk_unknownunknownunknown'))
    answer = api.raw('create_project', {'title': 'anon'}, key='sk_unknownunknownunknown').json
    assert answer['event'] == 'error' and answer['error'] == 'You must be signed in to create a new project.'


# -- order of checks ------------------------------------------------------------------------------------
def test_check_order_endpoint_and_parameters_before_key(server_2024):
    api = server_2024.api()
    assert api.http400('nonexistent_endpoint', key='sk_wrongwrongwrongw') == "unknown endpoint 'nonexistent_endpoint'"
    assert api.http400('query', key='sk_wrongwrongwrongw') == MISSING % 'query'
    assert api.http400('delete_account', {'account_id': server_2024.account_id}, key='sk_wrongwrongwrongw') == \
        "endpoint 'delete_account' is not part of the HTTP API"
    assert api.http400('ping', {'foo': 1}, key='sk-wrongwrongwrongw000001') == UNEXPECTED % 'foo'
    assert api.http400('nonexistent_endpoint', header='Token x') == "Unknown authorization type 'Token'"


def test_multi_response_typo_before_key_lookup(server_2024):
    api = server_2024.api()
    assert api.http400('query', {'query': {'accounts': {'account_id': None}}, 'multi_response': True}) == 'ReferenceError: otps is not defined'
    assert api.http400('query', form='query[accounts][account_id]=&multi_response=false') == 'ReferenceError: otps is not defined'
    assert api.http400('query', {'query': {'accounts': {'account_id': None}}, 'multi_response': True},
                       key='sk-wrongwrongwrongw000001') == 'ReferenceError: otps is not defined'


def test_guide_multi_response_is_an_uncaught_exception(server_guide):
    reply = server_guide.api().raw('query', {'query': {'accounts': {'account_id': None}}, 'multi_response': True})
    assert reply.status == 500 and reply.json is None


# -- strict options -------------------------------------------------------------------------------------
def test_unknown_option(server):
    assert server.api().http400('ping', {'foo': 'bar'}) == UNEXPECTED % 'foo'
    assert server.api().http400('create_project', {'title': 'x', 'bogus': 1}) == UNEXPECTED % 'bogus'


def test_missing_and_null_required_option(server):
    api = server.api()
    assert api.http400('user_search', {}) == MISSING % 'query'
    assert api.http400('user_search', {'query': None}) == MISSING % 'query'
    assert api.http400('project_exec', {'command': 'echo hi'}) == MISSING % 'project_id'
    # An empty string counts as present: the handler answers (here: no project).
    assert api.call('project_exec', project_id='', command='echo')['event'] == 'error'


def test_event_field_is_rejected(server):
    error = server.api().http400('ping', {'event': 'ping'})
    assert error.startswith("invalid parameters 'Error: ValueError: must not define 'event' when calling message creation function (opts="), error


# -- id --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('given', ['my-id', 'with spaces and ünïcode', 12345, ''])
def test_id_is_echoed_unchanged(server, given):
    reply = server.api().raw('ping', {'id': given})
    assert reply.status == 200 and reply.json['id'] == given


def test_id_is_generated_when_absent_and_differs_per_call(server):
    first = server.api().raw('ping', {}).json['id']
    second = server.api().raw('ping', {}).json['id']
    assert re.fullmatch(UUID_RE, first) and re.fullmatch(UUID_RE, second) and first != second


def test_id_is_echoed_on_error_events_not_on_http_400(server):
    api = server.api()
    answer = api.call('read_text_file_from_project', id='err-id', project_id='not-a-uuid', path='x')
    assert answer['event'] == 'error' and answer['id'] == 'err-id'
    reply = api.raw('ping', {'id': 'x', 'foo': 1})
    assert reply.status == 400 and 'id' not in reply.json
