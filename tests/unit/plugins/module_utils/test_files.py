# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of _files.py and _exec.py pieces the course reconciler reuses: batched reads,
the pure planners, the probe parser, path checks and the parts splitter."""

from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.cocalc.cocalc.plugins.module_utils import _files
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcApiError, CocalcInputError, ProjectNotReady
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import check_project_path
from ansible_collections.cocalc.cocalc.plugins.module_utils._files import (
    TOO_LARGE,
    CopyOptions,
    FileEntry,
    Tree,
    parse_probe,
    plan_copy,
    plan_text,
    read_text_files,
)
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, FakeCocalc

P1 = '3702601d-9fbc-4e4e-b7ab-c10a79e34d3b'
P2 = '25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3'
ENOENT = "Error: ENOENT: no such file or directory, stat '/projects/%s/%s'"
SHA_A = 'a' * 64
SHA_B = 'b' * 64


# ---- batched reads ----

def item(project_id, path, content=None, error=None):
    """An item of a batched read as the 2024 hub sends it (runs-2024/course-playbook.jsonl)."""
    answer = {'path': path, 'project_id': project_id}
    if error is not None:
        answer['error'] = error
    else:
        answer['content'] = content
    return answer


def batch(project_ids, paths):
    return ApiCall('read_text_file_from_project', {'project_id': project_ids, 'path': paths})


def answer(*items):
    return {'event': 'text_file_read_from_project', 'content': list(items)}


def test_read_many_uses_one_array_call_and_classifies_items(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('read_text_file_from_project', {'project_id': [P1, P1, P2], 'path': ['a.md', 'gone.md', 'a.md']})
        .reply({'event': 'text_file_read_from_project', 'content': [
            {'project_id': P1, 'path': 'a.md', 'content': 'one'},
            {'project_id': P1, 'path': 'gone.md', 'error': ENOENT % (P1, 'gone.md')},
            {'project_id': P2, 'path': 'a.md', 'error': 'User x does not have read access to project %s' % P2},
        ]}),
    ])
    result = read_text_files(fake.client(), [(P1, 'a.md'), (P1, 'gone.md'), (P2, 'a.md'), (P1, 'a.md')])
    fake.assert_done()
    assert result[(P1, 'a.md')] == 'one'
    assert result[(P1, 'gone.md')] is None
    failure = result[(P2, 'a.md')]
    assert isinstance(failure, CocalcApiError)
    assert 'does not have read access' in str(failure) and P2 in str(failure)


def test_read_many_batches(monkeypatch):
    targets = [(P1, 'f%d' % n) for n in range(5)]
    fake = FakeCocalc(monkeypatch, [
        ApiCall('read_text_file_from_project', {'project_id': [P1, P1], 'path': ['f0', 'f1']})
        .reply({'event': 'text_file_read_from_project', 'content': [item(P1, 'f0', '0'), item(P1, 'f1', '1')]}),
        ApiCall('read_text_file_from_project', {'project_id': [P1, P1], 'path': ['f2', 'f3']})
        .reply({'event': 'text_file_read_from_project', 'content': [item(P1, 'f2', '2'), item(P1, 'f3', '3')]}),
        ApiCall('read_text_file_from_project', {'project_id': P1, 'path': 'f4'}).reply({'event': 'text_file_read_from_project', 'content': '4'}),
    ])
    result = read_text_files(fake.client(), targets, batch_size=2)
    fake.assert_done()
    assert [result[t] for t in targets] == ['0', '1', '2', '3', '4']


def test_read_many_falls_back_to_single_reads_where_arrays_are_rejected(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('read_text_file_from_project', {'project_id': [P1, P2], 'path': ['a', 'b']})
        .error('Read access denied -- invalid project_id -- %s,%s' % (P1, P2)),
        ApiCall('read_text_file_from_project', {'project_id': P1, 'path': 'a'}).reply({'event': 'text_file_read_from_project', 'content': 'A'}),
        ApiCall('read_text_file_from_project', {'project_id': P2, 'path': 'b'}).error(ENOENT % (P2, 'b')),
        # The next batch goes straight to single reads.
        ApiCall('read_text_file_from_project', {'project_id': P1, 'path': 'c'}).error('Attempt to open large file of size 12MB; ...'),
        ApiCall('read_text_file_from_project', {'project_id': P2, 'path': 'd'}).reply({'event': 'text_file_read_from_project', 'content': 'D'}),
    ])
    result = read_text_files(fake.client(), [(P1, 'a'), (P2, 'b'), (P1, 'c'), (P2, 'd')], batch_size=2)
    fake.assert_done()
    assert result == {(P1, 'a'): 'A', (P2, 'b'): None, (P1, 'c'): TOO_LARGE, (P2, 'd'): 'D'}


def test_read_many_raises_when_no_answer_arrives(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        ApiCall('read_text_file_from_project', {'project_id': [P1, P2], 'path': ['a', 'b']})
        .raises(requests.exceptions.ReadTimeout()),
    ])
    with pytest.raises(CocalcApiError, match='no answer'):
        read_text_files(fake.client(retries=0), [(P1, 'a'), (P2, 'b')])


# ---- plan_text ----

def test_plan_text_same_text_is_no_change():
    plan = plan_text('a\r\nb', 'a\r\nb')
    assert plan.changed is False and plan.diff is None


def test_plan_text_diff_like_copy():
    plan = plan_text(None, 'new\n', before_header='x.md', after_header='files/x.md')
    assert plan.changed is True
    assert plan.diff == {'before': '', 'after': 'new\n', 'before_header': 'x.md', 'after_header': 'files/x.md'}
    assert plan_text('old', 'new').diff == {'before': 'old', 'after': 'new'}


def test_plan_text_skips_large_and_binary_sides():
    big = 'x' * (_files.MAX_DIFF_BYTES + 1)
    assert plan_text(TOO_LARGE, 'y').diff == {'dst_larger': _files.MAX_DIFF_BYTES, 'after': 'y'}
    assert plan_text('bin\ufffd', big).diff == {'dst_binary': 1, 'src_larger': _files.MAX_DIFF_BYTES}
    assert plan_text('', 'nul\x00').diff == {'before': '', 'src_binary': 1}


def test_text_bytes_limits():
    assert _files.text_bytes('é' * 10) == 'é'.encode('utf-8') * 10
    assert len(_files.text_bytes('x' * _files.MAX_CONTENT_BYTES)) == _files.MAX_CONTENT_BYTES
    with pytest.raises(CocalcInputError, match='at most 1048576 bytes'):
        _files.text_bytes('x' * (_files.MAX_CONTENT_BYTES + 1))
    with pytest.raises(CocalcInputError, match='not valid UTF-8'):
        _files.text_bytes('bad \udcff surrogate')


def test_split_for_json_keeps_every_piece_under_the_budget():
    text = ('é"\\\n\x01 ' * 50000) + 'end'
    pieces = _files._split_for_json(text, 10000)
    assert ''.join(pieces) == text
    assert all(len(json.dumps(piece, ensure_ascii=False).encode('utf-8')) <= 10000 for piece in pieces)
    assert len(pieces) > 1


# ---- paths ----

@pytest.mark.parametrize('value, expected', [('a/./b/', 'a/b'), ('a/../b', 'b'), ('~/x', '~/x'), ('-rf', '-rf'), ('dir with space/f', 'dir with space/f')])
def test_check_project_path_normalises(value, expected):
    assert check_project_path(value, 'path') == expected


@pytest.mark.parametrize('value, message', [
    ('/etc/passwd', 'not absolute'), ('../x', 'leaves it'), ('a/../../x', 'leaves it'), ('..', 'leaves it'),
    ('.', 'not the home itself'), ('a/..', 'not the home itself'), ('', 'non-empty'), ('  ', 'non-empty'), ('a\x00b', 'NUL'), (3, 'non-empty'),
])
def test_check_project_path_refuses(value, message):
    with pytest.raises(CocalcInputError, match=message) as info:
        check_project_path(value, 'copy_from.path')
    assert str(info.value).startswith('copy_from.path ')


def test_check_project_path_home_when_allowed():
    assert check_project_path('sub/..', 'chdir', allow_home=True) == '.'


# ---- probe output ----

def probe_output(*trees):
    """The probe script's output for (kind, {name: (size, mtime, sha)}) pairs."""
    records = []
    for kind, files in trees:
        records.append('@' + kind)
        for name, (size, mtime, _sha) in files.items():
            records.append('S %d %s %s' % (size, mtime, name))
        for name, (_size, _mtime, sha) in files.items():
            records.append('%s  %s' % (sha, ('./' + name) if kind == 'directory' else 'the/path'))
    return ''.join(record + '\0' for record in records)


