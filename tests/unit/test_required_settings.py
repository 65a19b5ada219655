"""A function deployed without a variable it needs fails at cold start, naming the variable; outside
Lambda (local mode, tests) the defaults stand in."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tracker import constants
from tracker.settings import AppleRangesSettings, SettingError, Settings, require_environment

ROOT = Path(__file__).resolve().parents[2]

DEPLOYED = {
    constants.ENV_TABLE_NAME: "tracker-table",
    constants.ENV_CONFIGURATION_SET: "tracker-set",
    constants.ENV_SENDER_ADDRESS: "billing@studio.example",
    constants.ENV_SEND_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/send",
    constants.ENV_CURSOR_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor",
    constants.ENV_UNTRACKED_CONFIGURATION_SET: "tracker-set-untracked",
    constants.ENV_UNSUBSCRIBE_BASE_URL: "https://api.example/prod/",
    constants.ENV_UNSUBSCRIBE_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe",
    constants.ENV_APPLE_RANGES_BUCKET: "tracker-reference-data",
    constants.ENV_APPLE_RANGES_KEY: constants.APPLE_RANGES_KEY,
}
NEEDS = {
    "tracker.handlers.ingest": [constants.ENV_TABLE_NAME],
    "tracker.handlers.sender": [
        constants.ENV_TABLE_NAME,
        constants.ENV_CONFIGURATION_SET,
        constants.ENV_UNTRACKED_CONFIGURATION_SET,
        constants.ENV_SENDER_ADDRESS,
        constants.ENV_UNSUBSCRIBE_BASE_URL,
        constants.ENV_UNSUBSCRIBE_SECRET_ARN,
    ],
    "tracker.handlers.api": [
        constants.ENV_TABLE_NAME,
        constants.ENV_SEND_QUEUE_URL,
        constants.ENV_CURSOR_SECRET_ARN,
    ],
    "tracker.handlers.read_api": [constants.ENV_TABLE_NAME, constants.ENV_CURSOR_SECRET_ARN],
    "tracker.handlers.send_api": [
        constants.ENV_TABLE_NAME,
        constants.ENV_SEND_QUEUE_URL,
        constants.ENV_CURSOR_SECRET_ARN,
        constants.ENV_UNSUBSCRIBE_SECRET_ARN,
    ],
    "tracker.handlers.apple_ranges": [constants.ENV_APPLE_RANGES_BUCKET, constants.ENV_APPLE_RANGES_KEY],
}


def cold_start(module: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import the handler module as Lambda's init phase does, in a fresh interpreter."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DEPLOYED and key not in {constants.ENV_CURSOR_SECRET, constants.ENV_UNSUBSCRIBE_SECRET}
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT / "functions"),
            "AWS_LAMBDA_FUNCTION_NAME": "tracker-function",
            "AWS_REGION": "us-east-1",
            **environment,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=str(ROOT),
    )


@pytest.mark.parametrize(
    ("module", "missing"), [(module, name) for module, names in NEEDS.items() for name in names]
)
def test_a_function_without_a_variable_it_needs_fails_at_cold_start_naming_it(
    module: str, missing: str
) -> None:
    environment = {name: value for name, value in DEPLOYED.items() if name != missing}
    result = cold_start(module, environment)
    assert result.returncode != 0
    assert "SettingError" in result.stderr
    assert missing in result.stderr


@pytest.mark.parametrize("module", sorted(NEEDS))
def test_a_function_with_its_variables_starts(module: str) -> None:
    result = cold_start(module, DEPLOYED)
    assert result.returncode == 0, result.stderr


def test_the_api_may_sign_cursors_with_a_plain_secret_instead_of_the_secrets_manager_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "tracker-api")
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(constants.ENV_CURSOR_SECRET_ARN)
    with pytest.raises(SettingError, match=constants.ENV_CURSOR_SECRET_ARN):
        require_environment("api")
    monkeypatch.setenv(constants.ENV_CURSOR_SECRET, "a-local-secret-of-enough-length")
    require_environment("api")


def test_outside_lambda_the_defaults_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv(constants.ENV_TABLE_NAME, raising=False)
    require_environment("sender")
    assert Settings.from_env().table_name == constants.TABLE_NAME
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "tracker-ingest")
    with pytest.raises(SettingError, match=constants.ENV_TABLE_NAME):
        Settings.from_env()


def test_a_number_that_is_not_one_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(constants.ENV_RECIPIENT_RETENTION_DAYS, "a year")
    with pytest.raises(SettingError, match=constants.ENV_RECIPIENT_RETENTION_DAYS):
        Settings.from_env()


def test_engagement_thresholds_come_from_the_environment_and_a_bad_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS", "12")
    assert Settings.from_env().engagement_rules.click_after_delivery_seconds == 12
    monkeypatch.setenv("ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS", "soon")
    with pytest.raises(SettingError, match="ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS"):
        Settings.from_env()


def test_apple_ranges_settings_default_to_the_snapshot_and_name_a_bad_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (constants.ENV_APPLE_RANGES_BUCKET, constants.ENV_APPLE_RANGES_URL):
        monkeypatch.delenv(name, raising=False)
    local = AppleRangesSettings.from_env()
    assert local.bucket is None  # local mode and tests: the shipped snapshot
    assert (local.key, local.url) == (constants.APPLE_RANGES_KEY, constants.APPLE_RANGES_URL)
    monkeypatch.setenv(constants.ENV_APPLE_RANGES_BUCKET, "tracker-reference-data")
    monkeypatch.setenv(constants.ENV_APPLE_RANGES_MIN_PREFIXES, "250000")
    monkeypatch.setenv(constants.ENV_APPLE_RANGES_RELOAD_HOURS, "2")
    deployed = AppleRangesSettings.from_env()
    assert (deployed.bucket, deployed.min_prefixes, deployed.reload_after) == (
        "tracker-reference-data",
        250_000,
        timedelta(hours=2),
    )
    for name, value in (
        (constants.ENV_APPLE_RANGES_MIN_PREFIXES, "0"),
        (constants.ENV_APPLE_RANGES_MAX_BYTES, "lots"),
        (constants.ENV_APPLE_RANGES_URL, "http://mask-api.icloud.com/egress-ip-ranges.csv"),
    ):
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            with pytest.raises(SettingError, match=name):
                AppleRangesSettings.from_env()
