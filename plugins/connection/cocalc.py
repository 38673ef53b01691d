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
  - Files (including the modules Ansible sends) travel as base64 through C(project_exec); every transfer is
    checked with SHA-256 on both sides. A call carries up to 576 KiB of a file (a form body; the hub accepts
    1 MB form bodies but only 100 kB of JSON), so a module goes in one call; a server that refuses such a body
    (HTTP 413) gets chunks of 48 KiB instead.
  - C(project_exec) has no standard input. With pipelining (on by default, see O(pipelining)) a module's input
    travels in the same call as the command (base64 in its arguments, decoded into the command's standard
    input inside the project), so a module run without files is one call; input too large for one call is
    uploaded first (checksum-verified) and read from a file.
  - A project that is still starting is waited for, like the modules of this collection do; when the first
    call of a task is refused because the project is starting, the connection reads the project's state
    (a cheap hub read) until it runs, instead of sending the command again and again.
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
  api_version:
    description:
      - Which generation of CoCalc's HTTP API to speak (V(auto), V(v1) or V(current)), as the modules' option
        C(api_version) (V(auto) finds the generation with the first call, V(v1) and V(current) name it).
      - Without it, the environment variable E(COCALC_API_VERSION), else V(auto).
    type: str
    choices: [auto, v1, current]
    env:
      - name: COCALC_API_VERSION
    vars:
      - name: ansible_cocalc_api_version
  pipelining:
    description:
      - Send a module's input inside the call that runs it (one API call per module run without files), instead
        of copying the module into Ansible's temporary directory first.
      - On by default, unlike Ansible's own connections (whose default is off because of C(sudo)'s
        C(requiretty); a project has no C(become)).
    type: bool
    default: true
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
      - section: connection
        key: pipelining
    vars:
      - name: ansible_pipelining
      - name: ansible_cocalc_pipelining
