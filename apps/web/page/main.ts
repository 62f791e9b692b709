import { createFormatRegistry, readModel, type MatcherParams, type StopAt } from '@zipit/core';
import { onnxFormat } from '@zipit/io-onnx';
import { accuracyTable, namedModels, prepareForMerge } from '@zipit/pipeline';
import { SUBSETS } from 'virtual:zipit-subsets';
import { IMAGE_PRESETS, PRESET_NAMES, type PresetName } from '../../../packages/data/src/image-preprocess.js';
import { BROWSER_IMAGE_EXTENSIONS, imagesSource } from './images.js';
import type { JobTask, MergeJob, WorkerMessage } from './job.js';
import { architectures, matchers, refitSupported, type BrowserMergeResult } from './merge.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelsInput = $<HTMLInputElement>('models');
const taskList = $<HTMLDivElement>('task-list');
const method = $<HTMLSelectElement>('method');
const stop = $<HTMLSelectElement>('stop');
const button = $<HTMLButtonElement>('merge');
const progress = $<HTMLProgressElement>('progress');
const status = $<HTMLParagraphElement>('status');

for (const m of matchers.list()) method.add(new Option(`${m.name} — ${m.description}`, m.name));

let models: { file: string; bytes: Uint8Array }[] = [];
const subsetCache = new Map<string, Promise<Uint8Array>>();

function fetchSubset(file: string): Promise<Uint8Array> {
  let p = subsetCache.get(file);
  if (!p) {
    p = fetch(new URL(file, document.baseURI)).then(async (r) => {
      if (!r.ok) throw new Error(`the built-in subset ${file} did not load (${r.status})`);
      return new Uint8Array(await r.arrayBuffer());
    });
    subsetCache.set(file, p);
  }
  return p;
}

function say(text: string, fraction?: number, error = false): void {
  status.textContent = text;
  status.className = error ? 'error' : '';
  if (fraction !== undefined) progress.value = fraction;
}

/** A default task per model: the subset whose classes the file name mentions (`…_0-4.onnx` → mnist:0-4), else by position. */
function guessTask(file: string, k: number): string {
  const named = SUBSETS.find((s) => file.includes(s.spec.split(':')[1]) && file.toLowerCase().includes(s.dataset));
  return (named ?? SUBSETS[k % SUBSETS.length]).spec;
}

modelsInput.addEventListener('change', async () => {
  const files = [...(modelsInput.files ?? [])];
  models = await Promise.all(files.map(async (f) => ({ file: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  $('model-list').textContent = models.map((m) => `${m.file} (${(m.bytes.length / 1024).toFixed(0)} KiB)`).join(', ');
  taskList.replaceChildren(
    ...models.map((m, k) => {
      const row = document.createElement('div');
      row.className = 'task';
      const select = document.createElement('select');
      select.className = 'task-data';
      select.dataset.model = String(k);
      for (const s of SUBSETS) select.add(new Option(`${s.spec} (built-in subset: ${s.train.count} train, ${s.test.count} test images)`, s.spec));
      select.add(new Option('an .npy file…', 'npy'));
      select.add(new Option('image files or a folder…', 'images'));
      select.value = guessTask(m.file, k);
      const npy = document.createElement('input');
      npy.type = 'file';
      npy.accept = '.npy';
      npy.className = 'npy';
      npy.hidden = true;
      const images = imagePicker();
      select.addEventListener('change', () => {
        npy.hidden = select.value !== 'npy';
        images.hidden = select.value !== 'images';
      });
      const name = document.createElement('code');
      name.textContent = m.file;
      row.append(name, select, npy, images);
      return row;
    }),
  );
  stop.replaceChildren(new Option('all', 'all'), new Option('none (the ensemble)', 'none'));
  try {
    const read = [];
    for (const m of models) read.push({ file: m.file, graph: (await readModel(createFormatRegistry([onnxFormat]), m.file, m.bytes)).graph });
    const { mergeGraph, architecture } = prepareForMerge(namedModels(read), architectures);
    for (const p of mergeGraph.points) if (p.stopPoint) stop.add(new Option(`${p.index}: ${p.name}`, String(p.index)));
    const refit = $<HTMLInputElement>('refit');
    refit.disabled = !refitSupported(read[0].graph);
    if (refit.disabled) refit.checked = false;
    say(
      `${models.length} models of one architecture (${architecture ?? 'merge graph derived from the ONNX graph'}): ${mergeGraph.points.length} merge points. Pick the data and merge.`,
    );
    button.disabled = models.length < 2;
  } catch (e) {
    button.disabled = true;
    say(e instanceof Error ? e.message : String(e), 0, true);
  }
});

/**
 * The image picker of a task: image files (several) or a folder (its subfolders are the classes,
 * as the CLI's image folders), whichever was picked last, and the preprocessing preset (as
 * `--preprocess`; no default, as the CLI has none for image folders).
 */
function imagePicker(): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = 'images';
  span.hidden = true;
  const files = document.createElement('input');
  files.type = 'file';
  files.multiple = true;
  files.accept = BROWSER_IMAGE_EXTENSIONS.join(',');
  files.className = 'image-files';
  const folder = document.createElement('input');
  folder.type = 'file';
  folder.webkitdirectory = true;
  folder.className = 'image-folder';
  files.addEventListener('change', () => (folder.value = ''));
  folder.addEventListener('change', () => (files.value = ''));
  const preset = document.createElement('select');
  preset.className = 'preset';
  preset.add(new Option('preprocessing…', ''));
  for (const name of PRESET_NAMES) preset.add(new Option(`${name}: ${IMAGE_PRESETS[name].description}`, name));
  span.append(' files ', files, ' or a folder ', folder, ' ', preset);
  return span;
}

/** The picked images of a task row and a name for the report: the folder's name, or the file count. */
function pickedImages(row: Element, model: string): Extract<JobTask, { kind: 'images' }> {
  const files = [...((row.querySelector('.image-files') as HTMLInputElement).files ?? [])];
  const folder = [...((row.querySelector('.image-folder') as HTMLInputElement).files ?? [])];
  const preset = (row.querySelector('.preset') as HTMLSelectElement).value as PresetName | '';
  if (files.length === 0 && folder.length === 0) throw new Error(`pick image files or a folder for ${model}`);
  if (preset === '') throw new Error(`pick how the images for ${model} are preprocessed (mnist, cifar, imagenet or none)`);
  if (folder.length > 0) {
    // webkitRelativePath is "<picked folder>/<path below it>".
    const top = folder[0].webkitRelativePath.split('/')[0];
    const images = folder.map((f) => ({ path: f.webkitRelativePath.slice(top.length + 1), file: f }));
    return { kind: 'images', name: `${top}/ (${folder.length} files, --preprocess ${preset})`, images, preset };
  }
  return { kind: 'images', name: `${files.length} image files (--preprocess ${preset})`, images: files.map((f) => ({ path: f.name, file: f })), preset };
}

/** The tasks picked in the form, with their bytes (subset files fetched once, .npy files read, image files handed on as they are). */
async function tasksFromForm(): Promise<JobTask[]> {
  return Promise.all(
    [...taskList.querySelectorAll<HTMLSelectElement>('select.task-data')].map(async (select): Promise<JobTask> => {
      if (select.value === 'images') return pickedImages(select.parentElement!, models[Number(select.dataset.model)].file);
      if (select.value === 'npy') {
        const file = (select.parentElement!.querySelector('.npy') as HTMLInputElement).files?.[0];
        if (!file) throw new Error(`pick an .npy file for ${models[Number(select.dataset.model)].file}`);
        return { kind: 'npy', file: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
      }
      const s = SUBSETS.find((x) => x.spec === select.value)!;
      const [train, test] = await Promise.all([fetchSubset(s.train.file), fetchSubset(s.test.file)]);
      return {
        kind: 'subset',
        spec: s.spec,
        mean: s.mean,
        std: s.std,
        train: { bytes: train, count: s.train.count },
        test: { bytes: test, count: s.test.count },
      };
    }),
  );
}

/** Runs the merge in a worker, relaying its progress to the page. */
function runInWorker(job: MergeJob): Promise<BrowserMergeResult> {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  return new Promise<BrowserMergeResult>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === 'status') say(m.text, m.fraction);
      else if (m.type === 'done') resolve(m.result);
      else reject(new Error(m.message));
    };
    worker.onerror = (e) => reject(new Error(e.message || 'the merge worker failed'));
    worker.postMessage(job);
  }).finally(() => worker.terminate());
}

