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
from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import HAS_REQUESTS
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import module_argument_spec, open_client, resource_params, run_resource
from ansible_collections.cocalc.cocalc.plugins.module_utils._course import reconcile_course
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_spec import MODULE_OPTIONS, argument_spec
from ansible_collections.cocalc.cocalc.plugins.module_utils._validate import InvalidInput, check_raw_options


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # not used
        args, problem = self._checked_args()
        if problem:
            result.update(failed=True, msg=problem)
            return result
        check_mode = bool(self._task.check_mode)
        try:
            client, warnings = open_client(args, check_mode)
        except ValueError as err:
            result.update(failed=True, msg=str(err))
            return result
        result.update(run_resource(reconcile_course, client, resource_params(args), check_mode, bool(self._task.diff), 'course'))
        warnings.extend(result.pop('warnings'))
        if warnings:
            result['warnings'] = warnings
        return result

    def _checked_args(self):
        """(the validated options, None), or (None, the text of the first problem)."""
        spec = module_argument_spec(argument_spec())
        self._task.args = self._with_task_environment(spec, self._task.args)
        try:
            # On the options as written: Ansible would turn a list given for a string into "['a', 'b']".
            check_raw_options(spec, self._task.args, data_options=('content',))
        except InvalidInput as err:
            return None, str(err)
        try:
            dummy, args = self.validate_argument_spec(argument_spec=spec, **MODULE_OPTIONS)
        except AnsibleActionFail as err:
            # Not re-raised: the error would carry the task's arguments, API key included.
            return None, to_native(err.message)
        if not HAS_REQUESTS:
            return None, 'the Python library requests is required on the controller to run cocalc.cocalc.cocalc_course'
        return args, self._find_controller_files(args)

    def _with_task_environment(self, spec, args):
        """args plus the options the task's `environment:` keyword gives through their environment fallbacks
        (COCALC_API_URL, ...). A module reads those from its process environment, which Ansible makes from
        the task's; this plugin runs in the controller, whose own environment validate_argument_spec
        reads. Options set in the task or module_defaults win, as they do for the modules."""
        environment = {}
        self._compute_environment_string(environment)
        given = {}
        for option, option_spec in spec.items():
            fallback = option_spec.get('fallback') or ()
            if args.get(option) is not None or not fallback or fallback[0] is not env_fallback:
                continue
            for variable in fallback[1]:
                if environment.get(variable) is not None:
                    given[option] = environment[variable]
                    break
        return dict(args, **given) if given else args

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
