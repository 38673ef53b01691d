"""Era 2026 (api/v2 and the conat bridges) beyond the replay: the transport's limits and pages, keys,
cookies, caches, the hub->project and bridge time limits, start states, confinement and the CLI.

The server runs with COCALC_LOCAL_TIME_SCALE=0.05, so its 60 s / 15 s / 30 s waits take 3 / 0.75 /
1.5 s here; every assertion on a wait says which recorded figure it stands for.
"""

import base64
import json
import subprocess
import time

import pytest
import requests

from cocalc_testlib import SERVE, ServerProcess, serve_cli, serve_command, unique

SCALE = 0.05
START_S = 0.5   # project starts take time (the start model of tests/server), short enough for the 3 s limit
MIB = 1024 * 1024


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp('era2026') / 'data', '2026', extra_args=('--start-seconds', str(START_S)),
                            env={'COCALC_LOCAL_TIME_SCALE': str(SCALE)})
    process.start()
    yield process
    assert process.stop() == 0, process.log_tail()


class Client:
    """One account's key, no cookies kept (a fresh requests call each time)."""

    def __init__(self, server, key, account_id=None):
        self.url, self.key, self.account_id = server.url, key, account_id

    def post(self, path, body=None, key=None, headers=None, data=None, timeout=60):
        headers = dict(headers or {})
        if (key or self.key) and 'Authorization' not in headers:
            headers['Authorization'] = 'Basic ' + base64.b64encode(('%s:' % (key or self.key)).encode()).decode()
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault('Content-Type', 'application/json')
        return requests.post(self.url + path, data=data, headers=headers, timeout=timeout, allow_redirects=False)

    def v2(self, route, **body):
        reply = self.post('/api/v2/' + route, body)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def ok(self, route, **body):
        value = self.v2(route, **body)
        assert not (isinstance(value, dict) and 'error' in value), value
        return value

    def hub(self, name, *args, **extra):
        return self.post('/api/conat/hub', dict({'name': name, 'args': list(args)}, **extra)).json()

    def project(self, project_id, name, *args, **extra):
        return self.post('/api/conat/project', dict({'project_id': project_id, 'name': name, 'args': list(args)}, **extra)).json()


def new_client(server, prefix='user', password=None):
    made = serve_cli('account', '--data-dir', server.data_dir, '--email', '%s@example.com' % unique(prefix),
                     '--first-name', prefix.capitalize(), '--last-name', 'Tester', '--password', password or 'pw-%s' % unique('x'))
    return Client(server, made['api_key'], made['account_id'])


@pytest.fixture
def alice(server):
    return new_client(server, 'alice')


@pytest.fixture
def bob(server):
    return new_client(server, 'bob')


# ---- keys and the CLI ---------------------------------------------------------------------------
def test_ready_line_and_serve_account_give_keys_of_the_api_keys_table(server, alice):
    assert server.api_key.startswith('sk-') and alice.key.startswith('sk-')
    assert alice.hub('system.test')['account_id'] == alice.account_id
    rows = alice.ok('api-keys', action='get')['response']
    assert [row['trunc'] for row in rows] == ['sk-...' + alice.key[-6:]]
    assert 'secret' not in rows[0] and alice.key not in json.dumps(rows)


def test_stats_are_keyed_by_route_and_bridge_function(server, alice):
    before = server.stats()
    alice.ok('user-query', query={'accounts': {'account_id': None}})
    alice.hub('system.ping')
    alice.post('/api/v2/user-query', data=b'{', headers={'Content-Type': 'application/json'})
    after = server.stats()

    def calls(name, status='200'):
        return after.get(name, {}).get('http_status', {}).get(status, 0) - before.get(name, {}).get('http_status', {}).get(status, 0)
    assert calls('user-query') == 1 and calls('user-query', '400') == 1
    assert calls('hub:system.ping') == 1


