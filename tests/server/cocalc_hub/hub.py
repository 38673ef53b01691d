"""The server's shared state: storage, era, latency profile, in-memory caches like the hub's."""

import os
import threading
import time

from .faults import Faults
from .store import Store

# (hub call, project call, project start, project stop) in seconds.
LATENCY_PROFILES = {
    'none': (0.0, 0.0, 0.0, 0.0),
    # Loopback timings of the recorded hub (elapsed_s in real-hub/*.jsonl).
    'real-hub': (0.0015, 0.090, 1.2, 1.4),
}


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
    return (hub_ms / 1000.0, project_ms / 1000.0, 0.0, 0.0)


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
    def __init__(self, data_dir, era='2024', latency='none'):
        self.data_dir = os.path.realpath(data_dir)
        self.projects_dir = os.path.join(self.data_dir, 'projects')
        os.makedirs(self.projects_dir, mode=0o700, exist_ok=True)
        self.era = era
        self.hub_delay, self.project_delay, self.start_delay, self.stop_delay = parse_latency(latency)
        self.store = Store(self.data_dir)
        self.faults = Faults(self.data_dir)
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
