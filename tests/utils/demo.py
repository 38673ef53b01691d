#!/usr/bin/env python
"""The README demo (`make demo`): provision an example course on a local CoCalc server, twice.

Starts the local CoCalc server (tests/server/serve) in a temporary directory, in era 2026 (current
CoCalc: api/v2 and conat, as cocalc.com today) unless --era names an API v1 era (2024, guide), creates an
instructor, a teaching assistant and accounts for most students of examples/roster.csv (the last few
emails get no account, so they are invited by email), runs playbooks/course.yml for the 30-student
course of examples/course.yml, runs it again and checks that the second run reports changed=0 and
sent no write to the server, prints a summary read back from the server, and stops the server
whatever happens (error, Ctrl-C, SIGTERM).

Usage: demo.py [--collection DIR] [--era 2026|2024|guide]
DIR holds playbooks/ and examples/ (default: this repository); ansible-playbook must find the
collection cocalc.cocalc (the Makefile sets ANSIBLE_COLLECTIONS_PATH to a copy of this tree).
"""

import argparse
import concurrent.futures
import csv
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'server', 'tests'))

# The server tests' helpers: start/stop `serve`, run its subcommands, call the API.
from cocalc_testlib import Api, ServerProcess, serve_cli  # noqa: E402  pylint: disable=wrong-import-position,import-error
from call_stats import summarize  # noqa: E402  pylint: disable=wrong-import-position,import-error

# Students at the end of the roster without an account: the course invites them by email.
STUDENTS_WITHOUT_ACCOUNT = 4
INSTRUCTOR = ('instructor@example.edu', 'Iris', 'Instructor')
TEACHING_ASSISTANT = ('ta@example.edu', 'Theo', 'Assistant')
RECAP_RE = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def say(text):
    print('\n=== %s' % text, flush=True)


def read_roster(path):
    with open(path, encoding='utf-8', newline='') as handle:
        return list(csv.DictReader(handle))


def make_accounts(data_dir, people):
    """Create accounts with `serve account` (a few at a time); returns {email: {account_id, api_key}}."""
    def create(person):
        email, first_name, last_name = person
        return email, serve_cli('account', '--data-dir', data_dir, '--email', email, '--first-name', first_name,
                                '--last-name', last_name, '--password', 'demo-password-%d' % len(email))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(create, people))


