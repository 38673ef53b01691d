# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CocalcClient: the one place that talks HTTP to a CoCalc server (API v1).

It knows the URLs, headers, body encodings, status codes, error event names and
retry rules, and nothing about Ansible modules, so modules (through _module.py),
the course planner, the lookup plugin and the unit tests all use it directly::

    client = CocalcClient('https://cocalc.example.org', api_key)
    client.ping()
    me = client.whoami()
    rows = client.projects_all(['title', 'users'], title='Algebra 101')
    client.call('invite_collaborator', project_id=pid, account_id=aid)

Every failure is a CocalcApiError; its text never contains the API key.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import traceback
from urllib.parse import quote, urlsplit

from ansible_collections.cocalc.cocalc.plugins.module_utils import _wait
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcCheckModeError, ProjectNotReady

try:
    import requests
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None


# Kept equal to galaxy.yml by a unit test.
COLLECTION_VERSION = '0.2.0'
USER_AGENT = 'cocalc.cocalc/%s (+ansible)' % COLLECTION_VERSION

DEFAULT_TIMEOUT = 30

# Which API generation to speak (option api_version / env COCALC_API_VERSION): auto sends the first
# call as API v1 and switches to the current generation when /api/v1 answers current CoCalc's 404
# page (nothing ran, so resending is safe); a v1 server costs no extra call.
API_VERSIONS = ('auto', 'v1', 'current')
# Markers of the 404 page of current CoCalc's Next.js server (the only answer /api/v1 gets there).
_NEXT_404_MARKERS = ('__next', 'data-next-head', '/_next/')
DEFAULT_RETRIES = 3

# Express's default JSON body limit on servers since 2022-07; form bodies may be 1 MB.
JSON_BODY_LIMIT = 102400

# Answers a hub or proxy gives without doing the work (busy, rate limited): safe to send again.
UNSENT_STATUSES = frozenset([429, 503])
# Gateway answers that may come after the hub did the work.
LOST_STATUSES = frozenset([502, 504])
RETRY_STATUSES = UNSENT_STATUSES | LOST_STATUSES
BACKOFF_BASE = 1.0
BACKOFF_CAP = 20.0
# A server asking for a longer pause than this gets an error, not a silent long wait.
MAX_RETRY_AFTER = 60.0

# Seconds a project call waits for a project that is still starting (the hub refuses such calls at
# once, before reaching the project, so sending them again is safe). The real hub of 2024 took ~4 s
# for one project and ~50 s for 30 started at once on 2 cores.
DEFAULT_READY_WAIT = 300
# Pauses between those attempts: 1, 2, 4, 5, 5, ... seconds.
READY_WAIT_FIRST = 1.0
READY_WAIT_CAP = 5.0

# THE table of operations: what the resource code asks for with client.call(<operation>, body), and
# the kind of each (the RETRY_POLICY row; 'query' is decided per body by call_kind()). The names are
# API v1's endpoint names and the answers keep API v1's shapes: that is the contract every backend
# (one per API generation, see _backend_v1.py and _backend_current.py) keeps.
#   read:       changes nothing (allowed in check mode, retried after any transient failure)
#   idempotent: a write whose repetition cannot do harm (retried like a read)
#   once:       a write that must not be repeated blindly (creates, exec, copies, emails, password changes)
OPERATIONS = {
    'ping': 'read',
    'user_search': 'read',
    'get_usernames': 'read',
    'read_text_file_from_project': 'read',
    'public_get_directory_listing': 'read',
    'public_get_text_file': 'read',
    'copy_path_status': 'read',
    'query': None,
    'write_text_file_to_project': 'idempotent',
    'invite_collaborator': 'idempotent',
    'remove_collaborator': 'idempotent',
    'add_collaborator': 'once',
    'create_project': 'once',
    'create_account': 'once',
    'delete_account': 'once',
    'change_password': 'once',
    'change_email_address': 'once',
    'project_exec': 'once',
    'copy_path_between_projects': 'once',
    'copy_public_path_between_projects': 'once',
    'invite_noncloud_collaborators': 'once',
    'user_auth': 'once',
}

# Endpoints that change nothing on the server.
READ_ONLY_ENDPOINTS = frozenset(name for name, kind in OPERATIONS.items() if kind == 'read')

# Endpoints whose repetition cannot do harm: reads, and writes the reference shows to be
# idempotent. create_project, create_account, project_exec, copy_*, invite_noncloud_collaborators
# (sends email), change_* and user_auth (lockout) are deliberately absent. query is decided per body.
REPEATABLE_ENDPOINTS = frozenset(name for name, kind in OPERATIONS.items() if kind in ('read', 'idempotent'))

