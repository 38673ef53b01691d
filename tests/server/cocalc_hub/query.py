"""The `query` endpoint: the hub's user_query engine for the tables the API guide uses.

A query is {<table>: <spec>} (one row) or {<table>: [<spec>]} (a list); it is a get when the
spec has a null anywhere, otherwise a set. Gets echo the spec with the values filled in;
sets are upserts that answer "query": {}.
"""

import copy
import hashlib

from . import projects
from .errors import HandlerError
from .util import deep_merge, has_null_leaf, is_uuid, js_json, js_string, now_iso, parse_iso, truthy

DAY_SECONDS = 24 * 3600

PROJECT_GET_FIELDS = ['project_id', 'name', 'title', 'description', 'users', 'invite', 'invite_requests', 'deleted',
                      'host', 'settings', 'run_quota', 'site_license', 'status', 'state', 'last_edited', 'last_active',
                      'action_request', 'course', 'compute_image', 'created', 'env', 'sandbox', 'avatar_image_tiny',
                      'pay_as_you_go_quotas']
PROJECT_SET_FIELDS = ['project_id', 'title', 'name', 'description', 'deleted', 'invite_requests', 'users', 'action_request',
                      'compute_image', 'site_license', 'env', 'sandbox', 'avatar_image_tiny', 'avatar_image_full']
PROJECT_DEFAULTS = {'title': '', 'description': '', 'users': {}, 'settings': projects.DEFAULT_SETTINGS}

ACCOUNT_GET_FIELDS = ['account_id', 'email_address', 'email_address_verified', 'email_address_problem', 'editor_settings',
                      'other_settings', 'name', 'first_name', 'last_name', 'terminal', 'autosave', 'evaluate_key',
                      'font_size', 'passports', 'groups', 'last_active', 'ssh_keys', 'created', 'unlisted', 'tags',
                      'tours', 'profile', 'sign_up_usage_intent', 'purchase_closing_day', 'min_balance', 'balance',
                      'balance_alert', 'auto_balance', 'email_daily_statements', 'stripe_checkout_session',
                      'stripe_usage_subscription', 'unread_message_count']
ACCOUNT_SET_FIELDS = ['account_id', 'name', 'first_name', 'last_name', 'editor_settings', 'other_settings', 'terminal',
                      'autosave', 'evaluate_key', 'font_size', 'profile', 'ssh_keys', 'sign_up_usage_intent', 'unlisted',
                      'tags', 'tours', 'email_daily_statements', 'auto_balance']
EDITOR_SETTINGS = {
    'strip_trailing_whitespace': False, 'show_trailing_whitespace': False, 'line_wrapping': True, 'line_numbers': True,
    'jupyter_line_numbers': False, 'smart_indent': True, 'electric_chars': True, 'match_brackets': True,
    'auto_close_brackets': True, 'code_folding': True, 'match_xml_tags': True, 'auto_close_xml_tags': True,
    'auto_close_latex': True, 'spaces_instead_of_tabs': True, 'multiple_cursors': True, 'track_revisions': True,
    'extra_button_bar': True, 'build_on_save': True, 'first_line_number': 1, 'indent_unit': 4, 'tab_size': 4,
    'bindings': 'standard', 'theme': 'default', 'undo_depth': 300, 'jupyter_classic': False, 'jupyter_window': False,
    'disable_jupyter_windowing': False, 'show_exec_warning': True, 'physical_keyboard': 'default',
    'keyboard_variant': '', 'ask_jupyter_kernel': True, 'disable_jupyter_virtualization': False}
OTHER_SETTINGS = {
    'katex': True, 'confirm_close': False, 'mask_files': True, 'page_size': 500, 'standby_timeout_m': 5,
    'default_file_sort': 'name', 'new_filenames': 'ymd_semantic', 'show_global_info2': None, 'first_steps': True,
    'newsletter': False, 'time_ago_absolute': False, 'no_free_warnings': False, 'allow_mentions': True,
    'dark_mode': False, 'dark_mode_brightness': 100, 'dark_mode_contrast': 90, 'dark_mode_sepia': 0,
    'dark_mode_grayscale': 0, 'news_read_until': 0, 'hide_project_popovers': False, 'hide_file_popovers': False,
    'hide_button_tooltips': False, 'userdefined_llm': '[]', 'i18n': 'en'}
