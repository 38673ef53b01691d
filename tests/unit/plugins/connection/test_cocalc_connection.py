# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the connection plugin cocalc.cocalc.cocalc with the fake transport: the exact project_exec
calls of commands, pipelined input and file transfers, and what the plugin refuses."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import uuid

import pytest

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import become_loader, connection_loader

from ansible_collections.cocalc.cocalc.plugins.connection import cocalc as plugin
from ansible_collections.cocalc.cocalc.plugins.plugin_utils._client import client_kwargs
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, API_URL, ApiCall, FakeCocalc

PID = '0b0e3c1e-8f43-4c5c-a7e1-3c2b8f7d2a11'
COMMAND_TIMEOUT = 600


@pytest.fixture(autouse=True)
def no_connection_env(monkeypatch):
    for name in ('COCALC_API_URL', 'COCALC_API_KEY', 'COCALC_API_TIMEOUT', 'COCALC_API_VERSION', 'ANSIBLE_PIPELINING'):
        monkeypatch.delenv(name, raising=False)


def connect(**options):
    conn = connection_loader.get('cocalc.cocalc.cocalc', PlayContext(), None)
    direct = dict(api_url=API_URL, api_key=API_KEY, project_id=PID)
    direct.update(options)
    conn.set_options(direct=direct)
    return conn


def answer(stdout='', stderr='', rc=0):
    """What the server answers for a wrapped script: the exit code on stderr's last line, the call's own exit 0."""
    return {'event': 'project_exec_output', 'id': 'x', 'stdout': stdout, 'stderr': stderr + '\ncocalc-rc %d\n' % rc, 'exit_code': 0}


def sh_body(script, args, timeout=COMMAND_TIMEOUT):
    return dict(project_id=PID, command='sh', args=['-c', plugin._WRAPPER % script, 'sh'] + list(args), err_on_exit=False,
                timeout=timeout)


def sh_call(script, args, timeout=COMMAND_TIMEOUT, **reply):
    return ApiCall('project_exec', sh_body(script, args, timeout)).expect_timeout(timeout + 30).reply(answer(**reply))


def form_call(script, args, timeout=COMMAND_TIMEOUT):
    """A body over the JSON limit: a form body, only strings, no err_on_exit."""
    body = dict(project_id=PID, command='sh', args=['-c', plugin._WRAPPER % script, 'sh'] + list(args), timeout=str(timeout))
    return ApiCall('project_exec', body).expect_form().expect_timeout(timeout + 30)


def fixed_uuid():
    return uuid.UUID(int=0xf00d)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode('ascii')


def put_call(target, mode, data, digest='', **reply):
    return sh_call(plugin._PUT_SCRIPT, [target, mode, digest] + plugin.pieces(data), timeout=plugin.TRANSFER_TIMEOUT, **reply)


def fetch_call(source, index, stdout, **reply):
    return sh_call(plugin._FETCH_SCRIPT, [source, str(index), str(plugin.CHUNK_BYTES)], timeout=plugin.TRANSFER_TIMEOUT,
                   stdout=stdout, **reply)


# ---- commands ----

def test_exec_command_passes_rc_stdout_and_stderr_unchanged(monkeypatch):
    fake = FakeCocalc(monkeypatch, [sh_call('bash -c "$1"', ['echo hi; echo oops >&2; exit 3'], stdout='hi\n', stderr='oops\n', rc=3)])
    conn = connect()
    assert conn.exec_command('echo hi; echo oops >&2; exit 3') == (3, b'hi\n', b'oops\n')
    fake.assert_done()


def test_exec_command_keeps_stderr_without_a_final_newline_and_empty_output(monkeypatch):
    fake = FakeCocalc(monkeypatch, [sh_call('bash -c "$1"', ['printf x >&2'], stderr='x'), sh_call('bash -c "$1"', ['true'])])
    conn = connect()
    assert conn.exec_command('printf x >&2') == (0, b'', b'x')
    assert conn.exec_command('true') == (0, b'', b'')
    fake.assert_done()


