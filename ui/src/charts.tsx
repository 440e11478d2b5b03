// Accessible charts: a Chart.js canvas described by its label, plus the same data as a table.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

export interface Series {
  label: string;
  values: number[];
  kind: "bar" | "line";
  axis: "tokens" | "cost";
  color: string;
}

interface Props {
  title: string;
  labels: string[];
  series: Series[];
}

export function UsageChart({ title, labels, series }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s) => ({
          type: s.kind,
          label: s.label,
          data: s.values,
          backgroundColor: s.color,
          borderColor: s.color,
          yAxisID: s.axis,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          tokens: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "tokens" } },
          cost: {
            type: "linear",
            position: "right",
            beginAtZero: true,
            grid: { drawOnChartArea: false },
            title: { display: true, text: "cost (USD)" },
          },
        },
      },
    });
    return () => chart.destroy();
  }, [labels.join("|"), JSON.stringify(series)]);
  const summary = series.map((s) => `${s.label}: total ${formatNumber(s.values.reduce((a, b) => a + b, 0), s.axis)}`).join("; ");
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div class="chart-canvas">
        <canvas ref={canvas} role="img" aria-label={`${title}. ${summary}`} />
      </div>
      <details>
        <summary>{title}: data as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              {series.map((s) => (
                <th scope="col">{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((label, i) => (
              <tr>
                <th scope="row">{label}</th>
                {series.map((s) => (
                  <td>{formatNumber(s.values[i], s.axis)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

export function formatNumber(value: number, axis: "tokens" | "cost"): string {
  return axis === "cost" ? `$${value.toFixed(value < 1 ? 6 : 2)}` : Math.round(value).toLocaleString("en");
}
