#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_account_info
short_description: Look up CoCalc accounts by email, name or account ID
version_added: 0.1.0
description:
  - Returns the account that the API key belongs to (RV(me)) and the accounts found by exact email
    address (O(email)), by account ID (O(account_ids)) and by a name search (O(name)).
  - Useful to turn a list of student emails into account IDs, and to check which of them have no
    account yet (RV(not_found)).
  - With no search options it only returns RV(me), which also checks that O(api_url) and O(api_key) work.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
  - cocalc.cocalc.attributes.info_module
options:
  email:
    description:
      - One email address or a list of them. Each is looked up exactly (case does not matter) with
        C(user_search), in batches of at most 50 addresses per request.
      - Addresses without an account are listed in RV(not_found).
    type: list
    elements: str
  account_ids:
    description:
      - Account IDs (UUIDs) to look up. First and last names come from C(get_usernames); on servers
        that no longer have it, from C(user_search).
      - IDs without an account are listed in RV(not_found).
    type: list
    elements: str
  name:
    description:
      - A name search. Every word must match the first or last name (by prefix on older servers, by
        substring on newer ones); the search is case-insensitive and may include your own account.
      - The server returns at most 50 matches and never returns email addresses for name matches.
      - To look up an address, use O(email) instead.
    type: str
notes:
  - "API generations: works the same on current CoCalc (api/v2 and conat); addresses are looked up with the
    hub's C(system.userSearch), names of account IDs with C(accounts/get-names) (an unknown ID is listed in
    RV(not_found))."
'''

EXAMPLES = r'''
- name: Check the connection and find out who the key belongs to
  cocalc.cocalc.cocalc_account_info:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
  register: whoami

- name: Look up students by email (connection options from module_defaults)
  module_defaults:
    group/cocalc.cocalc.cocalc:
      api_url: https://cocalc.example.org
      api_key: "{{ cocalc_api_key }}"
  block:
    - name: Find the students' accounts
      cocalc.cocalc.cocalc_account_info:
        email:
          - ada@example.org
          - grace@example.org
      register: students

    - name: Show who still needs an account
      ansible.builtin.debug:
        msg: "No CoCalc account yet: {{ students.not_found | join(', ') }}"
      when: students.not_found | length > 0

    - name: Map emails to account IDs
      ansible.builtin.set_fact:
        student_ids: "{{ students.accounts | items2dict(key_name='email_address', value_name='account_id') }}"

- name: Names of known account IDs
  cocalc.cocalc.cocalc_account_info:
    account_ids:
      - 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
  register: named
'''

RETURN = r'''
me:
  description:
    - The account that O(api_key) belongs to.
    - V(null) for a key that belongs to no account (a project-scoped key).
  returned: always
  type: dict
  contains:
    account_id:
      description: The account ID.
      type: str
      sample: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
    email_address:
      description: The account's email address (V(null) if it has none).
      type: str
      sample: ada@example.org
    first_name:
      description: First name.
      type: str
      sample: Ada
    last_name:
      description: Last name.
      type: str
      sample: Lovelace
    groups:
      description: Groups of the account, for example V(admin). V(null) or empty for most accounts.
      type: list
      elements: str
      sample: []
accounts:
  description:
    - The accounts found, each once, in the order of O(email), then O(account_ids), then the O(name) matches.
  returned: always
  type: list
  elements: dict
  contains:
    account_id:
      description: The account ID.
      type: str
      sample: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
    first_name:
      description: First name.
      type: str
      sample: Ada
    last_name:
      description: Last name.
      type: str
      sample: Lovelace
    email_address:
      description:
        - The email address, lower-cased by the server.
        - Only present when the account was found by O(email); the server never reveals addresses otherwise.
      type: str
      returned: when found by O(email)
      sample: ada@example.org
not_found:
  description: The requested email addresses and account IDs that matched no account, as given.
  returned: always
  type: list
  elements: str
  sample: [grace@example.org]
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._accounts import lookup_accounts
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import Outcome
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule


def account_info(client, params, check_mode):
    """Read-only, so check_mode changes nothing."""
    found = lookup_accounts(client, params['email'], params['account_ids'], params['name'])
    return Outcome(found.accounts, changed=False, me=found.me, not_found=found.not_found)


def main():
    module = CocalcModule(
        argument_spec=dict(
            email=dict(type='list', elements='str'),
            account_ids=dict(type='list', elements='str'),
            name=dict(type='str'),
        ),
        result_key='accounts',
        checks={'email': 'email', 'account_ids': 'uuid', 'name': 'non_empty'},
        supports_check_mode=True,
    )
    module.run(account_info)


if __name__ == '__main__':
    main()
