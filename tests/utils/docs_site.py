#!/usr/bin/env python
"""`make docs-site`: build the collection's HTML docs as Ansible collections publish them, then look at them.

1. `antsibull-docs sphinx-init --use-current` and its build.sh (antsibull-docs collection + sphinx-build -W)
   for the collection found in --collections: every module, the lookup, the role and the guides of
   docs/docsite. Offline here, so conf.py gets no intersphinx inventories and ignores refs to labels that
   live on docs.ansible.com (TOOLCHAIN.md). Any WARNING or ERROR line in the build output fails it.
2. A smoke check in headless Chromium (Debian's `chromium`, installed with apt-get when missing): the
   site index, the collection index, a module page, the lookup, the role and a guide are rendered, and
   each must exist and show what it documents (the collection index names every plugin, role and guide;
   the module page has every option of the module).

Usage: docs_site.py --collections DIR --dest DIR   (DIR holds ansible_collections/cocalc/cocalc)
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

COLLECTION = 'cocalc.cocalc'
CONF_FIX = '''
# Offline build (make docs-site): no inventories from docs.ansible.com, whose ref labels and environment
# variables (the inventory cache's ANSIBLE_CACHE_PLUGIN*, documented by ansible-core) cannot resolve here.
intersphinx_mapping = {}
suppress_warnings = ['ref.ref', 'ref.envvar']
'''
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']


def fail(message):
    sys.exit('docs_site: FAILED: %s' % message)


def build(collections, dest, env):
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest, mode=0o700)  # antsibull-docs wants a directory only its owner can write
    subprocess.check_call(['antsibull-docs', 'sphinx-init', '--use-current', '--dest-dir', dest, COLLECTION], env=env,
                          stdout=subprocess.DEVNULL)
    with open(os.path.join(dest, 'conf.py'), 'a', encoding='utf-8') as handle:
        handle.write(CONF_FIX)
    result = subprocess.run(['bash', os.path.join(dest, 'build.sh')], env=env, cwd=dest, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    print(result.stdout[-2000:])
    problems = [line for line in result.stdout.splitlines() if re.search(r'\b(WARNING|ERROR|CRITICAL)\b', line)]
    if result.returncode or problems:
        fail('the docs build exited %s with %d warning/error lines:\n%s' % (result.returncode, len(problems), '\n'.join(problems)))
    return os.path.join(dest, 'build', 'html')


def chromium():
    path = shutil.which('chromium')
    if path:
        return path
    print('docs_site: chromium is missing; installing Debian\'s package', flush=True)
    sudo = [] if os.geteuid() == 0 else ['sudo', '-n']
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    install = sudo + ['apt-get', 'install', '-y', '-q', 'chromium']
    if subprocess.call(install, env=env, stdout=subprocess.DEVNULL) != 0:
        subprocess.call(sudo + ['apt-get', 'update', '-q'], env=env, stdout=subprocess.DEVNULL)
        if subprocess.call(install, env=env, stdout=subprocess.DEVNULL) != 0:
            fail('cannot install chromium (apt-get install -y chromium, as root) for the smoke check')
    return shutil.which('chromium') or fail('chromium was installed but is not in PATH')


def render(browser, page):
    """The DOM of a local page after Chromium loaded it (scripts run), or fail if it is missing or empty."""
    if not os.path.isfile(page):
        fail('page missing: %s' % page)
    with tempfile.TemporaryDirectory(prefix='docs-smoke-') as profile:
        result = subprocess.run([browser] + CHROMIUM_FLAGS + ['--user-data-dir=' + profile, '--dump-dom', 'file://' + page],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    dom = result.stdout
    text = re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', re.sub(r'(?s)<(script|style)\b.*?</\1>', ' ', dom)))
    if result.returncode or len(text.strip()) < 200:
        fail('Chromium rendered %s as an empty page (rc %s, %d characters of text): %s'
             % (page, result.returncode, len(text.strip()), result.stderr[-500:]))
    return dom, text


def expect(page, haystack, needles):
    missing = [needle for needle in needles if needle not in haystack]
    if missing:
        fail('%s does not show: %s' % (page, ', '.join(missing)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collections', required=True)
    parser.add_argument('--dest', required=True)
    args = parser.parse_args()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.abspath(args.collections))
    root = os.path.join(args.collections, 'ansible_collections', 'cocalc', 'cocalc')

    html = build(os.path.abspath(args.collections), os.path.abspath(args.dest), env)
    pages = os.path.join(html, 'collections', 'cocalc', 'cocalc')
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(root, 'plugins', 'modules')) if name.endswith('.py') and name[0] != '_')
    lookups = sorted(name[:-3] for name in os.listdir(os.path.join(root, 'plugins', 'lookup')) if name.endswith('.py') and name[0] != '_')
    others = [(kind, name[:-3]) for kind in ('connection', 'inventory') if os.path.isdir(os.path.join(root, 'plugins', kind))
              for name in sorted(os.listdir(os.path.join(root, 'plugins', kind))) if name.endswith('.py') and name[0] != '_']
    roles = sorted(os.listdir(os.path.join(root, 'roles')))
    with open(os.path.join(root, 'docs', 'docsite', 'extra-docs.yml'), encoding='utf-8') as handle:
        guides = [guide for section in yaml.safe_load(handle)['sections'] for guide in section['toctree']]
    expected = ['%s_module.html' % name for name in modules] + ['%s_lookup.html' % name for name in lookups] + \
        ['%s_%s.html' % (name, kind) for kind, name in others] + \
        ['%s_role.html' % name for name in roles] + [os.path.join('docsite', '%s.html' % guide) for guide in guides]
    for page in expected:
        path = os.path.join(pages, page)
        if not os.path.isfile(path) or os.path.getsize(path) < 1000:
            fail('page missing or empty: %s' % path)
    print('docs_site: %d pages built (%d modules, %d lookups, %d connection/inventory plugins, %d roles, %d guides)'
          % (len(expected), len(modules), len(lookups), len(others), len(roles), len(guides)))

    browser = chromium()
    _dom, text = render(browser, os.path.join(html, 'index.html'))
    expect('index.html', text, [COLLECTION])
    dom, text = render(browser, os.path.join(pages, 'index.html'))
    expect('the collection index', text, [COLLECTION])
    expect('the collection index', dom, ['href="%s' % page for page in expected])
    module = 'cocalc_course' if 'cocalc_course' in modules else modules[0]
    doc = json.loads(subprocess.check_output(['ansible-doc', '--json', '-t', 'module', '%s.%s' % (COLLECTION, module)], env=env))
    options = sorted(doc['%s.%s' % (COLLECTION, module)]['doc']['options'])
    dom, text = render(browser, os.path.join(pages, '%s_module.html' % module))
    expect('%s_module.html' % module, text, ['%s.%s' % (COLLECTION, module), 'Parameters', 'Examples', 'Return Values'])
    expect('%s_module.html' % module, dom, ['id="parameter-%s"' % option for option in options])
    for page, needles in [('%s_lookup.html' % lookups[0], ['%s.%s' % (COLLECTION, lookups[0]), 'Terms']),
                          ('%s_role.html' % roles[0], ['%s.%s' % (COLLECTION, roles[0]), 'Entry point']),
                          (os.path.join('docsite', '%s.html' % guides[-1]), [])]:
        _dom, text = render(browser, os.path.join(pages, page))
        expect(page, text, needles)
    print('docs_site: Chromium rendered the index, the collection index, %s (all %d options), %s, %s and %s'
          % (module, len(options), lookups[0], roles[0], guides[-1]))


if __name__ == '__main__':
    main()
