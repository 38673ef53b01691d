#!/usr/bin/env python
"""What a user writes by hand without this collection: a requests script with a thread pool.

It provisions the course of a benchmark vars file (bench/run_bench.py writes it) with the same API calls
cocalc_course makes, so the benchmark compares the collection with the fastest hand-written equivalent:
- reads: the key's account (query accounts), ONE user_search for every student and staff email, ONE
  projects_all list query, then the handouts of existing projects in batched read_text_file_from_project
  array calls (one per project group, run side by side);
- writes, from a pool of `course_parallel` threads sharing one connection pool, in two rounds: first
  create_project (started at once, so it is up when the files come), the project name
  `<course_id>.<student_id>` as a stable marker (a query set: create_project takes no name),
  invite_collaborator for the student and the staff, invite_noncloud_collaborators for a student without an
  account (once: the project's `invite` field records it); then write_text_file_to_project for each
  handout that is missing or differs.
With the example's features in the vars file (bench/run_bench.py --features example) it also does what the
role does with them, in the same way:
- course_setup: a marker file per project (.cocalc-course/<course_id>.setup) read with the handouts; where it
  is missing, one project_exec (bash) that honours `creates`, runs the command and writes the marker;
- course_shared_project: found by title in the projects_all rows or created; the students with an account
  and the staff added, the others invited;
- course_publish: each file read and written when it differs, published with a query set when it is not.
It handles no roster changes (drops, email changes), title drift, check mode or partial failures: a user's
throwaway script. Connection: COCALC_API_URL and COCALC_API_KEY in the environment.

Usage: direct_course.py VARS_FILE   (JSON: course_id, course_title, course_roster, course_staff,
                                     course_handouts with content, course_invite, course_parallel, and
                                     optionally course_setup, course_shared_project, course_publish)
"""

import concurrent.futures
import csv
import json
import os
import re
import shlex
import sys
import time

import requests

READ_BATCH = 50
# Pauses while a project starts: 1, 2, 4, then 5 s, about 300 s in all.
STARTING_PAUSES = [1, 2, 4] + [5] * 58


class Api:
    def __init__(self, url, key, pool_size):
        self.url = url.rstrip('/') + '/api/v1/'
        self.session = requests.Session()
        self.session.auth = (key, '')
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)

    def call(self, endpoint, **body):
        # A project still starting refuses calls at once ("unable to determine project port"): the hub
        # never reached it, so the call is sent again after a pause.
        for pause in STARTING_PAUSES + [None]:
            reply = self.session.post(self.url + endpoint, json=body, timeout=120)
            answer = reply.json()
            if reply.status_code == 200 and answer.get('event') != 'error':
                return answer
            if pause is None or 'unable to determine' not in str(answer.get('error')):
                raise RuntimeError('%s failed: HTTP %s %s' % (endpoint, reply.status_code, answer.get('error')))
            time.sleep(pause)
        raise AssertionError('not reached')


def marker(course_id, student_id):
    return '%s.%s' % (course_id.lower(), re.sub(r'[^a-z0-9._-]', '_', student_id.strip().lower()))


