// `node --import ./test/unit/register.mjs`: Taro's packages resolve to the
// minimal stand-ins in taro/ (a Node module hook), and an extensionless
// relative import (as a Taro project writes them) finds its .mjs file.
import { register } from "node:module";

register("./taro/hooks.mjs", import.meta.url);
