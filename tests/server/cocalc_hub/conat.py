"""Era 2026: the two conat RPC bridges, `POST /api/conat/hub` {"name", "args", "timeout"?} and
`POST /api/conat/project` {"project_id", "name", "args", "timeout"?}.

Only an API key counts here (cookies are not allowed). Answers are HTTP 200: the function's value,
or {"error": "Error: ..."} (TypeErrors of the hub's code keep their own prefix). A call runs for at
most `timeout` ms (default 15 s), then answers the recorded "timeout - callHub: ... code='408' ".
The project bridge's collaborator check is cached 30 s ("no" answers too).
"""

import time

from . import handlers, projects, v2
from .eras import time_scale
from .errors import HandlerError
from .util import is_uuid, js_string, new_uuid, now_iso

DEFAULT_TIMEOUT_MS = 15000
MEMBER_CHECK_CACHE_S = 30
SIGN_IN_HUB = 'must be signed in and MUST provide an api key (cookies are not allowed)'
SIGN_IN_PROJECT = 'must sign in as project or account'


class ConatError(Exception):
    """An answer {"error": text}; `text` is complete (prefix included)."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text


def _now_ms():
    return int(time.time() * 1000)


def _arg(args, index=0):
    return args[index] if isinstance(args, list) and len(args) > index else None


def _opts(args, name='project_id'):
    first = _arg(args)
    if not isinstance(first, dict):
        raise ConatError("TypeError: Cannot destructure property '%s' of 'undefined' as it is undefined." % name)
    return first


def _wrapped(args):
    """The `[{opts: {...}}]` form of the projects.* collaborator functions."""
    first = _opts(args)
    if not isinstance(first.get('opts'), dict):
        raise ConatError("TypeError: Cannot destructure property 'project_id' of 'opts' as it is undefined.")
    return first['opts']


def _member(hub, caller, project_id, text):
    if not is_uuid(project_id):
        raise ConatError("Error: invalid account_id or project_id -- all must be valid uuid's")
    if v2.membership(hub, caller, project_id) is None:
        raise ConatError('Error: ' + text)
    return project_id


# ---- hub functions ----------------------------------------------------------------------------
def hub_ping(hub, caller, args):
    return {'now': _now_ms()}


def hub_test(hub, caller, args):
    return {'account_id': caller.account_id, 'server_time': _now_ms()}


def user_search(hub, caller, args):
    opts = _opts(args, 'query')
    admin = bool(opts.get('admin'))
    if admin and not caller.is_admin:
        raise ConatError('Error: Must be an admin to do admin search.')
    limit = opts.get('limit') if isinstance(opts.get('limit'), int) else 20
    return v2.search_accounts(hub, caller, opts.get('query'), limit, admin)


def get_names(hub, caller, args):
    ids = _arg(args)
    if not isinstance(ids, list):
        raise ConatError('TypeError: account_ids is not iterable')
    return v2.names_of(hub, ids)


def manage_api_keys(hub, caller, args):
    return v2.key_rows(hub, caller, _opts(args, 'action'))


def db_user_query(hub, caller, args):
    opts = _opts(args, 'query')
    return v2.user_query(hub, caller, opts.get('query'), opts.get('options'))


def create_project(hub, caller, args):
    opts = _arg(args) if isinstance(_arg(args), dict) else {}
    return v2.route_create(hub, caller, opts)['project_id']


def delete_project(hub, caller, args):
    v2.route_delete(hub, caller, _opts(args))


def state_of(hub, caller, args):
    project_id = _member(hub, caller, _opts(args).get('project_id'), 'must be collaborator on project to get state')
    state = dict(hub.store.get_project(project_id).get('state') or {})
    return {key: state[key] for key in ('ip', 'state', 'time') if key in state}


def status_of(hub, caller, args):
    project_id = _member(hub, caller, _opts(args).get('project_id'), 'must be collaborator on project to get status')
    status = hub.store.get_project(project_id).get('status') or {}
    return {key: value for key, value in status.items() if key != 'secret_token'}


def start(hub, caller, args):
    v2.start_project(hub, _member(hub, caller, _opts(args).get('project_id'), 'must be collaborator on project to start it'))


def stop(hub, caller, args):
    project_id = _member(hub, caller, _opts(args).get('project_id'), 'must be collaborator on project to stop it')
    if projects.is_running(hub, project_id):
        projects.stop(hub, project_id)


def touch(hub, caller, args):
    project_id = _member(hub, caller, _opts(args).get('project_id'), 'must be collaborator on project to touch it')
    projects.touch(hub, project_id, caller.account_id, force=True)


def add_collaborator(hub, caller, args):
    opts = _wrapped(args)
    project_ids, account_ids = opts.get('project_id'), opts.get('account_id')
    project_ids = project_ids if isinstance(project_ids, list) else [project_ids]
    account_ids = account_ids if isinstance(account_ids, list) else [account_ids]
    if len(project_ids) != len(account_ids):
        raise ConatError('Error: accounts (of length %d) and projects (of length %d) must be arrays of the same length'
                         % (len(account_ids), len(project_ids)))
    v2.add_collaborators(hub, caller, project_ids, account_ids, 'Error: ')
    return {'project_id': project_ids}


def remove_collaborator(hub, caller, args):
    opts = _wrapped(args)
    v2.remove_collaborator(hub, caller, opts.get('project_id'), opts.get('account_id'),
                           'OwnershipError: Cannot remove an owner. Demote to collaborator first.')


def change_user_type(hub, caller, args):
    v2.change_user_type(hub, caller, _wrapped(args))


def invite_collaborator(hub, caller, args):
    opts = _wrapped(args)
    if v2.membership(hub, caller, opts.get('project_id')) is None:
        raise ConatError('Error: user must be a collaborator')
    v2.add_collaborators(hub, caller, [opts.get('project_id')], [opts.get('account_id')], 'Error: ')


def invite_without_account(hub, caller, args):
    opts = _wrapped(args)
    if v2.membership(hub, caller, opts.get('project_id')) is None:
        raise ConatError('Error: user must be a collaborator')
    mesg = {'id': new_uuid(), 'project_id': opts.get('project_id'), 'to': opts.get('to'), 'email': opts.get('email'),
            'title': opts.get('title'), 'link2proj': opts.get('link2proj'), 'subject': opts.get('subject')}
    try:
        # The v1 handler does the same job: existing accounts are added, others get an e-mail and
        # a pending "add to project" action; projects.invite records every address.
        handlers.invite_noncloud_collaborators(hub, caller, mesg)
    except HandlerError as problem:
        raise ConatError('Error: ' + js_string(problem.error)) from None
    # An address that has an account is added directly; the hub still records it in projects.invite.
    known = [address for address in (part.strip().lower() for part in
                                     js_string(opts.get('to')).replace(';', ' ').replace(',', ' ').split())
             if hub.store.account_by_email(address) is not None]
    if known:
        with hub.store.transaction() as conn:
            project = hub.store.get_project(opts['project_id'], conn)
            invite = project.get('invite') if isinstance(project.get('invite'), dict) else {}
            invite.update({address: {'time': now_iso()} for address in known})
            project['invite'] = invite
            hub.store.save_project(conn, project)


def copy_path(hub, caller, args):
    v2.copy_between(hub, caller, _opts(args, 'src_project_id'), 'src_path')


HUB_FUNCTIONS = {
    'system.ping': (hub_ping, False),
    'system.test': (hub_test, True),
    'system.userSearch': (user_search, True),
    'system.getNames': (get_names, True),
    'system.manageApiKeys': (manage_api_keys, True),
    'db.userQuery': (db_user_query, True),
    'projects.createProject': (create_project, True),
    'projects.deleteProject': (delete_project, True),
    'projects.state': (state_of, True),
    'projects.status': (status_of, True),
    'projects.start': (start, True),
    'projects.stop': (stop, True),
    'projects.touch': (touch, True),
    'projects.addCollaborator': (add_collaborator, True),
    'projects.removeCollaborator': (remove_collaborator, True),
    'projects.changeUserType': (change_user_type, True),
    'projects.inviteCollaborator': (invite_collaborator, True),
    'projects.inviteCollaboratorWithoutAccount': (invite_without_account, True),
    'projects.copyPathBetweenProjects': (copy_path, True),
}


# ---- project functions ------------------------------------------------------------------------
def project_ping(hub, project_id, args):
    return {'now': _now_ms()}


def project_test(hub, project_id, args):
    return {'project_id': project_id, 'server_time': _now_ms()}


def project_exec(hub, project_id, args):
    opts = _opts(args, 'command')
    try:
        return dict(_blocking_first(v2.run_exec(hub, project_id, opts)))
    except v2.V2Error as problem:
        prefix = v2.exec_prefix(opts).replace(" with args 'undefined' -- ", " with args '' -- ")
        text = problem.text
        for known in (prefix, v2.exec_prefix(opts)):
            if text.startswith(known):
                text = text[len(known):]
        raise ConatError(text) from None


def _blocking_first(result):
    return [('type', 'blocking'), ('stdout', result['stdout']), ('stderr', result['stderr']), ('exit_code', result['exit_code'])]


def read_text(hub, project_id, args):
    opts = _opts(args, 'path')
    try:
        return v2.read_file(hub, project_id, opts.get('path'))
    except TypeError as problem:
        raise ConatError('TypeError: %s' % problem) from None


def write_text(hub, project_id, args):
    opts = _opts(args, 'path')
    v2.write_file(hub, project_id, opts.get('path'), opts.get('content'))


def listing(hub, project_id, args):
    opts = _opts(args, 'path')
    path = js_string(opts.get('path') or '')
    try:
        rows = v2.list_dir(hub, project_id, path)
    except OSError:
        raise ConatError("Error: ENOENT: no such file or directory, opendir '%s'"
                         % (projects.home(hub, project_id) + ('/' + path if path else ''))) from None
    entries = []
    for name, info, count in rows:
        if name.startswith('.') and not opts.get('hidden'):
            continue
        entry = {'name': name, 'mtime': round(info.st_mtime, 3), 'size': info.st_size}
        if count is not None:
            entry.update(isdir=True, size=count)
        entries.append(entry)
    return entries


PROJECT_FUNCTIONS = {
    'system.ping': project_ping,
    'system.test': project_test,
    'system.exec': project_exec,
    'system.readTextFileFromProject': read_text,
    'system.writeTextFileToProject': write_text,
    'system.listing': listing,
}
LATENCY_KIND = {'system.exec': 'conat project exec', 'system.writeTextFileToProject': 'conat project write',
                'system.readTextFileFromProject': 'conat project read'}


# ---- the bridges -----------------------------------------------------------------------------
def _key_caller(hub, authorization, bad_key):
    if authorization is None:
        raise ConatError('You must provide authentication via an API key.')
    scheme, key = v2.scheme_and_key(authorization)
    if key is None:
        raise ConatError("Unknown authorization type '%s'" % scheme)
    caller = v2.caller_for_key(hub, key)
    if caller is None:
        raise ConatError(bad_key)
    return caller


def _timed(hub, work, params, subject, name):
    timeout = params.get('timeout')
    seconds = timeout / 1000.0 if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0 \
        else DEFAULT_TIMEOUT_MS / 1000.0 * time_scale()
    done, value = v2.with_limit(hub, work, seconds / time_scale())
    if not done:
        raise ConatError("timeout - callHub: subject='%s', name='%s', code='408' " % (subject, name))
    return value


def _name(params):
    name = params.get('name')
    if not isinstance(name, str):
        raise ConatError("TypeError: Cannot read properties of undefined (reading 'split')")
    return name


def stats_name(which, params):
    """How `serve stats` and fault rules name a bridge call: 'hub:<name>' / 'project:<name>' ('?' without one)."""
    return '%s:%s' % (which, params.get('name') if isinstance(params.get('name'), str) else '?')


def query_body(name, params):
    """The user-query part of a call (for fault rules narrowed to query gets or sets), else {}."""
    if name == 'user-query':
        return params
    if name == 'hub:db.userQuery':
        first = _arg(params.get('args'))
        return first if isinstance(first, dict) else {}
    return {}


def bridge(hub, which, params, authorization):
    """(answer, latency kind) of one bridge call."""
    try:
        if which == 'hub':
            return _hub_call(hub, params, authorization)
        return _project_call(hub, params, authorization)
    except ConatError as problem:
        return {'error': problem.text}, 'conat hub'


def _hub_call(hub, params, authorization):
    caller = _key_caller(hub, authorization, SIGN_IN_HUB)
    if caller.account_id is None:
        raise ConatError(SIGN_IN_HUB)   # a project key is not an account
    name = _name(params)
    if name not in HUB_FUNCTIONS:
        raise ConatError("Error: unknown function '%s'" % name)
    function = HUB_FUNCTIONS[name][0]

    def work():
        try:
            return function(hub, caller, params.get('args') if isinstance(params.get('args'), list) else [])
        except v2.V2Error as problem:
            raise ConatError(problem.text if problem.text.startswith(('Error', 'TypeError', 'OwnershipError'))
                             else 'Error: ' + problem.text) from None
    value = _timed(hub, work, params, 'hub.account.%s.api' % caller.account_id, name)
    return value, 'conat hub query' if name == 'db.userQuery' else 'conat hub'


def _project_call(hub, params, authorization):
    caller = _key_caller(hub, authorization, SIGN_IN_PROJECT)
    project_id = params.get('project_id') or getattr(caller, 'project_id', None)
    if not project_id:
        raise ConatError('must specify project_id or use project-specific api key')
    member = v2.cached(hub, 'bridge_checks', (caller.account_id, caller.project_id, project_id), MEMBER_CHECK_CACHE_S,
                       lambda: v2.membership(hub, caller, project_id) is not None)
    if not member:
        raise ConatError('user must be a collaborator on the project')
    name = _name(params)

    def work():
        v2.ensure_running(hub, project_id)   # the bridge starts a stopped project
        if name not in PROJECT_FUNCTIONS:
            raise ConatError("Error: unknown function '%s'" % name)
        try:
            return PROJECT_FUNCTIONS[name](hub, project_id, params.get('args') if isinstance(params.get('args'), list) else [])
        except v2.V2Error as problem:
            raise ConatError('Error: ' + problem.text) from None
    value = _timed(hub, work, params, 'project.%s.0.api.-' % project_id, name)
    return value, LATENCY_KIND.get(name, 'conat hub')
