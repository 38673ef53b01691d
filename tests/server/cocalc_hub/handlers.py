"""The endpoints: one function per message, `handler(hub, caller, mesg) -> response dict`.

Failures raise HandlerError (HTTP 200 {"event": "error"}); some endpoints answer failures with
their own event instead (account_creation_failed, changed_email_address, ...), as the hub does.
"""

import datetime
import os
import random
import stat

from . import accounts, copies, execs, files, projects, query
from .errors import HandlerError, NoAnswer
from .util import (check_password, hash_password, is_uuid, is_valid_email, js_json, js_string, key_hash, new_uuid,
                   now_iso, parse_iso, random_token, truthy)

PASSWORD_RULE = 'Password must be between 6 and 64 characters in length.'


def reply(request, event, **fields):
    response = {'event': event, 'id': request['id']}
    response.update(fields)
    return response


def _need_account(caller, text):
    if caller.account_id is None:
        raise HandlerError(text)


def _integer(value, default):
    """A number option (form bodies send strings); the default when it is not a finite number."""
    try:
        return int(float(js_string(value)))
    except (ValueError, OverflowError):
        return default


def _password_ok(password):
    return isinstance(password, str) and 6 <= len(password) <= 64


# ---- basics -------------------------------------------------------------------------------
def ping(hub, caller, mesg):
    return reply(mesg, 'pong', now=now_iso())


def log_client_error(hub, caller, mesg):
    with hub.store.transaction() as conn:
        hub.store.log_client_error(conn, new_uuid(), caller.account_id, js_string(mesg['error']), now_iso())
    return reply(mesg, 'success')


def metrics(hub, caller, mesg):
    raise NoAnswer()


def support_ticket(hub, caller, mesg):
    if hub.profile.support_tickets_deprecated:
        raise HandlerError('deprecated')
    if mesg['event'] == 'get_support_tickets':
        _need_account(caller, 'You must be signed in to use support related functions.')
    raise HandlerError('Support ticket backend is not available.')


# ---- accounts -----------------------------------------------------------------------------
def create_account(hub, caller, mesg):
    email = mesg.get('email_address')
    password = mesg.get('password')
    reason = {}
    if hub.profile.sign_up_asks_names_and_terms:
        if not truthy(mesg.get('agreed_to_terms')):
            reason['agreed_to_terms'] = 'Agree to the Salvus Terms of Service.'
        if not js_string(mesg.get('first_name')).strip():
            reason['first_name'] = 'Enter your first name.'
        if not js_string(mesg.get('last_name')).strip():
            reason['last_name'] = 'Enter your last name.'
    if hub.profile.anonymous_sign_up_refused and not email and not password:
        return reply(mesg, 'account_creation_failed', reason={'other': 'Anonymous sign up is disabled.'})
    email = js_string(email).strip().lower() if email is not None else ''
    if not is_valid_email(email):
        reason['email_address'] = 'Email address does not appear to be valid.'
    if password is None:
        reason['password'] = 'Password must be specified.'
    elif not _password_ok(password):
        reason['password'] = PASSWORD_RULE
    if not reason and hub.store.account_by_email(email) is not None:
        reason['email_address'] = 'This e-mail address is already taken.'
    if reason:
        return reply(mesg, 'account_creation_failed', reason=reason)
    account_id, api_key = accounts.create_record(hub.store, email, js_string(mesg.get('first_name') or ''),
                                                 js_string(mesg.get('last_name') or ''), password,
                                                 with_key=hub.profile.sign_up_gives_api_key and truthy(mesg.get('get_api_key')))
    accounts.run_creation_actions(hub, account_id, email)
    response = reply(mesg, 'account_created', account_id=account_id)
    if api_key:
        response['api_key'] = api_key
    return response


def delete_account(hub, caller, mesg):
    # Guide era: no ownership check at all; the account stays listed in projects.
    account_id = mesg['account_id']
    with hub.store.transaction() as conn:
        account = hub.store.get_account(js_string(account_id), conn)
        if account is not None and not account['deleted']:
            account['email_address_before_delete'] = account.get('email_address')
            account.update(email_address=None, passports=None, deleted=True)
            hub.store.save_account(conn, account)
    return reply(mesg, 'account_deleted')


