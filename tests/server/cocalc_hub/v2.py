"""Era 2026: current CoCalc's HTTP API, `POST /api/v2/<route>` (Next.js API routes), served with the
conat bridges of conat.py (../shared/real-hub-2026 is the specification).

- Bodies: JSON (with `Content-Type: application/json`) or form; anything else is an empty body.
  Above exactly 1 MiB: 413 text "Body exceeded 1mb limit"; bad JSON: 400 "Invalid JSON".
- Errors are HTTP 200 {"error": text}; unknown paths (all of /api/v1) are Next's 404 HTML page; a
  trailing slash is a 308 to the path without it; every response sets a `connect.sid` cookie.
- Auth on v2: a `remember_me` cookie wins over the key; a bad key or an unknown scheme is anonymous.
- hub->project calls (exec, write-text-file, projects/call) give up after 60 s: {"error":"undefined"}
  (exec) or {}; the work goes on in the background, as on the real hub.
"""

import base64
import binascii
import datetime
import json
import os
import stat
import sys
import threading
import time
import traceback
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from . import accounts, confine, copies, execs, faults, files, handlers, projects, query
from .eras import new_table_key, time_scale
from .errors import HandlerError
from .hub import Caller
from .transport import ApiHandler, parse_form_body
from .util import (base62_decode, check_password, iso, is_uuid, is_valid_email, js_string, key_hash,
                   new_uuid, now_iso, parse_iso, random_token)

BODY_LIMIT = 1024 * 1024
NOT_FOUND_PAGE = ('<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8" data-next-head=""/><meta name="viewport" '
                  'content="width=device-width" data-next-head=""/><title data-next-head="">404 Page Not Found</title>'
                  '<meta name="description" content="404 Page Not Found" data-next-head=""/><meta name="robots" '
                  'content="noindex" data-next-head=""/></head><body><div id="__next"><h1>404 Page Not Found</h1>'
                  '<p>The page you are looking for does not exist.</p></div></body></html>')
HEALTHCHECK = ('healthchecks:\nconcurrent 0 < 300 \u2013 OK\nuptime %s \u2013 no self-termination \u2013 OK\n'
               'no DB connection problems \u2013 OK\n')
PROJECT_CALL_LIMIT_S = 60          # the hub's fixed limit on a hub->project call
KEY_CACHE_S = 15                   # an API key lookup is cached (a deleted key keeps working)
COLLABORATORS_CACHE_S = 15         # collaborators/list caches non-empty answers
NOT_SIGNED_IN = 'must be signed in'
NOT_COLLABORATOR_CALL = 'callProject -- authenticated user must be a collaborator on the project'
DEFAULT_IMAGE = 'ubuntu2404'
STARTED_AT = time.monotonic()


class V2Error(Exception):
    """An answer {"error": text} (HTTP 200)."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text


class Caller2026(Caller):
    """An account, a project (project-scoped key: `project_id` set, no account) or nobody."""

    def __init__(self, account=None, project_id=None):
        super().__init__(account)
        self.project_id = project_id


class State:
    """Era 2026's in-memory state: TTL caches and async exec jobs."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}            # key hash -> (expires, account_id, project_id)
        self.collaborators = {}   # project_id -> (expires, rows)
        self.bridge_checks = {}   # (account_id, project_id) -> (expires, bool)
        self.jobs = {}            # job_id -> dict


def state(hub):
    with hub.lock:
        if hub.era_state is None:
            hub.era_state = State()
        return hub.era_state


def cached(hub, table, key, seconds, compute, keep=lambda value: True):
    """A TTL cache like the hub's LRU caches: `compute()` unless a fresh value is there."""
    now = time.monotonic()
    box = getattr(state(hub), table)
    with state(hub).lock:
        hit = box.get(key)
        if hit and hit[0] > now:
            return hit[1]
    value = compute()
    if keep(value):
        with state(hub).lock:
            box[key] = (now + seconds * time_scale(), value)
    return value


def forget(hub, table, key):
    with state(hub).lock:
        getattr(state(hub), table).pop(key, None)


# ---- auth -------------------------------------------------------------------------------------
def scheme_and_key(header):
    """('basic'|'bearer', key) or (scheme, None) for another scheme, (None, None) without a header."""
    if header is None:
        return None, None
    parts = header.split()
    scheme = parts[0] if parts else ''
    if scheme == 'Bearer':
        return 'bearer', parts[1] if len(parts) > 1 else ''
    if scheme == 'Basic':
        try:
            decoded = base64.b64decode(parts[1] + '=' * (-len(parts[1]) % 4)).decode('utf-8', 'replace') if len(parts) > 1 else ''
        except (binascii.Error, ValueError):
            decoded = ''
        return 'basic', decoded.split(':')[0]
    return scheme, None


def _lookup_key(hub, key):
    """(account_id, project_id) for a valid key, else None: legacy keys, then the api_keys table."""
    account = hub.store.account_by_key_hash(key_hash(key))
    if account is not None:
        return None if account['deleted'] or account['banned'] else (account['account_id'], None)
    if not key.startswith('sk-') or len(key) < 10:
        return None
    key_id = base62_decode(key[-6:])
    row = hub.store.get_api_key(key_id) if key_id is not None and key_id < 2 ** 31 else None
    if row is None or row['hash'] != key_hash(key):
        return None
    expire = parse_iso(row['expire'])
    if expire is not None and expire.timestamp() < time.time():
        return None
    with hub.store.transaction() as conn:
        hub.store.update_api_key(conn, row['id'], last_active=now_iso())
    return row['account_id'], row['project_id']


def caller_for_key(hub, key):
    """The caller a key stands for (cached 15 s, so a deleted key keeps working that long), or None."""
    if not key:
        return None
    found = cached(hub, 'keys', key_hash(key), KEY_CACHE_S, lambda: _lookup_key(hub, key), keep=bool)
    if not found:
        return None
    account_id, project_id = found
    if project_id:
        return Caller2026(None, project_id)
    account = hub.store.get_account(account_id)
    return Caller2026(account) if account and not account['deleted'] and not account['banned'] else None


