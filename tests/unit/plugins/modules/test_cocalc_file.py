# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_file with the fake transport: the exact calls of every path."""

from __future__ import annotations

import hashlib
import json
import re
from unittest.mock import ANY

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils import _exec, _texts, _trees
from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_file
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, ApiCall, run_module_failed, run_module_success

PID = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
SRC = '25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3'
USER = '5134e292-3608-4e27-b5d1-645b92dc67fd'
HOME = '/projects/%s' % PID
SHA_A = 'a' * 64
SHA_B = 'b' * 64


def sha(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def read(path, content=None, error=None, project_id=PID):
    call = ApiCall('read_text_file_from_project', {'project_id': project_id, 'path': path})
    if error is not None:
        return call.error(error)
    if content is None:
        return call.error("Error: ENOENT: no such file or directory, stat '/projects/%s/%s'" % (project_id, path))
    return call.reply({'event': 'text_file_read_from_project', 'id': 'r', 'content': content})


def write(path, content, project_id=PID):
    return ApiCall('write_text_file_to_project', {'project_id': project_id, 'path': path, 'content': content}) \
        .reply({'event': 'file_written_to_project', 'id': 'w'})


def execute(body, stdout='', stderr='', exit_code=0, seconds=10, project_id=PID):
    full = dict(project_id=project_id, err_on_exit=False)
    full.update(body)
    return ApiCall('project_exec', full).expect_timeout(seconds + 30).reply(
        {'event': 'project_exec_output', 'id': 'x', 'stdout': stdout, 'stderr': stderr, 'exit_code': exit_code, 'type': 'blocking'})


def guard(*paths, outside=None):
    """The read-only check that paths stay in the home; outside: (index from 1, real location) it reports."""
    body = {'command': 'sh', 'args': ['-c', _exec.HOME_GUARD, 'sh'] + list(paths)}
    if outside:
        return execute(body, stderr='outside-home %d\n%s' % outside, exit_code=97)
    return execute(body)


def stat(path, kind=None):
    body = {'command': 'sh', 'args': ['-c', _exec.ENTRY_GUARD + 'exec stat --printf=%F -- "$1"', 'sh', path]}
    if kind is None:
        return execute(body, stderr="stat: cannot statx '%s': No such file or directory\n" % path, exit_code=1)
    return execute(body, stdout=kind)


def remove(path):
    return execute({'command': 'sh', 'args': ['-c', _exec.ENTRY_GUARD + 'exec rm -rf -- "$1"', 'sh', path], 'timeout': 120}, seconds=120)


def probe(paths, trees, project_id=PID, exclude='0'):
    """The checksum probe of paths, answering with (kind, {name: (size, mtime, sha)}) per path."""
    records = []
    for kind, files in trees:
        records.append('@' + kind)
        records.extend('S %d %s %s' % (size, mtime, name) for name, (size, mtime, _sha) in files.items())
        records.extend('%s  %s' % (digest, './' + name if kind == 'directory' else 'p') for name, (_s, _m, digest) in files.items())
    body = {'command': 'sh', 'args': ['-c', _trees._PROBE_SCRIPT, 'sh', exclude] + list(paths), 'timeout': 120}
    return execute(body, stdout=''.join(r + '\0' for r in records), seconds=120, project_id=project_id)


def copy(body, reply=None, endpoint='copy_path_between_projects', seconds=240):
    call = ApiCall(endpoint, body).expect_timeout(seconds + 30)
    return call.reply(reply or {'event': 'copy_path_between_projects_response', 'id': 'c', 'copy_path_id': '',
                                'note': 'Query copy_path_status with the copy_path_id to learn if the copy operation was successful.'})


def args(**extra):
    base = {'project_id': PID, 'path': 'notes/a.md'}
    base.update(extra)
    return base


# ---- text ----

def test_create(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(content='hello\n'), [read('notes/a.md'), guard('notes/a.md'), write('notes/a.md', 'hello\n')])
    assert result['changed'] is True
    assert result['file'] == {'project_id': PID, 'path': 'notes/a.md', 'state': 'file', 'size': 6, 'sha256': sha('hello\n')}
    assert 'diff' not in result


def test_idempotent_rerun_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(content='hello\n'), [read('notes/a.md', 'hello\n')])
    assert result['changed'] is False
    assert result['file']['sha256'] == sha('hello\n')


