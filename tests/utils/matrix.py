#!/usr/bin/env python
"""`make matrix`: sanity and units on each older ansible-core, and the integration suite on the oldest.

Each release of tests/utils/versions (the one place for the pins) gets its own venv, .venv-<core>, on the
first of its Pythons that works here (tests/utils/find_python.sh), rebuilt when its pins change. Every
stage runs even when an earlier one failed; the end is a table (core, Python, stage, result, seconds)
and the exit code is non-zero if any stage failed or a release had no usable Python.

`make test` splits this in three so that it runs beside the other stages: --prepare builds every venv at
the same time (before anything else runs), --stages sanity,units runs the checks, --stages integration the
suite (each in its own log file under --log-dir, printed when the stage fails).
pylint is skipped on the older releases (--sanity-skip pylint): the main toolchain's sanity stage runs it
with the newest rule set on the same code, and it is the slowest test of a sanity run.

Usage: matrix.py --collection DIR --build-dir DIR --cores "2.20.10 ..." [--integration "2.17.14"] [--era 2024 ...]
                 [--prepare] [--stages sanity,units,integration] [--sanity-skip pylint] [--log-dir DIR]
"""

import argparse
import hashlib
import os
import subprocess
import sys
import threading
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


def prepare(core):
    """(python, venv, X.Y) of a core, its venv ready and ansible-test's pip bootstrap seeded; None without a Python."""
    python = find_python(pythons_for(core))
    if not python:
        return None
    venv = ensure_venv(core, python)
    venv_python = os.path.join(venv, 'bin', 'python')
    pyver = subprocess.check_output([venv_python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], text=True).strip()
    subprocess.check_call([venv_python, os.path.join(HERE, 'seed_get_pip.py'), venv_python])
    return python, venv, pyver


def prepare_all(cores):
    """Every core's venv at the same time (pip mostly waits on downloads); the exit code."""
    failures = []

    def one(core):
        try:
            if prepare(core) is None:
                failures.append('%s: none of Python %s found' % (core, '/'.join(pythons_for(core))))
        except (subprocess.CalledProcessError, OSError) as exc:
            failures.append('%s: %s' % (core, exc))

    threads = [threading.Thread(target=one, args=(core,)) for core in cores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for failure in failures:
        print('matrix: venv for ansible-core %s' % failure, file=sys.stderr)
    print('matrix: venvs ready for %s' % ' '.join(cores), flush=True)
    return 1 if failures else 0


def run(command, venv, cwd, build_dir, log_path=None):
    """Run one stage; with log_path its output goes there and is printed only when the stage fails."""
    env = dict(os.environ, PATH='%s:%s' % (os.path.join(venv, 'bin'), os.environ['PATH']), ANSIBLE_COLLECTIONS_PATH=build_dir)
    env.pop('VIRTUAL_ENV', None)
    print('+ %s' % ' '.join(command), flush=True)
    if not log_path:
        return subprocess.call(command, cwd=cwd, env=env)
    with open(log_path, 'w+', encoding='utf-8') as log:
        rc = subprocess.call(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        if rc:
            log.seek(0)
            print('--- %s (failed, rc %s):' % (log_path, rc), flush=True)
            sys.stdout.write(log.read())
            print('--- end of %s' % log_path, flush=True)
        else:
            print('    ok, log: %s' % log_path, flush=True)
    return rc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collection', required=True)
    parser.add_argument('--build-dir', required=True)
    parser.add_argument('--cores', required=True, help='space-separated ansible-core releases for sanity and units')
    parser.add_argument('--integration', default='', help='space-separated releases that also run the integration suite')
    parser.add_argument('--era', action='append', default=[], help='server era(s) for the integration runs')
    parser.add_argument('--prepare', action='store_true', help='only build the venvs (all at the same time) and exit')
    parser.add_argument('--stages', default='sanity,units,integration', help='which stages to run (comma-separated)')
    parser.add_argument('--sanity-skip', action='append', default=[], help='sanity test to skip on these releases (repeatable)')
    parser.add_argument('--log-dir', help="each stage's output in LOG_DIR/matrix-<core>-<stage>.log (printed when it fails)")
    args = parser.parse_args()
    if args.prepare:
        return prepare_all(sorted(set(args.cores.split() + args.integration.split())))
    wanted = args.stages.split(',')
    if args.log_dir:
        os.makedirs(args.log_dir, exist_ok=True)

    rows = []
    for core in args.cores.split():
        stages = [stage for stage in ['sanity', 'units'] + (['integration'] if core in args.integration.split() else []) if stage in wanted]
        if not stages:
            continue
        prepared = prepare(core)
        if not prepared:
            rows += [(core, 'none of ' + '/'.join(pythons_for(core)), stage, 'NO PYTHON', 0) for stage in stages]
            continue
        venv, pyver = prepared[1], prepared[2]
        for stage in stages:
            print('=== ansible-core %s on Python %s: %s' % (core, pyver, stage), flush=True)
            if stage == 'integration':
                command = [os.path.join(venv, 'bin', 'python'), os.path.join(HERE, 'run_integration.py'), '--collection', args.collection]
                for era in args.era:
                    command += ['--era', era]
            else:
                command = [os.path.join(venv, 'bin', 'ansible-test'), stage, '--python', pyver, '--local', '--color', 'no']
                if stage == 'sanity':
                    for test in args.sanity_skip:
                        command += ['--skip-test', test]
            log_path = os.path.join(args.log_dir, 'matrix-%s-%s.log' % (core, stage)) if args.log_dir else None
            start = time.monotonic()
            rc = run(command, venv, args.collection, args.build_dir, log_path)
            label = stage + (' (%s)' % ' '.join(args.era) if stage == 'integration' and args.era else '')
            if stage == 'sanity' and args.sanity_skip:
                label += ' (without %s)' % ', '.join(args.sanity_skip)
            rows.append((core, pyver, label, 'ok' if rc == 0 else 'FAILED (rc %s)' % rc, round(time.monotonic() - start)))

    print('\n| ansible-core | Python | stage | result | seconds |\n|---|---|---|---|---|')
    for row in rows:
        print('| %s | %s | %s | %s | %s |' % row)
    failed = [row for row in rows if row[3] != 'ok']
    print('matrix: %d passed, %d failed' % (len(rows) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
