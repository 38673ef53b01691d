#!/usr/bin/env python
"""AWX / Automation Controller smoke test: run a playbook the way a job template does.

AWX runs playbooks through ansible-runner, with the credentials injected as environment variables
(a custom credential type, docs/docsite/rst/guide_connection.rst), no standard input and every
event and line of output stored as artifacts. This starts the local CoCalc server, lays out an
ansible-runner private data dir with COCALC_API_URL / COCALC_API_KEY in env/envvars and a playbook
that sets no connection option at all, runs it twice, and checks that
- the job succeeds, the first run changes the server and the second run changes nothing;
- the API key appears nowhere in the artifacts (stdout, job events, status);
- `ansible-builder introspect` finds the collection's Python requirement (requests) for an EE.

Usage: awx_smoke.py --collections DIR   (DIR holds ansible_collections/cocalc/cocalc)
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

import ansible_runner

HERE = os.path.dirname(os.path.abspath(__file__))
SERVE = os.path.join(os.path.dirname(HERE), 'server', 'serve')

PLAYBOOK = """---
- name: Provision a project as an AWX job would
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Who am I (connection from the injected environment only)
      cocalc.cocalc.cocalc_account_info:
      register: me

    - name: Ensure the smoke-test project exists
      cocalc.cocalc.cocalc_project:
        title: awx smoke test project
        description: created through ansible-runner
      register: project

    - name: Put a file into it
      cocalc.cocalc.cocalc_file:
        project_id: "{{ project.project.project_id }}"
        path: awx/hello.txt
        content: "hello from AWX\\n"
"""


def run_job(private_data_dir, collections):
    result = ansible_runner.run(private_data_dir=private_data_dir, playbook='site.yml', quiet=os.environ.get('AWX_SMOKE_VERBOSE') is None,
                                envvars={'ANSIBLE_COLLECTIONS_PATH': collections})
    stats = result.stats or {}
    return result, stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collections', required=True)
    args = parser.parse_args()
    collections = os.path.abspath(args.collections)
    # ansible-runner finds ansible-playbook on PATH: use the one beside this Python.
    os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
    failures = []

    with tempfile.TemporaryDirectory(prefix='cocalc-awx-') as work:
        data_dir = os.path.join(work, 'hub')
        server = subprocess.Popen([sys.executable, SERVE, '--data-dir', data_dir], stdout=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
        try:
            boot = json.loads(server.stdout.readline())
            pdd = os.path.join(work, 'job')
            for sub in ('project', 'inventory', 'env'):
                os.makedirs(os.path.join(pdd, sub))
            with open(os.path.join(pdd, 'project', 'site.yml'), 'w', encoding='utf-8') as handle:
                handle.write(PLAYBOOK)
            with open(os.path.join(pdd, 'inventory', 'hosts'), 'w', encoding='utf-8') as handle:
                handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
            # What the custom credential type's injector puts into the job's environment.
            with open(os.path.join(pdd, 'env', 'envvars'), 'w', encoding='utf-8') as handle:
                json.dump({'COCALC_API_URL': boot['url'], 'COCALC_API_KEY': boot['api_key']}, handle)

            for attempt, want_changed in (('first', True), ('second', False)):
                result, stats = run_job(pdd, collections)
                changed = bool(stats.get('changed', {}).get('localhost'))
                print('awx smoke: %s run: status=%s rc=%s changed=%s' % (attempt, result.status, result.rc, changed))
                if result.status != 'successful':
                    failures.append('%s run did not succeed (status %s)' % (attempt, result.status))
                elif changed != want_changed:
                    failures.append('%s run reported changed=%s, expected %s' % (attempt, changed, want_changed))

            leaks, scanned = [], 0
            for root, _dirs, files in os.walk(os.path.join(pdd, 'artifacts')):
                for name in files:
                    if name == 'command':
                        # ansible-runner's own 0600 record of the job's input environment, not output.
                        continue
                    scanned += 1
                    with open(os.path.join(root, name), 'rb') as handle:
                        if boot['api_key'].encode() in handle.read():
                            leaks.append(os.path.relpath(os.path.join(root, name), pdd))
            if scanned < 10:
                failures.append('only %d artifact files were written: the leak check saw too little' % scanned)
            if leaks:
                failures.append('the API key appears in the job artifacts: %s' % ', '.join(sorted(leaks)))
            else:
                print('awx smoke: the API key appears in none of the %d job artifact files' % scanned)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)

    introspect = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-builder'), 'introspect', '--sanitize',
                                 os.path.join(collections)], capture_output=True, text=True, check=False)
    if introspect.returncode != 0 or 'requests' not in introspect.stdout or 'cocalc.cocalc' not in introspect.stdout:
        failures.append('ansible-builder introspect did not report requests for cocalc.cocalc:\n%s%s' % (introspect.stdout, introspect.stderr))
    else:
        print('awx smoke: ansible-builder introspect: %s' % ' '.join(introspect.stdout.split()))

    for failure in failures:
        print('awx smoke: FAILED: %s' % failure)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