ACCOUNT_DEFAULTS = {'editor_settings': EDITOR_SETTINGS, 'other_settings': OTHER_SETTINGS,
                    'terminal': {'font_size': 14, 'color_scheme': 'default', 'font': 'monospace'},
                    'autosave': 45, 'evaluate_key': 'Shift-Enter', 'font_size': 14}

PUBLIC_PATH_GET_FIELDS = ['id', 'project_id', 'path', 'name', 'url', 'description', 'image', 'disabled', 'unlisted',
                          'authenticated', 'license', 'last_edited', 'created', 'last_saved', 'counter', 'compute_image',
                          'site_license_id', 'cross_origin_isolation', 'redirect', 'jupyter_api']
PUBLIC_PATH_SET_FIELDS = ['id', 'project_id', 'path', 'name', 'description', 'image', 'disabled', 'unlisted',
                          'authenticated', 'license', 'last_edited', 'created', 'compute_image', 'site_license_id',
                          'cross_origin_isolation', 'redirect', 'jupyter_api']
PUBLIC_PATH_DEFAULTS = {'compute_image': 'default'}

COLLABORATOR_FIELDS = ['account_id', 'first_name', 'last_name', 'name', 'last_active', 'profile']
UPGRADE_KEYS = {'cores', 'memory', 'memory_request', 'mintime', 'network', 'cpu_shares', 'disk_quota', 'member_host',
                'always_running', 'ephemeral_state', 'ephemeral_disk'}
# Tables the hub knows but that are not served here (so a set says "not allowed", not "does not exist").
OTHER_KNOWN_TABLES = {'file_use', 'project_invite_tokens', 'projects_owner', 'syncstrings', 'listings', 'site_licenses',
                      'compute_servers', 'stats', 'server_settings', 'system_notifications', 'usage_info'}
GET_TABLES = ('projects', 'projects_all', 'accounts', 'public_paths', 'collaborators', 'project_log')
ANONYMOUS_TABLES = ('public_paths',)
SET_TABLES = ('projects', 'projects_all', 'accounts', 'public_paths')
OPS = {'==', '=', '!=', '<>', '<', '<=', '>', '>=', 'any', 'minlen', 'maxlen', 'is', 'is not'}


# The key under which handle_query leaves its verdict in the message for the transport's `serve stats`
# counts: 'get' when every query of the call was classified a get by the rule below, else 'set'.
KIND_KEY = 'query_kind'


def fatal(text):
    return HandlerError('FATAL: ' + text)


def handle_query(hub, caller, mesg):
    query = mesg['query']
    options = mesg.get('options')
    items = query if isinstance(query, list) else [query]
    kinds = []
    mesg[KIND_KEY] = 'set'
    try:
        result = [_user_query(hub, caller, item, options, mesg.get('changes'), kinds) for item in items]
    finally:
        # A part that failed before it was classified leaves the call a 'set' (never under-count writes).
        if len(kinds) == len(items) and all(kind == 'get' for kind in kinds):
            mesg[KIND_KEY] = 'get'
    if not isinstance(query, list):
        result = result[0]
    response = {'query': result, 'multi_response': mesg['multi_response']}
    for key in ('changes', 'options'):
        if key in mesg:
            response[key] = mesg[key]
    response['event'] = 'query'
    response['id'] = mesg['id']
    return response


def _substitute(value, caller):
    """Replace '{account_id}' and '{now}' in string values and keys, as the hub does."""
    subs = {'{account_id}': caller.account_id, '{now}': now_iso()}
    if isinstance(value, str):
        return subs.get(value, value) if value in subs else value
    if isinstance(value, dict):
        return {(subs[key] if key in subs and subs[key] else key): _substitute(item, caller) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, caller) for item in value]
    return value


