"""copy_path_between_projects and copy_public_path_between_projects, copied in Python like `rsync -a`.

- a directory's contents land in target_path (trailing slashes make no difference);
- newer target files are kept unless overwrite_newer (rsync --update);
- delete_missing removes target entries the source lacks (rsync --delete);
- backup keeps a replaced file as `<name>~` (rsync --backup);
- symlinks are copied as links and never followed on either side;
- timeout bounds the whole copy (the hub's wall-clock kill).
"""

import contextlib
import fnmatch
import os
import shutil
import stat
import threading
import time

from . import confine, files, projects
from .errors import HandlerError
from .util import is_uuid, js_string, replace_entry, truthy

NOTE = 'Query copy_path_status with the copy_path_id to learn if the copy operation was successful.'


class CopyFailed(Exception):
    pass


def _join(hub, project_id, path):
    """Like the hub: Node's path.join(home, path), so even an absolute path stays below the home."""
    home = projects.home(hub, project_id)
    return os.path.normpath(os.path.join(home, path.lstrip('/'))), home


def _inside_real(home, path):
    """The path (its last component not followed, the rest resolved) stays in the home, and so does its target."""
    real_home = os.path.realpath(home)
    if path == home:
        return True
    return (files.inside(real_home, os.path.realpath(os.path.dirname(path)))
            and files.inside(real_home, os.path.realpath(path)))


def _parts(hub, project_id, path):
    """Components below the home: the parent resolved (it was checked), the last one as given (never followed)."""
    home = projects.home(hub, project_id)
    if path == home:
        return []
    return files.parts_of(hub, project_id, os.path.realpath(os.path.dirname(path))) + [os.path.basename(path)]


def is_public(hub, project_id, path):
    if '../' in path or path == '..' or path.endswith('/..'):
        return False
    wanted = path.strip('/')
    for row in hub.store.public_paths_of(project_id):
        if truthy(row.get('disabled')):
            continue
        shared = js_string(row.get('path')).strip('/')
        if shared == '' or wanted == shared or wanted.startswith(shared + '/'):
            return True
    return False


def copy(hub, caller, mesg, public):
    src_id, dst_id = mesg['src_project_id'], mesg['target_project_id']
    _check_access(hub, caller, src_id, dst_id, public)
    src_path = js_string(mesg['src_path'])
    dst_path = js_string(mesg['target_path']) if mesg.get('target_path') is not None else src_path
    if public and not is_public(hub, src_id, src_path):
        raise HandlerError("path '%s' of project with id '%s' is not public" % (src_path, src_id))
    # A copy into or out of a starting project is refused before anything is copied.
    projects.ready_for_call(hub, src_id, start_stopped=False)
    projects.ready_for_call(hub, dst_id, start_stopped=False)
    projects.touch(hub, src_id, caller.account_id)
    projects.touch(hub, dst_id, caller.account_id)
    src, dst = _checked_paths(hub, src_id, src_path, dst_id, dst_path)
    job = _Copy(hub, (src_id, _parts(hub, src_id, src)), (dst_id, _parts(hub, dst_id, dst)), _excludes(hub, mesg, public),
                _timeout(mesg.get('timeout')), overwrite_newer=truthy(mesg.get('overwrite_newer')),
                delete_missing=truthy(mesg.get('delete_missing')), backup=truthy(mesg.get('backup')))

    if hub.profile.copy_in_background and not public:
        if truthy(mesg.get('wait_until_done')):
            _run(job)
        else:
            # The 2024 hub answers at once and copies in the background; failures are never reported.
            threading.Thread(target=_run_quietly, args=(job,), daemon=True).start()
        return {'event': 'copy_path_between_projects_response', 'id': mesg['id'], 'copy_path_id': '', 'note': NOTE}
    _run(job)
    return {'event': 'success', 'id': mesg['id']}


def _check_access(hub, caller, src_id, dst_id, public):
    for name, value in (('src_project_id', src_id), ('target_project_id', dst_id)):
        if not is_uuid(value):
            raise HandlerError("%s='%s' not valid" % (name, js_string(value)))
    read_text, write_text = hub.profile.copy_denied_texts
    if not public and projects.has_access(hub, caller, src_id) is None:
        raise HandlerError(read_text % src_id)
    if projects.has_access(hub, caller, dst_id) is None:
        raise HandlerError(write_text % dst_id)


