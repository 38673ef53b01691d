# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CoCalc accounts: find by email, create, update the key's own account, delete.

The API lets a key change only its own account (names through a query set on ``accounts``,
email through change_email_address, password through change_password), and create or (on
old servers) delete any account. Failure events come back as CocalcApiError from the client;
the functions here rewrite their text so that it names the module option at fault.

    find_account(client, email, new_email)  -> (account or None, is_own)
    plan_own_account_changes(current, params) -> {'names': {...}, 'new_email': ..., 'password': bool}   (pure)
    create_account / set_own_names / change_own_email / change_own_password / delete_account   (writes)
"""

from __future__ import annotations

from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcInputError,
    Outcome,
    attempting,
    predict,
    validated,
    wanted_changes,
)

NAME_FIELDS = ('first_name', 'last_name')
PASSWORD_MIN, PASSWORD_MAX = 6, 64

# account_creation_failed reason keys -> the module option they are about.
_REASON_OPTIONS = {'email_address': 'email', 'password': 'password', 'first_name': 'first_name', 'last_name': 'last_name'}

_EMAIL_CHANGE_ERRORS = {
    'invalid_password': 'password is not the current password of the account',
    'email_invalid': 'the server does not accept new_email as an email address',
    'email_already_taken': 'new_email is already the address of an account',
}
_PASSWORD_CHANGE_ERRORS = {
    'invalid old password': 'old_password is not the current password of the account',
}


def account_view(account_id, email, first_name, last_name):
    """The returned shape of an account (never a password)."""
    return dict(account_id=account_id, email=email, first_name=first_name, last_name=last_name)


def validate_params(params):
    """Checks that need no server; raises CocalcInputError naming the option."""
    for option in NAME_FIELDS:
        value = params.get(option)
        if value is not None:
            # One line of at most 254 characters (the server cuts longer names: they would never compare equal).
            validated('person_name', value, option)
    password = params.get('password')
    if password is not None and not (isinstance(password, str) and PASSWORD_MIN <= len(password) <= PASSWORD_MAX):
        raise CocalcInputError('password must be between %d and %d characters long' % (PASSWORD_MIN, PASSWORD_MAX))
    if params.get('state') == 'absent':
        for option in ('new_email', 'first_name', 'last_name', 'password'):
            if params.get(option) is not None:
                raise CocalcInputError('%s cannot be used with state=absent' % option)
    if params.get('new_email') is not None:
        if params.get('password') is None:
            raise CocalcInputError("new_email needs password (the account's current password)")
        if params.get('update_password') == 'always':
            raise CocalcInputError('new_email uses password as the current password, so it cannot be combined with '
                                   'update_password=always; change the email and the password in two tasks')
        if params['new_email'].lower() == params['email'].lower():
            raise CocalcInputError('new_email is the same address as email')
    if params.get('old_password') is not None and params.get('update_password') != 'always':
        raise CocalcInputError('old_password is only used with update_password=always')


# ---- read ----------------------------------------------------------------------------------

def find_account(client, email, new_email=None):
    """(account view or None, is_own) for the account with this email.

    The key's own account also counts as found when it already has new_email (a re-run after
    the email changed). Other accounts come from user_search; email lookups there are exact.
    """
    with attempting('read the account of the API key'):
        me = client.whoami()
    own_email = ((me or {}).get('email_address') or '').lower()
    if own_email and own_email in (email.lower(), (new_email or '').lower()):
        return account_view(me['account_id'], me.get('email_address'), me.get('first_name'), me.get('last_name')), True
    with attempting('look up the account %s' % email):
        row = client.user_search_emails([email]).get(email.lower())
    if row is None:
        return None, False
    return account_view(row['account_id'], row.get('email_address') or email.lower(), row.get('first_name'),
                        row.get('last_name')), False


# ---- plan (pure) -------------------------------------------------------------------------------

def plan_own_account_changes(current, params):
    """The changes to the key's own account: names that differ, a new email, a password."""
    names = wanted_changes(current, dict((field, params.get(field)) for field in NAME_FIELDS))
    new_email = params.get('new_email')
    if new_email is not None and new_email.lower() == (current.get('email') or '').lower():
        new_email = None
    password = params.get('update_password') == 'always' and params.get('password') is not None
    return dict(names=names, new_email=new_email, password=password)


def name_differences(current, params):
    """Warnings for names of another account that differ from the wanted ones (not changeable)."""
    return ['%s of account %s is %r, not %r; the API only lets an account change its own names, so it was left as it is'
            % (field, current['email'], current.get(field), params[field])
            for field in NAME_FIELDS if params.get(field) is not None and params[field] != current.get(field)]


# ---- writes --------------------------------------------------------------------------------