# THE retry table: which failures a call may be sent again after, by the kind of call. Failure kinds:
#   'unsent': the hub cannot have done the work: no connection was made (refused, DNS, connect timeout), or
#             it answered 429 / 503 (busy or rate limited, before processing).
#   'lost':   the request may have been processed but no usable answer came back: a read timeout, the
#             connection dropped after sending, 502 / 504 or another 5xx without a JSON body, an HTML page
#             or truncated JSON with a 2xx status.
# Any other failure (a JSON error answer, TLS, a 4xx) is the hub's word and is never retried.
# Call kinds (call_kind()): 'read' = READ_ONLY_ENDPOINTS and query gets; 'idempotent' = the other
# REPEATABLE_ENDPOINTS and query sets without an action_request (upserts); 'once' = everything else:
# create_project, create_account, project_exec, copies, email invites, action requests, change_*, user_auth.
# A 'once' call that failed 'lost' is never repeated: its caller must find out what happened (see
# CocalcApiError.may_have_run and _project.create_project's creation token).
RETRY_POLICY = {
    'read': frozenset(['unsent', 'lost']),
    'idempotent': frozenset(['unsent', 'lost']),
    'once': frozenset(['unsent']),
}

# The endpoints of API v1 (the guide's 28 plus a few undocumented ones): an "unknown endpoint"
# answer for one of these means the server no longer speaks API v1 (or dropped that endpoint).
API_V1_ENDPOINTS = frozenset([
    'change_email_address', 'change_password', 'copy_path_between_projects', 'copy_public_path_between_projects',
    'create_account', 'create_project', 'create_support_ticket', 'delete_account', 'forgot_password',
    'get_support_tickets', 'get_usernames', 'invite_collaborator', 'invite_noncloud_collaborators',
    'log_client_error', 'metrics', 'ping', 'project_exec', 'public_get_directory_listing', 'public_get_text_file',
    'query', 'read_text_file_from_project', 'remove_collaborator', 'reset_forgot_password', 'start_metrics',
    'unlink_passport', 'user_auth', 'user_search', 'write_text_file_to_project',
    'add_collaborator', 'copy_path_status', 'copy_path_delete',
])

# Endpoints that older CoCalc releases dropped while keeping the rest of API v1.
_REMOVED_ENDPOINTS = {
    'get_usernames': 'September 2024',
    'create_account': 'October 2024',
    'change_password': 'March 2024',
    'public_get_directory_listing': 'July 2021',
    'public_get_text_file': 'July 2021',
    'delete_account': 'May 2019',
    'forgot_password': 'May 2019',
    'reset_forgot_password': 'May 2019',
    'unlink_passport': 'May 2019',
}

_UNKNOWN_ENDPOINT_RE = re.compile(
    r"^(?:unknown endpoint '(?P<a>[^']*)'|unknown message event type '(?P<b>[^']*)'|"
    r"endpoint '(?P<c>[^']*)' is not part of the HTTP API)")
_UNEXPECTED_ARGUMENT_RE = re.compile(r"got an unexpected argument '([^']+)'")
# What a hub answers (HTTP 200, event error) to a call for a project that is not running yet: the
# 2024 hub says "unable to determine project port" while the project starts and "unable to determine
# host" at the end of a start; other releases say "no host" / "project not running".
_NOT_READY_RE = re.compile(r"unable to determine (?:project port|host)|\bno host\b|\bproject (?:is )?not (?:yet )?running\b"
                           r"|\bproject is (?:starting|stopping)\b", re.IGNORECASE)
# Body fields that name the projects a call needs running.
_PROJECT_FIELDS = ('project_id', 'src_project_id', 'target_project_id')
_BAD_KEY_TEXTS = ('No account found. Is your API key wrong?', 'out of range for type integer',
                  'You must provide authentication via an API key', 'MUST provide an api key',
                  'must sign in as project or account')
# Current generation: conat texts carry the JS error class; a bridge timeout says code='408'; the hub's
# fixed 60 s limit on hub->project calls answers "undefined" (exec).
_CONAT_ERROR_PREFIX = re.compile(r'^Error: ')
_GAVE_UP_RE = re.compile(r"code='408'|^undefined$")
# Servers before May 2019 run calls with an unknown key anonymously; these texts are the result.
_ANONYMOUS_TEXTS = ('anonymous get queries not allowed', 'no anonymous set queries', 'must be signed in')
# A query field this server does not know (or lets no user read or change).
_QUERY_FIELD_RE = re.compile(r"user (?:get|set) query not allowed for \w+\.(\w+)|changing \w+\.(\w+) not allowed")
_MISSING_ARGUMENT_RE = re.compile(r"property '([^']+)' must be specified")
# The file a not_found text names: "ENOENT: no such file or directory, stat '/projects/<id>/a.md'".
_MISSING_PATH_RE = re.compile(r"no such file or directory, \w+ '([^']*)'", re.IGNORECASE)
# The server's words for the other kinds of CocalcApiError (_common.ERROR_KINDS), tried in this order.
_KIND_TEXTS = (
    ('not_ready', _NOT_READY_RE),
    ('bad_key', re.compile('|'.join(re.escape(text) for text in _BAD_KEY_TEXTS + _ANONYMOUS_TEXTS))),
    ('too_large', re.compile(r'Attempt to open large file')),
    ('is_directory', re.compile(r'\bEISDIR\b|illegal operation on a directory')),
    ('not_found', re.compile(r'\bENOENT\b|no such file or directory', re.IGNORECASE)),
    ('no_access', re.compile(r'do(?:es)? not have (?:write|read) access|must have (?:write|read) access|access denied'
                             r'|ACCESS BLOCKED|not a collaborator|must be an admin'
                             # the current generation's words
                             r'|must be (?:a )?collaborator|must be an owner|only project owners', re.IGNORECASE)),
)
_REDACTED = '<redacted>'
# Keys shorter than this are not searched for in server text: masking every "abc" would garble it.
_MIN_REDACT_LEN = 6


