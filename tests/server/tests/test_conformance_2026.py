"""Conformance of era 2026: replay the real current CoCalc's recordings (api/v2 and the conat bridges).

recordings/transcripts-2026.jsonl (a copy of ../shared/real-hub-2026) is one recorded session of 325
exchanges. The replay rebuilds its world on a fresh `--era 2026` server (accounts alice and bob with
their keys, the two projects that existed before the first line, and the few steps the session made
without recording them: each `hook_*` says which), then sends every line as recorded (method, path,
content type, body, auth form; the remember_me cookie where the session carried one) with recorded ids
and keys mapped to local ones, in file order, and compares status, content type class and body after
the 2024 replay's normalizer (ids, times, home prefix) plus this era's own volatile values (API key
ids and truncations, secrets, epoch times, process ids, file mtimes).

The server runs with COCALC_LOCAL_TIME_SCALE=0.2: its fixed waits (the 60 s hub->project limit, the
15 s bridge timeout, the 15 s / 30 s caches) are five times shorter, and the hooks that stand for the
session's waits ("16 s after delete") wait a fifth as long. Lines no local server can reproduce are
skipped with a reason per category (SKIPS); the counts are printed at the end of the session.
"""

import base64
import json
import re
import time
from pathlib import Path

import pytest

from cocalc_replay import Case, Normalizer, ReplayRunner, Reply, replay_session
from cocalc_testlib import Api, serve_cli

RECORDINGS = Path(__file__).resolve().parent / 'recordings'
TIME_SCALE = 0.2

ALICE = '47e341d6-38a5-4518-a3f0-a3dcd54853b3'
BOB = 'aee36854-1d3e-4fb5-b1fd-44f2114fca7a'
P1 = 'ff93fae1-974d-43e7-ad67-e6ee6f769d18'
P2 = '9672a713-94c4-4b65-8b7b-8185b0f2ece2'
P3 = 'b75a4d05-12ef-4c97-a667-d59461a2da20'
ASYNC_JOB = '392f6c84-9dde-4e25-b5e5-dacf4d432a42'   # the job L212 starts (sleep 2)
ALICE_PASSWORD = 'alice-password-123'

CONFINED = ('the real single-user hub follows this path out of the project home; the local server confines every '
            'path to the home by design (issue 2; test_era2026.py checks the refusal)')
HOST = "the output shows the recording host's user (root), file dates or random bytes"
SKIPS = {
    'L023': 'the healthcheck text holds the server uptime',
    'L148': CONFINED,
    'L173': HOST,
    'L174': HOST,
    'L175': HOST,
    'L181': CONFINED,
    'L190': HOST,
    'L192': HOST,
    'L196': HOST,
    'L197': CONFINED,
    'L119': "alice's accounts.last_active (23:49:25, bob's none) comes from activity the session did not record, and the "
            'rows come in an order that follows it; the local server does not invent activity',
    'L243': 'the real hub lists a third public path of P1 without a path, which no recorded call made',
    'L142': 'bob has been a collaborator of P3 since L137 (L138 lists him), yet the real hub answered "user must be a '
            'collaborator": an unrecorded step or a stale check the recording does not show',
    'L251': 'the share server HTML page (79 s on the real hub with the share server off) is not emulated; the collection '
            'never reads it',
}
# Skipped lines whose request is still sent, because later lines depend on their side effects.
SEND_ANYWAY = {'L173', 'L190', 'L192'}
# Lines sent with carol's remember_me cookie: the recording session kept the cookie of its sign-up
# (the CAVEAT notes of L267-L283) and sent it again for the cookie tests L306-L308.
WITH_COOKIE = {'L%03d' % number for number in list(range(267, 284)) + [306, 307, 308]}

# L166: readdir order of the recording host's file system. L318: projects/get is ordered by last_edited, which
# the hub bumps at most every 30 s per project and user; the replay does not keep the recording's pace, so
# which edits of P1 and P2 count differs from run to run (test_era2026 checks the order itself).
UNSORTED_LISTS = {'L166': 'name', 'L318': 'project_id'}
# Lists of tables without an order (PostgreSQL heap order on the real hub): compared as multisets.
UNORDERED_TABLES = ('projects_all', 'public_paths')


