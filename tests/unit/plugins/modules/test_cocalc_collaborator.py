# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_collaborator with the fake transport: the exact calls of each path."""

from __future__ import annotations

import json
from unittest.mock import ANY

import pytest

from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_collaborator
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import (
    API_KEY,
    API_URL,
    ApiCall,
    run_module_failed,
    run_module_success,
)

PID = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
PID2 = 'f122d520-e70c-4812-8945-57fe8839a247'
ME = '5134e292-3608-4e27-b5d1-645b92dc67fd'
BOB = '14fa9a1f-5f88-40de-a478-a775d0f7c9ff'
CAROL = 'a80ae000-76a1-4793-acf3-84826895f49b'
OWNER_ONLY = {ME: {'hide': False, 'group': 'owner'}}
WITH_BOB = {ME: {'hide': False, 'group': 'owner'}, BOB: {'group': 'collaborator'}}
FIELDS = {'title': None, 'users': None, 'invite': None, 'deleted': None}
LINK = '%s/projects/%s' % (API_URL, PID)
DEFAULT_MESSAGE = "You are invited to collaborate on the CoCalc project 'Algebra'."


def project_query(rows, project_id=PID, title=None, fields=None):
    spec = dict(fields or FIELDS, project_id=project_id)
    if title is not None:
        spec['title'] = title
    return ApiCall('query', {'query': {'projects_all': [spec]}}).reply(
        {'event': 'query', 'multi_response': False, 'query': {'projects_all': rows}})


def project_row(users, invite=None, project_id=PID, title='Algebra', deleted=None):
    # A list get omits null fields, as the real hub does.
    row = {'project_id': project_id, 'title': title, 'users': users}
    if invite is not None:
        row['invite'] = invite
    if deleted is not None:
        row['deleted'] = deleted
    return row


def read(users, invite=None):
    return project_query([project_row(users, invite)])


def search(emails, rows):
    return ApiCall('user_search', {'query': ','.join(emails), 'limit': len(emails)}).reply(
        {'event': 'user_search_results', 'results': rows})


def found(account_id, email):
    return {'account_id': account_id, 'first_name': 'X', 'last_name': 'Y', 'name': None, 'email_address': email,
            'last_active': None, 'created': 1795767313473, 'email_address_verified': None}


def usernames(ids, known):
    return ApiCall('get_usernames', {'account_ids': ids}).reply(
        {'event': 'usernames', 'usernames': dict((i, {'first_name': 'A', 'last_name': 'B'} if i in known else {}) for i in ids)})


def success(endpoint, account_id, project_id=PID):
    return ApiCall(endpoint, {'project_id': project_id, 'account_id': account_id}).reply({'event': 'success', 'id': 'x'})


def noncloud(to, **fields):
    body = dict(project_id=PID, to=to, email=DEFAULT_MESSAGE, title='Algebra', link2proj=LINK)
    body.update(fields)
    return ApiCall('invite_noncloud_collaborators', body).reply(
        {'event': 'invite_noncloud_collaborators_resp', 'mesg': 'Invited %s to collaborate on a project.' % to})


def whoami(account_id=ME):
    return ApiCall('query', {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None,
                                                    'last_name': None, 'groups': None}}}).reply(
        {'event': 'query', 'query': {'accounts': {'account_id': account_id, 'email_address': 'alice@example.com',
                                                  'first_name': 'Alice', 'last_name': 'T', 'groups': None}}})


def entry(account_id=None, email=None):
    return {'account_id': account_id, 'email': email}


# ---- present ----

def test_add_by_account_id(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB.upper()}, [
        read(OWNER_ONLY), usernames([BOB], [BOB]), success('invite_collaborator', BOB),
    ])
    assert result['changed'] is True
    people = result['collaborators']
    assert people['added'] == [entry(BOB)]
    assert people['removed'] == people['invited'] == people['unchanged'] == []
    assert people['users'] == {ME: {'group': 'owner'}, BOB: {'group': 'collaborator'}}
    assert people['owner'] == ME
    assert people['project_id'] == PID


