"""Reading one catalog file: YAML parsing and typed getters with clear errors.

Every getter of `CatalogFile` raises a `CatalogError` whose message starts
with the file and the key path, for example
``catalog/categories.yml: categories.bache.sla_hours: missing required key``.
The loaders in `actions.catalog` and `actions.routing` build on it.
"""

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import yaml

from actions.text import normalize

# Longer texts are sent as one WhatsApp message that should fit without much
# scrolling.
MAX_TEXT_LENGTH = 700

DEPARTMENTS_FILE = "departments.yml"

_ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


class CatalogError(ValueError):
    """Invalid or missing catalog file, with the file and key path in the message."""


def display_path(path: Path) -> str:
    """Return the path relative to the working directory when it is inside it."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


# PyYAML's libyaml-based loader parses faster when libyaml is installed. It uses
# the same constructors and resolver, so the catalog reads the same with either.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader that rejects a key repeated in one mapping.

    PyYAML keeps the last of two equal keys, which would silently drop an
    entry that a designer pasted twice.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        self.flatten_mapping(node)
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                break  # the base class raises the error for an unhashable key
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def join_key(key_path: str, key: str) -> str:
    """Append a key to a key path. An empty path is the top of the file."""
    return f"{key_path}.{key}" if key_path else key


def _describe(value: Any) -> str:
    """Name the YAML type of a value for an error message."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class CatalogFile:
    """One parsed catalog file with typed getters that raise CatalogError.

    Every getter takes the key path of the value, such as
    ``categories.bache.keywords``, to put in the error message.
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.label = display_path(folder / name)
        self.confirm_count = 0
        self.data = self._read(folder / name)

    def _read(self, path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CatalogError(f"{self.label}: file not found") from None
        except UnicodeDecodeError as error:
            raise CatalogError(
                f"{self.label}: invalid UTF-8 at byte {error.start}; save the file "
                "as UTF-8"
            ) from None
        except OSError as error:
            raise CatalogError(f"{self.label}: cannot read file: {error}") from None

        try:
            return yaml.load(text, Loader=_UniqueKeyLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            position = ""
            if mark is not None:
                position = f" at line {mark.line + 1}, column {mark.column + 1}"
            raise CatalogError(
                f"{self.label}: invalid YAML{position}: {error.problem}"
            ) from None
        except yaml.YAMLError as error:
            raise CatalogError(f"{self.label}: invalid YAML: {error}") from None

    def error(self, key_path: str, problem: str) -> CatalogError:
        """Build the error for a problem at a key path of this file."""
        return CatalogError(f"{self.label}: {key_path}: {problem}")

    def type_error(self, key_path: str, expected: str, value: Any) -> CatalogError:
        """Build the error for a value of the wrong type."""
        hint = ""
        if expected == "text" and isinstance(value, (bool, int, float)):
            # YAML 1.1 reads 071 as the octal number 57 and "no" as false.
            hint = (
                "; put the value in quotes, because YAML reads bare numbers, "
                "yes/no and true/false as other types"
            )
        return self.error(
            key_path, f"expected {expected}, got {_describe(value)}{hint}"
        )

    def root(
        self, required: Sequence[str], allow_other_keys: bool = False
    ) -> Dict[str, Any]:
        """Return the top-level mapping after checking its keys."""
        if not isinstance(self.data, dict):
            keys = ", ".join(required)
            raise CatalogError(
                f"{self.label}: expected a mapping with the keys {keys}, got "
                f"{_describe(self.data)}"
            )
        self._check_keys(self.data, "", required, None if allow_other_keys else ())
        return self.data

    def entry(
        self,
        value: Any,
        key_path: str,
        required: Sequence[str],
        optional: Sequence[str] = ("confirm",),
    ) -> Dict[str, Any]:
        """Return a mapping after checking its keys and counting its confirm mark."""
        if not isinstance(value, dict):
            raise self.type_error(key_path, "a mapping", value)
        self._check_keys(value, key_path, required, optional)
        if "confirm" in optional and self.boolean(value, key_path, "confirm"):
            self.confirm_count += 1
        return value

    def _check_keys(
        self,
        mapping: Dict[Any, Any],
        key_path: str,
        required: Sequence[str],
        optional: Optional[Sequence[str]],
    ) -> None:
        """Raise if a required key is missing or a key is not allowed.

        With optional=None every other key is allowed.
        """
        for key in required:
            if key not in mapping:
                raise self.error(join_key(key_path, key), "missing required key")
        if optional is None:
            return
        allowed = list(required) + list(optional)
        for key in mapping:
            if key not in allowed:
                raise self.error(
                    join_key(key_path, str(key)),
                    f"unknown key; allowed keys: {', '.join(allowed)}",
                )

    def entries(self, value: Any, key_path: str) -> Iterator[Tuple[str, Any, str]]:
        """Yield (id, value, key path) for each item of a mapping keyed by id."""
        if not isinstance(value, dict):
            raise self.type_error(key_path, "a mapping of ids to entries", value)
        if not value:
            raise self.error(key_path, "must have at least one entry")
        for item_id, item in value.items():
            entry_path = f"{key_path}.{item_id}"
            self.check_id(item_id, entry_path)
            yield item_id, item, entry_path

    def check_id(self, item_id: Any, key_path: str) -> None:
        """Raise unless the id is snake_case text."""
        if not isinstance(item_id, str) or not _ID_PATTERN.fullmatch(item_id):
            raise self.error(
                key_path,
                f"invalid id {item_id!r}; use snake_case: lower-case letters, digits "
                "and underscores, starting with a letter",
            )

    def text(
        self,
        entry: Dict[str, Any],
        key_path: str,
        key: str,
        max_length: int = MAX_TEXT_LENGTH,
    ) -> str:
        """Return a non-empty text value, at most max_length characters long."""
        value = entry.get(key)
        path = join_key(key_path, key)
        if not isinstance(value, str):
            raise self.type_error(path, "text", value)
        value = value.strip()
        if not value:
            raise self.error(path, "must not be empty")
        if len(value) > max_length:
            raise self.error(
                path,
                f"too long ({len(value)} characters, maximum {max_length}); "
                "shorten it so it fits a phone screen",
            )
        return value

    def optional_text(
        self, entry: Dict[str, Any], key_path: str, key: str
    ) -> Optional[str]:
        """Return a text value, or None when the key is absent."""
        if key not in entry:
            return None
        return self.text(entry, key_path, key)

    def choice(
        self, entry: Dict[str, Any], key_path: str, key: str, allowed: Sequence[str]
    ) -> str:
        """Return a text value that must be one of the allowed values."""
        value = self.text(entry, key_path, key)
        if value not in allowed:
            raise self.error(
                join_key(key_path, key),
                f"invalid value {value!r}; expected one of {', '.join(allowed)}",
            )
        return value

    def boolean(self, entry: Dict[str, Any], key_path: str, key: str) -> bool:
        """Return a true/false value, False when the key is absent."""
        value = entry.get(key, False)
        if not isinstance(value, bool):
            raise self.type_error(join_key(key_path, key), "true or false", value)
        return value

    def positive_int(self, entry: Dict[str, Any], key_path: str, key: str) -> int:
        """Return a whole number greater than zero."""
        value = entry.get(key)
        path = join_key(key_path, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.type_error(path, "a whole number", value)
        if value <= 0:
            raise self.error(path, f"must be greater than 0, got {value}")
        return value

    def number(self, entry: Dict[str, Any], key_path: str, key: str) -> float:
        """Return an integer or decimal number as a float."""
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.type_error(join_key(key_path, key), "a number", value)
        return float(value)

    def reference(
        self,
        entry: Dict[str, Any],
        key_path: str,
        key: str,
        departments: Mapping[str, Any],
    ) -> str:
        """Return a department id that must exist in departments.yml."""
        value = self.text(entry, key_path, key)
        if value not in departments:
            raise self.error(
                join_key(key_path, key),
                f"unknown department {value!r}; add it to {DEPARTMENTS_FILE} or use "
                "one of its ids",
            )
        return value

    def text_list(
        self,
        entry: Dict[str, Any],
        key_path: str,
        key: str,
        normalized: bool = False,
    ) -> Tuple[str, ...]:
        """Return a non-empty list of distinct, non-empty texts.

        With normalized=True every item must already be in the form that
        `normalize` produces (lower-case, no accents, no marks such as ¿ ? ¡ !),
        which is the form keywords and address words are written in.
        """
        value = entry.get(key)
        path = join_key(key_path, key)
        if not isinstance(value, list):
            raise self.type_error(path, "a list", value)
        if not value:
            raise self.error(path, "must have at least one item")

        items: List[str] = []
        seen: Dict[str, int] = {}
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if not isinstance(item, str):
                raise self.type_error(item_path, "text", item)
            item = item.strip()
            comparable = normalize(item)
            if not comparable:
                raise self.error(item_path, "must not be empty")
            if normalized and item != comparable:
                raise self.error(
                    item_path,
                    f"write {item!r} lower-case, without accents or marks such as "
                    f"¿ ? ¡ !: {comparable!r}",
                )
            if comparable in seen:
                raise self.error(
                    item_path, f"duplicate of {path}[{seen[comparable]}] ({item!r})"
                )
            seen[comparable] = index
            items.append(item)
        return tuple(items)

    def keywords(self, entry: Dict[str, Any], key_path: str) -> Tuple[str, ...]:
        """Return the keywords of an entry."""
        return self.text_list(entry, key_path, "keywords", normalized=True)