def test_update_with_diff(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(content='new\r\nno newline'),
                                [read('notes/a.md', 'old\n'), guard('notes/a.md'), write('notes/a.md', 'new\r\nno newline')], diff=True)
    assert result['changed'] is True
    assert result['diff'] == {'before': 'old\n', 'after': 'new\r\nno newline', 'before_header': 'notes/a.md', 'after_header': 'notes/a.md'}


def test_create_diff_has_empty_before(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(content='x'), [read('notes/a.md'), guard('notes/a.md'), write('notes/a.md', 'x')], diff=True)
    assert result['diff']['before'] == '' and result['diff']['after'] == 'x'


def test_check_mode_create_makes_no_write(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(content='hello\n'), [read('notes/a.md'), guard('notes/a.md')], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['file']['size'] == 6
    assert result['diff']['after'] == 'hello\n'


def test_check_mode_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(content='same'), [read('notes/a.md', 'same')], check_mode=True)
    assert result['changed'] is False


def test_path_is_normalised(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='./notes//a.md', content='x'), [read('notes/a.md', 'x')])
    assert result['file']['path'] == 'notes/a.md'


def test_unicode_path_and_content(monkeypatch):
    path, text = 'données/ünï ✓.txt', 'héllo ✓ 数学 \U0001F600\n'
    result = run_module_success(monkeypatch, cocalc_file, args(path=path, content=text), [read(path), guard(path), write(path, text)])
    assert result['file']['size'] == len(text.encode('utf-8'))


def test_oversized_current_file_is_replaced(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(content='small'), [
        read('notes/a.md', error='Error: Attempt to open large file of size 12MB; the maximum allowed size is 10MB. Use vim, emacs, or pico '
                                 'from a terminal instead.'),
        guard('notes/a.md'), write('notes/a.md', 'small'),
    ], diff=True)
    assert result['changed'] is True
    assert result['diff']['dst_larger'] == _texts.MAX_DIFF_BYTES and result['diff']['after'] == 'small'


def test_directory_at_path_fails_without_writing(monkeypatch):
    archive = 'BZh91AY&SYf7eM\u0004\ufffd\u0010\ufffd'
    result = run_module_failed(monkeypatch, cocalc_file, args(content='x'), [read('notes/a.md', archive), stat('notes/a.md', 'directory')])
    assert "path 'notes/a.md' is a directory" in result['msg']


def test_bz2_text_file_is_still_a_file(monkeypatch):
    archive = 'BZh91AY&SY compressed'
    result = run_module_success(monkeypatch, cocalc_file, args(content='x'), [
        read('notes/a.md', archive), stat('notes/a.md', 'regular file'), guard('notes/a.md'), write('notes/a.md', 'x')])
    assert result['changed'] is True


def test_large_text_goes_form_encoded(monkeypatch):
    text = 'x' * 200000
    result = run_module_success(monkeypatch, cocalc_file, args(content=text),
                                [read('notes/a.md'), guard('notes/a.md'), write('notes/a.md', text).expect_form()])
    assert result['file']['size'] == 200000
    assert len(result.transport.requests[2]['raw_body']) > _texts.JSON_BODY_LIMIT


def _parts_calls(text, path='notes/a.md', join_reply=None):
    """Expected calls of a write in parts (part names are random, so matched with ANY)."""
    overhead = _texts._json_size(dict(project_id=PID, path=_parts_name(path), content='')) + 64
    count = len(_texts._split_for_json(text, _texts.JSON_BODY_LIMIT - overhead))
    calls = [ApiCall('write_text_file_to_project', {'project_id': PID, 'path': ANY, 'content': ANY}).reply({'event': 'file_written_to_project'})
             for part in range(count)]
    calls.append(execute({'command': 'sh', 'args': ANY, 'timeout': 120}, seconds=120, **(join_reply or {'stdout': '%s  -\n' % sha(text)})))
    return calls