def _load():
    with open(RECORDINGS / 'transcripts-2026.jsonl', encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]


CASES = [Case('L%03d' % number, record) for number, record in enumerate(_load(), 1)]


class Normalizer2026(Normalizer):
    """The 2024 replay's normalizer plus this era's volatile values."""

    SECRETS = {'secret': '<api_key>', 'secret_token': '<secret_token>'}
    NUMBERS = {'pid', 'project.pid', 'hub-server.port', 'browser-server.port', 'elapsed_s'}

    def __call__(self, value, key=None):
        if key in self.SECRETS and isinstance(value, str):
            return self.SECRETS[key]
        if key in self.NUMBERS and isinstance(value, (int, float)):
            return '<number>'
        if key == 'stats' and isinstance(value, list):
            return '<stats>'
        if key == 'mtime' and isinstance(value, (int, float)):
            return '<mtime>'
        if isinstance(value, dict) and 'trunc' in value:
            value = dict(value, id='<key-id>', trunc='<trunc>')
        if isinstance(value, str) and re.fullmatch(r'sk-[A-Za-z0-9]{20,}', value):
            return '<api_key>'
        return super().__call__(value, key)


def unordered(result):
    if isinstance(result, dict) and isinstance(result.get('query'), dict):
        for table in UNORDERED_TABLES:
            rows = result['query'].get(table)
            if isinstance(rows, list):
                result = dict(result, query=dict(result['query'], **{table: sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))}))
    return result


