"""Project starts and batched reads, as the real hub of 2024 behaved in ../shared/real-hub/runs-2024/.

Each test quotes the recorded line it follows (shortened ids; `...` marks cut text). Two private
servers per era keep this fast and deterministic: `slow` (starts take 60 s, so a start is reliably
still under way while a test looks at it; nothing here waits for one of its starts to finish) and
`quick` (starts take START_S, for what happens once a start completes). Timing checks are lower
bounds ("took at least ...") or "answered long before the start could end", never tight upper
bounds, so a busy machine cannot make them flake.
"""

import concurrent.futures
import re
import subprocess
import time

import pytest

from cocalc_testlib import ERAS, UUID_RE, ServerProcess, serve_command

PORT_ERROR = 'Error: unable to determine project port'
HOST_ERROR = 'Error: unable to determine host'
SLOW_S = 60.0
START_S = 1.5
HOST_TAIL_S = 2.0


def _server(tmp_path_factory, era, name, *extra):
    server = ServerProcess(tmp_path_factory.mktemp('%s-%s' % (name, era)) / 'data', era, extra_args=extra)
    server.start()
    return server


@pytest.fixture(scope='module', params=ERAS, ids=['era-%s' % era for era in ERAS])
def slow(tmp_path_factory, request):
    server = _server(tmp_path_factory, request.param, 'slow', '--start-seconds', SLOW_S)
    yield server
    assert server.stop() == 0, server.log_tail()


def state_of(account, project_id):
    return account.project(project_id, 'state')['state']


def wait_starting(account, project_id):
    """Until another thread's call has begun a start (it lasts START_S, long enough to see it)."""
    deadline = time.monotonic() + START_S * 0.8
    while state_of(account, project_id)['state'] != 'starting':
        assert time.monotonic() < deadline, 'the start never showed as starting'
        time.sleep(0.01)


def wait_running(account, project_id, limit=60):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        state = state_of(account, project_id)
        if state['state'] == 'running':
            return state
        time.sleep(0.05)
    raise AssertionError('project %s never ran within %s s' % (project_id, limit))


# -- starting projects refuse project calls -------------------------------------------------------------------------
def test_create_with_start_reads_starting_without_ip(slow):
    """integration-suite.jsonl 23:43:57, right after create_project {"title": ..., "start": true}:
    "state": {"time": "2026-12-05T23:43:57.147Z", "state": "starting"}   (no "ip")
    """
    alice = slow.new_account('starting')
    project = alice.new_project(start=True)
    state = state_of(alice, project)
    assert state['state'] == 'starting' and set(state) == {'time', 'state'}


@pytest.mark.parametrize('endpoint, body', [
    ('write_text_file_to_project', {'path': 'README.md', 'content': '# Course\n'}),
    ('read_text_file_from_project', {'path': 'README.md'}),
    ('project_exec', {'command': 'true'}),
], ids=['write', 'read', 'exec'])
def test_project_call_to_starting_project_is_refused_at_once(slow, endpoint, body):
    """course-playbook.jsonl 23:48:45 (and integration-suite.jsonl 23:41:23), right after create_project with start:
    POST write_text_file_to_project {"project_id": "756adaa8-...", "path": "README.md", "content": "# Calculus I ..."}
      => HTTP 200 {"event": "error", "id": "5df4484f-...", "error": "Error: unable to determine project port"}
    The same refusal for reads and exec (runs-2024 README fact 1: "answered at once (0.08 s)").
    """
    alice = slow.new_account('refused')
    project = alice.new_project(start=True)
    began = time.monotonic()
    reply = alice.api.raw(endpoint, dict(body, project_id=project))
    assert time.monotonic() - began < SLOW_S / 4, 'the refusal waited for the start'
    assert reply.status == 200 and list(reply.json) == ['event', 'id', 'error']
    assert reply.json['event'] == 'error' and reply.json['error'] == PORT_ERROR and re.fullmatch(UUID_RE, reply.json['id'])
    echoed = alice.api.call(endpoint, id='my-id-1', project_id=project, **body)
    assert echoed == {'event': 'error', 'id': 'my-id-1', 'error': PORT_ERROR}
    assert state_of(alice, project)['state'] == 'starting'
    assert not (slow.home(project) / 'README.md').exists()