def _user_query(hub, caller, query, options, changes, kinds):
    if isinstance(query, str) and len(query) > 1:
        raise fatal('must specify exactly one key in the query')
    if not isinstance(query, dict) or not query:
        raise fatal("invalid user_query of 'undefined' -- query must be an object")
    if len(query) > 1:
        raise fatal('must specify exactly one key in the query')
    table, spec = next(iter(query.items()))
    multi = isinstance(spec, list)
    if multi:
        if len(spec) > 1:
            raise fatal('array of length > 1 not yet implemented')
        spec = spec[0] if spec else None
    if not isinstance(spec, dict):
        raise fatal("invalid user_query of '%s' -- query must be an object" % table)
    spec = _substitute(copy.deepcopy(spec), caller)
    is_set = _is_set(spec, options)
    kinds.append('set' if is_set else 'get')
    if is_set:
        if caller.account_id is None:
            raise fatal('no anonymous set queries')
        _set_query(hub, caller, table, spec, options or [])
        return {}
    if changes is not None and not multi:
        raise fatal('changefeeds only implemented for multi-document queries')
    return _get_query(hub, caller, table, spec, multi, options or [])


def _is_set(spec, options):
    """The engine's rule: a set unless a null is anywhere in the spec; an option {set: ...} decides otherwise."""
    is_set = not has_null_leaf(spec)
    if options is not None:
        if not isinstance(options, list):
            raise fatal('options (=%s) must be an array' % js_json(options))
        for option in options:
            if isinstance(option, dict) and 'set' in option:
                is_set = truthy(option['set'])
    return is_set


# ---- get ----------------------------------------------------------------------------------
def _get_query(hub, caller, table, spec, multi, options):
    if table not in GET_TABLES:
        raise fatal("get queries not allowed for table '%s'" % table)
    if caller.account_id is None and table not in ANONYMOUS_TABLES:
        raise fatal("anonymous get queries not allowed for table '%s'" % table)
    allowed = _fields(hub, table, 'get')
    for field in spec:
        if field not in allowed:
            raise fatal('user get query not allowed for %s.%s' % (table, field))
    if table == 'projects' and not ('limit' in _option_keys(options) and 'order_by' in _option_keys(options)):
        # The table's default options are appended whole when one of their keys is missing (errata 4).
        options = list(options) + [{'limit': 100}, {'order_by': '-last_edited'}]
    limit, order = _parse_get_options(options)
    rows, defaults = _candidate_rows(hub, caller, table, spec)
    rows = [row for row in rows if _matches(row, spec)]
    rows = _sort(rows, order)
    rows = rows[:1] if not multi else rows[:limit]
    out = [{field: _value(row, field, defaults) for field in spec} for row in rows]
    if multi:
        return {table: [{key: value for key, value in item.items() if value is not None} for item in out]}
    return {table: out[0]} if out else {}


def _fields(hub, table, kind):
    base = 'projects' if table == 'projects_all' else table
    if (base, kind) in hub.profile.query_fields:
        return hub.profile.query_fields[(base, kind)]
    fields = {('projects', 'get'): PROJECT_GET_FIELDS, ('projects', 'set'): PROJECT_SET_FIELDS,
              ('accounts', 'get'): ACCOUNT_GET_FIELDS, ('accounts', 'set'): ACCOUNT_SET_FIELDS,
              ('public_paths', 'get'): PUBLIC_PATH_GET_FIELDS, ('public_paths', 'set'): PUBLIC_PATH_SET_FIELDS,
              ('collaborators', 'get'): COLLABORATOR_FIELDS,
              ('project_log', 'get'): ['id', 'project_id', 'time', 'account_id', 'event']}[(base, kind)]
    return fields + hub.profile.extra_fields.get((base, kind), [])


def _option_keys(options):
    return {key for option in options if isinstance(option, dict) for key in option}


def _parse_get_options(options):
    limit = 100000
    order = []
    for option in options:
        if not isinstance(option, dict):
            continue
        for key, value in option.items():
            if key == 'limit':
                limit = _parse_limit(value)
            elif key == 'order_by':
                field = js_string(value)
                order.append((field[1:], True) if field.startswith('-') else (field, False))
            elif key == 'slice':
                raise HandlerError('slice not implemented')
            elif key not in ('only_changes', 'set', 'delete', 'heartbeat'):
                raise HandlerError("unknown option '%s'" % key)
    return limit, order


