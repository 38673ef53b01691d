"""The era differences live in one profile object per era (cocalc_hub/eras.py); handlers read its facts.

- No server module but eras.py names an era or compares `era` (a source scan).
- A toy era made from the facts of `2024` or `guide` under another name answers a script of v1 calls
  exactly as that era does (in-process, through the v1 transport), and the script does tell the two
  eras apart; so no handler looks at the era's name.
- A toy era that changes single facts of 2024 gets those behaviours and keeps the rest.
"""

import base64
import io
import json
import re
import sys
import tokenize
from pathlib import Path

import pytest

HUB_DIR = Path(__file__).resolve().parents[1] / 'cocalc_hub'
sys.path.insert(0, str(HUB_DIR.parent))

from cocalc_hub import accounts, eras, transport  # noqa: E402  pylint: disable=wrong-import-position
from cocalc_hub.hub import Hub  # noqa: E402  pylint: disable=wrong-import-position

UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
ISO_RE = re.compile(r'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|\+00:00)')
KEY_RE = re.compile(r'sk_[A-Za-z0-9]{16,}')
EPOCH_MS_RE = re.compile(r'\b1\d{12}\b')


# -- the source keeps the shape ----------------------------------------------------------------------------------
def _code_tokens(path):
    with open(path, encoding='utf-8') as handle:
        return list(tokenize.generate_tokens(io.StringIO(handle.read()).readline))


@pytest.mark.parametrize('path', sorted(HUB_DIR.glob('*.py')), ids=lambda path: path.name)
def test_only_the_profiles_name_eras(path):
    """Era names appear as strings only in eras.py; nothing compares an era (hub.era, args.era) to anything."""
    if path.name == 'eras.py':
        return
    tokens = [token for token in _code_tokens(path) if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)]
    for index, token in enumerate(tokens):
        if token.type == tokenize.STRING and token.string.strip('\'"') in eras.ERAS:
            pytest.fail('%s:%d names the era %s: make it a fact of eras.Profile' % (path.name, token.start[0], token.string))
        if token.type == tokenize.NAME and token.string == 'era' and index + 1 < len(tokens) \
                and tokens[index + 1].string in ('==', '!=', 'in', 'not'):
            pytest.fail('%s:%d compares an era: read a fact of hub.profile instead' % (path.name, token.start[0]))
    source = path.read_text(encoding='utf-8')
    if path.name not in ('hub.py', 'cli.py'):
        assert 'PROFILES[' not in source, '%s picks a profile itself; handlers use hub.profile' % path.name


def test_every_fact_is_documented_and_a_profile_refuses_unknown_facts():
    assert 'invite_interval_days' in eras.FACTS and 'handler_class' not in eras.FACTS
    with pytest.raises(TypeError, match='unknown era fact'):
        eras.Profile('toy', invite_interval=3)
    assert eras.PROFILES['guide'].derive('toy').invite_interval_days == 7
    assert eras.PROFILES['2026'].derive('toy', invite_interval_days=2).key_maker is eras.PROFILES['2026'].key_maker


# -- the handlers consult only the profile ---------------------------------------------------------------------
class Session:
    """One in-process hub (no HTTP): calls go through transport.call, as the v1 HTTP handler makes them."""

    def __init__(self, data_dir, era=None, profile=None):
        self.hub = Hub(str(data_dir), era=era or '2024', start_seconds=0, profile=profile)
        self.keys = {}
        self.ids = {}
        for who, first, last, admin in (('admin', 'Ada', 'Admin', True), ('alice', 'Alice', 'Tester', False),
                                        ('bob', 'Bob', 'Builder', False)):
            account_id, key = accounts.create_record(self.hub.store, '%s@example.com' % who, first, last, 'pw-%s-123' % who,
                                                     admin=admin, with_key=True)
            self.keys[who], self.ids[who] = key, account_id
        self.keys['blank'] = ''

    def call(self, who, event, **body):
        header = 'Basic ' + base64.b64encode(('%s:' % self.keys[who]).encode()).decode()
        status, payload = transport.call(self.hub, event, json.loads(json.dumps(body)), header)
        if isinstance(payload, transport.HtmlError):
            return status, 'html', payload.status, payload.text
        return status, payload

    def ok(self, who, event, **body):
        status, payload = self.call(who, event, **body)
        assert status == 200 and payload.get('event') != 'error', (event, payload)
        return payload

    def normalized(self, value):
        text = json.dumps(value, sort_keys=True).replace(self.hub.data_dir, '<dir>')
        for who, account_id in self.ids.items():
            text = text.replace(account_id, '<%s>' % who)
        for pattern, placeholder in ((UUID_RE, '<uuid>'), (ISO_RE, '<time>'), (KEY_RE, '<key>'), (EPOCH_MS_RE, '"<ms>"')):
            text = pattern.sub(placeholder, text)
        return json.loads(text)

    def close(self):
        self.hub.store.close()


