"""Account endpoints: create_account, change_email_address, user_auth, user_search, get_usernames,
log_client_error, support tickets, and which endpoints each era serves (reference section 1 and 4).

Texts are those of the real hub (real-hub/transcripts-2024.jsonl) for the 2024 era and of the reference's
G snapshot for the guide era.
"""

import random
import re
import string
import uuid

import pytest

from cocalc_testlib import UUID_RE, unique

MISSING = "invalid parameters 'Error: misc.defaults -- TypeError: property '%s' must be specified: '"
UNEXPECTED = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument '%s' '"
PASSWORD_RULE = 'Password must be between 6 and 64 characters in length.'
NOWHERE = '00000000-0000-4000-8000-000000000000'


def random_word(length=9):
    """A name no other test uses, so prefix searches find only our accounts."""
    return 'Q' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(length))


def create_account(api, **options):
    options.setdefault('first_name', 'New')
    options.setdefault('last_name', 'Person')
    options.setdefault('email_address', '%s@example.com' % unique('new'))
    options.setdefault('password', 'secret-pass-123')
    options.setdefault('agreed_to_terms', True)
    return api.call('create_account', **options)


# -- which endpoints each era serves -------------------------------------------------------------------
ERA_2024_GONE = {
    'change_password': "unknown endpoint 'change_password'",
    'forgot_password': "unknown endpoint 'forgot_password'",
    'reset_forgot_password': "unknown endpoint 'reset_forgot_password'",
    'public_get_directory_listing': "unknown endpoint 'public_get_directory_listing'",
    'public_get_text_file': "unknown endpoint 'public_get_text_file'",
    'delete_account': "endpoint 'delete_account' is not part of the HTTP API",
    'metrics': "endpoint 'metrics' is not part of the HTTP API",
    'start_metrics': "endpoint 'start_metrics' is not part of the HTTP API",
    'unlink_passport': "endpoint 'unlink_passport' is not part of the HTTP API",
}


@pytest.mark.parametrize('endpoint', sorted(ERA_2024_GONE))
def test_2024_endpoints_the_hub_no_longer_served(server_2024, endpoint):
    assert server_2024.api().http400(endpoint) == ERA_2024_GONE[endpoint]


def test_guide_start_metrics_never_had_a_handler(server_guide):
    assert server_guide.api().http400('start_metrics', {'interval_s': 5}) == "unknown message event type 'start_metrics'"
    assert server_guide.api().http400('start_metrics', {'interval_s': 5, 'id': 'x'}) == UNEXPECTED % 'id'


def test_guide_metrics_defines_no_id(server_guide):
    assert server_guide.api().http400('metrics', {'metrics': {}, 'id': 'x'}) == UNEXPECTED % 'id'


# -- create_account ----------------------------------------------------------------------------------------
def test_create_account_and_duplicate(server):
    api = server.api()
    email = '%s@example.com' % unique('carol')
    answer = create_account(api, first_name='Carol', last_name='Created', email_address=email)
    assert answer['event'] == 'account_created' and re.fullmatch(UUID_RE, answer['account_id'])
    again = create_account(api, first_name='Carol', last_name='Again', email_address=email)
    assert again['event'] == 'account_creation_failed'
    assert again['reason'] == {'email_address': 'This e-mail address is already taken.'}


def test_create_account_lowercases_the_email(server):
    api = server.api()
    name = unique('lee')
    assert create_account(api, email_address='%s@Example.COM' % name.upper())['event'] == 'account_created'
    taken = create_account(api, email_address='%s@example.com' % name)
    assert taken['reason'] == {'email_address': 'This e-mail address is already taken.'}
    found = api.ok('user_search', query='%s@example.com' % name)['results']
    assert [hit['email_address'] for hit in found] == ['%s@example.com' % name]


@pytest.mark.parametrize('email', ['not-an-email', 'a@b', '@example.com'])
def test_create_account_invalid_email(server, email):
    answer = create_account(server.api(), email_address=email)
    assert answer['event'] == 'account_creation_failed'
    assert answer['reason'] == {'email_address': 'Email address does not appear to be valid.'}


@pytest.mark.parametrize('password', ['abc', 'x' * 65])
def test_create_account_password_length(server, password):
    answer = create_account(server.api(), password=password)
    assert answer['event'] == 'account_creation_failed' and answer['reason'] == {'password': PASSWORD_RULE}


