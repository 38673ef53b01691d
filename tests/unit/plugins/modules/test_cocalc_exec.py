# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_exec with the fake transport: exact project_exec calls and command semantics."""

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_exec
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, ApiCall, run_module_failed, run_module_success

PID = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
USER = '5134e292-3608-4e27-b5d1-645b92dc67fd'


def run(body, stdout='', stderr='', exit_code=0, seconds=60):
    full = dict(project_id=PID, err_on_exit=False, timeout=seconds)
    full.update(body)
    return ApiCall('project_exec', full).expect_timeout(seconds + 30).reply(
        {'event': 'project_exec_output', 'id': 'x', 'stdout': stdout, 'stderr': stderr, 'exit_code': exit_code, 'type': 'blocking'})


def exists(path, present, chdir=None):
    body = dict(project_id=PID, err_on_exit=False, command='test', args=['-e', path])
    if chdir:
        body['path'] = chdir
    return ApiCall('project_exec', body).expect_timeout(40).reply(
        {'event': 'project_exec_output', 'stdout': '', 'stderr': '', 'exit_code': 0 if present else 1})


def args(**extra):
    base = {'project_id': PID, 'command': 'echo hello'}
    base.update(extra)
    return base


def test_runs_split_command_without_a_shell(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(command='echo "a b" $HOME'),
                                [run({'command': 'echo', 'args': ['a b', '$HOME']}, stdout='a b $HOME\n')])
    assert result['changed'] is True
    assert result['rc'] == 0
    assert result['cmd'] == ['echo', 'a b', '$HOME']
    assert result['stdout'] == 'a b $HOME\n' and result['stdout_lines'] == ['a b $HOME']
    assert result['stderr'] == '' and result['stderr_lines'] == []
    assert result['truncated'] is False
    assert result['delta'].startswith('0:00:')
    assert result['msg'] == ''


def test_args_are_appended_verbatim(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(command='touch', args=['week 1.md', "it's"]),
                                [run({'command': 'touch', 'args': ['week 1.md', "it's"]})])
    assert result['cmd'] == ['touch', 'week 1.md', "it's"]


def test_single_program_sends_no_args(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(command='pwd', chdir='sub/./dir/'), [run({'command': 'pwd', 'path': 'sub/dir'})])
    assert result['cmd'] == ['pwd']


def test_bash_script(monkeypatch):
    script = 'set -e\necho $((1+2)) | tee out.txt\n'
    result = run_module_success(monkeypatch, cocalc_exec, args(command=script, bash=True, timeout=5, max_output=100),
                                [run({'command': script, 'bash': True, 'max_output': 100}, stdout='3\n', seconds=5)])
    assert result['cmd'] == script and result['stdout'] == '3\n'


def test_non_zero_exit_fails_with_output(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_exec, args(command='sh -c "echo out; echo err >&2; exit 3"'), [
        run({'command': 'sh', 'args': ['-c', 'echo out; echo err >&2; exit 3']}, stdout='out\n', stderr='err\n', exit_code=3)])
    assert result['msg'] == 'non-zero return code'
    assert result['rc'] == 3 and result['stdout'] == 'out\n' and result['stderr_lines'] == ['err']
    assert result['changed'] is True
    assert result['cmd'] == ['sh', '-c', 'echo out; echo err >&2; exit 3']


def test_truncated_output_is_flagged_and_note_removed(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(command='seq 1 1000', max_output=10), [
        run({'command': 'seq', 'args': ['1', '1000'], 'max_output': 10}, stdout='1\n2\n3\n4\n5\n (truncated at 10 characters)')])
    assert result['truncated'] is True
    assert result['stdout'] == '1\n2\n3\n4\n5\n'


def test_note_with_another_limit_is_output(monkeypatch):
    text = 'x (truncated at 3 characters)'
    result = run_module_success(monkeypatch, cocalc_exec, args(command='cat notes', max_output=500),
                                [run({'command': 'cat', 'args': ['notes'], 'max_output': 500}, stdout=text)])
    assert result['truncated'] is False and result['stdout'] == text


def test_timeout_is_a_clear_failure(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_exec, args(command='sleep 50', timeout=2), [
        ApiCall('project_exec', {'project_id': PID, 'command': 'sleep', 'args': ['50'], 'err_on_exit': False, 'timeout': 2})
        .expect_timeout(32).error("Error executing command 'sleep' with args '50' -- killed command 'sleep 50'")])
    assert 'killed after running for timeout=2 seconds (option timeout)' in result['msg']
    assert result['api_error']['endpoint'] == 'project_exec'


def test_no_host_answers_are_retried_within_the_timeout(monkeypatch):
    body = {'project_id': PID, 'command': 'echo', 'args': ['hello'], 'err_on_exit': False, 'timeout': 60}
    result = run_module_success(monkeypatch, cocalc_exec, args(), [
        ApiCall('project_exec', body).expect_timeout(90).error('no host'),
        ApiCall('project_exec', body).expect_timeout(90).error('project not running'),
        run({'command': 'echo', 'args': ['hello']}, stdout='hello\n')])
    assert result['stdout'] == 'hello\n'
    assert result.transport.sleeps == [1.0, 2.0]