def test_add_again_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB}, [read(WITH_BOB)])
    assert result['changed'] is False
    assert result['collaborators']['unchanged'] == [entry(BOB)]
    assert result['collaborators']['added'] == []
    assert 'diff' not in result


def test_add_by_email_resolves_with_user_search(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'email': 'Bob@Example.com'}, [
        read(OWNER_ONLY), search(['bob@example.com'], [found(BOB, 'bob@example.com')]), success('invite_collaborator', BOB),
    ])
    assert result['changed'] is True
    assert result['collaborators']['added'] == [entry(BOB, 'Bob@Example.com')]


def test_list_resolves_all_emails_in_one_search(monkeypatch):
    args = {'project_id': PID, 'collaborators': [{'email': 'bob@example.com'}, {'account_id': CAROL},
                                                 {'email': 'new@example.com'}, {'email': 'BOB@example.com'}]}
    result = run_module_success(monkeypatch, cocalc_collaborator, args, [
        read(OWNER_ONLY),
        search(['bob@example.com', 'new@example.com'], [found(BOB, 'bob@example.com')]),
        usernames([CAROL], [CAROL]),
        success('invite_collaborator', CAROL),
        success('invite_collaborator', BOB),
        noncloud('new@example.com'),
    ])
    people = result['collaborators']
    assert people['added'] == [entry(CAROL), entry(BOB, 'bob@example.com')]
    assert people['invited'] == [entry(None, 'new@example.com')]
    assert result['changed'] is True


def test_owner_named_with_present_is_left_alone(monkeypatch):
    # invite_collaborator on the owner would demote them: no call at all.
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': ME}, [read(OWNER_ONLY)])
    assert result['changed'] is False
    assert result['collaborators']['unchanged'] == [entry(ME)]
    assert result['collaborators']['users'][ME] == {'group': 'owner'}


def test_unknown_account_id_fails_before_adding(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': CAROL}, [
        read(OWNER_ONLY), usernames([CAROL], []),
    ])
    assert result['msg'] == 'account_id %s: no CoCalc account has this id' % CAROL


# ---- invitations of people without an account ----

def test_invite_without_account_sends_once(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'email': 'new@example.com'}, [
        read(OWNER_ONLY), search(['new@example.com'], []), noncloud('new@example.com'),
    ])
    assert result['changed'] is True
    assert result['collaborators']['invited'] == [entry(None, 'new@example.com')]
    assert result['collaborators']['users'] == {ME: {'group': 'owner'}}


def test_recorded_invitation_is_not_sent_again(monkeypatch):
    invite = {'new@example.com': {'time': '2026-11-27T08:48:08.077Z'}}
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'email': 'New@example.com'}, [
        read(OWNER_ONLY, invite), search(['new@example.com'], []),
    ])
    assert result['changed'] is False
    assert result['collaborators']['unchanged'] == [entry(None, 'New@example.com')]
    assert result['collaborators']['invited'] == []


def test_reinvite_sends_again_with_the_options(monkeypatch):
    invite = {'new@example.com': {'time': '2026-11-27T08:48:08.077Z'}}
    args = {'project_id': PID, 'email': 'new@example.com', 'reinvite': True, 'invite_message': 'Welcome!',
            'invite_subject': 'Algebra', 'invite_link': 'https://cocalc.example.org/p/x', 'reply_to': 'teacher@example.org'}
    result = run_module_success(monkeypatch, cocalc_collaborator, args, [
        read(OWNER_ONLY, invite), search(['new@example.com'], []),
        noncloud('new@example.com', email='Welcome!', link2proj='https://cocalc.example.org/p/x', subject='Algebra',
                 replyto='teacher@example.org'),
    ])
    assert result['changed'] is True
    assert result['collaborators']['invited'] == [entry(None, 'new@example.com')]


def test_invite_suboptions_send_the_same_invitation(monkeypatch):
    invite = {'new@example.com': {'time': '2026-11-27T08:48:08.077Z'}}
    args = {'project_id': PID, 'email': 'new@example.com', 'reinvite': True, 'invite': {
        'body': 'Welcome!', 'subject': 'Algebra', 'link': 'https://cocalc.example.org/p/x', 'reply_to': 'teacher@example.org'}}
    result = run_module_success(monkeypatch, cocalc_collaborator, args, [
        read(OWNER_ONLY, invite), search(['new@example.com'], []),
        noncloud('new@example.com', email='Welcome!', link2proj='https://cocalc.example.org/p/x', subject='Algebra',
                 replyto='teacher@example.org'),
    ])
    assert result['changed'] is True