def _parts_name(path):
    directory, name = path.rsplit('/', 1)
    return '%s/.%s.cocalc-part-%s-%04d' % (directory, name, '0' * 12, 0)


def test_text_beyond_the_form_limit_is_written_in_parts(monkeypatch):
    # Each 'é\n "' takes 15 bytes form-encoded: 700 kB of text is over 2 MB as a form.
    text = ('é\n "' * 175000)
    calls = [read('notes/a.md'), guard('notes/a.md')] + _parts_calls(text)
    result = run_module_success(monkeypatch, cocalc_file, args(content=text), calls)
    assert result['changed'] is True and len(calls) > 5
    seen = result.transport.requests
    parts = seen[2:-1]
    names = [request['body']['path'] for request in parts]
    assert all(re.match(r'^notes/\.a\.md\.cocalc-part-[0-9a-f]{12}-\d{4}$', name) for name in names)
    assert len(set(names)) == len(names)
    assert ''.join(request['body']['content'] for request in parts) == text
    assert all(request['content_type'] == 'application/json' and len(request['raw_body']) <= _texts.JSON_BODY_LIMIT for request in parts)
    join = seen[-1]['body']['args']
    assert join[:4] == ['-c', _texts._JOIN_SCRIPT, 'sh', 'notes/a.md'] and join[4:] == names


def test_parts_join_checksum_mismatch_fails(monkeypatch):
    text = 'é\n "' * 175000
    calls = [read('notes/a.md'), guard('notes/a.md')] + _parts_calls(text, join_reply={'stdout': '%s  -\n' % SHA_A})
    result = run_module_failed(monkeypatch, cocalc_file, args(content=text), calls)
    assert 'joining the' in result['msg'] and SHA_A in result['msg']


def test_failed_part_write_removes_the_parts_written(monkeypatch):
    text = 'é\n "' * 175000
    calls = [read('notes/a.md'), guard('notes/a.md'),
             ApiCall('write_text_file_to_project', {'project_id': PID, 'path': ANY, 'content': ANY}).reply({'event': 'file_written_to_project'}),
             ApiCall('write_text_file_to_project', {'project_id': PID, 'path': ANY, 'content': ANY}).error('Error: ENOSPC: no space left'),
             execute({'command': 'rm', 'args': ANY})]
    result = run_module_failed(monkeypatch, cocalc_file, args(content=text), calls)
    assert 'ENOSPC' in result['msg'] and "Could not write 'notes/a.md'" in result['msg']
    first_part = result.transport.requests[2]['body']['path']
    assert result.transport.requests[4]['body']['args'] == ['-f', '--', first_part]


def test_form_413_falls_back_to_parts(monkeypatch):
    text = 'x' * 200000
    calls = [read('notes/a.md'), guard('notes/a.md'), write('notes/a.md', text).expect_form().raw('<pre>Payload Too Large</pre>', 413)] + _parts_calls(text)
    result = run_module_success(monkeypatch, cocalc_file, args(content=text), calls)
    assert result['changed'] is True


def test_largest_content_is_accepted_and_one_more_byte_refused(monkeypatch):
    text = 'x' * _texts.MAX_CONTENT_BYTES
    result = run_module_success(monkeypatch, cocalc_file, args(content=text), [read('notes/a.md', text)])
    assert result['file']['size'] == 1048576
    result = run_module_failed(monkeypatch, cocalc_file, args(content=text + 'y'), [])
    assert 'content is 1048577 bytes' in result['msg']


def test_write_error_object_is_reported(monkeypatch):
    eisdir = {'errno': -21, 'code': 'EISDIR', 'syscall': 'open', 'path': HOME + '/notes/a.md'}
    result = run_module_failed(monkeypatch, cocalc_file, args(content='x'), [
        read('notes/a.md'), guard('notes/a.md'), ApiCall('write_text_file_to_project', {'project_id': PID, 'path': 'notes/a.md', 'content': 'x'})
        .reply({'event': 'error', 'id': 'e', 'error': eisdir})])
    assert 'EISDIR' in result['msg'] and result['api_error']['endpoint'] == 'write_text_file_to_project'


