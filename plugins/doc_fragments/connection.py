# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection options shared by every module; must match _module.connection_argument_spec()."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - Base URL of the CoCalc server, for example V(https://cocalc.com) or V(https://cocalc.example.org).
        A trailing C(/api/v1) in the value is ignored.
      - Current CoCalc (U(https://cocalc.com) and self-hosted releases since 2025) and older hubs with
        API v1 both work; see O(api_version).
      - If not set in the task or in C(module_defaults), the environment variable E(COCALC_API_URL) is used.
    type: str
    required: true
  api_key:
    description:
      - API key of the CoCalc account the module acts as. It is sent as the HTTP Basic-auth user name.
      - If not set in the task or in C(module_defaults), the environment variable E(COCALC_API_KEY) is used.
      - The key never appears in results, messages or logs.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the server's TLS certificate. Set to V(false) only for a server you trust, for example one
        with a self-signed certificate on your own network.
      - Proxies and CA bundles from the environment (E(HTTPS_PROXY), E(REQUESTS_CA_BUNDLE)) are honoured.
    type: bool
    default: true
  api_timeout:
    description:
      - Seconds to wait for each HTTP request (connection and answer).
      - If not set in the task or in C(module_defaults), the environment variable E(COCALC_API_TIMEOUT) is used.
    type: int
    default: 30
  api_retries:
    description:
      - How often to retry a call that failed with a connection error, HTTP 429 (honouring C(Retry-After))
        or HTTP 502, 503 or 504, with exponential backoff and jitter.
      - Only calls that are safe to repeat are retried (reads and idempotent writes); creating projects or
        accounts, running commands, copying and sending invitations are never retried.
      - V(0) disables retries.
    type: int
    default: 3
  api_version:
    description:
      - Which generation of CoCalc's HTTP API to speak.
      - V(v1) sends C(POST <api_url>/api/v1/<endpoint>), the API of hubs up to 2024 (and of the guide).
      - V(current) speaks the API of current CoCalc (U(https://cocalc.com), releases since 2025, which
        removed API v1) through C(POST <api_url>/api/v2/<route>) and the C(/api/conat/hub) and
        C(/api/conat/project) bridges.
      - V(auto) sends the first call of a task as API v1 and switches to V(current) when the server
        answers it with current CoCalc's 404 page (which runs nothing, so the call is sent again);
        no extra call on an API v1 server, one on a current one. The generation used is returned as
        the result key C(api_version) (shown at C(-v)).
      - If not set in the task or in C(module_defaults), the environment variable E(COCALC_API_VERSION)
        is used; without either, V(auto).
    type: str
    choices: [auto, v1, current]
notes:
  - Requires the Python library C(requests) on the host that runs the module; usually that is the
    controller (a task with C(delegate_to) set to V(localhost), or a play on V(localhost)).
  - A call to a project that is still starting is refused by the hub before it reaches the project
    (C(unable to determine project port)); such a call is sent again after pauses of 1, 2, 4 and then
    5 seconds until the project runs, for up to 300 seconds (for a command, within its timeout); a
    project that does not come up fails the task with a message that says so.
requirements:
  - requests >= 2.25
'''