def _checked_paths(hub, src_id, src_path, dst_id, dst_path):
    """(source, target) below their homes; an error when either leaves its home or the source is missing."""
    src, src_home = _join(hub, src_id, src_path)
    dst, dst_home = _join(hub, dst_id, dst_path)
    if not (files.inside(src_home, src) and _inside_real(src_home, src)):
        raise HandlerError('source path must be contained in project home dir')
    if not (files.inside(dst_home, dst) and _inside_real(dst_home, dst)):
        raise HandlerError('target path must be contained in target project home dir')
    if not os.path.lexists(src):
        raise HandlerError("ENOENT: no such file or directory, stat '%s'" % (src_home + '/' + src_path))
    return src, dst


def _excludes(hub, mesg, public):
    excludes = []
    if hub.profile.copy_exclude_history and truthy(mesg.get('exclude_history')):
        excludes.append('*.sage-history')
    if not public and isinstance(mesg.get('exclude'), list):
        excludes.extend(js_string(pattern) for pattern in mesg['exclude'])
    return excludes


def _timeout(value):
    """The copy's wall-clock limit in seconds, or None (no limit, also for a value that is not a number)."""
    try:
        return float(value) if truthy(value) else None
    except (TypeError, ValueError):
        return None


def _run(job):
    try:
        job.run()
    except CopyFailed as error:
        raise HandlerError('WARNING: copy exited with an error -- %s' % error) from None
    except OSError as error:
        raise HandlerError('WARNING: copy exited with an error -- %s' % error) from None


def _run_quietly(job):
    try:
        job.run()
    except (CopyFailed, OSError):
        pass