def test_copies_into_or_out_of_a_starting_project_are_refused(slow):
    """The hub refuses a starting project before reaching it (runs-2024 README fact 1); copies
    go through the same project connection, so neither side may be starting. (A stopped side is
    fine: the single-user hub copies between homes without starting them.)"""
    alice = slow.new_account('copies')
    stopped = alice.new_project()
    (slow.home(stopped) / 'handout.md').write_text('hand out\n')
    starting = alice.new_project(start=True)
    wait = {'wait_until_done': True} if slow.era == '2024' else {}
    into = alice.api.call('copy_path_between_projects', src_project_id=stopped, src_path='handout.md',
                          target_project_id=starting, **wait)
    out_of = alice.api.call('copy_path_between_projects', src_project_id=starting, src_path='.bash_profile',
                            target_project_id=stopped, target_path='copied', **wait)
    for answer in (into, out_of):
        assert answer == {'event': 'error', 'id': answer['id'], 'error': PORT_ERROR}
    assert not (slow.home(starting) / 'handout.md').exists() and not (slow.home(stopped) / 'copied').exists()


# -- what happens once a start completes (2024 era; the model is shared by both eras) ----------------------------------
@pytest.fixture(scope='module')
def quick(tmp_path_factory):
    server = _server(tmp_path_factory, '2024', 'quick', '--start-seconds', START_S)
    yield server
    assert server.stop() == 0, server.log_tail()


def test_explicit_start_refuses_then_runs_with_ip(quick):
    """integration-suite.jsonl: create_project {"title": "it-project-4mpieiih9x started", "start": true} at
    23:43:57, state "starting" until 23:44:01, then at 23:44:02
    "state": {"ip": "127.0.0.1", "time": "2026-12-05T23:44:01.619Z", "state": "running"};
    course-playbook.jsonl: the writes refused at 23:48:45 succeed at 23:50:02 ({"event": "file_written_to_project", ...}).
    """
    alice = quick.new_account('explicit')
    began = time.monotonic()
    project = alice.new_project(start=True)
    assert alice.api.error('write_text_file_to_project', project_id=project, path='a.md', content='A') == PORT_ERROR
    state = wait_running(alice, project)
    assert time.monotonic() - began >= START_S * 0.9
    assert set(state) == {'ip', 'time', 'state'} and state['ip'] == '127.0.0.1'
    assert alice.write(project, 'a.md', 'A')['event'] == 'file_written_to_project'
    assert alice.read(project, 'a.md') == 'A'


def test_call_to_stopped_project_starts_it_and_waits(quick):
    """runs-2024 README fact 1: "Without `start: true`, the first project call starts the project itself and
    waits (about 3 s), then succeeds"; and from the later probe: "once `projects.state` reads `starting`,
    calls fail at once as above" (so a second call during that start is refused)."""
    alice = quick.new_account('ondemand')
    project = alice.new_project()
    assert state_of(alice, project)['state'] == 'opened'
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        began = time.monotonic()
        first = pool.submit(alice.api.call, 'write_text_file_to_project', project_id=project, path='hw.md', content='hw')
        wait_starting(alice, project)
        assert alice.api.error('read_text_file_from_project', project_id=project, path='hw.md') == PORT_ERROR
        assert first.result(timeout=60)['event'] == 'file_written_to_project'
        assert time.monotonic() - began >= START_S * 0.9
    assert state_of(alice, project)['state'] == 'running'
    assert alice.read(project, 'hw.md') == 'hw'


