# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of cocalc_public_path_info with the fake transport."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.cocalc.cocalc.plugins.modules import cocalc_public_path_info
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, run_module_failed, run_module_success

PID = '2ffbcbec-351d-4e94-bb3c-1e103298e2fb'
FIELDS = ('id', 'project_id', 'path', 'description', 'disabled', 'unlisted')


def sha(path):
    return hashlib.sha1((PID + path).encode('utf-8')).hexdigest()


def read_spec(authenticated=True):
    spec = dict((field, None) for field in FIELDS + (('authenticated',) if authenticated else ()))
    spec['project_id'] = PID
    return {'query': {'public_paths': [spec]}}


def read(rows, authenticated=True):
    return ApiCall('query', read_spec(authenticated)).reply({'query': {'public_paths': rows}, 'multi_response': False, 'event': 'query'})


ROWS = [
    {'project_id': PID, 'path': 'handouts', 'description': 'Week 1', 'id': sha('handouts'), 'authenticated': True},
    {'project_id': PID, 'path': 'handouts/', 'id': sha('handouts/'), 'disabled': True, 'unlisted': True},
]
EXPECTED = [
    {'id': sha('handouts'), 'project_id': PID, 'path': 'handouts', 'description': 'Week 1', 'unlisted': False,
     'disabled': False, 'authenticated': True},
    {'id': sha('handouts/'), 'project_id': PID, 'path': 'handouts/', 'description': '', 'unlisted': True,
     'disabled': True, 'authenticated': False},
]


def test_lists_all_rows_with_defaults_filled_in(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path_info, {'project_id': PID}, [read(ROWS)])
    assert result['changed'] is False
    assert result['public_paths'] == EXPECTED
    assert 'listing' not in result and 'texts' not in result


def test_no_public_paths(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path_info, {'project_id': PID}, [read([])])
    assert result['public_paths'] == []


def test_path_selects_the_exact_row(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path_info, {'project_id': PID, 'path': 'handouts/'}, [read(ROWS)])
    assert result['public_paths'] == [EXPECTED[1]]


def test_old_server_without_authenticated_is_read_again_without_it(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path_info, {'project_id': PID}, [
        ApiCall('query', read_spec()).error('FATAL: user get query not allowed for public_paths.authenticated'),
        read([dict((k, v) for k, v in ROWS[0].items() if k != 'authenticated')], authenticated=False),
    ])
    assert result['public_paths'] == [dict((k, v) for k, v in EXPECTED[0].items() if k != 'authenticated')]


def test_other_read_errors_are_not_retried(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path_info, {'project_id': PID}, [
        ApiCall('query', read_spec()).error('FATAL: something else'),
    ])
    assert result['msg'] == ("Could not read the public paths of project %s: API call 'query' failed (HTTP 200, event 'error'): "
                             "FATAL: something else" % PID)


def test_check_mode_reads_the_same(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path_info, {'project_id': PID}, [read(ROWS)], check_mode=True)
    assert result['public_paths'] == EXPECTED


def test_listing_and_texts_on_a_guide_era_server(monkeypatch):
    files = [{'name': 'README.md', 'size': 9, 'mtime': 1726000000}, {'name': 'data', 'isdir': True, 'mtime': 1726000001}]
    result = run_module_success(monkeypatch, cocalc_public_path_info, {
        'project_id': PID, 'listing_path': 'handouts', 'listing_hidden': True, 'text_paths': ['handouts/README.md', 'handouts/b.txt'],
    }, [
        read(ROWS),
        ApiCall('public_get_directory_listing', {'project_id': PID, 'path': 'handouts', 'hidden': True})
        .reply({'event': 'public_directory_listing', 'id': 'x', 'result': {'files': files}}),
        ApiCall('public_get_text_file', {'project_id': PID, 'path': 'handouts/README.md'})
        .reply({'event': 'public_text_file_contents', 'id': 'x', 'data': '# Week 1\n'}),
        ApiCall('public_get_text_file', {'project_id': PID, 'path': 'handouts/b.txt'})
        .reply({'event': 'public_text_file_contents', 'id': 'x', 'data': ''}),
    ])
    assert result['listing'] == files
    assert result['texts'] == {'handouts/README.md': '# Week 1\n', 'handouts/b.txt': ''}