def test_no_access_is_a_clear_failure(monkeypatch):
    text = 'User %s does not have read access to project %s' % (USER, PID)
    # After a failed read the path is checked (the hub's refusal may be about leaving the home); that
    # check failing too leaves the read's own error as the message.
    exec_text = 'User %s does not have write access to project %s' % (USER, PID)
    result = run_module_failed(monkeypatch, cocalc_file, args(content='x'), [
        read('notes/a.md', error=text),
        ApiCall('project_exec', dict(project_id=PID, err_on_exit=False, command='sh', args=['-c', _exec.HOME_GUARD, 'sh', 'notes/a.md']))
        .expect_timeout(40).error(exec_text)])
    assert result['msg'] == "Could not read 'notes/a.md' in project %s: API call 'read_text_file_from_project' failed (HTTP 200, event 'error'): %s" % (
        PID, text)
    assert result['api_error'] == {'endpoint': 'read_text_file_from_project', 'http_status': 200, 'event': 'error', 'message': text}
    assert API_KEY not in result.text


def test_src_without_the_action_plugin_fails(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(src='/tmp/x.md'), [])
    assert 'action plugin' in result['msg']


def test_src_content_from_the_action_plugin_uses_src_as_header(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(src='/play/files/a.md', content='from file'),
                                [read('notes/a.md', 'old'), guard('notes/a.md'), write('notes/a.md', 'from file')], diff=True)
    assert result['diff']['after_header'] == '/play/files/a.md'


# ---- absent ----

def test_absent_removes(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='old', state='absent'), [stat('old', 'directory'), remove('old')], diff=True)
    assert result['changed'] is True and result['file'] is None
    assert result['diff'] == {'before': {'path': 'old', 'state': 'directory'}, 'after': {}}


def test_absent_already_gone(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='old', state='absent'), [stat('old')])
    assert result['changed'] is False and result['file'] is None


def test_absent_check_mode_makes_no_removal(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='old', state='absent'), [stat('old', 'regular file')], check_mode=True)
    assert result['changed'] is True


def test_absent_path_starting_with_dash_is_an_argument_after_double_dash(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='-rf', state='absent'), [stat('-rf', 'regular empty file'), remove('-rf')])
    assert result['changed'] is True


def test_absent_failing_rm_is_reported(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(path='ro', state='absent'), [
        stat('ro', 'directory'),
        execute({'command': 'sh', 'args': ['-c', _exec.ENTRY_GUARD + 'exec rm -rf -- "$1"', 'sh', 'ro'], 'timeout': 120},
                stderr="rm: cannot remove 'ro/x': Permission denied\n",
                exit_code=1, seconds=120)])
    assert "Could not remove 'ro'" in result['msg'] and 'Permission denied' in result['msg']


# ---- paths whose real location leaves the home (a symlink out of it) ----

def _outside(body_args, index, real, seconds=10):
    return execute(dict(body_args), stderr='outside-home %d\n%s' % (index, real), exit_code=97, seconds=seconds)


def test_absent_through_a_symlink_out_of_the_home_removes_nothing(monkeypatch):
    # The stat probe refuses already: no rm is ever sent.
    stat_body = {'command': 'sh', 'args': ['-c', _exec.ENTRY_GUARD + 'exec stat --printf=%F -- "$1"', 'sh', 'link/keep.txt']}
    result = run_module_failed(monkeypatch, cocalc_file, args(path='link/keep.txt', state='absent'),
                               [_outside(stat_body, 1, '/elsewhere/keep.txt')])
    assert result['msg'] == ("path 'link/keep.txt' leaves the home of project %s: its real location is /elsewhere/keep.txt "
                             "(a symlink or '..' points outside the home); nothing was changed" % PID)
    assert 'Traceback' not in result['msg']


