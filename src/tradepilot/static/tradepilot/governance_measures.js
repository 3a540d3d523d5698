// Opening measures: a bar chart of one measure's effects by quarter (counts on the left axis, the amount in
// 10,000 CNY on the right), from the JSON the page embeds as #effects-data.
(function () {
  const holder = document.getElementById("effects-chart");
  const source = document.getElementById("effects-data");
  if (!holder || !source || typeof echarts === "undefined") return;
  const data = JSON.parse(source.textContent);
  const lang = document.documentElement.lang && document.documentElement.lang.startsWith("en") ? "EN" : "ZH";
  const chart = echarts.init(holder, null, {locale: lang});
  chart.setOption({
    tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
    legend: {top: 0},
    grid: {left: 56, right: 72, top: 40, bottom: 32},
    xAxis: {type: "category", data: data.quarters},
    yAxis: [{type: "value", minInterval: 1}, {type: "value", splitLine: {show: false}}],
    series: data.series.map((s) => ({
      name: s.name, type: "bar", yAxisIndex: s.code === "amount" ? 1 : 0,
      data: s.values.map(Number),
    })),
  });
  window.addEventListener("resize", () => chart.resize());
})();
