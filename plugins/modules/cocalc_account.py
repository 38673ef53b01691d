#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_account
short_description: Create CoCalc accounts and manage the API key's own account
version_added: 0.1.0
description:
  - Makes sure an account with the address O(email) exists (creating it with C(create_account)), or, on
    servers that still offer C(delete_account), that it does not.
  - For the account of O(api_key) itself it also keeps the first and last name, the email address
    (O(new_email)) and the password (O(update_password=always)) as given.
  - CoCalc's API lets an account change only its own names and password. For any other existing account
    the module changes nothing; names that differ are reported in a warning.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
  - cocalc.cocalc.attributes.check_and_diff_full
attributes:
  idempotent:
    details:
      - With O(update_password=always) the password of the API key's own account is set, and reported as
        changed, on every run, because CoCalc never reveals a password to compare with.
options:
  email:
    description:
      - Email address of the account; it identifies the account (case does not matter).
    type: str
    required: true
  first_name:
    description:
      - First name. Used when creating the account, and kept up to date for the API key's own account.
      - When the module creates an account and this is not set, the account gets an empty first name; some
        older servers refuse that.
    type: str
  last_name:
    description:
      - Last name. Used like O(first_name).
    type: str
  password:
    description:
      - Password for a new account, 6 to 64 characters. Required to create an account.
      - With O(update_password=always), the new password of the API key's own account.
      - With O(new_email), the current password of the API key's own account.
    type: str
  update_password:
    description:
      - V(on_create) uses O(password) only when the module creates the account.
      - V(always) also sets O(password) on the API key's own account on every run, with C(change_password)
        (available on servers up to March 2024).
    type: str
    choices: [on_create, always]
    default: on_create
  old_password:
    description:
      - Current password of the API key's own account, needed with O(update_password=always) if the account
        has a password already.
    type: str
  new_email:
    description:
      - Change the email address of the API key's own account from O(email) to this address, with
        C(change_email_address). Needs O(password), the account's current password.
      - Once the address is changed, a second run finds the account by O(new_email) and changes nothing.
    type: str
  state:
    description:
      - V(present) creates the account if no account has the address O(email).
      - V(absent) deletes the account with C(delete_account). Only old servers (up to May 2019) offer this
        call; on newer servers the module fails and says so. Deleting an address without an account changes
        nothing.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Accounts of other people are found with C(user_search) by exact email address; the API key's own account
    is read with a C(query) on C(accounts).
  - The server may send a verification email to a new account.
  - In check mode the module makes only read calls and reports what it would change.
  - "API generations: on current CoCalc (api/v2 and conat) names and O(new_email) work as on API v1;
    C(auth/sign-up) creates accounts (admin keys only) and gives each a first project.
    O(update_password=always) and O(state=absent) have no counterpart there and fail with a message saying so."
'''

EXAMPLES = r'''
- name: Accounts for the students (connection options from module_defaults)
  module_defaults:
    group/cocalc.cocalc.cocalc:
      api_url: https://cocalc.example.org
      api_key: "{{ cocalc_api_key }}"
  block:
    - name: Create an account unless the address has one
      cocalc.cocalc.cocalc_account:
        email: "{{ item.email }}"
        first_name: "{{ item.first_name }}"
        last_name: "{{ item.last_name }}"
        password: "{{ item.initial_password }}"
      loop: "{{ students }}"
      loop_control:
        label: "{{ item.email }}"
      no_log: true
      register: student_accounts

    - name: Keep the names of the API key's own account
      cocalc.cocalc.cocalc_account:
        email: teacher@example.org
        first_name: Ada
        last_name: Lovelace

    - name: Move the API key's own account to a new address
      cocalc.cocalc.cocalc_account:
        email: teacher@example.org
        new_email: ada@example.org
        password: "{{ teacher_password }}"
'''

RETURN = r'''
account:
  description:
    - The account after the run (in check mode, as it would be). V(null) when absent.
    - Never contains a password.
  returned: always
  type: dict
  contains:
    account_id:
      description: The account ID. V(null) for an account that check mode would create.
      type: str
      sample: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
    email:
      description: The email address, lower-cased as the server stores it.
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
password_changed:
  description: Whether the password of the API key's own account was (or, in check mode, would be) set.
  returned: when the account is the API key's own and O(state=present)
  type: bool
  sample: false
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._accounts import ensure_account
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule


def main():
    module = CocalcModule(
        argument_spec=dict(
            email=dict(type='str', required=True),
            first_name=dict(type='str'),
            last_name=dict(type='str'),
            password=dict(type='str', no_log=True),
            update_password=dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False),
            old_password=dict(type='str', no_log=True),
            new_email=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        result_key='account',
        checks={'email': 'email', 'new_email': 'email'},
        supports_check_mode=True,
    )
    module.run(ensure_account)


if __name__ == '__main__':
    main()
