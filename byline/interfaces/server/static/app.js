// Byline's page: sends the article to POST /v1/detect and shows the result.
// Plain JavaScript, no build step, no third-party code; server text is only
// ever inserted with textContent, never as HTML.
"use strict";

(function () {
  const MAX_FILE_BYTES = 5000000;
  const BINS = [
    { upper: 0.2, cls: "s0", words: "very likely human" },
    { upper: 0.4, cls: "s1", words: "likely human" },
    { upper: 0.6, cls: "s2", words: "uncertain" },
    { upper: 0.8, cls: "s3", words: "likely machine" },
    { upper: Infinity, cls: "s4", words: "very likely machine" },
  ];
  const VERDICT_WORDS = {
    ai: "Machine-written",
    human: "Human-written",
    too_short: "Too short to judge",
    not_prose: "Not prose to judge",
    unsupported_language: "Language not supported",
  };

  const $ = (id) => document.getElementById(id);
  const form = $("check-form");
  const textArea = $("article-text");
  const fileInput = $("file-input");
  const fileNote = $("file-note");
  const clearFile = $("clear-file");
  const dropZone = $("drop-zone");
  const statusLine = $("status");
  const button = $("check-button");
  const keyOption = $("key-option");
  const keyInput = $("api-key");

  // An HTML file is sent as {"html": ...}; a text file fills the text box.
  let loadedHtml = null;
  let loadedName = null;

  function setStatus(message, isError) {
    statusLine.textContent = message;
    statusLine.classList.toggle("error", Boolean(isError));
  }

  function headers() {
    const result = { "Content-Type": "application/json" };
    const key = keyInput.value.trim() || sessionStorage.getItem("byline-api-key") || "";
    if (key) result.Authorization = "Bearer " + key;
    return result;
  }

  function percent(value, digits) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(digits === undefined ? 0 : digits) + "%";
  }

  function binFor(probability) {
    if (probability === null || probability === undefined) return null;
    return BINS.find((bin) => probability < bin.upper);
  }

  // -- start-up: which detectors, and does the server need a key? --------------------

  async function loadInfo() {
    try {
      const response = await fetch("/v1/info", { headers: headers() });
      if (response.status === 401) {
        keyOption.hidden = false;
        return;
      }
      if (!response.ok) return;
      const info = await response.json();
      const names = Object.keys(info.detectors || {});
      if (names.length > 1) {
        const select = $("detector");
        select.textContent = "";
        for (const name of names) {
          const option = document.createElement("option");
          option.value = name;
          option.textContent = name + (name === info.default_detector ? " (default)" : "");
          select.appendChild(option);
        }
        $("detector-option").hidden = false;
      }
    } catch (error) {
      // The page still works; the check itself will report a failing server.
    }
  }

  // -- files: choose or drop ----------------------------------------------------------

  function forgetFile() {
    loadedHtml = null;
    loadedName = null;
    fileNote.textContent = "";
    clearFile.hidden = true;
    textArea.disabled = false;
    fileInput.value = "";
  }

  async function takeFile(file) {
    if (!file) return;
    const name = file.name || "file";
    const lower = name.toLowerCase();
    const isHtml = lower.endsWith(".html") || lower.endsWith(".htm") || file.type === "text/html";
    const isText = isHtml || /\.(txt|text|md)$/.test(lower) || file.type.startsWith("text/");
    if (!isText) {
      setStatus(name + ": only .txt and .html files can be checked here.", true);
      return;
    }
    if (file.size > MAX_FILE_BYTES) {
      setStatus(name + ": the file is too large (" + file.size.toLocaleString() + " bytes; the limit is 5 MB).", true);
      return;
    }
    const content = await file.text();
    forgetFile();
    loadedName = name;
    if (isHtml) {
      loadedHtml = content;
      textArea.value = "";
      textArea.disabled = true;
      fileNote.textContent = "Loaded " + name + " (HTML): its article text will be extracted.";
    } else {
      textArea.value = content;
      fileNote.textContent = "Loaded " + name + ".";
    }
    clearFile.hidden = false;
    setStatus("");
  }

  fileInput.addEventListener("change", () => takeFile(fileInput.files[0]));
  clearFile.addEventListener("click", () => {
    forgetFile();
    textArea.value = "";
    textArea.focus();
  });
  textArea.addEventListener("input", () => {
    if (loadedName && !loadedHtml) {
      loadedName = null;
      fileNote.textContent = "";
      clearFile.hidden = true;
    }
  });
  for (const type of ["dragenter", "dragover"]) {
    dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      dropZone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropZone.addEventListener(type, () => dropZone.classList.remove("dragging"));
  }
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) takeFile(files[0]);
  });

  // -- checking -------------------------------------------------------------------------

  async function check(event) {
    event.preventDefault();
    const body = { fpr: parseFloat($("fpr").value) };
    if (loadedHtml !== null) {
      body.html = loadedHtml;
    } else {
      if (!textArea.value.trim()) {
        setStatus("Paste an article or choose a file first.", true);
        textArea.focus();
        return;
      }
      body.text = textArea.value;
    }
    if (loadedName) body.source = loadedName;
    if (!$("detector-option").hidden) body.detector = $("detector").value;
    if (keyInput.value.trim()) sessionStorage.setItem("byline-api-key", keyInput.value.trim());

    button.disabled = true;
    setStatus("Checking… (a few seconds per article)");
    try {
      const response = await fetch("/v1/detect", { method: "POST", headers: headers(), body: JSON.stringify(body) });
      let payload = null;
      try {
        payload = await response.json();
      } catch (error) {
        payload = null;
      }
      if (response.ok) {
        render(payload);
        setStatus("Done.");
        return;
      }
      const message = (payload && payload.message) || response.statusText;
      if (response.status === 401) {
        keyOption.hidden = false;
        sessionStorage.removeItem("byline-api-key");
        keyInput.focus();
        setStatus("This server needs an API key: " + message, true);
      } else if (response.status === 503) {
        const wait = response.headers.get("Retry-After");
        setStatus("The server is busy" + (wait ? "; try again in " + wait + " s." : "; try again shortly."), true);
      } else if (response.status === 413) {
        setStatus("The article is too large for this server: " + message, true);
      } else {
        setStatus("Cannot check this: " + message, true);
      }
    } catch (error) {
      setStatus("Could not reach the server (" + error.message + ").", true);
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener("submit", check);

  // -- the result ----------------------------------------------------------------------

  function render(result) {
    const verdict = $("verdict");
    verdict.dataset.verdict = result.verdict;
    verdict.textContent = VERDICT_WORDS[result.verdict] || result.verdict;
    $("probability").textContent = percent(result.ai_probability, 1);
    $("threshold").textContent = percent(result.threshold, 1);
    $("share").textContent = result.ai_share === null ? "–" : percent(result.ai_share) + " of the text";
    $("length").textContent = result.n_words + " words";
    const reason = $("reason");
    reason.hidden = !result.reason;
    reason.textContent = result.reason ? "No verdict: " + result.reason + "." : "";
    $("explanation").textContent =
      result.ai_probability === null
        ? ""
        : "The verdict is machine-written when the probability is above " + percent(result.threshold, 1) +
          ", a threshold that flags about " + percent(result.fpr_target, 1) + " of human-written news.";
    $("model").textContent = "Model: " + result.model + " · Byline " + result.version +
      (result.title ? " · Title: " + result.title : "") + " · Source: " + result.source;

    renderSentences(result);
    renderTopSentences(result);
    renderSignals(result);
    const section = $("result");
    section.hidden = false;
    section.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function renderSentences(result) {
    // Offsets count Unicode code points (Python); JavaScript strings count UTF-16
    // units, so index an array of code points instead.
    const characters = Array.from(result.text);
    const container = $("highlighted");
    container.textContent = "";
    let cursor = 0;
    for (const sentence of result.sentences) {
      if (sentence.start > cursor) {
        container.appendChild(document.createTextNode(characters.slice(cursor, sentence.start).join("")));
      }
      const mark = document.createElement("mark");
      const bin = binFor(sentence.ai_probability);
      mark.className = "sentence " + (bin ? bin.cls : "s-none");
      mark.textContent = characters.slice(sentence.start, sentence.end).join("");
      mark.title = bin ? bin.words + " (" + percent(sentence.ai_probability) + ")" : "not scored";
      if (sentence.evidence === "text_only") {
        mark.title += ": style and wording only (past the language model's token budget)";
        mark.classList.add("text-only");
      }
      if (sentence.ai_probability !== null) mark.dataset.probability = String(sentence.ai_probability);
      container.appendChild(mark);
      cursor = Math.max(cursor, sentence.end);
    }
    if (cursor < characters.length) {
      container.appendChild(document.createTextNode(characters.slice(cursor).join("")));
    }
  }

  function renderTopSentences(result) {
    const list = $("top-sentences");
    list.textContent = "";
    const scored = result.sentences.filter((s) => s.ai_probability !== null);
    scored.sort((a, b) => b.ai_probability - a.ai_probability);
    if (!scored.length) {
      const item = document.createElement("li");
      item.textContent = "No sentence was scored.";
      list.appendChild(item);
      return;
    }
    for (const sentence of scored.slice(0, 3)) {
      const item = document.createElement("li");
      const p = document.createElement("span");
      p.className = "p";
      p.textContent = percent(sentence.ai_probability);
      item.appendChild(p);
      item.appendChild(document.createTextNode(sentence.text));
      list.appendChild(item);
    }
  }

  function renderSignals(result) {
    const list = $("signals");
    list.textContent = "";
    if (!result.signals.length) {
      const item = document.createElement("li");
      item.textContent = result.ai_probability === null ? "No evidence weighed: there is no verdict." : "No single signal stood out.";
      list.appendChild(item);
      return;
    }
    for (const signal of result.signals) {
      const item = document.createElement("li");
      const direction = document.createElement("span");
      direction.className = "direction " + signal.direction;
      direction.textContent = signal.direction === "ai" ? "▲ towards machine" : "▼ towards human";
      item.appendChild(direction);
      item.appendChild(document.createTextNode(signal.description));
      list.appendChild(item);
    }
  }

  loadInfo();
})();
