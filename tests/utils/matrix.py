#!/usr/bin/env python
"""`make matrix`: sanity and units on each older ansible-core, and the integration suite on the oldest.

Each release of tests/utils/versions (the one place for the pins) gets its own venv, .venv-<core>, on the
first of its Pythons that works here (tests/utils/find_python.sh), rebuilt when its pins change. Every
stage runs even when an earlier one failed; the end is a table (core, Python, stage, result, seconds)
and the exit code is non-zero if any stage failed or a release had no usable Python.

Usage: matrix.py --collection DIR --build-dir DIR --cores "2.20.10 ..." [--integration "2.17.14"] [--era 2024 ...]
"""

import argparse
import hashlib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VERSIONS = os.path.join(HERE, 'versions')
CONSTRAINTS = os.path.join(HERE, 'constraints-dev.txt')
# What a matrix venv needs besides ansible-core (versions from the constraints file).
TEST_PACKAGES = ['requests', 'pytest', 'pytest-xdist', 'pytest-mock']


def pythons_for(core):
    with open(VERSIONS, encoding='utf-8') as handle:
        for line in handle:
            fields = line.split()
            if fields and not fields[0].startswith('#') and fields[0] == core:
                return fields[1:]
    sys.exit('matrix: ansible-core %s is not in %s' % (core, VERSIONS))


def find_python(versions):
    result = subprocess.run([os.path.join(HERE, 'find_python.sh'), '--explain'] + versions,
                            stdout=subprocess.PIPE, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def ensure_venv(core, python):
    """The venv for this core on this Python, (re)built when the core, Python or constraints changed."""
    venv = os.path.join(ROOT, '.venv-%s' % core)
    with open(CONSTRAINTS, 'rb') as handle:
        stamp = '%s %s %s\n' % (core, python, hashlib.sha256(handle.read()).hexdigest())
    stamp_file = os.path.join(venv, '.installed')
    if os.path.exists(stamp_file):
        with open(stamp_file, encoding='utf-8') as handle:
            if handle.read() == stamp:
                return venv
    subprocess.check_call(['rm', '-rf', venv])
    subprocess.check_call([python, '-m', 'venv', venv])
    subprocess.check_call([os.path.join(venv, 'bin', 'pip'), 'install', '--quiet', '--disable-pip-version-check',
                           'ansible-core==%s' % core, '-c', CONSTRAINTS] + TEST_PACKAGES)
    with open(stamp_file, 'w', encoding='utf-8') as handle:
        handle.write(stamp)
    return venv


def run(command, venv, cwd, build_dir):
    env = dict(os.environ, PATH='%s:%s' % (os.path.join(venv, 'bin'), os.environ['PATH']), ANSIBLE_COLLECTIONS_PATH=build_dir)
    env.pop('VIRTUAL_ENV', None)
    print('+ %s' % ' '.join(command), flush=True)
    return subprocess.call(command, cwd=cwd, env=env)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collection', required=True)
    parser.add_argument('--build-dir', required=True)
    parser.add_argument('--cores', required=True, help='space-separated ansible-core releases for sanity and units')
    parser.add_argument('--integration', default='', help='space-separated releases that also run the integration suite')
    parser.add_argument('--era', action='append', default=[], help='server era(s) for the integration runs')
    args = parser.parse_args()

    rows = []
    for core in args.cores.split():
        stages = ['sanity', 'units'] + (['integration'] if core in args.integration.split() else [])
        python = find_python(pythons_for(core))
        if not python:
            rows += [(core, 'none of ' + '/'.join(pythons_for(core)), stage, 'NO PYTHON', 0) for stage in stages]
            continue
        venv = ensure_venv(core, python)
        venv_python = os.path.join(venv, 'bin', 'python')
        pyver = subprocess.check_output([venv_python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], text=True).strip()
        subprocess.check_call([venv_python, os.path.join(HERE, 'seed_get_pip.py'), venv_python])
        for stage in stages:
            print('=== ansible-core %s on Python %s: %s' % (core, pyver, stage), flush=True)
            if stage == 'integration':
                command = [venv_python, os.path.join(HERE, 'run_integration.py'), '--collection', args.collection]
                for era in args.era:
                    command += ['--era', era]
            else:
                command = [os.path.join(venv, 'bin', 'ansible-test'), stage, '--python', pyver, '--local', '--color', 'no']
            start = time.monotonic()
            rc = run(command, venv, args.collection, args.build_dir)
            rows.append((core, pyver, stage + (' (%s)' % ' '.join(args.era) if stage == 'integration' and args.era else ''),
                         'ok' if rc == 0 else 'FAILED (rc %s)' % rc, round(time.monotonic() - start)))

    print('\n| ansible-core | Python | stage | result | seconds |\n|---|---|---|---|---|')
    for row in rows:
        print('| %s | %s | %s | %s | %s |' % row)
    failed = [row for row in rows if row[3] != 'ok']
    print('matrix: %d passed, %d failed' % (len(rows) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
