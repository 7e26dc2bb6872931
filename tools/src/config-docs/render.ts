import type { TObject, TSchema } from 'typebox';

/** One part of the system and the schemas it validates its environment with. */
export interface Component {
  /** Its heading in docs/configuration.md, and the comment above its block in .env.example. */
  title: string;
  /** Static Markdown under the heading: what the component is, and what no single variable says. */
  intro: string;
  schemas: TObject[];
  /**
   * Whether its variables are documented before every other component's, whatever the order of the
   * sections: a variable several components read is documented once, in the first component that claims it.
   */
  claimsFirst?: boolean;
  /**
   * Whether its intro already points at the variables of the components that claim first (every saga
   * service reads all the shared ones), so they are not named again under its table.
   */
  readsShared?: boolean;
}

/** What the generator reads of one property's schema (the TypeBox options it renders). */
interface PropertySchema {
  type?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  pattern?: string;
  enum?: readonly unknown[];
  anyOf?: readonly { const?: unknown }[];
}

/** One variable as documented: its name, its schema, and whether the schema requires it. */
export interface Variable {
  name: string;
  schema: PropertySchema;
  required: boolean;
}

const propertiesOf = (schema: TObject): [string, PropertySchema][] =>
  Object.entries(schema.properties as Record<string, TSchema>).map(([name, property]) => [
    name,
    property as PropertySchema,
  ]);

/**
 * The names of the properties of `schema` that have no description (or an empty one): the generator
 * refuses to run while there is one, since the documents would be missing that variable's meaning.
 */
export function undocumented(schema: TObject): string[] {
  return propertiesOf(schema)
    .filter(([, property]) => (property.description ?? '').trim() === '')
    .map(([name]) => name);
}

/**
 * Which component documents each variable: those that claim first, then the others in order. Each
 * variable is documented once, with the schema of the component that documents it.
 */
export function variablesByComponent(components: readonly Component[]): Map<Component, Variable[]> {
  const documented = new Map<Component, Variable[]>(components.map((component) => [component, []]));
  const seen = new Set<string>();
  const claimOrder = [
    ...components.filter((component) => component.claimsFirst === true),
    ...components.filter((component) => component.claimsFirst !== true),
  ];
  for (const component of claimOrder) {
    for (const schema of component.schemas) {
      const required = new Set<string>((schema.required as readonly string[] | undefined) ?? []);
      for (const [name, property] of propertiesOf(schema)) {
        if (seen.has(name)) continue;
        seen.add(name);
        documented.get(component)?.push({ name, schema: property, required: required.has(name) });
      }
    }
  }
  return documented;
}

/** docs/configuration.md: the title and overview, then one section and table per component. */
export function renderMarkdown(options: {
  title: string;
  overview: string;
  components: readonly Component[];
}): string {
  const documented = variablesByComponent(options.components);
  const ownerOf = new Map<string, Component>();
  for (const [component, variables] of documented) {
    for (const variable of variables) ownerOf.set(variable.name, component);
  }
  const sections = options.components.map((component) => {
    const rows = (documented.get(component) ?? []).map((variable) =>
      [
        `\`${variable.name}\``,
        typeOf(variable.schema),
        defaultOf(variable),
        markdownText(variable.schema.description ?? ''),
      ].map(cell),
    );
    const lines = [`## ${component.title}`, '', component.intro.trim(), ''];
    if (rows.length > 0) lines.push(...table(['variable', 'type', 'default', 'description'], rows), '');
    const alsoRead = alsoReads(component, documented.get(component) ?? [], ownerOf);
    if (alsoRead) lines.push(alsoRead, '');
    return lines.join('\n');
  });
  return `${[`# ${options.title}`, '', options.overview.trim(), '', ...sections].join('\n').trimEnd()}\n`;
}

/**
 * The sentence naming the variables a component reads that another section documents, grouped by that
 * section (those of the sections that claim first left out when its intro points at them).
 */
function alsoReads(
  component: Component,
  own: readonly Variable[],
  ownerOf: ReadonlyMap<string, Component>,
): string | undefined {
  const ownNames = new Set(own.map((variable) => variable.name));
  const byOwner = new Map<Component, string[]>();
  for (const schema of component.schemas) {
    for (const [name] of propertiesOf(schema)) {
      const owner = ownerOf.get(name);
      if (ownNames.has(name) || !owner || (component.readsShared === true && owner.claimsFirst === true)) {
        continue;
      }
      const names = byOwner.get(owner) ?? [];
      if (!names.includes(name)) names.push(name);
      byOwner.set(owner, names);
    }
  }
  if (byOwner.size === 0) return undefined;
  const parts = [...byOwner].map(
    ([owner, names]) =>
      `${names.map((name) => `\`${name}\``).join(', ')} ([${owner.title}](#${anchor(owner.title)}))`,
  );
  return `It also reads ${parts.join('; and ')}.`;
}

