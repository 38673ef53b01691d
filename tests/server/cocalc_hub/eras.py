"""One profile object per era: what differs between the hub generations this server emulates.

A new era is one new profile here plus its handlers (era 2026: v2.py and conat.py). The v1 eras
(guide, 2024) still check `hub.era` in a few places of the v1 handlers; those are v1-internal.
"""

import os

from .util import BASE62, random_token


class Profile:
    """name; api: 'v1' (POST /api/v1/<event>) or 'v2' (api/v2 routes and the conat bridges);
    latency: the `--latency real-hub` figures; new_api_key(store, account_id): the key `serve account`
    and the bootstrap account get (None for a v1 era: the caller makes a legacy key)."""

    def __init__(self, name, api, latency, key_maker=None, extra_fields=None, name_may_be_uuid=False):
        self.name = name
        self.api = api
        self.latency = latency
        self._key_maker = key_maker
        # (table, 'get'|'set') -> user-query fields this era has beyond 2024's (2026: the secret token
        # left `status` for a field of its own).
        self.extra_fields = extra_fields or {}
        self.name_may_be_uuid = name_may_be_uuid

    def new_api_key(self, store, account_id, name='serve account', project_id=None):
        return self._key_maker(store, account_id, name, project_id) if self._key_maker else None


def encode62(number, width=6):
    digits = ''
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, '0')


def new_table_key(store, account_id, name, project_id=None, expire=None):
    """A key of the api_keys table as the 2026 hub makes them: 'sk-' + random + the row id in base 62
    (6 characters, so the hub finds the row without a scan); only its hash is stored."""
    from .util import key_hash, now_iso   # pylint: disable=import-outside-toplevel
    with store.transaction() as conn:
        key_id = store.insert_api_key(conn, account_id, project_id, name, now_iso(), expire)
        secret = 'sk-' + random_token(24) + encode62(key_id)
        store.set_api_key_secret(conn, key_id, key_hash(secret), 'sk-...' + secret[-6:])
    return key_id, secret


def _table_key(store, account_id, name, project_id):
    return new_table_key(store, account_id, name, project_id)[1]


# Per-call latency of `--latency real-hub` for the 2026 era, in seconds, from real-hub-2026/timings.json
# (warm medians on loopback); start and stop from the README (projects/start 7.5 s, stop 10.6 s).
LATENCY_2026 = {
    'v2 hub': 0.0217, 'v2 project': 0.100, 'conat hub': 0.0283, 'conat hub query': 0.0492,
    'conat project exec': 0.0855, 'conat project write': 0.0482, 'conat project read': 0.0773,
    'start': 7.5, 'stop': 10.6,
}

PROFILES = {
    '2024': Profile('2024', 'v1', None),
    'guide': Profile('guide', 'v1', None),
    '2026': Profile('2026', 'v2', LATENCY_2026, _table_key, extra_fields={('projects', 'get'): ['secret_token']},
                    name_may_be_uuid=True),
}
ERAS = ('2024', 'guide', '2026')


def time_scale():
    """COCALC_LOCAL_TIME_SCALE (default 1) multiplies the 2026 era's fixed waits (caches, the 60 s
    hub->project limit, the 15 s bridge timeout), so tests can replay them quickly. Never below 0.01."""
    try:
        return max(0.01, float(os.environ.get('COCALC_LOCAL_TIME_SCALE', '1')))
    except ValueError:
        return 1.0
