# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection options of the lookup and inventory plugins: the module options of connection.py, but with
``env:`` entries, because plugins read environment fallbacks from their documentation.

Keep the texts and defaults equal to connection.py and _module.connection_argument_spec().
"""

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
      - Lookups and inventory sources do not see C(module_defaults); pass it as a keyword (a lookup), in the
        inventory file, or set E(COCALC_API_URL).
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
  api_version:
    description:
      - Which generation of CoCalc's HTTP API to speak.
      - V(v1) sends C(POST <api_url>/api/v1/<endpoint>), the API of hubs up to 2024 (and of the guide).
      - V(current) speaks the API of current CoCalc (U(https://cocalc.com), releases since 2025, which
        removed API v1) through C(POST <api_url>/api/v2/<route>) and the C(/api/conat/hub) and
        C(/api/conat/project) bridges.
      - V(auto) sends the first call (of a lookup, of an inventory source) as API v1 and switches to
        V(current) when the server answers it with current CoCalc's 404 page (which runs nothing, so the
        call is sent again); no extra call on an API v1 server, one on a current one. The generation used
        is shown at C(-v).
    type: str
    choices: [auto, v1, current]
    default: auto
    env:
      - name: COCALC_API_VERSION
notes:
  - Lookups run on the controller, so the Python library C(requests) must be installed there.
  - A read from a project that is still starting is refused by the hub; it is sent again after pauses
    of 1, 2, 4 and then 5 seconds until the project runs, for up to 300 seconds.
requirements:
  - requests >= 2.25
'''
