// What one fingerprint source yields: the canonical value (or null: absent or a placeholder)
// and the files that exist but could not be read — for warnings, which name files, not values.
import type { ReadResult, SysrootReader } from './sysroot-reader.ts';

export interface SourceProblem {
  readonly path: string;
  readonly failure: 'denied' | 'error';
  readonly code: string;
  /** The file is root-only by design (DMI serials), so the service can read it and we cannot. */
  readonly rootOnly: boolean;
}

export interface ComponentRead {
  readonly value: string | null;
  readonly problems: readonly SourceProblem[];
}

/** Collects the problems met while reading the sources of one component. */
export class ProblemLog {
  readonly problems: SourceProblem[] = [];

  /** Records a failed read other than "absent"; returns the value on success, else null. */
  take<T>(path: string, result: ReadResult<T>, rootOnly = false): T | null {
    if (result.ok) return result.value;
    if (result.failure !== 'absent') this.problems.push({ path, failure: result.failure, code: result.code, rootOnly });
    return null;
  }

  readText(reader: SysrootReader, path: string, rootOnly = false): string | null {
    return this.take(path, reader.readText(path), rootOnly);
  }

  result(value: string | null): ComponentRead {
    return { value, problems: [...this.problems] };
  }
}
