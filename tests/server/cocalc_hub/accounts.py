"""Accounts: creation, API key lookup, pending actions for invited addresses, user search."""

import datetime
import time

from .util import (base62_decode, hash_password, is_uuid, is_valid_email, iso_to_ms, key_hash, new_legacy_api_key,
                   new_uuid, now_iso, parse_iso)

NO_ACCOUNT = 'No account found. Is your API key wrong?'
BANNED = 'User is BANNED.  If this is a mistake, please contact help@cocalc.com'
LAST_ACTIVE_INTERVAL_S = 60
USERNAME_CACHE_S = 3600   # the hub caches names for an hour, so a rename shows late in get_usernames


class AuthError(Exception):
    pass


def create_record(store, email, first_name='', last_name='', password=None, admin=False, with_key=True):
    """Insert an account; returns (account_id, api_key or None). The caller checked the email is free."""
    account_id = new_uuid()
    api_key = new_legacy_api_key() if with_key else None
    account = {'account_id': account_id, 'email_address': email, 'first_name': first_name, 'last_name': last_name,
               'created': now_iso(), 'password_hash': hash_password(password) if password else None,
               'api_key_hash': key_hash(api_key) if api_key else None}
    if admin:
        account['groups'] = ['admin']
    with store.transaction() as conn:
        store.save_account(conn, account)
    return account_id, api_key


def authenticate(hub, key):
    """The hub's key lookup: legacy keys by value, then the new-style id in the last 6 characters."""
    if key:
        account = hub.store.account_by_key_hash(key_hash(key))
        if account is not None and not account['deleted']:
            if account['banned']:
                raise AuthError(BANNED)
            _mark_active(hub, account)
            return account
        number = base62_decode(key[-6:])
        if number is not None and number > 2 ** 31 - 1:
            raise AuthError('error: value "%d" is out of range for type integer' % number)
    raise AuthError(NO_ACCOUNT)


def _mark_active(hub, account):
    now = time.monotonic()
    with hub.lock:
        last = hub.active_marks.get(account['account_id'])
        if last is not None and now - last < LAST_ACTIVE_INTERVAL_S:
            return
        hub.active_marks[account['account_id']] = now
    with hub.store.transaction() as conn:
        fresh = hub.store.get_account(account['account_id'], conn)
        if fresh is not None:
            fresh['last_active'] = now_iso()
            hub.store.save_account(conn, fresh)


def add_creation_action(hub, email, project_id, days=14):
    """Once this address signs up, the account joins the project as collaborator (for `days`)."""
    expire = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).isoformat()
    with hub.store.transaction() as conn:
        hub.store.add_creation_action(conn, email, {'action': 'add_to_project', 'project_id': project_id,
                                                    'group': 'collaborator'}, expire)


def run_creation_actions(hub, account_id, email):
    """Projects that invited this address before it had an account now get the account as collaborator."""
    now = datetime.datetime.now(datetime.timezone.utc)
    with hub.store.transaction() as conn:
        for seq, action, expire in hub.store.creation_actions(conn, email):
            moment = parse_iso(expire)
            if action.get('action') == 'add_to_project' and (moment is None or moment > now):
                project = hub.store.get_project(action['project_id'], conn)
                if project is not None:
                    users = project.get('users') or {}
                    entry = dict(users.get(account_id) or {})
                    entry['group'] = action.get('group', 'collaborator')
                    users[account_id] = entry
                    project['users'] = users
                    hub.store.save_project(conn, project)
            hub.store.delete_creation_action(conn, seq)


def cached_names(hub, account_id):
    now = time.monotonic()
    with hub.lock:
        cached = hub.username_cache.get(account_id)
        if cached is not None and now - cached[0] < USERNAME_CACHE_S:
            return cached[1]
    account = hub.store.get_account(account_id)
    names = {} if account is None else {'first_name': account.get('first_name'), 'last_name': account.get('last_name')}
    if account is not None:
        with hub.lock:
            hub.username_cache[account_id] = (now, names)
    return names


# ---- user_search --------------------------------------------------------------------------
def _terms(query):
    for line in query.replace(';', ',').replace('\n', ',').split(','):
        term = line.strip().lower()
        if term:
            yield term


def _unwrap(term):
    if '<' in term and '>' in term:
        return term[term.index('<') + 1:term.rindex('>')].strip()
    return term


def search(hub, caller, query, limit, admin):
    """user_search: email terms hit exactly (not limited); other terms match names word by word."""
    emails, words_list, ids = _split_terms(hub, query)
    results, seen = [], set()
    for address in emails:
        account = hub.store.account_by_email(address)
        if account is not None and not account['deleted'] and account['account_id'] not in seen:
            seen.add(account['account_id'])
            results.append(_row(hub, account, with_email=True))
    name_hits = _name_hits(hub, words_list, ids, admin, seen) if words_list or ids else []
    if hub.profile.user_search_by_activity:
        name_hits.sort(key=lambda item: (item.get('last_active') is None, -(iso_to_ms(item.get('last_active')) or 0),
                                         -(iso_to_ms(item.get('created')) or 0)))
    else:
        name_hits.sort(key=lambda item: ('%s %s' % (item.get('first_name') or '', item.get('last_name') or '')).lower())
    results.extend(_row(hub, account, with_email=admin) for account in name_hits[:limit])
    return results


def _split_terms(hub, query):
    """(email addresses, [words of a name term], account ids) of a search query."""
    emails, words_list, ids = [], [], []
    for term in _terms(query):
        if '@' in term:
            address = _unwrap(term)
            if is_valid_email(address) and address not in emails:
                emails.append(address)
        elif hub.profile.user_search_by_id and is_uuid(term):
            ids.append(term)
        else:
            words_list.append(term.split())
    return emails, words_list, ids


def _name_hits(hub, words_list, ids, admin, seen):
    """Accounts (not deleted, not in seen) named by an id or matching a name term; unlisted ones only for admins."""
    hits = []
    for account in hub.store.all_accounts():
        if account['deleted'] or account['account_id'] in seen:
            continue
        if account['account_id'] in ids or any(_name_match(hub, account, words, admin) for words in words_list):
            if account.get('unlisted') and not admin and account['account_id'] not in ids:
                continue
            hits.append(account)
    return hits


def _name_match(hub, account, words, admin):
    fields = [(account.get('first_name') or '').lower(), (account.get('last_name') or '').lower()]
    if hub.profile.user_search_substrings:
        fields.append((account.get('name') or '').lower())
        if admin:
            fields.append((account.get('email_address') or '').lower())
        return all(any(word in field for field in fields) for word in words)
    return all(any(field.startswith(word) for field in fields) for word in words)


def _row(hub, account, with_email):
    if not hub.profile.user_search_times_in_ms:
        row = {'account_id': account['account_id'], 'first_name': account.get('first_name'),
               'last_name': account.get('last_name'), 'last_active': account.get('last_active'),
               'created': account.get('created')}
        if with_email:
            row['email_address'] = account.get('email_address')
            row['email_address_verified'] = account.get('email_address_verified')
        return row
    row = {'account_id': account['account_id'], 'first_name': account.get('first_name'),
           'last_name': account.get('last_name'), 'name': account.get('name')}
    if with_email:
        row['email_address'] = account.get('email_address')
    row.update(last_active=iso_to_ms(account.get('last_active')), created=iso_to_ms(account.get('created')),
               email_address_verified=account.get('email_address_verified'))
    return row
