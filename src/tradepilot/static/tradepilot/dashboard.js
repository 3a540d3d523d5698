// Dashboard: every panel loads its table from /api/v1/analytics/panels/<name> and draws an ECharts chart from
// it; the same table is shown under the chart. Suppressed (confidential) cells arrive as null and show as "C".
(function () {
  const config = JSON.parse(document.getElementById("dash-config").textContent);
  const t = JSON.parse(document.getElementById("dash-i18n").textContent);
  const lang = document.documentElement.lang && document.documentElement.lang.startsWith("en") ? "EN" : "ZH";
  const qs = new URLSearchParams(config.params).toString();
  const charts = [];
  const fmt = new Intl.NumberFormat(lang === "EN" ? "en" : "zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  const fmtPct = new Intl.NumberFormat(lang === "EN" ? "en" : "zh-CN", {minimumFractionDigits: 1, maximumFractionDigits: 1});
  const num = (v) => (v === null || v === undefined ? null : Number(v));
  const million = (v) => (v === null || v === undefined ? null : Math.round(Number(v) / 10000) / 100);

  function show(value, unit) {
    if (value === null || value === undefined) return unit === "text" || unit === "code" ? "" : "C";
    if (unit === "USD" || unit === "CNY 10k") return fmt.format(Number(value));
    if (unit === "%") return fmtPct.format(Number(value)) + "%";
    if (unit === "points" || unit === "count") return new Intl.NumberFormat().format(Number(value));
    return String(value);
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // The drill-down target of a row of the regions or pilot-area panel: the same filters, another place.
  function drillLink(name, code) {
    const p = new URLSearchParams(config.params);
    p.delete("region"); p.delete("pilot_area");
    p.set(name === "regions" ? "region" : "pilot_area", code);
    return "?" + p.toString();
  }

  // `drill` (a panel name) makes each row's label a link to that row's drill-down, so the table drills down as
  // the chart does, also by keyboard.
  function renderTable(wrap, data, drill) {
    wrap.innerHTML = "";
    if (!data.rows.length) { wrap.appendChild(el("p", {class: "empty"}, t.empty)); return; }
    const table = el("table", {class: "grid"});
    const head = table.createTHead().insertRow();
    data.columns.forEach((c) => head.appendChild(el("th", {class: c.unit === "text" ? "" : "num"}, c.title)));
    const body = table.createTBody();
    data.rows.forEach((r) => {
      const tr = body.insertRow();
      data.columns.forEach((c) => {
        const td = tr.insertCell();
        if (drill && c.key === "label" && r.code && r.code !== config.params.region) {
          td.appendChild(el("a", {href: drillLink(drill, r.code)}, show(r[c.key], c.unit)));
        } else {
          td.textContent = show(r[c.key], c.unit);
        }
        if (c.unit !== "text") td.className = "num" + (r[c.key] === null ? " confidential" : "");
      });
    });
    wrap.appendChild(table);
    if (data.suppressed) wrap.appendChild(el("p", {class: "muted small"}, `C: ${data.suppressed} ${t.suppressed}`));
    if (data.note) wrap.appendChild(el("p", {class: "muted small"}, data.note));
  }

  // A bar chart's category label says "C" when a figure of its row is withheld, so a missing bar is not read as 0.
  function barLabel(r, keys) {
    return keys.some((k) => r[k] === null) ? `${r.label} (C)` : r.label;
  }

  // True when the table has figures but every one of them is withheld: the chart would be empty axes.
  function allConfidential(data) {
    const keys = data.columns.filter((c) => c.unit !== "text" && c.unit !== "code").map((c) => c.key);
    return keys.length > 0 && data.rows.every((r) => keys.every((k) => r[k] === null || r[k] === undefined));
  }

  function barOption(data, opts) {
    const rows = data.rows.slice().reverse();
    return {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      legend: {top: 0},
      grid: {left: 8, right: 24, top: 28, bottom: 8, containLabel: true},
      xAxis: {type: "value", name: t.usd_m, nameLocation: "middle", nameGap: 24},
      yAxis: {type: "category", data: rows.map((r) => barLabel(r, ["exports", "imports"]))},
      series: [
        {name: t.exports, type: "bar", data: rows.map((r) => million(r.exports))},
        {name: t.imports, type: "bar", data: rows.map((r) => million(r.imports))},
      ],
      ...(opts || {}),
    };
  }

  function treemapOption(data, groupKey, groupLabel) {
    const groups = {};
    data.rows.forEach((r) => {
      if (r.value === null) return;
      const g = groups[r[groupKey]] || (groups[r[groupKey]] = {name: r[groupLabel] || r[groupKey], children: []});
      g.children.push({name: r.label, value: million(r.value)});
    });
    return {
      tooltip: {formatter: (i) => `${i.name}: ${fmt.format(i.value)} ${t.usd_m}`},
      series: [{type: "treemap", roam: false, leafDepth: 2, data: Object.values(groups),
                label: {show: true}, upperLabel: {show: true, height: 20}, breadcrumb: {show: true}}],
    };
  }

  function seriesOption(data) {
    const x = data.rows.map((r) => r.label);
    return {
      tooltip: {trigger: "axis"},
      legend: {top: 0},
      grid: {left: 8, right: 8, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: x},
      yAxis: [{type: "value", name: t.usd_m}, {type: "value", name: "%", splitLine: {show: false}}],
      series: [
        {name: t.exports, type: "bar", data: data.rows.map((r) => million(r.exports))},
        {name: t.imports, type: "bar", data: data.rows.map((r) => million(r.imports))},
        {name: t.balance, type: "line", data: data.rows.map((r) => million(r.balance))},
        {name: t.yoy_exports, type: "line", yAxisIndex: 1, lineStyle: {type: "dashed"}, data: data.rows.map((r) => num(r.yoy_exports))},
        {name: t.yoy_imports, type: "line", yAxisIndex: 1, lineStyle: {type: "dashed"}, data: data.rows.map((r) => num(r.yoy_imports))},
      ],
    };
  }

  function pilotOption(data) {
    return {
      tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 8, right: 8, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: data.rows.map((r) => r.label)},
      yAxis: {type: "value", name: t.usd_m},
      series: [
        {name: t.pilot, type: "line", areaStyle: {}, stack: "s", data: data.rows.map((r) => million(r.pilot))},
        {name: t.other, type: "line", areaStyle: {}, stack: "s", data: data.rows.map((r) => million(r.other))},
      ],
    };
  }

  function measureOption(data) {
    // Annual FATS tables: bars of the first measure in its own unit (CNY 10k or persons).
    const col = data.columns[1];
    const rows = data.rows.slice().reverse();
    return {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      grid: {left: 8, right: 24, top: 16, bottom: 8, containLabel: true},
      xAxis: {type: "value", name: col.unit, nameLocation: "middle", nameGap: 24},
      yAxis: {type: "category", data: rows.map((r) => barLabel(r, [col.key]))},
      series: [{name: col.title, type: "bar", data: rows.map((r) => num(r[col.key]))}],
    };
  }

  function option(name, data) {
    if (name === "fats_in" || name === "fats_out") return measureOption(data);
    if (name === "series") return seriesOption(data);
    if (name === "pilot") return pilotOption(data);
    if (name === "services") return treemapOption(data, "component", "component_label");
    if (name === "world") return treemapOption(data, "continent", "continent_label");
    return barOption(data);
  }

  function loadPanel(section) {
    const name = section.dataset.panel;
    const chartEl = section.querySelector(".chart");
    const wrap = section.querySelector(".table-wrap");
    chartEl.textContent = t.loading;
    fetch(`/api/v1/analytics/panels/${name}?${qs}`, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => {
        section.querySelector(".panel-title").textContent = data.title;
        const drill = name === "regions" || name === "pilot_areas" ? name : null;
        renderTable(wrap, data, drill);
        chartEl.textContent = "";
        if (!data.rows.length || allConfidential(data)) {
          chartEl.appendChild(el("p", {class: "empty"}, data.rows.length ? t.all_confidential : t.empty));
          chartEl.classList.add("is-empty");
          return;
        }
        const chart = echarts.init(chartEl, null, {locale: lang});
        chart.setOption(option(name, data));
        charts.push(chart);
        if (drill) {
          section.querySelector(".panel-title").title = t.drill;
          chart.on("click", (e) => {
            const row = data.rows[data.rows.length - 1 - e.dataIndex];
            if (row && row.code) window.location.search = drillLink(drill, row.code);
          });
        }
      })
      .catch(() => { chartEl.textContent = t.failed; });
  }

  function loadHeadline() {
    const box = document.getElementById("headline");
    fetch(`/api/v1/analytics/headline?${qs}`, {credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => {
        box.innerHTML = "";
        data.indicators.forEach((i) => {
          const card = el("div", {class: "kpi", title: i.formula, "data-code": i.code});
          card.appendChild(el("span", {}, i.name));
          card.appendChild(el("b", {}, i.unit === "USD" && i.value !== null ? fmt.format(Number(i.value) / 1e6) : show(i.value, i.unit)));
          if (i.unit === "USD") card.appendChild(el("small", {}, t.usd_m));
          box.appendChild(card);
        });
      })
      .catch(() => { box.textContent = t.failed; });
  }

  loadHeadline();
  document.querySelectorAll("section.panel").forEach(loadPanel);
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
