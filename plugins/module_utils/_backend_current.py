# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The current-generation backend: current CoCalc (cocalc.com, releases since 2025), which removed
API v1. It turns each operation of _api.OPERATIONS into ``POST /api/v2/<route>`` or a call through
the RPC bridges ``/api/conat/hub`` ``{name, args, timeout}`` and ``/api/conat/project``
``{project_id, name, args, timeout}``, and converts the answer (and errors) back to the contract:
API v1's answer shape. The choices follow the recordings of a real current hub
(../shared/real-hub-2026, cited as L<line>):

==============================  ==============================================  =====================================
operation                       sent as                                         why
==============================  ==============================================  =====================================
ping                            hub system.ping                                 cheapest authenticated round trip (L0)
query (get / set)               v2 user-query {query, options}                  v1's query semantics and texts, answer
                                                                                already {query: ...}; 22 ms vs 49 ms
                                                                                for conat db.userQuery (L12, L21)
query: action_request           v2 projects/start / projects/stop               they return once the project runs / is
  start / stop                                                                  stopped (L90, L103), as v1's set did
create_project                  v2 projects/create {title, description, image}  answers {project_id} (L42); with
                                (+ v2 projects/start when start is asked)       start, projects/start, which waits
write_text_file_to_project      project system.writeTextFileToProject           reports the project's own errors (EISDIR,
                                                                                L179) where v2 write-text-file answers
                                                                                ok and writes nothing (L153); 48 vs 98 ms
read_text_file_from_project     project system.readTextFileFromProject,         returns the string, also 12 MB (v2
                                one call per file; a batch runs in parallel     projects/call gave up, L192); no batched
                                within the client's connection pool             reads exist (path arrays fail)
