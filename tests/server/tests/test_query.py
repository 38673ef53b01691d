"""The `query` endpoint (reference section 5, real-hub NOTES 8-9 and FLOWS.md).

get vs set by a null anywhere, single vs list form, options, table defaults, deep merge, `users`
validation, soft delete, per-user hide, action_request start/stop, the projects 21-day window, public
paths and accounts.
"""

import hashlib
import uuid

import pytest

from cocalc_testlib import unique

NOWHERE = '00000000-0000-4000-8000-000000000000'


def project_row(account, project_id, *fields, table='projects'):
    spec = dict.fromkeys(fields)
    spec['project_id'] = project_id
    return account.api.query({table: spec})[table]


def list_rows(account, spec, table='projects_all', **extra):
    return account.api.query({table: [spec]}, **extra)[table]


# -- shape and errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize('query, error', [
    ({}, "FATAL: invalid user_query of 'undefined' -- query must be an object"),
    ({'accounts': {'account_id': None}, 'projects': [{'project_id': None}]}, 'FATAL: must specify exactly one key in the query'),
    ('{"accounts": {"account_id": null}}', 'FATAL: must specify exactly one key in the query'),
    ({'no_such_table': {'x': None}}, "FATAL: get queries not allowed for table 'no_such_table'"),
    ({'accounts': {'account_id': None, 'api_key': None}}, 'FATAL: user get query not allowed for accounts.api_key'),
    ({'accounts': {'account_id': None, 'nonexistent_field': None}}, 'FATAL: user get query not allowed for accounts.nonexistent_field'),
    ({'accounts': [{'account_id': None}, {'account_id': None}]}, 'FATAL: array of length > 1 not yet implemented'),
    ({'accounts': {'email_address': 'new@example.com'}}, 'FATAL: changing accounts.email_address not allowed'),
    ({'accounts': {'created': '2020-01-01T00:00:00.000Z'}}, 'FATAL: changing accounts.created not allowed'),
    ({'accounts': {'first_name': ''}}, 'first_name must be nonempty'),
])
def test_query_errors(alice, query, error):
    assert alice.api.query_error(query) == error


def test_changefeeds_are_refused(alice):
    assert alice.api.query_error({'accounts': {'account_id': None}}, changes=True) == 'FATAL: changefeeds only implemented for multi-document queries'


def test_options_errors(alice):
    assert alice.api.query_error({'accounts': [{'account_id': None}]}, options=[{'foo': 1}]) == "unknown option 'foo'"
    error = alice.api.query_error({'accounts': [{'account_id': None}]}, options={'limit': 1})
    assert error.startswith('FATAL: options (=') and error.endswith(') must be an array'), error


def test_answer_echoes_the_request_with_the_result(alice):
    answer = alice.api.ok('query', query={'accounts': {'account_id': None}}, options=[{'limit': 5}], id='q-1')
    assert answer == {'query': {'accounts': {'account_id': alice.account_id}}, 'multi_response': False, 'options': [{'limit': 5}],
                      'event': 'query', 'id': 'q-1'}
    answer = alice.api.ok('query', query={'accounts': {'first_name': 'Alice'}})
    assert answer['query'] == {} and answer['multi_response'] is False and answer['event'] == 'query'


def test_array_of_queries_runs_in_series(alice):
    answer = alice.api.query([{'accounts': {'first_name': 'Serial'}}, {'accounts': {'account_id': None, 'first_name': None}}])
    assert answer == [{}, {'accounts': {'account_id': alice.account_id, 'first_name': 'Serial'}}]


# -- get vs set -----------------------------------------------------------------------------------------------
def test_a_null_anywhere_makes_a_get(alice, project):
    alice.api.query({'projects': {'project_id': project, 'title': 'kept'}})
    # The nested null turns this into a read: nothing is written, the title is only a filter.
    answer = alice.api.query({'projects': {'project_id': project, 'title': 'ignored', 'users': {alice.account_id: {'hide': None}}}})
    assert answer == {}
    assert project_row(alice, project, 'title') == {'project_id': project, 'title': 'kept'}
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}}


