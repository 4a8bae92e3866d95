// src/schema.ts from docs/openapi.yaml (openapi-typescript), with dates as
// template-literal types: format date (or a string whose pattern is a
// YYYY-MM-DD date) is `${number}-${number}-${number}`, date-time that
// followed by T and the time. --check fails when the file
// differs from what the description gives.
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString, COMMENT_HEADER, stringToAST } from "openapi-typescript";

const DATE = "`${number}-${number}-${number}`";
const DATE_TIME = "`${number}-${number}-${number}T${string}`";
const DATE_PATTERN = "^\\d{4}-\\d{2}-\\d{2}$";
const typeNode = (text) => stringToAST(`type T = ${text};`)[0].type;

const ast = await openapiTS(new URL("../../docs/openapi.yaml", import.meta.url), {
  transform(schema) {
    if (schema.type !== "string") return undefined;
    const t = schema.format === "date" || schema.pattern === DATE_PATTERN ? DATE : schema.format === "date-time" ? DATE_TIME : undefined;
    return t && typeNode(schema.nullable ? `${t} | null` : t);
  },
});
const out = COMMENT_HEADER + astToString(ast);
const file = new URL("../src/schema.ts", import.meta.url);
if (process.argv.includes("--check")) {
  if (readFileSync(file, "utf8") !== out) {
    console.error("src/schema.ts disagrees with docs/openapi.yaml: npm run generate");
    process.exit(1);
  }
} else {
  writeFileSync(file, out);
}