def _parse_limit(value):
    text = js_string(value).strip()
    digits = ''
    for index, char in enumerate(text):
        if char.isdigit() or (index == 0 and char in '+-'):
            digits += char
        else:
            break
    try:
        number = int(digits)
    except ValueError:
        return 100000
    return max(0, min(number, 100000))


def _candidate_rows(hub, caller, table, spec):
    """(rows the caller may read from the table, the table's defaults)."""
    return _CANDIDATES.get(table, _project_log_rows)(hub, caller, table, spec)


def _readable_project(hub, caller, project_id):
    project = hub.store.get_project(project_id) if is_uuid(project_id) else None
    if project is None or not (projects.is_member(project, caller.account_id) or caller.is_admin):
        raise fatal('you do not have read access to this project')
    return project


def _project_rows(hub, caller, table, spec):
    project_id = spec.get('project_id')
    if isinstance(project_id, str):
        if not is_uuid(project_id):
            raise HandlerError('invalid project_id -- %s' % project_id)
        rows = [_readable_project(hub, caller, project_id)]
    else:
        rows = hub.store.projects_of(caller.account_id)
    if table == 'projects':
        rows = [row for row in rows if projects.edited_within(row, hub.projects_window_days)]
    return rows, PROJECT_DEFAULTS


def _account_rows(hub, caller, table, spec):
    account = hub.store.get_account(caller.account_id)
    return ([account] if account else []), ACCOUNT_DEFAULTS


def _public_path_rows(hub, caller, table, spec):
    project_id = spec.get('project_id')
    if project_id is None:
        raise fatal('must specify project_id')
    return hub.store.public_paths_of(js_string(project_id)), PUBLIC_PATH_DEFAULTS


def _collaborator_rows(hub, caller, table, spec):
    rows = []
    for account_id in hub.store.co_members(caller.account_id):
        account = hub.store.get_account(account_id)
        if account is not None:
            rows.append({field: account.get(field) for field in COLLABORATOR_FIELDS})
    return rows, {}


def _project_log_rows(hub, caller, table, spec):
    # Nothing is logged here, but the access rule is the hub's.
    project_id = spec.get('project_id')
    if not isinstance(project_id, str):
        raise fatal('must specify project_id')
    _readable_project(hub, caller, project_id)
    return [], {}


_CANDIDATES = {'projects': _project_rows, 'projects_all': _project_rows, 'accounts': _account_rows,
               'public_paths': _public_path_rows, 'collaborators': _collaborator_rows}


def _value(row, field, defaults):
    value = row.get(field)
    default = defaults.get(field)
    if value is None:
        return copy.deepcopy(default)
    if isinstance(value, dict) and isinstance(default, dict):
        merged = copy.deepcopy(default)
        merged.update(value)
        return merged
    return value


def _is_op_dict(value):
    return isinstance(value, dict) and value and all(key in OPS for key in value)


def _comparable(left, right):
    """Compare times as times when both sides are ISO strings, anything else as it is."""
    left_time, right_time = parse_iso(left), parse_iso(right)
    if left_time is not None and right_time is not None:
        return left_time, right_time
    return left, right


def _compare(row_value, op, wanted):
    try:
        if op in ('==', '='):
            return row_value == wanted
        if op in ('!=', '<>'):
            return row_value is not None and row_value != wanted
        if op == 'is':
            return row_value is wanted or row_value == wanted
        if op == 'is not':
            return not (row_value is wanted or row_value == wanted)
        if op == 'any':
            return isinstance(row_value, list) and wanted in row_value
        if op in ('minlen', 'maxlen'):
            length = len(row_value) if isinstance(row_value, (list, str)) else None
            return length is not None and (length >= wanted if op == 'minlen' else length <= wanted)
        if row_value is None or wanted is None:
            return False
        left, right = _comparable(row_value, wanted)
        return {'<': left < right, '<=': left <= right, '>': left > right, '>=': left >= right}[op]
    except TypeError:
        return False


