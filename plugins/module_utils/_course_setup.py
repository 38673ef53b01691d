# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The setup command of cocalc_course: run once per student project, known to be done in O(1) calls.

After a successful setup the course writes a small marker file into the project's home
(MARKER_DIR/<course_id>.setup) holding a digest of the setup spec. The course reads these markers
with the batched handout reads, so a re-run learns "done" for every project without one exec per
project; a changed command (or args, bash, chdir, creates, removes) has another digest and runs
again. The timeout is not part of the digest: a longer timeout is no reason to run again.

When the marker is missing or stale, ONE project_exec runs a wrapper script that checks
creates/removes (relative to chdir, as cocalc_exec does), runs the command, and writes the marker
only when the command succeeded (or was skipped by creates/removes: the setup counts as done).
So a marker is never written by a failed setup, and a skipped one needs no extra probe call.

The options are checked by _exec.check_command, the same code as cocalc_exec's.
"""

from __future__ import annotations

import hashlib
import json
import shlex

from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcError,
    CocalcInputError,
    attempting,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import check_command, exec_in_project

MARKER_DIR = '.cocalc-course'
# Characters of stdout and of stderr kept per student (the server cuts the rest): 1,000 students
# stay a few MB of result.
MAX_OUTPUT = 4000
DEFAULT_TIMEOUT = 60
# The wrapper's first line of stdout, so that its own words never mix with the command's output.
_TAG = '@@cocalc.cocalc-setup '


def argument_spec():
    """The suboptions of cocalc_course's setup option (cocalc_exec's, without project_id and max_output)."""
    return dict(type='dict', options=dict(
        command=dict(type='str', required=True),
        args=dict(type='list', elements='str'),
        bash=dict(type='bool', default=False),
        chdir=dict(type='str'),
        timeout=dict(type='int', default=DEFAULT_TIMEOUT),
        creates=dict(type='str'),
        removes=dict(type='str'),
    ))


class SetupFailed(CocalcError):
    """The setup command ended with a non-zero exit code in one project."""


class Setup(object):
    """A validated setup spec: what runs, where its marker lives, and the digest a current marker holds."""

    def __init__(self, params, course_id):
        params = dict(params)
        if not isinstance(params.get('command'), str) or not params['command'].strip():
            raise CocalcInputError('setup.command must be a non-empty string, got %r' % (params.get('command'),))
        params.setdefault('timeout', DEFAULT_TIMEOUT)
        try:
            checked, program, argv, shown = check_command(params)
        except CocalcInputError as err:
            raise CocalcInputError('setup.%s' % err) from None
        self.bash = bool(checked.get('bash'))
        self.command = checked['command']
        self.program = program
        self.argv = argv
        self.shown = shown
        self.chdir = checked.get('chdir')
        self.creates = checked.get('creates')
        self.removes = checked.get('removes')
        self.timeout = checked.get('timeout')
        self.marker_path = '%s/%s.setup' % (MARKER_DIR, course_id)
        what = dict(command=self.command if self.bash else [program] + argv, bash=self.bash, chdir=self.chdir,
                    creates=self.creates, removes=self.removes)
        self.digest = 'sha256:' + hashlib.sha256(json.dumps(what, sort_keys=True).encode('utf-8')).hexdigest()

    def is_current(self, marker):
        """marker: what the batched read found (text, None when missing, TOO_LARGE, or a CocalcApiError)."""
        if isinstance(marker, CocalcApiError):
            raise marker
        return isinstance(marker, str) and marker.strip() == self.digest

    def script(self):
        """The one bash script that runs in a project whose marker is missing or stale."""
        quote = shlex.quote
        where = quote(self.chdir or '.')
        marker, temporary = quote(self.marker_path), quote(self.marker_path + '.tmp')
        command = 'bash -c %s' % quote(self.command) if self.bash else ' '.join(quote(word) for word in [self.program] + self.argv)
        lines = [
            'cocalc_mark() { mkdir -p -- %s && printf "%%s\\n" %s > %s && mv -f -- %s %s || '
            '{ echo "cocalc.cocalc: could not write the setup marker %s" >&2; exit 1; }; }'
            % (quote(MARKER_DIR), quote(self.digest), temporary, temporary, marker, self.marker_path),
        ]
        if self.creates:
            lines.append('if (cd -- %s 2>/dev/null && test -e %s); then echo %s; cocalc_mark; exit 0; fi'
                         % (where, quote(self.creates), quote(_TAG + "skipped: '%s' exists" % self.creates)))
        if self.removes:
            lines.append('if ! (cd -- %s 2>/dev/null && test -e %s); then echo %s; cocalc_mark; exit 0; fi'
                         % (where, quote(self.removes), quote(_TAG + "skipped: '%s' does not exist" % self.removes)))
        lines.extend([
            'echo %s' % quote(_TAG + 'run'),
            '(cd -- %s && exec %s)' % (where, command),
            'rc=$?',
            'if [ "$rc" -ne 0 ]; then exit "$rc"; fi',
            'cocalc_mark',
        ])
        return '\n'.join(lines) + '\n'


def setup_spec(params, course_id):
    """A Setup, or None when the course has no setup option."""
    if not params:
        return None
    if not isinstance(params, dict):
        raise CocalcInputError('setup must be a dictionary with at least command, got %r' % (params,))
    return Setup(params, course_id)


def pending_result():
    """The result of a project whose setup is to run (all that check mode can tell: the marker says it is not done)."""
    return dict(status='pending', rc=None, stdout='', stderr='', truncated=False,
                msg='setup would run (its marker is missing or stale), unless creates/removes say it is not needed')


def current_result():
    return dict(status='current', rc=None, stdout='', stderr='', truncated=False, msg='setup done before (its marker is current)')


def _tail(text, size=300):
    text = (text or '').strip()
    return text if len(text) <= size else '...' + text[-size:]


def run_setup(client, setup, project_id):
    """Run the setup in one project: (action, result). SetupFailed for a non-zero exit code (result
    attached as .result), CocalcApiError (CommandTimeout included) for a failed call."""
    with attempting('run the setup command in project %s' % project_id):
        answer = exec_in_project(client, project_id, setup.script(), bash=True, timeout=setup.timeout, max_output=MAX_OUTPUT)
    first, newline, rest = answer.stdout.partition('\n')
    stdout = answer.stdout
    status = 'ran'
    msg = ''
    if first.startswith(_TAG):
        stdout = rest if newline else ''
        word = first[len(_TAG):]
        if word.startswith('skipped: '):
            status = 'skipped'
            msg = 'Did not run command since %s' % word[len('skipped: '):]
    result = dict(status=status, rc=answer.rc, stdout=stdout, stderr=answer.stderr, truncated=answer.truncated, msg=msg)
    if answer.rc != 0:
        result.update(status='failed', msg='non-zero return code')
        error = SetupFailed('setup: the command ended with exit code %d in project %s: %s'
                            % (answer.rc, project_id, _tail(answer.stderr) or _tail(stdout) or 'no output'))
        error.result = result
        raise error
    action = dict(action='run_setup') if status == 'ran' else dict(action='mark_setup', reason=msg)
    return action, result