def test_no_null_makes_a_set_that_returns_an_empty_result(alice, project):
    assert alice.api.query({'projects': {'project_id': project, 'title': 'Renamed Title', 'description': 'new description'}}) == {}
    expected = {'project_id': project, 'title': 'Renamed Title', 'description': 'new description'}
    assert project_row(alice, project, 'title', 'description') == expected
    # repeating a set is harmless
    assert alice.api.query({'projects': {'project_id': project, 'title': 'Renamed Title'}}) == {}


def test_single_get_keeps_nulls_list_get_drops_them(alice, project):
    single = project_row(alice, project, 'deleted', 'description', 'course')
    assert single == {'project_id': project, 'deleted': None, 'description': '', 'course': None}
    rows = list_rows(alice, {'project_id': project, 'deleted': None, 'description': None, 'course': None})
    assert rows == [{'project_id': project, 'description': ''}]


def test_single_get_without_key_is_the_newest_project(alice):
    alice.new_project(title=unique('older'))
    newest = alice.new_project(title='newest-%s' % uuid.uuid4().hex[:6])
    answer = alice.api.query({'projects': {'project_id': None, 'title': None}})
    assert answer['projects']['project_id'] == newest


def test_single_get_miss_is_an_empty_result(alice, project):
    assert alice.api.query({'projects_all': {'project_id': project, 'title': 'no such title', 'description': None}}) == {}
    assert list_rows(alice, {'project_id': None, 'title': 'no such title %s' % uuid.uuid4()}) == []


def test_projects_read_access(alice, bob, project):
    assert bob.api.query_error({'projects': {'project_id': project, 'title': None}}) == 'FATAL: you do not have read access to this project'
    assert alice.api.query_error({'projects': {'project_id': NOWHERE, 'title': None}}) == 'FATAL: you do not have read access to this project'
    assert alice.api.query_error({'projects': {'project_id': 'not-a-uuid', 'title': None}}) == 'invalid project_id -- not-a-uuid'
    assert alice.api.query_error({'projects': {'project_id': project, 'hidden': None}}) == 'FATAL: user get query not allowed for projects.hidden'
    assert alice.api.query_error({'projects': {'project_id': project, 'hidden': True}}) == 'FATAL: changing projects.hidden not allowed'
    assert bob.api.query_error({'projects': {'project_id': project, 'title': 'hijack'}}) == 'FATAL: user must be an admin'
    assert project_row(alice, project, 'title')['title'] != 'hijack'


def test_admin_reads_any_project(server, project):
    assert server.admin.api.query({'projects_all': {'project_id': project, 'title': None}})['projects_all']['project_id'] == project


def test_list_filters_and_order(alice):
    first = alice.new_project(title='filter-a-%s' % uuid.uuid4().hex[:6])
    second = alice.new_project(title='filter-b-%s' % uuid.uuid4().hex[:6])
    title = project_row(alice, second, 'title')['title']
    assert list_rows(alice, {'project_id': None, 'title': title}) == [{'project_id': second, 'title': title}]
    ids = [row['project_id'] for row in list_rows(alice, {'project_id': None, 'title': None}, table='projects')]
    assert ids.index(second) < ids.index(first), 'projects lists newest first'


# -- options and the projects table defaults -----------------------------------------------------------------
def test_projects_limit_alone_is_ignored_but_works_with_order_by(alice):
    made = [alice.new_project(title='limit-%d' % i) for i in range(3)]
    rows = list_rows(alice, {'project_id': None, 'title': None}, table='projects', options=[{'limit': 2}])
    assert len(rows) >= 3 and set(made) <= {row['project_id'] for row in rows}
    rows = list_rows(alice, {'project_id': None, 'title': None}, table='projects', options=[{'limit': 2}, {'order_by': '-last_edited'}])
    assert [row['project_id'] for row in rows] == [made[2], made[1]]


