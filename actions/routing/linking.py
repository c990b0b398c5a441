"""Finding an open report of the same problem near a new one.

A new report joins an open case of the same category created in the last
days when both name the same street (and the same zone, when both name
one), or when both have a shared location within a distance. Staff then see
them together: every linked case points at the earliest one.
"""

import math
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import Session

from actions.db.models import OPEN_STATUSES, Case

EARTH_RADIUS_METERS = 6_371_000
METERS_PER_DEGREE_OF_LATITUDE = 111_320


def distance_meters(
    latitude_a: float, longitude_a: float, latitude_b: float, longitude_b: float
) -> float:
    """Return the great-circle distance between two points, in meters."""
    phi_a, phi_b = math.radians(latitude_a), math.radians(latitude_b)
    delta_phi = phi_b - phi_a
    delta_lambda = math.radians(longitude_b - longitude_a)
    haversine = (
        math.sin(delta_phi / 2) ** 2
        + math.cos(phi_a) * math.cos(phi_b) * math.sin(delta_lambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_METERS * math.asin(math.sqrt(haversine))


def find_nearby_open_case(
    session: Session,
    category: str,
    since: datetime,
    max_distance_meters: float,
    street: Optional[str] = None,
    area: Optional[str] = None,
    latitude: Optional[float] = None,
    longitude: Optional[float] = None,
) -> Optional[Case]:
    """Return the earliest open case of a category near a place, or None.

    Args:
        session: An open session of the case store.
        category: The category both cases must have.
        since: Only cases created at or after this time count.
        max_distance_meters: How far apart two shared locations may be.
        street: The new report's street key (`actions.routing.areas`).
        area: The new report's zone key; a case in another zone on the same
            street does not count, because long avenues cross many zones.
        latitude, longitude: The new report's shared location, if any.

    Returns:
        The case the new one should point at: the match itself, or the case
        the match already points at.
    """
    has_point = latitude is not None and longitude is not None
    if street is None and not has_point:
        return None

    nearby = []
    if street is not None:
        same_zone = or_(Case.area.is_(None), Case.area == area) if area else true()
        nearby.append(and_(Case.street == street, same_zone))
    if has_point:
        # A box around the point narrows the rows; the exact distance is
        # checked below.
        delta_latitude = max_distance_meters / METERS_PER_DEGREE_OF_LATITUDE
        delta_longitude = delta_latitude / max(math.cos(math.radians(latitude)), 0.01)
        nearby.append(
            and_(
                Case.latitude.between(
                    latitude - delta_latitude, latitude + delta_latitude
                ),
                Case.longitude.between(
                    longitude - delta_longitude, longitude + delta_longitude
                ),
            )
        )
    statement = (
        select(Case)
        .where(
            Case.category == category,
            Case.status.in_(OPEN_STATUSES),
            Case.created_at >= since,
            or_(*nearby),
        )
        .order_by(Case.id)
    )

    for candidate in session.execute(statement).scalars():
        if _is_near(candidate, street, area, latitude, longitude, max_distance_meters):
            return _earliest(session, candidate)
    return None


def _is_near(
    candidate: Case,
    street: Optional[str],
    area: Optional[str],
    latitude: Optional[float],
    longitude: Optional[float],
    max_distance_meters: float,
) -> bool:
    if street is not None and candidate.street == street:
        if area is None or candidate.area is None or candidate.area == area:
            return True
    if None in (latitude, longitude, candidate.latitude, candidate.longitude):
        return False
    distance = distance_meters(
        latitude, longitude, candidate.latitude, candidate.longitude
    )
    return distance <= max_distance_meters


def _earliest(session: Session, case: Case) -> Case:
    """Return the case a linked case points at, so links never chain."""
    if case.linked_case_id is None:
        return case
    return session.get(Case, case.linked_case_id) or case


def window_start(now: datetime, days: int) -> datetime:
    """Return the earliest creation time a case may have to be linked to."""
    return now - timedelta(days=days)
