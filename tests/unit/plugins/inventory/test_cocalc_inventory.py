# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the pure parts of the inventory plugin cocalc.cocalc.cocalc: course markers, host names, filters."""

from __future__ import annotations

from ansible.plugins.loader import inventory_loader

from ansible_collections.cocalc.cocalc.plugins.inventory.cocalc import choose_hostnames, course_key, group_name, host_vars, select
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import API_KEY, API_URL, ApiCall, FakeCocalc

ME = 'e77ab9a4-5484-49a3-8ace-aaa4ae910c40'


def row(pid, title, name=None, description='', state=None, deleted=False, hide=False):
    return dict(project_id=pid, title=title, name=name, description=description, deleted=deleted,
                state=dict(state=state) if state else None, users={ME: dict(group='owner', hide=hide)})


def test_course_key_from_name_then_description():
    assert course_key(row('a', 't', name='Alg-2026.s1')) == ('alg-2026', 's1')
    assert course_key(row('a', 't', description='x\n\n<!-- cocalc.cocalc course key: alg.bob_x -->')) == ('alg', 'bob_x')
    assert course_key(row('a', 't', name='plain')) == (None, None)


def test_host_vars():
    item = host_vars(row('p1', 'S1 - Alg', name='alg.s1', state='running', hide=True), ME)
    assert item['cocalc_project_id'] == 'p1'
    assert item['cocalc_state'] == 'running'
    assert item['cocalc_hidden'] is True
    assert item['cocalc_users'] == {ME: 'owner'}
    assert host_vars(row('p2', 'x'), ME)['cocalc_state'] == 'opened'


def test_hostnames_unique_and_independent_of_order():
    rows = [row('p1', 'Same Title'), row('p2', 'Same Title'), row('p3', 'S3 - Alg', name='alg.s3'), row('p4', 'Other')]
    items = [host_vars(r, ME) for r in rows]
    names = choose_hostnames(items, ['name', 'title_slug', 'project_id'])
    assert names == {'p1': 'p1', 'p2': 'p2', 'p3': 'alg.s3', 'p4': 'other'}
    assert choose_hostnames(list(reversed(items)), ['name', 'title_slug', 'project_id']) == names
    assert choose_hostnames(items, ['title_slug'])['p3'] == 's3-alg'


def test_filters():
    rows = [row('p1', 'S1 - Alg', name='alg.s1', state='running'), row('p2', 'S2 - Alg', name='alg.s2', deleted=True),
            row('p3', 'S3 - Alg', name='alg.s3', hide=True), row('p4', 'Bio', name='bio.s1')]
    items = [host_vars(r, ME) for r in rows]
    assert [i['cocalc_project_id'] for i in select(items, course_id='ALG')] == ['p1']
    assert [i['cocalc_project_id'] for i in select(items, course_id='alg', include_hidden=True, include_deleted=True)] == ['p1', 'p2', 'p3']
    assert [i['cocalc_project_id'] for i in select(items, title='^Bio')] == ['p4']
    assert [i['cocalc_project_id'] for i in select(items, states=['running'])] == ['p1']


def test_group_names_are_sanitised():
    assert group_name('course_', 'alg-2026') == 'course_alg_2026'


# ---- the reads, with the fake transport ----

def inventory_plugin(**options):
    plugin = inventory_loader.get('cocalc.cocalc.cocalc')
    direct = dict(plugin='cocalc.cocalc.cocalc', api_url=API_URL, api_key=API_KEY)
    direct.update(options)
    plugin.set_options(direct=direct)
    return plugin


def test_fetch_reads_the_account_and_all_projects_in_two_calls(monkeypatch):
    for name in ('COCALC_API_URL', 'COCALC_API_KEY', 'COCALC_API_VERSION'):
        monkeypatch.delenv(name, raising=False)
    projects = [row('p1', 'S1 - Alg', name='alg.s1', state='running')]
    fake = FakeCocalc(monkeypatch, [
        ApiCall('query', {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None,
                                                 'groups': None}}}).expect_timeout(12).reply(
            {'event': 'query', 'query': {'accounts': {'account_id': ME}}}),
        ApiCall('query', {'query': {'projects_all': [{'project_id': None, 'name': None, 'title': None, 'description': None,
                                                      'users': None, 'state': None, 'deleted': None}]}}).expect_timeout(12).reply(
            {'event': 'query', 'query': {'projects_all': projects}}),
    ])
    data = inventory_plugin(api_timeout=12)._fetch()  # pylint: disable=protected-access
    assert data == {'me': ME, 'rows': projects}
    fake.assert_done()


def test_api_version_current_reads_through_user_query_and_says_so_at_v(monkeypatch):
    for name in ('COCALC_API_URL', 'COCALC_API_KEY', 'COCALC_API_VERSION'):
        monkeypatch.delenv(name, raising=False)
    plugin = inventory_plugin(api_version='current')
    shown = []
    monkeypatch.setattr(plugin.display, 'v', shown.append)
    projects = [row('p1', 'S1 - Alg', name='alg.s1', state='running')]
    fake = FakeCocalc(monkeypatch, [
        ApiCall('user-query', {'query': {'accounts': {'account_id': None, 'email_address': None, 'first_name': None, 'last_name': None,
                                                      'groups': None}}}).expect_url(API_URL + '/api/v2/user-query').reply(
            {'query': {'accounts': {'account_id': ME}}}),
        ApiCall('user-query', {'query': {'projects_all': [{'project_id': None, 'name': None, 'title': None, 'description': None,
                                                           'users': None, 'state': None, 'deleted': None}]}}).expect_url(
            API_URL + '/api/v2/user-query').reply({'query': {'projects_all': projects}}),
    ])
    assert plugin._fetch() == {'me': ME, 'rows': projects}  # pylint: disable=protected-access
    fake.assert_done()
    assert shown == ['cocalc.cocalc.cocalc inventory: %s spoke CoCalc API current' % API_URL]
