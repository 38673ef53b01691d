"""Fault injection (`serve --faults`, `serve faults`): each mode fails the request the way it says, the
"after" modes really processed it, the "before" mode did not, the coins are seeded, and `serve stats`
counts faulted calls (issue 10)."""

import http.client
import json
import random
import subprocess
import time
import urllib.parse

import pytest
import requests

from cocalc_testlib import ServerProcess, serve_cli, serve_command, unique


@pytest.fixture(scope='module')
def fault_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp('faults') / 'data', '2024')
    server.start()
    yield server
    assert server.stop() == 0, server.log_tail()


@pytest.fixture
def faulty(fault_server):
    """The fault server with no faults and zeroed stats before and after the test."""
    serve_cli_plain('faults', '--data-dir', fault_server.data_dir, '--clear')
    fault_server.stats(reset=True)
    yield fault_server
    serve_cli_plain('faults', '--data-dir', fault_server.data_dir, '--clear')


@pytest.fixture
def owner(faulty):
    return faulty.new_account('faults')


def serve_cli_plain(*args):
    done = subprocess.run(serve_command(*args), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done


def set_faults(server, *rules, seed=7):
    serve_cli_plain('faults', '--data-dir', server.data_dir, json.dumps({'seed': seed, 'rules': list(rules)}))


def titles(account):
    rows = account.api.query({'projects': [{'project_id': None, 'title': None}]})['projects']
    return sorted(row['title'] for row in rows)


def raw_post(server, key, endpoint, body):
    """One POST over http.client: (status, headers, declared length, bytes actually received)."""
    parts = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request('POST', '/api/v1/' + endpoint, json.dumps(body),
                     {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + key})
        reply = conn.getresponse()
        try:
            data = reply.read()
        except http.client.IncompleteRead as partial:
            data = partial.partial
        return reply.status, dict(reply.getheaders()), int(reply.getheader('Content-Length') or -1), data
    finally:
        conn.close()


def test_status_before_processes_nothing(faulty, owner):
    set_faults(faulty, {'endpoint': 'create_project', 'mode': 'status_before'})
    title = unique('before')
    reply = owner.api.raw('create_project', {'title': title})
    assert reply.status == 503 and reply.content_type.startswith('text/html') and reply.json is None
    assert titles(owner) == []
    stats = faulty.stats()['create_project']
    assert stats['http_status'] == {'503': 1} and stats['faults'] == {'status_before': 1}


def test_status_before_429_says_retry_after(faulty, owner):
    set_faults(faulty, {'endpoint': '*', 'mode': 'status_before', 'status': 429})
    status, headers, _, _ = raw_post(faulty, owner.api_key, 'create_project', {'title': unique('busy')})
    assert status == 429 and headers.get('Retry-After') == '1'
    serve_cli_plain('faults', '--data-dir', faulty.data_dir, '--clear')
    assert titles(owner) == []


def test_status_after_processes_then_fails(faulty, owner):
    set_faults(faulty, {'endpoint': 'create_project', 'mode': 'status_after'})
    title = unique('after')
    reply = owner.api.raw('create_project', {'title': title})
    assert reply.status == 504 and reply.content_type.startswith('text/html') and '504' in reply.text
    assert titles(owner) == [title]
    stats = faulty.stats()['create_project']
    assert stats['http_status'] == {'504': 1} and stats['faults'] == {'status_after': 1}


def test_reset_after_processes_then_resets(faulty, owner):
    project = owner.new_project()
    set_faults(faulty, {'endpoint': 'write_text_file_to_project', 'mode': 'reset_after'})
    with pytest.raises(requests.exceptions.ConnectionError):
        owner.api.raw('write_text_file_to_project', {'project_id': project, 'path': 'a.txt', 'content': 'written'})
    serve_cli_plain('faults', '--data-dir', faulty.data_dir, '--clear')
    assert owner.read(project, 'a.txt') == 'written'
    stats = faulty.stats()['write_text_file_to_project']
    assert stats['http_status'] == {'reset': 1} and stats['faults'] == {'reset_after': 1}


def test_truncated_processes_then_sends_half(faulty, owner):
    set_faults(faulty, {'endpoint': 'create_project', 'mode': 'truncated'})
    title = unique('truncated')
    status, headers, length, data = raw_post(faulty, owner.api_key, 'create_project', {'title': title})
    assert status == 200 and headers['Content-Type'].startswith('application/json')
    assert 0 < len(data) == length // 2 < length
    with pytest.raises(ValueError):
        json.loads(data)
    assert titles(owner) == [title]
    assert faulty.stats()['create_project']['faults'] == {'truncated': 1}


def test_html200_processes_then_answers_html(faulty, owner):
    set_faults(faulty, {'endpoint': 'create_project', 'mode': 'html200'})
    title = unique('html')
    reply = owner.api.raw('create_project', {'title': title})
    assert reply.status == 200 and reply.content_type.startswith('text/html') and reply.text.startswith('<html>')
    assert titles(owner) == [title]


def test_delay_answers_normally_late(faulty, owner):
    set_faults(faulty, {'endpoint': 'create_project', 'mode': 'delay', 'delay': 0.6})
    started = time.monotonic()
    answer = owner.api.ok('create_project', title=unique('slow'))
    assert time.monotonic() - started >= 0.6 and answer['event'] == 'project_created'
    assert faulty.stats()['create_project']['faults'] == {'delay': 1}


def test_query_rule_narrowed_to_sets(faulty, owner):
    project = owner.new_project(title='kept')
    set_faults(faulty, {'endpoint': 'query', 'query': 'set', 'mode': 'status_before'})
    assert owner.project(project, 'title')['title'] == 'kept'   # gets pass
    reply = owner.api.raw('query', {'query': {'projects': {'project_id': project, 'title': 'changed'}}})
    assert reply.status == 503
    serve_cli_plain('faults', '--data-dir', faulty.data_dir, '--clear')
    assert owner.project(project, 'title')['title'] == 'kept'


def test_coins_are_seeded_and_reset_when_the_spec_changes(faulty, owner):
    coins = random.Random(11)
    expected = [503 if coins.random() < 0.5 else 200 for _ in range(20)]
    for _ in range(2):
        set_faults(faulty, {'endpoint': 'ping', 'mode': 'status_before', 'rate': 0.5}, seed=11)
        assert [owner.api.raw('ping', {}).status for _ in range(20)] == expected
    assert 200 in expected and 503 in expected


def test_rules_tried_in_order_and_other_endpoints_untouched(faulty, owner):
    set_faults(faulty, {'endpoint': 'ping', 'mode': 'status_before', 'rate': 0, 'status': 500},
               {'endpoint': 'ping', 'mode': 'status_after', 'status': 502})
    assert owner.api.raw('ping', {}).status == 502
    assert owner.api.raw('user_search', {'query': 'nobody-here'}).status == 200


def test_faults_at_start_and_bad_specs(tmp_path):
    spec = tmp_path / 'spec.json'
    spec.write_text(json.dumps({'seed': 1, 'rules': [{'endpoint': 'ping', 'mode': 'html200'}]}))
    server = ServerProcess(tmp_path / 'data', '2024', extra_args=['--faults', str(spec)])
    server.start()
    try:
        assert server.api().raw('ping', {}).content_type.startswith('text/html')
        serve_cli_plain('faults', '--data-dir', server.data_dir, '--clear')
        assert server.api().raw('ping', {}).json['event'] == 'pong'
    finally:
        assert server.stop() == 0
    for bad, named in (('{"rules": [{"endpoint": "ping", "mode": "explode"}]}', 'rules[0].mode'),
                       ('{"rules": [{"endpoint": "ping", "mode": "delay", "rate": 2}]}', 'rules[0].rate'),
                       ('{"rules": [{"endpoint": "ping", "mode": "html200", "status": 500}]}', 'rules[0].status'),
                       ('{"seed": "x"}', 'seed'), ('{nope', 'not valid JSON'), (str(tmp_path / 'missing'), 'neither JSON')):
        done = subprocess.run(serve_command('faults', '--data-dir', server.data_dir, bad), capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 2 and named in done.stderr, (bad, done.stderr)
    assert serve_cli('stats', '--data-dir', server.data_dir)['ping']['faults'] == {'html200': 1}
