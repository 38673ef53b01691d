#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_exec
short_description: Run a command inside a CoCalc project
version_added: 0.1.0
description:
  - Runs a command in a CoCalc project with C(project_exec), like M(ansible.builtin.command) runs one on a host.
  - The command always runs and the task reports a change, unless O(creates) or O(removes) say it
    is not needed (checked inside the project first).
  - A non-zero exit code fails the task, with RV(rc), RV(stdout) and RV(stderr) returned; use
    C(failed_when) to accept other exit codes.
  - A project that is not running is started by the server first; the module waits for that within O(timeout).
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
attributes:
  check_mode:
    support: partial
    details:
      - The command itself cannot be predicted, so in check mode it never runs. With O(creates) or
        O(removes) the task still tells whether it would run; without them it is skipped.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Use O(creates) or O(removes) to make a task idempotent.
options:
  project_id:
    description: ID (UUID) of the project to run the command in.
    type: str
    required: true
  command:
    description:
      - Without O(bash), the program to run and its arguments, split like a shell would split them
        but not run through a shell, so C($HOME), C(*), C(|), C(>) and C(;) have no special meaning.
      - With O(bash=true), a bash script (one line or several).
    type: str
    required: true
  args:
    description:
      - More arguments, appended to those in O(command), each passed as it is (no quoting needed).
      - Not allowed with O(bash=true).
    type: list
    elements: str
  bash:
    description:
      - Run O(command) as a bash script, with pipes, redirections, variables and globbing.
      - The server then also limits the script's CPU time to O(timeout) seconds.
    type: bool
    default: false
  chdir:
    description:
      - Working directory, relative to the project's home (the default).
      - Absolute paths and paths that leave the home are refused before any call, and a directory whose real
        location leaves the home (through a symlink) is refused before the command runs.
    type: str
  timeout:
    description:
      - Seconds the command may run. The server kills it after that, and the task fails with a
        message naming this option; the output of a killed command is lost.
      - The HTTP request waits O(api_timeout) seconds longer, for a project that has to start first.
    type: int
    default: 60
  max_output:
    description:
      - Keep at most this many characters of stdout and of stderr. RV(truncated) tells whether
        output was cut (the server reports a cut also when the output has exactly this length).
    type: int
  creates:
    description:
      - A path, relative to O(chdir) (or the home); when it already exists in the project, the command is not run.
    type: str
  removes:
    description:
      - A path, relative to O(chdir) (or the home); when it does not exist in the project, the command is not run.
    type: str
notes:
  - A process killed by a signal is reported by the server with exit code V(0).
  - Commands run as the project's user, with the project's home as C($HOME).
  - "API generations: on current CoCalc (api/v2 and conat) the command runs through the project bridge's
    C(system.exec), again with C(err_on_exit=false), so exit codes come back as on API v1; O(timeout) is not
    cut at v2 C(exec)'s fixed 60 seconds."
seealso:
  - module: cocalc.cocalc.cocalc_file
  - module: ansible.builtin.command
'''

EXAMPLES = r'''
- name: Install a Python package in a project, once
  cocalc.cocalc.cocalc_exec:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    command: pip install --user sympy==1.13.3
    creates: .local/lib/python3.12/site-packages/sympy
    timeout: 300

- name: Check the setup with a small script, accepting exit code 1
  cocalc.cocalc.cocalc_exec:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    bash: true
    command: |
      set -e
      python3 --version
      ls handouts | wc -l
    chdir: course
  register: setup
  changed_when: false
  failed_when: setup.rc not in [0, 1]

- name: Arguments with spaces need no quoting in args
  cocalc.cocalc.cocalc_exec:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    command: touch
    args:
      - notes/week 1.md
'''

RETURN = r'''
cmd:
  description: What was run (or would have run) - the program and its arguments, or the bash script.
  returned: always
  type: raw
  sample: [touch, notes/week 1.md]
rc:
  description: The exit code (V(0) when the command was skipped or not run in check mode).
  returned: always
  type: int
  sample: 0
stdout:
  description: Standard output, without the server's truncation note.
  returned: always
  type: str
  sample: "Python 3.12.3\n"
stderr:
  description: Standard error, without the server's truncation note.
  returned: always
  type: str
  sample: ""
stdout_lines:
  description: RV(stdout) split into lines.
  returned: always
  type: list
  elements: str
  sample: [Python 3.12.3]
stderr_lines:
  description: RV(stderr) split into lines.
  returned: always
  type: list
  elements: str
  sample: []
truncated:
  description: Whether O(max_output) cut RV(stdout) or RV(stderr).
  returned: always
  type: bool
  sample: false
delta:
  description: How long the call took, including a project start (V(null) when nothing ran).
  returned: always
  type: str
  sample: "0:00:00.412003"
msg:
  description: Why the command did not run, or V(non-zero return code).
  returned: always
  type: str
  sample: Did not run command since 'done.flag' exists
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import run_command
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule


def main():
    module = CocalcModule(
        argument_spec=dict(
            project_id=dict(type='str', required=True),
            command=dict(type='str', required=True),
            args=dict(type='list', elements='str'),
            bash=dict(type='bool', default=False),
            chdir=dict(type='str'),
            timeout=dict(type='int', default=60),
            max_output=dict(type='int'),
            creates=dict(type='str'),
            removes=dict(type='str'),
        ),
        result_key='cmd',
        checks={'project_id': 'uuid', 'command': 'non_empty'},
        supports_check_mode=True,
    )
    module.run(run_command)


if __name__ == '__main__':
    main()
