# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the lookup cocalc.cocalc.cocalc_file with the fake transport."""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from ansible.errors import AnsibleError
from ansible.plugins.loader import lookup_loader

from ansible_collections.cocalc.cocalc.plugins.lookup import cocalc_file as lookup_module
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import HOME_GUARD
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, API_URL, ApiCall, FakeCocalc

PID = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
CONNECTION = dict(api_url=API_URL, api_key=API_KEY)


def lookup(terms, **options):
    return lookup_loader.get('cocalc.cocalc.cocalc_file').run(terms, variables={}, **options)


def read_call(path, content):
    return ApiCall('read_text_file_from_project', {'project_id': PID, 'path': path}).reply(
        {'event': 'text_file_read_from_project', 'id': 'x', 'content': content})


def guard(*paths, outside=None, timeout=40):
    """The one read-only check, before any read, that the paths stay in the home."""
    reply = {'event': 'project_exec_output', 'stdout': '', 'stderr': '', 'exit_code': 0}
    if outside:
        reply.update(stderr='outside-home %d\n%s' % outside, exit_code=97)
    body = dict(project_id=PID, err_on_exit=False, command='sh', args=['-c', HOME_GUARD, 'sh'] + list(paths))
    return ApiCall('project_exec', body).expect_timeout(timeout).reply(reply)


@pytest.fixture(autouse=True)
def no_connection_env(monkeypatch):
    for name in ('COCALC_API_URL', 'COCALC_API_KEY', 'COCALC_API_TIMEOUT', 'COCALC_API_VERSION'):
        monkeypatch.delenv(name, raising=False)


def test_reads_several_project_files_in_one_call_in_term_order(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        guard('notes/a.md', 'b.txt'),
        ApiCall('read_text_file_from_project', {'project_id': [PID, PID], 'path': ['notes/a.md', 'b.txt']}).reply(
            {'event': 'text_file_read_from_project', 'id': 'x', 'content': [
                {'path': 'notes/a.md', 'project_id': PID, 'content': '# A\n'},
                {'path': 'b.txt', 'project_id': PID, 'content': 'ü\n'}]}),
    ])
    assert lookup(['./notes//a.md', 'b.txt'], project_id=PID, **CONNECTION) == ['# A\n', 'ü\n']
    fake.assert_done()


def test_several_terms_each_get_their_own_file_whatever_the_answer_order(monkeypatch):
    """runs-2024/README.md fact 2: the hub answers a batched read in completion order; the lookup with
    three terms returned the files in the wrong order when it matched by position."""
    fake = FakeCocalc(monkeypatch, [
        guard('a.md', 'b.md', 'c.md'),
        ApiCall('read_text_file_from_project', {'project_id': [PID, PID, PID], 'path': ['a.md', 'b.md', 'c.md']}).reply(
            {'event': 'text_file_read_from_project', 'id': 'x', 'content': [
                {'path': 'c.md', 'project_id': PID, 'content': 'C'},
                {'path': 'a.md', 'project_id': PID, 'error': {}},
                {'path': 'b.md', 'project_id': PID, 'content': 'B'}]}),
        ApiCall('read_text_file_from_project', {'project_id': [PID], 'path': ['a.md']}).reply(
            {'event': 'text_file_read_from_project', 'id': 'y', 'content': [{'path': 'a.md', 'project_id': PID, 'content': 'A'}]}),
    ])
    assert lookup(['a.md', 'b.md', 'c.md'], project_id=PID, **CONNECTION) == ['A', 'B', 'C']
    fake.assert_done()
    assert fake.sleeps == [1.0]


def test_no_terms_no_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    assert lookup([], project_id=PID, **CONNECTION) == []
    fake.assert_done()


def test_one_file_missing_among_several(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        guard('a.md', 'gone.md'),
        ApiCall('read_text_file_from_project', {'project_id': [PID, PID], 'path': ['a.md', 'gone.md']}).reply(
            {'event': 'text_file_read_from_project', 'id': 'x', 'content': [
                {'path': 'a.md', 'project_id': PID, 'content': 'A'},
                {'path': 'gone.md', 'project_id': PID, 'error': "Error: ENOENT: no such file or directory, stat '/home/user/gone.md'"}]}),
    ])
    with pytest.raises(AnsibleError) as info:
        lookup(['a.md', 'gone.md'], project_id=PID, **CONNECTION)
    assert str(info.value) == "Could not read 'gone.md' of project %s: there is no such file" % PID
    fake.assert_done()