def caller_for_cookie(hub, cookie_header):
    value = remember_me_value(cookie_header)
    if not value:
        return None
    row = hub.store.remember_me_account(key_hash(value))
    if row is None or (parse_iso(row[1]) and parse_iso(row[1]).timestamp() < time.time()):
        return None
    account = hub.store.get_account(row[0])
    return Caller2026(account) if account and not account['deleted'] else None


def remember_me_value(cookie_header):
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # pylint: disable=broad-except
        return None
    return jar['remember_me'].value if 'remember_me' in jar else None


def new_session(hub, account_id):
    """A remember_me cookie value for the account (stored as a hash, 30 days)."""
    value = random_token(40)
    expire = iso(datetime.datetime.fromtimestamp(time.time() + 30 * 86400, datetime.timezone.utc))
    with hub.store.transaction() as conn:
        hub.store.add_remember_me(conn, key_hash(value), account_id, expire)
    return value


# ---- shared project operations (v2 and the project bridge) -------------------------------------
def membership(hub, caller, project_id):
    """The project if the caller is a member of it (or the project of a project key), else None."""
    if not is_uuid(project_id):
        return None
    project = hub.store.get_project(project_id)
    if project is None:
        return None
    if getattr(caller, 'project_id', None) == project_id or projects.is_member(project, caller.account_id):
        return project
    return None


def is_owner(project, account_id):
    entry = (project.get('users') or {}).get(account_id)
    return isinstance(entry, dict) and entry.get('group') == 'owner'


def with_limit(hub, work, seconds=PROJECT_CALL_LIMIT_S):
    """Run work() for at most `seconds` (scaled); returns (True, result) or (False, None) on timeout.
    Exceptions of work() are raised here. The work goes on in the background after a timeout."""
    box = {}

    def run():
        try:
            box['result'] = work()
        except BaseException as problem:  # pylint: disable=broad-except
            box['error'] = problem
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds * time_scale())
    if thread.is_alive():
        return False, None
    if 'error' in box:
        raise box['error']
    return True, box['result']


def resolve(hub, project_id, path):
    """The real path inside the home; confinement errors as the hub would word a refused open."""
    try:
        return files.resolve(hub, project_id, path)[1]
    except HandlerError as problem:
        raise V2Error(problem.error) from None


def read_file(hub, project_id, path):
    """The project's readTextFile: 'ENOENT: ...' texts naming the path as given; binary content is lossy.
    No 10 MB cap here (the bridge read 12 MB); the file is opened by the shared confined walk."""
    if isinstance(path, list):
        raise TypeError('The "path" argument must be of type string or an instance of Buffer or URL. '
                        'Received an instance of Array')
    path = js_string(path)
    real = resolve(hub, project_id, path)
    with confine.project_files(hub, project_id) as home_fd:
        try:
            fd, info = files._open_entry(home_fd, files.parts_of(hub, project_id, real))  # pylint: disable=protected-access
        except confine.Escape:
            raise V2Error(files.outside_error(path)) from None
        except OSError as problem:
            if problem.errno in (2, 20):
                raise V2Error("ENOENT: no such file or directory, open '%s'" % path) from None
            raise V2Error("EACCES: permission denied, open '%s'" % path) from None
        try:
            if stat.S_ISDIR(info.st_mode):
                raise V2Error('EISDIR: illegal operation on a directory, read')
            if not stat.S_ISREG(info.st_mode):
                raise V2Error("EACCES: permission denied, open '%s'" % path)
            with os.fdopen(os.dup(fd), 'rb') as handle:
                return handle.read().decode('utf-8', 'replace')
        finally:
            os.close(fd)


def list_dir(hub, project_id, path):
    """[(name, lstat, entries or None)] of a project directory, through the shared confined walk."""
    real = resolve(hub, project_id, path)
    rows = []
    for name, info in files.list_dir(hub, project_id, real):
        entries = None
        if stat.S_ISDIR(info.st_mode):
            try:
                entries = len(files.list_dir(hub, project_id, os.path.join(real, name)))
            except OSError:
                entries = 0
        rows.append((name, info, entries))
    return rows


def write_file(hub, project_id, path, content):
    path = js_string(path)
    real = resolve(hub, project_id, path)
    if os.path.isdir(real):
        raise V2Error("EISDIR: illegal operation on a directory, open '%s'" % path)
    try:
        files.write_text(hub, project_id, path, content if isinstance(content, str) else js_string(content))
    except HandlerError as problem:
        raise V2Error(problem.error if isinstance(problem.error, str) else
                      '%s: %s' % (problem.error.get('code'), path)) from None


def run_exec(hub, project_id, params, err_on_exit_default=True):
    """execs.run with era 2026's defaults; returns the v1 response fields or raises V2Error(text)."""
    args = params.get('args')
    mesg = {'id': new_uuid(), 'command': params.get('command'), 'args': args if args is not None else [],
            'timeout': params.get('timeout', 10), 'path': params.get('path') or '', 'bash': params.get('bash', False),
            'err_on_exit': params.get('err_on_exit', err_on_exit_default), 'env': params.get('env')}
    if params.get('max_output') is not None:
        mesg['max_output'] = params['max_output']
    try:
        reply = execs.run(hub, project_id, mesg)
    except HandlerError as problem:
        text = js_string(problem.error)
        if args is None:
            text = text.replace(" with args '' -- ", " with args 'undefined' -- ", 1)
        raise V2Error(text) from None
    return {'stdout': reply['stdout'], 'stderr': reply['stderr'], 'exit_code': reply['exit_code'], 'type': 'blocking'}


def exec_prefix(params):
    args = params.get('args')
    shown_args = 'undefined' if args is None else js_string(args)
    return "Error executing command '%s' with args '%s' -- " % (js_string(params.get('command')), shown_args)


