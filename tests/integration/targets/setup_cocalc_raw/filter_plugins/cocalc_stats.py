# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper filter: `serve stats` of any era with the API v1 operation names the targets count by.

Era 2026 counts calls by v2 route ('projects/write-text-file') or bridge function ('hub:db.userQuery',
'project:system.exec'); the targets count writes, execs and reads by the v1 operation that call does,
so both of a current operation's routes (the v2 route and the conat function, whichever the collection
chose) count as that operation. Names without a v1 operation (projects/start, ...) keep their own name,
so they count as writes where a target counts everything that is not a read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

CURRENT_TO_V1 = {
    'user-query': 'query', 'hub:db.userQuery': 'query',
    'projects/create': 'create_project', 'hub:projects.createProject': 'create_project',
    'projects/write-text-file': 'write_text_file_to_project', 'project:system.writeTextFileToProject': 'write_text_file_to_project',
    'project:system.readTextFileFromProject': 'read_text_file_from_project', 'projects/call': 'read_text_file_from_project',
    'exec': 'project_exec', 'project:system.exec': 'project_exec',
    'projects/copy-path': 'copy_path_between_projects', 'hub:projects.copyPathBetweenProjects': 'copy_path_between_projects',
    'projects/collaborators/add': 'add_collaborator', 'hub:projects.addCollaborator': 'add_collaborator',
    'projects/collaborators/remove': 'remove_collaborator', 'hub:projects.removeCollaborator': 'remove_collaborator',
    'hub:projects.inviteCollaborator': 'invite_collaborator',
    'hub:projects.inviteCollaboratorWithoutAccount': 'invite_noncloud_collaborators',
    'accounts/search': 'user_search', 'hub:system.userSearch': 'user_search',
    'accounts/get-names': 'get_usernames', 'hub:system.getNames': 'get_usernames',
    'auth/sign-up': 'create_account',
    'hub:system.ping': 'ping', 'hub:system.test': 'ping', 'accounts/profile': 'ping',
}


def cocalc_v1_stats(stats):
    """{v1 operation: {calls, http_status, [gets, sets]}} from `serve stats` of any era (v1 eras unchanged)."""
    result = {}
    for name, entry in stats.items():
        op = CURRENT_TO_V1.get(name, name)
        merged = result.setdefault(op, {'calls': 0, 'http_status': {}})
        merged['calls'] += entry.get('calls', 0)
        for status, calls in entry.get('http_status', {}).items():
            merged['http_status'][status] = merged['http_status'].get(status, 0) + calls
        for key in ('gets', 'sets'):
            if key in entry:
                merged[key] = merged.get(key, 0) + entry[key]
    return result


class FilterModule:
    def filters(self):
        return {'cocalc_v1_stats': cocalc_v1_stats}
