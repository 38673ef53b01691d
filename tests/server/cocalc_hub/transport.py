"""HTTP transport of API v1, in the hub's order of checks.

POST /api/v1/<event> (the event is the last path segment) with a JSON or form body; the key is the
Basic-auth user name or the Bearer token. Errors of the framework are HTTP 400 {"error": ...};
body-parser errors (413, malformed JSON) and unrouted requests are Express's HTML pages.
"""

import base64
import binascii
import hashlib
import html
import json
import socket
import struct
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, unquote_plus, urlsplit

from . import faults, messages
from .accounts import BANNED, AuthError, authenticate
from .errors import HandlerError, NoAnswer
from .handlers import HANDLERS, PROJECT_ENDPOINTS
from .hub import Caller
from .query import KIND_KEY as QUERY_KIND_KEY
from .util import new_uuid, pretty_json, truthy

JSON_LIMIT = 100 * 1024          # Express's default JSON limit (the 2024 hub kept it)
FORM_LIMIT = 1024 * 1024         # the hub's urlencoded limit
DRAIN_LIMIT = 64 * 1024 * 1024   # bodies beyond this are not read; the connection is closed instead
HTML_PAGE = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n'
             '<body>\n<pre>%s</pre>\n</body>\n</html>\n')
BASIC_WITHOUT_VALUE = ('The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array '
                       'or an Array-like Object. Received undefined')
QS_ARRAY_LIMIT = 20
QS_DEPTH = 5
QS_PARAMETER_LIMIT = 1000
_HOLE = object()
# What a proxy's maintenance page in front of the hub answers instead of the JSON (fault `html200`).
LOADING_PAGE = b'<html><head><title>CoCalc</title></head><body>Loading...</body></html>\n'


class HtmlError(Exception):
    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


# ---- bodies -------------------------------------------------------------------------------
def _reject_constant(name):
    raise ValueError('invalid JSON constant %s' % name)


def parse_json_body(raw):
    if not raw.strip():
        return {}
    try:
        text = raw.decode('utf-8')
        # body-parser's strict mode: only an object or an array.
        if text.lstrip()[:1] not in ('{', '['):
            raise ValueError('not an object')
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        raise HtmlError(400, 'Bad Request') from None


def _qs_segments(key):
    """Split 'a[b][]' into ['a', 'b', ''] the way qs does (depth 5, the rest stays one literal segment)."""
    start = key.find('[')
    if start <= 0 or ']' not in key[start:]:
        return [key]
    segments = [key[:start]]
    rest = key[start:]
    while rest.startswith('[') and ']' in rest and len(segments) <= QS_DEPTH:
        end = rest.index(']')
        segments.append(rest[1:end])
        rest = rest[end + 1:]
    if rest:
        segments.append(rest)
    return segments


def _qs_object(segments, value):
    leaf = value
    for segment in reversed(segments[1:]):
        if segment == '':
            leaf = [leaf]
        elif segment.isdigit() and str(int(segment)) == segment and int(segment) <= QS_ARRAY_LIMIT:
            holder = [_HOLE] * int(segment) + [leaf]
            leaf = holder
        else:
            leaf = {segment: leaf}
    return {segments[0]: leaf}


def _qs_merge(target, source):
    if not isinstance(source, (dict, list)):
        if isinstance(target, list):
            return target + [source]
        if isinstance(target, dict):
            target[source] = True
            return target
        return [target, source]
    if not isinstance(target, (dict, list)):
        return [target] + (source if isinstance(source, list) else [source])
    if isinstance(target, list) and isinstance(source, list):
        return _qs_merge_lists(target, source)
    if isinstance(target, list):
        target = {str(index): item for index, item in enumerate(target) if item is not _HOLE}
    if isinstance(source, list):
        source = {str(index): item for index, item in enumerate(source) if item is not _HOLE}
    for key, item in source.items():
        target[key] = _qs_merge(target[key], item) if key in target else item
    return target


