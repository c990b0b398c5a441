"""Sending cases out of the case store: escalation and delivery to bodies.

A case that needs escalation (violence, child abuse) or whose body receives
cases by e-mail or webhook gets rows in the outbox table, written in the same
transaction as the case (`outbox`). A worker process
(``python -m actions.escalation.worker``) delivers them to the on-call
channel configured in ``endpoints.yml`` and to the bodies' addresses,
retrying with backoff until each receiver acknowledges (`worker`).
"""
