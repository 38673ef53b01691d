"""A project cannot write or delete a host file outside its home by any endpoint (issue 10).

Every attack runs against host files in three places (next to the server's data dir, in the data dir
itself, and outside /tmp), through project_exec (rm, echo >, chdir through a symlink), file writes,
reads and copies through symlinks; afterwards every host file is intact. Symlinks swapped in while a
call runs (after the path was checked) are simulated in-process. When the server runs as root
(CI and here), projects also run as their own unprivileged uid in a sandbox.
"""

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cocalc_hub import copies, files  # noqa: E402  pylint: disable=wrong-import-position
from cocalc_hub.errors import HandlerError  # noqa: E402  pylint: disable=wrong-import-position
from cocalc_hub.hub import Caller, Hub  # noqa: E402  pylint: disable=wrong-import-position

ROOT_MODE = os.geteuid() == 0


@pytest.fixture
def host_files(server, tmp_path):
    """Host files a project must not touch: {path: content}. Checked intact after the test."""
    outside_tmp = Path(tempfile.mkdtemp(prefix='.cocalc-confine-', dir=os.path.expanduser('~')))
    made = {}
    for directory in (tmp_path, server.data_dir, outside_tmp):
        path = Path(directory) / ('host-%s.txt' % uuid.uuid4().hex[:8])
        path.write_text('host data\n')
        made[str(path)] = 'host data\n'
    yield made
    try:
        for path, content in made.items():
            assert Path(path).read_text() == content, '%s was changed or deleted by a project' % path
    finally:
        shutil.rmtree(outside_tmp, ignore_errors=True)
        for path in made:
            if Path(path).exists():
                os.unlink(path)


def exec_call(account, project, command, **options):
    return account.api.call('project_exec', project_id=project, command=command, **options)


def wait_copy(server):
    return {'wait_until_done': True} if server.era == '2024' else {}


@pytest.mark.skipif(not ROOT_MODE, reason="without root, project_exec runs as the server's user (a developer's own processes)")
def test_exec_cannot_write_or_delete_host_files(server, alice, host_files):
    project = alice.new_project()
    for host in host_files:
        exec_call(alice, project, 'rm', args=['-f', host])
        exec_call(alice, project, 'rm -rf %s; echo pwned > %s; echo pwned >> %s' % (host, host, host), bash=True)
        exec_call(alice, project, 'python3', args=['-c', 'import os; os.unlink(%r)' % host])
        # A symlink made by the project itself, then used as the working directory.
        exec_call(alice, project, 'ln -sfn %s hostdir' % os.path.dirname(host), bash=True)
        exec_call(alice, project, 'rm -f %s; echo pwned > %s' % ((os.path.basename(host),) * 2), bash=True, path='hostdir')


@pytest.mark.skipif(not ROOT_MODE, reason='the sandbox is used when the server runs as root')
def test_exec_runs_unprivileged_in_a_sandbox(server, alice, bob):
    project, other = alice.new_project(), bob.new_project()
    alice.write(project, 'mine.txt', 'mine')
    out = alice.execute(project, 'id -u; id -G; cat /proc/self/status | grep CapEff; ls %s; ls %s || true'
                        % (server.projects_dir, server.data_dir), bash=True)['stdout'].split('\n')
    assert out[0] != '0' and int(out[0]) >= 1000000000 and out[1] == out[0], out
    assert out[2].split()[1] == '0000000000000000', out
    assert out[3:6] == [project, 'projects', ''], out   # no database, no bootstrap key, no other home
    assert os.stat(server.home(project)).st_uid == int(out[0])
    assert os.stat(server.home(project) / 'mine.txt').st_uid == int(out[0])
    theirs = bob.execute(other, 'id -u', bash=True)['stdout'].strip()
    assert theirs not in ('0', out[0])
    assert exec_call(alice, project, 'touch /etc/cocalc-test /usr/cocalc-test', bash=True, err_on_exit=False)['exit_code'] != 0
    assert not os.path.exists('/etc/cocalc-test') and not os.path.exists('/usr/cocalc-test')
    # /tmp is private to each call and writable; the home too.
    assert alice.execute(project, 'echo t > /tmp/t && cat /tmp/t && echo h > h.txt && cat h.txt', bash=True)['stdout'] == 't\nh\n'


