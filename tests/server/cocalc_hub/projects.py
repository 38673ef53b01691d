"""Projects: creation, membership and access checks, and the start/stop life cycle.

State follows the real hub (FLOWS.md): a new or stopped project is "opened", a started one is
"running"; `status` holds the project's secret token and is renewed on every start.
"""

import os
import random
import signal
import time

from .errors import HandlerError
from .util import is_uuid, js_string, new_uuid, now_iso, parse_iso, random_token

DEFAULT_SETTINGS = {'disk_quota': 3000, 'cores': 1, 'cpu_shares': 0, 'memory': 1000, 'memory_request': 0, 'mintime': 1800,
                    'network': 0, 'member_host': 0, 'ephemeral_state': 0, 'ephemeral_disk': 0, 'always_running': 0}
DEFAULT_COMPUTE_IMAGE = 'ubuntu2204'
MISSING = object()          # "undefined" when comparing action_request times
BASH_PROFILE = """# This file is read by bash login shells in this project.
export PATH="$HOME/bin:$HOME/.local/bin:$PATH"
[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"
"""
TOUCH_INTERVAL_S = 30       # the hub bumps last_edited at most once per 30 s per project and user


def home(hub, project_id):
    return os.path.join(hub.projects_dir, project_id)


def is_member(project, account_id):
    return account_id is not None and account_id in (project.get('users') or {})


def owner_of(project):
    for account_id, entry in (project.get('users') or {}).items():
        if isinstance(entry, dict) and entry.get('group') == 'owner':
            return account_id
    return None


def edited_within(project, days):
    last = parse_iso(project.get('last_edited'))
    return last is not None and time.time() - last.timestamp() <= days * 24 * 3600


def create(hub, owner_id, title, description, image=None):
    now = now_iso()
    project_id = new_uuid()
    project = {'project_id': project_id, 'title': title, 'description': description,
               'users': {owner_id: {'group': 'owner'}}, 'created': now, 'last_edited': now,
               'compute_image': image if isinstance(image, str) and image else DEFAULT_COMPUTE_IMAGE,
               'state': {'ip': '127.0.0.1', 'time': now, 'state': 'opened'}}
    _make_home(hub, project_id)
    with hub.store.transaction() as conn:
        hub.store.save_project(conn, project)
    return project_id


def _make_home(hub, project_id):
    """The home directory, with the .bash_profile a CoCalc project starts with."""
    path = home(hub, project_id)
    os.makedirs(path, mode=0o700, exist_ok=True)
    profile = os.path.join(path, '.bash_profile')
    if not os.path.lexists(profile):
        with open(profile, 'w', encoding='utf-8') as handle:
            handle.write(BASH_PROFILE)


def check_access(hub, caller, project_id, kind, touching=True):
    """The hub's project access check (kind 'read' or 'write').

    Handlers that reach the project (exec, files, copies) touch it on success: last_edited and
    last_active. The collaborator handlers check access without touching (touching=False).
    """
    if caller.account_id is None:
        raise HandlerError('user must be signed in before accessing projects')
    if not is_uuid(project_id):
        raise HandlerError('%s access denied -- invalid project_id -- %s' % (kind.capitalize(), js_string(project_id)))
    project = has_access(hub, caller, project_id)
    if project is None:
        raise HandlerError('User %s does not have %s access to project %s' % (caller.account_id, kind, project_id))
    if touching:
        touch(hub, project_id, caller.account_id)
    return project


def has_access(hub, caller, project_id):
    """The project if the caller may use it (member or admin), else None."""
    if caller.account_id is None or not is_uuid(project_id):
        return None
    project = hub.store.get_project(project_id)
    if project is None or not (is_member(project, caller.account_id) or caller.is_admin):
        return None
    return project


def touch(hub, project_id, account_id, force=False):
    """The hub's database touch: last_edited and last_active[account] to now, at most every 30 s unless forced."""
    now = time.monotonic()
    with hub.lock:
        last = hub.touched.get((project_id, account_id))
        if not force and last is not None and now - last < TOUCH_INTERVAL_S:
            return
        hub.touched[(project_id, account_id)] = now
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        if project is None:
            return
        stamp = now_iso()
        project['last_edited'] = stamp
        last_active = project.get('last_active') if isinstance(project.get('last_active'), dict) else {}
        last_active[account_id] = stamp
        project['last_active'] = last_active
        hub.store.save_project(conn, project)


def _set_state(hub, project_id, state, new_status=False):
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        if project is None:
            return
        project['state'] = state
        if new_status:
            project['status'] = {'start_ts': int(time.time() * 1000), 'session_id': new_uuid(),
                                 'project.pid': random.randint(1000, 60000), 'secret_token': random_token(48),
                                 'hub-server.port': random.randint(30000, 60000),
                                 'browser-server.port': random.randint(30000, 60000)}
        hub.store.save_project(conn, project)


def is_running(hub, project_id):
    project = hub.store.get_project(project_id)
    return bool(project) and (project.get('state') or {}).get('state') == 'running'


def start(hub, project_id, explicit=False):
    """Start the project unless it runs; an explicit start of a running project renews state without 'ip'."""
    with hub.project_lock(project_id):
        if is_running(hub, project_id):
            if explicit:
                _set_state(hub, project_id, {'time': now_iso(), 'state': 'running'})
            return
        hub.pause(hub.start_delay)
        _make_home(hub, project_id)
        _set_state(hub, project_id, {'ip': '127.0.0.1', 'time': now_iso(), 'state': 'running'}, new_status=True)


def stop(hub, project_id):
    """Stop: kill the project's processes; a stopped project reads as 'opened', like the real hub."""
    with hub.project_lock(project_id):
        hub.pause(hub.stop_delay)
        with hub.lock:
            running = list(hub.processes.get(project_id, ()))
        for process in running:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
        _set_state(hub, project_id, {'ip': '127.0.0.1', 'time': now_iso(), 'state': 'opened'})


def ensure_running(hub, project_id):
    """exec, read and write start a stopped project on demand."""
    if not is_running(hub, project_id):
        start(hub, project_id)


def run_action(hub, project_id, action):
    """Run an action_request and record finished (and err, which the hub serialises as {})."""
    error = None
    if action == 'start':
        start(hub, project_id, explicit=True)
    elif action == 'stop':
        stop(hub, project_id)
    elif action == 'restart':
        stop(hub, project_id)
        start(hub, project_id)
    else:
        error = {}
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        if project is None:
            return
        request = dict(project.get('action_request') or {})
        request['finished'] = now_iso()
        if error is not None:
            request['err'] = error
        project['action_request'] = request
        hub.store.save_project(conn, project)
