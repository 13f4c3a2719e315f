// A small command runner shared by both CLIs (oclif's habit: an explicit command table, thin
// commands). It resolves multi-word commands ("license install"), parses flags with
// node:util parseArgs (strict), and turns every failure into one line `error CODE: message`
// on stderr — plus `{"error":{code,message}}` on stdout when --json was asked for.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { asKioskError, KioskError } from './errors.ts';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec<Ctx> {
  /** Words that select the command, e.g. "license install". */
  readonly name: string;
  readonly summary: string;
  /** Positional arguments as shown in help, e.g. "FILE". */
  readonly args?: string;
  readonly minArgs?: number;
  readonly maxArgs?: number;
  readonly options?: OptionSpec;
  run(input: CommandInput, ctx: Ctx): Promise<number>;
}

export interface CommandInput {
  readonly values: ParsedValues;
  readonly positionals: readonly string[];
  readonly io: CliIO;
  readonly json: boolean;
}

export interface CliDefinition<Ctx> {
  readonly program: string;
  readonly commands: readonly CommandSpec<Ctx>[];
  /** Flags every command accepts (e.g. --data-dir). */
  readonly globalOptions: OptionSpec;
  /** Builds the context once the command and its flags are known. */
  makeContext(values: ParsedValues, io: CliIO, command: CommandSpec<Ctx>): Promise<Ctx> | Ctx;
  /** `--version` output. */
  version(values: ParsedValues, io: CliIO): Promise<string> | string;
  /** Called after the command, also on failure (close databases …). */
  dispose?(ctx: Ctx): Promise<void> | void;
}

export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
}

export function resolveCommand<Ctx>(
  commands: readonly CommandSpec<Ctx>[],
  argv: readonly string[],
): { command: CommandSpec<Ctx>; rest: string[] } | undefined {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    const command = commands.find((c) => c.name === name);
    if (command) {
      const rest = [...argv];
      // remove the command words (they are the first n non-flag words, at the front)
      rest.splice(0, n);
      return { command, rest };
    }
  }
  return undefined;
}

export function helpText<Ctx>(def: CliDefinition<Ctx>): string {
  const width = Math.max(...def.commands.map((c) => `${c.name} ${c.args ?? ''}`.length));
  const lines = def.commands.map((c) => `  ${`${c.name} ${c.args ?? ''}`.padEnd(width)}  ${c.summary}`);
  const globals = Object.entries(def.globalOptions).map(([k, o]) => `--${k}${o.type === 'string' ? ' VALUE' : ''}`);
  return [`usage: ${def.program} COMMAND [options]`, '', 'commands:', ...lines, '', `global options: ${globals.join(' ')} --help --version`].join('\n');
}

export function commandHelp<Ctx>(def: CliDefinition<Ctx>, c: CommandSpec<Ctx>): string {
  const opts = Object.entries(c.options ?? {}).map(([k, o]) => `--${k}${o.type === 'string' ? ' VALUE' : ''}`);
  return `usage: ${def.program} ${c.name}${c.args ? ` ${c.args}` : ''}${opts.length ? ` [${opts.join('] [')}]` : ''}\n${c.summary}`;
}

/** Runs one command line; returns the exit code. Never throws. */
export async function runCli<Ctx>(def: CliDefinition<Ctx>, argv: readonly string[], io: CliIO): Promise<number> {
  const json = argv.includes('--json');
  let ctx: Ctx | undefined;
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.stdout(helpText(def));
      return argv.length === 0 ? 2 : 0;
    }
    if (argv.includes('--version') && resolveCommand(def.commands, argv) === undefined) {
      const globals = parseArgs({ args: [...argv], options: { ...def.globalOptions, version: { type: 'boolean' } }, strict: false });
      io.stdout(await def.version(globals.values as ParsedValues, io));
      return 0;
    }
    const resolved = resolveCommand(def.commands, argv);
    if (!resolved) {
      throw new KioskError('USAGE', `unknown command "${argv.filter((a) => !a.startsWith('-')).join(' ')}"; run ${def.program} --help`);
    }
    const { command, rest } = resolved;
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(commandHelp(def, command));
      return 0;
    }
    const options: OptionSpec = { ...def.globalOptions, ...(command.options ?? {}) };
    let parsed: { values: ParsedValues; positionals: string[] };
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (err) {
      throw new KioskError('USAGE', `${(err as Error).message.split('\n')[0]}; ${commandHelp(def, command).split('\n')[0]}`);
    }
    const min = command.minArgs ?? 0;
    const max = command.maxArgs ?? 0;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new KioskError('USAGE', `wrong number of arguments; ${commandHelp(def, command).split('\n')[0]}`);
    }
    ctx = await def.makeContext(parsed.values, io, command);
    return await command.run({ values: parsed.values, positionals: parsed.positionals, io, json }, ctx);
  } catch (err) {
    return reportError(err, io, json);
  } finally {
    if (ctx !== undefined && def.dispose) {
      try {
        await def.dispose(ctx);
      } catch (err) {
        reportError(err, io, false);
      }
    }
  }
}

export function reportError(err: unknown, io: CliIO, json: boolean): number {
  const e = asKioskError(err);
  io.stderr(`error ${e.code}: ${oneLine(e.message)}`);
  if (json) io.stdout(JSON.stringify(e.toJSON()));
  if (e.code === 'INTERNAL' && io.env.KIOSK_DEBUG) io.stderr(String((err as Error)?.stack ?? err));
  return e.exitCode;
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

/** Reads a string flag that must be present. */
export function requireString(values: ParsedValues, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new KioskError('USAGE', `--${name} is required`);
  return v;
}

export function optionalString(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function parseIntFlag(values: ParsedValues, name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new KioskError('USAGE', `--${name} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new KioskError('USAGE', `--${name} must be between ${min} and ${max}`);
  return n;
}