def run_playbook(playbook, env, label):
    """Run ansible-playbook with its output shown live; returns (rc, recap dict of localhost, seconds)."""
    say('%s: ansible-playbook %s' % (label, os.path.relpath(playbook)))
    started = time.monotonic()
    with subprocess.Popen(['ansible-playbook', playbook], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        lines = []
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        rc = process.wait()
    seconds = time.monotonic() - started
    recap = {}
    for host, ok, changed, unreachable, failed in RECAP_RE.findall(''.join(lines)):
        if host == 'localhost':
            recap = dict(ok=int(ok), changed=int(changed), unreachable=int(unreachable), failed=int(failed))
    return rc, recap, seconds


def server_summary(api, data_dir, instructor_id, era):
    """What the course looks like on the server: projects, people, invitations, files."""
    query = {'projects_all': [{'project_id': None, 'title': None, 'users': None, 'deleted': None}]}
    if era == '2026':
        # Current CoCalc's user-query: API v1's query semantics at api/v2.
        reply = api.raw('user-query', {'query': query}, path='/api/v2/user-query')
        assert reply.status == 200 and reply.json and 'query' in reply.json, 'user-query -> HTTP %s %s' % (reply.status, reply.text[:300])
        projects = reply.json['query']['projects_all']
    else:
        projects = api.query(query)['projects_all']
    projects = [p for p in projects if not p.get('deleted')]
    collaborators = sum(len([a for a, u in (p.get('users') or {}).items() if u.get('group') != 'owner']) for p in projects)
    people = set(a for p in projects for a in (p.get('users') or {}) if a != instructor_id)
    files = 0
    for project in projects:
        home = os.path.join(data_dir, 'projects', project['project_id'])
        for _dirpath, dirnames, filenames in os.walk(home):
            dirnames[:] = [d for d in dirnames if not d.startswith('.')]
            files += len([f for f in filenames if not f.startswith('.')])
    return projects, collaborators, people, files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collection', default=ROOT, help='directory holding playbooks/ and examples/ (default: this repository)')
    parser.add_argument('--era', default='2026', choices=['2026', '2024', 'guide'],
                        help='the local server speaks current CoCalc (2026, the default) or API v1 (2024, guide)')
    args = parser.parse_args()
    collection = os.path.abspath(args.collection)
    playbook = os.path.join(collection, 'playbooks', 'course.yml')
    roster = read_roster(os.path.join(collection, 'examples', 'roster.csv'))

    # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, so the finally below stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix='cocalc-demo-') as tmp:
        data_dir = os.path.join(tmp, 'data')
        server = ServerProcess(data_dir, era=args.era)
        try:
            boot = server.start()
            say('local CoCalc server at %s, era %s (data dir %s)' % (boot['url'], args.era, data_dir))
            with_account = roster[:len(roster) - STUDENTS_WITHOUT_ACCOUNT]
            people = [INSTRUCTOR, TEACHING_ASSISTANT] + [(s['email'], s['first_name'], s['last_name']) for s in with_account]
            accounts = make_accounts(data_dir, people)
            instructor = accounts[INSTRUCTOR[0]]
            print('accounts: instructor %s, teaching assistant %s, %d of %d students (%s get an invitation email instead)' % (
                INSTRUCTOR[0], TEACHING_ASSISTANT[0], len(with_account), len(roster),
                ', '.join(s['email'] for s in roster[len(with_account):])))

            env = dict(os.environ, COCALC_API_URL=boot['url'], COCALC_API_KEY=instructor['api_key'],
                       ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
                       ANSIBLE_NOCOLOR='1')
            server.stats(reset=True)
            rc, first, first_seconds = run_playbook(playbook, env, 'first run')
            if rc != 0:
                print('demo: the first run failed (rc=%s)' % rc, file=sys.stderr)
                return 1
            first_calls = summarize(server.stats(reset=True))
            rc, second, second_seconds = run_playbook(playbook, env, 'second run (nothing to do)')
            second_calls = summarize(server.stats(reset=True))
            if rc != 0:
                print('demo: the second run failed (rc=%s)' % rc, file=sys.stderr)
                return 1

            api = Api(boot['url'], instructor['api_key'])
            projects, collaborators, people_on, files = server_summary(api, data_dir, instructor['account_id'], args.era)
            outbox = server.outbox()
            invited = sorted(set(mail['to'] for mail in outbox))
            say('summary')
            print('projects         %d (one per student, plus the shared project)' % len(projects))
            print('collaborators    %d memberships, %d different people' % (collaborators, len(people_on)))
            print('invitations      %d emails (to the student project and the shared project) for %d people without an account: %s'
                  % (len(outbox), len(invited), ', '.join(invited)))
            print('files            %d in the project homes' % files)
            for label, seconds, recap, calls in (('first run ', first_seconds, first, first_calls),
                                                 ('second run', second_seconds, second, second_calls)):
                sets = 'query sets not counted apart by this server' if calls['query_sets'] is None else '%d query sets' % calls['query_sets']
                print('%s       %.1f s, changed=%s, %d API calls: %d writes (%s), %d commands run (%s)' % (
                    label, seconds, recap.get('changed'), calls['calls'], calls['writes'], sets, calls['execs'], calls['detail']))
            if second.get('changed') != 0 or second_calls['writes'] != 0 or second_calls['query_sets'] or second_calls['execs']:
                print('demo: FAILED: the second run was expected to change nothing and to run no command', file=sys.stderr)
                return 1
            what = 'no create, invite, remove or write call' if second_calls['query_sets'] is None else 'no write'
            print('\nThe second run changed nothing: changed=0, %s reached the server, and no command ran (the setup markers'
                  ' came with the reads of the handouts).' % what)
            print('Times: first run %.1f s, second run %.1f s.' % (first_seconds, second_seconds))
            return 0
        finally:
            rc = server.stop()
            print('local CoCalc server stopped (exit %s)' % rc, flush=True)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (AssertionError, OSError, subprocess.SubprocessError) as failure:
        # The helpers of cocalc_testlib report a server that did not start or a failed `serve` command so.
        sys.exit('demo: %s' % failure)
