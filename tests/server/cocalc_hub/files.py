"""Project files: every client path is confined to the project's home directory.

The real single-user hub followed `..`, absolute paths and symlinks anywhere on the machine; this
server runs on developers' machines, so a path that resolves outside the home is an error event
and nothing outside is read or written. Writes go to a temporary file that is renamed into place.
"""

import io
import os
import stat
import tarfile
import tempfile

from . import projects
from .errors import HandlerError
from .util import js_string, to_utf8

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
        raise HandlerError("Error: EACCES: path '%s' is outside the project home directory" % path)
    return shown, real


def _os_error(error, syscall, shown):
    code = {2: 'ENOENT', 13: 'EACCES', 20: 'ENOTDIR', 21: 'EISDIR', 28: 'ENOSPC'}.get(error.errno, 'EIO')
    return {'errno': -(error.errno or 5), 'code': code, 'syscall': syscall, 'path': shown}


def read_text(hub, project_id, path):
    shown, real = resolve(hub, project_id, path)
    try:
        info = os.stat(real)
    except OSError as error:
        code = 'ENOENT' if error.errno in (2, 20) else 'EACCES'
        text = 'no such file or directory' if code == 'ENOENT' else 'permission denied'
        raise HandlerError("Error: %s: %s, stat '%s'" % (code, text, shown)) from None
    if stat.S_ISDIR(info.st_mode):
        # The hub answers a directory with its tar.bz2 archive read as text.
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode='w:bz2') as archive:
            archive.add(real, arcname=os.path.basename(real.rstrip(os.sep)) or '.')
        return buffer.getvalue().decode('utf-8', 'replace')
    if info.st_size > MAX_READ_BYTES:
        raise HandlerError('Error: Attempt to open large file of size %sMB; the maximum allowed size is 10MB. '
                           'Use vim, emacs, or pico from a terminal instead.' % round(info.st_size / 1000000))
    try:
        with open(real, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except OSError as error:
        raise HandlerError("Error: EACCES: permission denied, open '%s'" % shown) from error


def write_text(hub, project_id, path, content):
    shown, real = resolve(hub, project_id, path)
    if os.path.isdir(real):
        raise HandlerError({'errno': -21, 'code': 'EISDIR', 'syscall': 'open', 'path': shown})
    data = to_utf8(content if isinstance(content, str) else js_string(content))
    directory = os.path.dirname(real)
    try:
        os.makedirs(directory, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(real).st_mode)
        except OSError:
            mode = 0o644
        handle, temporary = tempfile.mkstemp(dir=directory, prefix='.' + os.path.basename(real) + '.', suffix='.tmp')
        try:
            with os.fdopen(handle, 'wb') as output:
                output.write(data)
            os.chmod(temporary, mode)
            os.replace(temporary, real)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise HandlerError(_os_error(error, 'open', shown)) from None
