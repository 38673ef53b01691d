# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input kinds: one declarative table, used by every module, the course and the lookup.

Free of Ansible (and of every other module_utils file), so any layer may use it::

    check('title', value, 'title')                   # the value, normalised, or InvalidInput
    check('uuid', ['3702601d-...', ...], 'account_ids')  # a list is checked item by item
    check_raw_options(spec, raw_params)              # before Ansible turns ['a', 'b'] into "['a', 'b']"

Every failure is an InvalidInput (a ValueError) whose message starts with the option's name and
never contains a traceback. _common.CocalcInputError derives from it, so code that catches either
sees both. Rules that hold for every string, whatever its kind: no NUL character, and a list or a
dict is never accepted where a string is expected. Lengths are the API's own limits where known,
and otherwise a bound far above any real use that keeps absurd input (a 20,000-character title)
from reaching the hub.
"""

from __future__ import annotations

import posixpath
import re


class InvalidInput(ValueError):
    """Bad user input, found before any call; the message names the option."""


_UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
# Deliberately loose (the server has the final word) but rejects what user_search would split
# on (commas, semicolons, whitespace) or silently drop.
_EMAIL_RE = re.compile(r'^[^@\s,;<>"]+@[^@\s,;<>"]+\.[^@\s,;<>"]+$')
_LINE_BREAK_RE = re.compile(r'[\r\n\u2028\u2029\x0b\x0c\x85]')

# The API's limits (see the reference): project names, account names, email addresses.
PROJECT_NAME_MAX = 100
PERSON_NAME_MAX = 254
EMAIL_MAX = 254
# No API limit is documented for these: bounds far above real use.
TITLE_MAX = 1024
DESCRIPTION_MAX = 10000
# RFC 5322: a header line is at most 998 characters.
EMAIL_SUBJECT_MAX = 998
EMAIL_BODY_MAX = 50000
PATH_MAX = 4096
TEXT_MAX = 10000


def _kind_name(value):
    return {list: 'a list', tuple: 'a list', dict: 'a dict'}.get(type(value), type(value).__name__)


def _string(value, option, max_length, single_line=False, empty=True):
    """The rules of every string kind: a str, no NUL, within max_length, and optionally one line."""
    if isinstance(value, (list, tuple, dict)):
        raise InvalidInput('%s must be a string, got %s' % (option, _kind_name(value)))
    if not isinstance(value, str):
        raise InvalidInput('%s must be a string, got %r' % (option, value))
    if '\x00' in value:
        raise InvalidInput('%s must not contain a NUL character' % option)
    if single_line and _LINE_BREAK_RE.search(value):
        raise InvalidInput('%s must be one line: it must not contain a line break (CR or LF)' % option)
    if len(value) > max_length:
        raise InvalidInput('%s must be at most %d characters, got %d' % (option, max_length, len(value)))
    if not empty and not value.strip():
        raise InvalidInput('%s must be a non-empty string, got %r' % (option, value))
    return value


def _uuid(value, option):
    text = value.strip().lower() if isinstance(value, str) else value
    if not isinstance(text, str) or not _UUID_RE.match(text):
        raise InvalidInput('%s must be a UUID like 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b, got %r' % (option, value))
    return text


def _email(value, option):
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or len(text) > EMAIL_MAX or not _EMAIL_RE.match(text):
        raise InvalidInput('%s must be one email address like ada@example.org, got %r' % (option, value))
    return text


def _non_empty(value, option):
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput('%s must be a non-empty string, got %r' % (option, value))
    return _string(value, option, TEXT_MAX)


def project_path(value, option, allow_home=False):
    """A path relative to the project's home, normalised ('a/./b/' -> 'a/b').

    Absolute paths and '..' that leave the home are refused before any call; whether the path's
    real location (symlinks) stays in the home is checked inside the project (_exec.HOME_GUARD).
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput('%s must be a non-empty path relative to the project home, got %r' % (option, value))
    _string(value, option, PATH_MAX)
    if value.startswith('/'):
        raise InvalidInput('%s must be relative to the project home, not absolute: %r' % (option, value))
    normal = posixpath.normpath(value)
    if normal == '..' or normal.startswith('../'):
        raise InvalidInput('%s must stay inside the project home, but %r leaves it' % (option, value))
    if normal == '.' and not allow_home:
        raise InvalidInput('%s must name something inside the project home, not the home itself: %r' % (option, value))
    return normal


def public_path(value, option):
    """A public path exactly as given (its id depends on every character): a project path with no '..' at all."""
    project_path(value, option)
    if '..' in value.split('/'):
        raise InvalidInput("%s must not contain '..' (the server never shares such a path), got %r" % (option, value))
    return value


