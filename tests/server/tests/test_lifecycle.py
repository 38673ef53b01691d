"""The start contract of `serve` (issue 2): ready line, SIGTERM/SIGINT exit 0, persistence across
restarts, the account/stats/outbox subcommands, loopback binding, and no secrets in the server's output.
"""

import signal
import uuid

import pytest

from cocalc_testlib import INSTANT_STARTS, ServerProcess, serve_cli, unique


@pytest.fixture
def own_server(tmp_path):
    """A private 2024 server for tests that stop and restart it."""
    server = ServerProcess(tmp_path / 'data', '2024', extra_args=INSTANT_STARTS)
    yield server
    server.stop()


def test_ready_line_contract(own_server):
    info = own_server.start()
    assert set(info) == {'url', 'api_key', 'account_id', 'email'}
    assert info['url'].startswith('http://127.0.0.1:') and int(info['url'].rsplit(':', 1)[1]) > 0
    assert own_server.api().ok('ping')['event'] == 'pong'
    me = own_server.api().query({'accounts': {'account_id': None, 'email_address': None}})['accounts']
    assert me == {'account_id': info['account_id'], 'email_address': info['email']}
    assert own_server.extra_stdout == [], 'the ready line must be the only output on stdout'
    assert own_server.stop() == 0


def test_sigint_stops_cleanly(own_server):
    own_server.start()
    assert own_server.stop(signal.SIGINT) == 0


def test_two_servers_get_their_own_ports(tmp_path):
    first, second = ServerProcess(tmp_path / 'one', '2024'), ServerProcess(tmp_path / 'two', 'guide')
    try:
        first.start()
        second.start()
        assert first.url != second.url
        assert first.api().ok('ping')['event'] == second.api().ok('ping')['event'] == 'pong'
    finally:
        assert first.stop() == 0
        assert second.stop() == 0


def test_restart_keeps_everything(own_server):
    info = own_server.start()
    alice = own_server.new_account('alice', first_name='Alice', last_name='Persisted')
    made = own_server.api().ok('create_account', first_name='Api', last_name='Made', email_address='%s@example.com' % unique('api'),
                               password='api-pass-123', get_api_key=True)
    project = alice.new_project(title='persisted project')
    alice.write(project, 'notes/keep.txt', 'still here\n')
    alice.api.query({'public_paths': {'project_id': project, 'path': 'notes', 'description': 'shared notes'}})
    alice.api.query({'projects': {'project_id': project, 'users': {alice.account_id: {'hide': True}}}})
    noncloud = '%s@example.com' % unique('invitee')
    alice.api.ok('invite_noncloud_collaborators', project_id=project, to=noncloud, email='join', title='t', link2proj='http://x')
    assert own_server.stop() == 0

    again = own_server.start()
    assert (again['api_key'], again['account_id'], again['email']) == (info['api_key'], info['account_id'], info['email'])
    assert own_server.api().ok('ping')['event'] == 'pong'
    alice.api = own_server.api(alice.api_key)   # same key, but the new process has a new port
    assert alice.api.query({'accounts': {'account_id': None, 'last_name': None}}) == {'accounts': {'account_id': alice.account_id,
                                                                                                   'last_name': 'Persisted'}}
    assert own_server.api(made['api_key']).query({'accounts': {'account_id': None}})['accounts']['account_id'] == made['account_id']
    expected = {'project_id': project, 'title': 'persisted project', 'users': {alice.account_id: {'group': 'owner', 'hide': True}}}
    assert alice.project(project, 'title', 'users') == expected
    assert alice.read(project, 'notes/keep.txt') == 'still here\n'
    rows = alice.api.query({'public_paths': [{'project_id': project, 'path': None, 'description': None}]})['public_paths']
    assert rows == [{'project_id': project, 'path': 'notes', 'description': 'shared notes'}]
    assert [mail['to'] for mail in own_server.outbox() if mail['to'] == noncloud] == [noncloud]
    assert own_server.api().ok('user_auth', account_id=alice.account_id, password=alice.password)['event'] == 'user_auth_token'


def test_account_subcommand(own_server):
    own_server.start()
    admin = own_server.new_account('boss', first_name='Big', last_name='Boss', admin=True)
    plain = own_server.new_account('plain', cli=True)
    assert admin.api.ok('user_search', query='x', admin=True)['event'] == 'user_search_results'
    assert plain.api.error('user_search', query='x', admin=True) == 'must be logged in and a member of the admin group'
    assert admin.api.query({'accounts': {'first_name': None, 'last_name': None, 'email_address': None}})['accounts'] == {
        'first_name': 'Big', 'last_name': 'Boss', 'email_address': admin.email}
    assert plain.api.query({'accounts': {'account_id': None}})['accounts']['account_id'] == plain.account_id
    with pytest.raises(AssertionError):
        serve_cli('account', '--data-dir', own_server.data_dir, '--email', admin.email)   # the address is taken