def _matches(row, spec):
    for field, wanted in spec.items():
        if wanted is None:
            continue
        if _is_op_dict(wanted):
            if not all(_compare(row.get(field), op, value) for op, value in wanted.items()):
                return False
        elif row.get(field) != wanted:
            return False
    return True


def _sort_key(value):
    if value is None:
        return (1, 0, '')
    if isinstance(value, bool):
        return (0, 1, int(value))
    if isinstance(value, (int, float)):
        return (0, 1, value)
    if isinstance(value, str):
        moment = parse_iso(value)
        return (0, 2, moment.timestamp()) if moment is not None else (0, 3, value)
    return (0, 4, js_json(value))


def _sort(rows, order):
    # Stable sorts from the last key to the first; PostgreSQL puts NULLs last ascending, first descending.
    for field, descending in reversed(order):
        rows = sorted(rows, key=lambda row, name=field: _sort_key(row.get(name)), reverse=descending)
    return rows


# ---- set ----------------------------------------------------------------------------------
def _set_query(hub, caller, table, spec, options):
    if table not in SET_TABLES:
        if table in GET_TABLES or table in OTHER_KNOWN_TABLES:
            raise fatal("user set queries not allowed for table '%s'" % table)
        raise fatal("table '%s' does not exist" % table)
    if any(isinstance(option, dict) and truthy(option.get('delete')) for option in options):
        raise fatal('delete from %s not allowed' % table)
    spec = {key: value for key, value in spec.items() if value is not None}
    allowed = _fields(hub, table, 'set')
    for field in spec:
        if field not in allowed:
            raise fatal('changing %s.%s not allowed' % (table, field))
    if table == 'accounts':
        _set_account(hub, caller, spec)
    elif table == 'public_paths':
        _set_public_path(hub, caller, spec)
    else:
        _set_project(hub, caller, table, spec)


def _writable_project(hub, caller, conn, table, project_id):
    if project_id is None:
        raise fatal('must specify %s.project_id' % table)
    if not is_uuid(project_id):
        raise HandlerError('invalid project_id -- %s' % js_string(project_id))
    project = hub.store.get_project(project_id, conn)
    if project is None:
        raise fatal("unknown project_id '%s'" % project_id)
    if not (projects.is_member(project, caller.account_id) or caller.is_admin):
        raise fatal('user must be an admin')
    return project


