// Marks the top-level functions a cold start runs for eager compilation by V8, in a built bundle, and
// keeps its source map right (docs/cold-start.md, third round).
//
// V8 compiles a function lazily: at import it only pre-parses its text (to find its end and its free
// variables), and parses it again, fully, the first time it is called. For the functions that every
// cold start calls (init → createMLP → gradient), the pre-parse is work done twice. V8 compiles a
// function eagerly, in the one parse at import, when its text follows an opening parenthesis — the
// "PIFE" heuristic meant for (function () { … })() — so
//
//   function checkSpec(spec) { … }        becomes        var checkSpec=(function checkSpec(spec) { … });
//
// esbuild prints no such parentheses (its syntax tree keeps none), hence this pass over its output.
// The rewrite is in place, so a function becomes defined where its declaration stood instead of being
// hoisted: the pass refuses (fails the build) if anything the module runs while it is evaluated (its
// top-level statements, and the functions and classes those call or construct, transitively) refers to
// a rewritten function before its declaration. Each insertion shifts the rest of its line (the node
// bundles are minified onto one line), so the source map's segments after it are shifted by as much.
//
// Only V8 reads the hint; other engines see a function expression assigned to a var, the same function.
import { readFileSync, writeFileSync } from "node:fs";
import * as acorn from "acorn";

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** One line of source-map mappings ("A,B;…" between semicolons) → segments of numbers (relative fields). */
function decodeLine(text) {
  if (text === "") return [];
  return text.split(",").map((segment) => {
    const fields = [];
    let value = 0;
    let shift = 0;
    for (const char of segment) {
      const digit = BASE64.indexOf(char);
      if (digit < 0) throw new Error(`eager-compile: bad source-map character ${JSON.stringify(char)}`);
      value += (digit & 31) << shift;
      if (digit & 32) {
        shift += 5;
      } else {
        fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
    }
    return fields;
  });
}

function encodeLine(segments) {
  return segments
    .map((fields) =>
      fields
        .map((field) => {
          let value = field < 0 ? (-field << 1) | 1 : field << 1;
          let out = "";
          do {
            let digit = value & 31;
            value >>>= 5;
            if (value > 0) digit |= 32;
            out += BASE64[digit];
          } while (value > 0);
          return out;
        })
        .join(""),
    )
    .join(",");
}

/**
 * Shifts the generated columns of `mappings` for text inserted at (line, column) positions: a segment
 * at or after an insertion on its line moves right by the inserted length.
 */
export function shiftMappings(mappings, insertions) {
  const lines = mappings.split(";");
  const byLine = new Map();
  for (const { line, column, length } of insertions) {
    if (!byLine.has(line)) byLine.set(line, []);
    byLine.get(line).push({ column, length });
  }
  for (const [line, list] of byLine) {
    if (line >= lines.length) continue;
    list.sort((a, b) => a.column - b.column);
    const segments = decodeLine(lines[line]);
    // The first field is relative to the previous segment's column on the same line: make it absolute,
    // shift, make it relative again.
    let column = 0;
    const absolute = segments.map((fields) => (column += fields[0]));
    let next = 0;
    let shift = 0;
    const shifted = absolute.map((at) => {
      while (next < list.length && list[next].column <= at) shift += list[next++].length;
      return at + shift;
    });
    let previous = 0;
    for (let i = 0; i < segments.length; i++) {
      segments[i][0] = shifted[i] - previous;
      previous = shifted[i];
    }
    lines[line] = encodeLine(segments);
  }
  return lines.join(";");
}

const FUNCTION_TYPES = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

/** The child nodes of `node` that are expressions or statements (not property names, not labels). */
function children(node) {
  const out = [];
  for (const key of Object.keys(node)) {
    if (key === "type" || key === "start" || key === "end" || key === "loc") continue;
    if ((key === "property" && node.type === "MemberExpression" && !node.computed) || (key === "key" && !node.computed)) continue;
    if (key === "label") continue;
    // Names being declared are not references to them (a declarator's id, a class's or function's name).
    if (key === "id" && (node.type === "VariableDeclarator" || FUNCTION_TYPES.has(node.type) || node.type === "ClassDeclaration" || node.type === "ClassExpression")) continue;
    const value = node[key];
    if (Array.isArray(value)) out.push(...value.filter((v) => v && typeof v.type === "string"));
    else if (value && typeof value.type === "string") out.push(value);
  }
  return out;
}

/** Names a subtree declares (parameters, variables, functions, classes, catch parameters), nested ones included. */
function declaredIn(node, names = new Set()) {
  const patterns = [];
  const visit = (n) => {
    if (FUNCTION_TYPES.has(n.type)) {
      if (n.id) names.add(n.id.name);
      patterns.push(...n.params);
    } else if (n.type === "VariableDeclarator") patterns.push(n.id);
    else if (n.type === "ClassDeclaration" && n.id) names.add(n.id.name);
    else if (n.type === "CatchClause" && n.param) patterns.push(n.param);
    for (const child of children(n)) visit(child);
  };
  visit(node);
  const bind = (p) => {
    if (!p) return;
    if (p.type === "Identifier") names.add(p.name);
    else if (p.type === "ObjectPattern") p.properties.forEach((q) => bind(q.type === "RestElement" ? q.argument : q.value));
    else if (p.type === "ArrayPattern") p.elements.forEach(bind);
    else if (p.type === "RestElement") bind(p.argument);
    else if (p.type === "AssignmentPattern") bind(p.left);
  };
  patterns.forEach(bind);
  return names;
}

/**
 * The top-level names a subtree refers to: identifiers in expression position, less those the subtree
 * declares itself (an over-approximation that errs towards refusing). With `evaluatedOnly`, the bodies
 * of functions and methods, and instance fields, are left out: only what runs when the subtree runs.
 */
function referencesIn(node, evaluatedOnly) {
  const names = new Set();
  const visit = (n) => {
    if (n.type === "Identifier") names.add(n.name);
    if (evaluatedOnly) {
      if (FUNCTION_TYPES.has(n.type)) return;
      if (n.type === "MethodDefinition") return;
      if (n.type === "PropertyDefinition" && !n.static) return;
    }
    for (const child of children(n)) visit(child);
  };
  visit(node);
  if (!evaluatedOnly) for (const name of declaredIn(node)) names.delete(name);
  return names;
}

/**
 * For each top-level name, the earliest offset at which the module's evaluation may use it: a top-level
 * statement's evaluated code names it, or names a top-level function or class whose code names it, and
 * so on.
 */
function evaluationUses(ast) {
  const declared = new Map(); // top-level function or class name → its node
  for (const statement of ast.body) {
    if ((statement.type === "FunctionDeclaration" || statement.type === "ClassDeclaration") && statement.id) declared.set(statement.id.name, statement);
    if (statement.type === "VariableDeclaration") {
      for (const d of statement.declarations) {
        if (d.id.type === "Identifier" && d.init && (d.init.type === "ClassExpression" || d.init.type === "FunctionExpression" || d.init.type === "ArrowFunctionExpression")) {
          declared.set(d.id.name, d.init);
        }
      }
    }
  }
  const earliest = new Map();
  for (const statement of ast.body) {
    if (statement.type === "FunctionDeclaration") continue; // runs only when called
    const queue = [...referencesIn(statement, true)];
    const seen = new Set();
    while (queue.length > 0) {
      const name = queue.pop();
      if (seen.has(name)) continue;
      seen.add(name);
      if (!earliest.has(name)) earliest.set(name, statement.start);
      const body = declared.get(name);
      if (body !== undefined) queue.push(...referencesIn(body, false));
    }
  }
  return earliest;
}

/**
 * Rewrites `file` (and `file`.map beside it) so that the top-level functions named in `names` compile
 * eagerly. Throws if one is missing or is used during evaluation before its declaration.
 */
export function eagerCompile(file, names) {
  const text = readFileSync(file, "utf8");
  const ast = acorn.parse(text, { ecmaVersion: "latest", sourceType: "module", locations: true });
  const wanted = new Set(names);
  const found = ast.body.filter((node) => node.type === "FunctionDeclaration" && wanted.has(node.id.name));
  const missing = names.filter((name) => !found.some((node) => node.id.name === name));
  if (missing.length > 0) throw new Error(`eager-compile: ${file} has no top-level function ${missing.join(", ")}; update the list in scripts/build-bundles.mjs`);
  const uses = evaluationUses(ast);
  for (const node of found) {
    const use = uses.get(node.id.name);
    if (use !== undefined && use < node.start) {
      throw new Error(`eager-compile: ${file}: ${node.id.name} may run while the module is evaluated, before its declaration at offset ${node.start}; leave it out of the list`);
    }
  }
  const insertions = [];
  let out = text;
  for (const node of [...found].sort((a, b) => b.start - a.start)) {
    const prefix = `var ${node.id.name}=(`;
    const suffix = ");";
    out = out.slice(0, node.start) + prefix + out.slice(node.start, node.end) + suffix + out.slice(node.end);
    insertions.push({ line: node.loc.start.line - 1, column: node.loc.start.column, length: prefix.length });
    insertions.push({ line: node.loc.end.line - 1, column: node.loc.end.column, length: suffix.length });
  }
  writeFileSync(file, out);
  const mapFile = `${file}.map`;
  const map = JSON.parse(readFileSync(mapFile, "utf8"));
  map.mappings = shiftMappings(map.mappings, insertions);
  writeFileSync(mapFile, JSON.stringify(map));
  return found.length;
}
