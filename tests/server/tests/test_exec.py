"""project_exec: real processes in the project home (reference section 4, FLOWS.md "project_exec").

Error texts are the real hub's (real-hub/flows-2024.jsonl, flow "exec"); the temporary script of bash
mode lives wherever the server puts it, so only its shape is checked.
"""

import re
import time

import pytest

ENOENT_SPAWN = '{"errno":-2,"code":"ENOENT","syscall":"spawn %s","path":"%s","spawnargs":[%s]}'


def exec_call(account, project, command, **options):
    return account.api.call('project_exec', project_id=project, command=command, **options)


def test_output_fields(server, alice, project):
    answer = exec_call(alice, project, 'echo', args=['xyz', 'abc'], id='e-1')
    expected = {'event': 'project_exec_output', 'id': 'e-1', 'stdout': 'xyz abc\n', 'stderr': '', 'exit_code': 0}
    if server.era == '2024':
        expected['type'] = 'blocking'
    assert answer == expected


def test_home_and_working_directory(server, alice, project):
    home = str(server.home(project))
    assert exec_call(alice, project, 'echo $HOME; pwd')['stdout'] == '%s\n%s\n' % (home, home)
    alice.write(project, 'sub/x.txt', 'x')
    assert exec_call(alice, project, 'pwd', path='sub')['stdout'] == '%s/sub\n' % home
    assert exec_call(alice, project, 'ls', path='sub')['stdout'] == 'x.txt\n'


def test_missing_working_directory(server_2024):
    alice = server_2024.new_account('exec')
    project = alice.new_project()
    assert exec_call(alice, project, 'pwd', path='subdir-that-does-not-exist')['error'] == \
        "Error executing command 'pwd' with args '' -- command ''pwd' (args=)' exited with nonzero code 1 -- stderr='%s'" % (
            ENOENT_SPAWN % ('pwd', 'pwd', ''))


def test_2024_nonzero_exit(server_2024):
    alice = server_2024.new_account('exec')
    project = alice.new_project()
    answer = exec_call(alice, project, 'sh', args=['-c', 'echo out; echo err 1>&2; exit 3'])
    assert answer['event'] == 'error'
    assert answer['error'] == "Error executing command 'sh' with args '-c,echo out; echo err 1>&2; exit 3' -- " \
                              "command ''sh' (args=-c echo out; echo err 1>&2; exit 3)' exited with nonzero code 3 -- stderr='err\n'"
    answer = exec_call(alice, project, 'sh', args=['-c', 'echo out; echo err 1>&2; exit 3'], err_on_exit=False)
    assert (answer['event'], answer['stdout'], answer['stderr'], answer['exit_code']) == ('project_exec_output', 'out\n', 'err\n', 3)
    assert exec_call(alice, project, 'test', args=['-e', 'nope.txt'])['error'] == \
        "Error executing command 'test' with args '-e,nope.txt' -- command ''test' (args=-e nope.txt)' exited with nonzero code 1 -- stderr=''"
    assert exec_call(alice, project, 'test -e nope.txt')['error'] == \
        "Error executing command 'test -e nope.txt' with args '' -- command 'test -e nope.txt' exited with nonzero code 1 -- stderr=''"
    assert exec_call(alice, project, 'echo out; echo err >&2; exit 2', bash=True)['error'] == \
        "Error executing command 'echo out; echo err >&2; exit 2' with args '' -- command 'echo out; echo err >&2; exit 2' " \
        "exited with nonzero code 2 -- stderr='err\n'"
    assert exec_call(alice, project, 'sh', args=['-c', 'exit 300'], err_on_exit=False)['exit_code'] == 44


def test_2024_commands_that_cannot_run(server_2024):
    alice = server_2024.new_account('exec')
    project = alice.new_project()
    spawn = ENOENT_SPAWN % ('no-such-command-xyz', 'no-such-command-xyz', '')
    assert exec_call(alice, project, 'no-such-command-xyz', err_on_exit=False)['error'] == \
        "Error executing command 'no-such-command-xyz' with args '' -- command ''no-such-command-xyz' (args=)' was not able to run -- stderr='%s'" % spawn
    assert exec_call(alice, project, 'no-such-command-xyz')['error'] == \
        "Error executing command 'no-such-command-xyz' with args '' -- command ''no-such-command-xyz' (args=)' " \
        "exited with nonzero code 1 -- stderr='%s'" % spawn
    assert exec_call(alice, project, 'echo hi', args=['x'])['error'] == \
        "Error executing command 'echo hi' with args 'x' -- command ''echo hi' (args=x)' exited with nonzero code 1 -- stderr='%s'" % (
            ENOENT_SPAWN % ('echo hi', 'echo hi', '"x"'))


def test_killed_by_a_signal_is_exit_code_0(alice, project):
    for options in ({'command': 'sh', 'args': ['-c', 'kill -9 $$']}, {'command': 'sh', 'args': ['-c', 'kill -TERM $$'], 'err_on_exit': False},
                    {'command': 'kill -9 $$', 'bash': True, 'err_on_exit': False}):
        answer = alice.api.call('project_exec', project_id=project, **options)
        assert answer['event'] == 'project_exec_output' and answer['exit_code'] == 0, (options, answer)


