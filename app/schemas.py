"""The public contract of the v1 HTTP API: the models of the ``claimsift_client`` package, re-exported.

They are defined once, in ``clients/python`` (the client package the server ships with), so the service
and its Python client read and write the same classes.
"""

from claimsift_client.models import (
    Block,
    BlockResult,
    ClassifyOptions,
    ClassifyRequest,
    ClassifyResponse,
    ClassifyResult,
    ErrorDetail,
    ErrorResponse,
    ExtractRequest,
    ExtractResponse,
    InContext,
    LabelSource,
    LabelSpec,
    LabelsResponse,
    ModelInfo,
    QuoteLevel,
    Scored,
    SentenceResult,
    SentenceRole,
    SkippedSentence,
    SpeakerSpan,
)

__all__ = [
    "Block",
    "BlockResult",
    "ClassifyOptions",
    "ClassifyRequest",
    "ClassifyResponse",
    "ClassifyResult",
    "ErrorDetail",
    "ErrorResponse",
    "ExtractRequest",
    "ExtractResponse",
    "InContext",
    "LabelSource",
    "LabelSpec",
    "LabelsResponse",
    "ModelInfo",
    "QuoteLevel",
    "Scored",
    "SentenceResult",
    "SentenceRole",
    "SkippedSentence",
    "SpeakerSpan",
]
