"""The server's shared state: storage, era, latency profile, in-memory caches like the hub's."""

import os
import threading
import time

from .eras import DEFAULT_ERA, PROFILES
from .projects import StartModel
from .faults import Faults
from .store import Store

# (hub call, project call, project start, project stop) in seconds; a start of None means the
# --start-seconds default.
LATENCY_PROFILES = {
    'none': (0.0, 0.0, None, 0.0),
    # Loopback timings of the recorded hub (elapsed in real-hub/*.jsonl; a start alone took ~4 s in runs-2024).
    'real-hub': (0.0015, 0.090, 4.0, 1.4),
}
# Even the fastest profile keeps starts slow enough that clients must cope with 'starting' projects.
DEFAULT_START_SECONDS = 3.0


def parse_latency(text):
    """'none', 'real-hub' or 'HUB_MS,PROJECT_MS'; raises ValueError with a message naming --latency."""
    if text in LATENCY_PROFILES:
        return LATENCY_PROFILES[text]
    parts = text.split(',')
    try:
        hub_ms, project_ms = (float(part) for part in parts)
    except ValueError:
        raise ValueError("--latency must be 'none', 'real-hub' or 'HUB_MS,PROJECT_MS' (got %r)" % text) from None
    if hub_ms < 0 or project_ms < 0:
        raise ValueError('--latency values must not be negative (got %r)' % text)
    return (hub_ms / 1000.0, project_ms / 1000.0, None, 0.0)


class Caller:
    """Who sent a request: an account (dict from the store) or nobody (guide era, blank key)."""

    def __init__(self, account=None):
        self.account = account

    @property
    def account_id(self):
        return self.account['account_id'] if self.account else None

    @property
    def is_admin(self):
        return bool(self.account) and 'admin' in (self.account.get('groups') or [])


class Hub:
    def __init__(self, data_dir, era=DEFAULT_ERA, latency='none', start_seconds=None, host_error_seconds=0.0, confine='none',
                 profile=None):
        self.data_dir = os.path.realpath(data_dir)
        self.projects_dir = os.path.join(self.data_dir, 'projects')
        os.makedirs(self.projects_dir, mode=0o700, exist_ok=True)
        # Handlers read the era's facts from the profile (eras.py), never its name; `profile` serves
        # an era that is not in PROFILES (the server's own tests).
        self.profile = profile or PROFILES[era]
        self.era = self.profile.name
        self.latency_name = latency
        self.hub_delay, self.project_delay, profile_start, self.stop_delay = parse_latency(latency)
        if latency == 'real-hub' and self.profile.latency:
            # The era's own recorded start and stop times (2026: 7.5 s / 10.6 s).
            profile_start, self.stop_delay = self.profile.latency['start'], self.profile.latency['stop']
        if start_seconds is None:
            start_seconds = DEFAULT_START_SECONDS if profile_start is None else profile_start
        self.starts = StartModel(start_seconds, host_error_seconds=host_error_seconds)
        self.store = Store(self.data_dir)
        self.faults = Faults(self.data_dir)
        # 'bwrap' or 'none' (confine.resolve_mode); project uids are cached here once allocated.
        self.confine = confine
        self.project_uids = {}
        self.url = None
        self.projects_window_days = 21
        # How long a request the real hub never answers (metrics, ...) is held before the connection closes.
        self.no_answer_seconds = float(os.environ.get('COCALC_LOCAL_NO_ANSWER_SECONDS', '30'))
        self.lock = threading.Lock()
        self.touched = {}
        self.active_marks = {}
        self.username_cache = {}
        self.auth_bans = {}
        self.processes = {}
        self._project_locks = {}
        self.era_state = None   # the era's own in-memory state (caches, jobs), made by its handlers

    @staticmethod
    def pause(seconds):
        if seconds:
            time.sleep(seconds)

    @staticmethod
    def clock():
        return time.monotonic()

    def project_lock(self, project_id):
        with self.lock:
            return self._project_locks.setdefault(project_id, threading.Lock())