def test_action_request_start_blocks_until_running(quick):
    """integration-suite.jsonl 23:43:43: {"query": {"projects": {"project_id": "a2d53d26-...", "action_request":
    {"action": "start", "time": "2026-12-05T23:43:43.031Z"}}}} => {"query": {}, ...} after 3.404 s, and at
    23:43:46 "state": {"ip": "127.0.0.1", ..., "state": "running"}, "action_request": {..., "finished": ...}.
    Meanwhile the project reads 'starting' and refuses project calls, like any starting project."""
    alice = quick.new_account('action')
    project = alice.new_project()
    request = {'projects': {'project_id': project, 'action_request': {'action': 'start', 'time': '{now}'}}}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        began = time.monotonic()
        answer = pool.submit(alice.api.query, request)
        wait_starting(alice, project)
        assert alice.api.error('project_exec', project_id=project, command='true') == PORT_ERROR
        assert answer.result(timeout=60) == {}
        assert time.monotonic() - began >= START_S * 0.9
    row = alice.project(project, 'state', 'action_request')
    assert row['state']['state'] == 'running' and 'finished' in row['action_request']
    assert alice.execute(project, 'true')['exit_code'] == 0


def test_stop_while_starting_is_ignored(quick):
    """runs-2024 README (later probe): "A stop sent while a project is `starting` is ignored (the project ends up running)"."""
    alice = quick.new_account('stopstart')
    project = alice.new_project(start=True)
    assert state_of(alice, project)['state'] == 'starting'
    assert alice.api.query({'projects': {'project_id': project, 'action_request': {'action': 'stop', 'time': '{now}'}}}) == {}
    wait_running(alice, project)
    time.sleep(0.2)
    assert state_of(alice, project)['state'] == 'running'


def test_starts_at_once_share_the_machine(quick):
    """runs-2024 README fact 1: "30 projects started at once took about 50 s until all answered" (~4 s alone):
    overlapping starts finish one after another, so the last of N is later than a single start."""
    alice = quick.new_account('capacity')
    began = time.monotonic()
    started = [alice.new_project(start=True) for dummy in range(4)]
    for project in started:
        wait_running(alice, project)
    # START_S for the first, then START_S / 2.4 more for each further one (a lower bound: never faster).
    assert time.monotonic() - began >= (START_S + 3 * START_S / 2.4) * 0.9


def test_real_hub_profile_figures():
    """The start model with the real-hub figures: 4 s alone, about 50 s for 30 at once."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cocalc_hub.projects import StartModel   # pylint: disable=import-outside-toplevel
    model = StartModel(4.0)
    assert model.next_ready_at(100.0) == 104.0
    model = StartModel(4.0)
    last = [model.next_ready_at(100.0) for dummy in range(30)][-1] - 100.0
    assert 45 <= last <= 55


def test_host_error_tail_after_a_start(tmp_path):
    """runs-2024 README (later probe): "For 0.3-0.6 s at the end of a start, calls answer a second text,
    `"Error: unable to determine host"`" (opt-in: --host-error-seconds)."""
    server = ServerProcess(tmp_path / 'data', '2024', extra_args=['--start-seconds', '0.2', '--host-error-seconds', HOST_TAIL_S])
    server.start()
    try:
        alice = server.new_account('tail')
        project = alice.new_project(start=True)
        wait_running(alice, project)
        assert alice.api.error('write_text_file_to_project', project_id=project, path='a', content='a') == HOST_ERROR
        time.sleep(HOST_TAIL_S)
        assert alice.write(project, 'a', 'a')['event'] == 'file_written_to_project'
    finally:
        assert server.stop() == 0


# -- batched reads -------------------------------------------------------------------------------------------------
def test_batch_items_of_a_starting_project_are_empty_objects(slow):
    """course-playbook.jsonl 23:49:06: read_text_file_from_project {"project_id": ["756adaa8-...", ...],
    "path": ["README.md", "homework/hw1.md", ...]} => "content": [{"path": "README.md", "project_id":
    "756adaa8-...", "error": {}}, {"path": "homework/hw1.md", "project_id": "756adaa8-...", "error": {}}, ...]
    """
    alice = slow.new_account('batchstart')
    project = alice.new_project(start=True)
    paths = ['README.md', 'homework/hw1.md', 'homework/hw2.md', 'homework/hw3.md']
    for dummy in range(5):
        content = alice.api.ok('read_text_file_from_project', project_id=[project] * 4, path=paths)['content']
        assert [item['path'] for item in content] != paths, 'a batch answers in completion order, never the request order'
        assert sorted(item['path'] for item in content) == sorted(paths)
        for item in content:
            assert list(item) == ['path', 'project_id', 'error'] and item['project_id'] == project and item['error'] == {}


