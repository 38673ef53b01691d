# -*- coding: utf-8 -*-
# Copyright (c) 2026, cocalc.cocalc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waiting: the one clock every wait of the collection goes through, and a bounded backoff.

In the style of kubernetes.core's waiter: the caller decides what "ready" means, the Waiter only
decides how long to pause and when the budget is spent::

    waiter = Waiter(budget=60, first=1.0, cap=5.0)     # 1, 2, 4, 5, 5, ... seconds
    while not ready():
        if not waiter.pause():                        # False: the next pause would pass the budget
            raise TimeoutError('not ready within %s seconds' % waiter.budget)

CLOCK is the one test seam for time: unit tests replace it with a clock that records the pauses
and advances a virtual time instead of sleeping. No Ansible imports: every layer may use it.
"""

from __future__ import annotations

import time


class Clock(object):
    """Real time: a monotonic now() and sleep()."""

    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)


# Replaced by unit tests (tests/unit/utils/fake_api.py); always read through now() and sleep().
CLOCK = Clock()


def now():
    return CLOCK.now()


def sleep(seconds):
    CLOCK.sleep(seconds)


class Waiter(object):
    """Pauses of first, first*factor, ... seconds (at most cap each) while their sum and the time
    since the waiter was made stay within budget seconds."""

    def __init__(self, budget, first=1.0, factor=2.0, cap=5.0):
        if budget is None or budget < 0:
            raise ValueError('a wait budget must be 0 or more seconds, got %r' % (budget,))
        self.budget = budget
        self.started = now()
        self.waited = 0.0
        self.pauses = 0
        self._next = first
        self._factor = factor
        self._cap = cap

    @property
    def elapsed(self):
        return now() - self.started

    @property
    def remaining(self):
        return max(0.0, self.budget - self.elapsed)

    def pause(self):
        """Sleep for the next backoff step and return True, or return False without sleeping when
        that step would pass the budget (the caller gives up)."""
        delay = self._next
        if self.waited + delay > self.budget or self.elapsed + delay > self.budget:
            return False
        sleep(delay)
        self.waited += delay
        self.pauses += 1
        self._next = min(self._cap, delay * self._factor)
        return True
