/**
 * Everything a user's editor shows of the package has TSDoc: every symbol its entries export
 * (`src/index.ts`, the root, and `src/backend.ts`, `connectome-storage/backend`), and every public member of its exported classes and
 * interfaces, own or inherited from the sources. Checked on the sources' compiler program, no
 * build: the published declarations carry the same comments. Left out as the declarations
 * leave them out: private and protected members, `#private` fields and `@internal` ones
 * (`stripInternal`).
 */
import { dirname, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';
import { REPO } from './readme.js';

const SRC = resolve(REPO, 'src') + sep;
/** The package's entries: the root and `connectome-storage/backend`. */
const ENTRIES = [resolve(SRC, 'index.ts'), resolve(SRC, 'backend.ts')];

/**
 * The program of the entries, reading only the sources and TypeScript's own lib: the drivers'
 * and Node's types (half a full program's files) declare nothing of the package, and leaving
 * them unread keeps the test to a few seconds.
 */
function sourceProgram(): ts.Program {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // esnext.disposable declares `Symbol.asyncDispose`, so `[Symbol.asyncDispose]()` is a member.
    lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
    types: [],
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const libs = dirname(ts.getDefaultLibFilePath(options)) + sep;
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => (name.startsWith(SRC) || name.startsWith(libs)) && fileExists(name);
  return ts.createProgram(ENTRIES, options, host);
}

/** Where a declaration is, as `src/core/records.ts:12`. */
function place(declaration: ts.Declaration): string {
  const file = declaration.getSourceFile();
  const line = file.getLineAndCharacterOfPosition(declaration.getStart(file)).line + 1;
  return `${relative(REPO, file.fileName)}:${line}`;
}

/** What the published declarations leave out: private, protected, `#private` and `@internal` members. */
function hidden(declaration: ts.Declaration): boolean {
  const name = ts.getNameOfDeclaration(declaration);
  return (
    (ts.getCombinedModifierFlags(declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !==
      0 ||
    (name !== undefined && ts.isPrivateIdentifier(name)) ||
    ts.isInternalDeclaration(declaration, declaration.getSourceFile())
  );
}

interface Scan {
  /** `name (place)` of each exported symbol or public member without TSDoc, each declaration once. */
  undocumented: string[];
  exportsChecked: number;
  membersChecked: number;
}

function scan(): Scan {
  const program = sourceProgram();
  const checker = program.getTypeChecker();
  const entryModules = ENTRIES.map((path) => {
    const entry = program.getSourceFile(path);
    const entryModule = entry === undefined ? undefined : checker.getSymbolAtLocation(entry);
    if (entryModule === undefined) throw new Error(`no module symbol for ${path}`);
    return entryModule;
  });
  // The text an editor shows: a comment of tags alone (`/** @internal */`) shows nothing.
  const documented = (symbol: ts.Symbol): boolean =>
    ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== '';
  const missing = new Map<string, string>();
  let exportsChecked = 0;
  let membersChecked = 0;
  for (const exported of entryModules.flatMap((entryModule) => checker.getExportsOfModule(entryModule))) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declarations = symbol.declarations ?? [];
    const first = declarations[0];
    if (first === undefined) {
      missing.set(`export ${exported.name}`, `${exported.name} (no declaration found)`);
      continue;
    }
    if (declarations.every(hidden)) continue;
    exportsChecked += 1;
    if (!documented(symbol)) missing.set(place(first), `${exported.name} (${place(first)})`);
    if ((symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) === 0) continue;
    for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
      const own = (member.declarations ?? []).filter((d) => d.getSourceFile().fileName.startsWith(SRC));
      const at = own[0];
      // Members only the lib declares (an Error's `stack`) are the lib's to document.
      if (at === undefined || own.some(hidden)) continue;
      membersChecked += 1;
      if (documented(member) || missing.has(place(at))) continue;
      missing.set(place(at), `${exported.name}.${checker.symbolToString(member)} (${place(at)})`);
    }
  }
  return { undocumented: [...missing.values()], exportsChecked, membersChecked };
}

describe('TSDoc of the public API', () => {
  it('documents every exported symbol and every public member of an exported class or interface', () => {
    const { undocumented, exportsChecked, membersChecked } = scan();
    // A program that failed to resolve the entry would check nothing and pass.
    expect(exportsChecked).toBeGreaterThan(150);
    expect(membersChecked).toBeGreaterThan(500);
    expect(undocumented).toEqual([]);
  }, 60_000);
});
