#!/usr/bin/env python
"""Run the integration targets against a CoCalc server, once per era.

By default it starts the local CoCalc server (tests/server/serve) in a temporary data dir for each era,
writes tests/integration/integration_config.yml (the variables every target reads), runs
`ansible-test integration` in the collection copy, and stops the server.
Given COCALC_TEST_URL and COCALC_TEST_API_KEY it uses that server instead (one run, era COCALC_TEST_ERA,
default 2024); COCALC_TEST_OTHER_API_KEY / COCALC_TEST_OTHER_ACCOUNT_ID name a second account if you have one.

Every era runs in its own copy of the collection (named after the era and this venv, so that the main
toolchain and an older ansible-core can run the suite at the same time) with its own server; several eras
run at the same time. With --log-dir each era's output also goes to <log-dir>/integration-<era>.log.

Usage: run_integration.py --collection DIR [--era 2024 --era guide --era 2026] [--log-dir DIR] [ansible-test args/targets...]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVE = os.path.join(os.path.dirname(HERE), 'server', 'serve')
PRINT_LOCK = threading.Lock()
# The local server's eras: two of API v1 (the 2024 hub, the developers' guide) and the current generation
# (api/v2 + conat, as CoCalc has spoken since 2025).
ERAS = ['2024', 'guide', '2026']
DEFAULT_ERAS = ['2024', 'guide']
SECONDS = {}  # era -> wall seconds of its run, for the closing lines


def start_server(data_dir, era):
    """Start the local server and return (process, bootstrap info) once it printed its ready line."""
    process = subprocess.Popen([sys.executable, SERVE, '--data-dir', data_dir, '--era', era],  # pylint: disable=consider-using-with
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        sys.exit('run_integration: the local server exited before it was ready (rc=%s)' % process.returncode)
    return process, json.loads(line)


def make_account(data_dir, email):
    output = subprocess.check_output([sys.executable, SERVE, 'account', '--data-dir', data_dir, '--email', email,
                                      '--first-name', 'Other', '--last-name', 'Tester', '--password', 'other-secret-123'], text=True)
    return json.loads(output)


def stop_server(process):
    process.send_signal(signal.SIGTERM)
    try:
        rc = process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        rc = process.wait()
    if rc != 0:
        print('run_integration: the local server exited with %s on SIGTERM' % rc, file=sys.stderr)
    return rc


def write_config(collection, variables):
    path = os.path.join(collection, 'tests', 'integration', 'integration_config.yml')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        # JSON is valid YAML and needs no extra dependency here.
        json.dump(variables, handle, indent=2)
    os.chmod(path, 0o600)


def run_targets(collection, extra, log=None):
    # --continue-on-error: one failing target must not hide the others' results.
    command = ['ansible-test', 'integration', '--python', '%d.%d' % sys.version_info[:2], '--local', '--color', 'no', '--continue-on-error'] + extra
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.dirname(os.path.dirname(os.path.dirname(collection))))
    return subprocess.call(command, cwd=collection, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)


def era_copy(collection, era):
    """A copy of the collection for one era, so that eras (and other stages working in the collection, and
    an older ansible-core's run of the suite) run at the same time without sharing integration_config.yml
    or tests/output."""
    venv = os.path.basename(sys.prefix).lstrip('.') or 'python'
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(collection))), 'integration-%s-era-%s' % (venv, era))
    copy = os.path.join(root, 'ansible_collections', 'cocalc', 'cocalc')
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(collection, copy, symlinks=True, ignore=shutil.ignore_patterns('output', '__pycache__'))
    return copy


def run_era(collection, era, extra, log=None):
    """Start a local server of one era, run the targets against it, stop it; the exit code."""
    with tempfile.TemporaryDirectory(prefix='cocalc-it-%s-' % era) as data_dir:
        process, boot = start_server(data_dir, era)
        try:
            other = make_account(data_dir, 'other-tester@example.com')
            write_config(collection, {
                'cocalc_api_url': boot['url'],
                'cocalc_api_key': boot['api_key'],
                'cocalc_account_id': boot['account_id'],
                'cocalc_email': boot['email'],
                'cocalc_era': era,
                'cocalc_local_server': True,
                'cocalc_data_dir': data_dir,
                'cocalc_other_api_key': other['api_key'],
                'cocalc_other_account_id': other['account_id'],
            })
            print('=== integration against the local server, era %s (%s)' % (era, boot['url']), flush=True)
            return run_targets(collection, extra, log)
        finally:
            stop_server(process)


def run_eras(collection, eras, extra, log_dir=None, at_once=True):
    """Every era in its own copy with its own server, at the same time unless at_once is false: the suite
    waits mostly for project starts, not for the CPU. Each era's output is printed whole when it is done
    (and kept in <log_dir>/integration-<era>.log)."""
    results = {}
    SECONDS.clear()

    def one(era):
        copy = era_copy(collection, era)
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
            log = open(os.path.join(log_dir, 'integration-%s.log' % era), 'w+', encoding='utf-8')  # pylint: disable=consider-using-with
        else:
            log = tempfile.TemporaryFile(mode='w+')  # pylint: disable=consider-using-with
        with log:
            started = time.monotonic()
            try:
                results[era] = run_era(copy, era, extra, log)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                results[era] = 'error: %s' % exc
            SECONDS[era] = time.monotonic() - started
            log.seek(0)
            with PRINT_LOCK:
                print('=== era %s: output of its integration run (%d s)' % (era, time.monotonic() - started), flush=True)
                shutil.copyfileobj(log, sys.stdout)
                sys.stdout.flush()

    if len(eras) == 1 and not log_dir:
        # One era alone: its output streams as it comes.
        started = time.monotonic()
        results[eras[0]] = run_era(era_copy(collection, eras[0]), eras[0], extra)
        SECONDS[eras[0]] = time.monotonic() - started
        return results
    if not at_once:
        for era in eras:
            one(era)
        return results
    threads = [threading.Thread(target=one, args=(era,)) for era in eras]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collection', required=True, help='the ansible_collections/cocalc/cocalc copy to test')
    parser.add_argument('--era', action='append', choices=ERAS, help='server era(s) to test against (default: %s)' % ' '.join(DEFAULT_ERAS))
    parser.add_argument('--one-at-a-time', action='store_true', help='run the eras one after another (default: at the same time)')
    parser.add_argument('--log-dir', help="also keep each era's output in LOG_DIR/integration-<era>.log")
    args, extra = parser.parse_known_args()
    collection = os.path.abspath(args.collection)

    if os.environ.get('COCALC_TEST_URL'):
        variables = {
            'cocalc_api_url': os.environ['COCALC_TEST_URL'],
            'cocalc_api_key': os.environ['COCALC_TEST_API_KEY'],
            'cocalc_era': os.environ.get('COCALC_TEST_ERA', '2024'),
            'cocalc_local_server': False,
        }
        if os.environ.get('COCALC_TEST_OTHER_API_KEY'):
            variables['cocalc_other_api_key'] = os.environ['COCALC_TEST_OTHER_API_KEY']
            variables['cocalc_other_account_id'] = os.environ.get('COCALC_TEST_OTHER_ACCOUNT_ID', '')
        write_config(collection, variables)
        return run_targets(collection, extra)

    eras = args.era or DEFAULT_ERAS
    results = run_eras(collection, eras, extra, args.log_dir, at_once=not args.one_at_a_time)
    failures = 0
    for era in eras:
        if results.get(era):
            print('=== integration FAILED for era %s (rc=%s) in %d s' % (era, results.get(era), SECONDS.get(era, 0)), flush=True)
            failures += 1
        else:
            print('=== integration passed for era %s in %d s' % (era, SECONDS.get(era, 0)), flush=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