notes:
  - Ansible's temporary directory (C(remote_tmp), by default C(~/.ansible/tmp)) lies in the project's home.
  - With O(pipelining) off, every module run costs at least six calls (home, temporary directory, copy,
    C(chmod), run, removal); with it on, one (plus those a module's own files need, for example the source
    of M(ansible.builtin.copy)).
  - Modules run as the project's user and can reach what that user can; only the connection's own file
    transfers (for example M(ansible.builtin.fetch) and the modules' payloads) are confined to the home.
  - The Python library C(requests) must be installed on the controller.
  - "API generations: on current CoCalc (api/v2 and conat) commands run through the project bridge's
    C(system.exec) as JSON bodies of up to 1 MiB (never form bodies); exit codes, transfers and their
    checksums are the same."
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
import json
import os
import re
import uuid

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.cocalc.cocalc.plugins.module_utils import _wait
from ansible_collections.cocalc.cocalc.plugins.module_utils._api import HAS_REQUESTS, JSON_BODY_LIMIT, READY_WAIT_CAP, READY_WAIT_FIRST
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcInputError, ProjectNotReady, check_uuid
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import HOME_GUARD, OUTSIDE_HOME_RC, ExecResult
from ansible_collections.cocalc.cocalc.plugins.plugin_utils._client import make_client

display = Display()

# Base64 characters per argument: one argument string must stay under Linux's 128 KiB limit per string.
PIECE_CHARS = 96 * 1024
# Raw bytes per call. A form body (the hub parses 1 MB of urlencoded body, but only 100 kB of JSON) of 8
# pieces: 768 KiB of base64url, which form encoding leaves as it is, plus the script; qs would turn an
# array of more than 20 items into an object, so 8 pieces and the script's own arguments stay under that.
CHUNK_BYTES = 8 * PIECE_CHARS // 4 * 3
# After a server refused a body as too large (HTTP 413, as hubs before 2018 or behind a stricter proxy
# do): 64 KiB of base64, a body under 100 kB however it is encoded.
SMALL_CHUNK_BYTES = 48 * 1024
# Room for the script and the other fields when deciding whether a body still fits as JSON.
JSON_ROOM = 2048
# Seconds for the transfer scripts.
TRANSFER_TIMEOUT = 120
# Every script runs in a subshell and reports its exit code on the last line of stderr, so a non-zero
# exit is an answer whether the server got err_on_exit as false (JSON) or not at all (a form body has
# only strings, and the hub's default is to turn a non-zero exit into an error without the output).
_RC_LINE = 'cocalc-rc '
_RC_RE = re.compile(r'\n' + _RC_LINE + r'(\d+)\n\Z')
_WRAPPER = '(\n%s\n)\nprintf \'\\n' + _RC_LINE + '%%d\\n\' "$?" >&2\n'
# Base64url (A-Z a-z 0-9 - _) passes form encoding unchanged; tr turns it back into base64 for base64 -d.
_DECODE = 'printf %s "$@" | tr \'_-\' \'/+\' | base64 -d'

# $1 command; the rest: the command's standard input in base64url pieces.
_PIPE_SCRIPT = 'c=$1; shift\n' + _DECODE + ' | bash -c "$c"'
# $1 command, $2 a file in the home that holds its standard input (removed afterwards).
_STDIN_FILE_SCRIPT = 'bash -c "$1" < "$2"; r=$?; rm -f -- "$2"; exit $r'
# $1 target, $2 'first' or 'more', $3 the whole file's sha256 on the last call (else empty), then the chunk's
# pieces. The chunk is appended to a part file next to the target, which the last call moves into place
# after comparing its sha256 with the sender's.
_PUT_SCRIPT = ('t=$1 m=$2 d=$3; shift 3\n'
               '(set -- "$t"\n' + HOME_GUARD + ') || exit $?\n'
               'p="$t.cocalc-part"\n'
               'if [ "$m" = first ]; then : > "$p" || exit 1; fi\n'
               + _DECODE + ' >> "$p" || exit 1\n'
               'if [ -n "$d" ]; then\n'
               '  s=$(sha256sum < "$p") || exit 1; s=${s%% *}\n'
               '  if [ "$s" != "$d" ]; then rm -f -- "$p"; echo "sha256 $s, expected $d" >&2; exit 98; fi\n'
               '  mv -f -- "$p" "$t" || exit 1\n'
               'fi')
# $1 source, $2 chunk index, $3 chunk size: the first call prints size and sha256, then the chunk.
_FETCH_SCRIPT = ('(set -- "$1"\n' + HOME_GUARD + ') || exit $?\n'
                 '[ -f "$1" ] || { echo "not a regular file" >&2; exit 2; }\n'
                 'if [ "$2" = 0 ]; then s=$(sha256sum < "$1") || exit 1; echo "$(wc -c < "$1") ${s%% *}"; fi\n'
                 'dd if="$1" bs="$3" skip="$2" count=1 2>/dev/null | base64 -w0')


class _TooLarge(Exception):
    """The server refused a body as too large (HTTP 413) before running anything."""


def pieces(data):
    """data (bytes) as base64url text in arguments of at most PIECE_CHARS characters."""
    text = to_text(base64.urlsafe_b64encode(data))
    return [text[start:start + PIECE_CHARS] for start in range(0, len(text), PIECE_CHARS)]


class Connection(ConnectionBase):
    """A CoCalc project as a host: commands and files go through project_exec."""

    transport = 'cocalc.cocalc.cocalc'
    has_pipelining = True
    has_tty = False

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._client = None
        self._project_id = None
        self._ready = False
        self._chunk_bytes = CHUNK_BYTES

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
            self._client = make_client(self)
        except (CocalcInputError, ValueError) as err:
            raise AnsibleConnectionFailure('cocalc.cocalc.cocalc: %s' % err) from None
        display.vvv('COCALC CONNECT project %s at %s' % (self._project_id, self._client.api_url), host=self._project_id)
        self._connected = True
        return self

    # ---- the one call ----

    def _body(self, script, args, timeout):
        """project_exec of `sh -c <script wrapped> sh args...`: JSON while it fits the server's JSON limit, else
        a form body (only strings: err_on_exit is left out, the wrapper reports the exit code)."""
        args = ['-c', _WRAPPER % script, 'sh'] + list(args)
        body = dict(project_id=self._project_id, command='sh', args=args, err_on_exit=False, timeout=timeout)
        # A client speaking current CoCalc's API (api_version) sends JSON there, up to 1 MiB: no form body.
        if getattr(self._client, 'generation', None) == 'current' or len(json.dumps(body)) + JSON_ROOM <= JSON_BODY_LIMIT:
            return body, False
        return dict(project_id=self._project_id, command='sh', args=args, timeout=str(timeout)), True

    def _sh(self, what, script, args, timeout):
        """Run a script in the project home: an ExecResult (rc, stdout, stderr). Errors name the project and the call;
        _TooLarge when the server refused the body's size (nothing ran)."""
        body, form = self._body(script, args, timeout)
        request_timeout = timeout + self._client.timeout
        try:
            try:
                # The first call of a task finds out whether the project is up: refused while it starts, the
                # connection reads the project's state until it runs instead of sending the call again and again.
                answer = self._client.call('project_exec', body, form=form, request_timeout=request_timeout,
                                           ready_wait=None if self._ready else 0)
            except ProjectNotReady:
                if self._ready:
                    raise
                display.vvv('COCALC WAIT project %s is starting: reading its state until it runs' % self._project_id,
                            host=self._project_id)
                budget = self._wait_until_started()
                answer = self._client.call('project_exec', body, form=form, request_timeout=request_timeout, ready_wait=budget)
        except CocalcApiError as err:
            if err.http_status == 413:
                raise _TooLarge() from None
            if 'killed command' in (err.message or ''):
                raise AnsibleConnectionFailure('%s in project %s: the command was killed after running for %s seconds (option '
                                               'command_timeout / ansible_cocalc_command_timeout); server said: %s'
                                               % (what, self._project_id, timeout, err.message)) from None
            raise AnsibleConnectionFailure('%s in project %s: %s' % (what, self._project_id, err)) from None
        self._ready = True
        stderr = answer.get('stderr') if isinstance(answer.get('stderr'), str) else ''
        match = _RC_RE.search(stderr)
        if not match:
            raise AnsibleConnectionFailure('%s in project %s: the answer has no exit code (exit_code %r, stderr %r)'
                                           % (what, self._project_id, answer.get('exit_code'), stderr[-500:]))
        stdout = answer.get('stdout') if isinstance(answer.get('stdout'), str) else ''
        return ExecResult(int(match.group(1)), stdout, stderr[:match.start()], False, None)

    def _wait_until_started(self):
        """Read the project's state until it no longer reads 'starting'; returns the seconds left of ready_wait."""
        waiter = _wait.Waiter(self.get_option('ready_wait'), first=READY_WAIT_FIRST, cap=READY_WAIT_CAP)
        while True:
            try:
                row = self._client.query_get('projects_all', {'project_id': self._project_id, 'state': None})
            except CocalcApiError as err:
                raise AnsibleConnectionFailure('Could not read the state of project %s: %s' % (self._project_id, err)) from None
            state = (row or {}).get('state')
            if not (isinstance(state, dict) and state.get('state') == 'starting'):
                return max(waiter.remaining, 0)
            if not waiter.pause():
                raise AnsibleConnectionFailure('project %s did not finish starting within %s seconds (option ready_wait / '
                                               'ansible_cocalc_ready_wait)' % (self._project_id, waiter.budget))

    # ---- commands ----

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        timeout = self.get_option('command_timeout')
        what = 'Could not run a command'
        if in_data is None:
            display.vvv('COCALC EXEC %s' % cmd, host=self._project_id)
            result = self._sh(what, 'bash -c "$1"', [to_text(cmd)], timeout)
        else:
            data = to_bytes(in_data)
            display.vvv('COCALC EXEC %s (%d bytes of input)' % (cmd, len(data)), host=self._project_id)
            result = self._exec_with_input(what, to_text(cmd), data, timeout)
        return result.rc, to_bytes(result.stdout), to_bytes(result.stderr)

    def _exec_with_input(self, what, cmd, data, timeout):
        """Pipelining through a call without standard input: the input in the call's arguments, or, when it is too
        large for one call, uploaded to a file in the home first and read from there."""
        if len(data) <= self._chunk_bytes:
            try:
                return self._sh(what, _PIPE_SCRIPT, [cmd] + pieces(data), timeout)
            except _TooLarge:
                self._chunk_bytes = SMALL_CHUNK_BYTES
        name = '.cocalc-stdin-%s' % uuid.uuid4().hex
        self._put_data(data, name)
        return self._sh(what, _STDIN_FILE_SCRIPT, [cmd, name], timeout)

    # ---- files ----

    def _check(self, result, path, verb):
        if result.rc == OUTSIDE_HOME_RC and (result.stderr or '').startswith('outside-home'):
            raise AnsibleError("cocalc.cocalc.cocalc: '%s' leaves the home of project %s (its real location is %s); "
                               'nothing was transferred' % (path, self._project_id, result.stderr.split('\n', 1)[-1]))
        if result.rc != 0:
            raise AnsibleError("cocalc.cocalc.cocalc: %s '%s' in project %s failed (exit code %d): %s"
                               % (verb, path, self._project_id, result.rc, result.stderr.strip()))

    def _put_data(self, data, out_path):
        """Write data to out_path (relative to the home, or inside it) in checksum-verified chunks."""
        digest = hashlib.sha256(data).hexdigest()
        while True:
            size = self._chunk_bytes
            chunks = [data[start:start + size] for start in range(0, len(data), size)] or [b'']
            try:
                for index, chunk in enumerate(chunks):
                    last = index == len(chunks) - 1
                    args = [out_path, 'first' if index == 0 else 'more', digest if last else ''] + pieces(chunk)
                    result = self._sh("Could not copy to '%s' (part %d of %d)" % (out_path, index + 1, len(chunks)), _PUT_SCRIPT,
                                      args, TRANSFER_TIMEOUT)
                    self._check(result, out_path, 'copying to')
                return
            except _TooLarge:
                if size <= SMALL_CHUNK_BYTES:
                    raise AnsibleConnectionFailure("Could not copy to '%s' in project %s: the server refuses bodies of %d bytes "
                                                   '(HTTP 413)' % (out_path, self._project_id, SMALL_CHUNK_BYTES)) from None
                # The part file restarts with the first chunk.
                self._chunk_bytes = SMALL_CHUNK_BYTES

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv('COCALC PUT %s TO %s' % (in_path, out_path), host=self._project_id)
        if not os.path.isfile(to_bytes(in_path)):
            raise AnsibleFileNotFound('file or module does not exist: %s' % in_path)
        with open(to_bytes(in_path), 'rb') as handle:
            data = handle.read()
        self._put_data(data, out_path)

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv('COCALC FETCH %s TO %s' % (in_path, out_path), host=self._project_id)
        parts = []
        size = digest = None
        index = 0
        # Answers have no body limit, but a chunk per call keeps each answer's memory bounded.
        while size is None or index * CHUNK_BYTES < size:
            result = self._sh("Could not fetch '%s'" % in_path, _FETCH_SCRIPT, [in_path, str(index), str(CHUNK_BYTES)],
                              TRANSFER_TIMEOUT)
            self._check(result, in_path, 'fetching')
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
