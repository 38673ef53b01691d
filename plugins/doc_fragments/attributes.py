# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Attribute fragments: each module states check_mode / diff_mode support in its own docs."""

from __future__ import annotations


class ModuleDocFragment(object):

    # Base fragment: describes the attributes; a module sets their support.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
'''

    # Every module taking the connection options.
    ACTIONGROUP_COCALC = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/cocalc.cocalc.cocalc) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - cocalc.cocalc.cocalc
'''

    # Use together with DOCUMENTATION for modules that only read.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
'''

    # Use together with DOCUMENTATION for modules that fully predict changes in check mode and return a diff.
    CHECK_AND_DIFF_FULL = r'''
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
'''