def set_query(hub, caller, table, fields):
    """One user-query set through the shared engine (the same checks as a client's set)."""
    query._user_query(hub, caller, {table: fields}, None, None, [])  # pylint: disable=protected-access


def user_query(hub, caller, spec, options=None):
    """Era 2026's user-query: the shared engine, with this release's checks and texts around it."""
    if not isinstance(spec, dict):
        raise V2Error("Cannot read properties of undefined (reading 'undefined')")
    _precheck_2026(hub, caller, spec)
    if set(spec) == {'projects_owner'} and not query.has_null_leaf(spec):
        return {}   # answered {} by the recorded hub; the course is set by projects/course/set-course-info
    try:
        result = query._user_query(hub, caller, spec, options, None, [])  # pylint: disable=protected-access
    except HandlerError as problem:
        text = js_string(problem.error)
        if text == 'FATAL: you do not have read access to this project':
            text += ' -- account_id=%s, project_id_=undefined' % js_string(caller.account_id)
        raise V2Error(text) from None
    return _strip_2026(result)


def _precheck_2026(hub, caller, spec):
    table, value = next(iter(spec.items())) if len(spec) == 1 else (None, None)
    if not isinstance(value, dict) or query.has_null_leaf(value):
        return
    if table in ('projects', 'projects_all') and isinstance(value.get('users'), dict):
        _precheck_users(value['users'])
    if table in ('projects', 'projects_all') and isinstance(value.get('name'), str):
        if len(value['name']) > 100:
            raise V2Error('Error: name must have at most 100 characters')
    if table == 'public_paths' and isinstance(value.get('name'), str) and value['name']:
        name = value['name']
        if name.startswith('-') or not all(char.isalnum() and char.isascii() or char in '.-' for char in name):
            raise V2Error('Error: name must contain only a-z,A-Z,0-9, . or -, and not start with hyphen or have spaces.')


def _precheck_users(users):
    for account_id, entry in users.items():
        if not is_uuid(account_id):
            raise V2Error("FATAL: error setting 'users' -- Error: invalid account_id '%s'" % account_id)
        if isinstance(entry, dict):
            for key in entry:
                if key not in ('group', 'hide', 'upgrades', 'ssh_keys'):
                    raise V2Error("FATAL: error setting 'users' -- Error: unknown field '%s'" % key)


def _strip_2026(result):
    """`status` no longer carries the secret token (it is its own field, `secret_token`)."""
    for rows in result.values() if isinstance(result, dict) else ():
        for row in rows if isinstance(rows, list) else [rows]:
            if isinstance(row, dict) and isinstance(row.get('status'), dict):
                row['status'] = {key: value for key, value in row['status'].items() if key != 'secret_token'}
    return result


def start_project(hub, project_id):
    """Start (a no-op when running) and keep the secret token in its 2026 field."""
    projects.start(hub, project_id)
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        if project is not None:
            project['secret_token'] = (project.get('status') or {}).get('secret_token')
            hub.store.save_project(conn, project)


def ensure_running(hub, project_id):
    if not projects.is_running(hub, project_id):
        start_project(hub, project_id)


def add_collaborators(hub, caller, project_ids, account_ids, prefix=''):
    for account_id in account_ids:
        if not is_uuid(account_id):
            raise V2Error(prefix + 'all account id\'s must be valid uuid\'s, but "%s" is not' % js_string(account_id))
    for project_id in project_ids:
        if membership(hub, caller, project_id) is None:
            raise V2Error(prefix + 'user %s does not have write access to project %s' % (caller.account_id, js_string(project_id)))
    for project_id, account_id in zip(project_ids, account_ids):
        # This release adds any well-formed id, even one no account has.
        handlers._add_member(hub, project_id, account_id)  # pylint: disable=protected-access


def remove_collaborator(hub, caller, project_id, account_id, owner_text):
    if not is_uuid(account_id):
        raise V2Error('all account id\'s must be valid uuid\'s, but "%s" is not' % js_string(account_id))
    project = membership(hub, caller, project_id)
    if project is None:
        raise V2Error('user %s does not have write access to project %s' % (caller.account_id, js_string(project_id)))
    if is_owner(project, account_id):
        raise V2Error(owner_text)
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        users = project.get('users') or {}
        if account_id not in users:
            return False
        del users[account_id]
        project['users'] = users
        hub.store.save_project(conn, project)
    return True


def change_user_type(hub, caller, opts):
    project_id, target, group = opts.get('project_id'), opts.get('target_account_id'), opts.get('new_group')
    if group not in ('owner', 'collaborator'):
        raise V2Error("New group must be either 'owner' or 'collaborator'")
    project = hub.store.get_project(project_id) if is_uuid(project_id) else None
    if project is None or not is_owner(project, caller.account_id):
        raise V2Error('Only project owners can change user types')
    if target not in (project.get('users') or {}):
        raise V2Error('Target user is not a member of this project')
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        entry = dict(project['users'][target]) if isinstance(project['users'][target], dict) else {}
        entry['group'] = group
        project['users'][target] = entry
        hub.store.save_project(conn, project)


def search_accounts(hub, caller, text, limit=20, admin=False):
    if not text:
        return []
    text = js_string(text)
    if '@' in text:   # this release splits several addresses on spaces too
        text = ','.join(text.split())
    return accounts.search(hub, caller, text, limit, admin)


def names_of(hub, account_ids):
    result = {}
    for account_id in account_ids:
        if not is_uuid(account_id):
            raise V2Error('invalid input syntax for type uuid: "%s"' % js_string(account_id))
        account = hub.store.get_account(account_id)
        if account is None:
            result[account_id] = {'first_name': 'Deleted', 'last_name': 'User'}
        else:
            result[account_id] = {'first_name': account.get('first_name'), 'last_name': account.get('last_name'),
                                  'profile': account.get('profile')}
    return result