def test_text_paths_are_sent_normalised_and_returned_as_given(monkeypatch):
    result = run_module_success(monkeypatch, cocalc_public_path_info, {'project_id': PID, 'text_paths': ['./handouts//a.md']}, [
        read(ROWS),
        ApiCall('public_get_text_file', {'project_id': PID, 'path': 'handouts/a.md'})
        .reply({'event': 'public_text_file_contents', 'id': 'x', 'data': 'A'}),
    ])
    assert result['texts'] == {'./handouts//a.md': 'A'}


@pytest.mark.parametrize('listing_path', ['', '.', './'])
def test_listing_of_the_home_directory(monkeypatch, listing_path):
    result = run_module_success(monkeypatch, cocalc_public_path_info, {'project_id': PID, 'listing_path': listing_path}, [
        read(ROWS),
        ApiCall('public_get_directory_listing', {'project_id': PID, 'path': '', 'hidden': False})
        .reply({'event': 'public_directory_listing', 'id': 'x', 'result': {'files': []}}),
    ])
    assert result['listing'] == []


def test_listing_on_a_2024_server_fails_clearly(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path_info, {'project_id': PID, 'listing_path': 'handouts'}, [
        read(ROWS),
        ApiCall('public_get_directory_listing', {'project_id': PID, 'path': 'handouts', 'hidden': False})
        .reject("unknown endpoint 'public_get_directory_listing'"),
    ])
    assert result['msg'].startswith("Could not list the public directory 'handouts' of project %s" % PID)
    assert 'CoCalc removed public_get_directory_listing from API v1 in July 2021' in result['msg']
    assert result['api_error']['http_status'] == 400


def test_text_on_a_2024_server_fails_clearly(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path_info, {'project_id': PID, 'text_paths': ['handouts/a.md']}, [
        read(ROWS),
        ApiCall('public_get_text_file', {'project_id': PID, 'path': 'handouts/a.md'}).reject("unknown endpoint 'public_get_text_file'"),
    ])
    assert 'CoCalc removed public_get_text_file from API v1 in July 2021' in result['msg']


def test_listing_without_any_public_path(monkeypatch):
    result = run_module_failed(monkeypatch, cocalc_public_path_info, {'project_id': PID, 'listing_path': ''}, [
        read([]),
        ApiCall('public_get_directory_listing', {'project_id': PID, 'path': '', 'hidden': False}).error('not_public'),
    ])
    assert result['msg'].endswith('not_public (project %s has no enabled public path)' % PID)


def test_private_text_names_the_fix(monkeypatch):
    text = "path 'secret.txt' of project with id '%s' is not public" % PID
    result = run_module_failed(monkeypatch, cocalc_public_path_info, {'project_id': PID, 'text_paths': ['secret.txt']}, [
        read([]),
        ApiCall('public_get_text_file', {'project_id': PID, 'path': 'secret.txt'}).error(text),
    ])
    assert text + ' (publish it first' in result['msg']


@pytest.mark.parametrize('options, fragment', [
    ({'project_id': 'x'}, 'project_id must be a UUID'),
    ({'project_id': PID, 'path': '/abs'}, 'path must be relative to the project home'),
    ({'project_id': PID, 'listing_path': '../up'}, 'listing_path must stay inside the project home'),
    ({'project_id': PID, 'path': 'a/../b'}, "path must not contain '..'"),
    ({'project_id': PID, 'text_paths': ['ok.md', '/etc/passwd']}, 'text_paths[1] must be relative'),
    ({'project_id': PID, 'text_paths': ['']}, 'text_paths[0] must be a non-empty path'),
    ({}, 'missing required arguments: project_id'),
])
def test_bad_input_fails_before_any_call(monkeypatch, options, fragment):
    result = run_module_failed(monkeypatch, cocalc_public_path_info, options, [])
    assert fragment in result['msg']
