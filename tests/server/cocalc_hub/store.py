"""SQLite storage: one database file per data dir, WAL mode, a small connection pool.

Rows keep their fields as a JSON document (`doc`) next to the few columns that need an index or a
uniqueness rule. Every read-modify-write runs inside `transaction()` (BEGIN IMMEDIATE), so
concurrent requests serialize on the write lock instead of losing updates.
"""

import contextlib
import json
import os
import queue
import sqlite3

from .faults import QUERY_ENDPOINTS
from .util import now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    email_address TEXT UNIQUE,
    password_hash TEXT,
    api_key_hash TEXT UNIQUE,
    banned INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS project_users (
    account_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    PRIMARY KEY (account_id, project_id)
);
CREATE INDEX IF NOT EXISTS project_users_project ON project_users (project_id);
CREATE TABLE IF NOT EXISTS public_paths (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS public_paths_project ON public_paths (project_id);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    project_id TEXT
);
CREATE TABLE IF NOT EXISTS stats (
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (endpoint, status)
);
CREATE TABLE IF NOT EXISTS project_uids (
    project_id TEXT PRIMARY KEY,
    uid INTEGER NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS fault_stats (
    endpoint TEXT NOT NULL,
    mode TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (endpoint, mode)
);
CREATE TABLE IF NOT EXISTS query_get_calls (
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (endpoint, status)
);
-- Data dirs from before era 2026's query names were counted: their gets were all `query` calls.
CREATE TABLE IF NOT EXISTS query_gets (
    status TEXT PRIMARY KEY,
    calls INTEGER NOT NULL
);
INSERT OR IGNORE INTO query_get_calls (endpoint, status, calls) SELECT 'query', status, calls FROM query_gets;
DROP TABLE query_gets;
CREATE TABLE IF NOT EXISTS client_error_log (
    id TEXT PRIMARY KEY,
    account_id TEXT,
    error TEXT,
    time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS account_creation_actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    email_address TEXT NOT NULL,
    action TEXT NOT NULL,
    expire TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    expire TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    project_id TEXT,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    trunc TEXT NOT NULL,
    created TEXT NOT NULL,
    expire TEXT,
    last_active TEXT
);
CREATE TABLE IF NOT EXISTS remember_me (
    hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    expire TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS password_resets (
    code_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    expire TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
"""


def _load(text):
    return json.loads(text) if text else {}


def _dump(doc):
    return json.dumps(doc, ensure_ascii=False, separators=(',', ':'))


class Store:
    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, 'hub.sqlite3')
        self._pool = queue.LifoQueue()
        conn = self._connect()
        # One transaction: processes opening the same fresh data dir at once (serve account x4) must not see
        # each other's half-done migration of query_gets.
        conn.executescript('BEGIN IMMEDIATE;\n' + SCHEMA + '\nCOMMIT;')
        self._pool.put(conn)

    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute('PRAGMA journal_mode=WAL')
        conn.execute('PRAGMA synchronous=NORMAL')
        conn.execute('PRAGMA busy_timeout=30000')
        return conn

    def close(self):
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    @contextlib.contextmanager
    def connection(self):
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._pool.put(conn)

    @contextlib.contextmanager
    def transaction(self):
        """A write transaction: taken with BEGIN IMMEDIATE so read-modify-write cannot interleave."""
        with self.connection() as conn:
            conn.execute('BEGIN IMMEDIATE')
            try:
                yield conn
            except BaseException:
                conn.execute('ROLLBACK')
                raise
            conn.execute('COMMIT')

    def _rows(self, conn, sql, args=()):
        if conn is not None:
            return conn.execute(sql, args).fetchall()
        with self.connection() as own:
            return own.execute(sql, args).fetchall()

    # ---- accounts -------------------------------------------------------------------------
    @staticmethod
    def _account(row):
        if row is None:
            return None
        account = _load(row[6])
        account.update(account_id=row[0], email_address=row[1], password_hash=row[2], api_key_hash=row[3],
                       banned=bool(row[4]), deleted=bool(row[5]))
        return account

    _ACCOUNT_COLUMNS = 'account_id, email_address, password_hash, api_key_hash, banned, deleted, doc'
    _ACCOUNT_FIXED = ('account_id', 'email_address', 'password_hash', 'api_key_hash', 'banned', 'deleted')

    def get_account(self, account_id, conn=None):
        rows = self._rows(conn, 'SELECT %s FROM accounts WHERE account_id = ?' % self._ACCOUNT_COLUMNS, (account_id,))
        return self._account(rows[0]) if rows else None

    def account_by_email(self, email, conn=None):
        rows = self._rows(conn, 'SELECT %s FROM accounts WHERE email_address = ?' % self._ACCOUNT_COLUMNS, (email,))
        return self._account(rows[0]) if rows else None

    def account_by_key_hash(self, digest, conn=None):
        rows = self._rows(conn, 'SELECT %s FROM accounts WHERE api_key_hash = ?' % self._ACCOUNT_COLUMNS, (digest,))
        return self._account(rows[0]) if rows else None

    def all_accounts(self, conn=None):
        return [self._account(row) for row in self._rows(conn, 'SELECT %s FROM accounts' % self._ACCOUNT_COLUMNS)]

    def save_account(self, conn, account):
        """Insert or replace an account (the dict returned by get_account, possibly changed)."""
        doc = {key: value for key, value in account.items() if key not in self._ACCOUNT_FIXED}
        conn.execute('INSERT OR REPLACE INTO accounts (%s) VALUES (?, ?, ?, ?, ?, ?, ?)' % self._ACCOUNT_COLUMNS,
                     (account['account_id'], account.get('email_address'), account.get('password_hash'),
                      account.get('api_key_hash'), int(bool(account.get('banned'))), int(bool(account.get('deleted'))),
                      _dump(doc)))

    # ---- projects -------------------------------------------------------------------------
    def get_project(self, project_id, conn=None):
        rows = self._rows(conn, 'SELECT doc FROM projects WHERE project_id = ?', (project_id,))
        return _load(rows[0][0]) if rows else None

    def save_project(self, conn, project):
        conn.execute('INSERT INTO projects (project_id, doc) VALUES (?, ?) '
                     'ON CONFLICT (project_id) DO UPDATE SET doc = excluded.doc', (project['project_id'], _dump(project)))
        conn.execute('DELETE FROM project_users WHERE project_id = ?', (project['project_id'],))
        conn.executemany('INSERT INTO project_users (account_id, project_id) VALUES (?, ?)',
                         [(account_id, project['project_id']) for account_id in (project.get('users') or {})])

    def projects_of(self, account_id, conn=None):
        """Every project the account is a member of, in creation (row) order."""
        rows = self._rows(conn, 'SELECT p.doc FROM projects p JOIN project_users u ON u.project_id = p.project_id '
                                'WHERE u.account_id = ? ORDER BY p.rowid', (account_id,))
        return [_load(row[0]) for row in rows]

    def all_projects(self, conn=None):
        return [_load(row[0]) for row in self._rows(conn, 'SELECT doc FROM projects ORDER BY rowid')]

    def co_members(self, account_id, conn=None):
        """Account ids sharing at least one project with the account (the account included)."""
        rows = self._rows(conn, 'SELECT DISTINCT b.account_id FROM project_users a '
                                'JOIN project_users b ON a.project_id = b.project_id WHERE a.account_id = ?', (account_id,))
        return [row[0] for row in rows]

    # ---- public paths ---------------------------------------------------------------------
    def public_paths_of(self, project_id, conn=None):
        rows = self._rows(conn, 'SELECT doc FROM public_paths WHERE project_id = ? ORDER BY rowid', (project_id,))
        return [_load(row[0]) for row in rows]

    def get_public_path(self, path_id, conn=None):
        rows = self._rows(conn, 'SELECT doc FROM public_paths WHERE id = ?', (path_id,))
        return _load(rows[0][0]) if rows else None

    @staticmethod
    def save_public_path(conn, doc):
        conn.execute('INSERT INTO public_paths (id, project_id, doc) VALUES (?, ?, ?) '
                     'ON CONFLICT (id) DO UPDATE SET doc = excluded.doc', (doc['id'], doc['project_id'], _dump(doc)))

    # ---- outbox, logs, tokens -------------------------------------------------------------
    @staticmethod
    def send_mail(conn, to, subject, body, kind, project_id=None):
        conn.execute('INSERT INTO outbox (to_address, subject, body, time, kind, project_id) VALUES (?, ?, ?, ?, ?, ?)',
                     (to, subject, body, now_iso(), kind, project_id))

    def outbox(self):
        result = []
        for row in self._rows(None, 'SELECT to_address, subject, body, time, kind, project_id FROM outbox ORDER BY seq'):
            item = {'to': row[0], 'subject': row[1], 'body': row[2], 'time': row[3], 'kind': row[4]}
            if row[5]:
                item['project_id'] = row[5]
            result.append(item)
        return result

    def last_mail_time(self, to, kind, project_id):
        rows = self._rows(None, 'SELECT MAX(time) FROM outbox WHERE to_address = ? AND kind = ? AND project_id IS ?',
                          (to, kind, project_id))
        return rows[0][0] if rows else None

    @staticmethod
    def log_client_error(conn, error_id, account_id, error, time):
        conn.execute('INSERT INTO client_error_log (id, account_id, error, time) VALUES (?, ?, ?, ?)',
                     (error_id, account_id, error, time))

    @staticmethod
    def add_auth_token(conn, digest, account_id, expire):
        conn.execute('INSERT INTO auth_tokens (token_hash, account_id, expire) VALUES (?, ?, ?)', (digest, account_id, expire))

    # ---- password resets (the code is kept as a hash) ------------------------------------------
    @staticmethod
    def add_password_reset(conn, digest, account_id, expire):
        conn.execute('INSERT INTO password_resets (code_hash, account_id, expire) VALUES (?, ?, ?)',
                     (digest, account_id, expire))

    @staticmethod
    def password_reset(conn, digest):
        """(account_id, expire, used) of the reset with this code hash, or None."""
        return conn.execute('SELECT account_id, expire, used FROM password_resets WHERE code_hash = ?', (digest,)).fetchone()

    @staticmethod
    def use_password_reset(conn, digest):
        conn.execute('UPDATE password_resets SET used = 1 WHERE code_hash = ?', (digest,))

    # ---- actions waiting for an invited address to sign up -------------------------------------
    @staticmethod
    def add_creation_action(conn, email, action, expire):
        conn.execute('INSERT INTO account_creation_actions (email_address, action, expire) VALUES (?, ?, ?)',
                     (email, json.dumps(action), expire))

    @staticmethod
    def creation_actions(conn, email):
        """[(seq, action dict, expire)] waiting for this address, in the order they were added."""
        rows = conn.execute('SELECT seq, action, expire FROM account_creation_actions WHERE email_address = ?',
                            (email,)).fetchall()
        return [(seq, json.loads(action), expire) for seq, action, expire in rows]

    @staticmethod
    def delete_creation_action(conn, seq):
        conn.execute('DELETE FROM account_creation_actions WHERE seq = ?', (seq,))

    # ---- project uids (confinement) ------------------------------------------------------------
    def project_uid(self, project_id, first_uid):
        """The uid of the project, allocated (the next free one from first_uid up) on first use."""
        with self.transaction() as conn:
            row = conn.execute('SELECT uid FROM project_uids WHERE project_id = ?', (project_id,)).fetchone()
            if row is not None:
                return row[0]
            uid = conn.execute('SELECT COALESCE(MAX(uid) + 1, ?) FROM project_uids', (first_uid,)).fetchone()[0]
            conn.execute('INSERT INTO project_uids (project_id, uid) VALUES (?, ?)', (project_id, uid))
            return uid

    def count_request(self, endpoint, status, query_get=False, fault=None):
        """Count one routed POST; `query_get` when it was a user query (QUERY_ENDPOINTS) its engine
        classified a get; `fault` the mode of the injected fault that hit it, if any."""
        with self.transaction() as conn:
            if fault:
                conn.execute('INSERT INTO fault_stats (endpoint, mode, calls) VALUES (?, ?, 1) '
                             'ON CONFLICT (endpoint, mode) DO UPDATE SET calls = calls + 1', (endpoint, fault))
            conn.execute('INSERT INTO stats (endpoint, status, calls) VALUES (?, ?, 1) '
                         'ON CONFLICT (endpoint, status) DO UPDATE SET calls = calls + 1', (endpoint, str(status)))
            if endpoint in QUERY_ENDPOINTS and query_get:
                conn.execute('INSERT INTO query_get_calls (endpoint, status, calls) VALUES (?, ?, 1) '
                             'ON CONFLICT (endpoint, status) DO UPDATE SET calls = calls + 1', (endpoint, str(status)))

    def stats(self):
        """{endpoint: {calls, http_status: {status: n}}}; the entries of user queries (QUERY_ENDPOINTS: v1's
        `query`, era 2026's `user-query` and `hub:db.userQuery`) add `gets` (calls the engine classified as
        gets) and `sets` (every other call), so gets + sets = calls."""
        with self.connection() as conn:
            conn.execute('BEGIN')   # one snapshot for both tables
            try:
                rows = self._rows(conn, 'SELECT endpoint, status, calls FROM stats ORDER BY endpoint, status')
                gets = dict(self._rows(conn, 'SELECT endpoint, SUM(calls) FROM query_get_calls GROUP BY endpoint'))
                faulted = self._rows(conn, 'SELECT endpoint, mode, calls FROM fault_stats ORDER BY endpoint, mode')
            finally:
                conn.execute('COMMIT')
        result = {}
        for endpoint, status, calls in rows:
            entry = result.setdefault(endpoint, {'calls': 0, 'http_status': {}})
            entry['calls'] += calls
            entry['http_status'][status] = calls
        for endpoint, mode, calls in faulted:
            result.setdefault(endpoint, {'calls': 0, 'http_status': {}}).setdefault('faults', {})[mode] = calls
        for endpoint in QUERY_ENDPOINTS:
            entry = result.get(endpoint)
            if entry is not None:
                entry['gets'] = min(gets.get(endpoint, 0), entry['calls'])
                entry['sets'] = entry['calls'] - entry['gets']
        return result

    # ---- meta (what a data dir remembers about itself, e.g. the era it was last served in) --
    def get_meta(self, key, default=None):
        rows = self._rows(None, 'SELECT value FROM meta WHERE key = ?', (key,))
        return rows[0][0] if rows else default

    def set_meta(self, key, value):
        with self.transaction() as conn:
            conn.execute('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
                         (key, value))

    # ---- api keys of the api_keys table (era 2026) and remember_me sessions ----------------
    _KEY_COLUMNS = 'id, account_id, project_id, name, hash, trunc, created, expire, last_active'

    @classmethod
    def _api_key(cls, row):
        return dict(zip(cls._KEY_COLUMNS.split(', '), row)) if row else None

    def insert_api_key(self, conn, account_id, project_id, name, created, expire):
        """A new row with a placeholder hash (the key's last characters encode its id); returns the id."""
        cursor = conn.execute('INSERT INTO api_keys (account_id, project_id, name, hash, trunc, created, expire) '
                              'VALUES (?, ?, ?, ?, ?, ?, ?)', (account_id, project_id, name, '', '', created, expire))
        return cursor.lastrowid

    @staticmethod
    def set_api_key_secret(conn, key_id, digest, trunc):
        conn.execute('UPDATE api_keys SET hash = ?, trunc = ? WHERE id = ?', (digest, trunc, key_id))

    def get_api_key(self, key_id, conn=None):
        rows = self._rows(conn, 'SELECT %s FROM api_keys WHERE id = ?' % self._KEY_COLUMNS, (key_id,))
        return self._api_key(rows[0]) if rows else None

    def api_keys_of(self, account_id, project_id=None, conn=None):
        rows = self._rows(conn, 'SELECT %s FROM api_keys WHERE account_id = ? AND project_id IS ? ORDER BY id DESC'
                          % self._KEY_COLUMNS, (account_id, project_id))
        return [self._api_key(row) for row in rows]

    @staticmethod
    def update_api_key(conn, key_id, **fields):
        for name, value in fields.items():
            if name not in ('name', 'expire', 'last_active'):
                raise ValueError(name)
            conn.execute('UPDATE api_keys SET %s = ? WHERE id = ?' % name, (value, key_id))

    @staticmethod
    def delete_api_key(conn, key_id, account_id):
        conn.execute('DELETE FROM api_keys WHERE id = ? AND account_id = ?', (key_id, account_id))

    @staticmethod
    def add_remember_me(conn, digest, account_id, expire):
        conn.execute('INSERT INTO remember_me (hash, account_id, expire) VALUES (?, ?, ?)', (digest, account_id, expire))

    def remember_me_account(self, digest):
        rows = self._rows(None, 'SELECT account_id, expire FROM remember_me WHERE hash = ?', (digest,))
        return rows[0] if rows else None

    def reset_stats(self):
        with self.transaction() as conn:
            conn.execute('DELETE FROM stats')
            conn.execute('DELETE FROM query_get_calls')
            conn.execute('DELETE FROM fault_stats')
