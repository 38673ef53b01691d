"""Message definitions per era: which endpoints exist, their options and defaults, and validation.

Era "2024" is the real hub at source 2024-09-12 (the recordings in ../shared/real-hub);
era "guide" is the hub the API guide describes (late 2017, all 28 endpoints).
"""

from .util import js_json

REQUIRED = '__!!!!!!this is a required property!!!!!!__'
UNDEFINED = object()   # an allowed option without a default: absent unless sent


class ParameterError(Exception):
    """A parameter problem: HTTP 400 {"error": "invalid parameters '...'"}."""


def _spec(*pairs, with_id=True):
    fields = [('id', UNDEFINED)] if with_id else []
    for pair in pairs:
        fields.append(pair if isinstance(pair, tuple) else (pair, UNDEFINED))
    return fields


_COPY_COMMON = [('src_project_id', REQUIRED), ('src_path', REQUIRED), ('target_project_id', REQUIRED),
                'target_path', 'overwrite_newer', 'delete_missing', 'backup', 'timeout']

# Endpoints served in both eras with the same options.
_SHARED = {
    'ping': _spec(),
    'query': _spec(('query', REQUIRED), 'changes', ('multi_response', False), 'options'),
    'get_usernames': _spec(('account_ids', REQUIRED)),
    'invite_noncloud_collaborators': _spec(('project_id', REQUIRED), ('to', REQUIRED), ('email', REQUIRED),
                                           ('title', REQUIRED), ('link2proj', REQUIRED), 'replyto', 'replyto_name', 'subject'),
    'remove_collaborator': _spec(('project_id', REQUIRED), ('account_id', REQUIRED)),
    'change_email_address': _spec(('account_id', REQUIRED), ('old_email_address', ''), ('new_email_address', REQUIRED), ('password', '')),
    'log_client_error': _spec(('error', REQUIRED)),
    'user_auth': _spec(('account_id', REQUIRED), ('password', REQUIRED)),
    'read_text_file_from_project': _spec(('project_id', REQUIRED), ('path', REQUIRED)),
    'write_text_file_to_project': _spec(('project_id', REQUIRED), ('path', REQUIRED), ('content', REQUIRED)),
    'project_exec': _spec(('project_id', REQUIRED), ('path', ''), ('command', REQUIRED), ('args', []), ('timeout', 10),
                          'max_output', ('bash', False), ('err_on_exit', True), 'aggregate'),
    'create_support_ticket': _spec('username', ('email_address', REQUIRED), ('subject', REQUIRED), ('body', REQUIRED),
                                   'tags', 'account_id', 'location', 'info'),
    'get_support_tickets': _spec(),
    'invite_collaborator': _spec(('project_id', REQUIRED), ('account_id', REQUIRED), 'title', 'link2proj', 'replyto',
                                 'replyto_name', 'email', 'subject'),
}

# The options of every endpoint, per era (eras.Profile.endpoints): the 2024 hub's.
SPECS_2024 = dict(_SHARED, **{
    'create_account': _spec('first_name', 'last_name', 'email_address', 'password', 'agreed_to_terms', 'token',
                            'get_api_key', 'usage_intent'),
    'create_project': _spec(('title', ''), ('description', ''), 'image', ('start', False), 'license', 'noPool'),
    'user_search': _spec(('query', REQUIRED), ('limit', 20), ('admin', False), ('active', '')),
    'copy_path_between_projects': _spec(*_COPY_COMMON, ('wait_until_done', False), 'scheduled', 'exclude'),
    'copy_public_path_between_projects': _spec(*_COPY_COMMON, 'exclude'),
    # Not in the guide, recorded on the 2024 hub.
    'add_collaborator': _spec('project_id', ('account_id', REQUIRED), 'token_id'),
    'touch_project': _spec(('project_id', REQUIRED)),
    'disconnect_from_project': _spec(('project_id', REQUIRED)),
    'copy_path_status': _spec('copy_path_id', 'src_project_id', 'target_project_id', 'src_path', 'limit',
                              'offset', 'pending', 'failed'),
    'copy_path_delete': _spec('copy_path_id'),
    'get_available_upgrades': _spec(),
    'add_license_to_project': _spec(('project_id', REQUIRED), ('license_id', REQUIRED)),
    'remove_license_from_project': _spec(('project_id', REQUIRED), ('license_id', REQUIRED)),
    'chatgpt': _spec('text', 'system', 'history', 'project_id', 'path', 'model', 'tag', 'stream'),
    'jupyter_kernels': _spec('project_id', 'path'),
    'jupyter_execute': _spec('input', 'kernel', 'history', 'hash', 'tag', 'project_id', 'path'),
})
# The hub the API guide describes.
SPECS_GUIDE = dict(_SHARED, **{
    'create_account': _spec(('first_name', REQUIRED), ('last_name', REQUIRED), ('email_address', REQUIRED),
                            ('password', REQUIRED), ('agreed_to_terms', REQUIRED), 'utm', 'referrer', 'token'),
    'create_project': _spec(('title', ''), ('description', ''), 'image', ('start', False)),
    'user_search': _spec(('query', REQUIRED), ('limit', 20)),
    'copy_path_between_projects': _spec(*_COPY_COMMON, ('exclude_history', False)),
    'copy_public_path_between_projects': _spec(*_COPY_COMMON, ('exclude_history', False)),
    'change_password': _spec(('email_address', REQUIRED), ('old_password', ''), ('new_password', REQUIRED)),
    'delete_account': _spec(('account_id', REQUIRED)),
    'forgot_password': _spec(('email_address', REQUIRED)),
    'reset_forgot_password': _spec(('reset_code', REQUIRED), ('new_password', REQUIRED)),
    'unlink_passport': _spec(('strategy', REQUIRED), ('id', REQUIRED), with_id=False),
    'metrics': _spec(('metrics', REQUIRED), with_id=False),
    'start_metrics': _spec(('interval_s', REQUIRED), with_id=False),
    'public_get_directory_listing': _spec(('project_id', REQUIRED), ('path', REQUIRED), ('hidden', False),
                                          ('time', False), ('start', 0), ('limit', -1)),
    'public_get_text_file': _spec(('project_id', REQUIRED), ('path', REQUIRED)),
})