def test_file_endpoints_do_not_follow_symlinks_out(server, alice, host_files):
    project, target = alice.new_project(), alice.new_project()
    alice.write(project, 'a.txt', 'project data')
    for index, host in enumerate(host_files):
        link, dirlink = 'link%d' % index, 'dir%d' % index
        name = os.path.basename(host)
        exec_call(alice, project, 'ln -sfn %s %s; ln -sfn %s %s' % (host, link, os.path.dirname(host), dirlink), bash=True)
        exec_call(alice, target, 'ln -sfn %s %s; ln -sfn %s %s' % (host, link, os.path.dirname(host), dirlink), bash=True)
        # read and write through a symlink to the file and through a symlinked directory
        for path in (link, '%s/%s' % (dirlink, name)):
            assert 'outside the project home' in alice.api.error('read_text_file_from_project', project_id=project, path=path)
            assert 'outside the project home' in alice.api.error('write_text_file_to_project', project_id=project, path=path,
                                                                 content='pwned')
        # copies: into a symlink, into a symlinked directory, from a symlinked directory
        for src_path, target_path in (('a.txt', link), ('a.txt', '%s/%s' % (dirlink, name)), ('%s/%s' % (dirlink, name), 'got.txt'),
                                      ('%s/' % dirlink, 'gotdir')):
            answer = alice.api.call('copy_path_between_projects', src_project_id=project, src_path=src_path,
                                    target_project_id=target, target_path=target_path, **wait_copy(server))
            assert answer['event'] == 'error' and 'must be contained' in answer['error'], (src_path, target_path, answer)
        # exec with a working directory through a symlink
        answer = exec_call(alice, project, 'rm', args=['-f', name], path=dirlink)
        assert answer['event'] == 'error' and 'outside the project home' in answer['error'], answer


# -- races: a symlink swapped in after the path was checked (in-process, the server's own code) --------------
@pytest.fixture
def local_hub(tmp_path):
    hub = Hub(str(tmp_path / 'data'), confine='none')
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'victim.txt').write_text('host data\n')
    yield hub, outside
    assert (outside / 'victim.txt').read_text() == 'host data\n'
    assert sorted(os.listdir(outside)) == ['victim.txt']
    hub.store.close()


def _home(hub, project_id):
    home = Path(hub.projects_dir) / project_id
    (home / 'sub').mkdir(parents=True)
    (home / 'sub' / 'victim.txt').write_text('inside\n')
    return home


def _swap_after(monkeypatch, module, name, home, outside):
    """Make module.name swap home/sub for a symlink to `outside` right after it ran (the race)."""
    original = getattr(module, name)

    def racing(*args, **kwargs):
        result = original(*args, **kwargs)
        if not os.path.islink(home / 'sub'):
            shutil.rmtree(home / 'sub')
            os.symlink(str(outside), str(home / 'sub'))
        return result
    monkeypatch.setattr(module, name, racing)


@pytest.mark.parametrize('operation', ['write', 'read'])
def test_symlink_swapped_in_during_a_file_call(local_hub, monkeypatch, operation):
    hub, outside = local_hub
    project_id = str(uuid.uuid4())
    home = _home(hub, project_id)
    _swap_after(monkeypatch, files, 'resolve', home, outside)
    with pytest.raises(HandlerError) as caught:
        if operation == 'write':
            files.write_text(hub, project_id, 'sub/victim.txt', 'pwned')
        else:
            files.read_text(hub, project_id, 'sub/victim.txt')
    assert 'outside the project home' in str(caught.value.error)


@pytest.mark.parametrize('side', ['target', 'source'])
def test_symlink_swapped_in_during_a_copy(local_hub, monkeypatch, side):
    hub, outside = local_hub
    source, target = str(uuid.uuid4()), str(uuid.uuid4())
    src_home, dst_home = _home(hub, source), _home(hub, target)
    (src_home / 'sub' / 'victim.txt').write_text('pwned\n')
    account = {'account_id': str(uuid.uuid4()), 'groups': ['admin']}
    monkeypatch.setattr(copies.projects, 'has_access', lambda *args: {'project_id': args[-1]})
    monkeypatch.setattr(copies.projects, 'touch', lambda *args: None)
    _swap_after(monkeypatch, copies, '_parts', dst_home if side == 'target' else src_home, outside)
    mesg = {'id': 'x', 'src_project_id': source, 'target_project_id': target, 'src_path': 'sub/victim.txt',
            'target_path': 'sub/victim.txt', 'wait_until_done': True, 'overwrite_newer': True}
    with pytest.raises(HandlerError) as caught:
        copies.copy(hub, Caller(account), mesg, public=False)
    assert 'symbolic link is in the way' in caught.value.error
