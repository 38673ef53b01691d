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
      - Base URL of the CoCalc server, for example V(https://cocalc.example.org). The module sends
        C(POST <api_url>/api/v1/<endpoint>); a trailing C(/api/v1) in the value is ignored.
      - The server must still serve CoCalc's HTTP API v1. U(https://cocalc.com) removed API v1 in 2025,
        so this is a self-hosted CoCalc server (or the local test server of this collection).
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
