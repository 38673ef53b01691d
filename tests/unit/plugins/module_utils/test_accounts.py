# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The account resolver of _accounts (whoami, emails -> accounts with the roster batching)
against the fake transport (exact calls)."""

from __future__ import annotations

from unittest.mock import ANY

from ansible_collections.cocalc.cocalc.plugins.module_utils import _accounts
from ansible_collections.cocalc.cocalc.plugins.module_utils._accounts import accounts_by_email
from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, FakeCocalc

AID = '25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3'


def search_reply(rows):
    return {'event': 'user_search_results', 'results': rows}


def test_accounts_by_email_maps_lower_case_and_skips_misses(monkeypatch):
    row = {'account_id': AID, 'first_name': 'Ada', 'last_name': 'L', 'email_address': 'ada@example.org'}
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', {'query': 'ada@example.org,nobody@example.org', 'limit': 2})
                                    .reply(search_reply([row]))])
    found = accounts_by_email(fake.client(), ['Ada@Example.org', ' ada@example.org', 'nobody@example.org'])
    assert found == {'ada@example.org': row}
    fake.assert_done()


def rows_for(emails):
    return [{'account_id': 'id-%s' % e, 'email_address': e} for e in emails]


def test_accounts_by_email_asks_for_a_whole_roster_in_one_call(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(250)]
    with_account = emails[:180]   # more rows than the cap: the server clearly did not cap email hits
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', {'query': ','.join(emails), 'limit': 250})
                                    .reply(search_reply(rows_for(with_account)))])
    found = accounts_by_email(fake.client(), emails)
    fake.assert_done()
    assert sorted(found) == with_account


def test_accounts_by_email_asks_again_when_an_answer_fills_the_cap(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(120)]
    # A server that counts email hits against its 50-row cap: 50, then 50, then the last 20 (fewer than the cap: done).
    calls = [ApiCall('user_search', {'query': ','.join(emails[i:]), 'limit': 120 - i}).reply(search_reply(rows_for(emails[i:i + 50])))
             for i in (0, 50, 100)]
    fake = FakeCocalc(monkeypatch, calls)
    found = accounts_by_email(fake.client(), emails)
    fake.assert_done()
    assert sorted(found) == emails


def test_accounts_by_email_full_cap_then_misses(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(60)]
    calls = [ApiCall('user_search', {'query': ','.join(emails), 'limit': 60}).reply(search_reply(rows_for(emails[:50]))),
             ApiCall('user_search', {'query': ','.join(emails[50:]), 'limit': 10}).reply(search_reply([]))]
    fake = FakeCocalc(monkeypatch, calls)
    assert sorted(accounts_by_email(fake.client(), emails)) == emails[:50]
    fake.assert_done()


def test_accounts_by_email_stops_when_a_full_answer_brings_nothing_new(monkeypatch):
    emails = ['u%03d@ex.org' % n for n in range(60)]
    strangers = [{'account_id': 'x%d' % n, 'email_address': 'other%d@ex.org' % n} for n in range(50)]
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', ANY).reply(search_reply(strangers))])
    assert accounts_by_email(fake.client(), emails) == {}
    fake.assert_done()


def test_accounts_by_email_batches_by_length(monkeypatch):
    emails = ['%s%04d@example.org' % ('x' * 80, n) for n in range(600)]  # 97 characters each
    fake = FakeCocalc(monkeypatch, [ApiCall('user_search', ANY).reply(search_reply([])), ApiCall('user_search', ANY).reply(search_reply([]))])
    assert accounts_by_email(fake.client(), emails) == {}
    fake.assert_done()
    queries = [r['body']['query'] for r in fake.requests]
    assert all(len(q) <= _accounts.USER_SEARCH_QUERY_CHARS for q in queries)
    assert ','.join(queries).split(',') == emails


def test_accounts_by_email_of_nothing_makes_no_call(monkeypatch):
    fake = FakeCocalc(monkeypatch, [])
    assert accounts_by_email(fake.client(), []) == {}
    assert fake.requests == []