function showResult(r: BrowserMergeResult): void {
  const table = r.report.accuracy.length ? accuracyTable(r.report) : '(not evaluated: .npy or image-file merge data brings no test split)';
  const pre = document.createElement('pre');
  pre.textContent = table;
  $('accuracy').replaceChildren(pre);
  const onnxUrl = URL.createObjectURL(new Blob([r.onnx as BlobPart], { type: 'application/octet-stream' }));
  const htmlUrl = URL.createObjectURL(new Blob([r.html], { type: 'text/html' }));
  $<HTMLAnchorElement>('download-onnx').href = onnxUrl;
  $<HTMLAnchorElement>('download-report').href = htmlUrl;
  $<HTMLAnchorElement>('open-report').href = htmlUrl;
  $('results').hidden = false;
  // For scripted use (the browser test): the figures without parsing the page.
  (window as unknown as { zipitResult: unknown }).zipitResult = { seconds: r.seconds, accuracy: r.report.accuracy, stages: r.report.seconds };
}

button.addEventListener('click', async () => {
  button.disabled = true;
  $('results').hidden = true;
  try {
    const tasks = await tasksFromForm();
    const stopText = stop.value;
    const stopAt: StopAt = /^-?\d+$/.test(stopText) ? Number(stopText) : stopText;
    const params: MatcherParams =
      method.value === 'zipit' ? { alpha: Number($<HTMLInputElement>('alpha').value), beta: Number($<HTMLInputElement>('beta').value) } : {};
    const result = await runInWorker({
      models,
      tasks,
      method: method.value,
      params,
      stopAt,
      samples: Number($<HTMLInputElement>('samples').value),
      resetBatchNorm: $<HTMLInputElement>('reset-bn').checked,
      refit: $<HTMLInputElement>('refit').checked,
    });
    showResult(result);
    say(`merged in ${result.seconds.toFixed(1)} s`, 1);
    document.body.dataset.state = 'done';
  } catch (e) {
    console.error(e);
    say(e instanceof Error ? e.message : String(e), 0, true);
    document.body.dataset.state = 'error';
  } finally {
    button.disabled = models.length < 2;
  }
});

/**
 * For scripted use (the browser test): the samples that task row `k`'s picked images give a model
 * input of `shape` (all of them, in the order a full pass reads them), as base64 float32 bytes —
 * the same code the worker runs, here on the page's thread.
 */
(window as unknown as { zipitImageTensor: unknown }).zipitImageTensor = async (k: number, shape: number[]): Promise<string> => {
  const row = taskList.querySelectorAll('.task')[k];
  const task = pickedImages(row, `row ${k}`);
  const source = imagesSource(task.images, task.name, { preset: task.preset }, { name: 'input', dtype: 'float32', shape });
  const parts: Float32Array[] = [];
  for await (const b of source.batches({ batchSize: source.samples })) parts.push(b.x.data as Float32Array);
  const bytes = new Uint8Array(parts[0].buffer);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
};
