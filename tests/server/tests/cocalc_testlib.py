"""Helpers shared by the local CoCalc server tests, the conformance replay and the benchmark.

- `ServerProcess`: start `tests/server/serve` in a data dir, read its ready line, stop it with SIGTERM.
- `serve_cli`: run a `serve` subcommand (account, stats, outbox) and parse its JSON output.
- `Api`: POST /api/v1/<endpoint> with requests, with every auth form and body encoding the tests need.
- `Account`: an account of the server with its key and an `Api` acting as that account.
Only the standard library and requests are used, so the benchmark can import this file too.
"""

import base64
import collections
import contextlib
import ctypes
import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]
SERVE = ROOT / 'tests' / 'server' / 'serve'
ERAS = ('2024', 'guide')
READY_TIMEOUT = 60
STOP_TIMEOUT = 20
UUID_RE = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
NO_ACCOUNT = 'No account found. Is your API key wrong?'
NO_AUTH = 'You must provide authentication via an API key.'
# Project starts complete at once: the server's own tests of everything but the start model stay fast
# (test_starts.py runs its own servers with real start times).
INSTANT_STARTS = ('--start-seconds', '0')


def serve_command(*args):
    """The argv that runs `serve` with this interpreter (so it works whatever its shebang says)."""
    return [sys.executable, str(SERVE)] + [str(arg) for arg in args]


