#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_collaborator
short_description: Manage the people on a CoCalc project
version_added: 0.1.0
description:
  - Adds people to a CoCalc project as collaborators, removes them, and invites people who have no CoCalc
    account yet by email.
  - Name one person with O(account_id) or O(email), or many with O(collaborators). With O(purge=true) the
    list is authoritative and everyone else is removed (never an owner, never the account of O(api_key)).
  - Reads the project's people first and changes only what differs, so a second run makes no change and
    no write call. Emails are turned into accounts with one C(user_search) call for the whole list.
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
      - With O(reinvite=true) the invitations of people without an account are sent again on every run.
options:
  project_id:
    description:
      - ID of the project. The API key's account must be an owner or collaborator of it.
      - Exactly one of O(project_id) and O(title) is required.
    type: str
  title:
    description:
      - Title of the project, as an alternative to O(project_id). Exactly one non-deleted project visible to
        the API key must have this title; if several do, the module fails and lists their IDs.
      - O(project_title) is this option's earlier name and still works. The name is now the same as in
        M(cocalc.cocalc.cocalc_project), O(cocalc.cocalc.cocalc_project#module:title).
    type: str
    aliases: [project_title]
  account_id:
    description:
      - One person, by account ID. The module fails if no account has this ID (the server itself would add
        an unknown ID without complaint).
      - Exactly one of O(account_id), O(email) and O(collaborators) is required.
    type: str
  email:
    description:
      - One person, by email address (case does not matter).
      - If nobody has an account with this address and O(state=present), an invitation is sent to it
        instead (see O(invite_body)); the person joins the project when they sign up with this address.
    type: str
  collaborators:
    description:
      - Several people, each named by O(collaborators[].account_id) or O(collaborators[].email).
      - An empty list together with O(purge=true) removes everyone but the owner and the API key's account.
    type: list
    elements: dict
    suboptions:
      account_id:
        description: Account ID of the person.
        type: str
      email:
        description: Email address of the person; handled like O(email).
        type: str
  state:
    description:
      - V(present) adds the people (and invites addresses without an account); people already on the
        project are left as they are.
      - V(absent) removes them. Removing someone who is not on the project changes nothing. An owner is never
        removed (CoCalc does not allow it); the module leaves the owner alone and warns.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also remove everyone on the project who is not named, except the owner and
        the account of O(api_key).
    type: bool
    default: false
  reinvite:
    description:
      - Send the invitation to addresses without an account again, even if the project records that they
        were invited already. Without it, each address is invited once.
    type: bool
    default: false
  invite_body:
    description:
      - Text of the invitation email to addresses without an account. CoCalc adds sign-up instructions.
      - Defaults to a sentence naming the project title.
      - The same word as cocalc.cocalc.cocalc_course's O(cocalc.cocalc.cocalc_course#module:invite.body).
    type: str
    aliases: [invite_message]
  invite_subject:
    description:
      - Subject of the invitation email. The server's default is C(CoCalc Invitation).
    type: str
  invite_link:
    description:
      - Link to the project in the invitation email.
      - Defaults to C(<api_url>/projects/<project_id>).
    type: str
  reply_to:
    description:
      - Reply-To address of the invitation email.
    type: str
notes:
  - Adding uses C(invite_collaborator), removing C(remove_collaborator), inviting C(invite_noncloud_collaborators).
    People with an account are added directly and get no email from this module.
  - The server records each invitation in the project's C(invite) field, which is how a second run knows
    that an address was invited. On a server that does not let the API key read that field, the module
    keeps the record in the file C(.cocalc-ansible-invites.json) in the project's home directory.
  - An invitation only reaches the person if the server can send email.
  - In check mode the module makes only read calls and reports what it would change.
  - "API generations: works the same on current CoCalc (api/v2 and conat); people are added and removed with
    C(projects/collaborators/add) and C(projects/collaborators/remove), addresses without an account are
    invited through the hub's C(projects.inviteCollaboratorWithoutAccount)."
'''

EXAMPLES = r'''
- name: Add a teaching assistant to a project (connection options from module_defaults)
  module_defaults:
    group/cocalc.cocalc.cocalc:
      api_url: https://cocalc.example.org
      api_key: "{{ cocalc_api_key }}"
  block:
    - name: Add by email
      cocalc.cocalc.cocalc_collaborator:
        title: Algebra 101
        email: ta@example.org

    - name: Make the project's people exactly these (the owner always stays)
      cocalc.cocalc.cocalc_collaborator:
        project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
        collaborators:
          - email: ada@example.org
          - email: grace@example.org
          - account_id: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
        purge: true
        invite_subject: Your project for Algebra 101
        invite_body: Welcome to Algebra 101. Please sign up with this address to get your project.
      register: people

    - name: Show who was invited by email
      ansible.builtin.debug:
        msg: "{{ people.collaborators.invited | map(attribute='email') | list }}"

    - name: Remove a person
      cocalc.cocalc.cocalc_collaborator:
        project_id: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
        account_id: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
        state: absent
'''

RETURN = r'''
collaborators:
  description:
    - What the module did (or would do, in check mode) and the project's people afterwards.
    - Each entry of RV(collaborators.added), RV(collaborators.removed), RV(collaborators.invited) and
      RV(collaborators.unchanged) has C(account_id) (V(null) for an address without an account) and
      C(email) (V(null) when the person was named by account ID).
  returned: always
  type: dict
  contains:
    project_id:
      description: ID of the project.
      type: str
      sample: 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b
    added:
      description: People added as collaborators.
      type: list
      elements: dict
      sample: [{account_id: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3, email: ada@example.org}]
    removed:
      description: People removed (named with O(state=absent), or not named with O(purge=true)).
      type: list
      elements: dict
      sample: [{account_id: 14fa9a1f-5f88-40de-a478-a775d0f7c9ff, email: null}]
    invited:
      description: Addresses without an account that were sent an invitation in this run.
      type: list
      elements: dict
      sample: [{account_id: null, email: grace@example.org}]
    unchanged:
      description:
        - Named people that needed no change. This includes people already on the project (or already
          absent), addresses invited in an earlier run, and an owner named with O(state=absent).
      type: list
      elements: dict
      sample: [{account_id: 5134e292-3608-4e27-b5d1-645b92dc67fd, email: null}]
    owner:
      description: Account ID of the project's owner (V(null) if the project has none).
      type: str
      sample: 5134e292-3608-4e27-b5d1-645b92dc67fd
    users:
      description: The project's people after the run, as a map from account ID to C(group) (V(owner) or V(collaborator)).
      type: dict
      sample:
        5134e292-3608-4e27-b5d1-645b92dc67fd:
          group: owner
        25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3:
          group: collaborator
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._collaborators import ensure_collaborators
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule


def main():
    module = CocalcModule(
        argument_spec=dict(
            project_id=dict(type='str'),
            title=dict(type='str', aliases=['project_title']),
            account_id=dict(type='str'),
            email=dict(type='str'),
            collaborators=dict(type='list', elements='dict', options=dict(
                account_id=dict(type='str'),
                email=dict(type='str'),
            ), mutually_exclusive=[('account_id', 'email')], required_one_of=[('account_id', 'email')]),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            purge=dict(type='bool', default=False),
            reinvite=dict(type='bool', default=False),
            invite_body=dict(type='str', aliases=['invite_message']),
            invite_subject=dict(type='str'),
            invite_link=dict(type='str'),
            reply_to=dict(type='str'),
        ),
        result_key='collaborators',
        mutually_exclusive=[('project_id', 'title'), ('account_id', 'email', 'collaborators')],
        required_one_of=[('project_id', 'title'), ('account_id', 'email', 'collaborators')],
        supports_check_mode=True,
    )
    module.run(ensure_collaborators)


if __name__ == '__main__':
    main()
