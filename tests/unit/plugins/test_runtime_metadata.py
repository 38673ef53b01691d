# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/runtime.yml must list every module in the `cocalc` action group, or module_defaults
for group/cocalc.cocalc.cocalc silently skip it (the kubernetes.core#1216 failure)."""

from __future__ import annotations

import os

import yaml

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def _modules():
    directory = os.path.join(COLLECTION_ROOT, 'plugins', 'modules')
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith('.py') and not name.startswith('_'))


def _runtime():
    with open(os.path.join(COLLECTION_ROOT, 'meta', 'runtime.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def test_every_module_is_in_the_action_group():
    group = _runtime()['action_groups']['cocalc']
    missing = [name for name in _modules() if name not in group]
    assert not missing, 'modules missing from action group cocalc in meta/runtime.yml: %s' % ', '.join(missing)


def test_action_group_names_only_existing_modules():
    group = _runtime()['action_groups']['cocalc']
    unknown = [name for name in group if name not in _modules()]
    assert not unknown, 'meta/runtime.yml action group cocalc names modules that do not exist: %s' % ', '.join(unknown)


def test_action_group_is_sorted_without_duplicates():
    group = _runtime()['action_groups']['cocalc']
    assert group == sorted(set(group))


def test_requires_ansible():
    assert _runtime()['requires_ansible'] == '>=2.17.0'