def classify(http_status, message):
    """(kind, argument) of a server's error answer: kind one of _common.ERROR_KINDS or None; argument the
    option or query field of an unexpected_argument / missing_argument kind, else None."""
    if http_status is None or not isinstance(message, str):
        return None, None
    match = _UNEXPECTED_ARGUMENT_RE.search(message) if http_status == 400 else None
    match = match or _QUERY_FIELD_RE.search(message)
    if match:
        return 'unexpected_argument', match.group(match.lastindex)
    match = _MISSING_ARGUMENT_RE.search(message)
    if match:
        return 'missing_argument', match.group(1)
    for kind, pattern in _KIND_TEXTS:
        if pattern.search(message):
            path = _MISSING_PATH_RE.search(message) if kind == 'not_found' else None
            return kind, path.group(1) if path else None
    return None, None


def api_error(endpoint, http_status, event, message, body=None, cls=CocalcApiError):
    """The CocalcApiError (or cls) of a server's error answer, its kind classified: every error built
    from what a server said goes through here (also the items of batched answers)."""
    kind, argument = classify(http_status, message)
    return cls(endpoint, http_status, event, message, body, kind=kind, argument=argument)


def is_not_ready_text(text):
    return isinstance(text, str) and bool(_NOT_READY_RE.search(text))


def not_ready_item(item):
    """True for an item of a batched answer that failed because its project is not running yet.

    The 2024 hub serialises a hub-side Error inside a batch as ``"error": {}`` (an Error object has no
    JSON fields); errors from inside the project (ENOENT and the like) stay strings.
    """
    if not isinstance(item, dict):
        return False
    error = item.get('error')
    return error == {} or is_not_ready_text(error)


def has_null(value):
    """True when a query spec has a None leaf at any depth (which makes it a get)."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_null(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_null(v) for v in value)
    return False


def _query_forced_kind(options):
    for option in options or []:
        if isinstance(option, dict) and 'set' in option:
            return 'set' if option['set'] else 'get'
    return None


def _query_is_get(body):
    forced = _query_forced_kind(body.get('options'))
    if forced:
        return forced == 'get'
    return has_null(body.get('query'))


def _query_touches_action_request(query):
    for item in query if isinstance(query, list) else [query]:
        if not isinstance(item, dict):
            continue
        for table_spec in item.values():
            rows = table_spec if isinstance(table_spec, list) else [table_spec]
            if any(isinstance(row, dict) and 'action_request' in row for row in rows):
                return True
    return False


def is_read_only(endpoint, body):
    """True when the call changes nothing on the server (allowed in check mode)."""
    if endpoint == 'query':
        return _query_is_get(body)
    return endpoint in READ_ONLY_ENDPOINTS


def call_kind(endpoint, body):
    """'read', 'idempotent' or 'once': the row of RETRY_POLICY a call belongs to."""
    if is_read_only(endpoint, body):
        return 'read'
    if endpoint == 'query':
        # Sets are upserts, except that an action_request set starts/stops a project again.
        return 'once' if _query_touches_action_request(body.get('query')) else 'idempotent'
    return 'idempotent' if endpoint in REPEATABLE_ENDPOINTS else 'once'


def is_repeatable(endpoint, body):
    """True when sending the call twice cannot do harm, so it may be retried after any transient failure."""
    return call_kind(endpoint, body) != 'once'


def form_encode(body):
    """Encode a body for application/x-www-form-urlencoded, in the qs "extended" syntax.

    Only strings survive form encoding (the server turns every scalar into a string), so
    any other leaf raises ValueError. Nested dicts become a[b]=v; lists of strings a[]=v.
    """
    pairs = []

    def add(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                _check_form_key(key)
                add('%s[%s]' % (prefix, key), item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if not isinstance(item, str):
                    raise ValueError('cannot form-encode %s: list items must be strings' % prefix)
                pairs.append((prefix + '[]', item))
        elif isinstance(value, str):
            pairs.append((prefix, value))
        else:
            raise ValueError('cannot form-encode %s: %s is not a string' % (prefix, type(value).__name__))

    for key, value in body.items():
        _check_form_key(key)
        add(key, value)
    return '&'.join('%s=%s' % (quote(k, safe='[]'), quote(v, safe='')) for k, v in pairs).encode('utf-8')


def _check_form_key(key):
    if not isinstance(key, str) or '[' in key or ']' in key:
        raise ValueError('cannot form-encode the key %r' % (key,))


def _is_form_safe(body):
    try:
        form_encode(body)
    except ValueError:
        return False
    return True


def _describe(exc):
    """The useful core of a requests exception ("[Errno 111] Connection refused"), not its repr chain."""
    text = str(exc)
    match = re.search(r'(\[Errno [^\]]*\][^\'"()]*|\[SSL[^\]]*\][^\'"()]*)', text)
    return match.group(1).strip() if match else text


def _text_of(raw):
    return raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)


def _text_snippet(raw, limit=200):
    """A short one-line excerpt of a non-JSON answer (HTML tags removed)."""
    text = raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)
    text = re.sub(r'<[^>]*>', ' ', text)
    text = ' '.join(text.split())
    if len(text) > limit:
        text = text[:limit] + '...'
    return text or '(empty body)'


def _retry_after_seconds(value):
    """Retry-After as seconds (delta-seconds or an HTTP date), or None when unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _backoff(attempt):
    """Capped exponential backoff with jitter: attempt 0 waits 0.5-1 s, then 1-2 s, 2-4 s, ..."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** attempt))
    return random.uniform(delay / 2.0, delay)


class CallOptions(object):
    """How one operation is sent, settled once by CocalcClient.call() and handed to the backend
    and post(): which failures may be retried (a RETRY_POLICY row), the HTTP timeout, the body
    encoding, the ready wait and whether a write is allowed in check mode (probes)."""

    def __init__(self, retry_on, timeout, form=None, ready_wait=None, allow_in_check_mode=False):
        self.retry_on = retry_on
        self.timeout = timeout
        self.form = form
        self.ready_wait = ready_wait
        self.allow_in_check_mode = allow_in_check_mode

    def but(self, **changes):
        """A copy with some fields changed (e.g. a read of one file of a batch: retry_on of a read)."""
        fields = dict(self.__dict__)
        fields.update(changes)
        return CallOptions(**fields)


class _NoCookies(requests.cookies.RequestsCookieJar if HAS_REQUESTS else object):
    """A cookie jar that keeps nothing: current CoCalc sets cookies on every answer, and its
    remember_me cookie (from auth/sign-up) would override the API key on api/v2, so that later
    calls would act as the new account. The client authenticates with the key alone."""

    def set_cookie(self, cookie, *args, **kwargs):
        return None


def _new_session(api_key):
    session = requests.Session()
    session.cookies = _NoCookies()
    session.auth = (api_key, '')  # the key is the Basic-auth user; the password is ignored
    session.headers.update({'User-Agent': USER_AGENT, 'Accept': 'application/json'})
    return session


def _checked(value, ok, text):
    if not ok(value):
        raise ValueError(text % (value,))
    return value


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_next_404(error):
    """True for current CoCalc's answer to /api/v1/*: its Next.js 404 page (nothing ran)."""
    if error.http_status != 404 or isinstance(error.body, dict):
        return False
    page = error.body.decode('utf-8', 'replace') if isinstance(error.body, bytes) else str(error.body or '')
    return any(marker in page for marker in _NEXT_404_MARKERS)