def test_projects_all_honours_limit_and_order_by(alice):
    titles = ['ord-%s-%s' % (letter, uuid.uuid4().hex[:4]) for letter in 'cab']
    for title in titles:
        alice.new_project(title=title)
    rows = list_rows(alice, {'project_id': None, 'title': None}, options=[{'limit': 2}])
    assert len(rows) == 2
    rows = list_rows(alice, {'project_id': None, 'title': None}, options=[{'order_by': 'title'}])
    ordered = [row['title'] for row in rows if row['title'].startswith('ord-')]
    assert ordered == sorted(titles)
    rows = list_rows(alice, {'project_id': None, 'title': None}, options=[{'order_by': '-title'}])
    assert [row['title'] for row in rows if row['title'].startswith('ord-')] == sorted(titles, reverse=True)


def test_projects_window_is_21_days_projects_all_has_none(server, alice):
    old = alice.new_project(title=unique('old'))
    assert server.age_project(old, days=30)
    assert alice.api.query({'projects': {'project_id': old, 'title': None}}) == {}
    assert old not in [row['project_id'] for row in list_rows(alice, {'project_id': None}, table='projects')]
    assert old in [row['project_id'] for row in list_rows(alice, {'project_id': None})]
    assert alice.api.query({'projects_all': {'project_id': old, 'title': None}})['projects_all']['project_id'] == old


# -- users: deep merge, hide, validation ----------------------------------------------------------------------
def test_hide_is_per_user_and_merged(alice, bob, project):
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)
    alice.api.query({'projects': {'project_id': project, 'users': {alice.account_id: {'hide': True}}}})
    assert alice.users(project) == {alice.account_id: {'group': 'owner', 'hide': True}, bob.account_id: {'group': 'collaborator'}}
    assert project in [row['project_id'] for row in list_rows(alice, {'project_id': None})], 'a hidden project is still listed'
    alice.api.query({'projects': {'project_id': project, 'users': {'{account_id}': {'hide': False}}}})
    assert alice.users(project)[alice.account_id] == {'group': 'owner', 'hide': False}
    alice.api.query({'projects': {'project_id': project, 'users': {'{account_id}': {'hide': True}}}})
    assert alice.users(project)[alice.account_id] == {'group': 'owner', 'hide': True}
    assert bob.users(project)[bob.account_id] == {'group': 'collaborator'}


def test_empty_users_set_is_a_no_op(alice, project):
    assert alice.api.query({'projects': {'project_id': project, 'users': {}}}) == {}
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}}


@pytest.mark.parametrize('value, error', [
    ({'hide': 'yes'}, "FATAL: error setting 'users' -- Error: invalid type for field 'hide'"),
    ({'group': 'boss'}, "FATAL: error setting 'users' -- Error: invalid value for field 'group'"),
    ({'foo': 1}, "FATAL: error setting 'users' -- Error: unknown field 'foo"),
    ({'upgrades': {'nonsense': 1}}, "FATAL: error setting 'users' -- Error: invalid upgrades field 'nonsense"),
])
def test_users_validation(alice, project, value, error):
    assert alice.api.query_error({'projects': {'project_id': project, 'users': {alice.account_id: value}}}).startswith(error)
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}}


def test_changing_another_users_upgrades(alice, bob, project):
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)
    error = alice.api.query_error({'projects': {'project_id': project, 'users': {bob.account_id: {'upgrades': {'cores': 1}}}}})
    assert error == "FATAL: user '%s' tried to change user '%s' allocation toward a project" % (alice.account_id, bob.account_id)


def test_users_keys_that_are_not_uuids_are_ignored(alice, project):
    assert alice.api.query({'projects': {'project_id': project, 'users': {'not-a-uuid': {'group': 'collaborator'}}}}) == {}
    assert alice.users(project) == {alice.account_id: {'group': 'owner'}}


