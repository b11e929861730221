// The console's only script. Every page reads and works without it; with it, the table page
// fetches its changes section (chart and changed items) after the first paint, and the chart is
// drawn; a click on a bar narrows the window to that bar.
(() => {
  const colors = {
    insert: '#2e7d32',
    modify: '#f9a825',
    remove: '#c62828',
    ttl: '#6a1b9a',
    backfill: '#546e7a',
  };

  function drawChart() {
    const data = document.getElementById('chart-data');
    const canvas = document.getElementById('change-chart');
    if (!data || !canvas || !window.Chart) return;
    const chart = JSON.parse(data.textContent);
    const label = (ms) => {
      const iso = new Date(ms).toISOString();
      return chart.step === 'day' ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
    };
    // For the browser tests and the curious: what was drawn.
    window.ddbRewindChart = new window.Chart(canvas, {
      type: 'bar',
      data: {
        labels: chart.starts.map(label),
        datasets: Object.keys(colors).map((s) => ({
          label: s,
          data: chart.counts[s],
          backgroundColor: colors[s],
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        onClick: (_event, elements) => {
          const bar = elements[0];
          if (!bar) return;
          const from = chart.starts[bar.index];
          const url = new URL(window.location.href);
          url.searchParams.set('from', new Date(from).toISOString());
          url.searchParams.set('to', new Date(from + chart.stepMs - 1).toISOString());
          url.searchParams.delete('after');
          window.location.assign(url.toString());
        },
      },
    });
  }

  /** The table page: its changes section comes from the changes page, fetched once. */
  async function loadChanges() {
    const section = document.getElementById('changes');
    const src = section?.dataset.src;
    if (!section || !src) return drawChart();
    section.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch(src, { credentials: 'same-origin' });
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const loaded = doc.getElementById('changes') ?? doc.getElementById('error')?.parentElement;
      if (loaded)
        section.replaceChildren(...Array.from(loaded.childNodes).map((n) => document.importNode(n, true)));
      section.dataset.loaded = res.ok ? 'true' : 'error';
    } catch (err) {
      section.dataset.loaded = 'error';
      section.append(document.createTextNode(` (could not load: ${err.message})`));
    } finally {
      section.removeAttribute('aria-busy');
    }
    drawChart();
  }

  loadChanges();
})();