project_exec                    project system.exec (err_on_exit as given,      exit codes come back with err_on_exit
                                bridge timeout = the call's timeout)            false (L216); the bridge timeout can
                                                                                exceed v2 exec's fixed 60 s (L218/L219)
copy_path_between_projects      v2 projects/copy-path                           answers a copy_id for queued copies
copy_path_status                v2 projects/copy-path-status {copy_id}          its status
invite_collaborator,            v2 projects/collaborators/add                   adds an existing account (L111)
add_collaborator
remove_collaborator             v2 projects/collaborators/remove                (L129); owners are refused (L128)
invite_noncloud_collaborators   hub projects.inviteCollaboratorWithoutAccount   the only invitation by email (L138)
user_search                     hub system.userSearch [{query, limit}]          honours limit and needs the key (v2
                                                                                accounts/search answers anyone, L29)
get_usernames                   v2 accounts/get-names {account_ids}             answers {names} (L33)
create_account                  v2 auth/sign-up {terms, email, password,        the only way; sets a cookie the client
                                firstName, lastName}                            never keeps, makes a first project
change_email_address            v2 accounts/set-email-address                   (L260); acts on the key's own account
change_password, delete_account,  none: an "unknown endpoint" error, nothing     the current API has no such route or
public_get_text_file,           is sent                                         function in the recordings
public_get_directory_listing,
copy_public_path_between_projects, user_auth
==============================  ==============================================  =====================================

Errors come back as CocalcApiError like API v1's (see _api._decode_current): HTTP 200 {"error"}
texts without conat's "Error: " prefix, bridge timeouts (code 408) as failures that may have run,
413 and Next's 404 page as non-JSON answers. The bare ``{}`` that v2 write-text-file and
projects/call answer when the hub's 60 s limit runs out cannot arise: neither route is used. Every
route is also checked against the check-mode write guard (READS below), besides the operation itself.

Not relied on (recorded defects, L71/L98/L66/L114): the server does not refuse a collaborator's
rewrite of a project's ``users`` map, unknown fields of projects/update, or an unknown account id
in collaborators/add; the resource code must check such preconditions itself (it writes only its own
``users`` entry, never touches owners, and finds accounts before adding them).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import _REMOVED_ENDPOINTS, RETRY_POLICY, is_read_only
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError

V2 = '/api/v2/'
HUB = '/api/conat/hub'
PROJECT = '/api/conat/project'

# Routes and RPC functions that change nothing (user-query is decided per body, like v1's query).
READS = frozenset([
    'system.ping', 'system.test', 'system.userSearch', 'system.getNames', 'system.readTextFileFromProject',
    'accounts/get-names', 'accounts/search', 'projects/collaborators/list', 'projects/copy-path-status',
])

# Operations API v1 had that the current API offers nothing for.
MISSING = frozenset(['change_password', 'delete_account', 'public_get_text_file', 'public_get_directory_listing',
                     'copy_public_path_between_projects', 'user_auth'])

# auth/sign-up's issue fields -> create_account's v1 field names (errors name the module options by them).
_SIGN_UP_FIELDS = {'email': 'email_address', 'firstName': 'first_name', 'lastName': 'last_name', 'terms': 'agreed_to_terms'}
_COPY_SWITCHES = ('overwrite_newer', 'delete_missing', 'backup', 'timeout', 'exclude', 'wait_until_done')
_EXEC_TEXTS = ("command '", "killed command '")
# accounts/set-email-address's refusals (L262-L264, and the wrong password's text) -> API v1's error codes of
# changed_email_address, which the resource code turns into texts naming its options.
_EMAIL_ERRORS = (('password is not correct', 'invalid_password'), ('email address is not valid', 'email_invalid'),
                 ('is already in use by another account', 'email_already_taken'))


def _unexpected(name, answer):
    return CocalcApiError(name, 200, None, 'unexpected answer from the server: %.200r' % (answer,), answer)


def _missing(operation):
    removed = _REMOVED_ENDPOINTS.get(operation)
    error = CocalcApiError(operation, None, None, "current CoCalc (api/v2, conat) has no counterpart of API v1's %s%s; nothing was sent"
                           % (operation, ' (CoCalc removed %s from API v1 in %s)' % (operation, removed) if removed else ''))
    error.unknown_endpoint = True
    return error


def _bridge_ms(how):
    # A little under the HTTP timeout, so that the bridge answers 408 before the connection times out.
    return max(1000, int((how.timeout - 1) * 1000))


def _project_action(query):
    """(project_id, 'start'|'stop') for a set that is only a project action request, else None."""
    row = query.get('projects') if isinstance(query, dict) and len(query) == 1 else None
    if not isinstance(row, dict) or set(row) != {'project_id', 'action_request'}:
        return None
    action = (row['action_request'] or {}).get('action') if isinstance(row['action_request'], dict) else None
    return (row['project_id'], action) if action in ('start', 'stop') else None


def _exec_text(opts, text):
    """v1's text for a failed command: the bridge leaves out v2's "Error executing command ..." head."""
    if not text.startswith(_EXEC_TEXTS):
        return text
    args = opts.get('args')
    shown = ','.join(str(arg) for arg in args) if isinstance(args, list) else 'undefined'
    return "Error executing command '%s' with args '%s' -- %s" % (opts.get('command'), shown, text)


def _username(row):
    """v1's {first_name, last_name}; {} for an unknown id, which get-names answers as a "Deleted User"
    without the profile field every real account's entry has (L34)."""
    if 'profile' not in row and (row.get('first_name'), row.get('last_name')) == ('Deleted', 'User'):
        return {}
    return dict(first_name=row.get('first_name'), last_name=row.get('last_name'))


class CurrentBackend(object):
    """Operations -> api/v2 routes and conat functions (see the module docstring for the table)."""

    name = 'current'

    def run(self, client, operation, payload, how):
        if operation in MISSING:
            raise _missing(operation)
        method = getattr(self, '_op_' + operation, None)
        if method is None:
            raise _missing(operation)
        try:
            return method(client, payload, how)
        except CocalcApiError as err:
            # The contract names the operation (as API v1 did); the route or function is named in the text.
            if err.endpoint != operation:
                err.message += ' (current API: %s)' % err.endpoint
                err.endpoint = operation
            raise

    # ---- the three ways to send ----

    @staticmethod
    def v2(client, route, body, how, read=False):
        client.guard(route, read, how.allow_in_check_mode)
        return client.post(V2 + route, body, route, how.but(form=False), answers='current')

    @staticmethod
    def hub(client, function, args, how, read=False):
        client.guard(function, read, how.allow_in_check_mode)
        body = {'name': function, 'args': args, 'timeout': _bridge_ms(how)}
        return client.post(HUB, body, function, how.but(form=False), answers='current')

    @staticmethod
    def project(client, project_id, function, args, how, read=False):
        client.guard(function, read, how.allow_in_check_mode)
        body = {'project_id': project_id, 'name': function, 'args': args, 'timeout': _bridge_ms(how)}
        return client.post(PROJECT, body, function, how.but(form=False), answers='current')

    # ---- operations ----

    def _op_ping(self, client, payload, how):
        answer = self.hub(client, 'system.ping', [], how, read=True)
        if not isinstance(answer, dict):
            raise _unexpected('system.ping', answer)
        return {'event': 'pong', 'now': answer.get('now')}

    def _op_query(self, client, payload, how):
        action = _project_action(payload.get('query'))
        if action is not None:
            self.v2(client, 'projects/' + action[1], {'project_id': action[0]}, how)
            return {'event': 'query', 'query': {}}
        body = {'query': payload.get('query')}
        if payload.get('options'):
            body['options'] = payload['options']
        answer = self.v2(client, 'user-query', body, how, read=is_read_only('query', payload))
        if not isinstance(answer, dict):
            raise _unexpected('user-query', answer)
        return {'event': 'query', 'query': answer.get('query')}

    def _op_create_project(self, client, payload, how):
        body = dict((key, payload[key]) for key in ('title', 'description', 'image') if key in payload)
        answer = self.v2(client, 'projects/create', body, how)
        project_id = answer.get('project_id') if isinstance(answer, dict) else None
        if not isinstance(project_id, str):
            raise _unexpected('projects/create', answer)
        if payload.get('start'):
            # projects/create has no start switch (unknown fields are ignored, never refused). A start
            # that fails leaves the created project to the caller's wait for its state, which reports it.
            try:
                self.v2(client, 'projects/start', {'project_id': project_id}, how.but(retry_on=RETRY_POLICY['idempotent']))
            except CocalcApiError:
                pass
        return {'event': 'project_created', 'project_id': project_id}

    def _op_write_text_file_to_project(self, client, payload, how):
        self.project(client, payload.get('project_id'), 'system.writeTextFileToProject',
                     [{'path': payload.get('path'), 'content': payload.get('content')}], how)
        return {'event': 'file_written_to_project'}

    def _read(self, client, project_id, path, how):
        text = self.project(client, project_id, 'system.readTextFileFromProject', [{'path': path}], how, read=True)
        if not isinstance(text, str):
            raise _unexpected('system.readTextFileFromProject', text)
        return text

    def _op_read_text_file_from_project(self, client, payload, how):
        project_ids, paths = payload.get('project_id'), payload.get('path')
        if not isinstance(project_ids, list) and not isinstance(paths, list):
            return {'event': 'text_file_read_from_project', 'content': self._read(client, project_ids, paths, how)}
        count = len(project_ids) if isinstance(project_ids, list) else len(paths)
        project_ids = project_ids if isinstance(project_ids, list) else [project_ids] * count
        paths = paths if isinstance(paths, list) else [paths] * count

        def one(key):
            # API v1's batch item: the text, or the error text of this file (ENOENT, no access, ...).
            try:
                return dict(project_id=key[0], path=key[1], content=self._read(client, key[0], key[1], how))
            except CocalcApiError as err:
                if err.http_status is None:
                    raise
                return dict(project_id=key[0], path=key[1], error=err.message)
        keys = list(zip(project_ids, paths))
        if len(keys) < 2:
            return {'event': 'text_file_read_from_project', 'content': [one(key) for key in keys]}
        with ThreadPoolExecutor(max_workers=min(len(keys), client.pool_size)) as pool:
            return {'event': 'text_file_read_from_project', 'content': list(pool.map(one, keys))}

    def _op_project_exec(self, client, payload, how):
        opts = dict((key, value) for key, value in payload.items() if key != 'project_id')
        try:
            answer = self.project(client, payload.get('project_id'), 'system.exec', [opts], how)
        except CocalcApiError as err:
            if err.http_status is not None and err.failure is None:
                err.message = _exec_text(opts, err.message)
            raise
        if not isinstance(answer, dict) or 'exit_code' not in answer:
            raise _unexpected('system.exec', answer)
        return dict(event='project_exec_output', stdout=answer.get('stdout'), stderr=answer.get('stderr'),
                    exit_code=answer.get('exit_code'))

    def _op_copy_path_between_projects(self, client, payload, how):
        body = dict(src_project_id=payload.get('src_project_id'), path=payload.get('src_path'),
                    target_project_id=payload.get('target_project_id'), target_path=payload.get('target_path'))
        body.update((key, payload[key]) for key in _COPY_SWITCHES if key in payload)
        answer = self.v2(client, 'projects/copy-path', body, how)
        if not isinstance(answer, dict):
            raise _unexpected('projects/copy-path', answer)
        if answer.get('copy_id'):
            return {'event': 'copy_path_between_projects_response', 'copy_path_id': answer['copy_id']}
        return {'event': 'success'}

    def _op_copy_path_status(self, client, payload, how):
        answer = self.v2(client, 'projects/copy-path-status', {'copy_id': payload.get('copy_path_id')}, how, read=True)
        return {'event': 'copy_path_status_response', 'data': answer}

    def _op_invite_collaborator(self, client, payload, how):
        self.v2(client, 'projects/collaborators/add', dict(project_id=payload.get('project_id'), account_id=payload.get('account_id')), how)
        return {'event': 'success'}

    _op_add_collaborator = _op_invite_collaborator

    def _op_remove_collaborator(self, client, payload, how):
        self.v2(client, 'projects/collaborators/remove', dict(project_id=payload.get('project_id'), account_id=payload.get('account_id')),
                how)
        return {'event': 'success'}

    def _op_invite_noncloud_collaborators(self, client, payload, how):
        self.hub(client, 'projects.inviteCollaboratorWithoutAccount', [{'opts': dict(payload)}], how)
        return {'event': 'invite_noncloud_collaborators_resp', 'mesg': 'invited %s' % payload.get('to')}

    def _op_user_search(self, client, payload, how):
        args = dict((key, payload[key]) for key in ('query', 'limit') if key in payload)
        rows = self.hub(client, 'system.userSearch', [args], how, read=True)
        if not isinstance(rows, list):
            raise _unexpected('system.userSearch', rows)
        return {'event': 'user_search_results', 'results': rows}

    def _op_get_usernames(self, client, payload, how):
        answer = self.v2(client, 'accounts/get-names', {'account_ids': payload.get('account_ids')}, how, read=True)
        names = answer.get('names') if isinstance(answer, dict) else None
        if not isinstance(names, dict):
            raise _unexpected('accounts/get-names', answer)
        usernames = dict((account_id, _username(row)) for account_id, row in names.items() if isinstance(row, dict))
        return {'event': 'usernames', 'usernames': usernames}

    def _op_create_account(self, client, payload, how):
        body = dict(terms=bool(payload.get('agreed_to_terms')), email=payload.get('email_address'), password=payload.get('password'),
                    firstName=payload.get('first_name') or '', lastName=payload.get('last_name') or '')
        try:
            answer = self.v2(client, 'auth/sign-up', body, how)
        except CocalcApiError as err:
            if err.event == 'account_creation_failed' and isinstance(err.body, dict):
                reason = dict((_SIGN_UP_FIELDS.get(key, key), text) for key, text in (err.body.get('issues') or {}).items())
                err.body = {'event': 'account_creation_failed', 'reason': reason}
            raise
        if not isinstance(answer, dict) or not isinstance(answer.get('account_id'), str):
            raise _unexpected('auth/sign-up', answer)
        return {'event': 'account_created', 'account_id': answer['account_id']}

    def _op_change_email_address(self, client, payload, how):
        try:
            self.v2(client, 'accounts/set-email-address',
                    dict(email_address=payload.get('new_email_address'), password=payload.get('password')), how)
        except CocalcApiError as err:
            code = next((code for text, code in _EMAIL_ERRORS if err.http_status == 200 and text in err.message), None)
            if code is not None:
                err.event, err.body = 'changed_email_address', {'event': 'changed_email_address', 'error': code}
            raise
        return {'event': 'changed_email_address'}
