# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper filters: `serve stats` of any era with the API v1 operation names the targets count by, and
`serve faults` specs naming API v1 operations turned into the names of the server's era.

Era 2026 counts calls by v2 route or conat function; the targets count writes, execs and reads by the v1
operation. The table is tests/utils/call_stats.py's (shared with the demo and the bench), found in the
collection tree this file runs from (ansible-test runs targets from a copy under tests/output).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os


def _call_stats():
    here = os.path.dirname(os.path.abspath(__file__))
    while here != os.path.dirname(here):
        candidate = os.path.join(here, 'tests', 'utils', 'call_stats.py')
        if os.path.exists(candidate):
            spec = importlib.util.spec_from_file_location('cocalc_call_stats', candidate)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        here = os.path.dirname(here)
    raise RuntimeError('cocalc_v1_stats: tests/utils/call_stats.py not found above %s' % __file__)


def cocalc_v1_stats(stats):
    """{v1 operation: {calls, http_status, [gets, sets]}} from `serve stats` of any era (v1 eras unchanged)."""
    return _call_stats().by_operation(stats)


def cocalc_era_fault_spec(spec, era):
    """A `serve faults` spec naming API v1 operations, with the names of the server's era."""
    return _call_stats().fault_spec_for_era(spec, era)


class FilterModule:
    def filters(self):
        return {'cocalc_v1_stats': cocalc_v1_stats, 'cocalc_era_fault_spec': cocalc_era_fault_spec}
