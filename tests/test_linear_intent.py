"""The intent classifier, trained on the project's own NLU data."""

from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from components.linear_intent import LinearIntentClassifier, fit_temperature, softmax

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HELD_OUT_FILES = [
    PROJECT_ROOT / "tests" / "nlu" / "test_service_intents.yml",
    PROJECT_ROOT / "tests" / "nlu" / "test_conversation_intents.yml",
]


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory,
) -> Tuple[LinearIntentClassifier, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("linear_intent")
    context = ExecutionContext(GraphSchema({}), node_name="linear_intent")
    classifier = LinearIntentClassifier.create({}, storage, resource, context)
    classifier.train(load_data(str(PROJECT_ROOT / "data" / "nlu")))
    return classifier, storage, resource


def parse(classifier: LinearIntentClassifier, texts: List[str]) -> List[Message]:
    return classifier.process([Message(data={TEXT: text}) for text in texts])


def held_out_examples() -> List[Tuple[str, str]]:
    examples = []
    for path in HELD_OUT_FILES:
        for message in load_data(str(path)).intent_examples:
            examples.append((message.get(TEXT), message.get(INTENT)))
    return examples


def test_held_out_messages_recognised(trained):
    classifier, _, _ = trained
    examples = held_out_examples()
    predicted = parse(classifier, [text for text, _ in examples])
    wrong = [
        (text, intent, message.get(INTENT)["name"])
        for (text, intent), message in zip(examples, predicted)
        if message.get(INTENT)["name"] != intent
    ]
    assert len(examples) > 100
    assert len(wrong) / len(examples) <= 0.05, wrong


@pytest.mark.parametrize(
    "text, intent",
    [
        ("ay un bache enorme en la kabah x la sm 63", "report_issue"),
        ("Buenas tardes, ¿a qué hora abre el Registro Civil?", "ask_information"),
        ("mi pareja me pega y me amenaza", "report_violence"),
        ("se esta quemando la casa de al lado!!", "emergency"),
        ("como va mi folio CUN-26-000124", "check_case_status"),
        ("quiero hablar con una persona", "human_handoff"),
    ],
)
def test_typical_messages(trained, text, intent):
    classifier, _, _ = trained
    (message,) = parse(classifier, [text])
    assert message.get(INTENT)["name"] == intent


def test_ranking_sorted_intent_first(trained):
    classifier, _, _ = trained
    (message,) = parse(classifier, ["no pasa el camion de la basura en mi colonia"])
    ranking = message.get(INTENT_RANKING_KEY)
    confidences = [entry["confidence"] for entry in ranking]
    assert ranking[0] == message.get(INTENT)
    assert confidences == sorted(confidences, reverse=True)
    assert 0 < sum(confidences) <= 1 + 1e-6
    assert len(ranking) == 10


def test_gibberish_less_confident(trained):
    classifier, _, _ = trained
    clear, gibberish = parse(
        classifier, ["hay una fuga de agua en mi calle", "qwx zzkt plmn"]
    )
    assert clear.get(INTENT)["confidence"] > 0.6
    assert gibberish.get(INTENT)["confidence"] < clear.get(INTENT)["confidence"]


def test_empty_message_gets_intent(trained):
    classifier, _, _ = trained
    (message,) = parse(classifier, [""])
    assert message.get(INTENT)["name"]


def test_loaded_model_predicts_same(trained):
    classifier, storage, resource = trained
    context = ExecutionContext(GraphSchema({}), node_name="linear_intent")
    loaded = LinearIntentClassifier.load({}, storage, resource, context)
    texts = ["oiga ya no quiero seguir", "gracias, bye", "ruido de un bar en la sm 24"]
    for original, reloaded in zip(parse(classifier, texts), parse(loaded, texts)):
        assert original.get(INTENT)["name"] == reloaded.get(INTENT)["name"]
        assert original.get(INTENT)["confidence"] == pytest.approx(
            reloaded.get(INTENT)["confidence"], rel=1e-5
        )


def test_missing_model_predicts_nothing(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="linear_intent")
    classifier = LinearIntentClassifier.load({}, storage, Resource("missing"), context)
    (message,) = parse(classifier, ["hola"])
    assert message.get(INTENT) is None


def test_temperature_sharp_for_right_scores():
    labels = np.array([0, 1, 2, 0, 1, 2])
    scores = np.eye(3)[labels] * 2.0 - 1.0
    temperature = fit_temperature(scores, labels)
    assert softmax(scores, temperature)[np.arange(6), labels].min() > 0.95


def test_temperature_flat_for_wrong_scores():
    labels = np.array([0, 1, 2, 0, 1, 2])
    scores = np.eye(3)[(labels + 1) % 3] * 2.0 - 1.0
    temperature = fit_temperature(scores, labels)
    assert softmax(scores, temperature)[np.arange(6), labels].min() > 0.2
