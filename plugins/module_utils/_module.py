# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CocalcModule: the one place that knows Ansible result conventions.

A module declares its options and docs and makes one call::

    from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule
    from ansible_collections.cocalc.cocalc.plugins.module_utils._project import ensure_project

    def main():
        module = CocalcModule(
            argument_spec=dict(
                project_id=dict(type='str'),
                title=dict(type='str'),
                description=dict(type='str'),          # updatable: no default, see wanted_changes()
                state=dict(type='str', default='present', choices=['present', 'absent']),
            ),
            result_key='project',
            checks={'project_id': 'uuid', 'title': 'non_empty'},
            required_one_of=[('project_id', 'title')],
            supports_check_mode=True,
        )
        module.run(ensure_project)

The resource function (in plugins/module_utils/_<resource>.py) is pure logic over a client::

    def ensure_project(client, params, check_mode):
        current = ...find it with client.projects_all(...)...
        return ensure_state(params['state'], current, desired, create=..., update=..., delete=...,
                            check_mode=check_mode)

It gets the module options without the connection options, must not write when check_mode
is true (the client refuses writes then anyway), and returns an Outcome. run() turns the
Outcome into exit_json (``changed``, the resource under result_key on every path, ``diff``
of the changed keys with secrets removed when --diff is on, extra keys, warnings), and any
CocalcError (the base, in _api, of CocalcApiError, of CocalcInputError below and of the
resource errors such as _project.ProjectError) into fail_json with a readable ``msg`` and, for
API errors, the structured error under ``api_error`` ({endpoint, http_status, event, message}).
Wrap calls in ``attempting("add X to project Y")`` (from _api) so messages say what was attempted.
"""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import (
    CONNECTION_OPTIONS,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    CocalcApiError,
    CocalcClient,
    CocalcError,
    connection_argument_spec,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils import _validate
from ansible_collections.cocalc.cocalc.plugins.module_utils._validate import InvalidInput

# Fields that never appear in returned resources or diffs.
SECRET_FIELDS = frozenset(['api_key', 'password', 'new_password', 'old_password', 'auth_token'])

API_ERROR_KEY = 'api_error'
# The markers ansible.builtin.copy's diff uses where the content is not shown.
_FILE_DIFF_MARKERS = ('dst_larger', 'dst_binary', 'src_larger', 'src_binary')

_LOOPBACK_HOSTS = ('localhost', '127.0.0.1', '::1')


class CocalcInputError(CocalcError, InvalidInput):
    """Bad user input; the message names the option. The _validate table raises its base,
    InvalidInput; validated() turns that into this CocalcError."""


class Outcome(object):
    """What a resource function did (or, in check mode, would do).

    resource: the resource after the run (None when absent), returned under the module's
    result_key. before / after: the states to diff (None = absent); leave both None for
    read-only results. diff: a ready-made diff (e.g. the copy shape for file content) that
    replaces the computed one. warnings: texts for the user. failure: a message when the task
    must fail after doing part of its work (e.g. some students of a course); the result keys
    are still returned, so the user sees what was done. extra: more result keys.
    """

    def __init__(self, resource=None, changed=False, before=None, after=None, diff=None, warnings=None, failure=None, **extra):
        self.resource = resource
        self.changed = bool(changed)
        self.before = before
        self.after = after
        self.diff = diff
        self.warnings = list(warnings or [])
        self.failure = failure
        self.extra = extra


# ---- input validators (usable from resource logic too): the kinds of _validate ----

def validated(kind, value, option):
    """_validate.check() whose failure is a CocalcInputError (a CocalcError every caller reports)."""
    try:
        return _validate.check(kind, value, option)
    except CocalcInputError:
        raise
    except InvalidInput as err:
        raise CocalcInputError(str(err)) from None


def check_uuid(value, option):
    """Lower-cased UUID (or list of them); raises CocalcInputError naming the option."""
    return validated('uuid', value, option)


def check_email(value, option):
    """Stripped email address (or list of them); raises CocalcInputError naming the option."""
    return validated('email', value, option)


def check_non_empty(value, option):
    """The string (or list of strings) unchanged if not blank; raises CocalcInputError."""
    return validated('non_empty', value, option)


# ---- comparing, diffing, redacting ----

def _covers(current, wanted):
    """True when current already satisfies wanted. Dicts compare only the wanted keys,
    because the server deep-merges map fields on write."""
    if isinstance(wanted, dict) and isinstance(current, dict):
        return all(_covers(current.get(key), value) for key, value in wanted.items() if value is not None)
    return current == wanted


def wanted_changes(current, desired):
    """{key: desired value} for every option the user set (not None) that differs from current.

    Updatable options have no spec default, so an option the user left out is None and
    never resets what someone changed in the web UI.
    """
    current = current or {}
    return dict((key, value) for key, value in desired.items()
                if value is not None and not _covers(current.get(key), value))


def _merge(current, changes):
    merged = copy.deepcopy(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def predict(current, changes):
    """The resource as it will be after a write of changes (deep merge, like the server)."""
    return _merge(current or {}, changes)


def redact_secrets(value):
    """A copy of value without SECRET_FIELDS at any depth."""
    if isinstance(value, dict):
        return dict((key, redact_secrets(item)) for key, item in value.items() if key not in SECRET_FIELDS)
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


def diff_changed_keys(before, after):
    """{'before': ..., 'after': ...} holding only the top-level keys that differ, secrets removed."""
    before = redact_secrets(before or {})
    after = redact_secrets(after or {})
    keys = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    return dict(before=dict((key, before[key]) for key in keys if key in before),
                after=dict((key, after[key]) for key in keys if key in after))


def ensure_state(state, current, desired, create, update, delete=None, check_mode=False):
    """Find-compare-act for one resource, foreman style.

    current: the found resource or None. desired: the wanted fields (None = not set).
    create(fields) -> new resource; update(current, changes) -> updated resource (or None to
    use the prediction); delete(current) -> None. In check mode nothing is called and the
    result is predicted from desired / changes.
    """
    if state == 'absent':
        if current is None:
            return Outcome(None, False)
        if not check_mode:
            delete(current)
        return Outcome(None, True, before=current, after=None)
    if current is None:
        fields = dict((key, value) for key, value in desired.items() if value is not None)
        created = fields if check_mode else create(fields)
        return Outcome(created, True, before=None, after=created)
    changes = wanted_changes(current, desired)
    if not changes:
        return Outcome(current, False, before=current, after=current)
    expected = predict(current, changes)
    updated = expected if check_mode else (update(current, changes) or expected)
    return Outcome(updated, True, before=current, after=updated)


def plain_http_warning(api_url):
    """The warning for a key sent unencrypted to a remote host, or None."""
    parts = urlsplit(api_url)
    if parts.scheme == 'http' and (parts.hostname or '') not in _LOOPBACK_HOSTS:
        return 'api_url uses plain http to a remote host, so the API key travels unencrypted; use https'
    return None


def call_resource(action, client, params, check_mode, *args):
    """(outcome, None) of action(client, params, check_mode, *args), or (None, error) for a
    CocalcError; the client is closed either way. Shared by CocalcModule.run() and the action
    plugins, so the failure is reported outside the except block (no traceback in the result)."""
    try:
        return action(client, params, check_mode, *args), None
    except CocalcError as err:
        return None, err
    finally:
        client.close()


def error_result(error):
    """The failure keys of an error: ``msg``, and for an API error the structured ``api_error``."""
    result = dict(msg=str(error))
    if isinstance(error, CocalcApiError):
        result[API_ERROR_KEY] = error.as_dict()
    return result


def result_of(outcome, result_key, diff_mode):
    """The task result of an Outcome (changed, extra keys, result_key, diff; secrets removed),
    without warnings and failure: shared by CocalcModule and the action plugins that run
    resource logic in the controller."""
    result = dict(changed=outcome.changed)
    for key, value in outcome.extra.items():
        result[key] = redact_secrets(value)
    result[result_key] = redact_secrets(outcome.resource)
    if diff_mode:
        diff = outcome.diff
        if diff is None and (outcome.before is not None or outcome.after is not None):
            diff = diff_changed_keys(outcome.before, outcome.after)
        # A copy-shaped file diff may hold only size/binary markers (text too large or binary to show).
        if diff and (diff.get('before') or diff.get('after') or any(diff.get(marker) for marker in _FILE_DIFF_MARKERS)):
            result['diff'] = diff
    return result


# ---- the module ----

def _unconverted_options():
    """The options as the user gave them (None when this ansible-core cannot say)."""
    try:
        raw = basic._load_params()   # documented for modules that need the unconverted options
    except Exception:   # pylint: disable=broad-exception-caught
        return None
    return raw if isinstance(raw, dict) else None


def _holds_nul(value):
    if isinstance(value, str):
        return '\x00' in value
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


class CocalcModule(object):
    """An AnsibleModule with the connection options, a client, and the result conventions."""

    def __init__(self, argument_spec, result_key, checks=None, data_options=(), **kwargs):
        """checks: {option: kind of _validate.KINDS}. data_options: options holding file data (NUL allowed)."""
        spec = connection_argument_spec()
        spec.update(argument_spec)
        raw = _unconverted_options()
        failure = None if raw is None else self._raw_input_failure(spec, data_options, raw)
        if failure or (raw is not None and _holds_nul([raw.get(option) for option in data_options])):
            # AnsibleModule logs its arguments to syslog first, which fails on a NUL (ours, or one in file
            # data) before the module runs: such an invocation is not logged.
            kwargs = dict(kwargs, no_log=True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        if raw is None:
            # this ansible-core could not give the unconverted options: the converted ones still get the NUL check
            failure = self._raw_input_failure(spec, data_options, self.module.params)
        if failure:
            self.module.fail_json(msg=failure)
        self.result_key = result_key
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        failure = None
        try:
            self._apply_checks(checks or {})
            self.client = CocalcClient.from_params(self.module.params)
        except ValueError as err:
            failure = str(err)
        if failure:
            self.module.fail_json(msg=failure)
        self.client.check_mode = self.module.check_mode
        self._warn_plain_http()

    @property
    def params(self):
        """The module options without the connection options (what resource logic gets)."""
        return dict((key, value) for key, value in self.module.params.items() if key not in CONNECTION_OPTIONS)

    @property
    def check_mode(self):
        return self.module.check_mode

    def warn(self, text):
        self.module.warn(text)

    def _apply_checks(self, checks):
        for option, kind in checks.items():
            value = self.module.params.get(option)
            if value is not None:
                self.module.params[option] = validated(kind, value, option)

    @staticmethod
    def _raw_input_failure(spec, data_options, raw):
        """The text of a list or dict given for a string option, or a NUL anywhere, in the options as
        the user wrote them (AnsibleModule turns ['a', 'b'] into the string "['a', 'b']"); None when
        they pass."""
        try:
            _validate.check_raw_options(spec, raw, data_options)
        except InvalidInput as err:
            return str(err)
        return None

    def _warn_plain_http(self):
        text = plain_http_warning(self.client.api_url)
        if text:
            self.warn(text)

    def run(self, action, *args):
        """Call action(client, params, check_mode, *args) and exit with its Outcome."""
        outcome, failure = call_resource(action, self.client, self.params, self.check_mode, *args)
        if failure is not None:
            self.fail(failure)
        self.exit(outcome)

    def exit(self, outcome):
        for text in outcome.warnings:
            self.warn(text)
        result = result_of(outcome, self.result_key, self.module._diff)
        self._note_generation(result)
        if outcome.failure:
            self.module.fail_json(msg=outcome.failure, **result)
        self.module.exit_json(**result)

    def fail(self, error, **result):
        """fail_json for an API error (msg + api_error) or any other error (msg)."""
        result.update(error_result(error))
        self._note_generation(result)
        self.module.fail_json(**result)

    def _note_generation(self, result):
        # Which API generation the client spoke (api_version auto decides it): shown at -v.
        if self.client.generation:
            result['api_version'] = self.client.generation