def test_2024_create_account_relaxed_checks(server_2024):
    api = server_2024.api()
    assert create_account(api, first_name='', last_name='')['event'] == 'account_created'
    options = {'first_name': 'Eve', 'last_name': 'NoTerms', 'email_address': '%s@example.com' % unique('eve'), 'password': 'eve-pass-12345'}
    assert api.call('create_account', **options)['event'] == 'account_created'
    assert create_account(api, token='bogus-token')['event'] == 'account_created'
    assert create_account(api, password='password')['event'] == 'account_created'


def test_2024_create_account_empty_body(server_2024):
    answer = server_2024.api().call('create_account')
    assert answer['event'] == 'account_creation_failed' and answer['reason'] == {'other': 'Anonymous sign up is disabled.'}


def test_2024_create_account_form_encoded(server_2024):
    email = '%s@example.com' % unique('jo')
    reply = server_2024.api().raw('create_account', form={'first_name': 'Jo', 'last_name': 'Form', 'email_address': email,
                                                          'password': 'jo-pass-12345', 'agreed_to_terms': 'true'})
    assert reply.status == 200 and reply.json['event'] == 'account_created'


def test_2024_create_account_with_api_key(server_2024):
    answer = create_account(server_2024.api(), get_api_key=True)
    assert answer['event'] == 'account_created'
    assert re.fullmatch(r'sk_[A-Za-z0-9]{16}', answer['api_key']), answer
    me = server_2024.api(answer['api_key']).query({'accounts': {'account_id': None}})
    assert me == {'accounts': {'account_id': answer['account_id']}}


def test_2024_create_account_guide_only_options_are_rejected(server_2024):
    assert server_2024.api().http400('create_account', {'utm': {}, 'first_name': 'x'}) == UNEXPECTED % 'utm'
    assert server_2024.api().http400('create_account', {'referrer': 'x'}) == UNEXPECTED % 'referrer'


def test_guide_create_account_requires_the_guide_options(server_guide):
    assert server_guide.api().http400('create_account', {'first_name': 'x', 'last_name': 'y', 'email_address': 'a@example.com',
                                                         'password': 'secret-123'}) == MISSING % 'agreed_to_terms'


def test_guide_create_account_accepts_utm_and_referrer(server_guide):
    answer = create_account(server_guide.api(), utm={'source': 'x'}, referrer='https://example.com')
    assert answer['event'] == 'account_created'


def test_new_account_can_sign_in_with_user_auth_and_its_secrets_are_not_stored_plain(server):
    api = server.api()
    email = '%s@example.com' % unique('plain')
    password = 'plain-%s' % uuid.uuid4().hex
    made = create_account(api, email_address=email, password=password)
    token = api.ok('user_auth', account_id=made['account_id'], password=password)['auth_token']
    assert re.fullmatch(r'[A-Za-z0-9]{24}', token)
    account = server.new_account('hashed', password='cli-%s' % uuid.uuid4().hex)
    secrets = [password.encode(), account.password.encode(), account.api_key.encode(), token.encode()]
    for path in server.data_dir.rglob('*'):
        if path.is_file() and 'projects' not in path.relative_to(server.data_dir).parts:
            data = path.read_bytes()
            for secret in secrets:
                assert secret not in data, 'a secret is stored in plain text in %s' % path


# -- user_auth ---------------------------------------------------------------------------------------------
def test_user_auth_tokens_and_errors(server):
    target = server.new_account('target')
    caller = server.new_account('caller')
    first = caller.api.ok('user_auth', account_id=target.account_id, password=target.password)
    second = caller.api.ok('user_auth', account_id=target.account_id, password=target.password)
    assert first['event'] == 'user_auth_token' and first['auth_token'] != second['auth_token']
    assert caller.api.error('user_auth', account_id=str(uuid.uuid4()), password='whatever-1') == 'no such account'
    assert caller.api.error('user_auth', account_id=target.account_id, password='wrong-password') == 'incorrect password'
    # A wrong password locks this caller out for that target for 60 s, even with the right password.
    assert caller.api.error('user_auth', account_id=target.account_id, password=target.password) == \
        'banned -- please wait at least 60s before trying again'
    # Another caller is not affected.
    assert server.api().ok('user_auth', account_id=target.account_id, password=target.password)['event'] == 'user_auth_token'


