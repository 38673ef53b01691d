"""Project files: read/write_text_file, confinement to the project home, copies between projects,
public copies and (guide era) the public_get_* endpoints.

The real hub in single-user mode followed `..`, absolute paths and symlinks anywhere; the local server
runs on a developer's machine and must confine every path to the project home (issue 2), so escape
attempts are error events that touch nothing outside.
"""

import hashlib
import os
import re
import time
import uuid

import pytest

from cocalc_testlib import unique

NOTE = 'Query copy_path_status with the copy_path_id to learn if the copy operation was successful.'


def home(account, project_id):
    return account.server.home(project_id)


def find(account, project_id, directory):
    return account.execute(project_id, 'find %s | sort' % directory, bash=True)['stdout'].split('\n')[:-1]


# -- read and write ------------------------------------------------------------------------------------
def test_write_read_round_trip_is_byte_exact(alice, project):
    cases = {
        'hello.txt': 'hello world\nline 2\n',
        'flow/données/ünï ✓.txt': 'héllo ✓ 数学 \U0001F600\nline 2\n',
        'crlf.txt': 'a\r\nb\tc\r\nno final newline',
        'empty.txt': '',
        'newdir/deeper/file.md': '# deep',
    }
    for path, content in cases.items():
        alice.write(project, path, content)
        assert alice.read(project, path) == content
        assert (home(alice, project) / path).read_bytes() == content.encode()
    digest = hashlib.sha256(cases['crlf.txt'].encode()).hexdigest()
    assert alice.execute(project, 'sha256sum', args=['crlf.txt'])['stdout'] == '%s  crlf.txt\n' % digest


def test_write_answer_and_overwrite(alice, project):
    answer = alice.api.ok('write_text_file_to_project', project_id=project, path='x.txt', content='one', id='w-1')
    assert answer == {'event': 'file_written_to_project', 'id': 'w-1'}
    alice.write(project, 'x.txt', 'two')
    assert alice.read(project, 'x.txt') == 'two'
    answer = alice.api.ok('read_text_file_from_project', project_id=project, path='x.txt', id='r-1')
    assert answer == {'event': 'text_file_read_from_project', 'id': 'r-1', 'content': 'two'}


def test_writes_leave_no_temporary_files(alice, project):
    for i in range(5):
        alice.write(project, 'dir/atomic.txt', 'version %d\n' % i * 1000)
    assert sorted(p.name for p in (home(alice, project) / 'dir').iterdir()) == ['atomic.txt']


def test_read_missing_file(alice, project):
    error = alice.api.error('read_text_file_from_project', project_id=project, path='no-such-dir/missing.txt')
    assert error == "Error: ENOENT: no such file or directory, stat '%s'" % (home(alice, project) / 'no-such-dir' / 'missing.txt')


def test_write_to_a_directory_is_an_eisdir_object(alice, project):
    alice.write(project, 'adir/file.txt', 'x')
    error = alice.api.error('write_text_file_to_project', project_id=project, path='adir', content='x')
    assert error == {'errno': -21, 'code': 'EISDIR', 'syscall': 'open', 'path': str(home(alice, project) / 'adir')}
    error = alice.api.error('write_text_file_to_project', project_id=project, path='', content='x')
    assert error == {'errno': -21, 'code': 'EISDIR', 'syscall': 'open', 'path': str(home(alice, project)) + '/'}


def test_read_a_directory_returns_a_bz2_tarball(alice, project):
    alice.write(project, 'tree/a.txt', 'a')
    assert alice.read(project, 'tree').startswith('BZh')


def test_read_large_file_is_refused(alice, project):
    alice.execute(project, 'head -c 11534336 /dev/zero > big.bin', bash=True)
    error = alice.api.error('read_text_file_from_project', project_id=project, path='big.bin')
    assert re.match(r'(Error: )?Attempt to open large file of size \d+MB; ', error) and \
        error.endswith('the maximum allowed size is 10MB. Use vim, emacs, or pico from a terminal instead.'), error


def test_file_access_rules(server, alice, bob, project):
    for endpoint, extra in (('read_text_file_from_project', {}), ('write_text_file_to_project', {'content': 'x'})):
        error = bob.api.error(endpoint, project_id=project, path='x.txt', **extra)
        if server.era == '2024':
            kind = 'read' if endpoint.startswith('read') else 'write'
            assert error == 'User %s does not have %s access to project %s' % (bob.account_id, kind, project)
    assert not (home(alice, project) / 'x.txt').exists()
    alice.api.ok('invite_collaborator', project_id=project, account_id=bob.account_id)
    bob.write(project, 'x.txt', 'from bob')
    assert alice.read(project, 'x.txt') == 'from bob'