class Replay(ReplayRunner):
    """Era 2026's parts of the shared runner (cocalc_replay.ReplayRunner); CASES, HOOKS and SKIPS are set below."""

    SEND_ANYWAY = SEND_ANYWAY

    def __init__(self, server):
        super().__init__(server)
        self.key_ids = {}       # recorded api key id -> local id
        self.cookie = None      # carol's remember_me

    # -- helpers for hooks ----------------------------------------------------------------------
    def v2(self, route, body, key='<KEY>', cookie=False):
        headers = {'Cookie': 'remember_me=%s' % self.cookie} if cookie else {}
        reply = Api(self.server.url, self.world.keys[key]).session.post(
            '%s/api/v2/%s' % (self.server.url, route), json=body, headers=headers,
            auth=(self.world.keys[key], ''), timeout=60)
        value = reply.json()
        assert not (isinstance(value, dict) and 'error' in value), (route, value)
        return value

    def conat(self, name, args, key='<KEY>'):
        reply = Api(self.server.url, self.world.keys[key]).session.post(
            '%s/api/conat/hub' % self.server.url, json={'name': name, 'args': args}, auth=(self.world.keys[key], ''),
            timeout=60)
        value = reply.json()
        assert not (isinstance(value, dict) and 'error' in value), (name, value)
        return value

    # -- the runner's parts ---------------------------------------------------------------------
    def _map(self, value):
        value = self.world.map_request(value)
        if isinstance(value, dict) and isinstance(value.get('id'), int):
            value = dict(value, id=self.key_ids.get(value['id'], value['id']))
        if isinstance(value, dict) and isinstance(value.get('args'), list) and value['args'] \
                and isinstance(value['args'][0], dict) and isinstance(value['args'][0].get('id'), int):
            value = dict(value, args=[dict(value['args'][0], id=self.key_ids.get(value['args'][0]['id'], value['args'][0]['id']))]
                         + value['args'][1:])
        return value

    def _data(self, record):
        request = record['request']
        if isinstance(request, dict):
            request = self._map(request)
            if record['url_path'] == '/api/v2/projects/write-text-file' and isinstance(request.get('content'), str) \
                    and re.fullmatch(r"<(\d+) chars 'a\.\.\.a\\n'>", request['content']):
                size = int(re.fullmatch(r"<(\d+) chars", request['content'][:request['content'].index(' chars') + 6]).group(1))
                request['content'] = 'a' * (size - 1) + '\n'
            args = request.get('args')
            if isinstance(args, list) and args and isinstance(args[0], dict) and isinstance(args[0].get('content'), str):
                found = re.fullmatch(r'<(\d+) chars>', args[0]['content'])
                if found:
                    args[0] = dict(args[0], content='a' * (int(found.group(1)) - 1) + '\n')
            return json.dumps(request).encode()
        if isinstance(request, str):
            return self.world.map_text(request).encode()
        return None

    def send(self, case):
        record = case.record
        header = self._auth(record['auth'])
        headers = {'Authorization': header} if header else {}
        if record['content_type']:
            headers['Content-Type'] = record['content_type']
        if case.name in WITH_COOKIE and self.cookie:
            headers['Cookie'] = 'remember_me=%s' % self.cookie
        api = Api(self.server.url, None)
        reply = api.session.request(record['method'], self.server.url + record['url_path'], data=self._data(record),
                                    headers=headers, timeout=120, allow_redirects=False)
        if 'remember_me' in reply.cookies:
            self.cookie = reply.cookies['remember_me']
        content_type = reply.headers.get('Content-Type', '')
        parsed = reply.json() if content_type.startswith('application/json') else None
        return Reply(reply.status_code, content_type, reply.text, parsed)

    def _auth(self, auth):
        """'none', 'Basic <KEY>:' (the user part of Basic auth), 'Bearer <KEY>' or a literal header."""
        if auth == 'none':
            return None
        # A key no earlier line or hook made is a failure of this replay, not a case to skip.
        auth = self.world.with_keys(auth, missing=AssertionError)
        if auth.startswith('Basic '):
            return 'Basic ' + base64.b64encode(auth[len('Basic '):].encode()).decode()
        return auth

    def learn(self, record, reply):
        expected, actual = record['response'], reply.json
        path = record['url_path']
        request = record['request'] if isinstance(record['request'], dict) else {}
        if path == '/api/v2/projects/create' and isinstance(expected, dict) and 'project_id' in expected and actual:
            self.world.bind_project(expected['project_id'], actual['project_id'])
        if request.get('name') == 'projects.createProject' and isinstance(expected, str) and isinstance(actual, str):
            self.world.bind_project(expected, actual)
        if path == '/api/v2/auth/sign-up' and isinstance(expected, dict) and 'account_id' in expected \
                and isinstance(actual, dict) and 'account_id' in actual and expected['account_id'] not in self.world.recorded_to_symbol:
            self.world.bind(expected['account_id'], actual['account_id'], '<account:%s>' % expected['account_id'][:8])
        if isinstance(expected, dict) and expected.get('type') == 'async' and isinstance(actual, dict) and 'job_id' in actual \
                and expected['job_id'] not in self.world.recorded_to_symbol:
            self.world.bind(expected['job_id'], actual['job_id'], '<job:%s>' % expected['job_id'][:8])
        self._learn_keys(expected, actual)

    def _learn_keys(self, expected, actual):
        rows_expected = expected.get('response') if isinstance(expected, dict) else expected
        rows_actual = actual.get('response') if isinstance(actual, dict) else actual
        if isinstance(rows_expected, list) and isinstance(rows_actual, list) and len(rows_expected) == len(rows_actual):
            for old, new in zip(rows_expected, rows_actual):
                if isinstance(old, dict) and isinstance(new, dict) and 'trunc' in old and 'trunc' in new:
                    self.key_ids.setdefault(old['id'], new['id'])
                    if 'secret' in new:
                        name = '<EXPIRED_KEY>' if old.get('name') == 'expired' else '<NEW_TEMP_KEY>'
                        if old.get('name') != 'conat-created':
                            self.world.keys[name] = new['secret']

    def normalized(self, case, record, reply):
        expected = unordered(Normalizer2026(self.world.recorded_to_symbol)(record['response']))
        actual = unordered(Normalizer2026(self.world.local_to_symbol, str(self.server.projects_dir))(reply.json))
        if case.name in UNSORTED_LISTS:
            field = UNSORTED_LISTS[case.name]
            expected, actual = (sorted(side, key=lambda row: row[field]) if isinstance(side, list) else side
                                for side in (expected, actual))
        return expected, actual

    def describe(self, case, record):
        return '%s %s %s (auth %s)\nrequest: %s\nnote: %s' % (
            case.name, record['method'], record['url_path'], record['auth'], json.dumps(record['request'])[:600], record['note'])

    def summary_head(self, counts):
        return ('conformance replay of era 2026: %d recorded lines, replayed %d, matched %d, mismatched %d, skipped %d'
                % (len(self.results), counts['match'] + counts['mismatch'], counts['match'], counts['mismatch'], counts['skip']))


