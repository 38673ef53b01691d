# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running commands inside a project (project_exec): the one place that knows its rules.

Used by the cocalc_exec module and by _files.py (checksums, removals, probes)::

    result = exec_in_project(client, project_id, 'sha256sum', args=['notes.md'])
    result.rc, result.stdout, result.stderr, result.truncated

- The module always sends ``err_on_exit: false``, so a non-zero exit is an answer (rc, stdout,
  stderr), not an error event; the caller decides what it means.
- Arguments are passed as a list and the program is spawned without a shell unless ``bash`` is
  set; a program name with whitespace and no arguments would make the server switch to bash on
  its own, so that is refused.
- A server-side timeout ("killed command") becomes a CommandTimeout naming the option.
- The server starts a stopped project on demand, so the HTTP timeout is the command timeout plus
  api_timeout, and the answers a hub gives while a project is still coming up ("no host", "not
  running") are retried within the command timeout: the command never ran, so repeating is safe.
- ``probe=True`` marks read-only commands (test, stat, sha256sum) that may run in check mode.

Free of AnsibleModule: run_command() is the resource function of cocalc_exec and returns an Outcome.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import shlex
import time

from ansible_collections.cocalc.cocalc.plugins.module_utils import _api
from ansible_collections.cocalc.cocalc.plugins.module_utils._api import CocalcApiError, attempting
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcInputError, Outcome

# The server's own default for project_exec.
SERVER_DEFAULT_TIMEOUT = 10
# Answers of a hub whose project is not reachable yet: the command did not run.
_NOT_READY_RE = re.compile(r"\bno host\b|\bproject (?:is )?not (?:yet )?running\b|\bproject is (?:starting|stopping)\b", re.IGNORECASE)
_KILLED_RE = re.compile(r"-- killed command '")
_TRUNCATED_RE = re.compile(r' \(truncated at (\d+) characters\)$')
# Waits between "not ready" retries: 1, 2, 4, 5, 5, ... seconds, bounded by the command timeout.
_READY_WAIT_FIRST = 1.0
_READY_WAIT_MAX = 5.0


def check_project_path(value, option, allow_home=False):
    """A path relative to the project's home, normalised ('a/./b/' -> 'a/b'); CocalcInputError otherwise.

    Absolute paths and '..' that leave the home are refused before any call: on a single-user hub
    nothing stops them, and the local test server refuses them anyway.
    """
    if not isinstance(value, str) or not value.strip():
        raise CocalcInputError('%s must be a non-empty path relative to the project home, got %r' % (option, value))
    if '\x00' in value:
        raise CocalcInputError('%s must not contain a NUL character' % option)
    if value.startswith('/'):
        raise CocalcInputError('%s must be relative to the project home, not absolute: %r' % (option, value))
    normal = posixpath.normpath(value)
    if normal == '..' or normal.startswith('../'):
        raise CocalcInputError('%s must stay inside the project home, but %r leaves it' % (option, value))
    if normal == '.' and not allow_home:
        raise CocalcInputError('%s must name something inside the project home, not the home itself: %r' % (option, value))
    return normal


class CommandTimeout(CocalcApiError):
    """The server killed the command because it ran longer than its timeout."""


class ExecResult(object):
    """What a command printed and returned. truncated: max_output cut stdout or stderr."""

    def __init__(self, rc, stdout, stderr, truncated, delta):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.truncated = truncated
        self.delta = delta

    def as_dict(self):
        return dict(rc=self.rc, stdout=self.stdout, stderr=self.stderr, truncated=self.truncated)


def _strip_truncation(text, max_output):
    """Remove the server's ' (truncated at N characters)' note; return (text, was_truncated).

    The server appends the note whenever the output reaches max_output, even when nothing was cut.
    """
    if max_output is None or not isinstance(text, str):
        return text if isinstance(text, str) else '', False
    match = _TRUNCATED_RE.search(text)
    if match and int(match.group(1)) == max_output:
        return text[:match.start()], True
    return text, False


def exec_in_project(client, project_id, command, args=None, bash=False, path=None, timeout=None, max_output=None, probe=False):
    """Run a command in a project and return an ExecResult (any exit code).

    Raises CommandTimeout when the server killed it, CocalcApiError for every other failure
    (no access, program not found, bad working directory, ...).
    """
    body = dict(project_id=project_id, command=command, err_on_exit=False)
    if args:
        body['args'] = list(args)
    if bash:
        body['bash'] = True
    if path:
        body['path'] = path
    if timeout is not None:
        body['timeout'] = timeout
    if max_output is not None:
        body['max_output'] = max_output
    seconds = SERVER_DEFAULT_TIMEOUT if timeout is None else timeout
    request_timeout = seconds + client.timeout
    started = time.monotonic()
    waited = 0.0
    wait = _READY_WAIT_FIRST
    while True:
        try:
            answer = client.call('project_exec', body, request_timeout=request_timeout, allow_in_check_mode=probe)
            break
        except CocalcApiError as err:
            if _KILLED_RE.search(err.message or ''):
                raise CommandTimeout(err.endpoint, err.http_status, err.event,
                                     'the command was killed after running for timeout=%s seconds (option timeout); server said: %s'
                                     % (seconds, err.message), err.body) from None
            if not (err.http_status == 200 and _NOT_READY_RE.search(err.message or '')):
                raise
            # Give up once the waits alone, or the wall clock, used up the command's timeout.
            if waited + wait > seconds or time.monotonic() - started + wait > seconds:
                err.message += ' (the project did not become ready within timeout=%s seconds)' % seconds
                raise
            _api._sleep(wait)
            waited += wait
            wait = min(_READY_WAIT_MAX, wait * 2)
    delta = datetime.timedelta(seconds=time.monotonic() - started)
    stdout, cut_out = _strip_truncation(answer.get('stdout'), max_output)
    stderr, cut_err = _strip_truncation(answer.get('stderr'), max_output)
    rc = answer.get('exit_code')
    if not isinstance(rc, int) or isinstance(rc, bool):
        raise CocalcApiError('project_exec', 200, answer.get('event'), 'the answer has no exit_code: %r' % (answer,), answer)
    return ExecResult(rc, stdout, stderr, cut_out or cut_err, delta)


def path_exists(client, project_id, path, cwd=None):
    """True when path exists in the project (relative to cwd, itself relative to the home)."""
    result = exec_in_project(client, project_id, 'test', args=['-e', path], path=cwd, probe=True)
    if result.rc not in (0, 1):
        raise CocalcApiError('project_exec', 200, None, "'test -e %s' ended with exit code %d: %s" % (path, result.rc, result.stderr))
    return result.rc == 0


# ---- cocalc_exec ----

def command_argv(params):
    """What is sent: (command, args, shown) where shown is the module's ``cmd`` result.

    Without bash the command line is split like ansible.builtin.command does (shlex, no shell),
    so the server never switches to bash behind the user's back.
    """
    command = params['command']
    args = list(params.get('args') or [])
    if params.get('bash'):
        if args:
            raise CocalcInputError('args cannot be combined with bash=true: the server would quote command as one program name; '
                                   'put the arguments into the script, or use bash=false')
        return command, [], command
    try:
        words = shlex.split(command)
    except ValueError as err:
        raise CocalcInputError('command could not be split into words like a shell would (%s): %r' % (err, command)) from None
    if not words:
        raise CocalcInputError('command must name a program, got %r' % (command,))
    program = words[0]
    argv = words[1:] + args
    if not argv and any(char.isspace() for char in program):
        raise CocalcInputError('command: the program name %r contains whitespace; use bash=true to run it as a script' % (program,))
    return program, argv, [program] + argv


def _checked_paths(params):
    """chdir, creates and removes checked (creates/removes are relative to chdir, as in ansible.builtin.command)."""
    params = dict(params)
    chdir = params.get('chdir')
    if chdir is not None:
        chdir = params['chdir'] = check_project_path(chdir, 'chdir', allow_home=True)
    for option in ('creates', 'removes'):
        value = params.get(option)
        if value is None:
            continue
        if isinstance(value, str) and value.startswith('/'):
            raise CocalcInputError('%s must be relative to chdir (or the project home), not absolute: %r' % (option, value))
        # Checked as seen from the home, so 'sub/../..' cannot leave it through chdir either.
        check_project_path(posixpath.join(chdir, value) if chdir and isinstance(value, str) else value, option, allow_home=True)
    return params


def _skip_reason(client, params):
    """(reason, decided) for creates/removes: reason is a text when the run is skipped."""
    project_id, cwd = params['project_id'], params.get('chdir')
    if params.get('creates'):
        with attempting("check whether '%s' exists in project %s" % (params['creates'], project_id)):
            if path_exists(client, project_id, params['creates'], cwd):
                return "Did not run command since '%s' exists" % params['creates'], True
    if params.get('removes'):
        with attempting("check whether '%s' exists in project %s" % (params['removes'], project_id)):
            if not path_exists(client, project_id, params['removes'], cwd):
                return "Did not run command since '%s' does not exist" % params['removes'], True
    return None, bool(params.get('creates') or params.get('removes'))


def run_command(client, params, check_mode):
    """The resource function of cocalc_exec: ansible.builtin.command semantics in a project.

    Returns an Outcome whose resource is the ``cmd`` that ran (or would have run) and whose extra
    holds rc, stdout, stderr, stdout_lines, stderr_lines, truncated, delta and msg; turning a
    non-zero rc into a failure is the caller's job.
    """
    for option in ('timeout', 'max_output'):
        value = params.get(option)
        if value is not None and value < 1:
            raise CocalcInputError('%s must be at least 1, got %r' % (option, value))
    params = _checked_paths(params)
    program, argv, shown = command_argv(params)
    reason, decided = _skip_reason(client, params)
    extra = dict(rc=0, stdout='', stderr='', stdout_lines=[], stderr_lines=[], truncated=False, delta=None, msg='')
    if reason:
        extra.update(stdout='skipped, since %s' % reason.split(' since ', 1)[1], msg=reason)
        extra['stdout_lines'] = [extra['stdout']]
        return Outcome(shown, False, **extra)
    if check_mode:
        # Partial check mode, as ansible.builtin.command: only creates/removes can tell.
        extra['msg'] = 'Command would have run if not in check mode'
        if not decided:
            extra['skipped'] = True
            return Outcome(shown, False, **extra)
        return Outcome(shown, True, **extra)
    with attempting('run %r in project %s' % (shown, params['project_id'])):
        result = exec_in_project(client, params['project_id'], program, args=argv, bash=params.get('bash'),
                                 path=params.get('chdir'), timeout=params.get('timeout'), max_output=params.get('max_output'))
    extra.update(rc=result.rc, stdout=result.stdout, stderr=result.stderr, truncated=result.truncated,
                 stdout_lines=result.stdout.splitlines(), stderr_lines=result.stderr.splitlines(), delta=str(result.delta),
                 msg='' if result.rc == 0 else 'non-zero return code')
    return Outcome(shown, True, **extra)
