"""What every DynamoDB adapter shares: turning SDK failures into the domain's errors, reading a
transaction's cancellation reasons, and running independent requests concurrently."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from tracker.domain.errors import TransientStoreError

_T = TypeVar("_T")
_R = TypeVar("_R")

CONDITION_FAILED = "ConditionalCheckFailedException"
# How a TransactWriteItems cancellation names an item whose condition did not hold.
CANCELLED_BY_CONDITION = "ConditionalCheckFailed"
DEFAULT_WORKERS = 8


@contextmanager
def store_errors(action: str) -> Iterator[None]:
    """Turn SDK failures into the domain's transient error (PynamoDB already retried throttling)."""
    try:
        yield
    except PynamoDBException as error:
        raise TransientStoreError(f"{action}: {error}") from error


def is_condition_failure(error: PynamoDBException) -> bool:
    """A single-item write refused because its condition (a version, an existence check) failed."""
    return error.cause_response_code == CONDITION_FAILED


# Refusals no retry can change: an item or key over DynamoDB's limits, a value it cannot store.
PERMANENT_CODES = frozenset({"ValidationException", "ItemCollectionSizeLimitExceededException"})
CANCELLED_BY_VALIDATION = "ValidationError"


def is_permanent(error: PynamoDBException) -> bool:
    if error.cause_response_code in PERMANENT_CODES:
        return True
    reasons = getattr(error, "cancellation_reasons", None) or []
    return any(reason is not None and reason.code == CANCELLED_BY_VALIDATION for reason in reasons)


def failed_conditions(error: TransactWriteError) -> list[int]:
    """Positions (in request order) of the transaction's items whose condition failed."""
    reasons = error.cancellation_reasons or []
    return [
        index
        for index, reason in enumerate(reasons)
        if reason is not None and reason.code == CANCELLED_BY_CONDITION
    ]


def parallel(func: Callable[[_T], _R], items: Sequence[_T], workers: int = DEFAULT_WORKERS) -> list[_R]:
    """``func`` over ``items`` from a small thread pool (results in order; the first failure is
    raised once every call has finished). One item runs inline: no pool for nothing."""
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(func, items))
