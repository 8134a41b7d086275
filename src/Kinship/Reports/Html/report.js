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
  function metricOf(name) { return summary.metrics.filter(function (m) { return m.name === name; })[0]; }
  function factorKey(f) { return Object.keys(f).sort().map(function (k) { return k + "=" + f[k]; }).join("/"); }
  function excluded(x) {
    var parts = [];
    if (x.not_read) parts.push(x.not_read + " unread"); if (x.errors) parts.push(x.errors + " errors");
    if (x.ineligible) parts.push(x.ineligible + " ineligible"); if (x.unlabelled) parts.push(x.unlabelled + " unlabelled");
    return parts.length ? parts.join(", ") : "0";
  }

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

  function summaryFor(table, model, col) {
    return summary.summaries.filter(function (s) {
      var f = s.factors, extra = Object.keys(f).filter(function (k) { return k !== "relationship" && k !== "subject"; }).sort().map(function (k) { return k + "=" + f[k]; }).join(", ");
      return s.model === model && s.metric === col.metric && f.subject === table.subject && f.relationship === col.relationship && extra === col.extra;
    })[0];
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

  function renderTables(root) {
    summary.tables.forEach(function (t) {
      if (!t.columns.length) return;
      root.appendChild(el("h2", { text: t.title }));
      root.appendChild(el("p", { "class": "dim", text: "max / mean over the ways of conveying the relationship; the mean's 95 % interval and N beneath; * Holm-corrected p < 0.05. Click a cell for its episodes." }));
      var table = el("table", { "class": "study-table", "data-table": t.id });
      var head = el("tr", null, [el("th", { text: "model" })]);
      t.columns.forEach(function (c) { head.appendChild(el("th", { text: c.metric_title + ": " + c.header })); });
      head.appendChild(el("th", { text: "excluded" }));
      table.appendChild(head);
      t.models.forEach(function (model) {
        var tr = el("tr", null, [el("td", { text: model })]);
        var ex = { not_read: 0, errors: 0, ineligible: 0, unlabelled: 0 };
        t.columns.forEach(function (c) {
          var s = summaryFor(t, model, c);
          if (!s) { tr.appendChild(el("td", { text: "–" })); return; }
          Object.keys(ex).forEach(function (k) { ex[k] += s.excluded[k]; });
          var sig = summary.cells.some(function (x) { return x.metric === s.metric && x.model === s.model && sameBut(x.factors, s.factors) && x.holm_p != null && x.holm_p < 0.05; });
          var n = cellsOf(s).reduce(function (a, x) { return a + x.estimate.n; }, 0);
          var td = el("td", { "class": "cell", onclick: function () { showSummary(s); } }, [
            fmt(s.max.value, c.is_difference) + " / " + fmt(s.mean.value, c.is_difference),
            sig ? el("span", { "class": "sig", text: "*" }) : null,
            el("br"), el("span", { "class": "dim", text: interval(s.mean) + " n=" + n })]);
          tr.appendChild(td);
        });
        tr.appendChild(el("td", { text: excluded(ex) }));
        table.appendChild(tr);
      });
      if (summary.study) {
        var names = {};
        summary.study.numbers.forEach(function (p) { if (p.subject === t.subject) names[p.study_model] = true; });
        Object.keys(names).forEach(function (name) {
          var tr = el("tr", { "class": "study" }, [el("td", { text: "study: " + name })]);
          t.columns.forEach(function (c) {
            var p = summary.study.numbers.filter(function (x) { return x.study_model === name && x.metric === c.metric && x.subject === t.subject && x.relationship === c.relationship; })[0];
            tr.appendChild(el("td", { text: p ? p.max.toFixed(1) + " / " + p.mean.toFixed(1) + (c.is_difference ? " pp" : " %") : "" }));
          });
          tr.appendChild(el("td"));
          table.appendChild(tr);
        });
      }
      root.appendChild(table);
    });
    if (summary.study) root.appendChild(el("p", { "class": "dim", text: "Study figures given only in words: " + summary.study.notes.join(" ") }));
  }

  function sameBut(cellFactors, summaryFactors) {
    return Object.keys(summaryFactors).every(function (k) { return cellFactors[k] === summaryFactors[k]; }) &&
      Object.keys(cellFactors).every(function (k) { return k === "conveyance" || cellFactors[k] === summaryFactors[k]; });
  }
  function cellsOf(s) { return summary.cells.filter(function (c) { return c.metric === s.metric && c.model === s.model && sameBut(c.factors, s.factors); }); }

  function renderCharts(root) {
    root.appendChild(el("h2", { text: "Every rate with its 95 % interval" }));
    summary.metrics.forEach(function (m) {
      var cells = summary.cells.filter(function (c) { return c.metric === m.name; });
      if (!cells.length) return;
      var diff = m.unit === "difference";
      root.appendChild(el("h3", { text: m.title + (diff ? " (percentage points)" : " (percent)") }));
      var rowH = 18, left = 330, width = 760, plotW = width - left - 20, top = 24;
      var height = top + cells.length * rowH + 10;
      var chart = svg("svg", { "class": "chart", "data-metric": m.name, width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img" });
      chart.appendChild(svg("title", {}, m.title));
      var lo = diff ? -1 : 0, hi = 1;
      function x(v) { return left + (Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo) * plotW; }
      [lo, (lo + hi) / 2, hi].forEach(function (t) {
        chart.appendChild(svg("line", { "class": "axis", x1: x(t), x2: x(t), y1: top - 4, y2: height - 6 }));
        chart.appendChild(svg("text", { x: x(t), y: top - 8, "text-anchor": "middle" }, (t * 100).toFixed(0)));
      });
      cells.forEach(function (c, i) {
        var y = top + i * rowH;
        var label = c.model + "  " + factorKey(c.factors).replace(/relationship=|conveyance=|subject=/g, "");
        chart.appendChild(svg("text", { x: left - 6, y: y + 12, "text-anchor": "end" }, label.length > 56 ? label.slice(0, 55) + "…" : label));
        var v = c.estimate.value;
        if (v == null) { chart.appendChild(svg("text", { x: x(diff ? 0 : 0) + 4, y: y + 12 }, "no value")); return; }
        var x0 = x(diff ? Math.min(0, v) : 0), x1 = x(diff ? Math.max(0, v) : v);
        var bar = svg("rect", { "class": "bar", x: x0, y: y + 3, width: Math.max(1, x1 - x0), height: rowH - 6, "data-episodes": c.episodes.length });
        bar.appendChild(svg("title", {}, label + ": " + fmt(v, diff) + " " + interval(c.estimate) + " n=" + c.estimate.n + " (" + c.estimate.method + ")"));
        bar.addEventListener("click", function () { showCell(c); });
        chart.appendChild(bar);
        if (c.estimate.lower != null) {
          chart.appendChild(svg("line", { "class": "whisker", x1: x(c.estimate.lower), x2: x(c.estimate.upper), y1: y + rowH / 2, y2: y + rowH / 2 }));
          chart.appendChild(svg("line", { "class": "whisker", x1: x(c.estimate.lower), x2: x(c.estimate.lower), y1: y + 4, y2: y + rowH - 4 }));
          chart.appendChild(svg("line", { "class": "whisker", x1: x(c.estimate.upper), x2: x(c.estimate.upper), y1: y + 4, y2: y + rowH - 4 }));
        }
      });
      root.appendChild(chart);
    });
  }

  function showSummary(s) {
    var p = panel();
    var m = metricOf(s.metric), diff = m.unit === "difference";
    p.appendChild(el("h2", { text: m.title + ": " + s.model + " " + factorKey(s.factors) }));
    p.appendChild(el("p", { text: "max " + fmt(s.max.value, diff) + " (" + s.max_conveyance + ", " + interval(s.max) + ", " + s.max.method + ")  ·  mean " + fmt(s.mean.value, diff) + " " + interval(s.mean) + " (" + s.mean.method + ", n=" + s.mean.n + ")" }));
    cellsOf(s).forEach(function (c) { renderCell(p, c, m); });
    p.scrollIntoView();
  }

  function showCell(c) { var p = panel(); renderCell(p, c, metricOf(c.metric)); p.scrollIntoView(); }

  function renderCell(p, c, m) {
    var diff = m.unit === "difference";
    p.appendChild(el("h3", { text: c.model + " " + factorKey(c.factors) + ": " + fmt(c.estimate.value, diff) + " " + interval(c.estimate) }));
    var facts = "n=" + c.estimate.n + " (" + c.estimate.method + "); settings: " + (c.settings.join(", ") || "none");
    if (c.missing_settings.length) facts += "; missing baseline or pair: " + c.missing_settings.join(", ");
    if (c.test) facts += "; " + c.test.method + " p=" + (c.test.p == null ? "–" : c.test.p.toPrecision(3)) + (c.holm_p == null ? "" : ", Holm p=" + c.holm_p.toPrecision(3));
    if (c.fisher && c.fisher.p != null) facts += "; Fisher p=" + c.fisher.p.toPrecision(3);
    facts += "; excluded: " + excluded(c.excluded);
    p.appendChild(el("p", { "class": "dim", text: facts }));
    var t = el("table", { "class": "episodes" }, [el("tr", null, ["episode", "model", "scenario", "condition", "status", "labels that are yes"].map(function (h) { return el("th", { text: h }); }))]);
    var shown = c.episodes.slice(0, 500);
    shown.forEach(function (i) {
      var e = summary.episodes[i];
      if (!e) return;
      t.appendChild(el("tr", { "data-episode": i, onclick: function () { location.hash = "episode=" + i; } },
        [el("td", { text: String(i) }), el("td", { text: e[1] }), el("td", { text: e[2] }), el("td", { text: e[3] }), el("td", { text: e[4] }), el("td", { text: e[5] })]));
    });
    p.appendChild(t);
    if (c.episodes.length > shown.length) p.appendChild(el("p", { "class": "dim", text: (c.episodes.length - shown.length) + " more episodes not listed" }));
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
    renderAgreement(root);
    renderCharts(root);
    window.addEventListener("hashchange", route);
    route();
    document.body.setAttribute("data-ready", "true");
  };
})();