def script(session):
    """Calls whose answers depend on the era's facts; returns [(label, normalized answer)]."""
    s = session
    answers = []

    def record(label, who, event, **body):
        answers.append((label, s.normalized(s.call(who, event, **body))))

    project = s.ok('alice', 'create_project', title='mine', start=False)['project_id']
    other = s.ok('alice', 'create_project', title='other')['project_id']
    s.ok('alice', 'write_text_file_to_project', project_id=project, path='a.txt', content='hello\n')
    record('sign-up without anything', 'alice', 'create_account')
    record('sign-up without names or terms', 'alice', 'create_account', first_name='', last_name='X',
           email_address='new@example.com', password='secret-123', agreed_to_terms=False)
    record('sign-up asking for a key', 'alice', 'create_account', first_name='K', last_name='Key',
           email_address='key@example.com', password='secret-123', agreed_to_terms=True, get_api_key=True)
    record('search by words', 'alice', 'user_search', query='tester')
    record('search by prefix only', 'alice', 'user_search', query='uilder')
    record('search by id', 'alice', 'user_search', query=s.ids['bob'])
    record('search by an admin', 'admin', 'user_search', query='builder', admin=True)
    record('search with a blank key', 'blank', 'user_search', query='alice@example.com')
    record('multi_response', 'alice', 'query', query={'accounts': {'first_name': None}}, multi_response=True)
    record('support ticket', 'alice', 'get_support_tickets')
    record('start_metrics', 'alice', 'start_metrics', interval_s=1)
    record('touch_project', 'alice', 'touch_project', project_id=project)
    record('a 2024 field', 'alice', 'query', query={'projects': {'project_id': project, 'name': None}})
    record('a guide field list', 'alice', 'query', query={'accounts': {'account_id': None, 'tags': None}})
    record('exec', 'alice', 'project_exec', project_id=project, command='echo', args=['out'])
    record('exec failing', 'alice', 'project_exec', project_id=project, command='sh', args=['-c', 'echo o; echo e >&2; exit 3'])
    record('exec killed', 'alice', 'project_exec', project_id=project, command='sleep', args=['5'], timeout=1)
    record('copy denied', 'bob', 'copy_path_between_projects', src_project_id=project, src_path='a.txt',
           target_project_id=other)
    record('copy with exclude_history', 'alice', 'copy_path_between_projects', src_project_id=project, src_path='a.txt',
           target_project_id=other, target_path='b.txt', exclude_history=True)
    record('copy waiting', 'alice', 'copy_path_between_projects', src_project_id=project, src_path='a.txt',
           target_project_id=other, target_path='c.txt', wait_until_done=True)
    s.ok('alice', 'invite_collaborator', project_id=project, account_id=s.ids['bob'])
    record('rename by a collaborator', 'bob', 'query', query={'projects': {'project_id': project, 'name': 'bobs'}})
    return answers


@pytest.fixture(scope='module')
def answers(tmp_path_factory):
    """The script's answers per era, from the real profile and from a toy copy of its facts."""
    result = {}
    for era in ('2024', 'guide'):
        for kind, profile in (('real', None), ('toy', eras.PROFILES[era].derive('toy-%s' % era))):
            session = Session(tmp_path_factory.mktemp('%s-%s' % (kind, era)), era=era, profile=profile)
            try:
                assert session.hub.era == (era if profile is None else 'toy-%s' % era)
                result[(era, kind)] = script(session)
            finally:
                session.close()
    return result


@pytest.mark.parametrize('era', ['2024', 'guide'])
def test_a_toy_era_with_the_same_facts_answers_the_same(answers, era):
    real, toy = answers[(era, 'real')], answers[(era, 'toy')]
    for (label, expected), (_label, got) in zip(real, toy):
        assert got == expected, '%s: era %s answered %s, the toy era with its facts %s' % (label, era, expected, got)


def test_the_script_tells_the_eras_apart(answers):
    """Every call of the script answers differently in 2024 and guide, so the comparison above can fail."""
    same = [label for (label, one), (_label, other) in zip(answers[('2024', 'real')], answers[('guide', 'real')]) if one == other]
    assert not same, 'these calls answer alike in both eras, so they prove nothing: %s' % same


def test_a_toy_era_gets_the_facts_it_changes(tmp_path):
    toy = eras.PROFILES['2024'].derive(
        'toy', copy_denied_texts=('no reading %s', 'no writing %s'), invite_interval_days=0, exec_reports_type=False,
        support_tickets_deprecated=False, query_fields={('accounts', 'get'): ['account_id', 'first_name']})
    session = Session(tmp_path, profile=toy)
    try:
        project = session.ok('alice', 'create_project', title='toy')['project_id']
        theirs = session.ok('bob', 'create_project', title='theirs')['project_id']
        status, answer = session.call('alice', 'copy_path_between_projects', src_project_id=theirs, src_path='x',
                                      target_project_id=project)
        assert (status, answer['error']) == (200, 'no reading %s' % theirs)
        answer = session.ok('alice', 'project_exec', project_id=project, command='true')
        assert 'type' not in answer and answer['exit_code'] == 0
        assert session.call('alice', 'get_support_tickets')[1]['error'] == 'Support ticket backend is not available.'
        assert session.ok('alice', 'query', query={'accounts': {'first_name': None}})['query']['accounts']['first_name'] == 'Alice'
        assert 'last_name' in session.call('alice', 'query', query={'accounts': {'last_name': None}})[1]['error']
        for _time in range(2):
            session.ok('alice', 'invite_collaborator', project_id=project, account_id=session.ids['bob'], email='join us')
        # Interval 0: every invitation is mailed (2024's one a day would keep the second).
        assert [mail['to'] for mail in session.hub.store.outbox()] == ['bob@example.com'] * 2
        # Facts it did not change stay 2024's.
        assert session.call('alice', 'create_account')[1]['reason'] == {'other': 'Anonymous sign up is disabled.'}
    finally:
        session.close()