def test_a_directory_is_refused(monkeypatch):
    fake = FakeCocalc(monkeypatch, [guard('handouts'), read_call('handouts', 'BZh91AY&SY\ufffd\ufffd')])
    with pytest.raises(AnsibleError) as info:
        lookup(['handouts'], project_id=PID, **CONNECTION)
    assert 'it is a directory' in str(info.value)
    fake.assert_done()


def test_a_file_too_large_for_the_server(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        guard('big.log'),
        ApiCall('read_text_file_from_project', {'project_id': PID, 'path': 'big.log'}).error(
            'Error: Attempt to open large file of size 12MB; the maximum allowed size is 10MB. Use vim, emacs, or pico from a terminal instead.'),
    ])
    with pytest.raises(AnsibleError) as info:
        lookup(['big.log'], project_id=PID, **CONNECTION)
    assert 'larger than the server reads' in str(info.value)
    fake.assert_done()


def test_connection_options_from_the_environment(monkeypatch):
    monkeypatch.setenv('COCALC_API_URL', 'https://env.cocalc.test/api/v1')
    monkeypatch.setenv('COCALC_API_KEY', 'sk_KeyFromTheEnvironment77')
    monkeypatch.setenv('COCALC_API_TIMEOUT', '7')
    fake = FakeCocalc(monkeypatch, [guard('a.md', timeout=17), read_call('a.md', 'A')], api_url='https://env.cocalc.test',
                      api_key='sk_KeyFromTheEnvironment77', timeout=7)
    assert lookup(['a.md'], project_id=PID) == ['A']
    fake.assert_done()


def test_validate_certs_and_timeout_options(monkeypatch):
    fake = FakeCocalc(monkeypatch, [guard('a.md', timeout=100), read_call('a.md', 'A')], validate_certs=False, timeout=90)
    assert lookup(['a.md'], project_id=PID, validate_certs=False, api_timeout=90, **CONNECTION) == ['A']
    fake.assert_done()


def test_public_files(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('public_get_text_file', {'project_id': PID, 'path': 'share/README.md'})
        .reply({'event': 'public_text_file_contents', 'id': 'x', 'data': 'hello'}),
    ])
    assert lookup(['share/README.md'], project_id=PID, public=True, **CONNECTION) == ['hello']
    fake.assert_done()


def test_public_on_a_2024_server_fails_clearly(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('public_get_text_file', {'project_id': PID, 'path': 'a.md'}).reject("unknown endpoint 'public_get_text_file'"),
    ])
    with pytest.raises(AnsibleError) as info:
        lookup(['a.md'], project_id=PID, public=True, **CONNECTION)
    assert 'CoCalc removed public_get_text_file from API v1 in July 2021' in str(info.value)
    fake.assert_done()


def test_missing_file_names_file_and_project(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        guard('gone.md'),
        ApiCall('read_text_file_from_project', {'project_id': PID, 'path': 'gone.md'})
        .error("Error: ENOENT: no such file or directory, stat '/home/user/gone.md'"),
    ])
    with pytest.raises(AnsibleError) as info:
        lookup(['gone.md'], project_id=PID, **CONNECTION)
    assert str(info.value) == "Could not read 'gone.md' of project %s: there is no such file" % PID
    fake.assert_done()


def test_no_access_names_file_and_project(monkeypatch):
    # The hub's answer to project_exec for an account that is not a collaborator (transcripts-2024).
    text = 'User 649769c9-b3b6-452b-b328-1afa0bf2bc54 does not have write access to project %s' % PID
    fake = FakeCocalc(monkeypatch, [ApiCall('project_exec', dict(project_id=PID, err_on_exit=False, command='sh',
                                                                 args=['-c', HOME_GUARD, 'sh', 'a.md'])).expect_timeout(40).error(text)])
    with pytest.raises(AnsibleError) as info:
        lookup(['a.md'], project_id=PID, **CONNECTION)
    assert str(info.value) == ("Could not check that 'a.md' stay inside the home of project %s: API call 'project_exec' failed "
                               "(HTTP 200, event 'error'): %s" % (PID, text))
    fake.assert_done()


def test_wrong_key_is_never_shown(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('project_exec', dict(project_id=PID, err_on_exit=False, command='sh', args=['-c', HOME_GUARD, 'sh', 'a.md'])).expect_timeout(40)
        .reject('No account found. Is your API key wrong? key=%s' % API_KEY),
    ])
    with pytest.raises(AnsibleError) as info:
        lookup(['a.md'], project_id=PID, **CONNECTION)
    assert 'check api_key' in str(info.value)
    assert API_KEY not in str(info.value)
    fake.assert_done()


