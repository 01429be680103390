import { fileURLToPath } from "node:url";

/** Upbit's recorded responses, in `shared/` beside the checkout (CI has it there too). */
export const FIXTURES_DIR = fileURLToPath(new URL("../../../shared/upbit/fixtures", import.meta.url));
