# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A fake CoCalc transport for unit tests: list the exact API calls, run the real code.

In the spirit of community.internal_test_tools' fetch_url_module_framework. A test names
every call it expects, in order, with a canned reply; the real module (or CocalcClient) runs
against it, and the test fails on an unexpected, out-of-order, mismatching or missing call.
Everything below the HTTP adapter is real ``requests``: auth header, encoding, verify and
timeout are checked as requests would send them. Waits are recorded, not slept: the fake replaces
_wait.CLOCK with a FakeClock whose time moves only by the pauses asked for (``fake.clock.advance(s)``
moves it by hand, e.g. to model a slow call).

Running a module (works on ansible-core 2.17, 2.18 and 2.19)::

    from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_account_info
    from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import (
        ApiCall, API_KEY, run_module_success, run_module_failed)

    def test_me(monkeypatch):
        result = run_module_success(monkeypatch, cocalc_account_info, {}, [
            ApiCall('query', {'query': {'accounts': {'account_id': None, ...}}})
            .reply({'event': 'query', 'query': {'accounts': {'account_id': ME, ...}}}),
        ])
        assert result['me']['account_id'] == ME
        assert API_KEY not in result.text     # result.text: the module's raw JSON output

``run_module_success`` / ``run_module_failed`` add ``api_url`` (API_URL) and ``api_key``
(API_KEY) unless the args name them (``{'api_url': OMIT}`` leaves it out), and take ``check_mode=True`` / ``diff=True``. They
return a ModuleResult: the module's parsed JSON output (a dict, after Ansible's no_log
masking) with ``.text`` (raw output), ``.warnings`` (warning texts) and ``.transport``.

Testing the client directly::

    fake = FakeCocalc(monkeypatch, [ApiCall('ping').reply({'event': 'pong'})])
    client = fake.client(retries=2)          # CocalcClient(API_URL, API_KEY, ...)
    client.ping()
    fake.assert_done()                       # every expected call was made
    fake.sleeps                              # waits the client asked for, in seconds

An ApiCall(endpoint, body={}) expects POST <api_url>/api/v1/<endpoint> with exactly that body
(``unittest.mock.ANY`` matches any body, or any value inside it), Basic auth with the key as
user and an empty password, a JSON content type, the cocalc.cocalc User-Agent, verify = the
validate_certs in use and timeout = the api_timeout in use. Refine with ``expect_form()``,
``expect_timeout(s)``, ``expect_verify(v)``, ``expect_auth(key)``, ``expect_url(url)``.
Replies: ``reply(json_obj, status=200, headers=None)``, ``error(text)`` (HTTP 200 event
error), ``reject(text, status=400)`` (HTTP 400 {"error"}), ``raw(text, status, content_type)``
(non-JSON answers), ``raises(exception)`` (e.g. requests.exceptions.ConnectionError()).
For form bodies the expected body is the decoded structure ({'a': {'b': 'x'}} for a[b]=x).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
from urllib.parse import unquote_plus

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.cocalc.cocalc.plugins.module_utils import _api, _wait

API_URL = 'https://cocalc.test'
# Long enough to be redacted from server texts; tests assert it never shows up anywhere.
API_KEY = 'sk_FakeKeyForUnitTests0042'

# An argument value meaning "leave this option out", e.g. {'api_url': OMIT} to test env fallbacks.
OMIT = object()

JSON = 'application/json'
FORM = 'application/x-www-form-urlencoded'

