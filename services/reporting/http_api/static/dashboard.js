// The operator dashboard: draws a snapshot, then redraws on every server-sent "snapshot".
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  // The key comes in the address's fragment (#key=…, never sent to a server), from an older
  // ?key= link, from this tab's session, or from the user; it is then cleared from the address
  // bar, so it is in no bookmark, history entry or shared screen.
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  let key = fragment.get("key") || params.get("key") || window.sessionStorage.getItem("prt-api-key");
  if (!key) {
    key = window.prompt("请输入运行监测 API 密钥(operator 或 department)") || "";
  }
  window.sessionStorage.setItem("prt-api-key", key);
  params.delete("key");
  const rest = params.toString();
  window.history.replaceState(null, "", rest ? `?${rest}` : window.location.pathname);

  const charts = {
    region: echarts.init(document.getElementById("chart-region")),
    category: echarts.init(document.getElementById("chart-category")),
    venue: echarts.init(document.getElementById("chart-venue")),
  };
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

  const periodSelect = document.getElementById("period");
  const year = new Date().getFullYear();
  for (const y of [year, year - 1, year - 2, year - 3]) {
    for (const p of [`${y}`, `${y}-H1`, `${y}-H2`]) {
      const option = document.createElement("option");
      option.value = p;
      option.textContent = p.replace("-H1", " 上半年").replace("-H2", " 下半年");
      periodSelect.appendChild(option);
    }
  }
  periodSelect.value = params.get("period") || "";
  periodSelect.addEventListener("change", () => {
    params.set("period", periodSelect.value);
    window.history.replaceState(null, "", `?${params}`);
    connect();
  });

  function bar(chart, rows) {
    chart.setOption({
      tooltip: {},
      grid: { left: 40, right: 10, bottom: 60, top: 10 },
      xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: 40 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: rows.map((r) => r.value), itemStyle: { color: "#a61b1b" } }],
    }, true);
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function draw(data) {
    document.getElementById("total-registrations").textContent = data.totals.registrations;
    // 万元 as the server formats them (the bulletin's exact half-up rounding, not a float's).
    document.getElementById("total-amount").textContent = data.totals.registered_amount_wan_yuan;
    document.getElementById("total-deals").textContent = data.totals.deals_on_platform;
    document.getElementById("total-deal-amount").textContent =
      data.totals.deal_amount_on_platform_wan_yuan;
    // All the open pushes this key may see; the board below lists the nearest 100 of them.
    document.getElementById("open-pushes").textContent = data.open_pushes;
    document.getElementById("board-note").textContent =
      data.open_pushes > data.push_board.length
        ? `共 ${data.open_pushes} 条,列出时限最近的 ${data.push_board.length} 条`
        : "";
    document.getElementById("resolved-pushes").textContent = data.totals.pushes_resolved;
    // The measures taken (处罚、约谈、移送有关机关、不予处理), those taken at all.
    document.getElementById("resolved-measures").textContent = data.pushes_resolved_by_measure
      .filter((m) => m.value > 0)
      .map((m) => `${m.name}${m.value}`)
      .join("、");
    document.getElementById("updated").textContent = new Date(data.generated_at).toLocaleString("zh-CN");
    document.body.dataset.version = data.version;

    bar(charts.region, data.registrations_by_region);
    const regionBody = document.querySelector("#table-region tbody");
    regionBody.replaceChildren();
    for (const r of data.registrations_by_region) {
      const row = document.createElement("tr");
      cell(row, r.name);
      cell(row, r.code);
      cell(row, r.value).dataset.region = r.code;
      regionBody.appendChild(row);
    }
    charts.category.setOption({
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "70%"],
        data: data.registrations_by_category.map((r) => ({ name: r.name, value: r.value })) }],
    }, true);
    bar(charts.venue, data.remote_evaluations_by_venue);

    document.getElementById("total-detected").textContent = data.totals.detected_signals;
    const rules = document.querySelector("#detected-by-rule tbody");
    rules.replaceChildren();
    for (const r of data.detected_signals_by_rule) {
      const row = document.createElement("tr");
      cell(row, r.name.replace(`(${r.code})`, ""));
      cell(row, r.code);
      cell(row, r.value).dataset.rule = r.code;
      rules.appendChild(row);
    }
    document.getElementById("total-escalated").textContent = data.totals.pushes_escalated;
    const escalations = document.querySelector("#escalated-by-target tbody");
    escalations.replaceChildren();
    for (const e of data.pushes_escalated_by_target) {
      const row = document.createElement("tr");
      cell(row, e.name);
      cell(row, `第${e.level}级`);
      cell(row, e.value).dataset.department = e.code;
      escalations.appendChild(row);
    }

    const board = document.querySelector("#push-board tbody");
    board.replaceChildren();
    for (const p of data.push_board) {
      const row = document.createElement("tr");
      if (p.overdue) row.className = "overdue";
      // What was pushed, and who found it: a department, or a detection rule.
      const what = cell(row, p.behaviour || "(报告待同步)");
      what.title = `推送 ${p.push_id}`;
      const found = p.rule ? `${p.source} ${p.rule}` : p.source;
      if (found) {
        const origin = document.createElement("span");
        origin.className = "origin";
        origin.textContent = found;
        what.appendChild(origin);
      }
      cell(row, p.department_name);
      cell(row, p.status + (p.overdue ? "(超期)" : ""));
      const due = cell(row, p.due ? new Date(p.due).toLocaleString("zh-CN") : "—");
      if (p.due && p.due_estimated) {
        due.textContent += "（预计）";
        due.title = "节假日安排未发布，按周一至周五估算";
      }
      board.appendChild(row);
    }
  }

  // The event stream: EventSource cannot send the key in a header, so each connection is
  // opened with a one-time ticket issued for the key (POST /v1/dashboard/stream-tickets). A
  // dropped connection is reopened with a fresh ticket, waiting longer after each failure.
  const status = document.getElementById("status");
  let source = null;
  let retryTimer = null;
  let retryMs = 1000;
  let generation = 0;

  function showStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function retryLater(atLeastMs = 0) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, Math.max(retryMs, atLeastMs));
    retryMs = Math.min(retryMs * 2, 30000);
  }

  function keyRefused(message) {
    window.sessionStorage.removeItem("prt-api-key");
    showStatus("error", "密钥无效或已吊销,请刷新页面重新输入");
    status.title = message || "";
  }

  async function connect() {
    const mine = ++generation;
    clearTimeout(retryTimer);
    if (source) source.close();
    source = null;
    let response;
    try {
      response = await fetch("/v1/dashboard/stream-tickets",
        { method: "POST", headers: { "X-API-Key": key } });
    } catch (error) {
      showStatus("error", "连接中断,重连中…");
      retryLater();
      return;
    }
    if (mine !== generation) return;  // the period changed meanwhile: a newer connect runs
    if (response.status === 401 || response.status === 403) {
      keyRefused((await response.json().catch(() => ({}))).message);
      return;
    }
    if (response.status === 429) {  // too many tickets this minute: wait as told
      const waitS = Number(response.headers.get("Retry-After")) || 30;
      showStatus("error", `请求过于频繁,${waitS} 秒后重连…`);
      retryLater(waitS * 1000);
      return;
    }
    if (!response.ok) {
      showStatus("error", `错误 ${response.status},重连中…`);
      retryLater();
      return;
    }
    const { ticket } = await response.json();
    if (mine !== generation) return;
    const query = new URLSearchParams({ ticket });
    if (periodSelect.value) query.set("period", periodSelect.value);
    const opened = new EventSource(`/v1/dashboard/stream?${query}`);
    source = opened;
    opened.addEventListener("snapshot", (event) => {
      retryMs = 1000;
      showStatus("live", "实时");
      draw(JSON.parse(event.data));
    });
    opened.addEventListener("unauthenticated", (event) => {
      opened.close();
      keyRefused(JSON.parse(event.data).message);
    });
    opened.onerror = () => {
      // Its ticket is spent, so EventSource's own retry would be refused: reconnect here.
      opened.close();
      if (opened !== source) return;
      showStatus("error", "连接中断,重连中…");
      retryLater();
    };
  }
  connect();

  // Stream health (operators only): each consumer group's lag and each dead-letter topic's
  // records, polled; the server reads the broker at most every few seconds whoever asks.
  const STREAMS_POLL_MS = 10000;
  const GROUP_STATES = {
    Stable: "运行中",
    Empty: "未运行",
    PreparingRebalance: "再均衡",
    CompletingRebalance: "再均衡",
    Dead: "已删除",
  };
  const streamsPanel = document.getElementById("streams");
  const streamsStatus = document.getElementById("streams-status");

  function count(row, value) {
    const td = cell(row, value);
    td.className = value > 0 ? "count nonzero" : "count";
    return td;
  }

  function drawStreams(data) {
    const groups = document.querySelector("#stream-groups tbody");
    groups.replaceChildren();
    for (const g of data.groups) {
      const row = document.createElement("tr");
      cell(row, g.group_id);
      const state = GROUP_STATES[g.state] || g.state || "—";
      cell(row, g.members ? `${state}(${g.members})` : state);
      count(row, g.lag).title = g.topics.map((t) => `${t.topic}: ${t.lag}`).join("\n");
      groups.appendChild(row);
    }
    const deadLetters = document.querySelector("#dead-letters tbody");
    deadLetters.replaceChildren();
    for (const d of data.dead_letters) {
      const row = document.createElement("tr");
      cell(row, d.topic).title = d.consumer;
      count(row, d.records);
      if (d.records > 0) {
        // The letters themselves: where each came from and why it was refused.
        row.className = "clickable";
        row.addEventListener("click", () => showLetters(d.consumer));
      }
      deadLetters.appendChild(row);
    }
    streamsStatus.textContent = `读取于 ${new Date(data.observed_at).toLocaleTimeString("zh-CN")}`;
  }

  async function showLetters(consumer) {
    const list = document.getElementById("letters");
    const body = document.querySelector("#letters tbody");
    const response = await fetch(`/v1/operations/dead-letters/${encodeURIComponent(consumer)}`,
      { headers: { "X-API-Key": key } });
    body.replaceChildren();
    document.getElementById("letters-consumer").textContent = consumer;
    list.hidden = false;
    if (!response.ok) {
      const row = document.createElement("tr");
      cell(row, `读取失败(${response.status})`).colSpan = 4;
      body.appendChild(row);
      return;
    }
    const data = await response.json();
    document.getElementById("letters-pending").textContent = `待重投 ${data.pending} 条`;
    for (const letter of data.letters) {
      const row = document.createElement("tr");
      cell(row, new Date(letter.dead_lettered_at).toLocaleString("zh-CN"));
      cell(row, letter.source).title = letter.event_id || "";
      cell(row, letter.event_type || "—");
      cell(row, letter.reason + (letter.redriven ? "(已重投)" : ""));
      body.appendChild(row);
    }
  }

  let streamsTimer = null;
  async function pollStreams() {
    let response;
    try {
      response = await fetch("/v1/operations/streams", { headers: { "X-API-Key": key } });
    } catch (error) {
      streamsStatus.textContent = "连接中断";
      return;
    }
    if (response.status === 401 || response.status === 403) {
      // A department's key: the panel is for the 联席办's duty officers; stop asking.
      streamsPanel.hidden = true;
      clearInterval(streamsTimer);
      return;
    }
    streamsPanel.hidden = false;
    if (!response.ok) {
      streamsStatus.textContent = response.status === 503 ? "Kafka 暂不可读" : `错误 ${response.status}`;
      return;
    }
    drawStreams(await response.json());
  }
  streamsTimer = setInterval(pollStreams, STREAMS_POLL_MS);
  pollStreams();

  // API keys ending within 30 days, or ended in the last 30 (operators only, beside the streams):
  // rotated in time, no department's system is cut off.
  const KEYS_POLL_MS = 300000;
  async function pollKeysDue() {
    let response;
    try {
      response = await fetch("/v1/operations/api-keys/due?within_days=30",
        { headers: { "X-API-Key": key } });
    } catch (error) {
      return;
    }
    if (!response.ok) return;  // a department's key: the panel stays hidden
    const data = await response.json();
    const body = document.querySelector("#keys-due tbody");
    body.replaceChildren();
    if (data.keys.length === 0) {
      const row = document.createElement("tr");
      cell(row, "无").colSpan = 4;
      body.appendChild(row);
      return;
    }
    for (const k of data.keys) {
      const row = document.createElement("tr");
      row.dataset.keyId = k.key_id;
      cell(row, k.name).title = `${k.kind} ${k.code} · ${k.key_id}`;
      cell(row, new Date(k.expires_at).toLocaleString("zh-CN"));
      cell(row, k.status === "expired" ? "已到期" : "即将到期");
      cell(row, k.replaced_by ? `已轮换(${k.replaced_by})` : "未轮换");
      if (!k.replaced_by) row.classList.add("overdue");
      body.appendChild(row);
    }
  }
  setInterval(pollKeysDue, KEYS_POLL_MS);
  pollKeysDue();
})();
