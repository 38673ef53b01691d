# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cocalc_file module's resource function: a text, a copy, or nothing at a path of a project.

A thin layer over _texts.py (text files: read, plan, write) and _trees.py (kinds, checksums,
copies): each ensure_* reads the current state, plans, and writes only what differs, honouring
check mode. Free of AnsibleModule; ensure_file() returns an Outcome.
"""

from __future__ import annotations

import posixpath

from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcInputError,
    Outcome,
    ProjectNotReady,
    attempting,
    check_uuid,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._exec import check_in_home, check_project_path
from ansible_collections.cocalc.cocalc.plugins.module_utils._texts import (
    looks_like_archive,
    plan_text,
    read_text_file,
    text_bytes,
    text_info,
    write_text_file,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._trees import (
    CopyOptions,
    copy_path,
    path_kind,
    plan_copy,
    probe_trees,
    remove_path,
    tree_info,
)


# ---- the cocalc_file module ----

def _file_diff_maps(path, files):
    return dict((posixpath.join(path, name) if name else path, entry.sha256) for name, entry in files.items())


def ensure_copy(client, project_id, path, copy_from, check_mode):
    """copy_from onto project_id:path, changed only when the target's content differs."""
    src_project_id, src_path, options = _copy_source(copy_from)
    # A file copied onto an existing directory lands inside it (rsync), so both are probed.
    nested = posixpath.join(path, posixpath.basename(src_path))
    _no_public_copy(client, options)
    try:
        source, target, inside = _probe_copy(client, project_id, path, nested, src_project_id, src_path, options)
    finally:
        # With api_version auto the probe's first call (a read) decides the generation: refuse before any copy.
        _no_public_copy(client, options)
    if source is not None and source.kind == 'file' and target.kind == 'directory':
        path, target = nested, inside
    plan = plan_copy(source, target, options) if source is not None else None
    if plan is None:
        return _copy_blind(client, project_id, path, src_project_id, src_path, options, target, check_mode)
    if not plan.changed:
        return Outcome(tree_info(project_id, path, target.kind, target.files), False)
    if not check_mode:
        with attempting("copy '%s' of project %s to '%s' in project %s" % (src_path, src_project_id, path, project_id)):
            copy_path(client, src_project_id, src_path, project_id, path, options)
    before = _file_diff_maps(path, target.files) if target.kind != 'missing' else None
    return Outcome(tree_info(project_id, path, plan.kind_after, plan.files_after), True,
                   before=before, after=_file_diff_maps(path, plan.files_after))


def _no_public_copy(client, options):
    """Fail when copy_from.public asks for a copy the API generation spoken cannot make."""
    if options.public and client.generation == 'current':
        raise CocalcInputError("copy_from.public: copying a public path of a project the key's account is not on is not possible "
                               "with current CoCalc (api/v2, conat has no counterpart of API v1's copy_public_path_between_projects); "
                               "nothing was copied. Add the account to the source project as a collaborator and copy without public")


def _copy_source(copy_from):
    """(project_id, path, CopyOptions) of copy_from, checked."""
    src_project_id = check_uuid(copy_from['project_id'], 'copy_from.project_id')
    src_path = check_project_path(copy_from['path'], 'copy_from.path')
    options = CopyOptions(overwrite_newer=copy_from.get('overwrite_newer'), delete_missing=copy_from.get('delete_missing'),
                          backup=copy_from.get('backup'), timeout=copy_from.get('timeout'),
                          exclude_history=copy_from.get('exclude_history'), public=copy_from.get('public'))
    if options.timeout is not None and options.timeout <= 0:
        raise CocalcInputError('copy_from.timeout must be a positive number of seconds, got %r' % (options.timeout,))
    return src_project_id, src_path, options


def _probe_copy(client, project_id, path, nested, src_project_id, src_path, options):
    """(source, target, inside): the trees of the source (None when it cannot be listed), of path
    and of nested (where a file lands in a directory). One probe when both are in one project."""
    source = None
    with attempting("read the checksums of '%s' in project %s" % (src_path, src_project_id)):
        if src_project_id == project_id:
            source, target, inside = probe_trees(client, project_id, [src_path, path, nested], options.exclude_history,
                                                 options=['copy_from.path', 'path', 'path'])
        else:
            source = _probe_source(client, src_project_id, src_path, options)
    if source is not None and source.kind == 'missing':
        raise CocalcInputError("copy_from.path '%s' does not exist in project %s" % (src_path, src_project_id))
    if source is None or src_project_id != project_id:
        with attempting("read the checksums of '%s' in project %s" % (path, project_id)):
            target, inside = probe_trees(client, project_id, [path, nested], options.exclude_history)
    return source, target, inside