def change_email_address(hub, caller, mesg):
    new_email = js_string(mesg['new_email_address']).strip().lower()
    if not is_valid_email(new_email):
        return reply(mesg, 'changed_email_address', error='email_invalid')
    if caller.account_id is None or mesg['account_id'] != caller.account_id:
        return reply(mesg, 'changed_email_address', error='account_id in mesg is not what user is signed in as')
    account = hub.store.get_account(caller.account_id)
    if account.get('password_hash') and not check_password(js_string(mesg['password']), account['password_hash']):
        return reply(mesg, 'changed_email_address', error='invalid_password')
    with hub.store.transaction() as conn:
        if hub.store.account_by_email(new_email, conn) is not None:
            return reply(mesg, 'changed_email_address', error='email_already_taken')
        account = hub.store.get_account(caller.account_id, conn)
        account['email_address'] = new_email
        hub.store.save_account(conn, account)
    accounts.run_creation_actions(hub, caller.account_id, new_email)
    return reply(mesg, 'changed_email_address', error=False)


def change_password(hub, caller, mesg):
    """Guide era: the account is named by email_address and proven by old_password."""
    account = hub.store.account_by_email(js_string(mesg['email_address']).strip().lower())
    if account is None:
        return reply(mesg, 'changed_password', error='No account with e-mail address %s' % js_string(mesg['email_address']))
    if account.get('password_hash') and not check_password(js_string(mesg['old_password']), account['password_hash']):
        return reply(mesg, 'changed_password', error='invalid old password')
    if not _password_ok(mesg['new_password']):
        return reply(mesg, 'changed_password', error={'new_password': PASSWORD_RULE})
    _set_password(hub, account['account_id'], mesg['new_password'])
    return reply(mesg, 'changed_password')


def _set_password(hub, account_id, password):
    with hub.store.transaction() as conn:
        account = hub.store.get_account(account_id, conn)
        account['password_hash'] = hash_password(password)
        hub.store.save_account(conn, account)


def forgot_password(hub, caller, mesg):
    email = js_string(mesg['email_address']).strip().lower()
    if not is_valid_email(email):
        return reply(mesg, 'forgot_password_response', error='Invalid email address.')
    account = hub.store.account_by_email(email)
    if account is None:
        return reply(mesg, 'forgot_password_response', error='No account with e-mail address %s' % email)
    code = new_uuid()
    expire = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat()
    with hub.store.transaction() as conn:
        hub.store.add_password_reset(conn, key_hash(code), account['account_id'], expire)
        body = ('Somebody just requested to change the password of your CoCalc account.\n'
                'If you requested this password change, please click this link:\n\n%s/app#forgot-%s\n' % (hub.url, code))
        hub.store.send_mail(conn, email, 'CoCalc Password Reset', body, 'password_reset')
    return reply(mesg, 'forgot_password_response', error=False)


def reset_forgot_password(hub, caller, mesg):
    digest = key_hash(js_string(mesg['reset_code']))
    with hub.store.transaction() as conn:
        row = hub.store.password_reset(conn, digest)
        expire = parse_iso(row[1]) if row else None
        if row is None or row[2] or expire is None or expire < datetime.datetime.now(datetime.timezone.utc):
            return reply(mesg, 'reset_forgot_password_response', error='Password reset request is no longer valid.')
        if not _password_ok(mesg['new_password']):
            return reply(mesg, 'reset_forgot_password_response', error=PASSWORD_RULE)
        hub.store.use_password_reset(conn, digest)
        account = hub.store.get_account(row[0], conn)
        account['password_hash'] = hash_password(mesg['new_password'])
        hub.store.save_account(conn, account)
    return reply(mesg, 'reset_forgot_password_response', error=False)


def unlink_passport(hub, caller, mesg):
    _need_account(caller, 'must be logged in')
    with hub.store.transaction() as conn:
        account = hub.store.get_account(caller.account_id, conn)
        passports = dict(account.get('passports') or {})
        passports.pop('%s-%s' % (js_string(mesg['strategy']), js_string(mesg['id'])), None)
        account['passports'] = passports
        hub.store.save_account(conn, account)
    return reply(mesg, 'success')