def test_command_timeout_is_sent_and_a_killed_command_names_the_option(monkeypatch):
    killed = ApiCall('project_exec', sh_body('bash -c "$1"', ['sleep 60'], timeout=5)).expect_timeout(35).error(
        "Error executing command 'sh' with args '...' -- killed command 'sh -c ...'")
    fake = FakeCocalc(monkeypatch, [killed])
    conn = connect(command_timeout=5)
    with pytest.raises(AnsibleConnectionFailure) as info:
        conn.exec_command('sleep 60')
    message = str(info.value)
    assert 'killed after running for 5 seconds' in message and 'command_timeout' in message and PID in message
    fake.assert_done()


def test_an_answer_without_the_exit_code_line_is_an_error_not_rc_0(monkeypatch):
    reply = {'event': 'project_exec_output', 'stdout': 'x', 'stderr': 'cut short', 'exit_code': 0}
    fake = FakeCocalc(monkeypatch, [ApiCall('project_exec', sh_body('bash -c "$1"', ['true'])).expect_timeout(630).reply(reply)])
    with pytest.raises(AnsibleConnectionFailure, match='the answer has no exit code'):
        connect().exec_command('true')
    fake.assert_done()


def test_a_failed_call_names_the_project_and_the_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [ApiCall('project_exec', sh_body('bash -c "$1"', ['true'])).expect_timeout(630).error(
        'user must have write access to project')])
    with pytest.raises(AnsibleConnectionFailure) as info:
        connect().exec_command('true')
    assert "Could not run a command in project %s: API call 'project_exec' failed" % PID in str(info.value)
    assert 'write access' in str(info.value)
    fake.assert_done()


# ---- pipelining: input without standard input ----

def test_pipelined_input_travels_in_the_same_call(monkeypatch):
    module = b'#!/usr/bin/python\nprint("\xc3\xbc")\n' + bytes([251, 255, 254])
    fake = FakeCocalc(monkeypatch, [sh_call(plugin._PIPE_SCRIPT, ['/usr/bin/python3', b64url(module)], stdout='{"ok": 1}\n')])
    conn = connect()
    assert conn.has_pipelining and conn.get_option('pipelining') is True
    assert conn.exec_command('/usr/bin/python3', in_data=module) == (0, b'{"ok": 1}\n', b'')
    fake.assert_done()


def test_pipelined_input_over_the_json_limit_goes_as_one_form_body(monkeypatch):
    module = bytes(range(256)) * 800   # 200 kB: over the 100 kB JSON limit, under one call's CHUNK_BYTES
    text = b64url(module)
    assert '+' not in text and '/' not in text   # base64url: form encoding leaves it as it is
    parts = [text[i:i + plugin.PIECE_CHARS] for i in range(0, len(text), plugin.PIECE_CHARS)]
    assert len(parts) == 3
    fake = FakeCocalc(monkeypatch, [form_call(plugin._PIPE_SCRIPT, ['python3'] + parts).reply(answer(stdout='done', rc=1))])
    assert connect().exec_command('python3', in_data=module) == (1, b'done', b'')
    fake.assert_done()


def test_a_client_on_the_current_api_gets_json_bodies_of_any_size(monkeypatch):
    """Current CoCalc takes 1 MiB of JSON and no form bodies: with a client on that generation the large input stays JSON."""
    module = bytes(range(256)) * 800
    opts = sh_body(plugin._PIPE_SCRIPT, ['python3'] + plugin.pieces(module))
    del opts['project_id']
    # The current backend sends project_exec as the project bridge's system.exec (one JSON body).
    fake = FakeCocalc(monkeypatch, [
        ApiCall('system.exec', dict(project_id=PID, name='system.exec', args=[opts], timeout=(COMMAND_TIMEOUT + 29) * 1000))
        .expect_url(API_URL + '/api/conat/project').expect_timeout(COMMAND_TIMEOUT + 30).reply(answer(stdout='done'))])
    conn = connect(api_version='current')
    conn._connect()  # pylint: disable=protected-access
    assert conn.exec_command('python3', in_data=module) == (0, b'done', b'')
    fake.assert_done()