def test_parse_probe_reads_every_kind_and_odd_names():
    odd = 'new\nline and  two spaces/ü.txt'
    output = probe_output(('directory', {'a.txt': (3, '1795771807.3033035000', SHA_A), odd: (0, '1.0', SHA_B)}),
                          ('file', {'': (7, '2.5', SHA_B)}), ('missing', {}), ('other', {}))
    trees = parse_probe(output, 4)
    assert [tree.kind for tree in trees] == ['directory', 'file', 'missing', 'other']
    assert trees[0].files == {'a.txt': FileEntry(3, 1795771807.3033035, SHA_A), odd: FileEntry(0, 1.0, SHA_B)}
    assert trees[1].files == {'': FileEntry(7, 2.5, SHA_B)}


@pytest.mark.parametrize('output', ['', '@file\0', 'S 1 1 a\0', '@directory\0S 1 1.0 a\0', '@directory\0nonsense\0'])
def test_parse_probe_refuses_incomplete_output(output):
    with pytest.raises(ValueError):
        parse_probe(output, 1)


# ---- plan_copy ----

def tree(kind, **files):
    return Tree(kind, dict((name.replace('__', '/'), FileEntry(*entry)) for name, entry in files.items()))


def test_plan_copy_into_missing_target_creates_everything():
    plan = plan_copy(tree('directory', a=(1, 5.0, SHA_A), sub__b=(2, 5.0, SHA_B)), Tree('missing'), CopyOptions())
    assert plan.changed and plan.created == ['a', 'sub/b'] and plan.kind_after == 'directory'


