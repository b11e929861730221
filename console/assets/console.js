// The console's only script: draws the change chart from the page's JSON block. Every page reads
// and works without it; a bar click narrows the window to that bar.
(() => {
  const data = document.getElementById('chart-data');
  const canvas = document.getElementById('change-chart');
  if (!data || !canvas || !window.Chart) return;
  const chart = JSON.parse(data.textContent);
  const colors = {
    insert: '#2e7d32',
    modify: '#f9a825',
    remove: '#c62828',
    ttl: '#6a1b9a',
    backfill: '#546e7a',
  };
  const label = (ms) => {
    const iso = new Date(ms).toISOString();
    return chart.step === 'day' ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
  };
  const drawn = new window.Chart(canvas, {
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
  // For the browser tests and the curious: what was drawn.
  window.ddbRewindChart = drawn;
})();
