"""copy_path_between_projects and copy_public_path_between_projects, copied in Python like `rsync -a`.

- a directory's contents land in target_path (trailing slashes make no difference);
- newer target files are kept unless overwrite_newer (rsync --update);
- delete_missing removes target entries the source lacks (rsync --delete);
- backup keeps a replaced file as `<name>~` (rsync --backup);
- symlinks are copied as links and never followed on either side;
- timeout bounds the whole copy (the hub's wall-clock kill).
"""

import fnmatch
import os
import shutil
import stat
import tempfile
import threading
import time

from . import files, projects
from .errors import HandlerError
from .util import is_uuid, js_string, truthy

NOTE = 'Query copy_path_status with the copy_path_id to learn if the copy operation was successful.'


class CopyFailed(Exception):
    pass


def _texts(era):
    if era == 'guide':
        return ('user must have read access to source project %s', 'user must have write access to target project %s')
    return ('ACCESS BLOCKED -- No read access to source project -- %s', 'ACCESS BLOCKED -- No write access to target project -- %s')


def _join(hub, project_id, path):
    """Like the hub: Node's path.join(home, path), so even an absolute path stays below the home."""
    home = projects.home(hub, project_id)
    return os.path.normpath(os.path.join(home, path.lstrip('/'))), home


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
    for name, value in (('src_project_id', src_id), ('target_project_id', dst_id)):
        if not is_uuid(value):
            raise HandlerError("%s='%s' not valid" % (name, js_string(value)))
    read_text, write_text = _texts(hub.era)
    if not public and projects.has_access(hub, caller, src_id) is None:
        raise HandlerError(read_text % src_id)
    if projects.has_access(hub, caller, dst_id) is None:
        raise HandlerError(write_text % dst_id)
    src_path = js_string(mesg['src_path'])
    dst_path = js_string(mesg['target_path']) if mesg.get('target_path') is not None else src_path
    if public and not is_public(hub, src_id, src_path):
        raise HandlerError("path '%s' of project with id '%s' is not public" % (src_path, src_id))
    # A copy into or out of a starting project is refused before anything is copied.
    projects.ready_for_call(hub, src_id, start_stopped=False)
    projects.ready_for_call(hub, dst_id, start_stopped=False)
    projects.touch(hub, src_id, caller.account_id)
    projects.touch(hub, dst_id, caller.account_id)

    src, src_home = _join(hub, src_id, src_path)
    dst, dst_home = _join(hub, dst_id, dst_path)
    if not (files.inside(src_home, src) and files.inside(os.path.realpath(src_home), os.path.realpath(src))):
        raise HandlerError('source path must be contained in project home dir')
    if not (files.inside(dst_home, dst) and files.inside(os.path.realpath(dst_home), os.path.realpath(dst))):
        raise HandlerError('target path must be contained in target project home dir')
    if not os.path.lexists(src):
        raise HandlerError("ENOENT: no such file or directory, stat '%s'" % (src_home + '/' + src_path))

    excludes = []
    if hub.era == 'guide' and truthy(mesg.get('exclude_history')):
        excludes.append('*.sage-history')
    if not public and isinstance(mesg.get('exclude'), list):
        excludes.extend(js_string(pattern) for pattern in mesg['exclude'])
    timeout = mesg.get('timeout')
    try:
        timeout = float(timeout) if truthy(timeout) else None
    except (TypeError, ValueError):
        timeout = None
    job = _Copy(src, dst, excludes, timeout, overwrite_newer=truthy(mesg.get('overwrite_newer')),
                delete_missing=truthy(mesg.get('delete_missing')), backup=truthy(mesg.get('backup')))

    if hub.era == '2024' and not public:
        if truthy(mesg.get('wait_until_done')):
            _run(job)
        else:
            # The 2024 hub answers at once and copies in the background; failures are never reported.
            threading.Thread(target=_run_quietly, args=(job,), daemon=True).start()
        return {'event': 'copy_path_between_projects_response', 'id': mesg['id'], 'copy_path_id': '', 'note': NOTE}
    _run(job)
    return {'event': 'success', 'id': mesg['id']}


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
    def __init__(self, src, dst, excludes, timeout, overwrite_newer, delete_missing, backup):
        self.src, self.dst = src, dst
        self.excludes = excludes
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timeout = timeout
        self.overwrite_newer, self.delete_missing, self.backup = overwrite_newer, delete_missing, backup
        self.dst_root = None

    def run(self):
        if os.path.realpath(self.src) == os.path.realpath(self.dst):
            return   # copying a path onto itself changes nothing
        if os.path.isdir(self.src) and not os.path.islink(self.src):
            self.dst_root = os.path.realpath(self.dst)
            self._directory(self.src, self.dst, '')
            return
        target = self.dst
        if os.path.isdir(target) and not os.path.islink(target):
            target = os.path.join(target, os.path.basename(self.src))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        self._entry(self.src, target)

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

    def _directory(self, src, dst, relative):
        if os.path.islink(dst) or (os.path.lexists(dst) and not os.path.isdir(dst)):
            self._remove(dst)
        os.makedirs(dst, exist_ok=True)
        names = []
        for name in sorted(os.listdir(src)):
            path = os.path.join(src, name)
            is_dir = os.path.isdir(path) and not os.path.islink(path)
            if self._excluded(os.path.join(relative, name), is_dir):
                continue
            if is_dir and os.path.realpath(path) == self.dst_root:
                continue   # the target lies inside the source: do not copy it into itself
            names.append(name)
            self._check_time()
            if is_dir:
                self._directory(path, os.path.join(dst, name), os.path.join(relative, name))
            else:
                self._entry(path, os.path.join(dst, name))
        if self.delete_missing:
            for name in os.listdir(dst):
                if name in names or self._excluded(os.path.join(relative, name), os.path.isdir(os.path.join(dst, name))):
                    continue
                if self.backup and name.endswith('~'):
                    continue
                self._remove(os.path.join(dst, name))
        shutil.copystat(src, dst, follow_symlinks=False)

    def _entry(self, src, dst):
        info = os.lstat(src)
        if stat.S_ISLNK(info.st_mode):
            if os.path.islink(dst) and os.readlink(dst) == os.readlink(src):
                return
            self._replace_with(dst, lambda temporary: os.symlink(os.readlink(src), temporary))
            return
        if not stat.S_ISREG(info.st_mode):
            return
        if os.path.lexists(dst) and not os.path.islink(dst):
            if os.path.isdir(dst):
                if not self.delete_missing:
                    return
                self._remove(dst)
            else:
                current = os.stat(dst)
                if not self.overwrite_newer and current.st_mtime_ns > info.st_mtime_ns:
                    return   # rsync --update keeps newer files on the receiver
                if current.st_size == info.st_size and current.st_mtime_ns == info.st_mtime_ns:
                    return   # rsync's quick check: same size and time means unchanged
                if self.backup:
                    os.replace(dst, dst + '~')
        self._replace_with(dst, lambda temporary: shutil.copy2(src, temporary, follow_symlinks=False))

    @staticmethod
    def _replace_with(dst, make):
        # A fresh private directory next to dst gives a free name on the same file system for the rename.
        scratch = tempfile.mkdtemp(dir=os.path.dirname(dst), prefix='.' + os.path.basename(dst) + '.')
        temporary = os.path.join(scratch, 'new')
        try:
            make(temporary)
            os.replace(temporary, dst)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _remove(self, path):
        if self.backup and os.path.lexists(path) and not os.path.isdir(path):
            os.replace(path, path + '~')
        elif os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
