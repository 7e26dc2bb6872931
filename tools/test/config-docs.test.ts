import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../src/config-docs/components.js';
import { renderEnvExample, renderMarkdown, undocumented, type Component } from '../src/config-docs/render.js';

// The generator of docs/configuration.md and .env.example (npm run config-docs): it refuses a schema
// property without a description (exit 2), and documents a variable several components read once.
describe('config-docs', () => {
  it('names the schema properties without a description', () => {
    const schema = Type.Object({
      DESCRIBED: Type.Integer({ default: 1, description: 'Something' }),
      BARE: Type.Integer({ default: 1 }),
      BLANK: Type.Optional(Type.String({ description: ' ' })),
    });
    expect(undocumented(schema)).toEqual(['BARE', 'BLANK']);
  });

  it('finds none in the real schemas', () => {
    for (const component of COMPONENTS) {
      for (const schema of component.schemas) expect(undocumented(schema), component.title).toEqual([]);
    }
  });

  it('documents a shared variable once, where it is claimed first, and points there from the others', () => {
    const shared: Component = {
      title: 'Shared',
      intro: 'Everyone reads these.',
      claimsFirst: true,
      schemas: [Type.Object({ LOG_LEVEL: Type.String({ default: 'info', description: 'How much to log' }) })],
    };
    const service: Component = {
      title: 'A service',
      intro: 'It serves.',
      schemas: [
        Type.Object({
          A_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: 'Its port' }),
          A_SECRET: Type.String({ minLength: 32, description: 'Its secret' }),
          A_URL: Type.Optional(Type.String({ pattern: '^(a|b)://', description: 'Its URL' })),
          LOG_LEVEL: Type.String({ default: 'info', description: 'How much to log' }),
        }),
      ],
    };
    const markdown = renderMarkdown({ title: 'T', overview: 'O', components: [service, shared] });
    expect(markdown.match(/\| `LOG_LEVEL`/g)).toHaveLength(1);
    expect(markdown).toMatch(/\| `A_PORT` +\| integer 0–65535 +\| `8000` +\| Its port +\|/);
    expect(markdown).toMatch(/\| `A_SECRET` +\| string of 32 characters or more +\| required +\|/);
    expect(markdown).toMatch(/\| `A_URL` +\| string matching `\^\(a\\\|b\):\/\/` +\| unset +\|/);
    expect(markdown).toContain('It also reads `LOG_LEVEL` ([Shared](#shared)).');
    expect(markdown.indexOf('## A service')).toBeLessThan(markdown.indexOf('## Shared'));

    const env = renderEnvExample({ header: 'H', components: [service, shared], trailer: 'X=' });
    expect(env).toContain('# Its port\nA_PORT=8000\n');
    expect(env).toContain('A_URL=\n');
    expect(env.match(/^LOG_LEVEL=/gm)).toHaveLength(1);
    expect(env.endsWith('\n\nX=\n')).toBe(true);
  });
});
