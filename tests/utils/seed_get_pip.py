#!/usr/bin/env python
"""Seed ansible-test's pip bootstrap cache, because its download host is unreachable here.

ansible-test bootstraps every venv it creates by running ~/.ansible/test/cache/get_pip_X_Y.py; when that
file is missing it downloads it from a host outside the package registries, which fails on these machines.
We put a small stand-in there that installs pip from a wheel fetched from PyPI (see TOOLCHAIN.md, gotcha 1).
Usage: seed_get_pip.py PYTHON  (the Python whose ansible-test needs the cache)
"""

import os
import re
import subprocess
import sys

SHIM = '''import glob, os, sys
whl = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pip-%s-*.whl')))[-1]
sys.path.insert(0, whl)
from pip._internal.cli.main import main
sys.exit(main(['install', '--quiet'] + [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]))
'''


def required_pip_version(python):
    """Read the pip version that this ansible-test pins for its venvs."""
    source = subprocess.check_output([python, '-c', 'import ansible_test._internal.python_requirements as m, inspect; print(inspect.getsource(m))'],
                                     text=True)
    match = re.search(r"pip='([0-9.]+)'", source)
    if not match:
        sys.exit('seed_get_pip: cannot find the pip version pinned by ansible-test')
    return match.group(1)


def main():
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    version = required_pip_version(python)
    cache = os.path.expanduser('~/.ansible/test/cache')
    os.makedirs(cache, exist_ok=True)
    if not any(name.startswith('pip-%s-' % version) and name.endswith('.whl') for name in os.listdir(cache)):
        subprocess.check_call([python, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', cache, 'pip==%s' % version])
    with open(os.path.join(cache, 'get_pip_%s.py' % version.replace('.', '_')), 'w', encoding='utf-8') as handle:
        handle.write(SHIM % version)
    print('seeded get_pip for pip %s in %s' % (version, cache))


if __name__ == '__main__':
    main()
