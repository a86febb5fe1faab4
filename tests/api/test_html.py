"""`"format": "html"` on /v1/extract: offsets into the extracted text, element paths, clear refusals."""

from __future__ import annotations

import html

import httpx
from selectolax.lexbor import LexborHTMLParser

from tests.api.test_blocks import js_slice
from tests.api.test_context import EXAMPLE_FURNITURE
from tests.api.test_errors import assert_error
from tests.conftest import shared_file

ARTICLE = """<!doctype html><html><head><title>Bridge</title>
<script>track("Do not classify me.")</script></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Bridge closes 😀 after vote</h1>
<p>The council voted 7-2 on <b>Monday</b>. The decision was a mistake.</p>
<p>The city should reopen the bridge.</p>
<aside>Read more: other stories.</aside></article>
<footer>Copyright Daily Paper.</footer></body></html>"""


async def test_html_sentences_point_into_the_extracted_text(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/extract", json={"text": ARTICLE, "format": "html"})
    assert response.status_code == 200, response.text
    body = response.json()
    extracted = body["extracted_text"]
    assert extracted == (
        "Bridge closes 😀 after vote\n\nThe council voted 7-2 on Monday. The decision was a mistake.\n\n"
        "The city should reopen the bridge."
    )
    assert [(s["text"], s["path"]) for s in body["sentences"]] == [
        ("Bridge closes 😀 after vote", "html>body>article>h1"),
        ("The council voted 7-2 on Monday.", "html>body>article>p:nth-of-type(1)"),
        ("The decision was a mistake.", "html>body>article>p:nth-of-type(1)"),
        ("The city should reopen the bridge.", "html>body>article>p:nth-of-type(2)"),
    ]
    for sentence in body["sentences"]:
        assert extracted[sentence["start"] : sentence["end"]] == sentence["text"]
        assert js_slice(extracted, sentence["start_utf16"], sentence["end_utf16"]) == sentence["text"]
    second = body["sentences"][1]
    assert second["start_utf16"] == second["start"] + 1  # the emoji in the headline counts twice
    assert sum(body["counts"].values()) == 4
    assert body["blocks"] is None


async def test_every_path_selects_the_element_holding_the_sentence(client: httpx.AsyncClient) -> None:
    body = (await client.post("/v1/extract", json={"text": ARTICLE, "format": "html"})).json()
    document = LexborHTMLParser(ARTICLE)
    for sentence in body["sentences"]:
        element = document.css_first(sentence["path"])
        assert element is not None
        assert sentence["text"] in " ".join(element.text().split())


async def test_plain_text_format_has_no_extracted_text_or_paths(client: httpx.AsyncClient) -> None:
    text = "<p>Angle brackets are text here.</p> <b>So is this.</b>"
    body = (await client.post("/v1/extract", json={"text": text})).json()
    assert body["extracted_text"] is None
    assert "".join(s["text"] for s in body["sentences"]).replace(" ", "") == text.replace(" ", "")
    assert all(s["path"] is None for s in body["sentences"])


async def test_the_example_article_as_html(client: httpx.AsyncClient) -> None:
    lines = shared_file("example_article.txt").read_text(encoding="utf-8").splitlines()
    page = "<html><body><nav>Menu</nav><article>{}</article></body></html>".format(
        "".join(f"<p>{html.escape(line)}</p>" for line in lines if line.strip())
    )
    response = await client.post("/v1/extract", json={"text": page, "format": "html"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["sentences"]) + len(body["skipped"]) >= 35
    assert [s["text"] for s in body["skipped"]] == list(EXAMPLE_FURNITURE)
    assert not any(s["text"] == "Menu" for s in body["sentences"])
    paths = [s["path"] for s in body["sentences"]]
    assert all(path.startswith("html>body>article>p") for path in paths)
    assert paths == sorted(paths, key=lambda path: int(path.rsplit("(", 1)[1].rstrip(")")))


async def test_html_blocks_carry_their_own_extracted_text(client: httpx.AsyncClient) -> None:
    blocks = [
        {"id": "p1", "text": "<p>The council <strong>voted</strong> on Monday.</p>"},
        {"id": "p2", "text": "<p><br></p>"},
        {"id": "list", "text": "<ul><li>One &amp; only.</li><li>Second item 😀 here.</li></ul>"},
    ]
    body = (await client.post("/v1/extract", json={"blocks": blocks, "format": "html"})).json()
    result = {block["id"]: block for block in body["blocks"]}
    assert result["p1"]["extracted_text"] == "The council voted on Monday."
    assert result["p2"]["extracted_text"] == "" and result["p2"]["sentences"] == []
    assert result["list"]["extracted_text"] == "One & only.\n\nSecond item 😀 here."
    assert [(s["path"], s["start_utf16"], s["end_utf16"]) for s in result["list"]["sentences"]] == [
        ("html>body>ul>li:nth-of-type(1)", 0, 11),
        ("html>body>ul>li:nth-of-type(2)", 13, 33),
    ]


async def test_deep_nesting_is_served_and_pathological_nesting_refused(client: httpx.AsyncClient) -> None:
    deep = "<div>" * 10_000 + "Deep sentence here." + "</div>" * 10_000
    response = await client.post("/v1/extract", json={"text": deep, "format": "html"})
    assert response.status_code == 200, response.text
    assert response.json()["sentences"][0]["text"] == "Deep sentence here."
    response = await client.post("/v1/extract", json={"text": "<div>" * 100_000, "format": "html"})
    assert_error(response, 422, "invalid_input", "nests elements more than")
    assert (await client.get("/healthz")).status_code == 200


async def test_html_without_readable_text_is_a_clear_422(client: httpx.AsyncClient) -> None:
    page = "<script>alert('x')</script><nav>Home</nav><style>p{}</style>"
    response = await client.post("/v1/extract", json={"text": page, "format": "html"})
    assert_error(response, 422, "invalid_input", "no text after dropping scripts")


async def test_the_character_limit_counts_extracted_text(client: httpx.AsyncClient) -> None:
    link = (
        "<p><a class='link link--inline' href='https://example.org/news/2026/11/item-{0}'>Item</a> {0}.</p>"
    )
    markup_heavy = "".join(link.format(i) for i in range(1_500))  # 140 kB of markup, 20 kB of text
    assert len(markup_heavy) > 100_000
    response = await client.post("/v1/extract", json={"text": markup_heavy, "format": "html"})
    assert response.status_code == 200, response.text
    text_heavy = "<p>" + "word " * 25_000 + "</p>"
    response = await client.post("/v1/extract", json={"text": text_heavy, "format": "html"})
    assert_error(response, 413, "payload_too_large", "characters of text; the limit is 100000")


async def test_openapi_documents_the_additions_with_examples(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    request = components["ExtractRequest"]
    assert {"text", "blocks", "format"} <= set(request["properties"])
    assert any("blocks" in example for example in request["examples"])
    assert any(example.get("format") == "html" for example in request["examples"])
    sentence = components["SentenceResult"]["properties"]
    assert {"start_utf16", "end_utf16", "path", "cached"} <= set(sentence)
    assert sentence["path"]["examples"]
    assert {"id", "sentences", "counts", "extracted_text"} <= set(components["BlockResult"]["properties"])
