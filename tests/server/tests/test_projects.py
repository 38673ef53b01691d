"""create_project and the collaborator endpoints (reference section 4, real-hub NOTES 13, FLOWS.md).

invite_collaborator, remove_collaborator, invite_noncloud_collaborators (with the outbox the server
keeps instead of sending mail) and, recorded on the 2024 hub only, add_collaborator, touch_project,
disconnect_from_project and the license calls.
"""

import re
import uuid

import pytest

from cocalc_testlib import UUID_RE, unique

NOWHERE = '00000000-0000-4000-8000-000000000000'


def test_create_project(server, alice):
    answer = alice.api.ok('create_project', title='API Test Project', description='created via api v1', id='c-1')
    assert answer['event'] == 'project_created' and answer['id'] == 'c-1' and re.fullmatch(UUID_RE, answer['project_id'])
    project = answer['project_id']
    row = alice.project(project, 'title', 'description', 'users', 'deleted', 'created', 'last_edited')
    assert row['title'] == 'API Test Project' and row['description'] == 'created via api v1' and row['deleted'] is None
    assert row['users'] == {alice.account_id: {'group': 'owner'}}
    assert row['created'] and row['last_edited']
    assert server.home(project).is_dir()


def test_create_project_defaults_and_not_idempotent(alice):
    first = alice.api.ok('create_project')['project_id']
    assert alice.project(first, 'title', 'description') == {'project_id': first, 'title': '', 'description': ''}
    again = [alice.new_project(title='same title') for dummy in range(2)]
    assert len(set(again)) == 2
    rows = alice.api.query({'projects_all': [{'project_id': None, 'title': 'same title'}]})['projects_all']
    assert sorted(row['project_id'] for row in rows) == sorted(again)


def test_create_project_state(alice):
    stopped = alice.new_project(start=False)
    assert alice.project(stopped, 'state')['state']['state'] == 'opened'
    started = alice.new_project(start=True)
    assert alice.project(started, 'state')['state']['state'] in ('starting', 'running')


def test_2024_create_project_options(server_2024):
    alice = server_2024.new_account('alice')
    assert alice.api.ok('create_project', title='noPool', noPool=True, start=False)['event'] == 'project_created'
    assert alice.api.ok('create_project', title='with image', image='ubuntu2204')['event'] == 'project_created'
    assert alice.api.http400('create_project', {'title': 'x', 'bogus': 1}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'bogus' '"


def test_guide_create_project_has_no_later_options(server_guide):
    assert server_guide.api().http400('create_project', {'title': 'x', 'noPool': True}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'noPool' '"


def test_project_compute_image_and_settings_defaults(server_2024):
    alice = server_2024.new_account('alice')
    project = alice.new_project(start=False)
    row = alice.project(project, 'compute_image', 'settings')
    assert row['compute_image'] == 'ubuntu2204'
    assert row['settings'] == {'disk_quota': 3000, 'cores': 1, 'cpu_shares': 0, 'memory': 1000, 'memory_request': 0, 'mintime': 1800,
                               'network': 0, 'member_host': 0, 'ephemeral_state': 0, 'ephemeral_disk': 0, 'always_running': 0}


# -- invite / remove -----------------------------------------------------------------------------------
def test_invite_and_remove_collaborator(alice, bob, project):
    answer = alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id, id='inv-1')
    assert answer == {'event': 'success', 'id': 'inv-1'}
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}, bob.account_id: {'group': 'collaborator'}}
    assert bob.project(project, 'title')['project_id'] == project
    assert alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)['event'] == 'success'
    assert alice.users(project)[bob.account_id] == {'group': 'collaborator'}
    assert alice.api.ok('remove_collaborator', project_id=project, account_id=bob.account_id)['event'] == 'success'
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}}
    assert bob.api.query_error({'projects': {'project_id': project, 'title': None}}) == 'FATAL: you do not have read access to this project'
    assert alice.api.ok('remove_collaborator', project_id=project, account_id=bob.account_id)['event'] == 'success'


def test_removing_the_owner_changes_nothing(alice, bob, project):
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)
    assert bob.api.ok('remove_collaborator', project_id=project, account_id=alice.account_id)['event'] == 'success'
    assert alice.api.ok('remove_collaborator', project_id=project, account_id=alice.account_id)['event'] == 'success'
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}, bob.account_id: {'group': 'collaborator'}}