def test_stats_subcommand(own_server):
    own_server.start()
    own_server.stats(reset=True)
    api = own_server.api()
    for ping in range(3):
        assert api.ok('ping', id='ping-%d' % ping)['id'] == 'ping-%d' % ping
    api.http400('ping', {'foo': 1})
    api.ok('user_search', query='nobody@example.com')
    stats = own_server.stats()
    assert stats['ping'] == {'calls': 4, 'http_status': {'200': 3, '400': 1}}
    assert stats['user_search'] == {'calls': 1, 'http_status': {'200': 1}}
    assert own_server.stats(reset=True) is not None
    assert own_server.stats().get('ping', {'calls': 0})['calls'] == 0


def test_stats_split_query_into_gets_and_sets(own_server):
    own_server.start()
    alice = own_server.new_account('alice')
    project = alice.new_project(title='counted')
    own_server.stats(reset=True)
    api = alice.api
    api.query({'accounts': {'account_id': None}})                                     # get: a null leaf
    api.query({'projects_all': [{'project_id': None, 'title': None}]})                # get, list form
    api.query({'projects': {'project_id': project, 'title': 'renamed'}})             # set: no null anywhere
    api.query({'projects': {'project_id': project, 'users': {alice.account_id: {'hide': False}}}})  # set, nested
    api.query({'projects': {'project_id': project, 'description': None}}, options=[{'set': True}])  # set by option
    api.query([{'accounts': {'account_id': None}}, {'projects': {'project_id': project, 'title': 'renamed'}}])  # a get and a set
    api.query_error({'projects': {'project_id': str(uuid.uuid4()), 'title': 'not mine'}})  # a set that fails
    api.query_error({'nosuchtable': {'x': None}})                                     # get refused by the engine
    api.query_error({'accounts': {'account_id': None}, 'projects': {'project_id': None}})  # refused before classifying
    api.http400('query', {'query': {'accounts': {'account_id': None}}, 'multi_response': True})  # refused by the dispatcher
    entry = own_server.stats()['query']
    assert (entry['calls'], entry['gets'], entry['sets']) == (10, 3, 7), entry
    assert entry['http_status'] == {'200': 9, '400': 1}
    assert alice.project(project, 'title')['title'] == 'renamed'
    assert own_server.stats(reset=True)['query']['gets'] == 4   # with the read-back just above
    assert 'query' not in own_server.stats()
    api.query({'accounts': {'account_id': None}})
    assert own_server.stats()['query'] == {'calls': 1, 'http_status': {'200': 1}, 'gets': 1, 'sets': 0}


def test_outbox_subcommand_lists_mail(own_server):
    own_server.start()
    alice = own_server.new_account('alice')
    project = alice.new_project()
    assert own_server.outbox() == []
    address = '%s@example.com' % unique('mailbox')
    alice.api.ok('invite_noncloud_collaborators', project_id=project, to=address, email='Please sign up.', title='Class Project',
                 link2proj='https://cocalc.example/projects/%s' % project)
    [mail] = own_server.outbox()
    assert mail['to'] == address and mail['subject'] == 'CoCalc Invitation' and mail['project_id'] == project
    assert 'Please sign up.' in mail['body'] and 'https://cocalc.example/projects/%s' % project in mail['body']
    assert set(mail) >= {'to', 'subject', 'body', 'time', 'kind'}


def test_no_secrets_in_the_server_log(own_server):
    own_server.start()
    alice = own_server.new_account('alice', password='very-secret-password-1')
    alice.api.ok('ping')
    alice.api.http400('ping', {'foo': 1})
    own_server.api().raw('ping', {}, key='sk_0000000000000000000001')
    own_server.api().ok('user_auth', account_id=alice.account_id, password='very-secret-password-1')
    own_server.api().call('user_auth', account_id=alice.account_id, password='wrong-secret-password')
    assert own_server.stop() == 0
    log = own_server.log_path.read_text(errors='replace')
    for secret in (alice.api_key, 'very-secret-password-1', 'wrong-secret-password', own_server.api_key):
        assert secret not in log
