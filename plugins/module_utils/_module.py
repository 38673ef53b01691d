# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one adapter to Ansible: connection options, check mode, diff, result shape, error -> failure.

A module declares its options and docs and makes one call::

    from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule
    from ansible_collections.cocalc.cocalc.plugins.module_utils._project import ensure_project

    def main():
        module = CocalcModule(
            argument_spec=dict(
                project_id=dict(type='str'),
                title=dict(type='str'),
                description=dict(type='str'),          # updatable: no default, see _common.wanted_changes()
                state=dict(type='str', default='present', choices=['present', 'absent']),
            ),
            result_key='project',
            checks={'project_id': 'uuid', 'title': 'non_empty'},
            required_one_of=[('project_id', 'title')],
            supports_check_mode=True,
        )
        module.run(ensure_project)

The resource function (in plugins/module_utils/_<resource>.py) is pure logic over a client: it gets
the module options without the connection options, must not write when check_mode is true (the
client refuses writes then anyway), and returns a _common.Outcome. run_resource() is the one path
from that Outcome (or a CocalcError) to a task result, shared by CocalcModule.run() and the action
plugins that run resource logic in the controller: ``changed``, the resource under result_key on
every path, ``diff`` of the changed keys with secrets removed when --diff is on, extra keys,
warnings; a CocalcError becomes a failure with a readable ``msg`` and, for API errors, the
structured error under ``api_error`` ({endpoint, http_status, event, message}).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.cocalc.cocalc.plugins.module_utils import _validate
from ansible_collections.cocalc.cocalc.plugins.module_utils._api import (
    API_VERSIONS,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    CocalcClient,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcError, diff_changed_keys, redact_secrets, validated
from ansible_collections.cocalc.cocalc.plugins.module_utils._validate import InvalidInput

API_ERROR_KEY = 'api_error'
# The markers ansible.builtin.copy's diff uses where the content is not shown.
_FILE_DIFF_MARKERS = ('dst_larger', 'dst_binary', 'src_larger', 'src_binary')

_LOOPBACK_HOSTS = ('localhost', '127.0.0.1', '::1')


# ---- the connection options ----

def connection_argument_spec():
    """Connection options shared by every module (documented in doc_fragments/connection.py).

    Precedence: task option, then module_defaults (both arrive as task args), then the
    environment variable (env_fallback), then the default.
    """
    return dict(
        api_url=dict(type='str', required=True, fallback=(env_fallback, ['COCALC_API_URL'])),
        api_key=dict(type='str', required=True, no_log=True, fallback=(env_fallback, ['COCALC_API_KEY'])),
        validate_certs=dict(type='bool', default=True),
        api_timeout=dict(type='int', default=DEFAULT_TIMEOUT, fallback=(env_fallback, ['COCALC_API_TIMEOUT'])),
        api_retries=dict(type='int', default=DEFAULT_RETRIES),
        api_version=dict(type='str', choices=list(API_VERSIONS), fallback=(env_fallback, ['COCALC_API_VERSION'])),
    )


CONNECTION_OPTIONS = frozenset(connection_argument_spec())


def module_argument_spec(argument_spec):
    """The whole argument spec of a module or action plugin: the connection options and its own."""
    spec = connection_argument_spec()
    spec.update(argument_spec)
    return spec


def resource_params(params):
    """The options without the connection options (what resource logic gets)."""
    return {key: value for key, value in params.items() if key not in CONNECTION_OPTIONS}


def plain_http_warning(api_url):
    """The warning for a key sent unencrypted to a remote host, or None."""
    parts = urlsplit(api_url)
    if parts.scheme == 'http' and (parts.hostname or '') not in _LOOPBACK_HOSTS:
        return 'api_url uses plain http to a remote host, so the API key travels unencrypted; use https'
    return None


def open_client(params, check_mode):
    """(client, warnings) for the connection options in params; ValueError names a bad option."""
    client = CocalcClient.from_params(params)
    client.check_mode = check_mode
    warning = plain_http_warning(client.api_url)
    return client, [warning] if warning else []


# ---- from an Outcome or an error to a task result ----

def call_resource(action, client, params, check_mode, *args):
    """(outcome, None) of action(client, params, check_mode, *args), or (None, error) for a
    CocalcError; the client is closed either way. The failure is reported outside the except
    block, so no traceback reaches the result."""
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
    without warnings and failure."""
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


def run_resource(action, client, params, check_mode, diff_mode, result_key, *args):
    """THE run/exit path of modules and action plugins: the task result of action(client, params,
    check_mode, *args). Always holds ``warnings`` (a list, maybe empty); ``failed`` and ``msg`` (and
    ``api_error``) on failure, with the result keys when the Outcome itself failed. The client is closed."""
    outcome, error = call_resource(action, client, params, check_mode, *args)
    # Which API generation the client spoke (api_version auto decides it): shown at -v.
    spoken = dict(api_version=client.generation) if client.generation else {}
    if error is not None:
        return dict(failed=True, warnings=[], **error_result(error), **spoken)
    result = result_of(outcome, result_key, diff_mode)
    result.update(spoken)
    result['warnings'] = list(outcome.warnings)
    if outcome.failure:
        result.update(failed=True, msg=outcome.failure)
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


class CocalcModule:
    """An AnsibleModule with the connection options, a client, and the result conventions."""

    def __init__(self, argument_spec, result_key, checks=None, data_options=(), **kwargs):
        """checks: {option: kind of _validate.KINDS}. data_options: options holding file data (NUL allowed)."""
        spec = module_argument_spec(argument_spec)
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
        self.client = self._open_client(checks or {})

    def _open_client(self, checks):
        failure = None
        try:
            self._apply_checks(checks)
            client, warnings = open_client(self.module.params, self.module.check_mode)
        except ValueError as err:
            failure = str(err)
        if failure:
            self.module.fail_json(msg=failure)
        for text in warnings:
            self.warn(text)
        return client

    @property
    def params(self):
        """The module options without the connection options (what resource logic gets)."""
        return resource_params(self.module.params)

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

    def run(self, action, *args):
        """Call action(client, params, check_mode, *args) and exit with its result (run_resource())."""
        result = run_resource(action, self.client, self.params, self.check_mode, self.module._diff, self.result_key, *args)
        for text in result.pop('warnings'):
            self.warn(text)
        if result.pop('failed', False):
            self.module.fail_json(**result)
        self.module.exit_json(**result)

    def fail(self, error, **result):
        """fail_json for an API error (msg + api_error) or any other error (msg)."""
        result.update(error_result(error))
        self.module.fail_json(**result)
