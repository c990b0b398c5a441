"""Custom NLU components of the project's pipeline (see config.yml)."""