def test_bash_and_args(server, alice, project):
    home = str(server.home(project))
    assert exec_call(alice, project, 'echo', args=['$HOME', '*'], bash=False)['stdout'] == '$HOME *\n'
    assert exec_call(alice, project, 'echo $((1+2)) $HOME')['stdout'] == '3 %s\n' % home
    assert exec_call(alice, project, 'printf', args=['[%s]', 'a b', '$HOME', "c'd", '*'], bash=True)['stdout'] == "[a b][$HOME][c'd][*]"
    assert exec_call(alice, project, 'echo', args=['a b', 'c'], bash=True)['stdout'] == 'a b c\n'
    assert exec_call(alice, project, 'true', bash=True, args=[])['exit_code'] == 0
    assert exec_call(alice, project, 'echo $HOME && ls -a | head -2', bash=True)['stdout'] == '%s\n.\n..\n' % home


def test_bash_with_args_quotes_the_command_as_one_word(server_2024):
    alice = server_2024.new_account('exec')
    project = alice.new_project()
    error = exec_call(alice, project, "printf '[%s]' ", args=['a b'], bash=True)['error']
    assert error.startswith("Error executing command 'printf '[%s]' ' with args 'a b' -- command ''printf '\\''[%s]'\\'' ' 'a b'' "
                            "exited with nonzero code 127 -- stderr='"), error
    assert error.endswith("printf '[%s]' : command not found\n'"), error


def test_max_output_truncation(alice, project):
    assert exec_call(alice, project, 'seq 1 1000', max_output=50)['stdout'] == \
        ''.join('%d\n' % i for i in range(1, 21))[:50] + ' (truncated at 50 characters)'
    answer = exec_call(alice, project, 'seq 1 1000 >&2', max_output=50, err_on_exit=False)
    assert answer['stdout'] == '' and answer['stderr'] == '1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20 (truncated at 50 characters)'
    assert exec_call(alice, project, 'printf abc', max_output=3)['stdout'] == 'abc (truncated at 3 characters)'
    assert exec_call(alice, project, 'echo', args=['xyz', 'abc'], max_output=3)['stdout'] == 'xyz (truncated at 3 characters)'
    assert exec_call(alice, project, 'printf ab', max_output=3)['stdout'] == 'ab'


def test_timeout_error_texts(server, alice, project):
    started = time.monotonic()
    answer = exec_call(alice, project, 'sleep', args=['5'], timeout=1)
    assert time.monotonic() - started < 4
    assert answer['event'] == 'error'
    if server.era == '2024':
        assert answer['error'] == "Error executing command 'sleep' with args '5' -- killed command 'sleep 5'"
    assert exec_call(alice, project, 'sleep', args=['5'], timeout=1, err_on_exit=False)['event'] == 'error'
    error = exec_call(alice, project, 'echo before; sleep 5', timeout=1, bash=True, err_on_exit=False)['error']
    assert re.fullmatch(r"Error executing command 'echo before; sleep 5' with args '' -- killed command 'bash \S+'.*", error), error


def test_timeout_kills_the_whole_process_group(alice, project):
    # Judged by what the background child does, not by its pid: a confined project has its own pid namespace.
    answer = exec_call(alice, project, '(sleep 2; echo survived > late.txt) & echo started > early.txt; sleep 300',
                       bash=True, timeout=1)
    assert answer['event'] == 'error' and 'killed command' in answer['error'], answer
    assert alice.read(project, 'early.txt') == 'started\n'
    time.sleep(2.5)
    assert 'ENOENT' in alice.api.error('read_text_file_from_project', project_id=project, path='late.txt'), \
        'the background child survived the timeout'


def test_exec_access_and_parameters(server_2024):
    alice, bob = server_2024.new_account('alice'), server_2024.new_account('bob')
    project = alice.new_project()
    assert exec_call(bob, project, 'echo hi')['error'] == 'User %s does not have write access to project %s' % (bob.account_id, project)
    nowhere = '00000000-0000-4000-8000-000000000000'
    assert exec_call(alice, nowhere, 'echo hi')['error'] == 'User %s does not have write access to project %s' % (alice.account_id, nowhere)
    assert exec_call(alice, 'not-a-uuid', 'echo hi')['error'] == 'Write access denied -- invalid project_id -- not-a-uuid'
    assert alice.api.http400('project_exec', {'project_id': project, 'command': 'echo', 'async_call': True}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'async_call' '"
    assert alice.api.http400('project_exec', {'project_id': project}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: property 'command' must be specified: '"
    assert exec_call(alice, project, 'echo hi', aggregate=1)['stdout'] == 'hi\n'
    assert exec_call(alice, project, 'smc-jupyter')['error'] == 'do not run smc-jupyter directly'


def test_exec_starts_a_stopped_project(alice):
    project = alice.new_project(start=False)
    alice.api.query({'projects': {'project_id': project, 'action_request': {'action': 'stop', 'time': '{now}'}}})
    assert alice.project(project, 'state')['state']['state'] == 'opened'
    assert exec_call(alice, project, 'echo', args=['hi after stop'])['stdout'] == 'hi after stop\n'
    assert alice.project(project, 'state')['state']['state'] == 'running'


@pytest.mark.parametrize('timeout', [30, 2.5])
def test_explicit_timeouts(alice, project, timeout):
    assert exec_call(alice, project, 'cat', args=['/dev/null'], timeout=timeout)['exit_code'] == 0


def test_processes_get_a_project_environment(server, alice, project):
    env = dict(line.split('=', 1) for line in exec_call(alice, project, 'env')['stdout'].splitlines() if '=' in line)
    assert env['HOME'] == str(server.home(project))
    text = '\n'.join('%s=%s' % item for item in env.items())
    for secret in (server.api_key, alice.api_key):
        assert secret not in text
    assert not [name for name in env if name.startswith('COCALC_LOCAL')], 'server settings leak into project processes'
