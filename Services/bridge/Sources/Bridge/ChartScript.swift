/// The chart page's script (`GET /assets/sluice-chart.js`): finds series through the bridge's `/series`,
/// by domain, name prefix and label matchers (`host="a", dc=~"eu.*"`, as Prometheus writes them), charts
/// each chosen one from `POST /v1/window` with dygraphs (every value index a line; points the
/// bridge could not fill, `missing_timestamps`, drawn as gaps, never as zeros), and asks again every
/// resolution step, never faster than once a second. A range dragged on a chart is fetched for every chart
/// at the bridge's resolution for it (choosing a window goes live again). A key, when the bridge requires
/// one, is asked once and kept in `sessionStorage`; a 401 or 403 is shown, not swallowed, and a new key
/// lists the series again. A link can choose what to show:
/// `/?domain=acme&series=cpu,mem&window=3600000&fn=max`. Values are as of each step, or an aggregate
/// (`fn`) over the step ending at each point. What it plotted stays readable in `window.sluiceChart`
/// and, as JSON, in the hidden `#state` element, so a browser test can compare it with the bridge's answer.
enum ChartScript {
    static let javascript = #"""
        "use strict";
        (function () {
          /// `asked`: window requests sent, so a test can tell how many refresh loops run.
          const state = { series: {}, errors: [], asked: 0 };
          /// A dragged range, {start, end} in ms, or null: the live window.
          let range = null;
          /// Counts restarts: a refresh begun before the last one drops its answer and stops, so no
          /// refresh loop outlives the charts it was for.
          let generation = 0;
          window.sluiceChart = state;
          const $ = (id) => document.getElementById(id);
          const status = $("status");
          const keyInput = $("key");
          keyInput.value = sessionStorage.getItem("sluice-key") || "";
          keyInput.addEventListener("change", () => {
            sessionStorage.setItem("sluice-key", keyInput.value.trim());
            restart();
            findSeries();
          });

          function say(text, isError) {
            status.textContent = text;
            status.className = isError ? "error" : "";
            if (isError) state.errors.push(text);
            publish();
          }

          /// The page's own account of what it shows, for people reading the DOM and for tests.
          function publish() {
            const series = {};
            for (const tag of Object.keys(state.series)) {
              const chart = state.series[tag];
              series[tag] = {
                plotted: chart.plotted, resolution_ms: chart.answer ? chart.answer.resolution_ms : null,
                updated_at: chart.updatedAt || null, render_ms: chart.renderMs === undefined ? null : chart.renderMs,
                first_render_ms: chart.firstRenderMs === undefined ? null : chart.firstRenderMs,
              };
            }
            const listed = Array.from($("series").options).map((option) => option.value);
            $("state").textContent = JSON.stringify({ series: series, errors: state.errors, range: range, fn: $("fn").value, listed: listed });
          }

          async function ask(path, options) {
            const headers = Object.assign({}, (options && options.headers) || {});
            const key = keyInput.value.trim();
            if (key) headers["Authorization"] = "Bearer " + key;
            const response = await fetch(path, Object.assign({}, options, { headers }));
            let body = null;
            try { body = await response.json(); } catch (e) { body = null; }
            if (response.status === 401) throw new Error("401: the bridge needs a valid key (" + ((body && body.error) || "refused") + ")");
            if (response.status === 403) throw new Error("403: this key may not read " + ((body && body.forbidden_domains) || []).join(", "));
            if (!response.ok) throw new Error(response.status + ": " + ((body && body.error) || response.statusText));
            return body;
          }

          /// `host="a", dc=~"x,y"` → ['host="a"', 'dc=~"x,y"']: split at commas outside double quotes.
          function matchers(text) {
            const found = [];
            let current = "", quoted = false;
            for (let i = 0; i < text.length; i++) {
              const c = text[i];
              if (c === "\\" && quoted && i + 1 < text.length) { current += c + text[++i]; continue; }
              if (c === '"') quoted = !quoted;
              if (c === "," && !quoted) { found.push(current); current = ""; } else { current += c; }
            }
            found.push(current);
            return found.map((m) => m.trim()).filter((m) => m.length > 0);
          }

          async function findSeries() {
            const domain = $("domain").value.trim() || "default";
            const prefix = $("prefix").value.trim();
            const query = "domain=" + encodeURIComponent(domain) + "&limit=200" + (prefix ? "&prefix=" + encodeURIComponent(prefix) : "")
              + matchers($("labels").value).map((m) => "&match[]=" + encodeURIComponent(m)).join("");
            try {
              const page = await ask("/series?" + query);
              const select = $("series");
              // What is chosen stays chosen (and listed) when the list is asked again, after a new key.
              const chosen = Array.from(select.selectedOptions).map((option) => option.value);
              select.innerHTML = "";
              const names = page.series.map((found) => found.series);
              for (const name of chosen.filter((name) => !names.includes(name)).concat(names)) {
                const option = document.createElement("option");
                option.value = name;
                option.textContent = name;
                option.selected = chosen.includes(name);
                select.appendChild(option);
              }
              say(page.series.length + " series in " + domain + (page.next ? " (more: narrow the name)" : ""), false);
            } catch (error) {
              say(error.message, true);
            }
          }

          /// Rows for dygraphs: each answered point, and a row of nulls at each missing timestamp (a gap).
          function rows(answer, tag) {
            const points = (answer.data && answer.data[tag]) || [];
            const width = points.reduce((most, point) => Math.max(most, point[1].length), 0);
            const byTime = new Map();
            for (const point of points) byTime.set(point[0], point[1]);
            for (const time of answer.missing_timestamps || []) if (!byTime.has(time)) byTime.set(time, null);
            const times = Array.from(byTime.keys()).sort((a, b) => a - b);
            return {
              width: width,
              rows: times.map((time) => {
                const values = byTime.get(time);
                const row = [new Date(time)];
                for (let i = 0; i < width; i++) row.push(values && i < values.length ? values[i] : null);
                return row;
              }),
            };
          }

          function chartFor(tag) {
            if (state.series[tag]) return state.series[tag];
            const box = document.createElement("div");
            box.className = "chart";
            const title = document.createElement("h2");
            title.textContent = tag;
            const age = document.createElement("span");
            age.className = "age";
            title.appendChild(age);
            const plot = document.createElement("div");
            plot.className = "plot";
            const legend = document.createElement("div");
            legend.className = "legend";
            box.append(title, plot, legend);
            $("charts").appendChild(box);
            state.series[tag] = { box, plot, legend, age, graph: null, answer: null, plotted: [], timer: null };
            return state.series[tag];
          }

          const isoTime = (ms) => new Date(ms).toISOString();

          async function refresh(tag, domain, windowMs, fn, run) {
            if (run !== generation) return;
            const chart = chartFor(tag);
            let next = 1000;
            let failed = false;
            state.asked += 1;
            try {
              const answer = await ask("/v1/window", {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify(Object.assign(
                  range ? { tag: tag, domain: domain, start_time_ms: range.start, end_time_ms: range.end }
                        : { tag: tag, domain: domain, start_time_ms: -windowMs },
                  fn === "asof" ? {} : { fn: fn })),
              });
              if (run !== generation) return;
              // From the answer in hand (parsed) to the chart drawn: the page's own cost, the rows built for
              // dygraphs included (issue 18's target: ≤ 300 ms for 1000 points × 10 values).
              const began = performance.now();
              const { width, rows: data } = rows(answer, tag);
              chart.answer = answer;
              chart.plotted = data.map((row) => [row[0].getTime()].concat(row.slice(1)));
              next = Math.max(1000, answer.resolution_ms || 1000);
              const labels = ["time"].concat(Array.from({ length: width }, (_, i) => "value " + i));
              if (data.length === 0) {
                chart.age.textContent = " — no measurement in this window";
              } else {
                const options = {
                  labels: labels, legend: "always", labelsDiv: chart.legend, connectSeparatedPoints: false,
                  axes: { x: { valueFormatter: isoTime } },
                  // A dragged range is fetched anew, at the resolution the bridge chooses for it.
                  zoomCallback: function (low, high) {
                    if (!this.isZoomed("x")) return;
                    range = { start: Math.floor(low), end: Math.ceil(high) };
                    setTimeout(restart, 0);
                  },
                };
                if (chart.graph && chart.graph.numColumns() === labels.length) {
                  chart.graph.updateOptions({ file: data });
                } else {
                  if (chart.graph) chart.graph.destroy();
                  chart.graph = new Dygraph(chart.plot, data, options);
                  chart.firstRenderMs = performance.now() - began;
                }
                chart.renderMs = performance.now() - began;
                const newest = answer.latest_result_ms;
                chart.age.textContent = newest ? " — newest point " + ((Date.now() - newest) / 1000).toFixed(1) + " s old" : "";
              }
              chart.updatedAt = Date.now();
              say(range ? "from " + isoTime(range.start) + " to " + isoTime(range.end) + " (choose a window to go live again)" : "", false);
            } catch (error) {
              if (run !== generation) return;
              say(tag + ": " + error.message, true);
              next = 5000;
              failed = true;
            }
            // A dragged range lies in the past: asked once. The live window is asked again every step.
            if (!range || failed) chart.timer = setTimeout(() => refresh(tag, domain, windowMs, fn, run), next);
          }

          function restart() {
            generation += 1;
            for (const tag of Object.keys(state.series)) {
              clearTimeout(state.series[tag].timer);
              if (state.series[tag].graph) state.series[tag].graph.destroy();
              state.series[tag].box.remove();
              delete state.series[tag];
            }
            const domain = $("domain").value.trim() || "default";
            const windowMs = Number($("window").value);
            const fn = $("fn").value;
            for (const option of $("series").selectedOptions) refresh(option.value, domain, windowMs, fn, generation);
          }

          $("find").addEventListener("click", findSeries);
          $("series").addEventListener("change", restart);
          $("window").addEventListener("change", () => { range = null; restart(); });
          $("fn").addEventListener("change", restart);
          if (typeof Dygraph === "undefined") {
            say("the charting library did not load: install Debian's libjs-dygraphs where the bridge runs (SLUICE_BRIDGE_DYGRAPHS_DIR)", true);
          }
          // A link may choose the domain, the series and the window.
          const link = new URLSearchParams(location.search);
          if (link.get("domain")) $("domain").value = link.get("domain");
          if (link.get("prefix")) $("prefix").value = link.get("prefix");
          if (link.get("labels")) $("labels").value = link.get("labels");
          const linkedWindow = Number(link.get("window"));
          if (linkedWindow > 0) {
            // A window the list does not offer is added to it, so the link shows what it names.
            if (!Array.from($("window").options).some((option) => Number(option.value) === linkedWindow)) {
              const option = document.createElement("option");
              option.value = String(linkedWindow);
              option.textContent = (linkedWindow / 60000).toFixed(1) + " min";
              $("window").appendChild(option);
            }
            $("window").value = String(linkedWindow);
          }
          if (link.get("fn")) $("fn").value = link.get("fn");
          const linked = (link.get("series") || "").split(",").filter((tag) => tag.length > 0);
          for (const tag of linked) {
            const option = document.createElement("option");
            option.value = tag;
            option.textContent = tag;
            option.selected = true;
            $("series").appendChild(option);
          }
          if (linked.length > 0) restart(); else findSeries();
        })();

        """#
}