def test_input_too_large_for_one_call_is_uploaded_then_read_from_a_file(monkeypatch):
    monkeypatch.setattr(plugin.uuid, 'uuid4', fixed_uuid)
    module = b'x' * (plugin.CHUNK_BYTES + 10)
    name = '.cocalc-stdin-%032x' % 0xf00d
    digest = hashlib.sha256(module).hexdigest()
    first = plugin.pieces(module[:plugin.CHUNK_BYTES])
    fake = FakeCocalc(monkeypatch, [
        form_call(plugin._PUT_SCRIPT, [name, 'first', ''] + first, timeout=plugin.TRANSFER_TIMEOUT).reply(answer()),
        put_call(name, 'more', module[plugin.CHUNK_BYTES:], digest),
        sh_call(plugin._STDIN_FILE_SCRIPT, ['python3', name], stdout='ran'),
    ])
    assert connect().exec_command('python3', in_data=module) == (0, b'ran', b'')
    fake.assert_done()


def test_a_server_refusing_the_large_body_gets_small_chunks(monkeypatch):
    """HTTP 413 comes from the body parser, before anything runs: the same input is sent again in small chunks."""
    monkeypatch.setattr(plugin.uuid, 'uuid4', fixed_uuid)
    module = bytes(range(256)) * 400   # 100 kB
    name = '.cocalc-stdin-%032x' % 0xf00d
    small = plugin.SMALL_CHUNK_BYTES
    digest = hashlib.sha256(module).hexdigest()
    fake = FakeCocalc(monkeypatch, [
        form_call(plugin._PIPE_SCRIPT, ['python3'] + plugin.pieces(module)).raw('<h1>Payload Too Large</h1>', 413),
        put_call(name, 'first', module[:small]),
        put_call(name, 'more', module[small:2 * small]),
        put_call(name, 'more', module[2 * small:], digest),
        sh_call(plugin._STDIN_FILE_SCRIPT, ['python3', name], stdout='ran'),
    ])
    assert connect().exec_command('python3', in_data=module) == (0, b'ran', b'')
    fake.assert_done()


# ---- files ----

def test_put_text_file_in_one_checksum_verified_call(monkeypatch, tmp_path):
    source = tmp_path / 'course.ini'
    source.write_bytes('[course]\nname = Älgebra\n'.encode('utf-8'))
    data = source.read_bytes()
    fake = FakeCocalc(monkeypatch, [put_call('config/course.ini', 'first', data, hashlib.sha256(data).hexdigest())])
    connect().put_file(str(source), 'config/course.ini')
    fake.assert_done()