# -- soft delete ----------------------------------------------------------------------------------------------
def test_soft_delete_and_undelete(alice):
    project = alice.new_project(title=unique('deleted'))
    other = alice.new_project(title=unique('kept'))
    alice.api.query({'projects': {'project_id': project, 'deleted': True}})
    assert project_row(alice, project, 'deleted') == {'project_id': project, 'deleted': True}
    deleted_rows = list_rows(alice, {'project_id': None, 'deleted': True})
    assert project in [row['project_id'] for row in deleted_rows] and other not in [row['project_id'] for row in deleted_rows]
    listed = {row['project_id']: row for row in list_rows(alice, {'project_id': None, 'deleted': None}, table='projects')}
    assert listed[project] == {'project_id': project, 'deleted': True} and listed[other] == {'project_id': other}
    alice.write(project, 'still.txt', 'writable')   # delete does not change access
    alice.api.query({'projects': {'project_id': project, 'deleted': False}})
    assert project_row(alice, project, 'deleted') == {'project_id': project, 'deleted': False}
    undeleted = list_rows(alice, {'project_id': None, 'deleted': False})
    assert [row['project_id'] for row in undeleted] == [project], 'only an explicit false matches deleted=false'


def test_delete_option_is_refused(alice, project):
    assert alice.api.query_error({'projects': {'project_id': project}}, options=[{'delete': True}]) == 'FATAL: delete from projects not allowed'


# -- action_request -------------------------------------------------------------------------------------------
def state_of(account, project):
    row = project_row(account, project, 'state', 'action_request')
    return row['state'], row['action_request']


def request_action(account, project, action, time='{now}', **more):
    request = {'action': action}
    if time is not None:
        request['time'] = time
    assert account.api.query({'projects': {'project_id': project, 'action_request': request, **more}}) == {}


def test_action_request_start_stop_restart(alice):
    project = alice.new_project(title=unique('startstop'), start=False)
    state, action = state_of(alice, project)
    assert state['state'] == 'opened' and action is None
    request_action(alice, project, 'start', time='2026-01-01T00:00:01.000Z')
    state, action = state_of(alice, project)
    assert state['state'] == 'running'
    assert action['action'] == 'start' and action['time'] == '2026-01-01T00:00:01.000Z' and 'started' in action and 'finished' in action
    request_action(alice, project, 'stop', time='2026-01-01T00:00:02.000Z')
    state, action = state_of(alice, project)
    assert state['state'] == 'opened' and action['action'] == 'stop'
    request_action(alice, project, 'restart', time='2026-01-01T00:00:03.000Z')
    assert state_of(alice, project)[0]['state'] == 'running'


def test_action_request_same_time_does_nothing_but_is_stored(alice):
    project = alice.new_project(title=unique('sametime'))
    request_action(alice, project, 'start', time='2026-01-01T00:00:01.000Z')
    request_action(alice, project, 'stop', time='2026-01-01T00:00:01.000Z')
    state, action = state_of(alice, project)
    assert state['state'] == 'running' and action['action'] == 'stop'


def test_action_request_without_time_runs(alice):
    project = alice.new_project(title=unique('notime'))
    request_action(alice, project, 'start', time='2026-01-01T00:00:01.000Z')
    request_action(alice, project, 'stop', time='2026-01-01T00:00:02.000Z')
    request_action(alice, project, 'start', time=None)
    state, action = state_of(alice, project)
    assert state['state'] == 'running' and action['action'] == 'start' and action['time'] == '2026-01-01T00:00:02.000Z'


def test_action_request_start_on_running_drops_ip(alice):
    project = alice.new_project(title=unique('dropip'))
    request_action(alice, project, 'start', time='2026-01-01T00:00:01.000Z')
    assert 'ip' in state_of(alice, project)[0]
    request_action(alice, project, 'start', time='2026-01-01T00:00:02.000Z')
    state = state_of(alice, project)[0]
    assert state['state'] == 'running' and 'ip' not in state


def test_action_request_unknown_action_and_test(alice):
    project = alice.new_project(title=unique('bogus'))
    request_action(alice, project, 'bogus', time='2026-01-01T00:00:01.000Z')
    state, action = state_of(alice, project)
    assert state['state'] == 'opened' and action['action'] == 'bogus' and action['err'] == {}
    request_action(alice, project, 'test', time='2026-01-01T00:00:02.000Z')
    assert state_of(alice, project)[1] == action, "action 'test' stores nothing"
    request_action(alice, project, 'start', time='2026-01-01T00:00:03.000Z')
    state, action = state_of(alice, project)
    assert state['state'] == 'running' and action['err'] == {}, 'err stays: action_request is merged'