def test_absent_refused_by_the_rm_shell_itself(monkeypatch):
    # The link changed between the stat and the rm: the shell that would remove refuses.
    rm_body = {'command': 'sh', 'args': ['-c', _exec.ENTRY_GUARD + 'exec rm -rf -- "$1"', 'sh', 'link/keep.txt'], 'timeout': 120}
    result = run_module_failed(monkeypatch, cocalc_file, args(path='link/keep.txt', state='absent'),
                               [stat('link/keep.txt', 'regular file'), _outside(rm_body, 1, '/elsewhere/keep.txt', seconds=120)])
    assert "path 'link/keep.txt' leaves the home" in result['msg']


def test_write_through_a_symlink_out_of_the_home_writes_nothing(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(path='link/new.txt', content='x'),
                               [read('link/new.txt'), guard('link/new.txt', outside=(1, '/elsewhere/new.txt'))])
    assert "path 'link/new.txt' leaves the home" in result['msg'] and 'nothing was changed' in result['msg']


def test_a_hub_that_refuses_the_read_gets_our_message(monkeypatch):
    # The local test server (and a confined hub) refuses reads through such a link with its own words.
    result = run_module_failed(monkeypatch, cocalc_file, args(path='link/new.txt', content='x'), [
        read('link/new.txt', error="Error: EACCES: path 'link/new.txt' is outside the project home directory"),
        guard('link/new.txt', outside=(1, '/elsewhere/new.txt'))])
    assert result['msg'].startswith("path 'link/new.txt' leaves the home of project %s" % PID)
    assert 'api_error' not in result


def test_a_failed_read_inside_the_home_keeps_its_error(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(content='x'), [
        read('notes/a.md', error='Error: EIO: i/o error'), guard('notes/a.md')])
    assert result['msg'].startswith("Could not read 'notes/a.md' in project %s" % PID) and 'EIO' in result['msg']


def test_write_check_mode_also_refuses(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(path='link/new.txt', content='x'),
                               [read('link/new.txt'), guard('link/new.txt', outside=(1, '/elsewhere/new.txt'))], check_mode=True)
    assert "path 'link/new.txt' leaves the home" in result['msg']


def test_the_guard_itself_failing_is_an_api_error(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(path='a.txt', content='x'),
                               [read('a.txt'), execute({'command': 'sh', 'args': ['-c', _exec.HOME_GUARD, 'sh', 'a.txt']},
                                                       stderr='sh: realpath: not found', exit_code=127)])
    assert 'ended with exit code 127' in result['msg'] and 'realpath: not found' in result['msg']


# ---- bad input: no call at all ----

@pytest.mark.parametrize('extra, message', [
    ({'path': '/etc/passwd', 'content': 'x'}, 'path must be relative to the project home'),
    ({'path': 'a/../../x', 'content': 'x'}, 'path must stay inside the project home'),
    ({'path': '.', 'state': 'absent'}, 'not the home itself'),
    ({'project_id': 'not-a-uuid', 'content': 'x'}, 'project_id must be a UUID'),
    ({'content': 'x', 'state': 'absent'}, 'content cannot be used with state=absent'),
    ({}, 'state is present but any of the following are missing: content, src, copy_from'),
    ({'content': 'x', 'copy_from': {'project_id': SRC, 'path': 'a'}}, 'parameters are mutually exclusive: content|copy_from'),
    ({'copy_from': {'project_id': 'nope', 'path': 'a'}}, 'copy_from.project_id must be a UUID'),
    ({'copy_from': {'project_id': SRC, 'path': '../x'}}, 'copy_from.path must stay inside the project home'),
    ({'copy_from': {'project_id': SRC, 'path': 'a', 'timeout': 0}}, 'copy_from.timeout must be a positive number'),
    ({'state': 'gone'}, 'value of state must be one of: present, absent'),
])
def test_bad_input_makes_no_call(monkeypatch, extra, message):
    result = run_module_failed(monkeypatch, cocalc_file, args(**extra), [])
    assert message in result['msg']


# ---- copies ----

def copy_from(**extra):
    base = {'project_id': SRC, 'path': 'handout'}
    base.update(extra)
    return base


