# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: cocalc_file
short_description: Read text files from a CoCalc project, or public files of any project
version_added: 0.1.0
description:
  - Returns the text of each file named in the terms, for use in templates and C(set_fact).
  - Reads a file of a project the account of O(api_key) can access (C(read_text_file_from_project)),
    or, with O(public=true), a file inside a public path of any project (C(public_get_text_file)).
    CoCalc servers removed the public read from API v1 in July 2021; on such a server the lookup fails
    with a message that says so.
  - A stopped project is started by the server to read the file, which can take a while; raise
    O(api_timeout) if needed.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.lookup_connection
options:
  _terms:
    description:
      - Paths of the files, relative to the project's home directory, for example V(notes/a.md).
      - Absolute paths and paths whose V(..) would leave the home directory are refused before any request.
      - One command in the project first checks that the real location of every path (symlinks followed)
        stays in the home; nothing is read otherwise.
      - A path must name a text file; a directory is an error.
    type: list
    elements: str
    required: true
  project_id:
    description: ID (UUID) of the project that holds the files.
    type: str
    required: true
  public:
    description:
      - V(false) reads the project's files; the account of O(api_key) needs access to the project.
      - V(true) reads public files (inside an enabled public path) of any project, see
        M(cocalc.cocalc.cocalc_public_path).
    type: bool
    default: false
notes:
  - The server decodes file contents as UTF-8; bytes that are not valid UTF-8 come back replaced.
  - A missing file, a directory, a file over the server's size limit (10 MB by default) and a private file
    read with O(public=true) are errors.
  - Several files of a project are read in one request where the server accepts that (the 2024 hub does);
    its answers are matched to the terms by path, whatever their order.
  - "API generations: on current CoCalc (api/v2 and conat) files are read with the project bridge's
    C(system.readTextFileFromProject), one call per file (in parallel), with the same results;
    O(public=true) has no counterpart there and fails with a message saying so."
seealso:
  - module: cocalc.cocalc.cocalc_public_path
  - module: cocalc.cocalc.cocalc_public_path_info
'''

EXAMPLES = r'''
- name: Read a file of a project into a fact
  ansible.builtin.set_fact:
    notes: "{{ lookup('cocalc.cocalc.cocalc_file', 'notes/a.md', project_id=pid, api_url=url, api_key=key) }}"

- name: Read several files at once (one text per path)
  ansible.builtin.debug:
    msg: "{{ query('cocalc.cocalc.cocalc_file', 'a.txt', 'b.txt', project_id=pid) }}"
  environment:
    COCALC_API_URL: https://cocalc.example.org
    COCALC_API_KEY: "{{ cocalc_api_key }}"

- name: Read a published file of someone else's project (servers before July 2021)
  ansible.builtin.debug:
    msg: "{{ lookup('cocalc.cocalc.cocalc_file', 'handouts/README.md', project_id=pid, public=true, api_url=url, api_key=key) }}"
'''

RETURN = r'''
_raw:
  description: The text of each file, in the order of the terms.
  type: list
  elements: str
'''

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import HAS_REQUESTS
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcInputError
from ansible_collections.cocalc.cocalc.plugins.module_utils._texts import lookup_texts
from ansible_collections.cocalc.cocalc.plugins.plugin_utils._client import generation_line, make_client

display = Display()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if not HAS_REQUESTS:
            raise AnsibleLookupError('cocalc.cocalc.cocalc_file needs the Python library requests on the controller')
        failure = None
        try:
            texts = self._read(terms)
        except (CocalcApiError, CocalcInputError, ValueError) as err:
            failure = str(err)
        if failure is not None:
            # Raised outside the except block: the message is complete, the chained context adds nothing.
            # Ansible itself prefixes the plugin name.
            raise AnsibleLookupError(failure)
        return texts

    def _read(self, terms):
        clients = []

        def connect():
            clients.append(make_client(self))
            return clients[-1]
        texts = lookup_texts(connect, self.get_option('project_id'), terms, public=self.get_option('public'))
        if clients and clients[0].generation:
            display.v(generation_line('cocalc.cocalc.cocalc_file', clients[0]))
        return texts