def _set_project(hub, caller, table, spec):
    project_id = spec.get('project_id')
    action = None
    with hub.store.transaction() as conn:
        project = _writable_project(hub, caller, conn, table, project_id)
        fields = {key: value for key, value in spec.items() if key != 'project_id'}
        if not fields:
            return
        if 'users' in fields:
            fields['users'] = _checked_users(caller, project.get('users') or {}, fields['users'])
        if 'name' in fields:
            _check_project_name(hub, conn, caller, project, fields['name'])
        request = fields.get('action_request')
        stored_request = project.get('action_request') or {}
        if isinstance(request, dict) and request.get('time', projects.MISSING) != stored_request.get('time', projects.MISSING):
            # A new action: only the request is stored (the rest of the set is dropped), then it runs.
            if request.get('action') == 'test':
                return
            merged = deep_merge(stored_request, request)
            merged['started'] = now_iso()
            project['action_request'] = merged
            action = merged.get('action')
        else:
            for key, value in fields.items():
                old = project.get(key)
                project[key] = deep_merge(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
        hub.store.save_project(conn, project)
    if action is not None:
        projects.run_action(hub, project_id, action)


def _checked_users(caller, old_users, new_users):
    def error(text):
        return fatal("error setting 'users' -- Error: %s" % text)
    if not isinstance(new_users, dict):
        raise error('users must be a map')
    accepted = {}
    for account_id, entry in new_users.items():
        if not is_uuid(account_id):
            continue
        if not isinstance(entry, dict):
            raise error("invalid type for user '%s'" % account_id)
        for key, value in entry.items():
            if key == 'group':
                if value not in ('owner', 'collaborator'):
                    raise error("invalid value for field 'group'")
            elif key == 'hide':
                if not isinstance(value, bool):
                    raise error("invalid type for field 'hide'")
            elif key == 'upgrades':
                if not isinstance(value, dict):
                    raise error("invalid type for field 'upgrades'")
                for upgrade in value:
                    if upgrade not in UPGRADE_KEYS:
                        raise error("invalid upgrades field '%s'" % upgrade)
                if account_id != caller.account_id:
                    raise fatal("user '%s' tried to change user '%s' allocation toward a project" % (caller.account_id, account_id))
            elif key != 'ssh_keys':
                raise error("unknown field '%s" % key)
        accepted[account_id] = entry
    return deep_merge(old_users, accepted)


def _check_project_name(hub, conn, caller, project, name):
    # The 2024 hub's owner check never fires (it compares node-pg's count "0" with === 0), so any
    # member may rename (runs-2024 README fact 4); the guide's era kept names to the owner.
    if hub.profile.only_owner_renames and projects.owner_of(project) != caller.account_id:
        raise HandlerError('Only the owner of the project can currently change the project name.')
    if not isinstance(name, str):
        raise HandlerError('Error: name must be a string')
    if name == '':
        return
    if len(name) > 100:
        raise HandlerError('Error: name must be at most 100 characters')
    if is_uuid(name) and not hub.profile.name_may_be_uuid:
        raise HandlerError('Error: name must not be a valid uuid')
    for other in hub.store.projects_of(caller.account_id, conn):
        if (other['project_id'] != project['project_id'] and projects.owner_of(other) == caller.account_id
                and isinstance(other.get('name'), str) and other['name'].lower() == name.lower()):
            raise HandlerError("There is already a project with the same owner as this project and name='%s'.   "
                               "Names are not case sensitive." % name)


def _set_account(hub, caller, spec):
    fields = {key: value for key, value in spec.items() if key != 'account_id'}
    if not fields:
        return
    for key in ('first_name', 'last_name'):
        if key in fields:
            value = js_string(fields[key])[:254]
            if value == '':
                raise HandlerError('%s must be nonempty' % key)
            fields[key] = value
    with hub.store.transaction() as conn:
        account = hub.store.get_account(caller.account_id, conn)
        if account is None:
            return
        if 'name' in fields:
            name = fields['name']
            if not isinstance(name, str) or len(name) > 39 or not name.replace('-', '').replace('_', '').isalnum():
                raise HandlerError('Error: name "%s" is not valid' % js_string(name))
            for other in hub.store.all_accounts(conn):
                if other['account_id'] != account['account_id'] and (other.get('name') or '').lower() == name.lower():
                    raise HandlerError('name "%s" is already taken by another organization or account' % name)
        for key, value in fields.items():
            old = account.get(key)
            account[key] = deep_merge(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
        hub.store.save_account(conn, account)


def public_path_id(project_id, path):
    """The hub's id rule: SHA-1 of project_id + path (the path as sent, not normalised)."""
    return hashlib.sha1((js_string(project_id) + js_string(path)).encode('utf-8')).hexdigest()


def _set_public_path(hub, caller, spec):
    project_id = spec.get('project_id')
    with hub.store.transaction() as conn:
        _writable_project(hub, caller, conn, 'public_paths', project_id)
        path_id = public_path_id(project_id, spec.get('path'))
        row = hub.store.get_public_path(path_id, conn) or {'id': path_id, 'project_id': project_id}
        name = spec.get('name')
        if isinstance(name, str) and name:
            for other in hub.store.public_paths_of(project_id, conn):
                if other['id'] != path_id and isinstance(other.get('name'), str) and other['name'].lower() == name.lower():
                    raise HandlerError('There is already a public path "%s" in this project with the name "%s".  '
                                       'Names are not case sensitive.' % (other.get('path'), name))
        for key, value in spec.items():
            if key == 'id':
                continue
            old = row.get(key)
            row[key] = deep_merge(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
        row['id'] = path_id
        hub.store.save_public_path(conn, row)
