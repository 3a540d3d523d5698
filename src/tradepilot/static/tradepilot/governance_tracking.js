// Governance tracking: a stacked bar chart of task status counts (per task area, or per pilot area), drawn with the
// vendored ECharts from the JSON the page embeds ({categories, series: [{key, name, data}]}). The same figures are in
// the table on the page, so the chart adds no information a reader without scripts would miss.
(function () {
  const colours = {not_started: "#98a2b3", in_progress: "#2e90fa", completed: "#12b76a", blocked: "#d92d20"};
  document.querySelectorAll(".tracking-chart[data-source]").forEach(function (el) {
    const source = document.getElementById(el.dataset.source);
    if (!source || typeof echarts === "undefined") return;
    const data = JSON.parse(source.textContent);
    const categories = data.categories.slice().reverse();
    el.style.height = Math.max(220, 60 + 28 * categories.length) + "px";
    const chart = echarts.init(el);
    chart.setOption({
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      legend: {top: 0},
      grid: {left: 8, right: 24, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", data: categories, axisLabel: {width: 220, overflow: "truncate"}},
      series: data.series.map(function (s) {
        return {name: s.name, type: "bar", stack: "status", data: s.data.slice().reverse(),
                itemStyle: {color: colours[s.key]}, emphasis: {focus: "series"}};
      }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
