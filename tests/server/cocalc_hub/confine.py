"""Confinement of projects: nothing a project does reaches outside its home directory.

Two layers:
- File work done by the server itself (read/write file, copies, public reads) walks paths from a
  descriptor of the home, one component at a time with O_NOFOLLOW, so a symlink (even one swapped
  in during the call) can never lead it outside. That holds in every mode.
- Mode 'bwrap' (the default when the server runs as root): every project has its own unprivileged
  uid (from UID_BASE up, kept in the table project_uids) that owns its home; `project_exec` runs under
  bubblewrap in fresh pid/ipc/uts namespaces, with the whole file system read-only, a private /tmp,
  /var/tmp and /dev/shm, the data dir hidden by an empty tmpfs and only the home bound writable,
  then drops to the project's uid with setpriv (no capabilities, no new privileges); the server's
  own file work for a project runs with the thread's file-system ids switched to the project's uid
  (setfsuid is per thread), so the kernel refuses what the project itself could not do.
- Mode 'none' (the default without root): processes run as the server's user, as before.
"""

import contextlib
import ctypes
import os
import shutil
import stat

from .errors import HandlerError

UID_BASE = 1000000000           # far above login users and the usual subordinate-id ranges
MODES = ('auto', 'bwrap', 'none')
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

_libc = ctypes.CDLL(None, use_errno=True)


class Escape(Exception):
    """A path component turned out to be a symlink (or not a directory) while walking it."""


def resolve_mode(mode):
    """'auto' -> 'bwrap' as root, 'none' otherwise; raises ValueError when 'bwrap' cannot work here."""
    if mode == 'auto':
        mode = 'bwrap' if os.geteuid() == 0 else 'none'
    if mode == 'bwrap':
        if os.geteuid() != 0:
            raise ValueError('--confine bwrap needs the server to run as root (it switches projects to their own uids)')
        missing = [tool for tool in ('bwrap', 'setpriv') if shutil.which(tool) is None]
        if missing:
            raise ValueError('running as root, projects are confined with bubblewrap and setpriv, but %s not found: '
                             'install them (apt-get install -y bubblewrap util-linux; `make` does) or pass --confine none '
                             'to run projects as root unconfined' % ' and '.join(missing))
    return mode


def project_ids(hub, project_id):
    """(uid, gid) the project runs as, or None when projects run as the server's user."""
    if hub.confine != 'bwrap':
        return None
    cached = hub.project_uids.get(project_id)
    if cached is not None:
        return cached, cached
    uid = hub.store.project_uid(project_id, UID_BASE)
    hub.project_uids[project_id] = uid
    return uid, uid


