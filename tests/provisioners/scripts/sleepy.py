"""Never answers in time: for the exec provisioner's timeout test."""

from __future__ import annotations

import time

time.sleep(30)
