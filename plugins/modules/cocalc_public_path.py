#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_public_path
short_description: Publish or unpublish a file or directory of a CoCalc project
version_added: 0.1.0
description:
  - Publishes a path of a project (shares it, for example course material), sets its description and
    visibility, or unpublishes it.
  - Reads the project's public paths first (one C(query) of the table C(public_paths)) and writes only
    the fields that differ (one C(query) set), so a second run changes nothing.
  - CoCalc has no way to delete a public path. O(state=absent) sets C(disabled) on it, which stops
    sharing it; the entry stays and is re-enabled by O(state=present).
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
      - ID (UUID) of the project that holds O(path).
      - The account of O(api_key) must be an owner or collaborator of it.
    type: str
    required: true
  path:
    description:
      - The file or directory to publish, relative to the project's home directory, for example V(handouts/week1).
      - A directory is published with everything below it.
      - The path is used exactly as given, because CoCalc identifies a public path by the SHA-1 of
        O(project_id) and O(path) together. V(handouts) and V(handouts/) are two different public paths;
        the CoCalc web interface uses no trailing slash.
      - Absolute paths and paths containing V(..) are refused. The path does not need to exist yet.
      - Before a path is published, one command in the project checks that its real location (symlinks
        followed) stays in the home; a path that leaves it is refused. Unpublishing is never refused.
    type: str
    required: true
  description:
    description:
      - The description shown with the shared path.
      - Not changed when not set.
    type: str
  unlisted:
    description:
      - V(true) hides the path from public listings and search; anyone with the link can still open it.
      - Not changed when not set. A new public path is listed.
    type: bool
  authenticated:
    description:
      - V(true) makes the shared path visible only to signed-in users of the server.
      - Only sent when set, because CoCalc servers older than December 2021 do not know it (the module
        then fails with a message that says so).
      - Not changed when not set.
    type: bool
  state:
    description:
      - V(present) publishes O(path) (and re-enables it if it was unpublished).
      - V(absent) unpublishes it (sets C(disabled)); O(description), O(unlisted) and O(authenticated)
        are then ignored. A path that was never published is left alone.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    details:
      - Makes only the read call and predicts the result.
notes:
  - Any account can list the public paths of any project, so unpublished-but-existing entries
    (with RV(public_path.disabled=true)) stay visible through the API.
  - "API generations: works the same on current CoCalc (api/v2 and conat); the table C(public_paths) is read
    and written with C(user-query) (API v1's C(query)), the path check runs through the project bridge's
    C(system.exec)."
seealso:
  - module: cocalc.cocalc.cocalc_public_path_info
  - plugin: cocalc.cocalc.cocalc_file
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Publish the handouts of a course project
  cocalc.cocalc.cocalc_public_path:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    path: handouts/week1
    description: Week 1 reading and exercises

- name: Share a solution only with signed-in users, without listing it
  cocalc.cocalc.cocalc_public_path:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    path: solutions/week1.ipynb
    unlisted: true
    authenticated: true

- name: Unpublish it again
  cocalc.cocalc.cocalc_public_path:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    path: solutions/week1.ipynb
    state: absent
'''

RETURN = r'''
public_path:
  description:
    - The public path after the task (in check mode, as it would be).
    - V(null) when O(state=absent) and the path was never published.
  returned: always
  type: dict
  contains:
    id:
      description: CoCalc's ID of the public path, the SHA-1 of O(project_id) followed by O(path).
      type: str
      sample: 70631ffafac3dedc894b9612aafd39d80a866f48
    project_id:
      description: The project.
      type: str
      sample: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    path:
      description: The published path, as given.
      type: str
      sample: handouts/week1
    description:
      description: The description (empty if none was ever set).
      type: str
      sample: Week 1 reading and exercises
    unlisted:
      description: Whether the path is hidden from listings.
      type: bool
      sample: false
    disabled:
      description: Whether the path is unpublished.
      type: bool
      sample: false
    authenticated:
      description: Whether only signed-in users can see it.
      type: bool
      returned: when O(authenticated) is set
      sample: true
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule
from ansible_collections.cocalc.cocalc.plugins.module_utils._public_paths import ensure_public_path


def main():
    module = CocalcModule(
        argument_spec=dict(
            project_id=dict(type='str', required=True),
            path=dict(type='str', required=True),
            description=dict(type='str'),
            unlisted=dict(type='bool'),
            authenticated=dict(type='bool'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        result_key='public_path',
        checks={'project_id': 'uuid', 'description': 'description'},
        supports_check_mode=True,
    )
    module.run(ensure_public_path)


if __name__ == '__main__':
    main()