# Messages that exist (util/message.js) but were never, or are no longer, in api_messages:
# 400 "endpoint '<e>' is not part of the HTTP API". Response events are messages too.
_NOT_HTTP_COMMON = {
    'sign_in', 'sign_out', 'error', 'api_messages', 'version', 'success', 'pong', 'signed_in', 'signed_out',
    'account_created', 'account_creation_failed', 'project_created', 'usernames', 'user_search_results',
    'project_exec_output', 'file_written_to_project', 'text_file_read_from_project', 'changed_email_address',
    'changed_password', 'user_auth_token', 'invite_noncloud_collaborators_resp', 'query_cancel', 'query_get_changefeed_ids',
    'support_ticket_url', 'support_tickets', 'account_deleted', 'forgot_password_response',
    'reset_forgot_password_response', 'public_directory_listing', 'public_text_file_contents', 'cookies',
    'remember_me_failed', 'get_all_activity', 'save_blob', 'remove_blob_ttls', 'storage', 'local_hub',
}
NOT_HTTP_2024 = _NOT_HTTP_COMMON | {'delete_account', 'metrics', 'start_metrics', 'unlink_passport',
                                    'copy_path_between_projects_response', 'copy_path_status_response'}
# Browser messages of 2017 that the API did not serve yet.
NOT_HTTP_GUIDE = _NOT_HTTP_COMMON | {'touch_project', 'disconnect_from_project', 'get_available_upgrades'}

# In api_messages but without a mesg_ handler: 400 "unknown message event type '<e>'".
UNHANDLED_2024 = frozenset()
UNHANDLED_GUIDE = frozenset({'start_metrics'})

# Object.prototype members pass the hub's two lookups and then produce a message without an event.
JS_PROTOTYPE_NAMES = {'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
                      'propertyIsEnumerable', 'constructor', '__defineGetter__', '__defineSetter__',
                      '__lookupGetter__', '__lookupSetter__', '__proto__'}


def gate(profile, event):
    """Steps 2 and 3 of the hub's checks in the era of `profile`; returns an error text or None."""
    if event in JS_PROTOTYPE_NAMES:
        return None
    if event in profile.endpoints:
        return None
    if event in profile.not_http:
        return "endpoint '%s' is not part of the HTTP API" % event
    return "unknown endpoint '%s'" % event


def _spec_json(event, spec):
    shown = {'event': event}
    for name, default in spec:
        if default is not UNDEFINED:
            shown[name] = default
    return js_json(shown)


def validate(profile, event, body):
    """misc.defaults as the hub applies it: required first (spec order), then unknown keys (body order)."""
    if event in JS_PROTOTYPE_NAMES:
        return {}
    spec = profile.endpoints[event]
    if 'event' in body:
        raise ParameterError("Error: ValueError: must not define 'event' when calling message creation function "
                             "(opts=%s, obj=%s)" % (js_json(body), _spec_json(event, spec)))
    names = set()
    result = {}
    for name, default in spec:
        names.add(name)
        if body.get(name) is not None:
            result[name] = body[name]
        elif default is REQUIRED:
            raise ParameterError("Error: misc.defaults -- TypeError: property '%s' must be specified: " % name)
        elif default is not UNDEFINED:
            result[name] = list(default) if isinstance(default, list) else default
    for name in body:
        if name not in names:
            raise ParameterError("Error: misc.defaults -- TypeError: got an unexpected argument '%s' " % name)
    return result
