/** True when dist/ holds a build at least as new as every source file (`at`: the project root, a file: URL ending in /). */
export function builtIsFresh(at?: URL): boolean;
/** Imports `path` (relative to src/, no extension) from dist/ when the build is fresh, else from src/ through tsx. */
export function importEntry(path: string): Promise<unknown>;