def _probe_source(client, src_project_id, src_path, options):
    """The source's tree, or None when the key cannot list it."""
    try:
        return probe_trees(client, src_project_id, [src_path], options.exclude_history, options=['copy_from.path'])[0]
    except CocalcApiError as err:
        if err.kind != 'no_access':
            raise
        # A public path (or a viewer's project): the copy may work where the listing does not.
        return None


def _copy_blind(client, project_id, path, src_project_id, src_path, options, target, check_mode):
    """The source cannot be listed: compare the target before and after the copy.

    A file copied into a directory lands inside it, which the directory's own tree includes.
    """
    if check_mode:
        return Outcome(tree_info(project_id, path, target.kind, target.files), True,
                       warnings=['cannot list copy_from.path in project %s, so check mode cannot tell whether the copy would change '
                                 'anything; assuming it would' % src_project_id])
    with attempting("copy '%s' of project %s to '%s' in project %s" % (src_path, src_project_id, path, project_id)):
        copy_path(client, src_project_id, src_path, project_id, path, options)
    with attempting("read the checksums of '%s' in project %s" % (path, project_id)):
        after = probe_trees(client, project_id, [path], options.exclude_history)[0]
    changed = (target.kind, target.checksums()) != (after.kind, after.checksums())
    info = tree_info(project_id, path, after.kind, after.files)
    if not changed:
        return Outcome(info, False)
    before_map = _file_diff_maps(path, target.files) if target.kind != 'missing' else None
    return Outcome(info, True, before=before_map, after=_file_diff_maps(path, after.files))


def _explain_outside(client, project_id, path, err):
    """After a failed read: OutsideHomeError when the path leaves the home (a hub that refuses such
    reads has its own words for it; this gives ours), else nothing, and the caller re-raises err."""
    if err.http_status is None or isinstance(err, ProjectNotReady):
        return   # no answer, or a project that never came up: another call would not help
    try:
        check_in_home(client, project_id, [path], ['path'])
    except CocalcApiError:
        pass     # the read's own error is the one to report


def ensure_text(client, project_id, path, content, check_mode, after_header=None):
    """Write content to project_id:path unless it is already there."""
    data = text_bytes(content)
    with attempting("read '%s' in project %s" % (path, project_id)):
        try:
            current = read_text_file(client, project_id, path)
        except CocalcApiError as err:
            _explain_outside(client, project_id, path, err)
            raise
        if looks_like_archive(current) and path_kind(client, project_id, path) == 'directory':
            raise CocalcInputError("path '%s' is a directory in project %s; cocalc_file writes text files (copy_from copies directories)"
                                   % (path, project_id))
    plan = plan_text(current, content, before_header=path, after_header=after_header or path)
    info = text_info(project_id, path, data)
    if plan.changed:
        # Only before a write (the hub follows symlinks anywhere): an unchanged file costs no call.
        check_in_home(client, project_id, [path], ['path'])
    if plan.changed and not check_mode:
        with attempting("write '%s' in project %s" % (path, project_id)):
            write_text_file(client, project_id, path, content)
    return Outcome(info, plan.changed, diff=plan.diff)


def ensure_absent(client, project_id, path, check_mode):
    """Remove a file or directory; nothing to do when it is not there."""
    with attempting("check '%s' in project %s" % (path, project_id)):
        kind = path_kind(client, project_id, path)
    if kind == 'missing':
        return Outcome(None, False)
    if not check_mode:
        with attempting("remove '%s' in project %s" % (path, project_id)):
            remove_path(client, project_id, path)
    return Outcome(None, True, before=dict(path=path, state=kind), after=None)


def ensure_file(client, params, check_mode):
    """The resource function of cocalc_file."""
    project_id = params['project_id']
    path = check_project_path(params['path'], 'path')
    sources = [name for name in ('content', 'src', 'copy_from') if params.get(name) is not None]
    if params['state'] == 'absent':
        if sources:
            raise CocalcInputError('%s cannot be used with state=absent' % ', '.join(sources))
        return ensure_absent(client, project_id, path, check_mode)
    if params.get('copy_from') is not None:
        return ensure_copy(client, project_id, path, params['copy_from'], check_mode)
    if params.get('src') is not None and params.get('content') is None:
        raise CocalcInputError('src names a file on the controller, which the action plugin cocalc.cocalc.cocalc_file reads; '
                               'run the task as cocalc.cocalc.cocalc_file, or pass content')
    return ensure_text(client, project_id, path, params['content'], check_mode, after_header=params.get('src'))