def user_auth(hub, caller, mesg):
    target = js_string(mesg['account_id'])
    ban_key = (caller.account_id, target)
    with hub.lock:
        banned_until = hub.auth_bans.get(ban_key, 0)
    if banned_until > hub.clock():
        raise HandlerError('banned -- please wait at least 60s before trying again')
    account = hub.store.get_account(target) if is_uuid(target) else None
    if account is None or account['deleted']:
        raise HandlerError('no such account')
    password = mesg['password']
    if not (caller.is_admin and password == '') and not check_password(js_string(password), account.get('password_hash')):
        with hub.lock:
            hub.auth_bans[ban_key] = hub.clock() + 60
        raise HandlerError('incorrect password')
    token = random_token(24)
    expire = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=12)).isoformat()
    with hub.store.transaction() as conn:
        hub.store.add_auth_token(conn, key_hash(token), target, expire)
    return reply(mesg, 'user_auth_token', auth_token=token)


def get_usernames(hub, caller, mesg):
    _need_account(caller, 'user must be signed in')
    ids = mesg['account_ids']
    for item in (list(ids) if isinstance(ids, (list, str)) else [ids]):
        if not is_uuid(item):
            raise HandlerError('invalid uuid %s in account_ids -- %s' % (js_string(item), js_json(ids)))
    return reply(mesg, 'usernames', usernames={account_id: accounts.cached_names(hub, account_id) for account_id in ids})


def user_search(hub, caller, mesg):
    admin = hub.profile.user_search_admin and truthy(mesg.get('admin'))
    if hub.profile.user_search_needs_account:
        _need_account(caller, 'You must be signed in to search for users.')
    if admin and not caller.is_admin:
        raise HandlerError('must be logged in and a member of the admin group')
    limit = _integer(mesg['limit'], 20)
    if not caller.is_admin and (limit > 50 or limit < 0):
        limit = 50
    return reply(mesg, 'user_search_results', results=accounts.search(hub, caller, js_string(mesg['query']), limit, admin))


# ---- projects and collaborators -----------------------------------------------------------
def create_project(hub, caller, mesg):
    _need_account(caller, 'You must be signed in to create a new project.')
    project_id = projects.create(hub, caller.account_id, js_string(mesg['title']), js_string(mesg['description']),
                                 mesg.get('image'))
    if truthy(mesg['start']):
        # The hub answers before the start completes; the project reads 'starting' from now on, so a
        # project call made right after is refused (runs-2024 README fact 1).
        projects.start(hub, project_id, explicit=True, wait=False)
    return reply(mesg, 'project_created', project_id=project_id)


def touch_project(hub, caller, mesg):
    if projects.has_access(hub, caller, mesg['project_id']) is None:
        raise HandlerError('unable to touch project %s -- must have write access' % js_string(mesg['project_id']))
    projects.touch(hub, mesg['project_id'], caller.account_id, force=True)
    return reply(mesg, 'success')


def invite_collaborator(hub, caller, mesg):
    project = projects.check_access(hub, caller, mesg['project_id'], 'write', touching=False)
    account_id = mesg['account_id']
    if not is_uuid(account_id):
        raise HandlerError('invalid account_id -- %s' % js_string(account_id))
    _add_member(hub, project['project_id'], account_id)
    invitee = hub.store.get_account(account_id)
    if mesg.get('email') is not None and invitee is not None and invitee.get('email_address'):
        title = js_string(mesg.get('title') if mesg.get('title') is not None else project.get('title'))
        if mesg.get('subject'):
            subject = js_string(mesg['subject'])
        elif mesg.get('replyto_name'):
            subject = "%s invited you to collaborate on CoCalc in project '%s'" % (js_string(mesg['replyto_name']), title)
        else:
            subject = "Invitation to CoCalc for collaborating in project '%s'" % title
        _send_invite(hub, project['project_id'], invitee['email_address'], subject, js_string(mesg['email']),
                     'invite_collaborator')
    return reply(mesg, 'success')


def _add_member(hub, project_id, account_id):
    """Deep-merge users[account_id].group = collaborator (so an owner is demoted, as in the hub)."""
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        if project is None:
            return
        users = project.get('users') or {}
        entry = dict(users.get(account_id) or {})
        entry['group'] = 'collaborator'
        users[account_id] = entry
        project['users'] = users
        hub.store.save_project(conn, project)