def test_stats_split_user_queries_into_gets_and_sets_like_v1s_query(server, alice):
    # The course and its benchmark count query sets as writes: both names of era 2026's user query are split.
    project_id = alice.ok('projects/create', title='counted')['project_id']
    before = server.stats()
    alice.ok('user-query', query={'accounts': {'account_id': None}})                                   # get
    alice.ok('user-query', query={'projects': {'project_id': project_id, 'title': 'renamed'}})         # set
    alice.ok('user-query', query={'projects': {'project_id': project_id, 'description': None}}, options=[{'set': True}])  # set
    alice.post('/api/v2/user-query', data=b'{', headers={'Content-Type': 'application/json'})          # refused: a set
    assert alice.hub('db.userQuery', {'query': {'accounts': {'account_id': None}}})['accounts']       # get
    alice.hub('db.userQuery', {'query': {'projects': {'project_id': project_id, 'title': 'again'}}})  # set
    after = server.stats()

    def split(name):
        return tuple(after[name][key] - before.get(name, {}).get(key, 0) for key in ('calls', 'gets', 'sets'))
    assert split('user-query') == (4, 1, 3)
    assert split('hub:db.userQuery') == (2, 1, 1)
    assert 'gets' not in after['projects/create']


def test_a_deleted_key_works_for_the_cache_time_then_never(server, alice):
    made = alice.ok('api-keys', action='create', name='short-lived')['response'][0]
    temp = made['secret']
    assert Client(server, temp).hub('system.test')['account_id'] == alice.account_id   # caches the lookup
    assert alice.ok('api-keys', action='delete', id=made['id']) == {}
    assert Client(server, temp).hub('system.test')['account_id'] == alice.account_id   # the recorded ~15 s
    time.sleep(16 * SCALE)
    assert Client(server, temp).hub('system.test') == {'error': 'must be signed in and MUST provide an api key (cookies are not allowed)'}
    assert Client(server, temp).v2('user-query', query={'accounts': {'account_id': None}}) == {
        'error': "FATAL: anonymous get queries not allowed for table 'accounts'"}


def test_expired_and_unknown_keys_are_anonymous_on_v2_and_refused_on_the_bridges(server, alice):
    expired = alice.ok('api-keys', action='create', name='old', expire='2020-01-01T00:00:00Z')['response'][0]['secret']
    for key in (expired, 'sk-notakey000000000000000001', 'garbage'):
        client = Client(server, key)
        assert client.hub('system.ping') == {'error': 'must be signed in and MUST provide an api key (cookies are not allowed)'}
        assert client.v2('projects/create', title='x') == {'error': 'user must be signed in'}
    assert alice.post('/api/conat/hub', {'name': 'system.ping', 'args': []}, headers={'Authorization': 'Token abc'}).json() == {
        'error': "Unknown authorization type 'Token'"}
    assert Client(server, None).hub('system.ping') == {'error': 'You must provide authentication via an API key.'}


# ---- transport --------------------------------------------------------------------------------
def test_body_limit_is_exactly_one_mebibyte(server, alice):
    project = alice.ok('projects/create', title='limits')['project_id']
    frame = json.dumps({'project_id': project, 'path': 'big.txt', 'content': ''}).encode()
    fill = MIB - len(frame)
    body = frame[:-2] + b'a' * fill + b'"}'
    assert len(body) == MIB
    reply = alice.post('/api/v2/projects/write-text-file', data=body, headers={'Content-Type': 'application/json'})
    assert reply.json() == {'status': 'ok'}
    reply = alice.post('/api/v2/projects/write-text-file', data=body[:-2] + b'a"}', headers={'Content-Type': 'application/json'})
    assert (reply.status_code, reply.text, reply.headers.get('Content-Type')) == (413, 'Body exceeded 1mb limit', None)
    reply = alice.post('/api/conat/project', data=body[:-2] + b'a"}', headers={'Content-Type': 'application/json'})
    assert (reply.status_code, reply.text) == (413, 'Body exceeded 1mb limit')


def test_pages_redirects_json_errors_and_cookies(server, alice):
    for path in ('/api/v1/ping', '/api/v2/no-such-route', '/api/v2/Exec'):
        reply = alice.post(path, {})
        assert reply.status_code == 404 and reply.headers['Content-Type'].startswith('text/html'), path
        assert '404 Page Not Found' in reply.text
    reply = alice.post('/api/v2/exec/', {})
    assert (reply.status_code, reply.headers['Location']) == (308, '/api/v2/exec')
    reply = alice.post('/api/v2/user-query', data=b'{"query":', headers={'Content-Type': 'application/json'})
    assert (reply.status_code, reply.text) == (400, 'Invalid JSON')
    # Without a JSON content type the body is not read.
    reply = alice.post('/api/conat/hub', data=b'{"name":"system.ping","args":[]}')
    assert reply.json() == {'error': "TypeError: Cannot read properties of undefined (reading 'split')"}
    for reply in (alice.post('/api/v2/projects/create', {'title': 'x'}, key='bad'), alice.post('/api/v1/ping', {})):
        assert 'connect.sid' in reply.cookies