/** The type column: the schema's type with its bounds, pattern or literals. */
function typeOf(schema: PropertySchema): string {
  const literals =
    schema.enum ??
    (schema.anyOf?.every((member) => 'const' in member) ? schema.anyOf.map((m) => m.const) : []);
  if (literals.length > 0) return `one of ${literals.map((value) => `\`${scalar(value)}\``).join(', ')}`;
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  const bounds =
    schema.minimum !== undefined && schema.maximum !== undefined
      ? [`${schema.minimum}–${schema.maximum}`]
      : [
          low === undefined ? undefined : `${schema.minimum !== undefined ? '≥' : '>'} ${low}`,
          high === undefined ? undefined : `${schema.maximum !== undefined ? '≤' : '<'} ${high}`,
        ].filter((bound): bound is string => bound !== undefined);
  switch (schema.type) {
    case 'integer':
    case 'number':
      return [schema.type, ...bounds].join(' ');
    case 'boolean':
      return 'boolean';
    case 'string': {
      const details = [
        schema.pattern !== undefined ? `matching \`${schema.pattern}\`` : undefined,
        schema.minLength !== undefined && schema.minLength > 1
          ? `of ${schema.minLength} characters or more`
          : undefined,
      ].filter((detail): detail is string => detail !== undefined);
      return ['string', ...details].join(' ');
    }
    default:
      return schema.type ?? 'any';
  }
}

/** The default column: the value in backticks, "empty", "unset" (optional) or "required". */
function defaultOf(variable: Variable): string {
  const value = variable.schema.default;
  if (value === undefined) return variable.required ? 'required' : 'unset';
  if (value === '') return 'empty';
  return `\`${scalar(value)}\``;
}

/** A default or literal as the environment spells it. */
const scalar = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);

/** A description for Markdown: variable names outside code spans put in code spans. */
function markdownText(description: string): string {
  return description
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(VARIABLE_NAME, (name) => `\`${name}\``)))
    .join('');
}

/** A variable's name in prose: capitals, digits and underscores, with at least one underscore. */
const VARIABLE_NAME = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

/** A table cell: one line, its pipes escaped (also inside code spans, as GitHub's tables need). */
const cell = (text: string) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');

/**
 * A Markdown table as Prettier prints one (columns padded to their widest cell), so that the generated
 * file is left as it is by `prettier --write`.
 */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(3, width(title), ...rows.map((row) => width(row[column] ?? ''))),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((text, column) => text + ' '.repeat((widths[column] ?? 0) - width(text))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * Columns a monospaced font gives a text, as Prettier counts them: one per UTF-16 unit, right for the
 * documents' characters (none wide, combining or outside the Basic Multilingual Plane).
 */
const width = (text: string) => text.length;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

/** .env.example: the header, one block per component, then the static trailer. */
export function renderEnvExample(options: {
  header: string;
  components: readonly Component[];
  trailer: string;
}): string {
  const documented = variablesByComponent(options.components);
  const blocks = options.components.flatMap((component) => {
    const variables = documented.get(component) ?? [];
    if (variables.length === 0) return [];
    const lines = [`# ---- ${component.title} `.padEnd(ENV_WIDTH, '-')];
    for (const variable of variables) {
      lines.push(...comment(plainText(variable.schema.description ?? '')));
      lines.push(`${variable.name}=${envValue(variable.schema.default)}`);
    }
    return [lines.join('\n')];
  });
  return `${[comment(options.header).join('\n'), ...blocks, options.trailer.trim()].join('\n\n')}\n`;
}

/** How wide .env.example's lines may be, as the code's (Prettier's printWidth). */
const ENV_WIDTH = 110;

/** A default as an .env line takes it: nothing when there is none (an empty value means unset). */
const envValue = (value: unknown) => (value === undefined ? '' : scalar(value));

/** A description for a shell comment: no Markdown code spans. */
const plainText = (description: string) => description.replace(/`/g, '');

/** Text as `# ` comment lines of at most ENV_WIDTH characters (a longer word stays whole). */
function comment(text: string): string[] {
  const lines: string[] = [];
  for (const [index, paragraph] of text
    .trim()
    .split(/\n\s*\n/)
    .entries()) {
    if (index > 0) lines.push('#');
    let line = '#';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line !== '#' && line.length + 1 + word.length > ENV_WIDTH) {
        lines.push(line);
        line = '#';
      }
      line += ` ${word}`;
    }
    lines.push(line);
  }
  return lines;
}
