"""Python client for the claimsift HTTP API: sync and async, typed results, retries with backoff.

    from claimsift_client import ClaimsiftClient

    with ClaimsiftClient("http://127.0.0.1:8000", api_key="...") as claims:
        result = claims.extract("The council voted 7-2. The decision was a mistake.")
        for sentence in result.sentences:
            print(sentence.label, sentence.text)

``AsyncClaimsiftClient`` has the same methods as coroutines. Results are the pydantic models of
``claimsift_client.models``, the same classes the service answers with. Needs only httpx and pydantic.
"""

from claimsift_client._version import __version__
from claimsift_client.client import AsyncClaimsiftClient, ClaimsiftClient, Format
from claimsift_client.errors import (
    APIError,
    AuthenticationError,
    ClientError,
    ConnectionFailed,
    InvalidRequest,
    ResponseError,
    ServerError,
    ServiceBusy,
)
from claimsift_client.models import (
    Block,
    BlockResult,
    ClassifyResponse,
    ClassifyResult,
    ExtractResponse,
    LabelSpec,
    LabelsResponse,
    ModelInfo,
    SentenceResult,
    SkippedSentence,
    SpeakerSpan,
)
from claimsift_client.retry import RetryPolicy, retry_after_seconds

__all__ = [
    "APIError",
    "AsyncClaimsiftClient",
    "AuthenticationError",
    "Block",
    "BlockResult",
    "ClaimsiftClient",
    "ClassifyResponse",
    "ClassifyResult",
    "ClientError",
    "ConnectionFailed",
    "ExtractResponse",
    "Format",
    "InvalidRequest",
    "LabelSpec",
    "LabelsResponse",
    "ModelInfo",
    "ResponseError",
    "RetryPolicy",
    "SentenceResult",
    "ServerError",
    "ServiceBusy",
    "SkippedSentence",
    "SpeakerSpan",
    "__version__",
    "retry_after_seconds",
]
