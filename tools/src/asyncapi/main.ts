import { writeFile } from 'node:fs/promises';
import { asyncApiDocument } from '@platform/contracts';

// `npm run asyncapi`: writes the contracts' AsyncAPI document to docs/asyncapi.json (or to the path given),
// from the schemas the consumers validate with. tests/contracts checks the file is up to date.
const target = process.argv[2] ?? 'docs/asyncapi.json';
await writeFile(target, `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
