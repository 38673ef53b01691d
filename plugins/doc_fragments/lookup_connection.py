# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection options of the lookup plugins: the module options of connection.py, but with
``env:`` entries, because plugins read environment fallbacks from their documentation.

Keep the texts and defaults equal to connection.py and _module.connection_argument_spec().
"""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - Base URL of the CoCalc server, for example V(https://cocalc.example.org). The plugin sends
        C(POST <api_url>/api/v1/<endpoint>); a trailing C(/api/v1) in the value is ignored.
      - The server must still serve CoCalc's HTTP API v1 (a self-hosted CoCalc server, or the local test
        server of this collection).
      - Lookups do not see C(module_defaults); pass it as a keyword or set E(COCALC_API_URL).
    type: str
    required: true
    env:
      - name: COCALC_API_URL
  api_key:
    description:
      - API key of the CoCalc account the plugin acts as. It is sent as the HTTP Basic-auth user name.
      - The key never appears in results or error messages.
    type: str
    required: true
    env:
      - name: COCALC_API_KEY
  validate_certs:
    description:
      - Verify the server's TLS certificate. Set to V(false) only for a server you trust.
    type: bool
    default: true
  api_timeout:
    description:
      - Seconds to wait for each HTTP request (connection and answer).
    type: int
    default: 30
    env:
      - name: COCALC_API_TIMEOUT
  api_retries:
    description:
      - How often to retry a read that failed with a connection error, HTTP 429 (honouring C(Retry-After))
        or HTTP 502, 503 or 504, with exponential backoff and jitter. V(0) disables retries.
    type: int
    default: 3
notes:
  - Lookups run on the controller, so the Python library C(requests) must be installed there.
  - A read from a project that is still starting is refused by the hub; it is sent again after pauses
    of 1, 2, 4 and then 5 seconds until the project runs, for up to 300 seconds.
requirements:
  - requests >= 2.25
'''
