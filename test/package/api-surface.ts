/**
 * The package's API surface as the TypeScript compiler sees it: what an entry point
 * (`src/index.ts`, `src/backend.ts`) exports, and the named types its declarations reach, so
 * the export tests can hold each entry to the README and to its own signatures.
 */
import { resolve } from 'node:path';
import * as ts from 'typescript';
import { REPO } from './readme.js';

/** An export of an entry: its name and what it stands for (aliases resolved). */
interface EntryExport {
  name: string;
  target: ts.Symbol;
}

/** The compiler program and checker over the given entry files (sources, no build needed). */
export class ApiSurface {
  private readonly checker: ts.TypeChecker;
  private readonly program: ts.Program;
  private readonly sourceDir = resolve(REPO, 'src');

  constructor(entries: readonly string[]) {
    this.program = ts.createProgram(
      entries.map((entry) => resolve(REPO, entry)),
      {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ES2022,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
    );
    this.checker = this.program.getTypeChecker();
  }

  /** The exports of `entry` (a path under the repository), in name order. */
  exportsOf(entry: string): EntryExport[] {
    const file = this.program.getSourceFile(resolve(REPO, entry));
    const module = file && this.checker.getSymbolAtLocation(file);
    if (module === undefined) throw new Error(`${entry} is not a module of the program`);
    return this.checker
      .getExportsOfModule(module)
      .map((symbol) => ({ name: symbol.name, target: this.target(symbol) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The types and classes declared in `src/` that a user of `seeds` meets: named in their
   * declarations (members, parameters, results, an interface's bases, the types they name in
   * turn), public members only (`protectedToo`: the protected ones as well, what a subclass
   * meets). Written types are read as written, so an alias (`JsonPrimitive`) counts where it is
   * named; an inferred one through its type.
   */
  reachableFrom(seeds: readonly ts.Symbol[], protectedToo = false): Set<ts.Symbol> {
    return new Reach(this.checker, this.sourceDir, protectedToo).from(seeds);
  }

  /** The symbol `symbol` stands for, when it is an alias (a re-export). */
  private target(symbol: ts.Symbol): ts.Symbol {
    return symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  /** Whether `symbol` is declared in this package's sources. */
  private isOurs(symbol: ts.Symbol): boolean {
    return (symbol.declarations ?? []).some((node) =>
      node.getSourceFile().fileName.startsWith(this.sourceDir),
    );
  }
}

/**
 * The identifiers the README names as code: in its fenced blocks and its `inline code`, so a
 * word of its prose ("Page") is not taken for an export.
 */
export function codeIdentifiers(text: string): Set<string> {
  const names = new Set<string>();
  const add = (code: string): void => {
    for (const [name] of code.matchAll(/[A-Za-z_$][\w$]*/g)) names.add(name);
  };
  const fenced = /^```[^\n]*\n([\s\S]*?)^```/gm;
  for (const [, code] of text.matchAll(fenced)) add(code ?? '');
  for (const [, code] of text.replace(fenced, '').matchAll(/`([^`\n]+)`/g)) add(code ?? '');
  return names;
}

/** One walk of {@link ApiSurface.reachableFrom}. */
class Reach {
  private readonly found = new Set<ts.Symbol>();
  private readonly seenSymbols = new Set<ts.Symbol>();
  private readonly seenTypes = new Set<ts.Type>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly sourceDir: string,
    private readonly protectedToo: boolean,
  ) {}

  from(seeds: readonly ts.Symbol[]): Set<ts.Symbol> {
    for (const seed of seeds) this.symbol(seed, true);
    return this.found;
  }

  /** A symbol met by name: recorded when it names a type of ours, its declarations walked. */
  private symbol(symbol: ts.Symbol, record: boolean): void {
    const target = symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
    const ours = (target.declarations ?? []).some((node) =>
      node.getSourceFile().fileName.startsWith(this.sourceDir),
    );
    if (!ours) return;
    const typeLike =
      ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Enum;
    if (record && target.flags & typeLike) this.found.add(target);
    if (this.seenSymbols.has(target)) return;
    this.seenSymbols.add(target);
    for (const declaration of target.declarations ?? []) this.declaration(declaration);
  }

  private declaration(node: ts.Declaration): void {
    if (ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) {
      for (const clause of node.heritageClauses ?? []) {
        for (const base of clause.types) {
          const symbol = this.checker.getSymbolAtLocation(base.expression);
          // A class's base classes are walked for the members they give it; a user names the
          // class itself. An interface's bases are part of the type a user writes.
          if (symbol !== undefined) this.symbol(symbol, ts.isInterfaceDeclaration(node));
          for (const argument of base.typeArguments ?? []) this.node(argument);
        }
      }
      for (const parameter of node.typeParameters ?? []) this.node(parameter);
      for (const member of node.members) this.member(member);
    } else if (ts.isTypeAliasDeclaration(node)) {
      for (const parameter of node.typeParameters ?? []) this.node(parameter);
      this.node(node.type);
    } else if (ts.isFunctionDeclaration(node)) {
      this.signature(node);
    } else if (ts.isVariableDeclaration(node)) {
      this.typed(node, node.type);
    }
  }

  /** A class or interface member (or a type literal's): skipped when private (or protected). */
  private member(member: ts.ClassElement | ts.TypeElement): void {
    const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
    if (flags & ts.ModifierFlags.Private || (member.name && ts.isPrivateIdentifier(member.name))) return;
    if (flags & ts.ModifierFlags.Protected && !this.protectedToo) return;
    if (ts.isPropertyDeclaration(member) || ts.isPropertySignature(member)) {
      this.typed(member, member.type);
    } else if (ts.isFunctionLike(member)) {
      this.signature(member);
    }
  }

  /** A function-like declaration: its type parameters, parameters and result. */
  private signature(node: ts.SignatureDeclaration): void {
    for (const parameter of node.typeParameters ?? []) this.node(parameter);
    // A constructor's `private x` parameter property is still a parameter a caller passes.
    for (const parameter of node.parameters) this.typed(parameter, parameter.type);
    if (node.type !== undefined) {
      this.node(node.type);
    } else if (!ts.isConstructorDeclaration(node) && !ts.isSetAccessorDeclaration(node)) {
      const signature = this.checker.getSignatureFromDeclaration(node);
      if (signature !== undefined) this.type(signature.getReturnType());
    }
  }

  /** A declaration's written type, or the type the compiler infers for it. */
  private typed(node: ts.Declaration, type: ts.TypeNode | undefined): void {
    if (type !== undefined) this.node(type);
    else this.type(this.checker.getTypeAtLocation(node));
  }

  /** A written type: the names it uses, walked in turn. */
  private node(node: ts.Node): void {
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
      const name = ts.isTypeReferenceNode(node) ? node.typeName : node.expression;
      const symbol = this.checker.getSymbolAtLocation(name);
      if (symbol !== undefined) this.symbol(symbol, true);
      for (const argument of node.typeArguments ?? []) this.node(argument);
      return;
    }
    if (ts.isTypeQueryNode(node)) {
      // `typeof x`: what the value's type names, not the value.
      const symbol = this.checker.getSymbolAtLocation(node.exprName);
      if (symbol !== undefined) this.symbol(symbol, false);
      return;
    }
    if (ts.isTypeLiteralNode(node)) {
      for (const member of node.members) this.member(member);
      return;
    }
    ts.forEachChild(node, (child) => this.node(child));
  }

  /** An inferred type: the named types of ours in it, by name, and the parts of the rest. */
  private type(type: ts.Type): void {
    if (this.seenTypes.has(type)) return;
    this.seenTypes.add(type);
    if (type.aliasSymbol !== undefined) {
      this.symbol(type.aliasSymbol, true);
      for (const argument of type.aliasTypeArguments ?? []) this.type(argument);
      return;
    }
    if (type.isUnionOrIntersection()) {
      for (const part of type.types) this.type(part);
      return;
    }
    if ((type.flags & ts.TypeFlags.Object) === 0) return;
    const object = type as ts.ObjectType;
    if (object.objectFlags & ts.ObjectFlags.Reference) {
      for (const argument of this.checker.getTypeArguments(object as ts.TypeReference)) this.type(argument);
    }
    const symbol = type.getSymbol();
    if (symbol !== undefined && symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
      // A named type: ours is walked by its declarations; another's (Promise, Map, zod's)
      // counts through its type arguments only.
      this.symbol(symbol, true);
      return;
    }
    for (const property of this.checker.getPropertiesOfType(type)) {
      const at = property.valueDeclaration ?? property.declarations?.[0];
      if (at !== undefined) this.type(this.checker.getTypeOfSymbolAtLocation(property, at));
    }
    for (const kind of [ts.SignatureKind.Call, ts.SignatureKind.Construct]) {
      for (const signature of this.checker.getSignaturesOfType(type, kind)) {
        for (const parameter of signature.getParameters()) {
          const at = parameter.valueDeclaration ?? parameter.declarations?.[0];
          if (at !== undefined) this.type(this.checker.getTypeOfSymbolAtLocation(parameter, at));
        }
        this.type(signature.getReturnType());
      }
    }
    for (const info of this.checker.getIndexInfosOfType(type)) this.type(info.type);
  }
}