def read_roster(path):
    with open(path, encoding='utf-8', newline='') as handle:
        return list(csv.DictReader(handle))


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: direct_course.py VARS_FILE')
    with open(sys.argv[1], encoding='utf-8') as handle:
        course = json.load(handle)
    parallel = course.get('course_parallel', 8)
    api = Api(os.environ['COCALC_API_URL'], os.environ['COCALC_API_KEY'], parallel)
    students = read_roster(course['course_roster'])
    handouts = course['course_handouts']
    invite = course.get('course_invite') or {}

    me = api.call('query', query={'accounts': {'account_id': None}})['query']['accounts']['account_id']
    emails = [student['email'].lower() for student in students] + [email.lower() for email in course['course_staff']]
    hits = api.call('user_search', query=','.join(emails), limit=len(emails))['results']
    accounts = dict((hit['email_address'].lower(), hit['account_id']) for hit in hits if hit.get('email_address'))
    staff = [accounts[email.lower()] for email in course['course_staff']]
    wanted = {'project_id': None, 'name': None, 'title': None, 'users': None, 'invite': None, 'deleted': None}
    rows = api.call('query', query={'projects_all': [wanted]})['query']['projects_all']
    projects = dict((row['name'], row) for row in rows if row.get('name') and me in (row.get('users') or {}))

    def read_batch(batch):
        """{(project_id, path): text or None}; items of starting projects ("error": {}) are read again."""
        found = {}
        for pause in STARTING_PAUSES + [None]:
            answer = api.call('read_text_file_from_project', project_id=[pid for pid, _path in batch], path=[path for _pid, path in batch])
            # Answers come in completion order, each naming its project and path.
            items = dict(((item['project_id'], item['path']), item) for item in answer['content'])
            batch = [key for key in batch if items[key].get('error') == {}]
            found.update((key, item.get('content')) for key, item in items.items() if key not in batch)
            if not batch:
                return found
            if pause is None:
                raise RuntimeError('projects still starting: %s' % sorted(set(pid for pid, _path in batch)))
            time.sleep(pause)
        raise AssertionError('not reached')

    # Existing projects' handouts: whole projects per call, about one call per thread, at most READ_BATCH files.
    existing = [projects[key]['project_id'] for key in (marker(course['course_id'], s['student_id']) for s in students) if key in projects]
    setup = course.get('course_setup')
    marker_path = '.cocalc-course/%s.setup' % course['course_id']
    paths = [handout['path'] for handout in handouts] + ([marker_path] if setup else [])
    per_call = max(1, min(READ_BATCH // max(1, len(paths)), -(-len(existing) // parallel)))
    batches = [[(pid, path) for pid in existing[i:i + per_call] for path in paths]
               for i in range(0, len(existing), per_call)]
    files = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
        if paths:
            for result in pool.map(read_batch, batches):
                files.update(result)

        def provision(student):
            """The project and its people; a new project starts at creation, so it is up for the files."""
            key = marker(course['course_id'], student['student_id'])
            row = projects.get(key)
            if row is None:
                title = '%s %s - %s' % (student['first_name'], student['last_name'], course['course_title'])
                project_id = api.call('create_project', title=title, start=bool(handouts))['project_id']
                api.call('query', query={'projects': {'project_id': project_id, 'name': key}})
                row = projects[key] = {'project_id': project_id, 'users': {me: {'group': 'owner'}}, 'invite': {}}
            project_id = row['project_id']
            account_id = accounts.get(student['email'].lower())
            for member in ([account_id] if account_id else []) + staff:
                if member not in (row.get('users') or {}):
                    api.call('invite_collaborator', project_id=project_id, account_id=member)
            if account_id is None and student['email'].lower() not in (row.get('invite') or {}):
                api.call('invite_noncloud_collaborators', project_id=project_id, to=student['email'],
                         title=course['course_title'], email=invite.get('body', ''), subject=invite.get('subject', ''),
                         link2proj='%s/projects/%s' % (os.environ['COCALC_API_URL'].rstrip('/'), project_id))

        def hand_out(student):
            project_id = projects[marker(course['course_id'], student['student_id'])]['project_id']
            for handout in handouts:
                if files.get((project_id, handout['path'])) != handout['content']:
                    api.call('write_text_file_to_project', project_id=project_id, path=handout['path'], content=handout['content'])

        def set_up(student):
            project_id = projects[marker(course['course_id'], student['student_id'])]['project_id']
            if files.get((project_id, marker_path)):
                return
            command = setup['command'] if setup.get('bash') else ' '.join(shlex.quote(w) for w in [setup['command']] + setup.get('args', []))
            guard = command + ' || exit $?; '
            if setup.get('creates'):
                guard = 'if [ -e %s ]; then :; else %s || exit $?; fi; ' % (shlex.quote(setup['creates']), command)
            script = guard + 'mkdir -p .cocalc-course && echo done > %s' % shlex.quote(marker_path)
            answer = api.call('project_exec', project_id=project_id, command=script, bash=True, timeout=setup.get('timeout', 60),
                              err_on_exit=False)
            if answer.get('exit_code'):
                raise RuntimeError('setup failed in %s: %s' % (project_id, answer.get('stderr')))

        # Every project and its people first, then the files, then the setup (cocalc_course does the same).
        list(pool.map(provision, students))
        list(pool.map(hand_out, students))
        if setup:
            list(pool.map(set_up, students))
    shared = course.get('course_shared_project')
    if shared:
        shared_project(api, me, rows, shared, students, accounts, staff, course, invite)
    return 0


def shared_project(api, me, rows, shared, students, accounts, staff, course, invite):
    """The role's shared project and published material, made with the same calls."""
    found = [row for row in rows if row.get('title') == shared['title'] and not row.get('deleted') and me in (row.get('users') or {})]
    if found:
        row = found[0]
    else:
        project_id = api.call('create_project', title=shared['title'], description=shared.get('description', ''))['project_id']
        row = {'project_id': project_id, 'users': {me: {'group': 'owner'}}, 'invite': {}}
    project_id = row['project_id']
    for student in students:
        account_id = accounts.get(student['email'].lower())
        if account_id and account_id not in (row.get('users') or {}):
            api.call('invite_collaborator', project_id=project_id, account_id=account_id)
        elif not account_id and student['email'].lower() not in (row.get('invite') or {}):
            api.call('invite_noncloud_collaborators', project_id=project_id, to=student['email'], title=shared['title'],
                     email=invite.get('body', ''), subject=invite.get('subject', ''),
                     link2proj='%s/projects/%s' % (os.environ['COCALC_API_URL'].rstrip('/'), project_id))
    for member in staff:
        if member not in (row.get('users') or {}):
            api.call('invite_collaborator', project_id=project_id, account_id=member)
    published = api.call('query', query={'public_paths': [{'project_id': project_id, 'path': None}]})['query']['public_paths']
    for item in course.get('course_publish') or []:
        if 'content' in item:
            try:
                current = api.call('read_text_file_from_project', project_id=project_id, path=item['path']).get('content')
            except RuntimeError:
                current = None
            if current != item['content']:
                api.call('write_text_file_to_project', project_id=project_id, path=item['path'], content=item['content'])
        if item['path'] not in [entry['path'] for entry in published]:
            api.call('query', query={'public_paths': {'project_id': project_id, 'path': item['path'],
                                                      'description': item.get('description', '')}})


if __name__ == '__main__':
    sys.exit(main())
