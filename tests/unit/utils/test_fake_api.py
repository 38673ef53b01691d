# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fake transport must catch what it promises to catch, or module tests prove nothing."""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from ansible_collections.cocalc.cocalc.tests.unit.utils.fake_api import ApiCall, FakeCocalc, parse_form

PONG = {'event': 'pong'}


def run(monkeypatch, calls, action, **client_kwargs):
    fake = FakeCocalc(monkeypatch, calls)
    action(fake.client(**client_kwargs))
    fake.assert_done()


@pytest.mark.parametrize('calls, action, fragment', [
    ([], lambda c: c.ping(), 'unexpected API call #1 ping'),
    ([ApiCall('ping').reply(PONG)], lambda c: c.call('user_search', query='x'), 'url differs'),
    ([ApiCall('user_search', {'query': 'x'}).reply(PONG)], lambda c: c.call('user_search', query='y'), 'body differs'),
    ([ApiCall('ping').expect_form().reply(PONG)], lambda c: c.ping(), 'content type differs'),
    ([ApiCall('ping').expect_auth('sk_SomeOtherKey000000').reply(PONG)], lambda c: c.ping(), 'auth user (the key) differs'),
    ([ApiCall('ping').expect_timeout(99).reply(PONG)], lambda c: c.ping(), 'timeout differs'),
    ([ApiCall('ping').expect_verify(False).reply(PONG)], lambda c: c.ping(), 'verify differs'),
    ([ApiCall('ping')], lambda c: c.ping(), 'has no reply'),
    ([ApiCall('ping').reply(PONG), ApiCall('ping').reply(PONG)], lambda c: c.ping(), 'only 1 of 2 expected API calls'),
])
def test_mismatches_fail_the_test(monkeypatch, calls, action, fragment):
    with pytest.raises(AssertionError, match=fragment.replace('(', r'\(').replace(')', r'\)')):
        run(monkeypatch, calls, action)


def test_out_of_order_calls_fail(monkeypatch):
    calls = [ApiCall('user_search', {'query': 'a'}).reply(PONG), ApiCall('ping').reply(PONG)]
    with pytest.raises(AssertionError, match='url differs'):
        run(monkeypatch, calls, lambda c: (c.ping(), c.call('user_search', query='a')))


def test_any_matches_bodies_and_values(monkeypatch):
    run(monkeypatch, [ApiCall('user_search', ANY).reply(PONG), ApiCall('user_search', {'query': ANY, 'limit': 5}).reply(PONG)],
        lambda c: (c.call('user_search', query='q'), c.call('user_search', query='r', limit=5)))


def test_parse_form_reads_qs_extended_syntax():
    assert parse_form('a=1&b[c]=x%20y&d[]=1&d[]=2&e[f][g]=h+i') == {'a': '1', 'b': {'c': 'x y'}, 'd': ['1', '2'], 'e': {'f': {'g': 'h i'}}}
