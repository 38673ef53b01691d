"""Project files: every client path is confined to the project's home directory.

The real single-user hub followed `..`, absolute paths and symlinks anywhere on the machine; this
server runs on developers' machines, so a path that resolves outside the home is an error event
and nothing outside is read or written. Writes go to a temporary file that is renamed into place.
"""

# bz2 is imported by tarfile on first use; import it now, since file work may run as a project's
# uid, which cannot read the interpreter's library when that lives in a private directory (/root).
import bz2  # noqa: F401  pylint: disable=unused-import
import io
import os
import stat
import tarfile

from . import confine, projects
from .errors import HandlerError
from .util import js_string, replace_entry, to_utf8

MAX_READ_BYTES = 10 * 1000 * 1000   # the project's default COCALC_PROJECT_MAX_FILE_SIZE_MB


def inside(root, path):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve(hub, project_id, path):
    """Return (shown, real): the path as the hub names it in errors, and the resolved path inside the home."""
    path = path if isinstance(path, str) else js_string(path)
    home = projects.home(hub, project_id)
    shown = path if path.startswith('/') else home + '/' + path
    real = os.path.realpath(os.path.join(home, path))
    if not inside(os.path.realpath(home), real):
        raise HandlerError(outside_error(path))
    return shown, real


def outside_error(path):
    return "Error: EACCES: path '%s' is outside the project home directory" % path


def parts_of(hub, project_id, real):
    """The components of a resolved path below the home (empty for the home itself)."""
    relative = os.path.relpath(real, os.path.realpath(projects.home(hub, project_id)))
    return [] if relative == '.' else relative.split(os.sep)


def _os_error(error, syscall, shown):
    code = {2: 'ENOENT', 13: 'EACCES', 20: 'ENOTDIR', 21: 'EISDIR', 28: 'ENOSPC'}.get(error.errno, 'EIO')
    return {'errno': -(error.errno or 5), 'code': code, 'syscall': syscall, 'path': shown}


def _open_entry(home_fd, parts):
    """(descriptor, stat) of the entry at parts below the home, no symlink followed anywhere."""
    parent = confine.open_dir(home_fd, parts[:-1])
    try:
        if not parts:
            fd = os.dup(parent)
        else:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=parent)
    except OSError as error:
        if error.errno == 40:   # ELOOP: the last component became a symlink since it was resolved
            raise confine.Escape(parts[-1]) from None
        raise
    finally:
        os.close(parent)
    return fd, os.fstat(fd)


def read_text(hub, project_id, path):
    shown, real = resolve(hub, project_id, path)
    with confine.project_files(hub, project_id) as home_fd:
        try:
            fd, info = _open_entry(home_fd, parts_of(hub, project_id, real))
        except confine.Escape:
            raise HandlerError(outside_error(path)) from None
        except OSError as error:
            code = 'ENOENT' if error.errno in (2, 20) else 'EACCES'
            text = 'no such file or directory' if code == 'ENOENT' else 'permission denied'
            raise HandlerError("Error: %s: %s, stat '%s'" % (code, text, shown)) from None
        try:
            return _read_open(fd, info, real, shown)
        finally:
            os.close(fd)


def _read_open(fd, info, real, shown):
    if stat.S_ISDIR(info.st_mode):
        # The hub answers a directory with its tar.bz2 archive read as text. The archive is made
        # through the descriptor; entries below are added as found (symlinks as links).
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode='w:bz2') as archive:
            archive.add('/proc/self/fd/%d/' % fd, arcname=os.path.basename(real.rstrip(os.sep)) or '.')
        return buffer.getvalue().decode('utf-8', 'replace')
    if not stat.S_ISREG(info.st_mode):
        raise HandlerError("Error: EACCES: permission denied, open '%s'" % shown)
    if info.st_size > MAX_READ_BYTES:
        raise HandlerError('Error: Attempt to open large file of size %sMB; the maximum allowed size is 10MB. '
                           'Use vim, emacs, or pico from a terminal instead.' % round(info.st_size / 1000000))
    try:
        with os.fdopen(os.dup(fd), 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except OSError as error:
        raise HandlerError("Error: EACCES: permission denied, open '%s'" % shown) from error


def write_text(hub, project_id, path, content):
    shown, real = resolve(hub, project_id, path)
    data = to_utf8(content if isinstance(content, str) else js_string(content))
    parts = parts_of(hub, project_id, real)
    if not parts:
        raise HandlerError({'errno': -21, 'code': 'EISDIR', 'syscall': 'open', 'path': shown})
    with confine.project_files(hub, project_id) as home_fd:
        try:
            directory = confine.open_dir(home_fd, parts[:-1], create=True)
        except confine.Escape:
            raise HandlerError(outside_error(path)) from None
        except OSError as error:
            raise HandlerError(_os_error(error, 'open', shown)) from None
        try:
            _write_into(directory, parts[-1], data, shown)
        finally:
            os.close(directory)


def _write_into(directory, name, data, shown):
    """Write data to name in the directory: a new file renamed over it (a symlink there is replaced, never followed)."""
    try:
        try:
            current = os.stat(name, dir_fd=directory, follow_symlinks=False)
        except FileNotFoundError:
            current = None
        if current is not None and stat.S_ISDIR(current.st_mode):
            raise HandlerError({'errno': -21, 'code': 'EISDIR', 'syscall': 'open', 'path': shown})
        mode = stat.S_IMODE(current.st_mode) if current is not None and stat.S_ISREG(current.st_mode) else 0o644

        def make(temporary):
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                             dir_fd=directory)
            with os.fdopen(handle, 'wb') as output:
                output.write(data)
                os.fchmod(output.fileno(), mode)

        replace_entry(directory, name, make)
    except OSError as error:
        raise HandlerError(_os_error(error, 'open', shown)) from None


def list_dir(hub, project_id, real):
    """[(name, lstat)] of a directory below the home (no symlink followed); OSError when it is not one."""
    with confine.project_files(hub, project_id) as home_fd:
        try:
            directory = confine.open_dir(home_fd, parts_of(hub, project_id, real))
        except confine.Escape:
            raise FileNotFoundError(2, 'outside the home') from None
        try:
            return [(name, os.stat(name, dir_fd=directory, follow_symlinks=False)) for name in os.listdir(directory)]
        finally:
            os.close(directory)
