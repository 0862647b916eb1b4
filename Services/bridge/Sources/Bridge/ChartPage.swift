/// The chart page the bridge serves at `GET /`: one HTML document, no build step, nothing from outside the
/// machine — its script (`ChartScript`) and Debian's dygraphs come from the bridge itself (`PageRoutes`).
enum ChartPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Sluice</title>
        <link rel="stylesheet" href="/assets/dygraph.min.css">
        <style>
          body { font: 14px system-ui, sans-serif; margin: 1rem 1.5rem; color: #222; }
          header { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin-bottom: .75rem; }
          label { display: flex; flex-direction: column; font-size: 12px; color: #555; gap: 2px; }
          input, select, button { font: inherit; padding: 3px 6px; }
          #series { min-width: 22rem; }
          #status { margin: .5rem 0; min-height: 1.2em; }
          #status.error { color: #b00020; font-weight: 600; }
          .chart { margin: 1.25rem 0 2rem; }
          .chart h2 { font-size: 15px; margin: 0 0 .25rem; font-weight: 600; }
          .chart .age { font-size: 12px; color: #555; margin-left: .5rem; font-weight: 400; }
          .plot { width: 100%; height: 320px; }
          .legend { font-size: 12px; min-height: 1.2em; }
        </style>
        </head>
        <body>
        <header>
          <label>domain <input id="domain" value="default" size="12"></label>
          <label>name starts with <input id="prefix" size="16" placeholder="any"></label>
          <label>labels <input id="labels" size="22" placeholder='host="a", dc=~"eu.*"'></label>
          <button id="find">Find series</button>
          <label>series (pick one or more) <select id="series" multiple size="6"></select></label>
          <label>window
            <select id="window">
              <option value="300000">5 min</option><option value="900000" selected>15 min</option>
              <option value="3600000">1 h</option><option value="21600000">6 h</option>
              <option value="86400000">24 h</option><option value="604800000">7 d</option>
            </select>
          </label>
          <label>values
            <select id="fn">
              <option value="asof" selected>as of each step</option><option value="avg">average per step</option>
              <option value="min">minimum per step</option><option value="max">maximum per step</option>
              <option value="sum">sum per step</option><option value="count">count per step</option>
              <option value="first">first per step</option><option value="last">last per step</option>
              <option value="rate">rate per second</option>
            </select>
          </label>
          <label>key (when the bridge asks for one) <input id="key" type="password" size="24" placeholder="key_id.secret"></label>
        </header>
        <div id="status"></div>
        <div id="charts"></div>
        <pre id="state" hidden></pre>
        <script src="/assets/dygraph.min.js"></script>
        <script src="/assets/sluice-chart.js"></script>
        </body>
        </html>

        """
}
