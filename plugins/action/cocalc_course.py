# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of cocalc.cocalc.cocalc_course: the whole reconciliation in the controller process.

Every call goes from the controller to the API anyway, so running _course.py here saves the module's
interpreter start-up and argument transfer, and lets the roster and handout sources be found like
ansible.builtin.copy finds src (a role's files/ directory). Same options, checks, check mode, diff
and result as the module file, which stays usable on its own.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import CONNECTION_OPTIONS, HAS_REQUESTS, CocalcClient, connection_argument_spec
from ansible_collections.cocalc.cocalc.plugins.module_utils._course import MODULE_OPTIONS, argument_spec, reconcile_course
from ansible_collections.cocalc.cocalc.plugins.module_utils._validate import InvalidInput, check_raw_options
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import call_resource, error_result, plain_http_warning, result_of


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # not used
        spec = connection_argument_spec()
        spec.update(argument_spec())
        try:
            # On the options as written: Ansible would turn a list given for a string into "['a', 'b']".
            check_raw_options(spec, self._task.args, data_options=('content',))
        except InvalidInput as err:
            result.update(failed=True, msg=str(err))
            return result
        try:
            dummy, args = self.validate_argument_spec(argument_spec=spec, **MODULE_OPTIONS)
        except AnsibleActionFail as err:
            # Not re-raised: the error would carry the task's arguments, API key included.
            result.update(failed=True, msg=to_native(err.message))
            return result
        if not HAS_REQUESTS:
            result.update(failed=True, msg='the Python library requests is required on the controller to run cocalc.cocalc.cocalc_course')
            return result
        problem = self._find_controller_files(args)
        if problem:
            result.update(failed=True, msg=problem)
            return result
        check_mode = bool(self._task.check_mode)
        try:
            client = CocalcClient.from_params(args)
        except ValueError as err:
            result.update(failed=True, msg=str(err))
            return result
        client.check_mode = check_mode
        params = dict((key, value) for key, value in args.items() if key not in CONNECTION_OPTIONS)
        outcome, failure = call_resource(reconcile_course, client, params, check_mode)
        if failure is not None:
            result.update(failed=True, **error_result(failure))
            return result
        result.update(result_of(outcome, 'course', bool(self._task.diff)))
        warnings = list(outcome.warnings)
        http_warning = plain_http_warning(client.api_url)
        if http_warning:
            warnings.append(http_warning)
        if warnings:
            result['warnings'] = warnings
        if outcome.failure:
            result.update(failed=True, msg=outcome.failure)
        return result

    def _find_controller_files(self, args):
        """Resolve roster and handouts[].src like ansible.builtin.copy's src; an error text or None."""
        try:
            if args.get('roster') is not None:
                args['roster'] = self._find_needle('files', args['roster'])
            for index, handout in enumerate(args.get('handouts') or []):
                if handout.get('src') is not None:
                    try:
                        handout['src'] = self._find_needle('files', handout['src'])
                    except AnsibleError as err:
                        return 'handouts[%d].src %s: %s' % (index, handout['src'], to_native(err.message))
        except AnsibleError as err:
            return 'roster %s: %s' % (args['roster'], to_native(err.message))
        return None
