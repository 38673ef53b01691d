# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller-side plugins (the connection and the inventory): their options as a CocalcClient."""

from __future__ import annotations

import inspect

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import CocalcClient
from ansible_collections.cocalc.cocalc.plugins.module_utils._common import CocalcInputError

# Plugin option -> CocalcClient keyword (as CocalcClient.from_params maps the modules' options).
_KEYWORDS = (('validate_certs', 'validate_certs'), ('api_timeout', 'timeout'), ('api_retries', 'retries'),
             ('ready_wait', 'ready_wait'))


def client_kwargs(options, client_class=None):
    """CocalcClient keyword arguments from plugin options (those present); api_version only where the client
    takes it. A client that speaks only API v1 accepts auto and v1, and refuses current clearly."""
    client_class = client_class or CocalcClient
    kwargs = dict((keyword, options[option]) for option, keyword in _KEYWORDS if options.get(option) is not None)
    version = options.get('api_version')
    if 'api_version' in inspect.signature(client_class.__init__).parameters:
        if version is not None:
            kwargs['api_version'] = version
    elif version not in (None, 'auto', 'v1'):
        raise CocalcInputError('api_version %s: this version of the collection speaks only CoCalc API v1 (use auto or v1)' % version)
    return kwargs


def make_client(api_url, api_key, options):
    """The client for a plugin's options (ValueError / CocalcInputError for bad ones)."""
    return CocalcClient(api_url, api_key, **client_kwargs(options))