def test_plan_copy_empty_directory_onto_missing_target_is_a_change():
    assert plan_copy(Tree('directory'), Tree('missing'), CopyOptions()).changed is True


def test_plan_copy_same_content_is_no_change_even_with_other_times():
    plan = plan_copy(tree('directory', a=(1, 5.0, SHA_A)), tree('directory', a=(1, 9.0, SHA_A), extra=(1, 1.0, SHA_B)), CopyOptions())
    assert not plan.changed and plan.created == plan.updated == plan.deleted == []
    assert set(plan.files_after) == {'a', 'extra'}


def test_plan_copy_updates_older_target_files():
    plan = plan_copy(tree('directory', a=(1, 5.0, SHA_A)), tree('directory', a=(2, 4.0, SHA_B)), CopyOptions())
    assert plan.changed and plan.updated == ['a'] and plan.files_after['a'].sha256 == SHA_A


def test_plan_copy_keeps_newer_target_files_unless_overwrite_newer():
    source, target = tree('directory', a=(1, 5.0, SHA_A)), tree('directory', a=(2, 6.0, SHA_B))
    assert plan_copy(source, target, CopyOptions()).changed is False
    assert plan_copy(source, target, CopyOptions(overwrite_newer=True)).updated == ['a']


def test_plan_copy_quick_check_skips_same_size_and_time():
    assert plan_copy(tree('file', **{'': (1, 5.0, SHA_A)}), tree('file', **{'': (1, 5.0, SHA_B)}), CopyOptions()).changed is False


def test_plan_copy_delete_missing():
    source = tree('directory', a=(1, 5.0, SHA_A))
    target = tree('directory', a=(1, 5.0, SHA_A), old=(1, 1.0, SHA_B), **{'a~': (1, 1.0, SHA_B), 'x.sage-history': (1, 1.0, SHA_B)})
    assert plan_copy(source, target, CopyOptions()).changed is False
    plan = plan_copy(source, target, CopyOptions(delete_missing=True))
    assert plan.deleted == ['a~', 'old', 'x.sage-history'] and set(plan.files_after) == {'a'}
    plan = plan_copy(source, target, CopyOptions(delete_missing=True, backup=True, exclude_history=True))
    assert plan.deleted == ['old']


def test_plan_copy_directory_over_a_file_replaces_it():
    plan = plan_copy(tree('directory', a=(1, 5.0, SHA_A)), tree('file', **{'': (1, 5.0, SHA_A)}), CopyOptions())
    assert plan.changed and plan.kind_after == 'directory' and plan.created == ['a']


def test_plan_copy_cannot_plan_a_link_source():
    assert plan_copy(Tree('other'), Tree('missing'), CopyOptions()) is None


def test_tree_info_sums_sizes():
    assert _files.tree_info(P1, 'd', 'directory', {'a': FileEntry(3, 1.0, SHA_A), 'b': FileEntry(4, 1.0, SHA_B)}) == {
        'project_id': P1, 'path': 'd', 'state': 'directory', 'size': 7, 'sha256': None}
    assert _files.tree_info(P1, 'f', 'file', {'': FileEntry(3, 1.0, SHA_A)})['sha256'] == SHA_A
    assert _files.tree_info(P1, 'f', 'missing', {}) is None


# ---- batched reads against the 2024 hub's answers (runs-2024/README.md, facts 2 and 3) ----

def test_batch_answers_in_completion_order_are_matched_by_project_and_path(monkeypatch):
    """course-playbook.jsonl 23:49:06: asked [756a README, 756a hw1, 756a hw2, 2f81 README, ...],
    answered [756a README, 2f81 README, 2f81 hw1, ...]: position says nothing."""
    fake = FakeCocalc(monkeypatch, [
        batch([P1, P1, P2], ['README.md', 'hw1.md', 'README.md'])
        .reply(answer(item(P2, 'README.md', 'two'), item(P1, 'hw1.md', error=ENOENT % (P1, 'hw1.md')),
                      item(P1, 'README.md', 'one'))),
    ])
    result = read_text_files(fake.client(), [(P1, 'README.md'), (P1, 'hw1.md'), (P2, 'README.md')])
    fake.assert_done()
    assert result == {(P1, 'README.md'): 'one', (P1, 'hw1.md'): None, (P2, 'README.md'): 'two'}