def test_read_and_write_start_a_stopped_project(alice):
    project = alice.new_project(title=unique('autostart'))
    alice.api.query({'projects': {'project_id': project, 'action_request': {'action': 'stop', 'time': '{now}'}}})
    alice.write(project, 'w.txt', 'w\n')
    assert alice.project(project, 'state')['state']['state'] == 'running'
    alice.api.query({'projects': {'project_id': project, 'action_request': {'action': 'stop', 'time': '{now}'}}})
    assert alice.project(project, 'state')['state']['state'] == 'opened'
    assert alice.read(project, 'w.txt') == 'w\n'
    assert alice.project(project, 'state')['state']['state'] == 'running'


def test_2024_read_arrays(server_2024):
    alice = server_2024.new_account('arrays')
    first, second = alice.new_project(), alice.new_project()
    alice.write(first, 'a.txt', 'A')
    answer = alice.api.ok('read_text_file_from_project', project_id=[first, second], path=['a.txt', 'missing.txt'])
    # Items come in completion order (test_starts.py checks that it differs from the request): match by path.
    content = {(item['project_id'], item['path']): item for item in answer['content']}
    assert len(content) == 2 and content[(first, 'a.txt')] == {'path': 'a.txt', 'project_id': first, 'content': 'A'}
    assert 'ENOENT' in content[(second, 'missing.txt')]['error']
    assert alice.api.error('read_text_file_from_project', project_id=[first], path=['a.txt', 'b.txt']) == \
        'if project_id is an array, then path must be an array of the same length'
    assert alice.api.error('read_text_file_from_project', project_id=first, path=['a.txt']) == 'project_id must be an array'


# -- confinement --------------------------------------------------------------------------------------
def outside_snapshot(server, project_id):
    """Every file under the data dir that is not in this project's home, with its content."""
    own = server.home(project_id)
    snapshot = {}
    for path in server.data_dir.rglob('*'):
        if own in path.parents or path == own or path.name.startswith('hub.sqlite3'):
            continue
        snapshot[str(path)] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return snapshot


@pytest.mark.parametrize('path', ['../escape.txt', '../../escape.txt', 'a/../../escape.txt', '/tmp/cocalc-escape-<unique>.txt',
                                  '..', '/etc/passwd'])
def test_write_outside_the_home_is_refused(server, alice, path):
    path = path.replace('<unique>', uuid.uuid4().hex)
    project = alice.new_project()
    victim = alice.new_project()
    alice.write(victim, 'keep.txt', 'victim data')
    before = outside_snapshot(server, project)
    answer = alice.api.call('write_text_file_to_project', project_id=project, path=path, content='pwned')
    assert answer['event'] == 'error', answer
    assert outside_snapshot(server, project) == before
    if path.startswith('/tmp/'):
        assert not os.path.exists(path)


@pytest.mark.parametrize('path', ['../../hub.sqlite3', '/etc/hostname', '/etc/passwd', '../%s/keep.txt'])
def test_read_outside_the_home_is_refused(alice, path):
    project = alice.new_project()
    victim = alice.new_project()
    alice.write(victim, 'keep.txt', 'victim data')
    answer = alice.api.call('read_text_file_from_project', project_id=project, path=path.replace('%s', victim))
    assert answer['event'] == 'error', answer
    assert 'victim data' not in str(answer)


@pytest.mark.parametrize('path', ['..', '../..', '/tmp', '/', 'sub/../../..'])
def test_exec_working_directory_outside_the_home_is_refused(alice, path):
    project = alice.new_project()
    answer = alice.api.call('project_exec', project_id=project, command='touch', args=['escaped-by-exec.txt'], path=path)
    assert answer['event'] == 'error', answer
    assert not os.path.exists(os.path.join(str(alice.server.projects_dir), 'escaped-by-exec.txt'))
    assert not os.path.exists('/tmp/escaped-by-exec.txt') or os.path.getmtime('/tmp/escaped-by-exec.txt') < time.time() - 60


@pytest.mark.parametrize('src_path, target_path', [('/etc/hostname', 'copied'), ('../', 'escape'), ('a.txt', '../escape.txt'),
                                                   ('link/keep.txt', 'stolen.txt')])