def test_put_binary_file_in_chunks_the_last_one_carrying_the_checksum(monkeypatch, tmp_path):
    data = bytes(range(256)) * (plugin.CHUNK_BYTES // 256 * 2 + 3)
    source = tmp_path / 'blob.bin'
    source.write_bytes(data)
    size = plugin.CHUNK_BYTES
    fake = FakeCocalc(monkeypatch, [
        form_call(plugin._PUT_SCRIPT, ['blob.bin', 'first', ''] + plugin.pieces(data[:size]), timeout=plugin.TRANSFER_TIMEOUT).reply(answer()),
        form_call(plugin._PUT_SCRIPT, ['blob.bin', 'more', ''] + plugin.pieces(data[size:2 * size]),
                  timeout=plugin.TRANSFER_TIMEOUT).reply(answer()),
        put_call('blob.bin', 'more', data[2 * size:], hashlib.sha256(data).hexdigest()),
    ])
    connect().put_file(str(source), 'blob.bin')
    fake.assert_done()


def test_put_empty_file(monkeypatch, tmp_path):
    source = tmp_path / 'empty'
    source.write_bytes(b'')
    fake = FakeCocalc(monkeypatch, [put_call('empty', 'first', b'', hashlib.sha256(b'').hexdigest())])
    connect().put_file(str(source), 'empty')
    fake.assert_done()
    assert plugin.pieces(b'') == []


def test_put_checksum_mismatch_fails(monkeypatch, tmp_path):
    source = tmp_path / 'a'
    source.write_bytes(b'abc')
    digest = hashlib.sha256(b'abc').hexdigest()
    fake = FakeCocalc(monkeypatch, [put_call('a', 'first', b'abc', digest, stderr='sha256 123, expected %s\n' % digest, rc=98)])
    with pytest.raises(AnsibleError, match="copying to 'a' in project %s failed \\(exit code 98\\): sha256 123" % PID):
        connect().put_file(str(source), 'a')
    fake.assert_done()


def test_fetch_binary_file_in_chunks_and_verify_it(monkeypatch, tmp_path):
    data = bytes(range(256)) * (plugin.CHUNK_BYTES // 256 + 1)
    size = plugin.CHUNK_BYTES
    digest = hashlib.sha256(data).hexdigest()
    fake = FakeCocalc(monkeypatch, [
        fetch_call('blob.bin', 0, '%d %s\n%s' % (len(data), digest, base64.b64encode(data[:size]).decode())),
        fetch_call('blob.bin', 1, base64.b64encode(data[size:]).decode()),
    ])
    target = tmp_path / 'blob.bin'
    connect().fetch_file('blob.bin', str(target))
    assert target.read_bytes() == data
    fake.assert_done()


def test_fetch_of_a_file_that_changed_meanwhile_fails_and_writes_nothing(monkeypatch, tmp_path):
    fake = FakeCocalc(monkeypatch, [fetch_call('a.txt', 0, '3 %s\n%s' % ('0' * 64, base64.b64encode(b'abc').decode()))])
    target = tmp_path / 'a.txt'
    with pytest.raises(AnsibleError, match='changed while it was fetched'):
        connect().fetch_file('a.txt', str(target))
    assert not target.exists()
    fake.assert_done()


@pytest.mark.parametrize('direction', ['put', 'fetch'])
def test_paths_outside_the_home_are_refused(monkeypatch, tmp_path, direction):
    refused = dict(stderr='outside-home 1\n/etc/hostname', rc=97)
    local = tmp_path / 'local'
    if direction == 'put':
        local.write_bytes(b'x')
        fake = FakeCocalc(monkeypatch, [put_call('/etc/hostname', 'first', b'x', hashlib.sha256(b'x').hexdigest(), **refused)])
    else:
        fake = FakeCocalc(monkeypatch, [fetch_call('/etc/hostname', 0, '', **refused)])
    conn = connect()
    with pytest.raises(AnsibleError) as info:
        if direction == 'put':
            conn.put_file(str(local), '/etc/hostname')
        else:
            conn.fetch_file('/etc/hostname', str(local))
    assert "'/etc/hostname' leaves the home of project %s (its real location is /etc/hostname); nothing was transferred" % PID \
        in str(info.value)
    if direction == 'fetch':
        assert not local.exists()
    fake.assert_done()


def test_put_of_a_missing_local_file_makes_no_call(monkeypatch, tmp_path):
    fake = FakeCocalc(monkeypatch, [])
    with pytest.raises(AnsibleError, match='does not exist'):
        connect().put_file(str(tmp_path / 'nope'), 'x')
    fake.assert_done()


# ---- what the plugin refuses, and the key ----

def test_become_is_refused_with_a_clear_message_before_any_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    conn = connect()
    conn.set_become_plugin(become_loader.get('ansible.builtin.sudo'))
    with pytest.raises(AnsibleError, match='cannot become another user: a CoCalc project has no privilege escalation'):
        conn.exec_command('id')
    fake.assert_done()


@pytest.mark.parametrize('project', ['not-a-uuid', '', None])
def test_a_host_that_names_no_project_is_refused(monkeypatch, project):
    fake = FakeCocalc(monkeypatch, [])
    conn = connect(project_id=project, remote_addr='web1')
    with pytest.raises(AnsibleConnectionFailure, match='cocalc_project_id'):
        conn.exec_command('true')
    fake.assert_done()


def test_key_is_never_in_errors_or_verbose_output(monkeypatch, tmp_path):
    shown = []
    for level in ('v', 'vv', 'vvv', 'vvvv', 'vvvvv', 'display', 'debug', 'warning'):
        monkeypatch.setattr(plugin.display, level, lambda msg, *args, **kwargs: shown.append(msg))
    source = tmp_path / 'f'
    source.write_bytes(b'data')
    # A server that echoes the key back in its error text.
    fake = FakeCocalc(monkeypatch, [
        sh_call('bash -c "$1"', ['echo ok'], stdout='ok\n'),
        put_call('f', 'first', b'data', hashlib.sha256(b'data').hexdigest()),
        ApiCall('project_exec', sh_body('bash -c "$1"', ['true'])).expect_timeout(630).error('bad key %s' % API_KEY),
    ])
    conn = connect()
    conn.exec_command('echo ok')
    conn.put_file(str(source), 'f')
    with pytest.raises(AnsibleConnectionFailure) as info:
        conn.exec_command('true')
    assert API_KEY not in str(info.value) and '<redacted>' in str(info.value)
    assert shown and not any(API_KEY in str(text) for text in shown)
    assert any('COCALC EXEC echo ok' in str(text) for text in shown)
    fake.assert_done()


# ---- a project that is starting ----

def starting(error='Error: unable to determine project port'):
    return ApiCall('project_exec', sh_body('bash -c "$1"', ['true'])).expect_timeout(630).error(error)


def state_read(state):
    return ApiCall('query', {'query': {'projects_all': {'project_id': PID, 'state': None}}}).reply(
        {'event': 'query', 'query': {'projects_all': {'project_id': PID, 'state': {'state': state}}}})


def test_a_starting_project_is_polled_by_its_state_not_by_resending_the_command(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        starting(), state_read('starting'), state_read('starting'), state_read('running'),
        sh_call('bash -c "$1"', ['true']),
        # Later calls of the same task: a refusal is retried by the client itself (the project was up).
        starting('Error: unable to determine host'), sh_call('bash -c "$1"', ['true']),
    ])
    shown = []
    monkeypatch.setattr(plugin.display, 'vvv', lambda msg, *args, **kwargs: shown.append(msg))
    conn = connect()
    assert conn.exec_command('true') == (0, b'', b'')
    assert fake.sleeps == [1.0, 2.0]
    assert 'COCALC WAIT project %s is starting: reading its state until it runs' % PID in shown
    assert conn.exec_command('true') == (0, b'', b'')
    assert fake.sleeps == [1.0, 2.0, 1.0]
    fake.assert_done()


def test_a_project_that_does_not_finish_starting_fails_naming_ready_wait(monkeypatch):
    fake = FakeCocalc(monkeypatch, [starting(), state_read('starting'), state_read('starting'), state_read('starting')])
    with pytest.raises(AnsibleConnectionFailure) as info:
        connect(ready_wait=3).exec_command('true')
    assert 'project %s did not finish starting within 3 seconds (option ready_wait' % PID in str(info.value)
    assert fake.sleeps == [1.0, 2.0]
    fake.assert_done()


# ---- options ----

def test_plugin_options_become_client_keywords():
    options = dict(validate_certs=False, api_timeout=7, api_retries=1, ready_wait=9, api_version='current')
    assert client_kwargs(options) == dict(validate_certs=False, timeout=7, retries=1, ready_wait=9, api_version='current')
    # Unset options leave the client's own defaults (the inventory has no ready_wait; api_version None: the env or auto).
    assert client_kwargs(dict(validate_certs=True, api_timeout=30, api_retries=3, api_version=None)) == dict(
        validate_certs=True, timeout=30, retries=3)


def test_connection_options_use_the_modules_names_and_variables():
    conn = connect()
    assert [conn.get_option(option) for option in ('api_url', 'validate_certs', 'api_timeout', 'api_retries', 'api_version')] == [
        API_URL, True, 30, 3, None]
    docs = plugin.DOCUMENTATION
    for variable in ('ansible_cocalc_api_url', 'ansible_cocalc_api_key', 'ansible_cocalc_validate_certs', 'ansible_cocalc_api_timeout',
                     'ansible_cocalc_api_retries', 'ansible_cocalc_api_version', 'COCALC_API_URL', 'COCALC_API_KEY',
                     'COCALC_API_TIMEOUT', 'COCALC_API_VERSION'):
        assert 'name: %s\n' % variable in docs


# ---- the scripts themselves, in a real shell (a temporary directory as the project home) ----

def run_script(script, args, home):
    """What project_exec would run: sh -c <wrapped script> sh args..., in the home; (rc from the trailer, stdout, stderr)."""
    done = subprocess.run(['sh', '-c', plugin._WRAPPER % script, 'sh'] + list(args), cwd=str(home), capture_output=True, check=False)
    stderr = done.stderr.decode('utf-8', 'replace')
    match = plugin._RC_RE.search(stderr)
    assert done.returncode == 0 and match, (done.returncode, stderr)
    return int(match.group(1)), done.stdout, stderr[:match.start()]


@pytest.mark.skipif(not all(shutil.which(tool) for tool in ('sh', 'bash', 'base64', 'tr', 'sha256sum', 'realpath', 'dd')),
                    reason='needs a POSIX shell and coreutils')
def test_the_scripts_work_in_a_real_shell(tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    data = bytes(range(256)) * 40 + bytes([251, 255, 254, 62, 63])   # base64url '-' and '_' included
    half = len(data) // 2
    digest = hashlib.sha256(data).hexdigest()
    # put: two chunks, the second with the checksum; the part file is moved into place
    assert run_script(plugin._PUT_SCRIPT, ['sub.bin', 'first', ''] + plugin.pieces(data[:half]), home)[0] == 0
    assert not (home / 'sub.bin').exists()
    assert run_script(plugin._PUT_SCRIPT, ['sub.bin', 'more', digest] + plugin.pieces(data[half:]), home)[0] == 0
    assert (home / 'sub.bin').read_bytes() == data and not (home / 'sub.bin.cocalc-part').exists()
    # a wrong checksum: exit 98, the target is not replaced
    rc, _out, err = run_script(plugin._PUT_SCRIPT, ['sub.bin', 'first', '0' * 64] + plugin.pieces(b'other'), home)
    assert rc == 98 and 'expected ' + '0' * 64 in err and (home / 'sub.bin').read_bytes() == data
    # outside the home: refused before anything is written
    rc, _out, err = run_script(plugin._PUT_SCRIPT, ['../escape', 'first', hashlib.sha256(b'x').hexdigest()] + plugin.pieces(b'x'), home)
    assert rc == plugin.OUTSIDE_HOME_RC and err.startswith('outside-home 1\n') and not (tmp_path / 'escape').exists()
    # fetch: size and checksum on the first line, then the chunk
    rc, out, _err = run_script(plugin._FETCH_SCRIPT, ['sub.bin', '0', '1000'], home)
    head, _sep, body = out.decode('ascii').partition('\n')
    assert rc == 0 and head == '%d %s' % (len(data), digest) and base64.b64decode(body) == data[:1000]
    rc, out, _err = run_script(plugin._FETCH_SCRIPT, ['sub.bin', '1', '1000'], home)
    assert base64.b64decode(out) == data[1000:2000]
    # pipelining: the input reaches the command's standard input; its exit code and both streams come back
    rc, out, err = run_script(plugin._PIPE_SCRIPT, ['sha256sum; echo warn >&2; exit 3'] + plugin.pieces(data), home)
    assert (rc, out.decode().split()[0], err) == (3, digest, 'warn\n')
    # input read from a file that is removed afterwards
    (home / '.cocalc-stdin-x').write_bytes(b'abc')
    rc, out, _err = run_script(plugin._STDIN_FILE_SCRIPT, ['cat; exit 4', '.cocalc-stdin-x'], home)
    assert (rc, out) == (4, b'abc') and not (home / '.cocalc-stdin-x').exists()
