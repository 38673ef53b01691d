"""Projects: creation, membership and access checks, and the start/stop life cycle.

State follows the real hub (FLOWS.md): a new or stopped project is "opened", a started one is
"running"; `status` holds the project's secret token and is renewed on every start.
"""

import os
import random
import signal
import threading
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
PORT_ERROR = 'Error: unable to determine project port'
HOST_ERROR = 'Error: unable to determine host'
# Starts the machine completes per single-start time when many overlap: 30 starts of 4 s took ~50 s.
START_CAPACITY = 2.4
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


class ProjectNotReady(HandlerError):
    """The hub refused a project call before reaching the project (it is starting).

    A single call answers the text; inside a batched read the hub's Error object serialises as {}
    (runs-2024 README facts 1 and 3), which is why it has its own class.
    """


class _Start:
    """One start in progress: when it is done, and an event its waiters block on."""

    def __init__(self, ready_at):
        self.ready_at = ready_at
        self.done = threading.Event()


class StartModel:
    """Project starts take time and share the machine, as on the recorded hub.

    A start alone takes `seconds`; starts that overlap are spread out by `seconds / capacity`
    each, so many at once finish one after the other (real-hub: 4 s alone, ~50 s for 30 at once
    on 2 cores, runs-2024 README fact 1). With `seconds` 0 a start completes at once (the server's
    own fast tests). `host_error_seconds` models the tail the later probe saw: for that long after
    a start completes, project calls still answer "Error: unable to determine host" (0: off).
    Any era's handlers use it through `ready_for_call`, `start` and `stop` below.
    """

    def __init__(self, seconds, capacity=START_CAPACITY, host_error_seconds=0.0):
        self.seconds = float(seconds)
        self.capacity = float(capacity)
        self.host_error_seconds = float(host_error_seconds)
        self.lock = threading.Lock()
        self.pending = {}         # project_id -> _Start
        self.host_until = {}      # project_id -> monotonic time the host error tail ends
        self.last_ready = 0.0

    def next_ready_at(self, now):
        """When a start beginning now completes (call with the lock held)."""
        ready_at = max(now + self.seconds, self.last_ready + self.seconds / self.capacity)
        self.last_ready = ready_at
        return ready_at


def _begin_start(hub, project_id):
    """Mark the project starting and schedule its completion; returns (start, created).

    `created` is False when a start was already under way (the caller gets that one).
    """
    model = hub.starts
    with model.lock:
        pending = model.pending.get(project_id)
        if pending is not None:
            return pending, False
        pending = _Start(model.next_ready_at(time.monotonic()))
        model.pending[project_id] = pending
        model.host_until.pop(project_id, None)
    # The recorded starting state has no 'ip' (integration-suite.jsonl 23:43:57).
    _set_state(hub, project_id, {'time': now_iso(), 'state': 'starting'})
    if model.seconds <= 0:
        _finish_start(hub, project_id, pending)
    else:
        threading.Thread(target=_finish_start, args=(hub, project_id, pending), daemon=True).start()
    return pending, True


def _finish_start(hub, project_id, pending):
    delay = pending.ready_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    _make_home(hub, project_id)
    _set_state(hub, project_id, {'ip': '127.0.0.1', 'time': now_iso(), 'state': 'running'}, new_status=True)
    model = hub.starts
    with model.lock:
        model.pending.pop(project_id, None)
        if model.host_error_seconds > 0:
            model.host_until[project_id] = time.monotonic() + model.host_error_seconds
    pending.done.set()


def is_starting(hub, project_id):
    with hub.starts.lock:
        return project_id in hub.starts.pending


def start(hub, project_id, explicit=False, wait=True):
    """Start the project unless it runs; an explicit start of a running project renews state without 'ip'.

    With `wait` the call returns once the project runs (action_request start blocks, as recorded);
    without it (create_project with start) the project reads 'starting' until the start completes.
    """
    with hub.project_lock(project_id):
        if is_running(hub, project_id) and not is_starting(hub, project_id):
            if explicit:
                _set_state(hub, project_id, {'time': now_iso(), 'state': 'running'})
            return
        pending = _begin_start(hub, project_id)[0]
    if wait:
        pending.done.wait()


def ready_for_call(hub, project_id, start_stopped=True):
    """Gate of every project call (read, write, exec, copies), after the access check.

    Running: go on. Starting: refused at once with the hub's text (the caller must wait and retry).
    Stopped: this call starts the project and waits for it, then goes on, as on the hub; a second
    call that arrives while that start runs is refused like any call to a starting project.
    Copies pass start_stopped=False: the single-user hub copies between homes without starting them.
    """
    model = hub.starts
    with model.lock:
        starting = project_id in model.pending
        host_until = model.host_until.get(project_id)
    if starting:
        raise ProjectNotReady(PORT_ERROR)
    if host_until is not None:
        if time.monotonic() < host_until:
            raise ProjectNotReady(HOST_ERROR)
        with model.lock:
            model.host_until.pop(project_id, None)
    if not start_stopped or is_running(hub, project_id):
        return
    with hub.project_lock(project_id):
        if is_running(hub, project_id) and not is_starting(hub, project_id):
            return
        pending, created = _begin_start(hub, project_id)
    if not created:
        raise ProjectNotReady(PORT_ERROR)
    pending.done.wait()


def stop(hub, project_id):
    """Stop: kill the project's processes; a stopped project reads as 'opened', like the real hub.

    A stop sent while the project is starting is ignored: the project ends up running (runs-2024 README).
    """
    if is_starting(hub, project_id):
        return
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


def finish_interrupted_starts(hub):
    """At server start: a project left 'starting' by a previous run has no start under way; it reads stopped."""
    with hub.store.transaction() as conn:
        for project in hub.store.all_projects(conn):
            if (project.get('state') or {}).get('state') == 'starting':
                project['state'] = {'ip': '127.0.0.1', 'time': now_iso(), 'state': 'opened'}
                hub.store.save_project(conn, project)


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