def test_action_request_drops_the_other_fields_of_the_set(alice):
    project = alice.new_project(title='before-action')
    request_action(alice, project, 'start', time='2026-01-01T00:00:05.000Z', title='dropped-title')
    expected = {'project_id': project, 'title': 'before-action', 'state': state_of(alice, project)[0]}
    assert project_row(alice, project, 'title', 'state') == expected
    assert state_of(alice, project)[0]['state'] == 'running'


def test_action_request_needs_write_access(alice, bob, project):
    assert bob.api.query_error({'projects': {'project_id': project, 'action_request': {'action': 'start', 'time': '{now}'}}}) == \
        'FATAL: user must be an admin'


# -- names ------------------------------------------------------------------------------------------------------
def test_2024_project_name_unique_per_owner(server_2024):
    alice = server_2024.new_account('alice')
    first, second = alice.new_project(), alice.new_project()
    name = unique('name')
    assert alice.api.query({'projects': {'project_id': first, 'name': name}}) == {}
    assert alice.api.query_error({'projects': {'project_id': second, 'name': name.upper()}}) == \
        "There is already a project with the same owner as this project and name='%s'.   Names are not case sensitive." % name.upper()


def test_2024_collaborator_may_set_project_name(server_2024):
    """The 2024 hub's owner check never fires (runs-2024 README fact 4); integration-suite.jsonl 23:44:18,
    the collaborator's key:
    {"query": {"projects": {"project_id": "a2d53d26-...", "name": "it-4mpieiih9x-theirs"}}}
      => {"query": {}, "multi_response": false, "event": "query", ...}
    and at 23:44:20 the owner reads "name": "it-4mpieiih9x-theirs".
    """
    alice = server_2024.new_account('alice')
    bob = server_2024.new_account('bob')
    project = alice.new_project()
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)
    theirs = unique('theirs')
    assert bob.api.query({'projects': {'project_id': project, 'name': theirs}}) == {}
    assert alice.project(project, 'name')['name'] == theirs


def test_guide_collaborator_may_not_set_project_name(server_guide):
    """The guide's era had no settable name at all, so a collaborator's set fails there too."""
    alice = server_guide.new_account('alice')
    bob = server_guide.new_account('bob')
    project = alice.new_project()
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)
    assert bob.api.query_error({'projects': {'project_id': project, 'name': unique('other')}}) == \
        'FATAL: changing projects.name not allowed'


# -- accounts -----------------------------------------------------------------------------------------------------
def test_accounts_set_acts_on_the_caller(alice, bob):
    assert alice.api.query({'accounts': {'account_id': bob.account_id, 'first_name': 'Hacker'}}) == {}
    expected = {'accounts': {'account_id': alice.account_id, 'first_name': 'Hacker'}}
    assert alice.api.query({'accounts': {'account_id': None, 'first_name': None}}) == expected
    assert bob.api.ok('get_usernames', account_ids=[bob.account_id])['usernames'][bob.account_id]['first_name'] == 'Bob'


def test_accounts_list_form_returns_only_the_caller(alice, bob):
    assert alice.api.query({'accounts': [{'account_id': None, 'first_name': None}]}) == {
        'accounts': [{'account_id': alice.account_id, 'first_name': 'Alice'}]}


def test_accounts_settings_deep_merge(alice):
    before = alice.api.query({'accounts': {'editor_settings': None}})['accounts']['editor_settings']
    assert before['theme'] == 'default' and before['tab_size'] == 4
    alice.api.query({'accounts': {'editor_settings': {'jupyter_classic': True, 'tab_size': 2}}})
    after = alice.api.query({'accounts': {'editor_settings': None}})['accounts']['editor_settings']
    assert after == dict(before, jupyter_classic=True, tab_size=2)


def test_accounts_long_first_name_accepted(alice):
    alice.api.query({'accounts': {'first_name': 'A' * 300}})
    assert len(alice.api.query({'accounts': {'first_name': None}})['accounts']['first_name']) >= 254