def _qs_merge_lists(target, source):
    result = list(target)
    for index, item in enumerate(source):
        if item is _HOLE:
            continue
        if index < len(result) and result[index] is not _HOLE:
            if isinstance(result[index], (dict, list)) and isinstance(item, (dict, list)):
                result[index] = _qs_merge(result[index], item)
            else:
                result.append(item)
        else:
            result.extend([_HOLE] * (index + 1 - len(result)))
            result[index] = item
    return result


def _qs_compact(value):
    if isinstance(value, list):
        return [_qs_compact(item) for item in value if item is not _HOLE]
    if isinstance(value, dict):
        return {key: _qs_compact(item) for key, item in value.items()}
    return value


def parse_form_body(raw):
    """application/x-www-form-urlencoded with the qs "extended" syntax; every value is a string."""
    result = {}
    text = raw.decode('utf-8', 'replace')
    for part in text.split('&')[:QS_PARAMETER_LIMIT]:
        if not part:
            continue
        key, value = part.split('=', 1) if '=' in part else (part, '')
        key = unquote_plus(key)
        if not key:
            continue
        result = _qs_merge(result, _qs_object(_qs_segments(key), unquote_plus(value)))
    return _qs_compact(result)


def parse_body(content_type, raw):
    media = (content_type or '').split(';')[0].strip().lower()
    if media == 'application/json':
        if len(raw) > JSON_LIMIT:
            raise HtmlError(413, 'Payload Too Large')
        body = parse_json_body(raw)
    elif media == 'application/x-www-form-urlencoded':
        if len(raw) > FORM_LIMIT:
            raise HtmlError(413, 'Payload Too Large')
        body = parse_form_body(raw)
    else:
        return {}   # any other type: the hub's parsers leave the body empty
    if isinstance(body, list):
        # A JSON array body: the hub's option check walks it like an object with keys '0', '1', ...
        body = {str(index): item for index, item in enumerate(body)}
    return body


# ---- the API ------------------------------------------------------------------------------
def api_key_from(header):
    """(key, None) or (None, error text) from the Authorization header."""
    if header is None:
        return None, 'You must provide authentication via an API key.'
    parts = header.split()
    scheme = parts[0] if parts else 'undefined'
    if scheme == 'Bearer':
        return (parts[1] if len(parts) > 1 else ''), None
    if scheme == 'Basic':
        if len(parts) < 2:
            return None, BASIC_WITHOUT_VALUE
        token = ''.join(char for char in parts[1] if char.isalnum() or char in '+/')
        try:
            decoded = base64.b64decode(token + '=' * (-len(token) % 4)).decode('utf-8', 'replace')
        except (binascii.Error, ValueError):
            decoded = ''
        return decoded.split(':')[0], None
    return None, "Unknown authorization type '%s'" % scheme


