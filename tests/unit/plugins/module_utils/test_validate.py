# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the table of input kinds (_validate): each kind's good and bad values, and the raw option walk."""

from __future__ import annotations

import ast
import pathlib

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils import _validate
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcInputError, validated
from ansible_collections.cocalc.cocalc.plugins.module_utils._validate import InvalidInput, check, check_raw_options

UUID = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'


@pytest.mark.parametrize('kind, value, expected', [
    ('uuid', ' 3702601D-9FBC-4E4E-B7AB-C10A79E34D3B ', UUID),
    ('uuid', [UUID, UUID.upper()], [UUID, UUID]),
    ('email', ' ada@example.org ', 'ada@example.org'),
    ('non_empty', 'x', 'x'),
    ('project_path', 'a/./b/', 'a/b'),
    ('project_path', 'a/../b', 'b'),
    ('project_dir', '.', '.'),
    ('public_path', 'share/', 'share/'),
    ('project_name', 'algebra-1', 'algebra-1'),
    ('title', 'Algebra ✓ 数学', 'Algebra ✓ 数学'),
    ('title', 'x' * _validate.TITLE_MAX, 'x' * _validate.TITLE_MAX),
    ('description', 'line 1\nline 2\r\n', 'line 1\nline 2\r\n'),
    ('person_name', 'Ada', 'Ada'),
    ('email_subject', 'Welcome: Algebra', 'Welcome: Algebra'),
    ('email_header', 'Ada L.', 'Ada L.'),
    ('email_body', 'Hi\r\nwelcome\n', 'Hi\r\nwelcome\n'),
    ('text', '', ''),
])
def test_good_values_pass_normalised(kind, value, expected):
    assert check(kind, value, 'opt') == expected


@pytest.mark.parametrize('kind, value, message', [
    ('uuid', 'nope', "opt must be a UUID like 3702601d-9fbc-4e4e-b7ab-c10a79e34d3b, got 'nope'"),
    ('uuid', [UUID, 'x'], "opt[1] must be a UUID"),
    ('email', 'a@b', 'opt must be one email address'),
    ('email', 'a@example.org\r\nBcc: x@example.org', 'opt must be one email address'),
    ('email', 'a,b@example.org', 'opt must be one email address'),
    ('non_empty', '  ', 'opt must be a non-empty string'),
    ('non_empty', 'a\x00b', 'opt must not contain a NUL character'),
    ('project_path', '/etc/passwd', 'opt must be relative to the project home, not absolute'),
    ('project_path', 'a/../../x', 'opt must stay inside the project home'),
    ('project_path', '.', 'opt must name something inside the project home, not the home itself'),
    ('project_path', 'a\x00b', 'opt must not contain a NUL character'),
    ('project_path', ['a'], 'opt must be a non-empty path'),
    ('project_path', 'x' * 4097, 'opt must be at most 4096 characters'),
    ('project_dir', '..', 'opt must stay inside the project home'),
    ('public_path', 'a/../b', "opt must not contain '..'"),
    ('project_name', UUID, 'opt must not be a UUID'),
    ('project_name', 'x' * 101, 'opt must be at most 100 characters, got 101'),
    ('project_name', 'a\nb', 'opt must be one line'),
    ('project_name', 3, 'opt must be a non-empty string, got 3'),
    ('title', ['a', 'b'], 'opt must be a string, got a list'),
    ('title', {'a': 1}, 'opt must be a string, got a dict'),
    ('title', 'x' * 20000, 'opt must be at most 1024 characters, got 20000'),
    ('title', 'a\x00', 'opt must not contain a NUL character'),
    ('title', 'a\nb', 'opt must be one line'),
    ('title', ' ', 'opt must be a non-empty string'),
    ('description', 'x' * (_validate.DESCRIPTION_MAX + 1), 'opt must be at most 10000 characters'),
    ('person_name', 'Ada\rBcc: x', 'opt must be one line'),
    ('email_subject', 'Hi\r\nBcc: mallory@example.org', 'opt must be one line: it must not contain a line break (CR or LF)'),
    ('email_subject', 'Hi\nthere', 'opt must be one line'),
    ('email_subject', 'Hi\u2028there', 'opt must be one line'),
    ('email_subject', 'x' * 999, 'opt must be at most 998 characters'),
    ('email_header', 'a\rb', 'opt must be one line'),
    ('email_body', 'x' * (_validate.EMAIL_BODY_MAX + 1), 'opt must be at most 50000 characters'),
    ('email_body', 'a\x00', 'opt must not contain a NUL character'),
    ('text', 5, 'opt must be a string, got 5'),
])
def test_bad_values_name_the_option(kind, value, message):
    with pytest.raises(InvalidInput) as info:
        check(kind, value, 'opt')
    assert str(info.value).startswith('opt') and message in str(info.value)


def test_only_list_kinds_take_lists():
    assert sorted(_validate._LIST_KINDS) == ['email', 'non_empty', 'uuid']
    with pytest.raises(InvalidInput, match='opt must be a string, got a list'):
        check('description', ['a'], 'opt')


def test_every_kind_refuses_nul_and_containers():
    for kind in _validate.KINDS:
        for bad in ('a\x00b', {'a': 'b'}):
            with pytest.raises(InvalidInput) as info:
                check(kind, bad, 'opt')
            assert str(info.value).startswith('opt ')


def test_validated_gives_the_collection_error_every_caller_reports():
    with pytest.raises(CocalcInputError) as info:
        validated('title', ['a', 'b'], 'title')
    assert isinstance(info.value, InvalidInput) and str(info.value) == 'title must be a string, got a list'


SPEC = dict(
    title=dict(type='str', aliases=['name']),
    count=dict(type='int'),
    tags=dict(type='list', elements='str'),
    content=dict(type='str'),
    copy_from=dict(type='dict', options=dict(path=dict(type='str'), project_id=dict(type='str'))),
    handouts=dict(type='list', elements='dict', options=dict(path=dict(type='str'), content=dict(type='str'))),
    extra=dict(type='dict'),
    anything=dict(type='raw'),
)


@pytest.mark.parametrize('raw, message', [
    (dict(title=['a', 'b']), 'title must be a string, got a list'),
    (dict(name={'a': 1}), 'name must be a string, got a dict'),
    (dict(title='a\x00'), 'title must not contain a NUL character'),
    (dict(tags=['ok', ['x']]), 'tags[1] must be a string, got a list'),
    (dict(tags=['ok', 'x\x00']), 'tags[1] must not contain a NUL character'),
    (dict(copy_from=dict(path=['a'])), 'copy_from.path must be a string, got a list'),
    (dict(handouts=[dict(path='a'), dict(path='b\x00')]), 'handouts[1].path must not contain a NUL character'),
    (dict(extra=dict(k='v\x00')), 'extra.k must not contain a NUL character'),
    (dict(anything=['a', {'b': 'c\x00'}]), 'anything[1].b must not contain a NUL character'),
])
def test_raw_options_are_checked_at_any_depth(raw, message):
    with pytest.raises(InvalidInput) as info:
        check_raw_options(SPEC, raw, data_options=('content',))
    assert str(info.value) == message


def test_raw_options_that_are_fine_pass():
    check_raw_options(SPEC, dict(title='t', count='3', tags=['a', 1], content='bin\x00ary', copy_from=None,
                                 handouts=[dict(path='a', content='\x00')], _ansible_check_mode=True), data_options=('content',))


def test_the_table_has_no_ansible_imports():
    tree = ast.parse(pathlib.Path(_validate.__file__).read_text(encoding='utf-8'))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name and (name.startswith('ansible') or 'cocalc' in name)]
