#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_project_info
short_description: List CoCalc projects visible to the API key
version_added: 0.1.0
description:
  - Returns the projects the API key's account can see (as owner or collaborator), with the same fields
    as M(cocalc.cocalc.cocalc_project) returns.
  - Reads the C(projects_all) table in one request, so projects not edited for months are listed too.
  - Without filters it returns every project that is neither deleted nor hidden for the key's account.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
  - cocalc.cocalc.attributes.info_module
options:
  project_id:
    description:
      - Only the project with this ID (UUID).
      - A project the key cannot read (it does not exist, or the key's account is not on it) gives an empty list.
      - O(include_deleted) and O(include_hidden) still apply.
    type: str
  name:
    description:
      - Only projects with this name (case does not matter, as in CoCalc).
      - Servers from before project names existed do not support this option; the module then fails with a
        message saying so.
    type: str
  title:
    description: Only projects with exactly this title.
    type: str
  include_deleted:
    description: Also list deleted projects.
    type: bool
    default: false
  include_hidden:
    description: Also list projects the key's account has hidden.
    type: bool
    default: false
notes:
  - "API generations: works the same on current CoCalc (api/v2 and conat); the C(projects_all) table is read
    with C(user-query) (API v1's C(query))."
seealso:
  - module: cocalc.cocalc.cocalc_project
    description: Create, change, delete, start and stop a project.
'''

EXAMPLES = r'''
- name: List my projects
  cocalc.cocalc.cocalc_project_info:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
  register: mine

- name: Show their titles and states
  ansible.builtin.debug:
    msg: "{{ mine.projects | map(attribute='title') | zip(mine.projects | map(attribute='state')) | list }}"

- name: Find every project with a title, hidden and deleted ones included
  cocalc.cocalc.cocalc_project_info:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    title: Algebra 101 (2026)
    include_deleted: true
    include_hidden: true
  register: algebra
'''

RETURN = r'''
projects:
  description:
    - The matching projects, sorted by title and then ID.
    - Never contains a project's C(status), which holds its secret token.
  returned: always
  type: list
  elements: dict
  contains:
    project_id:
      description: The project's ID.
      type: str
      sample: 2ffbcbec-351d-4e94-bb3c-1e103298e2fb
    name:
      description: The project's name, V(null) when it has none.
      type: str
      sample: algebra-101-2026
    title:
      description: The title.
      type: str
      sample: Algebra 101 (2026)
    description:
      description: The description.
      type: str
      sample: Shared files for the Algebra course
    compute_image:
      description: The software environment; V(null) when the server does not report one.
      type: str
      sample: ubuntu2204
    deleted:
      description: Whether the project is deleted.
      type: bool
      sample: false
    hidden:
      description: Whether the project is hidden for the API key's account (V(null) for a key without an account).
      type: bool
      sample: false
    state:
      description:
        - The project's run state, for example V(running), V(opened) (stopped), V(starting) or V(stopping).
          V(null) when the server has never recorded one.
      type: str
      sample: opened
    users:
      description: The project's members, a dictionary from account ID to C({group}) (V(owner) or V(collaborator)).
      type: dict
      sample:
        5134e292-3608-4e27-b5d1-645b92dc67fd:
          group: owner
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule
from ansible_collections.cocalc.cocalc.plugins.module_utils._project import list_projects


def main():
    module = CocalcModule(
        argument_spec=dict(
            project_id=dict(type='str'),
            name=dict(type='str'),
            title=dict(type='str'),
            include_deleted=dict(type='bool', default=False),
            include_hidden=dict(type='bool', default=False),
        ),
        result_key='projects',
        checks={'project_id': 'uuid', 'title': 'title'},
        supports_check_mode=True,
    )
    module.run(list_projects)


if __name__ == '__main__':
    main()