def test_remember_me_cookie_wins_over_the_key_on_v2_only(server, alice):
    email = '%s@example.com' % unique('carol')
    reply = requests.post(server.url + '/api/v2/auth/sign-up', json={'terms': True, 'email': email, 'password': 'carol-pass-123',
                                                                     'firstName': 'Carol', 'lastName': 'Cole'}, timeout=30)
    carol = reply.json()['account_id']
    cookie = {'Cookie': 'remember_me=%s' % reply.cookies['remember_me']}
    assert alice.post('/api/v2/user-query', {'query': {'accounts': {'account_id': None}}}, headers=cookie).json() == {
        'query': {'accounts': {'account_id': carol}}}
    assert alice.post('/api/conat/hub', {'name': 'system.test', 'args': []}, headers=cookie).json()['account_id'] == alice.account_id
    # The cookie alone can make an API key; an ordinary account cannot sign others up.
    made = Client(server, None).post('/api/v2/api-keys', {'action': 'create', 'name': 'k'}, headers=cookie).json()
    assert made['response'][0]['account_id'] == carol
    assert alice.v2('auth/sign-up', terms=True, email='%s@example.com' % unique('dave'), password='dave-pass-123') == {
        'issues': {'api': "Error: Only users in the group 'admin' are allowed to create new users."}}


# ---- project calls: limits, start states, confinement --------------------------------------------
def test_hub_to_project_calls_give_up_after_the_60_s_limit(server, alice):
    project = alice.ok('projects/create', title='slow')['project_id']
    started = time.monotonic()
    assert alice.v2('exec', project_id=project, command='sleep', args=['30'], timeout=100) == {'error': 'undefined'}
    assert 60 * SCALE <= time.monotonic() - started < 60 * SCALE + 10


def test_bridge_timeout_default_and_raised(server, alice):
    project = alice.ok('projects/create', title='bridge')['project_id']
    answer = alice.project(project, 'system.exec', {'command': 'sleep', 'args': ['3']})
    assert answer == {'error': "timeout - callHub: subject='project.%s.0.api.-', name='system.exec', code='408' " % project}
    answer = alice.project(project, 'system.exec', {'command': 'sleep', 'args': ['1']}, timeout=5000)
    assert answer == {'type': 'blocking', 'stdout': '', 'stderr': '', 'exit_code': 0}


def test_start_stop_and_start_on_demand(server, alice):
    project = alice.ok('projects/create', title='states')['project_id']
    assert alice.hub('projects.state', {'project_id': project})['state'] == 'opened'
    assert alice.ok('projects/start', project_id=project) == {'status': 'ok'}
    assert alice.hub('projects.state', {'project_id': project})['state'] == 'running'
    assert alice.ok('projects/stop', project_id=project) == {'status': 'ok'}
    assert alice.hub('projects.state', {'project_id': project})['state'] == 'opened'
    started = time.monotonic()
    assert alice.ok('projects/write-text-file', project_id=project, path='a.txt', content='x') == {'status': 'ok'}
    assert time.monotonic() - started >= START_S   # the write started the stopped project and waited
    assert alice.hub('projects.state', {'project_id': project})['state'] == 'running'


def test_projects_get_lists_the_last_edited_first(server, alice):
    """v2 projects/get is ordered by last_edited, newest first (L318); projects/touch bumps it."""
    older = alice.ok('projects/create', title='older')['project_id']
    newer = alice.ok('projects/create', title='newer')['project_id']
    listed = [row['project_id'] for row in alice.ok('projects/get')]
    assert listed[:2] == [newer, older]
    alice.ok('projects/touch', project_id=older)
    listed = [row['project_id'] for row in alice.ok('projects/get')]
    assert listed[:2] == [older, newer]


def test_calls_to_a_starting_project_wait_for_the_start(server, alice):
    project = alice.ok('projects/create', title='starting', start=True)['project_id']
    assert alice.hub('projects.state', {'project_id': project})['state'] == 'starting'
    assert alice.ok('exec', project_id=project, command='echo', args=['up'])['stdout'] == 'up\n'
    assert alice.project(project, 'system.ping')['now'] > 0
    assert alice.hub('projects.state', {'project_id': project})['state'] == 'running'