def test_batch_answers_in_completion_order_with_project_id_and_path(quick):
    """course-playbook.jsonl 23:49:06 asked [756a README, 756a hw1, 756a hw2, 2f81 README, ...] and
    23:50:02 answered [756a README, 756a hw1, 756a hw2, 01f3 README, 01f3 hw1, 01f3 hw2, 2f81 hw1, 2f81 README, ...]
    with items like {"path": "README.md", "project_id": "756adaa8-...", "error": "Error: ENOENT: no such file or
    directory, stat '/projects/756adaa8-.../README.md'"}; later runs {"path": ..., "project_id": ..., "content": ...}.
    """
    alice = quick.new_account('batchorder')
    first, second = alice.new_project(), alice.new_project()
    alice.write(first, 'README.md', 'first readme')
    alice.write(second, 'homework/hw1.md', 'second hw1')
    ids = [first, first, second, second]
    paths = ['README.md', 'homework/hw1.md', 'README.md', 'homework/hw1.md']
    for dummy in range(10):
        content = alice.api.ok('read_text_file_from_project', project_id=ids, path=paths)['content']
        assert [(item['project_id'], item['path']) for item in content] != list(zip(ids, paths))
        by_key = {(item['project_id'], item['path']): item for item in content}
        assert len(by_key) == 4
        assert by_key[(first, 'README.md')] == {'path': 'README.md', 'project_id': first, 'content': 'first readme'}
        assert by_key[(second, 'homework/hw1.md')] == {'path': 'homework/hw1.md', 'project_id': second, 'content': 'second hw1'}
        for key in ((first, 'homework/hw1.md'), (second, 'README.md')):
            item = by_key[key]
            assert list(item) == ['path', 'project_id', 'error']
            assert isinstance(item['error'], str) and item['error'].startswith('Error: ENOENT: no such file or directory, stat ')
    single = alice.api.ok('read_text_file_from_project', project_id=[first], path=['README.md'])['content']
    assert single == [{'path': 'README.md', 'project_id': first, 'content': 'first readme'}]


# -- options and restarts ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('option, value', [('--start-seconds', '-1'), ('--start-seconds', 'nan'), ('--start-seconds', 'soon'),
                                           ('--host-error-seconds', '-0.5')])
def test_bad_start_options_exit_2_naming_the_option(tmp_path, option, value):
    done = subprocess.run(serve_command('--data-dir', tmp_path / 'data', option, value), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and option in done.stderr and done.stdout == ''


def test_restart_during_a_start_leaves_the_project_stopped(tmp_path):
    """A start under way does not survive the server: after a restart the project reads stopped ('opened')
    and the next call starts it, instead of reading 'starting' for ever."""
    data = tmp_path / 'data'
    first = ServerProcess(data, '2024', extra_args=['--start-seconds', SLOW_S])
    first.start()
    alice_key = first.new_account('restart')
    project = alice_key.new_project(start=True)
    assert state_of(alice_key, project)['state'] == 'starting'
    assert first.stop() == 0
    second = ServerProcess(data, '2024', extra_args=['--start-seconds', '0'])
    second.start()
    try:
        api = second.api(alice_key.api_key)
        assert api.query({'projects_all': {'project_id': project, 'state': None}})['projects_all']['state']['state'] == 'opened'
        assert api.ok('write_text_file_to_project', project_id=project, path='a', content='a')['event'] == 'file_written_to_project'
    finally:
        assert second.stop() == 0
