"""The case store: folios, ownership and concurrent creation."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from actions.cases import (
    MediaItem,
    NewCase,
    create_case,
    find_case_for_sender,
    list_open_cases,
)
from actions.db.folio import has_valid_check_digit
from actions.db.models import Attachment, Case, StatusChange
from actions.db.session import session_scope

OWNER = "+529981234567"
STRANGER = "+529987654321"


def pothole(sender: str = OWNER, **overrides) -> NewCase:
    fields = dict(
        request_type="reporte",
        category="bache",
        department="obras_publicas",
        sender=sender,
        sla_hours=72,
        description="Bache enorme que ya tronó dos llantas",
        address="Av. Kabah, SM 64",
        reference="frente al Oxxo",
    )
    fields.update(overrides)
    return NewCase(**fields)


def test_create_case_assigns_valid_folio(database):
    with session_scope() as session:
        case = create_case(session, pothole())
        folio, case_id = case.folio, case.id

    assert folio.startswith("CUN-")
    assert has_valid_check_digit(folio)
    assert folio[7:-1].lstrip("0") == str(case_id)


def test_create_case_writes_history_and_media(database):
    media = (MediaItem(url="https://example.test/m/1", content_type="image/jpeg"),)
    with session_scope() as session:
        folio = create_case(session, pothole(media=media)).folio

    with session_scope() as session:
        case = session.execute(select(Case).where(Case.folio == folio)).scalar_one()
        assert [change.status for change in case.history] == ["recibido"]
        assert case.attachments[0].content_type == "image/jpeg"
        assert case.due_at > case.created_at


def test_failed_transaction_leaves_nothing(database):
    try:
        with session_scope() as session:
            create_case(session, pothole())
            raise RuntimeError("boom")
    except RuntimeError:
        pass

    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(StatusChange)) == 0
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_only_owner_finds_case(database):
    with session_scope() as session:
        folio = create_case(session, pothole()).folio

    with session_scope() as session:
        assert find_case_for_sender(session, folio, OWNER).category == "bache"
        assert find_case_for_sender(session, folio, STRANGER) is None
        assert find_case_for_sender(session, folio.lower().replace("-", " "), OWNER)


def test_mistyped_folio_finds_nothing(database):
    with session_scope() as session:
        folio = create_case(session, pothole()).folio
    last = int(folio[-1])
    mistyped = folio[:-1] + str((last + 1) % 10)

    with session_scope() as session:
        assert find_case_for_sender(session, mistyped, OWNER) is None


def test_list_open_cases_newest_first(database):
    with session_scope() as session:
        first = create_case(session, pothole()).folio
        second = create_case(session, pothole(category="basura")).folio
        create_case(session, pothole(sender=STRANGER))
        closed = create_case(session, pothole(status="cerrado"))
        closed_folio = closed.folio

    with session_scope() as session:
        folios = [case.folio for case in list_open_cases(session, OWNER)]
    assert folios == [second, first]
    assert closed_folio not in folios


def test_fifty_concurrent_creations_get_distinct_folios(database):
    def create(index: int) -> str:
        with session_scope() as session:
            return create_case(session, pothole(sender=f"+52998000{index:04d}")).folio

    with ThreadPoolExecutor(max_workers=10) as pool:
        folios = list(pool.map(create, range(50)))

    assert len(set(folios)) == 50
    assert all(has_valid_check_digit(folio) for folio in folios)
    with session_scope() as session:
        stored = session.execute(select(Case.folio)).scalars().all()
    assert sorted(stored) == sorted(folios)
