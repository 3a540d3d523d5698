// Adoption map (governance: results): the pilot areas as points on a longitude/latitude grid (approximate city
// centres from governance/data/area_coordinates.csv — a schematic, no border geometry), sized by the experiences
// they published, with an arrow from the originating area to each area that adopted one of its experiences.
(function () {
  const data = JSON.parse(document.getElementById("adoption-data").textContent);
  const t = JSON.parse(document.getElementById("adoption-i18n").textContent);
  const box = document.getElementById("adoption-map");
  if (!box || !window.echarts) return;
  const lang = document.documentElement.lang && document.documentElement.lang.startsWith("en") ? "EN" : "ZH";
  const at = {};
  data.points.forEach((p) => { at[p.code] = [Number(p.lon), Number(p.lat)]; });
  // Several adoptions between the same two areas make one thicker line.
  const pairs = {};
  data.lines.forEach((l) => {
    const key = l.from + ">" + l.to;
    (pairs[key] = pairs[key] || {from: l.from, to: l.to, cases: []}).cases.push(l.case + " (" + l.adopted_on + ")");
  });
  const names = {};
  data.points.forEach((p) => { names[p.code] = p.name; });
  const chart = echarts.init(box, null, {locale: lang});
  chart.setOption({
    tooltip: {
      trigger: "item",
      formatter: (e) => {
        if (e.seriesType === "lines") {
          const d = e.data.info;
          return `${names[d.from]} → ${names[d.to]}<br>${d.cases.join("<br>")}`;
        }
        const p = e.data.point;
        return `<b>${p.name}</b><br>${t.published}: ${p.published}<br>${t.adopted_elsewhere}: ${p.adopted_elsewhere}` +
          `<br>${t.adopted}: ${p.adopted}`;
      },
    },
    grid: {left: 40, right: 20, top: 20, bottom: 30},
    xAxis: {type: "value", min: 100, max: 130, name: t.lon, nameLocation: "middle", nameGap: 22,
            splitLine: {lineStyle: {type: "dashed", opacity: 0.4}}, axisLabel: {formatter: "{value}°E"}},
    yAxis: {type: "value", min: 18, max: 48, name: t.lat, nameLocation: "middle", nameGap: 28,
            splitLine: {lineStyle: {type: "dashed", opacity: 0.4}}, axisLabel: {formatter: "{value}°N"}},
    series: [
      {
        type: "lines", coordinateSystem: "cartesian2d", z: 1,
        effect: {show: true, period: 5, symbol: "arrow", symbolSize: 6, trailLength: 0},
        lineStyle: {color: "#175cd3", opacity: 0.45, curveness: 0.2},
        data: Object.values(pairs).filter((p) => at[p.from] && at[p.to]).map((p) => ({
          coords: [at[p.from], at[p.to]], info: p, lineStyle: {width: 1 + p.cases.length},
        })),
      },
      {
        type: "scatter", z: 2,
        symbolSize: (v, e) => 8 + 4 * e.data.point.published,
        itemStyle: {color: "#12325b"},
        label: {show: true, position: "right", formatter: (e) => e.data.point.name, fontSize: 11},
        labelLayout: {hideOverlap: false, moveOverlap: "shiftY"},
        data: data.points.map((p) => ({value: [Number(p.lon), Number(p.lat)], point: p})),
      },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
})();