def test_collaborator_can_remove_another_collaborator(server, alice, bob, project):
    carol = server.new_account('carol')
    for account in (bob, carol):
        alice.api.ok('invite_collaborator', project_id=project, account_id=account.account_id)
    bob.api.ok('remove_collaborator', project_id=project, account_id=carol.account_id)
    assert set(alice.users(project)) == {alice.account_id, bob.account_id}


def test_inviting_the_owner_demotes_them(alice, project):
    alice.api.ok('invite_collaborator', project_id=project, account_id=alice.account_id)
    assert alice.users(project) == {alice.account_id: {'group': 'collaborator'}}


def test_invite_unknown_account_is_added(alice, project):
    ghost = str(uuid.uuid4())
    assert alice.api.ok('invite_collaborator', project_id=project, account_id=ghost)['event'] == 'success'
    assert alice.users(project)[ghost] == {'group': 'collaborator'}


def test_invite_errors(server, alice, bob, project):
    error = bob.api.error('invite_collaborator', project_id=project, account_id=bob.account_id)
    if server.era == '2024':
        assert error == 'User %s does not have write access to project %s' % (bob.account_id, project)
    assert bob.account_id not in alice.users(project)
    assert alice.api.error('invite_collaborator', project_id=project, account_id='not-a-uuid') == 'invalid account_id -- not-a-uuid'
    assert alice.api.http400('invite_collaborator', {'project_id': project}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: property 'account_id' must be specified: '"
    assert alice.api.http400('remove_collaborator', {'project_id': project}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: property 'account_id' must be specified: '"


def test_remove_collaborator_needs_write_access(alice, bob, server, project):
    carol = server.new_account('carol')
    alice.api.ok('invite_collaborator', project_id=project, account_id=carol.account_id)
    assert bob.api.call('remove_collaborator', project_id=project, account_id=carol.account_id)['event'] == 'error'
    assert carol.account_id in alice.users(project)


def test_invite_collaborator_with_email_writes_the_outbox(server, alice, bob, project):
    before = len(server.outbox())
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id, title='Renamed Title',
                 link2proj='http://127.0.0.1/projects/%s' % project, replyto=alice.email, replyto_name='Alice',
                 email='Join my project', subject='Invitation %s' % project)
    mails = [mail for mail in server.outbox()[before:] if mail['to'] == bob.email]
    assert len(mails) == 1 and mails[0]['subject'] == 'Invitation %s' % project and 'Join my project' in mails[0]['body']
    # One invite per address per project per throttle period.
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id, email='again', subject='again')
    assert len([mail for mail in server.outbox()[before:] if mail['to'] == bob.email]) == 1


# -- invite_noncloud_collaborators --------------------------------------------------------------------------
def noncloud(account, project, to, **options):
    options.setdefault('email', 'Please join my project.')
    options.setdefault('title', 'Flow project')
    options.setdefault('link2proj', 'https://cocalc.example/projects/%s' % project)
    return account.api.call('invite_noncloud_collaborators', project_id=project, to=to, **options)


def test_invite_noncloud(server):
    alice, bob = server.new_account('alice'), server.new_account('bob')
    project = alice.new_project()
    nobody = '%s@example.com' % unique('nobody')
    before = len(server.outbox())
    answer = noncloud(alice, project, nobody)
    assert answer['event'] == 'invite_noncloud_collaborators_resp' and answer['mesg'] == 'Invited %s to collaborate on a project.' % nobody
    assert noncloud(alice, project, nobody)['mesg'] == answer['mesg']
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}}
    invite = alice.project(project, 'invite')['invite']
    assert list(invite) == [nobody] and set(invite[nobody]) == {'time'}
    mails = [mail for mail in server.outbox()[before:] if mail['to'] == nobody]
    assert mails and mails[0]['subject'] == 'CoCalc Invitation' and 'Please join my project.' in mails[0]['body']
    assert mails[0].get('project_id') == project
    mixed = '%s, %s' % ('%s@example.com' % unique('nobody2'), bob.email)
    assert noncloud(alice, project, mixed)['mesg'] == 'Invited %s to collaborate on a project.' % mixed
    assert alice.users(project)[bob.account_id] == {'group': 'collaborator'}
    assert noncloud(alice, project, 'not-an-email')['error'] == "invalid email address 'not-an-email'"