def _send_invite(hub, project_id, address, subject, body, kind):
    """Send (to the outbox) unless this address got one for this project recently; record projects.invite."""
    last = parse_iso(hub.store.last_mail_time(address, kind, project_id))
    now = datetime.datetime.now(datetime.timezone.utc)
    with hub.store.transaction() as conn:
        if last is None or now - last > datetime.timedelta(days=hub.profile.invite_interval_days):
            hub.store.send_mail(conn, address, subject, body, kind, project_id)
        project = hub.store.get_project(project_id, conn)
        invite = project.get('invite') if isinstance(project.get('invite'), dict) else {}
        invite[address] = {'time': now_iso()}
        project['invite'] = invite
        hub.store.save_project(conn, project)


def add_collaborator(hub, caller, mesg):
    project_ids = mesg.get('project_id')
    account_ids = mesg['account_id']
    if mesg.get('token_id') is not None:
        raise HandlerError('Error: project invite token not found')
    project_ids = project_ids if isinstance(project_ids, list) else [project_ids]
    account_ids = account_ids if isinstance(account_ids, list) else [account_ids]
    for account_id in account_ids:
        if not is_uuid(account_id):
            raise HandlerError('Error: all account id\'s must be valid uuid\'s, but "%s" is not' % js_string(account_id))
    for project_id in project_ids:
        if not is_uuid(project_id):
            raise HandlerError('Error: all project id\'s must be valid uuid\'s (or empty), but "%s" is not' % js_string(project_id))
    if len(project_ids) != len(account_ids):
        raise HandlerError('Error: accounts (of length %d) and projects (of length %d) must be arrays of the same length'
                           % (len(account_ids), len(project_ids)))
    for project_id, account_id in zip(project_ids, account_ids):
        if account_id == caller.account_id and not caller.is_admin:
            raise HandlerError('Error: cannot add self to "%s" -- must be an admin' % project_id)
        if projects.has_access(hub, caller, project_id) is None:
            raise HandlerError('Error: user %s does not have write access to project %s' % (caller.account_id, project_id))
    for project_id, account_id in zip(project_ids, account_ids):
        _add_member(hub, project_id, account_id)
    return reply(mesg, 'success')


def remove_collaborator(hub, caller, mesg):
    project_id, account_id = mesg['project_id'], mesg['account_id']
    if not is_uuid(project_id):
        raise HandlerError('Write access denied -- invalid project_id -- %s' % js_string(project_id))
    if not is_uuid(account_id):
        raise HandlerError('invalid account_id -- %s' % js_string(account_id))
    if hub.store.get_project(project_id) is None:
        return reply(mesg, 'success')   # the hub removes nothing and reports success
    projects.check_access(hub, caller, project_id, 'write', touching=False)
    with hub.store.transaction() as conn:
        project = hub.store.get_project(project_id, conn)
        users = project.get('users') or {}
        entry = users.get(account_id)
        if entry is not None and not (isinstance(entry, dict) and entry.get('group') == 'owner'):
            del users[account_id]
            project['users'] = users
            hub.store.save_project(conn, project)
    return reply(mesg, 'success')


def invite_noncloud_collaborators(hub, caller, mesg):
    project = projects.check_access(hub, caller, mesg['project_id'], 'write', touching=False)
    to = js_string(mesg['to'])
    if len(to) > 1024:
        raise HandlerError('Specify less recipients when adding collaborators to project.')
    addresses = [part.strip().lower() for part in to.replace(';', ' ').replace(',', ' ').split() if part.strip()]
    for address in addresses:
        if not is_valid_email(address):
            raise HandlerError("invalid email address '%s'" % address)
        if len(address) >= 128:
            raise HandlerError("email address must be at most 128 characters: '%s'" % address)
    base = hub.url or 'http://localhost'
    for address in addresses:
        account = hub.store.account_by_email(address)
        if account is not None:
            _add_member(hub, project['project_id'], account['account_id'])
            continue
        accounts.add_creation_action(hub, address, project['project_id'])
        body = ("%s<br/><br/>\n<b>To accept the invitation, please sign up at\n<a href='%s'>%s</a>\n"
                "using exactly the email address '%s'.\nThen go to <a href='%s'>the project '%s'</a>.</b><br/>"
                % (js_string(mesg['email']), base, base, address, js_string(mesg['link2proj']), js_string(mesg['title'])))
        subject = js_string(mesg['subject']) if mesg.get('subject') else 'CoCalc Invitation'
        _send_invite(hub, project['project_id'], address, subject, body, 'invite_noncloud')
    return reply(mesg, 'invite_noncloud_collaborators_resp', mesg='Invited %s to collaborate on a project.' % to)


