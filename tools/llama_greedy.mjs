// Greedy tokens and decode speed of a GGUF file in llama.cpp, through the prebuilt binaries of node-llama-cpp.
// Setup, in a scratch folder: npm i -E node-llama-cpp@3.21.1 ; then: node llama_greedy.mjs MODEL.gguf "prompt" N_NEW [THREADS]
import {getLlama} from "node-llama-cpp";
const [modelPath, prompt, nArg, thArg] = process.argv.slice(2);
const n = parseInt(nArg ?? "50"), threads = parseInt(thArg ?? "2");
const llama = await getLlama({gpu: false, build: "never"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: Math.min(1024, model.trainContextSize), threads});
const seq = context.getSequence();
const tokens = model.tokenize(prompt);
const out = [];
const t0 = performance.now();
let tFirst = 0;
for await (const tok of seq.evaluate(tokens, {temperature: 0})) {
  out.push(tok);
  if (out.length === 1) tFirst = performance.now();
  if (out.length >= n) break;
}
const t1 = performance.now();
console.log(out.join(" "));
console.error(`prompt ${tokens.length} tokens, prefill+first ${(tFirst - t0).toFixed(1)} ms, decode ${((out.length - 1) / ((t1 - tFirst) / 1000)).toFixed(2)} tokens/s (${threads} threads)`);
process.exit(0);