def key_rows(hub, caller, params):
    """The api-keys actions: get, create, edit, delete (unknown actions answer nothing)."""
    action, project_id = params.get('action'), params.get('project_id')
    if project_id is not None and membership(hub, caller, project_id) is None:
        raise V2Error('you must be a collaborator on the project')

    def shown(row, secret=None):
        out = {'id': row['id'], 'account_id': row['account_id'], 'expire': _iso_or_none(row['expire']),
               'created': row['created'], 'name': row['name'], 'trunc': row['trunc'], 'last_active': row['last_active']}
        if secret:
            out['secret'] = secret
        return out
    if action == 'get':
        if params.get('id') is not None:
            row = hub.store.get_api_key(params['id'])
            return [shown(row) if row and row['account_id'] == caller.account_id else None]
        now = time.time()
        return [shown(row) for row in hub.store.api_keys_of(caller.account_id, project_id)
                if not (parse_iso(row['expire']) and parse_iso(row['expire']).timestamp() < now)]
    if action == 'create':
        expire = _iso_or_none(params.get('expire'))
        key_id, secret = new_table_key(hub.store, caller.account_id, js_string(params.get('name') or ''), project_id, expire)
        return [shown(hub.store.get_api_key(key_id), secret)]
    if action == 'edit':
        row = hub.store.get_api_key(params.get('id')) if isinstance(params.get('id'), int) else None
        if row is None or row['account_id'] != caller.account_id:
            raise V2Error('no api key with id %s' % js_string(params.get('id')))
        with hub.store.transaction() as conn:
            if params.get('name') is not None:
                hub.store.update_api_key(conn, row['id'], name=js_string(params['name']))
            if 'expire' in params:
                hub.store.update_api_key(conn, row['id'], expire=_iso_or_none(params['expire']))
        return None
    if action == 'delete':
        with hub.store.transaction() as conn:
            hub.store.delete_api_key(conn, params.get('id'), caller.account_id)
        return None
    return None


def _iso_or_none(value):
    moment = parse_iso(value)
    return iso(moment) if moment else None


# ---- v2 routes -------------------------------------------------------------------------------
def _signed_in(caller, text=NOT_SIGNED_IN):
    if caller.account_id is None:
        raise V2Error(text)


def route_user_query(hub, caller, params):
    return {'query': user_query(hub, caller, params.get('query'), params.get('options'))}


def route_profile(hub, caller, params):
    _signed_in(caller)
    account = caller.account
    return {'profile': {'account_id': account['account_id'], 'first_name': account.get('first_name'),
                        'last_name': account.get('last_name'), 'name': account.get('name'),
                        'is_admin': caller.is_admin, 'is_partner': False, 'is_anonymous': False,
                        'email_address': account.get('email_address')}}


def route_search(hub, caller, params):
    return search_accounts(hub, caller, params.get('query'))


def route_get_names(hub, caller, params):
    _signed_in(caller)
    ids = params.get('account_ids')
    return {'names': names_of(hub, ids if isinstance(ids, list) else [ids])}


def route_get_email(hub, caller, params):
    if not caller.is_admin:
        raise V2Error('you must be an admin or partner to get the email address of any account_id')
    account = hub.store.get_account(params.get('account_id')) if is_uuid(params.get('account_id')) else None
    return {'email_address': account.get('email_address') if account else None}


def route_set_name(hub, caller, params):
    _signed_in(caller)
    if params.get('account_id') is not None and not caller.is_admin:
        raise V2Error('The `account_id` field may only be specified by account administrators.')
    username = params.get('username')
    if username is not None:
        name = js_string(username)
        if not name or name.startswith('-') or not all(char.isascii() and (char.isalnum() or char == '-') for char in name):
            raise V2Error('Error: name must contain only a-z,A-Z,0-9, or -, and not start with hyphen.')
    target = params.get('account_id') or caller.account_id
    with hub.store.transaction() as conn:
        account = hub.store.get_account(target, conn)
        if account is None:
            raise V2Error('no such account')
        for field, value in (('first_name', params.get('first_name')), ('last_name', params.get('last_name')),
                             ('name', username)):
            if value is not None:
                account[field] = js_string(value)
        hub.store.save_account(conn, account)
    return {'status': 'success'}


def route_set_email(hub, caller, params):
    _signed_in(caller)
    password, email = params.get('password'), js_string(params.get('email_address') or '').strip().lower()
    if not isinstance(password, str) or len(password) < 8:
        raise V2Error('password must be at least 8 characters')
    if not is_valid_email(email):
        raise V2Error('email address is not valid')
    account = hub.store.get_account(caller.account_id)
    if account.get('password_hash') and not check_password(password, account['password_hash']):
        raise V2Error('password is not correct')
    with hub.store.transaction() as conn:
        other = hub.store.account_by_email(email, conn)
        if other is not None and other['account_id'] != caller.account_id:
            raise V2Error('email address "%s" is already in use by another account' % email)
        account = hub.store.get_account(caller.account_id, conn)
        account['email_address'] = email
        hub.store.save_account(conn, account)
    accounts.run_creation_actions(hub, caller.account_id, email)
    return {'status': 'success'}


def route_api_keys(hub, caller, params):
    _signed_in(caller)
    rows = key_rows(hub, caller, params)
    return {} if rows is None else {'response': rows}


