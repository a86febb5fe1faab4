"""The public contract: request and response models of the v1 HTTP API.

The one definition of the API's JSON: the service validates requests and writes responses with these
classes (``app.schemas`` re-exports them) and the client parses answers into them, so the two sides can
never disagree. Only pydantic is imported here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

LabelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ExampleText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
MAX_EXAMPLES = 16  # per label: enough for a head, few enough to embed once per label set


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogates(cls, data: Any) -> Any:
        # JSON can spell a lone surrogate ("\ud800"): not a character, and no tokenizer or encoder takes it.
        if _has_lone_surrogate(data):
            raise ValueError("a string holds a lone UTF-16 surrogate (such as \\ud800), which is not text")
        return data


def _has_lone_surrogate(data: Any) -> bool:
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(data, dict):
        return any(_has_lone_surrogate(value) for value in data.values())
    if isinstance(data, list):
        return any(_has_lone_surrogate(item) for item in data)
    return False


class LabelSpec(Strict):
    """A label, the words that describe it and, optionally, sentences that carry it."""

    name: LabelName
    description: Description
    examples: list[ExampleText] | None = Field(
        None,
        max_length=MAX_EXAMPLES,
        description=f"Up to {MAX_EXAMPLES} example sentences of this label (custom label sets only); "
        "sentences are then scored by a head fitted on the examples, which is much more accurate than "
        "the description alone.",
    )


class ClassifyOptions(Strict):
    labels: list[LabelSpec] | None = Field(
        None,
        description="A custom label set (described in words, optionally with examples). Omit it for "
        "fact / assessment / prescription. One label asks whether it applies (scored as multi_label).",
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
    context: bool = Field(
        True,
        description="Read each sentence in its context: a sentence wholly inside a quotation is attributed "
        "speech and labelled `fact` (`label_source: quotation`, the model's own scores kept). `false` labels "
        "every sentence alone, by the model.",
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


class Block(Strict):
    """One editor block (a paragraph, heading, list item); an empty `text` gives zero sentences."""

    id: str = Field(
        min_length=1, max_length=256, description="Your id for the block, unique in the request; echoed back."
    )
    text: str = Field(
        description="The block's text (an HTML fragment when `format` is `html`); may be empty."
    )

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, block_id: str) -> str:
        if not block_id.strip():
            raise ValueError("block id is empty or contains only whitespace")
        return block_id


class ExtractRequest(ClassifyOptions):
    text: str | None = Field(
        None,
        description="The article text (HTML when `format` is `html`); split into sentences and each one "
        "labelled. Give exactly one of `text` or `blocks`.",
    )
    blocks: list[Block] | None = Field(
        None,
        min_length=1,
        description="Editor blocks instead of `text`: results come back per block, offsets relative to "
        "each block's text.",
    )
    format: Literal["text", "html"] = Field(
        "text", description="`html`: extract the text of an HTML page or fragment first (docs/api.md)."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "The council voted 7-2 on Monday. The decision was a mistake."},
                {
                    "format": "html",
                    "text": "<article><h1>Bridge closes</h1><p>The council voted.</p></article>",
                },
                {"blocks": [{"id": "b1", "text": "The council voted."}, {"id": "b2", "text": ""}]},
            ]
        },
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, text: str | None) -> str | None:
        if text is not None and not text.strip():
            raise ValueError("text is empty or contains only whitespace")
        return text

    @field_validator("blocks")
    @classmethod
    def _blocks_well_formed(cls, blocks: list[Block] | None) -> list[Block] | None:
        if blocks is None:
            return None
        ids = [block.id for block in blocks]
        duplicates = sorted({block_id for block_id in ids if ids.count(block_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate block ids: {', '.join(duplicates[:10])}")
        if not any(block.text.strip() for block in blocks):
            raise ValueError("every block is empty or contains only whitespace")
        return blocks

    @model_validator(mode="after")
    def _text_or_blocks(self) -> ExtractRequest:
        if self.text is not None and self.blocks is not None:
            raise ValueError("give exactly one of text or blocks, not both")
        if self.text is None and self.blocks is None:
            raise ValueError("give text or blocks")
        return self


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
    uncertain: bool = Field(
        description="True when the score of `label` is below the threshold (never with `label_source: "
        "quotation`)."
    )
    cached: bool = Field(
        False, description="True when the scores came from the sentence cache (the same text seen before)."
    )


SentenceRole = Literal["body", "headline", "caption", "byline", "dateline", "quote", "furniture"]
QuoteLevel = Literal["none", "partial", "full"]
LabelSource = Literal["model", "quotation"]


class SpeakerSpan(BaseModel):
    """Who is quoted, as the text names them; offsets like the sentence's (into the same text)."""

    text: str = Field(examples=["Secretary of State Antony Blinken"])
    start: int
    end: int
    start_utf16: int
    end_utf16: int


