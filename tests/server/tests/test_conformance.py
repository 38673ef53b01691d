"""Conformance: replay the real hub's recordings against a local 2024-era server and compare.

The recordings (recordings/*.jsonl, copied from the shared real-hub material) are one recorded session
(transcripts, 187 calls) and nine multi-step flows (250 calls) made after it by the same accounts. The
replay rebuilds that world on a fresh server through the API: accounts alice and bob (the recordings'
`as_account`), their projects, and the few steps the recording session made but did not keep (each
`hook_*` below says which). Every recorded request is then sent as recorded (method, path, content
type, body, auth form) with the recorded ids, keys and titles mapped to the local ones, in recording
order (flows in order per flow, see `ordered_cases`).

The comparison is exact on status, content type class (JSON or not) and body, after a normalizer that
only hides what must differ between two servers: ids (UUIDs, api keys, auth/secret tokens, process ids
and ports, public-path sha1s), times (ISO strings and epoch milliseconds), the home directory prefix and
the name of exec's temporary script. Known ids are mapped to role names (<alice>, <project:f122d520>),
so a users map still shows who is who. JSON key order and pretty-printing are ignored (parsed JSON is
compared). Two list rules apply: project lists keep only rows of projects this replay knows (the real
account also had projects from earlier, unrecorded runs), and `projects_all` lists without `order_by`
are compared as multisets (that table has no order; the real hub answered in heap order).

Cases that no local server can reproduce are skipped with an explicit reason (SKIPS and `auto_skip`);
the counts of replayed / matched / skipped cases are printed at the end of the test session.
"""

import base64
import hashlib
import json
import re
import urllib.parse
from pathlib import Path

import pytest

from cocalc_replay import SHA1_RE, Case, NotReplayable, Normalizer, ReplayRunner, Reply, replay_session
from cocalc_testlib import Api

RECORDINGS = Path(__file__).resolve().parent / 'recordings'

# Recorded ids of the world the recording session started with.
ALICE = '5134e292-3608-4e27-b5d1-645b92dc67fd'
BOB = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
ALICE_FIRST_PROJECT = '6207a6a7-eaaf-4759-9fae-67f717863d31'
BOB_FIRST_PROJECT = '24c6aa67-c860-4ba3-931f-aa7d2e824e2f'
BOB_PROJECT = 'd87317ce-c1a1-4d06-8aa6-2d7b7ab323f2'
FORM_PROJECT = '33863ce4-33a3-487c-b84b-13d690a5f715'
IMAGE_PROJECT = '98e19977-fca2-4730-b7dc-f044f32031b6'
API_TEST_PROJECT = 'f122d520-e70c-4812-8945-57fe8839a247'

CONFINED = ('the real hub (single-user mode, no sandbox) follows this path out of the project home; the local server '
            'confines every path to the home by design (issue 2), which tests/server/tests/test_files.py checks')
SKIPS = {
    'T131': CONFINED,
    'T132': CONFINED,
    'T151': 'records a race: the real hub answered before its background rsync had finished, so this read saw ENOENT '
            '("file appeared moments later"); the local server finishes small copies first (the read is still sent: '
            'it starts the target project, which later cases show running)',
    'F091': "ls -la prints the real host's owner, group, permission bits and dates",
    'F110': CONFINED,
    'F111': CONFINED,
    'F112': 'lists the file that the confined write of F110 did not create (see F110)',
    'F113': CONFINED,
    'F115': CONFINED,
    'F116': CONFINED,
    'F118': 'a directory read returns a bz2 tarball whose bytes depend on file times and owners (test_files checks the bz2 header)',
    'F178': 'exec working directory /tmp is outside the project home: confined by the local server by design (issue 2)',
    'F179': 'the recording redacted the output of pwd in the parent directory as "<server-dir>"',
}

# Skipped cases whose request is still sent, because later cases depend on its side effects.
SEND_ANYWAY = {'T151'}

# Rows dropped from both sides of one list comparison, with the reason.
EXCLUDED_ROWS = {
    'F001': ({ALICE_FIRST_PROJECT}, "alice's 'My First Project' was made by sign-up on the real hub (so it has no state); "
                                    'the replay can only make it with create_project, which sets state'),
}

ELIDED_RE = re.compile(r'<ELIDED \d+ chars, sha256 [0-9a-f]+\.\.\., see \'elided\'>')
PROJECT_LIST_TABLES = ('projects', 'projects_all')


# -- loading ------------------------------------------------------------------------------------------------
def _load(name):
    with open(RECORDINGS / name, encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]


def ordered_cases():
    """Transcripts in file order, then the flows in the order they were recorded.

    The flows file groups steps per flow, but start_stop steps 18 on were recorded after the
    files/copy/exec flows (their notes say so and their state shows exec's stop), so they run there.
    """
    cases = [Case('T%03d' % index, record) for index, record in enumerate(_load('transcripts-2024.jsonl'))]
    flows = [Case('F%03d' % index, record) for index, record in enumerate(_load('flows-2024.jsonl'))]
    late = [case for case in flows if case.record['flow'] == 'start_stop' and case.record['step'] >= 18]
    rest = [case for case in flows if case not in late]
    after_exec = max(i for i, case in enumerate(rest) if case.record['flow'] == 'exec') + 1
    return cases + rest[:after_exec] + late + rest[after_exec:]


CASES = ordered_cases()


def case_id(case):
    record = case.record
    label = record['endpoint'] or 'empty'
    if 'flow' in record:
        label = '%s-%s-%02d' % (record['flow'], label, record['step'])
    return '%s-%s' % (case.name, label)


def auto_skip(record):
    if record['http_status'] is None:
        return 'no response ever arrived on the real hub (it hung; the client gave up after 90 s)'
    if '<KEY_NEWSTYLE>' in record['auth']:
        return 'new-style sk- key from the api_keys table: the local server issues legacy keys only'
    if '<PROJECT_KEY>' in record['auth']:
        return 'project-scoped API key (api_keys.project_id): not issued by the local server'
    return None


