# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad input through every module: a clean failure naming the option, before any call, never a traceback.

The string options of each module are taken from its own argument spec, so a new option is covered
without touching this file.
"""

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils import _module
from ansible_collections.cocalc.cocalc.plugins.modules import (
    cocalc_account,
    cocalc_account_info,
    cocalc_collaborator,
    cocalc_course,
    cocalc_exec,
    cocalc_file,
    cocalc_project,
    cocalc_project_info,
    cocalc_public_path,
    cocalc_public_path_info,
)
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import run_module_failed

PID = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
BOB = '5134e292-3608-4e27-b5d1-645b92dc67fd'

# Each module with arguments that pass validation (the calls they would make are never reached).
MODULES = {
    'cocalc_account': (cocalc_account, dict(email='carol@example.com')),
    'cocalc_account_info': (cocalc_account_info, dict(email='carol@example.com')),
    'cocalc_collaborator': (cocalc_collaborator, dict(project_id=PID, account_id=BOB)),
    'cocalc_course': (cocalc_course, dict(course_id='alg-1', title='Algebra', students=[dict(student_id='1', email='ada@example.edu')])),
    'cocalc_exec': (cocalc_exec, dict(project_id=PID, command='true')),
    'cocalc_file': (cocalc_file, dict(project_id=PID, path='a.txt', content='x')),
    'cocalc_project': (cocalc_project, dict(title='Algebra')),
    'cocalc_project_info': (cocalc_project_info, dict(project_id=PID)),
    'cocalc_public_path': (cocalc_public_path, dict(project_id=PID, path='share')),
    'cocalc_public_path_info': (cocalc_public_path_info, dict(project_id=PID)),
}


def _spec_of(monkeypatch, module):
    """The module's full argument spec, as it hands it to AnsibleModule."""
    seen = {}

    class Recorder(object):
        def __init__(self, argument_spec, **kwargs):
            seen.update(argument_spec)
            raise SystemExit(0)

    monkeypatch.setattr(_module, 'AnsibleModule', Recorder)
    with pytest.raises(SystemExit):
        module.main()
    monkeypatch.undo()
    return seen


def _string_options(spec):
    # api_url and api_key are left out: the fake transport of the harness itself needs them as strings.
    return sorted(name for name, rule in spec.items()
                  if rule.get('type', 'str') == 'str' and not rule.get('choices') and name not in ('api_url', 'api_key'))


def _cases():
    for name in sorted(MODULES):
        for bad in ('list', 'dict', 'nul'):
            yield name, bad


def _assert_clean(result, option, base):
    assert 'Traceback' not in result.text and 'exception' not in result
    # Ansible's own checks (mutually exclusive, required together) run first for some options:
    # their messages name the option as well.
    assert option in result['msg'], result['msg']
    assert result.transport.requests == []


@pytest.mark.parametrize('name, bad', list(_cases()))
def test_every_string_option_refuses_lists_dicts_and_nul(monkeypatch, name, bad):
    module, base = MODULES[name]
    spec = _spec_of(monkeypatch, module)
    options = _string_options(spec)
    assert options   # the spec was captured
    # Values that never occur in a message (no_log options mask their value wherever it appears).
    value = {'list': ['bad-item-1', 'bad-item-2'], 'dict': {'bad-key': 'bad-value'}, 'nul': 'bad\x00value'}[bad]
    for option in options:
        if bad == 'nul' and option == 'content':
            continue   # file data: NUL is content
        args = dict(base)
        args[option] = value
        result = run_module_failed(monkeypatch, module, args, [])
        _assert_clean(result, option, base)
        if option not in ('api_key', 'password', 'old_password') and option in result['msg'].split(' ')[0]:
            expected = {'list': 'must be a string, got a list', 'dict': 'must be a string, got a dict',
                        'nul': 'must not contain a NUL character'}[bad]
            assert result['msg'] == '%s %s' % (option, expected)


@pytest.mark.parametrize('name, args, message', [
    ('cocalc_project', dict(title='x' * 20000), 'title must be at most 1024 characters, got 20000'),
    ('cocalc_project', dict(title='Algebra', description='x' * 20000), 'description must be at most 10000 characters, got 20000'),
    ('cocalc_project', dict(title='Alg\nebra'), 'title must be one line'),
    ('cocalc_project', dict(title='Algebra', name='a\rb'), 'name must be one line'),
    ('cocalc_project_info', dict(title='a' * 2000), 'title must be at most 1024 characters'),
    ('cocalc_collaborator', dict(project_id=PID, email='bob@example.com', invite_subject='Hi\r\nBcc: mallory@example.org'),
     'invite_subject must be one line: it must not contain a line break (CR or LF)'),
    ('cocalc_collaborator', dict(project_id=PID, email='bob@example.com', reply_to='a@example.org\r\nBcc: m@example.org'),
     'reply_to must be one email address'),
    ('cocalc_collaborator', dict(project_id=PID, email='bob@example.com', invite_link='https://x.org/\r\nBcc: m'),
     'invite_link must be an http:// or https:// URL'),
    ('cocalc_collaborator', dict(project_title='Alg\nebra', account_id=BOB), 'project_title must be one line'),
    ('cocalc_account', dict(email='carol@example.com', first_name='Carol\r\nBcc: x'), 'first_name must be one line'),
    ('cocalc_course', dict(course_id='alg-1', title='Algebra', students=[dict(student_id='1', email='ada@example.edu')],
                           invite=dict(subject='Hi\r\nBcc: mallory@example.org')), 'invite.subject must be one line'),
    ('cocalc_course', dict(course_id='alg-1', title=['a', 'b'], students=[dict(student_id='1', email='ada@example.edu')]),
     'title must be a string, got a list'),
    ('cocalc_course', dict(course_id='alg-1', title='x' * 20000, students=[dict(student_id='1', email='ada@example.edu')]),
     'title must be at most 1024 characters'),
    ('cocalc_course', dict(course_id='alg-1', title='Algebra', students=[dict(student_id='1', email='ada@example.edu', first_name='A\x00')]),
     'students[0].first_name must not contain a NUL character'),
    ('cocalc_course', dict(course_id='alg-1', title='Algebra', students=[dict(student_id='1', email='ada@example.edu')],
                           handouts=[dict(path=['a'], content='x')]), 'handouts[0].path must be a string, got a list'),
    ('cocalc_file', dict(project_id=PID, path='a.txt', copy_from=dict(project_id=PID, path=['b'])), 'copy_from.path must be a string, got a list'),
    ('cocalc_exec', dict(project_id=PID, command='echo', args=['a', 'b\x00']), 'args[1] must not contain a NUL character'),
    ('cocalc_public_path', dict(project_id=PID, path='share', description='x' * 10001), 'description must be at most 10000 characters'),
])
def test_named_bad_inputs(monkeypatch, name, args, message):
    module = MODULES[name][0]
    result = run_module_failed(monkeypatch, module, args, [])
    assert result['msg'].startswith(message), result['msg']
    assert 'Traceback' not in result.text
    assert result.transport.requests == []


def test_file_content_may_hold_nul(monkeypatch):
    # File data is content, not a name: a NUL in it passes validation (and is written as given).
    from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, run_module_success
    read = ApiCall('read_text_file_from_project', {'project_id': PID, 'path': 'a.bin'}).reply(
        {'event': 'text_file_read_from_project', 'content': 'a\x00b'})
    result = run_module_success(monkeypatch, cocalc_file, dict(project_id=PID, path='a.bin', content='a\x00b'), [read])
    assert result['changed'] is False
