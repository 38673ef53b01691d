"""One profile object per era: every way the hub generations this server emulates differ.

Handlers never compare era names; they read a fact of `hub.profile` (`hub.profile.invite_interval_days`,
`hub.profile.copy_in_background`, ...). A new era is one new Profile in PROFILES (its facts, and for a new
API its HTTP handler module) plus that module's handlers; tests/test_eras.py runs the v1 handlers
under a toy profile to keep it so.
"""

import importlib
import os

from . import messages
from .util import BASE62, random_token


class Profile:
    """The facts of one era. The class attributes are the 2024 hub's (the recordings); a profile
    overrides the ones its era differs in. Unknown names are refused, so a typo cannot go unnoticed."""

    # -- transport ---------------------------------------------------------------------------------------
    http_handler = None                # 'module:Class' of the era's request handler (None: the v1 transport's, POST /api/v1/<event>)
    latency = None                     # `--latency real-hub` figures of the era (None: hub.LATENCY_PROFILES)
    key_maker = None                   # fn(store, account_id, name, project_id) -> key of `serve account`; None: legacy sk_ keys
    # v1 endpoints: options (messages.SPECS_*), messages that are not part of the HTTP API, and those
    # in api_messages without a handler.
    endpoints = messages.SPECS_2024
    not_http = messages.NOT_HTTP_2024
    unhandled = messages.UNHANDLED_2024
    multi_response_crashes = False     # `query` with multi_response: an uncaught error (HTTP 500 page), not 400
    blank_key_is_anonymous = False     # an unknown or blank key runs the call anonymously (a ban still refuses)
    # -- accounts ----------------------------------------------------------------------------------------
    sign_up_asks_names_and_terms = False   # create_account requires first and last name and agreed_to_terms
    anonymous_sign_up_refused = True       # create_account with neither email nor password: 'Anonymous sign up is disabled.'
    sign_up_gives_api_key = True           # create_account honours get_api_key
    user_search_needs_account = True       # user_search refuses an anonymous caller
    user_search_admin = True               # user_search honours admin (admins search emails too)
    user_search_by_id = True               # a search term that is an account id finds that account
    user_search_substrings = True          # words match anywhere in first, last and user name (else: as prefixes of first/last)
    user_search_by_activity = True         # hits sorted by last_active, then created, newest first (else: by full name)
    user_search_times_in_ms = True         # result rows: name, epoch-ms times (else: ISO times, no `name`)
    support_tickets_deprecated = True      # create/get_support_tickets answer 'deprecated'
    # -- projects, queries -------------------------------------------------------------------------------
    only_owner_renames = False         # the owner check of `projects.name` fires (it never did on the 2024 hub)
    name_may_be_uuid = False           # a project name may be a uuid
    query_fields = {}                  # (table, 'get'|'set') -> the era's own field list instead of 2024's
    extra_fields = {}                  # (table, 'get'|'set') -> fields beyond 2024's (2026: secret_token left `status`)
    invite_interval_days = 1           # one invitation mail per address and project per this many days
    # -- files, exec, copies -----------------------------------------------------------------------------
    copy_in_background = True          # copy_path_between_projects answers at once (copy_path_id '') unless wait_until_done
    copy_exclude_history = False       # copies take exclude_history (skip *.sage-history)
    copy_denied_texts = ('ACCESS BLOCKED -- No read access to source project -- %s',
                         'ACCESS BLOCKED -- No write access to target project -- %s')
    exec_errors_show_output = False    # exec error texts end with ', <stdout>, <stderr>'
    exec_reports_type = True           # project_exec_output carries type: 'blocking'

    def __init__(self, name, **facts):
        self.name = name
        for fact, value in facts.items():
            if fact not in FACTS:
                raise TypeError('unknown era fact %r' % fact)
            setattr(self, fact, value)

    def derive(self, name, **changes):
        """A new profile with this one's facts except `changes` (a new era that differs in a few facts)."""
        facts = {fact: getattr(self, fact) for fact in FACTS}
        facts.update(changes)
        return Profile(name, **facts)

    @property
    def legacy_keys(self):
        """The era's accounts get a legacy `sk_` key at creation (no api_keys table)."""
        return self.key_maker is None

    def new_api_key(self, store, account_id, name='serve account', project_id=None):
        return self.key_maker(store, account_id, name, project_id) if self.key_maker else None  # pylint: disable=not-callable

    def handler_class(self):
        """The era's HTTP request handler class (imported on use: v2 imports the v1 transport)."""
        module, cls = (self.http_handler or 'transport:ApiHandler').split(':')
        return getattr(importlib.import_module('.' + module, __package__), cls)


