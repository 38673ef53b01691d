# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The API v1 backend (the guide's era and hubs up to 2024): every operation is the endpoint of
the same name, ``POST /api/v1/<operation>`` with the body as given, and its answer is the contract
as it is (see _api.OPERATIONS)."""

from __future__ import annotations


class V1Backend(object):
    """Operations -> API v1 calls: the identity."""

    name = 'v1'

    @staticmethod
    def run(client, operation, payload, how):
        return client.post('/api/v1/' + operation, payload, operation, how)