COPY_BODY = {'src_project_id': SRC, 'src_path': 'handout', 'target_project_id': PID, 'target_path': 'hw', 'wait_until_done': True}
SOURCE = ('directory', {'a.txt': (3, '100.0', SHA_A), 'sub/b.txt': (4, '100.0', SHA_B)})


def test_copy_creates_target(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [SOURCE], project_id=SRC),
        probe(['hw', 'hw/handout'], [('missing', {}), ('missing', {})]),
        copy(COPY_BODY),
    ], diff=True)
    assert result['changed'] is True
    assert result['file'] == {'project_id': PID, 'path': 'hw', 'state': 'directory', 'size': 7, 'sha256': None}
    assert result['diff'] == {'before': {}, 'after': {'hw/a.txt': SHA_A, 'hw/sub/b.txt': SHA_B}}


def test_copy_idempotent_makes_no_copy(monkeypatch):
    target = ('directory', {'a.txt': (3, '150.0', SHA_A), 'sub/b.txt': (4, '150.0', SHA_B), 'mine.txt': (1, '1.0', SHA_A)})
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [SOURCE], project_id=SRC), probe(['hw', 'hw/handout'], [target, ('missing', {})])])
    assert result['changed'] is False
    assert result['file']['size'] == 8


def test_copy_check_mode_makes_no_copy(monkeypatch):
    target = ('directory', {'a.txt': (9, '50.0', SHA_B)})
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [SOURCE], project_id=SRC), probe(['hw', 'hw/handout'], [target, ('missing', {})])], check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['diff'] == {'before': {'hw/a.txt': SHA_B}, 'after': {'hw/a.txt': SHA_A, 'hw/sub/b.txt': SHA_B}}


def test_copy_check_mode_idempotent(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [SOURCE], project_id=SRC), probe(['hw', 'hw/handout'], [SOURCE, ('missing', {})])], check_mode=True)
    assert result['changed'] is False


def test_copy_newer_target_is_kept_so_nothing_changes(monkeypatch):
    source = ('file', {'': (3, '100.0', SHA_A)})
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw.txt', copy_from=copy_from(path='a.txt')), [
        probe(['a.txt'], [source], project_id=SRC), probe(['hw.txt', 'hw.txt/a.txt'], [('file', {'': (5, '200.0', SHA_B)}), ('missing', {})])])
    assert result['changed'] is False


def test_copy_switches_are_sent_when_on(monkeypatch):
    source = ('file', {'': (3, '100.0', SHA_A)})
    body = {'src_project_id': SRC, 'src_path': 'a.txt', 'target_project_id': PID, 'target_path': 'hw.txt', 'overwrite_newer': True,
            'delete_missing': True, 'backup': True, 'timeout': 30, 'wait_until_done': True}
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw.txt', copy_from=copy_from(
        path='a.txt', overwrite_newer=True, delete_missing=True, backup=True, timeout=30)), [
        probe(['a.txt'], [source], project_id=SRC),
        probe(['hw.txt', 'hw.txt/a.txt'], [('file', {'': (5, '200.0', SHA_B)}), ('missing', {})]),
        copy(body, seconds=30)])
    assert result['changed'] is True and result['file']['sha256'] == SHA_A


def test_copy_file_onto_directory_lands_inside(monkeypatch):
    source = ('file', {'': (3, '100.0', SHA_A)})
    body = dict(COPY_BODY, src_path='a.txt', target_path='hw/a.txt')
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(path='a.txt')), [
        probe(['a.txt'], [source], project_id=SRC),
        probe(['hw', 'hw/a.txt'], [('directory', {'x': (1, '1.0', SHA_B)}), ('missing', {})]),
        copy(body)])
    assert result['file']['path'] == 'hw/a.txt' and result['file']['state'] == 'file'


def test_copy_within_one_project_probes_once(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(project_id=PID)), [
        probe(['handout', 'hw', 'hw/handout'], [SOURCE, SOURCE, ('missing', {})])])
    assert result['changed'] is False


