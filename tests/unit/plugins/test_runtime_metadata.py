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


def _tested_cores():
    """The ansible-core releases of tests/utils/versions, the one place the tested versions are pinned."""
    with open(os.path.join(COLLECTION_ROOT, 'tests', 'utils', 'versions'), encoding='utf-8') as handle:
        rows = [line.split() for line in handle if line.strip() and not line.lstrip().startswith('#')]
    return [tuple(int(part) for part in row[0].split('.')[:2]) for row in rows]


def test_requires_ansible_is_exactly_what_is_tested():
    cores = _tested_cores()
    oldest, newest = min(cores), max(cores)
    assert _runtime()['requires_ansible'] == '>=%d.%d.0,<%d.%d.0' % (oldest + (newest[0], newest[1] + 1))
    # Every minor release in between is tested too: no gap the range would claim.
    assert sorted(cores) == [(oldest[0], minor) for minor in range(oldest[1], newest[1] + 1)]


def test_readme_requirements_name_every_tested_core():
    with open(os.path.join(COLLECTION_ROOT, 'README.md'), encoding='utf-8') as handle:
        readme = handle.read()
    requirements = readme.split('## Requirements', 1)[1].split('\n## ', 1)[0]
    missing = ['%d.%d' % core for core in _tested_cores() if 'ansible-core %d.%d' % core not in requirements]
    assert not missing, 'README Requirements do not name ansible-core %s' % ', '.join(missing)
