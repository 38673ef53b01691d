# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The setup wrapper script run by real bash in a temporary home: creates/removes, chdir, quoting,
and the marker written only after success."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.cocalc.cocalc.plugins.module_utils._course_setup import setup_spec

pytestmark = pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')


def run(home, setup):
    spec = setup_spec(setup, 'alg-1')
    done = subprocess.run(['bash', '-c', spec.script()], cwd=str(home), capture_output=True, text=True, check=False,
                          env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': str(home)})
    marker = home / '.cocalc-course' / 'alg-1.setup'
    return done, (marker.read_text() if marker.exists() else None), spec


def test_runs_in_chdir_with_quoted_args_and_writes_the_marker(tmp_path):
    (tmp_path / 'sub dir').mkdir()
    done, marker, spec = run(tmp_path, {'command': 'touch', 'args': ["it's here; rm -rf x"], 'chdir': 'sub dir'})
    assert done.returncode == 0, done.stderr
    assert done.stdout == '@@cocalc.cocalc-setup run\n'
    assert (tmp_path / 'sub dir' / "it's here; rm -rf x").exists()
    assert marker == spec.digest + '\n'


def test_a_failing_command_writes_no_marker(tmp_path):
    done, marker, _spec = run(tmp_path, {'command': 'echo out; echo err >&2; exit 3', 'bash': True})
    assert done.returncode == 3
    assert done.stdout == '@@cocalc.cocalc-setup run\nout\n' and done.stderr == 'err\n'
    assert marker is None


def test_creates_skips_the_command_but_marks(tmp_path):
    (tmp_path / 'w').mkdir()
    (tmp_path / 'w' / 'flag').write_text('')
    done, marker, spec = run(tmp_path, {'command': 'touch ran', 'chdir': 'w', 'creates': 'flag'})
    assert done.returncode == 0 and done.stdout == "@@cocalc.cocalc-setup skipped: 'flag' exists\n"
    assert not (tmp_path / 'w' / 'ran').exists() and marker == spec.digest + '\n'


def test_removes_runs_only_when_the_path_exists(tmp_path):
    done, marker, _spec = run(tmp_path, {'command': 'touch ran', 'removes': 'todo'})
    assert done.stdout == "@@cocalc.cocalc-setup skipped: 'todo' does not exist\n" and not (tmp_path / 'ran').exists()
    assert marker is not None
    (tmp_path / 'todo').write_text('')
    shutil.rmtree(str(tmp_path / '.cocalc-course'))
    done, marker, _spec = run(tmp_path, {'command': 'touch ran', 'removes': 'todo'})
    assert done.stdout == '@@cocalc.cocalc-setup run\n' and (tmp_path / 'ran').exists()


def test_a_bash_script_keeps_its_own_shell_features(tmp_path):
    done, marker, _spec = run(tmp_path, {'command': 'for i in 1 2; do echo "$i" >> n; done\nexit 0', 'bash': True})
    assert done.returncode == 0 and (tmp_path / 'n').read_text() == '1\n2\n' and marker is not None