class CocalcClient:
    """Client for one CoCalc server and one API key, with one pooled HTTP session.

    call(operation, body) hands an operation of OPERATIONS to the backend of the server's API
    generation (api_version: 'v1', 'current', or 'auto' = decided by the first answer); the
    backend turns it into POSTs through post(), the only place that sends."""

    def __init__(self, api_url, api_key, validate_certs=True, timeout=DEFAULT_TIMEOUT, retries=DEFAULT_RETRIES, pool_size=None,
                 ready_wait=DEFAULT_READY_WAIT, api_version=None):
        if not HAS_REQUESTS:
            raise RuntimeError('the Python library requests is required')
        self.api_url = self._normalise_url(api_url)
        self._api_key = _checked(api_key, lambda v: isinstance(v, str) and v.strip(),
                                 'api_key must be a non-empty string (option api_key or env COCALC_API_KEY)%.0s')
        self.validate_certs = _checked(validate_certs, lambda v: v in (True, False), 'validate_certs must be true or false%.0s')
        self.timeout = _checked(timeout, lambda v: _is_number(v) and v > 0,
                                'api_timeout must be a positive number of seconds, got %r')
        self.retries = _checked(retries, lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 20,
                                'api_retries must be an integer between 0 and 20, got %r')
        if api_version is None:
            api_version = os.environ.get('COCALC_API_VERSION') or 'auto'
        self.api_version = _checked(api_version, lambda v: v in API_VERSIONS,
                                    'api_version must be one of auto, v1, current (option api_version or env COCALC_API_VERSION), got %r')
        # The generation spoken: 'v1' or 'current'; None until auto has seen the first answer.
        self.generation = None if api_version == 'auto' else api_version
        self._backends = {}
        # Seconds a project call waits for its project to finish starting (see ProjectNotReady).
        self.ready_wait = ready_wait
        # When True, any call that could change the server raises CocalcCheckModeError.
        self.check_mode = False
        # Connections kept open (requests' default); backends that fan out use as many threads.
        self.pool_size = 10
        self._session = _new_session(api_key)
        if pool_size is not None:
            self.resize_pool(pool_size)

    def resize_pool(self, size):
        """Keep up to size connections open to the server (requests keeps 10), so that size threads
        sharing this client do not open and drop connections on every call."""
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError('the connection pool size must be a positive integer, got %r' % (size,))
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=size)
        self._session.mount('https://', adapter)
        self._session.mount('http://', adapter)
        self.pool_size = size

    @classmethod
    def from_params(cls, params):
        """Build a client from the connection options (module params or plugin options)."""
        return cls(params['api_url'], params['api_key'], validate_certs=params['validate_certs'],
                   timeout=params['api_timeout'], retries=params['api_retries'], api_version=params.get('api_version'))

    @staticmethod
    def _normalise_url(api_url):
        if not isinstance(api_url, str) or not api_url.strip():
            raise ValueError('api_url must be the base URL of a CoCalc server, for example https://cocalc.example.org')
        url = api_url.strip().rstrip('/')
        parts = urlsplit(url)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise ValueError('api_url must start with http:// or https:// and name a host, got %r' % (api_url,))
        if parts.username or parts.password:
            raise ValueError('api_url must not contain credentials; pass the key as api_key')
        if url.endswith('/api/v1'):
            url = url[:-len('/api/v1')]
        return url

    def close(self):
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ---- operations ----

    def call(self, endpoint, body=None, retry=None, request_timeout=None, form=None, allow_in_check_mode=False, ready_wait=None,
             **options):
        """Run one operation of OPERATIONS and return its answer in API v1's shape (a dict).

        The request body is ``body`` (a dict) updated with ``options``; use ``body`` for options
        whose names collide with the keywords here (project_exec has its own ``timeout``).
        retry: None = RETRY_POLICY decides by call_kind(); True = retry as an idempotent call;
        False = never retry.
        request_timeout: seconds for this call (default api_timeout).
        form: None = JSON unless the JSON would exceed the server's 100 kB limit and every value
        is a string; True/False forces form/JSON (API v1; the current generation takes JSON).
        allow_in_check_mode: let a non-read call through in check mode (for probes).
        ready_wait: seconds to wait for a project that is still starting (default: the client's
        ready_wait). The hub refuses such a call before it reaches the project, so it is sent again
        after a pause, whatever the endpoint; once the wait is spent, ProjectNotReady is raised.
        Raises CocalcApiError on any failure.
        """
        payload = dict(body or {})
        payload.update(options)
        self.guard(endpoint, is_read_only(endpoint, payload), allow_in_check_mode)
        how = CallOptions(self._retry_on(endpoint, payload, retry), self.timeout if request_timeout is None else request_timeout,
                          form, ready_wait, allow_in_check_mode)
        return self._dispatch(endpoint, payload, how)

    def guard(self, name, read, allowed=False):
        """The check-mode write guard: refuse a call (operation, route or RPC function) that could
        change the server. The backends ask again for every route they send."""
        if self.check_mode and not allowed and not read:
            raise CocalcCheckModeError("internal error: API call '%s' would change the server in check mode" % name)

    @staticmethod
    def _retry_on(endpoint, payload, retry):
        if retry is None:
            return RETRY_POLICY[call_kind(endpoint, payload)]
        return RETRY_POLICY['idempotent'] if retry else frozenset()

    def _dispatch(self, operation, payload, how):
        """Hand the operation to the backend of the generation; auto sends it as API v1 first."""
        if self.generation is not None:
            return self.backend(self.generation).run(self, operation, payload, how)
        try:
            answer = self.backend('v1').run(self, operation, payload, how)
        except CocalcApiError as err:
            if _is_next_404(err):
                # Current CoCalc answers every /api/v1 path with this page before running anything.
                self.generation = 'current'
                return self.backend('current').run(self, operation, payload, how)
            if err.http_status is not None and err.http_status != 404:
                self.generation = 'v1'
            raise
        self.generation = 'v1'
        return answer

    def backend(self, generation):
        """The backend object of an API generation ('v1' or 'current'), made at first use."""
        backend = self._backends.get(generation)
        if backend is None:
            # The backends sit above this transport (they call post()); they are imported here, at
            # first use, because the client that the resource code holds hands operations down to them.
            if generation == 'v1':
                from ansible_collections.cocalc.cocalc.plugins.module_utils._backend_v1 import V1Backend as backend_class
            else:
                from ansible_collections.cocalc.cocalc.plugins.module_utils._backend_current import CurrentBackend as backend_class
            backend = self._backends.setdefault(generation, backend_class())
        return backend

    # ---- transport ----

    def post(self, path, payload, name, how, answers='v1'):
        """POST <api_url><path> with payload and return the decoded answer: the one place that sends.

        name: what errors call the call (an operation, route or RPC function). answers: 'v1' (event
        answers, a dict) or 'current' (HTTP 200 {"error"}, any JSON value). Retries follow
        how.retry_on; a call refused because its project is still starting is sent again within the
        ready wait (see call())."""
        data, content_type = self._encode(payload, how.form)
        url = self.api_url + path
        decode = self._decode if answers == 'v1' else self._decode_current
        attempt = 0
        waiter = None
        while True:
            response, error = self._post(name, url, data, content_type, how.timeout)
            if error is None:
                try:
                    return decode(name, response, len(data))
                except ProjectNotReady as err:
                    # The hub refused the call before it reached the project: sending it again after a
                    # pause is safe whatever the call, within the ready_wait budget.
                    waiter = waiter or self._ready_waiter(payload, how)
                    if waiter is not None and waiter.pause():
                        continue
                    raise self._note_retries(self._not_ready_spent(err, payload, waiter), attempt)
                except CocalcApiError as err:
                    error = err
                    error.failure = error.failure or _answer_failure(response.status_code, err.body)
            wait = self._retry_pause(error, how.retry_on, attempt, response)
            if wait is None:
                raise self._note_retries(error, attempt)
            _wait.sleep(wait)
            attempt += 1

    def _ready_waiter(self, payload, how):
        if not _projects_of(payload):
            return None
        budget = self.ready_wait if how.ready_wait is None else how.ready_wait
        return _wait.Waiter(budget, first=READY_WAIT_FIRST, cap=READY_WAIT_CAP)

    @staticmethod
    def _not_ready_spent(err, payload, waiter):
        if waiter is not None:
            err.message += (' (project %s did not become ready within %s seconds: it is still starting, or cannot start)'
                            % (' / '.join(_projects_of(payload)), waiter.budget))
        return err

    def _retry_pause(self, error, retry_on, attempt, response):
        """Seconds to pause before sending the call again, or None to give up with error."""
        if error.failure not in retry_on or attempt >= self.retries:
            return None
        return self._retry_wait(attempt, response) if response is not None else _backoff(attempt)

    @staticmethod
    def _note_retries(error, attempt):
        if attempt:
            error.message += ' (after %d retries)' % attempt
        return error

    def _encode(self, payload, form):
        if form is None:
            data = json.dumps(payload, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
            if len(data) <= JSON_BODY_LIMIT or not _is_form_safe(payload):
                return data, 'application/json'
            form = True
        if form:
            return form_encode(payload), 'application/x-www-form-urlencoded'
        return json.dumps(payload, separators=(',', ':'), ensure_ascii=False).encode('utf-8'), 'application/json'

    def _post(self, endpoint, url, data, content_type, timeout):
        """One HTTP attempt: (response, None), or (None, CocalcApiError) with .failure set (RETRY_POLICY)."""
        try:
            response = self._session.post(url, data=data, headers={'Content-Type': content_type},
                                          timeout=timeout, verify=self.validate_certs)
            return response, None
        except requests.exceptions.SSLError as exc:
            return None, self._error(
                endpoint, None, None,
                'TLS error talking to %s: %s (set validate_certs=false only for a server you trust)' % (url, _describe(exc)))
        except requests.exceptions.ConnectionError as exc:
            # Includes ConnectTimeout; a connection dropped after the request went out may have been processed.
            error = self._error(endpoint, None, None, 'could not connect to %s: %s' % (url, _describe(exc)))
            error.failure = 'unsent' if _never_connected(exc) else 'lost'
            if error.failure == 'lost':
                error.message = 'connection to %s lost before an answer: %s' % (url, _describe(exc))
            return None, error
        except requests.exceptions.Timeout:
            # A read timeout: the server may still be working.
            error = self._error(endpoint, None, None, 'no answer from %s within %s seconds (option api_timeout)' % (url, timeout))
            error.failure = 'lost'
            return None, error
        except requests.exceptions.RequestException as exc:
            error = self._error(endpoint, None, None, 'request to %s failed: %s' % (url, _describe(exc)))
            if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
                # An answer cut short: the request went out. Other RequestExceptions are local (a bad header).
                error.failure = 'lost'
            return None, error

    def _retry_wait(self, attempt, response):
        """Seconds to wait before retrying a 429/502/503/504, or None to give up."""
        asked = _retry_after_seconds(response.headers.get('Retry-After'))
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
        return _backoff(attempt)

    def _decode(self, endpoint, response, sent_bytes):
        status = response.status_code
        raw = response.content or b''
        try:
            data = json.loads(raw.decode('utf-8'))
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self._error(endpoint, status, None, self._non_json_message(status, response, raw, sent_bytes), raw)
        if not 200 <= status < 300:
            text = data.get('error')
            if not isinstance(text, str):
                text = json.dumps(data, sort_keys=True)
            error = self._error(endpoint, status, None, text, data)
            self._explain(error, text)
            raise error
        event = data.get('event')
        if event == 'error':
            text = self._as_text(data.get('error'))
            kind = ProjectNotReady if is_not_ready_text(text) else CocalcApiError
            error = self._error(endpoint, status, event, text, data, kind)
            if any(part in text for part in _ANONYMOUS_TEXTS):
                error.message += ' (the server did not recognise the key as an account; check api_key / COCALC_API_KEY)'
            raise error
        if event == 'account_creation_failed':
            reason = data.get('reason')
            if isinstance(reason, dict):
                text = '; '.join('%s: %s' % (k, self._as_text(v)) for k, v in sorted(reason.items()))
            else:
                text = self._as_text(reason)
            raise self._error(endpoint, status, event, text, data)
        # changed_password, changed_email_address, forgot_password_response, ... report failure in "error".
        if data.get('error'):
            raise self._error(endpoint, status, event, self._as_text(data['error']), data)
        return data

    def _decode_current(self, name, response, sent_bytes):
        """Decode an answer of the current generation (api/v2 routes and the conat bridges): any
        JSON value; failures are HTTP 200 {"error": text} (conat texts start with "Error: "),
        auth/sign-up's {"issues": {field: text}}, 413 text, and Next's 404 page for unknown routes."""
        status = response.status_code
        raw = response.content or b''
        try:
            data = json.loads(raw.decode('utf-8'))
        except ValueError:
            error = self._error(name, status, None, self._non_json_message(status, response, raw, sent_bytes), raw)
            if status == 404:
                error.unknown_endpoint = True
                error.message += (' (%s answers neither the current CoCalc API (/api/v2, /api/conat) nor, for api_version auto, '
                                  'CoCalc API v1 (/api/v1))' % self.api_url)
            raise error
        if not 200 <= status < 300 or (isinstance(data, dict) and data.get('error') is not None):
            raise self._current_error(name, status, data)
        if isinstance(data, dict) and isinstance(data.get('issues'), dict):
            text = '; '.join('%s: %s' % (key, self._as_text(value)) for key, value in sorted(data['issues'].items()))
            raise self._error(name, status, 'account_creation_failed', text, data)
        return data

    def _current_error(self, name, status, data):
        text = data.get('error') if isinstance(data, dict) else None
        text = _CONAT_ERROR_PREFIX.sub('', self._as_text(text)) if text is not None else json.dumps(data, sort_keys=True)
        # An HTTP 200 {"error"} is API v1's event 'error' in the contract's terms.
        event = 'error' if status == 200 else None
        error = self._error(name, status, event, text, data, ProjectNotReady if is_not_ready_text(text) else CocalcApiError)
        if _GAVE_UP_RE.search(text):
            # A bridge timeout (code 408) or the 60 s hub->project limit ("undefined"): the work may go on.
            error.failure = 'lost'
            error.message += ' (the server stopped waiting for the answer; the call may still have run)'
        elif any(part in text for part in _BAD_KEY_TEXTS + _ANONYMOUS_TEXTS):
            error.message += ' (the server did not recognise the key as an account; check api_key / COCALC_API_KEY)'
        return error

    @staticmethod
    def _as_text(value):
        if isinstance(value, str):
            return value
        if value is None or value == {}:
            return 'the server reported an error without details'
        return json.dumps(value, sort_keys=True)

    def _non_json_message(self, status, response, raw, sent_bytes):
        content_type = response.headers.get('Content-Type') or 'no content type'
        text = 'expected a JSON object, got HTTP %s with %s: %s' % (status, content_type.split(';')[0], _text_snippet(raw))
        if status == 413:
            text += ' (the request body was %d bytes, over the server limit)' % sent_bytes
        elif status == 404 and any(marker in _text_of(raw) for marker in _NEXT_404_MARKERS) and self.generation == 'v1':
            text += (' (this is the 404 page of current CoCalc, which has no API v1: set api_version to auto or current)')
        elif status == 404:
            text += ' (is api_url the base URL of a CoCalc server?)'
            if self.api_version == 'auto':
                text += ' It serves neither CoCalc API v1 (/api/v1) nor looks like current CoCalc (api/v2, conat).'
        elif status in RETRY_STATUSES:
            text += ' (the server or a proxy in front of it is unavailable)'
        return text

    def _explain(self, error, text):
        """Add a hint to well-known HTTP 400 texts."""
        match = _UNKNOWN_ENDPOINT_RE.match(text)
        if match and (match.group('a') or match.group('b') or match.group('c') or '') == error.endpoint:
            error.unknown_endpoint = True
            removed = _REMOVED_ENDPOINTS.get(error.endpoint)
            if error.endpoint not in API_V1_ENDPOINTS:
                error.message += ' (%s is not an endpoint of CoCalc API v1)' % error.endpoint
            elif removed:
                error.message += ' (CoCalc removed %s from API v1 in %s; this server is newer than that)' % (error.endpoint, removed)
            else:
                error.message += (' (the server at %s does not speak CoCalc API v1; cocalc.com removed API v1 in 2025, '
                                  'so point api_url at a CoCalc server that still serves /api/v1)' % self.api_url)
        elif any(part in text for part in _BAD_KEY_TEXTS):
            error.message += ' (check api_key / COCALC_API_KEY)'
        elif error.http_status == 429:
            error.message += ' (rate limited by the server)'

    def _redact(self, value):
        key = self._api_key
        if len(key) < _MIN_REDACT_LEN:
            return value
        if isinstance(value, str):
            return value.replace(key, _REDACTED)
        if isinstance(value, bytes):
            return value.replace(key.encode('utf-8'), _REDACTED.encode('utf-8'))
        if isinstance(value, dict):
            return {self._redact(k): self._redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact(v) for v in value]
        return value

    def _error(self, endpoint, http_status, event, message, body=None, cls=CocalcApiError):
        return api_error(endpoint, http_status, event, self._redact(message), self._redact(body), cls)

    def call_without_rejected(self, endpoint, body, optional=None, adapt=None, **options):
        """call(endpoint, body, **options), sent again when the server refuses an argument at parameter
        validation (kind unexpected_argument or missing_argument: it did nothing, so sending again is safe).

        By default the call goes again without the unexpected argument, when it is one of optional (None:
        any argument of body). adapt(body, err) replaces that rule: it changes body for the rejection and
        returns True, or returns False to give up. Each rejection is answered once; body is changed in
        place, so the caller sees what was sent last.
        """
        answered = set()
        while True:
            try:
                return self.call(endpoint, body, **options)
            except CocalcApiError as err:
                rejection = (err.kind, err.argument)
                if err.kind not in ('unexpected_argument', 'missing_argument') or rejection in answered:
                    raise
                answered.add(rejection)
                if not (adapt or _drop_unexpected(optional))(body, err):
                    raise

    # ---- helpers every module needs ----

    def ping(self):
        return self.call('ping')

    def query(self, query, options=None):
        """Run a raw query (get or set) and return the ``query`` part of the answer."""
        body = {'query': query}
        if options:
            body['options'] = options
        return self.call('query', body).get('query')

    def query_get(self, table, spec, options=None):
        """Read rows of a table.

        spec is a dict (one row: returns a dict, or None on a miss) or a one-element list
        [dict] (many rows: returns a list). Fields set to None are the ones to read; other
        values filter. At least one field must be None, or the server would treat it as a set.
        """
        if isinstance(spec, list):
            if len(spec) != 1 or not isinstance(spec[0], dict):
                raise ValueError('query_get(%s): a list spec must hold exactly one dict' % table)
        elif not isinstance(spec, dict):
            raise ValueError('query_get(%s): spec must be a dict or [dict]' % table)
        if not has_null(spec):
            raise ValueError('query_get(%s): name at least one field with value None to read' % table)
        result = self.query({table: spec}, options) or {}
        rows = result.get(table)
        if isinstance(spec, list):
            return rows or []
        return rows or None

    def query_set(self, table, values):
        """Upsert one row. A None anywhere would turn the write into a read, so it is refused."""
        if not isinstance(values, dict) or not values:
            raise ValueError('query_set(%s): values must be a non-empty dict' % table)
        if has_null(values):
            raise ValueError('query_set(%s): values must not contain None (the server would read instead of write)' % table)
        self.query({table: values})

    def whoami(self):
        """The key's own account (account_id, email_address, first_name, last_name, groups), or
        None for a key that belongs to no account (project-scoped keys)."""
        return self.query_get('accounts', {'account_id': None, 'email_address': None, 'first_name': None,
                                           'last_name': None, 'groups': None})

    def user_search(self, query, limit=None):
        body = {'query': query}
        if limit is not None:
            body['limit'] = limit
        return self.call('user_search', body).get('results') or []

    def get_usernames(self, account_ids):
        """{account_id: {first_name, last_name}}; unknown ids map to {}.

        Servers after September 2024 lack get_usernames but resolve an account id given to
        user_search, so that is the fallback there.
        """
        account_ids = list(account_ids)
        if not account_ids:
            return {}
        try:
            return self.call('get_usernames', account_ids=account_ids).get('usernames') or {}
        except CocalcApiError as err:
            if not err.unknown_endpoint:
                raise
        names = {}
        for account_id in account_ids:
            rows = [r for r in self.user_search(account_id, limit=1) if r.get('account_id') == account_id]
            names[account_id] = dict(first_name=rows[0].get('first_name'), last_name=rows[0].get('last_name')) if rows else {}
        return names

    def projects_all(self, fields, **filters):
        """Projects the key's account can see, with the given fields (project_id always).

        Uses the table projects_all: the table "projects" only sees projects edited in the
        last 21 days (and at most 100), so it must never be used to look a project up.
        Keyword filters are equality filters, e.g. title='Algebra'.
        """
        spec = dict.fromkeys(fields)
        spec['project_id'] = filters.pop('project_id', None)
        spec.update(filters)
        return self.query_get('projects_all', [spec])


def _projects_of(payload):
    """The projects a call needs running (named by its body)."""
    return [payload[key] for key in _PROJECT_FIELDS if isinstance(payload.get(key), str)]


def _drop_unexpected(optional):
    """The default adapt() of call_without_rejected: leave out an unexpected argument of optional."""
    def adapt(body, err):
        rejected = err.unexpected_argument
        if rejected not in body or (optional is not None and rejected not in optional):
            return False
        del body[rejected]
        return True
    return adapt


def _never_connected(exc):
    """True when a requests ConnectionError happened before the request was sent (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    text = repr(exc)
    return any(part in text for part in ('NewConnectionError', 'NameResolutionError', 'Connection refused',
                                         'Failed to resolve', 'Name or service not known', 'ConnectTimeoutError'))


def _answer_failure(status, body):
    """The RETRY_POLICY failure kind of an HTTP answer that failed to decode or reported an error:
    'unsent', 'lost' or None (the hub's own answer: not retried)."""
    if status in UNSENT_STATUSES:
        return 'unsent'
    if status in LOST_STATUSES:
        return 'lost'
    json_answer = isinstance(body, dict)
    if (status >= 500 or 200 <= status < 300) and not json_answer:
        # A proxy's error page, an HTML page with 200, or a body cut short.
        return 'lost'
    return None
