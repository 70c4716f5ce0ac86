// Draws the dashboard's charts from the JSON the server put in the page, in the page's colours, and
// keeps the page current section by section. Every two seconds (while the tab is visible) it asks
// the server what changed, sending the versions of the sections and figures it shows; the answer is
// a 304 while the operation is unchanged, else only the sections and figures whose versions differ
// (tracker/views/pages.py: dashboard_live). Only those are swapped in, and only charts whose data
// changed are drawn again.
//
// A form the person is using (it has the focus, or they typed in it) is kept as they left it: it is
// moved into the new copy of its section in place of its fresh twin, which replaces it once they let
// go of it. Whether a form is in use comes from the person's own input events, never from comparing
// values, so nothing the page does itself can make a form look edited.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var figures = {}; // key -> plotly.js spec
  var figureVersions = {}; // key -> the version of figures[key]
  var pending = {}; // section name -> {version, html}: held back while a form in use has no place in it
  var fresher = new WeakMap(); // a kept form -> the server's newer copy, put in once it is let go
  var touched = new WeakSet(); // forms the person typed in or changed
  var chosen = {}; // id of a chart switch -> the figure the person picked with it

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : {};
  }

  function each(list, callback) { Array.prototype.forEach.call(list, callback); }

  function colours() {
    var style = getComputedStyle(document.documentElement);
    var get = function (name) { return style.getPropertyValue(name).trim(); };
    return { fg: get("--fg"), muted: get("--muted"), line: get("--line"), accent: get("--accent"), warn: get("--warn") };
  }

  // A trace may name one of the page's colours ("--accent") instead of a colour: it follows the theme.
  function themed(data, style) {
    return data.map(function (trace) {
      var colour = trace.marker && trace.marker.color;
      if (typeof colour !== "string" || colour.indexOf("--") !== 0) { return trace; }
      return Object.assign({}, trace, { marker: Object.assign({}, trace.marker, { color: style.getPropertyValue(colour).trim() }) });
    });
  }

  // Draws the figure a chart element names, unless the element already shows that very data.
  function draw(element) {
    var key = element.dataset.figure || element.dataset.chart;
    var figure = figures[key];
    if (!figure || !window.Plotly) { return; }
    var shows = key + "@" + (figureVersions[key] || "");
    if (element.dataset.drawn === shows) { return; }
    var c = colours();
    var layout = Object.assign({
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: c.fg, family: "system-ui, sans-serif" },
      margin: { l: 48, r: 16, t: 64, b: 48 }, colorway: [c.muted, c.accent, c.warn],
      legend: { orientation: "h", yanchor: "bottom", y: 1.02, xanchor: "right", x: 1 }
    }, figure.layout);
    ["xaxis", "yaxis"].forEach(function (axis) {
      layout[axis] = Object.assign({ gridcolor: c.line, zerolinecolor: c.line }, layout[axis] || {});
    });
    var data = themed(figure.data, getComputedStyle(document.documentElement));
    window.Plotly.react(element, data, layout, { displayModeBar: false, responsive: true });
    element.dataset.drawn = shows;
  }

  function drawAll(root) { each(root.querySelectorAll("[data-chart]"), draw); }

  // --- forms in use ---------------------------------------------------------------------------

  // Only the person's input fires these: the page setting a value (as a swap does) fires nothing.
  function remember(event) {
    if (!event.target.closest) { return; }
    var form = event.target.closest("form");
    if (form) { touched.add(form); }
  }
  document.addEventListener("input", remember, true);
  document.addEventListener("change", remember, true);

  // Typed in by the person and not back to what it came with.
  function edited(form) {
    if (!touched.has(form)) { return false; }
    return Array.prototype.some.call(form.elements, function (field) {
      if (field.type === "hidden" || field.type === "submit" || field.type === "button") { return false; }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
      return field.value !== field.defaultValue;
    });
  }

  function inUse(form) { return form.contains(document.activeElement) || edited(form); }

  // The same form in a new copy of a section: forms post to their own address.
  function twinOf(form, fragment) {
    var action = form.getAttribute("action");
    return Array.prototype.find.call(fragment.querySelectorAll("form"), function (other) {
      return other.getAttribute("action") === action;
    }) || null;
  }

  // --- swapping a section ---------------------------------------------------------------------

  function focusKey(element) {
    if (!element || element === document.body) { return null; }
    if (element.id) { return { id: element.id }; }
    if (element.tagName === "SUMMARY" && element.parentElement.id) { return { summaryOf: element.parentElement.id }; }
    return null;
  }

  function refocus(key) {
    if (!key) { return; }
    var element = key.id ? document.getElementById(key.id) : document.getElementById(key.summaryOf);
    if (element && key.summaryOf) { element = element.querySelector("summary"); }
    if (element) { element.focus({ preventScroll: true }); }
  }

  function selectionOf(element) {
    try {
      return typeof element.selectionStart === "number" ? [element.selectionStart, element.selectionEnd] : null;
    } catch (e) { return null; }  // inputs of some types have no selection
  }

  // A drawn chart whose placeholder is in the new copy goes into it as it is: drawn again only if
  // its data changed (draw() decides).
  function keepCharts(wrapper, fragment) {
    each(fragment.querySelectorAll("[data-chart]"), function (placeholder) {
      var old = Array.prototype.find.call(wrapper.querySelectorAll("[data-chart]"), function (element) {
        return element.dataset.chart === placeholder.dataset.chart && element.dataset.drawn;
      });
      if (!old) { return; }
      if (placeholder.hasAttribute("aria-label")) { old.setAttribute("aria-label", placeholder.getAttribute("aria-label")); }
      if (placeholder.dataset.figure) { old.dataset.figure = placeholder.dataset.figure; } else { delete old.dataset.figure; }
      placeholder.replaceWith(old);
    });
  }

  // A chart switch the person used keeps their choice when its section is swapped.
  function applyChoices(root) {
    each(root.querySelectorAll("select[data-chart-switch]"), function (select) {
      var choice = chosen[select.id];
      if (!choice || !Array.prototype.some.call(select.options, function (o) { return o.value === choice; })) { return; }
      select.value = choice;
      var chart = document.querySelector('[data-chart="' + select.dataset.chartSwitch + '"]');
      if (chart) { chart.dataset.figure = choice; }
    });
  }

  // Puts the server's copy of a section in place; false (nothing changed) when a form in use there
  // has no twin in it (say, the blocker someone is resolving was resolved meanwhile).
  function swap(wrapper, html, version) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fragment = template.content;
    var kept = [];
    var forms = wrapper.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (!inUse(forms[i])) { continue; }
      var twin = twinOf(forms[i], fragment);
      if (!twin) { return false; }
      kept.push([forms[i], twin]);
    }
    var active = wrapper.contains(document.activeElement) ? document.activeElement : null;
    var selection = active && selectionOf(active);
    var activeKey = focusKey(active);
    var open = Array.prototype.map.call(wrapper.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    kept.forEach(function (pair) {
      pair[1].replaceWith(pair[0]);
      fresher.set(pair[0], pair[1]);
    });
    keepCharts(wrapper, fragment);
    wrapper.replaceChildren(fragment);
    wrapper.dataset.version = version;
    open.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
    applyChoices(wrapper);
    if (active && active.isConnected) {
      active.focus({ preventScroll: true });
      if (selection) { try { active.setSelectionRange(selection[0], selection[1]); } catch (e) { /* no selection */ } }
    } else if (active) {
      refocus(activeKey);
    }
    return true;
  }

  // Once the person lets go of a kept form, the newer copy of it (or of its section) goes in.
  function release() {
    each(document.querySelectorAll("[data-live-section] form"), function (form) {
      var newer = fresher.get(form);
      if (!newer || inUse(form)) { return; }
      fresher.delete(form);
      form.replaceWith(newer);
    });
    Object.keys(pending).forEach(function (name) {
      var wrapper = document.querySelector('[data-live-section="' + name + '"]');
      if (!wrapper || swap(wrapper, pending[name].html, pending[name].version)) { delete pending[name]; }
    });
    drawAll(document);
  }
  document.addEventListener("focusout", function () { window.setTimeout(release, 0); });
  document.addEventListener("reset", function () { window.setTimeout(release, 0); });

  // --- polling --------------------------------------------------------------------------------

  function heldSections(root) {
    return Array.prototype.map.call(root.querySelectorAll("[data-live-section]"), function (wrapper) {
      var name = wrapper.dataset.liveSection;
      return name + "=" + (pending[name] ? pending[name].version : wrapper.dataset.version);
    }).join(",");
  }

  function heldFigures() {
    return Object.keys(figureVersions).map(function (key) { return key + "=" + figureVersions[key]; }).join(",");
  }

  // Sections that appeared (a panel) get an empty wrapper in their place; those gone are removed.
  function arrange(root, order) {
    var existing = {};
    each(root.querySelectorAll("[data-live-section]"), function (w) { existing[w.dataset.liveSection] = w; });
    var previous = null;
    order.forEach(function (name) {
      var wrapper = existing[name];
      if (!wrapper) {
        wrapper = document.createElement("div");
        wrapper.dataset.liveSection = name;
        wrapper.dataset.version = "";
        if (previous) { previous.after(wrapper); } else { root.prepend(wrapper); }
      }
      delete existing[name];
      previous = wrapper;
    });
    Object.keys(existing).forEach(function (name) { existing[name].remove(); delete pending[name]; });
  }

  function apply(root, news) {
    if (news.order) { arrange(root, news.order); }
    Object.keys(news.figures).forEach(function (key) {
      figures[key] = news.figures[key].figure;
      figureVersions[key] = news.figures[key].version;
    });
    (news.dropped_figures || []).forEach(function (key) { delete figures[key]; delete figureVersions[key]; });
    Object.keys(news.sections).forEach(function (name) {
      var wrapper = root.querySelector('[data-live-section="' + name + '"]');
      var part = news.sections[name];
      if (!wrapper) { return; }
      if (swap(wrapper, part.html, part.version)) { delete pending[name]; } else { pending[name] = part; }
    });
    hideDismissed(root);
    drawAll(root);
  }

  function live() {
    var root = document.querySelector("[data-live-url]");
    if (!root) { return; }
    var timer = null;
    var asking = false;
    var stopped = false;
    function later() { if (!stopped) { timer = window.setTimeout(poll, POLL_MS); } }
    function poll() {
      timer = null;
      if (document.hidden) { return; }  // a hidden tab asks nothing; visibilitychange starts again
      asking = true;
      var etag = root.dataset.version;
      fetch(root.dataset.liveUrl, {
        headers: { "If-None-Match": etag, "X-Live-Sections": heldSections(root), "X-Live-Figures": heldFigures() },
        credentials: "same-origin",
        cache: "no-store"
      })
        .then(function (response) {
          heardServer(response);
          if (response.redirected) { stopped = true; }  // to the login page: the session is over
          if (response.status !== 200 || stopped) { return null; }
          etag = response.headers.get("ETag") || etag;
          return response.json();
        })
        .then(function (news) {
          if (news) { apply(root, news); }
          root.dataset.version = etag;
        })
        .catch(function () { /* offline for a moment: ask again on the next tick */ })
        .then(function () {
          asking = false;
          root.dataset.livePolls = String(Number(root.dataset.livePolls || 0) + 1);  // for tests and the curious
          later();
        });
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !asking && !stopped && timer === null) { poll(); }
    });
    later();
  }

  // --- "5 minutes ago" ---------------------------------------------------------------------------

  // Each relative time is a <time data-ago datetime>, its words Django's naturaltime as the server
  // said them when it rendered the section (tracker/templatetags/board.py). The server only sends a
  // section again when what it shows changes, so the open page works the words out again itself
  // every ten seconds, in naturaltime's own words, against the server's clock: the Date of the
  // latest poll's answer (a public link, which does not poll, uses the browser's clock). From four
  // weeks on naturaltime counts calendar months; those words are left as the server said them.
  var AGO_MS = 10000;
  var AGO_UNITS = [["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  var serverSkew = 0; // the server's clock minus the browser's, in ms

  function counted(n, unit) { return n + "\u00a0" + unit + (n === 1 ? "" : "s"); }

  // naturaltime's English for an instant `seconds` ago; null where it would not be these words.
  function agoWords(seconds) {
    if (!(seconds >= 0) || seconds >= 4 * 604800) { return null; }
    seconds = Math.floor(seconds);
    if (seconds === 0) { return "now"; }
    if (seconds < 60) { return seconds === 1 ? "a second ago" : counted(seconds, "second") + " ago"; }
    if (seconds < 3600) {
      var minutes = Math.floor(seconds / 60);
      return minutes === 1 ? "a minute ago" : counted(minutes, "minute") + " ago";
    }
    if (seconds < 86400) {
      var hours = Math.floor(seconds / 3600);
      return hours === 1 ? "an hour ago" : counted(hours, "hour") + " ago";
    }
    // A day or more: Django's timesince, the first unit that is not zero and the next if it is not.
    var left = seconds;
    var values = AGO_UNITS.map(function (unit) { var n = Math.floor(left / unit[1]); left -= n * unit[1]; return n; });
    var first = values.findIndex(function (n) { return n !== 0; });
    var parts = [counted(values[first], AGO_UNITS[first][0])];
    if (first + 1 < values.length && values[first + 1] !== 0) { parts.push(counted(values[first + 1], AGO_UNITS[first + 1][0])); }
    return parts.join(", ") + " ago";
  }

  function heardServer(response) {
    var date = Date.parse(response.headers.get("Date") || "");
    if (!isNaN(date)) { serverSkew = date + 500 - Date.now(); }  // Date is to the second: its middle
  }

  function refreshAgo(root) {
    if (document.documentElement.lang.slice(0, 2) !== "en") { return; }  // the words are English
    var now = Date.now() + serverSkew;
    each(root.querySelectorAll("time[data-ago][datetime]"), function (time) {
      var words = agoWords((now - Date.parse(time.getAttribute("datetime"))) / 1000);
      if (words !== null && time.textContent !== words) { time.textContent = words; }
    });
  }
  window.setInterval(function () { if (!document.hidden) { refreshAgo(document); } }, AGO_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refreshAgo(document); } });
  window.snailTrail = { agoWords: agoWords };  // for tests and the curious

  // --- the undo toast ---------------------------------------------------------------------------

  // "✕" hides the toast for that change; a newer copy of its section keeps it hidden.
  var dismissed = {};
  function hideDismissed(root) {
    each(root.querySelectorAll(".toast[data-undo]"), function (toast) {
      if (dismissed[toast.dataset.undo]) { toast.hidden = true; }
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".toast [data-dismiss]");
    if (!button) { return; }
    var toast = button.closest(".toast");
    dismissed[toast.dataset.undo] = true;
    hideDismissed(document);
  });

  // A select with data-chart-switch="X" redraws chart X with the figure it names (e.g. one phase's burn-up).
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("[data-chart-switch]");
    if (!select) { return; }
    chosen[select.id] = select.value;
    var element = document.querySelector('[data-chart="' + select.dataset.chartSwitch + '"]');
    if (!element) { return; }
    element.dataset.figure = select.value;
    draw(element);
  });

  // The charts take the page's colours: draw them again when the theme changes.
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
    each(document.querySelectorAll("[data-chart]"), function (element) { delete element.dataset.drawn; });
    drawAll(document);
  });

  document.addEventListener("DOMContentLoaded", function () {
    figures = readJson("chart-data");
    figureVersions = readJson("chart-versions");
    drawAll(document);
    live();
  });
})();