def test_copies_outside_the_homes_are_refused(server, alice, src_path, target_path):
    source, target = alice.new_project(), alice.new_project()
    victim = alice.new_project()
    alice.write(victim, 'keep.txt', 'victim data')
    alice.write(source, 'a.txt', 'a')
    alice.execute(source, 'ln', args=['-s', str(server.home(victim)), 'link'])
    before = outside_snapshot(server, target)
    answer = alice.api.call('copy_path_between_projects', src_project_id=source, src_path=src_path, target_project_id=target,
                            target_path=target_path, **({'wait_until_done': True} if server.era == '2024' else {}))
    assert answer['event'] == 'error', answer
    assert outside_snapshot(server, target) == before
    assert not os.path.lexists('/tmp/cocalc-copy-escape')
    assert 'victim data' not in alice.execute(target, 'cat stolen.txt copied 2>/dev/null; true', bash=True)['stdout']


def test_copy_to_an_absolute_target_path_stays_in_the_target_home(server, alice):
    source, target = alice.new_project(), alice.new_project()
    alice.write(source, 'a.txt', 'a')
    name = '/tmp/cocalc-copy-escape-%s' % uuid.uuid4().hex
    answer = alice.api.call('copy_path_between_projects', src_project_id=source, src_path='a.txt', target_project_id=target,
                            target_path=name, **({'wait_until_done': True} if server.era == '2024' else {}))
    assert not os.path.lexists(name)
    if answer['event'] != 'error':   # the hub joins target_path onto the home, as rsync's destination
        assert alice.read(target, name.lstrip('/')) == 'a'


def test_dotdot_that_stays_inside_is_fine(alice, project):
    alice.write(project, 'sub/../inside.txt', 'inside')
    assert alice.read(project, 'inside.txt') == 'inside'
    assert alice.read(project, '../%s/inside.txt' % project) == 'inside'


def test_symlinks_pointing_out_are_refused(server, alice):
    project = alice.new_project()
    victim = alice.new_project()
    alice.write(victim, 'keep.txt', 'victim data')
    target = '/tmp/cocalc-link-target-%s' % uuid.uuid4().hex
    alice.execute(project, 'ln', args=['-s', str(server.home(victim)), 'victimdir'])
    alice.execute(project, 'ln', args=['-s', '/etc', 'etc'])
    alice.execute(project, 'ln', args=['-s', target, 'dangling.txt'])
    alice.execute(project, 'ln', args=['-s', str(server.home(victim) / 'keep.txt'), 'keep-link.txt'])
    before = outside_snapshot(server, project)
    for path in ('victimdir/keep.txt', 'etc/hostname', 'keep-link.txt'):
        answer = alice.api.call('read_text_file_from_project', project_id=project, path=path)
        assert answer['event'] == 'error' and 'victim data' not in str(answer), (path, answer)
    for path in ('victimdir/new.txt', 'victimdir/keep.txt', 'dangling.txt', 'keep-link.txt'):
        answer = alice.api.call('write_text_file_to_project', project_id=project, path=path, content='pwned')
        assert answer['event'] == 'error', (path, answer)
    assert outside_snapshot(server, project) == before
    assert not os.path.lexists(target)
    assert alice.read(victim, 'keep.txt') == 'victim data'


def test_symlink_inside_the_home_is_followed(alice, project):
    alice.write(project, 'real/data.txt', 'real')
    alice.execute(project, 'ln', args=['-s', 'real', 'alias'])
    assert alice.read(project, 'alias/data.txt') == 'real'


# -- copy_path_between_projects -------------------------------------------------------------------------
@pytest.fixture
def copy_pair(server_2024):
    alice = server_2024.new_account('copier')
    source, target = alice.new_project(title='copy-src'), alice.new_project(title='copy-dst', start=False)
    alice.write(source, 'src/a.txt', 'A source v1\n')
    alice.write(source, 'src/b.txt', 'B source\n')
    alice.write(source, 'src/sub/c.txt', 'C source\n')
    return alice, source, target


def copy(alice, source, target, src_path='src', **options):
    return alice.api.call('copy_path_between_projects', src_project_id=source, src_path=src_path, target_project_id=target, **options)


def test_2024_copy_directory_answers_copy_path_id_and_lands_in_target_path(copy_pair):
    alice, source, target = copy_pair
    answer = copy(alice, source, target, target_path='dst', wait_until_done=True)
    assert answer['event'] == 'copy_path_between_projects_response' and answer['copy_path_id'] == '' and answer['note'] == NOTE
    assert find(alice, target, 'dst') == ['dst', 'dst/a.txt', 'dst/b.txt', 'dst/sub', 'dst/sub/c.txt']
    assert alice.read(target, 'dst/a.txt') == 'A source v1\n'


