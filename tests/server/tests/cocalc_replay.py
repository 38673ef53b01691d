"""The conformance replay runner shared by every era (test_conformance.py: 2024, test_conformance_2026.py: 2026).

An era's replay gives its recorded cases (name, record) in order, its hooks (steps the recording session
made but did not keep, run before the case they name), its skips, and four parts of its own: how a
case is sent, what the replay learns from an answer (the local twins of recorded ids and keys), how a
JSON body is normalized for the comparison, and its summary line. The rest is here: running cases in
order up to the one asked for, skipping, comparing status, content type class and body, the diff of a
mismatch, the skip lines of the summary, and the server's life (the `replay_session` fixture body).

The normalizer hides only what must differ between two servers: ids (UUIDs, api keys, auth/secret
tokens, process ids and ports, public-path sha1s), times (ISO strings and epoch milliseconds), the home
directory prefix and the name of exec's temporary script. Known ids are mapped to role names (<alice>,
<project:f122d520>), so a users map still shows who is who.
"""

import collections
import difflib
import hashlib
import json
import re
import time

from cocalc_testlib import INSTANT_STARTS, Api, ServerProcess

ISO_RE = re.compile(r'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z')
UUID_RE = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
SHA1_RE = re.compile(r'\b[0-9a-f]{40}\b')
LEGACY_KEY_RE = re.compile(r'\bsk_[A-Za-z0-9]{16,}\b')
SCRIPT_RE = re.compile(r"(?:/[^\s'/]+)*/cocalc-[^/\s']+/a\.sh")
# get_usernames iterates a form string character by character and names the first one: that one is part of an id.
FIRST_CHAR_RE = re.compile(r'invalid uuid (\S) in account_ids -- "(%s)"' % UUID_RE.pattern)
SECRET_FIELDS = {'api_key': '<api_key>', 'auth_token': '<auth_token>', 'secret_token': '<secret_token>'}
NUMERIC_ID_FIELDS = {'project.pid', 'hub-server.port', 'browser-server.port'}
TRUNCATED_RE = re.compile(r'(.*)\.\.\.<truncated by recorder, total (\d+) chars>', re.S)

Case = collections.namedtuple('Case', 'name record')
Result = collections.namedtuple('Result', 'outcome report')   # outcome: match | mismatch | skip


class NotReplayable(Exception):
    """A case this replay cannot send (a key no earlier case made, an elided body that cannot be rebuilt)."""


def collapse(text):
    return ' '.join(text.split())


