"""Fault injection: make chosen requests fail the ways a flaky network or a busy hub does.

The spec lives in DIR/faults.json (written by `serve --faults` or `serve faults`); the running server
re-reads it whenever the file changes, so a test can switch faults without a restart. A spec is
{"seed": 7, "rules": [{"endpoint": "create_project" | "*", "mode": ..., "rate": 0.2, ...}]}; for each
request the rules that match its endpoint are tried in order, each with one draw of a
random.Random(seed) shared by all requests (reset when the file changes), and the first whose draw
falls below its rate applies.
"""

import json
import os
import random
import threading

from .util import has_null_leaf, replace_entry, truthy

FILE_NAME = 'faults.json'
# mode -> does the server process the request before failing it
MODES = {'status_before': False, 'status_after': True, 'reset_after': True, 'truncated': True, 'html200': True,
         'delay': True}
DEFAULT_STATUS = {'status_before': 503, 'status_after': 504}
DEFAULT_DELAY = 2.0
RULE_KEYS = {'endpoint', 'mode', 'rate', 'status', 'query', 'delay'}

# The endpoints whose calls are user queries: v1's `query`, era 2026's `user-query` and `hub:db.userQuery`.
QUERY_ENDPOINTS = ('query', 'user-query', 'hub:db.userQuery')


class SpecError(ValueError):
    pass


def _rule(index, rule):
    where = 'rules[%d]' % index
    if not isinstance(rule, dict):
        raise SpecError('%s must be an object' % where)
    unknown = sorted(set(rule) - RULE_KEYS)
    if unknown:
        raise SpecError('%s has unknown key(s) %s (allowed: %s)' % (where, ', '.join(unknown), ', '.join(sorted(RULE_KEYS))))
    endpoint = rule.get('endpoint')
    if not isinstance(endpoint, str) or not endpoint:
        raise SpecError('%s.endpoint must be an endpoint name or "*"' % where)
    mode = rule.get('mode')
    if mode not in MODES:
        raise SpecError('%s.mode must be one of %s (got %r)' % (where, ', '.join(MODES), mode))
    rate = rule.get('rate', 1.0)
    if not _number_within(rate, 0, 1):
        raise SpecError('%s.rate must be a number from 0 to 1 (got %r)' % (where, rate))
    status = _status(where, rule, mode)
    query = rule.get('query')
    if query is not None and (query not in ('get', 'set') or endpoint not in QUERY_ENDPOINTS + ('*',)):
        raise SpecError('%s.query must be "get" or "set", with endpoint "query" (2026: "user-query", "hub:db.userQuery") '
                        'or "*"' % where)
    delay = _delay(where, rule, mode)
    normal = {'endpoint': endpoint, 'mode': mode, 'rate': float(rate)}
    if mode in DEFAULT_STATUS:
        normal['status'] = status
    if mode == 'delay':
        normal['delay'] = float(delay)
    if query:
        normal['query'] = query
    return normal


def _number_within(value, low, high):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high


def _status(where, rule, mode):
    status = rule.get('status', DEFAULT_STATUS.get(mode))
    if mode in DEFAULT_STATUS:
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise SpecError('%s.status must be an HTTP error status from 400 to 599 (got %r)' % (where, status))
    elif 'status' in rule:
        raise SpecError('%s.status only applies to the modes status_before and status_after' % where)
    return status


def _delay(where, rule, mode):
    delay = rule.get('delay', DEFAULT_DELAY)
    if not _number_within(delay, 0, 600):
        raise SpecError('%s.delay must be a number of seconds from 0 to 600 (got %r)' % (where, delay))
    if 'delay' in rule and mode != 'delay':
        raise SpecError('%s.delay only applies to the mode delay' % where)
    return delay


def parse_spec(value):
    """Check a spec (a dict) and return it normalised; SpecError names the bad part."""
    if not isinstance(value, dict):
        raise SpecError('the spec must be a JSON object {"seed": N, "rules": [...]}')
    unknown = sorted(set(value) - {'seed', 'rules'})
    if unknown:
        raise SpecError('unknown key(s) %s (allowed: seed, rules)' % ', '.join(unknown))
    seed = value.get('seed', 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SpecError('seed must be an integer (got %r)' % (seed,))
    rules = value.get('rules', [])
    if not isinstance(rules, list):
        raise SpecError('rules must be a list')
    return {'seed': seed, 'rules': [_rule(index, rule) for index, rule in enumerate(rules)]}


def load_spec_text(text):
    """SPEC of the command line: JSON text, or the path of a JSON file."""
    stripped = text.strip()
    if not stripped.startswith('{'):
        try:
            with open(text, encoding='utf-8') as handle:
                stripped = handle.read()
        except OSError as error:
            raise SpecError('%s is neither JSON nor a readable file (%s)' % (text, error.strerror)) from None
    try:
        value = json.loads(stripped)
    except ValueError as error:
        raise SpecError('not valid JSON: %s' % error) from None
    return parse_spec(value)


def write(data_dir, spec):
    """Replace DIR/faults.json atomically (a running server never reads half a file)."""
    directory = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def make(temporary):
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666, dir_fd=directory)
        with os.fdopen(handle, 'w', encoding='utf-8') as output:
            json.dump(spec, output, indent=2)

    try:
        replace_entry(directory, FILE_NAME, make)
    finally:
        os.close(directory)


def clear(data_dir):
    try:
        os.unlink(os.path.join(data_dir, FILE_NAME))
    except FileNotFoundError:
        pass


def query_kind(body):
    """'get' or 'set' for a query call, by the engine's rule (a null anywhere, no set option), before it runs."""
    query = body.get('query') if isinstance(body, dict) else None
    options = body.get('options') if isinstance(body, dict) else None
    items = query if isinstance(query, list) else [query]
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            return 'set'
        spec = next(iter(item.values()))
        is_set = not has_null_leaf(spec)
        for option in options if isinstance(options, list) else []:
            if isinstance(option, dict) and 'set' in option:
                is_set = truthy(option['set'])
        if is_set:
            return 'set'
    return 'get'


class Faults:
    """The faults of one data dir, re-read when DIR/faults.json changes."""

    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, FILE_NAME)
        self.lock = threading.Lock()
        self.version = None
        self.rules = []
        self.random = random.Random(0)

    def _refresh(self):
        try:
            info = os.stat(self.path)
            version = (info.st_ino, info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            version = None
        if version == self.version:
            return
        self.version = version
        self.rules = []
        if version is None:
            return
        try:
            with open(self.path, encoding='utf-8') as handle:
                spec = parse_spec(json.load(handle))
        except (OSError, ValueError) as error:
            # A broken file means no faults, loudly: the server keeps answering.
            import sys   # pylint: disable=import-outside-toplevel
            sys.stderr.write('serve: ignoring %s: %s\n' % (self.path, error))
            return
        self.rules = spec['rules']
        self.random = random.Random(spec['seed'])

    def choose(self, event, body_kind):
        """The rule that applies to this request, or None. `body_kind()` gives a query call's kind."""
        with self.lock:
            self._refresh()
            for rule in self.rules:
                if rule['endpoint'] not in ('*', event):
                    continue
                if rule.get('query') and (event not in QUERY_ENDPOINTS or body_kind() != rule['query']):
                    continue
                if self.random.random() < rule['rate']:
                    return rule
        return None