def create_account(client, email, password, first_name=None, last_name=None):
    """create_account; returns the new account id. Failure reasons name the module option."""
    body = dict(first_name=first_name or '', last_name=last_name or '', email_address=email, password=password,
                agreed_to_terms=True)
    try:
        with attempting('create the account %s' % email):
            return client.call('create_account', body)['account_id']
    except CocalcApiError as err:
        reason = (err.body or {}).get('reason') if isinstance(err.body, dict) else None
        if err.event == 'account_creation_failed' and isinstance(reason, dict):
            err.message = '; '.join('%s: %s' % (_REASON_OPTIONS.get(key, key), text) for key, text in sorted(reason.items()))
        raise


def set_own_names(client, names):
    """A set on accounts always acts on the key's own account."""
    with attempting('change the names of the account of the API key'):
        client.query_set('accounts', names)


def _error_text(err, known):
    error = (err.body or {}).get('error') if isinstance(err.body, dict) else None
    if isinstance(error, str) and error in known:
        err.message = known[error]
    elif isinstance(error, dict):
        err.message = '; '.join('%s: %s' % ('password' if key == 'new_password' else key, text)
                                for key, text in sorted(error.items()))


def change_own_email(client, account_id, new_email, password):
    try:
        with attempting('change the email address of the account of the API key to %s' % new_email):
            client.call('change_email_address', account_id=account_id, new_email_address=new_email, password=password)
    except CocalcApiError as err:
        _error_text(err, _EMAIL_CHANGE_ERRORS)
        raise


def _guide_era_form(email):
    """adapt() for call_without_rejected: the guide's change_password names the account by email_address
    instead of account_id."""
    def adapt(body, err):
        if err.unexpected_argument != 'account_id' and (err.kind, err.argument) != ('missing_argument', 'email_address'):
            return False
        del body['account_id']
        body['email_address'] = email
        return True
    return adapt


def change_own_password(client, account, new_password, old_password=None):
    """change_password (servers until March 2024), in the account_id form or the guide's email_address form."""
    what = 'change the password of the account of the API key'
    body = dict(account_id=account['account_id'], old_password=old_password or '', new_password=new_password)
    try:
        with attempting(what):
            client.call_without_rejected('change_password', body, adapt=_guide_era_form(account['email']))
    except CocalcApiError as err:
        if err.unknown_endpoint:
            err.message += ('; set the password in the CoCalc web interface instead, or use update_password=on_create')
        else:
            _error_text(err, _PASSWORD_CHANGE_ERRORS)
        raise


def delete_account(client, account):
    try:
        with attempting('delete the account %s' % account['email']):
            client.call('delete_account', account_id=account['account_id'])
    except CocalcApiError as err:
        if err.unknown_endpoint:
            err.message += '; delete the account in the CoCalc admin interface instead'
        raise


# ---- the module's composition ------------------------------------------------------------------

def ensure_account(client, params, check_mode):
    """cocalc_account: find, then create / update the own account / delete (no write in check mode)."""
    validate_params(params)
    email = params['email']
    current, is_own = find_account(client, email, params.get('new_email'))
    if params['state'] == 'absent':
        if current is None:
            return Outcome(None, False)
        if not check_mode:
            delete_account(client, current)
        return Outcome(None, True, before=current, after=None)
    if current is None:
        if params.get('new_email') is not None:
            raise CocalcInputError('new_email changes the address of the API key\'s own account, but no account has the '
                                   'address %s (nor %s)' % (email, params['new_email']))
        if params.get('password') is None:
            raise CocalcInputError('password is required to create the account %s' % email)
        account_id = None
        if not check_mode:
            account_id = create_account(client, email, params['password'], params.get('first_name'), params.get('last_name'))
        created = account_view(account_id, email.lower(), params.get('first_name') or '', params.get('last_name') or '')
        return Outcome(created, True, before=None, after=created)
    if not is_own:
        warnings = name_differences(current, params)
        if params.get('new_email') is not None:
            raise CocalcInputError('new_email can only change the address of the API key\'s own account, and %s is '
                                   'another account' % email)
        if params.get('update_password') == 'always' and params.get('password') is not None:
            warnings.append('the password of %s was not changed: the API only lets an account change its own password'
                            % email)
        return Outcome(current, False, before=current, after=current, warnings=warnings)
    plan = plan_own_account_changes(current, params)
    after = predict(current, plan['names'])
    if plan['new_email']:
        after['email'] = plan['new_email'].lower()
    changed = bool(plan['names'] or plan['new_email'] or plan['password'])
    if changed and not check_mode:
        if plan['names']:
            set_own_names(client, plan['names'])
        if plan['new_email']:
            change_own_email(client, current['account_id'], plan['new_email'], params['password'])
        if plan['password']:
            change_own_password(client, current, params['password'], params.get('old_password'))
    return Outcome(after, changed, before=current, after=after, password_changed=plan['password'])
