#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_project
short_description: Create, update, delete, start and stop CoCalc projects
version_added: 0.1.0
description:
  - Makes sure a CoCalc project exists with the given title, description, compute image, name and
    per-account hidden flag, or is deleted, running or stopped.
  - The project is looked up by O(project_id) when given, else by O(name), else by O(title). Lookups
    always go through the C(projects_all) table, so projects not edited for months are found too.
  - Reads the current state first and changes only what differs from the options you set; options you
    leave out are never reset. Running the same task twice changes nothing the second time.
  - CoCalc titles are not unique. When O(title) or O(name) matches several projects, the module fails
    and lists their IDs; it never picks one and never creates another.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
  - cocalc.cocalc.attributes.check_and_diff_full
options:
  project_id:
    description:
      - ID (UUID) of the project.
      - When set, it identifies the project, and O(name) and O(title) are values to set.
      - A project ID the API key cannot read (it does not exist, or the key's account is not on the
        project) is an error; the module never creates a project for it.
      - A deleted project given by ID is undeleted by O(state=present), V(started) or V(stopped).
    type: str
  name:
    description:
      - CoCalc's project name, unique among the projects of one owner (case does not matter).
      - Without O(project_id) it identifies the project among the projects the API key's account owns.
        A deleted project with that name is undeleted by O(state=present), V(started) or V(stopped),
        because CoCalc keeps the name reserved for it.
      - When none of your projects has the name, a new project is created, even if a project with O(title)
        exists. To give an existing project a name, select it with O(project_id).
      - With O(project_id) it is the name to set. Only the owner may change a project's name.
      - At most 100 characters, and not a UUID.
      - Servers from before project names existed (the API guide's era) do not support this option;
        the module then fails with a message saying so.
    type: str
  title:
    description:
      - Title of the project.
      - Without O(project_id) and O(name) it identifies the project among the non-deleted projects visible
        to the API key; a new project gets this title.
      - Otherwise it is the title to set.
    type: str
  description:
    description:
      - Description of the project. A new project without it gets an empty description.
    type: str
  compute_image:
    description:
      - Software environment of the project, for example V(ubuntu2204).
      - A new project without it gets the server's default image.
    type: str
  hidden:
    description:
      - Hide the project in the project list of the API key's account (or show it again with V(false)).
      - Hiding is a per-account setting in CoCalc; it changes nothing for the other collaborators and does not
        change access.
    type: bool
  state:
    description:
      - V(present) makes sure the project exists (and is not deleted); it creates it when no project matches.
      - V(absent) deletes the project. CoCalc deletion is soft (the project is flagged C(deleted) and can be
        restored with V(present)). A project that is already deleted, or that O(name) or O(title) does not find,
        is left alone.
      - V(started) and V(stopped) also make sure the project runs or is stopped, and wait up to O(wait_timeout)
        seconds for it. A new project is created already starting for V(started). A stopped project reads
        V(opened) (or V(closed)) in RV(project.state).
    type: str
    choices: [present, absent, started, stopped]
    default: present
  wait_timeout:
    description:
      - Seconds to wait for the project to reach the state O(state=started) or O(state=stopped) asks for.
      - The module fails when the project has not got there in time.
    type: int
    default: 120
notes:
  - The project's C(status) field is never requested, because it holds the project's secret token.
  - CoCalc drops every other change sent together with a start or stop request, so the module sends
    field changes and the start or stop as two separate requests.
  - A new project is created so that a lost answer cannot duplicate it. The C(create_project) call can set only
    the title and the description, so its description ends with a line
    C(<!-- cocalc.cocalc creating TOKEN NAME -->) unique to that call; a later request of the same task sets
    O(name), the final O(description) and the rest. When the create answer is lost (a gateway timeout after
    the server made the project, a dropped connection, a cut answer) the module looks the project up by that
    token instead of creating another, and a later run adopts a project still carrying such a line (found
    by O(name) or O(title)) and finishes it.
  - "Two runs of the same task at the same time: the oldest project wins. After its create call each run
    reads the projects of that title; a run whose new project is not the oldest one for the same O(name)
    (or, without O(name), the same O(title)) soft-deletes the project it created and goes on with the older
    one. Unfinished duplicates left by an earlier run (still carrying their creation line) are soft-deleted
    the same way, and the task warns. Two finished projects with the same title still fail and ask for
    O(project_id): they are not of this module's making."
  - Requests are retried by what is safe (reads and idempotent writes after timeouts, dropped connections,
    5xx and HTML or cut answers; any request answered 429 or 503), never a C(create_project) or a start/stop
    request that may have reached the server.
  - "API generations: works the same on current CoCalc (api/v2 and conat). Projects are created with
    C(projects/create), started and stopped with C(projects/start) and C(projects/stop), which return once
    the project runs or has stopped; fields are read and set with C(user-query) (API v1's C(query))."
seealso:
  - module: cocalc.cocalc.cocalc_project_info
    description: List projects and read their state without changing them.
'''

EXAMPLES = r'''
- name: Connection options once for every cocalc.cocalc module
  module_defaults:
    group/cocalc.cocalc.cocalc:
      api_url: https://cocalc.example.org
      api_key: "{{ cocalc_api_key }}"
  block:
    - name: Make sure the course project exists
      cocalc.cocalc.cocalc_project:
        title: Algebra 101 (2026)
        description: Shared files for the Algebra course
      register: course

    - name: Give it a name, hide it from my own project list and start it
      cocalc.cocalc.cocalc_project:
        project_id: "{{ course.project.project_id }}"
        name: algebra-101-2026
        hidden: true
        state: started

    - name: Stop the project again
      cocalc.cocalc.cocalc_project:
        name: algebra-101-2026
        state: stopped

    - name: Delete it (soft delete; state=present restores it)
      cocalc.cocalc.cocalc_project:
        project_id: "{{ course.project.project_id }}"
        state: absent
'''

RETURN = r'''
project:
  description:
    - The project after the task; in check mode, the project as it would be.
    - V(null) when O(state=absent) found no project.
    - Never contains the project's C(status), which holds its secret token.
  returned: always
  type: dict
  contains:
    project_id:
      description: The project's ID. V(null) in check mode for a project that would be created.
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
      description:
        - The software environment. V(null) when the server does not report one, and in check mode for a
          project that would be created without O(compute_image).
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
        - The project's run state as the server reports it, for example V(running), V(opened) (stopped),
          V(starting) or V(stopping). V(null) when the server has never recorded one.
      type: str
      sample: running
    users:
      description: The project's members, a dictionary from account ID to C({group}) (V(owner) or V(collaborator)).
      type: dict
      sample:
        5134e292-3608-4e27-b5d1-645b92dc67fd:
          group: owner
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule
from ansible_collections.cocalc.cocalc.plugins.module_utils._project import ensure_project


def main():
    module = CocalcModule(
        argument_spec=dict(
            project_id=dict(type='str'),
            name=dict(type='str'),
            title=dict(type='str'),
            description=dict(type='str'),
            compute_image=dict(type='str'),
            hidden=dict(type='bool'),
            state=dict(type='str', default='present', choices=['present', 'absent', 'started', 'stopped']),
            wait_timeout=dict(type='int', default=120),
        ),
        result_key='project',
        checks={'project_id': 'uuid', 'title': 'title', 'description': 'description', 'compute_image': 'non_empty'},
        required_one_of=[('project_id', 'name', 'title')],
        supports_check_mode=True,
    )
    module.run(ensure_project)


if __name__ == '__main__':
    main()
