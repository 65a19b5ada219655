"""Where the sender's rate comes from (SES GetAccount, cached, or an override) and local mode's SES
throttling above its rate, as the sender's SES adapter sees it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.ses_simulator import SendRateLimiter, SimulatedSes
from tracker.dal.outbound import SesMailer, SesSendRate
from tracker.domain.errors import SendThrottledError
from tracker.domain.messages import MessageContent, OutgoingMail


class AccountClient:
    def __init__(self, rates: list[float | Exception]) -> None:
        self._rates = rates
        self.asked = 0

    def get_account(self) -> dict[str, Any]:
        self.asked += 1
        answer = self._rates.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"SendQuota": {"MaxSendRate": answer, "Max24HourSend": 50_000.0}}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def denied() -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetAccount")


def test_the_accounts_rate_is_asked_once_then_again_after_the_refresh() -> None:
    clock = Clock()
    client = AccountClient([14.0, 200.0])
    rate = SesSendRate(client, refresh_seconds=600, clock=clock)  # type: ignore[arg-type]
    assert [rate.max_send_rate() for _ in range(50)] == [14.0] * 50
    assert client.asked == 1
    clock.now += 601  # the quota was raised meanwhile
    assert rate.max_send_rate() == 200.0
    assert client.asked == 2


def test_an_override_never_asks_ses() -> None:
    client = AccountClient([])
    assert SesSendRate(client, 25.0).max_send_rate() == 25.0  # type: ignore[arg-type]
    assert client.asked == 0


def test_when_ses_cannot_be_asked_the_sender_goes_slow_and_asks_again_soon() -> None:
    clock = Clock()
    client = AccountClient([denied(), 0.0, 14.0])
    rate = SesSendRate(client, retry_seconds=60, fallback=1.0, clock=clock)  # type: ignore[arg-type]
    assert rate.max_send_rate() == 1.0
    assert rate.max_send_rate() == 1.0
    assert client.asked == 1
    clock.now += 61
    assert rate.max_send_rate() == 1.0, "no MaxSendRate in the answer: still the fallback"
    clock.now += 61
    assert rate.max_send_rate() == 14.0


class AcceptingClient:
    """moto's SES v2 as the simulator wraps it: accepts every send."""

    def __init__(self) -> None:
        self.sent = 0

    def send_email(self, **_kwargs: Any) -> dict[str, Any]:
        self.sent += 1
        return {"MessageId": f"m-{self.sent}"}


def mail(i: int) -> OutgoingMail:
    return OutgoingMail(to=f"p{i}@example.com", name=None, content=MessageContent("Hi", text="x"), tags={})


def test_the_local_ses_throttles_above_its_rate_like_ses_and_answers_it_in_get_account() -> None:
    client = AcceptingClient()
    ses = SimulatedSes(client, publish=lambda _batch: None, max_send_rate=3.0)
    assert ses.get_account()["SendQuota"]["MaxSendRate"] == 3.0
    ses.limiter = SendRateLimiter(3.0, clock=lambda: 0.0)  # time stands still
    mailer = SesMailer(ses, "noreply@example.com", "delivery-tracker")  # type: ignore[arg-type]
    # Far more than 3 sends at once: the bucket holds one second's worth, the rest is refused.
    outcomes: list[str] = []
    for i in range(10):
        try:
            mailer.send(mail(i))
            outcomes.append("sent")
        except SendThrottledError as error:
            outcomes.append(error.reason)
    assert outcomes == ["sent"] * 3 + ["TooManyRequestsException: Maximum sending rate exceeded."] * 7
    assert client.sent == 3, "a refused send never reaches the backend"
    assert ses.throttled == 7


def test_local_rate_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from local.wiring import LOCAL_SES_MAX_SEND_RATE, local_send_rate

    monkeypatch.setenv(LOCAL_SES_MAX_SEND_RATE, "7.5")
    assert local_send_rate() == 7.5
    monkeypatch.setenv(LOCAL_SES_MAX_SEND_RATE, "0")
    with pytest.raises(ValueError, match="above 0"):
        local_send_rate()