@pytest.mark.parametrize('index, option', [(1, 'copy_from.path'), (2, 'path'), (3, 'path')])
def test_copy_refuses_source_or_target_out_of_the_home(monkeypatch, index, option):
    # The checksum probe checks every path before it lists anything: no extra call, no copy.
    paths = ['handout', 'hw', 'hw/handout']
    body = {'command': 'sh', 'args': ['-c', _trees._PROBE_SCRIPT, 'sh', '0'] + paths, 'timeout': 120}
    result = run_module_failed(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(project_id=PID)),
                               [_outside(body, index, '/elsewhere', seconds=120)])
    assert result['msg'].startswith("%s '%s' leaves the home of project %s" % (option, paths[index - 1], PID))


def test_copy_guide_era_drops_wait_until_done(monkeypatch):
    rejected = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'wait_until_done' '"
    body = dict(COPY_BODY)
    del body['wait_until_done']
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [SOURCE], project_id=SRC),
        probe(['hw', 'hw/handout'], [('missing', {}), ('missing', {})]),
        ApiCall('copy_path_between_projects', COPY_BODY).expect_timeout(270).reject(rejected),
        copy(body, reply={'event': 'success', 'id': 'c'})])
    assert result['changed'] is True


def test_copy_exclude_history_uses_exclude_then_exclude_history(monkeypatch):
    rejected = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'exclude' '"
    first = dict(COPY_BODY, exclude=['*.sage-history'])
    second = dict(COPY_BODY, exclude_history=True)
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(exclude_history=True)), [
        probe(['handout'], [SOURCE], project_id=SRC, exclude='1'),
        probe(['hw', 'hw/handout'], [('missing', {}), ('missing', {})], exclude='1'),
        ApiCall('copy_path_between_projects', first).expect_timeout(270).reject(rejected),
        copy(second)])
    assert result['changed'] is True


def test_copy_queued_copy_is_polled(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [SOURCE], project_id=SRC),
        probe(['hw', 'hw/handout'], [('missing', {}), ('missing', {})]),
        copy(COPY_BODY, reply={'event': 'copy_path_between_projects_response', 'copy_path_id': 'c0ffee00-0000-4000-8000-000000000000'}),
        ApiCall('copy_path_status', {'copy_path_id': 'c0ffee00-0000-4000-8000-000000000000'})
        .reply({'event': 'copy_path_status_response', 'data': {'started': 'x'}}),
        ApiCall('copy_path_status', {'copy_path_id': 'c0ffee00-0000-4000-8000-000000000000'})
        .reply({'event': 'copy_path_status_response', 'data': {'started': 'x', 'finished': 'y'}}),
    ])
    assert result['changed'] is True
    assert result.transport.sleeps == [_trees.COPY_POLL_INTERVAL]


def test_copy_missing_source_fails_before_copying(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [('missing', {})], project_id=SRC)])
    assert result['msg'] == "copy_from.path 'handout' does not exist in project %s" % SRC


def test_copy_error_is_reported(monkeypatch):
    text = 'ACCESS BLOCKED -- No write access to target project -- %s' % PID
    result = run_module_failed(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        probe(['handout'], [SOURCE], project_id=SRC),
        probe(['hw', 'hw/handout'], [('missing', {}), ('missing', {})]),
        ApiCall('copy_path_between_projects', COPY_BODY).expect_timeout(270).error(text)])
    assert result['msg'].startswith("Could not copy 'handout' of project %s to 'hw' in project %s" % (SRC, PID))
    assert result['api_error']['message'] == text


def _no_access(project_id=SRC):
    return ApiCall('project_exec', {'project_id': project_id, 'command': 'sh', 'args': ANY, 'timeout': 120, 'err_on_exit': False}) \
        .expect_timeout(150).error('User %s does not have write access to project %s' % (USER, project_id))


def test_public_copy_without_access_compares_the_target_before_and_after(monkeypatch):
    body = {'src_project_id': SRC, 'src_path': 'handout', 'target_project_id': PID, 'target_path': 'hw'}
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(public=True)), [
        _no_access(),
        probe(['hw', 'hw/handout'], [('missing', {}), ('missing', {})]),
        copy(body, endpoint='copy_public_path_between_projects', reply={'event': 'success', 'id': 'c'}),
        probe(['hw'], [SOURCE])])
    assert result['changed'] is True and result['file']['state'] == 'directory'


