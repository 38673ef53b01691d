#!/usr/bin/env python
"""Projects as hosts benchmark (`make bench BENCHES=hosts`): numbers, not a test.

The same work, a file written and a command run in each of N projects (default 30), done two ways
against the local CoCalc server (tests/server/serve):
- connection: a play over the projects as hosts (ansible_connection cocalc.cocalc.cocalc) with
  ansible.builtin.copy + ansible.builtin.command (each a module that runs inside the project);
- modules: the same hosts, run on the controller (ansible_connection local), with
  cocalc.cocalc.cocalc_file + cocalc.cocalc.cocalc_exec tasks naming each project;
with forks 1, 8 and 16 (--forks), the connection with pipelining (its default; --pipelining off,on adds runs without).
Every run writes a new file (its name carries the run), so every copy changes something.

Projects are running when a run starts (started once before the first run; the server's start time
does not matter then, so it starts them at once). --cold stops every project before each run and uses
the server's real start times (default 3 s alone, overlapping starts share the machine): then the
first call to each project starts it, and the other calls of that moment wait for the start.

Calls are counted by the server (`serve stats`): the table gives the calls per host per task, the
project_exec calls among them and the other endpoints. The machine's load average is printed: on a
shared machine every wall time moves with it.

Usage: hosts_bench.py --collection DIR [--hosts 30] [--forks 1,8,16] [--pipelining on|off|off,on] [--cold]
       [--latency none] [--json FILE]
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'server', 'tests'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'utils'))

from cocalc_testlib import Api, ServerProcess  # noqa: E402  pylint: disable=wrong-import-position,import-error
from call_stats import summarize  # noqa: E402  pylint: disable=wrong-import-position,import-error

TASKS = 2
RUN_TIMEOUT = 1800
ANSIBLE_ENV = {'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_RETRY_FILES_ENABLED': 'false', 'ANSIBLE_HOST_KEY_CHECKING': 'false',
               'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'}

CONNECTION_PLAY = [{
    'name': 'Projects as hosts: copy + command',
    'hosts': 'projects',
    'gather_facts': False,
    'tasks': [
        {'name': 'A file',
         'ansible.builtin.copy': {'dest': 'bench-{{ run_tag }}.txt', 'content': 'hello {{ inventory_hostname }}\n', 'mode': '0644'}},
        {'name': 'A command', 'ansible.builtin.command': 'cat bench-{{ run_tag }}.txt', 'changed_when': False},
    ],
}]
MODULES_PLAY = [{
    'name': 'The same through the modules, on the controller',
    'hosts': 'projects',
    'gather_facts': False,
    # Play vars win over the inventory's ansible_connection.
    'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
    'tasks': [
        {'name': 'A file', 'cocalc.cocalc.cocalc_file': {'project_id': '{{ cocalc_project_id }}', 'path': 'bench-{{ run_tag }}.txt',
                                                         'content': 'hello {{ inventory_hostname }}\n'}},
        {'name': 'A command', 'cocalc.cocalc.cocalc_exec': {'project_id': '{{ cocalc_project_id }}',
                                                            'command': 'cat bench-{{ run_tag }}.txt'},
         'changed_when': False},
    ],
}]


def make_projects(api, count):
    made = []
    for index in range(1, count + 1):
        made.append(api.ok('create_project', title='Host %02d' % index)['project_id'])
    return made


def start_all(api, project_ids):
    """Start every project (a project call to a stopped project starts it and waits)."""
    def start(project_id):
        api.ok('write_text_file_to_project', project_id=project_id, path='.bench-start', content='')
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(start, project_ids))


def stop_all(api, project_ids):
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    for project_id in project_ids:
        api.query({'projects': {'project_id': project_id, 'action_request': {'action': 'stop', 'time': now}}})


def write_files(workdir, project_ids):
    python = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
    inventory = {'projects': {
        'hosts': dict(('p%02d' % (index + 1), {'cocalc_project_id': project_id}) for index, project_id in enumerate(project_ids)),
        # The local server's projects run on this machine (confined when it runs as root): the system Python runs the modules.
        'vars': {'ansible_connection': 'cocalc.cocalc.cocalc', 'ansible_python_interpreter': python},
    }}
    paths = {}
    for name, content in (('inventory.yml', inventory), ('connection.yml', CONNECTION_PLAY), ('modules.yml', MODULES_PLAY)):
        paths[name] = os.path.join(workdir, name)
        with open(paths[name], 'w', encoding='utf-8') as handle:
            yaml.safe_dump(content, handle, sort_keys=False)
    return paths


def run_play(paths, approach, forks, pipelining, tag, env, log, verbose=False):
    command = ['ansible-playbook', '-i', paths['inventory.yml'], paths['%s.yml' % approach], '-f', str(forks), '-e', 'run_tag=%s' % tag]
    if verbose:
        command.append('-vvv')
    env = dict(env, ANSIBLE_PIPELINING='true' if pipelining else 'false')
    log.write('\n$ ANSIBLE_PIPELINING=%s %s\n' % (env['ANSIBLE_PIPELINING'], ' '.join(command)))
    log.flush()
    started = time.monotonic()
    done = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError('%s (forks %d) exited with %s' % (approach, forks, done.returncode))
    return seconds


def print_table(rows, hosts):
    header = ('approach', 'pipelining', 'forks', 'wall s', 's/host', 'calls', 'calls/host/task', 'execs/host/task',
              'calls by endpoint (counted by the server)')
    widths = (10, 10, 5, 7, 6, 6, 15, 15)
    line = '  '.join('%-*s' % (w, h) for w, h in zip(widths, header[:-1])) + '  ' + header[-1]
    print(line)
    print('-' * len(line))
    for row in rows:
        cells = (row['approach'], row['pipelining'], row['forks'], '%.2f' % row['wall'], '%.2f' % (row['wall'] / hosts), row['calls'],
                 '%.2f' % (row['calls'] / float(hosts * TASKS)), '%.2f' % (row['execs'] / float(hosts * TASKS)))
        print('  '.join('%-*s' % (w, c) for w, c in zip(widths, cells)) + '  ' + row['detail'])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--collection', required=True, help='the collection tree (ANSIBLE_COLLECTIONS_PATH must find it)')
    parser.add_argument('--hosts', type=int, default=30, help='projects (default 30)')
    parser.add_argument('--forks', default='1,8,16', help='comma-separated fork counts (default 1,8,16)')
    parser.add_argument('--pipelining', default='on', help='connection runs with pipelining on (the default), off, or off,on')
    parser.add_argument('--approaches', default='connection,modules', help='default connection,modules')
    parser.add_argument('--cold', action='store_true', help='stop every project before each run (real start times)')
    parser.add_argument('--latency', default='none', help="the server's latency profile (default none; real-hub)")
    parser.add_argument('--json', help='also write the rows to this file')
    parser.add_argument('--log', help="keep the playbooks' output in this file")
    parser.add_argument('--verbose', action='store_true', help='run the playbooks with -vvv (the connection shows each call)')
    args = parser.parse_args(argv)
    forks = [int(item) for item in args.forks.split(',') if item]
    pipelining = [item == 'on' for item in args.pipelining.split(',') if item]
    approaches = [item for item in args.approaches.split(',') if item]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_start = '%.1f %.1f %.1f' % os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix='cocalc-hosts-bench-') as workdir:
        extra = ['--latency', args.latency] + ([] if args.cold else ['--start-seconds', '0'])
        server = ServerProcess(os.path.join(workdir, 'data'), extra_args=extra)
        boot = server.start()
        log_path = os.path.join(workdir, 'bench.log')
        try:
            with open(log_path, 'w', encoding='utf-8') as log:
                api = Api(boot['url'], boot['api_key'])
                print('preparing: %d projects ...' % args.hosts, flush=True)
                project_ids = make_projects(api, args.hosts)
                start_all(api, project_ids)
                paths = write_files(workdir, project_ids)
                env = dict(os.environ, COCALC_API_URL=boot['url'], COCALC_API_KEY=boot['api_key'], **ANSIBLE_ENV)
                for approach in approaches:
                    for pipe in (pipelining if approach == 'connection' else [False]):
                        for count in forks:
                            if args.cold:
                                stop_all(api, project_ids)
                            server.stats(reset=True)
                            tag = '%s-%s-%d' % (approach, 'pipe' if pipe else 'nopipe', count)
                            print('%s, pipelining %s, forks %d ...' % (approach, 'on' if pipe else 'off', count), flush=True)
                            try:
                                seconds = run_play(paths, approach, count, pipe, tag, env, log, args.verbose)
                            except (RuntimeError, subprocess.TimeoutExpired) as error:
                                log.flush()
                                with open(log_path, encoding='utf-8') as handle:
                                    print(handle.read()[-6000:], file=sys.stderr)
                                print('hosts bench: %s' % error, file=sys.stderr)
                                return 1
                            result = summarize(server.stats(reset=True))
                            row = dict(result, approach=approach, pipelining='on' if pipe else ('off' if approach == 'connection' else '-'),
                                       forks=count, wall=seconds)
                            rows.append(row)
                            print('    %7.2f s  %5d calls  %s' % (seconds, row['calls'], row['detail']), flush=True)
                            missing = [pid for pid in project_ids
                                       if not os.path.isfile(os.path.join(server.data_dir, 'projects', pid, 'bench-%s.txt' % tag))]
                            if missing:
                                print('WARNING: %d projects lack the file of this run' % len(missing), flush=True)
        finally:
            server.stop()
            if args.log and os.path.exists(log_path):
                with open(log_path, encoding='utf-8') as source, open(args.log, 'w', encoding='utf-8') as target:
                    target.write(source.read())
    print()
    print('Projects as hosts: a file written (copy / cocalc_file) and a command run (command / cocalc_exec) in each of %d projects;'
          % args.hosts)
    print('local CoCalc server, latency %s, projects %s. calls counted by the server; per host per task = calls / (%d hosts x %d tasks);'
          % (args.latency, 'stopped before each run (--cold)' if args.cold else 'running', args.hosts, TASKS))
    print('execs = project_exec. load average at start %s, at end %s.' % (load_start, '%.1f %.1f %.1f' % os.getloadavg()))
    print()
    print_table(rows, args.hosts)
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as handle:
            json.dump(rows, handle, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
