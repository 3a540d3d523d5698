// The early-warning alert page: the indicator over 24 months, with the yellow/orange/red threshold bands and the
// alert's month marked. Data from the page (json_script); nothing is fetched.
(function () {
  const box = document.getElementById("warning-chart");
  if (!box || typeof echarts === "undefined") return;
  const data = JSON.parse(document.getElementById("warning-chart-data").textContent);
  const t = JSON.parse(document.getElementById("warning-i18n").textContent);
  const num = (v) => (v === null || v === undefined ? null : Number(v));
  const values = data.values.map(num);
  const th = {yellow: num(data.thresholds.yellow), orange: num(data.thresholds.orange), red: num(data.thresholds.red)};
  const shown = values.filter((v) => v !== null);
  if (!shown.length) { box.textContent = t.no_data; box.classList.add("is-empty"); return; }
  // Room above the red threshold and the highest value, on a round number.
  const top = Math.ceil((Math.max(th.red, ...shown) * 1.1 + 1) / 10) * 10;
  const band = (from, to, color, name) => [{yAxis: from, name: name, itemStyle: {color: color}}, {yAxis: to}];
  const chart = echarts.init(box, null, {locale: (document.documentElement.lang || "").startsWith("en") ? "EN" : "ZH"});
  chart.setOption({
    tooltip: {trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? t.no_data : `${v} ${data.unit}`)},
    grid: {left: 8, right: 16, top: 24, bottom: 8, containLabel: true},
    xAxis: {type: "category", data: data.periods, name: t.month},
    yAxis: {type: "value", name: data.unit, max: top},
    series: [{
      name: data.title, type: "line", data: values, connectNulls: false, symbolSize: 6,
      markArea: {silent: true, label: {position: "insideTopLeft", color: "#444"}, data: [
        band(th.yellow, th.orange, "rgba(242, 201, 76, 0.25)", data.level_names.yellow),
        band(th.orange, th.red, "rgba(242, 153, 74, 0.25)", data.level_names.orange),
        band(th.red, top, "rgba(235, 87, 87, 0.22)", data.level_names.red),
      ]},
      markLine: {silent: true, symbol: "none", lineStyle: {type: "dashed", color: "#555"},
                 label: {formatter: data.marker}, data: [{xAxis: data.marker}]},
    }],
  });
  window.addEventListener("resize", () => chart.resize());
})();
