"""The public contract: request and response models of the v1 HTTP API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

LabelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelSpec(Strict):
    """A label and the words that describe it; the description is what the classifier compares against."""

    name: LabelName
    description: Description


class ClassifyOptions(Strict):
    labels: list[LabelSpec] | None = Field(
        None,
        description="A custom label set (zero-shot). Omit it for fact / assessment / prescription.",
    )
    multi_label: bool = Field(
        False, description="Score each label on its own (0..1) instead of a distribution over labels."
    )
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Score the top label needs; below it the sentence is `uncertain`. "
        "Defaults to CLAIMSIFT_THRESHOLD.",
    )

    @field_validator("labels")
    @classmethod
    def _labels_well_formed(cls, labels: list[LabelSpec] | None) -> list[LabelSpec] | None:
        if labels is None:
            return None
        if not labels:
            raise ValueError("labels must not be empty; omit the field to use the default labels")
        names = [label.name for label in labels]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate label names: {', '.join(duplicates)}")
        return labels


class ExtractRequest(ClassifyOptions):
    text: str = Field(description="The article text; split into sentences and each one labelled.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "The council voted 7-2 on Monday. The decision was a mistake."}]
        },
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is empty or contains only whitespace")
        return text


class ClassifyRequest(ClassifyOptions):
    sentences: list[str] = Field(min_length=1, description="Sentences to label, returned in input order.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sentences": ["The mayor said the plan would fail."]}]},
    )

    @field_validator("sentences")
    @classmethod
    def _sentences_not_blank(cls, sentences: list[str]) -> list[str]:
        blank = [i for i, sentence in enumerate(sentences) if not sentence.strip()]
        if blank:
            raise ValueError(f"sentences at positions {blank[:10]} are empty or contain only whitespace")
        return sentences


class ModelInfo(BaseModel):
    name: str = Field(description="The model that labelled the sentences.")
    backend: str = Field(description="`embedding` or `nli`.")
    version: str = Field(description="Changes whenever the weights or the default label set change.")


class Scored(BaseModel):
    label: str = Field(description="The best-scoring label.")
    confidence: float = Field(description="The score of `label`, 0..1.")
    scores: dict[str, float] = Field(description="Score of every label in the set, 0..1.")
    uncertain: bool = Field(description="True when the top score is below the threshold.")


class SentenceResult(Scored):
    index: int = Field(description="Position of the sentence in the document, from 0.")
    text: str = Field(description="Exactly `input[start:end]`.")
    start: int = Field(description="Code-point offset of the first character.")
    end: int = Field(description="Code-point offset one past the last character.")


class ClassifyResult(Scored):
    text: str


class ExtractResponse(BaseModel):
    model: ModelInfo
    labels: list[str]
    sentences: list[SentenceResult]
    counts: dict[str, int] = Field(description="Sentences per label (every label present, zero included).")
    truncated: bool = Field(description="True if any sentence was cut to the model's token window.")
    elapsed_ms: float


class ClassifyResponse(BaseModel):
    model: ModelInfo
    labels: list[str]
    results: list[ClassifyResult]
    truncated: bool = Field(description="True if any sentence was cut to the model's token window.")


class LabelsResponse(BaseModel):
    model: ModelInfo
    labels: list[LabelSpec]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail
