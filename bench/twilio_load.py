"""Load bench of the WhatsApp webhook: this project's channel against stock Rasa's.

Starts, all on 127.0.0.1: a fake Twilio REST API that accepts each message
after about 300 ms, the project's action server, and `rasa run` with the
project's newest model and two channels, `channels.whatsapp.WhatsAppInput`
and Rasa's stock `rasa.core.channels.twilio.TwilioInput`. Then many
simulated citizens hold whole conversations at once through signed webhook
requests, first against one channel, then against the other.

Reported for each channel: webhook response time, time from webhook to the
turn's last reply reaching the API, throughput and errors.

Rasa's stock channel builds its Twilio client with the production API host
and no way to change it, so the Rasa process is started through this file
(`serve-rasa`), which points twilio's client at the fake before running
Rasa's command line.

Usage:
    .venv/bin/python bench/twilio_load.py --citizens 50 \
        --output bench/results/twilio_load.md
"""

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHANNEL_TESTS_DIR = PROJECT_ROOT / "tests" / "channel"
FAKE_URL_VARIABLE = "BENCH_FAKE_TWILIO_URL"
TWILIO_API_ORIGIN = "https://api.twilio.com"
TWILIO_WEBHOOK_LIMIT_SECONDS = 15.0
# A turn whose replies have not all arrived by then counts as an error.
REPLY_TIMEOUT_SECONDS = 60.0

# Whole conversations, written the way citizens write on WhatsApp. Each
# simulated citizen sends one of them, turn by turn.
CONVERSATIONS: List[List[str]] = [
    [
        "Hola",
        "Quiero reportar un bache",
        "Está en la SM 21, frente al Oxxo de la avenida Tulum",
        "Gracias",
    ],
    [
        "Buenas tardes",
        "¿Dónde pago el predial?",
        "¿Qué horario tienen?",
        "Muchas gracias",
    ],
    [
        "Hola buen día",
        "No ha pasado el camión de la basura en toda la semana",
        "En Villas Otoch, calle 12",
        "ok",
    ],
    [
        "Qué tal",
        "Hay una lámpara fundida en mi calle",
        "Región 94, manzana 3",
        "Gracias",
    ],
    [
        "Hola",
        "¿Cómo consulto mi folio?",
        "No lo tengo a la mano",
        "Bye",
    ],
]


def _import_test_helpers() -> None:
    # The fake API and the signing helpers live with the channel tests.
    for path in (str(PROJECT_ROOT), str(CHANNEL_TESTS_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)


# --- the Rasa process ------------------------------------------------------


def serve_rasa(rasa_arguments: Sequence[str]) -> None:
    """Run Rasa's CLI with twilio's client pointed at the fake API.

    Only the stock channel uses twilio's client; this project's channel is
    pointed at the fake through its `api_base_url` setting.
    """
    fake_url = os.environ[FAKE_URL_VARIABLE]
    from twilio.base.client_base import ClientBase

    original = ClientBase.get_hostname

    def get_hostname(self: ClientBase, uri: str) -> str:
        return original(self, uri).replace(TWILIO_API_ORIGIN, fake_url, 1)

    ClientBase.get_hostname = get_hostname  # type: ignore[assignment]

    from rasa.__main__ import main

    sys.argv = ["rasa", *rasa_arguments]
    main()


# --- the load ----------------------------------------------------------------


@dataclass
class TurnResult:
    """One citizen's message and what came of it."""

    webhook_seconds: Optional[float]
    last_reply_seconds: Optional[float]
    status: Optional[int]
    error: Optional[str] = None
    finished_at: Optional[float] = None


@dataclass
class PhaseResult:
    """Everything measured for one channel."""

    channel: str
    turns: List[TurnResult] = field(default_factory=list)
    started_at: float = 0.0
    expected_replies: List[List[int]] = field(default_factory=list)
    load_average: float = 0.0


@dataclass
class Channel:
    """A webhook under test."""

    name: str
    path: str


CHANNELS = {
    "whatsapp": Channel(
        "channels.whatsapp (this project)", "/webhooks/whatsapp/webhook"
    ),
    "stock": Channel(
        "rasa.core.channels.twilio (stock)", "/webhooks/twilio/webhook"
    ),
}


class Citizens:
    """Hands out fresh phone numbers from a random start, so runs rarely share one."""

    def __init__(self) -> None:
        self._next = random.randrange(1_000_000, 8_000_000)

    def new_number(self) -> str:
        """Return the next number, as WhatsApp writes Mexican mobiles."""
        self._next += 1
        return f"+521998{self._next:07d}"


async def _post_turn(http, url: str, number: str, text: str):
    from twilio_requests import inbound_form, signed_request

    form = inbound_form(number, text)
    body, headers = signed_request(url, form)
    started = time.monotonic()
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        return started, time.monotonic() - started, response.status


async def _calibrate(http, fake, base_url: str, channel: Channel, citizens) -> List:
    """Run each conversation once, alone, to count the replies of each turn.

    The bot's replies depend on the conversation, not on the load.
    """
    counts = []
    url = base_url + channel.path
    for conversation in CONVERSATIONS:
        number = citizens.new_number()
        address = f"whatsapp:{number}"
        per_turn = []
        for text in conversation:
            before = len(fake.messages_to(address))
            await _post_turn(http, url, number, text)
            await fake.wait_for_messages(address, before + 1, 20.0)
            settled = await _settle(fake, address, quiet_seconds=2.5)
            per_turn.append(settled - before)
        counts.append(per_turn)
    return counts


async def _settle(fake, address: str, quiet_seconds: float) -> int:
    # Bounded: stops after 30 s even if replies keep coming.
    count = len(fake.messages_to(address))
    for _ in range(int(30 / quiet_seconds)):
        await asyncio.sleep(quiet_seconds)
        latest = len(fake.messages_to(address))
        if latest == count:
            break
        count = latest
    return count


async def _citizen(
    http,
    fake,
    url: str,
    number: str,
    conversation: List[str],
    expected: List[int],
    think_seconds: float,
    deadline: float,
    results: List[TurnResult],
) -> None:
    address = f"whatsapp:{number}"
    await asyncio.sleep(random.uniform(0, think_seconds))
    for text, replies in zip(conversation, expected):
        if time.monotonic() > deadline:
            return
        before = len(fake.messages_to(address))
        try:
            started, webhook_seconds, status = await _post_turn(http, url, number, text)
        except (asyncio.TimeoutError, OSError) as error:
            results.append(TurnResult(None, None, None, error.__class__.__name__))
            return
        if not 200 <= status < 300:
            results.append(TurnResult(webhook_seconds, None, status, f"HTTP {status}"))
            continue

        sent = await fake.wait_for_messages(
            address, before + replies, REPLY_TIMEOUT_SECONDS
        )
        if len(sent) < before + replies:
            error = f"{len(sent) - before} of {replies} replies"
            results.append(TurnResult(webhook_seconds, None, status, error))
            return
        last = sent[before + replies - 1].received_at - started if replies else 0.0
        results.append(
            TurnResult(
                webhook_seconds,
                max(last, webhook_seconds),
                status,
                finished_at=started + max(last, webhook_seconds),
            )
        )
        await asyncio.sleep(random.uniform(0.5, 1.5) * think_seconds)


async def _run_phase(
    http, fake, base_url: str, key: str, args, citizens: Citizens
) -> PhaseResult:
    channel = CHANNELS[key]
    result = PhaseResult(channel.name)
    print(f"[{key}] learning the reply counts of {len(CONVERSATIONS)} conversations")
    result.expected_replies = await _calibrate(http, fake, base_url, channel, citizens)
    print(f"[{key}] replies per turn: {result.expected_replies}")

    url = base_url + channel.path
    result.load_average = os.getloadavg()[0]
    started = time.monotonic()
    result.started_at = started
    deadline = started + args.max_seconds
    tasks = [
        _citizen_conversations(
            http,
            fake,
            url,
            citizens,
            _plan(index, args.conversations, result.expected_replies),
            args.think_seconds,
            deadline,
            result.turns,
        )
        for index in range(args.citizens)
    ]
    print(
        f"[{key}] {args.citizens} citizens at once, "
        f"{args.conversations} conversation(s) each"
    )
    await asyncio.gather(*tasks)
    await _settle_all(fake)
    return result


def _plan(citizen_index: int, conversations: int, expected: List[List[int]]):
    # Citizens start on different conversations so that all are in play.
    plan = []
    for offset in range(conversations):
        index = (citizen_index + offset) % len(CONVERSATIONS)
        plan.append((CONVERSATIONS[index], expected[index]))
    return plan


async def _citizen_conversations(
    http, fake, url, citizens, plan, think_seconds, deadline, results
) -> None:
    # Conversations follow one another, each from a new number: the replies
    # learned for a conversation hold only for a conversation that starts
    # fresh, and a case left open by the previous one would change them.
    for conversation, expected in plan:
        await _citizen(
            http,
            fake,
            url,
            citizens.new_number(),
            conversation,
            expected,
            think_seconds,
            deadline,
            results,
        )


async def _settle_all(fake) -> None:
    # Lets replies still in flight land before the next phase starts.
    count = len(fake.state.messages)
    for _ in range(30):
        await asyncio.sleep(1.0)
        if len(fake.state.messages) == count:
            return
        count = len(fake.state.messages)


# --- the report --------------------------------------------------------------


def _percentiles(values: List[float]) -> Dict[str, Optional[float]]:
    if len(values) < 2:
        single = values[0] if values else None
        return {"p50": single, "p95": single, "p99": single}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


def _ms(value: Optional[float]) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


@dataclass
class Summary:
    """The figures of one phase."""

    channel: str
    turns_completed: int
    errors: int
    over_twilio_limit: int
    webhook: Dict[str, Optional[float]]
    last_reply: Dict[str, Optional[float]]
    throughput: float
    error_kinds: Dict[str, int]
    load_average: float


def summarize(phase: PhaseResult) -> Summary:
    """Reduce a phase's turns to percentiles, throughput and error counts."""
    completed = [t for t in phase.turns if t.error is None]
    webhook = [t.webhook_seconds for t in phase.turns if t.webhook_seconds is not None]
    last = [t.last_reply_seconds for t in completed if t.last_reply_seconds is not None]
    over = sum(1 for w in webhook if w > TWILIO_WEBHOOK_LIMIT_SECONDS)
    kinds: Dict[str, int] = {}
    for turn in phase.turns:
        if turn.error:
            kinds[turn.error] = kinds.get(turn.error, 0) + 1
    # Over the span until the last completed turn, so that turns which waited
    # in vain for replies do not stretch it; they count as errors.
    finished = [t.finished_at for t in completed if t.finished_at is not None]
    span = max(finished) - phase.started_at if finished else 0.0
    throughput = len(completed) / span if span > 0 else 0.0
    return Summary(
        channel=phase.channel,
        turns_completed=len(completed),
        errors=len(phase.turns) - len(completed),
        over_twilio_limit=over,
        webhook=_percentiles(webhook),
        last_reply=_percentiles(last),
        throughput=throughput,
        error_kinds=kinds,
        load_average=phase.load_average,
    )


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def render_report(summaries: List[Summary], args, model: Path, command: str) -> str:
    """Write the results as Markdown."""
    lines = [
        "# WhatsApp webhook load",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Machine: {_machine()}; the bench, the fake API, Rasa and the action "
        "server share it",
        f"- Model: `{model.name}`",
        f"- Load: {args.citizens} citizens at once, {args.conversations} "
        f"conversation(s) of {len(CONVERSATIONS[0])} turns each, think time "
        f"{args.think_seconds:.1f} s (0.5–1.5×), fake Twilio answers after "
        f"{args.reply_delay * 1000:.0f} ms, phase limit {args.max_seconds:.0f} s, "
        f"max_concurrent_turns {args.max_concurrent_turns}",
        "",
        "Command:",
        "",
        "```",
        command,
        "```",
        "",
        "| channel | turns done | errors | webhook p50 / p95 / p99 (ms) "
        "| webhooks > 15 s | last reply p50 / p95 / p99 (ms) | turns/s "
        "| load avg at start |",
        "|---|---:|---:|---|---:|---|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.channel} | {s.turns_completed} | {s.errors} "
            f"| {_ms(s.webhook['p50'])} / {_ms(s.webhook['p95'])} / "
            f"{_ms(s.webhook['p99'])} | {s.over_twilio_limit} "
            f"| {_ms(s.last_reply['p50'])} / {_ms(s.last_reply['p95'])} / "
            f"{_ms(s.last_reply['p99'])} | {s.throughput:.2f} "
            f"| {s.load_average:.2f} |"
        )
    lines.append("")
    for s in summaries:
        if s.error_kinds:
            kinds = ", ".join(f"{k}: {v}" for k, v in sorted(s.error_kinds.items()))
            lines.append(f"- Errors of {s.channel}: {kinds}")
    if len(summaries) == 2 and summaries[1].throughput:
        ratio = summaries[0].throughput / summaries[1].throughput
        lines.append(f"- Throughput ratio, this channel to stock: {ratio:.1f}×")
    lines.append("")
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------


async def run_bench(args) -> List[Summary]:
    """Start the servers, run each phase, stop the servers."""
    import aiohttp

    from fake_twilio import FakeTwilio
    from rasa_stack import RasaStack, newest_model
    from twilio_requests import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER

    model = Path(args.model) if args.model else newest_model(PROJECT_ROOT / "models")
    if model is None:
        raise SystemExit("No model in models/; train one with `make train`.")
    args.model_path = model

    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, reply_delay_seconds=args.reply_delay)
    await fake.start()
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    stack = RasaStack(
        project_root=PROJECT_ROOT,
        model=model,
        work_dir=work_dir,
        rasa_command=[sys.executable, str(Path(__file__).resolve()), "serve-rasa"],
        extra_env={FAKE_URL_VARIABLE: fake.base_url},
    )
    stack.credentials = {
        "channels.whatsapp.WhatsAppInput": {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "twilio_number": TWILIO_NUMBER,
            "validate_signature": True,
            "public_base_url": stack.rasa_url,
            "api_base_url": fake.base_url,
            "media_dir": str(work_dir / "media"),
            "redis_url": args.redis_url or "",
            "max_concurrent_turns": args.max_concurrent_turns,
        },
        "twilio": {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "twilio_number": TWILIO_NUMBER,
        },
    }
    print(f"Starting the action server and Rasa with {model.name}; logs in {work_dir}")
    await asyncio.to_thread(stack.start)
    summaries = []
    try:
        timeout = aiohttp.ClientTimeout(total=args.max_seconds)
        connector = aiohttp.TCPConnector(limit=args.citizens * 2)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            citizens = Citizens()
            for key in args.channels:
                phase = await _run_phase(
                    http, fake, stack.rasa_url, key, args, citizens
                )
                summary = summarize(phase)
                summaries.append(summary)
                print(
                    f"[{key}] {summary.turns_completed} turns, {summary.errors} "
                    f"errors, webhook p95 {_ms(summary.webhook['p95'])} ms, "
                    f"{summary.throughput:.2f} turns/s"
                )
    finally:
        await asyncio.to_thread(stack.stop)
        await fake.stop()
    return summaries


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--citizens", type=int, default=50, help="citizens writing at once"
    )

    parser.add_argument(
        "--conversations",
        type=int,
        default=2,
        help="conversations each citizen sends, one after another",
    )

    parser.add_argument(
        "--think-seconds",
        type=float,
        default=1.0,
        help="mean pause between a turn's last reply and the next message",
    )

    parser.add_argument(
        "--reply-delay",
        type=float,
        default=0.3,
        help="seconds the fake Twilio API takes to accept a message",
    )

    parser.add_argument(
        "--max-seconds",
        type=float,
        default=300.0,
        help="time limit of each phase; unfinished citizens stop there",
    )

    parser.add_argument(
        "--channels",
        nargs="+",
        choices=sorted(CHANNELS),
        default=["whatsapp", "stock"],
        help="channels to load, in order",
    )

    parser.add_argument(
        "--max-concurrent-turns",
        type=int,
        default=2,
        help="this channel's max_concurrent_turns setting",
    )

    parser.add_argument("--model", help="model archive; newest in models/ if unset")

    parser.add_argument(
        "--redis-url", help="Redis for this channel's deduplication (default: memory)"
    )

    parser.add_argument(
        "--work-dir",
        default=str(PROJECT_ROOT / "var" / "bench" / "twilio_load"),
        help="folder for the generated credentials and the server logs",
    )

    parser.add_argument("--output", help="also write the Markdown report here")

    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    """Run the bench, or Rasa itself when called as `serve-rasa`."""
    if argv[:1] == ["serve-rasa"]:
        serve_rasa(argv[1:])
        return

    args = parse_arguments(argv)
    _import_test_helpers()
    command = " ".join([".venv/bin/python", "bench/twilio_load.py", *argv])
    summaries = asyncio.run(run_bench(args))
    report = render_report(summaries, args, args.model_path, command)
    print(report)
    if args.output:
        Path(args.output).write_text(report, "utf-8")
        print(f"Wrote {args.output}")


if __name__ == "__main__":
    main(sys.argv[1:])
