#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: cocalc_course
short_description: Provision a whole CoCalc course in one task
version_added: 0.1.0
description:
  - Gives every student of a roster a CoCalc project of their own, with the right people and files, in one
    declarative, idempotent task. Run it again and nothing changes; drop a student, change an email or end
    the term, and the run converges.
  - "A run reads first, in a few batched calls: the API key's account (C(whoami)), one C(user_search) for
    all roster and staff emails, one C(projects_all) list query for every project the key's account can see,
    and, only for projects whose handouts must be verified, their handout files (several files per call)."
  - Then it makes only the writes needed, from a pool of O(parallel) threads sharing one connection pool -
    create missing projects, fix titles and descriptions that drifted, add and remove collaborators, invite
    students who have no account yet (once), write or copy handouts that differ.
  - Projects and their people come first, handouts after them. A new project that gets text handouts is
    started when it is created (writing a file would start it anyway), so it comes up while the other
    projects are being made.
  - "Each student project carries a stable marker tying it to (O(course_id), C(student_id)), so it is found
    again after its title was edited or the student's email changed. Student projects are never looked up
    by title. On servers with project names (newer CoCalc, such as the real hub of 2024) the marker is the
    project's C(name), V(<course_id>.<student_id>) (lower case, characters other than letters, digits,
    C(.), C(_) and C(-) replaced by C(_)); names are unique per owner, and only the owner can change them.
    On older servers it is a last line C(<!-- cocalc.cocalc course key: <course_id>.<student_id> -->) in
    the project description (an HTML comment, invisible where the description is rendered as Markdown)."
  - The API key's account owns the student projects it creates; projects owned by other accounts are never
    taken for student projects.
  - A failure for one student (for example a write error in their project) does not stop the others. The
    task then fails at the end, listing each failure, with RV(course) still describing what was done; a
    re-run completes what is missing.
  - The task runs in the controller process (an action plugin), so it pays no module start-up, and it
    reads O(roster) and the O(handouts[].src) files on the controller.
author:
  - cocalc.cocalc maintainers (@cocalc)
extends_documentation_fragment:
  - cocalc.cocalc.connection
  - cocalc.cocalc.attributes
  - cocalc.cocalc.attributes.actiongroup_cocalc
  - cocalc.cocalc.attributes.check_and_diff_full
attributes:
  action:
    description: Has an action plugin that runs the reconciliation in the controller and reads O(roster) and O(handouts[].src) there.
    support: full
