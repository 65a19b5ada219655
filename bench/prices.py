"""Unit prices, us-east-1 (US East, N. Virginia), in US dollars.

Public list prices as published on the AWS pricing pages below, after each service's free tier
(not deducted here: the figures are the marginal cost of a million more events). Taken from the
pages as they stood at PRICES_AS_OF, the date of the most recent change among them (the DynamoDB
on-demand price cut of 2024-11-01); re-check the pages before quoting the totals.
"""

from __future__ import annotations

PRICES_AS_OF = "2024-11-01"
REGION = "us-east-1"

# https://aws.amazon.com/dynamodb/pricing/on-demand/ (table class Standard)
# A write request unit writes 1 KB (a transactional write takes 2); a read request unit reads 4 KB
# strongly consistent (an eventually consistent read takes half of one).
DYNAMODB_WRITE_REQUEST_UNIT = 0.625 / 1_000_000
DYNAMODB_READ_REQUEST_UNIT = 0.125 / 1_000_000

# https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-seconds a month)
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000

# https://aws.amazon.com/sqs/pricing/ (standard queue; every 64 KB chunk of a payload is one request)
SQS_REQUEST = 0.40 / 1_000_000

# https://aws.amazon.com/sns/pricing/ (standard topic; every 64 KB chunk of a publish is one request).
# SES publishes each event to the topic (one publish); deliveries from SNS to SQS are not charged.
SNS_PUBLISH = 0.50 / 1_000_000
SNS_DELIVERY_TO_SQS = 0.0

# Lambda allocates CPU in proportion to memory: 1,769 MB is one full vCPU
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
LAMBDA_MB_PER_VCPU = 1769
