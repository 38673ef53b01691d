#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_file
short_description: Write, copy or remove files in CoCalc projects
version_added: 0.1.0
description:
  - Makes sure a text file in a CoCalc project has the given content (O(content), or the controller
    file O(src)), that a file or directory is copied from another project or a public path
    (O(copy_from)), or that a path is gone (O(state=absent)).
  - Reads the current state first and changes only what differs, so a second run changes nothing
    and makes no write call.
  - Text is compared with what C(read_text_file_from_project) returns and written with
    C(write_text_file_to_project). Copies are compared by the sha256 of every regular file in the
    source and target trees, computed inside the projects with C(project_exec).
  - A project that is not running is started by the server on the first call, which can take a
    while; the target project of a copy does not need to run.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
  - cocalc.cocalc.attributes.check_and_diff_full
attributes:
  action:
    description: Has an action plugin that reads O(src) on the controller.
    support: full
options:
  project_id:
    description: ID (UUID) of the project that holds the file.
    type: str
    required: true
  path:
    description:
      - Path of the file or directory, relative to the project's home directory, for example V(handouts/week1.md).
      - Absolute paths and paths whose C(..) leave the home directory are refused before any call.
      - A path whose real location leaves the home (through a symlink) is refused before anything is written,
        copied or removed, checked inside the project in the same command that removes. Removing such a
        symlink itself is allowed; it is never followed.
      - Missing parent directories are created when a text file is written.
      - When O(copy_from) copies a single file onto an existing directory, the file lands inside that
        directory (like C(rsync)), and RV(file.path) names the file there.
    type: str
    required: true
  state:
    description:
      - V(present) writes O(content) or O(src), or copies O(copy_from). One of them is required.
      - V(absent) removes the file or directory at O(path) (C(rm -rf) inside the project, without a shell).
    type: str
    choices: [present, absent]
    default: present
  content:
    description:
      - The text the file must contain, exactly (line endings and a missing final newline included).
      - At most 1 MiB of UTF-8. Texts over 100 kB are sent form-encoded, texts that do not fit the
        server's 1 MB form limit are written in parts that are joined inside the project and checked
        by sha256.
      - Mutually exclusive with O(src) and O(copy_from).
    type: str
  src:
    description:
      - A UTF-8 text file on the controller whose content the file must have (searched like the
        O(ansible.builtin.copy#module:src) of M(ansible.builtin.copy), so a role's C(files/) directory works).
      - At most 1 MiB. Binary (non-UTF-8) files are refused; this module writes text files only.
      - Mutually exclusive with O(content) and O(copy_from).
    type: path
  copy_from:
    description:
      - Copy a file or directory from another project (C(copy_path_between_projects)), or from a
        public path of any project (C(copy_public_path_between_projects)), to O(path).
      - The contents of a directory land directly in O(path).
      - The task reports a change only when the copy changes the content of a file in the target;
        the copy is skipped when nothing would change. Only regular files are compared (symbolic
        links, permissions and empty directories are not).
      - When the source cannot be listed (a public path of someone else's project), the target is
        compared before and after the copy instead, so the copy always runs and check mode assumes a change.
    type: dict
    suboptions:
      project_id:
        description: ID (UUID) of the source project.
        type: str
        required: true
      path:
        description: Path of the source file or directory, relative to the source project's home.
        type: str
        required: true
      public:
        description:
          - V(true) copies from a published path (any account may, only the target needs write
            access); O(copy_from.path) must lie inside a path the source project published.
        type: bool
        default: false
      overwrite_newer:
        description:
          - Replace target files that are newer than the source. By default (like C(rsync --update))
            a target file modified after the source file is kept.
        type: bool
        default: false
      delete_missing:
        description: Delete files in the target directory that the source lacks (C(rsync --delete)).
        type: bool
        default: false
      backup:
        description: Keep each replaced target file as C(<name>~).
        type: bool
        default: false
      timeout:
        description:
          - Seconds of copy inactivity after which the server gives up (C(rsync --timeout)); also
            bounds how long the module waits for the copy.
          - When not set, the module waits up to 240 seconds for the copy (plus O(api_timeout)).
        type: int
      exclude_history:
        description:
          - Leave out C(*.sage-history) files. Guide-era servers know this option; newer ones get the
            same effect through their C(exclude) list (not possible for public copies there, which then fail).
        type: bool
        default: false
notes:
  - Runs where the task runs (usually the controller); only O(src) is read by the action plugin on the controller.
  - Checksums and removals run as commands inside the project (C(find), C(sha256sum), C(stat), C(rm)), so
    a task that copies or removes starts the project if it was stopped.
  - The largest text that round-trips is 1 MiB (1048576 bytes of UTF-8), on every server era.
  - "API generations: on current CoCalc (api/v2 and conat) files are read one call per file, copies use
    C(projects/copy-path); copying from a public path (O(copy_from.public=true)) has no counterpart there
    and fails with a message saying so, before it copies anything (also in check mode)."
seealso:
  - module: cocalc.cocalc.cocalc_exec
  - module: ansible.builtin.copy
'''

EXAMPLES = r'''
- name: Write files into a project (connection options from module_defaults)
  module_defaults:
    group/cocalc.cocalc.cocalc:
      api_url: https://cocalc.example.org
      api_key: "{{ cocalc_api_key }}"
  block:
    - name: A README with inline content
      cocalc.cocalc.cocalc_file:
        project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
        path: README.md
        content: |
          # Algebra 101
          Start with handouts/week1.md.

    - name: A handout from the role's files/ directory
      cocalc.cocalc.cocalc_file:
        project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
        path: handouts/week1.md
        src: week1.md

    - name: Copy the assignment folder from the course project into a student project
      cocalc.cocalc.cocalc_file:
        project_id: "{{ student_project_id }}"
        path: assignments/a1
        copy_from:
          project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
          path: assignments/a1
      register: copied

    - name: Copy a published notebook
      cocalc.cocalc.cocalc_file:
        project_id: "{{ student_project_id }}"
        path: examples/intro.ipynb
        copy_from:
          project_id: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
          path: public/intro.ipynb
          public: true

    - name: Remove an old draft
      cocalc.cocalc.cocalc_file:
        project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
        path: drafts/old
        state: absent
'''

RETURN = r'''
file:
  description:
    - The file or directory after the task (in check mode, as it would be).
    - V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    project_id:
      description: The project that holds it.
      type: str
      sample: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    path:
      description: Its path relative to the project's home (normalised, for example without a trailing slash).
      type: str
      sample: handouts/week1.md
    state:
      description: V(file) or V(directory) (a copied directory; V(other) for a symbolic link or special file).
      type: str
      sample: file
    size:
      description: Size in bytes; for a directory, the total size of its regular files.
      type: int
      sample: 1024
    sha256:
      description: SHA-256 of the file's content (V(null) for a directory).
      type: str
      sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._files import ensure_file
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule


def main():
    module = CocalcModule(
        argument_spec=dict(
            project_id=dict(type='str', required=True),
            path=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            content=dict(type='str'),
            src=dict(type='path'),
            copy_from=dict(type='dict', options=dict(
                project_id=dict(type='str', required=True),
                path=dict(type='str', required=True),
                public=dict(type='bool', default=False),
                overwrite_newer=dict(type='bool', default=False),
                delete_missing=dict(type='bool', default=False),
                backup=dict(type='bool', default=False),
                timeout=dict(type='int'),
                exclude_history=dict(type='bool', default=False),
            )),
        ),
        result_key='file',
        checks={'project_id': 'uuid'},
        data_options=('content',),
        mutually_exclusive=[('content', 'copy_from'), ('src', 'copy_from')],
        required_if=[('state', 'present', ('content', 'src', 'copy_from'), True)],
        supports_check_mode=True,
    )
    module.run(ensure_file)


if __name__ == '__main__':
    main()