def route_sign_up(hub, caller, params, reply):
    email, password = params.get('email'), params.get('password')
    issues = {}
    if not params.get('terms'):
        issues['terms'] = 'You must agree to the terms of usage.'
    if not email and not password:
        return {'issues': {'api': 'Creation of anonymous accounts via the API is not allowed.'}}
    email = js_string(email or '').strip().lower()
    if not is_valid_email(email):
        issues['email'] = "You must provide a valid email address -- '%s' is not valid." % js_string(params.get('email'))
    if not isinstance(password, str) or len(password) < 8:
        issues['password'] = 'Your password must not be very easy to guess.'
    if issues:
        return {'issues': issues}
    existing = hub.store.account_by_email(email)
    if existing is not None and check_password(password, existing.get('password_hash')):
        reply.cookies['remember_me'] = new_session(hub, existing['account_id'])
        return {'account_id': existing['account_id']}
    if caller.account_id is not None and not caller.is_admin:
        return {'issues': {'api': "Error: Only users in the group 'admin' are allowed to create new users."}}
    if existing is not None:
        return {'issues': {'email': 'Email address already in use.'}}
    account_id = accounts.create_record(hub.store, email, js_string(params.get('firstName') or ''),
                                        js_string(params.get('lastName') or ''), password, with_key=False)[0]
    accounts.run_creation_actions(hub, account_id, email)
    first = projects.create(hub, account_id, 'My First Project', '', DEFAULT_IMAGE)
    # The hub starts the first project in the background.
    threading.Thread(target=start_project, args=(hub, first), daemon=True).start()
    reply.cookies['remember_me'] = new_session(hub, account_id)
    return {'account_id': account_id}


def route_sign_in(hub, caller, params, reply):
    email = js_string(params.get('email') or '').strip().lower()
    account = hub.store.account_by_email(email)
    if account is None:
        raise V2Error("Problem signing into account -- no account with email address '%s'." % email)
    if not check_password(params.get('password'), account.get('password_hash')):
        raise V2Error("Problem signing into account -- password for '%s' is incorrect." % email)
    reply.cookies['remember_me'] = new_session(hub, account['account_id'])
    return {'account_id': account['account_id']}


def route_create(hub, caller, params):
    _signed_in(caller, 'user must be signed in')
    image = params.get('image') if isinstance(params.get('image'), str) and params.get('image') else DEFAULT_IMAGE
    project_id = projects.create(hub, caller.account_id, js_string(params.get('title') or 'No Title'),
                                 js_string(params.get('description') or ''), image)
    if params.get('start'):
        threading.Thread(target=start_project, args=(hub, project_id), daemon=True).start()
    return {'project_id': project_id}


def _project_rows(hub, account_id):
    rows = [row for row in hub.store.projects_of(account_id) if not row.get('deleted')]
    rows.sort(key=lambda row: row.get('last_edited') or '', reverse=True)
    return [{'project_id': row['project_id'], 'title': row.get('title'), 'description': row.get('description'),
             'name': row.get('name')} for row in rows]


def route_get(hub, caller, params):
    _signed_in(caller, 'Must be signed in.')
    if params.get('account_id') is not None and not caller.is_admin:
        raise V2Error('The `account_id` field may only be specified by account administrators.')
    return _project_rows(hub, params.get('account_id') or caller.account_id)


def route_get_one(hub, caller, params):
    _signed_in(caller, 'Must be signed in.')
    rows = _project_rows(hub, caller.account_id)
    if rows:
        return rows[0]
    project_id = projects.create(hub, caller.account_id, 'My First Project', '', DEFAULT_IMAGE)
    return {'project_id': project_id, 'title': 'My First Project', 'description': '', 'name': None}


def route_update(hub, caller, params):
    _signed_in(caller)
    fields = {key: params[key] for key in ('project_id', 'title', 'description', 'name') if key in params}
    user_query(hub, caller, {'projects': fields})
    return {'status': 'ok'}


def _owner_flag(hub, caller, params, deleted, text):
    _signed_in(caller)
    project_id = params.get('project_id')
    if not is_uuid(project_id):
        raise V2Error('project_id must be a valid UUID')
    project = hub.store.get_project(project_id)
    if project is None or not is_owner(project, caller.account_id):
        raise V2Error(text)
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        project['deleted'] = deleted
        hub.store.save_project(conn, project)


def route_delete(hub, caller, params):
    _owner_flag(hub, caller, params, True, 'must be an owner to delete a project')
    return {'status': 'ok'}


def route_restore(hub, caller, params):
    _owner_flag(hub, caller, params, False, 'must be an owner to restore a project')
    return {'status': 'ok'}


def _member_project(hub, caller, params, text):
    _signed_in(caller)
    project_id = params.get('project_id')
    if not is_uuid(project_id):
        raise V2Error('project_id must be a valid uuid')
    if membership(hub, caller, project_id) is None:
        raise V2Error(text)
    return project_id


def route_start(hub, caller, params):
    start_project(hub, _member_project(hub, caller, params, 'must be a collaborator to start project'))
    return {'status': 'ok'}


def route_stop(hub, caller, params):
    project_id = _member_project(hub, caller, params, 'must be a collaborator to stop project')
    if projects.is_running(hub, project_id):
        projects.stop(hub, project_id)
    return {'status': 'ok'}


def route_touch(hub, caller, params):
    project_id = _member_project(hub, caller, params, 'must be a collaborator on the project')
    projects.touch(hub, project_id, caller.account_id, force=True)
    return {}


def route_collaborators_list(hub, caller, params):
    project_id = params.get('project_id')
    if caller.account_id is None or membership(hub, caller, project_id) is None:
        return []

    def rows():
        project = hub.store.get_project(project_id) or {}
        out = []
        for account_id in project.get('users') or {}:
            account = hub.store.get_account(account_id)
            if account is not None:
                out.append({'account_id': account_id, 'first_name': account.get('first_name'),
                            'last_name': account.get('last_name')})
        return out
    return cached(hub, 'collaborators', project_id, COLLABORATORS_CACHE_S, rows, keep=bool)


def route_collaborators_add(hub, caller, params):
    _signed_in(caller)
    add_collaborators(hub, caller, [params.get('project_id')], [params.get('account_id')])
    forget(hub, 'collaborators', params.get('project_id'))
    return {'status': 'ok'}


def route_collaborators_remove(hub, caller, params):
    _signed_in(caller)
    if remove_collaborator(hub, caller, params.get('project_id'), params.get('account_id'),
                           'Cannot remove an owner. Demote to collaborator first.'):
        # Only a v2 add or a removal that removed someone refreshes the list (L132 and L146 of the recordings).
        forget(hub, 'collaborators', params.get('project_id'))
    return {'status': 'ok'}


