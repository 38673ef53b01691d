#!/usr/bin/env python
"""`make test`: run the stages in lanes at the same time, each stage's output in its own log file.

A lane is a list of make targets run one after another; the lanes run at the same time. The integration
suites mostly wait for (simulated) project starts while sanity, units and the server tests mostly compute,
so putting them in different lanes shortens the wall time without dropping anything. Every stage runs even
when an earlier one failed, so one run shows every problem. A stage's output goes to LOG_DIR/<stage>.log
and is printed whole when the stage fails; the end is a table of the stages (lane, start, seconds, result)
and the exit code is non-zero if any stage failed.

Usage: run_stages.py --log-dir DIR [--make "make --no-print-directory"] --lane "integration" --lane "sanity units ..."
"""

import argparse
import os
import shlex
import subprocess
import sys
import threading
import time

PRINT_LOCK = threading.Lock()


def say(text):
    with PRINT_LOCK:
        print(text, flush=True)


def run_stage(make, stage, log_dir, origin):
    """Run one make target with its output in its own log; (stage, lane start offset, seconds, rc, log)."""
    log_path = os.path.join(log_dir, '%s.log' % stage)
    started = time.monotonic()
    say('=== stage %s: started at %d s (log: %s)' % (stage, started - origin, log_path))
    with open(log_path, 'w+', encoding='utf-8') as log:
        rc = subprocess.call(make + [stage], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        if rc:
            log.seek(0)
            with PRINT_LOCK:
                print('=== stage %s: FAILED (rc %s) in %d s; its log follows' % (stage, rc, seconds), flush=True)
                sys.stdout.write(log.read())
                print('=== end of the log of stage %s (%s)' % (stage, log_path), flush=True)
        else:
            say('=== stage %s: ok in %d s' % (stage, seconds))
    return stage, started - origin, seconds, rc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--log-dir', required=True)
    parser.add_argument('--make', default='make --no-print-directory', help='the command that runs one stage (the stage name is appended)')
    parser.add_argument('--lane', action='append', required=True, help='space-separated stages run one after another')
    args = parser.parse_args()
    os.makedirs(args.log_dir, exist_ok=True)
    make = shlex.split(args.make)
    lanes = [lane.split() for lane in args.lane if lane.split()]
    rows = {}
    origin = time.monotonic()

    def one(number, stages):
        for stage in stages:
            rows[stage] = (number,) + run_stage(make, stage, args.log_dir, origin)

    threads = [threading.Thread(target=one, args=(number, stages)) for number, stages in enumerate(lanes, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wall = time.monotonic() - origin
    print('\n| stage | lane | started at s | seconds | result |\n|---|---:|---:|---:|---|')
    failed = []
    for stages in lanes:
        for stage in stages:
            lane, _stage, start, seconds, rc = rows[stage]
            print('| %s | %d | %d | %d | %s |' % (stage, lane, start, seconds, 'ok' if rc == 0 else 'FAILED (rc %s)' % rc))
            if rc:
                failed.append(stage)
    print('wall time of the stages: %d s (%d min %d s); logs in %s' % (wall, wall // 60, wall % 60, args.log_dir))
    if failed:
        print('failed stages: %s' % ' '.join(failed))
    print('stages: %d passed, %d failed' % (len(rows) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
