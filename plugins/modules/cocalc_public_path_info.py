#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_public_path_info
short_description: List the public paths of a CoCalc project and read what they share
version_added: 0.1.0
description:
  - Returns the public paths (shares) of a project, published or unpublished (RV(public_paths)).
    Any account can list any project's public paths.
  - Where the server offers it, also lists a public directory (O(listing_path), RV(listing)) and reads
    public text files (O(text_paths), RV(texts)) without needing access to the project.
    CoCalc servers removed these two calls (C(public_get_directory_listing), C(public_get_text_file))
    from API v1 in July 2021; on such a server the task fails with a message that says so.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
  - cocalc.cocalc.attributes.info_module
options:
  project_id:
    description: ID (UUID) of the project.
    type: str
    required: true
  path:
    description:
      - Return only the public path with exactly this path (V(handouts) and V(handouts/) differ).
      - RV(public_paths) is empty when there is none.
    type: str
  listing_path:
    description:
      - A directory to list publicly, relative to the project's home; V('') is the home directory.
      - Only entries that are public (or lead to something public) are listed.
      - Fails with C(not_public) when the project has no enabled public path at all.
    type: str
  listing_hidden:
    description: Include hidden files (names starting with a dot) in RV(listing).
    type: bool
    default: false
  text_paths:
    description:
      - Public text files to read, relative to the project's home. Each must lie inside an enabled public path.
    type: list
    elements: str
notes:
  - "API generations: on current CoCalc (api/v2 and conat) only RV(public_paths) works (read with
    C(user-query)); public listings and text reads (O(listing_path), O(text_paths)) have no counterpart
    there and fail with a message saying so."
seealso:
  - module: cocalc.cocalc.cocalc_public_path
  - plugin: cocalc.cocalc.cocalc_file
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: List the public paths of a project
  cocalc.cocalc.cocalc_public_path_info:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
  register: shares

- name: Show what is published
  ansible.builtin.debug:
    msg: "{{ shares.public_paths | rejectattr('disabled') | map(attribute='path') | list }}"

- name: List a public directory and read a public file (servers before July 2021)
  cocalc.cocalc.cocalc_public_path_info:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    listing_path: handouts
    text_paths:
      - handouts/README.md
  register: public

- name: Show the README
  ansible.builtin.debug:
    msg: "{{ public.texts['handouts/README.md'] }}"
'''

RETURN = r'''
public_paths:
  description: The public paths of the project (only the one of O(path) when set), in the server's order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: CoCalc's ID of the public path, the SHA-1 of the project ID followed by the path.
      type: str
      sample: 70631ffafac3dedc894b9612aafd39d80a866f48
    project_id:
      description: The project.
      type: str
      sample: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    path:
      description: The shared path, relative to the project's home.
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
      returned: when the server knows this field (CoCalc from December 2021 on)
      sample: false
listing:
  description: The entries of the public directory O(listing_path).
  returned: when O(listing_path) is set
  type: list
  elements: dict
  contains:
    name:
      description: The entry's name.
      type: str
      sample: README.md
    size:
      description: Size in bytes (files only).
      type: int
      returned: for files
      sample: 1024
    mtime:
      description: Modification time, seconds since the epoch.
      type: int
      sample: 1726000000
    isdir:
      description: V(true) for a directory.
      type: bool
      returned: for directories
      sample: true
texts:
  description: The text of each file in O(text_paths), by path.
  returned: when O(text_paths) is set
  type: dict
  sample:
    handouts/README.md: "# Week 1\n"
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule
from ansible_collections.cocalc.cocalc.plugins.module_utils._public_paths import public_path_info


def main():
    module = CocalcModule(
        argument_spec=dict(
            project_id=dict(type='str', required=True),
            path=dict(type='str'),
            listing_path=dict(type='str'),
            listing_hidden=dict(type='bool', default=False),
            text_paths=dict(type='list', elements='str'),
        ),
        result_key='public_paths',
        checks={'project_id': 'uuid'},
        supports_check_mode=True,
    )
    module.run(public_path_info)


if __name__ == '__main__':
    main()