# -- elided bodies ---------------------------------------------------------------------------------------------
def rebuild_elided(info):
    """Rebuild an elided string from its head (a repeated pattern), checked against the recorded sha256."""
    head = info['head']
    period = next(size for size in range(1, len(head) + 1) if all(head[i] == head[i % size] for i in range(len(head))))
    content = (head[:period] * (info['length'] // period + 1))[:info['length']]
    if hashlib.sha256(content.encode()).hexdigest() != info['sha256']:
        raise NotReplayable('cannot rebuild the elided %s' % info['where'])
    return content


# -- comparison rules of this era -------------------------------------------------------------------------------
def known_project_rows(result, known, excluded):
    """Keep only rows of projects both sides know (and drop explicitly excluded ones)."""
    if not isinstance(result, dict) or not isinstance(result.get('query'), dict):
        return result
    for table in PROJECT_LIST_TABLES:
        rows = result['query'].get(table)
        if isinstance(rows, list):
            result = dict(result, query=dict(result['query'], **{table: [
                row for row in rows if not isinstance(row, dict) or 'project_id' not in row
                or (row['project_id'] in known and row['project_id'] not in excluded)]}))
    return result


def unordered_lists(result, request):
    """projects_all has no default order (the real hub returned heap order): without order_by, compare as a multiset."""
    if not isinstance(request, dict) or any('order_by' in option for option in request.get('options') or [] if isinstance(option, dict)):
        return result
    if isinstance(result, dict) and isinstance(result.get('query'), dict) and isinstance(result['query'].get('projects_all'), list):
        rows = sorted(result['query']['projects_all'], key=lambda row: json.dumps(row, sort_keys=True))
        result = dict(result, query=dict(result['query'], projects_all=rows))
    return result


# -- hooks: steps the recording session made but did not keep ----------------------------------------------------
def hook_world(replay):
    """The accounts and projects that existed when the recording session started."""
    world, server = replay.world, replay.server
    alice = server.new_account(email='alice@example.com', first_name='Alice', last_name='Tester', password='alice-pass-12345', cli=True)
    bob = server.new_account(email='bob@example.com', first_name='Bob', last_name='Builder', password='bob-pass-12345', cli=True)
    world.bind(ALICE, alice.account_id, '<alice>')
    world.bind(BOB, bob.account_id, '<bob>')
    world.keys.update({'<KEY>': alice.api_key, '<KEY_BOB>': bob.api_key})
    world.bind_project(ALICE_FIRST_PROJECT, alice.new_project(title='My First Project'))
    # Bob must not use his key before T040, where the real hub still shows him as never active, so the
    # admin makes his projects and hands them over: add bob as owner, demote itself, leave.
    for recorded, title in ((BOB_FIRST_PROJECT, 'My First Project'), (BOB_PROJECT, "Bob's project")):
        admin = server.api()
        project = admin.ok('create_project', title=title)['project_id']
        admin.query({'projects': {'project_id': project, 'users': {bob.account_id: {'group': 'owner'}}}})
        admin.ok('invite_collaborator', project_id=project, account_id=server.account_id)
        admin.ok('remove_collaborator', project_id=project, account_id=server.account_id)
        users = admin.query({'projects_all': {'project_id': project, 'users': None}})['projects_all']['users']
        assert users == {bob.account_id: {'group': 'owner'}}, users
        world.bind_project(recorded, project)


def hook_restore_first_name(replay):
    """T049 renamed alice to 'Hacker'; the session renamed her back before T167 shows 'Alice' again."""
    replay.world.api('<KEY>').query({'accounts': {'first_name': 'Alice'}})


def hook_form_and_image_projects(replay):
    """Two projects T068 lists between '' (T065) and 'noPool' (T067): a form-encoded one and one with an image."""
    api = replay.world.api('<KEY>')
    reply = api.raw('create_project', form='title=Form+Project&description=form')
    replay.world.bind_project(FORM_PROJECT, reply.json['project_id'])
    replay.world.bind_project(IMAGE_PROJECT, api.ok('create_project', title='with image', image='ubuntu2204')['project_id'])


def hook_publish_notes(replay):
    """T082 lists a public path pub/notes.md of the API test project with disabled false."""
    replay.world.api('<KEY>').query({'public_paths': {'project_id': replay.world.local(API_TEST_PROJECT), 'path': 'pub/notes.md',
                                                      'description': 'a public path', 'disabled': False}})


def hook_disable_notes(replay):
    """T083 reads that path back 'after disable'."""
    replay.world.api('<KEY>').query({'public_paths': {'project_id': replay.world.local(API_TEST_PROJECT), 'path': 'pub/notes.md',
                                                      'disabled': True}})


def hook_make_sub(replay):
    """T118 runs pwd in an existing directory 'sub'."""
    replay.world.api('<KEY>').ok('project_exec', project_id=replay.world.local(API_TEST_PROJECT), command='mkdir', args=['-p', 'sub'])


def hook_unicode_file(replay):
    """T130 reads unicode.txt."""
    replay.world.api('<KEY>').ok('write_text_file_to_project', project_id=replay.world.local(API_TEST_PROJECT), path='unicode.txt',
                                 content='h\u00e9llo \u2713 \u6570\u5b66\n')


def hook_form_file(replay):
    """T134 reads form.txt, written form-encoded."""
    reply = replay.world.api('<KEY>').raw('write_text_file_to_project', form={
        'project_id': replay.world.local(API_TEST_PROJECT), 'path': 'form.txt', 'content': 'from a form'})
    assert reply.json['event'] == 'file_written_to_project', reply.json


def hook_overwrite_hello(replay):
    """T135 reads hello.txt 'after overwrite'."""
    replay.world.api('<KEY>').ok('write_text_file_to_project', project_id=replay.world.local(API_TEST_PROJECT), path='hello.txt',
                                 content='overwritten\n')


def hook_mixed_case_email(replay):
    """T165 reads alice's address 'after mixed-case change' (asking whether it is lowercased)."""
    answer = replay.world.api('<KEY>').call('change_email_address', account_id=replay.world.local(ALICE),
                                            new_email_address='Alice3@Example.COM', password='alice-pass-12345')
    assert answer['error'] is False, answer


def hook_email_back(replay):
    """T166 reads alice's address 'after change back'."""
    answer = replay.world.api('<KEY>').call('change_email_address', account_id=replay.world.local(ALICE),
                                            new_email_address='alice@example.com', password='alice-pass-12345')
    assert answer['error'] is False, answer


def hook_ban_ivy(replay):
    """T174: 'the account was banned in the DB' (the API has no way to ban)."""
    assert replay.server.ban_account('ivy@example.com')


def hook_flows_start(replay):
    """The flows (recorded after the transcripts) list the API test project without bob, whom T180 invited last."""
    replay.world.api('<KEY>').ok('remove_collaborator', project_id=replay.world.local(API_TEST_PROJECT), account_id=replay.world.local(BOB))


HOOKS = {
    'T000': hook_world,
    'T052': hook_restore_first_name,
    'T067': hook_form_and_image_projects,
    'T082': hook_publish_notes,
    'T083': hook_disable_notes,
    'T118': hook_make_sub,
    'T130': hook_unicode_file,
    'T134': hook_form_file,
    'T135': hook_overwrite_hello,
    'T165': hook_mixed_case_email,
    'T166': hook_email_back,
    'T174': hook_ban_ivy,
    'F000': hook_flows_start,
}


# -- the replay -------------------------------------------------------------------------------------------------------
class Replay(ReplayRunner):
    """The 2024 era's parts of the shared runner (cocalc_replay.ReplayRunner)."""

    CASES = CASES
    HOOKS = HOOKS
    SKIPS = SKIPS
    SEND_ANYWAY = SEND_ANYWAY

    def skip_reason(self, case):
        return SKIPS.get(case.name) or auto_skip(case.record)

    def _body(self, record):
        request = record['request']
        elided = {item['where']: item for item in record.get('elided', [])}
        if request is None:
            return None
        if isinstance(request, str):
            body = self.world.map_text(request)
            for where, info in elided.items():
                if where.startswith('request form field'):
                    body = ELIDED_RE.sub(lambda _: urllib.parse.quote_plus(rebuild_elided(info)), body)
            data = body.encode()
        else:
            body = self.world.map_request(request)
            if 'request.content' in elided:
                body['content'] = rebuild_elided(elided['request.content'])
            data = json.dumps(body).encode()   # the recorder's serialisation (json.dumps defaults)
        for info in elided.values():
            if 'whole_body_bytes' in info and len(data) != info['whole_body_bytes']:
                raise NotReplayable('the rebuilt body has %d bytes, the recorded one %d' % (len(data), info['whole_body_bytes']))
        return data

    def _auth(self, auth):
        """'none', 'Basic base64(<KEY>:)' or 'Bearer <KEY>' as an Authorization header (None: no header)."""
        if auth == 'none':
            return None
        auth = self.world.with_keys(auth)
        basic = re.fullmatch(r'Basic base64\((.*)\)', auth)
        if basic:
            return 'Basic ' + base64.b64encode(basic.group(1).encode()).decode()
        bearer = re.fullmatch(r'Bearer (.*)', auth)
        if bearer:
            return 'Bearer ' + bearer.group(1)
        raise ValueError('unknown auth description %r' % auth)

    def send(self, case):
        record = case.record
        api = Api(self.server.url, None)
        header = self._auth(record['auth'])
        reply = api.raw(None, data=self._body(record), content_type=record['content_type'], auth=None, header=header,
                        method=record['method'], path=record['url_path'], timeout=60)
        return Reply(reply.status, reply.content_type, reply.text, reply.json)

    def learn(self, record, reply):
        """New recorded ids (projects, accounts, keys, public paths) get the ids of the local server."""
        self._learn_public_path_ids(record['response'])
        expected, actual = record['response'], reply.json
        if not isinstance(expected, dict) or not isinstance(actual, dict):
            return
        if expected.get('event') == 'project_created' and actual.get('event') == 'project_created':
            self.world.bind_project(expected['project_id'], actual['project_id'])
        if expected.get('event') == 'account_created' and actual.get('event') == 'account_created':
            self.world.bind(expected['account_id'], actual['account_id'], '<account:%s>' % expected['account_id'][:8])
            if 'api_key' in expected and 'api_key' in actual:
                first = (record['request'].get('first_name') or 'X').upper()
                self.world.keys['<KEY_%s>' % first] = actual['api_key']

    def _learn_public_path_ids(self, value):
        """A recorded public path id is sha1(recorded project_id + path); its local twin uses the local project_id."""
        if isinstance(value, list):
            for item in value:
                self._learn_public_path_ids(item)
        elif isinstance(value, dict):
            if all(isinstance(value.get(name), str) for name in ('id', 'project_id', 'path')) and SHA1_RE.fullmatch(value['id']) \
                    and value['project_id'] in self.world.recorded_to_symbol and value['id'] not in self.world.recorded_to_symbol:
                local = hashlib.sha1((self.world.local(value['project_id']) + value['path']).encode()).hexdigest()
                self.world.bind(value['id'], local, '<public-path:%s>' % value['id'][:8])
            for item in value.values():
                self._learn_public_path_ids(item)

    @staticmethod
    def _expected_json(record):
        expected = record['response']
        for item in record.get('elided', []):
            if item['where'] == 'response.content':
                expected = dict(expected, content=rebuild_elided(item))
        return expected

    def normalized(self, case, record, reply):
        expected = Normalizer(self.world.recorded_to_symbol)(self._expected_json(record))
        actual = Normalizer(self.world.local_to_symbol, str(self.server.projects_dir))(reply.json)
        known = set(self.world.symbol_to_local)
        excluded_ids = EXCLUDED_ROWS.get(case.name, (set(), None))[0]
        excluded = {self.world.recorded_to_symbol.get(recorded, recorded) for recorded in excluded_ids}
        expected = unordered_lists(known_project_rows(expected, known, excluded), record['request'])
        actual = unordered_lists(known_project_rows(actual, known, excluded), record['request'])
        return expected, actual

    def describe(self, case, record):
        request = record['request'] if isinstance(record['request'], (dict, type(None))) else record['request'][:300]
        return '%s %s %s (as %s, auth %s): %s\nrequest: %s\nnote: %s' % (
            case.name, record['method'], record['url_path'], record['as_account'], record['auth'], record['endpoint'],
            json.dumps(request, ensure_ascii=False)[:600], record['note'])

    def summary_head(self, counts):
        return ('conformance replay of %d recorded cases (%d transcripts, %d flow steps): replayed %d, matched %d, '
                'mismatched %d, skipped %d' % (len(self.results), sum(1 for name in self.results if name.startswith('T')),
                                               sum(1 for name in self.results if name.startswith('F')),
                                               counts['match'] + counts['mismatch'], counts['match'], counts['mismatch'],
                                               counts['skip']))

    def summary_notes(self):
        return ['  %s compares without %d row(s): %s' % (name, len(ids), reason) for name, (ids, reason) in EXCLUDED_ROWS.items()]


@pytest.fixture(scope='module')
def replay(tmp_path_factory, request):
    yield from replay_session(tmp_path_factory, request, '2024', Replay)


@pytest.mark.parametrize('case', CASES, ids=[case_id(case) for case in CASES])
def test_recorded_case(replay, case):
    result = replay.result(case)
    if result.outcome == 'skip':
        pytest.skip(result.report)
    assert result.outcome == 'match', result.report


def test_recordings_are_complete():
    """The replay covers every recorded line, and every hook, skip and exclusion names a real case."""
    names = {case.name for case in CASES}
    assert len(CASES) == 187 + 250 and len(names) == len(CASES)
    assert set(HOOKS) | set(SKIPS) | set(EXCLUDED_ROWS) <= names
    assert [case.name for case in CASES[:187]] == ['T%03d' % i for i in range(187)]
