// Convert JSON-LD files to N-Quads with jsonld.js and no network: any attempt to load a remote
// document (an @context URL, say) fails the run. Each FILE.jsonld is written as FILE.nq.
//   node tests/js/to-nquads.js FILE.jsonld...
'use strict';
const fs = require('fs');
const jsonld = require('jsonld');

const offline = async (url) => {
  process.stderr.write(`refusing to fetch ${url}\n`);
  throw new Error(`refusing to fetch ${url}: documents must carry an inline @context`);
};

async function main() {
  for (const file of process.argv.slice(2)) {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    try {
      const nquads = await jsonld.toRDF(doc, {format: 'application/n-quads', documentLoader: offline, safe: true});
      fs.writeFileSync(file.replace(/\.jsonld$/, '') + '.nq', nquads);
    } catch (err) {
      err.message = `${file}: ${err.message}`;
      throw err;
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${err && err.message ? err.message : err}\n`);
  if (err && err.details) process.stderr.write(`${JSON.stringify(err.details).slice(0, 2000)}\n`);
  process.exit(1);
});