def test_paths_stay_inside_the_project_home(server, alice):
    project = alice.ok('projects/create', title='confined')['project_id']
    outside = str(server.data_dir / ('escape-%s.txt' % unique('f')))
    answer = alice.v2('projects/write-text-file', project_id=project, path=outside, content='x')
    assert 'outside the project home directory' in answer['error']
    answer = alice.v2('projects/write-text-file', project_id=project, path='../../escape.txt', content='x')
    assert 'outside the project home directory' in answer['error']
    assert 'outside the project home directory' in alice.project(project, 'system.readTextFileFromProject', {'path': '/etc/passwd'})['error']
    assert 'outside the project home directory' in alice.v2('exec', project_id=project, command='pwd', path='/tmp')['error']
    assert not (server.data_dir / 'escape.txt').exists()


def test_no_batched_reads(server, alice):
    project = alice.ok('projects/create', title='batch')['project_id']
    answer = alice.v2('projects/call', project_id=project, mesg={'event': 'read_text_file_from_project', 'path': ['a', 'b']})
    assert answer['event'] == 'error' and 'Received an instance of Array' in answer['error']
    assert alice.v2('projects/call', project_id=[project], mesg={'event': 'ping'}) == {'error': 'callProject -- must specify project_id'}
    assert alice.project(project, 'system.readTextFileFromProject', {'path': ['a']})['error'].startswith('TypeError: The "path"')


def test_release_defects_are_kept(server, alice, bob):
    project = alice.ok('projects/create', title='defects')['project_id']
    ghost = '00000000-0000-4000-8000-%012d' % int(time.time() * 1000 % 10 ** 12)
    assert alice.ok('projects/collaborators/add', project_id=project, account_id=ghost) == {'status': 'ok'}
    assert alice.ok('projects/update', project_id=project, foo='bar') == {'status': 'ok'}
    assert Client(server, None).v2('accounts/search', query='nobody-%s@example.com' % unique('x')) == []
    alice.ok('projects/collaborators/add', project_id=project, account_id=bob.account_id)
    # A collaborator may make itself owner through user-query.
    bob.ok('user-query', query={'projects': {'project_id': project, 'users': {bob.account_id: {'group': 'owner'}}}})
    users = alice.ok('user-query', query={'projects': {'project_id': project, 'users': None}})['query']['projects']['users']
    assert users[bob.account_id] == {'group': 'owner'}


def test_latency_real_hub_uses_the_2026_figures(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SERVE.parent))
    from cocalc_hub.hub import Hub   # pylint: disable=import-outside-toplevel
    from cocalc_hub.v2 import latency   # pylint: disable=import-outside-toplevel
    hub = Hub(str(tmp_path), era='2026', latency='real-hub')
    try:
        assert (hub.starts.seconds, hub.stop_delay) == (7.5, 10.6)
        assert latency(hub, 'v2 hub') == pytest.approx(0.0217) and latency(hub, 'v2 project') == pytest.approx(0.100)
        assert latency(hub, 'conat project exec') == pytest.approx(0.0855)
    finally:
        hub.store.close()


def test_injected_faults_apply_to_routes_and_bridge_functions(server, alice):
    spec = {'seed': 1, 'rules': [{'endpoint': 'projects/get', 'mode': 'status_before', 'status': 503},
                                 {'endpoint': 'user-query', 'query': 'set', 'mode': 'status_after', 'status': 504},
                                 {'endpoint': 'hub:system.ping', 'mode': 'html200'}]}
    subprocess.run(serve_command('faults', '--data-dir', server.data_dir, json.dumps(spec)), check=True, timeout=60)
    try:
        before = server.stats()
        reply = alice.post('/api/v2/projects/get', {})
        assert reply.status_code == 503 and 'nginx' in reply.text
        assert alice.ok('user-query', query={'accounts': {'account_id': None}})['query']['accounts']['account_id'] == alice.account_id
        reply = alice.post('/api/v2/user-query', {'query': {'accounts': {'first_name': 'Faulty'}}})
        assert reply.status_code == 504   # processed, then the answer was lost
        reply = alice.post('/api/conat/hub', {'name': 'system.ping', 'args': []})
        assert reply.status_code == 200 and reply.headers['Content-Type'].startswith('text/html')
        after = server.stats()
        assert after['projects/get']['faults']['status_before'] == before.get('projects/get', {}).get('faults', {}).get('status_before', 0) + 1
    finally:
        subprocess.run(serve_command('faults', '--data-dir', server.data_dir, '--clear'), check=True, timeout=60)
    assert alice.ok('user-query', query={'accounts': {'first_name': None}})['query']['accounts']['first_name'] == 'Faulty'
