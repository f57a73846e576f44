"""The shared core: helpers every app uses, importing no app.

Money parsing and formatting at the edges, database constraint helpers, the
safe fetcher for other sites, HTTP and cache helpers, CSV output and admin
mixins. This is the bottom layer (docs/architecture.md): nothing here imports
an app of the project, which `lint-imports` checks.
"""
