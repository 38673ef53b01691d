"""Read the local server's request counts (`serve stats`) as calls, writes and command runs.

Shared by the README demo (tests/utils/demo.py) and the benchmark (bench/run_bench.py), so both count
a "write" the same way:
- reads: the endpoints below, and `query` gets;
- execs: `project_exec`, counted apart: whether a command changes anything is up to the command (the
  course verifies handouts and `creates` guards with read-only commands; a setup command writes);
- writes: every other endpoint (create_project, invite_*, add/remove_collaborator, write_text_file,
  copy_*, ...);
- query sets, apart: `query` is both a read and a write; `serve stats` splits its entry into `gets` and
  `sets` (a set is every query call its engine did not classify as a get, so sets are never under-counted).
  No `query` entry means no query call, so 0 sets; an entry without `sets` (a server that does not split
  them) gives None.
"""

READ_ENDPOINTS = frozenset([
    'ping', 'user_search', 'get_usernames', 'read_text_file_from_project', 'copy_path_status',
    'public_get_text_file', 'public_get_directory_listing',
])
EXEC_ENDPOINTS = frozenset(['project_exec'])


def summarize(stats):
    """From `serve stats` output: {calls, writes (other than query sets), query_sets (0 without query calls, None
    when the server does not split them), execs, by_endpoint: {endpoint: calls}, detail: 'endpoint:n ...'}."""
    by_endpoint = dict((endpoint, entry['calls']) for endpoint, entry in stats.items() if entry.get('calls'))
    writes = execs = 0
    query_sets = 0
    for endpoint, entry in stats.items():
        if endpoint == 'query':
            query_sets = entry.get('sets') if entry.get('calls') else 0
        elif endpoint in EXEC_ENDPOINTS:
            execs += entry['calls']
        elif endpoint not in READ_ENDPOINTS:
            writes += entry['calls']
    return dict(calls=sum(by_endpoint.values()), writes=writes, query_sets=query_sets, execs=execs, by_endpoint=by_endpoint,
                detail=' '.join('%s:%d' % item for item in sorted(by_endpoint.items())))
