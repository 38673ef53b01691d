"""Command line: run the server, or create an account / read stats / read the outbox of a data dir."""

import argparse
import json
import os
import signal
import sys
import threading

from . import accounts, confine, faults, projects
from .hub import Hub, parse_latency
from .eras import DEFAULT_ERA, ERAS, PROFILES
from .store import Store
from .util import is_valid_email

BOOTSTRAP_FILE = 'bootstrap.json'
BOOTSTRAP_EMAIL = 'admin@localhost.localdomain'
COMMANDS = ('account', 'stats', 'outbox', 'faults')


def _fail(message):
    sys.stderr.write('serve: %s\n' % message)
    sys.exit(2)


def _data_dir(path, create):
    path = os.path.abspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        _fail('--data-dir %s is not a directory' % path)
    if not os.path.isdir(path):
        if not create:
            _fail('--data-dir %s does not exist (start the server on it first)' % path)
        os.makedirs(path, mode=0o700)
    return path


def _seconds(option):
    """An argparse type: a finite number of seconds, 0 or more (the error names the option)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError('%s must be a number of seconds (got %r)' % (option, text)) from None
        if not 0 <= value < float('inf'):
            raise argparse.ArgumentTypeError('%s must be 0 or more seconds (got %r)' % (option, text))
        return value
    return parse


def _print_json(value):
    sys.stdout.write(json.dumps(value, indent=2) + '\n')
    sys.stdout.flush()


def _bootstrap(hub):
    """The admin account of this data dir: created on the first start, the same on every restart."""
    path = os.path.join(hub.data_dir, BOOTSTRAP_FILE)
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    profile = hub.profile
    account_id, api_key = accounts.create_record(hub.store, BOOTSTRAP_EMAIL, 'Admin', 'Local', admin=True,
                                                 with_key=profile.legacy_keys)
    if api_key is None:
        api_key = profile.new_api_key(hub.store, account_id, 'bootstrap')
    info = {'account_id': account_id, 'api_key': api_key, 'email': BOOTSTRAP_EMAIL}
    # The only place a key is kept in clear: readable by the owner only.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
        json.dump(info, handle)
    return info


def serve(argv):
    from .transport import ApiServer   # pylint: disable=import-outside-toplevel
    parser = argparse.ArgumentParser(prog='serve', description='Run the local CoCalc server (API v1 eras, or era 2026: api/v2 and conat) in the foreground.')
    parser.add_argument('--data-dir', required=True, help='state directory (created when missing)')
    parser.add_argument('--host', default='127.0.0.1', help='address to bind (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=0, help='port (default 0: any free port)')
    parser.add_argument('--era', choices=ERAS, default=DEFAULT_ERA, help='hub behaviour to emulate (default %s)' % DEFAULT_ERA)
    parser.add_argument('--latency', default='none', help="'none' (default), 'real-hub' or 'HUB_MS,PROJECT_MS'")
    parser.add_argument('--start-seconds', type=_seconds('--start-seconds'), default=None,
                        help='how long a project start takes alone (default 3, 4 with --latency real-hub; 0: at once)')
    parser.add_argument('--host-error-seconds', type=_seconds('--host-error-seconds'), default=0.0,
                        help="after a start, answer project calls 'Error: unable to determine host' this long (default 0: off)")
    parser.add_argument('--verbose', action='store_true', help='log every request to stderr')
    parser.add_argument('--confine', choices=confine.MODES, default='auto',
                        help="how projects are confined: 'bwrap' (own uid, bubblewrap sandbox; the default as root), "
                             "'none' (the server's user; the default otherwise)")
    parser.add_argument('--faults', metavar='SPEC', help='inject faults: JSON text or a JSON file (see README.md)')
    args = parser.parse_args(argv)
    try:
        parse_latency(args.latency)
    except ValueError as error:
        parser.error(str(error))
    try:
        confinement = confine.resolve_mode(args.confine)
    except ValueError as error:
        parser.error('--confine: %s' % error)
    spec = None
    if args.faults is not None:
        try:
            spec = faults.load_spec_text(args.faults)
        except faults.SpecError as error:
            parser.error('--faults: %s' % error)
    data_dir = _data_dir(args.data_dir, create=True)
    if spec is not None:
        faults.write(data_dir, spec)
    hub = Hub(data_dir, era=args.era, latency=args.latency, start_seconds=args.start_seconds,
              host_error_seconds=args.host_error_seconds, confine=confinement)
    # `serve account` makes keys in the format of the era this dir was last served in.
    hub.store.set_meta('era', args.era)
    projects.finish_interrupted_starts(hub)
    info = _bootstrap(hub)
    try:
        server = ApiServer((args.host, args.port), hub, verbose=args.verbose)
    except OSError as error:
        _fail('cannot listen on %s:%s: %s' % (args.host, args.port, error))
    host, port = server.server_address[:2]
    shown_host = '[%s]' % host if ':' in host else host
    hub.url = 'http://%s:%d' % (shown_host, port)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True)
    thread.start()
    sys.stdout.write(json.dumps({'url': hub.url, 'api_key': info['api_key'], 'account_id': info['account_id'],
                                 'email': info['email']}) + '\n')
    sys.stdout.flush()
    sys.stderr.write('serve: %s era %s, data dir %s, projects confined: %s\n' % (hub.url, args.era, hub.data_dir, confinement))
    while not stop.wait(1.0):
        pass
    server.stopping = True
    server.shutdown()
    server.server_close()
    hub.store.close()
    return 0


def account(argv):
    parser = argparse.ArgumentParser(prog='serve account', description='Create an account in a data dir.')
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--email', required=True)
    parser.add_argument('--first-name', default='')
    parser.add_argument('--last-name', default='')
    parser.add_argument('--password', help='6 to 64 characters; without it the account has no password')
    parser.add_argument('--admin', action='store_true', help='put the account in group admin')
    parser.add_argument('--era', choices=ERAS, help='key format of this era (default: the era the dir was last served in)')
    args = parser.parse_args(argv)
    email = args.email.strip().lower()
    if not is_valid_email(email):
        parser.error('--email %r is not a valid email address' % args.email)
    if args.password is not None and not 6 <= len(args.password) <= 64:
        parser.error('--password must be between 6 and 64 characters')
    store = Store(_data_dir(args.data_dir, create=True))
    try:
        if store.account_by_email(email) is not None:
            _fail('--email %s: an account with this address exists' % email)
        profile = PROFILES[args.era or store.get_meta('era', DEFAULT_ERA)]
        account_id, api_key = accounts.create_record(store, email, args.first_name, args.last_name, args.password,
                                                     admin=args.admin, with_key=profile.legacy_keys)
        if api_key is None:
            api_key = profile.new_api_key(store, account_id)
    finally:
        store.close()
    _print_json({'account_id': account_id, 'api_key': api_key})
    return 0


def stats(argv):
    parser = argparse.ArgumentParser(prog='serve stats', description='Per-endpoint request counts of a data dir.')
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--reset', action='store_true', help='print the counts, then zero them')
    args = parser.parse_args(argv)
    store = Store(_data_dir(args.data_dir, create=False))
    try:
        _print_json(store.stats())
        if args.reset:
            store.reset_stats()
    finally:
        store.close()
    return 0


def outbox(argv):
    parser = argparse.ArgumentParser(prog='serve outbox', description='Emails the server would have sent.')
    parser.add_argument('--data-dir', required=True)
    args = parser.parse_args(argv)
    store = Store(_data_dir(args.data_dir, create=False))
    try:
        _print_json(store.outbox())
    finally:
        store.close()
    return 0


def faults_command(argv):
    parser = argparse.ArgumentParser(prog='serve faults', description='Set or clear the faults of a data dir '
                                     '(a running server picks the change up at its next request).')
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--clear', action='store_true', help='remove the faults')
    parser.add_argument('spec', nargs='?', metavar='SPEC', help='JSON text or a JSON file')
    args = parser.parse_args(argv)
    if args.clear == (args.spec is not None):
        parser.error('give either SPEC or --clear')
    data_dir = _data_dir(args.data_dir, create=False)
    if args.clear:
        faults.clear(data_dir)
        return 0
    try:
        spec = faults.load_spec_text(args.spec)
    except faults.SpecError as error:
        parser.error('SPEC: %s' % error)
    faults.write(data_dir, spec)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return {'account': account, 'stats': stats, 'outbox': outbox, 'faults': faults_command}[argv[0]](argv[1:])
    return serve(argv)