class _Copy:
    """One copy, done through directory descriptors: no symlink is ever followed on either side, even one
    swapped in while the copy runs, and everything created belongs to the target project's user."""

    def __init__(self, hub, src, dst, excludes, timeout, overwrite_newer, delete_missing, backup):
        self.hub = hub
        (self.src_id, self.src_parts), (self.dst_id, self.dst_parts) = src, dst
        self.excludes = excludes
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timeout = timeout
        self.overwrite_newer, self.delete_missing, self.backup = overwrite_newer, delete_missing, backup
        self.owner = confine.project_ids(hub, self.dst_id)
        self.dst_root = None

    def run(self):
        try:
            self._run()
        except confine.Escape as escape:
            raise CopyFailed('%s: a symbolic link is in the way (not followed)' % escape) from None

    def _run(self):
        with contextlib.ExitStack() as stack:
            src_home = _closing(stack, confine.open_home(self.hub, self.src_id))
            dst_home = _closing(stack, confine.open_home(self.hub, self.dst_id))
            src_parent = _closing(stack, confine.open_dir(src_home, self.src_parts[:-1]))
            src_name = self.src_parts[-1] if self.src_parts else None
            info = os.stat(src_name, dir_fd=src_parent, follow_symlinks=False) if src_name else os.fstat(src_parent)
            dst_parent = _closing(stack, confine.open_dir(dst_home, self.dst_parts[:-1], create=True, owner=self.owner))
            dst_name = self.dst_parts[-1] if self.dst_parts else None
            current = _lstat(dst_parent, dst_name)
            if current is not None and (current.st_dev, current.st_ino) == (info.st_dev, info.st_ino):
                return   # copying a path onto itself changes nothing
            if stat.S_ISDIR(info.st_mode):
                src_dir = _closing(stack, os.open(src_name, confine.DIR_FLAGS, dir_fd=src_parent) if src_name else os.dup(src_parent))
                dst_dir = _closing(stack, self._dir_in(dst_parent, dst_name) if dst_name else os.dup(dst_parent))
                self.dst_root = _identity(os.fstat(dst_dir))
                self._directory(src_dir, dst_dir, '')
                return
            if dst_name is None or (current is not None and stat.S_ISDIR(current.st_mode)):
                # Into the directory the target names: under the source's name.
                if dst_name is not None:
                    dst_parent = _closing(stack, confine.open_dir(dst_parent, [dst_name]))
                dst_name = src_name
            self._entry(src_parent, src_name, info, dst_parent, dst_name)

    def _check_time(self):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise CopyFailed('timeout after %g seconds' % self.timeout)

    def _excluded(self, relative, is_dir):
        for pattern in self.excludes:
            dir_only = pattern.endswith('/')
            pattern = pattern.rstrip('/')
            if dir_only and not is_dir:
                continue
            subject = relative if '/' in pattern else os.path.basename(relative)
            if fnmatch.fnmatchcase(subject, pattern.lstrip('/')):
                return True
        return False

    def _give(self, directory, name):
        if self.owner is not None:
            os.chown(name, *self.owner, dir_fd=directory, follow_symlinks=False)

    def _dir_in(self, parent, name):
        """Open directory name in parent, replacing a non-directory (or symlink) there by a new directory."""
        current = _lstat(parent, name)
        if current is not None and not stat.S_ISDIR(current.st_mode):
            self._remove(parent, name)
            current = None
        if current is None:
            os.mkdir(name, 0o755, dir_fd=parent)
            self._give(parent, name)
        return confine.open_dir(parent, [name])

    def _directory(self, src, dst, relative):
        names = []
        for name in sorted(os.listdir(src)):
            info = os.stat(name, dir_fd=src, follow_symlinks=False)
            is_dir = stat.S_ISDIR(info.st_mode)
            if self._excluded(os.path.join(relative, name), is_dir):
                continue
            if is_dir and _identity(info) == self.dst_root:
                continue   # the target lies inside the source: do not copy it into itself
            names.append(name)
            self._check_time()
            if is_dir:
                child_src = confine.open_dir(src, [name])
                try:
                    child_dst = self._dir_in(dst, name)
                    try:
                        self._directory(child_src, child_dst, os.path.join(relative, name))
                    finally:
                        os.close(child_dst)
                finally:
                    os.close(child_src)
            else:
                self._entry(src, name, info, dst, name)
        if self.delete_missing:
            for name in os.listdir(dst):
                current = _lstat(dst, name)
                if name in names or current is None or self._excluded(os.path.join(relative, name), stat.S_ISDIR(current.st_mode)):
                    continue
                if self.backup and name.endswith('~'):
                    continue
                self._remove(dst, name)
        info = os.fstat(src)
        os.chmod(dst, stat.S_IMODE(info.st_mode))
        os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))

    def _entry(self, src_dir, name, info, dst_dir, dst_name):
        current = _lstat(dst_dir, dst_name)
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(name, dir_fd=src_dir)
            if current is not None and stat.S_ISLNK(current.st_mode) and os.readlink(dst_name, dir_fd=dst_dir) == target:
                return
            self._replace_with(dst_dir, dst_name, lambda temporary: os.symlink(target, temporary, dir_fd=dst_dir))
            return
        if not stat.S_ISREG(info.st_mode):
            return
        if current is not None and not stat.S_ISLNK(current.st_mode):
            if stat.S_ISDIR(current.st_mode):
                if not self.delete_missing:
                    return
                self._remove(dst_dir, dst_name)
            else:
                if not self.overwrite_newer and current.st_mtime_ns > info.st_mtime_ns:
                    return   # rsync --update keeps newer files on the receiver
                if current.st_size == info.st_size and current.st_mtime_ns == info.st_mtime_ns:
                    return   # rsync's quick check: same size and time means unchanged
                if self.backup:
                    os.replace(dst_name, dst_name + '~', src_dir_fd=dst_dir, dst_dir_fd=dst_dir)
        self._replace_with(dst_dir, dst_name, lambda temporary: _copy_file(src_dir, name, dst_dir, temporary))

    def _replace_with(self, directory, name, make):
        def make_and_give(temporary):
            make(temporary)
            self._give(directory, temporary)
        replace_entry(directory, name, make_and_give)

    def _remove(self, directory, name):
        current = _lstat(directory, name)
        if current is None:
            return
        if self.backup and not stat.S_ISDIR(current.st_mode):
            os.replace(name, name + '~', src_dir_fd=directory, dst_dir_fd=directory)
        elif stat.S_ISDIR(current.st_mode):
            shutil.rmtree(name, dir_fd=directory)
        else:
            os.unlink(name, dir_fd=directory)


def _closing(stack, fd):
    stack.callback(os.close, fd)
    return fd


def _identity(info):
    return info.st_dev, info.st_ino


def _lstat(directory, name):
    if name is None:
        return None
    try:
        return os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _copy_file(src_dir, name, dst_dir, temporary):
    """Like shutil.copy2 between descriptors: content, mode and times; the source opened without following."""
    source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=src_dir)
    try:
        info = os.fstat(source)
        if not stat.S_ISREG(info.st_mode):
            raise CopyFailed('%s is no longer a regular file' % name)
        target = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dst_dir)
        try:
            with os.fdopen(os.dup(source), 'rb') as reader, os.fdopen(os.dup(target), 'wb') as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
            os.chmod(target, stat.S_IMODE(info.st_mode))
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        finally:
            os.close(target)
    finally:
        os.close(source)
