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
  api_timeout, and the answers a hub gives while a project is still coming up (ProjectNotReady:
  "unable to determine project port", "no host", ...) are retried by the client within the command
  timeout: the command never ran, so repeating is safe.
- ``probe=True`` marks read-only commands (test, stat, sha256sum) that may run in check mode.

Free of AnsibleModule: run_command() is the resource function of cocalc_exec and returns an Outcome.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import shlex

from ansible_collections.cocalc.cocalc.plugins.module_utils import _wait
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcInputError,
    Outcome,
    ProjectNotReady,
    attempting,
    validated,
)

# The server's own default for project_exec.
SERVER_DEFAULT_TIMEOUT = 10
_KILLED_RE = re.compile(r"-- killed command '")
_TRUNCATED_RE = re.compile(r' \(truncated at (\d+) characters\)$')


def check_project_path(value, option, allow_home=False):
    """A path relative to the project's home, normalised ('a/./b/' -> 'a/b'); CocalcInputError otherwise.

    The project_path / project_dir kinds of _validate: absolute paths and '..' that leave the home
    are refused before any call; symlinks out of the home are found inside the project (HOME_GUARD).
    """
    return validated('project_dir' if allow_home else 'project_path', value, option)


# Shell that exits OUTSIDE_HOME_RC, naming the argument on stderr, unless the real location of
# every argument (symlinks resolved, missing parts allowed) is the project home or inside it. The
# hub follows '..', absolute paths and symlinks anywhere, so the collection checks for itself; a
# script that acts puts it first in the same sh -c, so nothing can change between check and act.
# project_exec runs in the home when no path is sent, so `pwd -P` is the home's real location.
_GUARD_TEMPLATE = r'''h=$(pwd -P) || exit 97
i=0
for p in "$@"; do
  i=$((i+1))
  %s
  case $r in "$h"|"$h"/*) ;; *) printf 'outside-home %%s\n%%s' "$i" "$r" >&2; exit 97;; esac
done
'''
HOME_GUARD = _GUARD_TEMPLATE % r'r=$(realpath -m -- "$p") || exit 97'
# The same for commands that act on the directory entry itself, not on what a final symlink points
# to (stat, rm): the parent is resolved, so removing a symlink that points out of the home is fine,
# removing anything through it is not. Paths arrive normalised (check_project_path): no '..' left.
ENTRY_GUARD = _GUARD_TEMPLATE % r'r=$(realpath -m -- "$(dirname -- "$p")") || exit 97; r=$r/${p##*/}'
OUTSIDE_HOME_RC = 97
_OUTSIDE_RE = re.compile(r'^outside-home (\d+)\n(.*)$', re.DOTALL)


class OutsideHomeError(CocalcInputError):
    """A path whose real location leaves the project home; nothing was changed."""


def outside_home_error(result, paths, options, project_id):
    """The OutsideHomeError of a guarded command that refused, or None when the guard let it run.

    paths: the guarded arguments in order; options: the option name of each.
    """
    match = _OUTSIDE_RE.match(result.stderr or '') if result.rc == OUTSIDE_HOME_RC else None
    if not match or not 1 <= int(match.group(1)) <= len(paths):
        return None
    index = int(match.group(1)) - 1
    return OutsideHomeError("%s '%s' leaves the home of project %s: its real location is %s (a symlink or '..' points "
                            "outside the home); nothing was changed" % (options[index], paths[index], project_id, match.group(2)))


def check_in_home(client, project_id, paths, options):
    """One read-only project_exec: OutsideHomeError unless every path really lies in the home.

    options: the option name of each path, for the message. Used before a write or publish that
    is not itself a shell command (a shell command puts HOME_GUARD in front of itself instead).
    """
    paths = list(paths)
    if not paths:
        return
    with attempting('check that %s stay inside the home of project %s' % (', '.join("'%s'" % path for path in paths), project_id)):
        result = exec_in_project(client, project_id, 'sh', args=['-c', HOME_GUARD, 'sh'] + paths, probe=True)
    error = outside_home_error(result, paths, list(options), project_id)
    if error is not None:
        raise error
    if result.rc != 0:
        raise CocalcApiError('project_exec', 200, None, 'checking that %s stay inside the home of project %s ended with exit code %d: %s'
                             % (', '.join(paths), project_id, result.rc, result.stderr.strip()))


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
    started = _wait.now()
    try:
        # A project still starting refuses the call before running anything: the client sends it
        # again, within the command's timeout when there is one.
        answer = client.call('project_exec', body, request_timeout=request_timeout, allow_in_check_mode=probe,
                             ready_wait=timeout)
    except CocalcApiError as err:
        if _KILLED_RE.search(err.message or ''):
            raise CommandTimeout(err.endpoint, err.http_status, err.event,
                                 'the command was killed after running for timeout=%s seconds (option timeout); server said: %s'
                                 % (seconds, err.message), err.body) from None
        raise
    delta = datetime.timedelta(seconds=_wait.now() - started)
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


def check_command(params):
    """Every check of cocalc_exec's command options, before any call: (params with chdir normalised,
    program, args, shown). Also used by cocalc_course's setup, which prefixes the option names."""
    for option in ('timeout', 'max_output'):
        value = params.get(option)
        if value is not None and value < 1:
            raise CocalcInputError('%s must be at least 1, got %r' % (option, value))
    params = _checked_paths(params)
    program, argv, shown = command_argv(params)
    return params, program, argv, shown


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
    params, program, argv, shown = check_command(params)
    if params.get('chdir') not in (None, '.'):
        # The hub follows a symlinked chdir anywhere: one read-only check before anything runs.
        check_in_home(client, params['project_id'], [params['chdir']], ['chdir'])
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
        try:
            result = exec_in_project(client, params['project_id'], program, args=argv, bash=params.get('bash'),
                                     path=params.get('chdir'), timeout=params.get('timeout'), max_output=params.get('max_output'))
        except ProjectNotReady as err:
            if params.get('timeout') is not None:
                err.message += ' (option timeout)'
            raise
    extra.update(rc=result.rc, stdout=result.stdout, stderr=result.stderr, truncated=result.truncated,
                 stdout_lines=result.stdout.splitlines(), stderr_lines=result.stderr.splitlines(), delta=str(result.delta),
                 msg='' if result.rc == 0 else 'non-zero return code')
    return Outcome(shown, True, **extra)