@pytest.mark.parametrize('terms, options, fragment', [
    (['a.md'], dict(project_id='nope'), 'project_id must be a UUID'),
    (['ok.md', '/etc/passwd'], dict(project_id=PID), "term 2 must be relative to the project home, not absolute: '/etc/passwd'"),
    (['../x'], dict(project_id=PID), 'term 1 must stay inside the project home'),
    (['a/../../x'], dict(project_id=PID, public=True), 'term 1 must stay inside the project home'),
    ([''], dict(project_id=PID), 'term 1 must be a non-empty path'),
    (['a.md'], dict(project_id=PID, api_url='ftp://x'), 'api_url must start with http:// or https://'),
    (['a.md'], dict(project_id=PID, api_timeout=0), 'api_timeout must be a positive number'),
])
def test_bad_input_fails_before_any_call(monkeypatch, terms, options, fragment):
    connection = dict(CONNECTION)
    connection.update(options)
    fake = FakeCocalc(monkeypatch, [])
    with pytest.raises(AnsibleError) as info:
        lookup(terms, **connection)
    assert fragment in str(info.value)
    fake.assert_done()


def test_missing_project_id_and_key(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    with pytest.raises(AnsibleError) as info:
        lookup(['a.md'], api_url=API_URL, api_key=API_KEY)
    assert 'project_id' in str(info.value)
    with pytest.raises(AnsibleError) as info:
        lookup(['a.md'], api_url=API_URL, project_id=PID)
    assert 'api_key' in str(info.value)
    fake.assert_done()


def test_a_symlink_out_of_the_home_is_never_read(monkeypatch):
    fake = FakeCocalc(monkeypatch, [guard('ok.md', 'link/secret', outside=(2, '/elsewhere/secret'))])
    with pytest.raises(AnsibleError) as info:
        lookup(['ok.md', 'link/secret'], project_id=PID, **CONNECTION)
    assert "term 2 'link/secret' leaves the home of project %s: its real location is /elsewhere/secret" % PID in str(info.value)
    fake.assert_done()


# ---- API generations ----

NEXT_404 = '<!DOCTYPE html><html><head><title>404 Page Not Found</title></head><body><div id="__next"></div></body></html>'


def bridge(name, args):
    """A call of current CoCalc's project bridge (api_timeout 30: the bridge gets 29 s)."""
    return ApiCall(name, {'project_id': PID, 'name': name, 'args': args, 'timeout': ANY}).expect_url(API_URL + '/api/conat/project')


def current_guard():
    return bridge('system.exec', ANY).expect_timeout(40).reply({'stdout': '', 'stderr': '', 'exit_code': 0})


def test_api_version_current_reads_through_the_project_bridge(monkeypatch):
    fake = FakeCocalc(monkeypatch, [current_guard(), bridge('system.readTextFileFromProject', [{'path': 'a.md'}]).reply('A\n')])
    assert lookup(['a.md'], project_id=PID, api_version='current', **CONNECTION) == ['A\n']
    fake.assert_done()


def test_api_version_from_the_environment(monkeypatch):
    monkeypatch.setenv('COCALC_API_VERSION', 'current')
    fake = FakeCocalc(monkeypatch, [current_guard(), bridge('system.readTextFileFromProject', [{'path': 'a.md'}]).reply('A\n')])
    assert lookup(['a.md'], project_id=PID, **CONNECTION) == ['A\n']
    fake.assert_done()


def test_auto_switches_on_current_cocalcs_404_page_and_says_so_at_v(monkeypatch):
    shown = []
    monkeypatch.setattr(lookup_module.display, 'v', shown.append)
    fake = FakeCocalc(monkeypatch, [
        ApiCall('project_exec', ANY).expect_timeout(40).raw(NEXT_404, 404),
        current_guard(),
        bridge('system.readTextFileFromProject', [{'path': 'a.md'}]).reply('A\n'),
    ])
    assert lookup(['a.md'], project_id=PID, **CONNECTION) == ['A\n']
    fake.assert_done()
    assert shown == ['cocalc.cocalc.cocalc_file: %s spoke CoCalc API current' % API_URL]


def test_auto_on_an_api_v1_hub_says_v1(monkeypatch):
    shown = []
    monkeypatch.setattr(lookup_module.display, 'v', shown.append)
    fake = FakeCocalc(monkeypatch, [guard('a.md'), read_call('a.md', 'A')])
    assert lookup(['a.md'], project_id=PID, **CONNECTION) == ['A']
    fake.assert_done()
    assert shown == ['cocalc.cocalc.cocalc_file: %s spoke CoCalc API v1' % API_URL]


def test_a_bad_api_version_is_named(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    with pytest.raises(AnsibleError, match='api_version'):
        lookup(['a.md'], project_id=PID, api_version='v3', **CONNECTION)
    fake.assert_done()
