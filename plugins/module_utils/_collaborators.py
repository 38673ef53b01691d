# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The people on a project: read, plan, apply (cocalc_collaborator and the course reconciler).

Three separable steps, none of which knows about AnsibleModule:

* read:  read_projects() / find_project() give each project's ``users`` map and ``invite`` map
  (one query for any number of projects, through _project.read_projects); _accounts.resolve_people()
  turns emails into account ids with one batched user_search for a whole list.
* plan:  plan_membership() is pure: given a project's users map, the wanted account ids, the
  emails without an account, the invite map, state, purge and the key's own account id, it
  returns a MembershipPlan (add / remove / invite / unchanged). It never plans to touch an owner.
* apply: apply_plan() makes the writes of a plan (invite_collaborator, remove_collaborator,
  invite_noncloud_collaborators) and nothing else.

ensure_collaborators() is the module's composition of the three.

Invitations of people without an account are recorded by the server in the project's
``invite`` field ({address: {time}}), so a re-run sees them and sends nothing. Where a server
does not let the key read that field, the record is kept in the project itself, in the file
INVITE_RECORD_PATH of the project's home directory (same {address: {time}} shape).
"""

from __future__ import annotations

import datetime
import json

from ansible_collections.cocalc.cocalc.plugins.module_utils import _project
from ansible_collections.cocalc.cocalc.plugins.module_utils._accounts import account_id_of_key, check_accounts_exist, resolve_people
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import (
    CocalcApiError,
    CocalcInputError,
    Outcome,
    attempting,
    check_email,
    check_uuid,
    validated,
)
from ansible_collections.cocalc.cocalc.plugins.module_utils._project import owners_of

OWNER = 'owner'
COLLABORATOR = 'collaborator'

# What read_projects() asks for; _project.read_projects leaves invite out where the key may not read it.
PROJECT_FIELDS = ('title', 'users', 'invite', 'deleted')

# Where invitations are recorded on a server that does not expose projects.invite to the key.
INVITE_RECORD_PATH = '.cocalc-ansible-invites.json'

# invite_noncloud_collaborators refuses a "to" longer than this.
INVITE_TO_CHARS = 1024

DEFAULT_INVITE_MESSAGE = "You are invited to collaborate on the CoCalc project '%s'."

# Module option -> invite_noncloud_collaborators field, for the options sent only when set.
INVITE_OPTION_FIELDS = (('invite_subject', 'subject'), ('reply_to', 'replyto'))


# ---- read ----------------------------------------------------------------------------------

def _collaborators_view(row, invites_readable):
    invite = row.get('invite') if isinstance(row.get('invite'), dict) else {}
    return dict(project_id=row['project_id'], title=row.get('title') or '', users=row.get('users') or {},
                invite=invite if invites_readable else None, deleted=bool(row.get('deleted')))


def read_projects(client, project_id=None, title=None, what='read projects'):
    """Projects visible to the key, as dicts with project_id, title, users, invite, deleted.

    One projects_all query (never the 21-day ``projects`` window; _project.read_projects, so
    one more where the key may not read invite). Filters: project_id (one project; the server
    refuses a project the key cannot read) and title (exact). ``invite`` is the server's invite
    map, or None when the server does not let the key read it (see read_invite_record()).
    Deleted projects are included (``deleted`` is true for them).
    """
    rows, unreadable = _project.read_projects(client, PROJECT_FIELDS, project_id=project_id, title=title, what=what)
    return [_collaborators_view(row, 'invite' not in unreadable) for row in rows]


def find_project(client, project_id=None, title=None, title_option='title'):
    """Exactly one project (as read_projects() shows it): by project_id, else by title among the
    non-deleted projects, through the project finder (_project.lookup_project): several projects
    with the title fail listing their ids, never one of them picked.
    """
    row, unreadable = _project.lookup_project(client, project_id=project_id, title=title, fields=PROJECT_FIELDS,
                                              title_option=title_option)
    return _collaborators_view(row, 'invite' not in unreadable)


def read_invite_record(client, project_id):
    """The invite map kept in the project (INVITE_RECORD_PATH), {} when there is none yet."""
    try:
        with attempting('read the invitation record %s of project %s' % (INVITE_RECORD_PATH, project_id)):
            content = client.call('read_text_file_from_project', project_id=project_id, path=INVITE_RECORD_PATH).get('content')
    except CocalcApiError as err:
        if err.kind == 'not_found':
            return {}
        raise
    return parse_invite_record(content)


def parse_invite_record(text):
    """The invite map of the text of INVITE_RECORD_PATH; {} for no text or anything but a JSON object."""
    try:
        record = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        record = None
    return record if isinstance(record, dict) else {}


def write_invite_record(client, project_id, invite):
    with attempting('write the invitation record %s of project %s' % (INVITE_RECORD_PATH, project_id)):
        client.call('write_text_file_to_project', project_id=project_id, path=INVITE_RECORD_PATH,
                    content=json.dumps(invite, indent=2, sort_keys=True) + '\n')


def record_invitations(client, project_id, invites, sent):
    """Add the invitations just sent (apply_plan's answer) to the record kept in the project
    (INVITE_RECORD_PATH), whose content before was invites; no write when nothing was sent.
    The one place that merges that record (cocalc_collaborator and the course)."""
    if not sent:
        return
    record = dict(invites or {})
    record.update(sent)
    write_invite_record(client, project_id, record)


# ---- plan (pure) -----------------------------------------------------------------------------

class MembershipPlan(object):
    """The changes one project needs. Lists keep the order in which people were named."""

    def __init__(self):
        self.add = []         # account ids to add as collaborators
        self.remove = []      # account ids to remove
        self.invite = []      # emails without an account to invite
        self.unchanged = []   # account ids / emails that need nothing
        self.owners_kept = []  # owners named for removal: CoCalc cannot remove an owner, so left alone
        self.failed_invites = {}  # email -> error the server recorded for an earlier invitation

    @property
    def changed(self):
        return bool(self.add or self.remove or self.invite)

    def users_after(self, users):
        """The users map once the plan is applied ({account_id: {'group': ...}})."""
        after = dict((account_id, {'group': entry.get('group')}) for account_id, entry in (users or {}).items()
                     if isinstance(entry, dict))
        for account_id in self.add:
            after[account_id] = {'group': COLLABORATOR}
        for account_id in self.remove:
            after.pop(account_id, None)
        return after


def _plan_removal(plan, users, owners, account_ids, emails_without_account):
    """state=absent: remove the members named, never an owner; the rest need nothing."""
    for account_id in account_ids:
        if account_id in owners:
            plan.owners_kept.append(account_id)
        elif account_id in users:
            plan.remove.append(account_id)
        else:
            plan.unchanged.append(account_id)
    plan.unchanged.extend(emails_without_account)
    return plan


def _plan_invitations(plan, emails_without_account, invites, reinvite):
    """Invite the addresses without an entry in the invite map (all of them with reinvite)."""
    for email in emails_without_account:
        recorded = invites.get(email.lower())
        if recorded is not None and not reinvite:
            plan.unchanged.append(email)
            if isinstance(recorded, dict) and recorded.get('error'):
                plan.failed_invites[email] = recorded['error']
        else:
            plan.invite.append(email)


def plan_membership(users, account_ids, emails_without_account=(), invites=None, state='present', purge=False,
                    me=None, reinvite=False):
    """What to change so the project's people match the wish. Pure: no I/O.

    users: the project's users map; account_ids: people to have (present) or not (absent);
    emails_without_account: addresses to invite (present) when the invite map (lower-cased
    keys, as the server records them) has no entry or reinvite is set; purge (present only):
    also remove everyone else, except owners and ``me`` (the key's own account id).
    Owners are never added (that would demote them) nor removed.
    """
    users = users or {}
    invites = dict(((address or '').lower(), entry) for address, entry in (invites or {}).items())
    owners = owners_of(users)
    plan = MembershipPlan()
    if state == 'absent':
        return _plan_removal(plan, users, owners, account_ids, emails_without_account)
    for account_id in account_ids:
        (plan.unchanged if account_id in users else plan.add).append(account_id)
    _plan_invitations(plan, emails_without_account, invites, reinvite)
    if purge:
        keep = set(account_ids) | set(owners) | set([me] if me else [])
        plan.remove.extend(sorted(account_id for account_id in users if account_id not in keep))
    return plan


# ---- apply ---------------------------------------------------------------------------------

def invitation_fields(client, project, params):
    """The fields of invite_noncloud_collaborators besides project_id and to, from module options.

    Options the server may not know (subject, replyto) are only sent when set.
    """
    title = project.get('title') or project['project_id']
    fields = dict(email=params.get('invite_body') or DEFAULT_INVITE_MESSAGE % title, title=title,
                  link2proj=params.get('invite_link') or '%s/projects/%s' % (client.api_url, project['project_id']))
    for option, field in INVITE_OPTION_FIELDS:
        if params.get(option):
            fields[field] = params[option]
    return fields


def _address_batches(emails):
    batch = []
    for email in emails:
        if batch and len(', '.join(batch + [email])) > INVITE_TO_CHARS:
            yield batch
            batch = []
        batch.append(email)
    if batch:
        yield batch


def apply_plan(client, project_id, plan, invitation=None):
    """Make the writes of a plan: adds, then invitations, then removals.

    invitation: the invite_noncloud_collaborators fields (see invitation_fields()), needed
    when the plan invites anyone. Returns the addresses invited (lower-cased) with the time.
    """
    for account_id in plan.add:
        with attempting('add %s to project %s' % (account_id, project_id)):
            client.call('invite_collaborator', project_id=project_id, account_id=account_id)
    sent = {}
    if plan.invite:
        if invitation is None:
            raise ValueError('apply_plan: the plan invites people, so invitation fields are needed')
        for batch in _address_batches(plan.invite):
            body = dict(invitation, project_id=project_id, to=', '.join(batch))
            with attempting('invite %s to project %s' % (', '.join(batch), project_id)):
                client.call('invite_noncloud_collaborators', body)
            now = datetime.datetime.now(datetime.timezone.utc).isoformat()
            sent.update((email.lower(), {'time': now}) for email in batch)
    for account_id in plan.remove:
        with attempting('remove %s from project %s' % (account_id, project_id)):
            client.call('remove_collaborator', project_id=project_id, account_id=account_id)
    return sent


# ---- the module's composition ------------------------------------------------------------------

def _wanted_people(params):
    """(account ids, emails) named by the options, validated, in order."""
    account_ids, emails = [], []
    if params.get('account_id') is not None:
        account_ids.append(check_uuid(params['account_id'], 'account_id'))
    if params.get('email') is not None:
        emails.append(check_email(params['email'], 'email'))
    for index, entry in enumerate(params.get('collaborators') or []):
        where = 'collaborators[%d]' % index
        if entry.get('account_id') is not None:
            account_ids.append(check_uuid(entry['account_id'], where + '.account_id'))
        elif entry.get('email') is not None:
            emails.append(check_email(entry['email'], where + '.email'))
        else:
            raise CocalcInputError('%s needs account_id or email' % where)
    return account_ids, emails


def title_option(params):
    """The name the user gave the title by: title, or its old spelling project_title (an alias)."""
    return 'project_title' if params.get('project_title') is not None else 'title'


def validate_params(params):
    """Checks that need no server; raises CocalcInputError naming the option."""
    if params.get('project_id') is not None:
        params['project_id'] = check_uuid(params['project_id'], 'project_id')
    if params.get('title') is not None:
        validated('title', params['title'], title_option(params))
    if params.get('purge') and params.get('state') != 'present':
        raise CocalcInputError('purge removes everyone not listed, so it needs state=present')
    # The subject is an email header: a line break in it would start another header (Bcc: ...).
    for option, kind in (('invite_subject', 'email_subject'), ('invite_body', 'email_body')):
        if params.get(option) is not None:
            validated(kind, params[option], option)
            validated('non_empty', params[option], option)
    if params.get('reply_to') is not None:
        params['reply_to'] = check_email(params['reply_to'], 'reply_to')
    link = params.get('invite_link')
    if link is not None and not (isinstance(link, str) and link.startswith(('https://', 'http://')) and not any(char.isspace() for char in link)):
        raise CocalcInputError('invite_link must be an http:// or https:// URL, got %r' % (link,))
    return _wanted_people(params)


def _entry(person, email_of):
    if '@' in person:
        return dict(account_id=None, email=person)
    return dict(account_id=person, email=email_of.get(person))


def _state_view(users, invites):
    """What the diff compares: {account_id: group} plus {email: 'invited'}."""
    view = dict((account_id, entry.get('group')) for account_id, entry in users.items())
    view.update((email, 'invited') for email in invites)
    return view


def _plan_warnings(plan, project_id):
    warnings = ['%s is an owner of project %s; CoCalc cannot remove an owner, so it was left alone' % (account_id, project_id)
                for account_id in plan.owners_kept]
    warnings.extend('the server recorded an error for the invitation of %s: %s (set reinvite=true to send it again)'
                    % (email, error) for email, error in sorted(plan.failed_invites.items()))
    return warnings


def _membership_result(project, plan, email_of):
    """The module's result: the people changed, left alone, the owner, and the users map after."""
    owners = owners_of(project['users'])
    return dict(
        project_id=project['project_id'],
        added=[_entry(account_id, email_of) for account_id in plan.add],
        removed=[_entry(account_id, email_of) for account_id in plan.remove],
        invited=[_entry(email, email_of) for email in plan.invite],
        unchanged=[_entry(person, email_of) for person in plan.unchanged + plan.owners_kept],
        owner=owners[0] if owners else None,
        users=plan.users_after(project['users']),
    )


def _membership_diff(project, plan, without_account, invites):
    """(before, after) for the diff: the users map plus the addresses invited."""
    invited_before = set((address or '').lower() for address in (invites or {}))
    already_invited = [email for email in without_account if email.lower() in invited_before]
    before = _state_view(MembershipPlan().users_after(project['users']), already_invited)
    after = _state_view(plan.users_after(project['users']),
                        already_invited + [email for email in plan.invite if email not in already_invited])
    return before, after


def ensure_collaborators(client, params, check_mode):
    """cocalc_collaborator: read, plan, apply (no write in check mode)."""
    account_ids, emails = validate_params(params)
    project = find_project(client, project_id=params.get('project_id'), title=params.get('title'),
                           title_option=title_option(params))
    project_id = project['project_id']
    invites = project['invite']
    record_in_project = invites is None
    wanted_ids, without_account, email_of = resolve_people(client, account_ids, emails)
    if record_in_project and without_account and params['state'] == 'present':
        invites = read_invite_record(client, project_id)
    me = account_id_of_key(client) if params.get('purge') else None
    plan = plan_membership(project['users'], wanted_ids, without_account, invites, state=params['state'],
                           purge=params.get('purge'), me=me, reinvite=params.get('reinvite'))
    # Ids given directly may be typos: the server would add a nonexistent id without complaint.
    check_accounts_exist(client, [account_id for account_id in plan.add if account_id not in email_of])
    warnings = _plan_warnings(plan, project_id)
    if plan.changed and not check_mode:
        sent = apply_plan(client, project_id, plan, invitation_fields(client, project, params) if plan.invite else None)
        if record_in_project:
            record_invitations(client, project_id, invites, sent)
    before, after = _membership_diff(project, plan, without_account, invites)
    return Outcome(_membership_result(project, plan, email_of), plan.changed, before=before, after=after, warnings=warnings)
