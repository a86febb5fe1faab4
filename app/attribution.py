"""The label guide's rule for quoted speech, applied on top of the model's answer.

By the guide, a sentence inside a quotation is a fact about what was said, even when the attribution is
in a neighbouring sentence; alone, such a sentence reads as its words do (`“We must act now.”` as a
prescription). When the text layer finds a sentence wholly quoted, its label becomes `fact` with
`label_source: quotation`; the model's scores stay as they were, so a client can still see what the
sentence alone would have been. Only the default label set has a `fact` to give; custom label sets are
labelled by the model alone.
"""

from __future__ import annotations

from app.schemas import LabelSource, QuoteLevel, Scored, SpeakerSpan
from app.text.speakers import Speaker

FACT = "fact"


def attributed(
    scored: Scored, quoted: QuoteLevel, use_context: bool, default_labels: bool
) -> tuple[Scored, LabelSource]:
    """The shaped answer for a sentence, with the quotation rule applied where it holds."""
    if not (use_context and default_labels and quoted == "full" and FACT in scored.scores):
        return scored, "model"
    rule = scored.model_copy(update={"label": FACT, "confidence": scored.scores[FACT], "uncertain": False})
    return rule, "quotation"


def speaker_span(speaker: Speaker | None, utf16: tuple[int, int]) -> SpeakerSpan | None:
    """The response form of a speaker; ``utf16`` is its start and end in UTF-16 code units."""
    if speaker is None:
        return None
    return SpeakerSpan(
        text=speaker.text, start=speaker.start, end=speaker.end, start_utf16=utf16[0], end_utf16=utf16[1]
    )
