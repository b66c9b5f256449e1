// A sweep worker thread: imports the job function once, then runs the points it is sent, one
// at a time, answering each with its result as JSON text (so any plain result crosses the
// thread boundary as it will be written) or with the error's message.
import { parentPort, workerData } from "node:worker_threads";
import { importJob, type JobRef, type TaskDone, type Task } from "./job-ref.ts";

const port = parentPort!;
const job = await importJob(workerData as JobRef);
port.on("message", async (task: Task) => {
  let done: TaskDone;
  try {
    done = { index: task.index, ok: true, json: JSON.stringify(await job(task.spec)) ?? "null" };
  } catch (e) {
    done = { index: task.index, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(done);
});
port.postMessage("ready");
