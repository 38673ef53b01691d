"""Local CoCalc server benchmark: requests/second and p50/p99 latency per operation and client count.

Operations: `ping`, a `query` get (one project's title), a `query` set (that project's description) and
`write_text_file_to_project` (a small file per client), each under 1 and 20 concurrent clients. Every
client is a thread with its own HTTP session. Each cell runs until it made --requests requests or spent
--seconds, whichever comes first; errors (non-200, error events) are counted, not timed away.

By default it starts `tests/server/serve` in a temporary data dir (loopback, ephemeral port, the
server's own `--latency none`) and stops it afterwards; --url/--api-key measure a running server
instead (loopback addresses only: this is a load generator).

Usage: python bench/server_bench.py [--era 2024|guide] [--requests 2000] [--seconds 10] [--clients 1,20]
                                    [--url http://127.0.0.1:PORT --api-key KEY] [--json]
"""

import argparse
import concurrent.futures
import json
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests' / 'server' / 'tests'))

from cocalc_testlib import Api, ServerProcess  # noqa: E402  pylint: disable=wrong-import-position,import-error

LOOPBACK = ('127.0.0.1', 'localhost', '::1')


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float('nan')
    rank = max(1, int(round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def operations(project_id):
    """name -> function(api, client, n) -> (status, event) for one request."""
    def ping(api, _client, _n):
        return api.raw('ping', {})

    def query_get(api, _client, _n):
        return api.raw('query', {'query': {'projects': {'project_id': project_id, 'title': None}}})

    def query_set(api, client, n):
        return api.raw('query', {'query': {'projects': {'project_id': project_id, 'description': 'client %d request %d' % (client, n)}}})

    def write_file(api, client, n):
        return api.raw('write_text_file_to_project', {'project_id': project_id, 'path': 'bench/client-%02d.txt' % client,
                                                      'content': 'request %d\n' % n})
    return {'ping': ping, 'query get': query_get, 'query set': query_set, 'write_text_file': write_file}


def measure(url, key, operation, clients, max_requests, max_seconds):
    """Run one cell; returns a dict of counts, rate and latency percentiles (ms)."""
    latencies = []
    errors = [0]
    issued = [0]
    lock = threading.Lock()
    clock = {}

    def start_clock():   # runs once, when every client has its connection open
        clock['start'] = time.monotonic()
        clock['deadline'] = clock['start'] + max_seconds

    barrier = threading.Barrier(clients, action=start_clock)

    def client(index):
        api = Api(url, key)
        api.raw('ping', {})   # open the connection before the clock starts
        barrier.wait()
        mine = []
        while True:
            with lock:
                if issued[0] >= max_requests or time.monotonic() > clock['deadline']:
                    break
                issued[0] += 1
                number = issued[0]
            started = time.perf_counter()
            reply = operation(api, index, number)
            mine.append(time.perf_counter() - started)
            if reply.status != 200 or reply.json is None or reply.json.get('event') == 'error':
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, index) for index in range(clients)]
        for future in futures:
            future.result()
    elapsed = time.monotonic() - clock['start']
    latencies.sort()
    return {'requests': len(latencies), 'errors': errors[0], 'seconds': elapsed, 'rps': len(latencies) / elapsed if elapsed else 0.0,
            'p50_ms': percentile(latencies, 0.50) * 1000, 'p99_ms': percentile(latencies, 0.99) * 1000}


def prepare(url, admin_key):
    """An account of its own and a project to work in; returns (key, project_id)."""
    admin = Api(url, admin_key)
    email = 'bench-%d@example.com' % int(time.time() * 1000)
    made = admin.call('create_account', first_name='Bench', last_name='Mark', email_address=email, password='bench-pass-123',
                      agreed_to_terms=True, get_api_key=True)
    key = made.get('api_key') or admin_key   # the guide era's create_account returns no key: bench as the admin then
    project = Api(url, key).ok('create_project', title='server bench')['project_id']
    # Start the project before the clock runs: the first project call waits for the start (seconds),
    # and calls made during it are refused, neither of which is what this benchmark measures.
    Api(url, key).ok('write_text_file_to_project', project_id=project, path='.bench-start', content='')
    return key, project


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--url', help='a running server (loopback only); default: start one')
    parser.add_argument('--api-key', help='key for --url (an account that may create projects)')
    parser.add_argument('--era', default='2024', choices=('2024', 'guide'), help='era of the server this script starts')
    parser.add_argument('--requests', type=int, default=2000, help='at most this many requests per cell (default 2000)')
    parser.add_argument('--seconds', type=float, default=10.0, help='at most this long per cell (default 10)')
    parser.add_argument('--clients', default='1,20', help='concurrent client counts (default 1,20)')
    parser.add_argument('--json', action='store_true', help='print the results as JSON instead of a table')
    args = parser.parse_args(argv)
    if args.url and not args.api_key:
        parser.error('--url needs --api-key')
    if args.url and urllib.parse.urlsplit(args.url).hostname not in LOOPBACK:
        parser.error('--url must be a loopback address (%s)' % ', '.join(LOOPBACK))
    counts = [int(item) for item in args.clients.split(',')]

    server = None
    with tempfile.TemporaryDirectory(prefix='cocalc-bench-') as scratch:
        if args.url:
            url, admin_key = args.url, args.api_key
        else:
            server = ServerProcess(Path(scratch) / 'data', args.era)
            server.start()
            url, admin_key = server.url, server.api_key
        try:
            key, project = prepare(url, admin_key)
            results = []
            for name, operation in operations(project).items():
                for clients in counts:
                    row = measure(url, key, operation, clients, args.requests, args.seconds)
                    row.update(operation=name, clients=clients)
                    results.append(row)
                    if not args.json:
                        print('%-16s %3d clients: %6d requests %4d errors %6.1f s %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms'
                              % (name, clients, row['requests'], row['errors'], row['seconds'], row['rps'], row['p50_ms'], row['p99_ms']),
                              flush=True)
        finally:
            rc = server.stop() if server else 0
    if args.json:
        print(json.dumps({'era': args.era if server else None, 'url': None if server else url, 'results': results}, indent=2))
    else:
        print()
        print('| operation | clients | requests | errors | req/s | p50 ms | p99 ms |')
        print('|---|---:|---:|---:|---:|---:|---:|')
        for row in results:
            cells = (row['operation'], row['clients'], row['requests'], row['errors'], row['rps'], row['p50_ms'], row['p99_ms'])
            print('| %s | %d | %d | %d | %.0f | %.2f | %.2f |' % cells)
    if rc not in (0, None):
        print('the server exited with %r on SIGTERM' % rc, file=sys.stderr)
        return 1
    return 1 if any(row['errors'] for row in results) else 0


if __name__ == '__main__':
    sys.exit(main())
