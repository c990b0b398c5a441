"""Custom actions of ChatCun.

Rasa's action server imports this package once when it starts. The catalog
is loaded and validated here, so a broken catalog stops the server at once
with an error that names the file and the key, not at a citizen's message.
"""

from actions.catalog import get_catalog

get_catalog()