def test_invite_noncloud_limits_and_access(server):
    alice, bob = server.new_account('alice'), server.new_account('bob')
    project = alice.new_project()
    long_address = 'x' * 130 + '@example.com'
    assert noncloud(alice, project, long_address)['error'] == "email address must be at most 128 characters: '%s'" % long_address
    many = ','.join('p%d-%s@example.com' % (i, uuid.uuid4().hex) for i in range(30))
    assert len(many) > 1024
    assert noncloud(alice, project, many)['error'] == 'Specify less recipients when adding collaborators to project.'
    assert noncloud(bob, project, 'someone@example.com')['event'] == 'error'


def test_noncloud_invite_is_applied_when_the_account_is_created(server):
    alice = server.new_account('alice')
    project = alice.new_project()
    newcomer = '%s@example.com' % unique('newcomer')
    noncloud(alice, project, newcomer)
    made = server.api().ok('create_account', first_name='New', last_name='Comer', email_address=newcomer, password='new-pass-123',
                           agreed_to_terms=True)
    assert alice.users(project)[made['account_id']] == {'group': 'collaborator'}


# -- 2024-only calls recorded on the real hub ------------------------------------------------------------------
def test_2024_add_collaborator(server_2024):
    alice, bob = server_2024.new_account('alice'), server_2024.new_account('bob')
    project, bobs = alice.new_project(), bob.new_project()
    api = alice.api
    assert api.ok('add_collaborator', project_id=project, account_id=bob.account_id)['event'] == 'success'
    assert api.ok('add_collaborator', project_id=project, account_id=bob.account_id)['event'] == 'success'
    assert api.ok('add_collaborator', project_id=[project], account_id=[bob.account_id])['event'] == 'success'
    assert alice.users(project)[bob.account_id] == {'group': 'collaborator'}
    assert api.ok('add_collaborator', project_id=project, account_id=NOWHERE)['event'] == 'success'
    assert api.error('add_collaborator', project_id=[project, project], account_id=[bob.account_id]) == \
        'Error: accounts (of length 1) and projects (of length 2) must be arrays of the same length'
    assert api.error('add_collaborator', project_id=project, account_id='not-a-uuid') == \
        'Error: all account id\'s must be valid uuid\'s, but "not-a-uuid" is not'
    assert api.error('add_collaborator', account_id=bob.account_id) == \
        'Error: all project id\'s must be valid uuid\'s (or empty), but "undefined" is not'
    assert api.error('add_collaborator', project_id=NOWHERE, account_id=bob.account_id) == \
        'Error: user %s does not have write access to project %s' % (alice.account_id, NOWHERE)
    assert api.error('add_collaborator', project_id=bobs, account_id=alice.account_id) == \
        'Error: cannot add self to "%s" -- must be an admin' % bobs
    reply = api.raw('add_collaborator', form='project_id=%s&account_id=%s' % (project, bob.account_id))
    assert reply.json['event'] == 'success'


def test_2024_touch_disconnect_licenses(server_2024):
    alice, bob = server_2024.new_account('alice'), server_2024.new_account('bob')
    project, bobs = alice.new_project(), bob.new_project()
    assert alice.api.ok('touch_project', project_id=project)['event'] == 'success'
    assert alice.api.error('touch_project', project_id=bobs) == 'unable to touch project %s -- must have write access' % bobs
    assert alice.api.ok('disconnect_from_project', project_id=project)['event'] == 'success'
    assert alice.api.ok('add_license_to_project', project_id=project, license_id=NOWHERE)['event'] == 'success'
    assert alice.api.ok('remove_license_from_project', project_id=project, license_id=NOWHERE)['event'] == 'success'


@pytest.mark.parametrize('endpoint, body, error', [
    ('get_available_upgrades', {}, 'Error: stripe customer not defined'),
    ('jupyter_kernels', {}, 'Error: Jupyter API is not enabled on this server.'),
    ('jupyter_execute', {'input': '2+3', 'kernel': 'python3'}, 'Error: Jupyter API is not enabled on this server.'),
])
def test_2024_external_services_are_not_configured(server_2024, endpoint, body, error):
    assert server_2024.api().error(endpoint, **body) == error
