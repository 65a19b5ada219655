"""The sender's throughput as context values (docs/deploy.md, "Context values"): concurrency, job
size, SES calls in flight and an optional rate cap; read by infra.settings."""

from __future__ import annotations

from dataclasses import dataclass

from tracker import constants as c

SQS_MAX_CONCURRENCY = (2, 1000)  # as in infra.settings: an SQS event source's maximum concurrency


def within(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise _error(f"{name} must be between {low} and {high}, not {value}")


# A send job's recipients at most (tracker.domain.messages.MAX_JOB_RECIPIENTS), SES calls in flight
# per sender invocation, and the seconds of one invocation a job may use at the sender's share of
# the rate (its 30 s timeout less the margin it keeps for the last outcome writes).
SEND_JOB_SIZE = (1, 100)
SEND_PARALLEL_CALLS = (1, c.MAX_SEND_PARALLEL_CALLS)
SEND_JOB_SECONDS = 20


@dataclass(frozen=True)
class SenderTuning:
    """The sender's throughput (defaults: tracker/constants.py, where the bench reads them):
    concurrent invocations (the send queue's maximum concurrency), each pacing itself to
    ``rate / max_concurrency`` (tracker.logic.pacing); recipients per job; SES calls in flight per
    invocation; and ``send_rate``, a cap below the account's SES rate (None: the account's rate,
    read with GetAccount)."""

    max_concurrency: int = c.DEFAULT_SENDER_CONCURRENCY
    job_size: int = c.DEFAULT_SEND_JOB_SIZE
    parallel_calls: int = c.DEFAULT_SEND_PARALLEL_CALLS
    send_rate: float | None = None

    def __post_init__(self) -> None:
        within(c.CONTEXT_SENDER_MAX_CONCURRENCY, self.max_concurrency, SQS_MAX_CONCURRENCY)
        within(c.CONTEXT_SEND_JOB_SIZE, self.job_size, SEND_JOB_SIZE)
        within(c.CONTEXT_SEND_PARALLEL_CALLS, self.parallel_calls, SEND_PARALLEL_CALLS)
        if self.send_rate is None:
            return
        if not self.send_rate > 0:
            raise _error(f"{c.CONTEXT_SEND_RATE} must be above 0 sends per second, not {self.send_rate}")
        # One job per invocation: at its share of the rate a job must fit the invocation, or its
        # tail would wait for redeliveries (each one a receive towards the DLQ).
        fits = self.send_rate / self.max_concurrency * SEND_JOB_SECONDS
        if self.job_size > fits:
            raise _error(
                f"{c.CONTEXT_SEND_JOB_SIZE} ({self.job_size}) is more than a sender sends in "
                f"{SEND_JOB_SECONDS} s at {c.CONTEXT_SEND_RATE} / {c.CONTEXT_SENDER_MAX_CONCURRENCY} "
                f"({self.send_rate:g} / {self.max_concurrency}): at most {int(fits)}"
            )

    @property
    def job_environment(self) -> dict[str, str]:
        """What the send API needs to cut a message into jobs (tracker.settings.SendSettings)."""
        return {c.ENV_SEND_CHUNK_SIZE: str(self.job_size)}

    @property
    def environment(self) -> dict[str, str]:
        """The sender's pacing variables (tracker.settings.SendSettings)."""
        env = {
            c.ENV_SENDER_CONCURRENCY: str(self.max_concurrency),
            c.ENV_SEND_PARALLEL_CALLS: str(self.parallel_calls),
        }
        if self.send_rate is not None:
            env[c.ENV_SEND_RATE] = f"{self.send_rate:g}"
        return env


def _error(message: str) -> ValueError:
    # infra.settings imports this module: its error class is looked up when one is raised.
    from infra.settings import SettingsError

    return SettingsError(message)
