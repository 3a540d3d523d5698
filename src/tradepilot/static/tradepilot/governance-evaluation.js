// Performance evaluation charts: the ranking as horizontal bars, an area's scores as a radar against the average
// of all areas. Data comes from json_script blocks on the page; values arrive as decimal strings.
(function () {
  if (typeof echarts === "undefined") return;
  const data = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };
  const charts = [];
  // Radar labels sit outside the circle: long names are wrapped so they stay inside the panel.
  const wrap = (name) => {
    if (name.indexOf(" ") < 0) return name.replace(/(.{6})(?=.)/g, "$1\n");
    const lines = [];
    name.split(" ").forEach((word) => {
      const last = lines.length ? lines[lines.length - 1] : null;
      if (last !== null && (last + " " + word).length <= 16) lines[lines.length - 1] = last + " " + word;
      else lines.push(word);
    });
    return lines.join("\n");
  };

  const ranking = data("eval-ranking-data");
  const rankingNode = document.getElementById("eval-ranking-chart");
  if (ranking && rankingNode && ranking.areas.length) {
    const chart = echarts.init(rankingNode);
    chart.setOption({
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      grid: {left: 8, right: 32, top: 8, bottom: 8, containLabel: true},
      xAxis: {type: "value", max: 100},
      yAxis: {type: "category", data: ranking.areas.slice().reverse()},
      series: [{name: ranking.title, type: "bar", data: ranking.totals.map(Number).reverse(),
                label: {show: true, position: "right"}, itemStyle: {color: "#12325b"}}],
    });
    charts.push(chart);
  }

  const radar = data("eval-radar-data");
  const radarNode = document.getElementById("eval-radar");
  if (radar && radarNode && radar.indicators.length) {
    const chart = echarts.init(radarNode);
    chart.setOption({
      tooltip: {},
      legend: {bottom: 0, data: [radar.area_name, radar.average_name]},
      radar: {indicator: radar.indicators.map((name) => ({name: name, max: 100})), radius: "58%",
              axisName: {fontSize: 11, color: "#344054", formatter: wrap}},
      series: [{type: "radar", data: [
        {name: radar.area_name, value: radar.area.map(Number), areaStyle: {opacity: 0.2}},
        {name: radar.average_name, value: radar.average.map(Number), lineStyle: {type: "dashed"}},
      ]}],
    });
    charts.push(chart);
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
