"""Routing of requests: the responsible body, the priority and the groups.

- `table`: the routing table (which body receives each request and how the
  case is sent to it), read from ``catalog/routing.yml``.
- `areas`: reading the SM, región, colonia and street of a written address.
- `linking`: finding an open report of the same problem nearby.
- `groups`: vulnerable groups and the service directory
  (``catalog/groups.yml``, ``catalog/directory.yml``).
- `priority`: priority rules (``catalog/priority.yml``).

The catalog loader (`actions.catalog`) calls the parsers of these modules, so
none of them imports `actions.catalog` at import time.
"""