def serve_cli(*args, timeout=60):
    """Run a `serve` subcommand and return its stdout parsed as JSON; fail with its stderr otherwise."""
    done = subprocess.run(serve_command(*args), capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError('serve %s exited with %s: %s' % (' '.join(map(str, args)), done.returncode, done.stderr.strip()))
    return json.loads(done.stdout)


def _die_with_parent():
    """In the child before exec: get SIGTERM when the test process dies, so no server outlives a killed run."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


def unique(prefix):
    """A short unique name, so that tests sharing a server never collide."""
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


class ServerProcess:
    """One `serve` process on 127.0.0.1 with an ephemeral port, in `data_dir`."""

    def __init__(self, data_dir, era='2024', extra_args=(), env=None):
        self.data_dir = Path(data_dir)
        self.era = era
        self.extra_args = list(extra_args)
        self.env = None if env is None else dict(os.environ, **env)
        self.log_path = self.data_dir.parent / ('%s-server.log' % self.data_dir.name)
        self.proc = None
        self.info = None
        self._log = None
        self._extra_stdout = []

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self):
        """Start the server and wait for its ready line; returns the parsed line."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'ab')  # pylint: disable=consider-using-with
        cmd = serve_command('--data-dir', self.data_dir, '--host', '127.0.0.1', '--port', '0', '--era', self.era, *self.extra_args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, env=self.env,  # pylint: disable=consider-using-with
                                     preexec_fn=_die_with_parent)
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(READY_TIMEOUT)
        if not lines or not lines[0]:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError('the %s server printed no ready line within %s s; log:\n%s' % (self.era, READY_TIMEOUT, self.log_tail()))
        self.info = json.loads(lines[0])
        # Keep draining stdout so that a chatty server can never block on a full pipe; the contract says
        # the ready line is the only output, which test_lifecycle checks with `extra_stdout`.
        threading.Thread(target=self._drain, daemon=True).start()
        return self.info

    def _drain(self):
        for line in self.proc.stdout:
            self._extra_stdout.append(line)

    @property
    def extra_stdout(self):
        return list(self._extra_stdout)

    def stop(self, sig=None):
        """Send SIGTERM (or `sig`) and return the exit code (killing it if it does not stop in time)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig or signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = 'no exit within %s s (killed)' % STOP_TIMEOUT
        self._log.close()
        return rc

    def log_tail(self, size=4000):
        try:
            return self.log_path.read_text(errors='replace')[-size:]
        except OSError:
            return '(no log)'

    # -- contract accessors ----------------------------------------------------------------------
    @property
    def url(self):
        return self.info['url']

    @property
    def api_key(self):
        return self.info['api_key']

    @property
    def account_id(self):
        return self.info['account_id']

    @property
    def projects_dir(self):
        return self.data_dir / 'projects'

    def home(self, project_id):
        return self.projects_dir / project_id

    def api(self, key=None):
        """An Api acting with `key` (default: the bootstrap admin)."""
        return Api(self.url, self.api_key if key is None else key)

    @property
    def admin(self):
        return Account(self, self.account_id, self.api_key, self.info.get('email'), None)

    def new_account(self, prefix='user', first_name='Test', last_name='User', password=None, admin=False, email=None, cli=None):
        """Create an account; the e-mail is unique unless given.

        The `serve account` CLI makes admins and every guide-era account (that era's create_account
        returns no key); other 2024-era accounts come from create_account with get_api_key, which
        costs no process start (tests make hundreds of accounts).
        """
        email = email or '%s@example.com' % unique(prefix)
        password = password or 'pw-%s' % uuid.uuid4().hex[:12]
        if cli is None:
            cli = admin or self.era != '2024'
        if cli:
            args = ['account', '--data-dir', self.data_dir, '--email', email, '--first-name', first_name, '--last-name', last_name,
                    '--password', password]
            if admin:
                args.append('--admin')
            made = serve_cli(*args)
        else:
            made = self.api().ok('create_account', first_name=first_name, last_name=last_name, email_address=email, password=password,
                                 get_api_key=True)
        return Account(self, made['account_id'], made['api_key'], email, password, first_name, last_name)

    def age_project(self, project_id, days):
        """Move a project's last_edited `days` into the past, straight in the server's SQLite file.

        The API has no way to make a project old, and the 21-day window of `projects` needs one; the
        server keeps each project as a JSON document, so this edits that document (WAL mode allows it
        while the server runs). Returns True when one row changed.
        """
        when = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%S.000Z')
        return self._sql("UPDATE projects SET doc = json_set(doc, '$.last_edited', ?) WHERE project_id = ?", (when, project_id)) == 1

    def ban_account(self, email):
        """Ban an account straight in the database, as the recording session did (the API cannot ban)."""
        return self._sql('UPDATE accounts SET banned = 1 WHERE email_address = ?', (email,)) == 1

    def _sql(self, statement, args):
        """One write to the server's SQLite file (WAL mode allows it while the server runs); returns rowcount."""
        with contextlib.closing(sqlite3.connect(str(self.data_dir / 'hub.sqlite3'), timeout=30)) as conn:
            with conn:
                return conn.execute(statement, args).rowcount

    def stats(self, reset=False):
        return serve_cli('stats', '--data-dir', self.data_dir, *(['--reset'] if reset else []))

    def outbox(self):
        return serve_cli('outbox', '--data-dir', self.data_dir)


Response = collections.namedtuple('Response', 'status content_type text json')


class Api:
    """POST /api/v1/<endpoint> to one server with one key."""

    def __init__(self, url, key, session=None):
        self.url = url.rstrip('/')
        self.key = key
        self.session = session or requests.Session()

    def auth_header(self, auth='basic', key=None):
        key = self.key if key is None else key
        if auth == 'basic':
            return 'Basic ' + base64.b64encode(('%s:' % key).encode()).decode()
        if auth == 'bearer':
            return 'Bearer ' + key
        raise ValueError('unknown auth form %r' % auth)

    def raw(self, endpoint, body=None, *, form=None, data=None, content_type=None, auth='basic', key=None, header=None,
            method='POST', path=None, timeout=120):
        """Send one request and return a Response (status, content type, text, parsed JSON or None).

        body: a JSON object (sent as application/json); form: a dict or string sent as
        x-www-form-urlencoded; data: raw bytes/str with `content_type` (None: no Content-Type at all).
        auth: 'basic' | 'bearer' | None (no Authorization header); header: a literal Authorization value.
        """
        headers = {}
        if header is not None:
            headers['Authorization'] = header
        elif auth is not None:
            headers['Authorization'] = self.auth_header(auth, key)
        if body is not None:
            data = json.dumps(body).encode()
            content_type = content_type or 'application/json'
        elif form is not None:
            data = form if isinstance(form, (str, bytes)) else urllib.parse.urlencode(form, doseq=True)
            content_type = content_type or 'application/x-www-form-urlencoded'
        if isinstance(data, str):
            data = data.encode()
        if content_type is not None:
            headers['Content-Type'] = content_type
        request = requests.Request(method, self.url + (path or '/api/v1/%s' % endpoint), data=data, headers=headers)
        prepared = self.session.prepare_request(request)
        if content_type is None:
            prepared.headers.pop('Content-Type', None)
        reply = self.session.send(prepared, timeout=timeout)
        content_type = reply.headers.get('Content-Type', '')
        parsed = None
        if content_type.startswith('application/json'):
            parsed = reply.json()
        return Response(reply.status_code, content_type, reply.text, parsed)

    def call(self, endpoint, **body):
        """A JSON call that must answer HTTP 200 with a JSON body; returns that body (any event)."""
        reply = self.raw(endpoint, body)
        assert reply.status == 200 and reply.json is not None, '%s %s -> HTTP %s %s' % (endpoint, body, reply.status, reply.text[:500])
        return reply.json

    def ok(self, endpoint, **body):
        """A JSON call that must succeed (HTTP 200, no error event, no error field); returns the body."""
        answer = self.call(endpoint, **body)
        assert answer.get('event') not in ('error', 'account_creation_failed') and not answer.get('error'), \
            '%s %s -> %s' % (endpoint, body, answer)
        return answer

    def error(self, endpoint, **body):
        """A JSON call that must answer an HTTP 200 error event; returns its error value."""
        answer = self.call(endpoint, **body)
        assert answer.get('event') == 'error', '%s %s: expected an error event, got %s' % (endpoint, body, answer)
        return answer['error']

    def http400(self, endpoint, body=None, **kwargs):
        """A call that must fail with HTTP 400 {"error": ...}; returns the error text."""
        reply = self.raw(endpoint, body if body is not None or 'form' in kwargs or 'data' in kwargs else {}, **kwargs)
        assert reply.status == 400 and reply.json is not None and set(reply.json) == {'error'}, \
            '%s: expected HTTP 400 {"error"}, got %s %s' % (endpoint, reply.status, reply.text[:500])
        return reply.json['error']

    # -- query helpers ---------------------------------------------------------------------------
    def query(self, query, **extra):
        """A query call; returns the `query` member of the answer (fails on an error event)."""
        return self.ok('query', query=query, **extra)['query']

    def query_error(self, query, **extra):
        return self.error('query', query=query, **extra)


class Account:
    """An account of a test server: ids, secrets and an Api acting as it."""

    def __init__(self, server, account_id, api_key, email, password, first_name=None, last_name=None):
        self.server = server
        self.account_id = account_id
        self.api_key = api_key
        self.email = email
        self.password = password
        self.first_name = first_name
        self.last_name = last_name
        self.api = Api(server.url, api_key)

    def __repr__(self):
        return '<Account %s %s>' % (self.email, self.account_id)

    def new_project(self, title=None, **options):
        """create_project as this account; returns the new project_id."""
        answer = self.api.ok('create_project', title=title or unique('project'), **options)
        assert answer['event'] == 'project_created', answer
        return answer['project_id']

    def project(self, project_id, *fields):
        """Single-object get of `fields` of a project through projects_all (no 21-day window)."""
        spec = dict.fromkeys(fields)
        spec['project_id'] = project_id
        return self.api.query({'projects_all': spec})['projects_all']

    def users(self, project_id):
        return self.project(project_id, 'users')['users']

    def write(self, project_id, path, content):
        return self.api.ok('write_text_file_to_project', project_id=project_id, path=path, content=content)

    def read(self, project_id, path):
        return self.api.ok('read_text_file_from_project', project_id=project_id, path=path)['content']

    def execute(self, project_id, command, **options):
        return self.api.ok('project_exec', project_id=project_id, command=command, **options)
