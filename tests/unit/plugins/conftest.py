# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils import _project

# The creation token every create_project call carries in the unit tests (a fixed one, so exact-call
# assertions can name the body).
TOKEN = 'tok0'


@pytest.fixture(autouse=True)
def fixed_creation_token(monkeypatch):
    monkeypatch.setattr(_project, 'new_creation_token', lambda: TOKEN)