# The names of the facts (the class attributes above).
FACTS = tuple(name for name, value in vars(Profile).items()
              if not name.startswith('_') and not callable(value) and not isinstance(value, property))


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

# The guide-era hub (2017-2019) had fewer fields; newer ones get the "not allowed" errors there.
GUIDE_QUERY_FIELDS = {
    ('projects', 'get'): ['project_id', 'title', 'description', 'users', 'invite', 'invite_requests', 'deleted', 'host',
                          'settings', 'status', 'state', 'last_edited', 'last_active', 'action_request', 'course',
                          'compute_image', 'created'],
    ('projects', 'set'): ['project_id', 'title', 'description', 'deleted', 'invite_requests', 'users', 'action_request',
                          'compute_image'],
    ('accounts', 'get'): ['account_id', 'email_address', 'email_address_verified', 'editor_settings', 'other_settings',
                          'first_name', 'last_name', 'terminal', 'autosave', 'evaluate_key', 'font_size', 'passports',
                          'groups', 'last_active', 'ssh_keys', 'created', 'unlisted', 'profile'],
    ('accounts', 'set'): ['account_id', 'first_name', 'last_name', 'editor_settings', 'other_settings', 'terminal',
                          'autosave', 'evaluate_key', 'font_size', 'profile', 'ssh_keys', 'unlisted'],
    ('public_paths', 'get'): ['id', 'project_id', 'path', 'description', 'disabled', 'unlisted', 'created', 'last_edited',
                              'last_saved', 'counter'],
    ('public_paths', 'set'): ['id', 'project_id', 'path', 'description', 'disabled', 'unlisted', 'last_edited', 'created'],
}

PROFILES = {
    # The real hub of 2024-09 (the recordings): the class defaults.
    '2024': Profile('2024'),
    # The hub the API guide describes (2017-2019).
    'guide': Profile(
        'guide', endpoints=messages.SPECS_GUIDE, not_http=messages.NOT_HTTP_GUIDE, unhandled=messages.UNHANDLED_GUIDE,
        multi_response_crashes=True, blank_key_is_anonymous=True,
        sign_up_asks_names_and_terms=True, anonymous_sign_up_refused=False, sign_up_gives_api_key=False,
        user_search_needs_account=False, user_search_admin=False, user_search_by_id=False, user_search_substrings=False,
        user_search_by_activity=False, user_search_times_in_ms=False, support_tickets_deprecated=False,
        only_owner_renames=True, query_fields=GUIDE_QUERY_FIELDS, invite_interval_days=7,
        copy_in_background=False, copy_exclude_history=True,
        copy_denied_texts=('user must have read access to source project %s', 'user must have write access to target project %s'),
        exec_errors_show_output=True, exec_reports_type=False),
    # Current CoCalc (source of 2026-07-03): api/v2 and the conat bridges (v2.py, conat.py), which reach the
    # shared v1 code for searches, execs, copies, invitations and user queries.
    '2026': Profile(
        '2026', http_handler='v2:V2Handler', latency=LATENCY_2026, key_maker=_table_key,
        endpoints={}, not_http=frozenset(), unhandled=frozenset(),
        only_owner_renames=True, name_may_be_uuid=True, extra_fields={('projects', 'get'): ['secret_token']},
        copy_in_background=False),
}
ERAS = ('2024', 'guide', '2026')
DEFAULT_ERA = '2024'


def time_scale():
    """COCALC_LOCAL_TIME_SCALE (default 1) multiplies the 2026 era's fixed waits (caches, the 60 s
    hub->project limit, the 15 s bridge timeout), so tests can replay them quickly. Never below 0.01."""
    try:
        return max(0.01, float(os.environ.get('COCALC_LOCAL_TIME_SCALE', '1')))
    except ValueError:
        return 1.0
