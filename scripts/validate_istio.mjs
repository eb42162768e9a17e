// Validates Istio resources (JSON documents, one per line on stdin) against Istio's CRD schemas
// as generated into @kubernetes-models/istio (installed by `make setup` into .tools/node).
// Prints one line per document; exits 1 if any is invalid.
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const models = path.join(root, ".tools/node/node_modules/@kubernetes-models/istio");
let failed = false;
for (const line of readFileSync(0, "utf8").split("\n").filter((l) => l.trim())) {
  const doc = JSON.parse(line);
  const [group, version] = doc.apiVersion.split("/");
  const name = `${doc.kind} ${doc.metadata?.name ?? ""} (${doc.apiVersion})`;
  try {
    const module = await import(pathToFileURL(path.join(models, group, version, `${doc.kind}.js`)).href);
    new module[doc.kind](doc).validate();
    console.log(`valid: ${name}`);
  } catch (err) {
    failed = true;
    console.log(`INVALID: ${name}: ${err.message ?? err}`);
  }
}
process.exit(failed ? 1 : 0);