@pytest.mark.parametrize('items', [
    [item(P1, 'a', 'A')],                                            # one missing
    [item(P1, 'a', 'A'), item(P1, 'a', 'A')],                        # a duplicate
    [item(P1, 'a', 'A'), item(P2, 'c', 'C')],                        # one nobody asked for
    [{'content': 'A'}, {'content': 'B'}],                            # no project_id / path: only positions
])
def test_a_batch_that_cannot_be_matched_one_to_one_is_an_error_not_a_guess(monkeypatch, items):
    fake = FakeCocalc(monkeypatch, [batch([P1, P2], ['a', 'b']).reply(answer(*items))])
    result = read_text_files(fake.client(), [(P1, 'a'), (P2, 'b')])
    fake.assert_done()
    assert set(result) == {(P1, 'a'), (P2, 'b')}
    for value in result.values():
        assert isinstance(value, CocalcApiError) and 'cannot be matched one to one' in str(value)


def test_items_of_starting_projects_are_read_again_after_a_pause(monkeypatch):
    """course-playbook.jsonl 23:49:06: items of a starting project are {"error": {}}."""
    fake = FakeCocalc(monkeypatch, [
        batch([P1, P2, P2], ['a', 'a', 'b']).reply(answer(item(P2, 'a', error={}), item(P1, 'a', 'A'), item(P2, 'b', error={}))),
        batch([P2, P2], ['a', 'b']).reply(answer(item(P2, 'b', error={}), item(P2, 'a', error={}))),
        batch([P2, P2], ['a', 'b']).reply(answer(item(P2, 'b', error=ENOENT % (P2, 'b')), item(P2, 'a', 'A2'))),
    ])
    result = read_text_files(fake.client(), [(P1, 'a'), (P2, 'a'), (P2, 'b')])
    fake.assert_done()
    assert result == {(P1, 'a'): 'A', (P2, 'a'): 'A2', (P2, 'b'): None}
    assert fake.sleeps == [1.0, 2.0]


def test_a_project_that_never_starts_is_an_error_that_says_so_never_missing(monkeypatch):
    calls = [batch([P1, P2], ['a', 'a']).reply(answer(item(P2, 'a', error={}), item(P1, 'a', 'A')))]
    # Pauses of 1, 2, 4 and 5 s fit into a ready_wait of 12 s; the next 5 s would not.
    calls += [batch([P2], ['a']).reply(answer(item(P2, 'a', error={}))) for _n in range(4)]
    fake = FakeCocalc(monkeypatch, calls)
    client = fake.client()
    client.ready_wait = 12
    result = read_text_files(client, [(P1, 'a'), (P2, 'a')])
    fake.assert_done()
    assert fake.sleeps == [1.0, 2.0, 4.0, 5.0]
    assert result[(P1, 'a')] == 'A'
    failure = result[(P2, 'a')]
    assert isinstance(failure, ProjectNotReady)
    assert 'project %s did not become ready within 12 seconds' % P2 in str(failure)
    assert "read 'a' in project %s" % P2 in str(failure)


def test_enoent_naming_another_file_is_not_missing(monkeypatch):
    fake = FakeCocalc(monkeypatch, [
        batch([P1, P2], ['a.md', 'b.md']).reply(answer(item(P1, 'a.md', error=ENOENT % (P1, 'other.md')),
                                                       item(P2, 'b.md', error=ENOENT % (P2, 'b.md')))),
    ])
    result = read_text_files(fake.client(), [(P1, 'a.md'), (P2, 'b.md')])
    assert isinstance(result[(P1, 'a.md')], CocalcApiError)
    assert result[(P2, 'b.md')] is None


def test_single_read_waits_for_a_starting_project(monkeypatch):
    """integration-suite.jsonl 23:41:23: a call on a just-started project answers at once with
    {"event": "error", "error": "Error: unable to determine project port"}."""
    fake = FakeCocalc(monkeypatch, [
        ApiCall('read_text_file_from_project', {'project_id': P1, 'path': 'a'}).error('Error: unable to determine project port'),
        ApiCall('read_text_file_from_project', {'project_id': P1, 'path': 'a'}).error('Error: unable to determine host'),
        ApiCall('read_text_file_from_project', {'project_id': P1, 'path': 'a'}).error(ENOENT % (P1, 'a')),
    ])
    assert _files.read_text_file(fake.client(), P1, 'a') is None
    fake.assert_done()
    assert fake.sleeps == [1.0, 2.0]
