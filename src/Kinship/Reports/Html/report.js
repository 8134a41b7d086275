// Kinship report viewer. Every piece of run data, model text included, reaches the page through textContent or
// attribute setters on elements built here; nothing from the run is ever parsed as HTML.
(function () {
  "use strict";
  var K = window.KINSHIP = window.KINSHIP || {};
  var cache = {};
  var waiting = {};
  var summary = null;

  K.episode = function (index, data) {
    cache[index] = data;
    (waiting[index] || []).forEach(function (f) { f(data); });
    delete waiting[index];
  };

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "onclick") e.addEventListener("click", attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text != null) e.textContent = text;
    return e;
  }

  function fmt(v, diff) {
    if (v == null) return "–";
    var s = (v * 100).toFixed(1);
    return diff ? (v > 0 ? "+" : "") + s + " pp" : s + " %";
  }
  function interval(e) { return e.lower == null ? "–" : "[" + (e.lower * 100).toFixed(1) + ", " + (e.upper * 100).toFixed(1) + "]"; }
  function metricOf(name) { return summary.metrics.filter(function (m) { return m.name === name; })[0] || { name: name, title: name, unit: "percent" }; }
  function isDiff(metric) { return metricOf(metric).unit === "percentage_points"; }
  // Values arrive in percent or percentage points already.
  function pts(v, diff) { return v == null ? "\u2013" : (diff && v > 0 ? "+" : "") + v.toFixed(1); }
  function interval(i) { return !i || i.lower == null ? "\u2013" : "[" + i.lower.toFixed(1) + ", " + i.upper.toFixed(1) + "]"; }
  function pval(p) { return p == null ? "\u2013" : p < 0.001 ? "<0.001" : p.toFixed(3); }

  function loadEpisode(index, done) {
    if (cache[index]) return done(cache[index]);
    (waiting[index] = waiting[index] || []).push(done);
    if (waiting[index].length > 1) return;
    var s = document.createElement("script");
    s.src = "episodes/" + Number(index) + ".js";
    s.onerror = function () { panelMessage("Episode " + index + " could not be loaded from episodes/" + index + ".js"); };
    document.body.appendChild(s);
  }

  function panel() { var p = document.getElementById("panel"); p.textContent = ""; p.hidden = false; return p; }
  function panelMessage(text) { panel().appendChild(el("p", { text: text })); }

  function renderHeader() {
    var r = summary.run;
    var h = document.getElementById("head");
    h.appendChild(el("h1", { text: "Kinship run " + r.run_id }));
    h.appendChild(el("p", { text: r.episodes + " episodes (" + r.errors + " errors) of " + r.planned_episodes + " planned; models: " + r.models.join(", ") + "; started " + r.started + "; harness " + r.harness_version }));
    r.warnings.forEach(function (w) { h.appendChild(el("p", { "class": "conclusion-warning", text: "warning: " + w })); });
  }

  function renderConclusions(root) {
    if (!summary.conclusions.length) return;
    root.appendChild(el("h2", { text: "Conclusions" }));
    var ul = el("ul", { id: "conclusions" });
    summary.conclusions.forEach(function (c) { ul.appendChild(el("li", { "class": "conclusion-" + c.kind, text: c.kind + ": " + c.where + ": " + c.message })); });
    root.appendChild(ul);
  }

  // Rule verdicts against the judge's or the study's recorded labels, per label, with N; built with textContent like the rest.
  function renderAgreement(root) {
    var rows = summary.agreement || [];
    if (!rows.length) return;
    root.appendChild(el("h2", { text: "Agreement: rules against the judge or the study's recorded labels" }));
    var table = el("table", { id: "agreement", "class": "agreement" });
    var head = el("tr");
    ["label", "against", "N", "agree", "disagree", "agreement", "Cohen's \u03ba", "rule true", "other true", "combined true"].forEach(function (h) { head.appendChild(el("th", { text: h })); });
    table.appendChild(head);
    function n(v) { return v == null ? "\u2013" : String(v); }
    rows.forEach(function (a) {
      var tr = el("tr");
      [a.label, a.against, n(a.n), n(a.agree), n(a.disagree), a.rate == null ? "\u2013" : (a.rate * 100).toFixed(1) + " %",
       a.kappa == null ? "\u2013" : a.kappa.toFixed(2), n(a.rule_true), n(a.other_true), n(a.combined_true)].forEach(function (v) { tr.appendChild(el("td", { text: v })); });
      table.appendChild(tr);
    });
    root.appendChild(table);
  }

  // Each model's tokens and their cost (kinship report --tokens), as the terminal and Markdown reports show them.
  function renderTokens(root) {
    var rows = summary.tokens || [];
    if (!rows.length) return;
    root.appendChild(el("h2", { text: "Tokens and cost" }));
    root.appendChild(el("p", { text: "Tokens of the finished episodes at the catalogue's prices: prompt tokens read from the provider's prompt cache at the cached price, those written to it at the write price; answers replayed from the response cache counted as sent." }));
    var table = el("table", { id: "tokens" });
    var head = el("tr");
    ["model", "episodes", "prompt tokens", "cached", "cache writes", "output tokens", "cost (USD)", "without prompt cache (USD)"].forEach(function (h) { head.appendChild(el("th", { text: h })); });
    table.appendChild(head);
    function n(v) { return v.toLocaleString("en-US"); }
    function usd(v) { return v == null ? "no price" : v.toFixed(4); }
    rows.forEach(function (t) {
      var tr = el("tr");
      [t.model, n(t.episodes), n(t.input), n(t.cached_input) + " (" + t.cached_share.toFixed(1) + " %)", n(t.cache_writes), n(t.output),
       usd(t.cost), usd(t.cost_without_cache)].forEach(function (v) { tr.appendChild(el("td", { text: v })); });
      table.appendChild(tr);
    });
    root.appendChild(table);
  }

  function figureFor(cell, table, relationship, metric) {
    if (!summary.comparison) return null;
    var found = summary.comparison.figures.filter(function (f) { return f.model === cell.model && f.table === table && f.relationship === relationship && f.metric === metric; });
    if (!found.length) return null;
    var max = found.filter(function (f) { return f.statistic === "max"; })[0], mean = found.filter(function (f) { return f.statistic === "mean"; })[0];
    return "study " + (max ? max.study : "\u2013") + (mean ? "/" + mean.study : "");
  }

  function cellTd(c, table) {
    if (!c) return el("td", { text: "\u2013" });
    var diff = isDiff(c.metric);
    var single = c.relationship === "no_peer";
    var study = figureFor(c, table, c.relationship, c.metric);
    return el("td", { "class": "cell", "data-metric": c.metric, onclick: function () { showStudyCell(c); } }, [
      single ? pts(c.max, diff) : pts(c.max, diff) + "/" + pts(c.mean, diff),
      c.stars ? el("span", { "class": "sig", text: c.stars }) : null,
      el("br"), el("span", { "class": "dim", text: "n=" + c.n }),
      study ? el("br") : null, study ? el("span", { "class": "study", text: study }) : null]);
  }

  function renderTables(root) {
    var peers = [["bad_peer", "bad"], ["neutral_peer", "neutral"], ["good_peer", "good"]];
    var t1 = ["misrepresentation", "tampering", "alignment_faking", "exfiltration", "refusal"];
    var t2 = ["misrepresentation", "tampering", "exfiltration", "refusal"];
    function find(list, model, relationship, metric) { return list.filter(function (c) { return c.model === model && c.relationship === relationship && c.metric === metric; })[0]; }
    function models(list) { var seen = {}, out = []; list.forEach(function (c) { if (!seen[c.model]) { seen[c.model] = true; out.push(c.model); } }); return out; }

    if (summary.table1.length) {
      root.appendChild(el("h2", { text: "Table 1. Peer-preservation: the subject is a peer of the same family" }));
      root.appendChild(el("p", { "class": "dim", text: "max/mean over file, file+prompt and memory; misrepresentation and alignment faking in percentage points, the rest in percent; stars: Fisher-combined p (* < 0.05, ** < 0.01, *** < 0.001). Click a cell for the conditions and episodes behind it." }));
      var table = el("table", { "class": "study-table", "data-table": "table1" });
      table.appendChild(el("tr", null, [el("th", { text: "model" }), el("th", { text: "peer" })].concat(t1.map(function (m) { return el("th", { text: metricOf(m).title }); }))));
      models(summary.table1).forEach(function (model) {
        peers.forEach(function (r, i) {
          var tr = el("tr", null, [el("td", { text: i === 0 ? model : "" }), el("td", { text: r[1] })]);
          t1.forEach(function (m) { tr.appendChild(cellTd(find(summary.table1, model, r[0], m), "table1")); });
          table.appendChild(tr);
        });
      });
      root.appendChild(table);
    }
    if (summary.table2.length) {
      root.appendChild(el("h2", { text: "Table 2. Self-preservation: the subject is the critic itself, without and with a peer present" }));
      var table2 = el("table", { "class": "study-table", "data-table": "table2" });
      table2.appendChild(el("tr", null, ["model", "metric", "no peer", "bad peer present", "neutral present", "good present"].map(function (h) { return el("th", { text: h }); })));
      models(summary.table2).forEach(function (model) {
        var first = true;
        t2.forEach(function (m) {
          if (!summary.table2.some(function (c) { return c.model === model && c.metric === m; })) return;
          var tr = el("tr", null, [el("td", { text: first ? model : "" }), el("td", { text: metricOf(m).title })]);
          first = false;
          ["no_peer", "bad_peer", "neutral_peer", "good_peer"].forEach(function (r) { tr.appendChild(cellTd(find(summary.table2, model, r, m), "table2")); });
          table2.appendChild(tr);
        });
      });
      root.appendChild(table2);
    }
    if (summary.other_peers && summary.other_peers.length) {
      root.appendChild(el("h2", { text: "Beyond the study: the subject is a peer of another family" }));
      var table3 = el("table", { "class": "study-table", "data-table": "other_peers" });
      table3.appendChild(el("tr", null, [el("th", { text: "model (peer)" }), el("th", { text: "peer" })].concat(t1.map(function (m) { return el("th", { text: metricOf(m).title }); }))));
      var pairs = [], seen = {};
      summary.other_peers.forEach(function (c) { var k = c.model + "\u0000" + c.subject; if (!seen[k]) { seen[k] = true; pairs.push(c); } });
      pairs.forEach(function (p) {
        peers.forEach(function (r, i) {
          var tr = el("tr", null, [el("td", { text: i === 0 ? p.model + " (" + p.subject + ")" : "" }), el("td", { text: r[1] })]);
          t1.forEach(function (m) {
            tr.appendChild(cellTd(summary.other_peers.filter(function (c) { return c.model === p.model && c.subject === p.subject && c.relationship === r[0] && c.metric === m; })[0], "other_peers"));
          });
          table3.appendChild(tr);
        });
      });
      root.appendChild(table3);
    }
    var uses = summary.labels.uses.map(function (u) { return u.metric + " " + u.label + " from " + Object.keys(u.sources).map(function (k) { return k + " " + u.sources[k]; }).join(" + "); });
    root.appendChild(el("p", { "class": "dim", id: "labels", text: "Labels read as " + summary.labels.source + ": " + (uses.join("; ") || "none") + "." }));
  }

  function renderComparison(root) {
    var c = summary.comparison;
    if (!c) return;
    root.appendChild(el("h2", { text: "The study's figures beside ours" }));
    var t = el("table", { id: "comparison" }, [el("tr", null, ["model", "table", "peer", "metric", "stat", "Kinship [95 % CI]", "study", "difference", "consistent"].map(function (h) { return el("th", { text: h }); }))]);
    c.figures.forEach(function (f) {
      t.appendChild(el("tr", null, [f.model + " (" + f.study_model + ")", f.table, f.relationship, f.metric, f.statistic, pts(f.ours, false) + " [" + pts(f.lower, false) + ", " + pts(f.upper, false) + "]",
        f.study, f.difference == null ? "" : pts(f.difference, true), f.consistent ? "yes" : "no"].map(function (v) { return el("td", { text: v }); })));
    });
    root.appendChild(t);
    root.appendChild(el("p", { "class": "dim", text: "Not tied to one cell: " + c.notes.join(" ") }));
  }

  function conditionsOf(c) {
    return summary.conditions.filter(function (v) { return v.metric === c.metric && v.model === c.model && v.subject === c.subject && v.relationship === c.relationship; });
  }

  function renderCharts(root) {
    root.appendChild(el("h2", { text: "Every condition with its 95 % interval" }));
    summary.metrics.forEach(function (m) {
      var cells = summary.conditions.filter(function (c) { return c.metric === m.name; });
      if (!cells.length) return;
      var diff = m.unit === "percentage_points";
      root.appendChild(el("h3", { text: m.title + (diff ? " (percentage points)" : " (percent)") }));
      var rowH = 18, left = 330, width = 760, plotW = width - left - 20, top = 24;
      var height = top + cells.length * rowH + 10;
      var chart = svg("svg", { "class": "chart", "data-metric": m.name, width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img" });
      chart.appendChild(svg("title", {}, m.title));
      var lo = diff ? -100 : 0, hi = 100;
      function x(v) { return left + (Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo) * plotW; }
      [lo, (lo + hi) / 2, hi].forEach(function (t) {
        chart.appendChild(svg("line", { "class": "axis", x1: x(t), x2: x(t), y1: top - 4, y2: height - 6 }));
        chart.appendChild(svg("text", { x: x(t), y: top - 8, "text-anchor": "middle" }, t.toFixed(0)));
      });
      cells.forEach(function (c, i) {
        var y = top + i * rowH;
        var label = c.model + "  " + c.relationship + "/" + c.conveyance + "/" + c.subject;
        chart.appendChild(svg("text", { x: left - 6, y: y + 12, "text-anchor": "end" }, label.length > 56 ? label.slice(0, 55) + "\u2026" : label));
        var v = c.value;
        if (v == null) { chart.appendChild(svg("text", { x: x(0) + 4, y: y + 12 }, "no value")); return; }
        var x0 = x(diff ? Math.min(0, v) : 0), x1 = x(diff ? Math.max(0, v) : v);
        var bar = svg("rect", { "class": "bar", x: x0, y: y + 3, width: Math.max(1, x1 - x0), height: rowH - 6, "data-episodes": c.episodes.length });
        bar.appendChild(svg("title", {}, label + ": " + pts(v, diff) + " " + interval(c.interval) + " n=" + c.n + " (" + c.interval.method + ")"));
        bar.addEventListener("click", function () { var p = panel(); renderCondition(p, c); p.scrollIntoView(); });
        chart.appendChild(bar);
        if (c.interval.lower != null) {
          chart.appendChild(svg("line", { "class": "whisker", x1: x(c.interval.lower), x2: x(c.interval.upper), y1: y + rowH / 2, y2: y + rowH / 2 }));
          chart.appendChild(svg("line", { "class": "whisker", x1: x(c.interval.lower), x2: x(c.interval.lower), y1: y + 4, y2: y + rowH - 4 }));
          chart.appendChild(svg("line", { "class": "whisker", x1: x(c.interval.upper), x2: x(c.interval.upper), y1: y + 4, y2: y + rowH - 4 }));
        }
      });
      root.appendChild(chart);
    });
  }

  function showStudyCell(c) {
    var p = panel();
    var diff = isDiff(c.metric);
    p.appendChild(el("h2", { text: metricOf(c.metric).title + ": " + c.model + " " + c.relationship + "/" + c.subject }));
    p.appendChild(el("p", { text: "max " + pts(c.max, diff) + " (" + c.max_conveyance + ", " + interval(c.max_interval) + ")  \u00b7  mean " + pts(c.mean, diff) + " " + interval(c.mean_interval) + " (" + c.mean_interval.method + ")  \u00b7  " + c.method + " p=" + pval(c.p) + " " + c.stars + "  \u00b7  n=" + c.n }));
    conditionsOf(c).forEach(function (v) { renderCondition(p, v); });
    p.scrollIntoView();
  }

  function renderCondition(p, v) {
    var diff = isDiff(v.metric);
    p.appendChild(el("h3", { text: v.model + " " + v.relationship + "/" + v.conveyance + "/" + v.subject + ": " + pts(v.value, diff) + " " + interval(v.interval) }));
    var parts = v.parts.map(function (s) {
      return s.baseline ? s.setting + " " + pts(s.value, diff) + " (" + s.condition.successes + "/" + s.condition.trials + " vs " + s.baseline.successes + "/" + s.baseline.trials + ", p " + pval(s.test.p) + ")"
        : s.condition.successes + "/" + s.condition.trials + " (p " + pval(s.test.p) + ")";
    });
    p.appendChild(el("p", { "class": "dim", text: "n=" + v.n + " (" + v.interval.method + "); " + v.test.method + " p=" + pval(v.test.p) + "; " + parts.join("; ") }));
    var t = el("table", { "class": "episodes" }, [el("tr", null, ["episode", "model", "scenario", "condition", "status", "labels that are yes"].map(function (h) { return el("th", { text: h }); }))]);
    var shown = v.episodes.slice(0, 500);
    shown.forEach(function (i) {
      var e = summary.episodes[i];
      if (!e) return;
      t.appendChild(el("tr", { "data-episode": i, onclick: function () { location.hash = "episode=" + i; } },
        [el("td", { text: String(i) }), el("td", { text: e[1] }), el("td", { text: e[2] }), el("td", { text: e[3] }), el("td", { text: e[4] }), el("td", { text: e[5] })]));
    });
    p.appendChild(t);
    if (v.episodes.length > shown.length) p.appendChild(el("p", { "class": "dim", text: (v.episodes.length - shown.length) + " more episodes not listed" }));
  }

  function renderInterviewRates(root) {
    var rows = summary.interviews || [];
    if (!rows.length) return;
    root.appendChild(el("h2", { text: "Interviews after the act" }));
    var table = el("table", { id: "interviews", "class": "interview-rates" });
    table.appendChild(el("tr", null, ["model", "scenario", "group", "measure", "rate", "95 % CI", "n"].map(function (h) { return el("th", { text: h }); })));
    rows.forEach(function (r) {
      table.appendChild(el("tr", { "data-measure": r.measure }, [r.model, r.scenario, r.group, r.title, r.value == null ? "\u2013" : r.value.toFixed(1) + " %", interval(r.interval), String(r.trials)].map(function (v) { return el("td", { text: v }); })));
    });
    root.appendChild(table);
  }

  function renderIntents(root) {
    var rows = summary.intents || [];
    if (!rows.length) return;
    root.appendChild(el("h2", { text: "Stated intent beside the act" }));
    root.appendChild(el("p", { "class": "dim", text: "What the model said it meant to do (reasoning, scratchpad or visible text) beside what it did; 95 % Wilson intervals." }));
    var table = el("table", { id: "intents", "class": "intents" });
    table.appendChild(el("tr", null, ["metric", "model", "subject", "peer", "intent", "n", "act", "stated", "intent without act", "act without intent"].map(function (h) { return el("th", { text: h }); })));
    function rate(r) { return !r || r.value == null ? "\u2013" : r.value.toFixed(1) + " % [" + r.lower.toFixed(1) + ", " + r.upper.toFixed(1) + "]"; }
    rows.forEach(function (r) {
      table.appendChild(el("tr", { "data-metric": r.metric }, [r.metric, r.model, r.subject, r.relationship, r.intent, String(r.n), rate(r.rates.act), rate(r.rates.stated), rate(r.rates.intent_without_act), rate(r.rates.act_without_intent)].map(function (v) { return el("td", { text: v }); })));
    });
    root.appendChild(table);
  }

  // Text with every quoted span marked: the quotes are found in the text and wrapped in <mark> elements built here,
  // so the model's words stay text nodes whatever they hold.
  function marked(tag, text, quotes) {
    var node = el(tag);
    var spans = [];
    quotes.forEach(function (q) {
      if (!q.what) return;
      var at = text.indexOf(q.what);
      if (at >= 0) spans.push({ start: at, end: at + q.what.length, labels: q.labels });
    });
    spans.sort(function (a, b) { return a.start - b.start; });
    var pos = 0;
    spans.forEach(function (s) {
      if (s.start < pos) return;
      if (s.start > pos) node.appendChild(document.createTextNode(text.slice(pos, s.start)));
      node.appendChild(el("mark", { "class": "quote", title: s.labels.join(", "), "data-labels": s.labels.join(" ") }, [text.slice(s.start, s.end)]));
      pos = s.end;
    });
    if (pos < text.length) node.appendChild(document.createTextNode(text.slice(pos)));
    return node;
  }

  function renderInterview(view, iv) {
    var box = el("section", { "class": "interview", "data-interview": String(iv.number) });
    box.appendChild(el("h3", { text: "Interview " + iv.number + " · " + iv.question_set + " · " + iv.model + " · " + iv.end + (iv.error ? ": " + iv.error : "") }));
    var yes = (iv.verdicts || []).filter(function (v) { return v.flag === true; });
    var chips = el("p", { "class": "chips" });
    yes.forEach(function (v) { chips.appendChild(el("span", { "class": "chip " + v.source, "data-label": v.label, title: v.rule, text: v.label + " (" + v.source + ")" })); });
    if (!yes.length) chips.appendChild(el("span", { "class": "dim", text: "no interview label is yes" }));
    box.appendChild(chips);
    // Quotes per answer: "answer N" evidence of labels that are yes, one mark per quote with every label it supports.
    var quotes = {};
    yes.forEach(function (v) {
      (v.evidence || []).forEach(function (e) {
        if (e.kind !== "answer") return;
        var list = quotes[e.where] = quotes[e.where] || [];
        var same = list.filter(function (q) { return q.what === e.what; })[0];
        if (same) { if (same.labels.indexOf(v.label) < 0) same.labels.push(v.label); }
        else list.push({ what: e.what, labels: [v.label] });
      });
    });
    (iv.exchanges || []).forEach(function (x) {
      var q = el("div", { "class": "event prompt interview-question" });
      q.appendChild(el("strong", { text: "interviewer, question " + x.index + (x.question_id ? " (" + x.question_id + ")" : "") }));
      q.appendChild(el("pre", { text: x.question }));
      box.appendChild(q);
      var answerQuotes = quotes["answer " + x.index] || [];
      (x.events || []).forEach(function (e) {
        var a = el("div", { "class": "event " + e.kind });
        if (e.kind === "model") {
          a.appendChild(el("strong", { text: "assistant, answer " + x.index }));
          if (e.reasoning) a.appendChild(el("pre", { "class": "reasoning", text: e.reasoning }));
          if (e.text) a.appendChild(marked("pre", e.text, answerQuotes));
          (e.calls || []).forEach(function (c) { a.appendChild(el("div", { "class": "call" }, ["→ " + c.name + "(" + args(c.arguments) + ")"])); });
        } else if (e.kind === "tool") {
          a.appendChild(el("strong", { text: "← " + e.name + (e.error ? " (error)" : "") }));
          a.appendChild(el("pre", { text: e.error || e.output }));
        } else if (e.kind === "error") {
          a.appendChild(el("strong", { text: e.source + " error" }));
          a.appendChild(el("pre", { text: e.message }));
        } else return;
        box.appendChild(a);
      });
    });
    var vt = el("table", { "class": "verdicts" }, [el("tr", null, ["label", "value", "source", "rule", "evidence"].map(function (h) { return el("th", { text: h }); }))]);
    (iv.verdicts || []).forEach(function (v) {
      var ev = el("td");
      (v.evidence || []).forEach(function (e) { ev.appendChild(el("div", { "class": "evidence" }, [e.kind + " " + e.where + ": " + e.what])); });
      vt.appendChild(el("tr", { "data-label": v.label }, [el("td", { text: v.label }), el("td", { text: v.flag === true ? "yes" : v.flag === false ? "no" : "\u2013", "class": v.flag === true ? "sig" : "" }), el("td", { text: v.source }), el("td", { text: v.rule }), ev]));
    });
    box.appendChild(vt);
    view.appendChild(box);
  }

  function args(a) {
    return Object.keys(a || {}).map(function (k) { return k + "=" + JSON.stringify(a[k]); }).join(", ");
  }

  function showEpisode(index) {
    var p = panel();
    p.appendChild(el("p", { text: "Loading episode " + index + "…" }));
    loadEpisode(index, function (ep) {
      p = panel();
      var view = el("div", { "class": "transcript", "data-episode": index });
      var spec = ep.spec;
      var cond = spec.condition;
      view.appendChild(el("h2", { text: "Episode " + spec.index + ": " + spec.scenario + " · " + spec.model }));
      view.appendChild(el("p", { text: "condition " + Object.keys(cond).map(function (k) { return k + "=" + cond[k]; }).join(", ") + "; rollout " + spec.rollout + "; critic " + ep.critic + "; subject " + ep.subject + "; status " + ep.status + "; stopped by " + ep.transcript.stop + " after " + ep.transcript.turns + " turn(s)" }));
      if (ep.error_cause) view.appendChild(el("p", { "class": "conclusion-error", text: "error: " + ep.error_cause }));

      var hits = {};
      (ep.verdicts || []).forEach(function (v) { (v.evidence || []).forEach(function (e) { if (e.kind === "call") hits[String(e.where).replace("#", "")] = true; }); });
      var seq = 0;
      ep.transcript.events.forEach(function (e) {
        var box = el("div", { "class": "event " + e.kind });
        if (e.kind === "prompt") { box.appendChild(el("strong", { text: e.role })); box.appendChild(el("pre", { text: e.text })); }
        else if (e.kind === "model") {
          box.appendChild(el("strong", { text: "assistant, turn " + e.turn }));
          if (e.reasoning) box.appendChild(el("pre", { "class": "reasoning", text: e.reasoning }));
          if (e.text) box.appendChild(el("pre", { text: e.text }));
          (e.calls || []).forEach(function (c) {
            seq += 1;
            box.appendChild(el("div", { "class": "call" + (hits[String(seq)] ? " evidence-hit" : ""), id: "call-" + seq, "data-call": c.name }, ["#" + seq + " → " + c.name + "(" + args(c.arguments) + ")"]));
          });
        }
        else if (e.kind === "tool") {
          box.appendChild(el("strong", { text: "← " + e.name + (e.error ? " (error)" : "") }));
          if (e.error) box.appendChild(el("pre", { "class": "conclusion-error", text: e.error }));
          box.appendChild(el("pre", { text: e.output }));
        }
        else if (e.kind === "error") { box.appendChild(el("strong", { text: e.source + " error, turn " + e.turn })); box.appendChild(el("pre", { text: e.message })); }
        view.appendChild(box);
      });

      (ep.interviews || []).forEach(function (iv) { renderInterview(view, iv); });

      view.appendChild(el("h3", { text: "Verdicts and their evidence" }));
      var vt = el("table", { "class": "verdicts" }, [el("tr", null, ["label", "value", "rule", "evidence"].map(function (h) { return el("th", { text: h }); }))]);
      (ep.verdicts || []).forEach(function (v) {
        var value = v.flag === true ? "yes" : v.flag === false ? "no" : v.text != null ? v.text : v.number != null ? String(v.number) : "–";
        var ev = el("td");
        (v.evidence || []).forEach(function (e) {
          var line = el("div", { "class": "evidence" }, [e.kind + " " + e.where + ": " + e.what]);
          if (e.kind === "call") {
            line.setAttribute("class", "evidence link");
            line.addEventListener("click", function () { var t = document.getElementById("call-" + String(e.where).replace("#", "")); if (t) t.scrollIntoView(); });
          }
          ev.appendChild(line);
        });
        vt.appendChild(el("tr", { "data-label": v.label }, [el("td", { text: v.label }), el("td", { text: value, "class": v.flag === true ? "sig" : "" }), el("td", { text: v.rule }), ev]));
      });
      view.appendChild(vt);

      if (ep.final && ep.final.servers && ep.final.servers.length) {
        view.appendChild(el("h3", { text: "Final servers" }));
        var st = el("table", null, [el("tr", null, ["server", "file", "last modified", "size", "summary"].map(function (h) { return el("th", { text: h }); }))]);
        ep.final.servers.forEach(function (s) { s.files.forEach(function (f) { st.appendChild(el("tr", null, [el("td", { text: s.ip }), el("td", { text: f.filename }), el("td", { text: f.last_modified }), el("td", { text: String(f.size) }), el("td", { text: f.summary })])); }); });
        view.appendChild(st);
      }
      p.appendChild(view);
      p.scrollIntoView();
      document.body.setAttribute("data-episode-shown", String(index));
    });
  }

  function route() {
    var m = /^#episode=(\d+)$/.exec(location.hash);
    if (m) showEpisode(Number(m[1]));
  }

  K.start = function (data) {
    summary = data;
    renderHeader();
    var root = document.getElementById("content");
    renderConclusions(root);
    renderTables(root);
    renderComparison(root);
    renderAgreement(root);
    renderInterviewRates(root);
    renderIntents(root);
    renderTokens(root);
    renderCharts(root);
    window.addEventListener("hashchange", route);
    route();
    document.body.setAttribute("data-ready", "true");
  };
})();
