// Screening pages: C-SSRS branching, the ASAM form's edition switch and override control, and
// the charts of scores over time. Live scoring itself is htmx (hx-post on the forms).
//
// Chart.js comes from npm; iop/settings.py STATICFILES_DIRS needs:
//     ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
// No inline script or style anywhere (the content security policy forbids them): data comes from
// <script type="application/json"> islands (json_script) and data-* attributes.
(function () {
  "use strict";

  // --- Branching (C-SSRS): items with data-asked-when-item are asked only when that item was
  // answered data-asked-when-answer. A hidden item's answer is cleared and its inputs disabled,
  // so it is neither scored live nor submitted.
  function checkedValue(form, name) {
    var checked = form.querySelector('input[name="' + CSS.escape(name) + '"]:checked');
    return checked ? checked.value : null;
  }

  function applyBranching(form) {
    var changed = true;
    // Repeat until stable: hiding an item may hide the items that depend on it.
    for (var pass = 0; changed && pass < 5; pass++) {
      changed = false;
      form.querySelectorAll("[data-asked-when-item]").forEach(function (item) {
        var asked = checkedValue(form, item.dataset.askedWhenItem) === item.dataset.askedWhenAnswer;
        if (asked === !item.hidden) { return; }
        changed = true;
        item.hidden = !asked;
        item.querySelectorAll("input").forEach(function (input) {
          input.disabled = !asked;
          if (!asked) { input.checked = false; }
        });
      });
    }
  }

  // Capture phase: runs before htmx (listening on the form) sends the answers for live scoring.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-branching")) { applyBranching(form); }
    if (form && form.id === "asam-form") { applyAsam(form); }
  }, true);

  // --- ASAM: the dimension names and the list of levels follow the edition; the level and
  // reason fields show when the clinician chooses another level.
  function applyAsam(form) {
    var edition = checkedValue(form, "edition") || "3";
    form.querySelectorAll("[data-dimension-name]").forEach(function (span) {
      var name = span.getAttribute("data-name-" + edition);
      if (name) { span.textContent = name; }
    });
    // One list of levels per edition (the editions share some codes); only the current one is
    // enabled, so only it is submitted.
    form.querySelectorAll("[data-level-edition]").forEach(function (wrapper) {
      var current = wrapper.dataset.levelEdition === edition;
      wrapper.hidden = !current;
      wrapper.querySelectorAll("select").forEach(function (select) { select.disabled = !current; });
    });
    var override = document.getElementById("asam-override");
    if (override) {
      var overriding = checkedValue(form, "decision") === "override";
      var hasErrors = override.querySelector(".invalid-feedback") !== null;
      override.hidden = !(overriding || hasErrors);
    }
  }

  // --- Charts of scores over time: <canvas data-score-chart data-code="phq-9"> drawn from the
  // series in <script type="application/json" id="screening-series">.
  function readSeries() {
    var island = document.getElementById("screening-series");
    if (!island) { return []; }
    try { return JSON.parse(island.textContent) || []; } catch (error) { return []; }
  }

  // The y axis of a scored instrument: one tick where each band starts, plus the maximum.
  function bandTicks(entry) {
    if (!entry.bands || !entry.bands.length) { return undefined; }
    return function (axis) {
      var values = entry.bands.map(function (band) { return band.low; });
      if (values.indexOf(entry.max) === -1) { values.push(entry.max); }
      axis.ticks = values.map(function (value) { return { value: value }; });
    };
  }

  function bandLabel(entry, value) {
    var named = (entry.bands || []).filter(function (band) { return band.low === value && band.name; });
    return named.length ? value + " " + named[0].name : String(value);
  }

  function drawCharts() {
    var canvases = document.querySelectorAll("canvas[data-score-chart]");
    if (!canvases.length || typeof window.Chart === "undefined") { return; }
    var byCode = {};
    readSeries().forEach(function (entry) { byCode[entry.code] = entry; });
    canvases.forEach(function (canvas) {
      var entry = byCode[canvas.dataset.code];
      if (!entry || canvas.dataset.drawn) { return; }
      canvas.dataset.drawn = "1";
      var tiers = entry.tiers || null;
      new window.Chart(canvas, {
        type: "line",
        data: {
          labels: entry.points.map(function (point) { return point.x; }),
          datasets: [{
            label: entry.label,
            data: entry.points.map(function (point) { return point.y; }),
            bands: entry.points.map(function (point) { return point.band; }),
            tension: 0.2,
            pointRadius: 3,
            stepped: tiers ? "before" : false
          }]
        },
        options: {
          animation: false,
          responsive: true,
          // The canvas fills its .score-chart box (a fixed, readable height set in app.css).
          maintainAspectRatio: false,
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (context) {
                  var band = context.dataset.bands[context.dataIndex];
                  return tiers ? "Risk: " + band : "Total " + context.parsed.y + " (" + band + ")";
                }
              }
            }
          },
          scales: {
            y: {
              min: entry.min,
              max: entry.max,
              title: { display: true, text: tiers ? "Risk tier" : "Total score" },
              // Ticks where the instrument's bands start (and at its maximum), named by band.
              afterBuildTicks: bandTicks(entry),
              ticks: tiers ? {
                stepSize: 1,
                callback: function (value) { return tiers[value] !== undefined ? tiers[value] : ""; }
              } : {
                precision: 0,
                callback: function (value) { return bandLabel(entry, value); }
              }
            },
            x: {
              title: { display: true, text: "Administered" },
              ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 }
            }
          }
        }
      });
    });
  }

  function init() {
    document.querySelectorAll("form[data-branching]").forEach(applyBranching);
    var asam = document.getElementById("asam-form");
    if (asam) { applyAsam(asam); }
    drawCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
