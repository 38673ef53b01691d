#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper, not part of the collection: one API call to the server under test, without the collection's code.

The integration targets read back what a module did, and seed what it needs, straight from the server.
They name the call by its API v1 operation (query, create_project, read_text_file_from_project, ...)
and read the v1 answer (json.query, json.project_id, json.content, json.event ...). In the API v1 eras
(2024, guide) this is exactly the POST /api/v1/<op> it names. In era 2026 (current CoCalc: api/v2 and the
conat bridges) it makes the equivalent current calls, chosen from the 2026 recordings
(../shared/real-hub-2026/README.md), and returns the v1-shaped answer, so every target asserts the same
things in every era. It keeps no cookies (each call is a fresh urllib request, nothing stores them).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: cocalc_raw
short_description: One API call to the CoCalc server under test (integration test helper)
description: See the module's docstring.
options:
  api_url: {type: str, required: true, description: base URL of the server}
  api_key: {type: str, required: true, description: API key}
  era: {type: str, required: true, description: "the server's era: 2024 and guide speak API v1, 2026 the current API"}
  op: {type: str, required: true, description: the API v1 operation}
  body: {type: dict, default: {}, description: the API v1 body of the operation}
  timeout: {type: int, default: 120, description: seconds per HTTP call}
  body_format:
    type: str
    default: json
    choices: [json, form-urlencoded]
    description: how the body is sent (API v1 limits JSON bodies to 100 kB, form bodies may be larger)
