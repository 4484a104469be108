// The dashboard: reads the filters from the URL, asks /api/v1 for each panel, draws Vega-Lite charts.
// Filters live in the URL (shareable); every chart offers PNG and CSV downloads of what it shows.
// One function scope: the Vega bundle declares minified top-level names that a global `el` would replace.
(() => {
"use strict";

const KPI_CARDS = [
  ["net_revenue_usd", "Net revenue", "money"],
  ["gmv_usd", "GMV", "money"],
  ["orders", "Orders", "count"],
  ["aov_usd", "AOV", "money"],
  ["sessions", "Sessions", "count"],
  ["conversion_rate", "Conversion rate", "rate"],
  ["payment_success_rate", "Payment success", "rate"],
  ["refund_rate", "Refund rate", "rate"],
  ["on_time_delivery_rate", "On-time delivery", "rate"],
];

const bar = (x, y, opts = {}) => ({
  mark: { type: "bar", tooltip: true },
  encoding: {
    x: { field: x, type: "nominal", sort: opts.sort || "-y", title: opts.xTitle || x },
    y: { field: y, type: "quantitative", title: opts.yTitle || y, axis: opts.format ? { format: opts.format } : {} },
    ...(opts.color ? { color: { field: opts.color, type: "nominal" } } : {}),
  },
});
const line = (y, opts = {}) => ({
  mark: { type: "line", point: true, tooltip: true },
  encoding: {
    x: { field: opts.x || "date", type: "temporal", title: opts.xTitle || "date" },
    y: { field: y, type: "quantitative", title: opts.yTitle || y, axis: opts.format ? { format: opts.format } : {} },
    ...(opts.color ? { color: { field: opts.color, type: "nominal" } } : {}),
  },
});
const folded = (fields, spec) => ({ transform: [{ fold: fields, as: ["measure", "value"] }], ...spec });

// The revenue trend: the lower strip selects the range the upper chart shows.
const revenueTrend = {
  vconcat: [
    {
      height: 220,
      mark: { type: "line", point: true, tooltip: true },
      encoding: {
        x: { field: "date", type: "temporal", scale: { domain: { param: "range" } }, title: null },
        y: { field: "net_revenue_usd", type: "quantitative", title: "net revenue (USD)" },
        color: { field: "store_id", type: "nominal", title: "store" },
      },
    },
    {
      height: 60,
      mark: "area",
      params: [{ name: "range", select: { type: "interval", encodings: ["x"] } }],
      encoding: {
        x: { field: "date", type: "temporal", title: "drag to select a range" },
        y: { aggregate: "sum", field: "gmv_usd", type: "quantitative", title: "GMV" },
      },
    },
  ],
};

// page -> its charts and tables: [kind, id, title, panel, dataset, spec or columns]
const PAGES = {
  overview: [
    ["cards", "kpis", "KPIs", "kpis"],
    ["chart", "revenue-trend", "Net revenue per day (USD), with a range selector", "revenue", "daily", revenueTrend],
  ],
  sales: [
    ["chart", "platform-gmv", "GMV by platform (USD)", "platforms", "by_platform", bar("platform", "gmv_usd")],
    ["chart", "platform-conversion", "Conversion rate by platform", "platforms", "by_platform",
      bar("platform", "conversion_rate", { format: ".1%" })],
    ["chart", "category-ranks", "Categories ranked by GMV (USD)", "categories", "by_category", bar("category", "gmv_usd")],
    ["table", "promotions", "Promotions (all time)", "promotions", "by_code",
      ["code", "promotion_name", "uses", "paid_orders", "gmv_usd", "discounts_usd", "conversion_rate"]],
  ],
  customers: [
    ["chart", "new-vs-returning", "New vs returning customers per day", "customers", "new_vs_returning",
      folded(["new_customers", "returning_customers"], {
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: { field: "date", type: "temporal" },
          y: { field: "value", type: "quantitative", stack: true, title: "customers" },
          color: { field: "measure", type: "nominal" },
        },
      })],
    ["chart", "retention-heatmap", "Cohort retention", "customers", "retention", {
      width: { step: 40 },
      mark: { type: "rect", tooltip: true },
      encoding: {
        x: { field: "months_since_first_order", type: "ordinal", title: "months since first order" },
        y: { field: "cohort_month", type: "ordinal", timeUnit: "yearmonth", title: "cohort" },
        color: { field: "retention_rate", type: "quantitative", legend: { format: ".0%" } },
      },
    }],
    ["chart", "ltv-distribution", "Customers by historical LTV (USD, bands of 50)", "customers", "ltv",
      bar("ltv_usd_from", "customers", { sort: null, xTitle: "LTV from (USD)" })],
  ],
  funnel: [
    ["chart", "funnel-steps", "Funnel entrants by step", "funnel", "steps",
      bar("step_name", "entrants", { sort: { field: "step_number" } })],
    ["chart", "traffic-sources", "Sessions by channel group", "traffic", "sources",
      bar("channel_group", "sessions", { color: "medium" })],
    ["table", "top-pages", "Top pages", "traffic", "pages",
      ["page_path", "views", "avg_seconds_on_page", "bounce_rate"]],
  ],
  operations: [
    ["chart", "stockouts", "Stocked-out product-warehouses per day", "inventory", "stockouts", line("stockouts")],
    ["chart", "days-of-cover", "Days of cover on the last day", "inventory", "days_of_cover",
      bar("cover_band", "product_warehouses", { sort: null })],
    ["table", "reorder-alerts", "Reorder alerts", "inventory", "reorder_alerts",
      ["store_id", "product_id", "warehouse_id", "on_hand", "reorder_point", "days_of_cover", "suggested_quantity"]],
    ["chart", "payment-success", "Payment success rate by gateway and method", "payments", "by_gateway",
      bar("gateway", "payment_success_rate", { color: "method", format: ".1%" })],
    ["chart", "payment-latency", "Worst daily p95 latency (ms)", "payments", "by_gateway",
      bar("gateway", "worst_daily_latency_p95_ms", { color: "method" })],
    ["chart", "delivery-on-time", "On-time delivery rate by carrier and region", "delivery", "by_carrier",
      bar("carrier", "on_time_delivery_rate", { color: "region", format: ".1%" })],
  ],
  feedback: [
    ["chart", "reviews-timeline", "Reviews per day", "feedback", "timeline", line("reviews")],
    ["chart", "mean-rating", "Mean rating per day", "feedback", "timeline", line("mean_rating")],
    ["chart", "ratings", "Ratings distribution", "feedback", "ratings",
      folded(["ratings_1_star", "ratings_2_star", "ratings_3_star", "ratings_4_star", "ratings_5_star"],
        bar("measure", "value", { sort: null, xTitle: "rating" }))],
  ],
  quality: [
    ["chart", "quarantine-by-source", "Rows quarantined by source", "quality", "by_source",
      bar("source", "rows_quarantined")],
    ["chart", "quarantine-rate", "Quarantine rate per day", "quality", "daily", line("quarantine_rate", { format: ".2%" })],
    ["chart", "consent-accept", "Consent accept rate per day", "consent", "daily", line("accept_rate", { format: ".1%" })],
  ],
  compliance: [
    ["chart", "access-timeline", "Reads per day by channel", "compliance", "access_daily", {
      mark: { type: "bar", tooltip: true },
      encoding: {
        x: { field: "date", type: "temporal" },
        y: { field: "requests", type: "quantitative", stack: true },
        color: { field: "channel", type: "nominal" },
      },
    }],
    ["table", "gdpr-exports", "GDPR exports", "compliance", "gdpr_exports",
      ["accessed_at", "token_id", "stores", "status", "rows_returned"]],
    ["table", "erasures", "Erasures", "compliance", "erasures", ["erased_at", "store_id", "places", "rows_removed"]],
    ["table", "purges", "Purges", "compliance", "purges", ["purged_at", "as_of", "targets", "values_purged"]],
  ],
};

const state = { me: null, panelDimensions: {}, options: {}, views: {} };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new Error("session ended");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function filters() {
  return new URLSearchParams(location.search);
}

// The query of one panel: the common filters plus only the dimensions that panel takes.
function panelQuery(panel) {
  const params = new URLSearchParams();
  for (const [key, value] of filters()) {
    if (["from", "to", "store"].includes(key) || (state.panelDimensions[panel] || []).includes(key)) {
      params.append(key, value);
    }
  }
  return params.toString();
}

function format(value, kind) {
  if (value === null || value === undefined) return "–";
  if (kind === "money") return "$" + Number(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (kind === "rate") return (100 * value).toFixed(1) + "%";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function toCSV(rows) {
  if (!rows.length) return "";
  const columns = Object.keys(rows[0]);
  const cell = (v) => {
    const text = v === null || v === undefined ? "" : Array.isArray(v) ? v.join(";") : String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

function download(name, href) {
  const link = el("a", { href, download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

function downloadButtons(id, rows, view) {
  const buttons = el("span", { class: "downloads" });
  if (view) {
    const png = el("button", { type: "button", "data-download": "png" }, "PNG");
    png.addEventListener("click", async () => download(`${id}.png`, await view.toImageURL("png", 2)));
    buttons.append(png);
  }
  const csv = el("button", { type: "button", "data-download": "csv" }, "CSV");
  csv.addEventListener("click", () => {
    download(`${id}.csv`, URL.createObjectURL(new Blob([toCSV(rows)], { type: "text/csv" })));
  });
  buttons.append(csv);
  return buttons;
}

function renderCards(box, body) {
  const byName = Object.fromEntries(body.kpis.map((k) => [k.name, k]));
  box.replaceChildren();
  for (const [name, label, kind] of KPI_CARDS) {
    const kpi = byName[name];
    const change = kpi.change === null ? "no previous figure" : `${kpi.change >= 0 ? "+" : ""}${(100 * kpi.change).toFixed(1)}% vs previous`;
    box.append(el("div", { class: "card", "data-kpi": name },
      el("h3", {}, label),
      el("p", { class: "value", "data-value": kpi.value === null ? "" : String(kpi.value) }, format(kpi.value, kind)),
      el("p", { class: `change ${kpi.change > 0 ? "up" : kpi.change < 0 ? "down" : ""}` }, change)));
  }
  const previous = body.previous_period;
  box.append(el("p", { class: "note" }, `Previous period: ${previous.from} to ${previous.to}`));
}

function renderTable(box, columns, rows) {
  const head = el("tr", {}, ...columns.map((c) => el("th", {}, c)));
  const lines = rows.map((r) => el("tr", {}, ...columns.map((c) => el("td", {}, format(r[c], c.endsWith("_rate") ? "rate" : typeof r[c] === "number" ? "count" : "text")))));
  box.append(el("table", {}, el("thead", {}, head), el("tbody", {}, ...lines)));
}

async function renderItem(item, answers) {
  const [kind, id, title, panel, dataset, spec] = item;
  const box = el("figure", { class: `panel ${kind}`, id, "data-state": "loading" }, el("figcaption", {}, title));
  document.getElementById(kind === "cards" ? "cards" : "panels").append(box);
  let body;
  try {
    body = await answers[panel];
  } catch (error) {
    box.append(el("p", { class: "error" }, `Could not load ${panel}: ${error.message}`));
    box.dataset.state = "error";
    return;
  }
  if (kind === "cards") {
    renderCards(box, body);
    box.dataset.state = "ready";
    return;
  }
  const rows = body.datasets[dataset];
  collectOptions(panel, rows);
  if (!rows.length) {
    box.append(el("p", { class: "empty" }, "No data for these filters."));
    box.dataset.state = "empty";
    return;
  }
  if (kind === "table") {
    box.firstChild.append(downloadButtons(id, rows, null));
    renderTable(box, spec, rows);
    box.dataset.state = "ready";
    return;
  }
  const chart = el("div", { class: "chart" });
  box.append(chart);
  // Single views fill their panel; a concatenation gets its panel's width per view (Vega-Lite
  // sizes only single views to a container), a heatmap sizes by its cells.
  const fill = { width: "container", autosize: { type: "fit-x", contains: "padding" } };
  const width = Math.max(chart.clientWidth - 140, 200);
  const sized = spec.vconcat ? { vconcat: spec.vconcat.map((view) => ({ ...view, width })) } : spec.width ? {} : fill;
  const full = { data: { values: rows }, ...spec, ...sized };
  let result;
  try {
    result = await vegaEmbed(chart, full, { actions: false, renderer: "svg" });
  } catch (error) {
    chart.replaceWith(el("p", { class: "error" }, `Could not draw ${title}: ${error.message}`));
    box.dataset.state = "error";
    return;
  }
  state.views[id] = result.view;
  box.firstChild.append(downloadButtons(id, rows, result.view));
  box.dataset.state = "ready";
  box.dataset.rows = String(rows.length);
}

function collectOptions(panel, rows) {
  for (const dimension of state.panelDimensions[panel] || []) {
    const known = (state.options[dimension] ||= new Set());
    for (const row of rows) if (row[dimension] !== undefined && row[dimension] !== null) known.add(String(row[dimension]));
  }
}

function select(name, label, values, current) {
  const box = el("select", { name, "aria-label": label });
  box.append(el("option", { value: "" }, `All ${label}`));
  for (const value of [...values].sort()) {
    const option = el("option", { value }, value);
    if (value === current) option.selected = true;
    box.append(option);
  }
  return el("label", {}, label, box);
}

function renderFilters(dimensions) {
  const form = document.getElementById("filters");
  const params = filters();
  const last = state.me.latest_date;
  const first = new Date(Date.parse(last) - (state.me.default_days - 1) * 86400000).toISOString().slice(0, 10);
  form.replaceChildren(
    el("label", {}, "From", el("input", { type: "date", name: "from", value: params.get("from") || first })),
    el("label", {}, "To", el("input", { type: "date", name: "to", value: params.get("to") || last })),
    select("store", "stores", state.me.stores, params.get("store") || ""),
    ...dimensions.map((d) => select(d, d.replaceAll("_", " "), state.options[d] || [], params.get(d) || "")),
  );
  form.onchange = () => {
    const next = new URLSearchParams();
    for (const field of form.elements) if (field.name && field.value) next.set(field.name, field.value);
    history.pushState(null, "", `${location.pathname}?${next}`);
    draw();
  };
}

function renderNav() {
  const names = { "/": "Overview", "/sales": "Sales", "/customers": "Customers", "/funnel": "Funnel and traffic",
    "/operations": "Operations", "/feedback": "Feedback", "/quality": "Data quality", "/compliance": "Compliance" };
  const keep = new URLSearchParams();
  for (const key of ["from", "to", "store"]) if (filters().get(key)) keep.set(key, filters().get(key));
  const query = keep.toString() ? `?${keep}` : "";
  document.getElementById("nav").replaceChildren(...state.me.pages.map((path) =>
    el("a", { href: path + query, ...(path === location.pathname ? { "aria-current": "page" } : {}) }, names[path])));
  document.getElementById("who").textContent = `${state.me.name} · ${state.me.role} · ${state.me.stores.join(", ")}`;
}

async function draw() {
  const items = PAGES[document.body.dataset.page];
  document.getElementById("cards").replaceChildren();
  document.getElementById("panels").replaceChildren();
  document.body.dataset.ready = "false";
  const panels = [...new Set(items.map((i) => i[3]))];
  const answers = Object.fromEntries(panels.map((p) => [p, getJSON(`/api/v1/${p}?${panelQuery(p)}`)]));
  await Promise.allSettled(items.map((item) => renderItem(item, answers)));
  renderFilters([...new Set(panels.flatMap((p) => state.panelDimensions[p] || []))]);
  renderNav();
  document.body.dataset.ready = "true";
}

async function dashboard() {
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/v1/session", { method: "DELETE", credentials: "same-origin" });
    location.assign("/login");
  });
  const [me, openapi] = await Promise.all([getJSON("/api/v1/me"), getJSON("/api/v1/openapi.json")]);
  state.me = me;
  for (const [path, item] of Object.entries(openapi.paths)) {
    const panel = path.replace("/api/v1/", "");
    state.panelDimensions[panel] = ((item.get && item.get.parameters) || [])
      .map((p) => p.name).filter((n) => !["from", "to", "store", "mart"].includes(n));
  }
  window.addEventListener("popstate", draw);
  await draw();
}

function login() {
  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch("/api/v1/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: document.getElementById("token").value }),
    });
    if (!response.ok) {
      const error = document.getElementById("login-error");
      error.textContent = "Unknown or revoked token.";
      error.hidden = false;
      return;
    }
    const next = new URLSearchParams(location.search).get("next") || "/";
    location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
  });
}

document.addEventListener("DOMContentLoaded", () => (document.body.dataset.page === "login" ? login() : dashboard()));
})();
