export { stringOpt, intOpt, floatOpt, boolOpt, durationOpt, listOpt, enumOpt } from './option.js';
export type { Option, OptionKind } from './option.js';
export { defineGroup, defaultsOf, optionsOf, ConfigError } from './schema.js';
export type { Group, Schema, ConfigOf, Values, OptionMap } from './schema.js';
export { loadConfig, parseArgs, CONFIG_FILE_FLAG } from './load.js';
export type { LoadResult, Source } from './load.js';
export { renderHelp, renderYaml } from './render.js';
export type { ConfigMode } from './render.js';
