"""Endpoints and behaviour only the guide era has (reference sections 1, 2 and 4, G snapshot), and the
requests the real hub never answered (both eras).

change_password (by email_address, as the guide documents), forgot/reset_forgot_password through the
outbox, delete_account, unlink_passport, the guide's create_account checks, anonymous calls, the
guide-era exec error layout, and metrics / project_exec requests that never get an answer.
"""

import re
import time

import pytest
import requests

from cocalc_testlib import INSTANT_STARTS, ServerProcess, unique

PASSWORD_RULE = 'Password must be between 6 and 64 characters in length.'
NO_ANSWER_SECONDS = 2


def signs_in(server, account_id, password):
    answer = server.api().call('user_auth', account_id=account_id, password=password)
    return answer['event'] == 'user_auth_token'


# -- passwords -----------------------------------------------------------------------------------------------
def test_guide_change_password(server_guide):
    me = server_guide.new_account('pw', password='old-pass-123')
    answer = me.api.call('change_password', email_address=me.email, old_password='old-pass-123', new_password='new-pass-456')
    assert answer['event'] == 'changed_password' and not answer.get('error'), answer
    assert signs_in(server_guide, me.account_id, 'new-pass-456')
    wrong = me.api.call('change_password', email_address=me.email, old_password='not-it', new_password='other-pass-789')
    assert wrong['event'] == 'changed_password' and wrong['error'] == 'invalid old password'
    short = me.api.call('change_password', email_address=me.email, old_password='new-pass-456', new_password='abc')
    assert short['event'] == 'changed_password' and short['error'] == {'new_password': PASSWORD_RULE}
    assert signs_in(server_guide, me.account_id, 'new-pass-456')
    assert me.api.http400('change_password', {'account_id': me.account_id, 'new_password': 'x' * 8}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: property 'email_address' must be specified: '"


def test_guide_forgot_and_reset_password(server_guide):
    me = server_guide.new_account('forgot', password='before-reset-1')
    api = server_guide.api()
    answer = api.call('forgot_password', email_address=me.email)
    assert answer['event'] == 'forgot_password_response' and answer['error'] is False
    mails = [mail for mail in server_guide.outbox() if mail['to'] == me.email and mail['kind'] == 'password_reset']
    assert len(mails) == 1
    code = re.search(r'forgot-([0-9a-f-]{36})', mails[0]['body']).group(1)
    short = api.call('reset_forgot_password', reset_code=code, new_password='abc')
    assert short['event'] == 'reset_forgot_password_response' and short['error'] == PASSWORD_RULE
    done = api.call('reset_forgot_password', reset_code=code, new_password='after-reset-2')
    assert done['event'] == 'reset_forgot_password_response' and done['error'] is False
    assert signs_in(server_guide, me.account_id, 'after-reset-2')
    again = api.call('reset_forgot_password', reset_code=code, new_password='third-pass-3')
    assert again['error'] == 'Password reset request is no longer valid.'
    assert api.call('forgot_password', email_address='not-an-email')['error'] == 'Invalid email address.'
    nobody = '%s@example.com' % unique('nobody')
    assert api.call('forgot_password', email_address=nobody)['error'] == 'No account with e-mail address %s' % nobody


# -- delete_account, unlink_passport ---------------------------------------------------------------------------
def test_guide_delete_account_has_no_ownership_check(server_guide):
    victim = server_guide.new_account('victim')
    project = victim.new_project()
    stranger = server_guide.new_account('stranger')
    answer = stranger.api.call('delete_account', account_id=victim.account_id, id='del-1')
    assert answer['event'] == 'account_deleted' and answer['id'] == 'del-1' and not answer.get('error')
    assert server_guide.api().ok('user_search', query=victim.email)['results'] == []
    assert not signs_in(server_guide, victim.account_id, victim.password)
    assert victim.account_id in server_guide.admin.users(project), 'a deleted account stays in projects.users'
    assert stranger.api.call('delete_account', account_id=victim.account_id)['event'] == 'account_deleted'
    assert stranger.api.call('delete_account', account_id='00000000-0000-4000-8000-000000000000')['event'] == 'account_deleted'
    made = server_guide.api().call('create_account', first_name='Re', last_name='Used', email_address=victim.email,
                                   password='reused-pass-1', agreed_to_terms=True)
    assert made['event'] == 'account_created', 'the address of a deleted account is free again'


def test_guide_unlink_passport(server_guide):
    me = server_guide.new_account('passport')
    assert me.api.call('unlink_passport', strategy='facebook', id='14159265358') == {'event': 'success', 'id': '14159265358'}
    anonymous = server_guide.api().raw('unlink_passport', {'strategy': 'facebook', 'id': '1'}, header='Basic Og==')
    assert anonymous.json == {'event': 'error', 'id': '1', 'error': 'must be logged in'}


# -- create_account checks of the guide era ---------------------------------------------------------------------
@pytest.mark.parametrize('change, reason', [
    ({'agreed_to_terms': False}, {'agreed_to_terms': 'Agree to the Salvus Terms of Service.'}),
    ({'first_name': ''}, {'first_name': 'Enter your first name.'}),
    ({'last_name': ''}, {'last_name': 'Enter your last name.'}),
])
def test_guide_create_account_checks(server_guide, change, reason):
    options = dict({'first_name': 'John', 'last_name': 'Doe', 'email_address': '%s@example.com' % unique('john'),
                    'password': 'xyzabc09090', 'agreed_to_terms': True}, **change)
    answer = server_guide.api().call('create_account', **options)
    assert answer['event'] == 'account_creation_failed' and answer['reason'] == reason


def test_guide_agreed_to_terms_form_false_is_truthy(server_guide):
    form = {'first_name': 'Jo', 'last_name': 'Form', 'password': 'jo-pass-12345', 'email_address': '%s@example.com' % unique('jo'),
            'agreed_to_terms': 'false'}
    reply = server_guide.api().raw('create_account', form=form)
    assert reply.json['event'] == 'account_created'


# -- anonymous calls ------------------------------------------------------------------------------------------------
def test_guide_anonymous_queries(server_guide):
    anonymous = server_guide.api('sk_unknownunknownunknown')
    assert anonymous.query_error({'accounts': {'first_name': 'x'}}) == 'FATAL: no anonymous set queries'
    assert anonymous.query_error({'accounts': {'account_id': None}}) == "FATAL: anonymous get queries not allowed for table 'accounts'"


# -- exec error layout -------------------------------------------------------------------------------------------------
def test_guide_exec_errors_end_with_stdout_and_stderr(server_guide):
    alice = server_guide.new_account('exec')
    project = alice.new_project()
    error = alice.api.error('project_exec', project_id=project, command='sleep 5', timeout=1)
    assert re.fullmatch(r"Error executing command 'sleep 5' with args '' -- killed command 'bash \S+', , ", error), error
    error = alice.api.error('project_exec', project_id=project, command='sh', args=['-c', 'echo out; echo err >&2; exit 3'])
    assert error.endswith(", out\n, err\n"), error


# -- requests that never get an answer --------------------------------------------------------------------------------
@pytest.fixture
def impatient_server(tmp_path, request):
    """A server of the requested era that drops unanswerable requests after NO_ANSWER_SECONDS."""
    server = ServerProcess(tmp_path / 'data', request.param, extra_args=INSTANT_STARTS, env={'COCALC_LOCAL_NO_ANSWER_SECONDS': str(NO_ANSWER_SECONDS)})
    server.start()
    yield server
    assert server.stop() == 0


def assert_no_answer(server, endpoint, body):
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        server.api().raw(endpoint, body, timeout=30)
    assert time.monotonic() - started >= NO_ANSWER_SECONDS - 0.5


@pytest.mark.parametrize('impatient_server', ['guide'], indirect=True)
def test_guide_metrics_never_answers(impatient_server):
    assert_no_answer(impatient_server, 'metrics', {'metrics': {'x': 1}})
    assert impatient_server.api().ok('ping')['event'] == 'pong'


@pytest.mark.parametrize('impatient_server', ['2024', 'guide'], indirect=True)
def test_exec_requests_the_hub_drops(impatient_server):
    admin = impatient_server.admin
    project = admin.new_project()
    assert_no_answer(impatient_server, 'project_exec', {'project_id': project, 'command': 'ipython-notebook'})
    assert_no_answer(impatient_server, 'project_exec', {'project_id': project, 'command': 'echo', 'timeout': 0})
    assert admin.execute(project, 'echo', args=['still serving'])['stdout'] == 'still serving\n'
    # The server's own environment (here a COCALC_LOCAL_* setting) does not reach project processes.
    assert 'COCALC_LOCAL_NO_ANSWER_SECONDS' not in admin.execute(project, 'env')['stdout']
