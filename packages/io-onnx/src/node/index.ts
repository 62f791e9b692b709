/** The Node entry of @zipit/io-onnx: ONNX files on disk (external data resolved beside the model, atomic writes). */
export { ExternalDataReader } from './external-data.js';
export { readOnnxFile } from './read-file.js';
export { writeOnnxFile } from './write-file.js';
export { onnxFileFormat } from './onnx-file-format.js';