def test_user_auth_admin_needs_no_password(server):
    target = server.new_account('target')
    assert server.api().ok('user_auth', account_id=target.account_id, password='')['event'] == 'user_auth_token'
    assert target.api.error('user_auth', account_id=server.account_id, password='') == 'incorrect password'


def test_user_auth_missing_options(server):
    assert server.api().http400('user_auth', {'account_id': NOWHERE}) == MISSING % 'password'


# -- change_email_address -------------------------------------------------------------------------------------
def test_change_email_address(server):
    me = server.new_account('mail', password='mail-pass-12345')
    other = server.new_account('other')
    api = me.api
    new = '%s@example.com' % unique('moved')

    def change(address, **options):
        return api.call('change_email_address', account_id=me.account_id, new_email_address=address, **options)

    wrong = change(new, password='wrong-password')
    assert wrong['event'] == 'changed_email_address' and wrong['error'] == 'invalid_password'
    assert change(new)['error'] == 'invalid_password'
    assert change('not-an-email', password=me.password)['error'] == 'email_invalid'
    assert change('not-an-email', password='wrong')['error'] == 'email_invalid'   # checked first
    assert change(other.email, password=me.password)['error'] == 'email_already_taken'
    done = change(new.upper(), password=me.password)
    assert done['event'] == 'changed_email_address' and done['error'] is False
    assert api.query({'accounts': {'email_address': None}}) == {'accounts': {'email_address': new}}
    assert change(new, password=me.password)['error'] == 'email_already_taken'   # the current address
    wrong_id = api.call('change_email_address', account_id=other.account_id, new_email_address='x-%s' % new, password=me.password)
    assert wrong_id['error'] == 'account_id in mesg is not what user is signed in as'
    assert api.http400('change_email_address', {'new_email_address': new, 'password': me.password}) == MISSING % 'account_id'


# -- user_search -------------------------------------------------------------------------------------------
def test_2024_user_search_by_email(server_2024):
    first = random_word()
    bob = server_2024.new_account('bob', first_name=first, last_name='Builder')
    caller = server_2024.new_account('caller')
    for query in (bob.email, bob.email.upper(), '<%s>' % bob.email):
        results = caller.api.ok('user_search', query=query)['results']
        assert len(results) == 1, (query, results)
        hit = results[0]
        assert set(hit) == {'account_id', 'first_name', 'last_name', 'name', 'email_address', 'last_active', 'created', 'email_address_verified'}
        assert (hit['account_id'], hit['first_name'], hit['last_name'], hit['email_address']) == (bob.account_id, first, 'Builder', bob.email)
        assert hit['name'] is None and hit['email_address_verified'] is None
        assert isinstance(hit['created'], int) and hit['created'] > 1.5e12
        assert hit['last_active'] is None or isinstance(hit['last_active'], int)


def test_2024_user_search_by_name(server_2024):
    first, last = random_word(), random_word()
    bob = server_2024.new_account('bob', first_name=first, last_name=last)
    caller = server_2024.new_account('caller')
    for query in (first, first.lower(), first[:5], '%s %s' % (first.lower(), last.lower()), '%s %s' % (last, first)):
        results = caller.api.ok('user_search', query=query)['results']
        assert [hit['account_id'] for hit in results] == [bob.account_id], query
        assert 'email_address' not in results[0]
    assert caller.api.ok('user_search', query='x' + first)['results'] == []      # prefix, not substring
    assert caller.api.ok('user_search', query='')['results'] == []


def test_2024_user_search_finds_the_caller(server_2024):
    first = random_word()
    me = server_2024.new_account('me', first_name=first)
    assert [hit['account_id'] for hit in me.api.ok('user_search', query=first)['results']] == [me.account_id]


def test_user_search_limit_applies_to_names_not_emails(server):
    first = random_word()
    people = [server.new_account('many', first_name=first, last_name='N%d' % i) for i in range(3)]
    caller = people[0].api
    assert len(caller.ok('user_search', query=first, limit=2)['results']) == 2
    assert len(caller.ok('user_search', query=first)['results']) == 3
    emails = ','.join(person.email for person in people)
    assert len(caller.ok('user_search', query=emails, limit=1)['results']) == 3


