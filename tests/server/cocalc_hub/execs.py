"""project_exec: a real process in the project's home, with the hub's rules and error texts.

- args given: the program runs directly with those args, never through a shell;
- `bash` (or no args and whitespace in the command): the command goes to a temporary script run
  by bash under a CPU ulimit; with args, the command and args are shell-quoted words;
- `timeout` kills the whole process group; `max_output` truncates each stream.
"""

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile

from . import confine, files, projects
from .errors import HandlerError, NoAnswer
from .util import js_string, shell_escape, truthy


def _number(value, default):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _truncate(text, limit):
    if limit is not None and len(text) >= limit:
        return text[:limit] + ' (truncated at %d characters)' % limit
    return text


def run(hub, project_id, mesg):
    command = js_string(mesg['command'])
    raw_args = mesg['args'] if isinstance(mesg['args'], list) else [mesg['args']]
    args = [js_string(arg) for arg in raw_args]
    timeout = mesg['timeout']
    prefix = "Error executing command '%s' with args '%s' -- " % (command, js_string(raw_args))

    _refuse_unrunnable(command, timeout)
    cwd_path = js_string(mesg['path'])
    try:
        cwd = files.resolve(hub, project_id, cwd_path)[1]
    except HandlerError:
        raise HandlerError(prefix + "path '%s' is outside the project home directory" % cwd_path) from None
    timeout = _number(timeout, 10)
    max_output = mesg.get('max_output')
    max_output = None if max_output is None else int(_number(max_output, 0))
    bash = truthy(mesg['bash']) or (not args and any(char.isspace() for char in command))

    argv, script, description = _command_line(command, args, bash, timeout)
    script_dir = os.path.dirname(script) if script else None
    env = _environment(hub, project_id, cwd)
    if isinstance(mesg.get('env'), dict):   # era 2026's exec takes extra variables (v1 validation refuses `env`)
        env.update({js_string(name): js_string(value) for name, value in mesg['env'].items()})
    confine.prepare_home(hub, project_id)
    # [read end, write end] of the sandbox's status pipe; an end is set to None once closed (closing an
    # fd number twice could close another thread's file).
    status_pipe = list(os.pipe()) if confine.project_ids(hub, project_id) is not None else [None, None]
    sandboxed = confine.sandbox_argv(hub, project_id, argv, cwd, script=script, status_fd=status_pipe[1])
    try:
        return _spawn(hub, project_id, mesg, argv, sandboxed, cwd, env, timeout, max_output, prefix, description, status_pipe)
    finally:
        for fd in status_pipe:
            if fd is not None:
                os.close(fd)
        if script_dir:
            shutil.rmtree(script_dir, ignore_errors=True)


def _refuse_unrunnable(command, timeout):
    if command == 'ipython-notebook' or (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout == 0):
        raise NoAnswer()   # the real hub drops these requests
    if command == 'smc-jupyter':
        raise HandlerError('do not run smc-jupyter directly')


def _command_line(command, args, bash, timeout):
    """(argv, script or None, description for error texts): bash mode runs a script (in a new private
    directory, under the CPU time limit) holding the shell-escaped words, as the hub does."""
    if not bash:
        return [command] + args, None, "'%s' (args=%s)" % (command, ' '.join(args))
    shown = ' '.join(shell_escape(word) for word in [command] + args) if args else command
    script = os.path.join(tempfile.mkdtemp(prefix='cocalc-'), 'a.sh')
    with open(script, 'w', encoding='utf-8') as handle:
        handle.write('ulimit -t %d\n%s\n' % (max(1, math.ceil(timeout)), shown))
    os.chmod(script, 0o644)   # read by the project's uid when confined (its directory stays private)
    return ['bash', script], script, shown


