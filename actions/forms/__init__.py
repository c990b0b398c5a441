"""Validation and questions of the request forms declared in domain.yml."""