def test_user_search_separators_and_malformed_terms(server):
    one, two = server.new_account('one'), server.new_account('two')
    api = one.api
    for query in ('%s,%s' % (one.email, two.email), '%s; %s' % (one.email, two.email.upper()), '%s\n%s' % (one.email, two.email),
                  '%s, %s; nobody-%s@example.com' % (one.email, two.email, uuid.uuid4().hex)):
        found = {hit['account_id'] for hit in api.ok('user_search', query=query, limit=5)['results']}
        assert found == {one.account_id, two.account_id}, query
    assert [hit['account_id'] for hit in api.ok('user_search', query='not-an-email@, %s' % two.email)['results']] == [two.account_id]


def test_2024_user_search_admin_flag(server_2024):
    caller = server_2024.new_account('nonadmin')
    assert caller.api.error('user_search', query='x', admin=True) == 'must be logged in and a member of the admin group'
    assert server_2024.api().ok('user_search', query=caller.email, admin=True)['event'] == 'user_search_results'


def test_guide_user_search_has_no_admin_option(server_guide):
    assert server_guide.api().http400('user_search', {'query': 'x', 'admin': True}) == UNEXPECTED % 'admin'


def test_user_search_missing_query(server):
    assert server.api().http400('user_search', {}) == MISSING % 'query'


def test_guide_user_search_hard_limit_50_and_blank_key(server_guide):
    first = random_word()
    for i in range(52):   # no key needed for the people found: create_account is quicker than the CLI
        assert create_account(server_guide.api(), first_name=first, last_name='N%02d' % i)['event'] == 'account_created'
    caller = server_guide.new_account('caller').api
    assert len(caller.ok('user_search', query=first, limit=100)['results']) == 50
    assert len(caller.ok('user_search', query=first)['results']) == 20
    reply = caller.raw('user_search', {'query': first, 'limit': 3}, header='Basic Og==')   # curl -u : (blank key)
    assert reply.status == 200 and len(reply.json['results']) == 3


# -- get_usernames ----------------------------------------------------------------------------------------
def test_get_usernames(server):
    alice = server.new_account('alice', first_name='Alice', last_name='Tester')
    bob = server.new_account('bob', first_name='Bob', last_name='Builder')
    api = alice.api
    assert api.ok('get_usernames', account_ids=[alice.account_id, bob.account_id])['usernames'] == {
        alice.account_id: {'first_name': 'Alice', 'last_name': 'Tester'}, bob.account_id: {'first_name': 'Bob', 'last_name': 'Builder'}}
    assert api.ok('get_usernames', account_ids=[NOWHERE])['usernames'] == {NOWHERE: {}}
    assert api.ok('get_usernames', account_ids=[])['usernames'] == {}
    assert api.ok('get_usernames', account_ids=[bob.account_id, bob.account_id])['usernames'] == {
        bob.account_id: {'first_name': 'Bob', 'last_name': 'Builder'}}
    assert api.error('get_usernames', account_ids=['not-a-uuid']) == 'invalid uuid not-a-uuid in account_ids -- ["not-a-uuid"]'
    assert api.http400('get_usernames', {}) == MISSING % 'account_ids'


# -- log_client_error, support tickets ------------------------------------------------------------------------
def test_log_client_error(server):
    api = server.api()
    assert api.ok('log_client_error', error='test error from api', id='log-1') == {'event': 'success', 'id': 'log-1'}
    assert api.http400('log_client_error', {}) == MISSING % 'error'
    assert api.http400('log_client_error', {'error': 'x', 'type': 'y'}) == UNEXPECTED % 'type'


def test_2024_support_tickets_are_deprecated(server_2024):
    api = server_2024.api()
    assert api.error('get_support_tickets') == 'deprecated'
    assert api.error('create_support_ticket', email_address='a@example.com', subject='s', body='b') == 'deprecated'
    assert api.http400('create_support_ticket', {'email_address': 'a@example.com', 'subject': 's', 'body': 'b', 'url': 'http://x'}) == \
        UNEXPECTED % 'url'
    assert api.http400('create_support_ticket', {'subject': 's', 'body': 'b'}) == MISSING % 'email_address'


def test_guide_support_tickets_have_no_backend(server_guide):
    api = server_guide.api()
    assert api.error('get_support_tickets') == 'Support ticket backend is not available.'
    assert api.error('create_support_ticket', email_address='a@example.com', subject='package xyz', body='please install',
                     tags=['member'], info={'course': 'cc8f1243-d573-4562-9aab-c15a3872d683'}) == 'Support ticket backend is not available.'
    anonymous = api.raw('get_support_tickets', {}, header='Basic Og==')
    assert anonymous.json['error'] == 'You must be signed in to use support related functions.'
