"""Intent classifier: a linear SVM over word and character n-grams.

Citizens type without accents, with typos and abbreviations, and each intent
has a few hundred examples. On that data a linear SVM over TF-IDF word
1–2-grams and character 2–5-grams classifies intents better in
cross-validation than DIET, and trains in seconds (bench/README.md has the
figures).

An SVM gives scores, not probabilities, and the FallbackClassifier needs a
confidence. While training, the component scores every example with a model
that did not see it (k-fold) and picks the softmax temperature under which
those held-out scores are the most likely. At run time the confidence is the
softmax of the scores at that temperature.

The model is stored as plain arrays and JSON, never pickled.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.npz"
# Softmax temperatures tried when calibrating, from sharp to flat.
TEMPERATURES = np.geomspace(0.02, 5.0, 80)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of `scores / temperature`."""
    scaled = scores / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, label_ids: np.ndarray) -> float:
    """Return the temperature that minimises the log loss of held-out scores."""
    rows = np.arange(len(label_ids))

    def log_loss(temperature: float) -> float:
        probabilities = softmax(scores, temperature)[rows, label_ids]
        return float(-np.log(np.clip(probabilities, 1e-12, None)).mean())

    return float(min(TEMPERATURES, key=log_loss))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intent classifier: a linear SVM with calibrated confidences."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "word_ngrams": [1, 2],
            "char_ngrams": [2, 5],
            # SVM regularisation: smaller is smoother.
            "C": 1.0,
            # Folds of the held-out scores the temperature is fitted on.
            "calibration_folds": 5,
            "ranking_length": 10,
            "random_seed": 2026,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizers: Optional[List[TfidfVectorizer]] = None,
        intents: Optional[List[Text]] = None,
        weights: Optional[np.ndarray] = None,
        bias: Optional[np.ndarray] = None,
        temperature: float = 1.0,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizers = vectorizers or []
        self._intents = intents or []
        self._weights = weights
        self._bias = bias
        self._temperature = temperature

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def _new_vectorizers(self) -> List[TfidfVectorizer]:
        common = {"lowercase": True, "strip_accents": "unicode", "sublinear_tf": True}
        return [
            TfidfVectorizer(
                analyzer="word",
                ngram_range=tuple(self._config["word_ngrams"]),
                **common,
            ),
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self._config["char_ngrams"]),
                **common,
            ),
        ]

    def _new_svm(self) -> LinearSVC:
        return LinearSVC(C=self._config["C"], random_state=self._config["random_seed"])

    @staticmethod
    def _features(
        vectorizers: Sequence[TfidfVectorizer], texts: Sequence[Text]
    ) -> scipy.sparse.csr_matrix:
        return scipy.sparse.hstack(
            [vectorizer.transform(texts) for vectorizer in vectorizers], format="csr"
        )

    def _fit(
        self, texts: Sequence[Text], label_ids: np.ndarray
    ) -> Tuple[List[TfidfVectorizer], LinearSVC]:
        vectorizers = self._new_vectorizers()
        for vectorizer in vectorizers:
            vectorizer.fit(texts)
        svm = self._new_svm().fit(self._features(vectorizers, texts), label_ids)
        return vectorizers, svm

    def _held_out_scores(
        self,
        texts: List[Text],
        label_ids: np.ndarray,
        intent_count: int,
        fold_count: int,
    ) -> np.ndarray:
        """Score every example with a model trained without its fold."""
        scores = np.zeros((len(texts), intent_count))
        folds = StratifiedKFold(
            n_splits=fold_count,
            shuffle=True,
            random_state=self._config["random_seed"],
        )
        for train_rows, test_rows in folds.split(texts, label_ids):
            vectorizers, svm = self._fit(
                [texts[row] for row in train_rows], label_ids[train_rows]
            )
            fold_scores = svm.decision_function(
                self._features(vectorizers, [texts[row] for row in test_rows])
            )
            # An intent missing from a fold's training part gets the lowest score.
            scores[np.ix_(test_rows, svm.classes_)] = fold_scores
            missing = np.setdiff1d(np.arange(intent_count), svm.classes_)
            scores[np.ix_(test_rows, missing)] = fold_scores.min()
        return scores

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the vectorizers, the SVM and the softmax temperature."""
        examples = [
            example
            for example in training_data.intent_examples
            if example.get(TEXT) and example.get(INTENT)
        ]
        texts = [example.get(TEXT) for example in examples]
        labels = [example.get(INTENT) for example in examples]
        self._intents = sorted(set(labels))
        if len(self._intents) < 2:
            logger.warning(
                "Intent classifier not trained: the data has %d intent(s), "
                "at least 2 are needed.",
                len(self._intents),
            )
            return self._resource

        label_ids = np.array([self._intents.index(label) for label in labels])
        smallest = int(np.bincount(label_ids).min())
        fold_count = min(self._config["calibration_folds"], smallest)
        if fold_count >= 2:
            held_out = self._held_out_scores(
                texts, label_ids, len(self._intents), fold_count
            )
            self._temperature = fit_temperature(held_out, label_ids)
        logger.debug("Softmax temperature of intent scores: %.3f", self._temperature)

        self._vectorizers, svm = self._fit(texts, label_ids)
        weights = np.zeros((len(self._intents), svm.coef_.shape[1]), dtype=np.float32)
        bias = np.zeros(len(self._intents), dtype=np.float32)
        if len(svm.classes_) == 2:
            # A binary SVM has one row of weights, which scores the second class.
            weights[1], bias[1] = svm.coef_[0], svm.intercept_[0]
        else:
            weights[svm.classes_], bias[svm.classes_] = svm.coef_, svm.intercept_
        self._weights, self._bias = weights, bias
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the intent and the intent ranking of each message."""
        if self._weights is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        features = self._features(self._vectorizers, texts)
        scores = np.asarray(features @ self._weights.T) + self._bias
        probabilities = softmax(scores, self._temperature)
        for message, row in zip(messages, probabilities):
            order = np.argsort(-row)[: self._config["ranking_length"]]
            ranking = [
                {"name": self._intents[index], "confidence": float(row[index])}
                for index in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        """Store vocabularies, IDF weights and SVM weights without pickling."""
        with self._model_storage.write_to(self._resource) as directory:
            vocabulary = {
                "intents": self._intents,
                "temperature": self._temperature,
                "vocabularies": [
                    {term: int(index) for term, index in vectorizer.vocabulary_.items()}
                    for vectorizer in self._vectorizers
                ],
            }
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
            )
            np.savez_compressed(
                directory / WEIGHTS_FILE,
                weights=self._weights,
                bias=self._bias,
                **{
                    f"idf_{index}": vectorizer.idf_
                    for index, vectorizer in enumerate(self._vectorizers)
                },
            )

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """Rebuild the classifier from what `persist` stored."""
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads(
                    (directory / VOCABULARY_FILE).read_text(encoding="utf-8")
                )
                with np.load(directory / WEIGHTS_FILE) as arrays:
                    weights, bias = arrays["weights"], arrays["bias"]
                    idfs = [
                        arrays[f"idf_{index}"]
                        for index in range(len(stored["vocabularies"]))
                    ]
        except (ValueError, FileNotFoundError):
            logger.warning(
                "Intent classifier model not found in resource '%s'. "
                "Train the model again; until then no intent is predicted.",
                resource.name,
            )
            return component

        vectorizers = component._new_vectorizers()
        for vectorizer, vocabulary, idf in zip(
            vectorizers, stored["vocabularies"], idfs
        ):
            vectorizer.vocabulary = vocabulary
            vectorizer.idf_ = idf
        return cls(
            config,
            model_storage,
            resource,
            vectorizers=vectorizers,
            intents=stored["intents"],
            weights=weights,
            bias=bias,
            temperature=stored["temperature"],
        )
