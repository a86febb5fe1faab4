// claimsift's page: send the article to POST /v1/extract and show every sentence highlighted by label.
// Plain DOM only. Article text only ever reaches the page through textContent / text nodes, never as
// markup, so pasted HTML is shown, not run (the page's Content-Security-Policy is a second guard).
"use strict";

(function () {
  const SAMPLE =
    "The city council voted 7-2 on Monday to close the Elm Street bridge for repairs.\n" +
    "Engineers found cracks in two of its steel supports last month, according to a city report.\n\n" +
    "The closure is a sensible decision, if an overdue one. Commuters have put up with a crumbling " +
    "bridge for far too long.\n\n" +
    "The council should publish a date for reopening it before the summer, and it must keep the " +
    "detour open to cyclists.";
  // Distinct underline styles so labels differ by more than colour (with the initial in the superscript).
  const TONES = 6;

  const $ = (id) => document.getElementById(id);
  const form = $("analyse-form");
  const source = $("source");
  const apiKey = $("api-key");
  const analyse = $("analyse");
  const status = $("status");
  const errorBox = $("error");
  const results = $("results");
  const legend = $("legend");
  const meta = $("meta");
  const documentView = $("document");
  const tip = $("tip");

  let shown = []; // the sentences on the page, in order (a sentence node's data-index points here)
  let shownTones = {}; // label → colour and underline style number
  let pinned = null; // the sentence whose scores stay open after a click or Enter

  function slug(name) {
    return name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
  }

  function initial(name) {
    return Array.from(name.trim())[0].toUpperCase();
  }

  function percent(score) {
    return Math.round(score * 100) + "%";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Code-point offsets → UTF-16 (JavaScript string) offsets, for a service that sends only start/end.
  function utf16Offsets(text) {
    const offsets = [0];
    let units = 0;
    for (const char of text) {
      units += char.length;
      offsets.push(units);
    }
    return offsets;
  }

  // Where each sentence sits in `text`: the service's UTF-16 offsets when they match, else code-point
  // offsets converted, else a search from the previous sentence on; null when it is not in `text`.
  function locate(text, sentences) {
    let codePoints = null;
    let cursor = 0;
    return sentences.map((sentence) => {
      const candidates = [];
      if (Number.isInteger(sentence.start_utf16)) {
        candidates.push([sentence.start_utf16, sentence.end_utf16]);
      }
      if (Number.isInteger(sentence.start)) {
        codePoints = codePoints || utf16Offsets(text);
        if (sentence.end < codePoints.length) {
          candidates.push([codePoints[sentence.start], codePoints[sentence.end]]);
        }
      }
      for (const [start, end] of candidates) {
        if (start >= cursor && text.slice(start, end) === sentence.text) {
          cursor = end;
          return [start, end];
        }
      }
      const found = text.indexOf(sentence.text, cursor);
      if (found < 0) return null;
      cursor = found + sentence.text.length;
      return [found, cursor];
    });
  }

  function sentenceNode(sentence, position, tones) {
    const node = element("span", "sentence label-" + slug(sentence.label) + " tone-" + tones[sentence.label]);
    node.dataset.label = sentence.label;
    node.dataset.index = String(position);
    node.tabIndex = 0;
    node.setAttribute("role", "button");
    node.setAttribute("aria-describedby", "tip");
    if (sentence.uncertain) node.classList.add("uncertain");
    // Quoted speech gets a quotation-mark badge; a role other than body gets its name before the text.
    if (sentence.quoted === "full") node.classList.add("quoted");
    const role = sentence.role || "body";
    if (role !== "body") {
      node.dataset.role = role;
      const badge = element("span", "role-badge", role);
      badge.setAttribute("aria-hidden", "true");
      node.appendChild(badge);
    }
    node.appendChild(element("span", "text", sentence.text));
    const tag = element("sup", "tag", initial(sentence.label) + (sentence.uncertain ? "?" : ""));
    tag.setAttribute("aria-hidden", "true");
    node.appendChild(tag);
    const spoken = " (" + (role !== "body" ? role + ", " : "") + sentence.label + ", " +
      percent(sentence.confidence) + (sentence.uncertain ? ", uncertain" : "") +
      (sentence.label_source === "quotation" ? ", quoted speech" : "") + ")";
    node.appendChild(element("span", "visually-hidden", spoken));
    return node;
  }

  // Page furniture (share and navigation lines...) stays in place, greyed: shown, never labelled.
  function furnitureNode(item) {
    const node = element("span", "furniture", item.text);
    node.title = "Page furniture: not labelled, not counted";
    node.appendChild(element("span", "visually-hidden", " (page furniture, not labelled)"));
    return node;
  }

  // Labelled sentences and skipped furniture in document order (a service without `skipped` sends none).
  function inOrder(sentences, skipped) {
    const items = sentences.map((sentence, position) => ({ item: sentence, position }));
    for (const item of skipped || []) items.push({ item, position: null });
    const start = (entry) => (Number.isInteger(entry.item.start) ? entry.item.start : Infinity);
    return items.sort((a, b) => start(a) - start(b));
  }

  function renderDocument(text, sentences, tones, skipped) {
    documentView.replaceChildren();
    const ordered = inOrder(sentences, skipped);
    const spans = locate(text, ordered.map((entry) => entry.item));
    let cursor = 0;
    const unplaced = [];
    ordered.forEach((entry, order) => {
      const span = spans[order];
      if (span === null) {
        if (entry.position !== null) unplaced.push(entry.position);
        return;
      }
      if (span[0] > cursor) documentView.appendChild(document.createTextNode(text.slice(cursor, span[0])));
      documentView.appendChild(
        entry.position === null ? furnitureNode(entry.item) : sentenceNode(entry.item, entry.position, tones),
      );
      cursor = span[1];
    });
    if (cursor < text.length) documentView.appendChild(document.createTextNode(text.slice(cursor)));
    // A sentence that could not be placed is still shown, so the page never hides a result.
    for (const position of unplaced) {
      documentView.appendChild(document.createTextNode("\n\n"));
      documentView.appendChild(sentenceNode(sentences[position], position, tones));
    }
  }

  function renderLegend(labels, counts, sentences, tones) {
    legend.replaceChildren();
    for (const label of labels) {
      const item = element("li", "legend-item");
      item.dataset.label = label;
      const swatch = element("span", "swatch sentence tone-" + tones[label] + " label-" + slug(label));
      const tag = element("sup", "tag", initial(label));
      swatch.appendChild(element("span", "text", "Aa"));
      swatch.appendChild(tag);
      swatch.setAttribute("aria-hidden", "true");
      item.appendChild(swatch);
      item.appendChild(element("span", "legend-name", label));
      const count = element("span", "count", String(counts[label] ?? 0));
      count.dataset.countFor = label;
      item.appendChild(count);
      legend.appendChild(item);
    }
    const uncertain = sentences.filter((s) => s.uncertain).length;
    const item = element("li", "legend-item legend-uncertain");
    const swatch = element("span", "swatch sentence uncertain");
    swatch.appendChild(element("span", "text", "Aa"));
    swatch.appendChild(element("sup", "tag", "?"));
    swatch.setAttribute("aria-hidden", "true");
    item.appendChild(swatch);
    item.appendChild(element("span", "legend-name", "uncertain"));
    const count = element("span", "count", String(uncertain));
    count.dataset.countFor = "uncertain";
    item.appendChild(count);
    legend.appendChild(item);
  }

  // --- the scores tooltip (hover, focus or click) --------------------------------------------------

  function showScores(node) {
    const sentence = shown[Number(node.dataset.index)];
    tip.replaceChildren();
    const title = element("p", "tip-title");
    title.appendChild(element("strong", null, sentence.label));
    title.appendChild(document.createTextNode(" · confidence " + percent(sentence.confidence)));
    tip.appendChild(title);
    if (sentence.uncertain) {
      tip.appendChild(element("p", "tip-note", "Uncertain: the best score is below the threshold."));
    }
    if (sentence.label_source === "quotation") {
      const best = Object.entries(sentence.scores).sort((a, b) => b[1] - a[1])[0][0];
      tip.appendChild(element("p", "tip-note", "Quoted speech" +
        (sentence.speaker ? " (" + sentence.speaker.text + ")" : "") +
        ": a fact about what was said, by the label guide. Alone, the model reads it as " + best + "."));
    } else if (sentence.quoted === "partial" && sentence.speaker) {
      tip.appendChild(element("p", "tip-note", "Quotes " + sentence.speaker.text + "."));
    }
    const table = element("table", "scores");
    const caption = element("caption", "visually-hidden", "Score of each label");
    table.appendChild(caption);
    const ranked = Object.entries(sentence.scores).sort((a, b) => b[1] - a[1]);
    for (const [label, score] of ranked) {
      const row = element("tr");
      row.appendChild(element("th", null, label));
      const barCell = element("td", "bar-cell");
      const bar = element("span", "bar tone-" + (shownTones[label] ?? 0));
      bar.style.width = Math.max(2, Math.round(score * 100)) + "%";
      barCell.appendChild(bar);
      row.appendChild(barCell);
      row.appendChild(element("td", "score", score.toFixed(2)));
      table.appendChild(row);
    }
    tip.appendChild(table);
    if (sentence.cached) tip.appendChild(element("p", "tip-note", "Scores reused from the cache."));
    tip.hidden = false;
    place(node);
  }

  function place(node) {
    const box = node.getBoundingClientRect();
    const width = tip.offsetWidth;
    const left = Math.min(Math.max(8, box.left), document.documentElement.clientWidth - width - 8);
    tip.style.left = left + window.scrollX + "px";
    tip.style.top = box.bottom + window.scrollY + 6 + "px";
  }

  function hideScores(force) {
    if (pinned && !force) {
      showScores(pinned);
      return;
    }
    if (pinned) pinned.classList.remove("pinned");
    pinned = null;
    tip.hidden = true;
  }

  function pin(node) {
    if (pinned === node) {
      hideScores(true);
      return;
    }
    if (pinned) pinned.classList.remove("pinned");
    pinned = node;
    node.classList.add("pinned");
    showScores(node);
  }

  const sentenceOf = (event) => event.target.closest && event.target.closest("#document .sentence");

  documentView.addEventListener("mouseover", (event) => {
    const node = sentenceOf(event);
    if (node) showScores(node);
  });
  documentView.addEventListener("mouseout", (event) => {
    const node = sentenceOf(event);
    if (node && !node.contains(event.relatedTarget) && document.activeElement !== node) hideScores(false);
  });
  documentView.addEventListener("focusin", (event) => {
    const node = sentenceOf(event);
    if (node) showScores(node);
  });
  documentView.addEventListener("focusout", () => hideScores(false));
  documentView.addEventListener("click", (event) => {
    const node = sentenceOf(event);
    if (node) pin(node);
  });
  documentView.addEventListener("keydown", (event) => {
    const node = sentenceOf(event);
    if (node && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      pin(node);
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hideScores(true);
  });
  window.addEventListener("resize", () => {
    if (!tip.hidden && document.activeElement && document.activeElement.matches(".sentence")) {
      place(document.activeElement);
    }
  });

  // --- talking to the API --------------------------------------------------------------------------

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) {
        return response.status + " " + body.error.code + ": " + body.error.message;
      }
    } catch (ignored) {
      // not the API's error body (a proxy's page, say): fall through to the status line
    }
    return response.status + " " + response.statusText;
  }

  async function submit(event) {
    event.preventDefault();
    const text = source.value;
    const format = form.elements.format.value;
    errorBox.hidden = true;
    if (!text.trim()) {
      showError("Paste some text first.");
      source.focus();
      return;
    }
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (apiKey.value) headers["X-API-Key"] = apiKey.value;
    analyse.disabled = true;
    status.textContent = "Analysing…";
    try {
      const response = await fetch("/v1/extract", {
        method: "POST",
        headers: headers,
        body: JSON.stringify(format === "html" ? { text: text, format: "html" } : { text: text }),
      });
      if (!response.ok) {
        showError(await errorMessage(response));
        status.textContent = "";
        if (response.status === 401) {
          $("key-box").open = true;
          apiKey.focus();
        }
        return;
      }
      const body = await response.json();
      // HTML is shown as the text the service extracted from it; offsets point into that text.
      const shownText = format === "html"
        ? (body.extracted_text ?? body.sentences.map((s) => s.text).join("\n\n"))
        : text;
      render(body, shownText);
      const skipped = (body.skipped || []).length;
      status.textContent = body.sentences.length + " sentences labelled in " +
        Math.round(body.elapsed_ms) + " ms" +
        (skipped ? "; " + skipped + " lines of page furniture skipped (greyed)." : ".");
    } catch (failure) {
      showError("Could not reach the service: " + failure.message);
      status.textContent = "";
    } finally {
      analyse.disabled = false;
    }
  }

  function render(body, text) {
    hideScores(true);
    shown = body.sentences;
    shownTones = {};
    body.labels.forEach((label, i) => {
      shownTones[label] = i % TONES;
    });
    renderLegend(body.labels, body.counts, body.sentences, shownTones);
    renderDocument(text, body.sentences, shownTones, body.skipped);
    const model = body.model;
    const reused = Number.isInteger(body.cached_sentences) && body.cached_sentences > 0
      ? " " + body.cached_sentences + " of " + body.sentences.length + " sentences reused from the cache."
      : "";
    meta.textContent = "Model " + model.name + " (" + model.backend + ", version " + model.version + ")" +
      (body.truncated ? ". Some long sentences were cut to the model's window." : ".") + reused;
    results.hidden = false;
  }

  form.addEventListener("submit", submit);
  $("sample").addEventListener("click", () => {
    source.value = SAMPLE;
    form.elements.format.value = "text";
    source.focus();
  });
})();