def test_recorded_invitation_error_is_a_warning(monkeypatch):
    invite = {'new@example.com': {'time': '2026-11-27T08:48:08.077Z', 'error': 'mail server down'}}
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'email': 'new@example.com'}, [
        read(OWNER_ONLY, invite), search(['new@example.com'], []),
    ])
    assert result['changed'] is False
    assert result.warnings == ['the server recorded an error for the invitation of new@example.com: mail server down '
                               '(set reinvite=true to send it again)']


def test_many_invitations_are_split_at_1024_characters(monkeypatch):
    emails = ['student-number-%03d@example.org' % n for n in range(40)]   # 30 characters each
    first = ', '.join(emails[:32])   # 32 * 30 + 31 * 2 = 1022 characters; one more would pass 1024
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'collaborators': [{'email': e} for e in emails]}, [
        # One user_search for all addresses; the invitations are split.
        read(OWNER_ONLY), search(emails, []), noncloud(first), noncloud(', '.join(emails[32:])),
    ])
    assert len(first) <= 1024
    assert len(result['collaborators']['invited']) == 40


def test_server_without_readable_invite_field_keeps_a_record_in_the_project(monkeypatch):
    refused = ApiCall('query', {'query': {'projects_all': [dict(FIELDS, project_id=PID)]}}).error(
        'FATAL: user get query not allowed for projects_all.invite')
    without_invite = {'title': None, 'users': None, 'deleted': None}
    calls = [
        refused, project_query([project_row(OWNER_ONLY)], fields=without_invite),
        search(['new@example.com'], []),
        ApiCall('read_text_file_from_project', {'project_id': PID, 'path': '.cocalc-ansible-invites.json'}).error(
            "Error: ENOENT: no such file or directory, stat '/home/user/.cocalc-ansible-invites.json'"),
        noncloud('new@example.com'),
        # The content holds the time of sending: its shape is checked after the run.
        ApiCall('write_text_file_to_project', {'project_id': PID, 'path': '.cocalc-ansible-invites.json', 'content': ANY})
        .reply({'event': 'file_written_to_project'}),
    ]
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'email': 'new@example.com'}, calls)
    assert result['changed'] is True
    written = json.loads(result.transport.requests[-1]['body']['content'])
    assert list(written) == ['new@example.com'] and 'time' in written['new@example.com']

    # The next run reads the record and sends nothing.
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'email': 'new@example.com'}, [
        refused, project_query([project_row(OWNER_ONLY)], fields=without_invite),
        search(['new@example.com'], []),
        ApiCall('read_text_file_from_project', {'project_id': PID, 'path': '.cocalc-ansible-invites.json'}).reply(
            {'event': 'text_file_read_from_project', 'content': json.dumps(written)}),
    ])
    assert result['changed'] is False


# ---- absent and purge ----

def test_remove(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB, 'state': 'absent'}, [
        read(WITH_BOB), success('remove_collaborator', BOB),
    ])
    assert result['changed'] is True
    assert result['collaborators']['removed'] == [entry(BOB)]
    assert result['collaborators']['users'] == {ME: {'group': 'owner'}}


def test_remove_someone_absent_makes_no_call(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB, 'state': 'absent'}, [
        read(OWNER_ONLY),
    ])
    assert result['changed'] is False
    assert result['collaborators']['unchanged'] == [entry(BOB)]


def test_remove_owner_is_refused_with_a_warning_and_no_call(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': ME, 'state': 'absent'}, [
        read(WITH_BOB),
    ])
    assert result['changed'] is False
    assert result.warnings == ['%s is an owner of project %s; CoCalc cannot remove an owner, so it was left alone' % (ME, PID)]
    assert result['collaborators']['unchanged'] == [entry(ME)]


