"""Builders for rasa-sdk trackers and a way to run actions in tests."""

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CITIZEN = "+529981234567"

_domain: Optional[Dict[str, Any]] = None


def domain_dict() -> Dict[str, Any]:
    """Return the project's domain as the action server receives it."""
    global _domain
    if _domain is None:
        _domain = Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()
    return _domain


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    confidence: float = 0.95,
    entities: Sequence[Dict[str, Any]] = (),
    metadata: Optional[Dict[str, Any]] = None,
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    new_slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    sender: str = CITIZEN,
) -> Tracker:
    """Build the tracker an action sees after the citizen's latest message.

    `new_slots` are slot values set after that message, as the form passes
    extracted answers to its validation action.
    """
    all_slots = {"invalid_attempts": 0}
    all_slots.update(slots or {})
    all_slots.update(new_slots or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": list(entities),
        "metadata": metadata or {},
    }
    history = list(events or [])
    history.append({"event": "user", "text": text, "parse_data": latest})
    history += [
        {"event": "slot", "name": name, "value": value}
        for name, value in (new_slots or {}).items()
    ]
    return Tracker(
        sender_id=sender,
        slots=all_slots,
        latest_message=latest,
        events=history,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


async def run_action(action: Action, tracker: Tracker) -> Tuple[Dict[str, Any], List[str]]:
    """Run an action; return the slots its events set and what it replies.

    Messages sent as responses are returned by response name, texts as text.
    """
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain_dict())
    slots = {
        event["name"]: event["value"] for event in events if event["event"] == "slot"
    }
    replies = [message.get("response") or message.get("text") for message in dispatcher.messages]
    return slots, replies


def joined_replies(replies: List[str]) -> str:
    return "\n".join(message for message in replies if message)
