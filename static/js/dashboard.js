// Draws the dashboard's charts from the JSON the server put in the page, in the page's colours,
// and keeps the page current: it asks the server every few seconds whether anything changed
// (a conditional request answered 304 while nothing did) and swaps in the new content when it has.
(function () {
  "use strict";

  function colours() {
    var style = getComputedStyle(document.documentElement);
    var get = function (name) { return style.getPropertyValue(name).trim(); };
    return { fg: get("--fg"), muted: get("--muted"), line: get("--line"), accent: get("--accent"), warn: get("--warn") };
  }

  function draw(root) {
    var source = root.querySelector("#chart-data");
    if (!source || !window.Plotly) { return; }
    var figures = JSON.parse(source.textContent);
    var c = colours();
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var figure = figures[element.dataset.figure || element.dataset.chart];
      if (!figure) { return; }
      var layout = Object.assign({
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        font: { color: c.fg, family: "system-ui, sans-serif" },
        margin: { l: 48, r: 16, t: 64, b: 48 }, colorway: [c.muted, c.accent, c.warn],
        legend: { orientation: "h", yanchor: "bottom", y: 1.02, xanchor: "right", x: 1 }
      }, figure.layout);
      ["xaxis", "yaxis"].forEach(function (axis) {
        layout[axis] = Object.assign({ gridcolor: c.line, zerolinecolor: c.line }, layout[axis] || {});
      });
      window.Plotly.react(element, figure.data, layout, { displayModeBar: false, responsive: true });
    });
  }

  // True while the reader has changed a field of a form on the page and not sent it yet.
  function typing(root) {
    return Array.prototype.some.call(root.querySelectorAll("form input, form textarea, form select"), function (field) {
      if (field.type === "hidden" || field.type === "submit") { return false; }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
      return field.value !== field.defaultValue;
    });
  }

  function live() {
    var main = document.querySelector("[data-live-url]");
    if (!main) { return; }
    var url = main.dataset.liveUrl;
    var etag = main.dataset.version;
    function poll() {
      fetch(url, { headers: { "If-None-Match": etag }, credentials: "same-origin" })
        .then(function (response) {
          if (response.status !== 200) { return null; }
          etag = response.headers.get("ETag");
          return response.text();
        })
        .then(function (html) {
          if (!html) { return; }
          if (typing(main)) { etag = main.dataset.version; return; }  // don't wipe a half-filled form: retry later
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-url]");
          if (!fresh) { return; }
          var open = Array.prototype.map.call(main.querySelectorAll("details[open]"), function (d) { return d.id; });
          var focused = document.activeElement && document.activeElement.id;
          var chosen = {};
          main.querySelectorAll("select[id]").forEach(function (s) { chosen[s.id] = s.value; });
          main.innerHTML = fresh.innerHTML;
          open.forEach(function (id) { var d = id && document.getElementById(id); if (d) { d.open = true; } });
          Object.keys(chosen).forEach(function (id) {
            var select = document.getElementById(id);
            if (!select) { return; }
            select.value = chosen[id];
            if (select.dataset.chartSwitch) {
              var chart = main.querySelector('[data-chart="' + select.dataset.chartSwitch + '"]');
              if (chart) { chart.dataset.figure = select.value; }
            }
          });
          if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
          main.dataset.version = etag;
          draw(main);
        })
        .catch(function () { /* offline for a moment: try again on the next tick */ })
        .then(function () { window.setTimeout(poll, 2000); });
    }
    window.setTimeout(poll, 2000);
  }

  // A select with data-chart-switch="X" redraws chart X with the figure it names (e.g. one phase's burn-up).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-chart-switch]");
    if (!select) { return; }
    var element = document.querySelector('[data-chart="' + select.dataset.chartSwitch + '"]');
    element.dataset.figure = select.value;
    draw(document);
  });

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    live();
  });
})();