def test_public_copy_without_access_unchanged_target(monkeypatch):
    body = {'src_project_id': SRC, 'src_path': 'handout', 'target_project_id': PID, 'target_path': 'hw'}
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(public=True)), [
        _no_access(), probe(['hw', 'hw/handout'], [SOURCE, ('missing', {})]),
        copy(body, endpoint='copy_public_path_between_projects', reply={'event': 'success', 'id': 'c'}),
        probe(['hw'], [SOURCE])])
    assert result['changed'] is False


def test_public_copy_without_access_in_check_mode_assumes_a_change(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(public=True)), [
        _no_access(), probe(['hw', 'hw/handout'], [SOURCE, ('missing', {})])], check_mode=True)
    assert result['changed'] is True
    assert any('check mode cannot tell' in text for text in result.warnings)


def test_private_copy_source_error_other_than_access_fails(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        ApiCall('project_exec', {'project_id': SRC, 'command': 'sh', 'args': ANY, 'timeout': 120, 'err_on_exit': False})
        .expect_timeout(150).error('invalid project_id')])
    assert "Could not read the checksums of 'handout' in project %s" % SRC in result['msg']


def test_public_copy_exclude_history_rejected_by_the_server_is_a_clear_failure(monkeypatch):
    rejected = "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'exclude_history' '"
    body = {'src_project_id': SRC, 'src_path': 'handout', 'target_project_id': PID, 'target_path': 'hw', 'exclude_history': True}
    result = run_module_failed(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from(public=True, exclude_history=True)), [
        probe(['handout'], [SOURCE], project_id=SRC, exclude='1'),
        probe(['hw', 'hw/handout'], [('missing', {}), ('missing', {})], exclude='1'),
        ApiCall('copy_public_path_between_projects', body).expect_timeout(270).reject(rejected)])
    assert 'copy_from.exclude_history' in result['msg']


def test_probe_output_garbage_is_a_clear_failure(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_file, args(path='hw', copy_from=copy_from()), [
        execute({'command': 'sh', 'args': ANY, 'timeout': 120}, stdout='not the probe format', seconds=120, project_id=SRC)])
    assert 'could not read the checksums' in result['msg']


def test_json_sizes_match_the_client():
    body = {'project_id': PID, 'path': 'é', 'content': 'x"\n'}
    assert _texts._json_size(body) == len(json.dumps(body, separators=(',', ':'), ensure_ascii=False).encode('utf-8'))


PORT = 'Error: unable to determine project port'


def test_a_starting_project_is_waited_for_and_the_file_written_once(monkeypatch):
    """runs-2024/README.md fact 1: calls to a project that is still starting are refused at once."""
    result = run_module_success(monkeypatch, cocalc_file, {'project_id': PID, 'path': 'a.md', 'content': 'A\n'}, [
        read('a.md', error=PORT),
        read('a.md'),
        guard('a.md'),
        ApiCall('write_text_file_to_project', {'project_id': PID, 'path': 'a.md', 'content': 'A\n'}).error('Error: unable to determine host'),
        write('a.md', 'A\n'),
    ])
    assert result['changed'] is True
    assert result.transport.sleeps == [1.0, 1.0]


def test_a_project_that_never_starts_fails_the_task_and_says_so(monkeypatch):
    # 1 + 2 + 4 + 5 + 5 + ... seconds: 61 pauses fit into the 300 seconds, so 62 calls are refused.
    calls = [read('a.md', error=PORT) for _n in range(62)]
    result = run_module_failed(monkeypatch, cocalc_file, {'project_id': PID, 'path': 'a.md', 'content': 'A\n'}, calls)
    assert 'did not become ready within 300 seconds' in result['msg']
    assert "read 'a.md' in project %s" % PID in result['msg']
    assert sum(result.transport.sleeps) <= 300