_STATUS_REASONS = {200: 'OK', 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large', 429: 'Too Many Requests',
                   500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'}


class ApiCall(object):
    """One expected API call and its canned reply (builder style)."""

    def __init__(self, endpoint, body=None):
        self.endpoint = endpoint
        self.body = {} if body is None else body
        self.content_type = JSON
        self.timeout = None
        self.verify = None
        self.auth = None
        self.url = None
        self.status = 200
        self.headers = {}
        self.content = None
        self.exception = None

    # -- expectations --
    def expect_form(self):
        self.content_type = FORM
        return self

    def expect_timeout(self, seconds):
        self.timeout = seconds
        return self

    def expect_verify(self, verify):
        self.verify = verify
        return self

    def expect_auth(self, key):
        self.auth = key
        return self

    def expect_url(self, url):
        self.url = url
        return self

    # -- replies --
    def reply(self, data, status=200, headers=None):
        self.status = status
        self.headers = dict(headers or {})
        self.headers.setdefault('Content-Type', 'application/json; charset=utf-8')
        self.content = json.dumps(data).encode('utf-8')
        return self

    def error(self, text):
        """A handler error: HTTP 200 {"event": "error", "error": text}."""
        return self.reply({'event': 'error', 'id': 'fake-id', 'error': text})

    def reject(self, text, status=400):
        """A framework error: HTTP 400 {"error": text}."""
        return self.reply({'error': text}, status=status)

    def raw(self, text, status, content_type='text/html; charset=utf-8', headers=None):
        self.status = status
        self.headers = dict(headers or {})
        if content_type:
            self.headers['Content-Type'] = content_type
        self.content = text.encode('utf-8') if isinstance(text, str) else text
        return self

    def raises(self, exception):
        self.exception = exception
        return self

    def __repr__(self):
        return 'ApiCall(%r)' % self.endpoint


def parse_form(data):
    """Decode an x-www-form-urlencoded body the way qs (extended) does, for a[b]=x and a[]=x."""
    result = {}
    for pair in data.split('&') if data else []:
        key, _sep, value = pair.partition('=')
        key, value = unquote_plus(key), unquote_plus(value)
        base, _bracket, rest = key.partition('[')
        path = [base] + (rest[:-1].split('][') if rest else [])
        target = result
        for index, part in enumerate(path):
            last = index == len(path) - 1
            nxt = None if last else path[index + 1]
            if part == '':
                if last:
                    target.append(value)
                    break
                raise AssertionError('form key %r: nested lists are not supported by this parser' % key)
            if last:
                target[part] = value
            else:
                target = target.setdefault(part, [] if nxt == '' else {})
    return result


class _Adapter(requests.adapters.BaseAdapter):
    """Stands in for HTTPAdapter: checks each request against the next expected call."""

    def __init__(self, transport):
        super(_Adapter, self).__init__()
        self.transport = transport

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return self.transport.handle(request, timeout, verify)

    def close(self):
        pass


class FakeClock(object):
    """Virtual time for _wait.CLOCK: sleep() records the pause and moves now() forward by it."""

    def __init__(self, sleeps):
        self.sleeps = sleeps
        self.time = 1000.0

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.time += seconds

    def advance(self, seconds):
        self.time += seconds


class FakeCocalc(object):
    """The fake server side: the expected calls, the requests seen, the waits asked for."""

    def __init__(self, monkeypatch, calls, api_url=API_URL, api_key=API_KEY, validate_certs=True, timeout=30):
        self.calls = list(calls)
        self.index = 0
        self.api_url = api_url.rstrip('/')
        self.api_key = api_key
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.requests = []
        self.sleeps = []
        self.problems = []
        adapter = _Adapter(self)
        monkeypatch.setattr(requests.Session, 'get_adapter', lambda session, url: adapter)
        self.clock = FakeClock(self.sleeps)
        monkeypatch.setattr(_wait, 'CLOCK', self.clock)
        # Proxy / CA bundle variables of the machine running the tests must not change what is sent.
        for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'):
            monkeypatch.delenv(name, raising=False)

    def client(self, **kwargs):
        kwargs.setdefault('validate_certs', self.validate_certs)
        kwargs.setdefault('timeout', self.timeout)
        self.validate_certs = kwargs['validate_certs']
        self.timeout = kwargs['timeout']
        return _api.CocalcClient(self.api_url, self.api_key, **kwargs)

    def _fail(self, text):
        self.problems.append(text)
        raise AssertionError(text)

    def handle(self, request, timeout, verify):
        seen = self._describe(request, timeout, verify)
        self.requests.append(seen)
        if self.index >= len(self.calls):
            self._fail('unexpected API call #%d %s with body %r (only %d expected)'
                       % (self.index + 1, seen['endpoint'], seen['body'], len(self.calls)))
        call = self.calls[self.index]
        self.index += 1
        self._check(call, seen)
        if call.exception is not None:
            raise call.exception
        if call.content is None:
            self._fail('ApiCall(%r) has no reply; use reply(), error(), reject(), raw() or raises()' % call.endpoint)
        response = requests.Response()
        response.status_code = call.status
        response.reason = _STATUS_REASONS.get(call.status, 'Status')
        response.headers = CaseInsensitiveDict(call.headers)
        response.raw = io.BytesIO(call.content)
        response.url = request.url
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    @staticmethod
    def _describe(request, timeout, verify):
        url = request.url
        endpoint = url.rsplit('/', 1)[-1]
        content_type = request.headers.get('Content-Type')
        raw = request.body or b''
        if isinstance(raw, str):
            raw = raw.encode('utf-8')
        text = raw.decode('utf-8')
        if content_type == JSON:
            body = json.loads(text) if text else {}
        elif content_type == FORM:
            body = parse_form(text)
        else:
            body = text
        auth = request.headers.get('Authorization', '')
        user = password = None
        if auth.startswith('Basic '):
            user, _sep, password = base64.b64decode(auth[6:]).decode('utf-8').partition(':')
        return dict(method=request.method, url=url, endpoint=endpoint, content_type=content_type, body=body,
                    raw_body=raw, auth_user=user, auth_password=password, authorization=auth,
                    user_agent=request.headers.get('User-Agent'), timeout=timeout, verify=verify)

    def _check(self, call, seen):
        where = 'API call #%d (%s)' % (self.index, call.endpoint)
        expected_url = call.url or '%s/api/v1/%s' % (self.api_url, call.endpoint)
        checks = [
            ('method', 'POST', seen['method']),
            ('url', expected_url, seen['url']),
            ('content type', call.content_type, seen['content_type']),
            ('body', call.body, seen['body']),
            ('auth user (the key)', call.auth or self.api_key, seen['auth_user']),
            ('auth password', '', seen['auth_password']),
            ('verify', self.validate_certs if call.verify is None else call.verify, seen['verify']),
            ('timeout', self.timeout if call.timeout is None else call.timeout, seen['timeout']),
        ]
        for what, expected, actual in checks:
            if not expected == actual:
                self._fail('%s: %s differs\n  expected: %r\n  actual:   %r' % (where, what, expected, actual))
        if not (seen['user_agent'] or '').startswith('cocalc.cocalc/'):
            self._fail('%s: User-Agent %r does not name the collection' % (where, seen['user_agent']))

    def assert_done(self):
        assert not self.problems, 'fake API problems: %s' % self.problems
        assert self.index == len(self.calls), 'only %d of %d expected API calls were made; missing: %r' % (
            self.index, len(self.calls), self.calls[self.index:])


class ModuleResult(dict):
    """The module's JSON result, plus the raw output text, the warnings and the transport."""

    text = ''
    warnings = ()
    transport = None

    @property
    def failed(self):
        return bool(self.get('failed'))


@contextlib.contextmanager
def _module_args(args):
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    old = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = old


def _warning_texts():
    if hasattr(ansible_warnings, 'get_warning_messages'):  # 2.19: warnings are objects
        return list(ansible_warnings.get_warning_messages())
    return [str(text) for text in ansible_warnings.get_warnings()]


def run_module(monkeypatch, module, args, calls, check_mode=False, diff=False):
    """Run module.main() with args against the expected calls; return its ModuleResult.

    Fails the test if the module makes an unexpected call or leaves an expected one unmade.
    """
    args = dict(args)
    args.setdefault('api_url', API_URL)
    args.setdefault('api_key', API_KEY)
    args = dict((key, value) for key, value in args.items() if value is not OMIT)
    # An option left out falls back to its environment variable, as in the module.
    api_url = args.get('api_url') or os.environ.get('COCALC_API_URL') or API_URL
    api_key = args.get('api_key') or os.environ.get('COCALC_API_KEY') or API_KEY
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    if 'inject_invocation' in PASS_VARS:
        # ansible-core 2.21+ returns `invocation` (the module_args after no_log masking) only when asked.
        args['_ansible_inject_invocation'] = True
    fake = FakeCocalc(monkeypatch, calls, api_url=api_url, api_key=api_key,
                      validate_certs=args.get('validate_certs', True), timeout=args.get('api_timeout', 30))
    # Warnings live in module-level globals; start each run clean.
    monkeypatch.setattr(ansible_warnings, '_global_warnings', type(ansible_warnings._global_warnings)())
    monkeypatch.setattr(ansible_warnings, '_global_deprecations', type(ansible_warnings._global_deprecations)())
    output = io.StringIO()
    with _module_args(args), contextlib.redirect_stdout(output):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    text = output.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, 'the module printed nothing (exit code %r)' % exit_info.value.code
    result = ModuleResult(json.loads(lines[-1]))
    result.text = text
    result.warnings = _warning_texts()
    result.transport = fake
    assert (exit_info.value.code != 0) == result.failed, 'exit code %r but failed=%r' % (exit_info.value.code, result.failed)
    fake.assert_done()
    return result


def run_module_success(monkeypatch, module, args, calls, check_mode=False, diff=False):
    """run_module, and fail the test unless the module exited without failure."""
    result = run_module(monkeypatch, module, args, calls, check_mode=check_mode, diff=diff)
    assert not result.failed, 'module failed: %s' % result.get('msg')
    return result


def run_module_failed(monkeypatch, module, args, calls, check_mode=False, diff=False):
    """run_module, and fail the test unless the module failed (fail_json)."""
    result = run_module(monkeypatch, module, args, calls, check_mode=check_mode, diff=diff)
    assert result.failed, 'module did not fail: %r' % dict(result)
    return result