# ---- files, exec, copies ------------------------------------------------------------------
def read_text_file_from_project(hub, caller, mesg):
    project_ids, paths = mesg['project_id'], mesg['path']
    if isinstance(paths, list) or isinstance(project_ids, list):
        if not isinstance(project_ids, list):
            raise HandlerError('project_id must be an array')
        if not isinstance(paths, list) or len(paths) != len(project_ids):
            raise HandlerError('if project_id is an array, then path must be an array of the same length')
        content = []
        for project_id, path in zip(project_ids, paths):
            item = {'path': path, 'project_id': project_id}
            try:
                item['content'] = _read_one(hub, caller, project_id, path)
            except projects.ProjectNotReady:
                # The hub's Error object does not serialise: the item reads "error": {} (runs-2024 fact 3).
                item['error'] = {}
            except HandlerError as error:
                item['error'] = error.error
            content.append(item)
        return reply(mesg, 'text_file_read_from_project', content=completion_order(content))
    return reply(mesg, 'text_file_read_from_project', content=_read_one(hub, caller, project_ids, paths))


def completion_order(items):
    """The hub pushes each batch item when its read finishes (async.mapLimit), not in request order.

    Callers must match items by (project_id, path); so that no client can rely on position, any batch
    of two or more items comes back in an order that differs from the request (runs-2024 fact 2).
    """
    if len(items) < 2:
        return items
    order = list(range(len(items)))
    while order == sorted(order):
        random.shuffle(order)
    return [items[index] for index in order]


def _read_one(hub, caller, project_id, path):
    projects.check_access(hub, caller, project_id, 'read')
    projects.ready_for_call(hub, project_id)
    return files.read_text(hub, project_id, path)


def write_text_file_to_project(hub, caller, mesg):
    projects.check_access(hub, caller, mesg['project_id'], 'write')
    projects.ready_for_call(hub, mesg['project_id'])
    files.write_text(hub, mesg['project_id'], mesg['path'], mesg['content'])
    return reply(mesg, 'file_written_to_project')


def project_exec(hub, caller, mesg):
    projects.check_access(hub, caller, mesg['project_id'], 'write')
    projects.ready_for_call(hub, mesg['project_id'])
    return execs.run(hub, mesg['project_id'], mesg)


def copy_path_between_projects(hub, caller, mesg):
    return copies.copy(hub, caller, mesg, public=False)


def copy_public_path_between_projects(hub, caller, mesg):
    return copies.copy(hub, caller, mesg, public=True)


def copy_path_status(hub, caller, mesg):
    copy_path_id = mesg.get('copy_path_id')
    if copy_path_id is not None:
        if not is_uuid(copy_path_id):
            raise HandlerError('postgresql error: invalid input syntax for type uuid: "%s"' % js_string(copy_path_id))
        raise HandlerError("Can't find copy operation with ID=%s" % copy_path_id)
    src_id, target_id = mesg.get('src_project_id'), mesg.get('target_project_id')
    if src_id is None and target_id is None:
        raise HandlerError("'copy_path_id' (UUID) of a copy operation or 'src_project_id/target_project_id' must be defined")
    if src_id is not None and projects.has_access(hub, caller, src_id) is None:
        raise HandlerError('ACCESS BLOCKED -- No read access to source project -- %s' % js_string(src_id))
    if target_id is not None and projects.has_access(hub, caller, target_id) is None:
        raise HandlerError('ACCESS BLOCKED -- No write access to target project -- %s' % js_string(target_id))
    # Copies are never queued here (as in the hub's single-user mode), so there is nothing to list.
    return reply(mesg, 'copy_path_status_response', data=[])


def copy_path_delete(hub, caller, mesg):
    raise HandlerError("Copy operation '%s' either does not exist or already finished" % js_string(mesg.get('copy_path_id')))


def public_get_text_file(hub, caller, mesg):
    project_id, path = js_string(mesg['project_id']), js_string(mesg['path'])
    if not is_uuid(project_id) or not copies.is_public(hub, project_id, path):
        raise HandlerError("path '%s' of project with id '%s' is not public" % (path, project_id))
    return reply(mesg, 'public_text_file_contents', data=files.read_text(hub, project_id, path))