def call(hub, event, body, authorization, notes=None):
    """Run one API call; returns (status, payload) where payload is a dict (JSON) or HtmlError.

    `notes`, a dict when given, receives what `serve stats` counts beyond the status: for `query`,
    `query_kind` 'get' or 'set' once the query engine classified the call (absent when it was refused
    before)."""
    key, error = api_key_from(authorization)
    if error:
        return 400, {'error': error}
    error = messages.gate(hub.profile, event)
    if error:
        return 400, {'error': error}
    try:
        mesg = messages.validate(hub.profile, event, body)
    except messages.ParameterError as problem:
        return 400, {'error': "invalid parameters '%s'" % problem}
    if event == 'query' and truthy(mesg.get('multi_response')):
        # A typo in the hub's dispatcher (since 2017): an uncaught error before 2021, a 400 after.
        if hub.profile.multi_response_crashes:
            return 500, HtmlError(500, 'Internal Server Error')
        return 400, {'error': 'ReferenceError: otps is not defined'}
    try:
        caller = Caller(authenticate(hub, key))
    except AuthError as problem:
        # Before 2019-05-14 an unknown or blank key ran the call anonymously.
        if not hub.profile.blank_key_is_anonymous or str(problem) == BANNED:
            return 400, {'error': str(problem)}
        caller = Caller(None)
    if event in messages.JS_PROTOTYPE_NAMES:
        return 400, {'error': "unknown message event type 'undefined'"}
    if event in hub.profile.unhandled or event not in HANDLERS:
        return 400, {'error': "unknown message event type '%s'" % event}
    if mesg.get('id') is None and event not in ('metrics', 'start_metrics'):
        mesg['id'] = new_uuid()
    mesg['event'] = event
    try:
        response = HANDLERS[event](hub, caller, mesg)
    except HandlerError as failure:
        response = {'event': 'error', 'id': mesg.get('id'), 'error': failure.error}
    finally:
        if notes is not None and event == 'query' and QUERY_KIND_KEY in mesg:
            notes['query_kind'] = mesg[QUERY_KIND_KEY]
    hub.pause(hub.project_delay if event in PROJECT_ENDPOINTS else hub.hub_delay)
    return 200, response


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle plus delayed ACKs add 40 ms.
    disable_nagle_algorithm = True
    server_version = 'cocalc-local-hub'
    sys_version = ''

    @property
    def hub(self):
        return self.server.hub

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.verbose:
            sys.stderr.write('%s %s\n' % (self.log_date_time_string(), format % args))

    # -- reading --------------------------------------------------------------------------
    def _read_body(self):
        """The whole request body (chunked or sized); None when it is too large to drain."""
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(chunks)
                total += size
                if total > DRAIN_LIMIT:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get('Content-Length') or 0)
        if length > DRAIN_LIMIT:
            return None
        return self.rfile.read(length) if length > 0 else b''

    # -- writing --------------------------------------------------------------------------
    def _send(self, status, body, content_type, extra=None):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        digest = base64.b64encode(hashlib.sha1(body).digest()).decode('ascii')[:27]
        self.send_header('ETag', 'W/"%x-%s"' % (len(body), digest))
        self._finish(body, extra)

    def _finish(self, body, extra=None):
        """The tail of every answer (both eras' handlers): extra headers, `Connection: close` when the
        connection ends after it, the end of the headers, and the body (none to a HEAD)."""
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _send_plain(self, status, body, content_type):
        """An answer of this handler's own kind (the v2 handler adds its cookie)."""
        self._send(status, body, content_type)

    def _send_truncated(self, status, body, content_type):
        """Headers announcing the whole body, then only its first half, then the connection closes."""
        self.close_connection = True
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])

    def _deliver_fault(self, fault, status, body, content_type, count):
        """What an injected fault of a processed request (status_after, html200, reset_after, truncated)
        sends instead of the answer (status, body, content_type); count(status) records what was sent."""
        mode = fault['mode']
        if mode == 'status_after':
            count(fault['status'])
            self._send_fault_page(fault['status'])
        elif mode == 'html200':
            count(200)
            self._send_plain(200, LOADING_PAGE, 'text/html; charset=utf-8')
        elif mode == 'reset_after':
            count('reset')
            self._reset()
        else:   # truncated
            count(status)
            self._send_truncated(status, body, content_type)

    def _send_html(self, status, text):
        self._send(status, (HTML_PAGE % html.escape(text, quote=False)).encode('utf-8'), 'text/html; charset=utf-8')

    def _not_routed(self):
        if self._read_body() is None:
            self.close_connection = True
        path = urlsplit(self.path).path
        if self.command == 'OPTIONS' and path.startswith('/api/v1/'):
            self._send(200, b'POST', 'text/html; charset=utf-8', {'Allow': 'POST'})
            return
        self._send_html(404, 'Cannot %s %s' % (self.command, path))

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_routed

    def do_POST(self):  # pylint: disable=invalid-name
        path = urlsplit(self.path).path
        raw = self._read_body()
        if raw is None:
            self.close_connection = True
        if not path.startswith('/api/v1/'):
            self._send_html(404, 'Cannot POST %s' % path)
            return
        trimmed = path[:-1] if path.endswith('/') else path
        event = unquote(trimmed.rsplit('/', 1)[1])
        fault = self.hub.faults.choose(event, lambda: self._query_kind(raw))
        notes = {}
        if fault and fault['mode'] == 'status_before':
            # Refused before processing: a proxy or a busy hub answering for the API.
            self._count(event, fault['status'], notes, fault)
            extra = {'Retry-After': '1'} if fault['status'] == 429 else None
            self._send_fault_page(fault['status'], extra)
            return
        if fault and fault['mode'] == 'delay':
            time.sleep(fault['delay'])
        status, payload = self._answer(event, raw, notes)
        if fault is None or fault['mode'] == 'delay' or payload is None:
            # A request the hub never answers stays unanswered: there is no answer to lose.
            counted = fault if fault and (fault['mode'] == 'delay' or payload is not None) else None
            self._count(event, status, notes, counted)
            self._send_answer(status, payload)
        else:
            if isinstance(payload, HtmlError):
                body, content_type = (HTML_PAGE % html.escape(payload.text, quote=False)).encode('utf-8'), 'text/html; charset=utf-8'
            else:
                body, content_type = pretty_json(payload), 'application/json; charset=utf-8'
            self._deliver_fault(fault, status, body, content_type, lambda sent: self._count(event, sent, notes, fault))

    def _count(self, event, status, notes, fault=None):
        # Counted before answering, so a client that reads `serve stats` right after its call sees it.
        try:
            self.hub.store.count_request(event, status, query_get=notes.get('query_kind') == 'get',
                                         fault=fault['mode'] if fault else None)
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)

    def _send_answer(self, status, payload):
        if isinstance(payload, HtmlError):
            self._send_html(payload.status, payload.text)
        elif payload is not None:
            self._send(status, pretty_json(payload), 'application/json; charset=utf-8')
        else:
            # Like the real hub, never answer; hold the request for a bounded time, then close.
            deadline = time.monotonic() + self.hub.no_answer_seconds
            while time.monotonic() < deadline and not self.server.stopping:
                time.sleep(0.2)
            self.close_connection = True

    def _send_fault_page(self, status, extra=None):
        # What a proxy in front of the hub sends: an HTML page, never the API's JSON.
        text = {429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable',
                504: 'Gateway Time-out'}.get(status, 'Error')
        body = ('<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n'
                '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n' % (status, text, status, text)).encode('ascii')
        self._send(status, body, 'text/html', extra)

    def _reset(self):
        """Close the connection without an answer, with a TCP RST (SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _query_kind(self, raw):
        try:
            return faults.query_kind(parse_body(self.headers.get('Content-Type'), raw or b''))
        except HtmlError:
            return 'set'

    def _answer(self, event, raw, notes):
        """(status, JSON dict | HtmlError | None for no answer) for one routed POST."""
        try:
            if raw is None:
                raise HtmlError(413, 'Payload Too Large')
            body = parse_body(self.headers.get('Content-Type'), raw)
            status, payload = call(self.hub, event, body, self.headers.get('Authorization'), notes)
        except HtmlError as problem:
            return problem.status, problem
        except NoAnswer:
            return 'none', None
        except Exception as problem:  # pylint: disable=broad-except
            # A bug in this server: the hub answers escaping errors as 400 {"error": "<err>"}.
            traceback.print_exc(file=sys.stderr)
            return 400, {'error': 'Error: %s' % type(problem).__name__}
        return status, payload


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, hub, verbose=False):
        super().__init__(address, hub.profile.handler_class())
        self.hub = hub
        self.verbose = verbose
        self.stopping = False
