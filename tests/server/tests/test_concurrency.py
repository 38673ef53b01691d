"""20 concurrent clients doing mixed reads and writes: no errors, no lost writes (issue 2).

Each thread owns some projects' files and a counter document of its own, and all threads share one
project's `users` map and one account's settings map, so the read-modify-write paths of the server
(deep merges, file writes) are exercised under contention. Afterwards everything written is read back.
"""

import concurrent.futures
import threading

from cocalc_testlib import Api

THREADS = 20
ROUNDS = 5


def test_twenty_threads_mixed_reads_and_writes(server_2024):
    server = server_2024
    owner = server.new_account('owner')
    shared = owner.new_project(title='shared')
    members = [server.new_account('member%d' % i) for i in range(THREADS)]
    for member in members:
        owner.api.ok('invite_collaborator', project_id=shared, account_id=member.account_id)
    projects = [member.new_project(title='own-%d' % i) for i, member in enumerate(members)]
    # Calls arriving while the first call starts a stopped project are refused, as on the hub
    # (test_starts.py): start the shared project first, so that this tests concurrency alone.
    assert owner.api.ok('write_text_file_to_project', project_id=shared, path='started.txt', content='')
    errors = []
    barrier = threading.Barrier(THREADS)

    def worker(index):
        member = members[index]
        api = Api(server.url, member.api_key)   # one session per thread
        barrier.wait()
        for round_ in range(ROUNDS):
            calls = [
                ('write_text_file_to_project', {'project_id': shared, 'path': 'threads/%02d/%02d.txt' % (index, round_),
                                                'content': 'thread %d round %d\n' % (index, round_)}),
                ('write_text_file_to_project', {'project_id': projects[index], 'path': 'counter.txt', 'content': str(round_)}),
                ('query', {'query': {'projects': {'project_id': shared, 'users': {member.account_id: {'hide': round_ % 2 == 1}}}}}),
                ('query', {'query': {'accounts': {'editor_settings': {'tab_size': round_ + 2}}}}),
                ('query', {'query': {'public_paths': {'project_id': projects[index], 'path': 'p%d' % round_, 'description': 'r%d' % round_}}}),
                ('read_text_file_from_project', {'project_id': projects[index], 'path': 'counter.txt'}),
                ('query', {'query': {'projects_all': [{'project_id': None, 'title': None, 'users': None}]}}),
                ('ping', {}),
                ('project_exec', {'project_id': projects[index], 'command': 'cat', 'args': ['counter.txt']}),
            ]
            for endpoint, body in calls:
                reply = api.raw(endpoint, body)
                if reply.status != 200 or reply.json is None or reply.json.get('event') == 'error':
                    errors.append((index, endpoint, reply.status, reply.text[:300]))
                elif endpoint == 'read_text_file_from_project' and reply.json['content'] != str(round_):
                    errors.append((index, 'read own write', reply.json['content'], round_))
                elif endpoint == 'project_exec' and reply.json['stdout'] != str(round_):
                    errors.append((index, 'exec sees own write', reply.json['stdout'], round_))

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(worker, i) for i in range(THREADS)]:
            future.result()
    assert errors == []

    # Nothing was lost: every file, every users entry, every public path and every last setting.
    listing = owner.execute(shared, 'find threads -type f | sort', bash=True)['stdout'].split()
    assert len(listing) == THREADS * ROUNDS
    for index in range(THREADS):
        for round_ in range(ROUNDS):
            assert owner.read(shared, 'threads/%02d/%02d.txt' % (index, round_)) == 'thread %d round %d\n' % (index, round_)
    users = owner.users(shared)
    assert users[owner.account_id] == {'group': 'owner'}
    for member in members:
        assert users[member.account_id] == {'group': 'collaborator', 'hide': (ROUNDS - 1) % 2 == 1}
        settings = member.api.query({'accounts': {'editor_settings': None}})['accounts']['editor_settings']
        assert settings['tab_size'] == ROUNDS + 1
    for index, project in enumerate(projects):
        rows = members[index].api.query({'public_paths': [{'project_id': project, 'path': None, 'description': None}]})['public_paths']
        assert sorted((row['path'], row['description']) for row in rows) == [('p%d' % r, 'r%d' % r) for r in range(ROUNDS)]


def test_concurrent_writes_to_one_file_are_atomic(server_2024):
    alice = server_2024.new_account('atomic')
    project = alice.new_project()
    contents = ['%s\n' % (letter * 60000) for letter in 'ABCDEFGH']
    seen = []
    # The first call starts the stopped project; calls arriving during that start are refused, as on the
    # hub (test_starts.py). Start it first, so that what follows tests concurrent writes alone.
    assert Api(server_2024.url, alice.api_key).ok('write_text_file_to_project', project_id=project, path='same.txt', content=contents[0])

    def write(content):
        api = Api(server_2024.url, alice.api_key)
        for dummy in range(4):
            assert api.ok('write_text_file_to_project', project_id=project, path='same.txt', content=content)

    def read():
        api = Api(server_2024.url, alice.api_key)
        for dummy in range(12):
            answer = api.call('read_text_file_from_project', project_id=project, path='same.txt')
            if answer['event'] != 'error':
                seen.append(answer['content'])

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(write, content) for content in contents] + [pool.submit(read) for dummy in range(4)]
        for future in futures:
            future.result()
    assert seen, 'the readers saw the file at least once'
    for content in seen:
        assert content in contents, 'a torn read: %r...' % content[:80]
    assert alice.read(project, 'same.txt') in contents