def test_2024_copy_update_overwrite_backup_delete(copy_pair):
    alice, source, target = copy_pair
    copy(alice, source, target, target_path='dst', wait_until_done=True)
    alice.write(target, 'dst/a.txt', 'A changed in target (newer)\n')
    alice.write(target, 'dst/extra.txt', 'only in target\n')
    copy(alice, source, target, target_path='dst', wait_until_done=True)
    assert alice.read(target, 'dst/a.txt') == 'A changed in target (newer)\n'
    assert alice.read(target, 'dst/extra.txt') == 'only in target\n'
    copy(alice, source, target, target_path='dst', wait_until_done=True, overwrite_newer=True)
    assert alice.read(target, 'dst/a.txt') == 'A source v1\n'
    alice.write(target, 'dst/a.txt', 'A changed in target again\n')
    copy(alice, source, target, target_path='dst', wait_until_done=True, overwrite_newer=True, backup=True)
    assert alice.read(target, 'dst/a.txt~') == 'A changed in target again\n'
    copy(alice, source, target, target_path='dst', wait_until_done=True, delete_missing=True)
    assert find(alice, target, 'dst') == ['dst', 'dst/a.txt', 'dst/b.txt', 'dst/sub', 'dst/sub/c.txt']


def test_2024_copy_single_file_defaults_slashes_exclude_timeout(copy_pair):
    alice, source, target = copy_pair
    copy(alice, source, target, src_path='src/b.txt', target_path='single/renamed.txt', wait_until_done=True)
    assert alice.read(target, 'single/renamed.txt') == 'B source\n'
    copy(alice, source, target, src_path='src/', target_path='dst-slash/', wait_until_done=True)
    assert find(alice, target, 'dst-slash') == ['dst-slash', 'dst-slash/a.txt', 'dst-slash/b.txt', 'dst-slash/sub', 'dst-slash/sub/c.txt']
    copy(alice, source, target, src_path='src/a.txt', wait_until_done=True)
    assert alice.read(target, 'src/a.txt') == 'A source v1\n'
    copy(alice, source, target, target_path='dst-exclude', wait_until_done=True, exclude=['b.txt', 'sub'])
    assert find(alice, target, 'dst-exclude') == ['dst-exclude', 'dst-exclude/a.txt']
    assert copy(alice, source, target, target_path='dst-timeout', wait_until_done=True, timeout=5)['event'] == \
        'copy_path_between_projects_response'
    assert alice.read(target, 'dst-timeout/sub/c.txt') == 'C source\n'
    assert copy(alice, source, source, wait_until_done=True)['event'] == 'copy_path_between_projects_response'
    assert alice.read(source, 'src/a.txt') == 'A source v1\n'


def test_2024_copy_without_wait_still_completes(copy_pair):
    alice, source, target = copy_pair
    assert copy(alice, source, target, target_path='dst-async')['event'] == 'copy_path_between_projects_response'
    content = None
    for dummy in range(50):
        answer = alice.api.call('read_text_file_from_project', project_id=target, path='dst-async/sub/c.txt')
        if answer['event'] != 'error':
            content = answer['content']
            break
        time.sleep(0.1)
    assert content == 'C source\n'


