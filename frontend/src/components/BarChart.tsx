import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  label: string;
  data: number[];
  color: string;
}

interface Props {
  title: string;
  labels: string[];
  series: Series[];
  stacked?: boolean;
  horizontal?: boolean;
}

/** A bar chart plus the same numbers as a table, so nothing is only in pixels. */
export function BarChart({ title, labels, series, stacked = false, horizontal = false }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const text = '#c5ccd6';
    const grid = 'rgba(255,255,255,0.08)';
    const categoryAxis = { stacked, ticks: { color: text }, grid: { color: grid } };
    const valueAxis = { stacked, ticks: { color: text, precision: 0 }, grid: { color: grid }, beginAtZero: true };
    const chart = new Chart(ref.current, {
      type: 'bar',
      data: {
        labels,
        datasets: series.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.color, borderWidth: 0 })),
      },
      options: {
        indexAxis: horizontal ? 'y' : 'x',
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { labels: { color: text, boxWidth: 12 } } },
        // counts: whole-number ticks on the value axis, whichever way the bars run
        scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
      },
    });
    return () => chart.destroy();
  }, [labels, series, stacked, horizontal]);

  // every count 0 (the case verdicts before any is given) draws bare axes: say so in words, as with no labels
  const empty = series.every((s) => labels.every((_, i) => !s.data[i]));
  const summary = `${title}: ${labels
    .map((l, i) => `${l} — ${series.map((s) => `${s.label} ${s.data[i] ?? 0}`).join(', ')}`)
    .join('; ')}`;

  return (
    <figure className="panel chart">
      <figcaption>
        <h2>{title}</h2>
      </figcaption>
      {empty ? (
        <p className="muted">No data yet.</p>
      ) : (
        <>
          <div className="chart-box">
            <canvas ref={ref} role="img" aria-label={summary} />
          </div>
          <details className="data-table">
            <summary>Data for “{title}”</summary>
            <table className="grid sub">
              <thead>
                <tr>
                  <th scope="col"></th>
                  {series.map((s) => (
                    <th scope="col" key={s.label} className="num">
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {labels.map((l, i) => (
                  <tr key={l}>
                    <th scope="row">{l}</th>
                    {series.map((s) => (
                      <td key={s.label} className="num">
                        {s.data[i] ?? 0}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </figure>
  );
}
