"""The one extractor of folio numbers, so the `folio` slot never holds a list."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.db.folio import FOLIO_PATTERN, find_folio_candidate

FOLIO_ENTITY = "folio"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class FolioEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds the first folio in a message, however it was typed.

    The entity's value is the canonical form (`CUN-26-000124`) whether or not
    its check digit is valid: the action that looks it up tells the citizen
    when the folio was mistyped.
    """

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FolioEntityExtractor:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Add a `folio` entity to each message that contains one."""
        for message in messages:
            text = message.get(TEXT) or ""
            match = FOLIO_PATTERN.search(text)
            if match is None:
                continue
            entity = {
                "entity": FOLIO_ENTITY,
                "start": match.start(),
                "end": match.end(),
                "value": find_folio_candidate(text),
                "confidence": 1.0,
            }
            entity = self.add_extractor_name([entity])[0]
            entities = [
                existing
                for existing in message.get(ENTITIES, [])
                if existing.get("entity") != FOLIO_ENTITY
            ]
            message.set(ENTITIES, entities + [entity], add_to_output=True)
        return messages