def test_2024_copy_errors(copy_pair, server_2024):
    alice, source, target = copy_pair
    bob = server_2024.new_account('bob')
    bobs = bob.new_project()
    for wait in (True, False):
        error = copy(alice, source, target, src_path='src/nope', wait_until_done=wait)
        assert error == {'event': 'error', 'id': error['id'], 'error': "ENOENT: no such file or directory, stat '%s'" % (home(alice, source) / 'src' / 'nope')}
    assert copy(alice, source, target, src_path='../', target_path='escape', wait_until_done=True)['error'] == \
        'source path must be contained in project home dir'
    assert copy(alice, source, target, target_path='../escape', wait_until_done=True)['error'] == \
        'target path must be contained in target project home dir'
    assert copy(alice, bobs, target, src_path='x')['error'] == 'ACCESS BLOCKED -- No read access to source project -- %s' % bobs
    assert copy(alice, source, bobs)['error'] == 'ACCESS BLOCKED -- No write access to target project -- %s' % bobs
    assert alice.api.http400('copy_path_between_projects', {'src_project_id': source, 'src_path': 'src'}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: property 'target_project_id' must be specified: '"
    assert not (server_2024.home(target) / 'escape').exists() and not (server_2024.projects_dir / 'escape').exists()


def test_2024_copy_path_status(copy_pair):
    alice, source, target = copy_pair
    assert alice.api.ok('copy_path_status', src_project_id=source, target_project_id=target)['data'] == []
    assert alice.api.error('copy_path_status') == \
        "'copy_path_id' (UUID) of a copy operation or 'src_project_id/target_project_id' must be defined"
    assert alice.api.error('copy_path_status', copy_path_id='00000000-0000-4000-8000-000000000000') == \
        "Can't find copy operation with ID=00000000-0000-4000-8000-000000000000"


def test_guide_copy_is_synchronous_and_answers_success(server_guide):
    alice = server_guide.new_account('copier')
    source, target = alice.new_project(), alice.new_project()
    alice.write(source, 'A/doc.txt', 'doc')
    answer = copy(alice, source, target, src_path='A/doc.txt', exclude_history=True)
    assert answer['event'] == 'success'
    assert alice.read(target, 'A/doc.txt') == 'doc'
    assert alice.api.http400('copy_path_between_projects', {'src_project_id': source, 'src_path': 'A', 'target_project_id': target,
                                                            'wait_until_done': True}) == \
        "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'wait_until_done' '"


def test_guide_copy_permission_errors(server_guide):
    alice, bob = server_guide.new_account('alice'), server_guide.new_account('bob')
    source, bobs = alice.new_project(), bob.new_project()
    alice.write(source, 'a.txt', 'a')
    assert copy(alice, bobs, source, src_path='x')['error'] == 'user must have read access to source project %s' % bobs
    assert copy(alice, source, bobs, src_path='a.txt')['error'] == 'user must have write access to target project %s' % bobs


# -- public paths: copy_public_path_between_projects, public_get_* -------------------------------------------
def publish(account, project, path, **fields):
    account.api.query({'public_paths': dict({'project_id': project, 'path': path, 'description': 'shared'}, **fields)})


def test_copy_public_path(server):
    alice, bob = server.new_account('alice'), server.new_account('bob')
    source, bobs = alice.new_project(), bob.new_project()
    alice.write(source, 'pub/notes.md', '# notes\n')
    alice.write(source, 'private.txt', 'secret')
    answer = bob.api.call('copy_public_path_between_projects', src_project_id=source, src_path='pub/notes.md', target_project_id=bobs)
    assert answer['event'] == 'error' and answer['error'] == "path 'pub/notes.md' of project with id '%s' is not public" % source
    publish(alice, source, 'pub')
    answer = bob.api.call('copy_public_path_between_projects', src_project_id=source, src_path='pub/notes.md', target_project_id=bobs,
                          target_path='copied/notes.md')
    assert answer['event'] == 'success', answer
    assert bob.read(bobs, 'copied/notes.md') == '# notes\n'
    for path in ('private.txt', 'pub/../private.txt'):
        answer = bob.api.call('copy_public_path_between_projects', src_project_id=source, src_path=path, target_project_id=bobs)
        assert answer['event'] == 'error' and answer['error'] == "path '%s' of project with id '%s' is not public" % (path, source)
    publish(alice, source, 'pub', disabled=True)
    answer = bob.api.call('copy_public_path_between_projects', src_project_id=source, src_path='pub/notes.md', target_project_id=bobs)
    assert answer['error'] == "path 'pub/notes.md' of project with id '%s' is not public" % source
    publish(alice, source, 'pub', disabled=False)
    answer = alice.api.call('copy_public_path_between_projects', src_project_id=source, src_path='pub', target_project_id=bobs)
    assert answer['event'] == 'error' and 'write access' in answer['error'], answer


def test_guide_public_get_text_file_and_listing(server_guide):
    alice, reader = server_guide.new_account('alice'), server_guide.new_account('reader')
    project = alice.new_project()
    alice.write(project, 'Public/hello.txt', 'hello')
    alice.write(project, 'Public/p2/x.txt', 'x')
    alice.write(project, 'private.txt', 'secret')
    assert reader.api.error('public_get_directory_listing', project_id=project, path='Public') == 'not_public'
    publish(alice, project, 'Public')
    listing = reader.api.ok('public_get_directory_listing', project_id=project, path='Public')
    assert listing['event'] == 'public_directory_listing'
    names = sorted(entry['name'] for entry in listing['result']['files'])
    assert names == ['hello.txt', 'p2']
    answer = reader.api.ok('public_get_text_file', project_id=project, path='Public/hello.txt')
    assert answer['event'] == 'public_text_file_contents' and answer['data'] == 'hello'
    assert reader.api.error('public_get_text_file', project_id=project, path='private.txt') == \
        "path 'private.txt' of project with id '%s' is not public" % project
    blank = server_guide.api().raw('public_get_text_file', {'project_id': project, 'path': 'Public/hello.txt'}, header='Basic Og==')
    assert blank.json['data'] == 'hello', 'the guide says the key may be blank'