author: cocalc.cocalc tests
'''

import base64
import json
from urllib.parse import urlencode

from urllib.error import HTTPError

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

V1_ERAS = ('2024', 'guide')


class CallFailed(Exception):
    """A call the server refused or answered with an error (message, HTTP status, answer)."""

    def __init__(self, message, status=None, answer=None):
        super().__init__(message)
        self.status = status
        self.answer = answer


class Server:
    def __init__(self, url, key, timeout, form=False):
        self.url = url.rstrip('/')
        self.key = key
        self.timeout = timeout
        # body_format form-urlencoded: bodies of API v1 calls and v2 routes go form-encoded (both accept it).
        self.form = form
        self.calls = []

    def post(self, path, payload, auth=True):
        """(HTTP status, decoded JSON answer) of one POST; no cookie jar, so no cookie is ever sent back."""
        form = self.form and not path.startswith('/api/conat/')
        headers = {'Content-Type': 'application/x-www-form-urlencoded' if form else 'application/json'}
        if auth:
            headers['Authorization'] = 'Basic ' + base64.b64encode((self.key + ':').encode('utf-8')).decode('ascii')
        self.calls.append(path if path != '/api/conat/hub' and path != '/api/conat/project' else '%s %s' % (path, payload.get('name')))
        try:
            data = urlencode(payload) if form else json.dumps(payload)
            response = open_url(self.url + path, data=data, headers=headers, method='POST',
                                timeout=self.timeout, follow_redirects='none')
            status, text = response.getcode(), response.read()
        except HTTPError as error:
            status, text = error.code, error.read()
        try:
            answer = json.loads(text)
        except ValueError as error:
            raise CallFailed('POST %s: HTTP %s, not JSON: %r' % (path, status, text[:300]), status) from error
        if status != 200:
            raise CallFailed('POST %s: HTTP %s' % (path, status), status, answer)
        return status, answer

    def v2(self, route, payload, auth=True):
        """The answer of POST /api/v2/<route>; HTTP 200 {"error"} is a failure."""
        status, answer = self.post('/api/v2/' + route, payload, auth)
        if isinstance(answer, dict) and answer.get('error') is not None:
            raise CallFailed('%s: %s' % (route, answer['error']), status, answer)
        return answer

    def project(self, project_id, name, args, timeout_ms=120000):
        """The answer of a conat project function; {"error"} is a failure (CallFailed)."""
        status, answer = self.post('/api/conat/project', {'project_id': project_id, 'name': name, 'args': args, 'timeout': timeout_ms})
        if isinstance(answer, dict) and answer.get('error') is not None:
            raise CallFailed('%s: %s' % (name, answer['error']), status, answer)
        return answer


def read_one(server, project_id, path):
    """One v1 batch item's fields for one file: {content} or {error} (ENOENT as the text)."""
    try:
        content = server.project(project_id, 'system.readTextFileFromProject', [{'path': path}])
    except CallFailed as failure:
        if failure.answer is None or not isinstance(failure.answer, dict):
            raise
        return {'error': failure.answer['error']}
    return {'content': content}


def current_read(server, body):
    """read_text_file_from_project: no batched reads in the current API, so one conat read per file."""
    project_ids, paths = body['project_id'], body['path']
    if not isinstance(project_ids, list) and not isinstance(paths, list):
        item = read_one(server, project_ids, paths)
        if 'error' in item:
            return {'event': 'error', 'error': item['error']}
        return {'event': 'text_file_read_from_project', 'content': item['content']}
    if not isinstance(project_ids, list) or not isinstance(paths, list) or len(project_ids) != len(paths):
        raise CallFailed('read_text_file_from_project: project_id and path must be arrays of the same length')
    content = []
    for project_id, path in zip(project_ids, paths):
        item = {'project_id': project_id, 'path': path}
        item.update(read_one(server, project_id, path))
        content.append(item)
    return {'event': 'text_file_read_from_project', 'content': content}


def current_create_account(server, body):
    """create_account: auth/sign-up (as the admin of the test server); its issues are the failure."""
    answer = server.v2('auth/sign-up', {'terms': bool(body.get('agreed_to_terms')), 'email': body.get('email_address'),
                                        'password': body.get('password'), 'firstName': body.get('first_name'),
                                        'lastName': body.get('last_name')})
    if answer.get('issues'):
        raise CallFailed('auth/sign-up: %s' % json.dumps(answer['issues']), 200, answer)
    return {'event': 'account_created', 'account_id': answer['account_id']}


def current_call(server, op, body):
    """The v1-shaped answer of operation `op` made with current-API calls."""
    if op == 'query':
        return {'event': 'query', 'query': server.v2('user-query', {'query': body['query']})['query']}
    if op == 'create_project':
        fields = dict((key, body[key]) for key in ('title', 'description', 'image') if key in body)
        return {'event': 'project_created', 'project_id': server.v2('projects/create', fields)['project_id']}
    if op == 'write_text_file_to_project':
        server.v2('projects/write-text-file', {'project_id': body['project_id'], 'path': body['path'], 'content': body['content']})
        return {'event': 'file_written_to_project'}
    if op == 'read_text_file_from_project':
        return current_read(server, body)
    if op == 'project_exec':
        # err_on_exit defaults to true in both generations; v1's answer to a failing command is an error too.
        answer = server.v2('exec', body)
        return dict(answer, event='project_exec_output')
    if op == 'create_account':
        return current_create_account(server, body)
    if op in ('invite_collaborator', 'add_collaborator'):
        server.v2('projects/collaborators/add', {'project_id': body['project_id'], 'account_id': body['account_id']})
        return {'event': 'success'}
    if op == 'remove_collaborator':
        server.v2('projects/collaborators/remove', {'project_id': body['project_id'], 'account_id': body['account_id']})
        return {'event': 'success'}
    raise CallFailed('cocalc_raw: operation %s has no current-API equivalent here' % op)


def main():
    module = AnsibleModule(argument_spec=dict(
        api_url=dict(type='str', required=True),
        api_key=dict(type='str', required=True, no_log=True),
        era=dict(type='str', required=True),
        op=dict(type='str', required=True),
        body=dict(type='dict', default={}),
        timeout=dict(type='int', default=120),
        body_format=dict(type='str', default='json', choices=['json', 'form-urlencoded']),
    ), supports_check_mode=False)
    params = module.params
    server = Server(params['api_url'], params['api_key'], params['timeout'], form=params['body_format'] == 'form-urlencoded')
    try:
        if params['era'] in V1_ERAS:
            status, answer = server.post('/api/v1/' + params['op'], params['body'])
        else:
            status, answer = 200, current_call(server, params['op'], params['body'])
    except CallFailed as failure:
        module.fail_json(msg=str(failure), status=failure.status, json=failure.answer, calls=server.calls)
    module.exit_json(changed=False, status=status, json=answer, calls=server.calls)


if __name__ == '__main__':
    main()