def _chown_tree(fd, ids):
    """Give everything below the directory `fd` to `ids`, never following a symlink."""
    for name in os.listdir(fd):
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if (info.st_uid, info.st_gid) != ids:
            os.chown(name, *ids, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            child = os.open(name, DIR_FLAGS, dir_fd=fd)
            try:
                _chown_tree(child, ids)
            finally:
                os.close(child)


def open_home(hub, project_id):
    """A descriptor of the project's home (created if missing, owned by the project's uid when confined)."""
    from . import projects   # pylint: disable=import-outside-toplevel
    path = projects.home(hub, project_id)
    os.makedirs(path, mode=0o700, exist_ok=True)
    fd = os.open(path, DIR_FLAGS)
    ids = project_ids(hub, project_id)
    if ids is not None:
        info = os.fstat(fd)
        if (info.st_uid, info.st_gid) != ids:
            # A home made by the server (as root) or before confinement: hand it over once.
            os.fchown(fd, *ids)
            _chown_tree(fd, ids)
    return fd


def _set_fs_ids(uid, gid):
    # Per thread (the kernel keeps credentials per thread; glibc does not broadcast setfsuid), so other
    # requests of the server keep theirs. Leaving fsuid 0 also drops the file capabilities.
    _libc.setfsgid(gid)
    _libc.setfsuid(uid)
    if _libc.setfsuid(-1) != uid:
        raise HandlerError('Error: EPERM: cannot switch to the project user')


@contextlib.contextmanager
def project_files(hub, project_id, as_project=True):
    """Yield a descriptor of the home; the thread's file work inside runs as the project's uid when confined."""
    fd = open_home(hub, project_id)
    ids = project_ids(hub, project_id) if as_project else None
    try:
        if ids is not None:
            _set_fs_ids(*ids)
        yield fd
    finally:
        if ids is not None:
            _set_fs_ids(0, 0)
        os.close(fd)


def open_dir(base_fd, parts, create=False, owner=None):
    """Open the directory base/parts[0]/parts[1]/... without following any symlink; Escape otherwise.

    `create` makes missing directories (as the current file-system user, given to `owner` if set)."""
    fd = os.dup(base_fd)
    try:
        for part in parts:
            if part in ('', '.'):
                continue
            if part == '..':
                raise Escape(part)
            try:
                child = os.open(part, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    if owner is not None:
                        os.chown(part, *owner, dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    pass
                child = _open_dir_component(part, fd)
            except OSError as error:
                if error.errno in (40, 20):   # ELOOP: a symlink; ENOTDIR: not a directory
                    kind = os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode
                    if stat.S_ISLNK(kind):
                        raise Escape(part) from None
                raise
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_dir_component(part, fd):
    try:
        return os.open(part, DIR_FLAGS, dir_fd=fd)
    except OSError as error:
        if error.errno == 40:
            raise Escape(part) from None
        raise


# Inside the sandbox the command runs under this tiny reaper, which tells the server through the
# descriptor in argv[1] whether the command died by a signal (bwrap itself turns that into 128+N,
# which a real `exit 137` would also give; the hub reports a signal death as exit code 0).
REAPER = (
    'import os, sys\n'
    'pid = os.fork()\n'
    'if pid == 0:\n'
    '    os.close(int(sys.argv[1]))\n'
    '    try:\n'
    '        os.execvp(sys.argv[2], sys.argv[2:])\n'
    '    except OSError as error:\n'
    '        sys.stderr.write("%s: %s\\n" % (sys.argv[2], error.strerror))\n'
    '        os._exit(127)\n'
    'status = os.waitpid(pid, 0)[1]\n'
    'if os.WIFSIGNALED(status):\n'
    '    os.write(int(sys.argv[1]), b"signal")\n'
    '    os._exit(0)\n'
    'os._exit(os.waitstatus_to_exitcode(status))\n')


def _python():
    # The system interpreter: the server's own may live in a hidden directory (a venv under /tmp).
    return shutil.which('python3', path='/usr/bin:/bin') or shutil.which('python3') or 'python3'


def sandbox_argv(hub, project_id, argv, cwd, script=None, status_fd=None):
    """The command line that runs argv in the project's sandbox (mode 'bwrap'), or argv unchanged.

    With `status_fd` (the write end of a pipe passed to the child), the word "signal" is written to it
    when the command was killed by a signal."""
    ids = project_ids(hub, project_id)
    if ids is None:
        return argv
    from . import projects   # pylint: disable=import-outside-toplevel
    home = projects.home(hub, project_id)
    wrapped = ['bwrap', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent',
               '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc',
               '--perms', '1777', '--tmpfs', '/tmp', '--perms', '1777', '--tmpfs', '/var/tmp',
               '--perms', '1777', '--tmpfs', '/dev/shm',
               # The data dir (database, keys, other homes) is an empty directory inside.
               '--tmpfs', hub.data_dir, '--perms', '0755', '--dir', hub.projects_dir,
               '--bind', home, home, '--chdir', cwd]
    if script is not None:
        # The same path inside (in the private /tmp), so messages name it alike.
        wrapped += ['--perms', '0755', '--dir', os.path.dirname(script), '--ro-bind', script, script]
    wrapped += ['--', 'setpriv', '--reuid', str(ids[0]), '--regid', str(ids[1]), '--clear-groups',
                '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--']
    if status_fd is not None:
        wrapped += [_python(), '-I', '-S', '-c', REAPER, str(status_fd)]
    return wrapped + argv


def prepare_home(hub, project_id):
    """Make sure the home exists and belongs to the project's uid (before a process runs in it)."""
    os.close(open_home(hub, project_id))