def route_change_user_type(hub, caller, params):
    _signed_in(caller)
    change_user_type(hub, caller, params)
    return {'status': 'ok'}


def route_set_course_info(hub, caller, params):
    _signed_in(caller)
    project_id, course = params.get('project_id'), params.get('course')
    if membership(hub, caller, project_id) is None:
        raise V2Error('you must be a collaborator on the the project to set the course info')
    if not isinstance(course, dict):
        raise V2Error('course must be an object of type CourseInfo')
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        project['course'] = course
        hub.store.save_project(conn, project)
    return {'course': course}


def _call_target(hub, caller, project_id):
    if caller.account_id is None and getattr(caller, 'project_id', None) is None:
        raise V2Error(NOT_SIGNED_IN)
    if isinstance(project_id, list):
        raise V2Error('callProject -- must specify project_id')
    if not is_uuid(project_id):
        raise V2Error('must set project_id to a valid uuid')
    if membership(hub, caller, project_id) is None:
        raise V2Error(NOT_COLLABORATOR_CALL)
    return project_id


def route_write_text_file(hub, caller, params):
    project_id = _call_target(hub, caller, params.get('project_id'))
    if params.get('content') is None:
        raise V2Error('must include content of file')

    def work():
        ensure_running(hub, project_id)
        real = resolve(hub, project_id, js_string(params.get('path')))
        if os.path.isdir(real):
            return {'status': 'ok'}   # the project's EISDIR never reaches this route's answer
        write_file(hub, project_id, params.get('path'), params['content'])
        return {'status': 'ok'}
    done, result = with_limit(hub, work)
    return result if done else {}


def route_call(hub, caller, params):
    project_id = _call_target(hub, caller, params.get('project_id'))
    mesg = params.get('mesg') if isinstance(params.get('mesg'), dict) else {}
    event, mesg_id = mesg.get('event'), mesg.get('id') or new_uuid()

    def work():
        ensure_running(hub, project_id)
        try:
            if event == 'ping':
                return {'event': 'pong', 'id': mesg_id}
            if event == 'read_text_file_from_project':
                real = None if isinstance(mesg.get('path'), list) else resolve(hub, project_id, js_string(mesg.get('path')))
                if real and os.path.isfile(real) and os.path.getsize(real) > files.MAX_READ_BYTES:
                    # The real hub's 60 s hub->project limit runs out before a file this large arrives.
                    time.sleep(PROJECT_CALL_LIMIT_S * time_scale() + 1)
                content = read_file(hub, project_id, mesg.get('path'))
                return {'event': 'text_file_read_from_project', 'id': mesg_id, 'content': content}
            if event == 'write_text_file_to_project':
                write_file(hub, project_id, mesg.get('path'), mesg.get('content'))
                return {'event': 'file_written_to_project', 'id': mesg_id}
            return {'event': 'error', 'id': mesg_id,
                    'error': "Project %s does not implement handling mesg with event='%s'" % (project_id, js_string(event))}
        except V2Error as problem:
            return {'event': 'error', 'id': mesg_id, 'error': problem.text}
        except TypeError as problem:
            return {'event': 'error', 'id': mesg_id, 'error': str(problem)}
    done, result = with_limit(hub, work)
    return result if done else {}


def route_exec(hub, caller, params):
    if caller.account_id is None and getattr(caller, 'project_id', None) is None:
        raise V2Error(NOT_SIGNED_IN)
    project_id = params.get('project_id')
    if not is_uuid(project_id):
        raise V2Error("invalid account_id or project_id -- all must be valid uuid's")
    if membership(hub, caller, project_id) is None:
        raise V2Error('user must be a collaborator on the project')
    if params.get('async_get'):
        return _async_get(hub, params)
    if params.get('async_call'):
        return _async_start(hub, project_id, params)

    def work():
        ensure_running(hub, project_id)
        return run_exec(hub, project_id, params)
    done, result = with_limit(hub, work)
    if not done:
        raise V2Error('undefined')
    return result


def _async_start(hub, project_id, params):
    ensure_running(hub, project_id)
    job = {'stdout': '', 'stderr': '', 'exit_code': 0, 'type': 'async', 'job_id': new_uuid(),
           'start': int(time.time() * 1000), 'status': 'running', 'pid': os.getpid()}
    with state(hub).lock:
        state(hub).jobs[job['job_id']] = job

    def run():
        began = time.monotonic()
        try:
            result = run_exec(hub, project_id, dict(params, err_on_exit=params.get('err_on_exit', False)))
            update = {'stdout': result['stdout'], 'stderr': result['stderr'], 'exit_code': result['exit_code'],
                      'status': 'completed'}
        except V2Error as problem:
            update = {'stderr': problem.text, 'exit_code': 1, 'status': 'error'}
        update['elapsed_s'] = round(time.monotonic() - began, 3)
        with state(hub).lock:
            job.update(update)
    threading.Thread(target=run, daemon=True).start()
    return dict(job)


def _async_get(hub, params):
    with state(hub).lock:
        job = state(hub).jobs.get(params['async_get'])
        job = dict(job) if job else None
    if job is None:
        raise V2Error('async operation %s does not exist' % js_string(params['async_get']))
    if job['status'] == 'running':
        job.pop('elapsed_s', None)
    if params.get('async_stats'):
        job['stats'] = [{'timestamp': int(time.time() * 1000), 'mem_rss': 0, 'cpu_pct': 0, 'cpu_secs': 0}]
    order = ['stdout', 'stderr', 'exit_code', 'type', 'job_id', 'start', 'status', 'elapsed_s', 'pid', 'stats']
    return {key: job[key] for key in order if key in job}


