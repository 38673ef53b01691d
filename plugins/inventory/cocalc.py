# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: cocalc
short_description: CoCalc projects as inventory hosts
version_added: 0.1.0
description:
  - Makes every CoCalc project the account of O(api_key) can see a host, so that plays run inside the projects
    through the connection plugin P(cocalc.cocalc.cocalc#connection).
  - Reads the projects in one C(projects_all) query (plus one query for the key's own account), cached with
    Ansible's inventory cache when that is enabled.
  - Projects of a course made by M(cocalc.cocalc.cocalc_course) are recognised by their course marker (the
    project name C(<course_id>.<student>), or the marker line in the description on servers without names).
  - The inventory file must end in C(.cocalc.yml) or C(.cocalc.yaml).
  - "Default groups: C(course_<course_id>) for the projects of a course and C(cocalc_<state>) for the state of
    each project (for example C(cocalc_running)), with characters that are not valid in group names replaced by
    C(_)."
  - "Host variables: C(cocalc_project_id), C(cocalc_title), C(cocalc_name), C(cocalc_state), C(cocalc_users)
    (account ID to group), C(cocalc_course_id) and C(cocalc_student_id) (both null for projects of no course),
    C(cocalc_deleted) and C(cocalc_hidden)."
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - cocalc.cocalc.lookup_connection
options:
  plugin:
    description: Marks the file as an inventory of this plugin.
    type: str
    required: true
    choices: [cocalc.cocalc.cocalc]
  hostnames:
    description:
      - How hosts are named, in order of preference. V(name) is the project's name (on servers that have names),
        V(title_slug) its title in lower case with every run of characters other than letters, digits, C(.) and
        C(_) replaced by one C(-) (V(S1 - Algebra) becomes V(s1-algebra)), V(project_id) its ID.
      - A host gets the first of these that it has and that no other host of the inventory also gets; the
        project ID is always unique, so it is the last resort. Names do not depend on the order of the
        server's answer.
    type: list
    elements: str
    choices: [name, title_slug, project_id]
    default: [name, title_slug, project_id]
  course_id:
    description:
      - Only the projects of this course (the O(cocalc.cocalc.cocalc_course#module:course_id) given to
        M(cocalc.cocalc.cocalc_course)), compared without regard to case.
    type: str
  title:
    description: Only projects whose title matches this Python regular expression (C(re.search)).
    type: str
  states:
    description:
      - Only projects in one of these states (for example V(running), V(opened), V(starting)); a project whose
        server reports no state counts as V(opened).
    type: list
    elements: str
  include_hidden:
    description: Also projects the account has hidden from its project list.
    type: bool
    default: false
  include_deleted:
    description: Also deleted projects.
    type: bool
    default: false
  set_connection:
    description:
      - Set C(ansible_connection=cocalc.cocalc.cocalc) and C(cocalc_project_id) for every host. Turn off to use
        the hosts with another connection (for example only to run M(cocalc.cocalc.cocalc_file) tasks for them
        on localhost).
    type: bool
    default: true
notes:
  - Keep the key out of the inventory file; set E(COCALC_API_KEY) (and E(COCALC_API_URL)), which the
    connection plugin reads as well.
  - "API generations: works the same on current CoCalc (api/v2 and conat); the projects are read with
    C(user-query) (API v1's C(query))."
'''

EXAMPLES = r'''
# course.cocalc.yml: the student projects of one course, grouped per state
plugin: cocalc.cocalc.cocalc
course_id: algebra-2026
hostnames: [name, project_id]
keyed_groups:
  - key: cocalc_title.split(' - ')[0] | lower | regex_replace('[^a-z0-9]+', '_')
    prefix: student
# then: ansible-inventory -i course.cocalc.yml --graph
#       ansible -i course.cocalc.yml course_algebra_2026 -m ansible.builtin.ping
'''

import re

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import HAS_REQUESTS
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcError
from ansible_collections.cocalc.cocalc.plugins.module_utils._project import MARKER_RE, read_projects
from ansible_collections.cocalc.cocalc.plugins.plugin_utils._client import generation_line, make_client

FIELDS = ('name', 'title', 'description', 'users', 'state', 'deleted')
_SLUG_RE = re.compile(r'[^a-z0-9._]+')
_GROUP_RE = re.compile(r'[^A-Za-z0-9_]')


def title_slug(title):
    return _SLUG_RE.sub('-', (title or '').lower()).strip('-')


def course_key(row):
    """(course_id, student_id) from the project's course marker (name first, then description), or (None, None)."""
    candidates = [row.get('name') or '']
    match = MARKER_RE.search(row.get('description') or '')
    if match:
        candidates.append(match.group(1))
    for key in candidates:
        course, dot, student = key.lower().partition('.')
        if dot and course and student and re.match(r'^[a-z0-9_-]{1,40}$', course):
            return course, student
    return None, None


def state_of(row):
    state = row.get('state')
    return (state.get('state') if isinstance(state, dict) else None) or 'opened'


def host_vars(row, me):
    course, student = course_key(row)
    users = row.get('users') if isinstance(row.get('users'), dict) else {}
    mine = users.get(me) if isinstance(users.get(me), dict) else {}
    return dict(cocalc_project_id=row['project_id'], cocalc_title=row.get('title') or '', cocalc_name=row.get('name') or None,
                cocalc_state=state_of(row), cocalc_users=dict((aid, (entry or {}).get('group')) for aid, entry in users.items()
                                                              if isinstance(entry, dict)),
                cocalc_course_id=course, cocalc_student_id=student, cocalc_deleted=bool(row.get('deleted')),
                cocalc_hidden=bool(mine.get('hide')))


def choose_hostnames(hosts, preferences):
    """{project_id: hostname}: each host the first preference it has that no other host also gets."""
    names = {}
    pending = sorted(hosts, key=lambda item: item['cocalc_project_id'])
    for preference in preferences:
        if not pending:
            break
        proposed = {}
        for item in pending:
            if preference == 'name':
                value = item['cocalc_name']
            elif preference == 'title_slug':
                value = title_slug(item['cocalc_title'])
            else:
                value = item['cocalc_project_id']
            if value:
                proposed.setdefault(value.lower() if preference != 'title_slug' else value, []).append(item)
        taken = set(names.values())
        for value, items in proposed.items():
            if len(items) == 1 and value not in taken:
                names[items[0]['cocalc_project_id']] = value
        pending = [item for item in pending if item['cocalc_project_id'] not in names]
    for item in pending:
        names[item['cocalc_project_id']] = item['cocalc_project_id']
    return names


def select(hosts, course_id=None, title=None, states=None, include_hidden=False, include_deleted=False):
    pattern = re.compile(title) if title else None
    wanted_states = set(states) if states else None
    course = course_id.lower() if course_id else None
    for item in hosts:
        if item['cocalc_deleted'] and not include_deleted:
            continue
        if item['cocalc_hidden'] and not include_hidden:
            continue
        if course is not None and item['cocalc_course_id'] != course:
            continue
        if pattern is not None and not pattern.search(item['cocalc_title']):
            continue
        if wanted_states is not None and item['cocalc_state'] not in wanted_states:
            continue
        yield item


def group_name(prefix, value):
    return prefix + _GROUP_RE.sub('_', value)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'cocalc.cocalc.cocalc'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('.cocalc.yml', '.cocalc.yaml'))

    def _fetch(self):
        """The rows every host is made from: {me, rows} (cacheable, no key in it)."""
        if not HAS_REQUESTS:
            raise AnsibleError('cocalc.cocalc.cocalc needs the Python library requests on the controller')
        try:
            with make_client(self) as client:
                me = (client.whoami() or {}).get('account_id')
                rows, _unsupported = read_projects(client, FIELDS, what='read the projects for the inventory')
        except (CocalcError, ValueError) as err:
            raise AnsibleError('cocalc.cocalc.cocalc inventory: %s' % err) from None
        self.display.v(generation_line('cocalc.cocalc.cocalc inventory', client))
        return dict(me=me, rows=rows)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                data = None
        if data is None:
            data = self._fetch()
            if self.get_option('cache'):
                self._cache[cache_key] = data
        title = self.get_option('title')
        if title:
            try:
                re.compile(title)
            except re.error as err:
                raise AnsibleParserError('cocalc.cocalc.cocalc inventory: title is not a valid regular expression (%s): %r'
                                         % (err, title)) from None
        everything = [host_vars(row, data['me']) for row in data['rows']]
        chosen = list(select(everything, course_id=self.get_option('course_id'), title=title, states=self.get_option('states'),
                             include_hidden=self.get_option('include_hidden'), include_deleted=self.get_option('include_deleted')))
        names = choose_hostnames(chosen, self.get_option('hostnames'))
        strict = self.get_option('strict')
        for item in sorted(chosen, key=lambda entry: names[entry['cocalc_project_id']]):
            host = names[item['cocalc_project_id']]
            self.inventory.add_host(host)
            for key, value in item.items():
                self.inventory.set_variable(host, key, value)
            if self.get_option('set_connection'):
                self.inventory.set_variable(host, 'ansible_connection', 'cocalc.cocalc.cocalc')
            if item['cocalc_course_id']:
                group = self.inventory.add_group(group_name('course_', item['cocalc_course_id']))
                self.inventory.add_child(group, host)
            group = self.inventory.add_group(group_name('cocalc_', item['cocalc_state']))
            self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option('compose'), item, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), item, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), item, host, strict=strict)
