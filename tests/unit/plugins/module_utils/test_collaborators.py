# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The reusable pieces of _collaborators (what the course reconciler builds on): the pure
planner, one batched read for many projects, and apply_plan's exact writes."""

from __future__ import annotations

from ansible_collections.cocalc.cocalc.plugins.module_utils._collaborators import (
    INVITE_RECORD_PATH,
    MembershipPlan,
    apply_plan,
    plan_membership,
    read_projects,
    record_invitations,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._accounts import resolve_people
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, FakeCocalc

OWNER = '5134e292-3608-4e27-b5d1-645b92dc67fd'
ME = '25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3'
BOB = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
CAROL = 'a80ae000-76a1-4793-acf3-84826895f49b'
PID = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
USERS = {OWNER: {'group': 'owner', 'hide': False}, ME: {'group': 'collaborator'}, BOB: {'group': 'collaborator'}}


def lists(plan):
    return dict(add=plan.add, remove=plan.remove, invite=plan.invite, unchanged=plan.unchanged, owners_kept=plan.owners_kept)


def test_present_adds_only_the_missing():
    plan = plan_membership(USERS, [BOB, CAROL])
    assert lists(plan) == dict(add=[CAROL], remove=[], invite=[], unchanged=[BOB], owners_kept=[])
    assert plan.changed
    assert plan.users_after(USERS) == {OWNER: {'group': 'owner'}, ME: {'group': 'collaborator'},
                                       BOB: {'group': 'collaborator'}, CAROL: {'group': 'collaborator'}}


def test_owner_is_never_added_nor_removed():
    assert lists(plan_membership(USERS, [OWNER])) == dict(add=[], remove=[], invite=[], unchanged=[OWNER], owners_kept=[])
    plan = plan_membership(USERS, [OWNER, BOB], state='absent')
    assert lists(plan) == dict(add=[], remove=[BOB], invite=[], unchanged=[], owners_kept=[OWNER])


def test_absent_for_non_members_and_emails_is_no_change():
    plan = plan_membership(USERS, [CAROL], ['new@example.org'], state='absent')
    assert not plan.changed
    assert plan.unchanged == [CAROL, 'new@example.org']


def test_purge_spares_owner_and_me():
    plan = plan_membership(USERS, [], purge=True, me=ME)
    assert plan.remove == [BOB]
    plan = plan_membership(USERS, [], purge=True, me=None)
    assert plan.remove == sorted([ME, BOB])


def test_invitations_once_unless_reinvite():
    invites = {'Known@Example.org': {'time': '2026-01-01T00:00:00Z'}}
    plan = plan_membership(USERS, [], ['known@example.org', 'new@example.org'], invites)
    assert plan.invite == ['new@example.org']
    assert plan.unchanged == ['known@example.org']
    plan = plan_membership(USERS, [], ['known@example.org'], invites, reinvite=True)
    assert plan.invite == ['known@example.org']


def test_empty_plan():
    plan = MembershipPlan()
    assert not plan.changed
    assert plan.users_after({}) == {}


def test_one_read_for_many_projects_and_one_search_for_many_emails(monkeypatch):
    rows = [{'project_id': PID, 'title': 'A', 'users': USERS, 'invite': {'x@example.org': {'time': 't'}}},
            {'project_id': CAROL, 'title': 'B', 'users': {OWNER: {'group': 'owner'}}, 'deleted': True}]
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', {'query': {'projects_all': [{'title': None, 'users': None, 'invite': None, 'deleted': None,
                                                      'project_id': None}]}}).reply({'event': 'query', 'query': {'projects_all': rows}}),
        ApiCall('user_search', {'query': 'bob@example.org,nobody@example.org', 'limit': 2}).reply(
            {'event': 'user_search_results', 'results': [{'account_id': BOB, 'email_address': 'bob@example.org'}]}),
    ])
    client = fake.client()
    projects = read_projects(client)
    assert [(p['project_id'], p['deleted'], p['invite']) for p in projects] == [
        (PID, False, {'x@example.org': {'time': 't'}}), (CAROL, True, {})]
    ids, without_account, email_of = resolve_people(client, [CAROL], ['Bob@example.org', 'nobody@example.org'])
    assert ids == [CAROL, BOB]
    assert without_account == ['nobody@example.org']
    assert email_of == {BOB: 'Bob@example.org'}
    fake.assert_done()


def test_apply_plan_makes_exactly_the_planned_writes(monkeypatch):
    plan = plan_membership(USERS, [CAROL], ['new@example.org'], {}, purge=True, me=ME)
    invitation = dict(email='Welcome', title='A', link2proj='https://x/projects/%s' % PID)
    fake = FakeCocalc(monkeypatch, [
        ApiCall('invite_collaborator', {'project_id': PID, 'account_id': CAROL}).reply({'event': 'success'}),
        ApiCall('invite_noncloud_collaborators', dict(invitation, project_id=PID, to='new@example.org')).reply(
            {'event': 'invite_noncloud_collaborators_resp', 'mesg': 'Invited new@example.org to collaborate on a project.'}),
        ApiCall('remove_collaborator', {'project_id': PID, 'account_id': BOB}).reply({'event': 'success'}),
    ])
    sent = apply_plan(fake.client(), PID, plan, invitation)
    assert list(sent) == ['new@example.org']
    fake.assert_done()


def test_record_invitations_merges_what_was_sent_into_the_record(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('write_text_file_to_project', {'project_id': PID, 'path': INVITE_RECORD_PATH, 'content': (
            '{\n  "a@example.org": {\n    "time": "t1"\n  },\n  "b@example.org": {\n    "time": "t2"\n  }\n}\n')})
        .reply({'event': 'file_written_to_project'}),
    ])
    record_invitations(fake.client(), PID, {'a@example.org': {'time': 't1'}}, {'b@example.org': {'time': 't2'}})
    fake.assert_done()
    record_invitations(fake.client(), PID, {'a@example.org': {'time': 't1'}}, {})   # nothing sent: no write
    fake.assert_done()