def copy_between(hub, caller, params, src_path_key):
    """projects/copy-path and the bridge's copyPathBetweenProjects: synchronous in single-user mode."""
    src, target = params.get('src_project_id'), params.get('target_project_id')
    if not is_uuid(src):
        raise V2Error('src_project_id must be a valid uuid')
    if not is_uuid(target):
        raise V2Error('target_project_id must be a valid uuid')
    if not params.get(src_path_key):
        raise V2Error('path must be specified')
    if membership(hub, caller, target) is None:
        raise V2Error('must be a collaborator on target project')
    if membership(hub, caller, src) is None:
        raise V2Error('must be a collaborator on source project')
    mesg = {'id': new_uuid(), 'src_project_id': src, 'src_path': params[src_path_key], 'target_project_id': target,
            'target_path': params.get('target_path'), 'overwrite_newer': params.get('overwrite_newer'),
            'delete_missing': params.get('delete_missing'), 'backup': params.get('backup'),
            'timeout': params.get('timeout'), 'exclude': params.get('exclude')}
    try:
        copies.copy(hub, caller, mesg, public=False)
    except HandlerError as problem:
        raise V2Error(js_string(problem.error)) from None


def route_copy_path(hub, caller, params):
    _signed_in(caller)
    copy_between(hub, caller, params, 'path')
    return {'copy_id': ''}


def route_copy_status(hub, caller, params):
    if not is_uuid(params.get('copy_id')):
        raise V2Error('copy_id must be a valid uuid')
    raise V2Error('copy_id not found')


def route_listing_cached(hub, caller, params):
    return None


def route_star(hub, caller, params):
    if not params.get('id'):
        raise V2Error('must specify id of public path')
    return {}


CUSTOMIZE = json.loads('''{"siteName": "Open CoCalc", "siteDescription": "Collaborative Calculation", "organizationName": "",
"organizationEmail": "", "organizationURL": "", "termsOfServiceURL": "", "helpEmail": "", "contactEmail": "",
"isCommercial": false, "kucalc": "no", "sshGateway": false, "sshGatewayDNS": "", "anonymousSignup": false,
"anonymousSignupLicensedShares": false, "emailSignup": true, "accountCreationInstructions": "",
"accountCreationRedirectEnabled": false, "accountCreationRedirectMessage":
"New accounts should be created on the recommended site. Existing users can still sign in here.",
"accountCreationRedirectUrl": "", "accountCreationRedirectLinkText": "Create an account on the recommended site",
"accountCreationRedirectAllowLegacy": true, "accountCreationRedirectLegacyButtonText": "Create an account here anyway",
"signInBannerEnabled": false, "signInBannerMessage": "", "signInBannerUrl": "", "signInBannerLinkText":
"Go to the recommended site", "logoSquareURL": "", "logoRectangularURL": "", "splashImage": "", "shareServer": false,
"landingPages": false, "googleAnalytics": "", "indexInfo": "", "indexTagline": "", "imprint": "", "policies": "",
"support": "", "supportVideoCall": "https://calendly.com/cocalc/discovery?back=1", "dns": "", "siteURL":
"https://localhost", "zendesk": "", "stripePublishableKey": "", "reCaptchaKey": "", "sandboxProjectId": "",
"sandboxProjectsEnabled": false, "openaiEnabled": false, "googleVertexaiEnabled": false, "mistralEnabled": false,
"anthropicEnabled": false, "xaiEnabled": false, "ollamaEnabled": false, "neuralSearchEnabled": false,
"jupyterApiEnabled": false, "computeServersEnabled": false, "cloudFilesystemsEnabled": false, "githubProjectId": "",
"strategies": [], "verifyEmailAddresses": false, "version": {"min_project": 0, "min_compute_server": 0,
"min_browser": 0, "recommended_browser": 0, "compute_server_min_project": 0}, "cookieBannerEnabled": false}''')
CUSTOMIZE['cookieBannerText'] = (
    'We use cookies that are strictly necessary for sign-in and session management. With your consent, we use optional '
    'analytics cookies and first-party usage metrics to understand how the site is used. Embedded YouTube videos are not '
    'loaded until you choose to play them. Signed-in users can manage these preferences in Account settings; signed-out '
    'visitors can clear cookie choices from the footer.')


def route_customize(hub, caller, params):
    return CUSTOMIZE


# route -> (handler, latency class); handlers taking `reply` set cookies.
ROUTES = {
    'user-query': route_user_query,
    'accounts/profile': route_profile,
    'accounts/search': route_search,
    'accounts/get-names': route_get_names,
    'accounts/get-email-address': route_get_email,
    'accounts/set-name': route_set_name,
    'accounts/set-email-address': route_set_email,
    'api-keys': route_api_keys,
    'auth/sign-up': route_sign_up,
    'auth/sign-in': route_sign_in,
    'customize': route_customize,
    'exec': route_exec,
    'projects/create': route_create,
    'projects/get': route_get,
    'projects/get-one': route_get_one,
    'projects/update': route_update,
    'projects/delete': route_delete,
    'projects/restore': route_restore,
    'projects/start': route_start,
    'projects/stop': route_stop,
    'projects/touch': route_touch,
    'projects/collaborators/list': route_collaborators_list,
    'projects/collaborators/add': route_collaborators_add,
    'projects/collaborators/remove': route_collaborators_remove,
    'projects/collaborators/change-user-type': route_change_user_type,
    'projects/course/set-course-info': route_set_course_info,
    'projects/write-text-file': route_write_text_file,
    'projects/call': route_call,
    'projects/copy-path': route_copy_path,
    'projects/copy-path-status': route_copy_status,
    'public-paths/listing-cached': route_listing_cached,
    'public-paths/star': route_star,
}
COOKIE_ROUTES = {'auth/sign-up', 'auth/sign-in'}
PROJECT_ROUTES = {'exec', 'projects/write-text-file', 'projects/call', 'projects/copy-path'}


class Reply:
    def __init__(self):
        self.cookies = {}