def _environment(hub, project_id, cwd):
    """A project's environment, not the server's: nothing of the caller's environment (keys!) leaks in."""
    home = projects.home(hub, project_id)
    env = {'HOME': home, 'PWD': cwd, 'SHELL': '/bin/bash', 'COCALC_PROJECT_ID': project_id,
           'PATH': os.environ.get('PATH') or os.defpath, 'LANG': os.environ.get('LANG') or 'C.UTF-8'}
    for name in ('USER', 'LOGNAME', 'TMPDIR', 'TZ', 'LC_ALL'):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if confine.project_ids(hub, project_id) is not None:
        # Inside the sandbox: the project's own user (named like CoCalc's) and its private /tmp.
        env.update(USER=project_id.replace('-', ''), LOGNAME=project_id.replace('-', ''), TMPDIR='/tmp')
    return env


def _spawn(hub, project_id, mesg, argv, sandboxed, cwd, env, timeout, max_output, prefix, description, status_pipe):
    err_on_exit = truthy(mesg['err_on_exit'])
    confined = sandboxed is not argv
    status_read, status_write = status_pipe
    try:
        if confined:
            # The sandbox reports a program it cannot run the way execvp does (exit 127 or 126, and a
            # message); find it first so the answer keeps the hub's spawn error.
            _check_program(argv[0], cwd, env)
        process = subprocess.Popen(sandboxed, cwd='/' if confined else cwd, env=env, stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                   pass_fds=(status_write,) if status_write is not None else ())
    except OSError as error:
        code = 'EACCES' if error.errno == 13 else 'ENOENT'
        detail = json.dumps({'errno': -(error.errno or 2), 'code': code, 'syscall': 'spawn ' + argv[0], 'path': argv[0],
                             'spawnargs': argv[1:]}, separators=(',', ':'), ensure_ascii=False)
        how = 'exited with nonzero code 1' if err_on_exit else 'was not able to run'
        raise HandlerError(prefix + "command '%s' %s -- stderr='%s'" % (description, how, detail)) from None
    with hub.lock:
        hub.processes.setdefault(project_id, set()).add(process)
    try:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            # Texts that end with the output end with the (lost) stdout and stderr: ", , ".
            suffix = ', , ' if hub.profile.exec_errors_show_output else ''
            raise HandlerError(prefix + "killed command '%s'%s" % (' '.join(argv), suffix)) from None
    finally:
        with hub.lock:
            hub.processes.get(project_id, set()).discard(process)
    stdout = _truncate(stdout.decode('utf-8', 'replace'), max_output)
    stderr = _truncate(stderr.decode('utf-8', 'replace'), max_output)
    # A process killed by a signal has no exit code; the hub reports 0 and success.
    exit_code = process.returncode if process.returncode > 0 else 0
    if status_write is not None:
        os.close(status_write)   # the child's copy is gone with it; now the read sees the end
        status_pipe[1] = None
        with os.fdopen(os.dup(status_read), 'rb') as status:
            if status.read() == b'signal':
                exit_code = 0
    if exit_code and err_on_exit:
        detail = "command '%s' exited with nonzero code %d -- stderr='%s'" % (description, exit_code, stderr[:1024])
        if hub.profile.exec_errors_show_output:
            detail += ', %s, %s' % (stdout, stderr)
        raise HandlerError(prefix + detail)
    response = {'event': 'project_exec_output', 'id': mesg['id'], 'stdout': stdout, 'stderr': stderr, 'exit_code': exit_code}
    if hub.profile.exec_reports_type:
        response['type'] = 'blocking'
    return response


def _check_program(program, cwd, env):
    """Raise the OSError that spawning `program` in cwd would raise (no cwd, not found, not executable)."""
    if not os.path.isdir(cwd):
        raise FileNotFoundError(2, 'No such file or directory', cwd)
    if '/' in program:
        path = program if program.startswith('/') else os.path.join(cwd, program)
        if not os.path.exists(path):
            raise FileNotFoundError(2, 'No such file or directory', program)
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise PermissionError(13, 'Permission denied', program)
    elif shutil.which(program, path=env.get('PATH')) is None:
        raise FileNotFoundError(2, 'No such file or directory', program)


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        # Something left the group and holds the pipes open: stop waiting for it.
        process.kill()
        for stream in (process.stdout, process.stderr):
            stream.close()
        process.wait()
