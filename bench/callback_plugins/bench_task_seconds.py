# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper, not part of the collection: writes each task's wall seconds to a JSON file.

bench/run_bench.py enables it (ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_task_seconds) with BENCH_TASK_SECONDS=<file>, to tell the cocalc_course
task's own time from Ansible's fixed cost of running a playbook with a collection task in it.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: bench_task_seconds
type: aggregate
short_description: Write each task's wall seconds to the JSON file named by BENCH_TASK_SECONDS
description: A benchmark helper of this repository, not a plugin of the collection.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_task_seconds'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = {}
        self._seconds = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.monotonic()  # pylint: disable=protected-access

    def _done(self, result, *args, **kwargs):
        task = result._task  # pylint: disable=protected-access
        started = self._started.pop(task._uuid, None)  # pylint: disable=protected-access
        if started is not None:
            self._seconds.append({'task': task.get_name(), 'action': task.action, 'seconds': time.monotonic() - started})

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = _done

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('BENCH_TASK_SECONDS')
        if path:
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(self._seconds, handle)