def latency(hub, kind):
    """The pause `--latency` asks for after a call of this kind (see eras.LATENCY_2026)."""
    if hub.latency_name == 'real-hub' and hub.profile.latency:
        return hub.profile.latency.get(kind, 0.0)
    return hub.project_delay if 'project' in kind else hub.hub_delay


# ---- HTTP ------------------------------------------------------------------------------------
class V2Handler(ApiHandler):
    """The HTTP side of era 2026; body reading, fault pages and resets are the v1 transport's."""

    def send(self, status, body, content_type=None, cookies=None, extra=None):
        if isinstance(body, str):
            body = body.encode('utf-8')
        self.send_response(status)
        if content_type:
            self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        # Every answer sets a session cookie, errors included (a client must keep no cookies).
        self.send_header('Set-Cookie', 'connect.sid=s%%3A%s; Path=/; HttpOnly; SameSite=Lax' % random_token(32))
        for name, value in (cookies or {}).items():
            self.send_header('Set-Cookie', '%s=%s; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax' % (name, value))
        self._finish(body, extra)

    def _send_plain(self, status, body, content_type):
        self.send(status, body, content_type)

    @staticmethod
    def json_bytes(value):
        return json.dumps(value, ensure_ascii=False, separators=(',', ':')).encode('utf-8', 'backslashreplace')

    def handle_any(self):
        # Whether this request is a user query its engine classifies a get (counted apart in `serve stats`).
        self._query_get = False
        path = urlsplit(self.path).path
        raw = self._read_body()
        if raw is None:
            self.close_connection = True
        request = self._routed(path, raw)
        if request is None:
            return
        bridge, endpoint, params = request
        from . import conat   # pylint: disable=import-outside-toplevel
        name = conat.stats_name(bridge, params) if bridge else endpoint
        self._query_get = name in faults.QUERY_ENDPOINTS and faults.query_kind(conat.query_body(name, params)) == 'get'
        fault = self.hub.faults.choose(name, lambda: faults.query_kind(conat.query_body(name, params)))
        if fault and fault['mode'] == 'status_before':
            self._count(name, fault['status'], fault)
            self._send_fault_page(fault['status'], {'Retry-After': '1'} if fault['status'] == 429 else None)
            return
        if fault and fault['mode'] == 'delay':
            time.sleep(fault['delay'])
        cookies = None
        if bridge:
            value, kind = conat.bridge(self.hub, bridge, params, self.headers.get('Authorization'))
        else:
            value, cookies = self._route(endpoint, params)
            kind = 'v2 project' if endpoint in PROJECT_ROUTES else 'v2 hub'
        self.hub.pause(latency(self.hub, kind))
        self._deliver(name, value, cookies, fault)

    def _routed(self, path, raw):
        """(bridge, endpoint, params) of a request for a route or a bridge; None when it was answered here
        (a redirect, the healthcheck, Next's 404 page, a body too large or not JSON)."""
        if path != '/' and path.endswith('/'):
            target = path.rstrip('/') or '/'
            self.send(308, target, 'text/plain; charset=utf-8', extra={'Location': target, 'Refresh': '0;url=%s' % target})
            return None
        if path == '/healthcheck' and self.command == 'GET':
            seconds = int(time.monotonic() - STARTED_AT)
            self.send(200, HEALTHCHECK % ('%dm%ds' % divmod(seconds, 60)), 'text/plain; charset=utf-8')
            return None
        bridge = path.rsplit('/', 1)[1] if path in ('/api/conat/hub', '/api/conat/project') else None
        endpoint = path[len('/api/v2/'):] if path.startswith('/api/v2/') else None
        if bridge is None and endpoint not in ROUTES:
            self.send(404, NOT_FOUND_PAGE, 'text/html; charset=utf-8')
            return None
        if raw is None or len(raw) > BODY_LIMIT:
            self._count(endpoint or path, 413)
            self.send(413, 'Body exceeded 1mb limit')
            return None
        try:
            params = self._params(raw)
        except ValueError:
            self._count(endpoint or path, 400)
            self.send(400, 'Invalid JSON')
            return None
        return bridge, endpoint, params

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

    def _deliver(self, name, value, cookies, fault):
        """The answer, or what an injected fault makes of it (see the README's Faults)."""
        if fault is None or fault['mode'] == 'delay':
            self._count(name, 200, fault)
            self.send(200, self.json_bytes(value), 'application/json; charset=utf-8', cookies)
        else:
            self._deliver_fault(fault, 200, self.json_bytes(value), 'application/json; charset=utf-8',
                                lambda sent: self._count(name, sent, fault))

    def _params(self, raw):
        if self.command != 'POST':
            return {}   # only the POST body is read
        media = (self.headers.get('Content-Type') or '').split(';')[0].strip().lower()
        if media == 'application/json':
            if not raw.strip():
                return {}
            value = json.loads(raw.decode('utf-8'))
            return value if isinstance(value, dict) else {}
        if media == 'application/x-www-form-urlencoded':
            return parse_form_body(raw)
        return {}

    def _route(self, endpoint, params):
        hub = self.hub
        caller = caller_for_cookie(hub, self.headers.get('Cookie'))
        if caller is None:
            _scheme, key = scheme_and_key(self.headers.get('Authorization'))
            caller = caller_for_key(hub, key) or Caller2026()
        reply = Reply()
        try:
            if endpoint in COOKIE_ROUTES:
                value = ROUTES[endpoint](hub, caller, params, reply)
            else:
                value = ROUTES[endpoint](hub, caller, params)
        except V2Error as problem:
            value = {'error': problem.text}
        except Exception as problem:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)
            value = {'error': '%s: %s' % (type(problem).__name__, problem)}
        return value, reply.cookies

    def _count(self, name, status, fault=None):
        try:
            self.hub.store.count_request(name, status, query_get=getattr(self, '_query_get', False),
                                         fault=fault['mode'] if fault else None)
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)
