"""The naive baseline: the same default model in plain PyTorch, one sentence at a time, no batching or cache.

It is what a first FastAPI endpoint looks like: a sync route (FastAPI runs it on its thread pool) that
segments the text the same way and calls the model once per sentence.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from app.model.loader import load_backend
from app.model.types import Backend, predict_texts
from app.settings import Settings
from app.text.segment import split_sentences


class Article(BaseModel):
    text: str


def create_baseline() -> FastAPI:
    loaded: dict[str, Backend] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded["backend"] = load_backend(Settings(runtime="torch"))
        yield

    app = FastAPI(title="claimsift naive baseline", lifespan=lifespan)

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/extract")
    def extract(article: Article) -> dict[str, list[dict[str, object]]]:
        backend = loaded["backend"]
        labels = backend.default_labels
        sentences: list[dict[str, object]] = []
        for span in split_sentences(article.text):
            [prediction] = predict_texts(backend, [span.text], labels, False)
            best = max(range(len(labels.names)), key=prediction.scores.__getitem__)
            sentences.append({"text": span.text, "label": labels.names[best]})
        return {"sentences": sentences}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_baseline(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