# -- the world: recorded ids and their local twins ---------------------------------------------------------------
class World:
    def __init__(self, server):
        self.server = server
        self.recorded_to_symbol = {}
        self.local_to_symbol = {}
        self.symbol_to_local = {}
        self.keys = {}

    def bind(self, recorded, local, symbol=None):
        symbol = symbol or '<%s:%s>' % ('id', recorded[:8])
        self.recorded_to_symbol[recorded] = symbol
        self.local_to_symbol[local] = symbol
        self.symbol_to_local[symbol] = local

    def bind_project(self, recorded, local):
        self.bind(recorded, local, '<project:%s>' % recorded[:8])

    def local(self, recorded):
        return self.symbol_to_local[self.recorded_to_symbol[recorded]]

    def api(self, placeholder):
        return Api(self.server.url, self.keys[placeholder])

    # requests: recorded ids -> local ids
    def map_text(self, text):
        for recorded in sorted(self.recorded_to_symbol, key=len, reverse=True):
            if recorded in text:
                text = text.replace(recorded, self.local(recorded))
        return text

    def map_request(self, value):
        if isinstance(value, dict):
            return {self.map_text(key): self.map_request(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.map_request(item) for item in value]
        if isinstance(value, str):
            return self.map_text(value)
        return value

    def with_keys(self, auth, missing=NotReplayable):
        """The recorded auth description with the placeholders of the keys made so far replaced by the keys;
        a placeholder of a key not made raises `missing`."""
        for placeholder, key in self.keys.items():
            auth = auth.replace(placeholder, key)
        found = re.search(r'<[A-Z_]+>', auth)
        if found:
            raise missing('the key %s was not made by an earlier case' % found.group(0))
        return auth


# -- normalizer --------------------------------------------------------------------------------------------------
class Normalizer:
    """Replace what legitimately differs between two servers by placeholders; keep everything else."""

    def __init__(self, symbols, home_prefix=None):
        self.symbols = sorted(symbols.items(), key=lambda item: len(item[0]), reverse=True)
        self.home_prefix = home_prefix

    def text(self, value):
        if self.home_prefix:
            value = value.replace(self.home_prefix, '/projects')
        value = FIRST_CHAR_RE.sub(lambda found: 'invalid uuid %s in account_ids -- "%s"' % (
            '<first character of the id>' if found.group(1) == found.group(2)[0] else found.group(1), found.group(2)), value)
        for raw, symbol in self.symbols:
            if raw in value:
                value = value.replace(raw, symbol)
        value = ISO_RE.sub('<time>', value)
        if 'a.sh' in value:
            value = SCRIPT_RE.sub('<script>', value)
        value = UUID_RE.sub('<uuid>', value)
        value = SHA1_RE.sub('<sha1>', value)
        return LEGACY_KEY_RE.sub('<api_key>', value)

    def __call__(self, value, key=None):
        if key in SECRET_FIELDS and isinstance(value, str):
            return SECRET_FIELDS[key]
        if key in NUMERIC_ID_FIELDS and isinstance(value, int):
            return '<number>'
        if isinstance(value, dict):
            value = self._public_path_id(value)
            return {self.text(name): self(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int) and not isinstance(value, bool) and 10 ** 12 <= value < 10 ** 14:
            return '<epoch-ms>'
        return value

    @staticmethod
    def _public_path_id(row):
        """A public path id that follows the rule sha1(project_id + path) becomes a placeholder saying so."""
        if all(isinstance(row.get(name), str) for name in ('id', 'project_id', 'path')):
            if row['id'] == hashlib.sha1((row['project_id'] + row['path']).encode()).hexdigest():
                return dict(row, id='<sha1(project_id+path)>')
        return row


# -- the runner --------------------------------------------------------------------------------------------------
Reply = collections.namedtuple('Reply', 'status content_type text json')


class ReplayRunner:
    """Runs an era's recorded cases in order against one server; subclasses give the era's parts:
    CASES, HOOKS, SKIPS, SEND_ANYWAY, and send / learn / normalized / describe / summary_head."""

    CASES = ()
    HOOKS = {}
    SKIPS = {}
    SEND_ANYWAY = frozenset()   # skipped cases whose request is still sent (later cases need its side effects)

    def __init__(self, server):
        self.server = server
        self.world = World(server)
        self.results = {}
        self.position = 0

    # -- the era's parts ---------------------------------------------------------------------------------
    def skip_reason(self, case):
        return self.SKIPS.get(case.name)

    def send(self, case):
        """Send the recorded request; returns a Reply (raise NotReplayable for a case that cannot be sent)."""
        raise NotImplementedError

    def learn(self, record, reply):
        """Bind the local twins of the ids and keys the answer makes."""

    def normalized(self, case, record, reply):
        """(expected, actual) JSON bodies with what must differ between two servers hidden."""
        raise NotImplementedError

    def describe(self, case, record):
        """The head of a mismatch report: which request this was."""
        raise NotImplementedError

    def summary_head(self, counts):
        raise NotImplementedError

    # -- running ---------------------------------------------------------------------------------------
    def result(self, case):
        """The case's Result, running every earlier case first (in order, once)."""
        while case.name not in self.results:
            current = self.CASES[self.position]
            self.position += 1
            self.results[current.name] = self._run(current)
        return self.results[case.name]

    def _run(self, case):
        try:
            if case.name in self.HOOKS:
                self.HOOKS[case.name](self)
        except Exception as problem:  # pylint: disable=broad-exception-caught
            return Result('mismatch', 'the setup step %s before %s failed: %r' % (self.HOOKS[case.name].__name__, case.name, problem))
        reason = self.skip_reason(case)
        if reason and case.name not in self.SEND_ANYWAY:
            return Result('skip', reason)
        try:
            reply = self.send(case)
        except NotReplayable as problem:
            return Result('skip', str(problem))
        except Exception as problem:  # pylint: disable=broad-exception-caught
            return Result('mismatch', 'the replay failed: %r' % problem)
        if reason:
            return Result('skip', reason)
        self.learn(case.record, reply)
        return self._compare(case, case.record, reply)

    # -- comparing -------------------------------------------------------------------------------------
    def _compare(self, case, record, reply):
        expected_is_json = (record['response_content_type'] or '').startswith('application/json')
        got_json = reply.content_type.startswith('application/json')
        problems = []
        if reply.status != record['http_status']:
            problems.append('HTTP status: expected %s, got %s' % (record['http_status'], reply.status))
        if got_json != expected_is_json:
            problems.append('content type: expected %s, got %r' % (record['response_content_type'], reply.content_type))
        if expected_is_json and got_json:
            expected, actual = self.normalized(case, record, reply)
            if isinstance(record['response'], str) and isinstance(reply.json, str) and TRUNCATED_RE.fullmatch(record['response']):
                head, total = TRUNCATED_RE.fullmatch(record['response']).groups()
                expected, actual = (head, int(total)), (reply.json[:len(head)], len(reply.json))
            if expected != actual:
                problems.append(body_diff(expected, actual))
        elif not expected_is_json and not got_json:
            problems.extend(_text_problems(record['response'] or '', reply.text))
        if not problems:
            return Result('match', None)
        return Result('mismatch', self.describe(case, record) + '\n' + '\n'.join(problems))

    # -- the summary -----------------------------------------------------------------------------------
    def summary(self):
        counts = collections.Counter(result.outcome for result in self.results.values())
        reasons = collections.Counter(result.report for result in self.results.values() if result.outcome == 'skip')
        lines = [self.summary_head(counts)]
        for reason, count in reasons.most_common():
            names = sorted(name for name, result in self.results.items() if result.outcome == 'skip' and result.report == reason)
            lines.append('  skipped %d (%s): %s' % (count, ', '.join(names), reason))
        return '\n'.join(lines + self.summary_notes())

    def summary_notes(self):
        return []


def body_diff(expected, actual):
    return 'body differs (normalized; - expected, + got):\n' + '\n'.join(difflib.unified_diff(
        json.dumps(expected, indent=1, sort_keys=True, ensure_ascii=False).splitlines(),
        json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False).splitlines(), lineterm='', n=2))


def _text_problems(wanted, text):
    if '...<truncated by recorder' in wanted:
        head = wanted.split('...<truncated by recorder')[0]
        return [] if text.startswith(head) else ['text body does not start with the recorded %r' % head[:200]]
    if collapse(wanted) != collapse(text):
        return ['text body: expected %r, got %r' % (collapse(wanted)[:300], collapse(text)[:300])]
    return []


def replay_session(tmp_path_factory, request, era, runner_class, env=None):
    """The body of an era's module-scoped `replay` fixture: a fresh server of the era with instant starts,
    the runner, and at the end its summary for the terminal report and a check that the server exits 0.

    Instant starts: every start in the recordings was an explicit, waited-for start or an on-demand start by
    the call itself, which answer the same whatever the start takes, and the comparison ignores times; real
    start times would only make the replay slower (test_starts.py and test_era2026.py run real starts)."""
    server = ServerProcess(tmp_path_factory.mktemp('conformance-%s' % era) / 'data', era, extra_args=INSTANT_STARTS, env=env)
    server.start()
    started = time.monotonic()
    runner = runner_class(server)
    yield runner
    summary = '%s\n  (%.1f s)' % (runner.summary(), time.monotonic() - started)
    previous = getattr(request.config, 'cocalc_conformance_summary', None)
    request.config.cocalc_conformance_summary = summary if not previous else previous + '\n' + summary
    rc = server.stop()
    assert rc == 0, 'the conformance server exited with %r; log:\n%s' % (rc, server.log_tail())
