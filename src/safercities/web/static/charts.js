// Draws the charts whose data the server wrote into <script type="application/json"> blocks (no inline code: CSP).
document.querySelectorAll("[data-chart]").forEach(function (box) {
  var spec = JSON.parse(document.getElementById(box.dataset.chart).textContent);
  Plotly.newPlot(box, [{x: spec.x, y: spec.y, type: "scatter", mode: "lines+markers", line: {color: "#1d4ed8"},
                        hovertemplate: "%{x|%Y-%m}: %{y:,}<extra></extra>"}],
                 {margin: {l: 50, r: 10, t: 10, b: 40}, yaxis: {rangemode: "tozero", title: spec.ytitle || ""},
                  xaxis: {type: "date"}},
                 {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"]});
});