def public_get_directory_listing(hub, caller, mesg):
    project_id, path = js_string(mesg['project_id']), js_string(mesg['path']).strip('/')
    shared = [js_string(row.get('path')).strip('/') for row in hub.store.public_paths_of(project_id)
              if not truthy(row.get('disabled'))] if is_uuid(project_id) else []
    if not shared:
        raise HandlerError('not_public')
    real = files.resolve(hub, project_id, path)[1]
    try:
        listing = files.list_dir(hub, project_id, real)   # no symlink followed, even one swapped in
    except OSError:
        raise HandlerError("Error: ENOENT: no such file or directory, scandir '%s'" % path) from None
    entries = []
    for name, info in listing:
        if name.startswith('.') and not truthy(mesg['hidden']):
            continue
        relative = (path + '/' + name).strip('/')
        # Show what is public, and the directories that lead to something public.
        if not any(s == '' or relative == s or relative.startswith(s + '/') or s.startswith(relative + '/') for s in shared):
            continue
        entry = {'name': name, 'mtime': int(info.st_mtime)}
        # A symlink shows as what it points to, as before (only that bit of its target is looked at).
        if stat.S_ISDIR(info.st_mode) or (stat.S_ISLNK(info.st_mode) and os.path.isdir(os.path.join(real, name))):
            entry['isdir'] = True
        else:
            entry['size'] = info.st_size
        entries.append(entry)
    if truthy(mesg['time']):
        entries.sort(key=lambda item: -item['mtime'])
    else:
        entries.sort(key=lambda item: item['name'])
    start = max(0, _integer(mesg['start'], 0))
    limit = _integer(mesg['limit'], -1)
    entries = entries[start:] if limit < 0 else entries[start:start + limit]
    return reply(mesg, 'public_directory_listing', result={'files': entries})


# ---- recorded 2024 extras -----------------------------------------------------------------
def success(hub, caller, mesg):
    return reply(mesg, 'success')


def fixed_error(text):
    def handler(hub, caller, mesg):
        raise HandlerError(text)
    return handler


HANDLERS = {
    'ping': ping,
    'query': query.handle_query,
    'create_account': create_account,
    'delete_account': delete_account,
    'change_email_address': change_email_address,
    'change_password': change_password,
    'forgot_password': forgot_password,
    'reset_forgot_password': reset_forgot_password,
    'unlink_passport': unlink_passport,
    'user_auth': user_auth,
    'get_usernames': get_usernames,
    'user_search': user_search,
    'log_client_error': log_client_error,
    'metrics': metrics,
    'create_support_ticket': support_ticket,
    'get_support_tickets': support_ticket,
    'create_project': create_project,
    'touch_project': touch_project,
    'disconnect_from_project': success,
    'invite_collaborator': invite_collaborator,
    'add_collaborator': add_collaborator,
    'remove_collaborator': remove_collaborator,
    'invite_noncloud_collaborators': invite_noncloud_collaborators,
    'read_text_file_from_project': read_text_file_from_project,
    'write_text_file_to_project': write_text_file_to_project,
    'project_exec': project_exec,
    'copy_path_between_projects': copy_path_between_projects,
    'copy_public_path_between_projects': copy_public_path_between_projects,
    'copy_path_status': copy_path_status,
    'copy_path_delete': copy_path_delete,
    'public_get_text_file': public_get_text_file,
    'public_get_directory_listing': public_get_directory_listing,
    'get_available_upgrades': fixed_error('Error: stripe customer not defined'),
    'add_license_to_project': success,
    'remove_license_from_project': success,
    'chatgpt': fixed_error('Error: There is a problem calling ollama-0. Please try another model, a different prompt, '
                           'or try again later. Error: google vertexai not configured'),
    'jupyter_kernels': fixed_error('Error: Jupyter API is not enabled on this server.'),
    'jupyter_execute': fixed_error('Error: Jupyter API is not enabled on this server.'),
}

# Endpoints that talk to a project (the latency profile's slower class).
PROJECT_ENDPOINTS = {'read_text_file_from_project', 'write_text_file_to_project', 'project_exec',
                     'copy_path_between_projects', 'copy_public_path_between_projects'}
