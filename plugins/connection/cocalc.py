# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: cocalc
short_description: Run Ansible tasks inside a CoCalc project through the CoCalc HTTP API
version_added: 0.1.0
description:
  - Makes a CoCalc project an Ansible host, so that ordinary modules (M(ansible.builtin.copy),
    M(ansible.builtin.template), M(ansible.builtin.pip), ...) run inside it.
  - Commands run through the API call C(project_exec) as C(bash -c <command>) in the project's home directory;
    their exit code, stdout and stderr are passed on unchanged.
  - Files (including the modules Ansible sends) travel as base64 through C(project_exec), in chunks that stay
    under the server's 100 kB JSON body limit; every transfer is checked with SHA-256 on both sides.
  - A project that is still starting is waited for, like the modules of this collection do.
  - Every file transfer is confined to the project's home directory; the real location of the path (symlinks
    followed) is checked in the same shell command that reads or writes it.
  - There is no privilege escalation (C(become)) inside a project; a play that asks for it fails with a message
    that says so.
author:
  - cocalc.cocalc maintainers (@cocalc)
options:
  project_id:
    description:
      - ID (UUID) of the project that is the host.
      - When set it wins over O(remote_addr); the inventory plugin P(cocalc.cocalc.cocalc#inventory) sets it
        for every host.
    type: str
    vars:
      - name: cocalc_project_id
  remote_addr:
    description:
      - The project ID when O(project_id) is not set (C(ansible_host), which defaults to the inventory hostname).
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
  api_url:
    description:
      - Base URL of the CoCalc server, for example V(https://cocalc.example.org).
    type: str
    required: true
    env:
      - name: COCALC_API_URL
    vars:
      - name: ansible_cocalc_api_url
  api_key:
    description:
      - API key of the CoCalc account that runs the commands; it needs write access to the project.
      - The key is never shown, not even with C(-vvvv).
    type: str
    required: true
    env:
      - name: COCALC_API_KEY
    vars:
      - name: ansible_cocalc_api_key
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
    vars:
      - name: ansible_cocalc_validate_certs
  api_timeout:
    description: Seconds to wait for each HTTP request, on top of the command's own run time.
    type: int
    default: 30
    env:
      - name: COCALC_API_TIMEOUT
    vars:
      - name: ansible_cocalc_api_timeout
  api_retries:
    description: How often to retry a read that failed with a connection error or HTTP 429/502/503/504.
    type: int
    default: 3
    vars:
      - name: ansible_cocalc_api_retries
  command_timeout:
    description:
      - Seconds a command (one module run) may take inside the project before the server kills it; the task
        then fails with a message naming this option.
    type: int
    default: 600
    vars:
      - name: ansible_cocalc_command_timeout
  ready_wait:
    description:
      - Seconds to wait for a project that is still starting before a call fails.
    type: int
    default: 300
    vars:
      - name: ansible_cocalc_ready_wait
notes:
  - Ansible's temporary directory (C(remote_tmp), by default C(~/.ansible/tmp)) lies in the project's home.
  - Pipelining is not supported (C(project_exec) has no standard input); Ansible sends each module as a file.
  - Modules run as the project's user and can reach what that user can; only the connection's own file
    transfers (for example M(ansible.builtin.fetch) and the modules' payloads) are confined to the home.
  - The Python library C(requests) must be installed on the controller.
requirements:
  - requests >= 2.25
'''

EXAMPLES = r'''
# inventory (INI): each host is a project; the key comes from the environment (COCALC_API_KEY)
# [students]
# alice cocalc_project_id=3f0e8f0a-4f9e-4d0a-9a53-6a9c4bcd1d11
# [students:vars]
# ansible_connection=cocalc.cocalc.cocalc
# ansible_cocalc_api_url=https://cocalc.example.org

- name: Drop a config file into every student project
  hosts: students
  gather_facts: false
  tasks:
    - name: Config file
      ansible.builtin.copy:
        dest: .config/course.ini
        content: "[course]\nname = Algebra\n"
        mode: "0644"
'''

import base64
import hashlib
import os

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import HAS_REQUESTS, JSON_BODY_LIMIT, CocalcClient
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcInputError, check_uuid
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import HOME_GUARD, OUTSIDE_HOME_RC, CommandTimeout, exec_in_project

display = Display()

# Raw bytes per project_exec call: base64 makes 4/3 of it, and the JSON body must stay under the
# server's 100 kB limit with room for the script and the path.
CHUNK_BYTES = (JSON_BODY_LIMIT - 8192) // 4 * 3 // 1024 * 1024
# Seconds for the small transfer scripts.
TRANSFER_TIMEOUT = 120

# $1 target, $2 'first' or 'more', $3 base64 chunk; the chunk is appended to a part file next to the
# target, which the last call moves into place after comparing its sha256 ($4) with the sender's.
_PUT_SCRIPT = ('(set -- "$1"\n' + HOME_GUARD + ') || exit $?\n'
               'p="$1.cocalc-part"\n'
               'if [ "$2" = first ]; then : > "$p" || exit 1; fi\n'
               'printf %s "$3" | base64 -d >> "$p" || exit 1\n'
               'if [ -n "$4" ]; then\n'
               '  s=$(sha256sum < "$p") || exit 1; s=${s%% *}\n'
               '  if [ "$s" != "$4" ]; then rm -f -- "$p"; echo "sha256 $s, expected $4" >&2; exit 98; fi\n'
               '  mv -f -- "$p" "$1" || exit 1\n'
               'fi\n')
# $1 source, $2 chunk index, $3 chunk size: the first call prints size and sha256, then the chunk.
_FETCH_SCRIPT = ('(set -- "$1"\n' + HOME_GUARD + ') || exit $?\n'
                 '[ -f "$1" ] || { echo "not a regular file" >&2; exit 2; }\n'
                 'if [ "$2" = 0 ]; then s=$(sha256sum < "$1") || exit 1; echo "$(wc -c < "$1") ${s%% *}"; fi\n'
                 'dd if="$1" bs="$3" skip="$2" count=1 2>/dev/null | base64 -w0\n')


class Connection(ConnectionBase):
    """A CoCalc project as a host: commands and files go through project_exec."""

    transport = 'cocalc.cocalc.cocalc'
    has_pipelining = False
    has_tty = False

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._client = None
        self._project_id = None

    def _connect(self):
        if self._connected:
            return self
        if not HAS_REQUESTS:
            raise AnsibleConnectionFailure('cocalc.cocalc.cocalc needs the Python library requests on the controller')
        if self.become is not None:
            raise AnsibleError('cocalc.cocalc.cocalc cannot become another user: a CoCalc project has no privilege escalation; '
                               'remove become from the play or task')
        project = self.get_option('project_id') or self.get_option('remote_addr')
        try:
            self._project_id = check_uuid(project, 'cocalc_project_id (or ansible_host)')
            self._client = CocalcClient(self.get_option('api_url'), self.get_option('api_key'),
                                        validate_certs=self.get_option('validate_certs'), timeout=self.get_option('api_timeout'),
                                        retries=self.get_option('api_retries'), ready_wait=self.get_option('ready_wait'))
        except (CocalcInputError, ValueError) as err:
            raise AnsibleConnectionFailure('cocalc.cocalc.cocalc: %s' % err) from None
        display.vvv('COCALC CONNECT project %s at %s' % (self._project_id, self._client.api_url), host=self._project_id)
        self._connected = True
        return self

    def _run(self, what, command, args, timeout):
        """exec_in_project with errors that name the project and the call (never the key)."""
        try:
            return exec_in_project(self._client, self._project_id, command, args=args, timeout=timeout)
        except CommandTimeout as err:
            message = '%s in project %s: %s (option command_timeout / ansible_cocalc_command_timeout)' % (what, self._project_id, err)
        except CocalcApiError as err:
            message = '%s in project %s: %s' % (what, self._project_id, err)
        raise AnsibleConnectionFailure(message)

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if in_data is not None:
            raise AnsibleError('cocalc.cocalc.cocalc cannot send standard input (no pipelining); set pipelining to false')
        display.vvv('COCALC EXEC %s' % cmd, host=self._project_id)
        result = self._run('Could not run a command', 'bash', ['-c', to_text(cmd)], self.get_option('command_timeout'))
        return result.rc, to_bytes(result.stdout), to_bytes(result.stderr)

    def _check_outside(self, result, path):
        if result.rc == OUTSIDE_HOME_RC and (result.stderr or '').startswith('outside-home'):
            raise AnsibleError("cocalc.cocalc.cocalc: '%s' leaves the home of project %s (its real location is %s); "
                               'nothing was transferred' % (path, self._project_id, result.stderr.split('\n', 1)[-1]))

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv('COCALC PUT %s TO %s' % (in_path, out_path), host=self._project_id)
        if not os.path.isfile(to_bytes(in_path)):
            raise AnsibleFileNotFound('file or module does not exist: %s' % in_path)
        with open(to_bytes(in_path), 'rb') as handle:
            data = handle.read()
        digest = hashlib.sha256(data).hexdigest()
        chunks = [data[start:start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES)] or [b'']
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            args = ['-c', _PUT_SCRIPT, 'sh', out_path, 'first' if index == 0 else 'more', to_text(base64.b64encode(chunk)),
                    digest if last else '']
            result = self._run("Could not copy to '%s' (part %d of %d)" % (out_path, index + 1, len(chunks)), 'sh', args,
                               TRANSFER_TIMEOUT)
            self._check_outside(result, out_path)
            if result.rc != 0:
                raise AnsibleError("cocalc.cocalc.cocalc: copying to '%s' in project %s failed (exit code %d): %s"
                                   % (out_path, self._project_id, result.rc, result.stderr.strip()))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv('COCALC FETCH %s TO %s' % (in_path, out_path), host=self._project_id)
        parts = []
        size = digest = None
        index = 0
        while size is None or index * CHUNK_BYTES < size:
            result = self._run("Could not fetch '%s'" % in_path, 'sh', ['-c', _FETCH_SCRIPT, 'sh', in_path, str(index), str(CHUNK_BYTES)],
                               TRANSFER_TIMEOUT)
            self._check_outside(result, in_path)
            if result.rc != 0:
                raise AnsibleError("cocalc.cocalc.cocalc: fetching '%s' from project %s failed (exit code %d): %s"
                                   % (in_path, self._project_id, result.rc, result.stderr.strip()))
            text = result.stdout
            if index == 0:
                head, _sep, text = text.partition('\n')
                size_text, _sep, digest = head.partition(' ')
                size = int(size_text)
            parts.append(base64.b64decode(text.strip()))
            index += 1
        data = b''.join(parts)
        if hashlib.sha256(data).hexdigest() != digest:
            raise AnsibleError("cocalc.cocalc.cocalc: '%s' of project %s changed while it was fetched (sha256 differs); try again"
                               % (in_path, self._project_id))
        with open(to_bytes(out_path), 'wb') as handle:
            handle.write(data)

    def close(self):
        if self._client is not None:
            self._client.close()
            self._client = None
        self._connected = False