def test_2024_accounts_name_unique(server_2024):
    alice, bob = server_2024.new_account('alice'), server_2024.new_account('bob')
    name = unique('handle').replace('-', '')
    assert alice.api.query({'accounts': {'name': name}}) == {}
    assert bob.api.query_error({'accounts': {'name': name}}) == 'name "%s" is already taken by another organization or account' % name


def test_collaborators_table(alice, bob, project):
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)
    rows = alice.api.query({'collaborators': [{'account_id': None, 'first_name': None, 'last_name': None}]})['collaborators']
    assert {'account_id': bob.account_id, 'first_name': 'Bob', 'last_name': 'Builder'} in rows


# -- public_paths -----------------------------------------------------------------------------------------------------
def public_rows(account, project):
    return account.api.query({'public_paths': [{'project_id': project, 'path': None, 'description': None, 'disabled': None,
                                                'id': None, 'created': None, 'last_edited': None, 'counter': None}]})['public_paths']


def test_public_path_id_is_sha1_of_project_id_and_path(alice, project):
    assert public_rows(alice, project) == []
    alice.api.query({'public_paths': {'project_id': project, 'path': 'pub/notes.md', 'description': 'a public path'}})
    expected_id = hashlib.sha1((project + 'pub/notes.md').encode()).hexdigest()
    assert public_rows(alice, project) == [{'project_id': project, 'path': 'pub/notes.md', 'description': 'a public path', 'id': expected_id}]
    alice.api.query({'public_paths': {'project_id': project, 'path': 'pub/notes.md/', 'description': 'trailing slash'}})
    ids = {row['path']: row['id'] for row in public_rows(alice, project)}
    assert ids == {'pub/notes.md': expected_id, 'pub/notes.md/': hashlib.sha1((project + 'pub/notes.md/').encode()).hexdigest()}
    single = alice.api.query({'public_paths': {'id': expected_id, 'project_id': project, 'path': None, 'description': None}})
    assert single == {'public_paths': {'id': expected_id, 'project_id': project, 'path': 'pub/notes.md', 'description': 'a public path'}}


def test_public_path_disable_is_unpublish_and_rows_stay(alice, bob, project):
    alice.api.query({'public_paths': {'project_id': project, 'path': 'share', 'description': 'd'}})
    alice.api.query({'public_paths': {'project_id': project, 'path': 'share', 'disabled': True}})
    assert [row['disabled'] for row in public_rows(alice, project)] == [True]
    alice.api.query({'public_paths': {'project_id': project, 'path': 'share', 'disabled': False}})
    assert [row['disabled'] for row in public_rows(alice, project)] == [False]
    assert [row['path'] for row in public_rows(bob, project)] == ['share'], 'any account can list public paths'
    assert bob.api.query_error({'public_paths': {'project_id': project, 'path': 'share', 'disabled': True}}) == 'FATAL: user must be an admin'
    assert alice.api.query_error({'public_paths': {'project_id': project, 'path': 'share'}}, options=[{'delete': True}]) == \
        'FATAL: delete from public_paths not allowed'


def test_public_path_errors(alice, project):
    assert alice.api.query_error({'public_paths': [{'project_id': None, 'path': None}]}) == 'FATAL: must specify project_id'
    assert alice.api.query_error({'public_paths': {'project_id': project, 'path': 'x', 'counter': 5}}) == \
        'FATAL: changing public_paths.counter not allowed'
    assert alice.api.query_error({'public_paths': [{'project_id': project, 'path': None, 'vhost': None}]}) == \
        'FATAL: user get query not allowed for public_paths.vhost'
    assert alice.api.query_error({'public_paths': {'project_id': project, 'path': 'x', 'bogus': 1}}) == 'FATAL: changing public_paths.bogus not allowed'


def test_2024_public_path_names_unique_per_project(server_2024):
    alice = server_2024.new_account('alice')
    project = alice.new_project()
    alice.api.query({'public_paths': {'project_id': project, 'path': 'a', 'name': 'share-x'}})
    assert alice.api.query_error({'public_paths': {'project_id': project, 'path': 'a/', 'name': 'SHARE-x'}}) == \
        'There is already a public path "a" in this project with the name "SHARE-x".  Names are not case sensitive.'
