# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller-side plugins (the connection, the inventory and the lookup): their options as a CocalcClient."""

from __future__ import annotations

from ansible_collections.cocalc.cocalc.plugins.module_utils._api import CocalcClient

# Plugin option -> CocalcClient keyword (as CocalcClient.from_params maps the modules' options).
_KEYWORDS = (('validate_certs', 'validate_certs'), ('api_timeout', 'timeout'), ('api_retries', 'retries'),
             ('ready_wait', 'ready_wait'), ('api_version', 'api_version'))


def client_kwargs(options):
    """CocalcClient keyword arguments from plugin options (those present and set)."""
    return dict((keyword, options[option]) for option, keyword in _KEYWORDS if options.get(option) is not None)


def make_client(plugin):
    """The client for a plugin's options: api_url, api_key and those of _KEYWORDS the plugin has (the inventory
    and the lookup have no ready_wait). ValueError / CocalcInputError for bad ones."""
    options = dict((option, plugin.get_option(option)) for option, _keyword in _KEYWORDS if plugin.has_option(option))
    return CocalcClient(plugin.get_option('api_url'), plugin.get_option('api_key'), **client_kwargs(options))


def generation_line(who, client):
    """The -v line saying which API generation a plugin's client spoke (what api_version auto found; the
    modules return it as api_version)."""
    return '%s: %s spoke CoCalc API %s' % (who, client.api_url, client.generation)