class InContext(BaseModel):
    quoted: QuoteLevel = Field(
        "none",
        description="`full`: every word of the sentence is inside a quotation (closed, continued into the "
        "next paragraph, or introduced by `X said:`); `partial`: some are; `none`.",
    )
    speaker: SpeakerSpan | None = Field(
        None,
        description="Who the quotation is attributed to, when this or a neighbouring sentence names them.",
    )
    label_source: LabelSource = Field(
        "model",
        description="`quotation`: the sentence is quoted speech, so `label` is `fact` by the label guide and "
        "`scores` are the model's own; `model`: the label is the model's best score.",
    )


class SentenceResult(InContext, Scored):
    index: int = Field(description="Position of the sentence in the document, from 0.")
    text: str = Field(description="Exactly `input[start:end]`.")
    start: int = Field(description="Code-point offset of the first character.")
    end: int = Field(description="Code-point offset one past the last character.")
    start_utf16: int = Field(description="`start` in UTF-16 code units (JavaScript string indices).")
    end_utf16: int = Field(description="`end` in UTF-16 code units (JavaScript string indices).")
    path: str | None = Field(
        None,
        description="`format` html: CSS selector of the block element the sentence came from; else null.",
        examples=["html>body>article>p:nth-of-type(3)"],
    )
    role: SentenceRole = Field(
        "body",
        description="What the sentence is on the page: `body`, `headline` (also decks and subheadings), "
        "`caption`, `byline`, `dateline` or `quote` (a pull quote). Furniture is never here: see `skipped`.",
    )


class SkippedSentence(BaseModel):
    """Page furniture (share and navigation lines, comment counters, lone dates): not labelled or counted."""

    text: str = Field(description="Exactly `input[start:end]`.")
    start: int
    end: int
    start_utf16: int
    end_utf16: int
    path: str | None = None
    role: SentenceRole = "furniture"


class ClassifyResult(InContext, Scored):
    text: str


class BlockResult(BaseModel):
    id: str = Field(description="The block's id from the request.")
    extracted_text: str | None = Field(
        None, description="`format` html: the block's extracted text the offsets point into; else null."
    )
    sentences: list[SentenceResult] = Field(description="Offsets relative to this block's text.")
    counts: dict[str, int] = Field(description="Sentences per label in this block.")
    skipped: list[SkippedSentence] = Field(
        default_factory=list, description="Page furniture of this block, not labelled (offsets as above)."
    )


class ExtractResponse(BaseModel):
    model: ModelInfo
    labels: list[str]
    sentences: list[SentenceResult]
    counts: dict[str, int] = Field(description="Sentences per label (every label present, zero included).")
    truncated: bool = Field(description="True if any sentence was cut to the model's token window.")
    cached_sentences: int = Field(0, description="How many sentences were answered from the cache.")
    elapsed_ms: float
    extracted_text: str | None = Field(
        None, description="`format` html with `text`: the text the offsets point into; else null."
    )
    blocks: list[BlockResult] | None = Field(
        None,
        description="A `blocks` request: one result per block, in request order (top-level `sentences` "
        "is then empty and `counts` totals all blocks); else null.",
    )
    skipped: list[SkippedSentence] = Field(
        default_factory=list,
        description="Page furniture found among the sentences (share and navigation lines, comment counters, "
        "lone dates): not labelled, not in `sentences` or `counts`; same offsets as `sentences`.",
    )


class ClassifyResponse(BaseModel):
    model: ModelInfo
    labels: list[str]
    results: list[ClassifyResult]
    truncated: bool = Field(description="True if any sentence was cut to the model's token window.")
    cached_sentences: int = Field(0, description="How many sentences were answered from the cache.")


class LabelsResponse(BaseModel):
    model: ModelInfo
    labels: list[LabelSpec]


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str | None = Field(None, description="The request's X-Request-ID; quote it in reports.")


class ErrorResponse(BaseModel):
    error: ErrorDetail