# -- hooks: the world before the first line, and steps the session made without recording them -------------
def hook_world(replay):
    server, world = replay.server, replay.world
    made = {}
    for who, first, last, email in (('alice', 'Alice', 'Anders', 'alice@example.com'), ('bob', 'Bob', 'Berg', 'bob@example.com')):
        made[who] = serve_cli('account', '--data-dir', server.data_dir, '--email', email, '--first-name', first,
                              '--last-name', last, '--password', '%s-password-123' % who)
    world.bind(ALICE, made['alice']['account_id'], '<alice>')
    world.bind(BOB, made['bob']['account_id'], '<bob>')
    world.keys.update({'<KEY>': made['alice']['api_key'], '<KEY_OTHER>': made['bob']['api_key'],
                       '<A_KEY>': 'sk-NotAKeyOfThisServer0000001'})
    # The recording's keys were named after the session; key 1 is alice's.
    rows = replay.v2('api-keys', {'action': 'get'})['response']
    replay.v2('api-keys', {'action': 'edit', 'id': rows[0]['id'], 'name': 'modernhub-Alice'})
    replay.key_ids[1] = rows[0]['id']


def hook_p1(replay):
    """P1 ('P1 v2-created', listed first by L047) was made between L042, which sees no project yet, and L043."""
    made = replay.v2('projects/create', {'title': 'P1 v2-created', 'description': 'made by v2 projects/create', 'image': 'ubuntu2204'})
    replay.world.bind_project(P1, made['project_id'])


def hook_p3(replay):
    """L047 lists 'P3 conat-created', made between L045 and L046 through the hub bridge."""
    replay.world.bind_project(P3, replay.conat('projects.createProject', [{'title': 'P3 conat-created',
                                                                           'description': 'via conat hub'}]))


def hook_restore_p3(replay):
    """L079 reads P3's deleted flag 'after restore' (an unrecorded projects/restore)."""
    replay.v2('projects/restore', {'project_id': replay.world.local(P3)})


def hook_wait_bridge_cache(replay):
    """L184 ran more than 30 s after bob's last bridge call (L169), which cached 'member': the recording
    spent 60 s in L181, which this replay skips."""
    time.sleep(30 * TIME_SCALE)


def hook_last_name_back(replay):
    """L258 reads last_name 'Anders' again after L252 set 'Anders-Smith'."""
    replay.v2('user-query', {'query': {'accounts': {'last_name': 'Anders'}}})


def hook_wait_async_job(replay):
    """L214 reads the async job (sleep 2) 'after completion': wait as long as the real hub's 2 s, and on a
    busy machine until the job says it completed (asking with async_get, which changes nothing)."""
    time.sleep(2.5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and replay.v2('exec', {'project_id': replay.world.local(P1),
                                                             'async_get': replay.world.local(ASYNC_JOB)})['status'] == 'running':
        time.sleep(0.5)


def hook_start_p1(replay):
    """L091 reads P1's state 'after start' (an unrecorded start)."""
    replay.v2('projects/start', {'project_id': replay.world.local(P1)})


def hook_promote_bob(replay):
    """L121 shows bob promoted to owner of P1 'after promote'."""
    replay.v2('projects/collaborators/change-user-type',
              {'project_id': replay.world.local(P1), 'target_account_id': replay.world.local(BOB), 'new_group': 'owner'})


def hook_sub(replay):
    """L154 writes onto an existing directory 'sub' of P1 (with one entry, as L166 lists it)."""
    replay.v2('projects/write-text-file', {'project_id': replay.world.local(P1), 'path': 'sub/inner.txt', 'content': 'inner'})


def hook_remove_bob(replay):
    """L182-L184 run 'B removed from P1'."""
    replay.v2('projects/collaborators/remove', {'project_id': replay.world.local(P1), 'account_id': replay.world.local(BOB)})


def hook_copy_hello(replay):
    """L221 verifies copied/hello.txt in P2, copied by an unrecorded copy-path."""
    replay.v2('projects/copy-path', {'src_project_id': replay.world.local(P1), 'path': 'hello.txt',
                                     'target_project_id': replay.world.local(P2), 'target_path': 'copied/hello.txt'})


def hook_carol_deletes_key(replay):
    """L281 uses carol's temp key 'immediately after delete'."""
    replay.v2('api-keys', {'action': 'delete', 'id': replay.key_ids[3]}, cookie=True)


def hook_wait_key_cache(replay):
    """L282 / L300: '16 s after delete' (the server's caches run at TIME_SCALE)."""
    time.sleep(16 * TIME_SCALE)


def hook_alice_expiring_key(replay):
    """L309 lists alice's key 8 'expiring', made between L289 and L290."""
    row = replay.v2('api-keys', {'action': 'create', 'name': 'expiring', 'expire': '2030-01-01T00:00:00Z'})['response'][0]
    replay.key_ids[8] = row['id']


def hook_alice_deletes_key(replay):
    """L299 uses alice's temp key 'immediately after delete'."""
    replay.v2('api-keys', {'action': 'delete', 'id': replay.key_ids[7]})


def hook_project_key(replay):
    """L302-L305 use a project key of P1 named 'project key'."""
    row = replay.v2('api-keys', {'action': 'create', 'name': 'project key', 'project_id': replay.world.local(P1)})['response'][0]
    replay.key_ids[10] = row['id']
    replay.world.keys['<PROJECT_KEY>'] = row['secret']


HOOKS = {
    'L001': hook_world,
    'L043': hook_p1,
    'L046': hook_p3,
    'L079': hook_restore_p3,
    'L184': hook_wait_bridge_cache,
    'L257': hook_last_name_back,
    'L214': hook_wait_async_job,
    'L091': hook_start_p1,
    'L121': hook_promote_bob,
    'L154': hook_sub,
    'L182': hook_remove_bob,
    'L221': hook_copy_hello,
    'L281': hook_carol_deletes_key,
    'L282': hook_wait_key_cache,
    'L290': hook_alice_expiring_key,
    'L299': hook_alice_deletes_key,
    'L300': hook_wait_key_cache,
    'L302': hook_project_key,
}


Replay.CASES, Replay.HOOKS, Replay.SKIPS = CASES, HOOKS, SKIPS


@pytest.fixture(scope='module')
def replay(tmp_path_factory, request):
    yield from replay_session(tmp_path_factory, request, '2026', Replay, env={'COCALC_LOCAL_TIME_SCALE': str(TIME_SCALE)})


@pytest.mark.parametrize('case', CASES, ids=['%s-%s' % (case.name, case.record['url_path'].strip('/').replace('/', '.'))
                                             for case in CASES])
def test_recorded_line(replay, case):
    outcome, report = replay.result(case)
    if outcome == 'skip':
        pytest.skip(report)
    assert outcome == 'match', report


def test_recording_is_complete():
    """Every line of the shared file is a case, and every hook and skip names a real line."""
    names = {case.name for case in CASES}
    assert len(CASES) == 325 == len(names)
    assert set(HOOKS) | set(SKIPS) | WITH_COOKIE | set(UNSORTED_LISTS) <= names
