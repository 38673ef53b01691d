"""Fixtures for the local CoCalc server tests.

Each era gets one server per test session, started as a subprocess (`tests/server/serve`) in its own
temporary data dir; the fixture parses the ready line and, at the end, stops the server with SIGTERM
and checks that it exits with 0. Tests make their own accounts (unique e-mail addresses) so they never
depend on each other's data. The helpers themselves live in `cocalc_testlib.py`.
"""

import pytest

from cocalc_testlib import ERAS, INSTANT_STARTS, ServerProcess


def _start(tmp_path_factory, era):
    server = ServerProcess(tmp_path_factory.mktemp('data-%s' % era) / 'data', era, extra_args=INSTANT_STARTS)
    server.start()
    return server


def _stop_and_check(server):
    rc = server.stop()
    assert rc == 0, 'the %s server exited with %r on SIGTERM; its log:\n%s' % (server.era, rc, server.log_tail())


@pytest.fixture(scope='session')
def server_2024(tmp_path_factory):
    """A running 2024-era server (the default era), shared by the whole session."""
    server = _start(tmp_path_factory, '2024')
    yield server
    _stop_and_check(server)


@pytest.fixture(scope='session')
def server_guide(tmp_path_factory):
    """A running guide-era server, shared by the whole session."""
    server = _start(tmp_path_factory, 'guide')
    yield server
    _stop_and_check(server)


@pytest.fixture(scope='session', params=ERAS, ids=['era-%s' % era for era in ERAS])
def server(request):
    """The same test once per era: the session server of that era."""
    return request.getfixturevalue('server_%s' % request.param)


@pytest.fixture
def alice(server):
    """A fresh account on the era's server (a new one per test, so tests never share state)."""
    return server.new_account('alice', first_name='Alice', last_name='Tester')


@pytest.fixture
def bob(server):
    """A second fresh account on the same server."""
    return server.new_account('bob', first_name='Bob', last_name='Builder')


@pytest.fixture
def project(alice):
    """A project owned by `alice` (title is unique per test)."""
    return alice.new_project()


def pytest_terminal_summary(terminalreporter, config):
    """Print the conformance replay's counts (replayed / matched / skipped, with the skip reasons)."""
    summary = getattr(config, 'cocalc_conformance_summary', None)
    if summary:
        terminalreporter.write_sep('-', 'conformance with the real-hub recordings')
        terminalreporter.write_line(summary)
