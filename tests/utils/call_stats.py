"""Read the local server's request counts (`serve stats`) as calls, writes and command runs.

Shared by the README demo (tests/utils/demo.py) and the benchmark (bench/run_bench.py), so both count
a "write" the same way:
- reads: the endpoints below, and `query` gets;
- execs: `project_exec`, counted apart: whether a command changes anything is up to the command (the
  course verifies handouts and `creates` guards with read-only commands; a setup command writes);
- writes: every other endpoint (create_project, invite_*, add/remove_collaborator, write_text_file,
  copy_*, ...) and `query` sets.
`serve stats` counts per endpoint; where it reports query sets apart (a `sets` count in the `query`
entry, or a separate `query...` key) they are writes, otherwise every `query` call counts as a read.
"""

READ_ENDPOINTS = frozenset([
    'ping', 'user_search', 'get_usernames', 'read_text_file_from_project', 'copy_path_status',
    'public_get_text_file', 'public_get_directory_listing',
])
EXEC_ENDPOINTS = frozenset(['project_exec'])


def summarize(stats):
    """{calls, writes, execs, by_endpoint: {endpoint: calls}, detail: 'endpoint:n ...'} from `serve stats` output."""
    by_endpoint = dict((endpoint, entry['calls']) for endpoint, entry in stats.items() if entry.get('calls'))
    writes = execs = 0
    for endpoint, entry in stats.items():
        if endpoint == 'query':
            writes += entry.get('sets', 0)
        elif endpoint in EXEC_ENDPOINTS:
            execs += entry['calls']
        elif endpoint not in READ_ENDPOINTS:
            writes += entry['calls']
    return dict(calls=sum(by_endpoint.values()), writes=writes, execs=execs, by_endpoint=by_endpoint,
                detail=' '.join('%s:%d' % item for item in sorted(by_endpoint.items())))