def test_purge_keeps_owner_and_the_keys_own_account(monkeypatch):
    other_owner = {CAROL: {'group': 'owner'}, ME: {'group': 'collaborator'}, BOB: {'group': 'collaborator'},
                   '00000000-0000-4000-8000-000000000001': {'group': 'collaborator'}}
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'collaborators': [{'account_id': BOB}], 'purge': True}, [
        read(other_owner), whoami(ME), success('remove_collaborator', '00000000-0000-4000-8000-000000000001'),
    ])
    assert result['changed'] is True
    assert result['collaborators']['removed'] == [entry('00000000-0000-4000-8000-000000000001')]
    assert set(result['collaborators']['users']) == set([CAROL, ME, BOB])


def test_purge_with_empty_list_is_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'collaborators': [], 'purge': True}, [
        read(OWNER_ONLY), whoami(ME),
    ])
    assert result['changed'] is False


# ---- check mode and diff ----

def test_check_mode_predicts_without_writing(monkeypatch):
    args = {'project_id': PID, 'collaborators': [{'account_id': BOB}, {'email': 'new@example.com'}]}
    result = run_module_success(monkeypatch, cocalc_collaborator, args, [
        read(OWNER_ONLY), search(['new@example.com'], []), usernames([BOB], [BOB]),
    ], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['collaborators']['added'] == [entry(BOB)]
    assert result['collaborators']['invited'] == [entry(None, 'new@example.com')]
    assert result['diff'] == {'before': {}, 'after': {BOB: 'collaborator', 'new@example.com': 'invited'}}
    assert [r['endpoint'] for r in result.transport.requests] == ['query', 'user_search', 'get_usernames']


def test_check_mode_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB}, [read(WITH_BOB)],
                                check_mode=True, diff=True)
    assert result['changed'] is False
    assert 'diff' not in result


def test_check_mode_purge(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'collaborators': [], 'purge': True}, [
        read(WITH_BOB), whoami(ME),
    ], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['diff'] == {'before': {BOB: 'collaborator'}, 'after': {}}
    assert result['collaborators']['removed'] == [entry(BOB)]


def test_diff_of_a_removal(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB, 'state': 'absent'}, [
        read(WITH_BOB), success('remove_collaborator', BOB),
    ], diff=True)
    assert result['diff'] == {'before': {BOB: 'collaborator'}, 'after': {}}


# ---- finding the project ----

def test_project_title_finds_the_one_live_project(monkeypatch):
    rows = [project_row(WITH_BOB), project_row(OWNER_ONLY, project_id=PID2, deleted=True)]
    result = run_module_success(monkeypatch, cocalc_collaborator, {'project_title': 'Algebra', 'account_id': BOB}, [
        project_query(rows, project_id=None, title='Algebra'),
    ])
    assert result['changed'] is False
    assert result['collaborators']['project_id'] == PID


def test_project_title_ambiguous_fails_listing_ids(monkeypatch):
    rows = [project_row(WITH_BOB, project_id=PID2), project_row(OWNER_ONLY)]
    result = run_module_failed(monkeypatch, cocalc_collaborator, {'project_title': 'Algebra', 'account_id': BOB}, [
        project_query(rows, project_id=None, title='Algebra'),
    ])
    assert result['msg'] == "2 projects match title 'Algebra': %s, %s; set project_id to choose one" % (PID, PID2)


def test_project_title_not_found(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_collaborator, {'project_title': 'Nope', 'account_id': BOB}, [
        project_query([], project_id=None, title='Nope'),
    ])
    assert result['msg'] == "project_title 'Nope': no project with this title is visible to the API key"


def test_title_is_the_option_and_project_title_its_alias(monkeypatch):
    rows = [project_row(WITH_BOB)]
    result = run_module_success(monkeypatch, cocalc_collaborator, {'title': 'Algebra', 'account_id': BOB}, [
        project_query(rows, project_id=None, title='Algebra'),
    ])
    assert result['collaborators']['project_id'] == PID
    result = run_module_failed(monkeypatch, cocalc_collaborator, {'title': 'Nope', 'account_id': BOB}, [
        project_query([], project_id=None, title='Nope'),
    ])
    assert result['msg'] == "title 'Nope': no project with this title is visible to the API key"
    result = run_module_failed(monkeypatch, cocalc_collaborator, {'title': ' ', 'account_id': BOB}, [])
    assert 'title must be a non-empty string' in result['msg']


