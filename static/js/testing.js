// Testing report charts: <canvas data-testing-chart="compliance|positivity"> drawn from the
// figures in <script type="application/json" id="testing-report-data"> (no inline script: CSP).
(function () {
  "use strict";

  function readData() {
    var island = document.getElementById("testing-report-data");
    if (!island) { return null; }
    try { return JSON.parse(island.textContent); } catch (error) { return null; }
  }

  function draw() {
    var data = readData();
    if (!data || typeof window.Chart === "undefined") { return; }
    var compliance = document.querySelector('canvas[data-testing-chart="compliance"]');
    if (compliance && !compliance.dataset.drawn) {
      compliance.dataset.drawn = "1";
      new window.Chart(compliance, {
        type: "bar",
        data: {
          labels: data.weeks,
          datasets: [
            { label: "Selected", data: data.selected },
            { label: "Collected", data: data.collected },
            { label: "Refused, no-show or unable", data: data.not_collected }
          ]
        },
        options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
    var positivity = document.querySelector('canvas[data-testing-chart="positivity"]');
    if (positivity && !positivity.dataset.drawn) {
      positivity.dataset.drawn = "1";
      new window.Chart(positivity, {
        type: "line",
        data: {
          labels: data.weeks,
          datasets: Object.keys(data.positivity).map(function (name) {
            return { label: name, data: data.positivity[name].map(function (v) { return v === null ? null : v * 100; }), spanGaps: true, tension: 0.2 };
          })
        },
        options: {
          animation: false,
          responsive: true,
          scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return v + "%"; } } } }
        }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