options:
  course_id:
    description:
      - A short, stable key of the course, for example V(algebra-2026s). It is part of each student project's
        marker, so changing it later detaches the existing projects from the course.
      - 1 to 40 letters, digits, C(-) and C(_). Compared without case.
    type: str
    required: true
  title:
    description:
      - Title of the course, used by O(student_project_title).
      - Required with O(state=present).
    type: str
  description:
    description:
      - Description of every student project. Projects whose description differs get this one.
      - When not set, descriptions are left as they are (on servers without project names the marker line
        is still kept at the end).
    type: str
  students:
    description:
      - The students of the course. Mutually exclusive with O(roster); one of them is required with O(state=present).
      - An empty list drops every student (see O(on_drop)).
    type: list
    elements: dict
    suboptions:
      student_id:
        description:
          - The student's stable ID (for example the student number), unique within the course.
          - At most 59 characters once normalised for the marker (see the description above); two IDs
            that normalise to the same marker are refused.
        type: str
        required: true
      email:
        description:
          - The student's email address. An account with this address is added to the student's project;
            without an account, the address is invited by email (once).
          - When it changes for the same O(students[].student_id), access moves to the new address and the
            old account is removed (with O(purge=true)); the project and its files stay.
        type: str
        required: true
      first_name:
        description: First name, used by O(student_project_title).
        type: str
      last_name:
        description:
          - Last name, used by O(student_project_title).
          - When both names are missing, O(students[].student_id) stands in for the first name.
        type: str
  roster:
    description:
      - A CSV file on the controller with one student per row and a header line, for example a Canvas
        gradebook or roster export. Mutually exclusive with O(students).
      - "Columns are found by their header (without case): C(student_id) from C(student_id), C(SIS User ID)
        or C(ID); C(email) from C(email), C(Email) or C(SIS Login ID); C(first_name) and C(last_name) from
        C(first_name)/C(First Name) and C(last_name)/C(Last Name), else split from C(name), C(Student) or
        C(Name) (V(Last, First) or V(First Last)). The first header found wins; O(roster_columns) overrides it."
      - Rows without student ID and email (such as Canvas' C(Points Possible) line) are skipped; a row with
        only one of them is an error naming the row.
      - Searched like the O(ansible.builtin.copy#module:src) of M(ansible.builtin.copy) (a role's C(files/) directory works).
    type: path
  roster_columns:
    description:
      - Header names of the O(roster) columns, for exports the defaults do not cover. Each key names one column.
    type: dict
    suboptions:
      student_id:
        description: Header of the column with the student ID.
        type: str
      email:
        description: Header of the column with the email address.
        type: str
      first_name:
        description: Header of the column with the first name.
        type: str
      last_name:
        description: Header of the column with the last name.
        type: str
      name:
        description: Header of a column with the full name, V(Last, First) or V(First Last), used when first and last name have no columns.
        type: str
  staff:
    description:
      - Teaching staff put on every student project as collaborators, by email address or account ID.
      - Every email must belong to an existing account (staff are not invited by email); the task fails
        before any write otherwise.
      - Someone removed from this list is removed from the student projects with O(purge=true).
    type: list
    elements: str
  student_project_title:
    description:
      - Template of each student project's title. Placeholders C({first_name}), C({last_name}),
        C({student_id}), C({email}), C({title}) and C({course_id}) are replaced; titles that drift are set back.
    type: str
    default: '{first_name} {last_name} - {title}'
  handouts:
    description:
      - Files every student project must have. Each is written (O(handouts[].content), O(handouts[].src))
        or copied from O(materials_project_id) (O(handouts[].copy_from)) when it is missing or, with
        O(handouts[].force=true), differs.
      - Existing projects are verified on every run; text handouts are read in batches, copied ones are
        compared by checksum with one C(project_exec) per project.
    type: list
    elements: dict
    suboptions:
      path:
        description: Path of the file (or directory, for O(handouts[].copy_from)) relative to the project's home directory.
        type: str
        required: true
      content:
        description: The text of the file.
        type: str
      src:
        description: A UTF-8 text file on the controller whose content the file gets (searched like O(roster)).
        type: path
      copy_from:
        description:
          - A file or directory in O(materials_project_id) to copy to O(handouts[].path) (rsync semantics
            of C(copy_path_between_projects); a target file newer than the source is kept).
        type: str
      force:
        description:
          - V(true) writes the handout whenever it differs, so student edits are replaced.
          - V(false) writes it only when it is missing, for files the students work in.
        type: bool
        default: true
  materials_project_id:
    description: ID (UUID) of the project that holds the O(handouts[].copy_from) sources.
    type: str
  invite:
    description:
      - The email sent to students without an account (C(invite_noncloud_collaborators)). Each address is
        invited once per project; the server records the invitation in the project.
    type: dict
    suboptions:
      subject:
        description: Subject of the invitation. Servers that do not know this field get it only when it is set.
        type: str
      body:
        description:
          - Text of the invitation email; CoCalc adds the sign-up instructions and a link to the project.
          - Default is an invitation naming the project.
        type: str
      reply_to:
        description: Reply-to address of the invitation.
        type: str
  on_drop:
    description:
      - What happens to the project of a student who is no longer in the roster (and to every student
        project with O(state=absent)).
      - V(keep) leaves the project and its people as they are.
      - V(remove_student) removes every collaborator except the owner, the API key's account and O(staff); the
        project and its files stay.
      - V(delete) deletes the project (CoCalc's soft delete; a student who comes back gets it restored).
    type: str
    choices: [keep, remove_student, delete]
    default: keep
  purge:
    description:
      - Remove collaborators of student projects who are neither the student, O(staff), an owner nor the API key's
        account. This is what moves access away from a student's old email address and from people
        removed from O(staff).
      - V(false) only adds people.
    type: bool
    default: true
  parallel:
    description: How many API calls run at the same time (threads sharing one connection pool), 1 to 64.
    type: int
    default: 8
  setup:
    description:
      - A command run once in each student project, after its handouts, with the semantics of
        M(cocalc.cocalc.cocalc_exec) (same options and checks), from the same thread pool as the other writes.
      - "After a successful run the course writes a small marker into the project's home,
        C(.cocalc-course/<course_id>.setup), holding a digest of O(setup.command), O(setup.args), O(setup.bash),
        O(setup.chdir), O(setup.creates) and O(setup.removes). The markers are read with the handouts (several
        projects per call), so a re-run runs nothing and costs no call per project; a changed command runs
        again everywhere. Delete a project's marker to run the setup there again."
      - O(setup.creates) and O(setup.removes) are checked in the same call that runs the command, only where the
        marker is missing or stale; when they say the command is not needed, only the marker is written.
      - A command that fails (non-zero exit code, timeout) fails that student only and writes no marker, so the
        next run tries again. Its output is in RV(course.students[].setup).
      - Not used with O(state=absent).
    type: dict
    suboptions:
      command:
        description:
          - Without O(setup.bash), the program and its arguments, split like a shell would split them but not run
            through a shell. With O(setup.bash=true), a bash script.
        type: str
        required: true
      args:
        description: More arguments, each passed as it is. Not allowed with O(setup.bash=true).
        type: list
        elements: str
      bash:
        description: Run O(setup.command) as a bash script.
        type: bool
        default: false
      chdir:
        description: Working directory, relative to the project's home (the default).
        type: str
      timeout:
        description:
          - Seconds the command may run in each project; the server kills it after that and that student fails.
          - Not part of the marker's digest, so changing it runs nothing again.
        type: int
        default: 60
      creates:
        description: A path, relative to O(setup.chdir) (or the home); when it exists, the command is not run.
        type: str
      removes:
        description: A path, relative to O(setup.chdir) (or the home); when it does not exist, the command is not run.
        type: str
  state:
    description:
      - V(present) provisions the roster.
      - V(absent) ends the term - every project of the course is handled as O(on_drop) says.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Students who have no account yet are invited by email; when they sign up with that address, CoCalc adds
    them to the project itself, and a later run finds them by email.
  - Invitations cannot be withdrawn through the API; a student dropped before signing up may still join.
  - A student's project is created so that a lost answer cannot duplicate it. The C(create_project) call
    already carries the course marker line and a creation line C(<!-- cocalc.cocalc creating TOKEN KEY -->)
    in its description; a later request sets the name (where the server has names) and the final description.
    A lost create answer is looked up by that token instead of creating again, and a later run adopts a
    project that still carries its marker without a name.
  - "Two runs of the same course at the same time: the oldest project of a student wins. After its creations a
    run reads the projects once; where another run created a project for the same student earlier, it
    soft-deletes only the project it created itself and reports that student as failed (a re-run finishes
    the older project). A later run keeps a finished project over unfinished ones (the oldest of those
    otherwise) and soft-deletes unfinished duplicates it finds."
  - Requests are retried by what is safe (reads and idempotent writes after timeouts, dropped connections,
    5xx and HTML or cut answers; any request answered 429 or 503). A project creation, a copy, an exec and an
    email invitation are never repeated once they may have reached the server; the next run finds out what
    happened and completes only what is missing.
  - "API generations: works the same on current CoCalc (api/v2 and conat); handouts are read one call per
    file (in parallel), invitations go through the hub's C(projects.inviteCollaboratorWithoutAccount). The
    projects' C(course) field is not set."
seealso:
  - module: cocalc.cocalc.cocalc_project
    description: One project at a time.
  - module: cocalc.cocalc.cocalc_collaborator
    description: The people on one project.
  - module: cocalc.cocalc.cocalc_file
    description: One file in one project.
'''

EXAMPLES = r'''
- name: Provision Algebra for the spring term
  cocalc.cocalc.cocalc_course:
    api_url: https://cocalc.example.org
    api_key: "{{ cocalc_api_key }}"
    course_id: algebra-2026s
    title: Algebra (spring 2026)
    description: Your project for Algebra. Homework goes in the homework folder.
    roster: canvas-export.csv
    staff:
      - ta@example.edu
    handouts:
      - path: README.md
        content: "# Algebra\n\nWelcome!\n"
      - path: homework/hw1.md
        src: hw1.md
        force: false
    setup:
      command: pip install --user sympy==1.13.3
      timeout: 300
    invite:
      subject: Your CoCalc project for Algebra
      body: Please create a CoCalc account with this address to get your course project.
    on_drop: remove_student
  register: course

- name: Show what was done
  ansible.builtin.debug:
    var: course.course.totals

- name: Students given inline, with a roster of another shape
  cocalc.cocalc.cocalc_course:
    course_id: physics-1
    title: Physics I
    students:
      - student_id: "1001"
        email: ada@example.edu
        first_name: Ada
        last_name: Lovelace
    student_project_title: "{title} - {last_name}, {first_name}"

- name: End of term - delete every student project of the course
  cocalc.cocalc.cocalc_course:
    course_id: algebra-2026s
    state: absent
    on_drop: delete
'''

RETURN = r'''
course:
  description:
    - The course after the task (in check mode - as it would be, with the planned actions).
  returned: always
  type: dict
  contains:
    course_id:
      description: The course key as given.
      type: str
      sample: algebra-2026s
    marker:
      description: How student projects are marked on this server - V(name) or V(description).
      type: str
      sample: name
    students:
      description: One entry per roster student, in roster order (empty with O(state=absent)).
      type: list
      elements: dict
      contains:
        student_id:
          description: The student ID.
          type: str
          sample: "20260001"
        email:
          description: The email address from the roster.
          type: str
          sample: ada@example.edu
        project_id:
          description: The student's project. V(null) in check mode for a project that would be created.
          type: str
          sample: 2ffbcbec-351d-4e94-bb3c-1e103298e2fb
        account_id:
          description: The student's account, V(null) when the email has no account.
          type: str
          sample: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3
        invited:
          description: The address invited by email (now or by an earlier run), V(null) when the student has an account.
          type: str
        status:
          description: V(created), V(updated), V(unchanged) or V(failed).
          type: str
          sample: created
        actions:
          description:
            - What was done (in check mode - what would be done), in order. Each has an C(action) -
              V(create_project), V(update_project) (with C(fields)), V(add_collaborator), V(invite),
              V(remove_collaborator) (with C(account_id) / C(email)), V(write_file), V(copy_file) (with C(path)),
              V(run_setup) (the setup command ran; with C(rc) when it failed), V(mark_setup) (O(setup.creates) or
              O(setup.removes) said it was not needed, so only its marker was written; with C(reason)),
              V(delete_project).
          type: list
          elements: dict
          sample: [{action: create_project}, {action: add_collaborator, account_id: 25e2cae4-05c7-4c28-ae22-1e6d3d2e8bb3}]
        error:
          description: Why this student failed (only for V(failed)).
          type: str
        setup:
          description: The setup command in this project (only with O(setup)).
          type: dict
          contains:
            status:
              description:
                - V(current) (done by an earlier run, nothing ran), V(pending) (check mode - it would run, or only its
                  marker would be written when O(setup.creates)/O(setup.removes) say so), V(ran), V(skipped) (by
                  O(setup.creates)/O(setup.removes)), or V(failed).
              type: str
              sample: ran
            rc:
              description: The exit code, V(null) when nothing ran.
              type: int
            stdout:
              description: Standard output, at most 4000 characters.
              type: str
            stderr:
              description: Standard error, at most 4000 characters.
              type: str
            truncated:
              description: Whether RV(course.students[].setup.stdout) or RV(course.students[].setup.stderr) was cut.
              type: bool
            msg:
              description: Why it did not run, or V(non-zero return code), or the error.
              type: str
    dropped:
      description: Projects of the course whose student is not in the roster (every one with O(state=absent)).
      type: list
      elements: dict
      contains:
        student_id:
          description: The student ID as kept in the marker (normalised).
          type: str
        project_id:
          description: The project.
          type: str
        status:
          description: V(updated), V(unchanged) or V(failed).
          type: str
        actions:
          description: What was done, as for RV(course.students[].actions).
          type: list
          elements: dict
        error:
          description: Why it failed (only for V(failed)).
          type: str
    totals:
      description: Counts over the whole course.
      type: dict
      sample:
        students: 30
        created: 30
        updated: 0
        deleted: 0
        collaborators_added: 57
        collaborators_removed: 0
        invited: 3
        files_written: 60
        setups_run: 30
        unchanged: 0
        failed: 0
'''

from ansible_collections.cocalc.cocalc.plugins.module_utils._course import reconcile_course
from ansible_collections.cocalc.cocalc.plugins.module_utils._course_spec import MODULE_OPTIONS, argument_spec
from ansible_collections.cocalc.cocalc.plugins.module_utils._module import CocalcModule


def main():
    module = CocalcModule(argument_spec=argument_spec(), result_key='course', supports_check_mode=True, **MODULE_OPTIONS)
    module.run(reconcile_course)


if __name__ == '__main__':
    main()
