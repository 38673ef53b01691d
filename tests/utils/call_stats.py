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
Era 2026 (current CoCalc) counts calls by v2 route or conat bridge function; by_operation() names them
by the API v1 operation they do (both the route and the function of an operation, whichever the client
chose), so every era is counted alike. The integration targets use it too (filter cocalc_v1_stats).
"""

READ_ENDPOINTS = frozenset([
    'ping', 'user_search', 'get_usernames', 'read_text_file_from_project', 'copy_path_status',
    'public_get_text_file', 'public_get_directory_listing',
])
EXEC_ENDPOINTS = frozenset(['project_exec'])
# Era 2026's names -> API v1 operation. Names without one (projects/start, projects/stop, ...) keep their
# own name, so they count as writes.
CURRENT_TO_V1 = {
    'user-query': 'query', 'hub:db.userQuery': 'query',
    'projects/create': 'create_project', 'hub:projects.createProject': 'create_project',
    'projects/write-text-file': 'write_text_file_to_project', 'project:system.writeTextFileToProject': 'write_text_file_to_project',
    'project:system.readTextFileFromProject': 'read_text_file_from_project', 'projects/call': 'read_text_file_from_project',
    'exec': 'project_exec', 'project:system.exec': 'project_exec',
    'projects/copy-path': 'copy_path_between_projects', 'hub:projects.copyPathBetweenProjects': 'copy_path_between_projects',
    'projects/copy-path-status': 'copy_path_status',
    # Adding an existing account: API v1's invite_collaborator (what the collection calls; add_collaborator is unused).
    'projects/collaborators/add': 'invite_collaborator', 'hub:projects.addCollaborator': 'invite_collaborator',
    'projects/collaborators/remove': 'remove_collaborator', 'hub:projects.removeCollaborator': 'remove_collaborator',
    'hub:projects.inviteCollaborator': 'invite_collaborator',
    'hub:projects.inviteCollaboratorWithoutAccount': 'invite_noncloud_collaborators',
    'accounts/search': 'user_search', 'hub:system.userSearch': 'user_search',
    'accounts/get-names': 'get_usernames', 'hub:system.getNames': 'get_usernames',
    'accounts/set-email-address': 'change_email_address',
    'auth/sign-up': 'create_account',
    'hub:system.ping': 'ping', 'hub:system.test': 'ping', 'accounts/profile': 'ping',
}


def era_names(operation, era):
    """The names `serve stats` and fault rules use for an API v1 operation in this era (every route and
    function that does it in era 2026; the operation itself in the API v1 eras)."""
    if era != '2026':
        return [operation]
    return sorted(name for name, op in CURRENT_TO_V1.items() if op == operation) or [operation]


def fault_spec_for_era(spec, era):
    """A `serve faults` spec whose rules name API v1 operations, with each rule repeated for every name of
    its operation in this era ('*' stays as it is)."""
    rules = []
    for rule in spec.get('rules', []):
        names = [rule['endpoint']] if rule.get('endpoint') == '*' else era_names(rule['endpoint'], era)
        rules.extend(dict(rule, endpoint=name) for name in names)
    return dict(spec, rules=rules)


def by_operation(stats):
    """`serve stats` of any era with API v1 operation names: {operation: {calls, http_status, [gets, sets]}}."""
    result = {}
    for name, entry in stats.items():
        merged = result.setdefault(CURRENT_TO_V1.get(name, name), {'calls': 0, 'http_status': {}})
        merged['calls'] += entry.get('calls', 0)
        for status, calls in entry.get('http_status', {}).items():
            merged['http_status'][status] = merged['http_status'].get(status, 0) + calls
        for key in ('gets', 'sets'):
            if key in entry:
                merged[key] = merged.get(key, 0) + entry[key]
    return result


def summarize(stats):
    """From `serve stats` output: {calls, writes (other than query sets), query_sets (0 without query calls, None
    when the server does not split them), execs, by_endpoint: {endpoint: calls}, detail: 'endpoint:n ...'}."""
    stats = by_operation(stats)
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
