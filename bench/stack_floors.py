"""What the libraries a handler is built on cost to import, before any code of ours.

Each floor is a program of its own that the cold-start part measures like a handler, so the
import goal can be read against what it cannot go under: the API functions must load pydantic
(our rule: pydantic at the API boundary) and Powertools' REST resolver with its validation (which
is built on pydantic) however little of their own code they import. Floors are printed, not
judged.
"""

from __future__ import annotations

FLOOR_PREFIX = "floor: "

# What every handler loads: boto3 through PynamoDB (one model), Powertools' Logger and Metrics.
_COMMON = """
import boto3
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model
from aws_lambda_powertools import Logger, Metrics

class Item(Model):
    class Meta:
        table_name = "floor"
        region = "us-east-1"
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)

logger, metrics = Logger(), Metrics()
"""

# The API's boundary: one pydantic body model with two constrained fields.
_PYDANTIC = """
from pydantic import BaseModel, Field

class Body(BaseModel):
    name: str = Field(max_length=10)
    count: int = Field(ge=0)
"""

# Powertools' REST resolver with request validation and one validated route.
_RESOLVER = """
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True)

@app.post("/items")
def create(body: Body) -> Body:
    return body
"""


def _as_a_handler_loads(program: str) -> str:
    # What tracker.handlers does in Lambda: no collection while the module loads, then freeze.
    return "import gc\ngc.disable()\n" + program + "\ngc.freeze()\ngc.enable()\n"


FLOORS: dict[str, str] = {
    FLOOR_PREFIX + label: _as_a_handler_loads(program)
    for label, program in (
        ("boto3, PynamoDB, Powertools Logger and Metrics", _COMMON),
        ("+ a pydantic body model", _COMMON + _PYDANTIC),
        ("+ Powertools REST resolver, validation on", _COMMON + _PYDANTIC + _RESOLVER),
    )
}


def is_floor(label: str) -> bool:
    return label.startswith(FLOOR_PREFIX)
