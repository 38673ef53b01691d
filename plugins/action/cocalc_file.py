# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of cocalc.cocalc.cocalc_file: reads ``src`` on the controller, like ansible.builtin.copy.

The module may run on another host (it only talks HTTP), so the controller file is read here and
handed to the module as ``content``; ``src`` stays set (as the resolved path) for the diff header.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcInputError
from ansible_collections.cocalc.cocalc.plugins.module_utils._texts import MAX_CONTENT_BYTES, read_controller_text


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # not used
        args = dict(self._task.args)
        if args.get('src') is not None:
            problem = self._read_src(args)
            if problem:
                result.update(failed=True, msg=problem)
                return result
        result.update(self._execute_module(module_name='cocalc.cocalc.cocalc_file', module_args=args, task_vars=task_vars))
        return result

    def _read_src(self, args):
        """Replace args['src'] by its resolved path and set args['content']; return an error text or None."""
        others = [name for name in ('content', 'copy_from') if args.get(name) is not None]
        if others:
            return 'parameters are mutually exclusive: src|%s' % '|'.join(others)
        src = args['src']
        if not isinstance(src, str) or not src:
            return 'src must be the path of a file on the controller, got %r' % (src,)
        try:
            local = self._find_needle('files', src)
        except AnsibleError as err:
            return 'src %s: %s' % (src, to_native(err))
        try:
            args['content'] = read_controller_text(local, 'src', limit=MAX_CONTENT_BYTES)
        except CocalcInputError as err:
            return str(err)
        args['src'] = local
        return None
