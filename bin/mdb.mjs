#!/usr/bin/env node
// `mdb`, the command-line client of the market-data backbone: runs the TypeScript sources through
// tsx, so the bin works straight from a checkout without a build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