def test_no_host_beyond_the_timeout_fails(monkeypatch):
    body = {'project_id': PID, 'command': 'echo', 'args': ['hello'], 'err_on_exit': False, 'timeout': 3}
    result = run_module_failed(monkeypatch, cocalc_exec, args(timeout=3), [
        ApiCall('project_exec', body).expect_timeout(33).error('no host'),
        ApiCall('project_exec', body).expect_timeout(33).error('no host'),
        ApiCall('project_exec', body).expect_timeout(33).error('no host')])
    assert 'did not become ready within 3 seconds: it is still starting, or cannot start) (option timeout)' in result['msg']
    # 1 + 2 seconds waited; 4 more would pass the timeout.
    assert result.transport.sleeps == [1.0, 2.0]


def test_other_errors_are_not_retried(monkeypatch):
    text = 'User %s does not have write access to project %s' % (USER, PID)
    result = run_module_failed(monkeypatch, cocalc_exec, args(), [
        ApiCall('project_exec', {'project_id': PID, 'command': 'echo', 'args': ['hello'], 'err_on_exit': False, 'timeout': 60})
        .expect_timeout(90).error(text)])
    assert result['msg'] == "Could not run ['echo', 'hello'] in project %s: API call 'project_exec' failed (HTTP 200, event 'error'): %s" % (PID, text)
    assert API_KEY not in result.text


def test_missing_program_is_reported(monkeypatch):
    text = ("Error executing command 'nope' with args '' -- command ''nope' (args=)' was not able to run -- stderr='{\"errno\":-2,"
            "\"code\":\"ENOENT\"}'")
    result = run_module_failed(monkeypatch, cocalc_exec, args(command='nope'), [
        ApiCall('project_exec', {'project_id': PID, 'command': 'nope', 'err_on_exit': False, 'timeout': 60}).expect_timeout(90).error(text)])
    assert 'was not able to run' in result['msg']


# ---- creates / removes and check mode ----

def test_creates_existing_skips(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(creates='done.flag', chdir='work'), [exists('done.flag', True, chdir='work')])
    assert result['changed'] is False
    assert result['msg'] == "Did not run command since 'done.flag' exists"
    assert result['stdout'] == "skipped, since 'done.flag' exists"
    assert result['rc'] == 0


def test_creates_missing_runs(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(creates='done.flag'), [
        exists('done.flag', False), run({'command': 'echo', 'args': ['hello']})])
    assert result['changed'] is True


def test_removes_missing_skips(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(removes='old.txt'), [exists('old.txt', False)])
    assert result['changed'] is False
    assert result['msg'] == "Did not run command since 'old.txt' does not exist"


def test_check_mode_without_creates_runs_nothing(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(), [], check_mode=True)
    assert result['changed'] is False
    assert result['skipped'] is True
    assert result['msg'] == 'Command would have run if not in check mode'
    assert result['cmd'] == ['echo', 'hello']


def test_check_mode_with_creates_predicts_a_run(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(creates='done.flag'), [exists('done.flag', False)], check_mode=True)
    assert result['changed'] is True
    assert 'skipped' not in result


def test_check_mode_with_creates_present_is_unchanged(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(creates='done.flag'), [exists('done.flag', True)], check_mode=True)
    assert result['changed'] is False


# ---- bad input: no call at all ----

@pytest.mark.parametrize('extra, message', [
    ({'project_id': 'x'}, 'project_id must be a UUID'),
    ({'command': '  '}, 'command must be a non-empty string'),
    ({'command': 'echo "unbalanced'}, 'command could not be split'),
    ({'command': '"my program"'}, 'contains whitespace; use bash=true'),
    ({'bash': True, 'args': ['x']}, 'args cannot be combined with bash=true'),
    ({'chdir': '/tmp'}, 'chdir must be relative to the project home'),
    ({'chdir': '../other'}, 'chdir must stay inside the project home'),
    ({'creates': '/etc/x'}, 'creates must be relative to chdir'),
    ({'chdir': 'a', 'removes': '../../x'}, 'removes must stay inside the project home'),
    ({'timeout': 0}, 'timeout must be at least 1'),
    ({'max_output': -1}, 'max_output must be at least 1'),
])
def test_bad_input_makes_no_call(monkeypatch, extra, message):
    result = run_module_failed(monkeypatch, cocalc_exec, args(**extra), [])
    assert message in result['msg']


def test_creates_may_go_up_from_chdir_inside_the_home(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_exec, args(chdir='a/b', creates='../flag'), [exists('../flag', True, chdir='a/b')])
    assert result['changed'] is False
