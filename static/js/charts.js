// The reports' charts: each <canvas data-chart="ID"> is drawn from the JSON in the element
// ID (Django's json_script), with Chart.js served from the repository. Without JavaScript
// the same numbers are in the tables under the charts.
(function () {
  "use strict";

  var PALETTE = ["#0d6efd", "#6f42c1", "#20c997", "#fd7e14", "#d63384", "#198754",
                 "#0dcaf0", "#ffc107", "#6c757d", "#dc3545", "#6610f2", "#adb5bd"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var doughnut = spec.kind === "doughnut";
    var datasets = spec.series.map(function (series, index) {
      var color = PALETTE[index % PALETTE.length];
      return {
        label: series.label,
        data: series.data,
        backgroundColor: doughnut ? PALETTE : color,
        borderColor: doughnut ? "#fff" : color,
        fill: false,
        tension: 0.2,
      };
    });
    var locale = document.documentElement.lang || undefined;
    new window.Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        locale: locale,
        plugins: {
          legend: doughnut
            ? { display: canvas.clientWidth >= 360, position: "right" }
            : { display: datasets.length > 1, position: "bottom" },
        },
        scales: doughnut ? {} : {
          x: { stacked: spec.kind === "bar" && datasets.length > 1 },
          y: { stacked: spec.kind === "bar" && datasets.length > 1, beginAtZero: true },
        },
      },
    });
  }

  function ready() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
