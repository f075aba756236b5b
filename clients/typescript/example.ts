// Uses the types generated from openapi/openapi.json (schema.d.ts) to submit the Dask guide's
// pipeline and read the job back. check.sh compiles it with `tsc --noEmit --strict`, so a
// change to the API that breaks this code fails there.
import type { ErrorBody, JobSpec, JobView, Step, paths } from "./schema";

export const userMetrics: JobSpec = {
  name: "user-metrics",
  sources: { logs: { format: "csv", path: "logs/large-data-*.csv" } },
  steps: [
    { op: "filter", expr: "status = 'active'" },
    { op: "assign", columns: { total_spend: "subscription_cost + add_on_cost" } },
    {
      op: "groupby",
      by: ["user_id"],
      agg: { total_spend: "sum", session_duration: "mean", click_count: "max" },
    },
  ],
  output: { format: "parquet", compression: "zstd" },
};

// @ts-expect-error: there is no `pivot` step, and the Step union says so.
export const notAStep: Step = { op: "pivot", columns: ["user_id"] };

type Submitted = paths["/v1/jobs"]["post"]["responses"]["201"]["content"]["application/json"];

export class RuskError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(`${status} ${body.error.code}: ${body.error.message}`);
  }
}

async function call<T>(response: Response): Promise<T> {
  if (!response.ok) throw new RuskError(response.status, (await response.json()) as ErrorBody);
  return (await response.json()) as T;
}

export async function submit(base: string, spec: JobSpec, key?: string): Promise<Submitted> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (key) headers["Authorization"] = `Bearer ${key}`;
  return call<Submitted>(await fetch(`${base}/v1/jobs`, { method: "POST", headers, body: JSON.stringify(spec) }));
}

/** One line about a job: its state, how far it got, where its result is. */
export function describe(job: JobView): string {
  const parts = [`${job.id} ${job.state}`];
  if (job.progress) {
    const { partitions_done, partitions_total, rows_read } = job.progress;
    parts.push(`${partitions_done}/${partitions_total} partitions, ${rows_read} rows read`);
  }
  switch (job.state) {
    case "succeeded":
      if (job.result) parts.push(`${job.result.rows} rows at ${job.result.links.arrow}`);
      break;
    case "failed":
      if (job.error) parts.push(`${job.error.code}: ${job.error.message}`);
      break;
    case "queued":
    case "running":
    case "cancelled":
      break;
    default: {
      // Every JobState is handled above; a new one in the API fails to compile here.
      const unknown: never = job.state;
      throw new Error(`unknown state ${String(unknown)}`);
    }
  }
  return parts.join(", ");
}

export async function main(base: string): Promise<void> {
  const job = await submit(base, userMetrics);
  let view: JobView = job;
  while (view.state === "queued" || view.state === "running") {
    await new Promise((done) => setTimeout(done, 500));
    view = await call<JobView>(await fetch(`${base}/v1/jobs/${job.id}`));
  }
  console.log(describe(view));
}