def project_name(value, option):
    """A project name as the hub accepts it: non-empty, one line, at most PROJECT_NAME_MAX characters, not a UUID."""
    if not isinstance(value, (str, list, tuple, dict)) or (isinstance(value, str) and not value.strip()):
        raise InvalidInput('%s must be a non-empty string, got %r' % (option, value))
    _string(value, option, PROJECT_NAME_MAX, single_line=True)
    if _UUID_RE.match(value.strip().lower()):
        raise InvalidInput('%s must not be a UUID (CoCalc refuses such names); to select a project by ID use project_id' % option)
    return value


# The table: kind -> check(value, option) returning the value as it is sent. A kind is a rule for
# one string; lists of them are checked item by item by check().
KINDS = {
    'uuid': _uuid,
    'email': _email,
    'non_empty': _non_empty,
    'project_path': project_path,
    # A directory to work in: the home itself ('.') is allowed.
    'project_dir': lambda value, option: project_path(value, option, allow_home=True),
    'public_path': public_path,
    'project_name': project_name,
    # A title also goes into invitation subjects ("... in project '<title>'"): one line.
    'title': lambda value, option: _string(value, option, TITLE_MAX, single_line=True, empty=False),
    'description': lambda value, option: _string(value, option, DESCRIPTION_MAX),
    'person_name': lambda value, option: _string(value, option, PERSON_NAME_MAX, single_line=True, empty=False),
    # Header fields of an email: a line break would start a new header (Bcc: ...).
    'email_subject': lambda value, option: _string(value, option, EMAIL_SUBJECT_MAX, single_line=True),
    'email_header': lambda value, option: _string(value, option, EMAIL_SUBJECT_MAX, single_line=True),
    'email_body': lambda value, option: _string(value, option, EMAIL_BODY_MAX),
    'text': lambda value, option: _string(value, option, TEXT_MAX),
}


def check(kind, value, option):
    """value checked as kind (a list or tuple item by item, named option[i]); InvalidInput otherwise."""
    rule = KINDS[kind]
    if isinstance(value, (list, tuple)) and kind in _LIST_KINDS:
        return [rule(item, '%s[%d]' % (option, index)) for index, item in enumerate(value)]
    return rule(value, option)


# Kinds whose options may hold a list of them (account_ids, emails); a list given for any other
# kind is refused as "must be a string".
_LIST_KINDS = frozenset(['uuid', 'email', 'non_empty'])


# ---- every option of an argument spec, on the raw input ----

def _walk(spec, raw, prefix, data_options):
    for name, rule in spec.items():
        option = prefix + name
        value = raw.get(name)
        if value is None:
            aliases = [alias for alias in rule.get('aliases') or [] if raw.get(alias) is not None]
            if not aliases:
                continue
            option, value = prefix + aliases[0], raw[aliases[0]]
        _check_value(rule, value, option, data_options)


def _check_value(rule, value, option, data_options):
    kind = rule.get('type', 'str')
    if kind == 'str':
        _check_string(value, option, data_options)
    elif kind == 'list' and isinstance(value, (list, tuple)):
        _check_list(rule, value, option, data_options)
    elif kind == 'dict' and isinstance(value, dict) and rule.get('options'):
        _walk(rule['options'], value, option + '.', data_options)
    else:
        _no_nul(value, option)


def _check_string(value, option, data_options):
    if isinstance(value, (list, tuple, dict)):
        raise InvalidInput('%s must be a string, got %s' % (option, _kind_name(value)))
    if isinstance(value, str) and option.rsplit('.', 1)[-1] not in data_options and '\x00' in value:
        raise InvalidInput('%s must not contain a NUL character' % option)


def _check_list(rule, value, option, data_options):
    elements = rule.get('elements')
    for index, item in enumerate(value):
        where = '%s[%d]' % (option, index)
        if elements == 'dict' and isinstance(item, dict) and rule.get('options'):
            _walk(rule['options'], item, where + '.', data_options)
        elif elements in ('str', None):
            _check_string(item, where, data_options)
        else:
            _no_nul(item, where)


def _no_nul(value, option):
    if isinstance(value, str) and '\x00' in value:
        raise InvalidInput('%s must not contain a NUL character' % option)
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key, option)
            _no_nul(item, '%s.%s' % (option, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _no_nul(item, '%s[%d]' % (option, index))


def check_raw_options(spec, raw, data_options=()):
    """Check options as the user gave them, before Ansible converts them: a list or dict where the
    spec expects a string (Ansible would send "['a', 'b']"), and a NUL in any string, at any depth.

    data_options: names of options holding file data, where NUL is content (cocalc_file's content,
    the course's handouts[].content), at any depth.
    """
    if isinstance(raw, dict):
        _walk(spec, raw, '', frozenset(data_options))
