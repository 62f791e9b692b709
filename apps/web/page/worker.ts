/// <reference lib="webworker" />
/**
 * Runs a merge off the page's main thread: onnxruntime-web computes synchronously inside
 * WebAssembly, which would freeze the page (and its progress bar) for the whole merge.
 */
import { webExecutor } from '@zipit/runtime-web';
import { REPORT_ASSETS } from 'virtual:zipit-report-assets';
import { taskData, type MergeJob, type WorkerMessage } from './job.js';
import { mergeInBrowser } from './merge.js';

const post = (m: WorkerMessage, transfer: Transferable[] = []) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m, transfer);

self.onmessage = async (e: MessageEvent<MergeJob>) => {
  const job = e.data;
  try {
    const result = await mergeInBrowser({
      models: job.models,
      tasks: job.tasks.map(taskData),
      method: job.method,
      params: job.params,
      stopAt: job.stopAt,
      samples: job.samples,
      resetBatchNorm: job.resetBatchNorm,
      refit: job.refit,
      executor: webExecutor,
      assets: REPORT_ASSETS,
      onStatus: (text, fraction) => post({ type: 'status', text, fraction }),
    });
    post({ type: 'done', result }, [result.onnx.buffer as ArrayBuffer]);
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
