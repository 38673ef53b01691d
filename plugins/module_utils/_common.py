# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pieces every layer shares: results, errors, comparing and diffing. No Ansible imports.

Resource code (plugins/module_utils/_<resource>.py) returns an Outcome and raises CocalcError
subclasses; _module.py turns both into Ansible results, and the action, lookup, inventory and
connection plugins use the same errors::

    from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, Outcome, attempting

    with attempting("add %s to project %s" % (account_id, project_id)):
        client.call('invite_collaborator', project_id=project_id, account_id=account_id)
    return Outcome(after, changed, before=before, after=after)

CocalcApiError.kind says what went wrong in the server's terms (see ERROR_KINDS); _api.py sets it
where it builds the error from the server's answer, so no other file reads the server's texts.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

from ansible_collections.cocalc.cocalc.plugins.module_utils import _validate
from ansible_collections.cocalc.cocalc.plugins.module_utils._validate import InvalidInput

# Fields that never appear in returned resources or diffs.
SECRET_FIELDS = frozenset(['api_key', 'password', 'new_password', 'old_password', 'auth_token'])

# What CocalcApiError.kind may be (None: none of these, or no answer at all):
#   not_found            the file, path or project does not exist (ENOENT and the like; argument: the path named)
#   no_access            the key's account may not read or write it
#   too_large            the file is too large for the endpoint to read
#   unexpected_argument  this server does not take an option or query field (CocalcApiError.argument names it);
#                        it refused the call before doing anything, so a call without it is safe
#   missing_argument     this server wants an option the call did not send (argument names it)
#   not_ready            the project is not running yet (ProjectNotReady)
#   bad_key              the server did not recognise the API key as an account
#   is_directory         a file operation named a directory (EISDIR; API v1 answered a read with an archive instead)
ERROR_KINDS = ('not_found', 'no_access', 'too_large', 'unexpected_argument', 'missing_argument', 'not_ready', 'bad_key',
               'is_directory')


# ---- errors ----

class CocalcError(Exception):
    """Any error a task reports as its failure message: the base that _module (for modules and action
    plugins) catches. Under it: CocalcApiError (a failed call), CocalcCheckModeError, CocalcInputError
    (bad options) and the resource errors (e.g. _project.ProjectError)."""


class CocalcApiError(CocalcError):
    """A failed API call: what was called, what the server answered.

    http_status is None when no answer arrived (connection error, timeout); event is the
    ``event`` of an HTTP 200 failure body. message is the server's text (key redacted).
    kind (one of ERROR_KINDS or None) and argument (the option of an unexpected_argument or
    missing_argument kind, the path a not_found text names) are set by _api.api_error() from the
    server's answer.
    """

    def __init__(self, endpoint, http_status=None, event=None, message='', body=None, attempted=None, kind=None, argument=None):
        super().__init__(message)
        self.endpoint = endpoint
        self.http_status = http_status
        self.event = event
        self.message = message
        self.body = body
        # Filled in by attempting(): what the caller was doing, e.g. "create project 'Algebra'".
        self.attempted = attempted
        self.kind = kind
        self.argument = argument
        self.unknown_endpoint = False
        # 'unsent' / 'lost' (see _api.RETRY_POLICY) for a transient failure, None for the hub's own answer.
        self.failure = None

    @property
    def may_have_run(self):
        """True when the hub may have done the work though the answer was lost (then a 'once' call
        must not be sent again blindly: look at the server to find out)."""
        return self.failure == 'lost'

    @property
    def unexpected_argument(self):
        """The option an endpoint rejected (HTTP 400 "got an unexpected argument 'x'"), else None; a
        query field rejected by the query engine has the same kind, with the field as argument."""
        return self.argument if self.kind == 'unexpected_argument' and self.http_status == 400 else None

    def as_dict(self):
        return dict(endpoint=self.endpoint, http_status=self.http_status, event=self.event, message=self.message)

    def __str__(self):
        if self.http_status is None and self.unknown_endpoint:
            # Refused before sending (no counterpart in this API generation): nothing was lost on the way.
            answer = 'not sent'
        elif self.http_status is None:
            answer = 'no answer'
        else:
            answer = 'HTTP %s' % self.http_status
        if self.event:
            answer += ", event '%s'" % self.event
        text = "API call '%s' failed (%s): %s" % (self.endpoint, answer, self.message)
        if self.attempted:
            text = 'Could not %s: %s' % (self.attempted, text)
        return text


class ProjectNotReady(CocalcApiError):
    """The hub refused a project call because the project is not running yet (still starting): the
    call never reached the project. Raised by CocalcClient.call() once its wait for the project is
    spent; batched reads report it per item (see _api.not_ready_item())."""

    def __init__(self, *args, **kwargs):
        if kwargs.get('kind') is None:
            kwargs['kind'] = 'not_ready'
        super().__init__(*args, **kwargs)


class CocalcCheckModeError(CocalcError, RuntimeError):
    """A write was attempted while the client was in check mode: a bug in the caller."""


class CocalcInputError(CocalcError, InvalidInput):
    """Bad user input; the message names the option. The _validate table raises its base,
    InvalidInput; validated() turns that into this CocalcError."""


@contextmanager
def attempting(what):
    """Label API errors raised inside the block with what the caller was doing.

    with attempting("add %s to project %s" % (account_id, project_id)):
        client.call('invite_collaborator', ...)
    """
    try:
        yield
    except CocalcApiError as err:
        if err.attempted is None:
            err.attempted = what
        raise


# ---- results ----

class Outcome:
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


# ---- input validators (the kinds of _validate, failing with a CocalcError) ----

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
    return {key: value for key, value in desired.items() if value is not None and not _covers(current.get(key), value)}


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
        return {key: redact_secrets(item) for key, item in value.items() if key not in SECRET_FIELDS}
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


def diff_changed_keys(before, after):
    """{'before': ..., 'after': ...} holding only the top-level keys that differ, secrets removed."""
    before = redact_secrets(before or {})
    after = redact_secrets(after or {})
    keys = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    return dict(before={key: before[key] for key in keys if key in before},
                after={key: after[key] for key in keys if key in after})