def test_someone_elses_project_is_a_clear_failure(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB}, [
        ApiCall('query', {'query': {'projects_all': [dict(FIELDS, project_id=PID)]}}).error(
            'FATAL: you do not have read access to this project'),
    ])
    assert result['msg'] == ("Could not read project %s: API call 'query' failed (HTTP 200, event 'error'): "
                             "FATAL: you do not have read access to this project" % PID)
    assert result['api_error']['event'] == 'error'


def test_write_error_names_what_was_attempted(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_collaborator, {'project_id': PID, 'account_id': BOB}, [
        read(OWNER_ONLY), usernames([BOB], [BOB]),
        ApiCall('invite_collaborator', {'project_id': PID, 'account_id': BOB}).error(
            'User %s does not have write access to project %s' % (ME, PID)),
    ])
    assert result['msg'].startswith("Could not add %s to project %s: API call 'invite_collaborator' failed" % (BOB, PID))
    assert API_KEY not in result.text


# ---- bad input: no call at all ----

@pytest.mark.parametrize('args, fragment', [
    ({'project_id': 'not-a-uuid', 'account_id': BOB}, "project_id must be a UUID"),
    ({'project_id': PID, 'account_id': 'bob'}, "account_id must be a UUID"),
    ({'project_id': PID, 'email': ''}, "email must be one email address"),
    ({'project_id': PID, 'collaborators': [{'email': 'a@b.org'}, {'email': 'nope'}]}, "collaborators[1].email must be one email address"),
    ({'project_id': PID, 'collaborators': [{'account_id': 'x'}]}, "collaborators[0].account_id must be a UUID"),
    ({'project_id': PID, 'collaborators': [{'account_id': BOB, 'email': 'a@b.org'}]}, 'mutually exclusive: account_id|email'),
    ({'project_id': PID, 'collaborators': [{}]}, 'one of the following is required: account_id, email'),
    ({'project_title': {'t': 1}, 'account_id': BOB}, 'project_title must be a string, got a dict'),
    ({'project_title': '  ', 'account_id': BOB}, 'project_title must be a non-empty string'),
    ({'project_title': ['Algebra'], 'account_id': BOB}, 'project_title must be a string, got a list'),
    ({'project_id': PID, 'account_id': BOB, 'state': 'absent', 'purge': True}, 'purge removes everyone not listed, so it needs state=present'),
    ({'project_id': PID, 'account_id': BOB, 'state': 'gone'}, 'value of state must be one of: present, absent'),
    ({'project_id': PID, 'account_id': BOB, 'invite_link': 'ftp://x'}, 'invite_link must be an http:// or https:// URL'),
    ({'project_id': PID, 'account_id': BOB, 'reply_to': 'me'}, 'reply_to must be one email address'),
    ({'project_id': PID, 'account_id': BOB, 'invite': {'reply_to': 'me'}}, 'invite.reply_to must be one email address'),
    ({'project_id': PID, 'account_id': BOB, 'invite': {'link': 'ftp://x'}}, 'invite.link must be an http:// or https:// URL'),
    ({'project_id': PID, 'account_id': BOB, 'invite': {'subject': 'a\nBcc: b@c.org'}}, 'invite.subject must be one line'),
    ({'project_id': PID, 'account_id': BOB, 'invite': {'body': ' '}}, 'invite.body must be a non-empty string'),
    ({'project_id': PID, 'account_id': BOB, 'invite': {'body': 'x'}, 'invite_message': 'y'}, 'mutually exclusive: invite|invite_message'),
    ({'project_id': PID, 'account_id': BOB, 'email': 'a@b.org'}, 'mutually exclusive: account_id|email|collaborators'),
    ({'project_id': PID}, 'one of the following is required: account_id, email, collaborators'),
    ({'account_id': BOB}, 'one of the following is required: project_id, title'),
])
def test_bad_input_fails_before_any_call(monkeypatch, args, fragment):
    result = run_module_failed(monkeypatch, cocalc_collaborator, args, [])
    assert fragment in result['msg']
