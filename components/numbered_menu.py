"""Reads a bare option number as a choice from the main menu.

The welcome menu offers the five services and case follow-up as numbered
options, because WhatsApp shows no buttons here. A message that is only an
option number ("2", "la 2", "opción 2", "2️⃣") carries no words for the
intent classifier, so this component sets the intent of the menu entry with
that number. Inside a form the form's own validator reads the number as the
answer to its question, whatever intent this component set.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.menu import MAIN_MENU_INTENTS
from actions.text import parse_option


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class NumberedMenuClassifier(GraphComponent, IntentClassifier):
    """Sets the intent of a message that is only a main-menu option number."""

    @classmethod
    def required_components(cls) -> List:
        return [IntentClassifier]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NumberedMenuClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace the predicted intent of bare option numbers."""
        for message in messages:
            option = parse_option(message.get(TEXT), len(MAIN_MENU_INTENTS))
            if option is None:
                continue
            intent = {"name": MAIN_MENU_INTENTS[option - 1], "confidence": 1.0}
            ranking = [
                ranked
                for ranked in message.get(INTENT_RANKING_KEY, [])
                if ranked.get("name") != intent["name"]
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)
        return messages
